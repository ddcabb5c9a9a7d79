/* kv_batch.c - write batches shared by the key-value back-ends: built
 * here, and read only through sli_kv_batch_foreach (kv.h, inline). */
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
