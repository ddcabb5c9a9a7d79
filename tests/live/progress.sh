# progress.sh - the progress line: on a terminal it counts words with
# their rate and the committed txid; --quiet silences it; off a terminal
# it never appears. Also the bash completion and man page parse.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
command -v script >/dev/null || fail "script(1) (util-linux) is needed"
cat > feed.sh <<'F'
for i in $(seq 1 30); do echo "alpha beta gamma"; sleep 0.05; done
F
# on a pseudo-terminal (script(1)): the line is drawn on stderr
timeout 30 script -qec "bash feed.sh | '$SLUICE' wordcount --input - --memory --batch-ms 20" \
	/dev/null > tty.out 2>&1 || fail "wordcount on a terminal"
grep -aq 'wordcount: [0-9]* words, [0-9]* words/s, committed txid [0-9]' tty.out \
	|| { cat -A tty.out | head; fail "no progress line on a terminal"; }
timeout 30 script -qec "bash feed.sh | '$SLUICE' run '$TOPO/wordcount.so' --memory --batch-ms 20 -- -" \
	/dev/null > run.out 2>&1 || fail "run on a terminal"
grep -aq 'run: [0-9]* words, [0-9]* words/s, committed txid' run.out \
	|| { cat -A run.out | head; fail "no progress line from run"; }
timeout 30 script -qec "bash feed.sh | '$SLUICE' wordcount --input - --memory --batch-ms 20 --quiet" \
	/dev/null > quiet.out 2>&1 || fail "quiet"
[ ! -s quiet.out ] || { cat -A quiet.out; fail "--quiet prints"; }
# off a terminal: the summary only, no progress line
bash feed.sh | timeout 30 "$SLUICE" wordcount --input - --memory --batch-ms 20 2> pipe.err \
	|| fail "off a terminal"
! grep -q 'words/s, committed txid' pipe.err || { cat pipe.err; fail "progress off a terminal"; }
grep -q '^sluice: wordcount: 90 words' pipe.err || { cat pipe.err; fail "summary"; }
# bash completion and the man page
bash -c ". '$ROOT/etc/sluice.bash'; COMP_WORDS=(sluice st); COMP_CWORD=1; _sluice; echo \${COMPREPLY[*]}" > comp.out
grep -q stats comp.out && grep -q state comp.out || { cat comp.out; fail "completion"; }
if command -v groff >/dev/null || command -v nroff >/dev/null; then
	man -l "$ROOT/etc/sluice.1" > man.out 2>&1 || true
fi
grep -q '^.SH EXIT STATUS' "$ROOT/etc/sluice.1" || fail "man page"
echo ok
