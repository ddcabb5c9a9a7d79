/* test_plain.c - plain tuple mode: the XOR acker on trees of every shape,
 * timeouts, failure injection with acking on and off, max_spout_pending. */
#include "../core/fault.h"
#include "../plain/plain.h"
#include "../trident/trident.h"
#include "sltest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state ? rng_state : 1;
}

/* Builds a tree of the given depth and fan-out; returns the acks (one per
 * tuple: its id XOR its children's ids) in a shuffled order. */
static size_t build_acks(
    int depth, int fan, uint64_t first, uint64_t *acks, size_t max)
{
	uint64_t level[4096], next[4096];
	size_t nl = 1, n = 0;
	level[0] = first;
	for (int d = 0; d < depth; d++) {
		size_t nn = 0;
		for (size_t i = 0; i < nl; i++) {
			uint64_t x = level[i];
			int kids = d + 1 < depth ? fan : 0;
			for (int c = 0; c < kids && nn < 4096; c++) {
				next[nn] = rnd();
				x ^= next[nn++];
			}
			if (n < max)
				acks[n++] = x;
		}
		memcpy(level, next, nn * sizeof(uint64_t));
		nl = nn;
		if (!nl)
			break;
	}
	for (size_t i = n; i > 1; i--) {
		size_t j = rnd() % i;
		uint64_t t = acks[i - 1];
		acks[i - 1] = acks[j];
		acks[j] = t;
	}
	return n;
}

static void test_xor_acker_completes_every_tree_exactly_once(void)
{
	static uint64_t acks[20000];
	sli_acker a;
	CU_ASSERT_EQUAL_FATAL(sli_acker_init(&a, 3), SL_OK);
	int shapes = 0;
	for (int depth = 1; depth <= 5; depth++)
		for (int fan = 1; fan <= 100; fan += (fan < 5 ? 1 : 19)) {
			/* keep trees under ~5000 tuples */
			size_t size = 1, lvl = 1;
			for (int d = 1; d < depth; d++)
				size += (lvl *= (size_t)fan);
			if (size > 5000)
				continue;
			uint64_t root = rnd(), first = rnd();
			size_t n = build_acks(depth, fan, first, acks, 20000);
			CU_ASSERT_EQUAL(n, size);
			sli_tree t;
			int done = 0;
			/* the spout's init may come before or after acks */
			int init_at = (int)(rnd() % (n + 1));
			for (size_t i = 0; i <= n; i++) {
				int st;
				if ((int)i == init_at)
					st = sli_acker_start(&a, root, first,
					    0, (uint64_t)shapes, &t);
				else
					st = sli_acker_ack(&a, root,
					    acks[i - ((int)i > init_at)], &t);
				if (st == SLI_ACK_DONE) {
					done++;
					CU_ASSERT_EQUAL(
					    t.msgid, (uint64_t)shapes);
					CU_ASSERT_EQUAL(
					    i, n); /* only at the end */
				}
			}
			CU_ASSERT_EQUAL(done, 1);
			shapes++;
		}
	CU_ASSERT(shapes >= 20);
	CU_ASSERT_EQUAL(sli_acker_pending(&a), 0);
	sli_acker_free(&a);
}

static int expired_n;
static uint64_t expired_id;
static void on_expire(void *user, const sli_tree *t)
{
	(void)user;
	expired_n++;
	expired_id = t->msgid;
}

static void test_missing_ack_times_out_into_fail(void)
{
	sli_acker a;
	sli_acker_init(&a, 3);
	uint64_t acks[64];
	size_t n = build_acks(3, 3, 777, acks, 64);
	sli_tree t;
	CU_ASSERT_EQUAL(
	    sli_acker_start(&a, 5, 777, 0, 42, &t), SLI_ACK_PENDING);
	for (size_t i = 0; i + 1 < n; i++) /* one ack never comes */
		CU_ASSERT_EQUAL(
		    sli_acker_ack(&a, 5, acks[i], &t), SLI_ACK_PENDING);
	expired_n = 0;
	CU_ASSERT_EQUAL(sli_acker_rotate(&a, on_expire, NULL), 0);
	CU_ASSERT_EQUAL(sli_acker_rotate(&a, on_expire, NULL), 1);
	CU_ASSERT_EQUAL(expired_n, 1);
	CU_ASSERT_EQUAL(expired_id, 42);
	CU_ASSERT_EQUAL(sli_acker_pending(&a), 0);
	/* an explicit fail reports once */
	sli_acker_start(&a, 9, 1, 0, 43, &t);
	CU_ASSERT_EQUAL(sli_acker_fail(&a, 9, &t), SLI_ACK_FAILED);
	CU_ASSERT_EQUAL(t.msgid, 43);
	CU_ASSERT_EQUAL(sli_acker_ack(&a, 9, 1, &t), SLI_ACK_PENDING);
	sli_acker_free(&a);
}

