/* test_misuse.c - C API misuse that used to crash or emit garbage (red
 * team, session 4): a topology freed while it runs (F10), and a fixed
 * spout whose batch starts do not rise (F12). Each case is made to happen
 * on purpose: the free waits for a commit, never for a clock. */
#include "sltest.h"
#include "sluice.h"

#include <pthread.h>
#include <stdatomic.h>
#include <semaphore.h>
#include <string.h>

typedef struct {
	sl_topology *t;
	sl_state *st;
	sem_t committed;
	int rc;
	int free_in_callback; /* free t from on_commit at txid 2 */
	uint64_t commits;
} runner;

static void on_commit(void *user, uint64_t txid)
{
	runner *r = user;
	r->commits = txid;
	if (r->free_in_callback && txid == 2)
		sl_topology_free(r->t);
	sem_post(&r->committed);
}

static void *run_thread(void *arg)
{
	runner *r = arg;
	sl_run_options o;
	sl_run_options_default(&o);
	o.batch_size = 50;
	o.batch_ms = 5;
	o.on_commit = on_commit;
	o.user = r;
	r->rc = sl_topology_run(r->t, &o);
	return NULL;
}

/* An endless sentence count into a memory state. */
static void build(runner *r)
{
	memset(r, 0, sizeof(*r));
	sem_init(&r->committed, 0, 0);
	CU_ASSERT_EQUAL_FATAL(sl_state_open_memory(&r->st, NULL), SL_OK);
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&r->t, "misuse"), SL_OK);
	sl_spout *sp = NULL;
	CU_ASSERT_EQUAL_FATAL(sl_spout_sentence_new(&sp, 7, 0), SL_OK);
	sl_stream *s
	    = sl_topology_new_stream(r->t, "sentences", sp, "sentence");
	s = sl_stream_flat_map(s, "sentence", sl_fn_split_words, NULL, "word");
	s = sl_stream_group_by(s, "word");
	sl_stream_persistent_aggregate(s, r->st, NULL, sl_agg_count(), "n");
	CU_ASSERT_EQUAL_FATAL(sl_topology_error(r->t), SL_OK);
}

/* After a free during the run: the run ended as a stop (not a failure)
 * after at least min commits, the state holds the last one; closes it. */
static void stopped_exact(runner *r, uint64_t min)
{
	CU_ASSERT_EQUAL(r->rc, SL_OK);
	CU_ASSERT(r->commits >= min);
	uint64_t last = 0;
	CU_ASSERT_EQUAL(sl_state_last_committed(r->st, &last), SL_OK);
	CU_ASSERT_EQUAL(last, r->commits);
	sl_state_close(r->st);
	sem_destroy(&r->committed);
}

static void test_free_from_another_thread_while_running(void)
{
	runner r;
	build(&r);
	pthread_t th;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, run_thread, &r), 0);
	sem_wait(&r.committed); /* the run is under way: txid 1 committed */
	sl_topology_free(r.t); /* returns at once; the run frees it */
	pthread_join(th, NULL);
	stopped_exact(&r, 1);
}

static void test_free_from_its_own_commit_callback(void)
{
	runner r;
	build(&r);
	r.free_in_callback = 1;
	run_thread(&r); /* on this thread: returns after the stop */
	stopped_exact(&r, 2);
}

static void test_fixed_spout_starts_must_rise(void)
{
	sl_value v[8];
	for (int i = 0; i < 8; i++)
		v[i] = sl_int(i);
	sl_spout *sp = NULL;
	const size_t down[] = { 0, 7, 1 };
	CU_ASSERT_EQUAL(sl_spout_fixed_new(&sp, 1, v, down, 2, 0), SL_EINVAL);
	CU_ASSERT_PTR_NULL(sp);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "must not decrease"));
	const size_t late[] = { 1, 2 };
	CU_ASSERT_EQUAL(sl_spout_fixed_new(&sp, 1, v, late, 1, 0), SL_EINVAL);
	const size_t ok[] = { 0, 0, 8 }; /* an empty batch is fine */
	CU_ASSERT_EQUAL(sl_spout_fixed_new(&sp, 1, v, ok, 2, 0), SL_OK);
	sl_spout_free(sp);
}

/* A stop while a join emits a cross product of 1.6 * 10^9 tuples (40,000
 * tuples on one key joined with themselves): the run returns once the
 * stop's bound has passed, instead of finishing the product (it kept
 * going for minutes and gigabytes in the soak). The stop is asked after
 * the first joined tuple arrives, so the product is under way. */
static sem_t joined;
static atomic_long njoined;

static int count_joined(void *u, const sl_tuple *in, sl_collector *c)
{
	(void)u, (void)in, (void)c;
	if (atomic_fetch_add(&njoined, 1) == 0)
		sem_post(&joined);
	return SL_OK;
}

static void *run_plain(void *arg)
{
	runner *r = arg;
	sl_run_options o;
	sl_run_options_default(&o);
	r->rc = sl_topology_run(r->t, &o);
	return NULL;
}

static void test_stop_during_a_huge_join_returns(void)
{
	enum { N = 40000 };
	static sl_value v[2 * N];
	for (int i = 0; i < N; i++) {
		v[2 * i] = sl_str("k");
		v[2 * i + 1] = sl_int(i);
	}
	const size_t starts[] = { 0, N };
	sl_spout *sp = NULL;
	CU_ASSERT_EQUAL_FATAL(
	    sl_spout_fixed_new(&sp, 2, v, starts, 1, 0), SL_OK);
	runner r;
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&r.t, "bigjoin"), SL_OK);
	sl_stream *s = sl_topology_new_stream(r.t, "in", sp, "k,i");
	sl_stream *j
	    = sl_topology_join(r.t, s, "k", s, "k", "k,a,b", SL_JOIN_INNER);
	sl_stream_each(j, "a", count_joined, NULL, "");
	CU_ASSERT_EQUAL_FATAL(sl_topology_error(r.t), SL_OK);
	sem_init(&joined, 0, 0);
	atomic_store(&njoined, 0);
	pthread_t th;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, run_plain, &r), 0);
	sem_wait(&joined);
	sl_topology_stop(r.t);
	pthread_join(
	    th, NULL); /* without the bound: 1.6 * 10^9 tuples first */
	CU_ASSERT(atomic_load(&njoined) < (long)N * N);
	sl_topology_free(r.t);
	sem_destroy(&joined);
}

SL_SUITE(misuse, NULL, NULL,
    { "stop during a huge join returns",
        test_stop_during_a_huge_join_returns },
    { "free from another thread while running",
        test_free_from_another_thread_while_running },
    { "free from its own commit callback",
        test_free_from_its_own_commit_callback },
    { "fixed spout starts must rise", test_fixed_spout_starts_must_rise })
