# prometheus.sh - a real Prometheus server (Debian's) scrapes a running
# job's --metrics endpoint; its HTTP API shows the committed-txid series
# moving.
. "$(dirname "$0")/lib.sh"
command -v prometheus >/dev/null || fail "prometheus is not installed (./run installs it)"
cd "$T" || exit 1
M=$(free_port); P=$(free_port)
mkfifo in
( for i in $(seq 1 160); do echo "w$((i % 5))"; sleep 0.05; done ) > in &
feeder=$!
timeout 60 "$SLUICE" run "$TOPO/wordcount.so" --memory --batch-ms 20 \
	--metrics "127.0.0.1:$M" --quiet -- - < in 2>job.err &
job=$!
cat > prom.yml <<Y
global:
  scrape_interval: 500ms
scrape_configs:
  - job_name: sluice
    static_configs:
      - targets: ['127.0.0.1:$M']
Y
timeout 60 prometheus --config.file=prom.yml --storage.tsdb.path="$T/tsdb" \
	--web.listen-address="127.0.0.1:$P" >prom.log 2>&1 &
prom=$!
trap 'kill $feeder $job $prom 2>/dev/null' EXIT
q() { curl -sf "http://127.0.0.1:$P/api/v1/query" --data-urlencode "query=$1"; }
val() { q "$1" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'; }
moved() { v=$(val 'max_over_time(sluice_committed_txid[1m]) - min_over_time(sluice_committed_txid[1m])'); [ -n "$v" ] && python3 -c "import sys; sys.exit(0 if float('$v') >= 2 else 1)"; }
wait_for 15 moved || { tail -5 prom.log; q 'sluice_committed_txid'; fail "the series did not move"; }
up=$(val 'max_over_time(up{job="sluice"}[1m])')
[ "$up" = 1 ] || fail "target not up ($up)"
echo "committed txid moved by $(val 'max_over_time(sluice_committed_txid[1m]) - min_over_time(sluice_committed_txid[1m])')"
echo ok
