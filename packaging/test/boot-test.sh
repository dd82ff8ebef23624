#!/usr/bin/env bash
# make boot-test: boots an emulated arm64 board (qemu-system-aarch64, TCG,
# no KVM) from a Debian 12 root file system with the arm64 packages
# installed, systemd as PID 1 and the board's own Debian kernel, and checks
# from outside, through the serial console and a township Mosquitto on this
# host (reached from the board as 10.0.2.2):
#   - fengqiao-kioskd reaches active (running) after boot, READY from kioskd;
#   - a booking made on the board reaches the township subscriber;
#   - kill -9 of kioskd: systemd has it back (active) within 5 s;
#   - kill -STOP of kioskd: systemd's watchdog restarts it within
#     WatchdogSec + 5 s;
#   - a booking made after each restart is delivered;
#   - the screen session (cage on the emulated board's virtio GPU) runs
#     kiosk-ui, comes back after kill -9; a screenshot goes to docs/.
# It prints the figures for docs/deploy.md: time from power-on to each
# step, RSS of kioskd and kiosk-ui, all under emulation.
# Not part of make test: about 15 minutes, most of it emulation.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/local/go/bin
t0=$(date +%s)
. packaging/test/lib.sh

arch=arm64
version=$(packaging/deb/version.sh)
# Packages of this clean commit already in dist/ are the ones a build
# would make (same commit, same bytes); a dirty tree is always rebuilt.
if [ -n "$(git status --porcelain)" ] || [ ! -f dist/fengqiao-kioskd_"$version"_$arch.deb ] || [ ! -f dist/fengqiao-kiosk-ui_"$version"_$arch.deb ]; then
	log "building the $arch packages"
	packaging/deb/build.sh $arch
fi
base=$(packaging/test/mkroot.sh $arch)
work=${FENGQIAO_CACHE:-/var/cache/fengqiao-test}/boot-test
root=$work/root
qemu_pid=""
cleanup() {
	set +e
	[ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
	cleanup_root
}
trap cleanup EXIT

log "installing the packages into a copy of $base"
fresh_root "$base"
# grim: the screenshot of the screen (the rig's, not a Depends).
apt_install install.log dist/fengqiao-kioskd_"$version"_$arch.deb dist/fengqiao-kiosk-ui_"$version"_$arch.deb grim
rm -rf "$root/tmp/debs"
in_root apt-get clean

port=$(free_port)
# The board reaches this host as 10.0.2.2 (qemu's user network).
packaging/test/fill-site.sh "tcp://10.0.2.2:$port" <"$root/etc/fengqiao/site.yaml" >"$work/site.yaml"
cp "$work/site.yaml" "$root/etc/fengqiao/site.yaml"

# The test rig inside the image: a root shell on the serial console, DHCP,
# the booking script, and the screen session told that the emulated board's
# display (a virtio GPU, a real DRM/KMS device) has no 3D: cage draws with
# pixman, as wlroots' GLES renderer needs a GPU. No input devices either.
mkdir -p "$root/etc/systemd/system/serial-getty@ttyAMA0.service.d" "$root/etc/systemd/system/fengqiao-kiosk-ui.service.d" "$root/etc/systemd/network"
cat >"$root/etc/systemd/system/serial-getty@ttyAMA0.service.d/autologin.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200 %I dumb
EOF
cat >"$root/etc/systemd/system/fengqiao-kiosk-ui.service.d/emulated-gpu.conf" <<'EOF'
[Service]
Environment=WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
EOF
printf '[Match]\nName=en* eth*\n[Network]\nDHCP=yes\n' >"$root/etc/systemd/network/80-dhcp.network"
in_root systemctl enable systemd-networkd serial-getty@ttyAMA0.service >/dev/null 2>&1
echo kiosk-board >"$root/etc/hostname"
install -m 0755 packaging/test/book.sh "$root/usr/local/bin/book.sh"
printf '/dev/vda / ext4 rw,noatime 0 1\n' >"$root/etc/fstab"
unmount_root

log "disk image"
kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -n 1)
initrd=$(ls "$root"/boot/initrd.img-* | sort -V | tail -n 1)
cp "$kernel" "$work/vmlinuz"
cp "$initrd" "$work/initrd.img"
rm -f "$work/disk.img"
mkfs.ext4 -q -L root -d "$root" "$work/disk.img" 3G

log "township broker on 127.0.0.1:$port"
start_broker "$port" 0.0.0.0
go build -o "$work/kioskctl" ./agent/cmd/kioskctl
start_watch "$work/kioskctl" "$port"

