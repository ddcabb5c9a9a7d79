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

size_t sli_varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

int sli_varint_get_slow(const uint8_t **pp, const uint8_t *end, uint64_t *out)
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
