/*
 * state_impl.h - what the files of state/ share beyond state.h (state/
 * only): the state object, its layout in the key-value store
 * (record.c), and the upgrade of older formats (keys.c) reaching the store
 * under a state.
 *
 *   state.c   open, format, partitions, commit record,
 *             spout meta
 *   writer.c  the writer record: who may resume the state
 *   dir.c     the directory: sluice.lock, what it holds
 *   apply.c   the update semantics, the in-run rollback, the restart pass
 *   record.c  store keys and value records, the read rule
 *   cache.c   the CLOCK cache of records, one per partition
 *   read.c    committed reads, iteration, statistics
 *   repair.c  `sluice state repair`
 *   keys.c    typed group lookups, `sluice state upgrade`
 */
#ifndef SLI_STATE_IMPL_H
#define SLI_STATE_IMPL_H

#include "cache.h"
#include "kv.h"
#include "state.h"

#include <pthread.h>

/* ---- the layout (record.c; docs/state-format.md, "Keys") ---- */

/* 2: typed group keys (core/key.h); 1 joined them as text (`sluice state
 * upgrade` converts, state/keys.c) */
#define SLI_STATE_FORMAT 2
#define SLI_REC_VERSION  1
#define SLI_KEY_PREFIX   0x01 /* a value record: 01 + user key */

/* Metadata records, under 00 (sizeof - 1 bytes each). */
#define SLI_M_FORMAT  "\0format" /* u32 LE format version */
#define SLI_M_SEM     "\0semantics" /* one byte, sl_semantics */
#define SLI_M_COMMIT  "\0commit" /* varint txid, spout meta */
#define SLI_M_TXMETA  "\0txmeta/" /* + name 00 txid(u64 BE) */
#define SLI_M_TOUCHED "\0touched/" /* + txid(u64 BE) part(u32 BE) */
/* written by a repair that may have dropped records: varint txid
 * committed then, u64 unix seconds */
#define SLI_M_REPAIRED "\0repaired"
/* the writer whose spout meta the commit record holds: u8 version (1),
 * then (varint length, bytes) of the topology, its spout stream and the
 * spout's kind (sli_state_claim) */
#define SLI_M_WRITER "\0writer"
#define SLI_M_LEN(m) (sizeof(m) - 1)

/* The record of the keys partition p wrote for txid: "\0touched/", txid
 * (u64 BE), p (u32 BE); its value is varint txid, then a key list
 * ((varint length, key)...). Keyed by txid first: at a restart every
 * record of the uncommitted txid is found whatever the partition count of
 * the run that wrote it (format 1 keyed it by partition only: 13 bytes). */
#define SLI_TOUCHED_PREFIX_LEN 9
#define SLI_TOUCHED_KEY_LEN    21
#define SLI_TOUCHED_KEY_V1_LEN 13

/* A value record: u8 version, varint txid, value prev, value curr. */
typedef struct sli_rec {
	uint64_t txid;
	sl_value prev, curr; /* SL_NULL = absent; bytes borrow the input */
} sli_rec;

/* SL_OK, SL_ECORRUPT or SL_EVERSION; never reads outside [p, p+n). */
int sli_rec_decode(const uint8_t *p, size_t n, sli_rec *r);
/* Appends the encoding of r to b. */
int sli_rec_encode(sli_buf *b, const sli_rec *r);
/* b = the store key of user key k (01 + k). */
int sli_rec_key(sli_buf *b, const void *k, size_t kl);
void sli_touched_key(
    uint8_t out[SLI_TOUCHED_KEY_LEN], uint64_t txid, uint32_t part);
/* k = the key of spout name's meta of txid. */
int sli_meta_key(sli_buf *k, const char *name, uint64_t txid);
/* The txid of a touched record's value and where its key list starts. */
int sli_touched_txid(
    const uint8_t *v, size_t vl, uint64_t *txid, const uint8_t **keys);
/* The next key [*k, *k + *kl) of a key list at *q (before end), moving *q
 * past it. SL_ECORRUPT when it runs past end. */
int sli_keylist_next(
    const uint8_t **q, const uint8_t *end, const uint8_t **k, size_t *kl);

/* Deletes every spout meta record (txmeta, any spout) of a txid after
 * txid: the ranges a crashed run recorded for batches that never
 * committed (record.c). */
int sli_state_drop_txmeta_after(sl_state *s, uint64_t txid);

/* ---- the state object (state.c, apply.c, read.c) ---- */

/* One partition: owned by the task that applies its batches. */
typedef struct sli_spart {
	sli_cache c;
	uint64_t touched_txid; /* 0: no record of this partition on disk */
	sli_buf touched; /* key list of touched_txid's record */
	sli_buf rec, key, newtouched, arena;
	sli_kv_batch batch;
	size_t *offs; /* record offsets in arena */
	uint64_t *hs; /* hashes of the keys of an apply call */
	size_t noffs;
	uint64_t nhit, nmiss; /* cache, since the last publish */
	/* set by the restart pass (any thread): the partition's owner
	 * empties its cache and forgets its touched record at its next
	 * apply, so that only the owner ever touches them */
	_Atomic int stale;
} sli_spart;

struct sl_state {
	sli_kv *kv;
	sl_state_options o;
	_Atomic uint64_t committed;
	_Atomic int recovered; /* the restart pass ran since the last
	                          set_partitions */
	pthread_mutex_t recover_lock;
	/* live statistics (sl_state_counters_get), published per apply */
	_Atomic uint64_t c_hits, c_misses, c_created;
	uint32_t nparts;
	sli_spart *parts;
	int lockfd;
	char *dir;
	/* sli_state_fail_once's shim (until trident/ arms SLI_FAULT_STATE_*
	 * of core/fault.h): the fields are written before fail_set is
	 * released and read only by the apply that claims fail_set */
	_Atomic int fail_set;
	int fail_after;
	uint32_t fail_part;
	uint64_t fail_txid;
	pthread_mutex_t fail_lock;
};

/* The restart pass (apply.c) under s->recover_lock, held by the caller. */
int sli_state_recover_locked(
    sl_state *s, uint64_t target, const void *meta, size_t metalen);

/* Opens and flocks DIR/sluice.lock into *fd (state.c); SL_ELOCKED naming
 * the holder's pid. With may_skip, a directory where the file cannot be
 * created is not an error (*fd = -1). */
int sli_state_lock_dir(const char *dir, int write_pid, int may_skip, int *fd);
/* What dir holds: *current when it has a CURRENT file, *other = how many
 * LevelDB data files (MANIFEST-N, N.log, N.ldb, N.sst; dir.c). */
int sli_state_survey_dir(const char *dir, int *current, int *other);
/* 1 when dir holds only what LevelDB leaves when its creation of a
 * database is interrupted before CURRENT exists (no data); restart
 * removes it so that the creation starts again (dir.c). */
int sli_state_interrupted_creation(const char *dir);
int sli_state_restart_creation(const char *dir);

/* 1 when two of the bytes keys [0, n) are equal: *first and *again are
 * their indexes; 0 when all differ; SL_ENOMEM (keys.c). */
int sli_keys_repeat(
    size_t n, const sl_value *keys, size_t *first, size_t *again);

/* Opens dir as sl_state_open_leveldb does (locked; never creates) but
 * accepts any format up to the current one, returned in *version, and
 * adopts the stored semantics. Returns owned (sl_state_close). */
int sli_state_open_any_version(
    sl_state **out, const char *dir, uint32_t *version);
/* The key-value store under s (borrowed). */
sli_kv *sli_state_kv(sl_state *s);

#endif
