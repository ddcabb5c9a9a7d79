/*
 * exec.c - planning and running a Trident topology: stages of fused
 * operations on task threads, frames over nanomsg inproc links, and the
 * batch coordinator (txids, attempts, max_pending, commits in txid order).
 *
 * Protocol of one batch T (attempt a):
 *   coordinator -> spout task: EMIT(T, a)
 *   every task, once it has all of T (end-of-batch markers from every
 *   upstream task with matching counts), finishes its aggregations,
 *   forwards T downstream with its own markers and reports DONE(T, a);
 *   when all tasks reported DONE and T-1 committed, the coordinator sends
 *   WRITE(T) to the persistent_aggregate tasks (one state partition each,
 *   one atomic write each), waits for WRITTEN, then writes the commit
 *   record. Any failure or timeout re-emits T with attempt a+1, and every
 *   later batch in flight too.
 */
#include "core/key.h"
#include "trident_impl.h"

#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { OP_EMIT = 1, OP_DONE, OP_FAIL, OP_WRITE, OP_WRITTEN, OP_STOP };

struct sl_spout_ctx {
	task *k;
	uint64_t txid;
	uint32_t attempt;
	const sli_buf *prev, *replay;
	sli_buf meta;
	int has_meta, eof;
};

static int deliver(
    task *k, bctx *b, sl_stream *n, const sl_value *v, size_t nv);

/* ---------------------------------------------------------- helpers */

static int hook(sl_topology *t, int stage, uint64_t txid, uint32_t attempt)
{
	if (t->fail_stage != stage || t->fail_txid != txid
	    || (t->fail_attempt && t->fail_attempt != attempt))
		return 0;
	int want = stage;
	return atomic_compare_exchange_strong(
	    &t->fail_stage, &want, SLI_FAIL_NONE);
}

void sli_topology_fail_once(
    sl_topology *t, int stage, uint64_t txid, uint32_t attempt)
{
	/* the stage last: a task that sees it armed sees txid and attempt */
	t->fail_stage = SLI_FAIL_NONE;
	t->fail_txid = txid;
	t->fail_attempt = attempt;
	t->fail_stage = stage;
}

int sli_topology_fail_armed(sl_topology *t)
{
	return atomic_load(&t->fail_stage) != SLI_FAIL_NONE;
}

void sli_topology_set_done_delay(
    sl_topology *t, int (*fn)(void *user, uint64_t txid), void *user)
{
	t->done_delay = fn;
	t->done_delay_user = user;
}

/* Appends the state key of group values to out: typed and injective
 * (core/key.h), so the int 5 and the string "5" never share a key. */
static int state_key(sli_buf *out, const sl_value *g, size_t ng)
{
	return sli_key_put(out, g, ng);
}

/* ---------------------------------------------------------- batches */

static bctx *bctx_get(task *k, uint64_t txid, uint32_t attempt, int *stale)
{
	sl_topology *t = k->t;
	bctx *free_b = NULL;
	*stale = 0;
	for (size_t i = 0; i < k->nb; i++) {
		bctx *b = &k->b[i];
		if (b->used && b->txid == txid) {
			if (attempt < b->attempt) {
				*stale = 1;
				return NULL;
			}
			if (attempt == b->attempt)
				return b;
			free_b = b; /* a newer attempt: start over */
			break;
		}
		if (!b->used && !free_b)
			free_b = b;
	}
	if (!free_b) {
		bctx *nb = realloc(k->b, (k->nb + 1) * sizeof(*nb));
		if (!nb)
			return NULL;
		k->b = nb;
		free_b = &k->b[k->nb++];
		memset(free_b, 0, sizeof(*free_b));
	}
	bctx *b = free_b;
	if (!b->maps) {
		b->maps = calloc(t->nnodes, sizeof(aggmap));
		b->pmaps = calloc(t->nnodes, sizeof(aggmap));
		b->mused = calloc(t->nnodes, 1);
		b->pused = calloc(t->nnodes, 1);
		if (!b->maps || !b->pmaps || !b->mused || !b->pused)
			return NULL;
	}
	for (size_t i = 0; i < t->nnodes; i++) {
		if (b->mused[i])
			sli_aggmap_reset(&b->maps[i], &t->nodes[i]->agg);
		if (b->pused[i])
			sli_aggmap_reset(&b->pmaps[i], &t->nodes[i]->agg);
	}
	memset(b->mused, 0, t->nnodes);
	memset(b->pused, 0, t->nnodes);
	b->txid = txid;
	b->attempt = attempt;
	b->used = 1;
	b->failed = 0;
	b->tuples = 0;
	return b;
}

static void bctx_release(task *k, bctx *b)
{
	for (size_t i = 0; i < k->t->nnodes; i++) {
		if (b->mused[i])
			sli_aggmap_reset(&b->maps[i], &k->t->nodes[i]->agg);
		if (b->pused[i])
			sli_aggmap_reset(&b->pmaps[i], &k->t->nodes[i]->agg);
	}
	memset(b->mused, 0, k->t->nnodes);
	memset(b->pused, 0, k->t->nnodes);
	b->used = 0;
}

static void bctx_free_all(task *k)
{
	for (size_t i = 0; i < k->nb; i++) {
		if (k->b[i].maps) {
			bctx_release(k, &k->b[i]);
			/* reset kept their memory: free every map */
			for (size_t j = 0; j < k->t->nnodes; j++) {
				sli_aggmap_free(&k->b[i].maps[j], NULL);
				sli_aggmap_free(&k->b[i].pmaps[j], NULL);
			}
		}
		free(k->b[i].maps);
		free(k->b[i].pmaps);
		free(k->b[i].mused);
		free(k->b[i].pused);
	}
	free(k->b);
	k->b = NULL;
	k->nb = 0;
}

/* ---------------------------------------------------------- emitting */

int sl_emit(sl_collector *c, const sl_value *v, size_t n)
{
	if (c->err)
		return c->err;
	sl_value tmp[SL_MAX_FIELDS];
	const sl_value *out = v;
	size_t nout = n;
	if (c->mode != C_REPLACE) {
		if (c->nbase + n > SL_MAX_FIELDS)
			return c->err = sli_err(SL_EINVAL, "too many fields");
		memcpy(tmp, c->base, c->nbase * sizeof(sl_value));
		memcpy(tmp + c->nbase, v, n * sizeof(sl_value));
		out = tmp;
		nout = c->nbase + n;
	}
	size_t want = sl_fields_count(c->node->out);
	if (nout != want && !(c->node->kind == N_SPOUT && nout >= want)) {
		/* the same input would fail the same way on every replay */
		c->k->fatal = 1;
		if (!c->k->fail_node)
			c->k->fail_node = c->node->name;
		return c->err = sli_err(SL_EINVAL,
		           "%s emitted %zu values, its fields are %zu",
		           c->node->name, nout, want);
	}
	c->emitted++;
	int rc = sli_to_children(c->k, c->b, c->node, out, want);
	if (rc)
		c->err = rc;
	return rc;
}

void sli_collector_batch(
    const sl_collector *c, uint64_t *txid, uint32_t *attempt)
{
	int batch = c && c->b && c->k && !c->k->local;
	*txid = batch ? c->b->txid : 0;
	*attempt = batch ? c->b->attempt : 0;
}

/* The maps start zeroed (calloc) and are reset, not freed, between
 * batches: an unused map is empty but may keep its memory. */
aggmap *sli_map_of(bctx *b, int id, int partial)
{
	if (partial) {
		b->pused[id] = 1;
		return &b->pmaps[id];
	}
	b->mused[id] = 1;
	return &b->maps[id];
}

texit *sli_exit_for(task *k, int stage)
{
	for (size_t i = 0; i < k->nouts; i++)
		if (k->outs[i].stage == stage)
			return &k->outs[i];
	return NULL;
}

