/* test_cli.c - the sluice command on bad input: each a clear message,
 * a non-zero exit, and committed state left as it was. */
#include "../state/kv.h"
#include "sltest.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[600];

/* Runs `sluice ARGS` with stderr to dir/err; returns the exit status. */
static int sluice(const char *args)
{
	return sl_test_sh("'%s' %s > '%s/out' 2> '%s/err'",
	    sl_test_sluice_bin(), args, dir, dir);
}

static int err_has(const char *s)
{
	return sl_test_sh("grep -qF -- '%s' '%s/err'", s, dir) == 0;
}

static void fresh(const char *tag)
{
	snprintf(dir, sizeof(dir), "%s", sl_test_tmpdir(tag));
	sl_test_sh("printf 'a b\\nb c\\n' > '%s/in.txt'", dir);
}

/* A checksum of the directory's files (to see that nothing changed). */
static unsigned long sum_dir(const char *d)
{
	char cmd[2000], out[900];
	snprintf(out, sizeof(out), "%s.sum", d);
	snprintf(cmd, sizeof(cmd),
	    "cd '%s' && ls | grep -v -e '^LOG' -e 'sluice.lock' | sort | "
	    "xargs cat | cksum | cut -d' ' -f1 > '%s'",
	    d, out);
	if (system(cmd) != 0)
		return 0;
	FILE *f = fopen(out, "r");
	unsigned long v = 0;
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static void test_unreadable_input_is_named_and_state_untouched(void)
{
	fresh("noinput");
	char args[1400];
	snprintf(args, sizeof(args),
	    "wordcount --input %s/missing.txt "
	    "--state %s/st",
	    dir, dir);
	CU_ASSERT_EQUAL(sluice(args), 1);
	CU_ASSERT(err_has("missing.txt"));
	CU_ASSERT(err_has("No such file"));
	CU_ASSERT_NOT_EQUAL(sl_test_sh("test -e '%s/st'", dir), 0);
}

static void test_bad_options_are_refused(void)
{
	fresh("opts");
	char args[1400];
	snprintf(args, sizeof(args),
	    "wordcount --input %s/in.txt --memory --batch-size lots", dir);
	CU_ASSERT_EQUAL(sluice(args), 2);
	CU_ASSERT(err_has("--batch-size"));
	snprintf(args, sizeof(args),
	    "wordcount --input %s/in.txt --memory --semantics maybe", dir);
	CU_ASSERT_EQUAL(sluice(args), 2);
	CU_ASSERT(err_has("maybe"));
	CU_ASSERT_EQUAL(sluice("wordcount --bogus"), 2);
	CU_ASSERT(err_has("--bogus"));
	CU_ASSERT_EQUAL(sluice("frobnicate"), 2);
	CU_ASSERT(err_has("unknown command"));
}

static void test_state_dir_not_writable(void)
{
	fresh("ro");
	sl_test_sh("touch '%s/afile'", dir);
	char args[1400];
	snprintf(args, sizeof(args),
	    "wordcount --input %s/in.txt --state %s/afile/state", dir, dir);
	CU_ASSERT_EQUAL(sluice(args), 1);
	CU_ASSERT(err_has("afile/state"));
	CU_ASSERT(err_has("Not a directory"));
}

static void test_state_locked_by_a_running_topology(void)
{
	fresh("locked");
	int fds[2];
	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	char state[700];
	snprintf(state, sizeof(state), "%s/st", dir);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[0], 0);
		close(fds[1]);
		execl(sl_test_sluice_bin(), "sluice", "wordcount", "--input",
		    "-", "--state", state, "--quiet", (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	if (write(fds[1], "x y\n", 4) != 4)
		CU_FAIL("write to the child");
	/* wait until the child holds the directory */
	for (int i = 0;
	     i < 100 && sl_test_sh("test -s '%s/sluice.lock'", state) != 0;
	     i++)
		usleep(20000);
	usleep(100000);
	char args[1400];
	snprintf(args, sizeof(args), "wordcount --input %s/in.txt --state %s",
	    dir, state);
	CU_ASSERT_EQUAL(sluice(args), 1);
	CU_ASSERT(err_has("locked by another process"));
	snprintf(args, sizeof(args), "state dump %s", state);
	CU_ASSERT_EQUAL(sluice(args), 1);
	CU_ASSERT(err_has("locked"));
	close(fds[1]); /* end of input: the child commits and exits */
	int st;
	waitpid(pid, &st, 0);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	snprintf(args, sizeof(args), "state get %s x y z", state);
	CU_ASSERT_EQUAL(sluice(args), 0);
	CU_ASSERT_EQUAL(
	    sl_test_sh("printf 'x\\t1\\ny\\t1\\nz\\t-\\n' | cmp -s "
	               "- '%s/out'",
	        dir),
	    0);
}

static void test_newer_format_refused_and_untouched(void)
{
	fresh("newer");
	char args[1400], state[700];
	snprintf(state, sizeof(state), "%s/st", dir);
	snprintf(args, sizeof(args), "wordcount --input %s/in.txt --state %s",
	    dir, state);
	CU_ASSERT_EQUAL_FATAL(sluice(args), 0);
	sli_kv *kv;
	CU_ASSERT_EQUAL_FATAL(sli_kv_leveldb_open(&kv, state, 0), SL_OK);
	sli_kv_batch b;
	sli_kv_batch_init(&b);
	uint8_t ver[4] = { 3, 0, 0, 0 };
	sli_kv_batch_put(&b, "\0format", 7, ver, 4);
	kv->ops->write(kv, &b, 1);
	sli_kv_batch_free(&b);
	kv->ops->close(kv);
	CU_ASSERT_EQUAL(sluice(args), 1);
	CU_ASSERT(err_has("newer sluice"));
	snprintf(args, sizeof(args), "state stats %s", state);
	CU_ASSERT_EQUAL(sluice(args), 1);
	CU_ASSERT(err_has("newer sluice"));
	/* the committed counts are intact: back to version 2, they read */
	CU_ASSERT_EQUAL_FATAL(sli_kv_leveldb_open(&kv, state, 0), SL_OK);
	sli_kv_batch_init(&b);
	ver[0] = 2;
	sli_kv_batch_put(&b, "\0format", 7, ver, 4);
	kv->ops->write(kv, &b, 1);
	sli_kv_batch_free(&b);
	kv->ops->close(kv);
	snprintf(args, sizeof(args), "state dump %s", state);
	CU_ASSERT_EQUAL(sluice(args), 0);
	CU_ASSERT_EQUAL(sl_test_sh("printf 'a\\t1\\nb\\t2\\nc\\t1\\n' | "
	                           "cmp -s - '%s/out'",
	                    dir),
	    0);
}

static void test_corrupt_leveldb_named_and_repairable(void)
{
	fresh("corrupt");
	char args[1400], state[700];
	snprintf(state, sizeof(state), "%s/st", dir);
	snprintf(args, sizeof(args), "wordcount --input %s/in.txt --state %s",
	    dir, state);
	CU_ASSERT_EQUAL_FATAL(sluice(args), 0);
	sl_test_sh("for f in '%s'/MANIFEST-*; do printf 'XXXXXXXXXXXXXXXX' | "
	           "dd of=$f bs=1 seek=0 conv=notrunc 2>/dev/null; done",
	    state);
	unsigned long before = sum_dir(state);
	CU_ASSERT_EQUAL(sluice(args), 1);
	CU_ASSERT(err_has("MANIFEST-"));
	CU_ASSERT(err_has("sluice state repair"));
	CU_ASSERT_EQUAL(sum_dir(state), before);
	snprintf(args, sizeof(args), "state repair %s", state);
	CU_ASSERT_EQUAL(sluice(args), 0);
	CU_ASSERT(err_has("warning"));
	snprintf(args, sizeof(args), "state dump %s", state);
	CU_ASSERT_EQUAL(sluice(args), 0);
	CU_ASSERT_EQUAL(
	    sl_test_sh("printf 'a\\t1\\nb\\t2\\nc\\t1\\n' | cmp -s - "
	               "'%s/out'",
	        dir),
	    0);
}

static void test_not_a_state_directory(void)
{
	fresh("notstate");
	char args[1400];
	snprintf(args, sizeof(args), "state dump %s", dir);
	CU_ASSERT_EQUAL(sluice(args), 1);
	CU_ASSERT(err_has("not a sluice state"));
	snprintf(args, sizeof(args), "state stats %s/nope", dir);
	CU_ASSERT_EQUAL(sluice(args), 1);
}

static void test_input_shorter_than_counted_is_refused(void)
{
	fresh("shrunk");
	char args[1400];
	snprintf(args, sizeof(args),
	    "wordcount --input %s/in.txt --state %s/st", dir, dir);
	CU_ASSERT_EQUAL_FATAL(sluice(args), 0);
	sl_test_sh("printf 'a\\n' > '%s/in.txt'", dir);
	CU_ASSERT_EQUAL(sluice(args), 1);
	CU_ASSERT(err_has("the file changed"));
}

/* A full disk: the state directory on a 1 MiB tmpfs. The batch that does
 * not fit is not committed, the committed counts stay, and a restart with
 * room continues exactly. */
static void test_disk_full_stops_cleanly_and_resumes_exactly(void)
{
	fresh("full");
	char mnt[700], args[1400];
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	sl_test_sh("mkdir -p '%s'", mnt);
	if (sl_test_sh("mount -t tmpfs -o size=1m tmpfs '%s' 2>/dev/null", mnt)
	    != 0) {
		printf(
		    "\n    skipped: cannot mount a tmpfs here (not root, or "
		    "no mount namespace)\n");
		return;
	}
	/* 400 000 distinct words: far more than 1 MiB of state */
	sl_test_sh("seq 1 400000 | sed 's/^/word/' > '%s/big.txt'", dir);
	snprintf(args, sizeof(args),
	    "wordcount --input %s/big.txt --state %s/st --batch-size 20000 "
	    "--quiet",
	    dir, mnt);
	int rc = sluice(args);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT(err_has("No space left on device"));
	CU_ASSERT(err_has("committed state is intact"));
	/* room again (LevelDB cannot even open a full directory) */
	CU_ASSERT_EQUAL(sl_test_sh("mount -o remount,size=256m '%s'", mnt), 0);
	/* what was committed reads back, and only whole batches */
	char dump[1400];
	snprintf(dump, sizeof(dump), "state dump %s/st", mnt);
	CU_ASSERT_EQUAL(sluice(dump), 0);
	CU_ASSERT_EQUAL(sl_test_sh("test $(( $(wc -l < '%s/out') %% 20000 )) "
	                           "-eq 0",
	                    dir),
	    0);
	/* the run continues where it stopped */
	CU_ASSERT_EQUAL(sluice(args), 0);
	CU_ASSERT_EQUAL(sluice(dump), 0);
	CU_ASSERT_EQUAL(sl_test_sh("test $(wc -l < '%s/out') -eq 400000 && "
	                           "test $(cut -f2 '%s/out' | sort -u) = 1",
	                    dir, dir),
	    0);
	sl_test_sh("umount '%s'", mnt);
}

/* R20: a result file that cannot be written (a full disk: /dev/full)
 * fails the command, whatever mode wrote it. */
static void test_result_files_on_a_full_disk_fail(void)
{
	if (sl_test_sh("test -w /dev/full") != 0) {
		printf("\n    (no /dev/full: skipped)");
		return;
	}
	fresh("devfull");
	static const char *const cases[] = {
		"wordcount --input %s/in.txt --memory --quiet --stats "
		"/dev/full",
		"wordcount --input %s/in.txt --memory --quiet --dump "
		"/dev/full",
		"wordcount --mode plain --input %s/in.txt --quiet --stats "
		"/dev/full",
		"wordcount --mode plain --input %s/in.txt --quiet --dump "
		"/dev/full",
		"wordcount --input %s/in.txt --memory --quiet --stats "
		"%s/no/such/dir/s.json",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char args[1400];
		snprintf(args, sizeof(args), cases[i], dir, dir);
		int rc = sluice(args);
		int ok = rc == 1
		    && (err_has("/dev/full: No space left on device")
		        || err_has("s.json: No such file or directory"));
		if (!ok) {
			printf("\n    sluice %s: exit %d", args, rc);
			sl_test_sh("cat '%s/err'", dir);
		}
		CU_ASSERT(ok);
	}
	/* and the same line with a writable file exits 0 */
	char args[1400];
	snprintf(args, sizeof(args),
	    "wordcount --input %s/in.txt --memory --quiet --stats %s/s.json",
	    dir, dir);
	CU_ASSERT_EQUAL(sluice(args), 0);
	CU_ASSERT_EQUAL(
	    sl_test_sh("grep -q '\"words\":4' '%s/s.json'", dir), 0);
}

/* Plain mode's --state holds the keys a Trident word count writes (red
 * team T7: it wrote raw words into a format-2 directory, so `state get`
 * said every word was absent with exit 0 and `state dump` failed): the
 * two modes' dumps of one input are the same lines, and `state get`
 * reads plain's counts. */
static void test_plain_and_trident_states_read_alike(void)
{
	fresh("plainstate");
	sl_test_sh(
	    "for i in $(seq 1 300); do echo \"w$((i %% 13)) x \\\"q\\\" "
	    "é$((i %% 5))\"; done > '%s/big.txt'",
	    dir);
	char args[1400];
	snprintf(args, sizeof(args),
	    "wordcount --mode plain --input %s/big.txt --state %s/plain "
	    "--quiet",
	    dir, dir);
	CU_ASSERT_EQUAL(sluice(args), 0);
	snprintf(args, sizeof(args),
	    "wordcount --input %s/big.txt --state %s/tri --quiet", dir, dir);
	CU_ASSERT_EQUAL(sluice(args), 0);
	for (int i = 0; i < 2; i++) {
		snprintf(args, sizeof(args), "state dump %s/%s > %s/%s.dump",
		    dir, i ? "tri" : "plain", dir, i ? "tri" : "plain");
		CU_ASSERT_EQUAL(
		    sl_test_sh("'%s' %s", sl_test_sluice_bin(), args), 0);
	}
	CU_ASSERT_EQUAL(sl_test_sh("test $(wc -l < '%s/plain.dump') -eq 20 "
	                           "&& cmp '%s/plain.dump' '%s/tri.dump'",
	                    dir, dir, dir),
	    0);
	/* w0: i = 13, 26, ..., 299: 23 lines; x: every line */
	snprintf(args, sizeof(args), "state get %s/plain w0", dir);
	CU_ASSERT_EQUAL(sluice(args), 0);
	CU_ASSERT_EQUAL(sl_test_sh("grep -qxP 'w0\\t23' '%s/out'", dir), 0);
	snprintf(args, sizeof(args), "state get %s/plain x", dir);
	CU_ASSERT_EQUAL(sluice(args), 0);
	CU_ASSERT_EQUAL(sl_test_sh("grep -qxP 'x\\t300' '%s/out'", dir), 0);
}

/* Deletes the writer record of the state in d (a directory of an older
 * sluice has none). */
static void drop_writer(const char *d)
{
	sli_kv *kv;
	CU_ASSERT_EQUAL_FATAL(sli_kv_leveldb_open(&kv, d, 0), SL_OK);
	sli_kv_batch b;
	sli_kv_batch_init(&b);
	sli_kv_batch_del(&b, "\0writer", 7);
	CU_ASSERT_EQUAL(kv->ops->write(kv, &b, 1), SL_OK);
	sli_kv_batch_free(&b);
	kv->ops->close(kv);
}

/* 1 when the state in d records topology as its writer (NULL: none). */
static int writer_is(const char *d, const char *topology)
{
	sli_kv *kv;
	if (sli_kv_leveldb_open(&kv, d, 0))
		return 0;
	sli_buf v;
	sli_buf_init(&v);
	int found = 0;
	int rc = kv->ops->get(kv, "\0writer", 7, &v, &found);
	size_t n = topology ? strlen(topology) : 0;
	/* version 1, then the topology's name (varint length n < 128) */
	int is = !rc
	    && (topology ? found && v.len > n + 2 && v.data[0] == 1
	                && v.data[1] == n && !memcmp(v.data + 2, topology, n)
	                 : !found);
	sli_buf_free(&v);
	kv->ops->close(kv);
	return is;
}

/* Red team T8/R7: a state written by another topology holds its spout's
 * position in another input (the counters example's {start, end} records
 * read as a byte range skipped the first 2000 bytes of the file, exit 0).
 * The state records its writer: another one is refused, naming both,
 * with the directory untouched. A directory of an older sluice (no writer
 * record) resumes only when the spout can verify its position, and then
 * becomes the resuming topology's. */
static void test_state_of_another_topology_is_refused(void)
{
	fresh("writer");
	char args[2400], so[1200], path[700];
	snprintf(so, sizeof(so), "%s", sl_test_sluice_bin());
	char *slash = strrchr(so, '/');
	CU_ASSERT_FATAL(slash != NULL);
	snprintf(slash, sizeof(so) - (size_t)(slash - so),
	    "/../topologies/counters.so");
	snprintf(args, sizeof(args), "run %s --state %s/cst -- --records 2000",
	    so, dir);
	CU_ASSERT_EQUAL_FATAL(sluice(args), 0);
	sl_test_sh("cp -a '%s/cst/statuses' '%s/cu' && "
	           "seq 1 1000 | sed 's/^/w/' > '%s/big.txt'",
	    dir, dir, dir);
	snprintf(args, sizeof(args), "state dump %s/cu", dir);
	CU_ASSERT_EQUAL_FATAL(sluice(args), 0);
	sl_test_sh("mv '%s/out' '%s/cu.before'", dir, dir);
	snprintf(args, sizeof(args),
	    "wordcount --input %s/big.txt --state %s/cu", dir, dir);
	CU_ASSERT_EQUAL(sluice(args), 1);
	/* (no quotes in the patterns: err_has quotes them for sh) */
	CU_ASSERT(err_has("cu was written by topology"));
	CU_ASSERT(err_has("counters"));
	CU_ASSERT(err_has("not by topology"));
	CU_ASSERT(err_has("wordcount"));
	CU_ASSERT(err_has("use a new state directory"));
	snprintf(args, sizeof(args), "state dump %s/cu", dir);
	CU_ASSERT_EQUAL(sluice(args), 0);
	CU_ASSERT_EQUAL(
	    sl_test_sh("cmp -s '%s/out' '%s/cu.before'", dir, dir), 0);
	/* the counters example resumes on its own directory */
	snprintf(args, sizeof(args), "run %s --state %s/cst -- --records 2000",
	    so, dir);
	CU_ASSERT_EQUAL(sluice(args), 0);

	/* an older sluice wrote no writer record: the counters' 16-byte
	 * position cannot be told from a file spout's of before the hash
	 * (red team F1): refused, and not adopted */
	sl_test_sh("cp -a '%s/cst/statuses' '%s/cold'", dir, dir);
	snprintf(path, sizeof(path), "%s/cold", dir);
	drop_writer(path);
	snprintf(args, sizeof(args),
	    "wordcount --input %s/big.txt --state %s/cold", dir, dir);
	CU_ASSERT_EQUAL(sluice(args), 1);
	CU_ASSERT(err_has("is not one this file spout can verify"));
	CU_ASSERT(err_has("older sluice"));
	CU_ASSERT_EQUAL(writer_is(path, NULL), 1);

	/* an older word count resumes, and becomes wordcount's */
	snprintf(args, sizeof(args),
	    "wordcount --input %s/in.txt --state %s/old", dir, dir);
	CU_ASSERT_EQUAL_FATAL(sluice(args), 0);
	snprintf(path, sizeof(path), "%s/old", dir);
	drop_writer(path);
	sl_test_sh("printf 'c d\\n' >> '%s/in.txt'", dir);
	CU_ASSERT_EQUAL(sluice(args), 0);
	snprintf(args, sizeof(args), "state dump %s/old", dir);
	CU_ASSERT_EQUAL(sluice(args), 0);
	CU_ASSERT_EQUAL(sl_test_sh("printf 'a\\t1\\nb\\t2\\nc\\t2\\nd\\t1\\n' "
	                           "| cmp -s - '%s/out'",
	                    dir),
	    0);
	CU_ASSERT_EQUAL(writer_is(path, "wordcount"), 1);

	/* a spout that cannot check a position (the template's fixed
	 * spout) does not adopt an older directory (red team F9) */
	snprintf(args, sizeof(args),
	    "wordcount --input %s/in.txt --state %s/old2", dir, dir);
	CU_ASSERT_EQUAL_FATAL(sluice(args), 0);
	snprintf(path, sizeof(path), "%s/old2", dir);
	drop_writer(path);
	snprintf(slash, sizeof(so) - (size_t)(slash - so),
	    "/../topologies/topology_template.so");
	snprintf(args, sizeof(args), "run %s --state %s/old2", so, dir);
	CU_ASSERT_EQUAL(sluice(args), 1);
	CU_ASSERT(err_has("records no writer"));
	CU_ASSERT_EQUAL(writer_is(path, NULL), 1);

	/* fed from stdin, then given a file: the pipe's byte count is no
	 * place in the file (red team F8) */
	CU_ASSERT_EQUAL(
	    sl_test_sh("cat '%s/in.txt' | '%s' wordcount --input - "
	               "--state '%s/pp' 2>/dev/null",
	        dir, sl_test_sluice_bin(), dir),
	    0);
	snprintf(args, sizeof(args),
	    "wordcount --input %s/big.txt --state %s/pp", dir, dir);
	CU_ASSERT_EQUAL(sluice(args), 1);
	CU_ASSERT(err_has("read a pipe (stdin)"));
}

/* --dump/--stats inside the state directory would overwrite its own
 * files (red team M14: --dump st/CURRENT cost the state): refused before
 * anything runs, for a new state and an existing one, in both modes. */
static void test_output_inside_the_state_is_refused(void)
{
	fresh("inside");
	char args[2600];
	snprintf(args, sizeof(args),
	    "wordcount --input %s/in.txt --state %s/st --dump %s/st/CURRENT",
	    dir, dir, dir);
	CU_ASSERT_EQUAL(sluice(args), 2); /* st does not exist yet */
	CU_ASSERT(err_has("inside the state directory"));
	CU_ASSERT_NOT_EQUAL(sl_test_sh("test -e '%s/st'", dir), 0);
	snprintf(args, sizeof(args),
	    "wordcount --input %s/in.txt --state %s/st --quiet", dir, dir);
	CU_ASSERT_EQUAL_FATAL(sluice(args), 0);
	char st[700];
	snprintf(st, sizeof(st), "%s/st", dir);
	unsigned long sum0 = sum_dir(st);
	snprintf(args, sizeof(args),
	    "wordcount --input %s/in.txt --state %s/st --stats "
	    "%s/st/../st/CURRENT",
	    dir, dir, dir);
	CU_ASSERT_EQUAL(sluice(args), 2);
	snprintf(args, sizeof(args),
	    "wordcount --mode plain --input %s/in.txt --state %s/st --dump "
	    "%s/st/x.tsv",
	    dir, dir, dir);
	CU_ASSERT_EQUAL(sluice(args), 2);
	CU_ASSERT_EQUAL(sum_dir(st), sum0); /* nothing written */
	/* beside the state is fine */
	snprintf(args, sizeof(args),
	    "wordcount --input %s/in.txt --state %s/st --dump %s/st.tsv", dir,
	    dir, dir);
	CU_ASSERT_EQUAL(sluice(args), 0);
	CU_ASSERT_EQUAL(sl_test_sh("grep -q '^b.2$' '%s/st.tsv'", dir), 0);
}

SL_SUITE(cli, NULL, NULL,
    { "output inside the state is refused",
        test_output_inside_the_state_is_refused },
    { "unreadable input is named and state untouched",
        test_unreadable_input_is_named_and_state_untouched },
    { "bad options are refused", test_bad_options_are_refused },
    { "state dir not writable", test_state_dir_not_writable },
    { "state locked by a running topology",
        test_state_locked_by_a_running_topology },
    { "newer format refused and untouched",
        test_newer_format_refused_and_untouched },
    { "corrupt leveldb named and repairable",
        test_corrupt_leveldb_named_and_repairable },
    { "not a state directory", test_not_a_state_directory },
    { "input shorter than counted is refused",
        test_input_shorter_than_counted_is_refused },
    { "disk full stops cleanly and resumes exactly",
        test_disk_full_stops_cleanly_and_resumes_exactly },
    { "result files on a full disk fail",
        test_result_files_on_a_full_disk_fail },
    { "plain and trident states read alike",
        test_plain_and_trident_states_read_alike },
    { "state of another topology is refused",
        test_state_of_another_topology_is_refused })
