# lib.sh - shared by the live-view tests (sourced): SLUICE is the sluice
# command under test, T a fresh temporary directory, ROOT the source tree.
set -uo pipefail
SLUICE=${1:?sluice binary}
T=${2:?tmp dir}
ROOT=${3:-$(pwd)}
TOPO=$(dirname "$SLUICE")/../topologies
fail() { echo "FAIL: $*" >&2; exit 1; }
# wait_for SECONDS COMMAND...: retries COMMAND every 0.1 s
wait_for() {
	local n=$(( $1 * 10 )); shift
	for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
# A free loopback port (tests also run in a private network namespace).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# JSON field by path: jget FILE a.b.0.c
jget() {
	python3 -c 'import json,sys
v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v=v[int(k)] if isinstance(v,list) else v[k]
print(v)' "$1" "$2"
}
