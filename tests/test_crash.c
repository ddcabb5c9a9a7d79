/*
 * test_crash.c - exactly-once through real crashes: `sluice wordcount` runs
 * as a child process on a file of over a million words and is killed with
 * SIGKILL at random moments and once exactly between its state writes and
 * its commit record; after each kill it is restarted, until it completes.
 * The final state is compared with a count of the same file done here.
 */
#include "sltest.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VOCAB 2000
#if defined(SL_ASAN) || defined(SL_TSAN)
#define WORDS 300000
#define KILLS 10
#else
#define WORDS 1200000
#define KILLS 24
#endif

static char path[600];
static int64_t want[VOCAB];
static uint64_t total_words;

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Writes the corpus once; counts it independently. */
static int make_corpus(void)
{
	snprintf(path, sizeof(path), "%s/corpus.txt", sl_test_tmpdir("crash"));
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	uint64_t s = 42;
	memset(want, 0, sizeof(want));
	for (uint64_t i = 0; i < WORDS; i++) {
		/* skewed: small ids are frequent */
		uint64_t r = rng(&s);
		unsigned w = (unsigned)((r % VOCAB) * (r % 97) / 97);
		want[w]++;
		fprintf(f, "w%u%c", w, (i % 12 == 11) ? '\n' : ' ');
	}
	total_words = WORDS;
	return fclose(f);
}

/* Starts sluice wordcount, armed with fault point NAME@txid (core/fault.h)
 * unless txid is NULL; returns its pid. */
