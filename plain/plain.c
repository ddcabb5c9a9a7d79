/*
 * plain.c - the plain tuple mode: a spout task, bolt tasks and one acker
 * task on threads, connected by nanomsg inproc links. Tuples travel in
 * frames (many per message); with acking on, each carries its tree's root
 * id and its own random id as two trailing int values, and acks travel to
 * the acker in frames too. An end marker (an EOB frame) follows the last
 * tuple so that an at-most-once run knows when everything was processed.
 * This file builds a topology and runs it; the tasks are spout.c, bolt.c
 * and acker.c, their outbound path emit.c.
 */
#include "plain_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* Keeps the first build error: sl_plain_run refuses to start after one
 * (a topology missing a bolt would run and count nothing). */
static int build_fail(sl_plain *p, int rc)
{
	if (rc && !p->build_err) {
		p->build_err = rc;
		snprintf(p->build_msg, sizeof(p->build_msg), "%s",
		    *sl_errdetail() ? sl_errdetail() : sl_strerror(rc));
	}
	return rc;
}

void sli_plain_record_err(sl_plain *p, int rc)
{
	pthread_mutex_lock(&p->lock);
	if (!p->run_err) {
		p->run_err = rc;
		snprintf(p->run_msg, sizeof(p->run_msg), "%s",
		    *sl_errdetail() ? sl_errdetail() : sl_strerror(rc));
	}
	pthread_mutex_unlock(&p->lock);
}

void sl_plain_options_default(sl_plain_options *o)
{
	if (!o)
		return;
	memset(o, 0, sizeof(*o));
	o->acking = 1;
	o->message_timeout_ms = 30000;
	o->max_spout_pending = 10000;
	o->frame_tuples = 1024;
}

int sl_plain_new(sl_plain **out, const sl_plain_options *o)
{
	SLI_NONNULL(out);
	*out = NULL;
	int rc = sl_init();
	if (rc)
		return rc;
	sl_plain *p = calloc(1, sizeof(*p));
	if (!p)
		return SL_ENOMEM;
	sl_plain_options_default(&p->o);
	if (o)
		p->o = *o;
	if (!p->o.frame_tuples)
		p->o.frame_tuples = 1024;
	if (p->o.message_timeout_ms <= 0)
		p->o.message_timeout_ms = 30000;
	if (!p->o.max_spout_pending)
		p->o.max_spout_pending = 10000;
	pthread_mutex_init(&p->lock, NULL);
	*out = p;
	return SL_OK;
}

void sl_plain_free(sl_plain *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nc; i++) {
		free(p->c[i].name);
		sl_fields_free(p->c[i].out);
	}
	free(p->c);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static int find_comp(const sl_plain *p, const char *name)
{
	for (size_t i = 0; i < p->nc; i++)
		if (!strcmp(p->c[i].name, name))
			return (int)i;
	return -1;
}

static int add_comp(sl_plain *p, const char *name, comp **out)
{
	if (!name || !*name || find_comp(p, name) >= 0)
		return sli_err(SL_EINVAL,
		    "component name '%s' missing or taken", name ? name : "");
	comp *nc = realloc(p->c, (p->nc + 1) * sizeof(*nc));
	if (!nc)
		return SL_ENOMEM;
	p->c = nc;
	*out = &p->c[p->nc++];
	memset(*out, 0, sizeof(**out));
	(*out)->name = strdup(name);
	return (*out)->name ? SL_OK : SL_ENOMEM;
}

static int set_spout(sl_plain *p, const char *name, const sl_plain_spout *ops,
    void *self, const char *fields);

int sl_plain_set_spout(sl_plain *p, const char *name,
    const sl_plain_spout *ops, void *self, const char *fields)
{
	SLI_NONNULL(p);
	if (!name || !ops)
		return build_fail(p,
		    sli_err(SL_EINVAL,
		        "sl_plain_set_spout: needs a name and "
		        "ops"));
	return build_fail(p, set_spout(p, name, ops, self, fields));
}

static int set_spout(sl_plain *p, const char *name, const sl_plain_spout *ops,
    void *self, const char *fields)
{
	if (p->spout)
		return sli_err(SL_EINVAL, "the topology has a spout already");
	if (!ops || !ops->next_tuple)
		return sli_err(SL_EINVAL, "spout without next_tuple");
	comp *c;
	int rc = add_comp(p, name, &c);
	if (rc)
		return rc;
	c->input = -1;
	c->ntasks = 1;
	if ((rc = sl_fields_parse(&c->out, fields)))
		return rc;
	p->spout = ops;
	p->spout_self = self;
	return SL_OK;
}

static int add_bolt(sl_plain *p, const char *name, const char *input,
    sl_grouping g, const char *group_fields, sl_plain_bolt_fn fn, void *user,
    const char *out_fields, uint32_t parallelism);

