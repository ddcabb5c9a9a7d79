/*
 * aggregators.c - everything about an aggregator kind, in one place: the
 * built-in aggregators (sl_agg_*), the checks when one is added to a
 * stream, how a tuple folds into its group's entry, what a group emits
 * when its batch is complete, and which failures no replay can heal. A
 * new kind (enum sl_agg_kind, include/sluice.h) is added here: the
 * builder (topology.c), the tasks (task.c) and the aggregation maps
 * (aggmap.c) only ask these functions.
 *
 *   SL_AGG_COMBINER    combine(acc, value) from a zero. Associative, so it
 *                      is combined on the sending side before a
 *                      repartition (partials: group values, acc), and it
 *                      is the one kind a persistent_aggregate takes (the
 *                      state folds the batch's deltas with it).
 *   SL_AGG_REDUCER     reduce(acc, tuple) from reducer_init.
 *   SL_AGG_AGGREGATOR  init / aggregate / complete with a state per group,
 *                      emitting through a collector (FirstN; the join's
 *                      per-key state, join.c, is one too).
 */
#include "trident_impl.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- built-ins */

static sl_agg comb_agg(const sl_combiner *c)
{
	sl_agg a;
	memset(&a, 0, sizeof(a));
	a.kind = SL_AGG_COMBINER;
	a.combiner = c;
	return a;
}

sl_agg sl_agg_count(void)
{
	return comb_agg(sl_combiner_count());
}

sl_agg sl_agg_sum(void)
{
	return comb_agg(sl_combiner_sum());
}

sl_agg sl_agg_min(void)
{
	return comb_agg(sl_combiner_min());
}

sl_agg sl_agg_max(void)
{
	return comb_agg(sl_combiner_max());
}

sl_agg sl_agg_combiner(const sl_combiner *c)
{
	return comb_agg(c);
}

typedef struct firstn {
	size_t n, seen;
} firstn;

static void *firstn_init(void *user, uint64_t txid)
{
	(void)txid;
	firstn *f = calloc(1, sizeof(*f));
	if (f)
		f->n = (size_t)(uintptr_t)user;
	return f;
}

static int firstn_agg(
    void *user, void *st, const sl_tuple *in, sl_collector *out)
{
	(void)user;
	firstn *f = st;
	if (!f)
		return SL_ENOMEM;
	if (f->seen++ < f->n)
		return sl_emit(out, in->v, in->n);
	return SL_OK;
}

static int firstn_complete(void *user, void *st, sl_collector *out)
{
	(void)user, (void)st, (void)out;
	return SL_OK;
}

static void firstn_free(void *user, void *st)
{
	(void)user;
	free(st);
}

sl_agg sl_agg_first_n(size_t n)
{
	sl_agg a;
	memset(&a, 0, sizeof(a));
	a.kind = SL_AGG_AGGREGATOR;
	a.init = firstn_init;
	a.aggregate = firstn_agg;
	a.complete = firstn_complete;
	a.free_state = firstn_free;
	a.user = (void *)(uintptr_t)n;
	return a;
}

/* ---------------------------------------------------------- building */

int sli_agg_check(const sl_agg *agg, const char **why)
{
	switch (agg->kind) {
	case SL_AGG_COMBINER:
		*why = "combiner without a combine function";
		return agg->combiner && agg->combiner->combine ? SL_OK
		                                               : SL_EINVAL;
	case SL_AGG_REDUCER:
		*why = "reducer without reduce";
		return agg->reduce ? SL_OK : SL_EINVAL;
	case SL_AGG_AGGREGATOR:
		*why = "aggregator needs init, aggregate and complete";
		return agg->init && agg->aggregate && agg->complete
		    ? SL_OK
		    : SL_EINVAL;
	}
	*why = "unknown aggregator kind";
	return SL_EINVAL;
}

int sli_agg_counts_tuples(const sl_agg *a)
{
	return a->kind == SL_AGG_COMBINER
	    && a->combiner == sl_combiner_count();
}

const char *sli_agg_needs_field(const sl_agg *a)
{
	if (a->kind != SL_AGG_COMBINER || a->combiner == sl_combiner_count())
		return NULL;
	return a->combiner->name ? a->combiner->name : "combiner";
}

int sli_agg_emits_input(const sl_agg *a, size_t nout)
{
	return a->kind == SL_AGG_AGGREGATOR && nout == 0;
}

int sli_agg_persistable(const sl_agg *a)
{
	return a->kind == SL_AGG_COMBINER;
}

int sli_agg_owns_states(const sl_agg *a)
{
	return a && a->kind == SL_AGG_AGGREGATOR && a->free_state;
}

void sli_agg_state_free(const sl_agg *a, void *st)
{
	if (sli_agg_owns_states(a) && st)
		a->free_state(a->user, st);
}

/* ---------------------------------------------------------- running */

/* A fold that overflows, or a built-in combiner given a non-number, fails
 * the same way on every replay of the same tuples: mark the failure so
 * that the run stops instead of replaying forever. */
