#!/usr/bin/env bash
# make update-boot-test: the township's software updates on an emulated
# arm64 board (qemu-system-aarch64, TCG), with boot-test.sh's rig (lib.sh,
# the serial console of serial.py, the cached root of mkroot.sh), a
# township Mosquitto on this host and an HTTPS update server
# (agent/internal/cmd/poolserver), both reached from the board as 10.0.2.2.
# The board runs fengqiao-kioskd, -kiosk-ui and -updater of this commit
# (v1) and is updated with kioskd-only releases, signed with the dev
# township key and pushed with kioskctl update sign/push, as township IT
# does (docs/updates.md):
#   - v1 -> v2: installed, reported `installed` with v2 running, only v2's
#     .deb left in the cache;
#   - v2 -> v3, whose kioskd exits at once: rolled back to v2, reported
#     `rolled_back: health_check` with the local API named;
#   - v2 -> v4, whose postinst hangs: the board is killed (kill -9 of qemu)
#     while dpkg has v4 half-configured; at the next boot v2 runs again,
#     reported `rolled_back: interrupted`, dpkg --audit clean;
#   - before each install a booking is made with the board's uplink cut
#     (a TCP relay on this host between the board and the broker, stopped),
#     so that it waits in kioskd's outbox while dpkg replaces kioskd; each
#     reaches the township subscriber after the update;
#   - NRestarts: whether the postinst's restart resets systemd's count
#     (the health check compares against the count before the install).
# It prints the time from push to installed (or rolled back) per step.
# The updater gets --health-timeout 2m --health-stable 30s (a kiosk: 10m,
# 2m) and a 128 KiB/s cap (a kiosk's default is 64 KiB/s) in a unit
# drop-in: TCG is slow enough without them. The cap still leaves the
# download long enough (about 45 s) to cut the uplink and book before the
# install starts.
# Not part of make test: about 15 minutes, most of it emulation.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/local/go/bin
t0=$(date +%s)
. packaging/test/lib.sh

arch=arm64
version=$(packaging/deb/version.sh)
v2=$version.2 v3=$version.3 v4=$version.4
# v1: the packages of this clean commit, as boot-test.sh takes them.
if [ -n "$(git status --porcelain)" ] || [ ! -f dist/fengqiao-kioskd_"$version"_$arch.deb ] ||
	[ ! -f dist/fengqiao-kiosk-ui_"$version"_$arch.deb ] || [ ! -f dist/fengqiao-updater_"$version"_$arch.deb ]; then
	log "building the $arch packages (v1)"
	packaging/deb/build.sh $arch
fi
base=$(packaging/test/mkroot.sh $arch)
work=${FENGQIAO_CACHE:-/var/cache/fengqiao-test}/update-boot-test
root=$work/root
qemu_pid="" pool_pid="" relay_pid=""
cleanup() {
	set +e
	[ -n "$qemu_pid" ] && kill -9 "$qemu_pid" 2>/dev/null
	[ -n "$relay_pid" ] && kill -- "-$relay_pid" 2>/dev/null
	[ -n "$pool_pid" ] && kill "$pool_pid" 2>/dev/null
	cleanup_root
}
trap cleanup EXIT

log "installing v1 ($version) into a copy of $base"
fresh_root "$base"
# dpkg-repack: the updater keeps the way back from the first update with
# it (a Recommends of fengqiao-updater, named so that it is there).
apt_install install.log dist/fengqiao-kioskd_"$version"_$arch.deb dist/fengqiao-kiosk-ui_"$version"_$arch.deb \
	dist/fengqiao-updater_"$version"_$arch.deb dpkg-repack
rm -rf "$root/tmp/debs"
in_root apt-get clean

