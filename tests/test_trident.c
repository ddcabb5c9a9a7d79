/* test_trident.c - the Trident layer through the public API: acceptance
 * cases (a), (b), (c) of the word count, the coordinator's ordering and
 * replays, build-time field errors, aggregators and DRPC streams. */
#include "../trident/trident.h"
#include "sltest.h"
#include "core/fault.h"

#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#define L1 "the cow jumped over the moon"
#define L2 "the man went to the store and bought some candy"
#define L3 "four score and seven years ago"

static sl_state *leveldb_state(sl_semantics sem)
{
	char d[512];
	snprintf(d, sizeof(d), "%s/db", sl_test_tmpdir("trident"));
	sl_state_options o;
	sl_state_options_default(&o);
	o.semantics = sem;
	o.sync = 0;
	sl_state *s = NULL;
	CU_ASSERT_EQUAL(sl_state_open_leveldb(&s, d, &o), SL_OK);
	return s;
}

static void check_final(sl_state *st, int case_c)
{
	CU_ASSERT_EQUAL(sl_test_count_of(st, "the"), 4);
	CU_ASSERT_EQUAL(sl_test_count_of(st, "moon"), 1);
	CU_ASSERT_EQUAL(sl_test_count_of(st, "and"), 2);
	CU_ASSERT_EQUAL(sl_test_count_of(st, "four"), 1);
	CU_ASSERT_EQUAL(sl_test_count_of(st, "man"), 1);
	if (case_c) {
		CU_ASSERT_EQUAL(sl_test_count_of(st, "cow"), 1);
		CU_ASSERT_EQUAL(sl_test_count_of(st, "jumped"), 1);
		CU_ASSERT_EQUAL(sl_test_count_of(st, "over"), 1);
	}
}

static sl_run_options quick(void)
{
	sl_run_options o;
	sl_run_options_default(&o);
	o.batch_timeout_ms = 5000;
	return o;
}

/* (a) transactional spout, txids 1-3 = L1, L2, L3; failure after one state
 * partition wrote txid 1, before its commit: txid 1 replays */
static void test_acceptance_a_transactional_replay(void)
{
	sl_value v[3] = { sl_str(L1), sl_str(L2), sl_str(L3) };
	size_t starts[4] = { 0, 1, 2, 3 };
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(sl_spout_fixed_new(&sp, 1, v, starts, 3, 0), 0);
	sl_state *st = leveldb_state(SL_SEM_TRANSACTIONAL);
	sl_topology *t = sl_test_wordcount(sp, st);
	sl_test_fault_once(SLI_FAULT_STATE, t, 1, 1);
	sl_run_options o = quick();
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	sl_topology_stats s;
	sl_topology_stats_get(t, &s);
	CU_ASSERT(s.replays >= 1);
	CU_ASSERT(s.batches_committed >= 3);
	check_final(st, 0);
	sl_topology_free(t);
	sl_state_close(st);
}

struct script {
	int mode; /* 'b' or 'c' */
	sl_spout *spout;
};

/* (b): attempt 1 of txid 1 emits L1 (partition 0); the replay sees L1 and
 * L2 (the source grew); txid 2 emits L3.
 * (c): attempt 1 of txid 1 emits L1; its replay only L2; L1 comes in txid
 * 2, L3 in txid 3. Partitions: 0 = [L1], 1 = [L2], 2 = [L3]. */
static int script_fn(void *user, uint64_t txid, uint32_t attempt,
    uint32_t part, size_t start, size_t avail, size_t *count)
{
	struct script *s = user;
	(void)start;
	*count = 0;
	if (s->mode == 'b') {
		if (txid == 1 && attempt == 1) {
			*count = part == 0 ? avail : 0;
			if (part == 2)
				sl_spout_partitioned_append(s->spout, 1, L2);
		} else if (txid == 1)
			*count = part <= 1 ? avail : 0;
		else if (txid == 2)
			*count = avail;
		return SL_OK;
	}
	if (txid == 1 && attempt == 1)
		*count = part == 0 ? 1 : 0;
	else if (txid == 1)
		*count = part == 1 ? 1 : 0;
	else if (txid == 2)
		*count = part == 0 ? 1 : 0;
	else if (txid == 3)
		*count = part == 2 ? 1 : 0;
	return SL_OK;
}

struct stop_at {
	sl_topology *t;
	uint64_t txid;
};

