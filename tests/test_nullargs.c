/* test_nullargs.c - every public call given NULL where it wants a pointer
 * (red-team finding R8: 48 of them crashed). Each call runs in a forked
 * child, so a crash names the call instead of ending the suite: the call
 * must return its error (SL_EINVAL, NULL, 0 or a sticky topology error,
 * as include/sluice/ says per function) and never touch the NULL. */
#include "sltest.h"
#include "sluice.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int bad;

/* Runs one call in a child; 0 when it returned want without a crash. */
#define EXPECT(expr, want)                                                    \
	do {                                                                  \
		fflush(NULL);                                                 \
		pid_t p_ = fork();                                            \
		if (p_ == 0) {                                                \
			alarm(20);                                            \
			long r_ = (long)(expr);                               \
			if (r_ != (long)(want))                               \
				fprintf(stderr,                               \
				    "null args: %s returned %ld\n", #expr,    \
				    r_);                                      \
			_exit(r_ == (long)(want) ? 0 : 1);                    \
		}                                                             \
		int ws_ = 0;                                                  \
		waitpid(p_, &ws_, 0);                                         \
		int ok_ = WIFEXITED(ws_) && WEXITSTATUS(ws_) == 0;            \
		CU_ASSERT(ok_);                                               \
		if (!ok_) {                                                   \
			bad++;                                                \
			fprintf(stderr, "null args: %s: %s\n", #expr,         \
			    WIFSIGNALED(ws_) ? strsignal(WTERMSIG(ws_))       \
			                     : "wrong result");               \
		}                                                             \
	} while (0)
/* A call whose result is not the point: it must only return. */
#define SURVIVES(expr) EXPECT(((void)(expr), 0), 0)

static int fn(void *u, const sl_tuple *in, sl_collector *c)
{
	(void)u;
	(void)in;
	(void)c;
	return 0;
}

static int drpc_fn(
    void *u, const char *f, const uint8_t *args, size_t len, sl_value *result)
{
	(void)u;
	(void)f;
	(void)args;
	(void)len;
	*result = sl_str("x");
	return 0;
}

