/*
 * task.c - the tasks: each runs the fused nodes of one stage on its share
 * of the stage's input, in a loop on its own thread (sli_task_main). Per
 * batch attempt a context (bctx) holds the aggregation maps; a tuple is
 * routed from node to node inside the task (sli_to_children, deliver)
 * and to other stages through the task's outboxes. When a batch is
 * complete (end-of-batch markers from every upstream task) the task
 * finishes its aggregations, sends partials and markers downstream and
 * reports to the coordinator by message (coord.c lists them). A
 * persistent_aggregate task writes its state partition on WRITE.
 */
#include "core/key.h"
#include "trident_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int deliver(
    task *k, bctx *b, sl_stream *n, const sl_value *v, size_t nv);

/* ---------------------------------------------------------- batches */

bctx *sli_bctx_get(task *k, uint64_t txid, uint32_t attempt, int *stale)
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

void sli_bctx_release(task *k, bctx *b)
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

void sli_bctx_free_all(task *k)
{
	for (size_t i = 0; i < k->nb; i++) {
		if (k->b[i].maps) {
			sli_bctx_release(k, &k->b[i]);
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
	SLI_NONNULL(c);
	SLI_NONNULL(v || n == 0);
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

/* The value a state_query node n reads for tuple v (null when the key
 * is absent). A DRPC call (local) reads every key of one state against
 * the committed txid pinned at the state's first read. */
static int query(task *k, sl_stream *n, const sl_value *v, sl_value *got)
{
	sl_value g[SL_MAX_FIELDS];
	for (size_t i = 0; i < n->ngroup; i++)
		g[i] = v[n->gidx[i]];
	sli_buf key;
	sli_buf_init(&key);
	int rc = sli_key_put(&key, g, n->ngroup);
	*got = sl_null();
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
		rc = sli_state_get_at(n->state, key.data, key.len, at, got);
	} else if (!rc)
		rc = sl_state_get(n->state, key.data, key.len, got);
	if (rc == SL_ENOTFOUND) {
		*got = sl_null();
		rc = SL_OK;
	}
	sli_buf_free(&key);
	return rc;
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
		    && sli_fault(
		        SLI_FAULT_FUNCTION, k->t, b->txid, b->attempt))
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
		    && sli_fault(
		        SLI_FAULT_FUNCTION, k->t, b->txid, b->attempt))
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
		sl_value got;
		rc = query(k, n, v, &got);
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
int sli_finish_batch(task *k, bctx *b)
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
			if (sli_fault(
			        SLI_FAULT_PARTIAL, t, b->txid, b->attempt))
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

void sli_report(
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
	sli_ctrl_send(k->t, 0, k->to_coord, op, txid, attempt, k->gid,
	    body ? body->data : NULL, body ? body->len : 0);
}

static void flush_delayed(task *k, int all)
{
	uint64_t now = sli_now_ns();
	for (size_t i = 0; i < k->ndl;) {
		delayed *d = &k->dl[i];
		if (all || d->due_ns <= now) {
			sli_ctrl_send(k->t, 0, k->to_coord, OP_DONE, d->txid,
			    d->attempt, k->gid, d->body.data, d->body.len);
			sli_buf_free(&d->body);
			k->dl[i] = k->dl[--k->ndl];
		} else
			i++;
	}
}

void sli_report_fail(
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
	sli_ctrl_fail_body(&body, rc, k->fatal, msg);
	k->fatal = 0;
	sli_report(k, OP_FAIL, txid, attempt, &body);
	sli_buf_free(&body);
}

/* ---------------------------------------------------------- other tasks */

/* Applies batch b's aggregates of persistent_aggregate n to k's state
 * partition: one atomic write (state/state.h). */
static int persist_apply(
    task *k, bctx *b, sl_stream *n, uint64_t txid, uint32_t attempt)
{
	(void)attempt; /* read only by the fault hook (none in release) */
	aggmap *m = b->mused[n->id] ? &b->maps[n->id] : NULL;
	size_t cnt = m ? m->n : 0;
	sli_keylist kl;
	int rc = sli_keylist_init(&kl, cnt);
	sl_value *deltas = calloc(cnt + 1, sizeof(sl_value));
	if (!deltas)
		rc = SL_ENOMEM;
	for (size_t i = 0; m && !rc && i < m->n; i++) {
		const aggent *e = sli_aggmap_at(m, i);
		sl_value g[SL_MAX_FIELDS];
		sli_aggmap_groups(e, g);
		rc = sli_keylist_add(&kl, g, e->ngroup);
		deltas[i] = e->acc;
	}
	if (!rc && k->index == 0
	    && sli_fault(SLI_FAULT_STATE, k->t, txid, attempt))
		sli_state_fail_once(n->state, k->index, txid, 1);
	if (!rc) {
		rc = sli_state_apply(n->state, k->index, txid, kl.n,
		    sli_keylist_keys(&kl), deltas, n->agg.combiner);
		if (rc)
			sli_agg_fold_failed(k, n, rc);
	}
	free(deltas);
	sli_keylist_free(&kl);
	return rc;
}

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
		b = sli_bctx_get(k, txid, attempt, &stale);
		if (!b)
			return stale ? SL_ESTALE : SL_ENOMEM;
	}
	uint64_t committed;
	sl_state_last_committed(n->state, &committed);
	int rc = SL_OK;
	if (txid > committed)
		rc = persist_apply(k, b, n, txid, attempt);
	sli_bctx_release(k, b);
	if (rc) {
		sli_report_fail(k, txid, attempt, rc, n->name);
		return SL_OK;
	}
	sli_report(k, OP_WRITTEN, txid, attempt, NULL);
	return SL_OK;
}

