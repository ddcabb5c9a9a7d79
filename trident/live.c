/*
 * live.c - what a live view of a running topology reads beyond
 * sl_topology_stats: per-stage tuples in and out, batches in flight, the
 * worst latencies, why the last batch was replayed and how many replays
 * each reason caused, and each stage's busy time. Tasks add to per-stage
 * atomic counters once per batch or per message (never per tuple);
 * readers copy under the topology's stats lock.
 */
#include "trident_impl.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sli_live_plan(sl_topology *t)
{
	lstage *ls = calloc(t->nstages ? t->nstages : 1, sizeof(lstage));
	if (!ls)
		return SL_ENOMEM;
	for (size_t i = 0; i < t->nstages; i++) {
		const tstage *st = &t->stages[i];
		snprintf(ls[i].s.name, sizeof(ls[i].s.name), "%s",
		    st->entry->name ? st->entry->name : "?");
		ls[i].s.tasks = st->ntasks;
		for (size_t u = 0; u < st->nupstream; u++)
			if (st->upstream[u] >= 0 && st->upstream[u] < 64)
				ls[i].s.upstream |= 1ull << st->upstream[u];
	}
	pthread_mutex_lock(&t->stats_lock);
	free(t->lstages);
	t->lstages = ls;
	t->nlstages = (uint32_t)t->nstages;
	t->batch_max_ms = t->commit_max_ms = 0;
	t->last_replay[0] = 0;
	pthread_mutex_unlock(&t->stats_lock);
	return SL_OK;
}

void sli_live_count(sl_topology *t, int stage, uint64_t in, uint64_t out)
{
	if (stage < 0 || (uint32_t)stage >= t->nlstages)
		return;
	atomic_fetch_add_explicit(
	    &t->lstages[stage].in, in, memory_order_relaxed);
	atomic_fetch_add_explicit(
	    &t->lstages[stage].out, out, memory_order_relaxed);
}

void sli_live_latency(sl_topology *t, double commit_ms, double batch_ms)
{
	pthread_mutex_lock(&t->stats_lock);
	if (commit_ms > t->commit_max_ms)
		t->commit_max_ms = commit_ms;
	if (batch_ms > t->batch_max_ms)
		t->batch_max_ms = batch_ms;
	pthread_mutex_unlock(&t->stats_lock);
}

void sli_live_busy(sl_topology *t, int stage, uint64_t ns)
{
	if (stage < 0 || (uint32_t)stage >= t->nlstages)
		return;
	atomic_fetch_add_explicit(
	    &t->lstages[stage].busy_ns, ns, memory_order_relaxed);
}

void sli_live_replay(sl_topology *t, int reason, const char *why)
{
	pthread_mutex_lock(&t->stats_lock);
	snprintf(t->last_replay, sizeof(t->last_replay), "%s", why);
	if (reason >= 0 && reason < SL_REPLAY_REASONS)
		t->replays_by[reason]++;
	pthread_mutex_unlock(&t->stats_lock);
}

const char *sl_replay_reason_name(int reason)
{
	static const char *const names[SL_REPLAY_REASONS]
	    = { "timeout", "failed", "commit", "behind" };
	return reason >= 0 && reason < SL_REPLAY_REASONS ? names[reason]
	                                                 : NULL;
}

int sl_topology_live_get(sl_topology *t, sl_topology_live *st)
{
	SLI_NONNULL(t);
	SLI_NONNULL(st);
	memset(st, 0, sizeof(*st));
	st->in_flight = t->in_flight;
	pthread_mutex_lock(&t->stats_lock);
	st->nstages = t->nlstages;
	st->batch_max_ms = t->batch_max_ms;
	st->commit_max_ms = t->commit_max_ms;
	memcpy(st->last_replay, t->last_replay, sizeof(st->last_replay));
	memcpy(st->replays_by, t->replays_by, sizeof(st->replays_by));
	pthread_mutex_unlock(&t->stats_lock);
	return SL_OK;
}

int sl_topology_stage_get(sl_topology *t, uint32_t i, sl_stage_stats *st)
{
	SLI_NONNULL(t);
	SLI_NONNULL(st);
	int rc = SL_OK;
	pthread_mutex_lock(&t->stats_lock);
	if (i >= t->nlstages)
		rc = SL_ENOTFOUND;
	else {
		*st = t->lstages[i].s;
		st->tuples_in = atomic_load_explicit(
		    &t->lstages[i].in, memory_order_relaxed);
		st->tuples_out = atomic_load_explicit(
		    &t->lstages[i].out, memory_order_relaxed);
		st->busy_ns = atomic_load_explicit(
		    &t->lstages[i].busy_ns, memory_order_relaxed);
	}
	pthread_mutex_unlock(&t->stats_lock);
	return rc;
}
