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
# every public function that takes a pointer is called with NULL by
# tests/test_nullargs.c (the rule stated in include/sluice.h); sl_bytes,
# an inline constructor that cannot refuse, is the one exception
nulls=$(python3 - <<'PY'
import glob, re
hs = ["include/sluice.h"] + sorted(glob.glob("include/sluice/*.h"))
src = re.sub(r"/\*.*?\*/", "", "\n".join(open(h).read() for h in hs), flags=re.S)
test = open("tests/test_nullargs.c").read()
miss = set()
pat = r"^(?:static inline )?(?:const )?[a-z_0-9]+ \**(sl_[a-z0-9_]+)\(([^;{]*?)\)\s*[;{]"
for m in re.finditer(pat, src, re.M):
    if "*" in m.group(2) and m.group(1) != "sl_bytes" \
            and not re.search(r"\b%s\b" % m.group(1), test):
        miss.add(m.group(1))
print(" ".join(sorted(miss)))
PY
)
if [ -n "$nulls" ]; then
	echo "api-coverage: public functions taking pointers that tests/test_nullargs.c never calls with NULL: $nulls" >&2
	exit 1
fi
echo "api-coverage: $total public functions, none without a test; every pointer-taking one is called with NULL"
