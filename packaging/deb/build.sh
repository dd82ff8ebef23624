#!/usr/bin/env bash
# make packages: the Debian packages of this commit for arm64, armhf and
# amd64, in dist/:
#   fengqiao-kioskd     kioskd (static, pure Go) and kioskctl, the systemd
#                       unit, user, directories, udev rule and /etc/fengqiao
#   fengqiao-kiosk-ui   kiosk-ui (cgo, with Fyne's patched event loop) and
#                       the cage session that boots into it
#   fengqiao-updater    fengqiao-updater and its unit: installs the
#                       township's signed updates (docs/updates.md); a
#                       package of its own so that a kioskd release does
#                       not carry it, and so that it is not replaced with
#                       kioskd
#   fengqiao-township   kioskctl alone with the township broker's reference
#                       Mosquitto config (amd64 and arm64 only)
#
# The same commit gives the same bytes: SOURCE_DATE_EPOCH is the commit's
# time, Go builds with -trimpath, gzip with -n, and nfpm is pinned.
#
# Usage: packaging/deb/build.sh [ARCH...]   (default: amd64 arm64 armhf)
# FENGQIAO_DEB_VERSION overrides the version (the package test builds an
# "upgrade" that way); DIST, the output directory (default dist/);
# FENGQIAO_PKGS, the packages to build, by short name (default: kioskd
# kiosk-ui updater township): FENGQIAO_PKGS=kioskd builds a kioskd-only
# release without kiosk-ui's minutes of cgo (make update-boot-test).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
umask 022 # files made here go into the packages with these modes
export PATH=$PATH:/usr/local/go/bin

arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(amd64 arm64 armhf)
read -r -a want <<<"${FENGQIAO_PKGS:-kioskd kiosk-ui updater township}"
wanted() { [[ " ${want[*]} " == *" $1 "* ]]; }
for p in "${want[@]}"; do
	case $p in kioskd | kiosk-ui | updater | township) ;; *) echo "packages: unknown package $p in FENGQIAO_PKGS" >&2; exit 2 ;; esac
done

version=${FENGQIAO_DEB_VERSION:-$(packaging/deb/version.sh)}
commit=$(git rev-parse HEAD)
# Untracked files count: the board profiles and bring-up notes are globbed.
if [ -n "$(git status --porcelain)" ]; then
	echo "packages: WARNING: uncommitted changes are built in; these packages are not reproducible from $commit" >&2
fi
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
export TZ=UTC LC_ALL=C.UTF-8
build=$root/var/deb
dist=${DIST:-$root/dist}
mkdir -p "$build" "$dist"

# nfpm is pinned: v2.45.2 is the newest that fetches here. It is built
# outside this module, so the caller's GOFLAGS, meant for this module, are
# left out.
nfpm=$root/var/tools/nfpm-v2.45.2
if [ ! -x "$nfpm" ]; then
	mkdir -p "$(dirname "$nfpm")"
	env -u GOFLAGS GOBIN="$root/var/tools/nfpm.tmp" go install github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
	mv "$root/var/tools/nfpm.tmp/nfpm" "$nfpm"
	rmdir "$root/var/tools/nfpm.tmp"
fi

ldflags="-s -w -X github.com/fengqiao/kiosk/agent/version.stamp=$version"
gobuild() { go build -trimpath -buildvcs=false -ldflags "$ldflags" "$@"; }

# Files every package carries: its changelog and copyright (Debian policy),
# made byte-identical for the same commit. The copyright file ends with the
# licence of every Go module linked into the package's programs (their
# build information, read by agent/internal/cmd/debcopyright): a Go program
# carries its dependencies, and their licences ask us to ship their text.
debcopyright=$root/var/tools/debcopyright
env -u GOOS -u GOARCH -u GOARM CGO_ENABLED=0 go build -o "$debcopyright" ./agent/internal/cmd/debcopyright
docs() { # docs PKG DIR INSTALLED=BINARY...
	local pkg=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	{
		echo "$pkg ($version) stable; urgency=medium"
		echo
		echo "  * Built from commit $commit."
		echo
		echo " -- Fengqiao developers <kiosk@fengqiao.cn>  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
	} | gzip -n -9 >"$dir/changelog.gz"
	"$debcopyright" -base packaging/deb/copyright "$@" >"$dir/copyright"
}

# shlibdeps ARCH BINARY: the Depends line dpkg-shlibdeps derives from the
# binary's DT_NEEDED and the installed libraries' symbols files (the
# :ARCH runtime libraries come with the -dev packages the build needs).
shlibdeps() {
	local arch=$1 bin=$2 tmp
	tmp=$(mktemp -d)
	mkdir "$tmp/debian"
	printf 'Source: fengqiao\n\nPackage: fengqiao-kiosk-ui\nArchitecture: any\n' >"$tmp/debian/control"
	(cd "$tmp" && DEB_HOST_ARCH=$arch dpkg-shlibdeps -O "$bin") | sed -n 's/^shlibs:Depends=//p'
	rm -rf "$tmp"
}

