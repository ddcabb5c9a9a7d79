/* test_api.c - public functions no other suite calls (found by
 * tests/api-coverage.sh): library init, key files, the file and sentence
 * spouts and their counters, the batch size and time a spout is asked
 * for. */
#include "sluice.h"
#include "sltest.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void test_init_is_idempotent(void)
{
	CU_ASSERT_EQUAL(sl_init(), SL_OK);
	CU_ASSERT_EQUAL(sl_init(), SL_OK);
}

static void test_key_from_file_checks_mode_and_content(void)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/key", sl_test_tmpdir("api"));
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "  %s\n",
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1"
	    "f");
	fclose(f);
	chmod(path, 0600);
	uint8_t k[SL_KEY_BYTES];
	CU_ASSERT_EQUAL(sl_key_from_file(k, path), SL_OK);
	CU_ASSERT_EQUAL(k[0], 0);
	CU_ASSERT_EQUAL(k[31], 0x1f);
	chmod(path, 0644);
	CU_ASSERT_EQUAL(sl_key_from_file(k, path), SL_EPERM);
	f = fopen(path, "w");
	fprintf(f, "not a key\n");
	fclose(f);
	chmod(path, 0600);
	CU_ASSERT_EQUAL(sl_key_from_file(k, path), SL_EINVAL);
	strcat(path, "-missing");
	int rc = sl_key_from_file(k, path);
	CU_ASSERT(rc == SL_ENOTFOUND || rc == SL_EIO);
}

struct counter {
	pthread_mutex_t mu;
	long n;
};

static int count_fn(void *user, const sl_tuple *in, sl_collector *out)
{
	(void)in, (void)out;
	struct counter *c = user;
	pthread_mutex_lock(&c->mu);
	c->n++;
	pthread_mutex_unlock(&c->mu);
	return SL_OK;
}

/* spout -> split -> count words in a sink */
static long run_words(sl_spout *sp, const char *field, size_t batch_size)
{
	struct counter c = { PTHREAD_MUTEX_INITIALIZER, 0 };
	sl_topology *t;
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&t, "api"), SL_OK);
	sl_stream *s = sl_topology_new_stream(t, "in", sp, field);
	s = sl_stream_flat_map(s, field, sl_fn_split_words, NULL, "word");
	sl_stream_each(s, "word", count_fn, &c, "none");
	sl_run_options o;
	sl_run_options_default(&o);
	o.batch_size = batch_size;
	o.batch_timeout_ms = 10000;
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	sl_topology_free(t);
	return c.n;
}

static void test_file_spout_counts_lines_and_words(void)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/in.txt", sl_test_tmpdir("api"));
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (int i = 0; i < 100; i++)
		fprintf(f, "alpha beta\tgamma %d\n", i);
	fclose(f);
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(sl_spout_file_new(&sp, path), SL_OK);
	sl_spout_file_count_words(sp, 1);
	/* the topology frees the spout: read its counters from a sink */
	CU_ASSERT_EQUAL(run_words(sp, "line", 7), 400);
	CU_ASSERT_EQUAL_FATAL(sl_spout_file_new(&sp, path), SL_OK);
	sl_topology *t;
	sl_spout_file_count_words(sp, 1);
	sl_topology_new(&t, "lines");
	sl_topology_new_stream(t, "in", sp, "line");
	CU_ASSERT_EQUAL(sl_topology_run(t, NULL), SL_OK);
	CU_ASSERT_EQUAL(sl_spout_file_lines(sp), 100);
	CU_ASSERT_EQUAL(sl_spout_file_words(sp), 400);
	sl_topology_free(t);
}

struct follow {
	sl_topology *t;
	sl_spout *sp;
	int commits;
};

static void follow_commit(void *user, uint64_t txid)
{
	(void)txid;
	struct follow *f = user;
	if (++f->commits >= 5 || sl_spout_file_lines(f->sp) >= 3)
		sl_topology_stop(f->t);
}