int sl_plain_add_bolt(sl_plain *p, const char *name, const char *input,
    sl_grouping g, const char *group_fields, sl_plain_bolt_fn fn, void *user,
    const char *out_fields, uint32_t parallelism)
{
	SLI_NONNULL(p);
	if (!name || !input || !fn)
		return build_fail(p,
		    sli_err(SL_EINVAL,
		        "sl_plain_add_bolt: needs a name, an "
		        "input and a function"));
	return build_fail(p,
	    add_bolt(p, name, input, g, group_fields, fn, user, out_fields,
	        parallelism));
}

static int add_bolt(sl_plain *p, const char *name, const char *input,
    sl_grouping g, const char *group_fields, sl_plain_bolt_fn fn, void *user,
    const char *out_fields, uint32_t parallelism)
{
	int in = input ? find_comp(p, input) : -1;
	if (in < 0)
		return sli_err(SL_ENOTFOUND, "bolt %s: no component '%s'",
		    name, input ? input : "");
	if (!fn || parallelism == 0 || parallelism > 256)
		return sli_err(SL_EINVAL,
		    "bolt %s: no function or bad "
		    "parallelism",
		    name);
	sli_grouping gr;
	memset(&gr, 0, sizeof(gr));
	gr.kind = (sli_grouping_kind)g;
	gr.local = -1;
	if (g == SL_GROUP_FIELDS) {
		sl_fields *gf;
		int rc = sl_fields_parse(&gf, group_fields);
		if (rc)
			return rc;
		for (size_t i = 0; i < sl_fields_count(gf); i++) {
			int k = sl_fields_index(
			    p->c[in].out, sl_fields_name(gf, i));
			if (k < 0) {
				rc = sli_err(SL_ENOTFOUND,
				    "bolt %s: %s has no field '%s'", name,
				    input, sl_fields_name(gf, i));
				sl_fields_free(gf);
				return rc;
			}
			gr.fields[gr.nfields++] = k;
		}
		sl_fields_free(gf);
		if (!gr.nfields)
			return sli_err(
			    SL_EINVAL, "bolt %s: no group fields", name);
	}
	comp *c;
	int rc = add_comp(p, name, &c);
	if (rc)
		return rc;
	c->input = in;
	c->g = g;
	c->grouping = gr;
	c->fn = fn;
	c->user = user;
	c->ntasks = g == SL_GROUP_GLOBAL ? 1 : parallelism;
	return sl_fields_parse(&c->out, out_fields);
}

uint32_t sl_plain_task_index(const sl_plain_collector *c)
{
	if (!c)
		return 0;
	return c->k->idx;
}

static void free_task(ptask *k)
{
	if (!k)
		return;
	for (size_t o = 0; o < k->nouts; o++) {
		for (uint32_t t = 0; t < k->outs[o].n; t++) {
			sli_frame_writer_free(&k->outs[o].w[t]);
			sli_link_close(k->outs[o].links[t]);
		}
		free(k->outs[o].w);
		free(k->outs[o].links);
	}
	free(k->outs);
	sli_frame_writer_free(&k->ackw);
	sli_link_close(k->in);
	sli_link_close(k->to_acker);
	free(k->pk);
	free(k->pv);
	free(k->ack_root);
	free(k->ack_val);
	free(k);
}

int sl_plain_stats_get(sl_plain *p, sl_plain_stats *st)
{
	SLI_NONNULL(p);
	SLI_NONNULL(st);
	pthread_mutex_lock(&p->lock);
	*st = p->st;
	uint64_t end = p->end_ns ? p->end_ns : sli_now_ns();
	st->elapsed_s = p->start_ns ? (double)(end - p->start_ns) / 1e9 : 0;
	st->latency_p50_ms = sli_latency_quantile(&p->lat, 0.5);
	st->latency_p99_ms = sli_latency_quantile(&p->lat, 0.99);
	pthread_mutex_unlock(&p->lock);
	return SL_OK;
}

/* The tasks of every component (their inbound links, their links to the
 * acker) and the acker task, in p->tasks; *total: the component tasks. */
static int make_tasks(sl_plain *p, uint64_t seed, uint32_t *total)
{
	char url[128], acker_url[128];
	snprintf(acker_url, sizeof(acker_url), "%s-acker", p->url);
	*total = 0;
	for (size_t i = 0; i < p->nc; i++)
		*total += p->c[i].ntasks;
	p->ntasks = *total + 1; /* + the acker */
	p->tasks = calloc(p->ntasks, sizeof(ptask *));
	if (!p->tasks)
		return SL_ENOMEM;
	int rc = SL_OK;
	uint32_t gid = 0;
	for (size_t ci = 0; ci < p->nc && !rc; ci++)
		for (uint32_t i = 0; i < p->c[ci].ntasks && !rc; i++) {
			ptask *k = calloc(1, sizeof(*k));
			if (!k) {
				rc = SL_ENOMEM;
				break;
			}
			p->tasks[gid] = k;
			k->p = p;
			k->comp = (int)ci;
			k->idx = i;
			k->gid = gid++;
			k->rng = seed ^ (0x9e3779b97f4a7c15ull * (k->gid + 1));
			snprintf(
			    url, sizeof(url), "%s-c%zu-t%u", p->url, ci, i);
			rc = sli_link_pull(&k->in, url);
			sli_frame_writer_init(&k->ackw);
			sli_frame_header h = { SLI_FRAME_DATA, 0, ST_ACK, 0, 0,
				k->idx, 0, 0 };
			sli_frame_writer_begin(&k->ackw, &h);
			if (!rc && p->o.acking)
				rc = sli_link_push(
				    &k->to_acker, acker_url, 64);
		}
	ptask *acker = calloc(1, sizeof(*acker));
	if (!acker)
		return SL_ENOMEM;
	acker->p = p;
	acker->comp = -1;
	p->tasks[gid] = acker;
	if (!rc)
		rc = sli_link_pull(&acker->in, acker_url);
	return rc;
}

