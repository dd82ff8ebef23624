#!/usr/bin/env bash
# make package-test: builds the packages, installs the arm64 ones with apt
# into a Debian 12 arm64 root file system (run through qemu-user), and
# checks there what a township technician would:
#   - apt install ./fengqiao-*.deb pulls in what kiosk-ui's Depends name;
#   - the packaged site file is refused until it is filled in, by key;
#   - kioskd --version and fengqiao-updater --version print the package
#     version;
#   - users, owners and modes are as the packages say;
#   - kioskd, run as its user against a Mosquitto on this host, delivers a
#     booking made through its local API to a township subscriber;
#   - an upgrade keeps the data dir, the record key, the trust state and
#     the records queued before it, which are delivered after it;
#   - fengqiao-updater starts on the filled-in site file and makes its
#     state dir, which an upgrade keeps;
#   - apt remove keeps the data, apt purge deletes it and says so, and
#     deletes /var/lib/fengqiao-updater.
# Not part of make test: it takes about 15 minutes (8 of them the first
# time only, building the root file system).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/local/go/bin
start=$(date +%s)
. packaging/test/lib.sh

version=$(packaging/deb/version.sh)
arch=arm64
# The same commit builds the same bytes: packages of this clean commit
# already in dist/ are the ones a build would make.
if [ -n "$(git status --porcelain)" ] || ! ls dist/fengqiao-*_"$version"_{amd64,arm64,armhf}.deb >/dev/null 2>&1; then
	log "building the packages"
	packaging/deb/build.sh amd64 arm64 armhf
fi

base=$(packaging/test/mkroot.sh $arch)
work=${FENGQIAO_CACHE:-/var/cache/fengqiao-test}/package-test
root=$work/root
kioskd_pid=""
cleanup() {
	set +e
	[ -n "$kioskd_pid" ] && kill "$kioskd_pid" 2>/dev/null && wait "$kioskd_pid" 2>/dev/null
	cleanup_root
}
trap cleanup EXIT

log "a fresh copy of the $arch root file system ($base)"
fresh_root "$base"

log "apt install ./fengqiao-kioskd ./fengqiao-kiosk-ui ./fengqiao-updater ($version)"
apt_install install.log dist/fengqiao-kioskd_"$version"_$arch.deb dist/fengqiao-kiosk-ui_"$version"_$arch.deb \
	dist/fengqiao-updater_"$version"_$arch.deb
grep -E '^fengqiao-kioskd: ' "$work/install.log" >&2 || true
for p in cage xwayland libgl1-mesa-dri libx11-6 libxcursor1 libxrandr2 fengqiao-kiosk-ui fengqiao-kioskd fengqiao-updater; do
	in_root dpkg-query -W -f='${Status}' "$p" | grep -q 'install ok installed' || fail "$p is not installed"
done
echo "installed: $(grep -c '^Setting up' "$work/install.log") packages set up" >&2

log "kioskd --version"
got=$(in_root kioskd --version)
[ "$got" = "kioskd $version" ] || fail "kioskd --version printed '$got', want 'kioskd $version'"
echo "$got" >&2
got=$(in_root fengqiao-updater --version)
[ "$got" = "fengqiao-updater $version" ] || fail "fengqiao-updater --version printed '$got', want 'fengqiao-updater $version'"
echo "$got" >&2

log "owners and modes"
check_stat() { # path "owner:group mode"
	local got
	got=$(in_root stat -c '%U:%G %a' "$1")
	[ "$got" = "$2" ] || fail "$1 is $got, want $2"
	echo "$1 $got" >&2
}
check_stat /usr/bin/kioskd "root:root 755"
check_stat /usr/bin/kioskctl "root:root 755"
check_stat /usr/bin/kiosk-ui "root:root 755"
check_stat /usr/bin/fengqiao-updater "root:root 755"
check_stat /lib/systemd/system/fengqiao-updater.service "root:root 644"
check_stat /var/lib/fengqiao "fengqiao:fengqiao 700"
check_stat /run/fengqiao "fengqiao:fengqiao 750"
check_stat /var/lib/fengqiao-ui "fengqiao-ui:fengqiao-ui 700"
check_stat /etc/fengqiao/site.yaml "root:fengqiao 640"
check_stat /etc/fengqiao/boards/rpi4.yaml "root:fengqiao 640"
check_stat /etc/fengqiao/tls "root:fengqiao 750"
check_stat /lib/systemd/system/fengqiao-kioskd.service "root:root 644"
in_root id fengqiao | grep -q dialout || fail "fengqiao is not in dialout"
in_root id fengqiao-ui | grep -q '(fengqiao)' || fail "fengqiao-ui is not in group fengqiao"
for u in fengqiao-kioskd fengqiao-kiosk-ui fengqiao-updater; do
	[ -L "$root/etc/systemd/system/multi-user.target.wants/$u.service" ] || fail "$u.service is not enabled"
