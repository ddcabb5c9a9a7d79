/*
 * sluice/state.h - map states with exactly-once update semantics (LevelDB
 * or memory), their keys, statistics and tools.
 * Part of the public API; <sluice.h> includes every part. Conventions as
 * there: int results (SL_OK or a negative SL_E* code), opaque handles,
 * ownership and thread-safety stated per declaration.
 */
#ifndef SLUICE_STATE_H
#define SLUICE_STATE_H

#include "sluice/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- state */

/* Update semantics of a map state (docs/guide.md, design "State"). */
typedef enum sl_semantics {
	SL_SEM_NONE = 0, /* val = f(val, delta): replays overcount */
	SL_SEM_TRANSACTIONAL = 1, /* (txid, val): skip a replayed txid */
	SL_SEM_OPAQUE = 2 /* (txid, prev, curr): recompute on replay */
} sl_semantics;

/* Parses "none" | "transactional" | "opaque". SL_EINVAL otherwise. */
int sl_semantics_parse(const char *s, sl_semantics *out);
const char *sl_semantics_name(sl_semantics s);

typedef struct sl_state_options {
	sl_semantics semantics; /* default SL_SEM_OPAQUE */
	int sync; /* fsync each batch's write; default 1 */
	size_t cache_entries; /* cached records per partition (CLOCK); default
	                         100000 */
	int read_only; /* open for reading (state tools); default 0 */
	int create; /* create the directory if missing; default 1 */
} sl_state_options;

/* Fills o with the defaults above. */
void sl_state_options_default(sl_state_options *o);

/* A map state: key bytes -> value, with update semantics, a commit record
 * and per-txid metadata. One handle per directory. */
typedef struct sl_state sl_state;

/* Opens (or creates) a LevelDB state in dir and locks it: SL_ELOCKED when
 * another process holds it, SL_EVERSION when written by a newer format,
 * SL_ECORRUPT, SL_EPERM, SL_EIO (sl_errdetail() names the file/reason).
 * A state created with one semantics refuses another (SL_EINVAL).
 * Returns owned (sl_state_close). */
int sl_state_open_leveldb(
    sl_state **out, const char *dir, const sl_state_options *o);
/* A state in memory (tests, benchmarks). Returns owned. */
int sl_state_open_memory(sl_state **out, const sl_state_options *o);
/* Closes and frees; accepts NULL. */
void sl_state_close(sl_state *s);

/* The committed value of key (never a half-committed batch). For SL_BYTES
 * results the bytes live in a thread-local buffer valid until the next call
 * in this thread. SL_ENOTFOUND when the key has no value. Thread-safe:
 * may run concurrently with batches being written and committed. */
int sl_state_get(sl_state *s, const void *key, size_t klen, sl_value *out);
/* State keys. The group values of a group_by are stored under a typed,
 * injective key (docs/state-format.md): the int 5 and the string "5", or
 * ("a\x1f","b") and ("a","\x1fb"), are different keys. Build keys for
 * sl_state_get with sl_state_key, or use sl_state_get_group.
 * Writes the key of the n values v into buf (cap bytes) and its length
 * into *len; SL_EFULL (with *len set to the size needed) when cap is too
 * small, SL_EINVAL for a bad value type. Thread-safe. */
int sl_state_key(
    const sl_value *v, size_t n, uint8_t *buf, size_t cap, size_t *len);
/* Decodes a key (e.g. from sl_state_foreach) into at most max values and
 * their number *n; SL_BYTES values borrow key. SL_ECORRUPT when it is not
 * a key, SL_ELIMIT when it holds more than max values. Thread-safe. */
int sl_state_key_values(
    const uint8_t *key, size_t klen, sl_value *v, size_t max, size_t *n);
/* sl_state_get of the key made of the n group values key[]. */
int sl_state_get_group(
    sl_state *s, const sl_value *key, size_t n, sl_value *out);
/* Last committed txid (0 when none). Thread-safe. */
int sl_state_last_committed(sl_state *s, uint64_t *txid);
/* Folds deltas[i] into the value of key keys[i] (bytes values, distinct
 * keys: the bytes sl_state_get reads, e.g. made by sl_state_key) with comb
 * under the state's semantics, as the batch after the last committed one,
 * and commits it: one atomic write of the keys, then the commit record,
 * which keeps the spout position of the last commit (a topology resuming
 * on s goes on from it). For values computed outside a topology (plain
 * mode's counts); never while a topology runs on s. Borrows everything.
 * SL_EPERM read-only, SL_EINVAL for a key that is not bytes or that
 * repeats another; on an error nothing is committed. Not thread-safe with
 * other writers of s. */
int sl_state_apply_batch(sl_state *s, size_t n, const sl_value *keys,
    const sl_value *deltas, const sl_combiner *comb);
/* Calls fn for each key (see sl_state_key_values) with a committed value,
 * in key byte order; stops
 * early when fn returns non-zero (returned). Key/value borrowed for the
 * call. Thread-safe. */
int sl_state_foreach(sl_state *s,
    int (*fn)(void *user, const uint8_t *key, size_t klen, const sl_value *v),
    void *user);

typedef struct sl_state_stats {
	uint64_t keys; /* keys with a committed value */
	uint64_t last_committed; /* txid */
	uint64_t disk_bytes; /* size of the directory's files */
	sl_semantics semantics;
	uint32_t format_version;
	/* 1 after a repair that dropped records: the counts may miss input
	 * of txids up to repaired_txid (docs/errors.md says what to do) */
	int repaired;
	uint64_t repaired_txid; /* last committed txid when repaired */
	uint64_t repaired_at; /* unix seconds */
} sl_state_stats;
/* Fills st (scans every key). Thread-safe. */
int sl_state_stats_get(sl_state *s, sl_state_stats *st);

/* Rewrites a state directory of an older format (format 1: untyped keys,
 * which sl_state_open_leveldb refuses with SL_EVERSION) to the current
 * one, in one atomic write, keeping values, txids and the commit record.
 * Format 1 kept a group as text (numbers in decimal, fields joined by
 * 0x1f); types[0..ntypes) says what each field of the group was
 * (SL_BYTES, SL_INT or SL_DOUBLE; NULL = one SL_BYTES field). A key that
 * does not read as those types is an error (nothing is written). The
 * records of touched keys are rewritten too, so the next run rolls back a
 * batch that never committed as it would have. SL_ELOCKED while another
 * process holds dir; SL_OK with *upgraded = 0 when dir is already
 * current. Not thread-safe with other users of dir. */
int sl_state_upgrade(const char *dir, const sl_type *types, size_t ntypes,
    uint64_t *keys, int *upgraded);

/* Runs LevelDB's repair on an unopened state directory. Repair may drop
 * data from damaged files: back the directory up first. Takes the
 * directory's lock (SL_ELOCKED while a topology or tool holds it);
 * SL_ENOTFOUND / SL_EINVAL for a path that is not a state directory
 * (nothing is created). When records were lost, the state is marked
 * repaired (sl_state_stats.repaired). */
int sl_state_repair(const char *dir);

/* Cheap counters of a state (no scan): record cache hits and misses of
 * the batch writes, keys created since it was opened, size on disk. */
typedef struct sl_state_counters {
	uint64_t cache_hits, cache_misses;
	uint64_t keys_created;
	uint64_t disk_bytes;
} sl_state_counters;
/* Fills c. Thread-safe. */
int sl_state_counters_get(sl_state *s, sl_state_counters *c);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_STATE_H */
