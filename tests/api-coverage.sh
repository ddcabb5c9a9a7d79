#!/usr/bin/env bash
# api-coverage.sh - lists every function declared in include/sluice.h that
# no test calls (tests/*.c, tests/*/*.c); fails when the list is not empty.
# Run by tests/run-all.sh before the suite. Names in
# tests/api-coverage.pending (tests announced by their authors) are listed
# as PENDING without failing.
set -uo pipefail
cd "$(dirname "$0")/.."
names=$(grep -oE '^(static inline )?(const )?[a-z_0-9]+ \**(sl_[a-z0-9_]+)\(' \
	include/sluice.h | grep -oE 'sl_[a-z0-9_]+\($' | tr -d '(' | sort -u)
pending=$(sed 's/#.*//' tests/api-coverage.pending 2>/dev/null | tr -s ' \t' '\n')
total=0
missing=()
for f in $names; do
	total=$((total + 1))
	grep -qwE "$f" tests/*.c tests/*/*.c 2>/dev/null && continue
	if printf '%s\n' $pending | grep -qx "$f"; then
		echo "api-coverage: PENDING (tests/api-coverage.pending): $f" >&2
		continue
	fi
	missing+=("$f")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "api-coverage: ${#missing[@]} of $total public functions no test calls:" >&2
	printf '  %s\n' "${missing[@]}" >&2
	exit 1
fi
echo "api-coverage: $total public functions, none without a test (pending listed above)"