done
in_root dpkg-query -W -f='${Conffiles}\n' fengqiao-kioskd | grep -q '/etc/fengqiao/site.yaml' || fail "site.yaml is not a conffile"
[ -L "$root/usr/share/icons/fengqiao-blank/cursors/hand2" ] && [ -s "$root/usr/share/icons/fengqiao-blank/cursors/left_ptr" ] ||
	fail "the blank cursor theme is missing"

log "the packaged site file is refused until filled in"
if in_root kioskd --config /etc/fengqiao/site.yaml >"$work/unfilled.log" 2>&1; then fail "kioskd started on the unfilled template"; fi
grep -q 'kiosk.id: not filled in' "$work/unfilled.log" || { cat "$work/unfilled.log"; fail "no 'not filled in' error"; }
grep -c 'not filled in' "$work/unfilled.log" | sed 's/$/ keys reported as not filled in/' >&2

log "a township broker on this host, kioskd in the board's root"
port=$(free_port)
start_broker "$port" 127.0.0.1
packaging/test/fill-site.sh "tcp://127.0.0.1:$port" <"$root/etc/fengqiao/site.yaml" >"$work/site.yaml"
cp "$work/site.yaml" "$root/etc/fengqiao/site.yaml"
township=var/deb/amd64/bin/kioskctl
start_watch "$township" "$port"

run_kioskd() {
	# exec, so that $! is kioskd itself (chroot, env and setpriv all exec)
	# and SIGTERM reaches it as systemd's stop would.
	(exec chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin LANG=C.UTF-8 \
		setpriv --reuid=fengqiao --regid=fengqiao --init-groups \
		kioskd --config /etc/fengqiao/site.yaml --data /var/lib/fengqiao --socket /run/fengqiao/kioskd.sock \
		>>"$work/kioskd.log" 2>&1) &
	kioskd_pid=$!
	for _ in $(seq 120); do
		curl -s --max-time 2 --unix-socket "$root/run/fengqiao/kioskd.sock" http://kiosk/v1/status >/dev/null && return 0
		kill -0 "$kioskd_pid" 2>/dev/null || { tail -20 "$work/kioskd.log"; fail "kioskd exited"; }
		sleep 1
	done
	tail -20 "$work/kioskd.log"
	fail "kioskd's API did not answer within 2 minutes"
}
stop_kioskd() {
	kill -TERM "$kioskd_pid"
	wait "$kioskd_pid" || fail "kioskd did not stop cleanly on SIGTERM"
	kioskd_pid=""
}
book() { # prints the record id of a booking made through the API
	packaging/test/book.sh "$root/run/fengqiao/kioskd.sock" "$1" | tee -a "$work/bookings.log" | record_id
}

# The updater as its unit runs it (root), for a few seconds: with no
# systemd in the root there is no StateDirectory=, so it makes its dir
# itself, seeds its trust state from the site file and waits for bundles.
log "fengqiao-updater starts on the filled-in site file"
run_updater() { # for 20 s; it must still be running then
	local rc=0
	timeout 20 chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin LANG=C.UTF-8 \
		fengqiao-updater --config /etc/fengqiao/site.yaml --dir /var/lib/fengqiao-updater \
		--spool /var/lib/fengqiao/update-spool --socket /run/fengqiao/kioskd.sock >>"$work/updater.log" 2>&1 || rc=$?
	[ "$rc" = 124 ] || { cat "$work/updater.log"; fail "fengqiao-updater exited ($rc) within 20 s"; }
}
run_updater
[ -s "$root/var/lib/fengqiao-updater/trust.json" ] && [ -d "$root/var/lib/fengqiao-updater/cache" ] ||
	{ cat "$work/updater.log"; fail "fengqiao-updater made no trust state or cache"; }