static pid_t start_env(
    const char *dir, const char *sem, const char *point, const char *txid)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		char spec[64];
		snprintf(spec, sizeof(spec), "%s@%s", point, txid ? txid : "");
		if (txid)
			setenv("SLUICE_FAULT", spec, 1);
		char log[800];
		snprintf(log, sizeof(log), "%s.log", dir);
		if (!freopen(log, "a", stderr))
			_exit(126);
		execl(sl_test_sluice_bin(), "sluice", "wordcount", "--input",
		    path, "--state", dir, "--semantics", sem, "--batch-size",
		    "4000", "--no-sync", "--quiet", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static pid_t start(const char *dir, const char *sem, const char *kill_txid)
{
	return start_env(dir, sem, "kill_before_commit", kill_txid);
}

/* Runs to completion; returns the exit status. */
static int finish(const char *dir, const char *sem)
{
	pid_t pid = start(dir, sem, NULL);
	int st;
	waitpid(pid, &st, 0);
	int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (rc) {
		char cmd[800];
		printf("\n    the final run exited %d; its log:\n", rc);
		fflush(stdout);
		snprintf(cmd, sizeof(cmd), "tail -5 '%s.log' >&2", dir);
		if (system(cmd) != 0)
			printf("    (no log)\n");
	}
	return rc;
}

/* Dumps the state with `sluice state dump` and compares; returns the sum
 * of all counts and the number of mismatched words. */
static void compare(const char *dir, int64_t *sum, int *bad)
{
	char cmd[1400], out[700];
	snprintf(out, sizeof(out), "%s.dump", dir);
	snprintf(cmd, sizeof(cmd), "'%s' state dump '%s' > '%s'",
	    sl_test_sluice_bin(), dir, out);
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
	FILE *f = fopen(out, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	int64_t got[VOCAB];
	memset(got, 0, sizeof(got));
	char w[64];
	long long c;
	*sum = 0;
	*bad = 0;
	while (fscanf(f, "w%63s\t%lld\n", w, &c) == 2) {
		int id = atoi(w);
		if (id >= 0 && id < VOCAB)
			got[id] = c;
		*sum += c;
	}
	fclose(f);
	for (int i = 0; i < VOCAB; i++)
		if (got[i] != want[i])
			(*bad)++;
}

static int crash_init(void)
{
	return make_corpus();
}

static int run_with_kills(const char *dir, const char *sem)
{
	uint64_t s = (uint64_t)time(NULL) | 1;
	int kills = 0;
	uint64_t t_end = (uint64_t)time(NULL) + 60;
	/* first a crash exactly between state writes and commit record */
	pid_t pid = start(dir, sem, "3");
	int st;
	waitpid(pid, &st, 0);
	CU_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	while (kills < KILLS && (uint64_t)time(NULL) < t_end) {
		pid = start(dir, sem, NULL);
		usleep((useconds_t)(5000 + rng(&s) % 60000));
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		if (WIFSIGNALED(st))
			kills++;
		else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			break; /* finished before the kill */
	}
	return kills;
}

static void test_killed_opaque_wordcount_is_exact(void)
{
	char dir[700];
	snprintf(dir, sizeof(dir), "%s/state", sl_test_tmpdir("opaque"));
	int kills = run_with_kills(dir, "opaque");
	CU_ASSERT_EQUAL(finish(dir, "opaque"), 0);
	int64_t sum;
	int bad;
	compare(dir, &sum, &bad);
	printf("\n    opaque: %d kills, %lld counted, %llu words, %d wrong\n",
	    kills, (long long)sum, (unsigned long long)total_words, bad);
	CU_ASSERT(kills >= 1);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(sum, (int64_t)total_words);
}

static void test_killed_transactional_wordcount_is_exact(void)
{
	char dir[700];
	snprintf(dir, sizeof(dir), "%s/state", sl_test_tmpdir("tx"));
	int kills = run_with_kills(dir, "transactional");
	CU_ASSERT_EQUAL(finish(dir, "transactional"), 0);
	int64_t sum;
	int bad;
	compare(dir, &sum, &bad);
	printf("\n    transactional: %d kills, %lld counted, %llu words, %d "
	       "wrong\n",
	    kills, (long long)sum, (unsigned long long)total_words, bad);
	CU_ASSERT(kills >= 1);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(sum, (int64_t)total_words);
}

/* The honest difference: without txids in the state, a batch replayed
 * after a crash between its state write and its commit is counted twice. */
static void test_killed_nontransactional_wordcount_overcounts(void)
{
	char dir[700];
	snprintf(dir, sizeof(dir), "%s/state", sl_test_tmpdir("none"));
	pid_t pid = start(dir, "none", "3");
	int st;
	waitpid(pid, &st, 0);
	CU_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	CU_ASSERT_EQUAL(finish(dir, "none"), 0);
	int64_t sum;
	int bad;
	compare(dir, &sum, &bad);
	printf("\n    none: %lld counted for %llu words: overcount %lld\n",
	    (long long)sum, (unsigned long long)total_words,
	    (long long)(sum - (int64_t)total_words));
	CU_ASSERT(sum > (int64_t)total_words);
	CU_ASSERT(bad > 0);
}

/* SIGTERM in the middle of a run: the batches in flight finish, the
 * process exits 0, and a rerun completes with exact counts. Both cases
 * happen on purpose, whatever the machine's speed: the signal arrives
 * right after each run's third commit (work left), and a run started
 * once everything committed has nothing left to do (its statistics have
 * no latency samples at all) and still exits 0. */
static void test_sigterm_mid_run_finishes_cleanly_and_stays_exact(void)
{
	char dir[700];
	snprintf(dir, sizeof(dir), "%s/state", sl_test_tmpdir("term"));
	int clean = 0;
	int64_t last = 0;
	for (int i = 1; i <= 3; i++) {
		char txid[16];
		snprintf(txid, sizeof(txid), "%d", 3);
		pid_t pid
		    = start_env(dir, "opaque", "term_after_commits", txid);
		int st;
		waitpid(pid, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			clean++;
		/* it stopped early: some input is left */
		int64_t sum;
		int bad;
		compare(dir, &sum, &bad);
		CU_ASSERT(bad > 0);
		CU_ASSERT(sum > last && sum < (int64_t)total_words);
		last = sum;
	}
	CU_ASSERT_EQUAL(clean, 3);
	CU_ASSERT_EQUAL(finish(dir, "opaque"), 0);
	/* nothing left: a resume, and a resume told to stop at once */
	CU_ASSERT_EQUAL(finish(dir, "opaque"), 0);
	pid_t pid = start_env(dir, "opaque", "term_after_commits", "1");
	int st;
	waitpid(pid, &st, 0);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	int64_t sum;
	int bad;
	compare(dir, &sum, &bad);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(sum, (int64_t)total_words);
}

SL_SUITE(crash, crash_init, NULL,
    { "killed opaque wordcount is exact",
        test_killed_opaque_wordcount_is_exact },
    { "killed transactional wordcount is exact",
        test_killed_transactional_wordcount_is_exact },
    { "killed non-transactional wordcount overcounts",
        test_killed_nontransactional_wordcount_overcounts },
    { "sigterm mid run finishes cleanly and stays exact",
        test_sigterm_mid_run_finishes_cleanly_and_stays_exact })
