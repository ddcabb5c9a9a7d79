/*
 * join.c - the join of two streams per batch, in one place: building the
 * node (sl_topology_join), routing each side's tuples to the join's stage
 * by the key values, keeping them per key until the batch is complete,
 * and emitting the joined tuples (inner, left, outer).
 *
 * A join node carries an aggregator (the per-key state below) so that
 * the per-batch aggregation maps (aggmap.c) hold and free its state;
 * the tasks call sli_join_keep and sli_join_finish instead of the
 * aggregator's own functions.
 */
#include "trident_impl.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- state */

/* Per batch and key: the non-key values of each side's tuples. */
typedef struct joinst {
	sli_buf side[2];
	size_t n[2];
} joinst;

static void *join_init(void *user, uint64_t txid)
{
	(void)user, (void)txid;
	joinst *j = calloc(1, sizeof(*j));
	if (j) {
		sli_buf_init(&j->side[0]);
		sli_buf_init(&j->side[1]);
	}
	return j;
}

static void join_free(void *user, void *st)
{
	(void)user;
	joinst *j = st;
	if (!j)
		return;
	sli_buf_free(&j->side[0]);
	sli_buf_free(&j->side[1]);
	free(j);
}

/* Not called: the executor stores and emits join tuples itself. */
static int join_unused(
    void *user, void *st, const sl_tuple *in, sl_collector *out)
{
	(void)user, (void)st, (void)in, (void)out;
	return SL_EINVAL;
}

static int join_unused_complete(void *user, void *st, sl_collector *out)
{
	(void)user, (void)st, (void)out;
	return SL_EINVAL;
}

static int join_add(void *st, int side, const sl_value *v, size_t n)
{
	joinst *j = st;
	if (!j)
		return SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc = sli_value_put(&j->side[side], &v[i]);
		if (rc)
			return rc;
	}
	j->n[side]++;
	return SL_OK;
}

static size_t join_count(const void *st, int side)
{
	const joinst *j = st;
	return j ? j->n[side] : 0;
}

static const sli_buf *join_values(const void *st, int side)
{
	return &((const joinst *)st)->side[side];
}

/* ---------------------------------------------------------- building */

sl_stream *sl_topology_join(sl_topology *t, sl_stream *left,
    const char *left_fields, sl_stream *right, const char *right_fields,
    const char *out_fields, sl_join_type type)
{
	if (!t || !left || !right)
		return NULL;
	if (type != SL_JOIN_INNER && type != SL_JOIN_LEFT
	    && type != SL_JOIN_OUTER) {
		sli_build_fail(
		    t, SL_EINVAL, "join: unknown join type %d", (int)type);
		return NULL;
	}
	if (left->kind == N_PERSIST || right->kind == N_PERSIST) {
		sli_build_fail(t, SL_EINVAL,
		    "join: cannot join the stream of a "
		    "persistent_aggregate (query the state with "
		    "state_query)");
		return NULL;
	}
	sl_stream *j = sli_node_new(t, NULL, N_JOIN, "join");
	if (!j)
		return NULL;
	j->parents = calloc(2, sizeof(*j->parents));
	if (!j->parents) {
		sli_build_fail(t, SL_ENOMEM, "join: out of memory");
		return NULL;
	}
	size_t nl, nr;
	if (sli_resolve(t, left->out, left_fields, "join (left)", j->gidx, &nl)
	    || sli_resolve(
	        t, right->out, right_fields, "join (right)", j->jidx_r, &nr))
		return NULL;
	if (!nl || nl != nr) {
		sli_build_fail(t, SL_EINVAL,
		    "join: %zu left key fields, %zu right key fields (the "
		    "same number, at least one)",
		    nl, nr);
		return NULL;
	}
	j->ngroup = nl;
	j->jtype = (int)type;
	j->jnl = sl_fields_count(left->out);
	j->jnr = sl_fields_count(right->out);
	sl_fields *o;
	if (sli_parse_fields(t, out_fields, &o))
		return NULL;
	size_t want = nl + (j->jnl - nl) + (j->jnr - nl);
	if (sl_fields_count(o) != want) {
		sli_build_fail(t, SL_EINVAL,
		    "join: %zu output fields named, %zu expected (the %zu "
		    "key fields, then the left stream's other %zu, then "
		    "the right stream's other %zu)",
		    sl_fields_count(o), want, nl, j->jnl - nl, j->jnr - nl);
		sl_fields_free(o);
		return NULL;
	}
	j->out = o;
	for (size_t i = 0; i < want; i++)
		for (size_t k = i + 1; k < want; k++)
			if (!strcmp(
			        sl_fields_name(o, i), sl_fields_name(o, k))) {
				sli_build_fail(t, SL_EINVAL,
				    "join: output field '%s' named twice",
				    sl_fields_name(o, i));
				return NULL;
			}
	memset(&j->agg, 0, sizeof(j->agg));
	j->agg.kind = SL_AGG_AGGREGATOR;
	j->agg.init = join_init;
	j->agg.aggregate = join_unused;
	j->agg.complete = join_unused_complete;
	j->agg.free_state = join_free;
	j->parents[0] = left;
	j->parents[1] = right;
	j->nparents = 2;
	if (sli_add_child(left, j) || sli_add_child(right, j)) {
		sli_build_fail(t, SL_ENOMEM, "join: out of memory");
		return NULL;
	}
	return j;
}

/* ---------------------------------------------------------- running */

/* Sends tuple v of parent side (0 left, 1 right) to join node c in its
 * stage, as (side, key values..., the side's other values...): both
 * sides' tuples then route by the key values alone. */
