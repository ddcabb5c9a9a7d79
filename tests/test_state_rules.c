/* test_state_rules.c - apply rules of the state that the engine never
 * reaches in a normal run, made to happen on purpose through the state's
 * own API (found by mutation testing, tests/mutations: M14 survived every
 * other test). */
#include "../state/state.h"
#include "sltest.h"

#include <stdio.h>
#include <string.h>

static int64_t committed_x(sl_state *s)
{
	sl_value v;
	int rc = sl_state_get(s, "x", 1, &v);
	if (rc == SL_ENOTFOUND)
		return -1;
	CU_ASSERT_EQUAL(rc, SL_OK);
	return v.type == SL_INT ? v.u.i : -2;
}

static int apply_x(sl_state *s, uint64_t txid, int64_t n)
{
	sl_value k = sl_bytes("x", 1), d = sl_int(n);
	return sli_state_apply(s, 0, txid, 1, &k, &d, sl_combiner_count());
}

/* A key already written by txid 3 gets an apply of the older, uncommitted
 * txid 2: that batch is already folded in (the record keeps txid 3), so
 * committing 2 and then 3 reads what 3 wrote, not 2's delta on top. */
static void check_older_txid(sl_semantics sem, const char *dir)
{
	sl_state_options o;
	sl_state_options_default(&o);
	o.semantics = sem;
	o.sync = 0;
	sl_state *s = NULL;
	CU_ASSERT_EQUAL_FATAL(dir ? sl_state_open_leveldb(&s, dir, &o)
	                          : sl_state_open_memory(&s, &o),
	    SL_OK);
	CU_ASSERT_EQUAL(apply_x(s, 1, 2), SL_OK);
	CU_ASSERT_EQUAL(sli_state_commit(s, 1, "", 0), SL_OK);
	CU_ASSERT_EQUAL(apply_x(s, 3, 1), SL_OK);
	CU_ASSERT_EQUAL(apply_x(s, 2, 5), SL_OK);
	CU_ASSERT_EQUAL(committed_x(s), 2);
	CU_ASSERT_EQUAL(sli_state_commit(s, 2, "", 0), SL_OK);
	CU_ASSERT_EQUAL(committed_x(s), 2); /* 3's record: prev */
	CU_ASSERT_EQUAL(sli_state_commit(s, 3, "", 0), SL_OK);
	CU_ASSERT_EQUAL(committed_x(s), 3);
	sl_state_close(s);
}

static void test_older_txid_is_already_folded_in(void)
{
	check_older_txid(SL_SEM_OPAQUE, NULL);
	check_older_txid(SL_SEM_TRANSACTIONAL, NULL);
	char d1[600], d2[600];
	snprintf(d1, sizeof(d1), "%s/o", sl_test_tmpdir("older-txid"));
	snprintf(d2, sizeof(d2), "%s/t", sl_test_tmpdir("older-txid"));
	check_older_txid(SL_SEM_OPAQUE, d1);
	check_older_txid(SL_SEM_TRANSACTIONAL, d2);
}

/* sl_state_apply_batch is not a spout's batch: its commit keeps the
 * spout position of the last one (it wrote an empty one, and the file
 * spout of the topology's next run started its input again: red team
 * F4); a repeated key is refused, nothing committed (one delta was lost
 * with SL_OK: F11). */
