/* acker.c - Storm's XOR acking: one 64-bit value per tuple tree. Every
 * tuple id enters the value twice (when it is created, XORed into its
 * parent's ack, and when it is acked), so the value returns to 0 exactly
 * when every tuple of the tree was acked. */
#include "plain_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sli_acker_init(sli_acker *a, uint32_t nbuckets)
{
	memset(a, 0, sizeof(*a));
	a->nbuckets = nbuckets < 2 ? 2 : nbuckets;
	a->cap = 1024;
	a->t = calloc(a->cap, sizeof(sli_tree));
	return a->t ? SL_OK : SL_ENOMEM;
}

void sli_acker_free(sli_acker *a)
{
	free(a->t);
	memset(a, 0, sizeof(*a));
}

static size_t slot_of(const sli_acker *a, uint64_t root)
{
	return (size_t)(root * 0x9e3779b97f4a7c15ull) & (a->cap - 1);
}

static sli_tree *find(sli_acker *a, uint64_t root, int create)
{
	size_t i = slot_of(a, root);
	while (a->t[i].used) {
		if (a->t[i].root == root)
			return &a->t[i];
		i = (i + 1) & (a->cap - 1);
	}
	if (!create)
		return NULL;
	if ((a->n + 1) * 2 > a->cap) {
		size_t ncap = a->cap * 2;
		sli_tree *nt = calloc(ncap, sizeof(*nt));
		if (!nt)
			return NULL;
		sli_tree *old = a->t;
		size_t ocap = a->cap;
		a->t = nt;
		a->cap = ncap;
		for (size_t j = 0; j < ocap; j++) {
			if (!old[j].used)
				continue;
			size_t k = slot_of(a, old[j].root);
			while (a->t[k].used)
				k = (k + 1) & (a->cap - 1);
			a->t[k] = old[j];
		}
		free(old);
		i = slot_of(a, root);
		while (a->t[i].used)
			i = (i + 1) & (a->cap - 1);
	}
	sli_tree *t = &a->t[i];
	memset(t, 0, sizeof(*t));
	t->used = 1;
	t->root = root;
	t->bucket = a->bucket;
	a->n++;
	return t;
}

/* Removes t, keeping the probe chains intact (backward shift). */
static void erase(sli_acker *a, sli_tree *t)
{
	size_t i = (size_t)(t - a->t);
	a->t[i].used = 0;
	a->n--;
	size_t j = i;
	for (;;) {
		j = (j + 1) & (a->cap - 1);
		if (!a->t[j].used)
			return;
		size_t k = slot_of(a, a->t[j].root);
		/* move j back to i when its home k is not in (i, j] */
		if ((j > i && (k <= i || k > j))
		    || (j < i && k <= i && k > j)) {
			a->t[i] = a->t[j];
			a->t[j].used = 0;
			i = j;
		}
	}
}

int sli_acker_start(sli_acker *a, uint64_t root, uint64_t val,
    uint32_t spout_task, uint64_t msgid, sli_tree *out)
{
	sli_tree *t = find(a, root, 1);
	if (!t)
		return SL_ENOMEM;
	t->ackval ^= val;
	t->inited = 1;
	t->spout_task = spout_task;
	t->msgid = msgid;
	if (t->failed) {
		*out = *t;
		erase(a, t);
		return SLI_ACK_FAILED;
	}
	if (t->ackval == 0) {
		*out = *t;
		erase(a, t);
		return SLI_ACK_DONE;
	}
	return SLI_ACK_PENDING;
}

int sli_acker_ack(sli_acker *a, uint64_t root, uint64_t val, sli_tree *out)
{
	sli_tree *t = find(a, root, 1);
	if (!t)
		return SL_ENOMEM;
	t->ackval ^= val;
	if (t->inited && t->ackval == 0) {
		*out = *t;
		erase(a, t);
		return SLI_ACK_DONE;
	}
	return SLI_ACK_PENDING;
}

int sli_acker_fail(sli_acker *a, uint64_t root, sli_tree *out)
{
	sli_tree *t = find(a, root, 0);
	if (!t || !t->inited) {
		/* fail before init: remember it so the init fails the tree */
		if (!t && !(t = find(a, root, 1)))
			return SL_ENOMEM;
		t->failed = 1;
		return SLI_ACK_PENDING;
	}
	*out = *t;
	erase(a, t);
	return SLI_ACK_FAILED;
}

