# idle_conns.sh - red-team R14: idle, half-sent HTTP requests (a
# slowloris) must not lock scrapes out of a job's --metrics endpoint.
# Real sockets: 300 connections that send "GET /met" and stop, then a
# scrape (it must answer; the bound is generous, only so that the test
# cannot hang); the server evicted the oldest idle ones to make room
# (at least 300 - 256 of them see their connection closed); then 600
# more from another loopback address and a scrape again.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
M=$(free_port)
mkfifo in
( for i in $(seq 1 400); do echo "w$((i % 5))"; sleep 0.05; done ) > in &
feeder=$!
timeout 60 "$SLUICE" run "$TOPO/wordcount.so" --memory --batch-ms 20 \
	--metrics "127.0.0.1:$M" --quiet -- - < in 2>job.err &
job=$!
trap 'kill $feeder $job 2>/dev/null' EXIT
wait_for 10 curl -sf "http://127.0.0.1:$M/metrics" || { cat job.err; fail "no metrics endpoint"; }
python3 - "$M" <<'PY' || fail "a scrape was locked out by idle connections"
import resource, select, socket, sys, time, urllib.request
port = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))

def idle(n, src):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /met")  # half a request line, then nothing
        socks.append(s)
    return socks

def scrape():
    body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10).read()
    assert b"sluice_committed_txid" in body, body[:200]

def closed_by_server(socks, wait):
    end, n = time.time() + wait, 0
    left = list(socks)
    while left and time.time() < end:
        r, _, _ = select.select(left, [], [], 0.2)
        for s in r:
            try:
                gone = s.recv(1) == b""
            except OSError:
                gone = True
            if gone:
                n += 1
            left.remove(s)
    return n

a = idle(300, "127.0.0.1")
scrape()
n = closed_by_server(a, 5)
print("300 idle: scrape answered; %d idle connections evicted" % n)
assert n >= 300 - 256, n
b = idle(600, "127.0.0.2")
scrape()
print("600 more idle from 127.0.0.2: scrape answered")
PY
kill -0 $job 2>/dev/null || fail "the job died"
echo ok
