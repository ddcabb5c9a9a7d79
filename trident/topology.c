/* topology.c - building a Trident topology: streams as nodes of a graph,
 * fields resolved when each operation is added (errors name the field).
 * What is particular to an aggregator kind is asked of aggregators.c;
 * the join is built in join.c with the helpers exported here. */
#include "spout.h"
#include "trident_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sli_build_fail(sl_topology *t, int rc, const char *fmt, ...)
{
	if (t->err)
		return t->err;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->errmsg, sizeof(t->errmsg), fmt, ap);
	va_end(ap);
	t->err = rc;
	sli_err(rc, "%s", t->errmsg);
	return rc;
}

int sl_topology_new(sl_topology **out, const char *name)
{
	SLI_NONNULL(out);
	*out = NULL;
	int rc = sl_init();
	if (rc)
		return rc;
	sl_topology *t = calloc(1, sizeof(*t));
	if (!t)
		return SL_ENOMEM;
	t->name = strdup(name && *name ? name : "topology");
	pthread_mutex_init(&t->stats_lock, NULL);
	*out = t;
	return SL_OK;
}

void sl_topology_free(sl_topology *t)
{
	if (!t)
		return;
	/* during a run (from another thread or a callback of the run):
	 * stop it; the run frees t when it returns */
	pthread_mutex_lock(&sli_topology_life);
	int later = t->running;
	if (later) {
		t->free_pending = 1;
		t->stop = 1;
	}
	pthread_mutex_unlock(&sli_topology_life);
	if (!later)
		sli_topology_free_now(t);
}

void sli_topology_free_now(sl_topology *t)
{
	for (size_t i = 0; i < t->nnodes; i++) {
		sl_stream *n = t->nodes[i];
		if (n->kind == N_SPOUT)
			sl_spout_free(n->spout_handle);
		sl_fields_free(n->out);
		free(n->parents);
		free(n->children);
		free(n->name);
		free(n->drpc_fn);
		free(n);
	}
	free(t->nodes);
	free(t->stages);
	free(t->lstages);
	pthread_mutex_destroy(&t->stats_lock);
	free(t->name);
	free(t);
}

int sl_topology_error(const sl_topology *t)
{
	if (!t)
		return SL_EINVAL;
	return t->err;
}

const char *sl_topology_errmsg(const sl_topology *t)
{
	if (!t)
		return "no topology (NULL)";
	return t->errmsg;
}

/* Splits "a,b" into a schema. NULL or "" gives an empty schema. */
int sli_parse_fields(sl_topology *t, const char *list, sl_fields **out)
{
	int rc = sl_fields_parse(out, list);
	return rc
	    ? sli_build_fail(t, rc, "bad field list '%s' (at most %d names)",
	        list ? list : "", SL_MAX_FIELDS)
	    : SL_OK;
}

/* Resolves list against schema into idx; errors name the missing field
 * and the operation. */
int sli_resolve(sl_topology *t, const sl_fields *schema, const char *list,
    const char *op, int *idx, size_t *n)
{
	sl_fields *f;
	int rc = sli_parse_fields(t, list, &f);
	if (rc)
		return rc;
	*n = sl_fields_count(f);
	for (size_t i = 0; i < *n; i++) {
		int k = sl_fields_index(schema, sl_fields_name(f, i));
		if (k < 0) {
			char have[512] = "";
			for (size_t j = 0; j < sl_fields_count(schema); j++) {
				size_t l = strlen(have);
				snprintf(have + l, sizeof(have) - l, "%s%s",
				    j ? "," : "", sl_fields_name(schema, j));
			}
			rc = sli_build_fail(t, SL_ENOTFOUND,
			    "%s: the stream has no field '%s' (it has: %s)",
			    op, sl_fields_name(f, i), have);
			sl_fields_free(f);
			return rc;
		}
		idx[i] = k;
	}
	sl_fields_free(f);
	return SL_OK;
}

int sli_add_child(sl_stream *p, sl_stream *c)
{
	sl_stream **nc
	    = realloc(p->children, (p->nchildren + 1) * sizeof(*nc));
	if (!nc)
		return SL_ENOMEM;
	p->children = nc;
	p->children[p->nchildren++] = c;
	return SL_OK;
}

