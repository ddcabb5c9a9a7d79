# metrics_auth.sh - the metrics endpoint off loopback with a cluster key
# (red-team T9): the auth scheme is case-insensitive and spaces around
# the token do not matter (RFC 7235); no token and a wrong token are
# both 401, and say which. Needs an address other than loopback: one is
# added to lo in the test's network namespace (skipped where it cannot).
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
A=10.9.9.9
if ! ip addr show dev lo 2>/dev/null | grep -q "$A"; then
	ip addr add "$A/32" dev lo 2>/dev/null || { echo "skipped: cannot add $A to lo"; echo ok; exit 0; }
fi
M=$(free_port); D=$(free_port)
python3 -c 'import os; print(os.urandom(32).hex())' > key.hex; chmod 600 key.hex
timeout 60 "$SLUICE" run "$TOPO/topology_template.so" --memory --quiet \
	--drpc "tcp://127.0.0.1:$D" --metrics "$A:$M" --cluster-key-file key.hex 2>job.err &
job=$!
trap 'kill $job 2>/dev/null' EXIT
TOK=$("$SLUICE" stats --token --cluster-key-file key.hex) || fail "stats --token"
code() { curl -s -o body -w '%{http_code}' "$@" "http://$A:$M/metrics"; }
wait_for 10 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $TOK' http://$A:$M/metrics)\" = 200 ]" \
	|| { cat job.err; fail "no metrics with the token"; }
for h in "Bearer $TOK" "bearer $TOK" "BEARER $TOK" "Bearer  $TOK" "Bearer $TOK  "; do
	[ "$(code -H "Authorization: $h")" = 200 ] || fail "'$h' refused"
	grep -q '^sluice_committed_txid' body || fail "'$h': no metrics"
done
[ "$(code)" = 401 ] && grep -q "bearer token is required" body || fail "no token"
# a wrong token: the last character changed (to 0, or to 1 when it is 0)
last=${TOK: -1}; [ "$last" = 0 ] && other=1 || other=0
[ "$(code -H "Authorization: Bearer ${TOK%?}$other")" = 401 ] && grep -q "wrong bearer token" body \
	|| fail "wrong token"
[ "$(code -H "Authorization: Basic $TOK")" = 401 ] || fail "another scheme"
[ "$(code -H "Authorization: Bearer${TOK}")" = 401 ] || fail "no space after the scheme"
echo ok
