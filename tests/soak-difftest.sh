#!/usr/bin/env bash
# soak-difftest.sh [MINUTES] - the differential tester (docs/testing.md)
# for MINUTES (default 10): random Trident topologies and plain chains with
# faults, figures every 10 s; non-zero on any mismatch. Run by ./run soak.
set -uo pipefail
cd "$(dirname "$0")/.."
exec build/bin/sluice-difftest --minutes "${1:-10}"