log "power on (qemu-system-aarch64, TCG)"
qemu-system-aarch64 -M virt -cpu cortex-a57 -smp 2 -m 1024 -display none -monitor none -no-reboot \
	-kernel "$work/vmlinuz" -initrd "$work/initrd.img" \
	-append "root=/dev/vda rw console=ttyAMA0 quiet loglevel=3 systemd.show_status=false" \
	-drive file="$work/disk.img",format=raw,if=virtio -device virtio-gpu-pci,xres=1280,yres=800 \
	-netdev user,id=n -device virtio-net-device,netdev=n \
	-chardev socket,id=s0,path="$work/serial.sock",server=on,wait=off,logfile="$work/serial.log" -serial chardev:s0 \
	>"$work/qemu.log" 2>&1 &
qemu_pid=$!
power_on=$(date +%s.%N)
since() { python3 -c "import sys; print(f'{float(sys.argv[1]) - float(sys.argv[2]):.1f}')" "$(date +%s.%N)" "$power_on"; }

coproc CONSOLE { python3 packaging/test/serial.py "$work/serial.sock"; }
# console VERB ARGS: one request to serial.py; its answer in $reply, the
# command's exit status in $rc.
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
# wait_active SECONDS OLDPID [started]: until kioskd is active with a pid
# other than OLDPID (with "started": until it has such a pid at all, i.e.
# systemd has started it again); prints the seconds it took.
wait_active() {
	local limit=$1 old=$2 want=${3:-active} t1 pid state
	t1=$(date +%s.%N)
	while :; do
		# systemctl show prints properties in its own order, not -p's.
		console run "systemctl show -p ActiveState -p MainPID fengqiao-kioskd"
		state=$(printf '%s\n' "$reply" | sed -n 's/^ActiveState=//p')
		pid=$(printf '%s\n' "$reply" | sed -n 's/^MainPID=//p')
		if [ "$want" = started ] || [ "$state" = active ]; then
			if [ -n "$pid" ] && [ "$pid" != 0 ] && [ "$pid" != "$old" ]; then break; fi
		fi
		if python3 -c "import sys,time; sys.exit(time.time() - float(sys.argv[1]) < float(sys.argv[2]))" "$t1" "$limit"; then
			fail "kioskd not back within ${limit}s (state $state, pid $pid)"
		fi
		sleep 0.2
	done
	python3 -c "import sys,time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$t1"
}

console login 900
echo "serial console shell at $(since) s" >&2
on_board "systemctl is-system-running --wait >/dev/null; systemd-analyze"
boot_line=$(printf '%s' "$reply" | grep -m 1 'Startup finished' || true)
echo "$boot_line" >&2

log "kioskd after boot"
for _ in $(seq 300); do
	console run "systemctl is-active fengqiao-kioskd"
	[ "$reply" = active ] && break
	sleep 1
done
[ "$reply" = active ] || { console run "systemctl status --no-pager fengqiao-kioskd; journalctl -b -u fengqiao-kioskd --no-pager | tail -30"; echo "$reply"; fail "kioskd is not active"; }
on_board "systemctl status --no-pager fengqiao-kioskd | head -n 12"
echo "$reply" >&2
printf '%s' "$reply" | grep -q 'active (running)' || fail "kioskd is not active (running)"
kioskd_active=$(show fengqiao-kioskd ActiveEnterTimestampMonotonic && echo "$reply")
id=$(book_on_board 王秀英)
wait_delivered "$id"
echo "booking $id made on the board reached the township" >&2

log "kill -9 kioskd: back within 5 s"
show fengqiao-kioskd MainPID
pid=$reply
on_board "kill -9 $pid"
took=$(wait_active 5 "$pid")
echo "kioskd back (active, READY) ${took} s after kill -9" >&2
kill9_took=$took
id=$(book_on_board 陈桂英)
wait_delivered "$id"
echo "booking $id after the restart reached the township" >&2