static void test_file_spout_follow_holds_back_an_unfinished_line(void)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/grow.txt", sl_test_tmpdir("api"));
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "one\ntwo\nthree\nunfinished");
	fclose(f);
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(sl_spout_file_new(&sp, path), SL_OK);
	sl_spout_file_follow(sp, 1);
	sl_topology *t;
	sl_topology_new(&t, "follow");
	sl_topology_new_stream(t, "in", sp, "line");
	struct follow fw = { t, sp, 0 };
	sl_run_options o;
	sl_run_options_default(&o);
	o.batch_ms = 10;
	o.on_commit = follow_commit;
	o.user = &fw;
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	CU_ASSERT_EQUAL(sl_spout_file_lines(sp), 3); /* not "unfinished" */
	sl_topology_free(t);
}

/* The file under a followed run changes behind the counted bytes, from
 * the commit callback (so before the next batch is read: max_pending 1):
 * truncated (logrotate's copytruncate) or overwritten with longer
 * content. The run stops with SL_ECORRUPT naming the file instead of
 * reading the new content from the old offset (red team T5: it counted
 * the fragment "rld" and exited 0). */
struct replace {
	sl_topology *t;
	sl_spout *sp;
	const char *path;
	const char *with; /* NULL: truncate */
	int commits, done;
};

static void replace_commit(void *user, uint64_t txid)
{
	(void)txid;
	struct replace *r = user;
	if (++r->commits > 200) { /* bounded: the change was never seen */
		sl_topology_stop(r->t);
		return;
	}
	if (r->done || sl_spout_file_lines(r->sp) < 2)
		return;
	r->done = 1;
	FILE *f = fopen(r->path, "w"); /* truncates */
	if (f) {
		if (r->with)
			fputs(r->with, f);
		fclose(f);
	}
}

static void test_followed_file_replaced_under_the_run_stops_it(void)
{
	/* truncated; longer; lines of the same width (the newline before
	 * the counted end is still there: red team F2) */
	const char *with[]
	    = { NULL, "hello world again\n", "x y\nz w\nmore\n" };
	for (int i = 0; i < 3; i++) {
		char path[600];
		snprintf(path, sizeof(path), "%s/followed.txt",
		    sl_test_tmpdir("api"));
		FILE *f = fopen(path, "w");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fputs("a b\nc d\n", f);
		fclose(f);
		sl_spout *sp;
		CU_ASSERT_EQUAL_FATAL(sl_spout_file_new(&sp, path), SL_OK);
		sl_spout_file_follow(sp, 1);
		sl_topology *t;
		sl_topology_new(&t, "replaced");
		sl_topology_new_stream(t, "in", sp, "line");
		struct replace r = { t, sp, path, with[i], 0, 0 };
		sl_run_options o;
		sl_run_options_default(&o);
		o.batch_ms = 10;
		o.max_pending = 1;
		o.on_commit = replace_commit;
		o.user = &r;
		CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_ECORRUPT);
		CU_ASSERT(
		    strstr(sl_topology_errmsg(t), "truncated or overwritten")
		    != NULL);
		CU_ASSERT_EQUAL(r.done, 1);
		CU_ASSERT_EQUAL(sl_spout_file_lines(sp), 2); /* nothing new */
		sl_topology_free(t);
	}
}

static void test_sentence_spout_emits_n_sentences(void)
{
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(sl_spout_sentence_new(&sp, 42, 50), SL_OK);
	long words = run_words(sp, "sentence", 8);
	CU_ASSERT(words >= 50 * 3);
	CU_ASSERT(words <= 50 * 20);
}

struct asked {
	size_t size;
	int ms;
	int done;
};

static int asking_emit(void *self, sl_spout_ctx *ctx, sl_collector *out)
{
	(void)out;
	struct asked *a = self;
	a->size = sl_spout_batch_size(ctx);
	a->ms = sl_spout_batch_ms(ctx);
	sl_spout_set_eof(ctx);
	return SL_OK;
}

static int fatal_emit(void *self, sl_spout_ctx *ctx, sl_collector *out)
{
	(void)out;
	(*(int *)self)++;
	sl_spout_set_fatal(ctx);
	return SL_EINVAL;
}