/* Sends tuple v from node n's task to child c in another stage. */
static int cross(task *k, bctx *b, sl_stream *c, const sl_value *v, size_t nv)
{
	if (sli_agg_combining(c)) /* combine locally before the repartition */
		return sli_agg_accumulate(
		    k, b, c, sli_map_of(b, c->id, 1), v, nv, 0);
	texit *x = sli_exit_for(k, c->stage);
	if (!x)
		return sli_err(SL_EINVAL, "no link to stage %d", c->stage);
	return sli_outbox_emit(x->ob, v, nv);
}

int sli_to_children(
    task *k, bctx *b, sl_stream *n, const sl_value *v, size_t nv)
{
	if (!n->nchildren && k->local) {
		k->result = nv ? v[nv - 1] : sl_null();
		k->has_result = 1;
		if (k->result.type == SL_BYTES) {
			k->result_buf.len = 0;
			if (sli_buf_append(
			        &k->result_buf, k->result.u.p, k->result.len))
				return SL_ENOMEM;
			k->result.u.p = k->result_buf.data;
		}
		return SL_OK;
	}
	for (size_t i = 0; i < n->nchildren; i++) {
		sl_stream *c = n->children[i];
		int rc;
		if (c->kind == N_JOIN)
			rc = sli_join_send(k, n, i, v, nv);
		else
			rc = (k->local || c->stage == k->stage)
			    ? deliver(k, b, c, v, nv)
			    : cross(k, b, c, v, nv);
		if (rc)
			return rc;
	}
	return SL_OK;
}

/* A tuple arrives at node n as its input. */
static int deliver(
    task *k, bctx *b, sl_stream *n, const sl_value *v, size_t nv)
{
	sl_value tmp[SL_MAX_FIELDS];
	sl_tuple in = { tmp, n->nin };
	for (size_t i = 0; i < n->nin; i++)
		tmp[i] = v[n->in_idx[i]];
	int rc;
	switch (n->kind) {
	case N_EACH:
	case N_MAP:
	case N_FLATMAP: {
		if (!k->local
		    && hook(k->t, SLI_FAIL_FUNCTION, b->txid, b->attempt))
			return sli_err(
			    SL_EFAILED, "injected failure in %s", n->name);
		sl_collector c = { n->kind == N_EACH ? C_APPEND : C_REPLACE, k,
			b, n, v, nv, 0, 0 };
		rc = n->fn(n->user, &in, &c);
		if (rc < 0 && !*sl_errdetail())
			sli_err(rc, "%s failed", n->name);
		if (rc < 0 && !k->fail_node)
			k->fail_node = n->name;
		return rc < 0 ? rc : c.err;
	}
	case N_FILTER:
		if (!k->local
		    && hook(k->t, SLI_FAIL_FUNCTION, b->txid, b->attempt))
			return sli_err(
			    SL_EFAILED, "injected failure in %s", n->name);
		rc = n->filt(n->user, &in);
		if (rc < 0 && !k->fail_node)
			k->fail_node = n->name;
		if (rc < 0)
			return rc;
		return rc ? sli_to_children(k, b, n, v, nv) : SL_OK;
	case N_PROJECT:
		return sli_to_children(k, b, n, tmp, n->nin);
	case N_QUERY: {
		sl_value g[SL_MAX_FIELDS];
		for (size_t i = 0; i < n->ngroup; i++)
			g[i] = v[n->gidx[i]];
		sli_buf key;
		sli_buf_init(&key);
		rc = state_key(&key, g, n->ngroup);
		sl_value got = sl_null();
		if (!rc && k->local) {
			size_t pi = 0;
			while (pi < k->npins && k->pin_state[pi] != n->state)
				pi++;
			if (pi == k->npins && pi < 8) {
				k->pin_state[pi] = n->state;
				sl_state_last_committed(
				    n->state, &k->pin_txid[k->npins++]);
			}
			uint64_t at = UINT64_MAX;
			if (pi < k->npins)
				at = k->pin_txid[pi];
			else
				sl_state_last_committed(n->state, &at);
			rc = sli_state_get_at(
			    n->state, key.data, key.len, at, &got);
			if (rc == SL_ENOTFOUND) {
				got = sl_null();
				rc = SL_OK;
			}
		} else if (!rc) {
			rc = sl_state_get(n->state, key.data, key.len, &got);
			if (rc == SL_ENOTFOUND) {
				got = sl_null();
				rc = SL_OK;
			}
		}
		sli_buf_free(&key);
		if (rc)
			return rc;
		memcpy(tmp, v, nv * sizeof(sl_value));
		tmp[nv] = got;
		return sli_to_children(k, b, n, tmp, nv + 1);
	}
	case N_AGG:
	case N_PAGG:
	case N_PERSIST:
		return sli_agg_accumulate(
		    k, b, n, sli_map_of(b, n->id, 0), v, nv, 0);
	case N_JOIN:
		return sli_join_keep(b, n, v, nv);
	default:
		return sli_to_children(k, b, n, v, nv);
	}
}

/* Finishes batch b in task k: aggregations in graph order, partials and
 * end-of-batch markers downstream. */
static int finish_batch(task *k, bctx *b)
{
	sl_topology *t = k->t;
	for (size_t i = 0; i < t->nnodes; i++) {
		sl_stream *n = t->nodes[i];
		int rc = SL_OK;
		if (n->stage == k->stage
		    && (n->kind == N_AGG || n->kind == N_PAGG))
			rc = sli_agg_finish(k, b, n);
		else if (n->stage == k->stage && n->kind == N_JOIN)
			rc = sli_join_finish(k, b, n);
		else if (b->pused[i] && n->stage != k->stage) {
			if (hook(t, SLI_FAIL_PARTIAL, b->txid, b->attempt))
				return sli_err(SL_EFAILED,
				    "injected failure in the partial "
				    "aggregate of %s",
				    n->name);
			texit *x = sli_exit_for(k, n->stage);
			aggmap *m = &b->pmaps[i];
			sl_value tu[SL_MAX_FIELDS];
			for (size_t j = 0; j < m->n && !rc && x; j++) {
				const aggent *e = sli_aggmap_at(m, j);
				sli_aggmap_groups(e, tu);
				tu[e->ngroup] = e->acc;
				rc = sli_outbox_emit(x->ob, tu, e->ngroup + 1);
			}
		}
		if (rc)
			return rc;
	}
	uint64_t sent = 0;
	for (size_t i = 0; i < k->nouts; i++) {
		int rc = sli_outbox_end(k->outs[i].ob);
		if (rc)
			return rc;
		for (uint32_t l = 0; l < k->outs[i].nlinks; l++)
			sent += sli_outbox_sent(k->outs[i].ob, l);
	}
	sli_live_count(t, k->stage, b->tuples, sent);
	return SL_OK;
}

/* ---------------------------------------------------------- messages */

/* Sends one control message, waiting at most 10 s for room on the link,
 * in slices: a topology shutting down (or, for the coordinator's
 * messages, stopping) gives up at once (SL_ECLOSED), so that a stop never
 * waits behind a full queue. */
static int send_ctrl(sl_topology *t, int coord, sli_link *l, int op,
    uint64_t txid, uint32_t attempt, uint32_t from, const void *body,
    size_t blen)
{
	const uint8_t *key = t->keyp;
	sli_frame_writer w;
	sli_frame_writer_init(&w);
	sli_frame_header h
	    = { SLI_FRAME_CTRL, 0, (uint32_t)op, txid, attempt, from, 0, 0 };
	int rc = sli_frame_writer_begin(&w, &h);
	if (!rc && blen)
		rc = sli_buf_append(&w.buf, body, blen);
	const uint8_t *d;
	size_t n;
	if (!rc)
		rc = sli_frame_writer_finish(&w, key, &d, &n);
	for (int waited = 0; !rc;) {
		rc = sli_link_send(l, d, n, 100);
		if (rc != SL_ETIMEDOUT)
			break;
		if (t->shutdown || (coord && t->stop))
			rc = sli_err(SL_ECLOSED, "stopping");
		else if ((waited += 100) < 10000)
			rc = SL_OK;
	}
	sli_frame_writer_free(&w);
	return rc;
}

