/* key.c - typed, injective state keys of group values and their text
 * form (see key.h). */
#include "key.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The order-preserving bits of a double (and back). */
static uint64_t dbl_key(double d)
{
	uint64_t b;
	memcpy(&b, &d, 8);
	return b >> 63 ? ~b : b | (1ull << 63);
}

static double dbl_unkey(uint64_t k)
{
	uint64_t b = k >> 63 ? k & ~(1ull << 63) : ~k;
	double d;
	memcpy(&d, &b, 8);
	return d;
}

int sli_key_put(sli_buf *out, const sl_value *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const sl_value *v = &g[i];
		size_t need = v->type == SL_BYTES ? 11 + (size_t)v->len : 9;
		int rc = sli_buf_reserve(out, need);
		if (rc)
			return rc;
		uint8_t *p = out->data + out->len;
		switch (v->type) {
		case SL_NULL:
			p[0] = SL_NULL;
			out->len += 1;
			break;
		case SL_INT:
			p[0] = SL_INT;
			be64_put(p + 1, (uint64_t)v->u.i ^ (1ull << 63));
			out->len += 9;
			break;
		case SL_DOUBLE:
			p[0] = SL_DOUBLE;
			be64_put(p + 1, dbl_key(v->u.d));
			out->len += 9;
			break;
		case SL_BYTES:
			p[0] = SL_BYTES;
			out->len += 1 + sli_varint_put(p + 1, v->len);
			if (v->len)
				memcpy(out->data + out->len, v->u.p, v->len);
			out->len += v->len;
			break;
		default:
			return sli_err(SL_EINVAL, "bad value type %u in a key",
			    (unsigned)v->type);
		}
	}
	return SL_OK;
}

int sli_key_get(
    const uint8_t *p, size_t len, sl_value *v, size_t max, size_t *n)
{
	const uint8_t *end = p + len;
	size_t k = 0;
	while (p < end) {
		if (k == max)
			return sli_err(SL_ELIMIT,
			    "state key holds more than %zu values", max);
		uint8_t tag = *p++;
		uint64_t l;
		switch (tag) {
		case SL_NULL:
			v[k] = sl_null();
			break;
		case SL_INT:
		case SL_DOUBLE:
			if (end - p < 8)
				return sli_err(
				    SL_ECORRUPT, "state key is truncated");
			if (tag == SL_INT)
				v[k] = sl_int(
				    (int64_t)(be64_get(p) ^ (1ull << 63)));
			else
				v[k] = sl_double(dbl_unkey(be64_get(p)));
			p += 8;
			break;
		case SL_BYTES: {
			const uint8_t *at = p;
			uint8_t minimal[10];
			if (sli_varint_get(&p, end, &l) || l > SL_MAX_BYTES
			    || (uint64_t)(end - p) < l)
				return sli_err(
				    SL_ECORRUPT, "state key is truncated");
			/* one encoding per key (the encoding is injective):
			 * an overlong length (82 00 for 2) is not a key */
			if ((size_t)(p - at) != sli_varint_put(minimal, l))
				return sli_err(SL_ECORRUPT,
				    "state key has an overlong length");
			v[k] = sl_bytes(p, (uint32_t)l);
			p += l;
			break;
		}
		default:
			return sli_err(SL_ECORRUPT,
			    "state key has an unknown type %u (format 1 "
			    "key?)",
			    tag);
		}
		k++;
	}
	*n = k;
	return SL_OK;
}

/* ---- text form ---- */

/* T_RANGE: a number that no value holds exactly (an integer beyond
 * int64, a double beyond DBL_MAX): refused, never rounded. */
typedef enum { T_BYTES, T_INT, T_DOUBLE, T_NULL, T_RANGE } tclass;

