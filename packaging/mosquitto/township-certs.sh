#!/bin/sh
# township-certs.sh — the township's certificate authority for the MQTT broker,
# with plain openssl (docs/township-broker.md).
#
#   township-certs.sh [-d DIR] ca NAME                 the township CA: DIR/ca.crt, DIR/ca.key
#   township-certs.sh [-d DIR] server [-days N] HOST…   the broker: DIR/server.crt, DIR/server.key
#   township-certs.sh [-d DIR] kiosk [-days N] KIOSK-ID a kiosk: DIR/kiosks/KIOSK-ID.crt, .key
#   township-certs.sh [-d DIR] user [-days N] NAME      a township IT user: DIR/users/NAME.crt, .key
#   township-certs.sh [-d DIR] revoke CERT-FILE         revoke a certificate and rewrite DIR/ca.crl
#   township-certs.sh [-d DIR] crl                      rewrite DIR/ca.crl (valid ten years)
#
# DIR defaults to the current directory. Keys are written with mode 0600 and
# never overwritten: issuing a name twice is refused (delete the old files on
# purpose to replace them). HOST is a DNS name or an IP address the kiosks
# dial; all of them go into the certificate's subjectAltName, which is what
# kioskd checks (a CN alone is not accepted by Go's TLS).
#
# The certificate's CN is the MQTT username (use_identity_as_username), and
# the broker ACL keys on it:
#   - a kiosk's CN is its kiosk.id, so kiosk ids must be unique across every
#     township on the broker;
#   - a township IT user's NAME must contain '_' (e.g. township_dev-township),
#     a character kiosk ids cannot have, so that no kiosk certificate can ever
#     be issued under an IT user's name.
set -eu

