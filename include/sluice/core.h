/*
 * sluice/core.h - errors, values, tuples and field schemas, keyed hashing,
 * cluster keys and combiners: what every other part uses.
 * Part of the public API; <sluice.h> includes every part. Conventions as
 * there: int results (SL_OK or a negative SL_E* code), opaque handles,
 * ownership and thread-safety stated per declaration.
 */
#ifndef SLUICE_CORE_H
#define SLUICE_CORE_H

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

/* Sets the calling thread's error detail (what sl_errdetail() returns
 * next) from a printf-style format and returns code, so that a user
 * callback or a program reports as sluice does: `return sl_errorf(SL_EIO,
 * "read %s: %s", path, strerror(errno));`. Details longer than 511 bytes
 * are cut (never inside a UTF-8 sequence). Thread-safe. */
int sl_errorf(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

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

/* Returns owned (free with sl_fields_free) a schema of n names (copied).
 * SL_EINVAL for an empty name or a name given twice. */
int sl_fields_new(sl_fields **out, size_t n, const char *const *names);
/* Returns owned; names is a NULL-terminated list: sl_fields_of("a","b",0).
 * Returns NULL on out of memory. */
sl_fields *sl_fields_of(const char *first, ...);
/* Returns owned the schema of a comma-separated list ("a,b"; NULL or ""
 * gives no fields). SL_EINVAL for more than SL_MAX_FIELDS names. */
int sl_fields_parse(sl_fields **out, const char *list);
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
/* Fast 64-bit hash of bytes for in-process hash tables (the one sluice's
 * own aggregation maps and memory state use; a multiply-mix hash, several
 * times faster than sl_hash on short keys). NOT keyed by the caller and
 * NOT designed to resist hash flooding: its seed is drawn at random when
 * the process starts, which keeps blind collisions rare, but an attacker
 * who can observe a table may still find keys that collide. Values differ
 * between processes: never store, send or partition by them (sl_hash and
 * sl_value_hash are stable and keyed). Pure; thread-safe. */
uint64_t sl_fasthash(const void *p, size_t len);
/* The word rule of sl_fn_split_words and sl_plain_split_words: a word is
 * a maximal run of bytes other than ' ', '\t', '\n'. Finds the next word
 * in [p + *pos, p + n): sets *w (into p) and returns its length, moving
 * *pos past it; 0 when none is left. Thread-safe. */
size_t sl_next_word(
    const uint8_t *p, size_t n, size_t *pos, const uint8_t **w);
/* The number of words of [p, p + n) by the rule of sl_next_word (one call
 * per line instead of one per word). Thread-safe. */
size_t sl_count_words(const uint8_t *p, size_t n);
/* Hash of a value (type tag included). */
uint64_t sl_value_hash(const uint8_t key[16], const sl_value *v);

/* Size of a cluster key in bytes (XChaCha20-Poly1305 key). */
#define SL_KEY_BYTES 32

/* Parses a cluster key from 64 hex digits into out. SL_EINVAL on bad
 * input (the message never contains the key). */
int sl_key_from_hex(uint8_t out[SL_KEY_BYTES], const char *hex);
/* Reads a cluster key file: 64 hex digits, surrounding whitespace allowed
 * (e.g. made with `head -c32 /dev/urandom | xxd -p -c32 > key; chmod 600
 * key`). SL_ENOTFOUND / SL_EIO when it cannot be read, SL_EPERM when the
 * file is readable by group or others, SL_EINVAL when its content is not
 * a key; sl_errdetail() names the file, never the key. Thread-safe. */
int sl_key_from_file(uint8_t out[SL_KEY_BYTES], const char *path);
/* Derives into out a key for one purpose, named by context (e.g.
 * "sluice-http-bearer"), from a cluster key: BLAKE2b-256 keyed with key
 * over context, so that a key given to one use reveals nothing of the
 * others. With a NULL key or context, out gets random bytes (a key
 * that matches nothing). Thread-safe. */
void sl_key_derive(uint8_t out[SL_KEY_BYTES], const uint8_t key[SL_KEY_BYTES],
    const char *context);
/* Overwrites n bytes at p with zeros in a way the compiler keeps: wipe a
 * key when done with it. */
void sl_wipe(void *p, size_t n);

/* ------------------------------------------------------------ text form */

/* The text form of values (docs/state-format.md, "Keys"), what the
 * `sluice state` tools print and read: values separated by TAB; bytes as
 * is when that reads back the same, else "quoted" with C escapes; ints in
 * decimal, doubles always with a '.', 'e', inf or nan; null as null. So 5
 * is the int, "5" the string. */

/* Writes the text form of the n values v into buf (cap bytes,
 * NUL-terminated) and its length without the NUL into *len. SL_EFULL
 * (with *len set to the length) when cap is too small, SL_EINVAL for a
 * bad value type. Thread-safe. */
int sl_values_format(
    const sl_value *v, size_t n, char *buf, size_t cap, size_t *len);
/* Parses the text form s into at most max values v and their number *n;
 * SL_BYTES values borrow store (cap bytes; strlen(s) bytes are always
 * enough). SL_EINVAL with a detail (sl_errdetail()) for bad input or more
 * than max values, SL_EFULL when store is too small. Thread-safe. */
int sl_values_parse(const char *s, uint8_t *store, size_t cap, sl_value *v,
    size_t max, size_t *n);

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
 * Sum/Min/Max work on int and double values (int + double -> double);
 * nulls are skipped. Min/Max compare ints and doubles exactly (2^53 + 1
 * is above 2^53), sort NaN above every number and -0.0 below 0.0, and
 * keep the int of an equal int and double, so the result never depends
 * on the order of the tuples. */
const sl_combiner *sl_combiner_count(void);
const sl_combiner *sl_combiner_sum(void);
const sl_combiner *sl_combiner_min(void);
const sl_combiner *sl_combiner_max(void);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_CORE_H */
