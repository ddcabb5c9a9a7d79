/* test_spouts.c - the built-in spouts' positions across runs and inputs
 * (red team T10, T5): a rerun with another partition count, an idle
 * partitioned source, a file written over while it is read. Real LevelDB
 * directories and files. */
#include "sltest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static sl_run_options quick(void)
{
	sl_run_options o;
	sl_run_options_default(&o);
	o.batch_timeout_ms = 5000;
	return o;
}

/* ---- the partitioned spout across partition counts (red team T10) ---- */

struct pstop {
	sl_topology *t;
	sl_state *st;
	int64_t want;
};

/* Stops once "a" reaches want (or after 20 txids: bounded when wrong). */
static void pstop_fn(void *user, uint64_t txid)
{
	struct pstop *w = user;
	if (sl_test_count_of(w->st, "a") >= w->want || txid >= 20)
		sl_topology_stop(w->t);
}

/* Runs a word count of a partitioned spout of the given partitions
 * (n[p] lines "a" in partition p) on the LevelDB state in d until "a"
 * reaches want; returns the run's code, *a the count after it. */
static int run_parts(const char *d, uint32_t nparts, const size_t *n,
    int64_t want, int64_t *a, char *err, size_t errlen)
{
	size_t total = 0;
	for (uint32_t p = 0; p < nparts; p++)
		total += n[p];
	const char **lines = calloc(total + 1, sizeof(*lines));
	for (size_t i = 0; i < total; i++)
		lines[i] = "a";
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(
	    sl_spout_partitioned_new(&sp, nparts, lines, n, NULL, NULL),
	    SL_OK);
	free(lines);
	sl_state_options o;
	sl_state_options_default(&o);
	o.sync = 0;
	sl_state *st = NULL;
	CU_ASSERT_EQUAL_FATAL(sl_state_open_leveldb(&st, d, &o), SL_OK);
	sl_topology *t = sl_test_wordcount(sp, st);
	sl_run_options ro = quick();
	ro.batch_size = 2;
	ro.batch_ms = 20;
	struct pstop w = { t, st, want };
	ro.on_commit = pstop_fn;
	ro.user = &w;
	int rc = sl_topology_run(t, &ro);
	snprintf(err, errlen, "%s", sl_topology_errmsg(t));
	*a = sl_test_count_of(st, "a");
	sl_topology_free(t);
	sl_state_close(st);
	return rc;
}

/* Kafka-like partitions: a rerun with more partitions resumes those both
 * runs have at their offsets and reads the new one from 0 (it recounted
 * every partition: 6 + 9 = 15); with fewer, a partition that was read is
 * refused and the state is left as it was. */
static void test_partitioned_spout_rerun_with_another_partition_count(void)
{
	char d[600], err[600];
	snprintf(d, sizeof(d), "%s/db", sl_test_tmpdir("partcount"));
	int64_t a = 0;
	size_t two[2] = { 3, 3 };
	CU_ASSERT_EQUAL(run_parts(d, 2, two, 6, &a, err, sizeof(err)), SL_OK);
	CU_ASSERT_EQUAL(a, 6);
	/* partition 0 got one more line, partition 2 is new with two */
	size_t three[3] = { 4, 3, 2 };
	CU_ASSERT_EQUAL(
	    run_parts(d, 3, three, 9, &a, err, sizeof(err)), SL_OK);
	CU_ASSERT_EQUAL(a, 9);
	/* back to two: partition 2 was read up to line 2 */
	size_t back[2] = { 5, 3 };
	CU_ASSERT_EQUAL(
	    run_parts(d, 2, back, 10, &a, err, sizeof(err)), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "read 3 partitions"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(err, "partition 2 was read up to line 2"));
	CU_ASSERT_EQUAL(a, 9);
	/* a partition dropped before anything of it was read is fine */
	char d2[700];
	snprintf(d2, sizeof(d2), "%s2", d);
	size_t first[3] = { 2, 1, 0 };
	CU_ASSERT_EQUAL(
	    run_parts(d2, 3, first, 3, &a, err, sizeof(err)), SL_OK);
	CU_ASSERT_EQUAL(a, 3);
	size_t fewer[2] = { 3, 1 };
	CU_ASSERT_EQUAL(
	    run_parts(d2, 2, fewer, 4, &a, err, sizeof(err)), SL_OK);
	CU_ASSERT_EQUAL(a, 4);
}

struct late {
	sl_spout *sp;
};

static void *append_late(void *user)
{
	struct late *l = user;
	/* long enough for many 5 ms empty batches when the spout does not
	 * wait; the assertions hold whenever the line comes */
	struct timespec ts = { 0, 100 * 1000000L };
	nanosleep(&ts, NULL);
	sl_spout_partitioned_append(l->sp, 0, "a");
	return NULL;
}

