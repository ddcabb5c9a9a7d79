# counters.sh - the counters example (examples/topologies/counters.c) as
# README shows it: run rate-limited with --drpc, it answers queries while
# it ingests (40,000 records at 2,000 a second take at least 20 s; the
# first answer for /page/0 is below the final count, so it came mid-run),
# serves the exact totals once the input ends, stops with
# status 0 on SIGTERM; every record is counted once per state, a rerun
# resumes without counting anything twice, and `top 1` names the state's
# largest count.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
D=$(free_port); ep=tcp://127.0.0.1:$D
N=40000
# q FUNCTION ARGS: the DRPC reply's result (the command prints JSON)
q() { "$SLUICE" drpc --timeout 2000 --endpoint "$ep" "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"])'; }
statuses() { echo $(( $(q status 200) + $(q status 304) + $(q status 404) + $(q status 500) )); }
sum() { "$SLUICE" state dump "st/$1" | awk -F'\t' '{ s += $2 } END { print s }'; }
serve() { # serve ARGS...: a job in the background serving DRPC on ep
	timeout 120 "$SLUICE" run "$TOPO/counters.so" --state st --no-sync \
		--batch-ms 100 --drpc "$ep" --quiet -- "$@" 2>job.err &
	job=$!
}
serve --records $N --rate 2000
trap 'kill $job 2>/dev/null' EXIT
visits() { [ "$(q url /page/0 2>/dev/null | tee mid.out)" -gt 0 ]; }
wait_for 30 visits || { cat job.err; fail "no answer to 'url /page/0'"; }
[ "$(q top 3 | wc -w)" = 3 ] || fail "top 3 gives three urls"
"$SLUICE" drpc --endpoint "$ep" nosuchfn x > bad.out 2>&1 && fail "an unknown DRPC function succeeds"
grep -q "unknown function" bad.out || { cat bad.out; fail "unknown function named"; }
# malformed arguments are error replies naming the function, not answers
bad() { # bad WANT FUNCTION ARGS...: the call fails and its reply says WANT
	local want=$1; shift
	"$SLUICE" drpc --endpoint "$ep" "$@" > bad.out 2>&1 && { cat bad.out; fail "'$*' answered"; }
	grep -q "$want" bad.out || { cat bad.out; fail "'$*' does not say '$want'"; }
}
bad "top: expected an integer from 1 to 64, got 'abc'" top abc
bad "top: expected an integer from 1 to 64, got '-1'" top -1
bad "top: expected an integer" top 99999999999999999999
bad "status: expected an integer from 100 to 599" status 99999999999999999999
bad "url: an argument is needed" url
bad "country: an argument is needed" country
done_all() { [ "$(statuses)" = $N ]; }
wait_for 60 done_all || fail "DRPC never showed all $N records (last: $(statuses))"
final=$(q url /page/0)
[ "$(cat mid.out)" -lt "$final" ] || fail "the first answer ($(cat mid.out)) is the final count ($final): not queried while running"
kill $job; wait $job || fail "SIGTERM ends the job with status 0"
for st in urls statuses; do
	[ "$(sum $st)" = $N ] || fail "$st sums to $(sum $st), not $N"
done
timeout 60 "$SLUICE" run "$TOPO/counters.so" --state st --quiet -- --records $N \
	2>job2.err || { cat job2.err; fail "rerun"; }
[ "$(sum urls)" = $N ] || fail "the rerun counted again: $(sum urls)"
[ "$(sum countries)" -gt 0 ] || fail "countries"
# at rest: top 1 is the state's largest url count
largest=$("$SLUICE" state dump st/urls | cut -f2 | sort -n | tail -1)
serve --records $N
top1() { q top 1 > t1.out 2>/dev/null; }
wait_for 30 top1 || fail "top 1"
[ "$(sed 's/.*=//' t1.out)" = "$largest" ] || { cat t1.out; fail "top 1 is not the largest count ($largest)"; }
kill $job; wait $job
echo ok
