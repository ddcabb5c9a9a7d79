/* test_livecount.c - the live view's counters of the engine: each replay
 * counted under its reason (the failure made on purpose through the test
 * hooks: a failed attempt at every stage, a commit record, a held-back
 * DONE for a timeout, the batches behind), the stages' busy time, and the
 * result of a stop (SL_OK, or SL_EFAILED when it ends a failing batch's
 * replays: red-team R20). */
#include "core/fault.h"
#include "../trident/trident.h"
#include "sltest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* Three lines a batch: txids 1..nb, split, counted in memory. */
static sl_topology *counting(sl_state **st, size_t nb)
{
	static sl_value v[16];
	static size_t starts[17];
	for (size_t i = 0; i < nb && i < 16; i++) {
		v[i] = sl_str("a b c a");
		starts[i] = i;
	}
	starts[nb] = nb;
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(
	    sl_spout_fixed_new(&sp, 1, v, starts, nb, 0), SL_OK);
	CU_ASSERT_EQUAL_FATAL(sl_state_open_memory(st, NULL), SL_OK);
	sl_topology *t;
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&t, "livecount"), SL_OK);
	sl_stream *s = sl_topology_new_stream(t, "lines", sp, "line");
	s = sl_stream_flat_map(s, "line", sl_fn_split_words, NULL, "word");
	s = sl_stream_group_by(s, "word");
	s = sl_stream_persistent_aggregate(s, *st, NULL, sl_agg_count(), "n");
	sl_stream_parallelism(s, 2);
	CU_ASSERT_EQUAL_FATAL(sl_topology_error(t), SL_OK);
	return t;
}

static uint64_t count_of(sl_state *st, const char *w)
{
	sl_value k = sl_str(w), v;
	return sl_state_get_group(st, &k, 1, &v) == SL_OK && v.type == SL_INT
	    ? (uint64_t)v.u.i
	    : 0;
}

static void check_reasons(sl_topology *t, const uint64_t want[])
{
	sl_topology_live lv;
	sl_topology_stats ts;
	CU_ASSERT_EQUAL(sl_topology_live_get(t, &lv), SL_OK);
	sl_topology_stats_get(t, &ts);
	uint64_t sum = 0;
	for (int r = 0; r < SL_REPLAY_REASONS; r++) {
		if (lv.replays_by[r] != want[r])
			printf("\n    %s: %llu replays, wanted %llu",
			    sl_replay_reason_name(r),
			    (unsigned long long)lv.replays_by[r],
			    (unsigned long long)want[r]);
		CU_ASSERT_EQUAL(lv.replays_by[r], want[r]);
		sum += lv.replays_by[r];
	}
	CU_ASSERT_EQUAL(sum, ts.replays);
}

/* One batch in flight at a time (nothing behind): a failure armed at
 * each stage of txid 3 is one replay under its reason, and the counts
 * stay exact. */
static void test_failure_counted_under_its_reason(void)
{
	static const struct {
		int stage, reason;
	} cases[] = {
		{ SLI_FAULT_SPOUT, SL_REPLAY_FAILED },
		{ SLI_FAULT_FUNCTION, SL_REPLAY_FAILED },
		{ SLI_FAULT_PARTIAL, SL_REPLAY_FAILED },
		{ SLI_FAULT_STATE, SL_REPLAY_FAILED },
		{ SLI_FAULT_COMMIT, SL_REPLAY_COMMIT },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sl_state *st;
		sl_topology *t = counting(&st, 5);
		sl_test_fault_once(cases[i].stage, t, 3, 1);
		sl_run_options o;
		sl_run_options_default(&o);
		o.max_pending = 1;
		CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
		/* it fired: a rule that fires is disarmed (times = 1) */
		CU_ASSERT_EQUAL(sli_fault_armed >> cases[i].stage & 1, 0);
		uint64_t want[SL_REPLAY_REASONS] = { 0 };
		want[cases[i].reason] = 1;
		check_reasons(t, want);
		CU_ASSERT_EQUAL(count_of(st, "a"), 10);
		sl_topology_live lv;
		sl_topology_live_get(t, &lv);
		CU_ASSERT(strlen(lv.last_replay) > 0);
		sl_topology_free(t);
		sl_state_close(st);
	}
	CU_ASSERT_STRING_EQUAL(
	    sl_replay_reason_name(SL_REPLAY_TIMEOUT), "timeout");
	CU_ASSERT_PTR_NULL(sl_replay_reason_name(SL_REPLAY_REASONS));
}

/* txid 2's first DONE is held back past the batch timeout: one replay
 * under "timeout". */
static _Atomic int held;

static int hold_first_done_of_2(void *user, uint64_t txid)
{
	(void)user;
	int no = 0;
	return txid == 2 && atomic_compare_exchange_strong(&held, &no, 1)
	    ? 1500
	    : 0;
}

static void test_timeout_counted_as_timeout(void)
{
	sl_state *st;
	sl_topology *t = counting(&st, 4);
	atomic_store(&held, 0);
	sli_topology_set_done_delay(t, hold_first_done_of_2, NULL);
	sl_run_options o;
	sl_run_options_default(&o);
	o.max_pending = 1;
	o.batch_timeout_ms = 300;
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	uint64_t want[SL_REPLAY_REASONS] = { 0 };
	want[SL_REPLAY_TIMEOUT] = 1;
	check_reasons(t, want);
	CU_ASSERT_EQUAL(count_of(st, "a"), 8);
	sl_topology_free(t);
	sl_state_close(st);
}

