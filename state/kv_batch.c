/* kv_batch.c - write batches shared by the key-value back-ends: built
 * here, and read only through sli_kv_batch_foreach. */
#include "kv.h"

void sli_kv_batch_init(sli_kv_batch *b)
{
	sli_buf_init(&b->ops);
	b->n = 0;
}

void sli_kv_batch_free(sli_kv_batch *b)
{
	sli_buf_free(&b->ops);
	b->n = 0;
}

void sli_kv_batch_clear(sli_kv_batch *b)
{
	b->ops.len = 0;
	b->n = 0;
}

int sli_kv_batch_put(
    sli_kv_batch *b, const void *k, size_t kl, const void *v, size_t vl)
{
	int rc = sli_buf_reserve(&b->ops, 1 + 20 + kl + vl);
	if (rc)
		return rc;
	sli_buf_put_u8(&b->ops, SLI_KV_PUT);
	sli_buf_put_varint(&b->ops, kl);
	sli_buf_append(&b->ops, k, kl);
	sli_buf_put_varint(&b->ops, vl);
	sli_buf_append(&b->ops, v, vl);
	b->n++;
	return SL_OK;
}

int sli_kv_batch_del(sli_kv_batch *b, const void *k, size_t kl)
{
	int rc = sli_buf_reserve(&b->ops, 1 + 10 + kl);
	if (rc)
		return rc;
	sli_buf_put_u8(&b->ops, SLI_KV_DEL);
	sli_buf_put_varint(&b->ops, kl);
	sli_buf_append(&b->ops, k, kl);
	b->n++;
	return SL_OK;
}

int sli_kv_batch_append(sli_kv_batch *to, const sli_kv_batch *from)
{
	int rc = sli_buf_append(&to->ops, from->ops.data, from->ops.len);
	if (!rc)
		to->n += from->n;
	return rc;
}

/* The bytes [*q, *q + *n) of a length-prefixed field at *q, moving past. */
static int field(
    const uint8_t **q, const uint8_t *end, const uint8_t **p, size_t *n)
{
	uint64_t l;
	if (sli_varint_get(q, end, &l) || l > (uint64_t)(end - *q))
		return SL_ECORRUPT;
	*p = *q;
	*n = (size_t)l;
	*q += l;
	return SL_OK;
}

int sli_kv_batch_foreach(const sli_kv_batch *b,
    int (*fn)(void *u, int op, const uint8_t *k, size_t kl, const uint8_t *v,
        size_t vl),
    void *u)
{
	const uint8_t *q = b->ops.data, *end = q + b->ops.len;
	while (q < end) {
		int op = *q++;
		const uint8_t *k, *v = NULL;
		size_t kl, vl = 0;
		if ((op != SLI_KV_PUT && op != SLI_KV_DEL)
		    || field(&q, end, &k, &kl)
		    || (op == SLI_KV_PUT && field(&q, end, &v, &vl)))
			return sli_err(SL_ECORRUPT, "malformed write batch");
		int rc = fn(u, op, k, kl, v, vl);
		if (rc)
			return rc;
	}
	return SL_OK;
}