size_t sli_acker_rotate(
    sli_acker *a, void (*fn)(void *user, const sli_tree *t), void *user)
{
	a->bucket++;
	size_t n = 0;
	for (size_t i = 0; i < a->cap;) {
		sli_tree *t = &a->t[i];
		if (t->used && a->bucket - t->bucket >= a->nbuckets - 1) {
			sli_tree copy = *t;
			erase(a, t);
			n++;
			if (fn && copy.inited)
				fn(user, &copy);
			continue; /* slot i now holds a shifted entry */
		}
		i++;
	}
	return n;
}

size_t sli_acker_pending(const sli_acker *a)
{
	return a->n;
}

/* ---- the acker task: trees from the spout and bolts, replies to the
 * spout (msgid, 1 done | 0 failed | 2 timed out) ---- */

typedef struct acker_ctx {
	sl_plain *p;
	sli_link **to_spout;
	sli_frame_writer w;
	int status;
} acker_ctx;

static void reply(acker_ctx *a, uint64_t msgid, int status)
{
	sl_value v[2] = { sl_int((int64_t)msgid), sl_int(status) };
	sli_frame_writer_add(&a->w, v, 2);
	if (a->w.h.count >= a->p->o.frame_tuples)
		sli_plain_send_frame(a->to_spout[0], &a->w);
}

static void expired(void *user, const sli_tree *t)
{
	reply(user, t->msgid, 2);
}

void *sli_plain_acker_main(void *arg)
{
	ptask *k = arg;
	sl_plain *p = k->p;
	acker_ctx a;
	memset(&a, 0, sizeof(a));
	a.p = p;
	sli_link *spout_link = NULL;
	char url[128];
	snprintf(url, sizeof(url), "%s-c0-t0", p->url);
	if (sli_link_push(&spout_link, url, 64))
		return NULL;
	a.to_spout = &spout_link;
	sli_frame_writer_init(&a.w);
	sli_frame_header h = { SLI_FRAME_DATA, 0, ST_REPLY, 0, 0, 0, 0, 0 };
	sli_frame_writer_begin(&a.w, &h);
	sli_acker ak;
	sli_acker_init(&ak, 3);
	uint64_t rot_ns = (uint64_t)p->o.message_timeout_ms * 1000000u / 2;
	uint64_t next_rot = sli_now_ns() + rot_ns;
	while (!p->acker_stop) {
		sli_msg m;
		int rc = sli_link_recv(k->in, &m, 0);
		if (rc == SL_ETIMEDOUT || rc == SL_EAGAIN) {
			if (a.w.h.count)
				sli_plain_send_frame(spout_link, &a.w);
			rc = sli_link_recv(k->in, &m, 20);
		}
		uint64_t now = sli_now_ns();
		if (now >= next_rot) {
			sli_acker_rotate(&ak, expired, &a);
			next_rot = now + rot_ns;
		}
		if (rc)
			continue;
		sli_frame_reader r;
		if (sli_frame_decode(&r, m.data, m.len, NULL) == SL_OK) {
			sl_value v[4];
			size_t n;
			while (
			    sli_frame_next(&r, v, 4, &n) == SL_OK && n >= 2) {
				sli_tree t;
				uint64_t root = (uint64_t)v[1].u.i;
				int st = SLI_ACK_PENDING;
				if (v[0].u.i == A_INIT && n == 4)
					st = sli_acker_start(&ak, root,
					    (uint64_t)v[2].u.i, 0,
					    (uint64_t)v[3].u.i, &t);
				else if (v[0].u.i == A_ACK && n == 3)
					st = sli_acker_ack(
					    &ak, root, (uint64_t)v[2].u.i, &t);
				else if (v[0].u.i == A_FAIL)
					st = sli_acker_fail(&ak, root, &t);
				if (st == SLI_ACK_DONE)
					reply(&a, t.msgid, 1);
				else if (st == SLI_ACK_FAILED)
					reply(&a, t.msgid, 0);
			}
		}
		sli_msg_free(&m);
	}
	if (a.w.h.count)
		sli_plain_send_frame(spout_link, &a.w);
	sli_acker_free(&ak);
	sli_frame_writer_free(&a.w);
	sli_link_close(spout_link);
	return NULL;
}
