#!/usr/bin/env bash
# demo.sh - what `./run demo` shows: the exactly-once word count of a text
# into LevelDB state, a rerun that counts nothing twice, and DRPC queries
# against the live state.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bin/sluice
text=examples/data/millrace.txt
port=${SLUICE_DEMO_PORT:-3772}
endpoint="tcp://127.0.0.1:$port"
work=$(mktemp -d /tmp/sluice-demo.XXXXXX)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

echo "== word count of $text ($(wc -w < "$text") words) into $work/state"
$bin wordcount --input "$text" --state "$work/state" --batch-size 5000
echo
echo "== top 20 words (sluice state dump, sorted by count)"
$bin state dump "$work/state" | sort -t$'\t' -k2,2nr -k1,1 | head -20 |
	awk -F'\t' '{ printf "  %-12s %8d\n", $1, $2 }'
echo
echo "== independent check: awk's count of the same file"
if diff <($bin state dump "$work/state" | LC_ALL=C sort) \
	<(tr ' \t' '\n\n' < "$text" | awk 'NF { c[$1]++ } END { for (w in c) print w "\t" c[w] }' | LC_ALL=C sort) >/dev/null
then
	echo "  equal: every word counted exactly once"
else
	echo "  DIFFERENT" >&2
	exit 1
fi
echo
echo "== a second run on the same file and state resumes: nothing is counted twice"
$bin wordcount --input "$text" --state "$work/state"
$bin state stats "$work/state" | sed 's/^/  /'
echo
echo "== DRPC: the word count keeps serving queries on $endpoint"
$bin wordcount --input "$text" --state "$work/state2" --drpc "$endpoint" --quiet &
pid=$!
for _ in $(seq 50); do
	$bin drpc --endpoint "$endpoint" --timeout 200 words the >/dev/null 2>&1 && break
	sleep 0.1
done
for q in "the" "water" "the water" "nosuchword"; do
	printf '  words %-12s -> ' "\"$q\""
	$bin drpc --endpoint "$endpoint" words $q
done
printf '  %-18s -> ' "unknown function"
$bin drpc --endpoint "$endpoint" frobnicate x || true
kill -TERM "$pid"
wait "$pid" || true
pid=
echo
echo "demo done."