# nfpm_header NAME: what every package's nfpm config starts with.
# data.tar is xz-compressed, as dpkg-deb does by default: the kioskd
# package is 21 % smaller than with nfpm's gzip (5,810,502 against
# 7,347,348 bytes, arm64), 23 s less at the 64 KiB/s update cap, for
# about 1 s more to unpack on an emulated arm64 board (docs/updates.md).
nfpm_header() {
	cat <<-YAML
	name: $1
	arch: $arch
	platform: linux
	version: $version
	version_schema: none
	section: misc
	priority: optional
	maintainer: Fengqiao developers <kiosk@fengqiao.cn>
	homepage: https://fengqiao.cn
	deb:
	  compression: xz
	YAML
}

# dlopened TRIPLET BINARY: the packages of the X11 extension libraries that
# GLFW (inside Fyne) loads with dlopen, which dpkg-shlibdeps cannot see: it
# reads only DT_NEEDED. Without them kiosk-ui starts and fails to open its
# window. The sonames are the strings GLFW passes to dlopen; each maps to
# the package that ships it for the target architecture.
dlopened() {
	local triplet=$1 bin=$2 so pkg out=""
	for so in $(strings "$bin" | grep -E '^libX[A-Za-z0-9-]*\.so\.[0-9]+$' | sort -u); do
		pkg=$(dpkg -S "/usr/lib/$triplet/$so" 2>/dev/null | head -n 1 | cut -d: -f1) ||
			true
		[ -n "$pkg" ] || { echo "packages: no package ships $so for $triplet" >&2; exit 1; }
		out+=", $pkg"
	done
	echo "${out#, }"
}