/* ---- the plain word count through the public API ---- */
#define NLINES 20000
#define VOCAB  500

typedef struct src {
	char text[NLINES][48];
	uint64_t next;
	uint64_t *replay;
	size_t nreplay;
	uint8_t *failed, *replayed;
	uint64_t pending, max_pending_seen, limit;
	pthread_mutex_t lock;
} src;

static int src_next(void *self, sl_plain_collector *c)
{
	src *s = self;
	uint64_t id;
	if (s->nreplay) {
		id = s->replay[--s->nreplay];
		s->replayed[id]++;
	} else if (s->next < NLINES)
		id = s->next++;
	else
		return SL_ECLOSED;
	s->pending++;
	if (s->pending > s->max_pending_seen)
		s->max_pending_seen = s->pending;
	sl_value v = sl_str(s->text[id]);
	return sl_plain_spout_emit(c, id, &v, 1);
}

static void src_ack(void *self, uint64_t id)
{
	(void)id;
	((src *)self)->pending--;
}

static void src_fail(void *self, uint64_t id)
{
	src *s = self;
	s->pending--;
	s->failed[id]++;
	s->replay[s->nreplay++] = id;
}

typedef struct tally {
	int64_t n[2][VOCAB]; /* per count task */
} tally;

static int count_bolt(void *user, const sl_tuple *in, sl_plain_collector *c)
{
	tally *t = user;
	char w[32];
	size_t n = in->v[0].len < sizeof(w) - 1 ? in->v[0].len : sizeof(w) - 1;
	memcpy(w, in->v[0].u.p, n);
	w[n] = 0; /* values are not NUL-terminated */
	int id = atoi(w + 1);
	if (id >= 0 && id < VOCAB)
		t->n[sl_plain_task_index(c)][id]++;
	return SL_OK;
}

static src *make_src(int64_t want[VOCAB])
{
	src *s = calloc(1, sizeof(*s));
	s->replay = calloc(NLINES * 4, sizeof(uint64_t));
	s->failed = calloc(NLINES, 1);
	s->replayed = calloc(NLINES, 1);
	memset(want, 0, VOCAB * sizeof(int64_t));
	for (int i = 0; i < NLINES; i++) {
		int a = (int)(rnd() % VOCAB), b = (int)(rnd() % VOCAB);
		snprintf(
		    s->text[i], sizeof(s->text[i]), "w%d w%d w%d", a, b, a);
		want[a] += 2;
		want[b]++;
	}
	return s;
}

static void free_src(src *s)
{
	free(s->replay);
	free(s->failed);
	free(s->replayed);
	free(s);
}

static sl_plain *make_topo(
    src *s, tally *t, int acking, double drop, uint32_t pending)
{
	sl_plain_options o;
	sl_plain_options_default(&o);
	o.acking = acking;
	o.seed = 7;
	/* a short timeout only where frames are dropped on purpose: without
	 * drops, a slow machine (or TSan) would time trees out and replay
	 * them, and the exact counts below would depend on its speed */
	o.message_timeout_ms = drop > 0 ? 200 : 60000;
	o.max_spout_pending = pending;
	o.frame_tuples = 64;
	static const sl_plain_spout ops
	    = { "src", src_next, src_ack, src_fail };
	sl_plain *p;
	CU_ASSERT_EQUAL_FATAL(sl_plain_new(&p, &o), SL_OK);
	/* frames between bolts dropped by the fault hook (each test
	 * disarms it before freeing p) */
	sli_fault_rule r
	    = { .point = SLI_FAULT_PLAIN_DROP, .obj = p, .rate = drop };
	CU_ASSERT_EQUAL(sli_fault_config(&r, drop > 0), SL_OK);
	CU_ASSERT_EQUAL(sl_plain_set_spout(p, "src", &ops, s, "line"), SL_OK);
	CU_ASSERT_EQUAL(sl_plain_add_bolt(p, "split", "src", SL_GROUP_SHUFFLE,
	                    NULL, sl_plain_split_words, NULL, "word", 2),
	    SL_OK);
	CU_ASSERT_EQUAL(sl_plain_add_bolt(p, "count", "split", SL_GROUP_FIELDS,
	                    "word", count_bolt, t, "", 2),
	    SL_OK);
	return p;
}

