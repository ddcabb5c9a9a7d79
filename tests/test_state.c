/* test_state.c - map state semantics, rollback, committed reads, LevelDB
 * durability, locking, versions and corruption. */
#include "../core/fault.h"
#include "../state/kv.h"
#include "../state/state.h"
#include "sltest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static sl_state *open_sem(const char *dir, sl_semantics sem)
{
	sl_state_options o;
	sl_state_options_default(&o);
	o.semantics = sem;
	o.sync = 0;
	sl_state *s = NULL;
	int rc = dir ? sl_state_open_leveldb(&s, dir, &o)
	             : sl_state_open_memory(&s, &o);
	CU_ASSERT_EQUAL(rc, SL_OK);
	return s;
}

static int64_t get(sl_state *s, const char *k)
{
	sl_value v;
	int rc = sl_state_get(s, k, strlen(k), &v);
	if (rc == SL_ENOTFOUND)
		return -1;
	CU_ASSERT_EQUAL(rc, SL_OK);
	CU_ASSERT_EQUAL(v.type, SL_INT);
	return v.u.i;
}

/* Applies words (space separated, counted) as partition part of txid. */
static int apply_words(
    sl_state *s, uint32_t part, uint64_t txid, const char *text)
{
	sl_value keys[64], deltas[64];
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", text);
	size_t n = 0;
	for (char *w = strtok(buf, " "); w; w = strtok(NULL, " ")) {
		size_t i;
		for (i = 0; i < n; i++)
			if (keys[i].len == strlen(w)
			    && !memcmp(keys[i].u.p, w, strlen(w)))
				break;
		if (i == n) {
			keys[n] = sl_bytes(w, (uint32_t)strlen(w));
			deltas[n++] = sl_int(0);
		}
		deltas[i].u.i++;
	}
	return sli_state_apply(
	    s, part, txid, n, keys, deltas, sl_combiner_count());
}

/* One table row: apply (txid, words) then commit when asked, check x. */
static void run_table(sl_semantics sem, const char *dir)
{
	sl_state *s = open_sem(dir, sem);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	/* new txid */
	CU_ASSERT_EQUAL(apply_words(s, 0, 1, "x x"), SL_OK);
	CU_ASSERT_EQUAL(get(s, "x"), -1); /* not committed yet */
	CU_ASSERT_EQUAL(sli_state_commit(s, 1, "", 0), SL_OK);
	CU_ASSERT_EQUAL(get(s, "x"), 2);
	/* txid 2 applied, crash before commit: replay with same delta */
	CU_ASSERT_EQUAL(apply_words(s, 0, 2, "x"), SL_OK);
	CU_ASSERT_EQUAL(get(s, "x"), 2);
	CU_ASSERT_EQUAL(apply_words(s, 0, 2, "x"), SL_OK);
	CU_ASSERT_EQUAL(sli_state_commit(s, 2, "", 0), SL_OK);
	int64_t after_same = get(s, "x");
	/* txid 3 applied, replayed with a different delta */
	CU_ASSERT_EQUAL(apply_words(s, 0, 3, "x x x"), SL_OK);
	CU_ASSERT_EQUAL(apply_words(s, 0, 3, "x"), SL_OK);
	CU_ASSERT_EQUAL(sli_state_commit(s, 3, "", 0), SL_OK);
	int64_t after_diff = get(s, "x");
	/* an older txid than committed is refused */
	CU_ASSERT_EQUAL(apply_words(s, 0, 2, "x"), SL_ESTALE);
	switch (sem) {
	case SL_SEM_OPAQUE:
		CU_ASSERT_EQUAL(after_same, 3);
		CU_ASSERT_EQUAL(after_diff, 4); /* recomputed from prev */
		break;
	case SL_SEM_TRANSACTIONAL:
		CU_ASSERT_EQUAL(after_same, 3);
		CU_ASSERT_EQUAL(after_diff, 6); /* replay skipped */
		break;
	case SL_SEM_NONE:
		CU_ASSERT_EQUAL(after_same, 4); /* overcounts */
		CU_ASSERT_EQUAL(after_diff, 8);
		break;
	}
	sl_state_close(s);
}

