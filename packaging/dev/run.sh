#!/usr/bin/env bash
# make run: the whole kiosk on one machine. Starts a Mosquitto on a free local
# port (standing in for the township broker), kioskd on the dev site config and
# the simulated board, a township watcher printing every record that arrives,
# and the touch UI in a 1280x800 window. Ctrl-C stops everything.
#
# Without a display (a server, CI) the UI runs on a private Xvfb; set
# FENGQIAO_SCREENSHOT=path.png to save what it shows after it has started.
set -euo pipefail
cd "$(dirname "$0")/../.."

state=var/dev
mkdir -p "$state"
# Background jobs of a script read /dev/null; the card simulator needs the
# terminal, where the developer types 1-4 to tap a card.
exec 3<&0
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

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
"$mosquitto_bin" -c "$state/mosquitto.conf" >"$state/mosquitto.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do port_free "$port" || break; sleep 0.1; done
echo "township broker (mosquitto): $broker"

# The dev township's records key, private to this checkout like its signing
# key below: the watcher shows the phone and ID numbers the kiosk seals to it.
install -m 0600 packaging/dev/dev-township-records.key "$state/township-records.key"
bin/kioskctl township watch --broker "$broker" --key "$state/township-records.key" 2>"$state/watch.log" | sed -u 's/^/[township] /' &
pids+=($!)

rm -f "$state/idcard"
bin/kioskctl idcard simulate --pty --link "$state/idcard" --baud 115200 <&3 2>"$state/idcard.log" | sed -u 's/^/[idcard] /' &
pids+=($!)
for _ in $(seq 50); do [ -e "$state/idcard" ] && break; sleep 0.1; done

bin/kioskd --broker "$broker" --data "$state/data" --socket "$state/kioskd.sock" \
	--idcard-device "$PWD/$state/idcard" 2>&1 | sed -u 's/^/[kioskd] /' &
pids+=($!)

if [ -z "${DISPLAY:-}" ]; then
	display=:$((90 + RANDOM % 100))
	Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$state/xvfb.log" 2>&1 &
	pids+=($!)
	export DISPLAY=$display
	sleep 1
	echo "no display: the kiosk UI runs on Xvfb $DISPLAY (FENGQIAO_SCREENSHOT=file.png saves a picture)"
fi

# The kiosk speaks Chinese whatever the shell's locale (LANG=C also makes
# Fyne complain that it cannot parse the locale).
LANG=zh_CN.UTF-8 bin/kiosk-ui --socket "$state/kioskd.sock" --window 1280x800 2>&1 | sed -u 's/^/[kiosk-ui] /' &
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
echo "Type 1-4 and Enter here to tap a simulated ID card (0 takes it away). Ctrl-C stops."
wait -n "${pids[@]}"
