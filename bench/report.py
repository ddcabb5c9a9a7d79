#!/usr/bin/env python3
"""report.py WORK OUT WORDS ROUNDS QUICK DOCS ARGS - turns the benchmark's
raw results into a table (medians, ratios to the baseline of the same run),
gnuplot plots and docs/benchmarks.md; exits 1 when a row produced no
number or counted differently from the baseline."""
import json, os, statistics, subprocess, sys, datetime, platform

work, out, words, rounds, quick, docs, args = sys.argv[1:8]
words, rounds, quick, docs = int(words), int(rounds), quick == "1", docs == "1"
rows = ["baseline", "unix", "redis", "plain-at-most-once", "plain-at-least-once",
        "trident-memory", "trident-leveldb", "trident-leveldb-sync"]
what = {
    "baseline": "single-threaded C word count, hash map, no framework (COST)",
    "unix": "awk word count + sort",
    "redis": "pipelined HINCRBY into redis-server, AOF everysec",
    "plain-at-most-once": "sluice plain mode, acking off",
    "plain-at-least-once": "sluice plain mode, XOR acking on",
    "trident-memory": "sluice Trident, memory state, opaque",
    "trident-leveldb": "sluice Trident, LevelDB opaque, sync off",
    "trident-leveldb-sync": "sluice Trident, LevelDB opaque, sync on",
}
res = [json.loads(l) for l in open(os.path.join(work, "results.jsonl")) if l.strip()]
scal_runs = [json.loads(l) for l in open(os.path.join(work, "scaling.jsonl")) if l.strip()]
# several rounds per (row, size, vocabulary): the median time, the
# largest peak RSS
scal, seen = [], {}
for s_ in scal_runs:
    k = (s_["row"], s_["mult"], s_["vocab"])
    if k not in seen:
        seen[k] = dict(s_, times=[], rsss=[])
        scal.append(seen[k])
    seen[k]["times"].append(s_["seconds"])
    seen[k]["rsss"].append(s_["rss_kib"])
for s_ in scal:
    s_["seconds"] = statistics.median(s_.pop("times"))
    s_["rss_kib"] = max(s_.pop("rsss"))
    s_.pop("round", None)

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

summary, problems = {}, []
for r in rows:
    rs = [x for x in res if x["row"] == r]
    if not rs:
        if r == "redis":
            problems.append("redis: no redis-server/redis-cli found")
        else:
            problems.append("%s: no result" % r)
        continue
    bad = [x for x in rs if x["rc"] != 0 or not x["counts_equal"]]
    if bad:
        problems.append("%s: exit %d, counts equal to baseline: %s" % (
            r, bad[0]["rc"], bad[0]["counts_equal"]))
    summary[r] = {k: med([x[k] for x in rs]) for k in
                  ("words_per_s", "p50_ms", "p99_ms", "rss_mib", "cpu_s", "seconds")}
    summary[r]["ok"] = not bad
base = summary.get("baseline", {}).get("words_per_s") or 0

def fmt(v, f="%.1f"):
    return "—" if v is None else f % v

lines = ["| row | what | words/s | ratio to baseline | latency p50 / p99 ms | peak RSS MiB | CPU s | counts = baseline |",
         "|---|---|---:|---:|---:|---:|---:|:---:|"]
for r in rows:
    s = summary.get(r)
    if not s:
        lines.append("| %s | %s | n/a | | | | | |" % (r, what[r]))
        continue
    lat = "—" if s["p50_ms"] is None else "%.1f / %.1f" % (s["p50_ms"], s["p99_ms"])
    lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
        r, what[r], "{:,.0f}".format(s["words_per_s"]),
        fmt(s["words_per_s"] / base if base else None, "%.3f"), lat,
        fmt(s["rss_mib"], "%.0f"), fmt(s["cpu_s"], "%.2f"), "yes" if s["ok"] else "**NO**"))
table = "\n".join(lines)

def ratio(a, b):
    sa, sb = summary.get(a), summary.get(b)
    if not sa or not sb or not sb["words_per_s"]:
        return None
    return sa["words_per_s"] / sb["words_per_s"]

targets = []
def target(name, got, want, ok):
    targets.append("| %s | %s | %s | %s |" % (name, want, "—" if got is None else got,
                                             "—" if got is None else ("met" if ok else "**missed**")))
