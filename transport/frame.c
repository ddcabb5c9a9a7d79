/* frame.c - the batch frame codec: a fixed header, then count tuples in the
 * core value codec; optionally sealed (docs/wire-format.md). */
#include "transport.h"

#include <string.h>

/* header field offsets (little-endian) */
enum {
	OFF_MAGIC = 0,
	OFF_VERSION = 4,
	OFF_KIND = 5,
	OFF_FLAGS = 6,
	OFF_STREAM = 8,
	OFF_TXID = 12,
	OFF_ATTEMPT = 20,
	OFF_SOURCE = 24,
	OFF_PARTITION = 28,
	OFF_COUNT = 32,
	OFF_BODYLEN = 36
};

static void put_header(uint8_t *p, const sli_frame_header *h, uint32_t body)
{
	sli_le32_put(p + OFF_MAGIC, SLI_FRAME_MAGIC);
	p[OFF_VERSION] = SLI_FRAME_VERSION;
	p[OFF_KIND] = h->kind;
	p[OFF_FLAGS] = h->flags;
	p[7] = 0;
	sli_le32_put(p + OFF_STREAM, h->stream);
	sli_le64_put(p + OFF_TXID, h->txid);
	sli_le32_put(p + OFF_ATTEMPT, h->attempt);
	sli_le32_put(p + OFF_SOURCE, h->source_task);
	sli_le32_put(p + OFF_PARTITION, h->partition);
	sli_le32_put(p + OFF_COUNT, h->count);
	sli_le32_put(p + OFF_BODYLEN, body);
}

void sli_frame_writer_init(sli_frame_writer *w)
{
	memset(w, 0, sizeof(*w));
	sli_buf_init(&w->buf);
	sli_buf_init(&w->sealed);
}

void sli_frame_writer_free(sli_frame_writer *w)
{
	sli_buf_free(&w->buf);
	sli_buf_free(&w->sealed);
}

int sli_frame_writer_begin(sli_frame_writer *w, const sli_frame_header *h)
{
	if (h->kind > SLI_FRAME_CTRL)
		return SL_EINVAL;
	w->h = *h;
	w->h.count = 0;
	w->h.flags = 0;
	w->buf.len = 0;
	int rc = sli_buf_reserve(&w->buf, SLI_FRAME_HEADER_BYTES);
	if (rc)
		return rc;
	w->buf.len = SLI_FRAME_HEADER_BYTES;
	return SL_OK;
}

int sli_frame_writer_add(sli_frame_writer *w, const sl_value *v, size_t n)
{
	if (n > SL_MAX_FIELDS)
		return SL_EINVAL;
	if (w->h.count == UINT32_MAX)
		return SL_EOVERFLOW;
	size_t need = 1;
	for (size_t i = 0; i < n; i++) {
		if (v[i].type > SL_BYTES
		    || (v[i].type == SL_BYTES && v[i].len > SL_MAX_BYTES))
			return SL_EINVAL;
		need += sli_value_size(&v[i]);
	}
	if (w->buf.len - SLI_FRAME_HEADER_BYTES + need > SLI_FRAME_MAX_BODY)
		return w->h.count ? SL_EFULL
		                  : sli_err(SL_ELIMIT,
		                      "a tuple of %zu bytes is larger than a "
		                      "frame may be (%zu bytes)",
		                      need, (size_t)SLI_FRAME_MAX_BODY);
	int rc = sli_buf_reserve(&w->buf, need);
	if (rc)
		return rc;
	uint8_t *p = w->buf.data + w->buf.len;
	*p++ = (uint8_t)n; /* varint of n < 128 is one byte */
	for (size_t i = 0; i < n; i++)
		p += sli_value_write(p, &v[i]);
	w->buf.len = (size_t)(p - w->buf.data);
	w->h.count++;
	return SL_OK;
}

int sli_frame_writer_finish(
    sli_frame_writer *w, const uint8_t *key, const uint8_t **data, size_t *len)
{
	size_t body = w->buf.len - SLI_FRAME_HEADER_BYTES;
	if (body + SLI_SEAL_OVERHEAD > UINT32_MAX)
		return SL_EOVERFLOW;
	if (!key) {
		put_header(w->buf.data, &w->h, (uint32_t)body);
		*data = w->buf.data;
		*len = w->buf.len;
		return SL_OK;
	}
	w->h.flags |= SLI_FRAME_SEALED;
	w->sealed.len = 0;
	int rc = sli_buf_reserve(
	    &w->sealed, SLI_FRAME_HEADER_BYTES + body + SLI_SEAL_OVERHEAD);
	if (rc)
		return rc;
	uint8_t *out = w->sealed.data;
	put_header(out, &w->h, (uint32_t)(body + SLI_SEAL_OVERHEAD));
	rc = sli_seal(key, out, SLI_FRAME_HEADER_BYTES,
	    w->buf.data + SLI_FRAME_HEADER_BYTES, body,
	    out + SLI_FRAME_HEADER_BYTES);
	if (rc)
		return rc;
	w->sealed.len = SLI_FRAME_HEADER_BYTES + body + SLI_SEAL_OVERHEAD;
	*data = w->sealed.data;
	*len = w->sealed.len;
	return SL_OK;
}