static void test_acking_on_counts_every_word_and_replays_failed_ids(void)
{
	int64_t want[VOCAB];
	src *s = make_src(want);
	tally *t = calloc(1, sizeof(*t));
	sl_plain *p = make_topo(s, t, 1, 0.01, 2000);
	CU_ASSERT_EQUAL(sl_plain_run(p), SL_OK);
	sl_plain_stats st;
	sl_plain_stats_get(p, &st);
	int under = 0;
	for (int w = 0; w < VOCAB; w++)
		if (t->n[0][w] + t->n[1][w] < want[w])
			under++;
	CU_ASSERT_EQUAL(under, 0);
	CU_ASSERT(st.dropped_frames > 0);
	CU_ASSERT(st.failed > 0);
	CU_ASSERT_EQUAL(st.acked, NLINES);
	/* the spout replayed exactly the ids that failed */
	int mismatch = 0;
	for (int i = 0; i < NLINES; i++)
		if (s->failed[i] != s->replayed[i])
			mismatch++;
	CU_ASSERT_EQUAL(mismatch, 0);
	printf("\n    acking on: %llu frames dropped, %llu trees failed and "
	       "replayed\n",
	    (unsigned long long)st.dropped_frames,
	    (unsigned long long)st.failed);
	sli_fault_config(NULL, 0);
	sl_plain_free(p);
	free(t);
	free_src(s);
}

static void test_acking_off_loses_and_reports_the_loss(void)
{
	int64_t want[VOCAB];
	src *s = make_src(want);
	tally *t = calloc(1, sizeof(*t));
	sl_plain *p = make_topo(s, t, 0, 0.01, 2000);
	CU_ASSERT_EQUAL(sl_plain_run(p), SL_OK);
	sl_plain_stats st;
	sl_plain_stats_get(p, &st);
	int over = 0;
	int64_t got = 0, total = 0;
	for (int w = 0; w < VOCAB; w++) {
		if (t->n[0][w] + t->n[1][w] > want[w])
			over++;
		got += t->n[0][w] + t->n[1][w];
		total += want[w];
	}
	if (over || got + (int64_t)st.lost_tuples != total)
		printf("\n    over %d got %lld lost %llu total %lld emitted "
		       "%llu\n",
		    over, (long long)got, (unsigned long long)st.lost_tuples,
		    (long long)total, (unsigned long long)st.emitted);
	CU_ASSERT_EQUAL(over, 0);
	CU_ASSERT(st.lost_tuples > 0);
	CU_ASSERT_EQUAL(got + (int64_t)st.lost_tuples, total);
	sli_fault_config(NULL, 0);
	sl_plain_free(p);
	free(t);
	free_src(s);
}

static void test_max_spout_pending_holds(void)
{
	int64_t want[VOCAB];
	src *s = make_src(want);
	tally *t = calloc(1, sizeof(*t));
	sl_plain *p = make_topo(s, t, 1, 0, 50);
	CU_ASSERT_EQUAL(sl_plain_run(p), SL_OK);
	CU_ASSERT(s->max_pending_seen <= 50);
	CU_ASSERT(s->max_pending_seen >= 1);
	int64_t got = 0, total = 0;
	for (int w = 0; w < VOCAB; w++) {
		got += t->n[0][w] + t->n[1][w];
		total += want[w];
	}
	CU_ASSERT_EQUAL(got, total);
	sli_fault_config(NULL, 0);
	sl_plain_free(p);
	free(t);
	free_src(s);
}

SL_SUITE(plain, NULL, NULL,
    { "xor acker completes every tree exactly once",
        test_xor_acker_completes_every_tree_exactly_once },
    { "missing ack times out into fail",
        test_missing_ack_times_out_into_fail },
    { "acking on counts every word and replays failed ids",
        test_acking_on_counts_every_word_and_replays_failed_ids },
    { "acking off loses and reports the loss",
        test_acking_off_loses_and_reports_the_loss },
    { "max spout pending holds", test_max_spout_pending_holds })