static void test_semantics_tables_memory(void)
{
	run_table(SL_SEM_OPAQUE, NULL);
	run_table(SL_SEM_TRANSACTIONAL, NULL);
	run_table(SL_SEM_NONE, NULL);
}

static void test_semantics_tables_leveldb(void)
{
	char d[3][512];
	for (int i = 0; i < 3; i++)
		snprintf(d[i], sizeof(d[i]), "%s/db", sl_test_tmpdir("sem"));
	run_table(SL_SEM_OPAQUE, d[0]);
	run_table(SL_SEM_TRANSACTIONAL, d[1]);
	run_table(SL_SEM_NONE, d[2]);
}

/* Issue 5 case (c) at the state level: attempt 1 of txid 1 wrote L1's
 * words; its replay holds only L2: L1's words must go back. */
static void test_opaque_replay_rolls_back_untouched_keys(void)
{
	const char *dir = NULL;
	for (int backend = 0; backend < 2; backend++) {
		char d[512];
		if (backend) {
			snprintf(d, sizeof(d), "%s/db", sl_test_tmpdir("rb"));
			dir = d;
		}
		sl_state *s = open_sem(dir, SL_SEM_OPAQUE);
		CU_ASSERT_EQUAL(
		    apply_words(s, 0, 1, "the cow jumped over the moon"),
		    SL_OK);
		/* crash; replay of txid 1 reads another range */
		CU_ASSERT_EQUAL(apply_words(s, 0, 1,
		                    "the man went to the store and bought "
		                    "some candy"),
		    SL_OK);
		CU_ASSERT_EQUAL(sli_state_commit(s, 1, "", 0), SL_OK);
		CU_ASSERT_EQUAL(get(s, "cow"), -1);
		CU_ASSERT_EQUAL(get(s, "moon"), -1);
		CU_ASSERT_EQUAL(get(s, "the"), 2);
		CU_ASSERT_EQUAL(
		    apply_words(s, 0, 2, "the cow jumped over the moon"),
		    SL_OK);
		CU_ASSERT_EQUAL(sli_state_commit(s, 2, "", 0), SL_OK);
		CU_ASSERT_EQUAL(get(s, "cow"), 1);
		CU_ASSERT_EQUAL(get(s, "the"), 4);
		/* a key with an earlier value goes back to it, not away */
		CU_ASSERT_EQUAL(apply_words(s, 0, 3, "cow cow"), SL_OK);
		CU_ASSERT_EQUAL(apply_words(s, 0, 3, "moon"), SL_OK);
		CU_ASSERT_EQUAL(sli_state_commit(s, 3, "", 0), SL_OK);
		CU_ASSERT_EQUAL(get(s, "cow"), 1);
		CU_ASSERT_EQUAL(get(s, "moon"), 2);
		/* an empty replay rolls back everything of the attempt */
		CU_ASSERT_EQUAL(apply_words(s, 0, 4, "moon"), SL_OK);
		CU_ASSERT_EQUAL(apply_words(s, 0, 4, ""), SL_OK);
		CU_ASSERT_EQUAL(sli_state_commit(s, 4, "", 0), SL_OK);
		CU_ASSERT_EQUAL(get(s, "moon"), 2);
		sl_state_close(s);
	}
}

