/* kv_memory.c - the in-memory key-value back-end: an open-addressing hash
 * map under a read-write lock; scans sort the matching keys. */
#include "kv.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
	uint8_t *k; /* key bytes then value bytes, one allocation */
	uint32_t kl, vl;
	uint64_t h;
} slot;

typedef struct memkv {
	sli_kv base;
	pthread_rwlock_t lock;
	slot *s;
	size_t cap, n, tomb;
} memkv;

#define TOMB ((uint8_t *)1)

static size_t find(
    const memkv *m, const void *k, size_t kl, uint64_t h, int *found)
{
	size_t i = h & (m->cap - 1), first_tomb = SIZE_MAX;
	for (;;) {
		slot *s = &m->s[i];
		if (!s->k) {
			*found = 0;
			return first_tomb != SIZE_MAX ? first_tomb : i;
		}
		if (s->k == TOMB) {
			if (first_tomb == SIZE_MAX)
				first_tomb = i;
		} else if (s->h == h && s->kl == kl
		    && memcmp(s->k, k, kl) == 0) {
			*found = 1;
			return i;
		}
		i = (i + 1) & (m->cap - 1);
	}
}

static int resize(memkv *m, size_t ncap)
{
	slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return SL_ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		slot *s = &m->s[i];
		if (!s->k || s->k == TOMB)
			continue;
		size_t j = s->h & (ncap - 1);
		while (ns[j].k)
			j = (j + 1) & (ncap - 1);
		ns[j] = *s;
	}
	free(m->s);
	m->s = ns;
	m->cap = ncap;
	m->tomb = 0;
	return SL_OK;
}

/* Makes room for extra more keys (load factor <= 3/4 counting tombs). */
static int reserve(memkv *m, size_t extra)
{
	size_t cap = m->cap ? m->cap : 1024;
	while ((m->n + m->tomb + extra + 1) * 4 >= cap * 3
	    && (m->n + extra + 1) * 2 >= cap)
		cap *= 2;
	if (cap == m->cap && (m->n + m->tomb + extra + 1) * 4 < cap * 3)
		return SL_OK;
	return resize(m, cap);
}