log "the releases: v2 built kioskd-only, v3 and v4 made from it"
pool=$work/pool
mkdir -p "$pool"
tb=$(date +%s)
FENGQIAO_PKGS=kioskd FENGQIAO_DEB_VERSION=$v2 DIST=$pool packaging/deb/build.sh $arch >/dev/null
build_took=$(($(date +%s) - tb))
deb() { echo "$pool/fengqiao-kioskd_$1_$arch.deb"; }
# repack VERSION EDIT: v2's package as VERSION, after running EDIT in its
# unpacked tree ($1 of EDIT).
repack() {
	local v=$1 t=$work/repack-$1
	rm -rf "$t"
	dpkg-deb -R "$(deb "$v2")" "$t"
	sed -i "s/^Version: .*/Version: $v/" "$t/DEBIAN/control"
	"$2" "$t"
	dpkg-deb --root-owner-group -Zxz -b "$t" "$(deb "$v")" >/dev/null
	rm -rf "$t"
}
# v3: a kioskd that exits at once; systemd keeps restarting it and the
# local API never answers.
broken_kioskd() { printf '#!/bin/sh\nexit 1\n' >"$1/usr/bin/kioskd"; }
# v4: a postinst that sits there, with v4's files unpacked and dpkg's
# status half-configured, for as long as the test needs.
hanging_postinst() { sed -i '0,/^set -e$/s//set -e\nsleep 300/' "$1/DEBIAN/postinst"; grep -q '^sleep 300$' "$1/DEBIAN/postinst"; }
repack "$v3" broken_kioskd
repack "$v4" hanging_postinst
ls -l "$pool" >&2

log "the township's update server and broker on this host"
go build -o "$work/kioskctl" ./agent/cmd/kioskctl
# kioskctl refuses a signing key others can read; git keeps it 0644.
install -m 0600 packaging/dev/dev-township.key "$work/township.key"
go build -o "$work/poolserver" ./agent/internal/cmd/poolserver
"$work/poolserver" --dir "$pool" --listen 0.0.0.0:0 --hosts 10.0.2.2,127.0.0.1 --ca "$work/pool-ca.pem" \
	--addr-file "$work/pool.addr" 2>>"$work/poolserver.log" &
pool_pid=$!
for _ in $(seq 100); do [ -s "$work/pool.addr" ] && break; sleep 0.1; done
[ -s "$work/pool.addr" ] || fail "the update server did not start"
pool_port=$(sed 's/.*://' "$work/pool.addr")
port=$(free_port)
start_broker "$port" 127.0.0.1
# The board's uplink: a relay on this host that the test stops to cut it
# (the board's connection and any new one fail) and starts again. The
# township's own tools talk to the broker directly.
relay_port=$(free_port)
relay_on() {
	setsid socat TCP-LISTEN:"$relay_port",bind=0.0.0.0,reuseaddr,fork TCP:127.0.0.1:"$port" 2>>"$work/relay.log" &
	relay_pid=$!
	sleep 0.5
}
relay_off() { kill -- "-$relay_pid" 2>/dev/null || true; relay_pid=""; }
relay_on

log "the board's image"
# The board reaches this host as 10.0.2.2 (qemu's user network).
packaging/test/fill-site.sh "tcp://10.0.2.2:$relay_port" <"$root/etc/fengqiao/site.yaml" >"$work/site.yaml"
cp "$work/site.yaml" "$root/etc/fengqiao/site.yaml"
# A dev site has no TLS files: the updater's fetcher uses the system's
# roots and no client certificate, so the rig's CA goes there.
cp "$work/pool-ca.pem" "$root/usr/local/share/ca-certificates/fengqiao-update-test.crt"
in_root update-ca-certificates >/dev/null
mkdir -p "$root/etc/systemd/system/serial-getty@ttyAMA0.service.d" "$root/etc/systemd/system/fengqiao-kiosk-ui.service.d" \
	"$root/etc/systemd/system/fengqiao-updater.service.d" "$root/etc/systemd/network"