static void test_crash_between_partitions_is_exact_after_reopen(void)
{
	char d[512];
	snprintf(d, sizeof(d), "%s/db", sl_test_tmpdir("parts"));
	sl_state *s = open_sem(d, SL_SEM_OPAQUE);
	sli_state_set_partitions(s, 2);
	CU_ASSERT_EQUAL(apply_words(s, 0, 1, "a a"), SL_OK);
	CU_ASSERT_EQUAL(apply_words(s, 1, 1, "b"), SL_OK);
	CU_ASSERT_EQUAL(sli_state_commit(s, 1, "m1", 2), SL_OK);
	/* txid 2: partition 0 writes, then the process dies */
	CU_ASSERT_EQUAL(apply_words(s, 0, 2, "a c"), SL_OK);
	CU_ASSERT_EQUAL(get(s, "a"), 2); /* committed view */
	CU_ASSERT_EQUAL(get(s, "c"), -1);
	sl_state_close(s);
	s = open_sem(d, SL_SEM_OPAQUE);
	sli_state_set_partitions(s, 2);
	uint64_t t;
	sli_buf meta;
	sli_buf_init(&meta);
	CU_ASSERT_EQUAL(sli_state_committed(s, &t, &meta), SL_OK);
	CU_ASSERT_EQUAL(t, 1);
	CU_ASSERT(meta.len == 2 && !memcmp(meta.data, "m1", 2));
	sli_buf_free(&meta);
	CU_ASSERT_EQUAL(get(s, "a"), 2);
	CU_ASSERT_EQUAL(get(s, "c"), -1);
	/* the replay reads a different range: "a" only */
	CU_ASSERT_EQUAL(apply_words(s, 0, 2, "a"), SL_OK);
	CU_ASSERT_EQUAL(apply_words(s, 1, 2, "b"), SL_OK);
	CU_ASSERT_EQUAL(sli_state_commit(s, 2, "", 0), SL_OK);
	CU_ASSERT_EQUAL(get(s, "a"), 3);
	CU_ASSERT_EQUAL(get(s, "b"), 2);
	CU_ASSERT_EQUAL(get(s, "c"), -1);
	CU_ASSERT_EQUAL(sli_state_commit(s, 5, "", 0), SL_ESTALE);
	sl_state_close(s);
}

static void test_failed_apply_leaves_nothing_behind(void)
{
	char d[512];
	snprintf(d, sizeof(d), "%s/db", sl_test_tmpdir("fail"));
	sl_state *s = open_sem(d, SL_SEM_OPAQUE);
	CU_ASSERT_EQUAL(apply_words(s, 0, 1, "k"), SL_OK);
	CU_ASSERT_EQUAL(sli_state_commit(s, 1, "", 0), SL_OK);
	sli_fault_rule before = { .point = SLI_FAULT_STATE_BEFORE_WRITE,
		.obj = s,
		.a = 2,
		.b = 1,
		.times = 1 };
	CU_ASSERT_EQUAL_FATAL(sli_fault_config(&before, 1), SL_OK);
	CU_ASSERT_EQUAL(apply_words(s, 0, 2, "k k"), SL_EFAILED);
	CU_ASSERT_EQUAL(apply_words(s, 0, 2, "k"), SL_OK);
	CU_ASSERT_EQUAL(sli_state_commit(s, 2, "", 0), SL_OK);
	CU_ASSERT_EQUAL(get(s, "k"), 2);
	sli_fault_rule after = { .point = SLI_FAULT_STATE_AFTER_WRITE,
		.obj = s,
		.a = 3,
		.b = 1,
		.times = 1 };
	CU_ASSERT_EQUAL_FATAL(sli_fault_config(&after, 1), SL_OK);
	CU_ASSERT_EQUAL(apply_words(s, 0, 3, "k k k"), SL_EFAILED);
	CU_ASSERT_EQUAL(get(s, "k"), 2);
	CU_ASSERT_EQUAL(apply_words(s, 0, 3, "k"), SL_OK);
	CU_ASSERT_EQUAL(sli_state_commit(s, 3, "", 0), SL_OK);
	CU_ASSERT_EQUAL(get(s, "k"), 3);
	sli_fault_config(NULL, 0);
	sl_state_close(s);
}

