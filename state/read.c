/*
 * read.c - committed reads of a state: one key at the last commit or at a
 * pinned one (the read rule, record.c), every key, statistics and live
 * counters.
 */
#include "state_impl.h"

#include <stdatomic.h>
#include <string.h>

static __thread sli_buf tls_val;

int sl_state_get(sl_state *s, const void *key, size_t klen, sl_value *out)
{
	SLI_NONNULL(s);
	SLI_NONNULL(key || klen == 0);
	SLI_NONNULL(out);
	return sli_state_get_at(s, key, klen, s->committed, out);
}

int sli_state_get_at(sl_state *s, const void *key, size_t klen,
    uint64_t committed, sl_value *out)
{
	sli_buf k, v;
	sli_buf_init(&k);
	sli_buf_init(&v);
	int found = 0;
	int rc = sli_rec_key(&k, key, klen);
	if (!rc)
		rc = s->kv->ops->get(s->kv, k.data, k.len, &v, &found);
	if (!rc && !found)
		rc = SL_ENOTFOUND;
	if (!rc)
		rc = sli_state_decode_value(v.data, v.len, committed, out);
#if SLI_TRACING
	{
		char h[160];
		sli_trace("read %s %s %llu %lld", s->dir ? s->dir : "mem",
		    sli_trace_hex(h, key, klen), (unsigned long long)committed,
		    rc == SL_ENOTFOUND        ? 0LL
		        : out->type == SL_INT ? (long long)out->u.i
		                              : -1LL);
	}
#endif
	if (!rc && out->type == SL_BYTES) {
		tls_val.len = 0;
		rc = sli_buf_append(&tls_val, out->u.p, out->len);
		out->u.p = tls_val.data;
	}
	sli_buf_free(&k);
	sli_buf_free(&v);
	return rc;
}

int sl_state_last_committed(sl_state *s, uint64_t *txid)
{
	SLI_NONNULL(s);
	SLI_NONNULL(txid);
	*txid = s->committed;
	return SL_OK;
}

typedef struct fe {
	uint64_t committed;
	int (*fn)(void *, const uint8_t *, size_t, const sl_value *);
	void *user;
	uint64_t count;
	int err;
} fe;

static int fe_cb(
    void *u, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	fe *f = u;
	sl_value val;
	int rc = sli_state_decode_value(v, vl, f->committed, &val);
	if (rc == SL_ENOTFOUND)
		return 0;
	if (rc) {
		f->err = rc;
		return 1;
	}
	f->count++;
	return f->fn ? f->fn(f->user, k + 1, kl - 1, &val) : 0;
}

int sl_state_foreach(sl_state *s,
    int (*fn)(void *user, const uint8_t *key, size_t klen, const sl_value *v),
    void *user)
{
	SLI_NONNULL(s);
	SLI_NONNULL(fn);
	fe f = { s->committed, fn, user, 0, 0 };
	uint8_t pre = SLI_KEY_PREFIX;
	int rc = s->kv->ops->scan(s->kv, &pre, 1, fe_cb, &f);
	return f.err ? f.err : rc;
}

int sl_state_stats_get(sl_state *s, sl_state_stats *st)
{
	SLI_NONNULL(s);
	SLI_NONNULL(st);
	memset(st, 0, sizeof(*st));
	fe f = { s->committed, NULL, NULL, 0, 0 };
	uint8_t pre = SLI_KEY_PREFIX;
	int rc = s->kv->ops->scan(s->kv, &pre, 1, fe_cb, &f);
	if (!rc)
		rc = f.err;
	st->keys = f.count;
	st->last_committed = s->committed;
	st->disk_bytes = s->kv->ops->disk_bytes(s->kv);
	st->semantics = s->o.semantics;
	st->format_version = SLI_STATE_FORMAT;
	sli_buf b;
	sli_buf_init(&b);
	int found = 0;
	int mrc = s->kv->ops->get(
	    s->kv, SLI_M_REPAIRED, SLI_M_LEN(SLI_M_REPAIRED), &b, &found);
	if (!rc)
		rc = mrc;
	if (!mrc && found) {
		const uint8_t *p = b.data, *end = b.data + b.len;
		st->repaired = 1;
		if (sli_varint_get(&p, end, &st->repaired_txid)
		    || end - p != 8)
			rc = sli_err(SL_ECORRUPT, "repair record is corrupt");
		else
			st->repaired_at = sli_le64_get(p);
	}
	sli_buf_free(&b);
	return rc;
}

int sl_state_counters_get(sl_state *s, sl_state_counters *c)
{
	SLI_NONNULL(s);
	SLI_NONNULL(c);
	c->cache_hits = atomic_load_explicit(&s->c_hits, memory_order_relaxed);
	c->cache_misses
	    = atomic_load_explicit(&s->c_misses, memory_order_relaxed);
	c->keys_created
	    = atomic_load_explicit(&s->c_created, memory_order_relaxed);
	c->disk_bytes = s->kv->ops->disk_bytes(s->kv);
	return SL_OK;
}
