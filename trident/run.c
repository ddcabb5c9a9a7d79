/*
 * run.c - running a topology: sl_topology_run in its steps (plan, wire
 * the tasks, resume after the last commit, start the task threads, hand
 * over to the coordinator, shut down), the run's options and stats, DRPC
 * calls (a DRPC stream runs on the caller's thread as one local task),
 * and the done-delay test hook (injected failures go through the one
 * fault hook, core/fault.h).
 *
 * Not in coord.c: starting and stopping task threads and handing the
 * spout task its resume meta touch the tasks directly, which the
 * coordinator never does (its interface to them is messages only).
 */
#include "trident_impl.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------- test hooks */

void sli_topology_set_done_delay(
    sl_topology *t, int (*fn)(void *user, uint64_t txid), void *user)
{
	t->done_delay = fn;
	t->done_delay_user = user;
}

/* ---------------------------------------------------------- options, stats */

void sl_run_options_default(sl_run_options *o)
{
	if (!o)
		return;
	memset(o, 0, sizeof(*o));
	o->max_pending = 4;
	o->batch_timeout_ms = 30000;
	o->max_attempts = 0;
	o->batch_size = 10000;
	o->batch_ms = 100;
	o->frame_tuples = 1024;
}

pthread_mutex_t sli_topology_life = PTHREAD_MUTEX_INITIALIZER;

void sl_topology_stop(sl_topology *t)
{
	if (!t)
		return;
	t->stop = 1;
}

