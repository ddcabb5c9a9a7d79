/*
 * spout_ctx.c - the spout API (sl_spout_*: what a spout's emit sees of
 * its batch: txid, attempt, the metas of the previous batch and of this
 * one's earlier attempt, the batch limits) and the spout task's answer
 * to EMIT: run the spout, keep its meta (in memory for a window of
 * txids and durably in the store before any state write of the batch),
 * send the batch on and report DONE with eof, tuple count and meta.
 */
#include "trident_impl.h"

#include <stdlib.h>
#include <string.h>

/* What a spout's emit sees of its batch. */
struct sl_spout_ctx {
	task *k;
	uint64_t txid;
	uint32_t attempt;
	const sli_buf *prev, *replay;
	sli_buf meta;
	int has_meta, eof;
};

uint64_t sl_spout_txid(const sl_spout_ctx *c)
{
	if (!c)
		return 0;
	return c->txid;
}
uint32_t sl_spout_attempt(const sl_spout_ctx *c)
{
	if (!c)
		return 0;
	return c->attempt;
}
const void *sl_spout_prev_meta(const sl_spout_ctx *c, size_t *len)
{
	if (!c) {
		if (len)
			*len = 0;
		return NULL;
	}
	*len = c->prev ? c->prev->len : 0;
	return c->prev ? (c->prev->data ? c->prev->data : (void *)"") : NULL;
}
const void *sl_spout_replay_meta(const sl_spout_ctx *c, size_t *len)
{
	if (!c) {
		if (len)
			*len = 0;
		return NULL;
	}
	*len = c->replay ? c->replay->len : 0;
	return c->replay ? (c->replay->data ? c->replay->data : (void *)"")
	                 : NULL;
}
int sli_spout_stopping(const sl_spout_ctx *c)
{
	return c->k->t->stop || c->k->t->shutdown;
}
void sl_spout_set_fatal(sl_spout_ctx *c)
{
	if (!c)
		return;
	c->k->fatal = 1;
}

int sl_spout_set_meta(sl_spout_ctx *c, const void *p, size_t n)
{
	SLI_NONNULL(c);
	SLI_NONNULL(p || n == 0);
	c->meta.len = 0;
	c->has_meta = 1;
	return sli_buf_append(&c->meta, p, n);
}
void sl_spout_set_eof(sl_spout_ctx *c)
{
	if (!c)
		return;
	c->eof = 1;
}
size_t sl_spout_batch_size(const sl_spout_ctx *c)
{
	if (!c)
		return 0;
	return c->k->t->o.batch_size;
}
int sl_spout_batch_ms(const sl_spout_ctx *c)
{
	if (!c)
		return 0;
	return c->k->t->o.batch_ms;
}

static sli_buf *meta_find(task *k, uint64_t txid)
{
	for (size_t i = 0; i < k->nmetas; i++)
		if (k->meta_txid[i] == txid)
			return &k->metas[i];
	return NULL;
}

int sli_spout_keep_meta(task *k, uint64_t txid, const sli_buf *m)
{
	sli_buf *slot = meta_find(k, txid);
	if (!slot) {
		/* reuse the slot of the oldest entry once the window is full
		 */
		size_t window = 2 * (size_t)k->t->o.max_pending + 4;
		if (k->nmetas < window) {
			sli_buf *nm
			    = realloc(k->metas, (k->nmetas + 1) * sizeof(*nm));
			if (!nm)
				return SL_ENOMEM;
			k->metas = nm;
			uint64_t *nt = realloc(
			    k->meta_txid, (k->nmetas + 1) * sizeof(*nt));
			if (!nt)
				return SL_ENOMEM;
			k->meta_txid = nt;
			sli_buf_init(&k->metas[k->nmetas]);
			slot = &k->metas[k->nmetas++];
		} else {
			size_t o = 0;
			for (size_t i = 1; i < k->nmetas; i++)
				if (k->meta_txid[i] < k->meta_txid[o])
					o = i;
			slot = &k->metas[o];
		}
		k->meta_txid[slot - k->metas] = txid;
	}
	slot->len = 0;
	return sli_buf_append(slot, m->data, m->len);
}

int sli_spout_emit(task *k, uint64_t txid, uint32_t attempt)
{
	sl_topology *t = k->t;
	sl_stream *sp = t->spout;
	int stale;
	bctx *b = sli_bctx_get(k, txid, attempt, &stale);
	if (!b)
		return stale ? SL_OK : SL_ENOMEM;
	sl_spout_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	ctx.k = k;
	ctx.txid = txid;
	ctx.attempt = attempt;
	ctx.prev = meta_find(k, txid - 1);
	sli_buf stored;
	sli_buf_init(&stored);
	ctx.replay = meta_find(k, txid);
	if (!ctx.replay && t->store
	    && sli_state_get_meta(t->store, "spout", txid, &stored) == SL_OK)
		ctx.replay = &stored;
	sli_buf_init(&ctx.meta);
	int rc = SL_OK;
	if (sli_fault(SLI_FAULT_SPOUT, t, txid, attempt))
		rc = sli_err(SL_EFAILED, "injected failure in the spout");
	for (size_t i = 0; !rc && i < k->nouts; i++)
		rc = sli_outbox_begin(k->outs[i].ob, txid, attempt);
	sl_collector c = { C_REPLACE, k, b, sp, NULL, 0, 0, 0 };
	if (!rc) {
		sli_err(SL_OK, "%s", "");
		rc = sp->spout->emit(sp->spout_self, &ctx, &c);
		if (!rc)
			rc = c.err;
	}
	/* the batch's meta is durable before any state write of it. When
	 * the attempt failed after the spout recorded its range (a fused
	 * function failed), the range is still kept for the replay: an
	 * opaque spout that read new input (socket) must replay what it
	 * read, not read on and lose it. */
	if (rc && ctx.has_meta)
		sli_spout_keep_meta(k, txid, &ctx.meta);
	if (!rc && ctx.has_meta) {
		rc = sli_spout_keep_meta(k, txid, &ctx.meta);
		if (!rc && t->store)
			rc = sli_state_put_meta(t->store, "spout", txid,
			    ctx.meta.data, ctx.meta.len);
	}
	b->tuples = c.emitted;
	if (!rc)
		rc = sli_finish_batch(k, b);
	if (rc) {
		for (size_t i = 0; i < k->nouts; i++)
			sli_outbox_drop(k->outs[i].ob, txid);
		sli_report_fail(k, txid, attempt, rc, sp->name);
	} else {
		sli_buf body;
		sli_buf_init(&body);
		sli_ctrl_done_body(&body, ctx.eof, c.emitted, &ctx.meta);
		sli_report(k, OP_DONE, txid, attempt, &body);
		sli_buf_free(&body);
	}
	sli_bctx_release(k, b);
	sli_buf_free(&ctx.meta);
	sli_buf_free(&stored);
	return SL_OK;
}