/* What a bare (unquoted) token reads back as. */
static tclass classify(const char *s, size_t n, int64_t *i, double *d)
{
	char tmp[64];
	size_t sign = n && s[0] == '-';
	size_t digits = 0;
	while (sign + digits < n && s[sign + digits] >= '0'
	    && s[sign + digits] <= '9')
		digits++;
	int integer = digits && sign + digits == n;
	if (n == 0 || n >= sizeof(tmp))
		return integer ? T_RANGE : T_BYTES;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	if (!strcmp(tmp, "null"))
		return T_NULL;
	char *end;
	errno = 0;
	if (integer) {
		long long v = strtoll(tmp, &end, 10);
		if (errno || *end)
			return T_RANGE;
		*i = v;
		return T_INT;
	}
	errno = 0;
	double x = strtod(tmp, &end);
	if (!*end && end != tmp) {
		if (errno == ERANGE && isinf(x))
			return T_RANGE;
		*d = x;
		return T_DOUBLE;
	}
	return T_BYTES;
}

/* Length of the valid UTF-8 sequence at p (0 if invalid). */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	size_t l = c < 0x80         ? 1
	    : c >= 0xc2 && c < 0xe0 ? 2
	    : c >= 0xe0 && c < 0xf0 ? 3
	    : c >= 0xf0 && c < 0xf5 ? 4
	                            : 0;
	if (!l || l > n)
		return 0;
	for (size_t i = 1; i < l; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if (l == 3
	    && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
		return 0;
	if (l == 4
	    && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
		return 0;
	return l;
}

static int bare_ok(const uint8_t *p, size_t n)
{
	int64_t i;
	double d;
	if (!n || p[0] == '"')
		return 0;
	for (size_t k = 0; k < n;) {
		if (p[k] <= ' ' || p[k] == 0x7f)
			return 0;
		size_t l = utf8_len(p + k, n - k);
		if (!l)
			return 0;
		k += l;
	}
	return classify((const char *)p, n, &i, &d) == T_BYTES;
}

static int put_str(sli_buf *out, const char *s)
{
	return sli_buf_append(out, s, strlen(s));
}

static int format_one(sli_buf *out, const sl_value *v)
{
	char tmp[64];
	switch (v->type) {
	case SL_NULL:
		return put_str(out, "null");
	case SL_INT:
		snprintf(tmp, sizeof(tmp), "%" PRId64, v->u.i);
		return put_str(out, tmp);
	case SL_DOUBLE: {
		/* the shortest form that reads back to the same double */
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(tmp, sizeof(tmp), "%.*g", prec, v->u.d);
			if (strtod(tmp, NULL) == v->u.d)
				break;
		}
		int64_t i;
		double d;
		if (classify(tmp, strlen(tmp), &i, &d) == T_INT)
			strcat(tmp, ".0");
		return put_str(out, tmp);
	}
	case SL_BYTES:
		break;
	default:
		return SL_EINVAL;
	}
	if (bare_ok(v->u.p, v->len))
		return sli_buf_append(out, v->u.p, v->len);
	int rc = sli_buf_put_u8(out, '"');
	for (uint32_t k = 0; !rc && k < v->len; k++) {
		uint8_t c = v->u.p[k];
		size_t l = c >= 0x80 ? utf8_len(v->u.p + k, v->len - k) : 0;
		if (l > 1) { /* printable multi-byte UTF-8: as is */
			rc = sli_buf_append(out, v->u.p + k, l);
			k += (uint32_t)l - 1;
		} else if (c == '"' || c == '\\')
			rc = sli_buf_append(
			    out, c == '"' ? "\\\"" : "\\\\", 2);
		else if (c == '\t')
			rc = sli_buf_append(out, "\\t", 2);
		else if (c == '\n')
			rc = sli_buf_append(out, "\\n", 2);
		else if (c == '\r')
			rc = sli_buf_append(out, "\\r", 2);
		else if (c < ' ' || c >= 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", c);
			rc = put_str(out, tmp);
		} else
			rc = sli_buf_put_u8(out, c);
	}
	return rc ? rc : sli_buf_put_u8(out, '"');
}

int sli_key_format(sli_buf *out, const sl_value *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = i ? sli_buf_put_u8(out, '\t') : SL_OK;
		if (!rc)
			rc = format_one(out, &v[i]);
		if (rc)
			return rc;
	}
	return SL_OK;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	    : c >= 'a' && c <= 'f'  ? c - 'a' + 10
	    : c >= 'A' && c <= 'F'  ? c - 'A' + 10
	                            : -1;
}