static void stop_at_fn(void *user, uint64_t txid)
{
	struct stop_at *s = user;
	if (txid >= s->txid)
		sl_topology_stop(s->t);
}

static void run_opaque_case(int mode)
{
	struct script sc = { mode, NULL };
	const char *lines_b[] = { L1, L3 };
	size_t n_b[] = { 1, 0, 1 };
	const char *lines_c[] = { L1, L2, L3 };
	size_t n_c[] = { 1, 1, 1 };
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(
	    sl_spout_partitioned_new(&sp, 3, mode == 'b' ? lines_b : lines_c,
	        mode == 'b' ? n_b : n_c, script_fn, &sc),
	    SL_OK);
	sc.spout = sp;
	sl_state *st = leveldb_state(SL_SEM_OPAQUE);
	sl_topology *t = sl_test_wordcount(sp, st);
	sl_test_fault_once(SLI_FAULT_STATE, t, 1, 1);
	sl_run_options o = quick();
	o.max_pending = 1;
	/* the partitioned spout never runs dry: stop after the batches */
	struct stop_at stop = { t, mode == 'b' ? 2 : 3 };
	o.user = &stop;
	o.on_commit = stop_at_fn;
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	sl_topology_stats ts;
	sl_topology_stats_get(t, &ts);
	CU_ASSERT_EQUAL(ts.replays, 1);
	CU_ASSERT_EQUAL(ts.last_committed, stop.txid);
	check_final(st, mode == 'c');
	sl_topology_free(t);
	sl_state_close(st);
}

static void test_acceptance_b_opaque_replay_grows(void)
{
	run_opaque_case('b');
}

static void test_acceptance_c_opaque_replay_regroups(void)
{
	run_opaque_case('c');
}

/* Lines of n fixed batches of the text "w<i % 17> w<i % 5>" for the
 * coordinator tests; want[] gets the independent count. */
#define NB 12
static sl_spout *make_batches(size_t per, int64_t want[17])
{
	static char text[NB * 64][32];
	sl_value v[NB * 64];
	size_t starts[NB + 1];
	size_t k = 0;
	memset(want, 0, 17 * sizeof(int64_t));
	for (size_t b = 0; b < NB; b++) {
		starts[b] = k;
		for (size_t i = 0; i < per; i++, k++) {
			snprintf(text[k], sizeof(text[k]), "w%zu w%zu", k % 17,
			    k % 5);
			want[k % 17]++;
			want[k % 5]++;
			v[k] = sl_str(text[k]);
		}
	}
	starts[NB] = k;
	sl_spout *sp;
	CU_ASSERT_EQUAL(sl_spout_fixed_new(&sp, 1, v, starts, NB, 0), SL_OK);
	return sp;
}

static void check_counts(sl_state *st, const int64_t want[17])
{
	for (int i = 0; i < 17; i++) {
		char w[16];
		snprintf(w, sizeof(w), "w%d", i);
		CU_ASSERT_EQUAL(sl_test_count_of(st, w), want[i]);
	}
}

struct order {
	uint64_t seen[64];
	size_t n;
};

static void record_commit(void *user, uint64_t txid)
{
	struct order *o = user;
	if (o->n < 64)
		o->seen[o->n++] = txid;
}

/* batch 1 finishes last, 4 first: commits still go 1, 2, 3, 4 */
static int reverse_delay(void *user, uint64_t txid)
{
	(void)user;
	return txid <= 4 ? (int)(5 - txid) * 60 : 0;
}

static void test_commits_in_txid_order_when_batches_finish_reversed(void)
{
	int64_t want[17];
	sl_spout *sp = make_batches(8, want);
	sl_state *st = leveldb_state(SL_SEM_OPAQUE);
	sl_topology *t = sl_test_wordcount(sp, st);
	sli_topology_set_done_delay(t, reverse_delay, NULL);
	struct order ord = { { 0 }, 0 };
	sl_run_options o = quick();
	o.max_pending = 4;
	o.on_commit = record_commit;
	o.user = &ord;
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	CU_ASSERT(ord.n >= NB);
	for (size_t i = 0; i < ord.n; i++)
		CU_ASSERT_EQUAL(ord.seen[i], i + 1);
	check_counts(st, want);
	sl_topology_free(t);
	sl_state_close(st);
}

