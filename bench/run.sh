#!/usr/bin/env bash
# run.sh - `./run bench [--quick] [--words N] [--rounds R] [--out DIR]
#           [--update-docs]`: the side-by-side word count benchmark.
# Every row counts the same generated corpus; rows are interleaved and
# repeated (median of R rounds); every figure is also given as a ratio to
# the single-threaded baseline measured in the same run. Writes
# OUT/results.json, OUT/benchmarks.md and OUT/*.png (OUT: bench/out,
# relative to the current directory; ./run runs it from the tree);
# only with --update-docs (not with --quick) also docs/benchmarks.md and
# docs/img/*.png. Exits non-zero when a row produced no number or counted
# differently from the baseline.
set -uo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
caller=$PWD
cd "$(dirname "$0")/.."
words=5000000 rounds=3 out=bench/out quick=0 docs=0
args="$*"
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$self"; }
need() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "bench: $1 needs a value (see ./run bench --help)" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1; words=300000; rounds=1 ;;
	--words) need "$@"; words=$2; shift ;;
	--words=*) words=${1#*=} ;;
	--rounds) need "$@"; rounds=$2; shift ;;
	--rounds=*) rounds=${1#*=} ;;
	--out) need "$@"; out=$2; shift ;;
	--out=*) out=${1#*=} ;;
	--update-docs) docs=1 ;;
	--no-docs) docs=0 ;; # the default now; kept for old scripts
	-h|--help) usage; exit 0 ;;
	*) echo "bench: unknown option $1 (see ./run bench --help)" >&2; exit 2 ;;
	esac
	shift
