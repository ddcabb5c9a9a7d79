/*
 * cache.h - the record cache of one state partition (state/ only): encoded
 * records by key, CLOCK replacement (docs/architecture.md, "Record
 * cache"). One thread: the partition's owner.
 */
#ifndef SLI_STATE_CACHE_H
#define SLI_STATE_CACHE_H

#include "core/core.h"

typedef struct sli_centry {
	struct sli_centry *prev, *next; /* the ring, in insertion order */
	uint64_t h;
	uint32_t kl, vl, vcap; /* vcap: room for the value in kv */
	uint32_t ref; /* used since the hand last passed */
	uint8_t *kv; /* key then value */
} sli_centry;

typedef struct sli_cslot {
	uint64_t h; /* the entry's hash: probes skip others unread */
	sli_centry *e; /* NULL empty, CTOMB deleted */
} sli_cslot;

typedef struct sli_cache {
	sli_cslot *slots; /* open addressing; NULL until the first put */
	size_t cap, n, max, tombs;
	sli_centry head; /* sentinel of the ring */
	sli_centry *hand; /* the clock hand: an entry, or &head */
} sli_cache;

/* An empty cache of at most max entries (0: caches nothing). */
void sli_cache_init(sli_cache *c, size_t max);
/* Drops every entry and the slots; the cache stays usable (same max). */
void sli_cache_clear(sli_cache *c);
/* The value bytes of key k (hash h), borrowed until the next put/del, or
 * NULL. Marks the entry referenced. */
const uint8_t *sli_cache_get(
    sli_cache *c, const uint8_t *k, size_t kl, uint64_t h, size_t *vl);
/* Stores a copy of (k, v), evicting by CLOCK when full; out of memory
 * leaves the key uncached (never a stale value). */
void sli_cache_put(sli_cache *c, const uint8_t *k, size_t kl, uint64_t h,
    const uint8_t *v, size_t vl);
/* Forgets k. */
void sli_cache_del(sli_cache *c, const uint8_t *k, size_t kl, uint64_t h);
/* Brings the slots, entries and keys of the n hashes hs into the CPU
 * cache (a hint; the cache has slots). */
void sli_cache_prefetch(const sli_cache *c, size_t n, const uint64_t *hs);

#endif