/* A new node under parent (may be NULL for sources). */
sl_stream *sli_node_new(
    sl_topology *t, sl_stream *parent, nkind kind, const char *op)
{
	if (t->err)
		return NULL;
	if (t->running) {
		sli_build_fail(
		    t, SL_ESTATE, "%s: the topology is running", op);
		return NULL;
	}
	if (parent && parent->kind == N_PERSIST) {
		sli_build_fail(t, SL_EINVAL,
		    "%s: the stream of a persistent_aggregate cannot be "
		    "used further (query the state with state_query)",
		    op);
		return NULL;
	}
	sl_stream *n = calloc(1, sizeof(*n));
	sl_stream **nodes
	    = realloc(t->nodes, (t->nnodes + 1) * sizeof(*nodes));
	if (!n || !nodes) {
		free(n);
		if (nodes)
			t->nodes = nodes;
		sli_build_fail(t, SL_ENOMEM, "%s: out of memory", op);
		return NULL;
	}
	t->nodes = nodes;
	n->t = t;
	n->kind = kind;
	n->id = (int)t->nnodes;
	n->agg_in = -1;
	n->stage = -1;
	n->name = strdup(op);
	t->nodes[t->nnodes++] = n;
	if (parent) {
		n->parents = malloc(sizeof(*n->parents));
		if (!n->parents || sli_add_child(parent, n)) {
			sli_build_fail(t, SL_ENOMEM, "%s: out of memory", op);
			return NULL;
		}
		n->parents[0] = parent;
		n->nparents = 1;
		/* grouping carries through per-tuple operations */
	}
	return n;
}

static sl_fields *copy_fields(const sl_fields *f)
{
	size_t n = sl_fields_count(f);
	const char *names[SL_MAX_FIELDS];
	for (size_t i = 0; i < n; i++)
		names[i] = sl_fields_name(f, i);
	sl_fields *out = NULL;
	sl_fields_new(&out, n, names);
	return out;
}

/* Schema a + b; fails on a duplicate name. */
static sl_fields *concat(
    sl_topology *t, const sl_fields *a, const sl_fields *b, const char *op)
{
	size_t na = sl_fields_count(a), nb = sl_fields_count(b);
	const char *names[SL_MAX_FIELDS];
	if (na + nb > SL_MAX_FIELDS) {
		sli_build_fail(t, SL_EINVAL, "%s: more than %d fields", op,
		    SL_MAX_FIELDS);
		return NULL;
	}
	for (size_t i = 0; i < na; i++)
		names[i] = sl_fields_name(a, i);
	for (size_t i = 0; i < nb; i++) {
		if (sl_fields_index(a, sl_fields_name(b, i)) >= 0) {
			sli_build_fail(t, SL_EINVAL,
			    "%s: field '%s' already exists", op,
			    sl_fields_name(b, i));
			return NULL;
		}
		names[na + i] = sl_fields_name(b, i);
	}
	sl_fields *out = NULL;
	if (sl_fields_new(&out, na + nb, names))
		sli_build_fail(t, SL_ENOMEM, "%s: out of memory", op);
	return out;
}

sl_stream *sl_topology_new_stream(
    sl_topology *t, const char *name, sl_spout *spout, const char *fields)
{
	if (!t)
		return NULL;
	if (!spout) {
		/* what a failed constructor leaves */
		sli_build_fail(t, SL_EINVAL,
		    "new_stream: no spout instance (did its "
		    "constructor fail?)");
		return NULL;
	}
	if (t->spout) {
		sl_spout_free(spout);
		sli_build_fail(t, SL_EINVAL,
		    "new_stream: a topology has one spout stream (merge "
		    "inside the spout instead)");
		return NULL;
	}
	sl_stream *n = sli_node_new(t, NULL, N_SPOUT, name ? name : "spout");
	if (!n) {
		sl_spout_free(spout);
		return NULL;
	}
	n->spout = sli_spout_ops(spout);
	n->spout_self = sli_spout_self(spout, NULL);
	n->spout_handle = spout;
	n->parallelism = 1;
	if (sli_parse_fields(t, fields, &n->out))
		return NULL;
	t->spout = n;
	return n;
}

sl_stream *sl_topology_new_drpc_stream(sl_topology *t, const char *function)
{
	if (!t)
		return NULL;
	if (!function || !*function) {
		sli_build_fail(
		    t, SL_EINVAL, "new_drpc_stream: no function name");
		return NULL;
	}
	for (size_t i = 0; i < t->nnodes; i++)
		if (t->nodes[i]->kind == N_DRPC
		    && !strcmp(t->nodes[i]->drpc_fn, function)) {
			sli_build_fail(t, SL_EINVAL,
			    "DRPC function '%s' defined twice", function);
			return NULL;
		}
	sl_stream *n = sli_node_new(t, NULL, N_DRPC, function);
	if (!n)
		return NULL;
	n->drpc_fn = strdup(function);
	if (sli_parse_fields(t, "args", &n->out))
		return NULL;
	return n;
}