log "kill -STOP kioskd: the watchdog restarts it within WatchdogSec + 5 s"
show fengqiao-kioskd WatchdogUSec
wd=$reply
show fengqiao-kioskd MainPID
pid=$reply
on_board "kill -STOP $pid"
t_stop=$(date +%s.%N)
took=$(wait_active 35 "$pid" started)
stop_took=$took
echo "kioskd restarted by the watchdog ${took} s after kill -STOP (WatchdogSec $wd)" >&2
took=$(wait_active 60 "$pid")
stop_active=$(python3 -c "import sys,time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$t_stop")
echo "and active (READY) again ${stop_active} s after kill -STOP" >&2
on_board "journalctl -b -u fengqiao-kioskd --no-pager | grep -i watchdog | tail -n 3"
echo "$reply" >&2
printf '%s' "$reply" | grep -qi 'watchdog timeout' || fail "the journal has no watchdog timeout"
show fengqiao-kioskd NRestarts
echo "NRestarts=$reply" >&2
id=$(book_on_board 林美华)
wait_delivered "$id"
echo "booking $id after the watchdog restart reached the township" >&2

log "the screen"
for _ in $(seq 180); do
	console run "systemctl is-active fengqiao-kiosk-ui; pgrep -x kiosk-ui >/dev/null && echo running"
	case $reply in *running*) break ;; esac
	sleep 1
done
console run "systemctl status --no-pager fengqiao-kiosk-ui | head -n 14; journalctl -b -u fengqiao-kiosk-ui --no-pager | tail -n 15"
echo "$reply" >&2
case $reply in *running*) ;; *) fail "kiosk-ui is not running in the screen session" ;; esac
ui_active=$(show fengqiao-kiosk-ui ActiveEnterTimestampMonotonic && echo "$reply")
# The home screen is drawn once kiosk-ui has loaded the menu from kioskd;
# under emulation that takes a while. Keep the last screenshot.
uid=$(on_board "id -u fengqiao-ui" && echo "$reply")
shot="runuser -u fengqiao-ui -- env XDG_RUNTIME_DIR=/run/user/$uid WAYLAND_DISPLAY=wayland-0 grim /var/tmp/kiosk.png"
sleep 60
on_board "$shot"
echo "screenshot taken at $(since) s after power-on" >&2

log "kioskd stopped: the screen stays up and says it is starting"
on_board "pgrep -x kiosk-ui"
uipid=$reply
on_board "systemctl stop fengqiao-kioskd"
sleep 20
on_board "${shot/kiosk.png/kiosk-starting.png}"
on_board "pgrep -x kiosk-ui"
[ "$reply" = "$uipid" ] || fail "kiosk-ui did not outlive kioskd (pid $uipid, now $reply)"
on_board "systemctl start fengqiao-kioskd"

log "kill -9 kiosk-ui: the screen comes back"
on_board "pgrep -x kiosk-ui"
uipid=$reply
on_board "kill -9 $uipid"
t1=$(date +%s.%N)
for _ in $(seq 120); do
	console run "pgrep -x kiosk-ui"
	[ "$rc" = 0 ] && [ "$reply" != "$uipid" ] && break
	sleep 0.2
done
[ "$rc" = 0 ] || fail "kiosk-ui did not come back after kill -9"
ui_back=$(python3 -c "import sys,time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$t1")
echo "kiosk-ui running again ${ui_back} s after kill -9 (cage and kiosk-ui restarted by systemd)" >&2
on_board "ps -o rss=,comm= -C kioskd,kiosk-ui,cage,Xwayland; free -m | head -n 2"
echo "$reply" >&2
rss=$reply

log "power off"
console send "systemctl poweroff"
wait "$qemu_pid" || true
qemu_pid=""
debugfs -R "dump /var/tmp/kiosk.png $work/kiosk.png" "$work/disk.img" >/dev/null 2>&1 || true
debugfs -R "dump /var/tmp/kiosk-starting.png $work/kiosk-starting.png" "$work/disk.img" >/dev/null 2>&1 || true
[ -s "$work/kiosk.png" ] && cp "$work/kiosk.png" docs/boot-test-screen.png && echo "screenshot: docs/boot-test-screen.png" >&2
[ -s "$work/kiosk-starting.png" ] && cp "$work/kiosk-starting.png" docs/boot-test-starting.png && echo "screenshot: docs/boot-test-starting.png" >&2

log "figures (emulated arm64, TCG on $(nproc) host CPUs: orders of magnitude only)"
cat >&2 <<EOF
version                        $version
boot (systemd-analyze)         $boot_line
kioskd active at               $((kioskd_active / 1000000)) s after the kernel started (monotonic)
screen session active at       $((ui_active / 1000000)) s after the kernel started
kioskd back after kill -9      $kill9_took s
watchdog restart after STOP    $stop_took s (WatchdogSec $wd), active again at $stop_active s
kiosk-ui back after kill -9    $ui_back s
RSS (KiB) after boot:
$rss
EOF
log "PASS in $(($(date +%s) - t0)) s"