static void report(
    task *k, int op, uint64_t txid, uint32_t attempt, const sli_buf *body)
{
	sl_topology *t = k->t;
	if (op == OP_DONE && t->done_delay) {
		int ms = t->done_delay(t->done_delay_user, txid);
		if (ms > 0) {
			delayed *nd
			    = realloc(k->dl, (k->ndl + 1) * sizeof(*nd));
			if (nd) {
				k->dl = nd;
				delayed *d = &k->dl[k->ndl++];
				d->due_ns
				    = sli_now_ns() + (uint64_t)ms * 1000000u;
				d->txid = txid;
				d->attempt = attempt;
				sli_buf_init(&d->body);
				if (body)
					sli_buf_append(
					    &d->body, body->data, body->len);
				return;
			}
		}
	}
	send_ctrl(k->t, 0, k->to_coord, op, txid, attempt, k->gid,
	    body ? body->data : NULL, body ? body->len : 0);
}

static void flush_delayed(task *k, int all)
{
	uint64_t now = sli_now_ns();
	for (size_t i = 0; i < k->ndl;) {
		delayed *d = &k->dl[i];
		if (all || d->due_ns <= now) {
			send_ctrl(k->t, 0, k->to_coord, OP_DONE, d->txid,
			    d->attempt, k->gid, d->body.data, d->body.len);
			sli_buf_free(&d->body);
			k->dl[i] = k->dl[--k->ndl];
		} else
			i++;
	}
}

static void report_fail(
    task *k, uint64_t txid, uint32_t attempt, int rc, const char *where)
{
	sli_buf body;
	sli_buf_init(&body);
	char msg[600];
	if (k->fail_node)
		where = k->fail_node;
	k->fail_node = NULL;
	snprintf(msg, sizeof(msg), "stage %s: %s", where,
	    *sl_errdetail() ? sl_errdetail()
	        : *k->err   ? k->err
	                    : sl_strerror(rc));
	/* the top bit marks an error no replay can heal */
	sli_buf_put_u32(&body, (uint32_t)-rc | (k->fatal ? 0x80000000u : 0));
	k->fatal = 0;
	sli_buf_append(&body, msg, strlen(msg));
	report(k, OP_FAIL, txid, attempt, &body);
	sli_buf_free(&body);
}

/* ---------------------------------------------------------- spout task */

uint64_t sl_spout_txid(const sl_spout_ctx *c)
{
	return c->txid;
}
uint32_t sl_spout_attempt(const sl_spout_ctx *c)
{
	return c->attempt;
}
const void *sl_spout_prev_meta(const sl_spout_ctx *c, size_t *len)
{
	*len = c->prev ? c->prev->len : 0;
	return c->prev ? (c->prev->data ? c->prev->data : (void *)"") : NULL;
}
const void *sl_spout_replay_meta(const sl_spout_ctx *c, size_t *len)
{
	*len = c->replay ? c->replay->len : 0;
	return c->replay ? (c->replay->data ? c->replay->data : (void *)"")
	                 : NULL;
}
void sl_spout_set_fatal(sl_spout_ctx *c)
{
	c->k->fatal = 1;
}

int sl_spout_set_meta(sl_spout_ctx *c, const void *p, size_t n)
{
	c->meta.len = 0;
	c->has_meta = 1;
	return sli_buf_append(&c->meta, p, n);
}
void sl_spout_set_eof(sl_spout_ctx *c)
{
	c->eof = 1;
}
size_t sl_spout_batch_size(const sl_spout_ctx *c)
{
	return c->k->t->o.batch_size;
}
int sl_spout_batch_ms(const sl_spout_ctx *c)
{
	return c->k->t->o.batch_ms;
}

static sli_buf *meta_find(task *k, uint64_t txid)
{
	for (size_t i = 0; i < k->nmetas; i++)
		if (k->meta_txid[i] == txid)
			return &k->metas[i];
	return NULL;
}

static int meta_keep(task *k, uint64_t txid, const sli_buf *m)
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

static int spout_emit(task *k, uint64_t txid, uint32_t attempt)
{
	sl_topology *t = k->t;
	sl_stream *sp = t->spout;
	int stale;
	bctx *b = bctx_get(k, txid, attempt, &stale);
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
	if (hook(t, SLI_FAIL_SPOUT, txid, attempt))
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
		meta_keep(k, txid, &ctx.meta);
	if (!rc && ctx.has_meta) {
		rc = meta_keep(k, txid, &ctx.meta);
		if (!rc && t->store)
			rc = sli_state_put_meta(t->store, "spout", txid,
			    ctx.meta.data, ctx.meta.len);
	}
	b->tuples = c.emitted;
	if (!rc)
		rc = finish_batch(k, b);
	if (rc) {
		for (size_t i = 0; i < k->nouts; i++)
			sli_outbox_drop(k->outs[i].ob, txid);
		report_fail(k, txid, attempt, rc, sp->name);
	} else {
		sli_buf body;
		sli_buf_init(&body);
		sli_buf_put_u8(&body, (uint8_t)ctx.eof);
		sli_buf_put_u64(&body, c.emitted);
		sli_buf_append(&body, ctx.meta.data, ctx.meta.len);
		report(k, OP_DONE, txid, attempt, &body);
		sli_buf_free(&body);
	}
	bctx_release(k, b);
	sli_buf_free(&ctx.meta);
	sli_buf_free(&stored);
	return SL_OK;
}

/* ---------------------------------------------------------- other tasks */

static int persist_write(task *k, uint64_t txid, uint32_t attempt)
{
	sl_topology *t = k->t;
	sl_stream *n = t->stages[k->stage].entry;
	int stale;
	bctx *b = NULL;
	for (size_t i = 0; i < k->nb; i++)
		if (k->b[i].used && k->b[i].txid == txid)
			b = &k->b[i];
	if (!b || b->attempt != attempt) {
		/* nothing arrived for this partition: an empty write */
		b = bctx_get(k, txid, attempt, &stale);
		if (!b)
			return stale ? SL_ESTALE : SL_ENOMEM;
	}
	uint64_t committed;
	sl_state_last_committed(n->state, &committed);
	int rc = SL_OK;
	if (txid > committed) {
		aggmap *m = b->mused[n->id] ? &b->maps[n->id] : NULL;
		size_t cnt = m ? m->n : 0;
		sl_value *keys = calloc(cnt + 1, sizeof(sl_value));
		sl_value *deltas = calloc(cnt + 1, sizeof(sl_value));
		sli_buf kb;
		sli_buf_init(&kb);
		size_t *offs = calloc(cnt + 1, sizeof(size_t));
		if (!keys || !deltas || !offs)
			rc = SL_ENOMEM;
		size_t j = 0;
		for (size_t i = 0; m && !rc && i < m->n; i++) {
			const aggent *e = sli_aggmap_at(m, i);
			sl_value g[SL_MAX_FIELDS];
			sli_aggmap_groups(e, g);
			offs[j] = kb.len;
			rc = state_key(&kb, g, e->ngroup);
			keys[j].len = (uint32_t)(kb.len - offs[j]);
			deltas[j++] = e->acc;
		}
		for (size_t i = 0; !rc && i < j; i++)
			keys[i] = sl_bytes(
			    kb.data ? kb.data + offs[i] : (const uint8_t *)"",
			    keys[i].len);
		if (!rc && k->index == 0
		    && hook(t, SLI_FAIL_STATE, txid, attempt))
			sli_state_fail_once(n->state, k->index, txid, 1);
		if (!rc) {
			rc = sli_state_apply(n->state, k->index, txid, j, keys,
			    deltas, n->agg.combiner);
			if (rc)
				sli_agg_fold_failed(k, n, rc);
		}
		free(keys);
		free(deltas);
		free(offs);
		sli_buf_free(&kb);
	}
	bctx_release(k, b);
	if (rc) {
		report_fail(k, txid, attempt, rc, n->name);
		return SL_OK;
	}
	report(k, OP_WRITTEN, txid, attempt, NULL);
	return SL_OK;
}