/* Task k's outputs: a link and a frame to every task of each subscriber. */
static int wire_outputs(sl_plain *p, ptask *k)
{
	char url[128];
	for (size_t d = 0; d < p->nc; d++) {
		if (p->c[d].input != k->comp)
			continue;
		pout *no = realloc(k->outs, (k->nouts + 1) * sizeof(*no));
		if (!no)
			return SL_ENOMEM;
		k->outs = no;
		pout *po = &k->outs[k->nouts++];
		memset(po, 0, sizeof(*po));
		po->comp = (int)d;
		po->n = p->c[d].ntasks;
		po->g = p->c[d].grouping;
		po->g.ntargets = po->n;
		po->g.next = k->idx;
		po->links = calloc(po->n, sizeof(sli_link *));
		po->w = calloc(po->n, sizeof(sli_frame_writer));
		if (!po->links || !po->w)
			return SL_ENOMEM;
		for (uint32_t t = 0; t < po->n; t++) {
			snprintf(
			    url, sizeof(url), "%s-c%zu-t%u", p->url, d, t);
			int rc = sli_link_push(&po->links[t], url, 64);
			sli_frame_writer_init(&po->w[t]);
			sli_frame_header h = { SLI_FRAME_DATA, 0, ST_DATA, 0,
				0, k->idx, t, 0 };
			sli_frame_writer_begin(&po->w[t], &h);
			if (rc)
				return rc;
		}
	}
	return SL_OK;
}

/* Runs the total component tasks and the acker (with acking) on threads
 * until every component task ended. */
static int run_threads(sl_plain *p, uint32_t total)
{
	int rc = SL_OK;
	p->start_ns = sli_now_ns();
	p->end_ns = 0;
	p->acker_stop = 0;
	pthread_t ath;
	int acker_started = 0;
	if (p->o.acking) {
		if (pthread_create(
		        &ath, NULL, sli_plain_acker_main, p->tasks[total])
		    == 0)
			acker_started = 1;
		else
			rc = SL_ENOMEM;
	}
	uint32_t started = 0;
	for (uint32_t g = 0; g < total && !rc; g++, started++)
		if (pthread_create(&p->tasks[g]->th, NULL,
		        p->tasks[g]->comp == 0 ? sli_plain_spout_main
		                               : sli_plain_bolt_main,
		        p->tasks[g]))
			rc = SL_ENOMEM;
	for (uint32_t g = 0; g < started; g++)
		pthread_join(p->tasks[g]->th, NULL);
	p->acker_stop = 1;
	if (acker_started)
		pthread_join(ath, NULL);
	p->end_ns = sli_now_ns();
	return rc;
}

int sl_plain_run(sl_plain *p)
{
	SLI_NONNULL(p);
	if (p->build_err)
		return sli_err(p->build_err, "%s", p->build_msg);
	if (!p->spout)
		return sli_err(SL_EINVAL, "the topology has no spout");
	p->run_err = 0;
	p->run_msg[0] = 0;
	p->halt = 0;
	static _Atomic unsigned seq;
	snprintf(p->url, sizeof(p->url), "inproc://plain-%ld-%u",
	    (long)getpid(), ++seq);
	uint64_t seed = p->o.seed;
	if (!seed && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = sli_now_ns();
	uint32_t total = 0;
	int rc = make_tasks(p, seed, &total);
	/* outputs: each task to every task of each subscriber */
	for (uint32_t g = 0; g < total && !rc; g++)
		rc = wire_outputs(p, p->tasks[g]);
	if (!rc)
		rc = run_threads(p, total);
	else
		p->start_ns = p->end_ns = sli_now_ns();
	for (uint32_t g = 0; p->tasks && g < p->ntasks; g++)
		free_task(p->tasks[g]);
	free(p->tasks);
	p->tasks = NULL;
	/* a spout that failed stopped the run: that is not success */
	if (!rc && p->run_err)
		rc = sli_err(p->run_err, "%s", p->run_msg);
	return rc;
}

static int emit_word_p(void *ctx, const sl_value *word)
{
	return sl_plain_emit(ctx, word, 1);
}

int sl_plain_split_words(
    void *user, const sl_tuple *in, sl_plain_collector *out)
{
	(void)user;
	SLI_NONNULL(in);
	SLI_NONNULL(out);
	return in->n ? sli_split_words(&in->v[0], emit_word_p, out) : SL_OK;
}
