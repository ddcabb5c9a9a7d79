/* test_trident.c - the Trident layer through the public API: acceptance
 * cases (a), (b), (c) of the word count, the coordinator's ordering and
 * replays, build-time field errors, aggregators and DRPC streams. */
#include "../trident/trident.h"
#include "sltest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define L1 "the cow jumped over the moon"
#define L2 "the man went to the store and bought some candy"
#define L3 "four score and seven years ago"

static int split(void *user, const sl_tuple *in, sl_collector *out)
{
	(void)user;
	size_t pos = 0, n;
	const uint8_t *w;
	while ((n = sli_next_word(in->v[0].u.p, in->v[0].len, &pos, &w))) {
		sl_value v = sl_bytes(w, (uint32_t)n);
		int rc = sl_emit(out, &v, 1);
		if (rc)
			return rc;
	}
	return SL_OK;
}

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

static int64_t count_of(sl_state *s, const char *w)
{
	sl_value v;
	int rc = sl_state_get(s, w, strlen(w), &v);
	if (rc == SL_ENOTFOUND)
		return 0;
	CU_ASSERT_EQUAL(rc, SL_OK);
	return v.type == SL_INT ? v.u.i : -1;
}

/* split -> group_by(word) -> persistent Count, parallelism 2 at the state */
static sl_topology *wordcount(
    const sl_spout_ops *ops, void *self, sl_state *st)
{
	sl_topology *t;
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&t, "wc"), SL_OK);
	sl_stream *s = sl_topology_new_stream(t, "lines", ops, self, "line");
	s = sl_stream_flat_map(s, "line", split, NULL, "word");
	s = sl_stream_group_by(s, "word");
	s = sl_stream_persistent_aggregate(
	    s, st, NULL, sl_agg_count(), "count");
	sl_stream_parallelism(s, 2);
	CU_ASSERT_EQUAL(sl_topology_error(t), SL_OK);
	return t;
}

static void check_final(sl_state *st, int case_c)
{
	CU_ASSERT_EQUAL(count_of(st, "the"), 4);
	CU_ASSERT_EQUAL(count_of(st, "moon"), 1);
	CU_ASSERT_EQUAL(count_of(st, "and"), 2);
	CU_ASSERT_EQUAL(count_of(st, "four"), 1);
	CU_ASSERT_EQUAL(count_of(st, "man"), 1);
	if (case_c) {
		CU_ASSERT_EQUAL(count_of(st, "cow"), 1);
		CU_ASSERT_EQUAL(count_of(st, "jumped"), 1);
		CU_ASSERT_EQUAL(count_of(st, "over"), 1);
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
	void *sp;
	CU_ASSERT_EQUAL_FATAL(sl_spout_fixed_new(&sp, 1, v, starts, 3, 0), 0);
	sl_state *st = leveldb_state(SL_SEM_TRANSACTIONAL);
	sl_topology *t = wordcount(&sl_spout_fixed_ops, sp, st);
	sli_topology_fail_once(t, SLI_FAIL_STATE, 1, 1);
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
	void *spout;
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
	void *sp;
	CU_ASSERT_EQUAL_FATAL(
	    sl_spout_partitioned_new(&sp, 3, mode == 'b' ? lines_b : lines_c,
	        mode == 'b' ? n_b : n_c, script_fn, &sc),
	    SL_OK);
	sc.spout = sp;
	sl_state *st = leveldb_state(SL_SEM_OPAQUE);
	sl_topology *t = wordcount(&sl_spout_partitioned_ops, sp, st);
	sli_topology_fail_once(t, SLI_FAIL_STATE, 1, 1);
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

SL_SUITE(trident, NULL, NULL,
    { "acceptance (a): transactional replay",
        test_acceptance_a_transactional_replay },
    { "acceptance (b): opaque replay with grown source",
        test_acceptance_b_opaque_replay_grows },
    { "acceptance (c): opaque replay regroups tuples",
        test_acceptance_c_opaque_replay_regroups })