static int handle_data(task *k, sli_frame_reader *r)
{
	sl_topology *t = k->t;
	int done = sli_tracker_record(k->tracker, &r->h);
	if (done == SL_ESTALE)
		return SL_OK;
	int stale;
	bctx *b = bctx_get(k, r->h.txid, r->h.attempt, &stale);
	if (!b)
		return stale ? SL_OK : SL_ENOMEM;
	if (b->failed)
		return SL_OK;
	int rc = done < 0 ? done : SL_OK;
	/* this frame's batch is the one the outboxes write to (frames of
	 * several batches interleave; the first frame of a batch, or of a
	 * newer attempt, opens it downstream) */
	for (size_t i = 0; !rc && i < k->nouts; i++)
		rc = sli_outbox_use(k->outs[i].ob, r->h.txid, r->h.attempt);
	sl_stream *entry = t->stages[k->stage].entry;
	if (!rc && r->h.kind == SLI_FRAME_DATA) {
		sl_value v[SL_MAX_FIELDS];
		size_t nv;
		while (
		    !rc && sli_frame_next(r, v, SL_MAX_FIELDS, &nv) == SL_OK) {
			b->tuples++;
			if (sli_agg_combining(entry))
				rc = sli_agg_accumulate(k, b, entry,
				    sli_map_of(b, entry->id, 0), v, nv, 1);
			else
				rc = deliver(k, b, entry, v, nv);
		}
	}
	if (!rc && done == 1) {
		rc = finish_batch(k, b);
		sli_tracker_forget(k->tracker, r->h.txid);
		if (!rc) {
			report(k, OP_DONE, r->h.txid, r->h.attempt, NULL);
			if (entry->kind != N_PERSIST)
				bctx_release(k, b);
		}
	}
	if (rc) {
		b->failed = 1;
		for (size_t i = 0; i < k->nouts; i++)
			sli_outbox_drop(k->outs[i].ob, r->h.txid);
		report_fail(k, r->h.txid, r->h.attempt, rc, entry->name);
	}
	return SL_OK;
}

static void *task_main(void *arg)
{
	task *k = arg;
	sl_topology *t = k->t;
	for (;;) {
		/* at shutdown, what is still queued is dropped (uncommitted
		 * batches replay at the next run) */
		if (t->shutdown)
			break;
		sli_msg m;
		int rc = sli_link_recv(k->in, &m, k->ndl ? 5 : 100);
		if (k->ndl)
			flush_delayed(k, 0);
		if (rc == SL_ETIMEDOUT || rc == SL_EAGAIN)
			continue;
		if (rc)
			break;
		sli_frame_reader r;
		rc = sli_frame_decode(&r, m.data, m.len, t->keyp);
		if (rc) {
			sli_msg_free(&m);
			continue; /* counted by the transport; never applied */
		}
		if (r.h.kind == SLI_FRAME_CTRL) {
			uint32_t op = r.h.stream;
			if (op == OP_STOP) {
				sli_msg_free(&m);
				break;
			}
			if (op == OP_EMIT)
				spout_emit(k, r.h.txid, r.h.attempt);
			else if (op == OP_WRITE)
				persist_write(k, r.h.txid, r.h.attempt);
		} else
			handle_data(k, &r);
		sli_msg_free(&m);
	}
	flush_delayed(k, 1);
	(void)t;
	return NULL;
}

/* ---------------------------------------------------------- planning */

static int plan_fail(sl_topology *t, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int plan_fail(sl_topology *t, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->errmsg, sizeof(t->errmsg), fmt, ap);
	va_end(ap);
	t->err = rc;
	return rc;
}

static int starts_stage(const sl_stream *n)
{
	if (n->kind == N_REPART || n->kind == N_AGG || n->kind == N_PERSIST
	    || n->kind == N_JOIN)
		return 1;
	if (n->kind == N_MERGE) {
		for (size_t i = 1; i < n->nparents; i++)
			if (n->parents[i]->stage != n->parents[0]->stage)
				return 1;
	}
	return 0;
}

static int add_state(sl_topology *t, sl_state *s)
{
	for (size_t i = 0; i < t->nstates; i++)
		if (t->states[i] == s)
			return SL_OK;
	sl_state **ns = realloc(t->states, (t->nstates + 1) * sizeof(*ns));
	if (!ns)
		return SL_ENOMEM;
	t->states = ns;
	t->states[t->nstates++] = s;
	return SL_OK;
}

static int plan(sl_topology *t)
{
	if (!t->spout)
		return plan_fail(t, SL_EINVAL, "the topology has no spout");
	for (size_t i = 0; i < t->nnodes; i++)
		if (t->nodes[i]->kind == N_PERSIST
		    && sli_state_semantics(t->nodes[i]->state)
		        == SL_SEM_TRANSACTIONAL
		    && (!t->spout->spout->transactional
		        || (t->spout->spout->replays_exactly
		            && !t->spout->spout->replays_exactly(
		                t->spout->spout_self))))
			return plan_fail(t, SL_EINVAL,
			    "%s: transactional state needs a transactional "
			    "spout (%s replays may differ%s): use opaque "
			    "state",
			    t->nodes[i]->name, t->spout->spout->name,
			    t->spout->spout->transactional
			        ? ": it reads a pipe, which a replay after a "
			          "crash cannot read again"
			        : "");
	t->nstages = 0;
	free(t->stages);
	t->stages = calloc(t->nnodes + 1, sizeof(tstage));
	if (!t->stages)
		return SL_ENOMEM;
	/* nodes come in graph order: parents before children */
	for (size_t i = 0; i < t->nnodes; i++) {
		sl_stream *n = t->nodes[i];
		n->stage = -1;
		if (n->kind == N_SPOUT) {
			n->stage = 0;
			t->stages[0].entry = n;
			t->stages[0].ntasks = 1;
			t->nstages = 1;
			continue;
		}
		if (n->kind == N_DRPC || !n->nparents)
			continue;
		size_t in_batch = 0;
		for (size_t j = 0; j < n->nparents; j++)
			in_batch += n->parents[j]->stage >= 0;
		if (in_batch && in_batch < n->nparents)
			return plan_fail(t, SL_EINVAL,
			    "%s: cannot combine a DRPC stream with the "
			    "spout's stream",
			    n->name);
		if (!in_batch && n->kind == N_JOIN)
			return plan_fail(t, SL_EINVAL,
			    "join is not supported in DRPC streams");
		if (!in_batch)
			continue; /* part of a DRPC stream */
		if (starts_stage(n)) {
			tstage *s = &t->stages[t->nstages];
			s->id = (int)t->nstages++;
			s->entry = n;
			n->stage = s->id;
			s->ntasks = n->parallelism ? n->parallelism : 1;
		} else {
			n->stage = n->parents[0]->stage;
			tstage *s = &t->stages[n->stage];
			if (n->parallelism && n->stage != 0)
				s->ntasks = n->parallelism > s->ntasks
				    ? n->parallelism
				    : s->ntasks;
			else if (n->parallelism > 1 && n->stage == 0)
				return plan_fail(t, SL_EINVAL,
				    "%s: the spout's stage runs as one "
				    "task; shuffle or partition_by first",
				    n->name);
		}
		if (n->kind == N_PERSIST && add_state(t, n->state))
			return SL_ENOMEM;
	}
	/* global aggregates and global repartitions run as one task */
	for (size_t i = 0; i < t->nstages; i++) {
		sl_stream *e = t->stages[i].entry;
		if ((e->kind == N_REPART && e->rkind == SLI_GROUP_GLOBAL)
		    || (e->kind == N_AGG && !e->grouped))
			t->stages[i].ntasks = 1;
	}
	/* upstream stages of each tstage */
	for (size_t i = 0; i < t->nnodes; i++) {
		sl_stream *n = t->nodes[i];
		if (n->stage < 0)
			continue;
		for (size_t j = 0; j < n->nchildren; j++) {
			sl_stream *c = n->children[j];
			if (c->stage < 0 || c->stage == n->stage)
				continue;
			tstage *s = &t->stages[c->stage];
			int have = 0;
			for (size_t u = 0; u < s->nupstream; u++)
				if (s->upstream[u] == n->stage)
					have = 1;
			if (have)
				continue;
			int *nu = realloc(
			    s->upstream, (s->nupstream + 1) * sizeof(int));
			if (!nu)
				return SL_ENOMEM;
			s->upstream = nu;
			s->upstream[s->nupstream++] = n->stage;
			s->nsources += t->stages[n->stage].ntasks;
		}
	}
	t->store = t->nstates ? t->states[0] : NULL;
	t->npersist_tasks = 0;
	t->ntasks = 0;
	for (size_t i = 0; i < t->nstages; i++) {
		t->ntasks += t->stages[i].ntasks;
		if (t->stages[i].entry->kind == N_PERSIST) {
			t->npersist_tasks += t->stages[i].ntasks;
			int rc = sli_state_set_partitions(
			    t->stages[i].entry->state, t->stages[i].ntasks);
			if (rc)
				return plan_fail(t, rc, "%s", sl_errdetail());
		}
	}
	/* several persistent_aggregates on one state would share partitions */
	for (size_t i = 0; i < t->nstages; i++)
		for (size_t j = i + 1; j < t->nstages; j++)
			if (t->stages[i].entry->kind == N_PERSIST
			    && t->stages[j].entry->kind == N_PERSIST
			    && t->stages[i].entry->state
			        == t->stages[j].entry->state)
				return plan_fail(t, SL_EINVAL,
				    "two persistent_aggregates write the "
				    "same state");
	return SL_OK;
}

