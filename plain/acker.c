/* acker.c - Storm's XOR acking: one 64-bit value per tuple tree. Every
 * tuple id enters the value twice (when it is created, XORed into its
 * parent's ack, and when it is acked), so the value returns to 0 exactly
 * when every tuple of the tree was acked. */
#include "plain.h"

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