int sl_topology_stats_get(sl_topology *t, sl_topology_stats *st)
{
	SLI_NONNULL(t);
	SLI_NONNULL(st);
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

/* ---------------------------------------------------------- running */

/* The run's options (defaults for what o leaves 0), its plan, live
 * counters, inproc address base and frame key. */
static int run_prepare(sl_topology *t, const sl_run_options *o)
{
	sl_run_options_default(&t->o);
	if (o)
		t->o = *o;
	if (!t->o.max_pending)
		t->o.max_pending = 4;
	if (!t->o.frame_tuples)
		t->o.frame_tuples = 1024;
	if (!t->o.batch_size)
		t->o.batch_size = 10000;
	int rc = sli_plan(t);
	if (!rc)
		rc = sli_live_plan(t);
	if (rc)
		return rc;
	static _Atomic unsigned seq;
	snprintf(t->url_base, sizeof(t->url_base), "inproc://sl-%ld-%u",
	    (long)getpid(), ++seq);
	t->keyp = NULL;
	if (t->o.cluster_key) {
		sli_derive_key(t->key, t->o.cluster_key, t->name);
		t->keyp = t->key;
	}
	return SL_OK;
}

/* The coordinator's inbox, the tasks and their links, and the
 * coordinator's link to each task (to[gid]). */
static int run_wire(sl_topology *t, sli_link **in, sli_link **to)
{
	char coord_url[128], url[128];
	snprintf(coord_url, sizeof(coord_url), "%s-coord", t->url_base);
	int rc = sli_link_pull(in, coord_url);
	if (!rc)
		rc = sli_plan_tasks(t, coord_url);
	for (size_t s = 0; !rc && s < t->nstages; s++)
		for (uint32_t i = 0; !rc && i < t->stages[s].ntasks; i++) {
			sli_task_url(t, url, sizeof(url), (int)s, i);
			rc = sli_link_push(
			    &to[t->stages[s].gid0 + i], url, 64);
		}
	return rc;
}

/* Resumes after the last committed txid: *committed, the states'
 * restart passes, the spout task's and the spout's resume meta. */
static int run_resume(sl_topology *t, uint64_t *committed)
{
	int rc = SL_OK;
	sli_buf meta;
	sli_buf_init(&meta);
	*committed = 0;
	if (t->store) {
		/* several states: a crash between their commit records leaves
		 * them one txid apart. Resume from the lowest and the spout
		 * meta recorded with it; the restart pass of each state takes
		 * back writes (and a commit) past it, whatever partition count
		 * wrote them */
		size_t low = 0;
		for (size_t i = 0; i < t->nstates; i++) {
			uint64_t have;
			sl_state_last_committed(t->states[i], &have);
			if (!i || have < *committed) {
				*committed = have;
				low = i;
			}
		}
		/* a state of another topology or spout holds a position in
		 * another input: refused before anything is written (red team
		 * T8/R7) */
		sli_writer w
		    = { t->name, t->spout->name, t->spout->spout->name };
		for (size_t i = 0; !rc && i < t->nstates; i++)
			rc = sli_state_claim(t->states[i], &w,
			    t->spout->spout->resume != NULL, 0);
		if (!rc)
			rc = sli_state_committed(
			    t->states[low], committed, &meta);
	}
	/* the spout judges the position before anything is written: a
	 * directory without a writer record (an older sluice) is adopted
	 * only when the spout accepts its position */
	if (!rc && *committed)
		rc = sli_spout_keep_meta(
		    t->stages[0].tasks[0], *committed, &meta);
	if (!rc && t->spout->spout->resume)
		rc = t->spout->spout->resume(t->spout->spout_self,
		    *committed ? meta.data : NULL, meta.len);
	if (t->store) {
		sli_writer w
		    = { t->name, t->spout->name, t->spout->spout->name };
		for (size_t i = 0; !rc && i < t->nstates; i++)
			rc = sli_state_claim(t->states[i], &w, 1, 1);
		for (size_t i = 0; !rc && i < t->nstates; i++)
			rc = sli_state_recover(
			    t->states[i], *committed, meta.data, meta.len);
		if (rc && !t->errmsg[0])
			snprintf(t->errmsg, sizeof(t->errmsg), "%s",
			    sl_errdetail());
	}
	sli_buf_free(&meta);
	return rc;
}

static int run_start_tasks(sl_topology *t)
{
	for (size_t s = 0; s < t->nstages; s++)
		for (uint32_t i = 0; i < t->stages[s].ntasks; i++) {
			task *k = t->stages[s].tasks[i];
			if (pthread_create(&k->th, NULL, sli_task_main, k))
				return SL_ENOMEM;
			k->started = 1;
		}
	return SL_OK;
}

/* Tasks blocked on a full link give up; then each gets STOP and is
 * joined. */
static void run_stop_tasks(sl_topology *t, sli_link **to)
{
	t->shutdown = 1;
	for (size_t s = 0; s < t->nstages; s++)
		for (uint32_t i = 0; i < t->stages[s].ntasks; i++) {
			task *k = t->stages[s].tasks ? t->stages[s].tasks[i]
			                             : NULL;
			if (!k || !k->started)
				continue;
			sli_ctrl_send(
			    t, 1, to[k->gid], OP_STOP, 0, 0, 0, NULL, 0);
		}
	for (size_t s = 0; s < t->nstages; s++)
		for (uint32_t i = 0; i < t->stages[s].ntasks; i++) {
			task *k = t->stages[s].tasks ? t->stages[s].tasks[i]
			                             : NULL;
			if (k && k->started)
				pthread_join(k->th, NULL);
		}
}

static void run_errmsg(sl_topology *t, int rc)
{
	if (!t->errmsg[0])
		snprintf(t->errmsg, sizeof(t->errmsg), "%s",
		    *sl_errdetail() ? sl_errdetail() : sl_strerror(rc));
}

static int run_steps(sl_topology *t, const sl_run_options *o);

int sl_topology_run(sl_topology *t, const sl_run_options *o)
{
	SLI_NONNULL(t);
	if (t->err)
		return t->err;
	pthread_mutex_lock(&sli_topology_life);
	int busy = t->running;
	t->running = 1;
	pthread_mutex_unlock(&sli_topology_life);
	if (busy)
		return SL_ESTATE;
	int rc = run_steps(t, o);
	/* a sl_topology_free during the run (another thread, or one of the
	 * run's own callbacks) left the freeing to us */
	pthread_mutex_lock(&sli_topology_life);
	t->running = 0;
	int free_now = t->free_pending;
	pthread_mutex_unlock(&sli_topology_life);
	if (free_now)
		sli_topology_free_now(t);
	return rc;
}

/* sl_topology_run's work, with t->running set by the caller. */
static int run_steps(sl_topology *t, const sl_run_options *o)
{
	t->errmsg[0] = 0; /* a message of the last run's end is not ours */
	int rc = run_prepare(t, o);
	if (rc)
		return rc;
	sli_link *in = NULL;
	sli_link **to = calloc(t->ntasks + 1, sizeof(sli_link *));
	if (!to)
		return SL_ENOMEM;
	pthread_mutex_lock(&t->stats_lock);
	t->rejected_at_start = sli_transport_rejected();
	pthread_mutex_unlock(&t->stats_lock);
	/* t->stop is not cleared here: a stop asked before the run (a
	 * signal handler racing with the start) ends it at once */
	t->shutdown = 0;
	rc = run_wire(t, &in, to);
	uint64_t committed = 0;
	if (!rc)
		rc = run_resume(t, &committed);
	/* stats readers (a live view) may already be polling */
	pthread_mutex_lock(&t->stats_lock);
	t->last_committed = committed;
	t->start_ns = sli_now_ns();
	t->end_ns = 0;
	pthread_mutex_unlock(&t->stats_lock);
	if (!rc)
		rc = run_start_tasks(t);
	if (!rc)
		rc = sli_coord_run(t, in, to, committed);
	if (rc)
		run_errmsg(t, rc);
	pthread_mutex_lock(&t->stats_lock);
	t->end_ns = sli_now_ns();
	pthread_mutex_unlock(&t->stats_lock);
	run_stop_tasks(t, to);
	for (uint32_t i = 0; i < t->ntasks; i++)
		sli_link_close(to[i]);
	sli_link_close(in);
	free(to);
	sli_plan_free_tasks(t);
	free(t->states);
	t->states = NULL;
	t->nstates = 0;
	t->stop = 0; /* the next run starts afresh */
	if (rc)
		t->err = 0; /* a run error does not poison the topology */
	return rc;
}

/* ---------------------------------------------------------- DRPC */

/* The result bytes of a DRPC call live in a buffer per calling thread
 * until its next call; freed when the thread ends (the DRPC server's
 * workers: a plain __thread buffer leaked at their exit). */
static pthread_key_t drpc_out_key;
static pthread_once_t drpc_out_once = PTHREAD_ONCE_INIT;

static void drpc_out_free(void *p)
{
	sli_buf_free(p);
	free(p);
}

static void drpc_out_key_make(void)
{
	pthread_key_create(&drpc_out_key, drpc_out_free);
}

static sli_buf *drpc_out(void)
{
	pthread_once(&drpc_out_once, drpc_out_key_make);
	sli_buf *b = pthread_getspecific(drpc_out_key);
	if (!b && (b = calloc(1, sizeof(*b))) != NULL) {
		sli_buf_init(b);
		if (pthread_setspecific(drpc_out_key, b)) {
			free(b);
			b = NULL;
		}
	}
	return b;
}

int sl_topology_drpc_call(sl_topology *t, const char *function,
    const uint8_t *args, size_t len, sl_value *result)
{
	SLI_NONNULL(t);
	SLI_NONNULL(function);
	SLI_NONNULL(args || len == 0);
	SLI_NONNULL(result);
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
		bctx *b = mine ? sli_bctx_get(&k, 1, 1, &stale) : NULL;
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
			sli_bctx_free_all(&k);
			sli_buf_free(&k.result_buf);
			continue;
		}
		break;
	}
	if (!rc) {
		*result = k.has_result ? k.result : sl_null();
		sli_buf *out = result->type == SL_BYTES ? drpc_out() : NULL;
		if (result->type == SL_BYTES && !out)
			rc = SL_ENOMEM;
		else if (out) {
			out->len = 0;
			rc = sli_buf_append(out, result->u.p, result->len);
			result->u.p = out->data;
		}
	}
	for (size_t i = 0; !rc && i < k.npins; i++)
		sli_trace("drpc %s %llu", function,
		    (unsigned long long)k.pin_txid[i]);
	sli_bctx_free_all(&k);
	sli_buf_free(&k.result_buf);
	free(mine);
	return rc;
}