static int collect(void *u, const uint8_t *k, size_t kl, const sl_value *v)
{
	char *out = u;
	size_t n = strlen(out);
	snprintf(out + n, 256 - n, "%.*s=%lld;", (int)kl, (const char *)k,
	    (long long)v->u.i);
	return 0;
}

static void test_foreach_and_stats_show_committed_only(void)
{
	char d[512];
	snprintf(d, sizeof(d), "%s/db", sl_test_tmpdir("each"));
	sl_state *s = open_sem(d, SL_SEM_TRANSACTIONAL);
	apply_words(s, 0, 1, "b a b");
	sli_state_commit(s, 1, "", 0);
	apply_words(s, 0, 2, "c a");
	char out[256] = "";
	CU_ASSERT_EQUAL(sl_state_foreach(s, collect, out), SL_OK);
	CU_ASSERT_STRING_EQUAL(out, "a=1;b=2;");
	sl_state_stats st;
	CU_ASSERT_EQUAL(sl_state_stats_get(s, &st), SL_OK);
	CU_ASSERT_EQUAL(st.keys, 2);
	CU_ASSERT_EQUAL(st.last_committed, 1);
	CU_ASSERT_EQUAL(st.semantics, SL_SEM_TRANSACTIONAL);
	CU_ASSERT(st.disk_bytes > 0);
	sl_state_close(s);
}

static void test_meta_round_trips(void)
{
	sl_state *s = open_sem(NULL, SL_SEM_OPAQUE);
	sli_buf b;
	sli_buf_init(&b);
	CU_ASSERT_EQUAL(sli_state_get_meta(s, "file", 3, &b), SL_ENOTFOUND);
	CU_ASSERT_EQUAL(sli_state_put_meta(s, "file", 3, "0-99", 4), SL_OK);
	CU_ASSERT_EQUAL(sli_state_get_meta(s, "file", 3, &b), SL_OK);
	CU_ASSERT(b.len == 4 && !memcmp(b.data, "0-99", 4));
	CU_ASSERT_EQUAL(sli_state_get_meta(s, "fil", 3, &b), SL_ENOTFOUND);
	sli_buf_free(&b);
	sl_state_close(s);
}

static void test_second_process_gets_locked_error(void)
{
	char d[512];
	snprintf(d, sizeof(d), "%s/db", sl_test_tmpdir("lock"));
	sl_state *s = open_sem(d, SL_SEM_OPAQUE);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		sl_state_options o;
		sl_state_options_default(&o);
		sl_state *t;
		int rc = sl_state_open_leveldb(&t, d, &o);
		_exit(rc == SL_ELOCKED && strstr(sl_errdetail(), "locked")
		        ? 0
		        : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* the state tool refuses too, with a clear message */
	int rc = sl_test_sh("%s state dump '%s' >/dev/null 2>%s/err.txt",
	    sl_test_sluice_bin(), d, d);
	CU_ASSERT_NOT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(sl_test_sh("grep -q 'locked' %s/err.txt", d), 0);
	sl_state_close(s);
}

static void test_refuses_newer_format_and_other_semantics(void)
{
	char d[512];
	snprintf(d, sizeof(d), "%s/db", sl_test_tmpdir("ver"));
	sl_state *s = open_sem(d, SL_SEM_OPAQUE);
	apply_words(s, 0, 1, "x");
	sli_state_commit(s, 1, "", 0);
	sl_state_close(s);
	sl_state_options o;
	sl_state_options_default(&o);
	o.semantics = SL_SEM_NONE;
	CU_ASSERT_EQUAL(sl_state_open_leveldb(&s, d, &o), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "opaque"));
	/* the version record is written by hand as a newer sluice would */
	sli_kv *kv;
	CU_ASSERT_EQUAL_FATAL(sli_kv_leveldb_open(&kv, d, 0), SL_OK);
	sli_kv_batch b;
	sli_kv_batch_init(&b);
	uint8_t ver[4] = { 9, 0, 0, 0 };
	sli_kv_batch_put(&b, "\0format", 7, ver, 4);
	CU_ASSERT_EQUAL(kv->ops->write(kv, &b, 1), SL_OK);
	sli_kv_batch_free(&b);
	kv->ops->close(kv);
	sl_state_options_default(&o);
	CU_ASSERT_EQUAL(sl_state_open_leveldb(&s, d, &o), SL_EVERSION);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "newer"));
}

