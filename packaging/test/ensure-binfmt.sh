#!/usr/bin/env bash
# Makes sure this machine runs ARCH binaries through qemu-user (binfmt_misc),
# which a fresh container often lacks.
set -euo pipefail
arch=${1:-arm64}
case "$arch" in arm64) q=qemu-aarch64 ;; armhf) q=qemu-arm ;; *) exit 0 ;; esac
[ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
[ -e /proc/sys/fs/binfmt_misc/$q ] || update-binfmts --enable "$q"
grep -q '^enabled' /proc/sys/fs/binfmt_misc/$q
