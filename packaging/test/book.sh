#!/bin/sh
# book.sh SOCKET [NAME]: books the first free consultation slot through
# kioskd's local API, as the screen does, and prints kioskd's answer (with
# the record's id). Used by the package and boot tests, on the host and
# inside the emulated board (it needs only sh, curl, grep and sed).
set -eu
sock=$1
name=${2:-王秀英}
api() { curl -sS --fail-with-body --max-time 60 --unix-socket "$sock" "$@"; }
slot=$(api http://kiosk/v1/slots?service=legal-advisor | grep -o '"20[0-9T:+-]*"' | head -n 1)
[ -n "$slot" ] || { echo "book.sh: no free slot" >&2; exit 1; }
api -X POST -H 'Content-Type: application/json' \
	--data "{\"service\":\"legal-advisor\",\"topic\":\"婚姻家庭\",\"name\":\"$name\",\"phone\":\"13800001111\",\"slot\":$slot}" \
	http://kiosk/v1/bookings
echo
