#!/usr/bin/env bash
# demo.sh - what `./run demo` shows: the exactly-once word count of a text
# into LevelDB state, a rerun that counts nothing twice, and DRPC queries
# against the live state.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SLUICE_BIN:-build/bin/sluice}
text=examples/data/millrace.txt
port=${SLUICE_DEMO_PORT:-3772}
# a port something already listens on would answer our queries with
# another server's counts: take the next free one instead
busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if busy "$port"; then
	taken=$port
	for p in $(seq $((port + 1)) $((port + 100))) none; do
		busy "$p" || break
	done
	if [ "$p" = none ]; then
		echo "demo: port $taken and the 100 after it are in use; set SLUICE_DEMO_PORT to a free port" >&2
		exit 1
	fi
	port=$p
	echo "note: port $taken is in use by another program; the demo's DRPC server takes port $port"
fi
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
$bin wordcount --input "$text" --state "$work/state2" --drpc "$endpoint" --quiet 2>"$work/drpc.log" &
pid=$!
server_failed() {
	echo "demo: the DRPC server on $endpoint failed:" >&2
	cat "$work/drpc.log" >&2
	exit 1
}
up=
for _ in $(seq 50); do
	kill -0 "$pid" 2>/dev/null || { wait "$pid" || true; pid=; server_failed; }
	if $bin drpc --endpoint "$endpoint" --timeout 200 words the >/dev/null 2>&1; then
		up=1
		break
	fi
	sleep 0.1
done
[ -n "$up" ] || server_failed
for q in "the" "water" "the water" "nosuchword"; do
	printf '  words %-12s -> ' "\"$q\""
	$bin drpc --endpoint "$endpoint" words $q
done
printf '  %-18s -> ' "unknown function"
$bin drpc --endpoint "$endpoint" frobnicate x || true
# our server answered only if it is still the one holding the port
kill -TERM "$pid" 2>/dev/null || true
status=0
wait "$pid" || status=$?
pid=
[ "$status" -eq 0 ] || server_failed
echo
echo "demo done."
