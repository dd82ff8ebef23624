# Shared by package-test.sh and boot-test.sh (sourced, not run): a fresh
# copy of the cached arm64 root file system with the packages installed by
# apt, as a technician installs them, and a township Mosquitto on this host.
#
# The sourcing script sets: work (its directory under the cache), root
# ($work/root), version, arch.

log() { printf '\n== %s: %s\n' "${0##*/}" "$*" >&2; }
fail() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }

mounted=()
broker_pid=""
watch_pid=""
# cleanup_root undoes what this file set up; the scripts call it from
# their EXIT trap after stopping their own processes.
cleanup_root() {
	[ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
	[ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null
	unmount_root
}
unmount_root() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}"; done
	mounted=()
}

# in_root CMD...: runs CMD in the root, through qemu-user, with a clean
# environment.
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

# fresh_root BASE: $root becomes a copy of BASE with /proc, /sys and /dev
# mounted and the host's resolver, ready for apt.
fresh_root() {
	local base=$1 m
	for m in dev/pts dev proc sys; do umount -l "$root/$m" 2>/dev/null || true; done
	rm -rf "$work"
	mkdir -p "$work"
	cp -a "$base" "$root"
	for m in proc sys dev dev/pts; do
		mount --bind "/$m" "$root/$m"
		mounted+=("$root/$m")
	done
	cp /etc/resolv.conf "$root/etc/resolv.conf"
}

# apt_install LOG DEB|PACKAGE...: apt install in the root, .deb files by
# path; its output goes to $work/LOG and, on failure, to stderr.
apt_install() {
	local logf=$work/$1 p args=()
	shift
	mkdir -p "$root/tmp/debs"
	for p in "$@"; do
		case $p in
		*.deb) cp "$p" "$root/tmp/debs/" && args+=("/tmp/debs/${p##*/}") ;;
		*) args+=("$p") ;;
		esac
	done
	in_root apt-get update -qq
	in_root apt-get install -y -q "${args[@]}" >"$logf" 2>&1 || { tail -40 "$logf"; fail "apt install ${args[*]}"; }
}

# free_port: a TCP port nobody listens on.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_broker PORT ADDR: a plain Mosquitto, the township's stand-in.
start_broker() {
	printf 'listener %s %s\nallow_anonymous true\nuser root\npersistence false\n' "$1" "$2" >"$work/mosquitto.conf"
	mosquitto -c "$work/mosquitto.conf" >>"$work/mosquitto.log" 2>&1 &
	broker_pid=$!
}

# start_watch KIOSKCTL PORT: a township subscriber, connected before kioskd
# publishes (the test broker keeps no sessions for it). Records land in
# $work/township.jsonl.
start_watch() {
	[ -z "$watch_pid" ] || kill "$watch_pid" 2>/dev/null || true
	: >"$work/township.log"
	"$1" township watch --broker "tcp://127.0.0.1:$2" >>"$work/township.jsonl" 2>"$work/township.log" &
	watch_pid=$!
	for _ in $(seq 50); do
		grep -q 'msg=watching' "$work/township.log" && return 0
		sleep 0.2
	done
	fail "the township subscriber did not connect"
}

# wait_delivered ID: the township subscriber has the record.
wait_delivered() {
	for _ in $(seq 120); do
		grep -q "\"id\":\"$1\"" "$work/township.jsonl" && return 0
		sleep 1
	done
	fail "record $1 did not reach the township subscriber"
}

# record_id: the id in kioskd's answer to a booking, read from stdin.
record_id() { grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4; }
