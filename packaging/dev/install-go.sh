#!/usr/bin/env bash
# Installs the Go toolchain that go.mod names into DEST (default /usr/local/go)
# when no usable go is on PATH. It comes from the Go module proxy, the same
# place `GOTOOLCHAIN=auto` fetches toolchains from, because Debian's golang-go
# is too old (bookworm ships 1.19) and go.dev downloads are not always reachable
# from a village or a CI runner.
set -euo pipefail
cd "$(dirname "$0")/../.."

dest=${1:-/usr/local/go}
want=$(awk '$1 == "go" { print $2; exit }' go.mod)

if command -v go >/dev/null; then
	# go 1.21 and later switch to the go.mod toolchain by themselves.
	minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
	if [ "${minor:-0}" -ge 21 ]; then exit 0; fi
	echo "go on PATH is $(go env GOVERSION), too old to fetch go$want itself; installing go$want into $dest"
fi
if [ -x "$dest/bin/go" ]; then exit 0; fi

case "$(uname -m)" in
x86_64) arch=amd64 ;;
aarch64) arch=arm64 ;;
armv7l | armv6l) arch=armv6l ;;
*) echo "install-go: no Go toolchain for $(uname -m)" >&2; exit 1 ;;
esac
proxy=${GOPROXY:-https://proxy.golang.org}
proxy=${proxy%%,*}
url="$proxy/golang.org/toolchain/@v/v0.0.1-go$want.linux-$arch.zip"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "downloading go$want from $url"
curl -fsSL --retry 3 -o "$tmp/go.zip" "$url"
unzip -q "$tmp/go.zip" -d "$tmp"
mkdir -p "$(dirname "$dest")"
mv "$tmp/golang.org/toolchain@v0.0.1-go$want.linux-$arch" "$dest"
chmod +x "$dest"/bin/* "$dest"/pkg/tool/*/*
echo "go$want installed in $dest"
