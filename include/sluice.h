/*
 * sluice.h - the one public header of sluice, a small exactly-once stream
 * processor: a tuple transport, a Trident-style transactional micro-batch
 * layer with LevelDB state, DRPC queries and a plain tuple mode.
 *
 * Conventions: every function that can fail returns an int, SL_OK (0) or a
 * negative SL_E* code (sl_strerror() names it); results go through
 * out-parameters. Handles are opaque; each _new/_open has one _free/_close
 * that accepts NULL. Each declaration says who owns what and whether it is
 * thread-safe.
 */
#ifndef SLUICE_H
#define SLUICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SL_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------- errors */

enum {
	SL_OK = 0,
	SL_ENOMEM = -1, /* out of memory */
	SL_EINVAL = -2, /* invalid argument or configuration */
	SL_EIO = -3, /* I/O error (file, socket, LevelDB) */
	SL_ECORRUPT = -4, /* stored data or frame is corrupt */
	SL_ENOTFOUND = -5, /* no such key, file, field or function */
	SL_ELOCKED = -6, /* data directory locked by another process */
	SL_EVERSION = -7, /* unsupported format or protocol version */
	SL_ETIMEDOUT = -8, /* operation timed out */
	SL_ECRYPTO = -9, /* authentication of a sealed frame failed */
	SL_ESTALE = -10, /* txid or attempt older than expected */
	SL_EFULL = -11, /* queue or buffer full (backpressure) */
	SL_ETRUNC = -12, /* input ends before a complete item */
	SL_EOVERFLOW = -13, /* a length or count field overflows */
	SL_EPROTO = -14, /* protocol violation (bad magic, kind, ...) */
	SL_ECLOSED = -15, /* link or topology closed */
	SL_ENOSPC = -16, /* no space left on device */
	SL_EPERM = -17, /* permission denied */
	SL_EFAILED = -18, /* a batch failed (user function or injected) */
	SL_ESTATE = -19, /* call not valid in the object's current state */
	SL_EAGAIN = -20, /* nothing available now; try again */
	SL_ELIMIT = -21 /* a configured limit was reached */
};

/* Returns a static, human-readable name for an SL_* code. Thread-safe. */
const char *sl_strerror(int code);

/* Detail of the last error in the calling thread (a file name, a LevelDB
 * message, the field that was missing...), or "" when there is none.
 * Borrowed; valid until the next sluice call in this thread. */
const char *sl_errdetail(void);

/* Initialises the library (libsodium). Called implicitly by every
 * constructor; safe to call many times from any thread. */
int sl_init(void);

/* ---------------------------------------------------------------- values */

typedef enum sl_type {
	SL_NULL = 0,
	SL_INT = 1,
	SL_DOUBLE = 2,
	SL_BYTES = 3
} sl_type;

/* A tagged scalar. SL_BYTES values borrow their bytes: the pointer is valid
 * as long as whatever it points into (a frame, an input line, an arena). */
typedef struct sl_value {
	uint8_t type; /* sl_type */
	uint32_t len; /* SL_BYTES only */
	union {
		int64_t i;
		double d;
		const uint8_t *p;
	} u;
} sl_value;

/* Largest SL_BYTES value the codecs accept (16 MiB - 1). */
#define SL_MAX_BYTES ((1u << 24) - 1)
/* Largest number of values in one tuple. */
#define SL_MAX_FIELDS 64

static inline sl_value sl_null(void)
{
	sl_value v = { SL_NULL, 0, { 0 } };
	return v;
}
static inline sl_value sl_int(int64_t i)
{
	sl_value v = { SL_INT, 0, { 0 } };
	v.u.i = i;
	return v;
}
static inline sl_value sl_double(double d)
{
	sl_value v = { SL_DOUBLE, 0, { 0 } };
	v.u.d = d;
	return v;
}
/* Borrows p (len bytes). */
static inline sl_value sl_bytes(const void *p, uint32_t len)
{
	sl_value v = { SL_BYTES, 0, { 0 } };
	v.len = len;
	v.u.p = (const uint8_t *)p;
	return v;
}
/* Borrows the NUL-terminated s (the NUL is not part of the value). */
sl_value sl_str(const char *s);