/* An idle partitioned spout waits up to batch_ms for a line instead of
 * committing an empty batch (a synced write) every few milliseconds. */
static void test_idle_partitioned_spout_waits_for_input(void)
{
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(
	    sl_spout_partitioned_new(&sp, 1, NULL, NULL, NULL, NULL), SL_OK);
	char d[600];
	snprintf(d, sizeof(d), "%s/db", sl_test_tmpdir("idle"));
	sl_state *st = NULL;
	CU_ASSERT_EQUAL_FATAL(sl_state_open_leveldb(&st, d, NULL), SL_OK);
	sl_topology *t = sl_test_wordcount(sp, st);
	sl_run_options o = quick();
	o.batch_ms = 600000; /* an empty batch only after 10 minutes */
	o.max_pending = 1;
	struct pstop w = { t, st, 1 };
	o.on_commit = pstop_fn;
	o.user = &w;
	struct late l = { sp };
	pthread_t th;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, append_late, &l), 0);
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	pthread_join(th, NULL);
	sl_topology_stats ts;
	sl_topology_stats_get(t, &ts);
	CU_ASSERT_EQUAL(sl_test_count_of(st, "a"), 1);
	CU_ASSERT_EQUAL(ts.last_committed, 1);
	CU_ASSERT_EQUAL(ts.empty_batches, 0);
	sl_topology_free(t);
	sl_state_close(st);
}

/* ---- a file written over while it is read (red team T5, F3) ---- */

struct over {
	sl_topology *t;
	sl_spout *sp;
	const char *path, *with;
	int commits, done;
};

/* After 2 lines are committed, writes the file over in place (truncate
 * and write: the same inode) from the commit callback, so before the
 * next batch is read (max_pending 1). */
static void over_commit(void *user, uint64_t txid)
{
	(void)txid;
	struct over *r = user;
	if (++r->commits > 200) { /* bounded: never seen */
		sl_topology_stop(r->t);
		return;
	}
	if (r->done || sl_spout_file_lines(r->sp) < 2)
		return;
	r->done = 1;
	FILE *f = fopen(r->path, "w");
	if (f) {
		fputs(r->with, f);
		fclose(f);
	}
}

/* Without --follow, an input written over in place by a longer file was
 * read on from the old offset in the new content: the run exited 0 with
 * counts of half of each file. The batch that reaches the end now finds
 * the file's first bytes changed and stops the run (SL_ECORRUPT). A file
 * that only grew (the same bytes, then more) is counted. */
static void test_file_written_over_during_a_run_stops_it(void)
{
	const char *with[] = { "a b\nc d\ne f\ng h\nx y\n",
		"hello world again\nmore words here\n" };
	for (int i = 0; i < 2; i++) {
		char path[600], d[700];
		snprintf(
		    path, sizeof(path), "%s/over.txt", sl_test_tmpdir("over"));
		snprintf(d, sizeof(d), "%s.db", path);
		FILE *f = fopen(path, "w");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fputs("a b\nc d\ne f\ng h\n", f);
		fclose(f);
		sl_spout *sp;
		CU_ASSERT_EQUAL_FATAL(sl_spout_file_new(&sp, path), SL_OK);
		sl_state *st = NULL;
		CU_ASSERT_EQUAL_FATAL(
		    sl_state_open_leveldb(&st, d, NULL), SL_OK);
		sl_topology *t = sl_test_wordcount(sp, st);
		struct over r = { t, sp, path, with[i], 0, 0 };
		sl_run_options o = quick();
		o.batch_size = 1;
		o.max_pending = 1;
		o.on_commit = over_commit;
		o.user = &r;
		int rc = sl_topology_run(t, &o);
		CU_ASSERT_EQUAL(r.done, 1);
		if (i == 0) {
			CU_ASSERT_EQUAL(rc, SL_OK);
			CU_ASSERT_EQUAL(sl_test_count_of(st, "x"), 1);
			CU_ASSERT_EQUAL(sl_test_count_of(st, "a"), 1);
		} else {
			CU_ASSERT_EQUAL(rc, SL_ECORRUPT);
			CU_ASSERT_PTR_NOT_NULL(strstr(sl_topology_errmsg(t),
			    "was written over while it was read"));
		}
		sl_topology_free(t);
		sl_state_close(st);
	}
}

SL_SUITE(spouts, NULL, NULL,
    { "partitioned spout rerun with another partition count",
        test_partitioned_spout_rerun_with_another_partition_count },
    { "idle partitioned spout waits for input",
        test_idle_partitioned_spout_waits_for_input },
    { "file written over during a run stops it",
        test_file_written_over_during_a_run_stops_it })
