#!/usr/bin/env bash
# soak-difftest.sh [MINUTES] - the differential tester (docs/testing.md)
# for MINUTES (default 10): random Trident topologies and plain chains with
# faults, figures every 10 s; non-zero on any mismatch. Run by ./run soak.
# SLUICE_SOAK_JOBS=N (default: the number of cores) runs N testers side by
# side on disjoint seed ranges (job i starts at seed i*100,000,000+1;
# SLUICE_SOAK_SEED=S moves the base) and adds their figures up at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
jobs=${SLUICE_SOAK_JOBS:-$(nproc)}
base=${SLUICE_SOAK_SEED:-0}
logs=$(mktemp -d /tmp/soak-difftest.XXXXXX)
echo "soak-difftest: $jobs jobs for $minutes min; progress in $logs/job*.log"
pids=()
for i in $(seq 0 $((jobs - 1))); do
	seed=$((base + i * 100000000 + 1))
	build/bin/sluice-difftest --seed "$seed" --minutes "$minutes" \
		>"$logs/job$i.log" 2>&1 &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
# mismatches (with their reproduction commands) from every job
grep -h -E "MISMATCH|reproduce:" "$logs"/job*.log | head -50
python3 - "$logs" "$jobs" "$minutes" <<'PY'
import glob, re, sys
keys = ["topologies", "batches", "faults", "crash runs", "SIGKILLs",
        "mismatches", "plain runs", "tuples", "plain mismatches"]
tot = dict.fromkeys(keys, 0)
seen = 0
for f in sorted(glob.glob(sys.argv[1] + "/job*.log")):
    done = [l for l in open(f, errors="replace") if "done:" in l]
    if not done:
        print("soak-difftest: %s ended without its figures" % f)
        tot["mismatches"] += 1
        continue
    seen += 1
    m = re.search(r"done: (\d+) topologies, (\d+) batches, (\d+) faults, "
                  r"(\d+) crash runs, (\d+) SIGKILLs, (\d+) mismatches; "
                  r"plain (\d+) runs, (\d+) tuples, (\d+) mismatches",
                  done[-1])
    if not m:
        print("soak-difftest: unreadable figures in %s" % f)
        tot["mismatches"] += 1
        continue
    for k, v in zip(keys, m.groups()):
        tot[k] += int(v)
print("soak-difftest: %d jobs x %s min: %d topologies, %d batches, %d faults, "
      "%d crash runs, %d SIGKILLs, %d mismatches; plain %d runs, %d tuples, "
      "%d mismatches" % ((seen, sys.argv[3]) + tuple(tot[k] for k in keys)))
sys.exit(1 if tot["mismatches"] or tot["plain mismatches"] else 0)
PY
[ $? -eq 0 ] || rc=1
if [ $rc -eq 0 ]; then rm -rf "$logs"; else echo "soak-difftest: logs kept in $logs"; fi
exit $rc