dir=.
if [ "${1:-}" = "-d" ]; then
	[ $# -ge 2 ] || { echo "township-certs.sh: -d needs a directory" >&2; exit 2; }
	dir=$2
	shift 2
fi
cmd=${1:-}
[ $# -gt 0 ] && shift

days=1826 # five years: a kiosk in a village hall is not visited often
if [ "${1:-}" = "-days" ]; then
	[ $# -ge 2 ] || { echo "township-certs.sh: -days needs a number" >&2; exit 2; }
	days=$2
	shift 2
fi
case $days in
'' | *[!0-9]*) echo "township-certs.sh: -days $days is not a number of days" >&2; exit 2 ;;
esac

umask 077
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "township-certs.sh: $*" >&2
	exit 2
}

# crl writes DIR/ca.crl, the list of revoked certificates the broker loads
# (crlfile). It is valid for ten years: once a CRL's next-update time has
# passed, the broker refuses every client.
crl() {
	abs=$(cd "$dir" && pwd)
	[ -f "$dir/index.txt" ] || : >"$dir/index.txt"
	[ -f "$dir/crlnumber" ] || echo 1000 >"$dir/crlnumber"
	cat >"$tmp/ca.cnf" <<EOF
[ ca ]
default_ca = township
[ township ]
database = $abs/index.txt
certificate = $abs/ca.crt
private_key = $abs/ca.key
crlnumber = $abs/crlnumber
default_md = sha256
default_crl_days = 3650
EOF
	if [ $# -gt 0 ]; then
		openssl ca -config "$tmp/ca.cnf" -revoke "$1" 2>"$tmp/log" || { cat "$tmp/log" >&2; exit 1; }
	fi
	openssl ca -config "$tmp/ca.cnf" -gencrl -out "$tmp/crl" 2>"$tmp/log" || { cat "$tmp/log" >&2; exit 1; }
	chmod 644 "$tmp/crl"
	mv "$tmp/crl" "$dir/ca.crl"
	echo "$dir/ca.crl (copy it to the broker and restart mosquitto)"
}

need_ca() {
	[ -f "$dir/ca.crt" ] && [ -f "$dir/ca.key" ] || fail "no CA in $dir (run: township-certs.sh -d $dir ca NAME)"
}

refuse_existing() {
	for f in "$@"; do
		[ ! -e "$f" ] || fail "$f exists; delete it first to issue a new one"
	done
}

# issue NAME CRT KEY EXTENSIONS: a P-256 key and a certificate signed by the CA.
issue() {
	refuse_existing "$2" "$3"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$tmp/key" -out "$tmp/csr" -subj "/CN=$1" 2>"$tmp/log" || { cat "$tmp/log" >&2; exit 1; }
	printf '%s\n' "$4" >"$tmp/ext"
	openssl x509 -req -in "$tmp/csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
		-CAserial "$dir/ca.srl" -days "$days" -sha256 -extfile "$tmp/ext" -out "$tmp/crt" 2>"$tmp/log" ||
		{ cat "$tmp/log" >&2; exit 1; }
	mkdir -p "$(dirname "$2")"
	mv "$tmp/key" "$3"
	chmod 600 "$3"
	mv "$tmp/crt" "$2"
	chmod 644 "$2"
	echo "$2 (CN=$1, $days days)"
	echo "$3"
}

leaf="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid"

case $cmd in
ca)
	[ $# -eq 1 ] || fail "usage: township-certs.sh [-d DIR] ca NAME"
	refuse_existing "$dir/ca.crt" "$dir/ca.key"
	# The CA signs only end certificates (pathlen:0); twenty years, because
	# replacing it means visiting every kiosk.
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$dir/ca.key" -out "$dir/ca.crt" -days 7300 -sha256 -subj "/CN=$1" \
		-addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$tmp/log" || { cat "$tmp/log" >&2; exit 1; }
	chmod 600 "$dir/ca.key"
	chmod 644 "$dir/ca.crt"
	echo "$dir/ca.crt (give this to the broker and to every kiosk)"
	echo "$dir/ca.key (keep it offline; it can make any kiosk)"
	crl
	;;
revoke)
	[ $# -eq 1 ] || fail "usage: township-certs.sh [-d DIR] revoke CERT-FILE"
	need_ca
	[ -f "$1" ] || fail "$1: no such certificate file"
	crl "$1"
	;;
crl)
	[ $# -eq 0 ] || fail "usage: township-certs.sh [-d DIR] crl"
	need_ca
	crl
	;;
server)
	[ $# -ge 1 ] || fail "usage: township-certs.sh [-d DIR] server [-days N] HOST..."
	need_ca
	san=""
	for h in "$@"; do
		case $h in
		*[!0-9.]* | '') case $h in *:*) san="$san,IP:$h" ;; *) san="$san,DNS:$h" ;; esac ;;
		*) san="$san,IP:$h" ;;
		esac
	done
	issue "$1" "$dir/server.crt" "$dir/server.key" "$leaf
extendedKeyUsage=serverAuth
subjectAltName=${san#,}"
	;;
kiosk)
	[ $# -eq 1 ] || fail "usage: township-certs.sh [-d DIR] kiosk [-days N] KIOSK-ID"
	need_ca
	# The same rule as kiosk.id in the site file (docs/config.md).
	echo "$1" | grep -Eqx '[a-z0-9][a-z0-9-]{0,62}' ||
		fail "$1 is not a kiosk id (lower-case letters, digits and '-', at most 63, starting with a letter or digit)"
	issue "$1" "$dir/kiosks/$1.crt" "$dir/kiosks/$1.key" "$leaf
extendedKeyUsage=clientAuth"
	;;
user)
	[ $# -eq 1 ] || fail "usage: township-certs.sh [-d DIR] user [-days N] NAME"
	need_ca
	echo "$1" | grep -Eqx '[a-z0-9][a-z0-9_-]{0,62}' || fail "$1: use lower-case letters, digits, '-' and '_'"
	case $1 in
	*_*) ;;
	*) fail "$1 has no '_': a township IT user's name must not be a possible kiosk id (e.g. township_$1)" ;;
	esac
	issue "$1" "$dir/users/$1.crt" "$dir/users/$1.key" "$leaf
extendedKeyUsage=clientAuth"
	;;
*)
	sed -n '2,11s/^# \{0,1\}//p' "$0" >&2
	exit 2
	;;
esac
