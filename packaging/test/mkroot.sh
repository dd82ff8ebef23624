#!/usr/bin/env bash
# Builds (once) a Debian 12 root file system for an emulated board and prints
# its directory. The result is cached in $FENGQIAO_CACHE (default
# /var/cache/fengqiao-test), keyed by what goes into it (the architecture,
# the package list and the initramfs hook), because building it runs dpkg
# and mkinitramfs under qemu-user and takes about 8 minutes. The cache is
# outside the repository so that `go test ./...` does not walk into it.
#
# Usage: packaging/test/mkroot.sh ARCH   (arm64; armhf works for package-test)
set -euo pipefail
cd "$(dirname "$0")/../.."

arch=${1:-arm64}
mirror=${MIRROR:-$(awk '/^URIs:/ {print $2; exit} /^deb / {print $2; exit}' /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null || true)}
mirror=${mirror:-http://deb.debian.org/debian}
case "$arch" in
arm64) kernel=linux-image-arm64 ;;
armhf) kernel=linux-image-armmp-lpae ;;
*) echo "mkroot: no board for $arch" >&2; exit 2 ;;
esac
# The rig, not the product: what the product needs comes from its packages'
# Depends when the tests apt install them.
include=systemd-sysv,udev,$kernel,iproute2,ca-certificates,procps,curl,e2fsprogs

# A small initramfs: the emulated board's disk is virtio and ext4, nothing
# else. The default (MODULES=most) copies every driver and takes half an hour
# of emulated shell under qemu-user.
hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/etc/initramfs-tools/hooks"
printf "MODULES=list\nCOMPRESS=gzip\n" > "$1/etc/initramfs-tools/conf.d/fengqiao-board"
printf "#!/bin/sh\n[ \"\$1\" = prereqs ] && exit 0\n. /usr/share/initramfs-tools/hook-functions\nfor m in virtio_mmio virtio_pci virtio_blk virtio_net ext4 crc32c_generic; do manual_add_modules \$m; done\n" > "$1/etc/initramfs-tools/hooks/fengqiao-board"
chmod 755 "$1/etc/initramfs-tools/hooks/fengqiao-board"'
cache=${FENGQIAO_CACHE:-/var/cache/fengqiao-test}
key=$arch-$(printf '%s\n' "$include" "$hook" | sha256sum | cut -c1-12)
out=$cache/boardroot/$key
if [ -f "$out/.done" ]; then echo "$out"; exit 0; fi

packaging/test/ensure-binfmt.sh "$arch"
rm -rf "$out" "$out.tmp"
mkdir -p "$cache/boardroot"
start=$(date +%s)
mmdebstrap --arch="$arch" --variant=minbase --include="$include" \
	--essential-hook="$hook" \
	bookworm "$out.tmp" "$mirror" >&2
echo "mkroot: built $out in $(( $(date +%s) - start )) s" >&2
touch "$out.tmp/.done"
mv "$out.tmp" "$out"
echo "$out"
