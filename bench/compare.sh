#!/usr/bin/env bash
# compare.sh - `./run bench-compare [--rev REV] [--words N] [--rounds R]
#               [--callgrind]`: throughput of the word count built from
# REV (default: the session's base, or HEAD~1) against this tree, rows
# interleaved old/new/old/new... in one run on one generated corpus, so
# that a busy shared machine slows both alike. Prints one markdown table:
# the median words/s of each version and the ratio new/old per row. With
# --callgrind, also the instruction counts (valgrind --tool=callgrind,
# repeatable on a noisy machine) of 50,000-word runs of each version:
# trident-memory, plain-at-least-once, trident-leveldb. Exits non-zero
# when a run failed or counted differently from the other version.
set -uo pipefail
cd "$(dirname "$0")/.."
rev=HEAD~1 words=2000000 rounds=5 cg=0
while [ $# -gt 0 ]; do
	case "$1" in
	--rev) rev=$2; shift ;;
	--words) words=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--callgrind) cg=1 ;;
	-h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-compare: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
work=$(mktemp -d /tmp/sluice-compare.XXXXXX)
trap 'git worktree remove --force "$work/old" >/dev/null 2>&1; rm -rf "$work"' EXIT
git worktree add --detach "$work/old" "$rev" >/dev/null 2>&1 ||
	{ echo "bench-compare: cannot check out $rev" >&2; exit 2; }
echo "bench-compare: building $rev" >&2
(cd "$work/old" && scons -Q -j2 build/bin/sluice >"$work/old-build.log" 2>&1) ||
	{ tail -20 "$work/old-build.log" >&2; exit 1; }
old=$work/old/build/bin/sluice new=build/bin/sluice
build/bin/bench-gencorpus "$words" 100000 1 >"$work/corpus.txt"

rows=(plain-at-most-once plain-at-least-once trident-memory trident-leveldb)
cmd_of() { # ROW BIN DIR
	case $1 in
	plain-at-most-once) echo "$2 wordcount --mode plain --acking off" ;;
	plain-at-least-once) echo "$2 wordcount --mode plain --acking on" ;;
	trident-memory) echo "$2 wordcount --memory" ;;
	trident-leveldb) echo "$2 wordcount --state $3/state --no-sync" ;;
	esac
}
: >"$work/runs"
bad=0
for r in $(seq "$rounds"); do
	for row in "${rows[@]}"; do
		for v in old new; do
			bin=$old; [ $v = new ] && bin=$new
			d=$work/$v.$row.$r; mkdir -p "$d"
			[ -t 2 ] && printf '\rbench-compare: round %d/%d %-22s %s ' "$r" "$rounds" "$row" "$v" >&2
			# shellcheck disable=SC2046
			if ! /usr/bin/time -f '%U %S' -o "$d/time" $(cmd_of $row "$bin" "$d") --input "$work/corpus.txt" \
				--stats "$d/stats.json" --dump "$d/counts" --quiet \
				>/dev/null 2>"$d/err"; then
				echo "bench-compare: $v $row failed: $(tail -1 "$d/err")" >&2
				bad=1; continue
			fi
			LC_ALL=C sort "$d/counts" >"$d/sorted"
			s=$(python3 -c "import json; print(json.load(open('$d/stats.json'))['elapsed_s'])")
			c=$(awk '{print $1 + $2}' "$d/time")
			echo "$row $v $s $c" >>"$work/runs"
			rm -rf "$d/state"
		done
		cmp -s "$work/old.$row.$r/sorted" "$work/new.$row.$r/sorted" ||
			{ echo "bench-compare: $row counts differ between $rev and this tree" >&2; bad=1; }
	done
done
[ -t 2 ] && printf '\r%80s\r' '' >&2
echo "Old: \`$(git rev-parse --short "$rev")\`, new: this tree ($(git rev-parse --short HEAD)$(git diff --quiet || echo ', modified')); $words words, $rounds interleaved rounds, median words/s (and median CPU seconds, user+sys)."
echo
python3 - "$work/runs" "$words" <<'PY'
import sys, statistics
runs, words = sys.argv[1], int(sys.argv[2])
t = {}
for line in open(runs):
    row, v, s, c = line.split()
    t.setdefault(row, {}).setdefault(v, []).append(float(s))
    t[row].setdefault(v + "cpu", []).append(float(c))
print("| row | old words/s | new words/s | new/old | range of per-round new/old | CPU s new/old |")
print("|---|---:|---:|---:|---:|---:|")
for row, d in t.items():
    if "old" not in d or "new" not in d:
        continue
    o, n = statistics.median(d["old"]), statistics.median(d["new"])
    per = [a / b for a, b in zip(d["old"], d["new"])]  # new speed / old speed
    cpu = statistics.median(d["newcpu"]) / statistics.median(d["oldcpu"])
    print(f"| {row} | {words/o:,.0f} | {words/n:,.0f} | {o/n:.3f} | {min(per):.2f}-{max(per):.2f} | {cpu:.3f} |")
PY
if [ "$cg" = 1 ]; then
	build/bin/bench-gencorpus 50000 5000 3 >"$work/small.txt"
	echo
	echo "| callgrind, 50,000 words | old instructions | new instructions | new/old |"
	echo "|---|---:|---:|---:|"
	for row in trident-memory plain-at-least-once trident-leveldb; do
		for v in old new; do
			bin=$old; [ $v = new ] && bin=$new
			# a fresh state directory per run (trident-leveldb)
			rm -rf "$work/cg-$v"; mkdir -p "$work/cg-$v"
			# shellcheck disable=SC2046
			valgrind --tool=callgrind --callgrind-out-file="$work/cg.$v" \
				$(cmd_of $row "$bin" "$work/cg-$v") --input "$work/small.txt" --quiet \
				>/dev/null 2>"$work/cg.$v.err" || bad=1
			eval "ir_$v=$(grep -m1 '^summary:' "$work/cg.$v" | awk '{print $2}')"
		done
		python3 -c "print(f'| $row | {$ir_old:,} | {$ir_new:,} | {$ir_new/$ir_old:.4f} |')"
	done
fi
exit $bad