static int cross_join(
    task *k, sl_stream *c, int side, const sl_value *v, size_t nv)
{
	sl_value tu[SL_MAX_FIELDS + 1];
	const int *kidx = side ? c->jidx_r : c->gidx;
	size_t nk = c->ngroup, o = 0;
	tu[o++] = sl_int(side);
	for (size_t i = 0; i < nk; i++)
		tu[o++] = v[kidx[i]];
	for (size_t f = 0; f < nv; f++) {
		int key = 0;
		for (size_t i = 0; i < nk; i++)
			key |= kidx[i] == (int)f;
		if (!key)
			tu[o++] = v[f];
	}
	texit *x = sli_exit_for(k, c->stage);
	if (!x)
		return sli_err(SL_EINVAL, "no link to stage %d", c->stage);
	return sli_outbox_emit(x->ob, tu, o);
}

/* Which side of join c the tuples of its parent n are, when n is the
 * i-th child entry: a self-join lists c twice, left first. */
static int join_side(const sl_stream *n, const sl_stream *c, size_t i)
{
	if (c->parents[0] != n)
		return 1;
	if (c->parents[1] != n)
		return 0;
	for (size_t j = 0; j < i; j++)
		if (n->children[j] == c)
			return 1;
	return 0;
}

/* Keeps a tuple (side, keys..., values...) that arrived at join n until
 * the batch is complete. */
int sli_join_keep(bctx *b, sl_stream *n, const sl_value *v, size_t nv)
{
	size_t nk = n->ngroup;
	if (nv < 1 + nk || v[0].type != SL_INT || v[0].u.i < 0 || v[0].u.i > 1)
		return sli_err(SL_EPROTO, "bad join tuple");
	int side = (int)v[0].u.i;
	size_t want = (side ? n->jnr : n->jnl) - nk;
	if (nv != 1 + nk + want)
		return sli_err(SL_EPROTO, "bad join tuple");
	aggent *e;
	int isnew;
	int rc
	    = sli_aggmap_get(sli_map_of(b, n->id, 0), v + 1, nk, &e, &isnew);
	if (rc)
		return rc;
	if (!e->has) {
		e->st = n->agg.init(n->agg.user, b->txid);
		e->has = 1;
	}
	return join_add(e->st, side, v + 1 + nk, want);
}

/* Decodes n values from *p into out. */
static int join_read(
    const uint8_t **p, const uint8_t *end, sl_value *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = sli_value_get(p, end, &out[i]);
		if (rc)
			return rc;
	}
	return SL_OK;
}

/* Emits join n's output for the batch: per key, every left tuple with
 * every right one (keys, left values, right values); LEFT and OUTER
 * add the unmatched side with nulls for the missing one. */
/* Every 4,096 joined tuples: a run shutting down (its stop's bound
 * passed) abandons the batch (it replays at the next run) instead of
 * finishing a cross product that may be huge. */
static int join_shutting_down(task *k, size_t *emitted)
{
	if ((++*emitted & 4095) == 0 && k->t->shutdown)
		return sli_err(SL_ECLOSED, "join: the run is shutting down");
	return SL_OK;
}

int sli_join_finish(task *k, bctx *b, sl_stream *n)
{
	size_t emitted = 0;
	aggmap *m = b->mused[n->id] ? &b->maps[n->id] : NULL;
	size_t nk = n->ngroup, ln = n->jnl - nk, rn = n->jnr - nk;
	sl_value tu[SL_MAX_FIELDS * 2];
	for (size_t i = 0; m && i < m->n; i++) {
		aggent *e = sli_aggmap_at(m, i);
		sli_aggmap_groups(e, tu);
		size_t cl = join_count(e->st, 0), cr = join_count(e->st, 1);
		const sli_buf *lb = join_values(e->st, 0);
		const sli_buf *rb = join_values(e->st, 1);
		const uint8_t *lp = lb->data, *lend = lb->data + lb->len;
		int rc = SL_OK;
		if (!cl && cr && n->jtype == SL_JOIN_OUTER) {
			const uint8_t *rp = rb->data,
			              *rend = rb->data + rb->len;
			for (size_t f = 0; f < ln; f++)
				tu[nk + f] = sl_null();
			for (size_t r = 0; !rc && r < cr; r++) {
				rc = join_read(&rp, rend, tu + nk + ln, rn);
				rc = rc ? rc
				        : sli_to_children(
				            k, b, n, tu, nk + ln + rn);
			}
		}
		for (size_t l = 0; !rc && l < cl; l++) {
			rc = join_read(&lp, lend, tu + nk, ln);
			if (!rc && !cr && n->jtype != SL_JOIN_INNER) {
				for (size_t f = 0; f < rn; f++)
					tu[nk + ln + f] = sl_null();
				rc = sli_to_children(
				    k, b, n, tu, nk + ln + rn);
			}
			const uint8_t *rp = rb->data,
			              *rend = rb->data + rb->len;
			for (size_t r = 0; !rc && r < cr; r++) {
				rc = join_read(&rp, rend, tu + nk + ln, rn);
				rc = rc ? rc
				        : sli_to_children(
				            k, b, n, tu, nk + ln + rn);
				rc = rc ? rc : join_shutting_down(k, &emitted);
			}
		}
		if (rc)
			return rc;
	}
	return SL_OK;
}

int sli_join_send(
    task *k, sl_stream *n, size_t i, const sl_value *v, size_t nv)
{
	sl_stream *c = n->children[i];
	if (k->local)
		return sli_err(
		    SL_EINVAL, "join is not supported in DRPC streams");
	return cross_join(k, c, join_side(n, c, i), v, nv);
}