static int handle_data(task *k, sli_frame_reader *r)
{
	sl_topology *t = k->t;
	int done = sli_tracker_record(k->tracker, &r->h);
	if (done == SL_ESTALE)
		return SL_OK;
	int stale;
	bctx *b = sli_bctx_get(k, r->h.txid, r->h.attempt, &stale);
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
		rc = sli_finish_batch(k, b);
		sli_tracker_forget(k->tracker, r->h.txid);
		if (!rc) {
			sli_report(k, OP_DONE, r->h.txid, r->h.attempt, NULL);
			if (entry->kind != N_PERSIST)
				sli_bctx_release(k, b);
		}
	}
	if (rc) {
		b->failed = 1;
		for (size_t i = 0; i < k->nouts; i++)
			sli_outbox_drop(k->outs[i].ob, r->h.txid);
		sli_report_fail(k, r->h.txid, r->h.attempt, rc, entry->name);
	}
	return SL_OK;
}

/* CPU time of the calling thread. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void *sli_task_main(void *arg)
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
		uint64_t busy0 = sli_now_ns(), emit_cpu = 0, emit_wall = 0;
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
			if (op == OP_EMIT) {
				/* a spout waits for input inside its emit:
				 * that counts as busy only for the CPU it used
				 */
				uint64_t c0 = thread_cpu_ns();
				sli_spout_emit(k, r.h.txid, r.h.attempt);
				emit_cpu = thread_cpu_ns() - c0;
				emit_wall = sli_now_ns() - busy0;
			} else if (op == OP_WRITE)
				persist_write(k, r.h.txid, r.h.attempt);
		} else
			handle_data(k, &r);
		sli_msg_free(&m);
		/* busy time: per message (a frame of tuples, an emit, a
		 * write), never per tuple */
		sli_live_busy(
		    t, k->stage, sli_now_ns() - busy0 - emit_wall + emit_cpu);
	}
	flush_delayed(k, 1);
	(void)t;
	return NULL;
}

void sli_task_free(task *k)
{
	if (!k)
		return;
	for (size_t o = 0; o < k->nouts; o++) {
		sli_outbox_free(k->outs[o].ob);
		for (uint32_t l = 0; l < k->outs[o].nlinks; l++)
			sli_link_close(k->outs[o].links[l]);
		free(k->outs[o].links);
	}
	free(k->outs);
	sli_link_close(k->in);
	sli_link_close(k->to_coord);
	sli_tracker_free(k->tracker);
	sli_bctx_free_all(k);
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
