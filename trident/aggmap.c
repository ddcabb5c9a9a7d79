/* aggmap.c - per-batch hash maps from group key to accumulator, with an
 * arena so that no entry is freed one by one. */
#include "trident_impl.h"

#include <stdlib.h>
#include <string.h>

void sli_aggmap_init(aggmap *m)
{
	memset(m, 0, sizeof(*m));
}

/* Frees aggregator states and clears the used entries; with keep, the
 * newest arena block stays, emptied, for the next batch. */
static void empty(aggmap *m, const sl_agg *agg, int keep)
{
	int owns = sli_agg_owns_states(agg); /* asked once, not per entry */
	for (size_t k = 0; k < m->n; k++) {
		aggent *e = sli_aggmap_at(m, k);
		if (owns)
			sli_agg_state_free(agg, e->st);
		memset(e, 0, sizeof(*e));
	}
	m->n = 0;
	arena_blk *b = m->arena;
	if (keep && b) {
		b->used = 0;
		b = b->next;
		m->arena->next = NULL;
	} else
		m->arena = NULL;
	while (b) {
		arena_blk *n = b->next;
		free(b);
		b = n;
	}
}

void sli_aggmap_free(aggmap *m, const sl_agg *agg)
{
	empty(m, agg, 0);
	free(m->e);
	free(m->used);
	sli_aggmap_init(m);
}

/* Only the used slots are cleared: a batch with few keys does not pay
 * for the map's largest size. A map grown past 65536 slots is freed. */
void sli_aggmap_reset(aggmap *m, const sl_agg *agg)
{
	if (m->cap > 65536 || !m->e)
		sli_aggmap_free(m, agg);
	else
		empty(m, agg, 1);
}

uint8_t *sli_aggmap_copy(aggmap *m, const void *p, size_t n)
{
	arena_blk *b = m->arena;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > 60000 ? n : 65536 - sizeof(arena_blk);
		b = malloc(sizeof(arena_blk) + cap);
		if (!b)
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = m->arena;
		m->arena = b;
	}
	uint8_t *out = b->data + b->used;
	if (n)
		memcpy(out, p, n);
	b->used += n;
	return out;
}

static int grow(aggmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 256;
	aggent *ne = calloc(ncap, sizeof(*ne));
	/* n stays below cap / 2 */
	uint32_t *nu = malloc((ncap / 2 + 1) * sizeof(*nu));
	if (!ne || !nu) {
		free(ne);
		free(nu);
		return SL_ENOMEM;
	}
	for (size_t k = 0; k < m->n; k++) {
		const aggent *e = sli_aggmap_at(m, k);
		size_t j = e->h & (ncap - 1);
		while (ne[j].key)
			j = (j + 1) & (ncap - 1);
		ne[j] = *e;
		nu[k] = (uint32_t)j;
	}
	free(m->e);
	free(m->used);
	m->e = ne;
	m->used = nu;
	m->cap = ncap;
	return SL_OK;
}

int sli_aggmap_get(
    aggmap *m, const sl_value *g, size_t ng, aggent **out, int *isnew)
{
	uint8_t stack[512];
	uint8_t *kb = stack;
	size_t kl = 0;
	if (ng == 1 && g[0].type == SL_BYTES && g[0].len < 128) {
		/* the common key, one short string: tag, 1-byte length */
		stack[0] = SL_BYTES;
		stack[1] = (uint8_t)g[0].len;
		memcpy(stack + 2, g[0].u.p, g[0].len);
		kl = 2 + (size_t)g[0].len;
	} else {
		size_t need = 0;
		for (size_t i = 0; i < ng; i++) {
			/* what the codecs refuse never becomes a key (it
			 * would decode as no value: a null group) */
			if (g[i].type > SL_BYTES)
				return sli_err(SL_EINVAL,
				    "group value %zu has no valid type (%u)",
				    i + 1, (unsigned)g[i].type);
			if (g[i].type == SL_BYTES && g[i].len > SL_MAX_BYTES)
				return sli_err(SL_EINVAL,
				    "group value %zu has %u bytes, over the "
				    "limit of %u",
				    i + 1, g[i].len, (unsigned)SL_MAX_BYTES);
			need += sli_value_size(&g[i]);
		}
		if (need > sizeof(stack) && !(kb = malloc(need)))
			return SL_ENOMEM;
		for (size_t i = 0; i < ng; i++)
			kl += sli_value_write(kb + kl, &g[i]);
	}
	uint64_t h = sli_fasthash(kb, kl);
	int rc = SL_OK;
	if ((m->n + 1) * 2 > m->cap && (rc = grow(m)))
		goto out;
	size_t j = h & (m->cap - 1);
	while (m->e[j].key) {
		aggent *e = &m->e[j];
		if (e->h == h && e->klen == kl && !memcmp(e->key, kb, kl)) {
			*out = e;
			*isnew = 0;
			goto out;
		}
		j = (j + 1) & (m->cap - 1);
	}
	uint8_t *copy = sli_aggmap_copy(m, kb, kl ? kl : 1);
	if (!copy) {
		rc = SL_ENOMEM;
		goto out;
	}
	aggent *e = &m->e[j];
	memset(e, 0, sizeof(*e));
	e->h = h;
	e->key = copy;
	e->klen = (uint32_t)kl;
	e->ngroup = (uint32_t)ng;
	e->acc = sl_null();
	m->used[m->n++] = (uint32_t)j;
	*out = e;
	*isnew = 1;
out:
	if (kb != stack)
		free(kb);
	return rc;
}

void sli_aggmap_groups(const aggent *e, sl_value *g)
{
	const uint8_t *p = e->key, *end = e->key + e->klen;
	for (uint32_t i = 0; i < e->ngroup; i++)
		sli_value_get(&p, end, &g[i]);
}