cat >"$root/etc/systemd/system/serial-getty@ttyAMA0.service.d/autologin.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200 %I dumb
EOF
cat >"$root/etc/systemd/system/fengqiao-kiosk-ui.service.d/emulated-gpu.conf" <<'EOF'
[Service]
Environment=WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
EOF
# The package's command line, with the test's shorter check and faster cap.
exec_start=$(sed -n 's/^ExecStart=//p' "$root/lib/systemd/system/fengqiao-updater.service")
[ -n "$exec_start" ] || fail "no ExecStart in fengqiao-updater.service"
printf '[Service]\nExecStart=\nExecStart=%s --health-timeout 2m --health-stable 30s --rate 131072\n' "$exec_start" \
	>"$root/etc/systemd/system/fengqiao-updater.service.d/test-rig.conf"
printf '[Match]\nName=en* eth*\n[Network]\nDHCP=yes\n' >"$root/etc/systemd/network/80-dhcp.network"
in_root systemctl enable systemd-networkd serial-getty@ttyAMA0.service >/dev/null 2>&1
echo kiosk-board >"$root/etc/hostname"
install -m 0755 packaging/test/book.sh "$root/usr/local/bin/book.sh"
printf '/dev/vda / ext4 rw,noatime 0 1\n' >"$root/etc/fstab"
unmount_root
kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -n 1)
initrd=$(ls "$root"/boot/initrd.img-* | sort -V | tail -n 1)
cp "$kernel" "$work/vmlinuz"
cp "$initrd" "$work/initrd.img"
rm -f "$work/disk.img"
mkfs.ext4 -q -L root -d "$root" "$work/disk.img" 3G
start_watch "$work/kioskctl" "$port"