for arch in "${arches[@]}"; do
	case $arch in
	amd64) goarch=amd64 goarm="" triplet=x86_64-linux-gnu cc=gcc ;;
	arm64) goarch=arm64 goarm="" triplet=aarch64-linux-gnu cc=aarch64-linux-gnu-gcc ;;
	armhf) goarch=arm goarm=7 triplet=arm-linux-gnueabihf cc=arm-linux-gnueabihf-gcc ;;
	*) echo "packages: unknown architecture $arch" >&2; exit 2 ;;
	esac
	out=$build/$arch
	rm -rf "$out"
	mkdir -p "$out/bin"
	echo "packages: $arch: building ${want[*]} ($version)" >&2
	if wanted kioskd; then
		CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOARM=$goarm gobuild -o "$out/bin/kioskd" ./agent/cmd/kioskd
	fi
	if wanted kioskd || wanted township; then
		CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOARM=$goarm gobuild -o "$out/bin/kioskctl" ./agent/cmd/kioskctl
	fi
	if wanted updater; then
		CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOARM=$goarm gobuild -o "$out/bin/fengqiao-updater" ./agent/cmd/fengqiao-updater
	fi
	uidepends=""
	if wanted kiosk-ui; then
		# Fyne's cgo code against the target's X11/GL libraries (Debian
		# multiarch); there is no <triplet>-pkg-config, so the host's reads the
		# target's .pc files.
		CGO_ENABLED=1 GOOS=linux GOARCH=$goarch GOARM=$goarm CC=$cc PKG_CONFIG=pkg-config \
			PKG_CONFIG_LIBDIR=/usr/lib/$triplet/pkgconfig:/usr/share/pkgconfig \
			gobuild -buildmode=pie -o "$out/bin/kiosk-ui" ./kiosk-ui/cmd/kiosk-ui
		uidepends=$(shlibdeps "$arch" "$out/bin/kiosk-ui")
		[ -n "$uidepends" ] || { echo "packages: dpkg-shlibdeps found nothing for kiosk-ui ($arch)" >&2; exit 1; }
		# Assigned first: a failure inside a for list's $(...) would not stop
		# the build under set -e.
		dl=$(dlopened "$triplet" "$out/bin/kiosk-ui")
		for p in ${dl//,/}; do
			case ", $uidepends," in *", $p "* | *", $p,"*) ;; *) uidepends+=", $p" ;; esac
		done
	fi

	# Each package's docs only when it is built: its copyright file is
	# read off its programs.
	if wanted kioskd; then
		docs fengqiao-kioskd "$out/doc/fengqiao-kioskd" usr/bin/kioskd="$out/bin/kioskd" usr/bin/kioskctl="$out/bin/kioskctl"
		cp docs/deploy.md "$out/doc/fengqiao-kioskd/deploy.md"
	fi
	if wanted kiosk-ui; then
		docs fengqiao-kiosk-ui "$out/doc/fengqiao-kiosk-ui" usr/bin/kiosk-ui="$out/bin/kiosk-ui"
		cp docs/deploy.md "$out/doc/fengqiao-kiosk-ui/deploy.md"
		cp kiosk-ui/kiosktheme/fonts/README.md "$out/doc/fengqiao-kiosk-ui/font.md"
		packaging/deb/kiosk-ui/blank-cursor-theme.sh "$out/icons"
	fi
	if wanted updater; then
		docs fengqiao-updater "$out/doc/fengqiao-updater" usr/bin/fengqiao-updater="$out/bin/fengqiao-updater"
		cp docs/updates.md "$out/doc/fengqiao-updater/updates.md"
	fi
	if wanted township; then
		docs fengqiao-township "$out/doc/fengqiao-township" usr/bin/kioskctl="$out/bin/kioskctl"
		cp docs/township-broker.md "$out/doc/fengqiao-township/township-broker.md"
	fi

	boards=""
	for b in firmware-configs/boards/*.yaml; do
		case $(basename "$b") in dev-sim.yaml) continue ;; esac
		boards+="
  - src: $b
    dst: /etc/fengqiao/boards/$(basename "$b")
    type: config
    file_info: {mode: 0640}"
	done
	bringup=""
	for f in firmware-configs/bringup/*; do
		[ -f "$f" ] || continue
		bringup+="
  - src: $f
    dst: /usr/share/doc/fengqiao-kioskd/bringup/$(basename "$f")
    file_info: {mode: 0644}"
	done

	{
		nfpm_header fengqiao-kioskd
		cat <<-YAML
	description: |-
	  Fengqiao village kiosk agent
	  kioskd drives the kiosk's ID-card reader, receipt printer, cameras and
	  GPIO, keeps every booking and mediation record on the kiosk and
	  delivers it to the township centre over MQTT, even after days without
	  network. kioskctl is the technician's tool (doctor, outbox, link).
	depends: [systemd]
	recommends: [espeak-ng]
	suggests: [fengqiao-kiosk-ui]
	conflicts: [fengqiao-township]
	contents:
	  - src: $out/bin/kioskd
	    dst: /usr/bin/kioskd
	    file_info: {mode: 0755}
	  - src: $out/bin/kioskctl
	    dst: /usr/bin/kioskctl
	    file_info: {mode: 0755}
	  - src: packaging/deb/kioskd/fengqiao-kioskd.service
	    dst: /lib/systemd/system/fengqiao-kioskd.service
	    file_info: {mode: 0644}
	  - src: packaging/deb/kioskd/sysusers.conf
	    dst: /usr/lib/sysusers.d/fengqiao.conf
	    file_info: {mode: 0644}
	  - src: packaging/deb/kioskd/tmpfiles.conf
	    dst: /usr/lib/tmpfiles.d/fengqiao.conf
	    file_info: {mode: 0644}
	  - src: packaging/deb/kioskd/watchdog.conf
	    dst: /lib/systemd/system.conf.d/fengqiao-watchdog.conf
	    file_info: {mode: 0644}
	  - src: packaging/deb/kioskd/lintian-overrides
	    dst: /usr/share/lintian/overrides/fengqiao-kioskd
	    file_info: {mode: 0644}
	  - src: packaging/udev/99-fengqiao.rules
	    dst: /lib/udev/rules.d/99-fengqiao.rules
	    file_info: {mode: 0644}
	  - src: firmware-configs/sites/template.yaml
	    dst: /etc/fengqiao/site.yaml
	    type: config
	    file_info: {mode: 0640}$boards$bringup
	  - src: $out/doc/fengqiao-kioskd
	    dst: /usr/share/doc/fengqiao-kioskd
	    type: tree
	scripts:
	  postinstall: packaging/deb/kioskd/postinst
	  preremove: packaging/deb/kioskd/prerm
	  postremove: packaging/deb/kioskd/postrm
	YAML
	} >"$out/kioskd.yaml"

	{
		nfpm_header fengqiao-kiosk-ui
		cat <<-YAML
	description: |-
	  Fengqiao village kiosk touch screen
	  kiosk-ui shows villagers the 513 public-legal-service menu and
	  mediation booking, and mediators their session log, in big type with
	  read-aloud. It boots full screen on the kiosk panel in the cage kiosk
	  compositor, and holds no records: those stay with kioskd.
	depends: [fengqiao-kioskd (>= $version), cage, xwayland, dbus, libpam-systemd, libgl1-mesa-dri, libegl-mesa0, $uidepends]
	contents:
	  - src: $out/bin/kiosk-ui
	    dst: /usr/bin/kiosk-ui
	    file_info: {mode: 0755}
	  - src: packaging/deb/kiosk-ui/kiosk-session
	    dst: /usr/lib/fengqiao/kiosk-session
	    file_info: {mode: 0755}
	  - src: $out/icons/fengqiao-blank
	    dst: /usr/share/icons/fengqiao-blank
	    type: tree
	  - src: packaging/deb/kiosk-ui/fengqiao-kiosk-ui.service
	    dst: /lib/systemd/system/fengqiao-kiosk-ui.service
	    file_info: {mode: 0644}
	  - src: packaging/deb/kiosk-ui/sysusers.conf
	    dst: /usr/lib/sysusers.d/fengqiao-ui.conf
	    file_info: {mode: 0644}
	  - src: packaging/deb/kiosk-ui/tmpfiles.conf
	    dst: /usr/lib/tmpfiles.d/fengqiao-ui.conf
	    file_info: {mode: 0644}
	  - src: $out/doc/fengqiao-kiosk-ui
	    dst: /usr/share/doc/fengqiao-kiosk-ui
	    type: tree
	scripts:
	  postinstall: packaging/deb/kiosk-ui/postinst
	  preremove: packaging/deb/kiosk-ui/prerm
	  postremove: packaging/deb/kiosk-ui/postrm
	YAML
	} >"$out/kiosk-ui.yaml"

	{
		nfpm_header fengqiao-updater
		cat <<-YAML
	description: |-
	  Fengqiao kiosk updater
	  fengqiao-updater installs the township's signed software updates on
	  a kiosk: it verifies each update bundle with the township key, fetches
	  the packages over mutual TLS with resume and a bandwidth cap, installs
	  them in the maintenance window while nobody is at the kiosk, checks
	  kioskd's health and rolls back to the previous packages if it fails.
	depends: [fengqiao-kioskd]
	recommends: [dpkg-repack]
	contents:
	  - src: $out/bin/fengqiao-updater
	    dst: /usr/bin/fengqiao-updater
	    file_info: {mode: 0755}
	  - src: packaging/deb/updater/fengqiao-updater.service
	    dst: /lib/systemd/system/fengqiao-updater.service
	    file_info: {mode: 0644}
	  - src: packaging/deb/updater/lintian-overrides
	    dst: /usr/share/lintian/overrides/fengqiao-updater
	    file_info: {mode: 0644}
	  - src: $out/doc/fengqiao-updater
	    dst: /usr/share/doc/fengqiao-updater
	    type: tree
	scripts:
	  postinstall: packaging/deb/updater/postinst
	  preremove: packaging/deb/updater/prerm
	  postremove: packaging/deb/updater/postrm
	YAML
	} >"$out/updater.yaml"

	{
		nfpm_header fengqiao-township
		cat <<-YAML
	description: |-
	  Fengqiao township IT tools
	  kioskctl for the township centre: watch the records kiosks deliver,
	  make signing keys, sign and push configuration bundles, read kiosks'
	  status. With the reference Mosquitto configuration, ACL and
	  certificate script of the township broker.
	recommends: [mosquitto, openssl]
	conflicts: [fengqiao-kioskd]
	contents:
	  - src: $out/bin/kioskctl
	    dst: /usr/bin/kioskctl
	    file_info: {mode: 0755}
	  - src: packaging/deb/township/lintian-overrides
	    dst: /usr/share/lintian/overrides/fengqiao-township
	    file_info: {mode: 0644}
	  - src: packaging/mosquitto/township.conf
	    dst: /usr/share/fengqiao-township/mosquitto/township.conf
	    file_info: {mode: 0644}
	  - src: packaging/mosquitto/township.acl
	    dst: /usr/share/fengqiao-township/mosquitto/township.acl
	    file_info: {mode: 0644}
	  - src: packaging/mosquitto/township-certs.sh
	    dst: /usr/share/fengqiao-township/mosquitto/township-certs.sh
	    file_info: {mode: 0755}
	  - src: $out/doc/fengqiao-township
	    dst: /usr/share/doc/fengqiao-township
	    type: tree
	YAML
	} >"$out/township.yaml"

	pkgs=()
	for p in kioskd kiosk-ui updater; do wanted $p && pkgs+=("$p"); done
	case $arch in amd64 | arm64) wanted township && pkgs+=(township) ;; esac
	for p in "${pkgs[@]}"; do
		env -u GOFLAGS "$nfpm" package --config "$out/$p.yaml" --packager deb --target "$dist/" >&2
	done
done
# lintian: no errors. The warnings kept are no-manual-page (each program
# has --help and docs/deploy.md).
lintian --fail-on error --tag-display-limit 0 --suppress-tags no-manual-page "$dist"/*_"$version"_*.deb 2>&1 |
	grep -v 'running with root privileges' >&2 || true
lintian --fail-on error --suppress-tags no-manual-page "$dist"/*_"$version"_*.deb >/dev/null 2>&1 ||
	{ echo "packages: lintian reports errors" >&2; exit 1; }
ls -l "$dist"/*_"$version"_*.deb