static void test_failure_at_each_stage_is_replayed_exactly(void)
{
	int stages[] = { SLI_FAULT_SPOUT, SLI_FAULT_FUNCTION,
		SLI_FAULT_PARTIAL, SLI_FAULT_STATE, SLI_FAULT_COMMIT };
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		for (int sem = SL_SEM_TRANSACTIONAL; sem <= SL_SEM_OPAQUE;
		     sem++) {
			int64_t want[17];
			sl_spout *sp = make_batches(5, want);
			sl_state *st = leveldb_state((sl_semantics)sem);
			sl_topology *t = sl_test_wordcount(sp, st);
			sl_test_fault_once(stages[i], t, 3, 0);
			sl_run_options o = quick();
			CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
			sl_topology_stats ts;
			sl_topology_stats_get(t, &ts);
			CU_ASSERT(ts.replays >= 1);
			check_counts(st, want);
			sl_topology_free(t);
			sl_state_close(st);
		}
	}
}

static int always_fail(void *user, const sl_tuple *in, sl_collector *out)
{
	(void)user, (void)in, (void)out;
	return sli_err(SL_EFAILED, "the function refuses");
}

static void test_max_attempts_stops_naming_txid_and_stage(void)
{
	int64_t want[17];
	sl_spout *sp = make_batches(2, want);
	sl_state *st = leveldb_state(SL_SEM_OPAQUE);
	sl_topology *t;
	sl_topology_new(&t, "bad");
	sl_stream *s = sl_topology_new_stream(t, "lines", sp, "line");
	s = sl_stream_name(
	    sl_stream_each(s, "line", always_fail, NULL, "x"), "refuser");
	s = sl_stream_group_by(s, "x");
	sl_stream_persistent_aggregate(s, st, NULL, sl_agg_count(), "n");
	sl_run_options o = quick();
	o.max_attempts = 3;
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_ELIMIT);
	const char *m = sl_topology_errmsg(t);
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "txid 1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "refuser"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "3 times"));
	uint64_t c;
	sl_state_last_committed(st, &c);
	CU_ASSERT_EQUAL(c, 0);
	sl_topology_free(t);
	sl_state_close(st);
}