# --- the board ---------------------------------------------------------
boots=0
power_on() {
	boots=$((boots + 1))
	rm -f "$work/serial.sock"
	qemu-system-aarch64 -M virt -cpu cortex-a57 -smp 2 -m 1024 -display none -monitor none -no-reboot \
		-kernel "$work/vmlinuz" -initrd "$work/initrd.img" \
		-append "root=/dev/vda rw console=ttyAMA0 quiet loglevel=3 systemd.show_status=false" \
		-drive file="$work/disk.img",format=raw,if=virtio -device virtio-gpu-pci,xres=1280,yres=800 \
		-netdev user,id=n -device virtio-net-device,netdev=n \
		-chardev socket,id=s0,path="$work/serial.sock",server=on,wait=off,logfile="$work/serial-$boots.log" -serial chardev:s0 \
		>"$work/qemu-$boots.log" 2>&1 &
	qemu_pid=$!
	local t1=$(date +%s)
	coproc CONSOLE { python3 packaging/test/serial.py "$work/serial.sock"; }
	console login 900
	on_board "systemctl is-system-running --wait >/dev/null; systemd-analyze | head -n 1"
	echo "boot $boots: serial shell after $(($(date +%s) - t1)) s; $reply" >&2
}
# kill_board: the power cut. The guest's page cache is lost with it.
kill_board() {
	kill -9 "$qemu_pid"
	wait "$qemu_pid" 2>/dev/null || true
	qemu_pid=""
	kill "$CONSOLE_PID" 2>/dev/null || true
	wait "$CONSOLE_PID" 2>/dev/null || true
}
# console VERB ARGS: one request to serial.py; its answer in $reply, the
# command's exit status in $rc (as boot-test.sh).
console() {
	echo "$*" >&"${CONSOLE[1]}"
	reply=""
	local line
	while IFS= read -r -u "${CONSOLE[0]}" line; do
		[ "$line" = "--end--" ] && break
		reply+="$line"$'\n'
	done
	case $reply in error:*) fail "console: $reply" ;; esac
	rc=$(printf '%s' "$reply" | sed -n 's/^=> //p' | tail -n 1)
	reply=$(printf '%s' "$reply" | sed '/^=> /d')
}
on_board() { # on_board COMMAND: runs it on the board, fails unless it succeeds
	console run "$*"
	[ "${rc:-1}" = 0 ] || fail "on the board: $* (exit $rc):"$'\n'"$reply"
}
show() { on_board "systemctl show -p $2 --value $1"; }
book_on_board() { # prints the record id of a booking made on the board
	on_board "book.sh /run/fengqiao/kioskd.sock $1"
	printf '%s' "$reply" | record_id
}
# field JSON KEY: a top-level member of a JSON object ("" if it is not
# one: a report read half-written, or console noise, is read again).
field() {
	python3 -c '
import json, sys
try:
    v = json.loads(sys.argv[1]).get(sys.argv[2])
except (ValueError, AttributeError):
    v = None
print("" if v is None else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))' "$1" "$2"
}
# board_report: the updater's report on the board (reported.json), in $report.
board_report() {
	console run "cat /var/lib/fengqiao-updater/reported.json 2>/dev/null"
	report=$reply
	[ -n "$report" ] || report='{}'
}
# wait_board_status SECONDS RELEASE STATUS...: until the board's report is
# for RELEASE with one of the statuses; prints nothing, fails on timeout.
wait_board_status() {
	local limit=$1 rel=$2 st
	shift 2
	local end=$(($(date +%s) + limit))
	while :; do
		board_report
		st=$(field "$report" status)
		if [ "$(field "$report" release)" = "$rel" ]; then
			for s in "$@"; do [ "$st" = "$s" ] && return 0; done
		fi
		[ "$(date +%s)" -lt "$end" ] || fail "the board's report is not $* for $rel within ${limit}s: $report"
		sleep 2
	done
}
# township STATUS_VAR: the kiosk's update state as township IT sees it
# (kioskctl update status --json), as "status|reason|release|running|error".
township_state() {
	"$work/kioskctl" update status --broker "tcp://127.0.0.1:$port" --township test-township --json 2>/dev/null |
		python3 -c '
import json, sys
for k in json.load(sys.stdin) or []:
    if k["kiosk"] == "test-kiosk-01":
        r = k.get("reported") or {}
        print("|".join([r.get("status", ""), r.get("reason", ""), r.get("release", ""), k.get("running", ""), r.get("error", "")]))' || true
}
# wait_township SECONDS PATTERN: until township_state matches the glob.
wait_township() {
	local end=$(($(date +%s) + $1))
	while :; do
		tstate=$(township_state)
		# shellcheck disable=SC2053
		[[ $tstate == $2 ]] && return 0
		[ "$(date +%s)" -lt "$end" ] || fail "the township does not see $2 within $1 s (last: $tstate)"
		sleep 3
	done
}
queue_depth() {
	on_board "curl -s --max-time 30 --unix-socket /run/fengqiao/kioskd.sock http://kiosk/v1/status"
	printf '%s' "$reply" | grep -o '"depth":[0-9]*' | cut -d: -f2
}
kioskd_version() { on_board "dpkg-query -W -f='\${Version} \${db:Status-Status}' fengqiao-kioskd"; echo "$reply"; }
wait_kioskd_active() {
	for _ in $(seq 120); do
		console run "systemctl is-active fengqiao-kioskd"
		[ "$reply" = active ] && return 0
		sleep 1
	done
	fail "kioskd is not active"
}
# sign_push VERSION: signs the kioskd-only release of VERSION for this
# kiosk, installable now (a deadline an hour ago), and pushes it; $t_push.
sign_push() {
	"$work/kioskctl" update sign --key "$work/township.key" --township test-township --kiosks test-kiosk-01 \
		--base-url "https://10.0.2.2:$pool_port/pool" --window 02:00-05:00 \
		--deadline "$(date -u -d '1 hour ago' +%Y-%m-%dT%H:%M:%SZ)" --out "$work/update-$1.json" "$(deb "$1")"
	t_push=$(date +%s.%N)
	"$work/kioskctl" update push --broker "tcp://127.0.0.1:$port" "$work/update-$1.json" >&2
}
since_push() { python3 -c "import sys,time; print(f'{time.time() - float(sys.argv[1]):.0f}')" "$t_push"; }
# queue_booking NAME: with the uplink cut, a booking that waits in the
# outbox; prints its id.
queue_booking() {
	local id d
	id=$(book_on_board "$1")
	d=$(queue_depth)
	[ "${d:-0}" -ge 1 ] || fail "booking $id is not waiting in the outbox (depth ${d:-?})"
	grep -q "\"id\":\"$id\"" "$work/township.jsonl" && fail "booking $id reached the township through a cut uplink"
	echo "booking $id waits in the outbox (depth $d)" >&2
	echo "$id"
}
uplink_back() {
	relay_on
	on_board "kioskctl link retry >/dev/null 2>&1 || true"
}

