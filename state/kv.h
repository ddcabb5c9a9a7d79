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
/* The one reader of a write batch (every back-end's write, the state's
 * cache and trace): calls fn for each operation of b in order, op
 * SLI_KV_PUT with the value or SLI_KV_DEL (v NULL, vl 0); stops at the
 * first non-zero return of fn and returns it. SL_ECORRUPT when the batch
 * is malformed (never reads outside it). */
int sli_kv_batch_foreach(const sli_kv_batch *b,
    int (*fn)(void *u, int op, const uint8_t *k, size_t kl, const uint8_t *v,
        size_t vl),
    void *u);

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
