#!/usr/bin/env bash
# What make packages, package-test and boot-test need beyond make deps: the
# ARM cross compilers and the target architectures' X11/GL development
# files (Debian multiarch) for kiosk-ui's cgo build, dpkg-shlibdeps,
# lintian, and the emulated board (mmdebstrap, qemu-user, qemu-system;
# socat, the board's uplink that update-boot-test cuts).
set -euo pipefail
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo

pkgs=(dpkg-dev lintian gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf libc6-dev-arm64-cross libc6-dev-armhf-cross
	mmdebstrap qemu-user-static binfmt-support qemu-system-arm arch-test e2fsprogs mosquitto curl python3 socat)
for a in arm64 armhf; do
	for p in libgl1-mesa-dev libgles-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev; do
		pkgs+=("$p:$a")
	done
done
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0
for a in arm64 armhf; do
	dpkg --print-foreign-architectures | grep -qx "$a" || $sudo dpkg --add-architecture "$a"
done
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
