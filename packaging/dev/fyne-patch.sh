#!/usr/bin/env bash
# fyne-patch.sh DIR: builds DIR/fyne, the Fyne of go.mod with the files of
# kiosk-ui/_fynepatch laid over it (its event loop waits for events instead
# of waking 60 times a second), and DIR/go.mod, the module's go.mod with a
# replace of Fyne by DIR/fyne. The Makefile hands DIR/go.mod to every go
# command as GOFLAGS=-modfile=..., so go.mod itself stays plain and a bare
# go build still works (with Fyne's own loop). Go refuses overlays of files
# in the module cache, hence the copy; it is made again only when Fyne's
# version or a patch file changes.
#
# It refuses (exit 1) when go.mod's Fyne is not the version the patch was
# made against, when an upstream file the patch replaces has changed, or when
# kiosk-ui/_fynepatch holds a file PATCH does not list: an upgrade of Fyne
# must port the patch, not silently drop or misapply it.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
out=${1:?usage: fyne-patch.sh DIR}
case $out in /*) ;; *) out=$root/$out ;; esac
export PATH=$PATH:/usr/local/go/bin
unset GOFLAGS # the go.mod being written may not exist yet
patch=kiosk-ui/_fynepatch
die() {
	printf 'fyne-patch: %s\n' "$*" >&2
	exit 1
}

read -r _ mod want < <(grep '^module ' "$patch/PATCH") || die "$patch/PATCH names no module"
have=$(go list -m -f '{{.Version}}' "$mod")
[ "$have" = "$want" ] || die "go.mod has $mod $have but $patch was made against $want: port the patch (see $patch/README.md)"
go mod download "$mod"
src=$(go list -m -f '{{.Dir}}' "$mod")
[ -d "$src" ] || die "$mod $have is not in the module cache"

listed=()
while read -r kind file sum; do
	case $kind in
	replace)
		[ -f "$src/$file" ] || die "$mod $have has no $file to replace"
		got=$(sha256sum "$src/$file" | cut -d' ' -f1)
		[ "$got" = "$sum" ] || die "$mod $have's $file is not the one the patch replaces (sha256 $got, want $sum)"
		;;
	add)
		[ ! -e "$src/$file" ] || die "$mod $have already has $file, which the patch adds"
		;;
	*) die "$patch/PATCH: unknown line kind \"$kind\"" ;;
	esac
	[ -f "$patch/$file" ] || die "$patch/$file is listed in PATCH but missing"
	listed+=("$file")
done < <(grep -E '^(replace|add) ' "$patch/PATCH")
while IFS= read -r f; do
	f=${f#"$patch/"}
	printf '%s\n' "${listed[@]}" | grep -qxF -- "$f" || die "$patch/$f is not listed in PATCH"
done < <(find "$patch" -name '*.go' | sort)

# The copy, made again only when what it is made of changed.
stamp=$({
	echo "$mod $have"
	for f in PATCH "${listed[@]}"; do sha256sum "$patch/$f"; done
} | sha256sum | cut -d' ' -f1)
if [ "$(cat "$out/fyne/.fengqiao-patch" 2>/dev/null)" != "$stamp" ]; then
	rm -rf "$out/fyne.tmp"
	mkdir -p "$out"
	cp -r "$src" "$out/fyne.tmp"
	chmod -R u+w "$out/fyne.tmp"
	for f in "${listed[@]}"; do cp "$patch/$f" "$out/fyne.tmp/$f"; done
	echo "$stamp" >"$out/fyne.tmp/.fengqiao-patch"
	rm -rf "$out/fyne"
	mv "$out/fyne.tmp" "$out/fyne"
fi

{
	cat go.mod
	printf '\n// Written by packaging/dev/fyne-patch.sh; see kiosk-ui/_fynepatch.\nreplace %s => %s\n' "$mod" "$out/fyne"
} >"$out/go.mod.tmp"
mv "$out/go.mod.tmp" "$out/go.mod"
cp go.sum "$out/go.sum"
