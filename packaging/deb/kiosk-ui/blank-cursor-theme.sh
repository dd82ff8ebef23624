#!/usr/bin/env bash
# blank-cursor-theme.sh DIR: writes the cursor theme "fengqiao-blank" into
# DIR (a 1x1 transparent Xcursor under every name a compositor or toolkit
# asks for). The kiosk session selects it (XCURSOR_THEME), for cage's own
# pointer and for kiosk-ui's through Xwayland: cage shows a pointer as soon
# as any input device claims to be one (the Raspberry Pi's HDMI-CEC inputs
# do), and a touch kiosk must show none.
set -euo pipefail
dir=$1/fengqiao-blank
mkdir -p "$dir/cursors"
le32() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $((($1 >> 8) & 255)))\\x$(printf %02x $((($1 >> 16) & 255)))\\x$(printf %02x $((($1 >> 24) & 255)))"; }
{
	# File header: magic, header size, version, one table-of-contents entry.
	printf 'Xcur'; le32 16; le32 65536; le32 1
	# The entry: an image chunk of nominal size 24 at byte 28.
	le32 $((0xfffd0002)); le32 24; le32 28
	# The chunk: header size, type, nominal size, version, 1x1, hot spot
	# 0,0, no delay, one fully transparent ARGB pixel.
	le32 36; le32 $((0xfffd0002)); le32 24; le32 1; le32 1; le32 1; le32 0; le32 0; le32 0; le32 0
} >"$dir/cursors/left_ptr"
for name in default arrow top_left_arrow pointer hand1 hand2 text xterm ibeam crosshair \
	watch wait progress left_ptr_watch grab grabbing not-allowed move all-scroll \
	sb_h_double_arrow sb_v_double_arrow h_double_arrow v_double_arrow col-resize row-resize \
	ew-resize ns-resize n-resize s-resize e-resize w-resize; do
	ln -sf left_ptr "$dir/cursors/$name"
done
printf '[Icon Theme]\nName=fengqiao-blank\nComment=No pointer: a touch kiosk\n' >"$dir/index.theme"
