/* test_plain_replies.c - plain mode: the acker answers the spout with the
 * msgid only (plain/plain.c spout_replies), so a reply about an old tree
 * would be taken for the replay of the same msgid. The suspicion behind
 * difftest plain seed 49 ("28 leaves lost, all trees acked";
 * docs/testing.md): a timed-out tree's late ack completes the replay. Made
 * to happen on purpose here: the bolt holds the first tree until the
 * acker has timed it out and the spout has emitted the replay, then acks
 * it late; the replay is failed on purpose; only a third tree may be
 * acked. */
#include "../plain/plain.h"
#include "sluice.h"
#include "sltest.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

enum { MSGID = 7 };

typedef struct late {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int emits; /* trees emitted for MSGID */
	int replay_owed; /* a fail came: emit again */
	int acked, fails, acks;
	int sights; /* tuples of MSGID the bolt saw */
	int sights_at_first_ack, fails_at_first_ack;
	int waited_out; /* the bolt gave up waiting for the replay */
} late;

static int l_next(void *self, sl_plain_collector *c)
{
	late *l = self;
	pthread_mutex_lock(&l->mu);
	if (l->acked) {
		pthread_mutex_unlock(&l->mu);
		return SL_ECLOSED;
	}
	if (l->emits && !l->replay_owed) {
		pthread_mutex_unlock(&l->mu);
		return SL_EAGAIN;
	}
	l->replay_owed = 0;
	pthread_mutex_unlock(&l->mu);
	sl_value v = sl_int(MSGID);
	int rc = sl_plain_spout_emit(c, MSGID, &v, 1);
	pthread_mutex_lock(&l->mu);
	l->emits++; /* the tree is pending at the spout now */
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	return rc;
}

static void l_ack(void *self, uint64_t id)
{
	late *l = self;
	pthread_mutex_lock(&l->mu);
	if (id == MSGID && !l->acks++) {
		l->sights_at_first_ack = l->sights;
		l->fails_at_first_ack = l->fails;
	}
	l->acked = 1;
	pthread_mutex_unlock(&l->mu);
}

static void l_fail(void *self, uint64_t id)
{
	late *l = self;
	pthread_mutex_lock(&l->mu);
	l->fails += id == MSGID;
	l->replay_owed = 1;
	pthread_mutex_unlock(&l->mu);
}

static int l_bolt(void *user, const sl_tuple *in, sl_plain_collector *c)
{
	late *l = user;
	(void)in;
	(void)c;
	pthread_mutex_lock(&l->mu);
	int sight = ++l->sights;
	if (sight == 1) {
		/* hold tree 1 until it timed out and tree 2 is pending: an
		 * event, not a delay (bounded only against a hang) */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 60;
		while (l->emits < 2 && !l->waited_out)
			if (pthread_cond_timedwait(&l->cv, &l->mu, &ts)
			    == ETIMEDOUT)
				l->waited_out = 1;
	}
	pthread_mutex_unlock(&l->mu);
	/* tree 1: acked late; tree 2: failed on purpose; later: acked */
	return sight == 2 ? SL_EFAILED : SL_OK;
}

static void test_late_ack_does_not_complete_the_replay(void)
{
	late l;
	memset(&l, 0, sizeof(l));
	pthread_mutex_init(&l.mu, NULL);
	pthread_cond_init(&l.cv, NULL);
	sl_plain_options o;
	sl_plain_options_default(&o);
	o.acking = 1;
	o.message_timeout_ms = 1000;
	o.frame_tuples = 1; /* every ack travels at once */
	o.seed = 49;
	sl_plain *p;
	static const sl_plain_spout ops = { "late", l_next, l_ack, l_fail };
	CU_ASSERT_EQUAL_FATAL(sl_plain_new(&p, &o), SL_OK);
	CU_ASSERT_EQUAL(sl_plain_set_spout(p, "late", &ops, &l, "id"), SL_OK);
	CU_ASSERT_EQUAL(sl_plain_add_bolt(p, "hold", "late", SL_GROUP_SHUFFLE,
	                    NULL, l_bolt, &l, "", 1),
	    SL_OK);
	CU_ASSERT_EQUAL(sl_plain_run(p), SL_OK);
	CU_ASSERT_FALSE(l.waited_out); /* tree 1 timed out, tree 2 came */
	CU_ASSERT(l.emits >= 3);
	/* one ack, and only after a tree emitted after tree 2's failure was
	 * seen: the late ack of tree 1 did not complete tree 2, and tree 2's
	 * failure reached the spout */
	CU_ASSERT_EQUAL(l.acks, 1);
	CU_ASSERT(l.sights_at_first_ack >= 3);
	CU_ASSERT(l.fails_at_first_ack >= 2);
	sl_plain_stats st;
	CU_ASSERT_EQUAL(sl_plain_stats_get(p, &st), SL_OK);
	CU_ASSERT(st.timed_out >= 1);
	CU_ASSERT_EQUAL(st.acked, 1);
	sl_plain_free(p);
	pthread_mutex_destroy(&l.mu);
	pthread_cond_destroy(&l.cv);
}

/* Acks that arrive before the spout's init and cancel out (ids that
 * collide) must not complete the tree: only the init knows the tree's
 * msgid (mutation M15, tests/mutations). */
static void test_acks_before_init_do_not_complete(void)
{
	sli_acker a;
	CU_ASSERT_EQUAL_FATAL(sli_acker_init(&a, 3), SL_OK);
	sli_tree t;
	memset(&t, 0, sizeof(t));
	CU_ASSERT_EQUAL(sli_acker_ack(&a, 5, 0x1234, &t), SLI_ACK_PENDING);
	CU_ASSERT_EQUAL(sli_acker_ack(&a, 5, 0x1234, &t), SLI_ACK_PENDING);
	CU_ASSERT_EQUAL(sli_acker_pending(&a), 1);
	/* the init comes: the tree still waits for its child's ack */
	CU_ASSERT_EQUAL(
	    sli_acker_start(&a, 5, 0x99, 0, 42, &t), SLI_ACK_PENDING);
	CU_ASSERT_EQUAL(sli_acker_ack(&a, 5, 0x99, &t), SLI_ACK_DONE);
	CU_ASSERT_EQUAL(t.msgid, 42);
	CU_ASSERT_EQUAL(sli_acker_pending(&a), 0);
	sli_acker_free(&a);
}

SL_SUITE(plain_replies, NULL, NULL,
    { "acks that cancel before the init do not complete the tree",
        test_acks_before_init_do_not_complete },
    { "a timed-out tree's late ack does not complete its replay",
        test_late_ack_does_not_complete_the_replay })
