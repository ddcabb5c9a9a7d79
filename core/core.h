/*
 * core.h - internals every layer shares: growable buffers, varints, the
 * value codec and the libsodium wrapper (sealing). Not public API.
 */
#ifndef SLI_CORE_H
#define SLI_CORE_H

#include "sluice/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A growable byte buffer. Owns data; free with sli_buf_free. */
typedef struct sli_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
} sli_buf;

void sli_buf_init(sli_buf *b);
void sli_buf_free(sli_buf *b);
/* The slow path of sli_buf_reserve: reallocates. */
int sli_buf_grow(sli_buf *b, size_t extra);
/* Varint (LEB128) into p (at least 10 bytes). Returns bytes written. */
size_t sli_varint_put(uint8_t *p, uint64_t v);

/* Makes room for extra more bytes. SL_ENOMEM on failure. (The buffer
 * functions are inline: they sit on every hot path.) */
static inline int sli_buf_reserve(sli_buf *b, size_t extra)
{
	return extra <= b->cap - b->len ? SL_OK : sli_buf_grow(b, extra);
}
static inline int sli_buf_append(sli_buf *b, const void *p, size_t n)
{
	int rc = sli_buf_reserve(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return SL_OK;
}
static inline int sli_buf_put_u8(sli_buf *b, uint8_t v)
{
	int rc = sli_buf_reserve(b, 1);
	if (rc)
		return rc;
	b->data[b->len++] = v;
	return SL_OK;
}
static inline int sli_buf_put_varint(sli_buf *b, uint64_t v)
{
	int rc = sli_buf_reserve(b, 10);
	if (rc)
		return rc;
	b->len += sli_varint_put(b->data + b->len, v);
	return SL_OK;
}
/* Little-endian fixed-width. */
int sli_buf_put_u32(sli_buf *b, uint32_t v);
int sli_buf_put_u64(sli_buf *b, uint64_t v);

/* Reads a varint from [*p, end): advances *p. SL_ETRUNC if the input ends,
 * SL_EOVERFLOW if it encodes more than 64 bits. Never reads past end. */
int sli_varint_get_slow(const uint8_t **p, const uint8_t *end, uint64_t *out);
/* Steps over a varint, accepting and rejecting what sli_varint_get does. */
int sli_varint_skip(const uint8_t **p, const uint8_t *end);
static inline int sli_varint_get(
    const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	if (*p < end && **p < 0x80) { /* one byte: the common case */
		*out = **p;
		(*p)++;
		return SL_OK;
	}
	return sli_varint_get_slow(p, end, out);
}

static inline uint64_t sli_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t sli_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

void sli_le32_put(uint8_t *p, uint32_t v);
void sli_le64_put(uint8_t *p, uint64_t v);
uint32_t sli_le32_get(const uint8_t *p);
uint64_t sli_le64_get(const uint8_t *p);

/*
 * Value codec (used by frames and stored state):
 *   tag byte: 0 null | 1 int (zigzag varint) | 2 double (8 bytes LE IEEE)
 *             | 3 bytes (varint length, then the bytes)
 */
/* Appends v's encoding to b. SL_EINVAL for a bad type or too long bytes. */
int sli_value_put(sli_buf *b, const sl_value *v);
/* Upper bound of v's encoded size. */
size_t sli_value_size(const sl_value *v);
/* Encodes v into p (room for sli_value_size(v)); returns bytes written. */
size_t sli_value_write(uint8_t *p, const sl_value *v);
/* Decodes one value from [*p, end), zero-copy (bytes point into the input).
 * Advances *p. SL_ETRUNC / SL_EOVERFLOW / SL_EPROTO on malformed input;
 * never reads past end. */
int sli_value_get(const uint8_t **p, const uint8_t *end, sl_value *out);
/* Steps over one encoded value, accepting and rejecting exactly what
 * sli_value_get does (the frame validation pass), without building it. */
int sli_value_skip(const uint8_t **p, const uint8_t *end);

/* Monotonic clock in nanoseconds. */
uint64_t sli_now_ns(void);

/* ---- sealing (libsodium XChaCha20-Poly1305 IETF AEAD) ---- */
#define SLI_SEAL_NONCE    24
#define SLI_SEAL_TAG      16
#define SLI_SEAL_OVERHEAD (SLI_SEAL_NONCE + SLI_SEAL_TAG)

/* Encrypts plain (plen) with ad as associated data into out, which needs
 * plen + SLI_SEAL_OVERHEAD bytes: nonce | ciphertext | tag. Thread-safe. */
int sli_seal(const uint8_t key[SL_KEY_BYTES], const uint8_t *ad, size_t adlen,
    const uint8_t *plain, size_t plen, uint8_t *out);
/* Opens sealed (slen) into out (slen - SLI_SEAL_OVERHEAD bytes).
 * SL_ECRYPTO when the key, ad or any byte is wrong; SL_ETRUNC if short. */
int sli_open(const uint8_t key[SL_KEY_BYTES], const uint8_t *ad, size_t adlen,
    const uint8_t *sealed, size_t slen, uint8_t *out);

/* Overwrites n bytes at p with zeros in a way the compiler keeps (for
 * keys). */
void sli_wipe(void *p, size_t n);

/* Derives out = BLAKE2b-256 keyed with key over context: a per-purpose
 * key (e.g. per topology) from the cluster key. Thread-safe. */
void sli_derive_key(uint8_t out[SL_KEY_BYTES], const uint8_t key[SL_KEY_BYTES],
    const char *context);

/* The process-wide default hashing key (a fixed constant, stable across
 * restarts, unless
 * SLUICE_HASH_KEY is set, see docs). */
const uint8_t *sli_default_hash_key(void);
/* The hash of in-process tables (fasthash.c): fast, seeded at random per
 * process, never stored or sent. Pure; thread-safe. The public
 * sl_fasthash under its internal name (one function, as sli_err). */
#define sli_fasthash sl_fasthash

/* Maps an errno value to an SL_* code (ENOSPC -> SL_ENOSPC, EACCES ->
 * SL_EPERM, ENOENT -> SL_ENOTFOUND, ...). */
int sli_errno_code(int e);

/* Sets the calling thread's error detail (see sl_errdetail); returns code
 * so callers can write `return sli_err(SL_EIO, "open %s: %s", ...)`. The
 * public sl_errorf under its internal name. */
#define sli_err sl_errorf

/* The entry check of a public call (red-team R8): a NULL where the call
 * needs a pointer is SL_EINVAL, with a detail naming the call and the
 * condition that failed, never a crash. Use at the top of functions that
 * return an int error code. */
#define SLI_NONNULL(cond)                                                     \
	do {                                                                  \
		if (!(cond))                                                  \
			return sli_err(                                       \
			    SL_EINVAL, "%s: needs %s", __func__, #cond);      \
	} while (0)

/* Word tokenizer shared by every word count (trident, plain, baseline): a
 * word is a maximal run of bytes other than ' ', '\t', '\n' (no case
 * folding). Finds the next word in [p + *pos, p + n): sets *w and returns
 * its length, advancing *pos past it; returns 0 when none is left. */
static inline size_t sli_next_word(
    const uint8_t *p, size_t n, size_t *pos, const uint8_t **w)
{
	size_t i = *pos;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n'))
		i++;
	size_t s = i;
	while (i < n && p[i] != ' ' && p[i] != '\t' && p[i] != '\n')
		i++;
	*pos = i;
	*w = p + s;
	return i - s;
}

/* Calls emit(ctx, word) for each word of the bytes value line (see
 * sli_next_word); stops at and returns the first non-zero result. */
int sli_split_words(const sl_value *line,
    int (*emit)(void *ctx, const sl_value *word), void *ctx);

/* Trace checking (tests/model/trace_check.py): built with SL_TRACE
 * (`scons --trace`), sli_trace appends one line to the file named by the
 * environment variable SLUICE_TRACE (one write(2) with O_APPEND, so the
 * lines of several processes interleave whole). Without SL_TRACE it does
 * nothing. SLUICE_TRACE_CRASH=N makes the Nth traced atomic write of the
 * process end it with _exit(137) just after its line (a crash point). */
#ifdef SL_TRACE
void sli_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A traced atomic write happened: counts it, exits at the crash point. */
void sli_trace_point(void);
/* Hex of up to 64 bytes of p into out (129 bytes). */
const char *sli_trace_hex(char *out, const void *p, size_t n);
/* Around an atomic write and its trace line: no crash point of another
 * thread falls between them (one process-wide lock). */
void sli_trace_begin(void);
void sli_trace_end(void);
#define SLI_TRACING 1
#else
static inline __attribute__((format(printf, 1, 2))) void sli_trace(
    const char *fmt, ...)
{
	(void)fmt;
}
static inline void sli_trace_point(void)
{
}
static inline void sli_trace_begin(void)
{
}
static inline void sli_trace_end(void)
{
}
static inline const char *sli_trace_hex(char *out, const void *p, size_t n)
{
	(void)p;
	(void)n;
	out[0] = 0;
	return out;
}
#define SLI_TRACING 0
#endif

#endif