check_stat /var/lib/fengqiao-updater "root:root 755"
check_stat /var/lib/fengqiao-updater/trust.json "root:root 600"
log "a damaged updater state is set aside and reported, with dpkg's versions"
printf '{"format":"fengqiao-updater-state/v1","stat' >"$root/var/lib/fengqiao-updater/state.json"
run_updater
ls "$root"/var/lib/fengqiao-updater/state.json.damaged-* >/dev/null || fail "the damaged state was not set aside"
rep=$root/var/lib/fengqiao-updater/reported.json
# recovering while its health check waits for a kioskd not running here.
grep -q '"reason": "state_damaged"' "$rep" && grep -Eq '"status": "recover(ing|ed)"' "$rep" &&
	grep -q "\"fengqiao-kioskd\": \"$version\"" "$rep" || { cat "$rep" "$work/updater.log"; fail "no state_damaged report with dpkg's versions"; }
grep '"error"' "$rep" >&2

run_kioskd
id=$(book 王秀英)
[ -n "$id" ] || fail "no booking id"
wait_delivered "$id"
echo "booking $id reached the township subscriber" >&2
stop_kioskd

log "an upgrade keeps the data and the records queued before it"
kill "$broker_pid"
wait "$broker_pid" 2>/dev/null || true
broker_pid=""
run_kioskd
queued=$(book 陈桂英)
stop_kioskd
sums() {
	in_root sh -c 'cd /var/lib/fengqiao && sha256sum outbox.key control/trust.json 2>/dev/null; ls -la'
	in_root sh -c 'cd /var/lib/fengqiao-updater && sha256sum trust.json; ls -la'
}
before=$(sums)
next=$version.1
FENGQIAO_DEB_VERSION=$next DIST=$work/dist-next packaging/deb/build.sh arm64 >/dev/null
apt_install upgrade.log "$work"/dist-next/fengqiao-kioskd_"$next"_$arch.deb "$work"/dist-next/fengqiao-kiosk-ui_"$next"_$arch.deb \
	"$work"/dist-next/fengqiao-updater_"$next"_$arch.deb
[ "$(in_root kioskd --version)" = "kioskd $next" ] || fail "the upgrade did not install $next"
[ "$(in_root fengqiao-updater --version)" = "fengqiao-updater $next" ] || fail "the upgrade did not install fengqiao-updater $next"
[ "$(sums)" = "$before" ] || fail "the upgrade changed the data dir: before $before, after $(sums)"
cmp -s "$work/site.yaml" "$root/etc/fengqiao/site.yaml" || fail "the upgrade changed the operator's site.yaml"
start_broker "$port" 127.0.0.1
sleep 0.5
start_watch "$township" "$port"
run_kioskd
wait_delivered "$queued"
echo "booking $queued, queued before the upgrade to $next, was delivered after it" >&2
stop_kioskd

log "apt remove keeps the data; apt purge deletes it"
in_root apt-get remove -y -q fengqiao-kiosk-ui fengqiao-kioskd fengqiao-updater >"$work/remove.log" 2>&1 || { cat "$work/remove.log"; fail "apt remove"; }
grep '^fengqiao-kioskd: kept' "$work/remove.log" >&2 || fail "remove did not say it kept the data"
[ -f "$root/var/lib/fengqiao/outbox.key" ] || fail "remove deleted the data"
[ -f "$root/etc/fengqiao/site.yaml" ] || fail "remove deleted the site file"
[ -f "$root/var/lib/fengqiao-updater/trust.json" ] || fail "remove deleted the updater's trust state"
in_root apt-get purge -y -q fengqiao-kiosk-ui fengqiao-kioskd fengqiao-updater >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "apt purge"; }
grep '^fengqiao-kioskd: purged' "$work/purge.log" >&2 || fail "purge did not say what it deleted"
[ ! -e "$root/var/lib/fengqiao" ] || fail "purge left /var/lib/fengqiao"
[ ! -e "$root/var/lib/fengqiao-updater" ] || fail "purge left /var/lib/fengqiao-updater"
[ ! -e "$root/etc/fengqiao/site.yaml" ] || fail "purge left /etc/fengqiao/site.yaml"

log "PASS in $(($(date +%s) - start)) s ($version, $arch, qemu-user)"