static void test_not_a_state_and_corrupt_files_are_named(void)
{
	const char *d = sl_test_tmpdir("corrupt");
	sl_state_options o;
	sl_state_options_default(&o);
	o.read_only = 1;
	sl_state *s;
	CU_ASSERT_EQUAL(sl_state_open_leveldb(&s, d, &o), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "not a sluice state"));
	char db[512];
	snprintf(db, sizeof(db), "%s/db", d);
	s = open_sem(db, SL_SEM_OPAQUE);
	for (int t = 1; t <= 50; t++) {
		char w[64];
		snprintf(w, sizeof(w), "w%d w%d", t, t + 1);
		apply_words(s, 0, (uint64_t)t, w);
		sli_state_commit(s, (uint64_t)t, "", 0);
	}
	sl_state_close(s);
	/* smash the MANIFEST */
	CU_ASSERT_EQUAL(sl_test_sh("for f in %s/MANIFEST-*; do "
	                           "printf 'garbage-garbage-garbage' | dd "
	                           "of=$f bs=1 seek=0 conv=notrunc "
	                           "2>/dev/null; done",
	                    db),
	    0);
	sl_state_options_default(&o);
	int rc = sl_state_open_leveldb(&s, db, &o);
	CU_ASSERT(rc == SL_ECORRUPT || rc == SL_EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "MANIFEST"));
}

static void test_combiners(void)
{
	sl_value a = sl_int(3), b = sl_double(1.5), c = sl_int(INT64_MAX), out;
	const sl_combiner *sum = sl_combiner_sum(), *mn = sl_combiner_min(),
	                  *mx = sl_combiner_max();
	CU_ASSERT_EQUAL(sum->combine(NULL, &a, &b, &out), SL_OK);
	CU_ASSERT(out.type == SL_DOUBLE && out.u.d == 4.5);
	CU_ASSERT_EQUAL(sum->combine(NULL, &a, &c, &out), SL_EOVERFLOW);
	CU_ASSERT_EQUAL(mn->combine(NULL, &a, &b, &out), SL_OK);
	CU_ASSERT(out.type == SL_DOUBLE && out.u.d == 1.5);
	CU_ASSERT_EQUAL(mx->combine(NULL, &a, &c, &out), SL_OK);
	CU_ASSERT_EQUAL(out.u.i, INT64_MAX);
	sl_value z = sum->zero;
	CU_ASSERT_EQUAL(sum->combine(NULL, &z, &a, &out), SL_OK);
	CU_ASSERT_EQUAL(out.u.i, 3);
	sl_value s = sl_str("x");
	CU_ASSERT_EQUAL(sum->combine(NULL, &a, &s, &out), SL_EINVAL);
}

/* 300 batches over 40 keys whose counts grow past one- and two-byte
 * varints (in-place updates that must grow), a tiny LRU cache (evictions
 * on every batch) and a replay of every fifth txid with other deltas
 * before its commit (opaque: the last attempt counts). Every committed
 * value equals an independent count, before and after a reopen. */
