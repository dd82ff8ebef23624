#!/usr/bin/env bash
# Part of make bench: booking intake through the local API, as a markdown
# section on stdout. Bookings POSTed over the unix socket by 16 and 64
# clients, counted on their 201, against as many goroutines committing one
# record per bbolt transaction to a plain file on the same disk, in the
# same run. Goals: >= 4x the baseline with 16 clients, >= 5x with 64, p99
# <= 50 ms. Each figure is the median of 3 rounds.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${INTAKE_BOOKINGS:-3000}
cmd="go test -run='^\$' -bench=Intake -benchtime=${n}x -count=3 ./agent/core"
out=$(go test -run='^$' -bench=Intake -benchtime="${n}x" -count=3 ./agent/core)
# median METRIC NAME: the median of a benchmark's metric over the rounds.
median() {
	grep "^BenchmarkIntake/$2-" <<<"$out" | awk -v m="$1" '{ for (i = 1; i < NF; i++) if ($(i+1) == m) print $i }' |
		sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
verdicts=met
rows=""
for clients in 16 64; do
	api=$(median records/s "api/clients=$clients")
	bolt=$(median records/s "bolt/clients=$clients")
	p99=$(median p99-ms "api/clients=$clients")
	bp99=$(median p99-ms "bolt/clients=$clients")
	per=$(median records/commit "api/clients=$clients")
	cpu=$(median cpu-µs/op "api/clients=$clients")
	hcpu=$(median cpu-µs/op "http/clients=$clients")
	http=$(median records/s "http/clients=$clients")
	goal=4
	[ "$clients" = 64 ] && goal=5
	ratio=$(awk -v a="$api" -v b="$bolt" 'BEGIN { printf "%.2f", a / b }')
	verdict=met
	awk -v r="$ratio" -v g="$goal" -v p="$p99" 'BEGIN { exit !(r >= g && p <= 50) }' || { verdict="**MISSED**"; verdicts=missed; }
	ceiling=$(awk -v a="$http" -v b="$bolt" 'BEGIN { printf "%.1f", a / b }')
	rows+="| $clients | $(printf '%.0f' "$api") | $p99 ms | $per | $(printf '%.0f' "$cpu") µs | $(printf '%.0f' "$bolt") | $bp99 ms | ${ratio}× | ≥ ${goal}×, p99 ≤ 50 ms | $verdict | $(printf '%.0f' "$http") (${ceiling}×), $(printf '%.0f' "$hcpu") µs |"$'\n'
done
cat <<MD

## Booking intake through the local API

\`$cmd\` (the same \`make bench\` run): valid bookings POSTed to
\`/v1/bookings\` over the unix socket (the real handler, core, outbox and
case book), each counted on its 201; the baseline is as many goroutines each
committing one ~700-byte record per \`db.Update\` to a plain bbolt file on the
same disk. Medians of 3 rounds of $n bookings. The last column is the
ceiling on this machine: the same client, socket and HTTP server with a
handler that answers 201 without validating or storing anything, its ratio
to the baseline and its CPU time per request. CPU per booking is the
benchmark process's user and system time over the bookings, the
in-process client's included: with 2 cores, it bounds how many callers
come back while a commit syncs.

| Clients | API bookings/s | p99 | Records per commit | CPU per booking | bbolt one tx per record/s | its p99 | Ratio | Goal | | HTTP alone/s |
|---|---|---|---|---|---|---|---|---|---|---|
${rows%$'\n'}

What bounds these figures, and what has been tried: docs/intake.md.
MD
[ "$verdicts" = met ]