/* ---------------------------------------------------------- running */

static void task_url(
    sl_topology *t, char *out, size_t n, int stage, uint32_t idx)
{
	snprintf(out, n, "%s-%d-%u", t->url_base, stage, idx);
}

/* Source index of task (stage s, index i) as seen by stage to. */
static uint32_t source_index(sl_topology *t, int to, int s, uint32_t i)
{
	tstage *st = &t->stages[to];
	uint32_t off = 0;
	for (size_t u = 0; u < st->nupstream; u++) {
		if (st->upstream[u] == s)
			return off + i;
		off += t->stages[st->upstream[u]].ntasks;
	}
	return off + i;
}

static void free_tasks(sl_topology *t)
{
	for (size_t s = 0; s < t->nstages; s++) {
		tstage *st = &t->stages[s];
		for (uint32_t i = 0; st->tasks && i < st->ntasks; i++) {
			task *k = st->tasks[i];
			if (!k)
				continue;
			for (size_t o = 0; o < k->nouts; o++) {
				sli_outbox_free(k->outs[o].ob);
				for (uint32_t l = 0; l < k->outs[o].nlinks;
				     l++)
					sli_link_close(k->outs[o].links[l]);
				free(k->outs[o].links);
			}
			free(k->outs);
			sli_link_close(k->in);
			sli_link_close(k->to_coord);
			sli_tracker_free(k->tracker);
			bctx_free_all(k);
			for (size_t m = 0; m < k->nmetas; m++)
				sli_buf_free(&k->metas[m]);
			free(k->metas);
			free(k->meta_txid);
			for (size_t d = 0; d < k->ndl; d++)
				sli_buf_free(&k->dl[d].body);
			free(k->dl);
			sli_buf_free(&k->result_buf);
			free(k);
		}
		free(st->tasks);
		st->tasks = NULL;
		free(st->upstream);
		st->upstream = NULL;
		st->nupstream = 0;
		st->nsources = 0;
	}
}

static int build_tasks(sl_topology *t, const char *coord_url)
{
	uint32_t gid = 0;
	char url[128];
	for (size_t s = 0; s < t->nstages; s++) {
		tstage *st = &t->stages[s];
		st->tasks = calloc(st->ntasks, sizeof(task *));
		if (!st->tasks)
			return SL_ENOMEM;
		for (uint32_t i = 0; i < st->ntasks; i++) {
			task *k = calloc(1, sizeof(*k));
			if (!k)
				return SL_ENOMEM;
			st->tasks[i] = k;
			k->t = t;
			k->stage = (int)s;
			k->index = i;
			k->gid = gid++;
			task_url(t, url, sizeof(url), (int)s, i);
			int rc = sli_link_pull(&k->in, url);
			if (!rc)
				rc = sli_link_push(
				    &k->to_coord, coord_url, 64);
			if (!rc && s > 0)
				rc = sli_tracker_new(
				    &k->tracker, st->nsources);
			if (rc)
				return rc;
		}
	}
	/* outboxes: one per downstream tstage */
	for (size_t s = 0; s < t->nstages; s++) {
		for (size_t d = 0; d < t->nstages; d++) {
			tstage *ds = &t->stages[d];
			int feeds = 0;
			for (size_t u = 0; u < ds->nupstream; u++)
				if (ds->upstream[u] == (int)s)
					feeds = 1;
			if (!feeds)
				continue;
			sl_stream *e = ds->entry;
			sli_grouping g;
			memset(&g, 0, sizeof(g));
			g.local = -1;
			if (e->kind == N_JOIN) {
				/* (side, keys..., values...): by the keys */
				g.kind = SLI_GROUP_FIELDS;
				g.nfields = (uint32_t)e->ngroup;
				for (size_t f = 0; f < e->ngroup; f++)
					g.fields[f] = (int)f + 1;
			} else if (e->kind == N_REPART) {
				g.kind = e->rkind;
				g.nfields = (uint32_t)e->ngroup;
				memcpy(g.fields, e->gidx, sizeof(g.fields));
			} else if (sli_agg_combining(e)) {
				/* partials: the group values come first */
				g.kind = e->grouped ? SLI_GROUP_FIELDS
				                    : SLI_GROUP_GLOBAL;
				g.nfields = (uint32_t)e->ngroup;
				for (size_t f = 0; f < e->ngroup; f++)
					g.fields[f] = (int)f;
			} else if (e->kind == N_AGG || e->kind == N_PERSIST) {
				g.kind = e->grouped ? SLI_GROUP_FIELDS
				                    : SLI_GROUP_GLOBAL;
				g.nfields = (uint32_t)e->ngroup;
				memcpy(g.fields, e->gidx, sizeof(g.fields));
			} else
				g.kind = SLI_GROUP_SHUFFLE;
			tstage *us = &t->stages[s];
			for (uint32_t i = 0; i < us->ntasks; i++) {
				task *k = us->tasks[i];
				texit *no = realloc(
				    k->outs, (k->nouts + 1) * sizeof(*no));
				if (!no)
					return SL_ENOMEM;
				k->outs = no;
				texit *x = &k->outs[k->nouts++];
				memset(x, 0, sizeof(*x));
				x->stage = (int)d;
				x->nlinks = ds->ntasks;
				x->links
				    = calloc(ds->ntasks, sizeof(sli_link *));
				if (!x->links)
					return SL_ENOMEM;
				for (uint32_t j = 0; j < ds->ntasks; j++) {
					task_url(
					    t, url, sizeof(url), (int)d, j);
					int rc = sli_link_push(
					    &x->links[j], url, 64);
					if (rc)
						return rc;
				}
				g.next = i; /* spread shuffles */
				int rc = sli_outbox_new(&x->ob, x->links,
				    ds->ntasks, &g,
				    source_index(t, (int)d, (int)s, i),
				    (uint32_t)e->id, t->o.frame_tuples,
				    t->keyp);
				if (rc)
					return rc;
				sli_outbox_set_abort(x->ob, &t->shutdown);
			}
		}
	}
	return SL_OK;
}