void sli_agg_fold_failed(task *k, const sl_stream *n, int rc)
{
	const sl_combiner *c = n->agg.combiner;
	int builtin = n->agg.kind == SL_AGG_COMBINER
	    && (c == sl_combiner_count() || c == sl_combiner_sum()
	        || c == sl_combiner_min() || c == sl_combiner_max());
	if (rc == SL_EOVERFLOW || (builtin && rc == SL_EINVAL)) {
		k->fatal = 1;
		if (!k->fail_node)
			k->fail_node = n->name;
	}
}

/* Accumulates tuple v into the aggregation map of node n: raw input
 * tuples (partial = 0) or partials from upstream (group values, acc). */
int sli_agg_accumulate(task *k, bctx *b, sl_stream *n, aggmap *m,
    const sl_value *v, size_t nv, int partial)
{
	sl_value g[SL_MAX_FIELDS];
	size_t ng = n->ngroup;
	if (partial) {
		if (nv != ng + 1)
			return sli_err(SL_EPROTO, "bad partial aggregate");
		memcpy(g, v, ng * sizeof(sl_value));
	} else
		for (size_t i = 0; i < ng; i++)
			g[i] = v[n->gidx[i]];
	aggent *e;
	int isnew;
	int rc = sli_aggmap_get(m, g, ng, &e, &isnew);
	if (rc) {
		if (rc == SL_EINVAL) { /* a value no replay makes valid */
			k->fatal = 1;
			if (!k->fail_node)
				k->fail_node = n->name;
		}
		return rc;
	}
	const sl_agg *a = &n->agg;
	sl_value out;
	if (a->kind == SL_AGG_COMBINER) {
		sl_value in = partial ? v[ng]
		    : n->agg_in >= 0  ? v[n->agg_in]
		                      : sl_int(1);
		sl_value cur = e->has ? e->acc : a->combiner->zero;
		rc = a->combiner->combine(a->combiner->user, &cur, &in, &out);
	} else if (a->kind == SL_AGG_REDUCER) {
		/* like an aggregator: the named field, else the whole tuple */
		sl_tuple tu = n->agg_in >= 0 ? (sl_tuple) { &v[n->agg_in], 1 }
		                             : (sl_tuple) { v, nv };
		sl_value cur = e->has ? e->acc : a->reducer_init;
		rc = a->reduce(a->user, &cur, &tu, &out);
	} else {
		if (!e->has) {
			e->st = a->init(a->user, b->txid);
			e->has = 1;
		}
		sl_value gv[SL_MAX_FIELDS];
		sli_aggmap_groups(e, gv);
		sl_collector c = { n->agg_whole ? C_REPLACE : C_PREFIX, k, b,
			n, gv, ng, 0, 0 };
		sl_value proj = n->agg_in >= 0 ? v[n->agg_in] : sl_null();
		sl_tuple tu = n->agg_in >= 0 ? (sl_tuple) { &proj, 1 }
		                             : (sl_tuple) { v, nv };
		rc = a->aggregate(a->user, e->st, &tu, &c);
		return rc ? rc : c.err;
	}
	if (rc) {
		sli_agg_fold_failed(k, n, rc);
		return rc;
	}
	if (out.type == SL_BYTES) {
		uint8_t *copy = sli_aggmap_copy(m, out.u.p, out.len);
		if (!copy)
			return SL_ENOMEM;
		out.u.p = copy;
	}
	e->acc = out;
	e->has = 1;
	return SL_OK;
}

/* Emits the results of node n's aggregation map for the batch. */
int sli_agg_finish(task *k, bctx *b, sl_stream *n)
{
	aggmap *m = b->mused[n->id] ? &b->maps[n->id] : NULL;
	const sl_agg *a = &n->agg;
	sl_value tu[SL_MAX_FIELDS];
	if ((!m || !m->n) && n->kind == N_AGG && !n->grouped
	    && a->kind == SL_AGG_COMBINER) {
		/* a global aggregate of nothing is its zero */
		tu[0] = a->combiner->zero.type == SL_NULL ? sl_int(0)
		                                          : a->combiner->zero;
		return sli_to_children(k, b, n, tu, 1);
	}
	if (!m)
		return SL_OK;
	for (size_t i = 0; i < m->n; i++) {
		aggent *e = sli_aggmap_at(m, i);
		sli_aggmap_groups(e, tu);
		int rc;
		if (a->kind == SL_AGG_AGGREGATOR) {
			sl_collector c = { n->agg_whole ? C_REPLACE : C_PREFIX,
				k, b, n, tu, e->ngroup, 0, 0 };
			rc = a->complete(a->user, e->st, &c);
			rc = rc ? rc : c.err;
		} else {
			tu[e->ngroup] = e->acc;
			/* a sum or count of nothing but nulls is 0 */
			if (e->acc.type == SL_NULL
			    && a->kind == SL_AGG_COMBINER
			    && (a->combiner == sl_combiner_sum()
			        || a->combiner == sl_combiner_count()))
				tu[e->ngroup] = sl_int(0);
			rc = sli_to_children(k, b, n, tu, e->ngroup + 1);
		}
		if (rc)
			return rc;
	}
	return SL_OK;
}
