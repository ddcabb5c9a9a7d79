#!/usr/bin/env bash
# run.sh SECONDS - runs every fuzz target in build/fuzz for SECONDS seconds
# each, on a copy of its seed corpus (tests/fuzz/corpus/<name>); exits
# non-zero on a finding (crash input left in build/fuzz/findings/).
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
status=0
mkdir -p build/fuzz/findings
for bin in build/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin"); name=${name#fuzz_}
	work=$(mktemp -d)
	cp -r "tests/fuzz/corpus/$name/." "$work/" 2>/dev/null || true
	echo "fuzz: $name for ${secs}s" >&2
	if ! "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 \
		-artifact_prefix=build/fuzz/findings/"$name"- -print_final_stats=1 \
		"$work" 2> "build/fuzz/$name.log"; then
		echo "fuzz: $name FOUND A PROBLEM (see build/fuzz/$name.log)" >&2
		tail -30 "build/fuzz/$name.log" >&2
		status=1
	else
		grep -E 'stat::number_of_executed_units' "build/fuzz/$name.log" |
			sed "s/^/fuzz: $name: /" >&2
	fi
	rm -rf "$work"
done
exit $status
