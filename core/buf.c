/* buf.c - growable byte buffers, varints and little-endian helpers. */
#include "core.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void sli_buf_init(sli_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void sli_buf_free(sli_buf *b)
{
	free(b->data);
	sli_buf_init(b);
}

int sli_buf_grow(sli_buf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len)
		return SL_ENOMEM;
	size_t need = b->len + extra;
	if (need <= b->cap)
		return SL_OK;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return SL_ENOMEM;
	b->data = p;
	b->cap = cap;
	return SL_OK;
}

int sli_buf_put_u32(sli_buf *b, uint32_t v)
{
	uint8_t t[4];
	sli_le32_put(t, v);
	return sli_buf_append(b, t, 4);
}

int sli_buf_put_u64(sli_buf *b, uint64_t v)
{
	uint8_t t[8];
	sli_le64_put(t, v);
	return sli_buf_append(b, t, 8);
}

/* The inverse of pack7 below: the low 56 bits of v as eight 7-bit
 * groups, one per byte. */
static inline uint64_t spread7(uint64_t v)
{
	uint64_t x = v & 0x00ffffffffffffffull;
	x = ((x << 4) & 0x0fffffff00000000ull) | (x & 0x000000000fffffffull);
	x = ((x << 2) & 0x3fff00003fff0000ull) | (x & 0x00003fff00003fffull);
	x = ((x << 1) & 0x7f007f007f007f00ull) | (x & 0x007f007f007f007full);
	return x;
}

size_t sli_varint_put(uint8_t *p, uint64_t v)
{
	if (v < 0x80) {
		p[0] = (uint8_t)v;
		return 1;
	}
	size_t n = (size_t)(64 - __builtin_clzll(v) + 6) / 7;
	/* eight bytes at once (p has room for ten): the groups, and the
	 * continuation bit on all but the last of the n */
	uint64_t x = spread7(v)
	    | (0x8080808080808080ull
	        & (n > 8 ? ~0ull : (1ull << (8 * (n - 1))) - 1));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	memcpy(p, &x, 8);
	if (n > 8) {
		p[8] = (uint8_t)((v >> 56) & 0x7f) | (n > 9 ? 0x80 : 0);
		if (n > 9)
			p[9] = (uint8_t)(v >> 63);
	}
	return n;
}

/* The 7-bit groups of the eight bytes of x (high bits already clear),
 * packed into 56 bits: byte pairs, then 16-bit and 32-bit lanes. */
static inline uint64_t pack7(uint64_t x)
{
	x = ((x & 0x7f007f007f007f00ull) >> 1) | (x & 0x007f007f007f007full);
	x = ((x & 0x3fff00003fff0000ull) >> 2) | (x & 0x00003fff00003fffull);
	x = ((x & 0x0fffffff00000000ull) >> 4) | (x & 0x000000000fffffffull);
	return x;
}

/* Byte by byte, bounds-checked: near the end of the input. */
static int varint_get_bytes(
    const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (p >= end)
			return SL_ETRUNC;
		uint8_t c = *p++;
		/* the 10th byte may only carry the top bit of a 64-bit value
		 */
		if (shift == 63 && c > 1)
			return SL_EOVERFLOW;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*pp = p;
			*out = v;
			return SL_OK;
		}
	}
	return SL_EOVERFLOW;
}

/* Eight bytes at p as a little-endian word. */
static inline uint64_t load8(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

int sli_varint_get_slow(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	const uint8_t *p = *pp;
	if (end - p < 10)
		return varint_get_bytes(pp, end, out);
	/* ten bytes are there: eight at once (the random 64-bit ids of
	 * plain mode's acking take ten bytes each) */
	uint64_t w = load8(p);
	uint64_t stop = ~w & 0x8080808080808080ull;
	if (stop) {
		unsigned n = ((unsigned)__builtin_ctzll(stop) >> 3) + 1;
		uint64_t keep = n == 8 ? ~0ull : (1ull << (8 * n)) - 1;
		*out = pack7(w & keep & 0x7f7f7f7f7f7f7f7full);
		*pp = p + n;
		return SL_OK;
	}
	uint64_t v = pack7(w & 0x7f7f7f7f7f7f7f7full);
	v |= (uint64_t)(p[8] & 0x7f) << 56;
	if (!(p[8] & 0x80)) {
		*out = v;
		*pp = p + 9;
		return SL_OK;
	}
	/* the 10th byte may only carry the top bit of a 64-bit value */
	if (p[9] > 1)
		return SL_EOVERFLOW;
	*out = v | (uint64_t)p[9] << 63;
	*pp = p + 10;
	return SL_OK;
}

int sli_varint_skip(const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *p = *pp;
	uint64_t x;
	if (end - p < 10)
		return varint_get_bytes(pp, end, &x);
	/* the terminator among eight bytes at once; nothing assembled */
	uint64_t stop = ~load8(p) & 0x8080808080808080ull;
	if (stop)
		p += ((unsigned)__builtin_ctzll(stop) >> 3) + 1;
	else if (!(p[8] & 0x80))
		p += 9;
	else if (p[9] > 1) /* only the 64th bit is left */
		return SL_EOVERFLOW;
	else
		p += 10;
	*pp = p;
	return SL_OK;
}

void sli_le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void sli_le64_put(uint8_t *p, uint64_t v)
{
	sli_le32_put(p, (uint32_t)v);
	sli_le32_put(p + 4, (uint32_t)(v >> 32));
}

uint32_t sli_le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
	    | (uint32_t)p[3] << 24;
}

uint64_t sli_le64_get(const uint8_t *p)
{
	return (uint64_t)sli_le32_get(p) | (uint64_t)sli_le32_get(p + 4) << 32;
}

uint64_t sli_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
