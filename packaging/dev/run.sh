#!/usr/bin/env bash
# make run: the whole kiosk on one machine. Starts a Mosquitto on a free local
# port (standing in for the township broker), kioskd on the dev site config and
# the simulated board, a township watcher printing every record that arrives,
# and the touch UI in a 1280x800 window. Ctrl-C, SIGTERM or SIGHUP stops
# everything it started within 5 s (packaging/dev/run_test.go).
#
# Without a display (a server, CI) the UI runs on a private Xvfb; set
# FENGQIAO_SCREENSHOT=path.png to save what it shows after it has started.
set -euo pipefail
cd "$(dirname "$0")/../.."

# FENGQIAO_DEV_STATE: where the broker's config, the logs, the socket and the
# record store go (a test runs several kiosks side by side).
state=${FENGQIAO_DEV_STATE:-var/dev}
mkdir -p "$state"
# Background jobs of a script read /dev/null; the card simulator needs the
# terminal, where the developer types 1-4 to tap a card.
exec 3<&0

# Every program runs as a background job of this script, so $! is the
# program itself and the cleanup signals it, not the filter that prefixes
# its lines: those read a FIFO each, ignore the signals (Ctrl-C reaches the
# whole process group), and end when the program has closed its end, after
# its last line (kioskd's "kioskd stopped").
pids=()
infra=() # of pids, the broker and Xvfb: stopped after the rest
filters=()
log_filter() { # log_filter NAME: lines written to $state/NAME.fifo print as "[NAME] ..."
	rm -f "$state/$1.fifo"
	mkfifo "$state/$1.fifo"
	(trap '' INT TERM HUP; exec sed -u "s/^/[$1] /" <"$state/$1.fifo") &
	filters+=($!)
}
# running PID...: whether one of them has not ended (a zombie has: it only
# waits for this script to collect its status).
running() {
	local pid st
	for pid; do
		if read -r _ _ st _ 2>/dev/null <"/proc/$pid/stat" && [ "$st" != Z ]; then return 0; fi
	done
	return 1
}
cleanup() {
	# Caught, not ignored: a second Ctrl-C does not cut the cleanup short,
	# and the programs still see it.
	trap : INT TERM HUP
	# The programs first, then the broker and the X server they use (else
	# their last words are "broker unreachable" and X's "fatal IO error").
	local progs=() pid
	for pid in "${pids[@]}"; do [[ " ${infra[*]} " == *" $pid "* ]] || progs+=("$pid"); done
	if [ ${#progs[@]} -gt 0 ]; then
		kill -TERM "${progs[@]}" 2>/dev/null || true
		# kioskd closes its store and says so within a second or two; what
		# has not ended after 3.5 s is killed, so make run ends within 5.
		for _ in $(seq 35); do running "${progs[@]}" || break; sleep 0.1; done
		kill -KILL "${progs[@]}" 2>/dev/null || true
	fi
	if [ ${#infra[@]} -gt 0 ]; then
		kill -TERM "${infra[@]}" 2>/dev/null || true
		for _ in $(seq 5); do running "${infra[@]}" || break; sleep 0.1; done
		kill -KILL "${infra[@]}" 2>/dev/null || true
	fi
	# The filters end once their program's last line is out; one still
	# held open (by a child the program left behind) is not waited for.
	if [ ${#filters[@]} -gt 0 ]; then
		for _ in $(seq 5); do running "${filters[@]}" || break; sleep 0.1; done
		kill -KILL "${filters[@]}" 2>/dev/null || true
	fi
	# Collect every child. A signal interrupts wait; wait again.
	until wait 2>/dev/null; do :; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=18830
while ! port_free "$port"; do port=$((port + 1)); done
broker="tcp://127.0.0.1:$port"

mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
{
	echo "listener $port 127.0.0.1"
	echo "allow_anonymous true"
	echo "persistence false"
	# As root, mosquitto would drop to user mosquitto and lose access to var/.
	[ "$(id -u)" = 0 ] && echo "user root"
} >"$state/mosquitto.conf"
# In a session of its own, so that Ctrl-C or a hang-up sent to the
# terminal's process group does not take the broker away from kioskd as it
# closes: the cleanup stops it after the programs (see infra).
setsid "$mosquitto_bin" -c "$state/mosquitto.conf" >"$state/mosquitto.log" 2>&1 &
pids+=($!)
infra+=($!)
for _ in $(seq 50); do port_free "$port" || break; sleep 0.1; done
echo "township broker (mosquitto): $broker"

# The dev township's records key, private to this checkout like its signing
# key below: the watcher shows the phone and ID numbers the kiosk seals to it.
install -m 0600 packaging/dev/dev-township-records.key "$state/township-records.key"
log_filter township
bin/kioskctl township watch --broker "$broker" --key "$state/township-records.key" 2>"$state/watch.log" >"$state/township.fifo" &
pids+=($!)

rm -f "$state/idcard"
log_filter idcard
bin/kioskctl idcard simulate --pty --link "$state/idcard" --baud 115200 <&3 2>"$state/idcard.log" >"$state/idcard.fifo" &
pids+=($!)
for _ in $(seq 50); do [ -e "$state/idcard" ] && break; sleep 0.1; done

log_filter kioskd
bin/kioskd --broker "$broker" --data "$state/data" --socket "$state/kioskd.sock" \
	--idcard-device "$(cd "$state" && pwd)/idcard" --points-key packaging/dev/dev-points.key >"$state/kioskd.fifo" 2>&1 &
pids+=($!)

if [ -z "${DISPLAY:-}" ]; then
	# Xvfb picks a free display itself and writes its number once it serves.
	rm -f "$state/xvfb.display"
	# In a session of its own, as the broker: the cleanup stops it after
	# the programs (see infra).
	setsid Xvfb -displayfd 4 -screen 0 1280x800x24 -nolisten tcp 4>"$state/xvfb.display" >"$state/xvfb.log" 2>&1 &
	pids+=($!)
	infra+=($!)
	for _ in $(seq 100); do [ -s "$state/xvfb.display" ] && break; sleep 0.1; done
	export DISPLAY=:$(cat "$state/xvfb.display")
	echo "no display: the kiosk UI runs on Xvfb $DISPLAY (FENGQIAO_SCREENSHOT=file.png saves a picture)"
fi

# The kiosk speaks Chinese whatever the shell's locale (LANG=C also makes
# Fyne complain that it cannot parse the locale).
log_filter kiosk-ui
LANG=zh_CN.UTF-8 bin/kiosk-ui --socket "$state/kioskd.sock" --window 1280x800 >"$state/kiosk-ui.fifo" 2>&1 &
pids+=($!)

if [ -n "${FENGQIAO_SCREENSHOT:-}" ]; then
	sleep "${FENGQIAO_SCREENSHOT_DELAY:-6}"
	# /usr/bin/convert explicitly: some machines shadow it in /usr/local/bin.
	xwd -root -silent | /usr/bin/convert xwd:- "png:$FENGQIAO_SCREENSHOT"
	echo "screenshot saved to $FENGQIAO_SCREENSHOT"
	exit 0
fi

# The dev township's signing key, private to this checkout (git does not
# keep its 0600 mode, and kioskctl refuses a key others can read).
install -m 0600 packaging/dev/dev-township.key "$state/township.key"
echo "kiosk running. Book a consultation on screen; it appears on the [township] lines."
echo "Push content as township IT would (docs/bundles.md), e.g.:"
echo "  bin/kioskctl config sign --key $state/township.key --township dev-township --content BUNDLE.yaml --site firmware-configs/sites/dev.yaml --out $state/b.json"
echo "  bin/kioskctl config push --broker $broker $state/b.json; bin/kioskctl config status --broker $broker --township dev-township"
echo "Push the village's 美德银行 points (docs/points.md), e.g.:"
echo "  install -m 0600 packaging/dev/dev-points.key $state/points.key"
echo "  bin/kioskctl points sign --key $state/township.key --points-key $state/points.key --township dev-township --kiosks dev-kiosk-01 --site firmware-configs/sites/dev.yaml --entries agent/cmd/kioskctl/testdata/points-entries.csv --shop agent/cmd/kioskctl/testdata/points-shop.yaml --out $state/points.json"
echo "  bin/kioskctl points push --broker $broker $state/points.json"
echo "Type 1-4 and Enter here to tap a simulated ID card (0 takes it away). Ctrl-C stops."
# Until one of them ends (or a signal comes): then the cleanup stops the
# rest, and make run fails with that program's status.
status=0
wait -n "${pids[@]}" || status=$?
echo "a program of the kiosk ended (status $status); stopping the others" >&2
exit "$status"