static void test_fatal_spout_error_stops_without_replays(void)
{
	static const sl_spout_ops ops
	    = { "fatal", 1, fatal_emit, NULL, NULL, NULL };
	int calls = 0;
	sl_topology *t;
	sl_topology_new(&t, "fatal");
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(sl_spout_new(&sp, &ops, &calls), SL_OK);
	sl_topology_new_stream(t, "in", sp, "x");
	sl_run_options o;
	sl_run_options_default(&o);
	o.max_pending = 1;
	CU_ASSERT(sl_topology_run(t, &o) < 0);
	CU_ASSERT_EQUAL(calls, 1); /* no replay */
	sl_topology_free(t);
}

static void test_spout_is_told_batch_size_and_time(void)
{
	static const sl_spout_ops ops
	    = { "asking", 1, asking_emit, NULL, NULL, NULL };
	struct asked a = { 0, 0, 0 };
	sl_topology *t;
	sl_topology_new(&t, "asked");
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(sl_spout_new(&sp, &ops, &a), SL_OK);
	sl_topology_new_stream(t, "in", sp, "x");
	sl_run_options o;
	sl_run_options_default(&o);
	o.batch_size = 123;
	o.batch_ms = 45;
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	CU_ASSERT_EQUAL(a.size, 123);
	CU_ASSERT_EQUAL(a.ms, 45);
	sl_topology_free(t);
}

static int nothing_emit(void *self, sl_spout_ctx *ctx, sl_collector *out)
{
	(void)self;
	(void)out;
	sl_spout_set_eof(ctx);
	return SL_OK;
}

static void count_free(void *self)
{
	(*(int *)self)++;
}

/* sl_spout: a typed handle; who frees what, and the accessors of one
 * kind of spout refuse another kind */
static void test_spout_handle_owns_its_instance_and_is_typed(void)
{
	static const sl_spout_ops ops
	    = { "own", 1, nothing_emit, NULL, count_free, NULL, NULL };
	static const sl_spout_ops no_emit
	    = { "none", 1, NULL, NULL, count_free, NULL, NULL };
	int freed = 0;
	sl_spout *sp = (sl_spout *)1;
	/* refused without emit; self is freed all the same */
	CU_ASSERT_EQUAL(sl_spout_new(&sp, &no_emit, &freed), SL_EINVAL);
	CU_ASSERT_PTR_NULL(sp);
	CU_ASSERT_EQUAL(freed, 1);
	CU_ASSERT_EQUAL(sl_spout_new(&sp, NULL, NULL), SL_EINVAL);
	/* freed by sl_spout_free when no topology took it */
	CU_ASSERT_EQUAL_FATAL(sl_spout_new(&sp, &ops, &freed), SL_OK);
	sl_spout_free(sp);
	CU_ASSERT_EQUAL(freed, 2);
	sl_spout_free(NULL);
	/* taken by the topology: freed with it, not before */
	sl_topology *t;
	sl_topology_new(&t, "own");
	CU_ASSERT_EQUAL_FATAL(sl_spout_new(&sp, &ops, &freed), SL_OK);
	CU_ASSERT_PTR_NOT_NULL(sl_topology_new_stream(t, "in", sp, "x"));
	CU_ASSERT_EQUAL(sl_topology_run(t, NULL), SL_OK);
	CU_ASSERT_EQUAL(freed, 2);
	/* a second spout is refused and freed at once */
	sl_spout *second;
	CU_ASSERT_EQUAL_FATAL(sl_spout_new(&second, &ops, &freed), SL_OK);
	CU_ASSERT_PTR_NULL(sl_topology_new_stream(t, "again", second, "x"));
	CU_ASSERT_EQUAL(freed, 3);
	sl_topology_free(t);
	CU_ASSERT_EQUAL(freed, 4);
	/* a NULL spout (a failed constructor) is an error of the topology */
	sl_topology_new(&t, "none");
	CU_ASSERT_EQUAL(
	    sl_spout_file_new(&sp, "/nonexistent/x"), SL_ENOTFOUND);
	CU_ASSERT_PTR_NULL(sp);
	CU_ASSERT_PTR_NULL(sl_topology_new_stream(t, "in", sp, "line"));
	CU_ASSERT_EQUAL(sl_topology_error(t), SL_EINVAL);
	CU_ASSERT(strstr(sl_topology_errmsg(t), "constructor") != NULL);
	sl_topology_free(t);
	/* typed accessors: a fixed spout is not a file or partitioned one */
	sl_value v = sl_str("a");
	size_t starts[2] = { 0, 1 };
	CU_ASSERT_EQUAL_FATAL(sl_spout_fixed_new(&sp, 1, &v, starts, 1, 0), 0);
	sl_spout_file_follow(sp, 1);
	sl_spout_file_count_words(sp, 1);
	CU_ASSERT_EQUAL(sl_spout_file_lines(sp), 0);
	CU_ASSERT_EQUAL(sl_spout_file_words(sp), 0);
	CU_ASSERT_EQUAL(sl_spout_partitioned_append(sp, 0, "x"), SL_EINVAL);
	sl_spout_free(sp);
}

