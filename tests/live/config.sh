# config.sh - every run option from a `key = value` file; flags override
# it; unknown keys and bad values are errors naming the line.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
seq 1 10 > in.txt # ten one-word lines: batches are cut in words
cat > job.conf <<'C'
# a comment, then options as the flags spell them
batch-size = 2
max_pending = 2
sync = no
semantics = opaque
quiet = yes
stats = stats.json
C
timeout 30 "$SLUICE" run "$TOPO/wordcount.so" --config job.conf --memory -- in.txt \
	2>err || { cat err; fail "run with a config"; }
[ ! -s err ] || { cat err; fail "quiet = yes from the file"; }
[ "$(jget stats.json batches_committed)" = 5 ] || fail "batch-size = 2 from the file"
timeout 30 "$SLUICE" run "$TOPO/wordcount.so" --config job.conf --memory \
	--batch-size 5 -- in.txt 2>err || { cat err; fail "flag override"; }
[ "$(jget stats.json batches_committed)" = 2 ] || fail "the flag overrides the file"
printf 'batch-size = 2\n\nbogus = 1\n' > bad.conf
timeout 10 "$SLUICE" run "$TOPO/wordcount.so" --config bad.conf -- in.txt 2>err
[ $? -eq 2 ] || fail "unknown key exits 2"
grep -qF "bad.conf:3: unknown key 'bogus'" err || { cat err; fail "names the line"; }
printf 'max-pending = many\n' > bad2.conf
timeout 10 "$SLUICE" run "$TOPO/wordcount.so" --config bad2.conf -- in.txt 2>err
grep -qF "bad2.conf:1: expected a number" err || { cat err; fail "bad value names the line"; }
printf 'just words\n' > bad3.conf
timeout 10 "$SLUICE" run "$TOPO/wordcount.so" --config bad3.conf -- in.txt 2>err
grep -qF "bad3.conf:1: expected \`key = value\`" err || { cat err; fail "syntax"; }
# red-team T4: a comment after a value is refused (it became part of a
# state path), a quoted value may hold " #", a key given twice is refused
printf 'state = rs   # comment\n' > c1.conf
timeout 10 "$SLUICE" run "$TOPO/wordcount.so" --config c1.conf -- in.txt 2>err
[ $? -eq 2 ] && grep -qF "c1.conf:1: comments go on their own line" err \
	|| { cat err; fail "a trailing comment"; }
[ ! -e rs ] && [ -z "$(ls -d rs* 2>/dev/null)" ] || fail "a state was made"
printf 'state = rs\nbatch_size = 5\nstate = other\n' > c2.conf
timeout 10 "$SLUICE" run "$TOPO/wordcount.so" --config c2.conf -- in.txt 2>err
[ $? -eq 2 ] && grep -qF "c2.conf:3: state given twice, first on line 1" err \
	|| { cat err; fail "a repeated key"; }
printf 'state = "r # s"\nquiet = yes\n' > c3.conf
timeout 30 "$SLUICE" run "$TOPO/wordcount.so" --config c3.conf -- in.txt 2>err \
	&& [ -d "r # s" ] || { cat err; fail "a quoted value with ' #'"; }
# the counters example as a topology: three named states in DIR/NAME
timeout 60 "$SLUICE" run "$TOPO/counters.so" --state cst --quiet -- --records 3000 \
	|| fail "counters.so"
for st in urls statuses; do
	[ "$("$SLUICE" state dump "cst/$st" | awk -F'\t' '{ s += $2 } END { print s }')" = 3000 ] \
		|| fail "counters.so: $st does not sum to 3000"
done
echo ok
