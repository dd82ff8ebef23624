#!/usr/bin/env bash
# Part of make bench: the ID-card goal, as a markdown section on stdout.
# Time from card placed to decoded fields (find + select + read base info)
# over a pty paced at 115200 baud, against the wire time of the bytes
# exchanged; goal <= 1.3x.
set -euo pipefail
cd "$(dirname "$0")/../.."
cmd="go test -run='^\$' -bench=CardToFields -benchtime=20x ./drivers/idcard/idcardsim"
out=$(go test -run='^$' -bench=CardToFields -benchtime=20x ./drivers/idcard/idcardsim)
line=$(grep '^BenchmarkCardToFields' <<<"$out")
read -r _ _ nsop _ bytes _ wirems _ ratio _ <<<"$line"
verdict=met
awk -v r="$ratio" 'BEGIN { exit !(r <= 1.3) }' || verdict="**MISSED**"
cat <<MD

## ID card: card placed to decoded fields

\`$cmd\` (the same \`make bench\` run): a simulated reader paced at 115200 baud on
one end of a real pty, the driver on the other through drivers/serialport
(tarm/serial), find card + select card + read base info, 20 times.

| Measured per card | Wire time of the $bytes bytes exchanged | Ratio | Goal | |
|---|---|---|---|---|
| $(awk -v n="$nsop" 'BEGIN { printf "%.1f ms", n/1e6 }') | $wirems ms | ${ratio}× | ≤ 1.3× | $verdict |
MD
[ "$verdict" = met ]