static void test_apply_batch_keeps_the_position_refuses_repeats(void)
{
	char d[600];
	snprintf(d, sizeof(d), "%s/st", sl_test_tmpdir("apply-batch"));
	sl_state *s = NULL;
	CU_ASSERT_EQUAL_FATAL(sl_state_open_leveldb(&s, d, NULL), SL_OK);
	CU_ASSERT_EQUAL(apply_x(s, 1, 2), SL_OK);
	CU_ASSERT_EQUAL(sli_state_commit(s, 1, "POSITION", 8), SL_OK);
	sl_value k[2] = { sl_bytes("x", 1), sl_bytes("x", 1) };
	sl_value dl[2] = { sl_int(1), sl_int(1) };
	CU_ASSERT_EQUAL(
	    sl_state_apply_batch(s, 2, k, dl, sl_combiner_count()), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "key 1 repeats key 0"));
	uint64_t txid;
	sl_state_last_committed(s, &txid);
	CU_ASSERT_EQUAL(txid, 1);
	CU_ASSERT_EQUAL(committed_x(s), 2);
	CU_ASSERT_EQUAL(
	    sl_state_apply_batch(s, 1, k, dl, sl_combiner_count()), SL_OK);
	sl_state_close(s);
	/* reopened: txid 2 committed, with the position of txid 1 */
	CU_ASSERT_EQUAL_FATAL(sl_state_open_leveldb(&s, d, NULL), SL_OK);
	sli_buf meta;
	sli_buf_init(&meta);
	CU_ASSERT_EQUAL(sli_state_committed(s, &txid, &meta), SL_OK);
	CU_ASSERT_EQUAL(txid, 2);
	CU_ASSERT(meta.len == 8 && !memcmp(meta.data, "POSITION", 8));
	CU_ASSERT_EQUAL(committed_x(s), 3);
	sli_buf_free(&meta);
	sl_state_close(s);
}

/* apply_batch after a run that crashed between its state writes and its
 * commit (red team F13): the crashed batch's writes are rolled back and
 * the ranges it recorded for txids past the commit are dropped (the
 * topology's next run replayed the range of txid 4 and lost batch 3's). */
static void test_apply_batch_after_a_crashed_run(void)
{
	char d[600];
	snprintf(d, sizeof(d), "%s/st", sl_test_tmpdir("apply-crash"));
	sl_state *s = NULL;
	CU_ASSERT_EQUAL_FATAL(sl_state_open_leveldb(&s, d, NULL), SL_OK);
	CU_ASSERT_EQUAL(sli_state_put_meta(s, "spout", 1, "R1", 2), SL_OK);
	CU_ASSERT_EQUAL(apply_x(s, 1, 5), SL_OK);
	CU_ASSERT_EQUAL(sli_state_commit(s, 1, "R1", 2), SL_OK);
	/* the crashed run: ranges of txids 2 and 3, txid 2 written */
	CU_ASSERT_EQUAL(sli_state_put_meta(s, "spout", 2, "R2", 2), SL_OK);
	CU_ASSERT_EQUAL(sli_state_put_meta(s, "spout", 3, "R3", 2), SL_OK);
	CU_ASSERT_EQUAL(apply_x(s, 2, 100), SL_OK);
	sl_state_close(s);
	CU_ASSERT_EQUAL_FATAL(sl_state_open_leveldb(&s, d, NULL), SL_OK);
	sl_value k = sl_bytes("x", 1), dl = sl_int(1);
	CU_ASSERT_EQUAL(
	    sl_state_apply_batch(s, 1, &k, &dl, sl_combiner_count()), SL_OK);
	CU_ASSERT_EQUAL(committed_x(s), 6); /* 5 + 1: the crash's 100 gone */
	sli_buf m;
	sli_buf_init(&m);
	CU_ASSERT_EQUAL(sli_state_get_meta(s, "spout", 1, &m), SL_OK);
	CU_ASSERT_EQUAL(sli_state_get_meta(s, "spout", 2, &m), SL_ENOTFOUND);
	CU_ASSERT_EQUAL(sli_state_get_meta(s, "spout", 3, &m), SL_ENOTFOUND);
	uint64_t txid;
	CU_ASSERT_EQUAL(sli_state_committed(s, &txid, &m), SL_OK);
	CU_ASSERT(txid == 2 && m.len == 2 && !memcmp(m.data, "R1", 2));
	sli_buf_free(&m);
	sl_state_close(s);
}

SL_SUITE(state_rules, NULL, NULL,
    { "an older uncommitted txid is already folded in",
        test_older_txid_is_already_folded_in },
    { "apply_batch keeps the position, refuses repeats",
        test_apply_batch_keeps_the_position_refuses_repeats },
    { "apply_batch after a crashed run",
        test_apply_batch_after_a_crashed_run })