done
case "$words$rounds" in *[!0-9]*|'') echo "bench: --words and --rounds take numbers" >&2; exit 2 ;; esac
case $out in /*) ;; *) out=$caller/$out ;; esac # relative to the caller
if [ "$quick" = 1 ] && [ "$docs" = 1 ]; then
	echo "bench: --quick figures are not written to docs/ (drop --update-docs)" >&2
	exit 2
fi
bin=build/bin
mkdir -p "$out"
work=$(mktemp -d /tmp/sluice-bench.XXXXXX)
redis_pid=
cleanup() {
	[ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
progress() { printf '\rbench: %-70s' "$*" >&2; }

corpus=$work/corpus.txt
progress "generating $words words"
$bin/bench-gencorpus "$words" 100000 1 > "$corpus"
$bin/bench-baseline_wc "$corpus" --dump "$work/baseline.tsv" 2>/dev/null

# redis: pipelined HINCRBY into a local server with AOF everysec
redis_port=
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
	redis_port=$((20000 + RANDOM % 20000))
	mkdir -p "$work/redis"
	redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" \
		--appendonly yes --appendfsync everysec --save '' \
		--daemonize no --logfile "$work/redis/log" &
	redis_pid=$!
	for _ in $(seq 50); do
		redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	# the RESP commands are generated before timing starts
	awk '{ for (i = 1; i <= NF; i++)
		printf "*4\r\n$7\r\nHINCRBY\r\n$5\r\nwords\r\n$%d\r\n%s\r\n$1\r\n1\r\n", length($i), $i }' \
		"$corpus" > "$work/redis.resp"
fi

# run ROW ROUND: one measurement; appends a JSON line to results
run_row() {
	local row=$1 round=$2 d=$work/$1.$2
	mkdir -p "$d"
	local stats=$d/stats.json dump=$d/counts.tsv cmd
	case $row in
	baseline) cmd=("$bin/bench-baseline_wc" "$corpus" --dump "$dump") ;;
	unix) cmd=(sh -c "LC_ALL=C awk '{ for (i = 1; i <= NF; i++) c[\$i]++ } END { for (w in c) print w \"\\t\" c[w] }' '$corpus' | LC_ALL=C sort > '$dump'") ;;
	redis) [ -n "$redis_port" ] || return 0
		redis-cli -p "$redis_port" del words >/dev/null
		cmd=(sh -c "redis-cli -p $redis_port --pipe < '$work/redis.resp' >/dev/null && redis-cli -p $redis_port --raw hgetall words | paste - - | LC_ALL=C sort > '$dump'") ;;
	plain-at-most-once) cmd=("$bin/sluice" wordcount --mode plain --acking off --input "$corpus" --stats "$stats" --dump "$dump" --quiet) ;;
	plain-at-least-once) cmd=("$bin/sluice" wordcount --mode plain --acking on --input "$corpus" --stats "$stats" --dump "$dump" --quiet) ;;
	trident-memory) cmd=("$bin/sluice" wordcount --memory --input "$corpus" --stats "$stats" --dump "$dump" --quiet) ;;
	trident-leveldb) cmd=("$bin/sluice" wordcount --state "$d/state" --no-sync --input "$corpus" --stats "$stats" --dump "$dump" --quiet) ;;
	trident-leveldb-sync) cmd=("$bin/sluice" wordcount --state "$d/state" --input "$corpus" --stats "$stats" --dump "$dump" --quiet) ;;
	esac
	local t0 t1
	t0=$(date +%s.%N)
	/usr/bin/time -f '%e %M %U %S' -o "$d/time" "${cmd[@]}" 2>"$d/err" >/dev/null
	local rc=$?
	t1=$(date +%s.%N)
	local same=false
	# Trident's dump lists typed keys in stored order (by length): compare
	# the sorted lines
	cmp -s <(LC_ALL=C sort "$dump") <(LC_ALL=C sort "$work/baseline.tsv") \
		&& same=true
	[ "$row" = baseline ] && cp "$dump" "$work/baseline.tsv"
	python3 - "$row" "$round" "$rc" "$same" "$d" "$t0" "$t1" "$words" >> "$work/results.jsonl" <<'PY'
import json, sys, os
row, rnd, rc, same, d, t0, t1, words = sys.argv[1:]
t = open(os.path.join(d, "time")).read().split()
el, rss, us, sy = float(t[0]), int(t[1]), float(t[2]), float(t[3])
st = {}
try:
    st = json.load(open(os.path.join(d, "stats.json")))
except Exception:
    pass
if row == "baseline":
    try:
        st = json.loads(open(os.path.join(d, "err")).read().strip().splitlines()[-1])
    except Exception:
        pass
secs = st.get("elapsed_s") or (float(t1) - float(t0))
r = {"row": row, "round": int(rnd), "rc": int(rc), "counts_equal": same == "true",
     "words": int(words), "seconds": secs, "wall_s": float(t1) - float(t0),
     "words_per_s": int(words) / secs if secs > 0 else 0,
     "p50_ms": st.get("batch_p50_ms", st.get("latency_p50_ms")),
     "p99_ms": st.get("batch_p99_ms", st.get("latency_p99_ms")),
     "rss_mib": rss / 1024.0, "cpu_s": us + sy}
print(json.dumps(r))
PY
	rm -rf "$d/state"
}

rows=(baseline unix redis plain-at-most-once plain-at-least-once trident-memory trident-leveldb trident-leveldb-sync)
: > "$work/results.jsonl"
for r in $(seq "$rounds"); do
	for row in "${rows[@]}"; do
		progress "round $r/$rounds: $row"
		run_row "$row" "$r"
	done
done

# scaling: baseline and trident-leveldb at 1x, 4x, 16x (and 10x keys),
# each run ROUNDS times (the report takes the median)
: > "$work/scaling.jsonl"
if [ "$quick" = 0 ]; then
	base=$((words / 4))
	for mult in 1 4 16; do
		n=$((base * mult))
		for vocab in 100000 1000000; do
			[ "$vocab" = 1000000 ] && [ "$mult" != 4 ] && continue
			progress "scaling: ${mult}x, $vocab words in the vocabulary"
			$bin/bench-gencorpus "$n" "$vocab" 2 > "$work/scale.txt"
			for rr in $(seq "$rounds"); do
			for row in baseline trident-leveldb; do
				d=$work/scale.$row
				rm -rf "$d"; mkdir -p "$d"
				if [ $row = baseline ]; then
					/usr/bin/time -f '%e %M' -o "$d/time" $bin/bench-baseline_wc "$work/scale.txt" 2>"$d/err"
					secs=$(python3 -c "import json,sys; print(json.loads(open('$d/err').read().strip().splitlines()[-1])['elapsed_s'])")
				else
					/usr/bin/time -f '%e %M' -o "$d/time" $bin/sluice wordcount --state "$d/state" --no-sync --input "$work/scale.txt" --stats "$d/stats.json" --quiet
					secs=$(python3 -c "import json; print(json.load(open('$d/stats.json'))['elapsed_s'])")
				fi
				rss=$(cut -d' ' -f2 "$d/time")
				echo "{\"row\":\"$row\",\"round\":$rr,\"mult\":$mult,\"vocab\":$vocab,\"words\":$n,\"seconds\":$secs,\"rss_kib\":$rss}" >> "$work/scaling.jsonl"
			done
			done
		done
	done
fi
printf '\r%80s\r' '' >&2

# DRPC latency during ingestion, next to a Redis HGET round trip
: > "$work/drpc.md"
if [ -x $bin/bench-drpc ]; then
	progress "DRPC latency while ingesting"
	if [ -n "$redis_port" ]; then
		redis-cli -p "$redis_port" del words >/dev/null
		awk -F'\t' '{ printf "*4\r\n$4\r\nHSET\r\n$5\r\nwords\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length($1), $1, length($2), $2 }' \
			"$work/baseline.tsv" | redis-cli -p "$redis_port" --pipe >/dev/null
	fi
	$bin/bench-drpc "$corpus" "$bin/sluice" $redis_port > "$work/drpc.md" 2>/dev/null
	printf '\r%80s\r' '' >&2
fi

transport_table=
if [ -x $bin/bench-transport ]; then
	progress "transport micro-benchmark"
	transport_table=$($bin/bench-transport $([ "$quick" = 1 ] && echo --quick) 2>/dev/null)
	printf '\r%80s\r' '' >&2
fi
printf '%s\n' "$transport_table" > "$work/transport.md"

python3 bench/report.py "$work" "$out" "$words" "$rounds" "$quick" "$docs" "$args"