int sli_key_parse(
    const char *s, sli_buf *store, sl_value *v, size_t max, size_t *n)
{
	/* two passes: unescape everything into store first (it may move
	 * while growing), then point the values into it */
	size_t offs[SL_MAX_FIELDS], lens[SL_MAX_FIELDS];
	tclass cls[SL_MAX_FIELDS];
	int64_t ints[SL_MAX_FIELDS];
	double dbls[SL_MAX_FIELDS];
	size_t k = 0;
	store->len = 0;
	const char *p = s;
	for (;;) {
		if (k == max || k == SL_MAX_FIELDS)
			return sli_err(
			    SL_EINVAL, "key '%s' has too many values", s);
		const char *tab = strchr(p, '\t');
		size_t tl = tab ? (size_t)(tab - p) : strlen(p);
		offs[k] = store->len;
		if (tl && p[0] == '"') {
			if (tl < 2 || p[tl - 1] != '"')
				return sli_err(SL_EINVAL,
				    "key '%s': unterminated quote", s);
			for (size_t j = 1; j + 1 < tl; j++) {
				char c = p[j];
				int rc;
				if (c == '"')
					return sli_err(SL_EINVAL,
					    "key '%s': unescaped '\"' inside "
					    "quotes",
					    s);
				if (c != '\\') {
					rc = sli_buf_put_u8(store, (uint8_t)c);
				} else if (j + 2 >= tl) {
					return sli_err(SL_EINVAL,
					    "key '%s': bad escape", s);
				} else {
					c = p[++j];
					uint8_t o = c == 't' ? '\t'
					    : c == 'n'       ? '\n'
					    : c == 'r'       ? '\r'
					    : c == '"'       ? '"'
					    : c == '\\'      ? '\\'
					                     : 0;
					if (c == 'x' && j + 3 < tl
					    && hexval(p[j + 1]) >= 0
					    && hexval(p[j + 2]) >= 0) {
						o = (uint8_t)(hexval(p[j + 1])
						        << 4
						    | hexval(p[j + 2]));
						j += 2;
					} else if (!o)
						return sli_err(SL_EINVAL,
						    "key '%s': bad escape "
						    "'\\%c'",
						    s, c);
					rc = sli_buf_put_u8(store, o);
				}
				if (rc)
					return rc;
			}
			cls[k] = T_BYTES;
		} else {
			cls[k] = classify(p, tl, &ints[k], &dbls[k]);
			if (cls[k] == T_RANGE)
				return sli_err(SL_EINVAL,
				    "key '%s': %.*s is out of range (integers "
				    "are 64-bit, doubles up to 1.8e308); "
				    "quote "
				    "it for a string%s",
				    s, (int)(tl > 80 ? 80 : tl), p,
				    memchr(p, 'e', tl) || memchr(p, 'E', tl)
				        ? ""
				        : ", or write it with an exponent "
				          "(1e20) for a double");
			if (cls[k] == T_BYTES) {
				int rc = sli_buf_append(store, p, tl);
				if (rc)
					return rc;
			}
		}
		lens[k] = store->len - offs[k];
		k++;
		if (!tab)
			break;
		p = tab + 1;
	}
	for (size_t i = 0; i < k; i++)
		v[i] = cls[i] == T_NULL ? sl_null()
		    : cls[i] == T_INT   ? sl_int(ints[i])
		    : cls[i] == T_DOUBLE
		    ? sl_double(dbls[i])
		    : sl_bytes(store->data ? store->data + offs[i]
		                           : (const uint8_t *)"",
		        (uint32_t)lens[i]);
	*n = k;
	return SL_OK;
}