static _Atomic uint64_t rejected;

uint64_t sli_transport_rejected(void)
{
	return rejected;
}

void sli_transport_count_rejected(void)
{
	rejected++;
}

static int reject(int rc, const char *why)
{
	rejected++;
	return sli_err(rc, "frame rejected: %s", why);
}

int sli_frame_decode(
    sli_frame_reader *r, uint8_t *buf, size_t len, const uint8_t *key)
{
	if (len < SLI_FRAME_HEADER_BYTES)
		return reject(SL_ETRUNC, "shorter than a header");
	if (sli_le32_get(buf + OFF_MAGIC) != SLI_FRAME_MAGIC)
		return reject(SL_EPROTO, "bad magic");
	if (buf[OFF_VERSION] != SLI_FRAME_VERSION)
		return reject(SL_EVERSION, "unsupported version");
	sli_frame_header *h = &r->h;
	h->kind = buf[OFF_KIND];
	h->flags = buf[OFF_FLAGS];
	if (h->kind > SLI_FRAME_CTRL || (h->flags & ~SLI_FRAME_SEALED)
	    || buf[7] != 0)
		return reject(SL_EPROTO, "bad kind or flags");
	h->stream = sli_le32_get(buf + OFF_STREAM);
	h->txid = sli_le64_get(buf + OFF_TXID);
	h->attempt = sli_le32_get(buf + OFF_ATTEMPT);
	h->source_task = sli_le32_get(buf + OFF_SOURCE);
	h->partition = sli_le32_get(buf + OFF_PARTITION);
	h->count = sli_le32_get(buf + OFF_COUNT);
	uint32_t body = sli_le32_get(buf + OFF_BODYLEN);
	size_t avail = len - SLI_FRAME_HEADER_BYTES;
	if (body > avail)
		return reject(SL_ETRUNC, "body shorter than its length field");
	if (body < avail)
		return reject(SL_ECORRUPT, "trailing bytes after the body");
	uint8_t *p = buf + SLI_FRAME_HEADER_BYTES;
	size_t plen = body;
	if (h->flags & SLI_FRAME_SEALED) {
		if (!key)
			return reject(SL_ECRYPTO, "sealed frame but no key");
		if (body < SLI_SEAL_OVERHEAD)
			return reject(SL_ETRUNC, "sealed body too short");
		plen = body - SLI_SEAL_OVERHEAD;
		if (sli_open(key, buf, SLI_FRAME_HEADER_BYTES, p, body,
		        p + SLI_SEAL_NONCE))
			return reject(SL_ECRYPTO, "authentication failed");
		p += SLI_SEAL_NONCE;
	} else if (key) {
		return reject(SL_ECRYPTO, "unsealed frame on a sealed link");
	}
	const uint8_t *end = p + plen;
	if (h->kind != SLI_FRAME_DATA) {
		/* EOB and CTRL carry no tuples: an opaque body for CTRL only
		 */
		if (h->kind == SLI_FRAME_EOB && plen)
			return reject(SL_ECORRUPT, "end-of-batch with a body");
		r->p = p;
		r->end = end;
		r->left = 0;
		return SL_OK;
	}
	/* every tuple takes at least one byte: a cheap bound first */
	if (h->count > plen)
		return reject(
		    SL_EOVERFLOW, "count larger than the body allows");
	const uint8_t *q = p;
	for (uint32_t t = 0; t < h->count; t++) {
		uint64_t arity;
		int rc = sli_varint_get(&q, end, &arity);
		if (rc)
			return reject(rc, "bad tuple arity");
		if (arity > SL_MAX_FIELDS)
			return reject(
			    SL_EOVERFLOW, "tuple arity over the limit");
		for (uint64_t i = 0; i < arity; i++)
			if ((rc = sli_value_skip(&q, end)))
				return reject(rc, "bad value");
	}
	if (q != end)
		return reject(SL_ECORRUPT, "bytes after the last tuple");
	r->p = p;
	r->end = end;
	r->left = h->count;
	return SL_OK;
}

int sli_frame_next(sli_frame_reader *r, sl_value *v, size_t max, size_t *n)
{
	if (!r->left)
		return SL_ENOTFOUND;
	uint64_t arity;
	/* validated by sli_frame_decode */
	sli_varint_get(&r->p, r->end, &arity);
	if (arity > max)
		return SL_ELIMIT;
	for (uint64_t i = 0; i < arity; i++)
		sli_value_get(&r->p, r->end, &v[i]);
	*n = (size_t)arity;
	r->left--;
	return SL_OK;
}
