# run_errors.sh - `sluice run` says clearly what is wrong with a topology
# object: unreadable, not a sluice topology, another ABI, no entry point,
# a topology that fails to build; and bad options.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
inc=$ROOT/include
expect() { # expect STATUS TEXT ARGS...
	local st=$1 text=$2; shift 2
	timeout 20 "$SLUICE" "$@" >out 2>err
	local rc=$?
	[ $rc -eq "$st" ] || { cat err; fail "$* exited $rc, not $st"; }
	grep -qF -- "$text" err || { cat err; fail "$*: no '$text'"; }
}
expect 1 "cannot read it" run ./missing.so
echo 'int x;' > none.c
cc -shared -fPIC none.c -o none.so
expect 1 "not a sluice topology: no sluice_topology_abi symbol" run ./none.so
printf '#include <sluice.h>\nconst unsigned sluice_topology_abi = 99;\nint sluice_topology(sl_app *a, int c, char **v) { (void)a; (void)c; (void)v; return 0; }\n' > abi.c
cc -shared -fPIC -I"$inc" abi.c -o abi.so
expect 1 "built for topology ABI 99, this sluice" run ./abi.so
printf '#include <sluice.h>\nSL_TOPOLOGY_ABI_EXPORT;\n' > noentry.c
cc -shared -fPIC -I"$inc" noentry.c -o noentry.so
expect 1 "no sluice_topology function" run ./noentry.so
cat > bad.c <<'C'
#include <sluice.h>
SL_TOPOLOGY_ABI_EXPORT;
int sluice_topology(sl_app *app, int argc, char **argv)
{
	(void)argc; (void)argv;
	sl_topology *t = sl_app_topology(app, "bad");
	sl_spout *sp;
	sl_spout_sentence_new(&sp, 1, 10);
	sl_stream *s = sl_topology_new_stream(t, "s", sp, "sentence");
	sl_stream_group_by(s, "no_such_field");
	return sl_topology_error(t);
}
C
cc -shared -fPIC -I"$inc" bad.c -o bad.so
expect 1 "the topology failed to build" run ./bad.so
grep -q no_such_field err || { cat err; fail "the error names the field"; }
expect 1 "give at most one input file" run "$TOPO/topology_template.so" -- a b
expect 2 "unexpected argument 'extra' (topology arguments go after --)" \
	run "$TOPO/topology_template.so" extra
expect 2 "unknown option" run "$TOPO/topology_template.so" --bogus
expect 2 "--batch-size: expected a number" run "$TOPO/topology_template.so" --batch-size=lots
expect 2 "give one of --state DIR and --memory" run "$TOPO/topology_template.so" --state x --memory
# R20: a statistics file that cannot be written fails the run
[ -w /dev/full ] && expect 1 "/dev/full: No space left on device" \
	run "$TOPO/topology_template.so" --quiet --stats /dev/full
expect 2 "unknown command; did you mean 'stats'?" stat
expect 2 "unknown command; did you mean 'run'?" rnu
timeout 10 "$SLUICE" run --help > help.txt || fail "run --help exits 0"
grep -q "Exit status" help.txt || fail "run --help on stdout with exit codes"
echo ok