/* The public encoders over caller buffers: b's bytes (rc from filling it)
 * into buf (cap bytes; a NUL after them when nul), *len = their number;
 * SL_EFULL when they do not fit. Frees b. */
static int copy_out(
    sli_buf *b, int rc, uint8_t *buf, size_t cap, size_t *len, int nul)
{
	if (!rc) {
		*len = b->len;
		if (b->len + (nul ? 1 : 0) > cap)
			rc = SL_EFULL;
		else {
			if (b->len)
				memcpy(buf, b->data, b->len);
			if (nul)
				buf[b->len] = 0;
		}
	}
	sli_buf_free(b);
	return rc;
}

int sl_state_key(
    const sl_value *v, size_t n, uint8_t *buf, size_t cap, size_t *len)
{
	SLI_NONNULL(v || n == 0);
	SLI_NONNULL(buf || cap == 0);
	SLI_NONNULL(len);
	sli_buf b;
	sli_buf_init(&b);
	return copy_out(&b, sli_key_put(&b, v, n), buf, cap, len, 0);
}

int sl_state_key_values(
    const uint8_t *key, size_t klen, sl_value *v, size_t max, size_t *n)
{
	SLI_NONNULL(key || klen == 0);
	SLI_NONNULL(v || max == 0);
	SLI_NONNULL(n);
	return sli_key_get(key, klen, v, max, n);
}

int sli_keylist_init(sli_keylist *l, size_t cap)
{
	memset(l, 0, sizeof(*l));
	sli_buf_init(&l->buf);
	l->cap = cap;
	l->offs = calloc(cap + 1, sizeof(size_t));
	l->keys = calloc(cap + 1, sizeof(sl_value));
	return l->offs && l->keys ? SL_OK : SL_ENOMEM;
}

const sl_value *sli_keylist_keys(sli_keylist *l)
{
	for (size_t i = 0; i < l->n; i++)
		l->keys[i] = sl_bytes(l->buf.data ? l->buf.data + l->offs[i]
		                                  : (const uint8_t *)"",
		    l->keys[i].len);
	return l->keys;
}

void sli_keylist_free(sli_keylist *l)
{
	free(l->offs);
	free(l->keys);
	sli_buf_free(&l->buf);
	memset(l, 0, sizeof(*l));
}

/* ---- the public text form (sluice/core.h) over caller buffers ---- */

int sl_values_format(
    const sl_value *v, size_t n, char *buf, size_t cap, size_t *len)
{
	SLI_NONNULL(v || n == 0);
	SLI_NONNULL(buf || cap == 0);
	SLI_NONNULL(len);
	sli_buf b;
	sli_buf_init(&b);
	return copy_out(
	    &b, sli_key_format(&b, v, n), (uint8_t *)buf, cap, len, 1);
}

int sl_values_parse(const char *s, uint8_t *store, size_t cap, sl_value *v,
    size_t max, size_t *n)
{
	SLI_NONNULL(s);
	SLI_NONNULL(store || cap == 0);
	SLI_NONNULL(v || max == 0);
	SLI_NONNULL(n);
	sli_buf b;
	sli_buf_init(&b);
	int rc = sli_key_parse(s, &b, v, max, n);
	if (!rc && b.len > cap)
		rc = sli_err(SL_EFULL,
		    "values '%s': %zu bytes of store needed", s, b.len);
	if (!rc && b.data) {
		/* the bytes values point into b: move them into store */
		if (b.len)
			memcpy(store, b.data, b.len);
		for (size_t i = 0; i < *n; i++)
			if (v[i].type == SL_BYTES
			    && (uintptr_t)v[i].u.p - (uintptr_t)b.data
			        <= b.len)
				v[i].u.p = store
				    + ((uintptr_t)v[i].u.p
				        - (uintptr_t)b.data);
	}
	sli_buf_free(&b);
	return rc;
}
