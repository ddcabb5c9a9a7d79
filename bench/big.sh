#!/usr/bin/env bash
# big.sh - `./run bench-big [--out DIR] [--update-docs] [WORDS] [VOCAB]`:
# peak memory on a big input (default 100M words over a 1M-word Zipf
# vocabulary, issue target: peak RSS under 200 MiB for trident-leveldb).
# Runs the baseline, trident-leveldb (sync off) and trident-memory once
# each on the same generated corpus, checks that every row's counts equal
# the baseline's, and writes the table to OUT/benchmarks-big.md (OUT:
# bench/out); with --update-docs also to docs/benchmarks-big.md, spliced
# into docs/benchmarks.md. Needs about 8 bytes of disk per word in TMPDIR.
# Exits non-zero when a row failed or counted differently.
set -uo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
caller=$PWD
cd "$(dirname "$0")/.."
out=bench/out docs=0
pos=()
while [ $# -gt 0 ]; do
	case "$1" in
	--out) [ $# -ge 2 ] && [ -n "$2" ] || { echo "bench-big: --out needs a value" >&2; exit 2; }
		out=$2; shift ;;
	--out=*) out=${1#*=} ;;
	--update-docs) docs=1 ;;
	-h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$self"; exit 0 ;;
	--) shift; pos+=("$@"); break ;;
	-*) echo "bench-big: unknown option $1 (see ./run bench-big --help)" >&2; exit 2 ;;
	*) pos+=("$1") ;;
	esac
	shift
done
[ ${#pos[@]} -le 2 ] || { echo "bench-big: unexpected argument '${pos[2]}' (WORDS VOCAB)" >&2; exit 2; }
words=${pos[0]:-100000000} vocab=${pos[1]:-1000000}
case "$words$vocab" in *[!0-9]*) echo "bench-big: WORDS and VOCAB are numbers" >&2; exit 2 ;; esac
case $out in /*) ;; *) out=$caller/$out ;; esac # relative to the caller
mkdir -p "$out"
bin=build/bin
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-big.XXXXXX")
trap 'rm -rf "$work"' EXIT
say() { echo "bench-big: $*" >&2; }

say "generating $words words over a $vocab-word vocabulary"
$bin/bench-gencorpus "$words" "$vocab" 3 > "$work/corpus.txt" || exit 1
say "corpus: $(du -h "$work/corpus.txt" | cut -f1)"
rows=(baseline trident-leveldb trident-memory)
fail=0
: > "$work/rows"
for row in "${rows[@]}"; do
	d=$work/$row
	mkdir -p "$d"
	case $row in
	baseline) cmd=("$bin/bench-baseline_wc" "$work/corpus.txt" --dump "$d/counts.tsv") ;;
	trident-leveldb) cmd=("$bin/sluice" wordcount --state "$d/state" --no-sync --input "$work/corpus.txt" --stats "$d/stats.json" --dump "$d/counts.tsv" --quiet) ;;
	trident-memory) cmd=("$bin/sluice" wordcount --memory --input "$work/corpus.txt" --stats "$d/stats.json" --dump "$d/counts.tsv" --quiet) ;;
	esac
	say "running $row"
	/usr/bin/time -f '%e %M %U %S' -o "$d/time" "${cmd[@]}" >/dev/null 2>"$d/err"
	rc=$?
	same=no
	if [ "$row" = baseline ]; then
		same=yes
	elif cmp -s <(LC_ALL=C sort "$d/counts.tsv") \
		<(LC_ALL=C sort "$work/baseline/counts.tsv"); then
		same=yes
	fi
	[ $rc -eq 0 ] && [ $same = yes ] || { fail=1; say "$row: rc=$rc counts equal: $same"; tail -3 "$d/err" >&2; }
	distinct=$(wc -l < "$d/counts.tsv" 2>/dev/null || echo 0)
	disk=$( [ -d "$d/state" ] && du -sm "$d/state" | cut -f1 || echo "—")
	read -r el rss us sy < "$d/time"
	echo "$row $rc $same $el $rss $us $sy $distinct $disk" >> "$work/rows"
	rm -rf "$d/state"
	[ "$row" = baseline ] || rm -f "$d/counts.tsv"
done
python3 - "$work/rows" "$words" "$vocab" "$out" "$docs" <<'PY'
import sys, datetime, re, os
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
words, vocab = int(sys.argv[2]), int(sys.argv[3])
out, docs = sys.argv[4], sys.argv[5] == "1"
base = next(r for r in rows if r[0] == "baseline")
bw = words / float(base[3])
lines = ["## Peak memory on a big input", "",
       f"`./run bench-big` on {datetime.date.today()}: {words:,} words over a Zipf(1) "
       f"vocabulary of {vocab:,} words ({int(base[7]):,} distinct in the input), one run per row, "
       "peak RSS from `/usr/bin/time`. Target: trident-leveldb peak RSS under 200 MiB.", "",
       "| row | wall s | words/s | ratio to baseline | peak RSS MiB | CPU s | state on disk MiB | counts = baseline |",
       "|---|---:|---:|---:|---:|---:|---:|:---:|"]
for r in rows:
    name, rc, same, el, rss, us, sy, distinct, disk = r
    wps = words / float(el)
    lines.append(f"| {name} | {float(el):.2f} | {wps:,.0f} | {wps / bw:.3f} | {int(rss) / 1024:.0f} | "
               f"{float(us) + float(sy):.1f} | {disk} | {'yes' if same == 'yes' and rc == '0' else '**no**'} |")
lv = next((r for r in rows if r[0] == "trident-leveldb"), None)
if lv:
    m = int(lv[4]) / 1024
    lines += ["", f"trident-leveldb peak RSS {m:.0f} MiB: target (< 200 MiB) {'met' if m < 200 else '**missed**'}. "
            "Words/s here is wall time of the whole command, start-up and final dump included."]
md = "\n".join(lines) + "\n"
open(os.path.join(out, "benchmarks-big.md"), "w").write(md)
if docs:
    open("docs/benchmarks-big.md", "w").write(md)
    doc = open("docs/benchmarks.md").read()
    doc = re.sub(r"## Peak memory on a big input\n.*?(?=\n## |\Z)", "", doc, flags=re.S).rstrip("\n") + "\n"
    if "## Where the time goes" in doc:
        doc = doc.replace("## Where the time goes", md + "\n## Where the time goes", 1)
    else:
        doc += "\n" + md
    open("docs/benchmarks.md", "w").write(doc)
print(md)
print("bench-big: wrote %s%s" % (os.path.join(out, "benchmarks-big.md"),
      " and docs/benchmarks-big.md, docs/benchmarks.md" if docs else ""), file=sys.stderr)
PY
exit $fail
