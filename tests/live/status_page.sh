# status_page.sh - the status page, loaded in headless Chromium, shows
# the job's numbers (committed txid, stage names and rates) after its
# scripts fetched /stats.json. SHOT=FILE also saves a screenshot.
. "$(dirname "$0")/lib.sh"
command -v chromium >/dev/null || fail "chromium is not installed (./run installs it)"
cd "$T" || exit 1
M=$(free_port)
mkfifo in
( for i in $(seq 1 200); do echo "w$((i % 9)) v$((i % 4))"; sleep 0.05; done ) > in &
feeder=$!
timeout 200 "$SLUICE" run "$TOPO/wordcount.so" --memory --batch-ms 20 \
	--metrics "127.0.0.1:$M" --quiet -- - < in 2>job.err &
job=$!
trap 'kill $feeder $job 2>/dev/null' EXIT
wait_for 10 curl -sf "http://127.0.0.1:$M/stats.json" || fail "no endpoint"
sleep 2.5 # a few samples for the charts
chrome() {
	timeout 150 chromium --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --disable-dev-shm-usage \
		--user-data-dir="$(mktemp -d "$T/chrome.XXXX")" "$@" 2>>chrome.err
}
chrome --virtual-time-budget=3000 --dump-dom "http://127.0.0.1:$M/" > dom.html \
	|| { tail chrome.err; fail "chromium"; }
curl -sf "http://127.0.0.1:$M/stats.json" > after.json
python3 - dom.html after.json <<'P' || fail "the page does not show the job's numbers"
import json, re, sys
dom = open(sys.argv[1]).read()
after = json.load(open(sys.argv[2]))
def text(i):
    m = re.search(r'id="%s"[^>]*>([^<]*)<' % i, dom)
    return m.group(1) if m else None
txid = text("txid")
assert txid and txid.isdigit(), "txid %r" % txid
assert 1 <= int(txid) <= after["committed_txid"], (txid, after["committed_txid"])
assert text("topology") == "wordcount", text("topology")
assert 'id="stage-0"' in dom and 'id="stage-1"' in dom, "stage graph"
assert "lines" in dom and "persistent_aggregate" in dom, "stage names"
assert re.search(r'class="in">in [0-9.kM]+/s', dom), "stage rates"
assert "words so far" in dom, "progress unit"
print("page shows txid", txid, "of", after["committed_txid"])
P
if [ -n "${SHOT:-}" ]; then
	chrome --virtual-time-budget=3000 --window-size=1000,900 \
		--screenshot="$SHOT" "http://127.0.0.1:$M/" >/dev/null || fail "screenshot"
fi
echo ok
