#!/usr/bin/env bash
# Part of make bench: the kiosk UI against what villages would run instead, a
# browser kiosk (Debian's Chromium in --kiosk mode on a static page, the way
# FullPageOS and TouchKio do it). Writes one markdown section on stdout, and
# the pictures docs/bench-ui-kiosk.png and docs/bench-ui-chromium.png
# (1280x800), docs/bench-ui-kiosk-portrait.png and
# docs/bench-ui-chromium-portrait.png (1080x1920).
#
# On each of the kiosk's two panels, 1280x800 (dev-sim, the RK3568's 10.1"
# panel) and 1080x1920 portrait (rpi5.yaml's 32" totem), on a private Xvfb of
# that size, one after the other:
#   (a) kiosk-ui (go build -o into a temp dir, against Fyne with the event
#       loop patch of third_party/fyne, as every build is), full screen on
#       its home screen, against a real kioskd (dev site config, on a board
#       whose screen is the panel, temp data dir and socket, a broker address
#       where nothing listens: it shows the offline notice);
#   (b) fynefloor (kiosk-ui/internal/cmd/fynefloor), a bare full-screen Fyne
#       window built against stock Fyne: what its event loop, which wakes 60
#       times a second, costs any program, and so what the patch saves;
#   (c) /usr/bin/chromium --kiosk on packaging/dev/bench-ui/home.html, the same
#       home screen as a static page with the same embedded Chinese font,
#       laid out for the panel's orientation as kiosk-ui lays it out.
# Each is watched until its page is on the screen, given a warm-up, then
# measured over the same window: CPU time (utime+stime from /proc/PID/stat,
# summed over every process of the program, those that exit included) and, at
# the end, VmRSS and PSS summed over its processes. Goals, on each panel:
# kiosk-ui at most 0.2x Chromium's CPU time and 0.5x its memory. Then the
# tap-to-next-screen benchmark of kiosk-ui/ui, a sub-benchmark per panel
# (goal: at most 100 ms on each).
#
# Exit status: 0 when every goal is met, 1 when a goal is missed (after writing
# the section), 2 when the run itself failed (nothing is written to stdout).
# Everything it starts is stopped on any exit; Xvfb is never left running.
#
# BENCH_UI_WARMUP and BENCH_UI_WINDOW (seconds, default 10 and 60) shorten a
# trial run; make bench uses the defaults.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export PATH=$PATH:/usr/local/go/bin

warmup=${BENCH_UI_WARMUP:-10}
window=${BENCH_UI_WINDOW:-60}
interval=0.25     # seconds between two samples of /proc
screen_timeout=60 # seconds a program may take to show its page
kiosk_png=docs/bench-ui-kiosk.png
chromium_png=docs/bench-ui-chromium.png
html=packaging/dev/bench-ui/home.html

# The section goes to stdout at the very end; everything else (build output,
# progress) goes to stderr, so a failed run appends nothing to the report.
exec 3>&1 1>&2
say() { printf 'bench-ui: %s\n' "$*" >&2; }
die() {
	printf 'bench-ui: FAILED: %s\n' "$*" >&2
	exit 2
}

# --- what the run needs ----------------------------------------------------
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing (make deps installs it)"
command -v Xvfb >/dev/null || die "Xvfb is missing (make deps installs it)"
command -v xwd >/dev/null || die "xwd is missing (make deps installs x11-apps)"
command -v go >/dev/null || die "go is missing (make deps installs it)"
# /usr/bin/convert explicitly: some machines shadow it in /usr/local/bin.
if [ ! -x /usr/bin/convert ]; then
	sudo=$([ "$(id -u)" = 0 ] || echo sudo)
	say "installing imagemagick for /usr/bin/convert (as make screenshot does)"
	$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq imagemagick >&2
fi
[ -f kiosk-ui/kiosktheme/fonts/DroidSansFallbackFull.ttf ] || die "the kiosk font is missing"

# The page must say what the kiosk says: every service title and summary of
# the dev site config, and the advisor.
site=firmware-configs/sites/dev.yaml
while IFS= read -r text; do
	grep -qF -- "$text" "$html" || die "$html lacks \"$text\" from $site; update the page"