void sl_run_options_default(sl_run_options *o)
{
	memset(o, 0, sizeof(*o));
	o->max_pending = 4;
	o->batch_timeout_ms = 30000;
	o->max_attempts = 0;
	o->batch_size = 10000;
	o->batch_ms = 100;
	o->frame_tuples = 1024;
}

void sl_topology_stop(sl_topology *t)
{
	t->stop = 1;
}

static void record_latency(sl_topology *t, double commit_ms, double batch_ms)
{
	pthread_mutex_lock(&t->stats_lock);
	sli_latency_add(&t->lat_commit, commit_ms);
	sli_latency_add(&t->lat_batch, batch_ms);
	pthread_mutex_unlock(&t->stats_lock);
}

int sl_topology_stats_get(sl_topology *t, sl_topology_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&t->stats_lock);
	st->batches_committed = t->batches_committed;
	st->replays = t->replays;
	st->tuples = t->tuples;
	st->empty_batches = t->empty_batches;
	st->last_committed = t->last_committed;
	st->rejected_frames = t->start_ns
	    ? sli_transport_rejected() - t->rejected_at_start
	    : 0;
	st->tuples_per_batch = t->batches_committed
	    ? (double)t->tuples / (double)t->batches_committed
	    : 0;
	uint64_t end = t->end_ns ? t->end_ns : sli_now_ns();
	st->elapsed_s = t->start_ns ? (double)(end - t->start_ns) / 1e9 : 0;
	st->commit_p50_ms = sli_latency_quantile(&t->lat_commit, 0.5);
	st->commit_p99_ms = sli_latency_quantile(&t->lat_commit, 0.99);
	st->batch_p50_ms = sli_latency_quantile(&t->lat_batch, 0.5);
	st->batch_p99_ms = sli_latency_quantile(&t->lat_batch, 0.99);
	pthread_mutex_unlock(&t->stats_lock);
	return SL_OK;
}

typedef struct coord {
	sl_topology *t;
	sli_link *in;
	sli_link **to; /* per task gid */
	task **by_gid;
	inflight *f;
	size_t nf;
	uint64_t next, committed;
	int eof;
	uint64_t eof_txid;
	uint32_t *attempts; /* per inflight slot */
	int err;
	uint64_t term_after; /* SLUICE_TEST_TERM_AFTER_COMMITS, or 0 */
	uint64_t commits_this_run;
	int abandon; /* stopping: batches in flight are given up */
} coord;

static inflight *find_inflight(coord *c, uint64_t txid)
{
	for (size_t i = 0; i < c->nf; i++)
		if (c->f[i].txid == txid)
			return &c->f[i];
	return NULL;
}

static int emit(coord *c, inflight *f)
{
	sl_topology *t = c->t;
	f->phase = 0;
	f->done = 0;
	f->spout_done = 0;
	f->written = 0;
	f->emit_ns = sli_now_ns();
	task *sp = t->stages[0].tasks[0];
	return send_ctrl(
	    c->t, 1, c->to[sp->gid], OP_EMIT, f->txid, f->attempt, 0, NULL, 0);
}

static int replay_from(coord *c, uint64_t txid, const char *why)
{
	sl_topology *t = c->t;
	if (t->stop) {
		/* asked to stop: a failed batch is not tried again; what
		 * committed stays, the rest replays at the next run */
		c->abandon = 1;
		return SL_OK;
	}
	for (size_t i = 0; i < c->nf; i++) {
		inflight *f = &c->f[i];
		if (f->txid < txid)
			continue;
		f->attempt++;
		if (t->o.max_attempts && f->attempt > t->o.max_attempts) {
			snprintf(t->errmsg, sizeof(t->errmsg),
			    "txid %" PRIu64 " failed %u times; stopping. "
			    "Last failure: %s",
			    f->txid, f->attempt - 1, why);
			return SL_ELIMIT;
		}
		pthread_mutex_lock(&t->stats_lock);
		t->replays++;
		pthread_mutex_unlock(&t->stats_lock);
		sli_live_replay(t, why);
		if (f->eof && c->eof_txid == f->txid) {
			c->eof = 0; /* the replay may read more */
			c->eof_txid = 0;
		}
		int rc = emit(c, f);
		if (rc)
			return rc;
	}
	return SL_OK;
}

static int commit_head(coord *c)
{
	sl_topology *t = c->t;
	inflight *f = &c->f[0];
	/* crash tests: die by SIGKILL between the state writes and the
	 * commit record of one txid (the worst moment for the protocol) */
	const char *crash = getenv("SLUICE_TEST_KILL_BEFORE_COMMIT");
	if (crash && strtoull(crash, NULL, 10) == f->txid)
		raise(SIGKILL);
	if (hook(t, SLI_FAIL_COMMIT, f->txid, f->attempt))
		return replay_from(
		    c, f->txid, "injected failure writing the commit record");
	uint64_t t0 = sli_now_ns();
	for (size_t i = 0; i < t->nstates; i++) {
		uint64_t have;
		sl_state_last_committed(t->states[i], &have);
		if (have >= f->txid)
			continue;
		/* crash tests: die between the commit records of two states */
		const char *between
		    = getenv("SLUICE_TEST_KILL_BETWEEN_COMMITS");
		if (i && between && strtoull(between, NULL, 10) == f->txid)
			raise(SIGKILL);
		int rc = sli_state_commit(
		    t->states[i], f->txid, f->meta.data, f->meta.len);
		if (rc) {
			char why[600];
			snprintf(why, sizeof(why), "commit record: %s",
			    sl_errdetail());
			/* the states before this one committed f->txid: take
			 * that back (their writes too), so that a replay that
			 * reads another range counts in every state alike */
			sli_buf pm;
			sli_buf_init(&pm);
			uint64_t prev;
			int rc2
			    = sli_state_committed(t->states[i], &prev, &pm);
			for (size_t j = 0; !rc2 && j < i; j++)
				rc2 = sli_state_recover(
				    t->states[j], prev, pm.data, pm.len);
			sli_buf_free(&pm);
			if (rc2 || rc == SL_ENOSPC || rc == SL_EIO
			    || rc == SL_EPERM) {
				snprintf(t->errmsg, sizeof(t->errmsg),
				    "txid %" PRIu64 " not committed: %s",
				    f->txid, sl_errdetail());
				return rc2 ? rc2 : rc;
			}
			return replay_from(c, f->txid, why);
		}
	}
	uint64_t now = sli_now_ns();
	double commit_ms
	    = (double)(now - (f->write_ns ? f->write_ns : t0)) / 1e6;
	double batch_ms = (double)(now - f->first_emit_ns) / 1e6;
	record_latency(t, commit_ms, batch_ms);
	sli_live_latency(t, commit_ms, batch_ms);
	pthread_mutex_lock(&t->stats_lock);
	t->batches_committed++;
	t->tuples += f->tuples;
	if (!f->tuples)
		t->empty_batches++;
	t->last_committed = f->txid;
	pthread_mutex_unlock(&t->stats_lock);
	c->committed = f->txid;
	/* crash tests: SIGTERM this process right after this run's n-th
	 * commit (the signal handler's stop then meets batches in flight) */
	if (c->term_after && ++c->commits_this_run == c->term_after)
		raise(SIGTERM);
	if (f->eof) {
		c->eof = 1;
		c->eof_txid = f->txid;
	}
	uint64_t txid = f->txid;
	sli_buf_free(&f->meta);
	memmove(&c->f[0], &c->f[1], (c->nf - 1) * sizeof(inflight));
	c->nf--;
	if (t->o.on_commit)
		t->o.on_commit(t->o.user, txid);
	return SL_OK;
}

/* Moves the oldest batch on when it can: all tasks done -> write state
 * partitions -> commit record. */