static void check_cache_churn(const char *dir)
{
	enum { NK = 40, NT = 300 };
	sl_state_options o;
	sl_state_options_default(&o);
	o.sync = 0;
	o.cache_entries = 8;
	sl_state *s = NULL;
	CU_ASSERT_EQUAL_FATAL(dir ? sl_state_open_leveldb(&s, dir, &o)
	                          : sl_state_open_memory(&s, &o),
	    SL_OK);
	int64_t want[NK] = { 0 };
	char names[NK][8];
	sl_value keys[NK], deltas[NK];
	for (int i = 0; i < NK; i++) {
		snprintf(names[i], sizeof(names[i]), "k%d", i);
		keys[i] = sl_bytes(names[i], (uint32_t)strlen(names[i]));
	}
	for (uint64_t t = 1; t <= NT; t++) {
		int replayed = t % 5 == 0;
		size_t n = NK;
		for (int attempt = 0; attempt < (replayed ? 2 : 1);
		     attempt++) {
			for (int i = 0; i < NK; i++)
				deltas[i] = sl_int(
				    (int64_t)((t * 7 + (uint64_t)i * 13
				                  + (uint64_t)attempt * 5)
				        % 200));
			/* a replayed txid: the first attempt writes every
			 * key, the replay only half of them, so the replay
			 * must roll the other half back to their values
			 * before t (the first attempt's deltas are lost) */
			n = attempt == 1 ? NK / 2 : NK;
			CU_ASSERT_EQUAL(sli_state_apply(s, 0, t, n, keys,
			                    deltas, sl_combiner_count()),
			    SL_OK);
		}
		for (size_t i = 0; i < n; i++)
			want[i] += deltas[i].u.i;
		CU_ASSERT_EQUAL(sli_state_commit(s, t, "", 0), SL_OK);
	}
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < NK; i++)
			CU_ASSERT_EQUAL(get(s, names[i]), want[i]);
		if (!dir || round)
			break;
		sl_state_close(s);
		s = NULL;
		CU_ASSERT_EQUAL_FATAL(
		    sl_state_open_leveldb(&s, dir, &o), SL_OK);
	}
	/* the stored values grew past two varint bytes (the record layout
	 * changes size under the cache) */
	CU_ASSERT(get(s, names[0]) > 16384);
	CU_ASSERT(get(s, names[NK - 1]) > 16384);
	sl_state_close(s);
}

static void test_cache_churn_and_growing_values_stay_exact(void)
{
	char d[512];
	snprintf(d, sizeof(d), "%s/db", sl_test_tmpdir("churn"));
	check_cache_churn(d);
	check_cache_churn(NULL);
}

/* Red team T1: a directory another process is creating (its lock held,
 * no CURRENT yet) reads as locked, not as damaged. R12: a creation
 * interrupted before CURRENT (MANIFEST-000001 only: no data) starts
 * again; any other LevelDB file without CURRENT is still refused. */
static void test_creation_in_progress_or_interrupted(void)
{
	char d[512];
	snprintf(d, sizeof(d), "%s/db", sl_test_tmpdir("creation"));
	sl_state *s1 = open_sem(d, SL_SEM_OPAQUE), *s2 = NULL;
	CU_ASSERT_EQUAL(sl_test_sh("rm '%s/CURRENT'", d), 0);
	CU_ASSERT_EQUAL(sl_state_open_leveldb(&s2, d, NULL), SL_ELOCKED);
	sl_state_close(s1);
	CU_ASSERT_EQUAL(sl_state_open_leveldb(&s2, d, NULL), SL_ECORRUPT);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "no CURRENT"));
	snprintf(d, sizeof(d), "%s/db", sl_test_tmpdir("interrupted"));
	CU_ASSERT_EQUAL(
	    sl_test_sh("mkdir -p '%s' && echo x >'%s/MANIFEST-000001'"
	               " && : >'%s/LOG' && : >'%s/LOCK'",
	        d, d, d, d),
	    0);
	sl_state *s = open_sem(d, SL_SEM_OPAQUE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(apply_words(s, 0, 1, "k"), SL_OK);
	CU_ASSERT_EQUAL(sli_state_commit(s, 1, "", 0), SL_OK);
	sl_state_close(s);
	s = open_sem(d, SL_SEM_OPAQUE);
	CU_ASSERT_EQUAL(get(s, "k"), 1);
	sl_state_close(s);
	snprintf(d, sizeof(d), "%s/db", sl_test_tmpdir("interrupted2"));
	CU_ASSERT_EQUAL(
	    sl_test_sh("mkdir -p '%s' && echo x >'%s/MANIFEST-000001'"
	               " && echo y >'%s/000003.log'",
	        d, d, d),
	    0);
	CU_ASSERT_EQUAL(sl_state_open_leveldb(&s2, d, NULL), SL_ECORRUPT);
	CU_ASSERT_EQUAL(sl_test_sh("test -s '%s/000003.log'", d), 0);
}

