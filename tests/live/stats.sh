# stats.sh - a running job answers `sluice stats` over its DRPC endpoint
# and serves the same figures on /metrics (Prometheus text that promtool
# accepts) and /stats.json, replays by reason and the stages' busy time
# among them (the busy time moves); `sluice stats` fails fast when
# nothing listens; SIGTERM ends the job with status 0.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
D=$(free_port); M=$(free_port)
mkfifo in
# input for at most 15 s; the feeder is stopped once the checks are done
( for i in $(seq 1 300); do echo "w$((i % 7)) x y"; sleep 0.05; done ) > in &
feeder=$!
# the first attempt of txid 3 fails its state write on purpose (the test
# fault hook, core/fault.h): it
# must show as one replay under "failed"
SLUICE_FAULT='state@3/1*1' \
timeout 100 "$SLUICE" run "$TOPO/wordcount.so" --state st --batch-ms 20 \
	--drpc "tcp://127.0.0.1:$D" --metrics "127.0.0.1:$M" -- - < in 2>job.err &
job=$!
trap 'kill $feeder $job 2>/dev/null' EXIT
ep=tcp://127.0.0.1:$D
txid() { "$SLUICE" stats --endpoint "$ep" --json > s.json && jget s.json committed_txid; }
# txid 3 (failed once on purpose) is committed from txid 4 on
committed() { [ "$(txid 2>/dev/null || echo 0)" -ge 4 ]; }
wait_for 10 committed || { cat job.err; fail "stats never showed a commit"; }
t1=$(txid)
"$SLUICE" stats --endpoint "$ep" > info.txt || fail "sluice stats"
for k in uptime_s committed_txid batches_per_s_1s tuples_per_s_1m replays \
	batch_p99_ms commit_max_ms stage0:name=lines batches_in_flight \
	cache_hit_rate disk_bytes requests: words_per_s_1s replays_timeout: \
	replays_failed: replays_commit: replays_behind: busy_s= busy_1s=; do
	grep -q "$k" info.txt || { cat info.txt; fail "sluice stats shows no $k"; }
done
[ "$(jget s.json stages.1.name)" = persistent_aggregate ] || fail "stages"
busy1=$(jget s.json stages.1.busy_s)
# by now txid 3 failed once and was replayed: one "failed", no timeout or
# commit replay, the reason named
"$SLUICE" stats --endpoint "$ep" --json > r.json
python3 - r.json <<'PY' || { cat r.json; fail "replays by reason"; }
import json, sys
j = json.load(open(sys.argv[1]))
r = j["replays_by_reason"]
assert sorted(r) == ["behind", "commit", "failed", "timeout"], r
assert r["failed"] == 1 and r["timeout"] == 0 and r["commit"] == 0, r
assert sum(r.values()) == j["replays"], (r, j["replays"])
assert "injected failure after the state write" in j["last_replay_reason"]
PY
[ "$(jget s.json progress.unit)" = words ] || fail "progress unit"
curl -sf "http://127.0.0.1:$M/metrics" > metrics.txt || fail "GET /metrics"
grep -q '^sluice_committed_txid{topology="wordcount"} [0-9]' metrics.txt \
	|| { cat metrics.txt; fail "no committed txid series"; }
grep -q '^sluice_replays_total{topology="wordcount",reason="failed"} 1$' metrics.txt \
	|| { grep replays metrics.txt; fail "metrics: the failure not under failed"; }
for r in timeout failed commit behind; do
	grep -q "^sluice_replays_total{topology=\"wordcount\",reason=\"$r\"} [0-9]" metrics.txt \
		|| { cat metrics.txt; fail "no replays series for $r"; }
done
grep -q '^sluice_stage_busy_seconds_total{topology="wordcount",stage="1",name="persistent_aggregate"} [0-9]' \
	metrics.txt || fail "no busy series"
promtool check metrics < metrics.txt > lint.txt 2>&1 \
	|| { cat lint.txt; fail "promtool check metrics"; }
curl -sf "http://127.0.0.1:$M/stats.json" > http.json || fail "GET /stats.json"
[ "$(jget http.json topology)" = wordcount ] || fail "stats.json"
curl -sf "http://127.0.0.1:$M/history.json" > hist.json || fail "GET /history.json"
curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$M/nope" | grep -q 404 || fail "404"
sleep 1.2
[ "$(txid)" -gt "$t1" ] || fail "committed txid does not move"
busy2=$(jget s.json stages.1.busy_s)
python3 -c "import sys; sys.exit(0 if $busy2 > $busy1 else 1)" \
	|| fail "busy time does not move ($busy1 -> $busy2)"
"$SLUICE" drpc --endpoint "$ep" words x > drpc.out || fail "drpc words"
kill $feeder; wait $feeder 2>/dev/null
kill -TERM $job; wait $job; rc=$?
[ $rc -eq 0 ] || { cat job.err; fail "SIGTERM: exit $rc"; }
# nothing listens now: a clear message at once, not a timeout
start=$(date +%s%N)
"$SLUICE" stats --endpoint "$ep" 2>err; rc=$?
[ $rc -eq 2 ] && grep -qF "nothing is listening at $ep" err || { cat err; fail "stats, nothing listening"; }
"$SLUICE" drpc --endpoint "$ep" words x 2>err; rc=$?
[ $rc -eq 2 ] && grep -qF "nothing is listening at $ep" err || { cat err; fail "drpc, nothing listening"; }
[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 2000 ] || fail "not fast"
# metrics off loopback need a cluster key
timeout 10 "$SLUICE" run "$TOPO/topology_template.so" --metrics 0.0.0.0:$M 2>err
grep -q "not a loopback address" err || { cat err; fail "off loopback without a key"; }
echo ok