static int advance(coord *c)
{
	sl_topology *t = c->t;
	while (c->nf) {
		inflight *f = &c->f[0];
		if (f->phase == 0 && f->done == t->ntasks) {
			f->phase = 1;
			f->write_ns = sli_now_ns();
			f->written = 0;
			for (size_t s = 0; s < t->nstages; s++) {
				if (t->stages[s].entry->kind != N_PERSIST)
					continue;
				for (uint32_t i = 0; i < t->stages[s].ntasks;
				     i++) {
					int rc = send_ctrl(c->t, 1,
					    c->to[t->stages[s].tasks[i]->gid],
					    OP_WRITE, f->txid, f->attempt, 0,
					    NULL, 0);
					if (rc)
						return rc;
				}
			}
		}
		if (f->phase == 1 && f->written == t->npersist_tasks) {
			int rc = commit_head(c);
			if (rc)
				return rc;
			continue;
		}
		break;
	}
	return SL_OK;
}

static int handle_msg(coord *c, sli_frame_reader *r)
{
	sl_topology *t = c->t;
	inflight *f = find_inflight(c, r->h.txid);
	if (!f || f->attempt != r->h.attempt)
		return SL_OK; /* an older attempt */
	uint32_t op = r->h.stream;
	const uint8_t *p = r->p;
	size_t blen = (size_t)(r->end - r->p);
	if (op == OP_DONE) {
		if (f->phase != 0)
			return SL_OK;
		f->done++;
		if (r->h.source_task == 0)
			f->spout_done = 1;
		if (r->h.source_task == 0 && blen >= 9) {
			f->eof = p[0];
			f->tuples = sli_le64_get(p + 1);
			f->meta.len = 0;
			sli_buf_append(&f->meta, p + 9, blen - 9);
			if (f->eof) {
				c->eof = 1;
				if (!c->eof_txid || f->txid < c->eof_txid)
					c->eof_txid = f->txid;
			}
		}
	} else if (op == OP_WRITTEN) {
		if (f->phase == 1)
			f->written++;
	} else if (op == OP_FAIL) {
		char why[600] = "";
		int code = SL_EFAILED, fatal = 0;
		if (blen >= 4) {
			snprintf(why, sizeof(why), "%.*s", (int)(blen - 4),
			    (const char *)p + 4);
			uint32_t raw = sli_le32_get(p);
			fatal = (raw & 0x80000000u) != 0;
			code = -(int)(raw & 0x7fffffffu);
		}
		if (fatal) {
			snprintf(t->errmsg, sizeof(t->errmsg),
			    "txid %" PRIu64 " failed (a replay would fail "
			    "the same way; the committed state is intact): "
			    "%s",
			    f->txid, why);
			return code;
		}
		/* a full disk, a read-only or broken store does not heal by
		 * replaying: stop with the committed state intact */
		/* neither does a spout error other than a failed attempt
		 * (a file that changed, a pipe that cannot replay) */
		int spout_permanent = r->h.source_task == 0
		    && code != SL_EFAILED && code != SL_ETIMEDOUT
		    && code != SL_EAGAIN && code != SL_ENOMEM
		    && code != SL_EFULL;
		if (code == SL_ENOSPC || code == SL_EIO || code == SL_EPERM
		    || code == SL_ECORRUPT || spout_permanent) {
			snprintf(t->errmsg, sizeof(t->errmsg),
			    "txid %" PRIu64 " not committed (the committed "
			    "state is intact): %s",
			    f->txid, why);
			return code;
		}
		return replay_from(c, f->txid, why);
	}
	(void)t;
	return advance(c);
}

static int spout_has_more(sl_topology *t)
{
	const sl_spout_ops *ops = t->spout->spout;
	return ops->has_more ? ops->has_more(t->spout->spout_self) : 1;
}

/* How long a stop waits for the batches in flight to commit; after that
 * they are abandoned (they replay at the next run, exactly). */
#define STOP_GRACE_MS 1500

static int coordinate(coord *c)
{
	sl_topology *t = c->t;
	uint64_t stop_ns = 0;
	for (;;) {
		int rc;
		if (t->stop && !stop_ns)
			stop_ns = sli_now_ns();
		if (stop_ns
		    && sli_now_ns() - stop_ns > STOP_GRACE_MS * 1000000ull)
			return SL_OK;
		/* start a new txid once the spout finished the previous one,
		 * so that has_more and the end of the input are known */
		while (!t->stop && !c->eof && c->nf < t->o.max_pending
		    && (!c->nf || c->f[c->nf - 1].spout_done)
		    && spout_has_more(t)) {
			inflight *f = &c->f[c->nf++];
			memset(f, 0, sizeof(*f));
			sli_buf_init(&f->meta);
			f->txid = c->next++;
			f->attempt = 1;
			f->first_emit_ns = sli_now_ns();
			if ((rc = emit(c, f)))
				return t->stop && rc == SL_ECLOSED ? SL_OK
				                                   : rc;
		}
		t->in_flight = (uint32_t)c->nf;
		if (!c->nf && (t->stop || c->eof || !spout_has_more(t)))
			return SL_OK;
		if (c->abandon)
			return SL_OK;
		sli_msg m;
		rc = sli_link_recv(c->in, &m, 20);
		if (rc == SL_OK) {
			sli_frame_reader r;
			if (sli_frame_decode(&r, m.data, m.len, t->keyp)
			        == SL_OK
			    && r.h.kind == SLI_FRAME_CTRL)
				rc = handle_msg(c, &r);
			sli_msg_free(&m);
			if (rc)
				return t->stop && rc == SL_ECLOSED ? SL_OK
				                                   : rc;
		} else if (rc != SL_ETIMEDOUT && rc != SL_EAGAIN)
			return rc;
		/* timeouts */
		uint64_t now = sli_now_ns();
		for (size_t i = 0; i < c->nf; i++) {
			inflight *f = &c->f[i];
			if (t->o.batch_timeout_ms > 0
			    && now - f->emit_ns
			        > (uint64_t)t->o.batch_timeout_ms * 1000000u) {
				char why[128];
				snprintf(why, sizeof(why),
				    "batch timed out after %d ms",
				    t->o.batch_timeout_ms);
				if ((rc = replay_from(c, f->txid, why)))
					return rc;
				break;
			}
		}
	}
}

