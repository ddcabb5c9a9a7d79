#!/usr/bin/env bash
# api-coverage.sh - lists every function declared in the public headers
# (include/sluice.h and include/sluice/*.h) that no test calls (tests/*.c,
# tests/*/*.c); fails when the list is not empty. Run by tests/run-all.sh
# before the suite.
set -uo pipefail
cd "$(dirname "$0")/.."
headers=$(ls include/sluice.h include/sluice/*.h 2>/dev/null)
names=$(cat $headers | grep -oE '^(static inline )?(const )?[a-z_0-9]+ \**(sl_[a-z0-9_]+)\(' \
	| grep -oE 'sl_[a-z0-9_]+\($' | tr -d '(' | sort -u)
total=0
missing=()
for f in $names; do
	total=$((total + 1))
	grep -qwE "$f" tests/*.c tests/*/*.c 2>/dev/null && continue
	missing+=("$f")
done
if [ "$total" -eq 0 ]; then
	echo "api-coverage: no public function found in include/" >&2
	exit 1
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "api-coverage: ${#missing[@]} of $total public functions no test calls:" >&2
	printf '  %s\n' "${missing[@]}" >&2
	exit 1
fi
echo "api-coverage: $total public functions, none without a test"