r = ratio("trident-leveldb", "baseline")
target("trident-leveldb / baseline", None if r is None else "%.1f%%" % (100 * r), "≥ 50%", r is not None and r >= 0.5)
r = ratio("trident-memory", "baseline")
target("trident-memory / baseline", None if r is None else "%.1f%%" % (100 * r), "≥ 70%", r is not None and r >= 0.7)
r = ratio("plain-at-least-once", "plain-at-most-once")
target("plain at-least-once / at-most-once", None if r is None else "%.1f%%" % (100 * r), "≥ 90%", r is not None and r >= 0.9)
r = ratio("plain-at-most-once", "baseline")
target("plain at-most-once / baseline", None if r is None else "%.1f%%" % (100 * r), "≥ 60%", r is not None and r >= 0.6)
r = ratio("trident-leveldb", "redis")
target("trident-leveldb / redis", None if r is None else "%.1fx" % r, "≥ 5x", r is not None and r >= 5)
p99 = summary.get("trident-leveldb", {}).get("p99_ms")
target("trident-leveldb batch latency p99", None if p99 is None else "%.1f ms" % p99, "≤ 50 ms", p99 is not None and p99 <= 50)

scal_lines = []
if scal:
    scal_lines = ["| row | input | vocabulary | words | words/s | ratio to 1x | peak RSS MiB |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
    one = {s["row"]: s["words"] / s["seconds"] for s in scal if s["mult"] == 1 and s["vocab"] == 100000}
    for s in scal:
        wps = s["words"] / s["seconds"] if s["seconds"] else 0
        scal_lines.append("| %s | %dx | %d | %d | %s | %.2f | %.0f |" % (
            s["row"], s["mult"], s["vocab"], s["words"], "{:,.0f}".format(wps),
            wps / one[s["row"]] if one.get(s["row"]) else 0, s["rss_kib"] / 1024))
    t16 = [s for s in scal if s["row"] == "trident-leveldb" and s["mult"] == 16]
    if t16 and one.get("trident-leveldb"):
        r = (t16[0]["words"] / t16[0]["seconds"]) / one["trident-leveldb"]
        target("trident-leveldb words/s at 16x vs 1x", "%.0f%%" % (100 * r) + (" (faster at 16x)" if r > 1.2 else ""),
               "within 20%", abs(1 - r) <= 0.2)

# peak RSS on 100M words / 1M distinct comes from `./run bench-big`
# (docs/benchmarks-big.md), a separate, longer run
if os.path.exists("docs/benchmarks-big.md"):
    import re
    big = open("docs/benchmarks-big.md").read()
    m = re.search(r"([\d,]+) words over .*?\n\| trident-leveldb \|(?:[^|]*\|){3} *(\d+) *\|", big, re.S)
    if m:
        mib = int(m.group(2))
        target("trident-leveldb peak RSS, %s words, 1M distinct (bench-big)" % m.group(1),
               "%d MiB" % mib, "< 200 MiB", mib < 200)

json.dump({"summary": summary, "scaling": scal, "problems": problems},
          open(os.path.join(out, "results.json"), "w"), indent=1)

# plots
def gp(script):
    try:
        subprocess.run(["gnuplot"], input=script.encode(), check=True, capture_output=True)
        return True
    except Exception as e:
        print("bench: gnuplot failed: %s" % e, file=sys.stderr)
        return False

have = [r for r in rows if r in summary]
dat = os.path.join(work, "rows.dat")
with open(dat, "w") as f:
    for i, r in enumerate(have):
        s = summary[r]
        f.write('%d "%s" %f %f %f\n' % (i, r, s["words_per_s"] / 1e6, s["p50_ms"] or 0, s["p99_ms"] or 0))
plots = []
common = 'set terminal pngcairo size 900,480 font ",10"\nset style fill solid 0.8\nset boxwidth 0.6\nset grid ytics\nset xtics rotate by -25\n'
if gp(common + 'set output "%s"\nset title "Word count throughput (%d words, median of %d)"\nset ylabel "million words/s"\nplot "%s" using 1:3:xtic(2) with boxes notitle lc rgb "#3070b0"\n' % (
        os.path.join(out, "throughput.png"), words, rounds, dat)):
    plots.append("throughput.png")
if gp(common + 'set output "%s"\nset title "Batch (Trident) or tuple-tree (plain) latency"\nset ylabel "ms"\nset style data histograms\nset style histogram clustered\nplot "%s" using 4:xtic(2) title "p50", "" using 5 title "p99"\n' % (
        os.path.join(out, "latency.png"), dat)):
    plots.append("latency.png")
if scal:
    sd = os.path.join(work, "scaling.dat")
    with open(sd, "w") as f:
        for row in ("baseline", "trident-leveldb"):
            for s in scal:
                if s["row"] == row and s["vocab"] == 100000:
                    f.write("%d %f\n" % (s["words"], s["words"] / s["seconds"] / 1e6))
            f.write("\n\n")
    if gp('set terminal pngcairo size 900,480 font ",10"\nset output "%s"\nset title "Scaling with input size (vocabulary 100 000)"\nset logscale x\nset xlabel "words"\nset ylabel "million words/s"\nset grid\nplot "%s" index 0 with linespoints title "baseline", "" index 1 with linespoints title "trident-leveldb"\n' % (
            os.path.join(out, "scaling.png"), sd)):
        plots.append("scaling.png")

cpu = "unknown"
try:
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            cpu = l.split(":", 1)[1].strip()
            break
except Exception:
    pass
transport = open(os.path.join(work, "transport.md")).read().strip()
drpc = ""
try:
    drpc = open(os.path.join(work, "drpc.md")).read().strip()
except Exception:
    pass
if drpc:
    print(drpc)
print(table)
if problems:
    print("\nproblems:\n  " + "\n  ".join(problems), file=sys.stderr)

# The report goes to OUT/benchmarks.md (plots beside it); docs/ only with
# --update-docs (docs == 1), never for --quick.
for img, dest in (("", os.path.join(out, "benchmarks.md")),) + (
        (("img/", "docs/benchmarks.md"),) if docs and not quick else ()):
    if dest.startswith("docs/"):
        os.makedirs("docs/img", exist_ok=True)
        for p in plots:
            subprocess.run(["cp", os.path.join(out, p), os.path.join("docs/img", p)])
    md = ["# Benchmarks", "",
          "Measured by `./run bench %s` on %s: %d cores (%s), %s. Every row counts the same generated corpus "
          "(%d words, Zipf(1) over a 100 000-word vocabulary, lines of 4–16 words, seeded); rows run interleaved, "
          "%d rounds, median reported. Ratios are against the baseline measured in the same run: these machines "
          "are shared and noisy, so only ratios mean anything." % (
              args, datetime.date.today().isoformat(), os.cpu_count(), cpu, platform.platform(), words, rounds),
          "", "Words/s is words of input divided by the row's own processing time (for sluice rows the "
          "topology's run time from its statistics; for the baseline its counting loop; for awk and redis the "
          "whole command). Peak RSS and CPU seconds come from `/usr/bin/time`. Latency: Trident rows report the "
          "batch latency (first emit to commit); plain at-least-once the tuple-tree latency (emit to ack).",
          "", "## Word count", "", table, "", "## Targets", "",
          "| target | wanted | measured | |", "|---|---|---|---|"] + targets
    if scal_lines:
        md += ["", "## Scaling", "", "Baseline and trident-leveldb on 1x, 4x and 16x the input (1x = %d words), "
               "and 4x with a vocabulary of 1 000 000 words; %d runs each, median time, largest peak RSS. "
               "The 1x run is short (about a second), so start-up and the first LevelDB compactions weigh more "
               "there than at 16x." % (words // 4, rounds), ""] + scal_lines
    if plots:
        md += ["", "## Plots", ""] + ["![%s](%s%s)" % (p, img, p) for p in plots]
    if drpc:
        md += ["", "## DRPC latency", "", "`bench-drpc`: `words` queries over one persistent REQ socket while "
               "`sluice wordcount --drpc` ingests the corpus at full speed (LevelDB, sync off; 3 ingestions, "
               "4 000 queries of each kind during each, samples pooled), and "
               "Redis HGET over one TCP connection to the same redis-server, in the same run: "
               "once interleaved with the DRPC queries (the same two busy cores) and once on the idle "
               "machine after the ingestion. The target compares like with like (both under load); "
               "on a saturated 2-core machine both tails are set by the scheduler.", "", drpc]
    if transport:
        md += ["", "## Transport", "", "`bench-transport`: word-count-like tuples (a short word and an int) "
               "from one thread to another; the first row of each link is the raw nanomsg rate with one tuple "
               "per message.", "", transport]
    for extra in ("docs/benchmarks-big.md", "docs/benchmarks-notes.md"):
        if os.path.exists(extra):
            md += ["", open(extra).read().strip()]
    open(dest, "w").write("\n".join(md) + "\n")
    print("bench: wrote %s%s" % (dest, " and docs/img/*.png" if img else ""), file=sys.stderr)
sys.exit(1 if problems else 0)