done < <(awk '
	/^  services:/ { s = 1; next }
	/^  advisor:/ { a = 1; next }
	/^  [a-z]/ { s = 0; a = 0 }
	s && /^      (title|summary):/ || a && /^    (name|firm):/ { sub(/^ *[a-z]+: */, ""); print }' "$site")

# --- clean-up of everything this script starts -----------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-ui.XXXXXX")
xvfb_pid= kioskd_pid= ui_pid= floor_pid= chromium_pid= prog_cg=
cgroups=() # cgroups this script made, removed on exit
tag="fengqiao-bench-ui-$$-$RANDOM" # in the environment of every Chromium process

alive() { # alive PID: running, not a zombie
	local s
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	read -r s <"/proc/$1/stat" 2>/dev/null || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}

stop() { # stop PID...: TERM, up to 5 s, then KILL
	local p n left
	[ $# -gt 0 ] || return 0
	kill "$@" 2>/dev/null || true
	for n in $(seq 50); do
		left=
		for p in "$@"; do if alive "$p"; then left=1; fi; done
		[ -n "$left" ] || return 0
		sleep 0.1
	done
	kill -9 "$@" 2>/dev/null || true
}

stop_chromium() {
	[ -n "$chromium_pid" ] || return 0
	local pids
	if [ "$prog_root" = "$chromium_pid" ]; then
		sample 2>/dev/null || true
		pids=$(live_members)
	fi
	# shellcheck disable=SC2086
	stop "$chromium_pid" $pids
	chromium_pid=
}

cleanup() {
	local status=$?
	trap - EXIT INT TERM
	set +e
	[ -n "$ui_pid" ] && stop "$ui_pid"
	[ -n "$floor_pid" ] && stop "$floor_pid"
	stop_chromium
	[ -n "$kioskd_pid" ] && stop "$kioskd_pid"
	for d in "${cgroups[@]}"; do rmdir "$d" 2>/dev/null || true; done
	if [ -n "$xvfb_pid" ]; then
		stop "$xvfb_pid"
		wait "$xvfb_pid" 2>/dev/null
		if alive "$xvfb_pid"; then
			echo "bench-ui: Xvfb ($xvfb_pid) would not stop" >&2
			status=2
		fi
	fi
	wait 2>/dev/null
	rm -rf "$tmp"
	exit "$status"
}
trap cleanup EXIT
trap 'die "interrupted"' INT TERM

# --- build -------------------------------------------------------------------
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
ldflags="-X github.com/fengqiao/kiosk/agent/version.stamp=$version"
say "building kiosk-ui and kioskd into $tmp (a cold cgo build of Fyne takes minutes)"
go build -ldflags "$ldflags" -o "$tmp/kiosk-ui" ./kiosk-ui/cmd/kiosk-ui || die "go build kiosk-ui"
# fynefloor gets stock Fyne from a copy of go.mod without the replace of
# third_party/fyne; -mod=mod lets go add stock Fyne's checksums, which
# go.sum has no use for, to the copy's go.sum.
cp go.mod "$tmp/stock.mod"
cp go.sum "$tmp/stock.sum"
go mod edit -modfile="$tmp/stock.mod" -dropreplace=fyne.io/fyne/v2 || die "go mod edit (stock Fyne)"
go build -mod=mod -modfile="$tmp/stock.mod" -o "$tmp/fynefloor" ./kiosk-ui/internal/cmd/fynefloor || die "go build fynefloor (stock Fyne)"
CGO_ENABLED=0 go build -ldflags "$ldflags" -o "$tmp/kioskd" ./agent/cmd/kioskd || die "go build kioskd"

# --- the panels ----------------------------------------------------------------
# Each panel gets an Xvfb of its size and a kioskd whose board profile
# reports that panel: kiosk-ui sizes its type from the panel kioskd reports
# (pixels and diagonal) and picks its layout from its window's shape, which
# full screen is the X screen's. 1280x800 is the dev site as it is (dev-sim,
# standing in for the RK3568's 10.1" panel). For 1080x1920, the portrait
# totem of rpi5.yaml, whose devices are real (/dev/idcard, GPIO, a camera),
# the site's board is a copy of dev-sim.yaml with its screen made rpi5's:
# every device still simulated, the panel the totem's.
portrait_board=firmware-configs/boards/rpi5.yaml
portrait_diag=$(awk '/^screen:/ { s = 1; next } /^[a-z]/ { s = 0 } s && $1 == "diagonal:" { print $2 }' "$portrait_board")
[ -n "$portrait_diag" ] || die "no screen.diagonal in $portrait_board"
awk -v d="$portrait_diag" '
	/^screen:/ { s = 1; print; next }
	/^[a-z]/ { s = 0 }
	s && $1 == "width:" { sub(/width:.*/, "width: 1080"); n++ }
	s && $1 == "height:" { sub(/height:.*/, "height: 1920"); n++ }
	s && $1 == "rotation:" { sub(/rotation:.*/, "rotation: 0  # Xvfb is portrait already"); n++ }
	s && $1 == "diagonal:" { sub(/diagonal:.*/, "diagonal: " d "  # " FILENAME ": dev-sim with rpi5.yaml'"'"'s panel"); n++ }
	{ print }
	END { if (n != 4) exit 1 }' firmware-configs/boards/dev-sim.yaml >"$tmp/board-1080x1920.yaml" ||
	die "firmware-configs/boards/dev-sim.yaml has no screen width, height, rotation and diagonal to change"
grep -q '^board:' "$site" || die "$site names no board"
sed "s#^board:.*#board: $tmp/board-1080x1920.yaml#" "$site" >"$tmp/site-1080x1920.yaml"

# start_x W H: a private Xvfb of W x H x 24, in display and xvfb_pid.
start_x() {
	rm -f "$tmp/display"
	xvfb_log=$tmp/xvfb-${1}x${2}.log
	Xvfb -displayfd 5 -screen 0 "${1}x${2}x24" -nolisten tcp 5>"$tmp/display" >"$xvfb_log" 2>&1 &
	xvfb_pid=$!
	for _ in $(seq 100); do [ -s "$tmp/display" ] && break; alive "$xvfb_pid" || break; sleep 0.1; done
	[ -s "$tmp/display" ] || die "Xvfb did not start: $(tail -3 "$xvfb_log")"
	display=:$(head -1 "$tmp/display")
	say "Xvfb $display (pid $xvfb_pid), ${1}x${2}x24"
}
stop_x() {
	stop "$xvfb_pid"
	wait "$xvfb_pid" 2>/dev/null || true
	if alive "$xvfb_pid"; then die "Xvfb ($xvfb_pid) would not stop"; fi
	xvfb_pid=
}

shot() { DISPLAY=$display xwd -root -silent | /usr/bin/convert xwd:- "png:$1"; }
# Pixels of the main action's red (#B71C1C) on the screen: the home
# screen's two booking keys are each about 620x110 on 1280x800 and 520x340
# on 1080x1920, so well over a hundred thousand once the home screen is up;
# the loading screen has none.
red_pixels() {
	DISPLAY=$display xwd -root -silent | /usr/bin/convert xwd:- -alpha off -fuzz 4% \
		-fill black +opaque '#B71C1C' -fill white -opaque '#B71C1C' -format '%[fx:int(mean*w*h)]' info:
}

# --- kioskd, offline -------------------------------------------------------
port_free() { ! (exec 6<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=18899
while ! port_free "$port"; do port=$((port + 1)); done
# start_kioskd LABEL SITE: a kioskd on SITE with a fresh data dir, in kioskd_pid.
start_kioskd() {
	kioskd_cmd=("$tmp/kioskd" --config "$2" --data "$tmp/data-$1" --socket "$tmp/kioskd-$1.sock" --broker "tcp://127.0.0.1:$port")
	kioskd_log=$tmp/kioskd-$1.log
	"${kioskd_cmd[@]}" >"$kioskd_log" 2>&1 &
	kioskd_pid=$!
	for _ in $(seq 100); do [ -S "$tmp/kioskd-$1.sock" ] && break; alive "$kioskd_pid" || break; sleep 0.1; done
	[ -S "$tmp/kioskd-$1.sock" ] || die "kioskd did not start: $(tail -5 "$kioskd_log")"
	say "kioskd $kioskd_pid on $tmp/kioskd-$1.sock, broker tcp://127.0.0.1:$port (nothing listens there)"
}

# --- measurement ------------------------------------------------------------
hz=$(getconf CLK_TCK)

# Each program runs in a cgroup of its own, joined before its first
# instruction and inherited by every process it forks (Chromium's crash
# handlers included, though they leave its tree). The cgroup's CPU counter is
# in nanoseconds and keeps the time of processes and threads that have exited:
# the figure the goal is judged on. The /proc figures below (clock ticks of
# 1/$hz s, truncated per process and per sample) are a cross-check; at idle a
# program uses a few ticks a minute, so their rounding alone can move a ratio
# by half.
cg_root= cg_kind=
if [ -f /sys/fs/cgroup/cpuacct/cpuacct.usage ] && [ -w /sys/fs/cgroup/cpuacct ]; then
	cg_root=/sys/fs/cgroup/cpuacct cg_kind=v1
else
	for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
		if [ -f "$d/cgroup.controllers" ] && [ -w "$d" ]; then cg_root=$d cg_kind=v2 && break; fi
	done
fi
[ -n "$cg_root" ] || die "no writable cgroup hierarchy for the CPU counters (run as root)"

cg_new() { # cg_new NAME: a fresh cgroup for one program, in prog_cg
	prog_cg=$cg_root/fengqiao-bench-$$-$1
	mkdir "$prog_cg" || die "cannot create cgroup $prog_cg"
	cgroups+=("$prog_cg")
}
cg_ns() { # cg_ns DIR: CPU nanoseconds used in the cgroup so far
	if [ "$cg_kind" = v1 ]; then cat "$1/cpuacct.usage"; else awk '$1 == "usage_usec" { print $2 * 1000 }' "$1/cpu.stat"; fi
}
# "${in_cg[@]}" DIR CMD...: runs CMD inside cgroup DIR (the shell joins it,
# then execs CMD, keeping its pid).
in_cg=(sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' in_cg)
ms() { awk -v n="$1" 'BEGIN { printf "%.1f ms", n / 1e6 }'; }
now() { echo "$EPOCHREALTIME"; }

# The program being measured: its first process, that process's start time
# (clock ticks after boot), and the tag in its environment ("" for none).
prog_root= prog_root_start=0 prog_tag=
# Per process of the program, keyed by "pid:starttime" so a reused pid is a
# new process: cum = utime+stime+cutime+cstime at the last sample (-1 once it
# has gone), and what else is known of it.
declare -A member=() notmember=() other_pid=() cum=() dead_cum=() base=() ppid_of=() kind_of=()
gone=0 nsample=0 # ticks of members that vanished with no member parent to reap them

# A process is the program's if it is the first one, a descendant of one of the
# program's (its tree), or carries the tag (Chromium's crash handlers leave the
# tree: they are reparented to init). A child reaped by its parent moves its
# time into the parent's cutime/cstime, so the sum of cum over the live members,
# plus the last cum seen of any member that vanished with no member parent to
# reap it, counts every process of the program, those that exit between two
# samples included. All of it with bash builtins: no process per sample but
# one sleep.
sample() {
	local d p line rest key pass changed e
	local -a f envv
	local -A par=() keyof=() restof=()
	nsample=$((nsample + 1))
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		# Known not to be the program's: skip, but look again every 20th
		# sample in case the pid was reused (a short-lived child of the
		# program is counted anyway, in its parent's cutime).
		if [ -n "${other_pid[$p]:-}" ] && [ $((nsample % 20)) != 0 ]; then continue; fi
		read -r line 2>/dev/null <"$d/stat" || continue
		rest=${line##*) }
		f=($rest)
		key=$p:${f[19]}
		if [ "${other_pid[$p]:-}" = "$key" ]; then continue; fi
		par[$p]=${f[1]} keyof[$p]=$key restof[$p]=$rest
		if [ -z "${member[$key]:-}${notmember[$key]:-}" ]; then
			if [ "$p" = "$prog_root" ]; then
				member[$key]=1
			elif [ "${f[19]}" -lt "$prog_root_start" ]; then
				notmember[$key]=1 other_pid[$p]=$key # older than the program
			fi
		fi
	done
	for pass in 1 2 3 4 5 6; do
		changed=
		for p in "${!keyof[@]}"; do
			key=${keyof[$p]}
			[ -z "${member[$key]:-}${notmember[$key]:-}" ] || continue
			if [ -n "${keyof[${par[$p]}]:-}" ] && [ -n "${member[${keyof[${par[$p]}]}]:-}" ]; then
				member[$key]=1 changed=1
			fi
		done
		[ -n "$changed" ] || break
	done
	for p in "${!keyof[@]}"; do
		key=${keyof[$p]}
		[ -z "${member[$key]:-}${notmember[$key]:-}" ] || continue
		notmember[$key]=1 other_pid[$p]=$key
		if [ -n "$prog_tag" ] && mapfile -d '' -t envv 2>/dev/null <"/proc/$p/environ"; then
			for e in "${envv[@]}"; do
				if [ "$e" = "BENCH_UI_TAG=$prog_tag" ]; then
					member[$key]=1
					unset "notmember[$key]" "other_pid[$p]"
					break
				fi
			done
		fi
	done
	local -A seen=()
	for p in "${!keyof[@]}"; do
		key=${keyof[$p]}
		[ -n "${member[$key]:-}" ] || continue
		f=(${restof[$p]})
		seen[$key]=1
		cum[$key]=$((f[11] + f[12] + f[13] + f[14]))
		ppid_of[$key]=${f[1]}
		if [ -z "${kind_of[$key]:-}" ]; then
			kind_of[$key]=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null |
				sed -E 's/.*--type=([a-z-]+).*/\1/; s/^([^ ]*\/)?([^ /]+) .*/\2/; s/^chromium$/browser/')
		fi
	done
	local parent
	for key in "${!cum[@]}"; do
		[ -z "${seen[$key]:-}" ] || continue
		[ "${cum[$key]}" != -1 ] || continue
		parent=${ppid_of[$key]}
		if [ -z "${keyof[$parent]:-}" ] || [ -z "${member[${keyof[$parent]}]:-}" ]; then
			gone=$((gone + cum[$key]))
		fi
		dead_cum[$key]=${cum[$key]}
		cum[$key]=-1
	done
}
total() {
	local key t=$gone
	for key in "${!cum[@]}"; do
		if [ "${cum[$key]}" -ge 0 ]; then t=$((t + cum[$key])); fi
	done
	echo "$t"
}
live_members() {
	local key
	for key in "${!cum[@]}"; do
		if [ "${cum[$key]}" -ge 0 ]; then echo "${key%%:*}"; fi
	done
}
ticks() { # utime+stime+cutime+cstime of one process
	local line f
	read -r line <"/proc/$1/stat"
	f=(${line##*) })
	echo $((f[11] + f[12] + f[13] + f[14]))
}
starttime() {
	local line f
	read -r line <"/proc/$1/stat"
	f=(${line##*) })
	echo "${f[19]}"
}
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
pss_kb() { awk '$1 == "Pss:" { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null; }
# Which OpenGL a process has mapped: there is no GPU here, so both render in software.
gl_libs() {
	grep -oE '[^/ ]*(swrast_dri|libgallium|llvmpipe|swiftshader|libGLX_mesa|libGLESv2|libEGL)[^/ ]*$' "/proc/$1/maps" 2>/dev/null |
		sort -u | paste -sd, - || true
}
sec() { awk -v t="$1" -v hz="$hz" 'BEGIN { printf "%.2f s", t / hz }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

# measure NAME PNG LAUNCHED: the program (prog_*) was started at LAUNCHED
# ($EPOCHREALTIME). Wait for its page, warm up, measure, take the picture.
# Sets the m_* results.
measure() {
	local name=$1 png=$2 launched=$3 n=0 i end key p k c r s gl
	member=() notmember=() other_pid=() cum=() dead_cum=() base=() ppid_of=() kind_of=()
	gone=0 nsample=0
	# 1. until the home screen is up
	for i in $(seq $((screen_timeout * 2))); do
		alive "$prog_root" || die "$name died before showing its page: $(tail -5 "$tmp/$name.log")"
		n=$(red_pixels)
		[ "$n" -gt 20000 ] && break
		sleep 0.5
	done
	[ "$n" -gt 20000 ] || die "$name did not show its home screen within ${screen_timeout}s"
	m_ready=$(awk -v a="$launched" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
	say "$name shows its page ${m_ready}s after launch; warming up ${warmup}s"
	# 2. warm-up, watching
	end=$((${EPOCHREALTIME%.*} + warmup))
	while [ "${EPOCHREALTIME%.*}" -lt "$end" ]; do
		alive "$prog_root" || die "$name died during the warm-up: $(tail -5 "$tmp/$name.log")"
		sample
		sleep "$interval"
	done
	# 3. the window
	sample
	for key in "${!cum[@]}"; do
		if [ "${cum[$key]}" -ge 0 ]; then base[$key]=${cum[$key]}; else base[$key]=${dead_cum[$key]}; fi
	done
	local c0 x0 k0 s0 w0 w1 n0
	c0=$(total) x0=$(ticks "$xvfb_pid") k0=$(ticks "$kioskd_pid") s0=$(ticks $$) w0=$(now) n0=$(cg_ns "$prog_cg")
	say "$name: measuring ${window}s"
	end=$((${EPOCHREALTIME%.*} + window))
	while [ "${EPOCHREALTIME%.*}" -lt "$end" ]; do
		sleep "$interval"
		alive "$prog_root" || die "$name died during the measurement: $(tail -5 "$tmp/$name.log")"
		alive "$kioskd_pid" || die "kioskd died: $(tail -5 "$kioskd_log")"
		alive "$xvfb_pid" || die "Xvfb died: $(tail -5 "$xvfb_log")"
		sample
	done
	sample
	w1=$(now)
	m_ns=$(($(cg_ns "$prog_cg") - n0))
	m_cpu=$(($(total) - c0))
	m_xvfb=$(($(ticks "$xvfb_pid") - x0))
	m_kioskd=$(($(ticks "$kioskd_pid") - k0))
	m_self=$(($(ticks $$) - s0))
	m_wall=$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.2f", b - a }')
	# 4. memory of the live processes, now; CPU and memory by kind of process
	m_rss=0 m_pss=0 m_n=0 m_rows= m_gl=
	local -A rows_cpu=() rows_rss=() rows_pss=() rows_n=()
	for key in "${!cum[@]}"; do
		k=${kind_of[$key]:-?}
		if [ "${cum[$key]}" -ge 0 ]; then c=$((cum[$key] - ${base[$key]:-0})); else c=$((dead_cum[$key] - ${base[$key]:-0})); fi
		rows_cpu[$k]=$((${rows_cpu[$k]:-0} + c))
		rows_n[$k]=$((${rows_n[$k]:-0}))
		[ "${cum[$key]}" -ge 0 ] || continue
		p=${key%%:*}
		alive "$p" || continue
		r=$(status_kb "$p" VmRSS) s=$(pss_kb "$p")
		m_rss=$((m_rss + ${r:-0})) m_pss=$((m_pss + ${s:-0})) m_n=$((m_n + 1))
		rows_rss[$k]=$((${rows_rss[$k]:-0} + ${r:-0}))
		rows_pss[$k]=$((${rows_pss[$k]:-0} + ${s:-0}))
		rows_n[$k]=$((rows_n[$k] + 1))
		gl=$(gl_libs "$p")
		if [ -n "$gl" ]; then m_gl="${m_gl:+$m_gl; }$k: $gl"; fi
	done
	for k in "${!rows_cpu[@]}"; do
		m_rows+="| $k | ${rows_n[$k]} | $(sec "${rows_cpu[$k]}") | $(mib "${rows_rss[$k]:-0}") | $(mib "${rows_pss[$k]:-0}") |"$'\n'
	done
	m_seen=${#cum[@]}
	# 5. the picture, at the end of the window
	shot "$png"
	n=$(/usr/bin/convert "$png" -alpha off -fuzz 4% -fill black +opaque '#B71C1C' -fill white -opaque '#B71C1C' -format '%[fx:int(mean*w*h)]' info:)
	[ "$n" -gt 20000 ] || die "$name no longer showed its home screen at the end ($png)"
	say "$name: $(ms "$m_ns") CPU ($(sec "$m_cpu") by /proc) in ${m_wall}s; VmRSS $(mib "$m_rss"), PSS $(mib "$m_pss") over $m_n processes"
}

# --- one panel: kiosk-ui, the floor, Chromium ------------------------------------
# Flags for Chromium: what FullPageOS's start_chromium_browser passes
# (--kiosk, touch events, no pinch or overscroll navigation, no error dialogs
# or crash bubble, no update nag or component updates, no translate bar, the
# page by --app), plus a fresh profile without first-run UI, and the window
# placed over the whole screen because bare Xvfb has no window manager to
# honour --kiosk's full-screen request. As root Chromium will not start
# without --no-sandbox. Nothing that limits it (no --disable-gpu,
# --single-process, process limits).
chromium_flags() { # chromium_flags LABEL W H
	local f=(--kiosk --no-first-run "--user-data-dir=$tmp/chromium-profile-$1"
		--window-position=0,0 "--window-size=$2,$3"
		--touch-events=enabled --disable-pinch --overscroll-history-navigation=0
		--noerrdialogs --disable-session-crashed-bubble
		"--simulate-outdated-no-au=Tue, 31 Dec 2099 23:59:59 GMT" --disable-component-update
		--disable-features=TranslateUI)
	if [ "$(id -u)" = 0 ]; then f+=(--no-sandbox); fi
	printf '%s\0' "${f[@]}"
}

pct() { awk -v t="$1" -v w="$2" 'BEGIN { printf "%.2f%%", 100 * t / 1e9 / w }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "inf"; else printf "%.3f", a / b }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { exit !(r != "inf" && r + 0 <= g) }' && echo met || echo "**MISSED**"; }
relpath() { sed -e "s#$tmp#\$TMP#g" -e 's/ *$//'; }

summary=  # a row per panel of the section's first table
missed=   # set when a goal is missed on a panel
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# run_panel LABEL W H SITE KIOSK_PNG CHROMIUM_PNG: the three programs full
# screen on a W x H Xvfb against a kioskd on SITE, one after the other; then
# the panel's row of the summary and its details in $tmp/detail-LABEL.md.
run_panel() {
	local label=$1 w=$2 h=$3 psite=$4 kpng=$5 cpng=$6
	local ui_ready ui_wall ui_ns ui_cpu ui_rss ui_pss ui_n ui_seen ui_xvfb ui_kioskd ui_self ui_gl ui_anon ui_file ui_threads
	local fl_wall fl_ns fl_cpu fl_rss fl_pss
	local cr_ready cr_wall cr_ns cr_cpu cr_rss cr_pss cr_n cr_seen cr_xvfb cr_kioskd cr_self cr_gl cr_rows
	say "--- panel $label"
	start_x "$w" "$h"
	start_kioskd "$label" "$psite"

	# (a) kiosk-ui
	mkdir -p "$tmp/home-ui-$label"
	ui_cmd=("$tmp/kiosk-ui" --socket "$tmp/kioskd-$label.sock")
	say "starting kiosk-ui (full screen)"
	t_launch=$(now)
	cg_new "kiosk-ui-$label"
	env HOME="$tmp/home-ui-$label" DISPLAY="$display" LANG=zh_CN.UTF-8 "${in_cg[@]}" "$prog_cg" "${ui_cmd[@]}" >"$tmp/kiosk-ui-$label.log" 2>&1 &
	ui_pid=$!
	prog_root=$ui_pid prog_root_start=$(starttime "$ui_pid") prog_tag=
	measure "kiosk-ui-$label" "$kpng" "$t_launch"
	ui_ready=$m_ready ui_wall=$m_wall ui_ns=$m_ns ui_cpu=$m_cpu ui_rss=$m_rss ui_pss=$m_pss ui_n=$m_n ui_seen=$m_seen
	ui_xvfb=$m_xvfb ui_kioskd=$m_kioskd ui_self=$m_self ui_gl=$m_gl
	ui_anon=$(status_kb "$ui_pid" RssAnon) ui_file=$(status_kb "$ui_pid" RssFile) ui_threads=$(status_kb "$ui_pid" Threads)
	stop "$ui_pid"
	wait "$ui_pid" 2>/dev/null || true
	ui_pid= prog_root=

	# (b) the floor: a bare Fyne window
	mkdir -p "$tmp/home-floor-$label"
	say "starting fynefloor (a bare full-screen window of stock Fyne)"
	t_launch=$(now)
	cg_new "fynefloor-$label"
	env HOME="$tmp/home-floor-$label" DISPLAY="$display" LANG=zh_CN.UTF-8 "${in_cg[@]}" "$prog_cg" "$tmp/fynefloor" >"$tmp/fynefloor-$label.log" 2>&1 &
	floor_pid=$!
	prog_root=$floor_pid prog_root_start=$(starttime "$floor_pid") prog_tag=
	measure "fynefloor-$label" "$tmp/fynefloor-$label.png" "$t_launch"
	fl_wall=$m_wall fl_ns=$m_ns fl_cpu=$m_cpu fl_rss=$m_rss fl_pss=$m_pss
	stop "$floor_pid"
	wait "$floor_pid" 2>/dev/null || true
	floor_pid= prog_root=

	# (c) Chromium
	# FullPageOS's TranslateUI name no longer stops Chromium 156 offering to
	# translate the Chinese page from its en-US UI (Debian ships the zh-CN UI
	# in chromium-l10n); the profile preference does, as a kiosk image would
	# set it.
	mkdir -p "$tmp/home-chromium-$label" "$tmp/chromium-profile-$label/Default"
	echo '{"translate":{"enabled":false}}' >"$tmp/chromium-profile-$label/Default/Preferences"
	local flags
	mapfile -d '' -t flags < <(chromium_flags "$label" "$w" "$h")
	chromium_cmd=(/usr/bin/chromium "${flags[@]}" "--app=file://$root/$html")
	say "starting Chromium"
	t_launch=$(now)
	cg_new "chromium-$label"
	env HOME="$tmp/home-chromium-$label" DISPLAY="$display" LANG=zh_CN.UTF-8 BENCH_UI_TAG="$tag" \
		"${in_cg[@]}" "$prog_cg" "${chromium_cmd[@]}" >"$tmp/chromium-$label.log" 2>&1 &
	chromium_pid=$! # /usr/bin/chromium is a shell script that execs the browser: same pid
	prog_root=$chromium_pid prog_root_start=$(starttime "$chromium_pid") prog_tag=$tag
	measure "chromium-$label" "$cpng" "$t_launch"
	cr_ready=$m_ready cr_wall=$m_wall cr_ns=$m_ns cr_cpu=$m_cpu cr_rss=$m_rss cr_pss=$m_pss cr_n=$m_n cr_seen=$m_seen
	cr_xvfb=$m_xvfb cr_kioskd=$m_kioskd cr_self=$m_self cr_gl=$m_gl cr_rows=$m_rows
	cr_args=$(while IFS= read -r -d '' a; do
		case $a in *' '*) printf "'%s' " "$a" ;; *) printf '%s ' "$a" ;; esac
	done <"/proc/$chromium_pid/cmdline")
	stop_chromium
	prog_root=

	stop "$kioskd_pid"
	wait "$kioskd_pid" 2>/dev/null || true
	kioskd_pid=
	stop_x

	# The panel's figures.
	local cpu_ratio tick_ratio rss_ratio pss_ratio floor_ratio cpu_v rss_v pss_v
	cpu_ratio=$(ratio "$ui_ns" "$cr_ns")
	tick_ratio=$(ratio "$ui_cpu" "$cr_cpu")
	rss_ratio=$(ratio "$ui_rss" "$cr_rss")
	pss_ratio=$(ratio "$ui_pss" "$cr_pss")
	floor_ratio=$(ratio "$fl_ns" "$cr_ns")
	cpu_v=$(verdict "$cpu_ratio" 0.2) rss_v=$(verdict "$rss_ratio" 0.5) pss_v=$(verdict "$pss_ratio" 0.5)
	[ "$cpu_v" = met ] && [ "$rss_v" = met ] && [ "$pss_v" = met ] || missed=1
	summary+="| ${w}×${h} | $(ms "$ui_ns") / $(ms "$cr_ns") = **${cpu_ratio}×** | $cpu_v | $(mib "$ui_rss") / $(mib "$cr_rss") = **${rss_ratio}×** | $rss_v | $(mib "$ui_pss") / $(mib "$cr_pss") = **${pss_ratio}×** | $pss_v |"$'\n'
	if [ "$label" = "${panels[0]}" ]; then
		kioskd_first=$(printf '%s ' "${kioskd_cmd[@]}" | relpath)
		cr_first=$(printf '%s\n' "$cr_args" | relpath)
		ui_first=$(printf '%s ' "${ui_cmd[@]}" | relpath)
	else
		kioskd_other+="; on ${w}×${h}: \`$(printf '%s ' "${kioskd_cmd[@]}" | relpath)\`"
	fi
	cat >"$tmp/detail-$label.md" <<MD

### ${w}×${h}

Pictures at the end of each window: [kiosk-ui]($(basename "$kpng")), [Chromium]($(basename "$cpng")). OpenGL libraries mapped (no GPU here: both render in software): ${ui_gl:-kiosk-ui: none found}; Chromium's ${cr_gl:-processes: none found}.

| ${window} s window after ${warmup} s warm-up, ${w}×${h} | kiosk-ui | Chromium | **kiosk-ui / Chromium** | Goal | |
|---|---|---|---|---|---|
| CPU time, by the program's cgroup (ns) | $(ms "$ui_ns") ($(pct "$ui_ns" "$ui_wall") of one CPU) | $(ms "$cr_ns") ($(pct "$cr_ns" "$cr_wall") of one CPU) | **${cpu_ratio}×** | ≤ 0.2× | $cpu_v |
| CPU time, by /proc (utime + stime in ticks; cross-check) | $(sec "$ui_cpu") | $(sec "$cr_cpu") | ${tick_ratio}× | | |
| For comparison: a bare window of stock Fyne 2.7 (fynefloor), without the patch | $(ms "$fl_ns") ($(pct "$fl_ns" "$fl_wall") of one CPU) | | ${floor_ratio}× | | |
| VmRSS, summed | $(mib "$ui_rss") | $(mib "$cr_rss") | **${rss_ratio}×** | ≤ 0.5× | $rss_v |
| PSS, summed (fairer) | $(mib "$ui_pss") | $(mib "$cr_pss") | **${pss_ratio}×** | ≤ 0.5× | $pss_v |
| Processes at the end (seen in the window) | $ui_n ($ui_seen), $ui_threads threads | $cr_n ($cr_seen) | | | |
| Launch to home screen on the screen | ${ui_ready} s | ${cr_ready} s | | | |
| Window measured (wall) | ${ui_wall} s | ${cr_wall} s | | | |

The bare window of stock Fyne: VmRSS $(mib "$fl_rss"), PSS $(mib "$fl_pss"). kiosk-ui's VmRSS is $(mib "${ui_anon:-0}") anonymous (Go heap, stacks, the embedded font once parsed, GL buffers) and $(mib "${ui_file:-0}") file-backed (the binary and shared libraries).

Chromium by process type (CPU in the window, counting the reaped children of each; memory at the end):

| Process type | Processes at the end | CPU time | VmRSS | PSS |
|---|---|---|---|---|
$(printf '%s' "$cr_rows" | sort)

Also in each window, not in the figures above: Xvfb $(sec "$ui_xvfb") during kiosk-ui's and $(sec "$cr_xvfb") during Chromium's (the X server composes what each client draws); kioskd $(sec "$ui_kioskd") and $(sec "$cr_kioskd"); this script's sampling $(sec "$ui_self") and $(sec "$cr_self"), on the same $(nproc) CPUs.
MD
}

# 1280x800: the dev-sim board (the RK3568's 10.1" panel), the dev site as it
# is; 1080x1920: the portrait totem (rpi5.yaml's panel on the dev-sim board).
panels=(1280x800 1080x1920)
kioskd_other=
run_panel 1280x800 1280 800 "$site" docs/bench-ui-kiosk.png docs/bench-ui-chromium.png
run_panel 1080x1920 1080 1920 "$tmp/site-1080x1920.yaml" docs/bench-ui-kiosk-portrait.png docs/bench-ui-chromium-portrait.png

# --- tap to the next screen drawn ----------------------------------------------
say "go test -bench BenchmarkTapToNextScreen ./kiosk-ui/ui"
tap_cmd=(go test -run '^$' -bench '^BenchmarkTapToNextScreen$' -benchtime 50x -count 5 ./kiosk-ui/ui)
"${tap_cmd[@]}" >"$tmp/tap.txt" 2>&1 || die "the tap benchmark failed: $(tail -5 "$tmp/tap.txt")"
# A sub-benchmark per panel; ns/op of each of its -count runs. The report
# gives the median and the worst of each.
tap_rows=
for label in "${panels[@]}"; do
	mapfile -t tap_ns < <(awk -v b="BenchmarkTapToNextScreen/$label" '{ n = $1; sub(/-[0-9]+$/, "", n) } n == b { print $3 }' "$tmp/tap.txt" | sort -n)
	[ "${#tap_ns[@]}" -ge 1 ] || die "no result for $label in the tap benchmark's output"
	tap_med=$(awk -v n="${tap_ns[$((${#tap_ns[@]} / 2))]}" 'BEGIN { printf "%.1f", n / 1e6 }')
	tap_max=$(awk -v n="${tap_ns[-1]}" 'BEGIN { printf "%.1f", n / 1e6 }')
	tap_v=$(awk -v m="$tap_max" 'BEGIN { exit !(m <= 100) }' && echo met || echo "**MISSED**")
	[ "$tap_v" = met ] || missed=1
	tap_rows+="| ${label/x/×} | ${tap_med} ms | ${tap_max} ms | ${#tap_ns[@]} | ≤ 100 ms | $tap_v |"$'\n'
done

# --- the section ----------------------------------------------------------------
cat >&3 <<MD

## Kiosk UI vs a browser kiosk

Written by \`packaging/dev/bench-ui.sh >> docs/benchmarks.md\` (the last step of \`make bench\`) on $(date -u '+%Y-%m-%d %H:%M UTC') at commit \`$version\`.
What a village would run instead of kiosk-ui is a browser kiosk: Debian's Chromium in \`--kiosk\` mode on a static page, as FullPageOS and TouchKio do. On each of the kiosk's two panels, 1280×800 (the 10.1″ landscape panel of the dev-sim and RK3568 boards) and 1080×1920 (the 32″ portrait totem of the Raspberry Pi 5 board), both ran in this one run, one after the other (with a bare Fyne window between them), full screen on a private Xvfb of the panel's size at 24 bits, each watched until its home screen was up (the red of the booking keys on the screen), then given ${warmup} s of warm-up, then measured over ${window} s.

| Panel | CPU time, kiosk-ui / Chromium | Goal ≤ 0.2× | VmRSS, kiosk-ui / Chromium | Goal ≤ 0.5× | PSS, kiosk-ui / Chromium | Goal ≤ 0.5× |
|---|---|---|---|---|---|---|
${summary}
**Tap to the next screen drawn**, by \`$(printf '%s ' "${tap_cmd[@]}" | sed 's/ *$//')\`: a tap on the home screen's booking key until the booking's first step is built and Fyne's software renderer has painted the whole window (the GL driver redraws less), a sub-benchmark per panel, each with the panel's type sizes and layout:

| Panel | Median | Worst | Runs | Goal | |
|---|---|---|---|---|---|
${tap_rows}
| | |
|---|---|
| CPUs (nproc) | $(nproc) |
| CPU | $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) |
| Kernel | $(uname -r) |
| Memory | $(awk '/^MemTotal/ { print $2, $3 }' /proc/meminfo) |
| Load average (1, 5, 15 min) | $load_start before the first panel, $(cut -d' ' -f1-3 /proc/loadavg) at the end |
| Go | $(go version | cut -d' ' -f3-) |
| Chromium | $(/usr/bin/chromium --version 2>/dev/null | head -1) |

- **kiosk-ui**: \`go build -o \$TMP/kiosk-ui ./kiosk-ui/cmd/kiosk-ui\`, run as \`$ui_first\` with \`LANG=zh_CN.UTF-8\` (full screen, as on a kiosk), against a real kioskd: \`$kioskd_first\`$kioskd_other. Nothing listens at that broker address, so the UI shows its offline notice; each kioskd ran through its panel's measurements. kiosk-ui sizes its type from the panel kioskd reports from the board profile (pixels and diagonal) and lays out for its window's shape: \`\$TMP/site-1080x1920.yaml\` is the dev site with \`board:\` naming \`\$TMP/board-1080x1920.yaml\`, which is firmware-configs/boards/dev-sim.yaml (every device simulated) with the screen of rpi5.yaml (1080×1920, ${portrait_diag}″; rotation 0, because the Xvfb is portrait already where the Pi's panel is turned by the compositor).
- **Chromium**: \`$cr_first\` on 1280×800, and the same with \`--window-size=1080,1920\` and a profile of its own on 1080×1920 — the flags before \`--kiosk\` are Debian's defaults (/etc/chromium.d, added by the /usr/bin/chromium launcher); then FullPageOS's (\`--kiosk\`, touch events, no pinch or overscroll navigation, \`--noerrdialogs\`, no crash bubble, no update nag or component updates, \`--disable-features=TranslateUI\`, the page by \`--app\`); a fresh \`--user-data-dir\` with \`--no-first-run\`; \`--window-position=0,0\` and \`--window-size\` of the panel because bare Xvfb has no window manager to make the \`--kiosk\` window full screen; $([ "$(id -u)" = 0 ] && echo "\`--no-sandbox\` because this ran as root, where Chromium refuses to start with its sandbox;" || echo "its sandbox on;") and \`translate.enabled: false\` in the profile's Preferences, because Chromium 156 ignores the stale \`TranslateUI\` name and offered to translate the Chinese page from its en-US UI (Debian ships the zh-CN UI separately, in chromium-l10n). Nothing that limits it: no \`--disable-gpu\`, \`--single-process\` or process limits. The page, [packaging/dev/bench-ui/home.html](../packaging/dev/bench-ui/home.html), is the kiosk's home screen as static HTML and CSS, laid out as kiosk-ui lays it out on each panel (by a CSS media query on the orientation), its pictograms as inline SVG, with the kiosk's own font (DroidSansFallbackFull.ttf by \`@font-face\`) and the date set once at load (kiosk-ui too shows the date and weekday, not the time of day), so once laid out it has nothing to do, while kiosk-ui asks kioskd for its status every 30 s on its home screen and long-polls it for card taps and the presence sensor.

CPU time is first the counter of a cgroup made for each program ($cg_kind, \`$([ "$cg_kind" = v1 ] && echo cpuacct.usage || echo 'cpu.stat usage_usec')\` under \`$cg_root\`), which the program joins before it starts and every process it forks inherits: nanoseconds, counting processes and threads that exit. Then, as a cross-check, utime + stime from \`/proc/PID/stat\`, sampled every ${interval} s; for Chromium summed over its whole process tree plus its crash handlers (which leave the tree), counting processes that exit: each sample sums utime + stime + cutime + cstime of the live processes (a reaped child's time moves into its parent's cutime/cstime) plus the last value seen of any that vanished without a parent of the program to reap it. Memory is taken at the end of the window: VmRSS from \`/proc/PID/status\` summed over the processes (which counts pages shared between Chromium's processes once per process) and PSS from \`/proc/PID/smaps_rollup\` (which divides each shared page among the processes sharing it: the fairer sum).

Stock Fyne 2.7's event loop wakes 60 times a second whether or not anything changed (a \`time.Ticker\` in \`internal/driver/glfw/loop.go\`; upstream [fyne-io/fyne#2506](https://github.com/fyne-io/fyne/issues/2506), with an unmerged fix in [#5422](https://github.com/fyne-io/fyne/pull/5422)): the bare window of it in each panel's table shows what that costs. kiosk-ui is built against Fyne with the patch of [third_party/fyne](../third_party/fyne/README.md), whose loop waits for X events, \`fyne.Do\` calls and animations once nothing has been painted for half a second. kiosk-ui itself repaints only when something on screen changes (the notice when the queue count changes).
$(for label in "${panels[@]}"; do cat "$tmp/detail-$label.md"; done)
MD

[ -z "$missed" ] || exit 1
