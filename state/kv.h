/*
 * kv.h - the byte key-value back-ends under the map state (state/ only):
 * memory and LevelDB, behind one vtable (multi_get = get per key, multi_put
 * = one atomic write batch).
 */
#ifndef SLI_KV_H
#define SLI_KV_H

#include "core/core.h"

typedef struct sli_kv sli_kv;

/* A write batch: a list of puts and deletes applied atomically. */
typedef struct sli_kv_batch {
	/* op u8 (SLI_KV_PUT, SLI_KV_DEL), varint klen, key, [varint vlen, v]
	 */
	sli_buf ops;
	size_t n;
} sli_kv_batch;

void sli_kv_batch_init(sli_kv_batch *b);
void sli_kv_batch_free(sli_kv_batch *b);
void sli_kv_batch_clear(sli_kv_batch *b);
int sli_kv_batch_put(
    sli_kv_batch *b, const void *k, size_t kl, const void *v, size_t vl);
int sli_kv_batch_del(sli_kv_batch *b, const void *k, size_t kl);
/* Appends the operations of from (borrowed) after those of to. */
int sli_kv_batch_append(sli_kv_batch *to, const sli_kv_batch *from);

enum { SLI_KV_PUT = 1, SLI_KV_DEL = 2 };

/* The bytes [*p, *p + *n) of a length-prefixed field of a batch at *q,
 * moving *q past it. SL_ECORRUPT when it does not fit before end. */
static inline int sli_kv_batch_field(
    const uint8_t **q, const uint8_t *end, const uint8_t **p, size_t *n)
{
	uint64_t l;
	if (sli_varint_get(q, end, &l) || l > (uint64_t)(end - *q))
		return SL_ECORRUPT;
	*p = *q;
	*n = (size_t)l;
	*q += l;
	return SL_OK;
}

/* The one reader of a write batch (every back-end's write, the state's
 * cache and trace): calls fn for each operation of b in order, op
 * SLI_KV_PUT with the value or SLI_KV_DEL (v NULL, vl 0); stops at the
 * first non-zero return of fn and returns it. SL_ECORRUPT when the batch
 * is malformed (never reads outside it).
 * Inline, so that each caller's fn (a static function of its file) is
 * called directly or inlined, in a loop that decodes one-byte lengths in
 * place: every apply's batch is read twice (the back-end's write, then
 * the cache's mirror), and out of line this reader cost the memory state
 * ~5% more instructions per word than the decoders it replaced. */
static inline int sli_kv_batch_foreach(const sli_kv_batch *b,
    int (*fn)(void *u, int op, const uint8_t *k, size_t kl, const uint8_t *v,
        size_t vl),
    void *u)
{
	const uint8_t *q = b->ops.data, *end = q + b->ops.len;
	while (q < end) {
		int op = *q++;
		const uint8_t *k, *v = NULL;
		size_t kl, vl = 0;
		if ((op != SLI_KV_PUT && op != SLI_KV_DEL)
		    || sli_kv_batch_field(&q, end, &k, &kl)
		    || (op == SLI_KV_PUT
		        && sli_kv_batch_field(&q, end, &v, &vl)))
			return sli_err(SL_ECORRUPT, "malformed write batch");
		int rc = fn(u, op, k, kl, v, vl);
		if (rc)
			return rc;
	}
	return SL_OK;
}

struct sli_kv_ops {
	const char *name;
	/* *found = 0 when absent; value copied into out (reset first). */
	int (*get)(
	    sli_kv *kv, const void *k, size_t kl, sli_buf *out, int *found);
	/* atomic; sync = flush to disk before returning */
	int (*write)(sli_kv *kv, const sli_kv_batch *b, int sync);
	/* every key with the prefix, in byte order; stops when fn != 0 */
	int (*scan)(sli_kv *kv, const void *prefix, size_t pl,
	    int (*fn)(void *u, const uint8_t *k, size_t kl, const uint8_t *v,
	        size_t vl),
	    void *u);
	uint64_t (*disk_bytes)(sli_kv *kv);
	void (*close)(sli_kv *kv);
	/* optional, a hint: the keys prefix+keys[i] (bytes values) are about
	 * to be read and written; brings their entries into the CPU cache */
	void (*prefetch)(
	    sli_kv *kv, uint8_t prefix, size_t n, const sl_value *keys);
};

struct sli_kv {
	const struct sli_kv_ops *ops;
};

/* Returns owned. Thread-safe for concurrent get/write/scan. */
int sli_kv_memory_open(sli_kv **out);
/* Opens or creates (create) the LevelDB in dir. Errors are mapped to codes
 * with the LevelDB message kept in sl_errdetail(). */
int sli_kv_leveldb_open(sli_kv **out, const char *dir, int create);
/* The code ldb_err gives a LevelDB message (tests). */
int sli_kv_leveldb_errcode(const char *msg);
/* LevelDB's repair of dir (may drop data from damaged files). */
int sli_kv_leveldb_repair(const char *dir);

#endif
