/*
 * record.c - how a state lies in its key-value store (docs/state-format.md):
 * the keys (user keys under 01, the metadata records under 00) and the value
 * record (version, txid, prev, curr) with the read rule. The typed group
 * keys themselves are core/key.c's.
 */
#include "state_impl.h"

#include <string.h>

int sli_rec_decode(const uint8_t *p, size_t n, sli_rec *r)
{
	const uint8_t *end = p + n;
	if (n < 1 || *p != SLI_REC_VERSION)
		return sli_err(
		    n && *p > SLI_REC_VERSION ? SL_EVERSION : SL_ECORRUPT,
		    "stored value has an unknown encoding");
	p++;
	if (sli_varint_get(&p, end, &r->txid)
	    || sli_value_get(&p, end, &r->prev)
	    || sli_value_get(&p, end, &r->curr) || p != end)
		return sli_err(SL_ECORRUPT, "stored value is corrupt");
	return SL_OK;
}

int sli_rec_encode(sli_buf *b, const sli_rec *r)
{
	int rc = sli_buf_put_u8(b, SLI_REC_VERSION);
	if (!rc)
		rc = sli_buf_put_varint(b, r->txid);
	if (!rc)
		rc = sli_value_put(b, &r->prev);
	if (!rc)
		rc = sli_value_put(b, &r->curr);
	return rc;
}

/* The read rule (opaque_check.py, read()): curr when the record's txid is
 * committed, else prev (its batch has no commit record yet). */
int sli_state_decode_value(
    const uint8_t *p, size_t n, uint64_t committed, sl_value *out)
{
	sli_rec r;
	int rc = sli_rec_decode(p, n, &r);
	if (rc)
		return rc;
	*out = r.txid <= committed ? r.curr : r.prev;
	return out->type == SL_NULL ? SL_ENOTFOUND : SL_OK;
}

int sli_rec_key(sli_buf *b, const void *k, size_t kl)
{
	b->len = 0;
	int rc = sli_buf_put_u8(b, SLI_KEY_PREFIX);
	return rc ? rc : sli_buf_append(b, k, kl);
}

static void be_put(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

void sli_touched_key(
    uint8_t out[SLI_TOUCHED_KEY_LEN], uint64_t txid, uint32_t part)
{
	memcpy(out, SLI_M_TOUCHED, SLI_TOUCHED_PREFIX_LEN);
	be_put(out + SLI_TOUCHED_PREFIX_LEN, txid, 8);
	be_put(out + SLI_TOUCHED_PREFIX_LEN + 8, part, 4);
}

int sli_meta_key(sli_buf *k, const char *name, uint64_t txid)
{
	k->len = 0;
	int rc = sli_buf_append(k, SLI_M_TXMETA, sizeof(SLI_M_TXMETA) - 1);
	if (!rc)
		rc = sli_buf_append(k, name, strlen(name) + 1);
	uint8_t be[8];
	be_put(be, txid, 8);
	if (!rc)
		rc = sli_buf_append(k, be, 8);
	return rc;
}

int sli_keylist_next(
    const uint8_t **q, const uint8_t *end, const uint8_t **k, size_t *kl)
{
	uint64_t n;
	if (sli_varint_get(q, end, &n) || n > (uint64_t)(end - *q))
		return sli_err(SL_ECORRUPT, "touched record is corrupt");
	*k = *q;
	*kl = (size_t)n;
	*q += n;
	return SL_OK;
}

int sli_touched_txid(
    const uint8_t *v, size_t vl, uint64_t *txid, const uint8_t **keys)
{
	const uint8_t *q = v;
	if (sli_varint_get(&q, v + vl, txid))
		return sli_err(SL_ECORRUPT, "touched record is corrupt");
	*keys = q;
	return SL_OK;
}

typedef struct txmeta_drop {
	uint64_t after;
	sli_kv_batch *b;
	int rc;
} txmeta_drop;

static int txmeta_drop_cb(
    void *u, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	(void)v, (void)vl;
	txmeta_drop *d = u;
	if (kl < SLI_M_LEN(SLI_M_TXMETA) + 9)
		return 0;
	uint64_t txid = 0;
	for (int i = 0; i < 8; i++)
		txid = txid << 8 | k[kl - 8 + i];
	if (txid > d->after && !d->rc)
		d->rc = sli_kv_batch_del(d->b, k, kl);
	return 0;
}

int sli_state_drop_txmeta_after(sl_state *s, uint64_t txid)
{
	sli_kv_batch b;
	sli_kv_batch_init(&b);
	txmeta_drop d = { txid, &b, SL_OK };
	int rc = s->kv->ops->scan(
	    s->kv, SLI_M_TXMETA, SLI_M_LEN(SLI_M_TXMETA), txmeta_drop_cb, &d);
	if (!rc)
		rc = d.rc;
	if (!rc && b.n)
		rc = s->kv->ops->write(s->kv, &b, s->o.sync);
	sli_kv_batch_free(&b);
	return rc;
}