/* With batches in flight behind the failed one, those replay as
 * "behind"; the failure itself stays one "failed". */
static void test_batches_behind_counted_as_behind(void)
{
	sl_state *st;
	sl_topology *t = counting(&st, 8);
	sl_test_fault_once(SLI_FAULT_STATE, t, 2, 1);
	sl_run_options o;
	sl_run_options_default(&o);
	o.max_pending = 4;
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	sl_topology_live lv;
	sl_topology_stats ts;
	sl_topology_live_get(t, &lv);
	sl_topology_stats_get(t, &ts);
	CU_ASSERT_EQUAL(lv.replays_by[SL_REPLAY_FAILED], 1);
	CU_ASSERT_EQUAL(lv.replays_by[SL_REPLAY_TIMEOUT], 0);
	CU_ASSERT_EQUAL(lv.replays_by[SL_REPLAY_COMMIT], 0);
	CU_ASSERT_EQUAL(
	    lv.replays_by[SL_REPLAY_BEHIND], ts.replays - 1); /* 0 to 3 */
	CU_ASSERT(lv.replays_by[SL_REPLAY_BEHIND] <= 3);
	CU_ASSERT_EQUAL(count_of(st, "a"), 16);
	sl_topology_free(t);
	sl_state_close(st);
}

/* Every stage's busy time grows with the work done: after a run of 4
 * batches each stage has some; a second run of the same topology (more
 * input) adds to it. */
static void test_busy_time_moves(void)
{
	sl_state *st;
	sl_topology *t = counting(&st, 12);
	sl_run_options o;
	sl_run_options_default(&o);
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	sl_stage_stats s0, s1;
	CU_ASSERT_EQUAL(sl_topology_stage_get(t, 0, &s0), SL_OK);
	CU_ASSERT_EQUAL(sl_topology_stage_get(t, 1, &s1), SL_OK);
	CU_ASSERT(s0.busy_ns > 0);
	CU_ASSERT(s1.busy_ns > 0);
	sl_topology_stats ts;
	sl_topology_stats_get(t, &ts);
	/* busy time is part of the run's wall time, per task */
	CU_ASSERT((double)s1.busy_ns / 1e9 <= ts.elapsed_s * s1.tasks + 0.5);
	sl_topology_free(t);
	sl_state_close(st);
}

/* A stop that ends the replays of a failing batch returns SL_EFAILED,
 * naming the txid; a stop of a healthy run returns SL_OK. */
static int always_fail(void *user, const sl_tuple *in, sl_collector *out)
{
	(void)user, (void)in, (void)out;
	return sli_err(SL_EFAILED, "the function refuses");
}

static void *stop_after_replays(void *arg)
{
	sl_topology *t = arg;
	sl_topology_stats ts;
	/* the third replay has happened: stop (bounded: 30 s) */
	for (int i = 0; i < 3000; i++) {
		sl_topology_stats_get(t, &ts);
		if (ts.replays >= 3)
			break;
		struct timespec d = { 0, 10000000 };
		nanosleep(&d, NULL);
	}
	sl_topology_stop(t);
	return NULL;
}

static void stop_on_first_commit(void *user, uint64_t txid)
{
	(void)txid;
	sl_topology_stop(user);
}

static void test_stop_while_failing_is_not_ok(void)
{
	sl_state *st;
	CU_ASSERT_EQUAL_FATAL(sl_state_open_memory(&st, NULL), SL_OK);
	sl_value v[1] = { sl_str("x") };
	size_t starts[2] = { 0, 1 };
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(
	    sl_spout_fixed_new(&sp, 1, v, starts, 1, 1), SL_OK);
	sl_topology *t;
	sl_topology_new(&t, "stuck");
	sl_stream *s = sl_topology_new_stream(t, "in", sp, "line");
	s = sl_stream_each(s, "line", always_fail, NULL, "y");
	s = sl_stream_group_by(s, "y");
	sl_stream_persistent_aggregate(s, st, NULL, sl_agg_count(), "n");
	CU_ASSERT_EQUAL_FATAL(sl_topology_error(t), SL_OK);
	pthread_t th;
	pthread_create(&th, NULL, stop_after_replays, t);
	int rc = sl_topology_run(t, NULL);
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(rc, SL_EFAILED);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_topology_errmsg(t),
	    "stopped while "
	    "txid 1"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(sl_topology_errmsg(t), "the function refuses"));
	sl_topology_stats ts;
	sl_topology_stats_get(t, &ts);
	CU_ASSERT_EQUAL(ts.last_committed, 0);
	sl_topology_free(t);
	sl_state_close(st);

	/* healthy: a cycling spout stopped at its first commit */
	sl_state *st2;
	sl_topology *t2 = counting(&st2, 3);
	sl_run_options o;
	sl_run_options_default(&o);
	o.on_commit = stop_on_first_commit;
	o.user = t2;
	CU_ASSERT_EQUAL(sl_topology_run(t2, &o), SL_OK);
	CU_ASSERT_STRING_EQUAL(sl_topology_errmsg(t2), "");
	sl_topology_free(t2);
	sl_state_close(st2);
}

SL_SUITE(livecount, NULL, NULL,
    { "failure counted under its reason",
        test_failure_counted_under_its_reason },
    { "timeout counted as timeout", test_timeout_counted_as_timeout },
    { "batches behind counted as behind",
        test_batches_behind_counted_as_behind },
    { "busy time moves", test_busy_time_moves },
    { "stop while failing is not ok", test_stop_while_failing_is_not_ok })
