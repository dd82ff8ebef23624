#!/usr/bin/env bash
# Part of make bench: what keeping bbolt's freelist (so that kioskd opens its
# store without reading the whole file) costs each group commit, as a
# markdown section on stdout. A measurement, not a goal: the figures are
# for docs/store.md's trade-off.
set -euo pipefail
cd "$(dirname "$0")/../.."
cmd="go test -run='^\$' -bench=FreelistCost -benchtime=300x -count=3 ./agent/outbox"
out=$(go test -run='^$' -bench=FreelistCost -benchtime=300x -count=3 ./agent/outbox)
median() { # median ns/op of one sub-benchmark over the rounds
	grep "^BenchmarkFreelistCost/$1-" <<<"$out" | awk '{ print $3 }' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
rows=""
for free in 0 50000; do
	rebuilt=$(median "free-pages=$free/freelist=rebuilt")
	kept=$(median "free-pages=$free/freelist=kept")
	rows+="| $free | $(awk -v n="$rebuilt" 'BEGIN { printf "%.2f", n / 1e6 }') ms | $(awk -v n="$kept" 'BEGIN { printf "%.2f", n / 1e6 }') ms | $(awk -v a="$kept" -v b="$rebuilt" 'BEGIN { printf "%.2f", a / b }')× |"$'\n'
done
cat <<MD

## The freelist kept: its cost per commit

\`$cmd\` (the same \`make bench\` run): one group commit of 64
booking-sized records to a bbolt store, with bbolt's freelist written by
every commit (kept: what the outbox does, so that it opens in constant time)
and with it rebuilt at open instead (which reads the whole file). In a store
with no free pages, and in one where a drain has freed 50,000 pages (200 MiB)
that compaction has not yet given back. Medians of 3 rounds of 300 commits.

| Free pages | Commit, freelist rebuilt at open | Commit, freelist kept | Ratio |
|---|---|---|---|
${rows%$'\n'}
MD