/* 1 when the stream s produces is grouped: after group_by and the
 * per-tuple operations that keep its fields. An aggregate's own grouped
 * flag and gidx describe its input; its output is not grouped (its gidx
 * index the input's schema, not the output's). */
static int out_grouped(const sl_stream *s)
{
	return s->grouped && s->kind != N_AGG && s->kind != N_PAGG
	    && s->kind != N_PERSIST;
}

static sl_stream *fn_node(sl_stream *s, nkind kind, const char *op,
    const char *in_fields, sl_function_fn fn, sl_filter_fn filt, void *user,
    const char *out_fields)
{
	if (!s)
		return NULL;
	sl_topology *t = s->t;
	if (!fn && !filt) {
		sli_build_fail(t, SL_EINVAL, "%s: no function", op);
		return NULL;
	}
	sl_stream *n = sli_node_new(t, s, kind, op);
	if (!n)
		return NULL;
	n->fn = fn;
	n->filt = filt;
	n->user = user;
	if (sli_resolve(t, s->out, in_fields, op, n->in_idx, &n->nin))
		return NULL;
	if (kind == N_FILTER) {
		n->out = copy_fields(s->out);
	} else {
		sl_fields *o;
		if (sli_parse_fields(t, out_fields, &o))
			return NULL;
		if (kind == N_EACH) {
			n->out = concat(t, s->out, o, op);
			sl_fields_free(o);
		} else
			n->out = o;
	}
	if (!n->out) {
		sli_build_fail(t, SL_ENOMEM, "%s: out of memory", op);
		return NULL;
	}
	/* a grouping survives functions that keep the fields */
	if (out_grouped(s) && kind != N_MAP && kind != N_FLATMAP) {
		n->grouped = 1;
		n->ngroup = s->ngroup;
		memcpy(n->gidx, s->gidx, sizeof(n->gidx));
	}
	return n;
}

sl_stream *sl_stream_each(sl_stream *s, const char *in_fields,
    sl_function_fn fn, void *user, const char *out_fields)
{
	return fn_node(
	    s, N_EACH, "each", in_fields, fn, NULL, user, out_fields);
}

sl_stream *sl_stream_map(sl_stream *s, const char *in_fields,
    sl_function_fn fn, void *user, const char *out_fields)
{
	return fn_node(s, N_MAP, "map", in_fields, fn, NULL, user, out_fields);
}

sl_stream *sl_stream_flat_map(sl_stream *s, const char *in_fields,
    sl_function_fn fn, void *user, const char *out_fields)
{
	return fn_node(
	    s, N_FLATMAP, "flat_map", in_fields, fn, NULL, user, out_fields);
}

sl_stream *sl_stream_filter(
    sl_stream *s, const char *in_fields, sl_filter_fn fn, void *user)
{
	return fn_node(s, N_FILTER, "filter", in_fields, NULL, fn, user, NULL);
}

sl_stream *sl_stream_project(sl_stream *s, const char *fields)
{
	if (!s)
		return NULL;
	sl_stream *n = sli_node_new(s->t, s, N_PROJECT, "project");
	if (!n
	    || sli_resolve(
	        s->t, s->out, fields, "project", n->in_idx, &n->nin))
		return NULL;
	if (sli_parse_fields(s->t, fields, &n->out))
		return NULL;
	return n;
}

static sl_stream *repart(
    sl_stream *s, sli_grouping_kind k, const char *op, const char *fields)
{
	if (!s)
		return NULL;
	sl_stream *n = sli_node_new(s->t, s, N_REPART, op);
	if (!n)
		return NULL;
	n->rkind = k;
	if (k == SLI_GROUP_FIELDS
	    && sli_resolve(s->t, s->out, fields, op, n->gidx, &n->ngroup))
		return NULL;
	if (k == SLI_GROUP_FIELDS && n->ngroup == 0) {
		sli_build_fail(s->t, SL_EINVAL, "%s: no fields", op);
		return NULL;
	}
	n->out = copy_fields(s->out);
	n->parallelism = k == SLI_GROUP_GLOBAL ? 1 : 0;
	return n;
}

sl_stream *sl_stream_partition_by(sl_stream *s, const char *fields)
{
	return repart(s, SLI_GROUP_FIELDS, "partition_by", fields);
}

sl_stream *sl_stream_shuffle(sl_stream *s)
{
	return repart(s, SLI_GROUP_SHUFFLE, "shuffle", NULL);
}

sl_stream *sl_stream_broadcast(sl_stream *s)
{
	return repart(s, SLI_GROUP_ALL, "broadcast", NULL);
}