int sl_topology_run(sl_topology *t, const sl_run_options *o)
{
	if (t->err)
		return t->err;
	if (t->running)
		return SL_ESTATE;
	sl_run_options_default(&t->o);
	if (o)
		t->o = *o;
	if (!t->o.max_pending)
		t->o.max_pending = 4;
	if (!t->o.frame_tuples)
		t->o.frame_tuples = 1024;
	if (!t->o.batch_size)
		t->o.batch_size = 10000;
	int rc = plan(t);
	if (!rc)
		rc = sli_live_plan(t);
	if (rc)
		return rc;
	static _Atomic unsigned seq;
	snprintf(t->url_base, sizeof(t->url_base), "inproc://sl-%ld-%u",
	    (long)getpid(), ++seq);
	char coord_url[128];
	snprintf(coord_url, sizeof(coord_url), "%s-coord", t->url_base);
	coord c;
	memset(&c, 0, sizeof(c));
	c.t = t;
	const char *term = getenv("SLUICE_TEST_TERM_AFTER_COMMITS");
	c.term_after = term ? strtoull(term, NULL, 10) : 0;
	c.f = calloc(t->o.max_pending + 1, sizeof(inflight));
	c.to = calloc(t->ntasks + 1, sizeof(sli_link *));
	if (!c.f || !c.to) {
		free(c.f);
		free(c.to);
		return SL_ENOMEM;
	}
	t->keyp = NULL;
	if (t->o.cluster_key) {
		sli_derive_key(t->key, t->o.cluster_key, t->name);
		t->keyp = t->key;
	}
	pthread_mutex_lock(&t->stats_lock);
	t->rejected_at_start = sli_transport_rejected();
	pthread_mutex_unlock(&t->stats_lock);
	t->running = 1;
	/* t->stop is not cleared here: a stop asked before the run (a
	 * signal handler racing with the start) ends it at once */
	t->shutdown = 0;
	rc = sli_link_pull(&c.in, coord_url);
	if (!rc)
		rc = build_tasks(t, coord_url);
	char url[128];
	for (size_t s = 0; !rc && s < t->nstages; s++)
		for (uint32_t i = 0; !rc && i < t->stages[s].ntasks; i++) {
			task *k = t->stages[s].tasks[i];
			task_url(t, url, sizeof(url), (int)s, i);
			rc = sli_link_push(&c.to[k->gid], url, 64);
		}
	/* resume after the last committed txid */
	uint64_t committed = 0;
	sli_buf meta;
	sli_buf_init(&meta);
	if (!rc && t->store) {
		/* several states: a crash between their commit records leaves
		 * them one txid apart. Resume from the lowest and the spout
		 * meta recorded with it; the restart pass of each state takes
		 * back writes (and a commit) past it, whatever partition count
		 * wrote them */
		size_t low = 0;
		for (size_t i = 0; i < t->nstates; i++) {
			uint64_t have;
			sl_state_last_committed(t->states[i], &have);
			if (!i || have < committed) {
				committed = have;
				low = i;
			}
		}
		rc = sli_state_committed(t->states[low], &committed, &meta);
		for (size_t i = 0; !rc && i < t->nstates; i++)
			rc = sli_state_recover(
			    t->states[i], committed, meta.data, meta.len);
		if (rc && !t->errmsg[0])
			snprintf(t->errmsg, sizeof(t->errmsg), "%s",
			    sl_errdetail());
	}
	if (!rc) {
		task *sp = t->stages[0].tasks[0];
		if (committed)
			rc = meta_keep(sp, committed, &meta);
		if (!rc && t->spout->spout->resume)
			rc = t->spout->spout->resume(t->spout->spout_self,
			    committed ? meta.data : NULL, meta.len);
	}
	sli_buf_free(&meta);
	c.committed = committed;
	c.next = committed + 1;
	/* stats readers (a live view) may already be polling */
	pthread_mutex_lock(&t->stats_lock);
	t->last_committed = committed;
	t->start_ns = sli_now_ns();
	t->end_ns = 0;
	pthread_mutex_unlock(&t->stats_lock);
	for (size_t s = 0; !rc && s < t->nstages; s++)
		for (uint32_t i = 0; !rc && i < t->stages[s].ntasks; i++) {
			task *k = t->stages[s].tasks[i];
			if (pthread_create(&k->th, NULL, task_main, k))
				rc = SL_ENOMEM;
			else
				k->started = 1;
		}
	if (!rc) {
		rc = coordinate(&c);
		if (rc && !t->errmsg[0])
			snprintf(t->errmsg, sizeof(t->errmsg), "%s",
			    *sl_errdetail() ? sl_errdetail()
			                    : sl_strerror(rc));
	} else if (!t->errmsg[0])
		snprintf(t->errmsg, sizeof(t->errmsg), "%s",
		    *sl_errdetail() ? sl_errdetail() : sl_strerror(rc));
	pthread_mutex_lock(&t->stats_lock);
	t->end_ns = sli_now_ns();
	pthread_mutex_unlock(&t->stats_lock);
	/* tasks blocked on a full link give up; then each gets STOP */
	t->shutdown = 1;
	for (size_t s = 0; s < t->nstages; s++)
		for (uint32_t i = 0; i < t->stages[s].ntasks; i++) {
			task *k = t->stages[s].tasks ? t->stages[s].tasks[i]
			                             : NULL;
			if (!k || !k->started)
				continue;
			send_ctrl(
			    t, 1, c.to[k->gid], OP_STOP, 0, 0, 0, NULL, 0);
		}
	for (size_t s = 0; s < t->nstages; s++)
		for (uint32_t i = 0; i < t->stages[s].ntasks; i++) {
			task *k = t->stages[s].tasks ? t->stages[s].tasks[i]
			                             : NULL;
			if (k && k->started)
				pthread_join(k->th, NULL);
		}
	for (uint32_t i = 0; i < t->ntasks; i++)
		sli_link_close(c.to[i]);
	sli_link_close(c.in);
	for (size_t i = 0; i < c.nf; i++)
		sli_buf_free(&c.f[i].meta);
	free(c.f);
	free(c.to);
	free_tasks(t);
	free(t->states);
	t->states = NULL;
	t->nstates = 0;
	t->running = 0;
	t->stop = 0; /* the next run starts afresh */
	if (rc)
		t->err = 0; /* a run error does not poison the topology */
	return rc;
}

/* ---------------------------------------------------------- DRPC */

int sl_topology_drpc_call(sl_topology *t, const char *function,
    const uint8_t *args, size_t len, sl_value *result)
{
	static __thread sli_buf out;
	sl_stream *d = NULL;
	for (size_t i = 0; i < t->nnodes; i++)
		if (t->nodes[i]->kind == N_DRPC
		    && !strcmp(t->nodes[i]->drpc_fn, function))
			d = t->nodes[i];
	if (!d)
		return sli_err(SL_ENOTFOUND, "unknown function: %s", function);
	if (len > SL_MAX_BYTES)
		return sli_err(SL_EINVAL, "arguments too long");
	/* the nodes of this DRPC stream */
	uint8_t *mine = calloc(t->nnodes, 1);
	task k;
	int rc = SL_OK;
	/* a snapshot: the keys are read against the committed txid pinned
	 * at each state's first read; that is the state after that commit
	 * only while no later batch commits (the batch after it may write
	 * then), so a request that saw a commit is run again */
	for (int tries = 0;; tries++) {
		memset(&k, 0, sizeof(k));
		k.t = t;
		k.local = 1;
		k.stage = -2;
		int stale;
		rc = SL_OK;
		bctx *b = mine ? bctx_get(&k, 1, 1, &stale) : NULL;
		if (!b)
			rc = SL_ENOMEM;
		if (!rc) {
			memset(mine, 0, t->nnodes);
			mine[d->id] = 1;
			for (size_t i = (size_t)d->id + 1; i < t->nnodes; i++)
				for (size_t p = 0; p < t->nodes[i]->nparents;
				     p++)
					if (mine[t->nodes[i]->parents[p]->id])
						mine[i] = 1;
			sl_value v = sl_bytes(args, (uint32_t)len);
			rc = sli_to_children(&k, b, d, &v, 1);
		}
		for (size_t i = 0; !rc && i < t->nnodes; i++)
			if (mine[i]
			    && (t->nodes[i]->kind == N_AGG
			        || t->nodes[i]->kind == N_PAGG))
				rc = sli_agg_finish(&k, b, t->nodes[i]);
		int moved = 0;
		for (size_t i = 0; i < k.npins; i++) {
			uint64_t now;
			sl_state_last_committed(k.pin_state[i], &now);
			if (now != k.pin_txid[i])
				moved = 1;
		}
		if (!rc && moved && tries < 1000) {
			bctx_free_all(&k);
			sli_buf_free(&k.result_buf);
			continue;
		}
		break;
	}
	if (!rc) {
		*result = k.has_result ? k.result : sl_null();
		if (result->type == SL_BYTES) {
			out.len = 0;
			rc = sli_buf_append(&out, result->u.p, result->len);
			result->u.p = out.data;
		}
	}
	for (size_t i = 0; !rc && i < k.npins; i++)
		sli_trace("drpc %s %llu", function,
		    (unsigned long long)k.pin_txid[i]);
	bctx_free_all(&k);
	sli_buf_free(&k.result_buf);
	free(mine);
	return rc;
}

int sli_topology_task_url(
    sl_topology *t, int stage, uint32_t idx, char *out, size_t n)
{
	if (!t->running || stage < 0 || (size_t)stage >= t->nstages
	    || idx >= t->stages[stage].ntasks)
		return SL_ENOTFOUND;
	task_url(t, out, n, stage, idx);
	return SL_OK;
}
