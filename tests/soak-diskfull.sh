#!/usr/bin/env bash
# soak-diskfull.sh [MINUTES] - disk full at every point of a commit, the
# long version (tests/diskfull.py with the LD_PRELOAD shim
# build/lib/sluice-enospc.so): every call of a resumed word count that
# needs space or makes data durable fails in turn, the disk staying full
# and then with only that call failing, at parallelism 1 and 2, and over
# a run large enough that LevelDB flushes its memtable to a table (and
# compacts) while it runs. Rule each time: a non-zero exit naming the
# full disk (or exit 0 with exact counts), committed state intact, an
# exact rerun. Run by `./run soak [MINUTES]` (default 10).
set -uo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
share=$(python3 -c "print(max(0.2, $minutes / 5))")
tmp=/dev/shm
[ -w "$tmp" ] || tmp=${TMPDIR:-/tmp}
status=0
df() {
	echo "soak-diskfull: $*" >&2
	TMPDIR=$tmp nice -n 10 python3 tests/diskfull.py --minutes "$share" "$@" \
		|| status=1
}
df
df --once
df --parallelism 2
df --parallelism 2 --once --seed 2
# 64,000 words of 100,000 distinct in run B: a memtable flush mid-run
# (about 830 calls, most of them the table's writes: every 8th tried)
df --lines 8000 --batch 2000 --vocab 100000 --seed 3 --every 8
exit $status