log "power on (qemu-system-aarch64, TCG)"
power_on
wait_kioskd_active
id=$(book_on_board 王秀英)
wait_delivered "$id"
echo "booking $id made on v1 reached the township" >&2
wait_township 120 "*|*|*|$version|*"
echo "the township sees the kiosk running $version" >&2

# The NRestarts question: one restart by systemd before the update; what
# does the count say after the postinst's restart?
show fengqiao-kioskd MainPID
pid=$reply
on_board "kill -9 $pid"
wait_kioskd_active
show fengqiao-kioskd NRestarts
nrestarts_before=$reply
echo "NRestarts=$nrestarts_before after one kill -9 of kioskd" >&2

# --- v1 -> v2 ----------------------------------------------------------
log "v1 -> v2 ($v2): installed"
sign_push "$v2"
wait_board_status 300 "$v2" pending downloading waiting_for_window
echo "v2 accepted on the board $(since_push) s after the push: $(field "$report" status)" >&2
relay_off
id2=$(queue_booking 陈桂英)
wait_board_status 600 "$v2" checking installed rolled_back
echo "v2 dpkg done ($(field "$report" status)) $(since_push) s after the push" >&2
uplink_back
wait_board_status 300 "$v2" installed rolled_back
v2_board=$(since_push)
[ "$(field "$report" status)" = installed ] || fail "v2 was not installed: $report"
wait_township 120 "installed|*|$v2|$v2|*"
v2_township=$(since_push)
echo "v2 installed: on the board $v2_board s after the push, seen by the township (RUNNING $v2) at $v2_township s" >&2
wait_delivered "$id2"
echo "booking $id2, queued before the update, reached the township after it" >&2
[ "$(kioskd_version)" = "$v2 installed" ] || fail "dpkg has fengqiao-kioskd $reply, want $v2 installed"
on_board "ls /var/lib/fengqiao-updater/cache"
[ "$reply" = "fengqiao-kioskd_${v2}_$arch.deb" ] || fail "the cache holds $reply, want v2's .deb alone"
echo "cache: $reply" >&2
show fengqiao-kioskd NRestarts
nrestarts_after=$reply
echo "NRestarts=$nrestarts_after after the install's restart (was $nrestarts_before)" >&2
on_board "apt-get check 2>&1 | tail -n 3 || true"
apt_check=$reply
echo "apt-get check after the kioskd-only update: $apt_check" >&2

# --- v2 -> v3: rolled back ---------------------------------------------
log "v2 -> v3 ($v3, kioskd exits at once): rolled back"
sign_push "$v3"
wait_board_status 300 "$v3" pending downloading waiting_for_window
relay_off
id3=$(queue_booking 林美华)
wait_board_status 600 "$v3" checking rolled_back installed
echo "v3 dpkg done ($(field "$report" status)) $(since_push) s after the push" >&2
uplink_back
wait_board_status 600 "$v3" rolled_back installed rollback_failed
v3_board=$(since_push)
[ "$(field "$report" status)|$(field "$report" reason)" = "rolled_back|health_check" ] || fail "v3: $report"
v3_error=$(field "$report" error)
case $v3_error in *"local API"*) ;; *) fail "the rollback's error does not name the local API: $v3_error" ;; esac
wait_township 120 "rolled_back|health_check|$v3|$v2|*"
v3_township=$(since_push)
echo "v3 rolled back: on the board $v3_board s after the push, seen by the township at $v3_township s" >&2
echo "error: $v3_error" >&2
[ "$(kioskd_version)" = "$v2 installed" ] || fail "dpkg has fengqiao-kioskd $reply after the rollback, want $v2 installed"
wait_kioskd_active
wait_delivered "$id3"
echo "booking $id3, queued before the update, reached the township after the rollback" >&2
id=$(book_on_board 张丽)
wait_delivered "$id"
echo "booking $id made after the rollback reached the township" >&2