/* 1 when a and b have the same type and content (NaN equals NaN bitwise). */
int sl_value_equal(const sl_value *a, const sl_value *b);

/* ---------------------------------------------------------------- tuples */

/* A field schema: an ordered list of field names. Names are resolved to
 * indexes when a topology is built, never per tuple. */
typedef struct sl_fields sl_fields;

/* Returns owned (free with sl_fields_free) a schema of n names (copied). */
int sl_fields_new(sl_fields **out, size_t n, const char *const *names);
/* Returns owned; names is a NULL-terminated list: sl_fields_of("a","b",0).
 * Returns NULL on out of memory. */
sl_fields *sl_fields_of(const char *first, ...);
void sl_fields_free(sl_fields *f);
size_t sl_fields_count(const sl_fields *f);
/* Borrowed name of field i (valid while f lives). */
const char *sl_fields_name(const sl_fields *f, size_t i);
/* Index of the field named name, or SL_ENOTFOUND. */
int sl_fields_index(const sl_fields *f, const char *name);

/* A tuple as user callbacks see it: n values, borrowed. */
typedef struct sl_tuple {
	const sl_value *v;
	size_t n;
} sl_tuple;

/* ------------------------------------------------------- keyed hashing */

/* Keyed 64-bit hash (libsodium crypto_shorthash, SipHash-2-4) of bytes.
 * key is 16 bytes or NULL for the process-wide default key. Thread-safe. */
uint64_t sl_hash(const uint8_t key[16], const void *p, size_t len);
/* Hash of a value (type tag included). */
uint64_t sl_value_hash(const uint8_t key[16], const sl_value *v);

/* Size of a cluster key in bytes (XChaCha20-Poly1305 key). */
#define SL_KEY_BYTES 32

/* Parses a cluster key from 64 hex digits into out. SL_EINVAL on bad
 * input (the message never contains the key). */
int sl_key_from_hex(uint8_t out[SL_KEY_BYTES], const char *hex);

/* @@TRANSPORT-API@@ (transport/ adds its public declarations below) */

/* ------------------------------------------------------------ combiners */

/* An associative, commutative fold used by aggregators and state updates:
 * out = combine(a, b). zero is the identity. The output may borrow the
 * bytes of a or b. Must be thread-safe for concurrent calls. */
typedef struct sl_combiner {
	const char *name;
	int (*combine)(
	    void *user, const sl_value *a, const sl_value *b, sl_value *out);
	sl_value zero;
	void *user;
} sl_combiner;

/* Built-in combiners (static, never freed). Count folds per-tuple 1s;
 * Sum/Min/Max work on int and double values (int + double -> double). */
const sl_combiner *sl_combiner_count(void);
const sl_combiner *sl_combiner_sum(void);
const sl_combiner *sl_combiner_min(void);
const sl_combiner *sl_combiner_max(void);

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
	size_t cache_entries; /* LRU entries per partition; default 10000 */
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
/* Last committed txid (0 when none). Thread-safe. */
int sl_state_last_committed(sl_state *s, uint64_t *txid);
/* Calls fn for each key with a committed value, in key byte order; stops
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
} sl_state_stats;
/* Fills st (scans every key). Thread-safe. */
int sl_state_stats_get(sl_state *s, sl_state_stats *st);

/* Runs LevelDB's repair on an unopened state directory. Repair may drop
 * data from damaged files: back the directory up first. */
int sl_state_repair(const char *dir);

/* @@TRIDENT-API@@ (trident/ and spouts/ add their declarations below) */

/* @@DRPC-API@@ */

/* @@PLAIN-API@@ (plain/ adds its public declarations below) */

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_H */
