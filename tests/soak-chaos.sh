#!/usr/bin/env bash
# soak-chaos.sh [MINUTES] - issue 16's part of the soak: the exhaustive
# model (new rules pass, every old rule gives its counterexample), then
# the chaos harness (crash points, SIGKILLs, restarts with another
# parallelism, a concurrent DRPC reader) on the trace build, with every
# trace replayed through the model. MINUTES defaults to 1 (CI: 0.5).
# Runs the harness in a private network namespace when it can.
set -euo pipefail
cd "$(dirname "$0")/.."
mins=${1:-1}
scons -Q -j2 --trace build/trace/bin/sluice >&2
echo "== model (tests/model/opaque_check.py)"
python3 tests/model/opaque_check.py
for old in remap states pipe txpipe reads textbook; do
	out=$(python3 tests/model/opaque_check.py --old "$old" || true)
	if grep -q '^old ' <<<"$out"; then
		echo "old rule '$old': counterexample found (as it must)"
	else
		echo "old rule '$old': no counterexample" >&2
		exit 1
	fi
done
echo "== chaos (tests/model/chaos.py, ${mins} min)"
secs=$(python3 -c "print(int(float('$mins') * 60))")
cmd="python3 tests/model/chaos.py --seconds $secs --sluice build/trace/bin/sluice"
if unshare -n true 2>/dev/null; then
	unshare -n bash -c "ip link set lo up && $cmd"
else
	$cmd
fi