static void test_live_stage_and_state_counters_after_a_run(void)
{
	sl_value v[3] = { sl_str("a b a"), sl_str("c"), sl_str("b b") };
	size_t starts[4] = { 0, 1, 2, 3 };
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(sl_spout_fixed_new(&sp, 1, v, starts, 3, 0), 0);
	sl_state *st;
	CU_ASSERT_EQUAL_FATAL(sl_state_open_memory(&st, NULL), SL_OK);
	sl_topology *t;
	sl_topology_new(&t, "live");
	sl_stream *s = sl_topology_new_stream(t, "lines", sp, "line");
	s = sl_stream_flat_map(s, "line", sl_fn_split_words, NULL, "word");
	s = sl_stream_group_by(s, "word");
	s = sl_stream_persistent_aggregate(s, st, NULL, sl_agg_count(), "n");
	sl_stream_parallelism(s, 2);
	CU_ASSERT_EQUAL(sl_topology_run(t, NULL), SL_OK);
	sl_topology_live lv;
	CU_ASSERT_EQUAL(sl_topology_live_get(t, &lv), SL_OK);
	CU_ASSERT_EQUAL(lv.in_flight, 0);
	CU_ASSERT_EQUAL(lv.nstages, 2);
	sl_stage_stats s0, s1, s2;
	CU_ASSERT_EQUAL(sl_topology_stage_get(t, 0, &s0), SL_OK);
	CU_ASSERT_EQUAL(sl_topology_stage_get(t, 1, &s1), SL_OK);
	CU_ASSERT_EQUAL(sl_topology_stage_get(t, 2, &s2), SL_ENOTFOUND);
	CU_ASSERT_EQUAL(s0.tasks, 1);
	CU_ASSERT_EQUAL(s1.tasks, 2);
	CU_ASSERT(s1.upstream & 1);
	CU_ASSERT(s1.tuples_in > 0);
	sl_state_counters c;
	CU_ASSERT_EQUAL(sl_state_counters_get(st, &c), SL_OK);
	CU_ASSERT_EQUAL(c.keys_created, 3); /* a, b, c */
	sl_topology_free(t);
	sl_state_close(st);
}

SL_SUITE(api, NULL, NULL,
    { "spout handle owns its instance and is typed",
        test_spout_handle_owns_its_instance_and_is_typed },
    { "live, stage and state counters after a run",
        test_live_stage_and_state_counters_after_a_run },
    { "init is idempotent", test_init_is_idempotent },
    { "key from file checks mode and content",
        test_key_from_file_checks_mode_and_content },
    { "file spout counts lines and words",
        test_file_spout_counts_lines_and_words },
    { "followed file replaced under the run stops it",
        test_followed_file_replaced_under_the_run_stops_it },
    { "file spout follow holds back an unfinished line",
        test_file_spout_follow_holds_back_an_unfinished_line },
    { "sentence spout emits n sentences",
        test_sentence_spout_emits_n_sentences },
    { "fatal spout error stops without replays",
        test_fatal_spout_error_stops_without_replays },
    { "spout is told batch size and time",
        test_spout_is_told_batch_size_and_time })