# --- v2 -> v4: the power cut -------------------------------------------
log "v2 -> v4 ($v4, postinst hangs): the board is killed during the install"
sign_push "$v4"
wait_board_status 300 "$v4" pending downloading waiting_for_window
relay_off
id4=$(queue_booking 李娜)
for _ in $(seq 300); do
	console run "dpkg-query -W -f='\${db:Status-Status}' fengqiao-kioskd; echo; cat /var/lib/fengqiao-updater/reported.json"
	v4_state="$(printf '%s\n' "$reply" | head -n 1) $(field "$(printf '%s\n' "$reply" | tail -n +2)" status)"
	[ "$v4_state" = "half-configured installing" ] && break
	sleep 2
done
[ "$v4_state" = "half-configured installing" ] || fail "v4 never half-configured while installing: $v4_state"
echo "v4 half-configured, the report says installing, $(since_push) s after the push: power cut" >&2
kill_board
relay_on
t_cut=$(date +%s)
log "power on again"
power_on
wait_board_status 600 "$v4" rolled_back rollback_failed installed
v4_board=$(($(date +%s) - t_cut))
[ "$(field "$report" status)|$(field "$report" reason)" = "rolled_back|interrupted" ] || fail "v4: $report"
echo "v4 rolled back (interrupted) $v4_board s after the power cut; error: $(field "$report" error)" >&2
[ "$(kioskd_version)" = "$v2 installed" ] || fail "dpkg has fengqiao-kioskd $reply after the power cut, want $v2 installed"
on_board "dpkg --audit"
[ -z "$reply" ] || fail "dpkg --audit: $reply"
wait_kioskd_active
# v2's maintainer scripts, not v4's (whose files are v2's: only its
# postinst and version differ).
on_board "! grep -q '^sleep 300' /var/lib/dpkg/info/fengqiao-kioskd.postinst"
on_board "kioskd --version"
[ "$reply" = "kioskd $v2" ] || fail "kioskd --version: $reply"
wait_delivered "$id4"
echo "booking $id4, queued before the power cut, reached the township after it" >&2
wait_township 180 "rolled_back|interrupted|$v4|$v2|*"
v4_township=$(($(date +%s) - t_cut))
echo "the township sees rolled_back: interrupted (retained on update/reported), RUNNING $v2, $v4_township s after the cut" >&2
"$work/kioskctl" update status --broker "tcp://127.0.0.1:$port" --township test-township >&2

log "power off"
console send "systemctl poweroff"
wait "$qemu_pid" || true
qemu_pid=""
grep -c 'msg=request' "$work/poolserver.log" | sed 's/^/update server requests: /' >&2

log "figures (emulated arm64, TCG on $(nproc) host CPUs: orders of magnitude only)"
cat >&2 <<EOF
v1                             $version (kioskd, kiosk-ui, updater)
v2 build (kioskd only)         $build_took s
v1 -> v2 installed             $v2_board s after the push on the board, $v2_township s at the township
v2 -> v3 rolled back           $v3_board s after the push on the board, $v3_township s at the township (health_check)
v4 power cut -> rolled back    $v4_board s after the cut on the board (boot included), $v4_township s at the township
NRestarts of kioskd            $nrestarts_before before the install, $nrestarts_after after the postinst's restart
apt-get check after v2         $apt_check
EOF
log "PASS in $(($(date +%s) - t0)) s"
