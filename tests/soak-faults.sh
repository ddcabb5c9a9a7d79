#!/usr/bin/env bash
# soak-faults.sh [MINUTES] - the long versions of issue 15's harnesses:
# random corruptions of real state directories (tests/faults.py, rule:
# exact counts of a committed txid or a non-zero exit with a message,
# never wrong numbers with exit 0) and the network fuzzer against every
# listening socket (SLUICE_NETFUZZ connections), in a private network
# namespace (fixed loopback ports). Run by `./run soak [MINUTES]`.
set -uo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
status=0
echo "soak-faults: corruptions for ${minutes} min" >&2
python3 tests/faults.py --iterations 1000 --minutes "$minutes" \
	--sluice build/bin/sluice || status=1
echo "soak-faults: network fuzzer" >&2
SLUICE_FAULTS=0 SLUICE_NETFUZZ=${SLUICE_NETFUZZ:-20000} \
	unshare -n bash -c 'ip link set lo up && build/bin/sluice-tests -s security' \
	|| status=1
exit $status
