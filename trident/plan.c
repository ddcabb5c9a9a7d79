/*
 * plan.c - the planner: fusion of the stream graph's nodes into stages
 * (each a set of tasks running the same fused nodes), the stages' task
 * counts and upstreams, the state partitions; and wiring the planned
 * tasks: their inboxes, their links to the coordinator and, per
 * downstream stage, an outbox routing by that stage's grouping.
 */
#include "trident_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A transactional state needs a spout that replays a batch exactly. */
static int plan_check_spout(sl_topology *t)
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
	return SL_OK;
}

/* Fusion: each node joins its parent's stage unless it starts one (a
 * repartition, an aggregate, a persistent_aggregate, a join, a merge of
 * several stages); a stage runs on as many tasks as its most parallel
 * node asks. DRPC streams stay out of the batch graph (stage -1). */
static int plan_fuse(sl_topology *t)
{
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
	return SL_OK;
}

static int plan_upstream(sl_topology *t)
{
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
	return SL_OK;
}

/* Task counts and gids (stage by stage: the spout task is gid 0), the
 * state partitions, the store of commits and spout meta. */
static int plan_tasks_and_states(sl_topology *t)
{
	t->store = t->nstates ? t->states[0] : NULL;
	t->npersist_tasks = 0;
	t->ntasks = 0;
	for (size_t i = 0; i < t->nstages; i++) {
		t->stages[i].gid0 = t->ntasks;
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

int sli_plan(sl_topology *t)
{
	int rc = plan_check_spout(t);
	if (!rc)
		rc = plan_fuse(t);
	if (!rc)
		rc = plan_upstream(t);
	if (!rc)
		rc = plan_tasks_and_states(t);
	return rc;
}

/* ---------------------------------------------------------- wiring */

void sli_task_url(sl_topology *t, char *out, size_t n, int stage, uint32_t idx)
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

void sli_plan_free_tasks(sl_topology *t)
{
	for (size_t s = 0; s < t->nstages; s++) {
		tstage *st = &t->stages[s];
		for (uint32_t i = 0; st->tasks && i < st->ntasks; i++)
			sli_task_free(st->tasks[i]);
		free(st->tasks);
		st->tasks = NULL;
		free(st->upstream);
		st->upstream = NULL;
		st->nupstream = 0;
		st->nsources = 0;
	}
}

/* The tasks of every stage, each with its inbox and its link to the
 * coordinator (gid = the stage's gid0 + index). */
static int new_tasks(sl_topology *t, const char *coord_url)
{
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
			k->gid = st->gid0 + i;
			sli_task_url(t, url, sizeof(url), (int)s, i);
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
	return SL_OK;
}

/* How the tuples into stage e's entry are spread over its tasks. */
static void stage_grouping(const sl_stream *e, sli_grouping *g)
{
	memset(g, 0, sizeof(*g));
	g->local = -1;
	if (e->kind == N_JOIN) {
		/* (side, keys..., values...): by the keys */
		g->kind = SLI_GROUP_FIELDS;
		g->nfields = (uint32_t)e->ngroup;
		for (size_t f = 0; f < e->ngroup; f++)
			g->fields[f] = (int)f + 1;
	} else if (e->kind == N_REPART) {
		g->kind = e->rkind;
		g->nfields = (uint32_t)e->ngroup;
		memcpy(g->fields, e->gidx, sizeof(g->fields));
	} else if (sli_agg_combining(e)) {
		/* partials: the group values come first */
		g->kind = e->grouped ? SLI_GROUP_FIELDS : SLI_GROUP_GLOBAL;
		g->nfields = (uint32_t)e->ngroup;
		for (size_t f = 0; f < e->ngroup; f++)
			g->fields[f] = (int)f;
	} else if (e->kind == N_AGG || e->kind == N_PERSIST) {
		g->kind = e->grouped ? SLI_GROUP_FIELDS : SLI_GROUP_GLOBAL;
		g->nfields = (uint32_t)e->ngroup;
		memcpy(g->fields, e->gidx, sizeof(g->fields));
	} else
		g->kind = SLI_GROUP_SHUFFLE;
}

/* Gives task k of stage s an exit to stage d: a link to each of d's
 * tasks and an outbox spreading by g. */
static int add_exit(
    sl_topology *t, task *k, size_t s, size_t d, sli_grouping *g)
{
	tstage *ds = &t->stages[d];
	char url[128];
	texit *no = realloc(k->outs, (k->nouts + 1) * sizeof(*no));
	if (!no)
		return SL_ENOMEM;
	k->outs = no;
	texit *x = &k->outs[k->nouts++];
	memset(x, 0, sizeof(*x));
	x->stage = (int)d;
	x->nlinks = ds->ntasks;
	x->links = calloc(ds->ntasks, sizeof(sli_link *));
	if (!x->links)
		return SL_ENOMEM;
	for (uint32_t j = 0; j < ds->ntasks; j++) {
		sli_task_url(t, url, sizeof(url), (int)d, j);
		int rc = sli_link_push(&x->links[j], url, 64);
		if (rc)
			return rc;
	}
	g->next = k->index; /* spread shuffles */
	int rc = sli_outbox_new(&x->ob, x->links, ds->ntasks, g,
	    source_index(t, (int)d, (int)s, k->index), (uint32_t)ds->entry->id,
	    t->o.frame_tuples, t->keyp);
	if (rc)
		return rc;
	sli_outbox_set_abort(x->ob, &t->shutdown);
	return SL_OK;
}

int sli_plan_tasks(sl_topology *t, const char *coord_url)
{
	int rc = new_tasks(t, coord_url);
	/* outboxes: one per downstream tstage */
	for (size_t s = 0; !rc && s < t->nstages; s++) {
		for (size_t d = 0; !rc && d < t->nstages; d++) {
			tstage *ds = &t->stages[d];
			int feeds = 0;
			for (size_t u = 0; u < ds->nupstream; u++)
				if (ds->upstream[u] == (int)s)
					feeds = 1;
			if (!feeds)
				continue;
			sli_grouping g;
			stage_grouping(ds->entry, &g);
			for (uint32_t i = 0; !rc && i < t->stages[s].ntasks;
			     i++)
				rc = add_exit(
				    t, t->stages[s].tasks[i], s, d, &g);
		}
	}
	return rc;
}

int sli_topology_task_url(
    sl_topology *t, int stage, uint32_t idx, char *out, size_t n)
{
	if (!t->running || stage < 0 || (size_t)stage >= t->nstages
	    || idx >= t->stages[stage].ntasks)
		return SL_ENOTFOUND;
	sli_task_url(t, out, n, stage, idx);
	return SL_OK;
}