static int mem_get(
    sli_kv *kv, const void *k, size_t kl, sli_buf *out, int *found)
{
	memkv *m = (memkv *)kv;
	out->len = 0;
	*found = 0;
	pthread_rwlock_rdlock(&m->lock);
	int rc = SL_OK;
	if (m->cap) {
		size_t i = find(m, k, kl, sli_fasthash(k, kl), found);
		if (*found)
			rc = sli_buf_append(
			    out, m->s[i].k + m->s[i].kl, m->s[i].vl);
	}
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

/* Two pipelined passes over the keys, PF apart: the home slot of key i+PF
 * is prefetched while key i's slot (fetched PF keys ago) is read for the
 * pointer to its key bytes, which are prefetched in turn. The table is far
 * bigger than the caches; this hides most of the two misses per key. */
static void mem_prefetch(
    sli_kv *kv, uint8_t prefix, size_t n, const sl_value *keys)
{
	enum { PF = 8 };
	memkv *m = (memkv *)kv;
	uint8_t tmp[256];
	size_t ring[PF];
	pthread_rwlock_rdlock(&m->lock);
	if (!m->cap)
		n = 0;
	for (size_t i = 0; i < n + PF; i++) {
		if (i >= PF) {
			const slot *s = &m->s[ring[i % PF]];
			if (s->k && s->k != TOMB)
				__builtin_prefetch(s->k);
		}
		if (i < n) {
			size_t kl = keys[i].len;
			ring[i % PF] = 0;
			if (keys[i].type != SL_BYTES || kl >= sizeof(tmp))
				continue;
			tmp[0] = prefix;
			memcpy(tmp + 1, keys[i].u.p, kl);
			ring[i % PF]
			    = sli_fasthash(tmp, kl + 1) & (m->cap - 1);
			__builtin_prefetch(&m->s[ring[i % PF]]);
		}
	}
	pthread_rwlock_unlock(&m->lock);
}

static inline int put1(
    memkv *m, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	uint64_t h = sli_fasthash(k, kl);
	int found;
	size_t i = find(m, k, kl, h, &found);
	if (found && m->s[i].vl == vl) {
		/* same size (the common case of a counter): in place */
		if (vl)
			memcpy(m->s[i].k + kl, v, vl);
		return SL_OK;
	}
	uint8_t *mem = malloc(kl + vl + 1);
	if (!mem)
		return SL_ENOMEM;
	memcpy(mem, k, kl);
	if (vl)
		memcpy(mem + kl, v, vl);
	slot *s = &m->s[i];
	if (found)
		free(s->k);
	else {
		if (s->k == TOMB)
			m->tomb--;
		m->n++;
	}
	s->k = mem;
	s->kl = (uint32_t)kl;
	s->vl = (uint32_t)vl;
	s->h = h;
	return SL_OK;
}

static void del1(memkv *m, const uint8_t *k, size_t kl)
{
	if (!m->cap)
		return;
	int found;
	size_t i = find(m, k, kl, sli_fasthash(k, kl), &found);
	if (!found)
		return;
	free(m->s[i].k);
	m->s[i].k = TOMB;
	m->n--;
	m->tomb++;
}

/* The batch reader's callback. inline (with put1): GCC then inlines both
 * into the reader's loop in mem_write, as the hand-written decoder this
 * reader replaced had them (measured: docs/benchmarks.md). */
static inline int mem_op(
    void *u, int op, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	if (op == SLI_KV_PUT)
		return put1(u, k, kl, v, vl);
	del1(u, k, kl);
	return SL_OK;
}

static int mem_write(sli_kv *kv, const sli_kv_batch *b, int sync)
{
	(void)sync;
	memkv *m = (memkv *)kv;
	pthread_rwlock_wrlock(&m->lock);
	/* reserve first: a failure midway would break atomicity */
	int rc = reserve(m, b->n);
	if (rc == SL_OK)
		rc = sli_kv_batch_foreach(b, mem_op, m);
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

typedef struct kref {
	const uint8_t *k;
	uint32_t kl, vl;
} kref;

static int kref_cmp(const void *a, const void *b)
{
	const kref *x = a, *y = b;
	size_t n = x->kl < y->kl ? x->kl : y->kl;
	int c = memcmp(x->k, y->k, n);
	if (c)
		return c;
	return x->kl < y->kl ? -1 : x->kl > y->kl;
}

static int mem_scan(sli_kv *kv, const void *prefix, size_t pl,
    int (*fn)(
        void *u, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl),
    void *u)
{
	memkv *m = (memkv *)kv;
	pthread_rwlock_rdlock(&m->lock);
	kref *r = malloc((m->n + 1) * sizeof(*r));
	if (!r) {
		pthread_rwlock_unlock(&m->lock);
		return SL_ENOMEM;
	}
	size_t n = 0;
	for (size_t i = 0; i < m->cap; i++) {
		slot *s = &m->s[i];
		if (!s->k || s->k == TOMB || s->kl < pl
		    || memcmp(s->k, prefix, pl))
			continue;
		r[n++] = (kref) { s->k, s->kl, s->vl };
	}
	qsort(r, n, sizeof(*r), kref_cmp);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		rc = fn(u, r[i].k, r[i].kl, r[i].k + r[i].kl, r[i].vl);
	free(r);
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

static uint64_t mem_disk(sli_kv *kv)
{
	(void)kv;
	return 0;
}

static void mem_close(sli_kv *kv)
{
	memkv *m = (memkv *)kv;
	for (size_t i = 0; i < m->cap; i++)
		if (m->s[i].k && m->s[i].k != TOMB)
			free(m->s[i].k);
	free(m->s);
	pthread_rwlock_destroy(&m->lock);
	free(m);
}

static const struct sli_kv_ops mem_ops = { "memory", mem_get, mem_write,
	mem_scan, mem_disk, mem_close, mem_prefetch };

int sli_kv_memory_open(sli_kv **out)
{
	memkv *m = calloc(1, sizeof(*m));
	if (!m)
		return SL_ENOMEM;
	m->base.ops = &mem_ops;
	pthread_rwlock_init(&m->lock, NULL);
	*out = &m->base;
	return SL_OK;
}
