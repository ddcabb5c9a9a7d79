# template.sh - builds examples/topology_template.c exactly as
# docs/guide.md says, against sluice installed in a temporary PREFIX,
# and runs it with the installed `sluice run`.
. "$(dirname "$0")/lib.sh"
P=$T/prefix
# install builds the release variant (build/release: SL_UNTESTABLE)
( cd "$ROOT" && nice scons -Q -j2 install PREFIX="$P" >"$T/install.log" 2>&1 ) \
	|| { cat "$T/install.log"; fail "scons install"; }
test -L "$P/lib/libsluice.so.0" || fail "no libsluice.so.0 link"
test -f "$P/share/man/man1/sluice.1" || fail "no man page installed"
test -f "$P/share/bash-completion/completions/sluice" || fail "no completion"
objdump -p "$P/lib/libsluice.so" | grep -q 'SONAME *libsluice.so.0' \
	|| fail "libsluice.so has no SONAME libsluice.so.0"
# what is installed carries no test hook and no build markers
! nm -D "$P/lib/libsluice.so" | grep -q sli_fault_hit \
	|| fail "the installed library has the fault hook (not SL_UNTESTABLE)"
! grep -rn '@@' "$P/include" || fail "build markers in installed headers"
cd "$T" || exit 1
cp "$ROOT/examples/topology_template.c" topo.c
export PKG_CONFIG_PATH=$P/lib/pkgconfig
# every public header is installed and compiles on its own (C and C++)
for h in sluice.h sluice/core.h sluice/state.h sluice/trident.h \
	sluice/spouts.h sluice/drpc.h sluice/plain.h; do
	test -f "$P/include/$h" || fail "$h not installed"
	for lang in c c++; do
		# shellcheck disable=SC2046
		echo "#include <$h>" | cc -x $lang -fsyntax-only -Wall -Werror \
			$(pkg-config --cflags sluice) - 2>cc.err \
			|| { cat cc.err; fail "$h does not compile alone ($lang)"; }
	done
done
# shellcheck disable=SC2046
cc -shared -fPIC topo.c $(pkg-config --cflags --libs sluice) -o topo.so \
	2>cc.err || { cat cc.err; fail "the template does not build"; }
timeout 30 "$P/bin/sluice" run ./topo.so --state st --stats stats.json \
	>out 2>err || { cat err; fail "sluice run ./topo.so"; }
[ "$(jget stats.json tuples)" = 3 ] || fail "expected 3 lines counted"
"$P/bin/sluice" state dump st | LC_ALL=C sort > dump || fail "state dump"
printf 'brown\t1\ndog\t2\nfox\t1\njumps\t1\nlazy\t1\nover\t1\nquick\t1\nsleeps\t1\nthe\t3\n' \
	| cmp -s - dump || { cat dump; fail "wrong counts"; }
# with a file as the topology's argument; a rerun counts nothing twice
printf 'a b\nb\n' > in.txt
for _ in 1 2; do
	timeout 30 "$P/bin/sluice" run ./topo.so --state st2 --quiet -- in.txt \
		|| fail "run with a file"
done
[ "$("$P/bin/sluice" state get st2 a b)" = "$(printf 'a\t1\nb\t2')" ] \
	|| fail "file counts"
echo ok
