#!/usr/bin/env bash
# run-all.sh BUILDDIR - runs the CUnit suite of one build variant and prints
# the final `N passed, N failed` line; exits non-zero on any failure.
set -uo pipefail
dir=${1:-build}
shift || true
# every public function is called by some test
bash "$(dirname "$0")/api-coverage.sh" || exit 1
# every include follows the layering (layers.conf), and the build of this
# variant enforces it; prints the include graph
python3 "$(dirname "$0")/layering.py" "$dir" || exit 1
# no function over 120 lines (issue 18); lists any that is
python3 "$(dirname "$0")/func-lengths.py" || exit 1
timeout "${SLUICE_TEST_TIMEOUT:-1200}" "$dir/bin/sluice-tests" "$@"
rc=$?
[ $rc -eq 124 ] && echo "sluice-tests: timed out after ${SLUICE_TEST_TIMEOUT:-1200}s" >&2
exit $rc
