/*
 * cache.c - the cache of encoded records of one state partition. Replacement
 * is CLOCK (second chance): a hit only sets the entry's reference bit, so it
 * touches no other entry (an LRU list move touches two neighbours, two cache
 * misses per key on a big cache); when the cache is full, the hand sweeps the
 * ring, clearing bits, and evicts the first entry not referenced since its
 * last pass. */
#include "cache.h"

#include <stdlib.h>
#include <string.h>

#define CTOMB ((sli_centry *)1)

void sli_cache_init(sli_cache *c, size_t max)
{
	memset(c, 0, sizeof(*c));
	c->max = max;
	c->head.next = c->head.prev = &c->head;
	c->hand = &c->head;
}

void sli_cache_clear(sli_cache *c)
{
	for (sli_centry *e = c->head.next; e != &c->head;) {
		sli_centry *nx = e->next;
		free(e->kv);
		free(e);
		e = nx;
	}
	free(c->slots);
	size_t max = c->max;
	sli_cache_init(c, max);
}

static size_t cache_find(
    const sli_cache *c, const uint8_t *k, size_t kl, uint64_t h, int *found)
{
	size_t i = h & (c->cap - 1), tomb = SIZE_MAX;
	for (;;) {
		sli_centry *e = c->slots[i].e;
		if (!e) {
			*found = 0;
			return tomb != SIZE_MAX ? tomb : i;
		}
		if (e == CTOMB) {
			if (tomb == SIZE_MAX)
				tomb = i;
		} else if (c->slots[i].h == h && e->kl == kl
		    && !memcmp(e->kv, k, kl)) {
			*found = 1;
			return i;
		}
		i = (i + 1) & (c->cap - 1);
	}
}

/* Three pipelined passes over the hashes, PF apart: the home slot of key
 * i+2PF, the entry of key i+PF (its slot fetched before), the key bytes
 * of key i (its entry fetched before). The apply loop that follows then
 * finds them in the CPU cache. */
void sli_cache_prefetch(const sli_cache *c, size_t n, const uint64_t *hs)
{
	enum { PF = 8 };
	for (size_t i = 0; i < n + 2 * PF; i++) {
		if (i < n)
			__builtin_prefetch(&c->slots[hs[i] & (c->cap - 1)]);
		if (i >= PF && i - PF < n) {
			const sli_centry *e
			    = c->slots[hs[i - PF] & (c->cap - 1)].e;
			if (e && e != CTOMB)
				__builtin_prefetch(e);
		}
		if (i >= 2 * PF) {
			const sli_centry *e
			    = c->slots[hs[i - 2 * PF] & (c->cap - 1)].e;
			if (e && e != CTOMB)
				__builtin_prefetch(e->kv);
		}
	}
}

static void unlink_e(sli_cache *c, sli_centry *e)
{
	if (c->hand == e)
		c->hand = e->next;
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

/* Links a new entry just behind the hand: the last one it will visit. */
static void link_behind_hand(sli_cache *c, sli_centry *e)
{
	sli_centry *h = c->hand;
	e->next = h;
	e->prev = h->prev;
	h->prev->next = e;
	h->prev = e;
}

/* The entry to evict: sweeps from the hand, giving referenced entries a
 * second chance. The cache is not empty. */
static sli_centry *clock_victim(sli_cache *c)
{
	for (;;) {
		sli_centry *x = c->hand;
		if (x == &c->head) {
			c->hand = x->next;
			continue;
		}
		if (!x->ref)
			return x;
		x->ref = 0;
		c->hand = x->next;
	}
}

/* Borrowed value bytes of k, or NULL. Marks it referenced. */
const uint8_t *sli_cache_get(
    sli_cache *c, const uint8_t *k, size_t kl, uint64_t h, size_t *vl)
{
	if (!c->cap)
		return NULL;
	int found;
	size_t i = cache_find(c, k, kl, h, &found);
	if (!found)
		return NULL;
	sli_centry *e = c->slots[i].e;
	e->ref = 1;
	*vl = e->vl;
	return e->kv + e->kl;
}

void sli_cache_del(sli_cache *c, const uint8_t *k, size_t kl, uint64_t h)
{
	if (!c->cap)
		return;
	int found;
	size_t i = cache_find(c, k, kl, h, &found);
	if (!found)
		return;
	sli_centry *e = c->slots[i].e;
	c->slots[i].e = CTOMB;
	c->tombs++;
	unlink_e(c, e);
	free(e->kv);
	free(e);
	c->n--;
}

void sli_cache_put(sli_cache *c, const uint8_t *k, size_t kl, uint64_t h,
    const uint8_t *v, size_t vl)
{
	if (!c->max)
		return;
	if (!c->cap) {
		/* at most a quarter full: short probe chains */
		size_t cap = 16;
		while (cap < c->max * 4)
			cap *= 2;
		c->slots = calloc(cap, sizeof(*c->slots));
		if (!c->slots)
			return;
		c->cap = cap;
	}
	int found;
	size_t i = cache_find(c, k, kl, h, &found);
	if (found) {
		/* the common case: a key written again, updated in place */
		sli_centry *e = c->slots[i].e;
		if (vl > e->vcap) {
			uint8_t *kv = realloc(e->kv, kl + vl);
			if (!kv) {
				sli_cache_del(c, k, kl, h);
				return;
			}
			e->kv = kv;
			e->vcap = (uint32_t)vl;
		}
		memcpy(e->kv + kl, v, vl);
		e->vl = (uint32_t)vl;
		e->ref = 1;
		return;
	}
	if (c->n >= c->max) {
		sli_centry *old = clock_victim(c);
		sli_cache_del(c, old->kv, old->kl, old->h);
	}
	if (c->tombs > c->cap / 4) {
		/* rebuild the slots from the ring: drops tombstones */
		memset(c->slots, 0, c->cap * sizeof(*c->slots));
		c->tombs = 0;
		for (sli_centry *x = c->head.next; x != &c->head;
		     x = x->next) {
			size_t j = x->h & (c->cap - 1);
			while (c->slots[j].e)
				j = (j + 1) & (c->cap - 1);
			c->slots[j] = (sli_cslot) { x->h, x };
		}
	}
	sli_centry *e = malloc(sizeof(*e));
	uint8_t *kv = malloc(kl + vl + 1);
	if (!e || !kv) {
		free(e);
		free(kv);
		return;
	}
	memcpy(kv, k, kl);
	memcpy(kv + kl, v, vl);
	*e = (sli_centry) { NULL, NULL, h, (uint32_t)kl, (uint32_t)vl,
		(uint32_t)vl + 1, 0, kv };
	i = cache_find(c, k, kl, h, &found);
	if (c->slots[i].e == CTOMB)
		c->tombs--;
	c->slots[i] = (sli_cslot) { h, e };
	link_behind_hand(c, e);
	c->n++;
}