static void test_missing_fields_rejected_at_build_time(void)
{
	sl_topology *t;
	sl_spout *sp;
	sl_value v = sl_str("a b");
	size_t starts[2] = { 0, 1 };
	sl_spout_fixed_new(&sp, 1, &v, starts, 1, 0);
	sl_topology_new(&t, "x");
	sl_stream *s = sl_topology_new_stream(t, "lines", sp, "line");
	CU_ASSERT_PTR_NULL(sl_stream_project(s, "line,nope"));
	CU_ASSERT_EQUAL(sl_topology_error(t), SL_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_topology_errmsg(t), "'nope'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_topology_errmsg(t), "project"));
	CU_ASSERT_EQUAL(sl_topology_run(t, NULL), SL_ENOTFOUND);
	sl_topology_free(t);
	sl_topology_new(&t, "y");
	sl_spout_fixed_new(&sp, 1, &v, starts, 1, 0);
	s = sl_topology_new_stream(t, "lines", sp, "line");
	s = sl_stream_flat_map(s, "line", sl_fn_split_words, NULL, "word");
	CU_ASSERT_PTR_NULL(sl_stream_group_by(s, "wrd"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_topology_errmsg(t), "'wrd'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_topology_errmsg(t), "group_by"));
	sl_topology_free(t);
}

static void test_empty_batch_commits_and_counts_nothing(void)
{
	sl_value v[2] = { sl_str("a b"), sl_str("b") };
	size_t starts[4] = { 0, 1, 1, 2 }; /* batch 2 is empty */
	sl_spout *sp;
	sl_spout_fixed_new(&sp, 1, v, starts, 3, 0);
	sl_state *st = leveldb_state(SL_SEM_OPAQUE);
	sl_topology *t = sl_test_wordcount(sp, st);
	struct order ord = { { 0 }, 0 };
	sl_run_options o = quick();
	o.on_commit = record_commit;
	o.user = &ord;
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	CU_ASSERT_EQUAL(ord.n, 3);
	sl_topology_stats ts;
	sl_topology_stats_get(t, &ts);
	CU_ASSERT_EQUAL(ts.empty_batches, 1);
	CU_ASSERT_EQUAL(sl_test_count_of(st, "a"), 1);
	CU_ASSERT_EQUAL(sl_test_count_of(st, "b"), 2);
	sl_topology_free(t);
	sl_state_close(st);
}

/* each + filter + project + shuffle + aggregators at one sink */
static int tag(void *user, const sl_tuple *in, sl_collector *out)
{
	(void)user;
	sl_value v = sl_int((int64_t)in->v[0].len);
	return sl_emit(out, &v, 1);
}

static int not_the(void *user, const sl_tuple *in)
{
	(void)user;
	return !(in->v[0].len == 3 && !memcmp(in->v[0].u.p, "the", 3));
}

struct sink {
	pthread_mutex_t lock;
	int64_t vals[8];
	size_t n;
};

static int collect(void *user, const sl_tuple *in, sl_collector *out)
{
	(void)out;
	struct sink *s = user;
	pthread_mutex_lock(&s->lock);
	if (s->n < 8 && in->n)
		s->vals[s->n++] = in->v[in->n - 1].u.i;
	pthread_mutex_unlock(&s->lock);
	return SL_OK;
}

static void run_agg(sl_agg agg, const char *in, struct sink *sk)
{
	sl_value v[2] = { sl_str(L1), sl_str(L2) };
	size_t starts[2] = { 0, 2 };
	sl_spout *sp;
	sl_spout_fixed_new(&sp, 1, v, starts, 1, 0);
	sl_topology *t;
	sl_topology_new(&t, "agg");
	sl_stream *s = sl_topology_new_stream(t, "lines", sp, "line");
	s = sl_stream_flat_map(s, "line", sl_fn_split_words, NULL, "word");
	s = sl_stream_parallelism(sl_stream_shuffle(s), 2);
	s = sl_stream_filter(s, "word", not_the, NULL);
	s = sl_stream_each(s, "word", tag, NULL, "len");
	s = sl_stream_project(s, "len");
	s = sl_stream_aggregate(s, in, agg, "out");
	sl_stream_each(s, "out", collect, sk, "none");
	CU_ASSERT_EQUAL(sl_topology_error(t), SL_OK);
	sl_run_options o = quick();
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	sl_topology_free(t);
}

static void test_aggregators_over_a_shuffled_stream(void)
{
	/* words other than "the": cow jumped over moon man went to store and
	 * bought some candy: 12 words, lengths sum 49, min 2, max 6 */
	struct sink sk;
	struct {
		sl_agg agg;
		const char *in;
		int64_t want;
	} cases[]
	    = { { sl_agg_count(), NULL, 12 }, { sl_agg_sum(), "len", 49 },
		      { sl_agg_min(), "len", 2 }, { sl_agg_max(), "len", 6 } };
	for (size_t i = 0; i < 4; i++) {
		memset(&sk, 0, sizeof(sk));
		pthread_mutex_init(&sk.lock, NULL);
		run_agg(cases[i].agg, cases[i].in, &sk);
		CU_ASSERT_EQUAL(sk.n, 1);
		CU_ASSERT_EQUAL(sk.vals[0], cases[i].want);
	}
	memset(&sk, 0, sizeof(sk));
	pthread_mutex_init(&sk.lock, NULL);
}

static void test_drpc_stream_reads_committed_state(void)
{
	sl_value v[2] = { sl_str("hello the man said"), sl_str("the") };
	size_t starts[3] = { 0, 1, 2 };
	sl_spout *sp;
	sl_spout_fixed_new(&sp, 1, v, starts, 2, 0);
	sl_state *st = leveldb_state(SL_SEM_OPAQUE);
	sl_topology *t = sl_test_wordcount(sp, st);
	sl_stream *q = sl_topology_new_drpc_stream(t, "words");
	q = sl_stream_flat_map(q, "args", sl_fn_split_words, NULL, "word");
	q = sl_stream_state_query(q, st, "word", "count");
	sl_stream_aggregate(q, "count", sl_agg_sum(), "sum");
	sl_value r;
	CU_ASSERT_EQUAL(
	    sl_topology_drpc_call(t, "words", (const uint8_t *)"the", 3, &r),
	    SL_OK);
	CU_ASSERT(r.type == SL_INT && r.u.i == 0);
	sl_run_options o = quick();
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	const char *args[] = { "the", "hello", "", "nobody", "the man the" };
	int64_t want[] = { 2, 1, 0, 0, 5 };
	for (size_t i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(
		    sl_topology_drpc_call(t, "words", (const uint8_t *)args[i],
		        strlen(args[i]), &r),
		    SL_OK);
		CU_ASSERT(r.type == SL_INT && r.u.i == want[i]);
	}
	CU_ASSERT_EQUAL(
	    sl_topology_drpc_call(t, "nope", NULL, 0, &r), SL_ENOTFOUND);
	sl_topology_free(t);
	sl_state_close(st);
}

struct inject {
	sl_topology *t;
	int sent;
};

/* Forges frames into the first state task of a running, sealed topology:
 * one sealed with a wrong key, one cut short, and one sealed for another
 * topology (right cluster key, other name). */
static void inject_on_commit(void *user, uint64_t txid)
{
	struct inject *in = user;
	if (txid >= 20)
		sl_topology_stop(in->t);
	if (txid != 2 || in->sent)
		return;
	char url[128];
	if (sli_topology_task_url(in->t, 1, 0, url, sizeof(url)))
		return;
	sli_link *l;
	if (sli_link_push(&l, url, 4))
		return;
	uint8_t wrong[SL_KEY_BYTES], other[SL_KEY_BYTES],
	    cluster[SL_KEY_BYTES];
	memset(wrong, 9, sizeof(wrong));
	memset(cluster, 7, sizeof(cluster));
	sli_derive_key(other, cluster, "another-topology");
	const uint8_t *keys[3] = { wrong, other, other };
	for (int k = 0; k < 3; k++) {
		sli_frame_writer w;
		sli_frame_writer_init(&w);
		sli_frame_header h = { SLI_FRAME_DATA, 0, 3, 3, 1, 0, 0, 0 };
		sli_frame_writer_begin(&w, &h);
		sl_value v[2] = { sl_str("w1"), sl_int(1000) };
		sli_frame_writer_add(&w, v, 2);
		const uint8_t *d;
		size_t n;
		sli_frame_writer_finish(&w, keys[k], &d, &n);
		/* the third is cut short on the wire */
		if (sli_link_send(l, d, k == 2 ? n - 5 : n, 1000) == SL_OK)
			in->sent++;
		sli_frame_writer_free(&w);
	}
	usleep(50000);
	sli_link_close(l);
}

static void test_sealed_topology_drops_forged_and_foreign_frames(void)
{
	int64_t want1[17];
	sl_spout *sp = make_batches(5, want1);
	sl_state *st = leveldb_state(SL_SEM_OPAQUE);
	sl_topology *t = sl_test_wordcount(sp, st);
	uint8_t cluster[SL_KEY_BYTES];
	memset(cluster, 7, sizeof(cluster));
	struct inject in = { t, 0 };
	sl_run_options o = quick();
	o.cluster_key = cluster;
	o.max_pending = 1;
	o.on_commit = inject_on_commit;
	o.user = &in;
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	sl_topology_stats ts;
	sl_topology_stats_get(t, &ts);
	CU_ASSERT_EQUAL(in.sent, 3);
	CU_ASSERT(ts.rejected_frames >= 3);
	check_counts(st, want1); /* nothing forged was applied */
	sl_topology_free(t);
	sl_state_close(st);
}

SL_SUITE(trident, NULL, NULL,
    { "acceptance (a): transactional replay",
        test_acceptance_a_transactional_replay },
    { "acceptance (b): opaque replay with grown source",
        test_acceptance_b_opaque_replay_grows },
    { "acceptance (c): opaque replay regroups tuples",
        test_acceptance_c_opaque_replay_regroups },
    { "commits in txid order when batches finish reversed",
        test_commits_in_txid_order_when_batches_finish_reversed },
    { "failure at each stage is replayed exactly",
        test_failure_at_each_stage_is_replayed_exactly },
    { "max attempts stops naming txid and stage",
        test_max_attempts_stops_naming_txid_and_stage },
    { "missing fields rejected at build time",
        test_missing_fields_rejected_at_build_time },
    { "empty batch commits and counts nothing",
        test_empty_batch_commits_and_counts_nothing },
    { "aggregators over a shuffled stream",
        test_aggregators_over_a_shuffled_stream },
    { "drpc stream reads committed state",
        test_drpc_stream_reads_committed_state },
    { "sealed topology drops forged and foreign frames",
        test_sealed_topology_drops_forged_and_foreign_frames })