sl_stream *sl_stream_global(sl_stream *s)
{
	return repart(s, SLI_GROUP_GLOBAL, "global", NULL);
}

sl_stream *sl_stream_group_by(sl_stream *s, const char *fields)
{
	if (!s)
		return NULL;
	sl_stream *n = sli_node_new(s->t, s, N_GROUPBY, "group_by");
	if (!n
	    || sli_resolve(
	        s->t, s->out, fields, "group_by", n->gidx, &n->ngroup))
		return NULL;
	if (!n->ngroup) {
		sli_build_fail(s->t, SL_EINVAL, "group_by: no fields");
		return NULL;
	}
	n->grouped = 1;
	n->out = copy_fields(s->out);
	return n;
}

static sl_stream *agg_node(sl_stream *s, nkind kind, const char *op,
    const char *in_field, sl_agg agg, const char *out_field)
{
	if (!s)
		return NULL;
	sl_topology *t = s->t;
	const char *why;
	if (sli_agg_check(&agg, &why)) {
		sli_build_fail(t, SL_EINVAL, "%s: %s", op, why);
		return NULL;
	}
	sl_stream *n = sli_node_new(t, s, kind, op);
	if (!n)
		return NULL;
	n->agg = agg;
	/* the aggregated field */
	if (in_field && *in_field) {
		size_t k;
		if (sli_resolve(t, s->out, in_field, op, n->in_idx, &k))
			return NULL;
		if (k != 1) {
			sli_build_fail(
			    t, SL_EINVAL, "%s: one input field expected", op);
			return NULL;
		}
		n->agg_in = n->in_idx[0];
		n->nin = 1;
		/* Count counts tuples: a named field is checked to exist,
		 * never summed */
		if (sli_agg_counts_tuples(&agg)) {
			n->agg_in = -1;
			n->nin = 0;
		}
	} else if (sli_agg_needs_field(&agg)) {
		sli_build_fail(t, SL_EINVAL, "%s: %s needs an input field", op,
		    sli_agg_needs_field(&agg));
		return NULL;
	}
	if (out_grouped(s)) {
		n->grouped = 1;
		n->ngroup = s->ngroup;
		memcpy(n->gidx, s->gidx, sizeof(n->gidx));
	}
	/* output: group fields, then out_field (or the input fields for
	 * FirstN-like aggregators without out fields) */
	const char *names[SL_MAX_FIELDS];
	size_t nn = 0;
	for (size_t i = 0; i < n->ngroup; i++)
		names[nn++] = sl_fields_name(s->out, (size_t)n->gidx[i]);
	sl_fields *o;
	if (sli_parse_fields(t, out_field, &o))
		return NULL;
	if (sli_agg_emits_input(&agg, sl_fields_count(o))) {
		/* it emits its input tuples: the aggregated field, or every
		 * field of the stream (the group fields among them) */
		sl_fields_free(o);
		n->agg_whole = 1;
		if (n->agg_in >= 0) {
			const char *one
			    = sl_fields_name(s->out, (size_t)n->agg_in);
			sl_fields_new(&n->out, 1, &one);
		} else
			n->out = copy_fields(s->out);
		if (!n->out) {
			sli_build_fail(t, SL_ENOMEM, "%s: out of memory", op);
			return NULL;
		}
		return n;
	}
	if (sl_fields_count(o) == 0) {
		sl_fields_free(o);
		sli_build_fail(t, SL_EINVAL, "%s: no output field", op);
		return NULL;
	}
	sl_fields *g = NULL;
	sl_fields_new(&g, nn, names);
	n->out = concat(t, g, o, op);
	sl_fields_free(g);
	sl_fields_free(o);
	return n->out ? n : NULL;
}

sl_stream *sl_stream_aggregate(
    sl_stream *s, const char *in_field, sl_agg agg, const char *out_field)
{
	sl_stream *n
	    = agg_node(s, N_AGG, "aggregate", in_field, agg, out_field);
	if (n && !n->grouped)
		n->parallelism = 1;
	return n;
}

sl_stream *sl_stream_partition_aggregate(
    sl_stream *s, const char *in_field, sl_agg agg, const char *out_field)
{
	return agg_node(
	    s, N_PAGG, "partition_aggregate", in_field, agg, out_field);
}

