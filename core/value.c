/* value.c - values, their codec and equality. */
#include "core.h"

#include <string.h>

sl_value sl_str(const char *s)
{
	if (!s)
		return sl_null();
	size_t n = strlen(s);
	return sl_bytes(s, n > SL_MAX_BYTES ? SL_MAX_BYTES : (uint32_t)n);
}

int sl_value_equal(const sl_value *a, const sl_value *b)
{
	if (!a || !b)
		return a == b;
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case SL_NULL:
		return 1;
	case SL_INT:
		return a->u.i == b->u.i;
	case SL_DOUBLE:
		return memcmp(&a->u.d, &b->u.d, sizeof(double)) == 0;
	case SL_BYTES:
		return a->len == b->len
		    && (a->len == 0 || memcmp(a->u.p, b->u.p, a->len) == 0);
	}
	return 0;
}

size_t sli_value_size(const sl_value *v)
{
	switch (v->type) {
	case SL_INT:
		return 11;
	case SL_DOUBLE:
		return 9;
	case SL_BYTES:
		return 1 + 10 + v->len;
	default:
		return 1;
	}
}

size_t sli_value_write(uint8_t *p, const sl_value *v)
{
	uint8_t *s = p;
	*p++ = v->type;
	switch (v->type) {
	case SL_INT:
		p += sli_varint_put(p, sli_zigzag(v->u.i));
		break;
	case SL_DOUBLE: {
		uint64_t bits;
		memcpy(&bits, &v->u.d, 8);
		sli_le64_put(p, bits);
		p += 8;
		break;
	}
	case SL_BYTES:
		p += sli_varint_put(p, v->len);
		if (v->len)
			memcpy(p, v->u.p, v->len);
		p += v->len;
		break;
	default:
		break;
	}
	return (size_t)(p - s);
}

int sli_value_put(sli_buf *b, const sl_value *v)
{
	if (v->type > SL_BYTES
	    || (v->type == SL_BYTES && v->len > SL_MAX_BYTES))
		return SL_EINVAL;
	int rc = sli_buf_reserve(b, sli_value_size(v));
	if (rc)
		return rc;
	b->len += sli_value_write(b->data + b->len, v);
	return SL_OK;
}

int sli_value_get(const uint8_t **pp, const uint8_t *end, sl_value *out)
{
	const uint8_t *p = *pp;
	uint64_t x;
	int rc;
	if (p >= end)
		return SL_ETRUNC;
	uint8_t tag = *p++;
	switch (tag) {
	case SL_NULL:
		*out = sl_null();
		break;
	case SL_INT:
		if ((rc = sli_varint_get(&p, end, &x)))
			return rc;
		*out = sl_int(sli_unzigzag(x));
		break;
	case SL_DOUBLE: {
		if (end - p < 8)
			return SL_ETRUNC;
		uint64_t bits = sli_le64_get(p);
		double d;
		memcpy(&d, &bits, 8);
		*out = sl_double(d);
		p += 8;
		break;
	}
	case SL_BYTES:
		if ((rc = sli_varint_get(&p, end, &x)))
			return rc;
		if (x > SL_MAX_BYTES)
			return SL_EOVERFLOW;
		if ((uint64_t)(end - p) < x)
			return SL_ETRUNC;
		*out = sl_bytes(p, (uint32_t)x);
		p += x;
		break;
	default:
		return SL_EPROTO;
	}
	*pp = p;
	return SL_OK;
}

int sli_value_skip(const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *p = *pp;
	if (p < end && *p == SL_INT) {
		/* the common costly case: an int's varint, not assembled */
		p++;
		int rc = sli_varint_skip(&p, end);
		if (!rc)
			*pp = p;
		return rc;
	}
	sl_value v; /* the other kinds decode as cheaply as they skip */
	return sli_value_get(pp, end, &v);
}

size_t sl_next_word(const uint8_t *p, size_t n, size_t *pos, const uint8_t **w)
{
	if (!(pos && w && (p || n == 0)))
		return 0;
	return sli_next_word(p, n, pos, w);
}

size_t sl_count_words(const uint8_t *p, size_t n)
{
	if (!p)
		return 0;
	size_t pos = 0, words = 0;
	const uint8_t *w;
	while (sli_next_word(p, n, &pos, &w))
		words++;
	return words;
}

int sli_split_words(const sl_value *line,
    int (*emit)(void *ctx, const sl_value *word), void *ctx)
{
	if (line->type != SL_BYTES)
		return SL_OK;
	size_t pos = 0, n;
	const uint8_t *w;
	while ((n = sli_next_word(line->u.p, line->len, &pos, &w))) {
		sl_value v = sl_bytes(w, (uint32_t)n);
		int rc = emit(ctx, &v);
		if (rc)
			return rc;
	}
	return SL_OK;
}