static void test_core_calls_refuse_null(void)
{
	bad = 0;
	sl_fields *f = NULL;
	sl_value x = sl_str("a");
	uint8_t key[SL_KEY_BYTES] = { 0 };
	size_t n = 0, pos = 0;
	char buf[64];
	const uint8_t *w = NULL;
	EXPECT(sl_fields_new(NULL, 0, NULL), SL_EINVAL);
	EXPECT(sl_fields_new(&f, 1, NULL), SL_EINVAL);
	EXPECT(sl_fields_parse(NULL, "a"), SL_EINVAL);
	EXPECT(sl_fields_parse(&f, NULL), SL_OK); /* documented: empty */
	EXPECT(sl_fields_count(NULL), 0);
	EXPECT(sl_fields_name(NULL, 0), 0);
	EXPECT(sl_fields_index(NULL, "a"), SL_EINVAL);
	SURVIVES(sl_fields_free(NULL));
	EXPECT(sl_value_equal(NULL, &x), 0);
	EXPECT(sl_value_equal(&x, NULL), 0);
	EXPECT(sl_value_equal(NULL, NULL), 1);
	EXPECT(sl_str(NULL).type, SL_NULL);
	SURVIVES(sl_value_hash(key, NULL));
	SURVIVES(sl_value_hash(NULL, &x));
	SURVIVES(sl_hash(NULL, NULL, 0));
	EXPECT(sl_next_word(NULL, 0, &pos, &w), 0);
	EXPECT(sl_next_word((const uint8_t *)"a b", 3, NULL, &w), 0);
	EXPECT(sl_key_from_hex(NULL, "00"), SL_EINVAL);
	EXPECT(sl_key_from_hex(key, NULL), SL_EINVAL);
	EXPECT(sl_key_from_file(NULL, "/dev/null"), SL_EINVAL);
	SURVIVES(sl_key_derive(NULL, key, "c"));
	SURVIVES(sl_key_derive(key, NULL, "c"));
	SURVIVES(sl_wipe(NULL, 8));
	EXPECT(sl_values_format(NULL, 1, buf, sizeof(buf), &n), SL_EINVAL);
	EXPECT(sl_values_format(&x, 1, NULL, 8, &n), SL_EINVAL);
	EXPECT(sl_values_parse(NULL, (uint8_t *)buf, sizeof(buf), &x, 1, &n),
	    SL_EINVAL);
	EXPECT(sl_values_parse("a", (uint8_t *)buf, sizeof(buf), NULL, 1, &n),
	    SL_EINVAL);
	EXPECT(sl_semantics_parse(NULL, NULL), SL_EINVAL);
	EXPECT(sl_errorf(SL_EINVAL, NULL), SL_EINVAL);
	EXPECT(sl_count_words(NULL, 5), 0);
	EXPECT(sl_fasthash(NULL, 5) == sl_fasthash("", 0), 1);
	EXPECT(sl_fields_of(NULL) != NULL, 1); /* the empty schema */
	EXPECT(sl_agg_combiner(NULL).kind, SL_AGG_COMBINER);
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_state_calls_refuse_null(void)
{
	bad = 0;
	sl_state *st = NULL;
	CU_ASSERT_EQUAL_FATAL(sl_state_open_memory(&st, NULL), SL_OK);
	sl_value x = sl_str("a");
	uint64_t u = 0;
	size_t n = 0;
	uint8_t kb[32];
	sl_state_stats ss;
	sl_state_counters sc;
	SURVIVES(sl_state_options_default(NULL));
	EXPECT(sl_state_open_leveldb(NULL, "/nonexistent/x", NULL), SL_EINVAL);
	EXPECT(sl_state_open_leveldb(&st, NULL, NULL), SL_EINVAL);
	EXPECT(sl_state_open_memory(NULL, NULL), SL_EINVAL);
	SURVIVES(sl_state_close(NULL));
	EXPECT(sl_state_get(NULL, "a", 1, &x), SL_EINVAL);
	EXPECT(sl_state_get(st, NULL, 5, &x), SL_EINVAL);
	EXPECT(sl_state_get(st, "a", 1, NULL), SL_EINVAL);
	EXPECT(sl_state_key(NULL, 1, kb, sizeof(kb), &n), SL_EINVAL);
	EXPECT(sl_state_key(&x, 1, kb, sizeof(kb), NULL), SL_EINVAL);
	EXPECT(sl_state_key_values(NULL, 5, &x, 1, &n), SL_EINVAL);
	EXPECT(sl_state_key_values(kb, 0, NULL, 1, &n), SL_EINVAL);
	EXPECT(sl_state_get_group(NULL, &x, 1, &x), SL_EINVAL);
	EXPECT(sl_state_get_group(st, NULL, 1, &x), SL_EINVAL);
	EXPECT(sl_state_get_group(st, &x, 1, NULL), SL_EINVAL);
	EXPECT(sl_state_last_committed(NULL, &u), SL_EINVAL);
	EXPECT(sl_state_last_committed(st, NULL), SL_EINVAL);
	EXPECT(sl_state_apply_batch(NULL, 1, &x, &x, sl_combiner_count()),
	    SL_EINVAL);
	EXPECT(sl_state_apply_batch(st, 1, NULL, &x, sl_combiner_count()),
	    SL_EINVAL);
	EXPECT(sl_state_apply_batch(st, 1, &x, NULL, sl_combiner_count()),
	    SL_EINVAL);
	EXPECT(sl_state_apply_batch(st, 1, &x, &x, NULL), SL_EINVAL);
	EXPECT(sl_state_foreach(NULL, NULL, NULL), SL_EINVAL);
	EXPECT(sl_state_foreach(st, NULL, NULL), SL_EINVAL);
	EXPECT(sl_state_stats_get(NULL, &ss), SL_EINVAL);
	EXPECT(sl_state_stats_get(st, NULL), SL_EINVAL);
	EXPECT(sl_state_counters_get(NULL, &sc), SL_EINVAL);
	EXPECT(sl_state_counters_get(st, NULL), SL_EINVAL);
	EXPECT(sl_state_upgrade(NULL, NULL, 0, NULL, NULL), SL_EINVAL);
	EXPECT(sl_state_repair(NULL), SL_EINVAL);
	sl_state_close(st);
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_topology_calls_refuse_null(void)
{
	bad = 0;
	sl_topology *t = NULL;
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&t, "nulls"), SL_OK);
	sl_value v[] = { sl_str("a") };
	size_t starts[] = { 0, 1 };
	sl_spout *sp = NULL;
	CU_ASSERT_EQUAL_FATAL(
	    sl_spout_fixed_new(&sp, 1, v, starts, 1, 0), SL_OK);
	sl_stream *s = sl_topology_new_stream(t, "sp", sp, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	sl_topology_stats ts;
	sl_topology_live lv;
	sl_stage_stats sg;
	sl_value x;
	EXPECT(sl_topology_new(NULL, "x"), SL_EINVAL);
	SURVIVES(sl_topology_free(NULL));
	EXPECT(sl_topology_error(NULL), SL_EINVAL);
	SURVIVES(sl_topology_errmsg(NULL));
	EXPECT(sl_topology_new_stream(NULL, "x", sp, "w"), 0);
	EXPECT(sl_topology_new_stream(t, "x", NULL, "w"), 0);
	EXPECT(sl_topology_new_drpc_stream(NULL, "f"), 0);
	EXPECT(sl_stream_merge(NULL, &s, 1), 0);
	EXPECT(sl_stream_merge(t, NULL, 2), 0);
	EXPECT(sl_topology_join(NULL, s, "w", s, "w", "w", SL_JOIN_INNER), 0);
	EXPECT(sl_stream_each(NULL, "w", fn, NULL, "o"), 0);
	EXPECT(sl_stream_map(NULL, "w", fn, NULL, "o"), 0);
	EXPECT(sl_stream_flat_map(NULL, "w", fn, NULL, "o"), 0);
	EXPECT(sl_stream_filter(NULL, "w", NULL, NULL), 0);
	EXPECT(sl_stream_project(NULL, "w"), 0);
	EXPECT(sl_stream_partition_by(NULL, "w"), 0);
	EXPECT(sl_stream_broadcast(NULL), 0);
	EXPECT(sl_stream_global(NULL), 0);
	EXPECT(sl_stream_group_by(NULL, "w"), 0);
	EXPECT(sl_stream_aggregate(NULL, "w", sl_agg_count(), "c"), 0);
	EXPECT(
	    sl_stream_partition_aggregate(NULL, "w", sl_agg_count(), "c"), 0);
	EXPECT(sl_stream_persistent_aggregate(
	           NULL, NULL, NULL, sl_agg_count(), "c"),
	    0);
	EXPECT(sl_stream_state_query(NULL, NULL, "w", "c"), 0);
	EXPECT(sl_fn_split_words(NULL, NULL, NULL), SL_EINVAL);
	/* a NULL state or combiner where a stream needs one: the topology
	 * keeps the first error, never a crash */
	EXPECT(sl_stream_persistent_aggregate(
	           sl_stream_group_by(s, "w"), NULL, NULL, sl_agg_count(), "c")
	            == NULL
	        || sl_topology_error(t) != SL_OK,
	    1);
	EXPECT(sl_stream_aggregate(s, "w", sl_agg_combiner(NULL), "c") == NULL
	        || sl_topology_error(t) != SL_OK,
	    1);
	EXPECT(sl_stream_shuffle(NULL), 0);
	EXPECT(sl_stream_parallelism(NULL, 2), 0);
	EXPECT(sl_stream_name(NULL, "n"), 0);
	SURVIVES(sl_run_options_default(NULL));
	EXPECT(sl_topology_run(NULL, NULL), SL_EINVAL);
	SURVIVES(sl_topology_stop(NULL));
	EXPECT(sl_topology_stats_get(NULL, &ts), SL_EINVAL);
	EXPECT(sl_topology_stats_get(t, NULL), SL_EINVAL);
	EXPECT(sl_topology_live_get(NULL, &lv), SL_EINVAL);
	EXPECT(sl_topology_live_get(t, NULL), SL_EINVAL);
	EXPECT(sl_topology_stage_get(NULL, 0, &sg), SL_EINVAL);
	EXPECT(sl_topology_stage_get(t, 0, NULL), SL_EINVAL);
	EXPECT(sl_topology_drpc_call(NULL, "f", NULL, 0, &x), SL_EINVAL);
	EXPECT(sl_topology_drpc_call(t, NULL, NULL, 0, &x), SL_EINVAL);
	EXPECT(sl_topology_drpc_call(t, "f", NULL, 0, NULL), SL_EINVAL);
	EXPECT(sl_drpc_server_start_topology(NULL, NULL, t), SL_EINVAL);
	sl_drpc_server *ds = NULL;
	EXPECT(sl_drpc_server_start_topology(&ds, NULL, NULL), SL_EINVAL);
	EXPECT(sl_emit(NULL, v, 1), SL_EINVAL);
	EXPECT(sl_spout_txid(NULL), 0);
	EXPECT(sl_spout_attempt(NULL), 0);
	EXPECT(sl_spout_prev_meta(NULL, NULL), 0);
	EXPECT(sl_spout_replay_meta(NULL, NULL), 0);
	EXPECT(sl_spout_set_meta(NULL, "a", 1), SL_EINVAL);
	SURVIVES(sl_spout_set_eof(NULL));
	SURVIVES(sl_spout_set_fatal(NULL));
	EXPECT(sl_spout_batch_size(NULL), 0);
	EXPECT(sl_spout_batch_ms(NULL), 0);
	EXPECT(sl_spout_new(NULL, NULL, NULL), SL_EINVAL);
	EXPECT(sl_spout_new(&sp, NULL, NULL), SL_EINVAL);
	SURVIVES(sl_spout_free(NULL));
	sl_topology_free(t);
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_spout_drpc_plain_app_calls_refuse_null(void)
{
	bad = 0;
	sl_spout *sp = NULL;
	sl_value v[] = { sl_str("a") };
	size_t starts[] = { 0, 1 };
	EXPECT(sl_spout_fixed_new(NULL, 1, v, starts, 1, 0), SL_EINVAL);
	EXPECT(sl_spout_fixed_new(&sp, 1, NULL, starts, 1, 0), SL_EINVAL);
	EXPECT(sl_spout_fixed_new(&sp, 1, v, NULL, 1, 0), SL_EINVAL);
	EXPECT(sl_spout_sentence_new(NULL, 1, 1), SL_EINVAL);
	EXPECT(sl_spout_file_new(NULL, "x"), SL_EINVAL);
	EXPECT(sl_spout_file_new(&sp, NULL), SL_EINVAL);
	SURVIVES(sl_spout_file_follow(NULL, 1));
	EXPECT(sl_spout_file_lines(NULL), 0);
	SURVIVES(sl_spout_file_count_words(NULL, 1));
	EXPECT(sl_spout_file_words(NULL), 0);
	EXPECT(sl_spout_partitioned_new(NULL, 1, NULL, NULL, NULL, NULL),
	    SL_EINVAL);
	EXPECT(sl_spout_partitioned_append(NULL, 0, "x"), SL_EINVAL);
	EXPECT(sl_spout_socket_new(NULL, "inproc://x"), SL_EINVAL);
	EXPECT(sl_spout_socket_new(&sp, NULL), SL_EINVAL);

	sl_drpc_stats dst;
	char *reply = NULL;
	SURVIVES(sl_drpc_options_default(NULL));
	EXPECT(sl_drpc_server_start(NULL, NULL, drpc_fn, NULL), SL_EINVAL);
	sl_drpc_server *ds = NULL;
	EXPECT(sl_drpc_server_start(&ds, NULL, NULL, NULL), SL_EINVAL);
	SURVIVES(sl_drpc_server_stop(NULL));
	EXPECT(sl_drpc_server_stats(NULL, &dst), SL_EINVAL);
	EXPECT(sl_drpc_call(NULL, "f", "a", 100, &reply), SL_EINVAL);
	EXPECT(sl_drpc_call("tcp://127.0.0.1:1", NULL, NULL, 100, &reply),
	    SL_EINVAL);
	EXPECT(
	    sl_drpc_call("tcp://127.0.0.1:1", "f", "a", 100, NULL), SL_EINVAL);
	EXPECT(sl_drpc_call_keyed(
	           "tcp://127.0.0.1:1", NULL, NULL, "a", 100, &reply),
	    SL_EINVAL);

	sl_plain *p = NULL;
	sl_plain_stats ps;
	SURVIVES(sl_plain_options_default(NULL));
	EXPECT(sl_plain_new(NULL, NULL), SL_EINVAL);
	SURVIVES(sl_plain_free(NULL));
	EXPECT(sl_plain_run(NULL), SL_EINVAL);
	EXPECT(sl_plain_set_spout(NULL, "s", NULL, NULL, "a"), SL_EINVAL);
	EXPECT(sl_plain_add_bolt(NULL, "b", "s", SL_GROUP_SHUFFLE, NULL, NULL,
	           NULL, NULL, 1),
	    SL_EINVAL);
	EXPECT(sl_plain_stats_get(NULL, &ps), SL_EINVAL);
	EXPECT(sl_plain_emit(NULL, v, 1), SL_EINVAL);
	EXPECT(sl_plain_spout_emit(NULL, 1, v, 1), SL_EINVAL);
	EXPECT(sl_plain_task_index(NULL), 0);
	EXPECT(sl_plain_split_words(NULL, NULL, NULL), SL_EINVAL);
	CU_ASSERT_EQUAL_FATAL(sl_plain_new(&p, NULL), SL_OK);
	EXPECT(sl_plain_stats_get(p, NULL), SL_EINVAL);
	sl_plain_free(p);

	sl_app *app = NULL;
	const char *unit = NULL;
	uint64_t val = 0;
	EXPECT(sl_app_new(NULL, NULL, NULL), SL_EINVAL);
	SURVIVES(sl_app_free(NULL));
	EXPECT(sl_app_topology(NULL, "t"), 0);
	EXPECT(sl_app_get_topology(NULL), 0);
	EXPECT(sl_app_state(NULL, "s", NULL), SL_EINVAL);
	EXPECT(sl_app_fail(NULL, "x"), SL_EINVAL);
	SURVIVES(sl_app_set_progress(NULL, "u", NULL, NULL));
	EXPECT(sl_app_name(NULL), 0);
	EXPECT(sl_app_error(NULL), 0);
	EXPECT(sl_app_nstates(NULL), 0);
	EXPECT(sl_app_state_at(NULL, 0, NULL), 0);
	EXPECT(sl_app_progress(NULL, &unit, &val), SL_EINVAL);
	(void)app;
	CU_ASSERT_EQUAL(bad, 0);
}

SL_SUITE(nullargs, NULL, NULL,
    { "core calls refuse NULL", test_core_calls_refuse_null },
    { "state calls refuse NULL", test_state_calls_refuse_null },
    { "topology calls refuse NULL", test_topology_calls_refuse_null },
    { "spout, DRPC, plain and app calls refuse NULL",
        test_spout_drpc_plain_app_calls_refuse_null })