sl_stream *sl_stream_persistent_aggregate(sl_stream *s, sl_state *state,
    const char *in_field, sl_agg agg, const char *out_field)
{
	if (!s)
		return NULL;
	if (!state) {
		sli_build_fail(
		    s->t, SL_EINVAL, "persistent_aggregate: no state");
		return NULL;
	}
	if (!sli_agg_persistable(&agg)) {
		sli_build_fail(s->t, SL_EINVAL,
		    "persistent_aggregate: needs a combiner (Count, Sum, "
		    "Min, Max or your own)");
		return NULL;
	}
	sl_stream *n = agg_node(
	    s, N_PERSIST, "persistent_aggregate", in_field, agg, out_field);
	if (!n)
		return NULL;
	if (!n->grouped) {
		sli_build_fail(s->t, SL_EINVAL,
		    "persistent_aggregate: group_by first (the state is "
		    "keyed by the group fields)");
		return NULL;
	}
	n->state = state;
	return n;
}

sl_stream *sl_stream_state_query(sl_stream *s, sl_state *state,
    const char *key_fields, const char *out_field)
{
	if (!s)
		return NULL;
	if (!state) {
		sli_build_fail(s->t, SL_EINVAL, "state_query: no state");
		return NULL;
	}
	sl_stream *n = sli_node_new(s->t, s, N_QUERY, "state_query");
	if (!n
	    || sli_resolve(
	        s->t, s->out, key_fields, "state_query", n->gidx, &n->ngroup))
		return NULL;
	n->state = state;
	sl_fields *o;
	if (sli_parse_fields(s->t, out_field, &o))
		return NULL;
	if (sl_fields_count(o) != 1) {
		sl_fields_free(o);
		sli_build_fail(
		    s->t, SL_EINVAL, "state_query: one output field expected");
		return NULL;
	}
	n->out = concat(s->t, s->out, o, "state_query");
	sl_fields_free(o);
	return n->out ? n : NULL;
}

sl_stream *sl_stream_merge(sl_topology *t, sl_stream *const *streams, size_t n)
{
	if (!t)
		return NULL;
	if (!n || !streams) {
		sli_build_fail(t, SL_EINVAL, "merge: no streams");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (!streams[i])
			return NULL;
	sl_stream *m = sli_node_new(t, NULL, N_MERGE, "merge");
	if (!m)
		return NULL;
	m->parents = calloc(n, sizeof(*m->parents));
	if (!m->parents) {
		sli_build_fail(t, SL_ENOMEM, "merge: out of memory");
		return NULL;
	}
	size_t nf = sl_fields_count(streams[0]->out);
	for (size_t i = 0; i < n; i++) {
		int same = sl_fields_count(streams[i]->out) == nf;
		for (size_t f = 0; same && f < nf; f++)
			same = !strcmp(sl_fields_name(streams[i]->out, f),
			    sl_fields_name(streams[0]->out, f));
		if (!same) {
			/* merge is by position: fields in another order would
			 * swap values silently */
			sli_build_fail(t, SL_EINVAL,
			    "merge: stream %zu has other fields than stream 1 "
			    "(the same names in the same order are needed; "
			    "project them first)",
			    i + 1);
			return NULL;
		}
		if (streams[i]->kind == N_PERSIST) {
			sli_build_fail(t, SL_EINVAL,
			    "merge: cannot merge a "
			    "persistent_aggregate");
			return NULL;
		}
		m->parents[i] = streams[i];
		sli_add_child(streams[i], m);
	}
	m->nparents = n;
	m->out = copy_fields(streams[0]->out);
	return m;
}

sl_stream *sl_stream_parallelism(sl_stream *s, uint32_t n)
{
	if (!s)
		return NULL;
	if (n == 0 || n > 256) {
		sli_build_fail(
		    s->t, SL_EINVAL, "parallelism %u out of range 1..256", n);
		return NULL;
	}
	if ((s->kind == N_SPOUT && n != 1)
	    || (s->kind == N_REPART && s->rkind == SLI_GROUP_GLOBAL && n != 1)
	    || (s->kind == N_AGG && !s->grouped && n != 1)) {
		sli_build_fail(
		    s->t, SL_EINVAL, "%s runs as one task", s->name);
		return NULL;
	}
	s->parallelism = n;
	return s;
}

sl_stream *sl_stream_name(sl_stream *s, const char *name)
{
	if (!s || !name)
		return s;
	char *c = strdup(name);
	if (!c)
		return s;
	free(s->name);
	s->name = c;
	return s;
}

static int emit_word_t(void *ctx, const sl_value *word)
{
	return sl_emit(ctx, word, 1);
}

int sl_fn_split_words(void *user, const sl_tuple *in, sl_collector *out)
{
	(void)user;
	SLI_NONNULL(in);
	SLI_NONNULL(out);
	return in->n ? sli_split_words(&in->v[0], emit_word_t, out) : SL_OK;
}