/* sl_state_apply_batch: each call is the next committed batch; a
 * read-only state and a key that is not bytes are refused with nothing
 * committed. */
static void test_apply_batch_folds_and_commits(void)
{
	char d[512];
	snprintf(d, sizeof(d), "%s/db", sl_test_tmpdir("batch"));
	sl_state *s = open_sem(d, SL_SEM_NONE);
	sl_value k[2] = { sl_bytes("a", 1), sl_bytes("b", 1) };
	sl_value v[2] = { sl_int(3), sl_int(4) };
	CU_ASSERT_EQUAL(
	    sl_state_apply_batch(s, 2, k, v, sl_combiner_count()), SL_OK);
	CU_ASSERT_EQUAL(
	    sl_state_apply_batch(s, 1, k, v, sl_combiner_count()), SL_OK);
	uint64_t txid = 0;
	sl_state_last_committed(s, &txid);
	CU_ASSERT_EQUAL(txid, 2);
	CU_ASSERT_EQUAL(get(s, "a"), 6);
	CU_ASSERT_EQUAL(get(s, "b"), 4);
	sl_value bad = sl_int(1);
	CU_ASSERT_EQUAL(
	    sl_state_apply_batch(s, 1, &bad, v, sl_combiner_count()),
	    SL_EINVAL);
	CU_ASSERT_EQUAL(sl_state_apply_batch(s, 1, k, v, NULL), SL_EINVAL);
	sl_state_last_committed(s, &txid);
	CU_ASSERT_EQUAL(txid, 2);
	sl_state_close(s);
	sl_state_options o;
	sl_state_options_default(&o);
	o.semantics = SL_SEM_NONE;
	o.read_only = 1;
	CU_ASSERT_EQUAL_FATAL(sl_state_open_leveldb(&s, d, &o), SL_OK);
	CU_ASSERT_EQUAL(
	    sl_state_apply_batch(s, 2, k, v, sl_combiner_count()), SL_EPERM);
	CU_ASSERT_EQUAL(get(s, "a"), 6);
	sl_state_close(s);
}

SL_SUITE(state, NULL, NULL,
    { "cache churn and growing values stay exact",
        test_cache_churn_and_growing_values_stay_exact },
    { "semantics tables (memory)", test_semantics_tables_memory },
    { "semantics tables (leveldb)", test_semantics_tables_leveldb },
    { "opaque replay rolls back untouched keys",
        test_opaque_replay_rolls_back_untouched_keys },
    { "crash between partitions is exact after reopen",
        test_crash_between_partitions_is_exact_after_reopen },
    { "failed apply leaves nothing behind",
        test_failed_apply_leaves_nothing_behind },
    { "foreach and stats show committed only",
        test_foreach_and_stats_show_committed_only },
    { "meta round trips", test_meta_round_trips },
    { "second process gets locked error",
        test_second_process_gets_locked_error },
    { "refuses newer format and other semantics",
        test_refuses_newer_format_and_other_semantics },
    { "not a state and corrupt files are named",
        test_not_a_state_and_corrupt_files_are_named },
    { "combiners", test_combiners },
    { "creation in progress or interrupted",
        test_creation_in_progress_or_interrupted },
    { "apply batch folds and commits", test_apply_batch_folds_and_commits })
