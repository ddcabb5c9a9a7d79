/*
 * trident.h - internals of the Trident layer shared by its files: the
 * stream graph (nodes), per-batch aggregation maps, and test hooks.
 */
#ifndef SLI_TRIDENT_H
#define SLI_TRIDENT_H

#include "core/core.h"
#include "sluice/trident.h"
#include "state/state.h"
#include "transport/transport.h"

#include <pthread.h>

typedef enum nkind {
	N_SPOUT,
	N_DRPC,
	N_EACH,
	N_MAP,
	N_FLATMAP,
	N_FILTER,
	N_PROJECT,
	N_REPART, /* partition_by, shuffle, broadcast, global */
	N_GROUPBY, /* marker: the stream is grouped */
	N_AGG, /* aggregate (per batch, per group if grouped) */
	N_PAGG, /* partition_aggregate */
	N_PERSIST, /* persistent_aggregate */
	N_QUERY, /* state_query */
	N_MERGE,
	N_JOIN /* join of two streams per batch */
} nkind;

struct sl_stream {
	sl_topology *t;
	nkind kind;
	int id;
	char *name;
	sl_stream **parents;
	size_t nparents;
	sl_stream **children;
	size_t nchildren;
	sl_fields *out;
	int in_idx[SL_MAX_FIELDS]; /* input projection (parent schema) */
	size_t nin;
	sl_function_fn fn;
	sl_filter_fn filt;
	void *user;
	sli_grouping_kind rkind; /* N_REPART */
	int gidx[SL_MAX_FIELDS]; /* group fields in the input schema */
	size_t ngroup;
	int grouped;
	sl_agg agg;
	int agg_in; /* index of the aggregated field or -1 */
	int agg_whole; /* an aggregator without out fields: it emits whole
	                  input tuples (FirstN), not group values + fields */
	sl_state *state;
	uint32_t parallelism;
	int stage; /* set by the planner; -1 = not in the batch graph */
	char *drpc_fn;
	/* N_SPOUT */
	const sl_spout_ops *spout;
	void *spout_self;
	sl_spout *spout_handle; /* owns ops + self; freed with the topology */
	/* N_JOIN: key fields in each parent's schema (gidx/ngroup hold the
	 * left side's), the join type, each side's field count */
	int jidx_r[SL_MAX_FIELDS];
	int jtype;
	size_t jnl, jnr;
};

/* ---- per-batch aggregation map: group key -> accumulator ---- */
typedef struct aggent {
	uint64_t h;
	uint8_t *key; /* codec-encoded group values */
	uint32_t klen;
	uint32_t ngroup;
	sl_value acc;
	void *st; /* aggregator state */
	int has;
} aggent;

typedef struct arena_blk {
	struct arena_blk *next;
	size_t used, cap;
	uint8_t data[];
} arena_blk;

typedef struct aggmap {
	aggent *e;
	size_t cap, n;
	uint32_t *used; /* slots of the n entries, in insertion order */
	arena_blk *arena;
} aggmap;

/* The k-th entry (k < m->n) in insertion order. */
static inline aggent *sli_aggmap_at(const aggmap *m, size_t k)
{
	return &m->e[m->used[k]];
}

void sli_aggmap_init(aggmap *m);
void sli_aggmap_free(aggmap *m, const sl_agg *agg);
/* Empties the map for the next batch, keeping its memory unless large. */
void sli_aggmap_reset(aggmap *m, const sl_agg *agg);
/* Copies n bytes into the map's arena; returns the copy or NULL. */
uint8_t *sli_aggmap_copy(aggmap *m, const void *p, size_t n);
/* Finds or adds the entry for group values g[0..ng); *isnew says which. */
int sli_aggmap_get(
    aggmap *m, const sl_value *g, size_t ng, aggent **out, int *isnew);
/* Decodes an entry's group values into g (borrowing the arena). */
void sli_aggmap_groups(const aggent *e, sl_value *g);

/* ---- test hooks ----
 * Injected failures go through the one fault hook (core/fault.h): the
 * points spout, function, partial, state and commit fail a batch (obj =
 * the topology, a = txid, b = attempt); kill_before_commit,
 * kill_between_commits (a = txid) and term_after_commits (a = commits in
 * this run) end the process. */
/* Delays each task's "done" report of a batch by fn(txid) ms (the work
 * is finished; only the report waits), so batches can complete out of
 * order. */
void sli_topology_set_done_delay(
    sl_topology *t, int (*fn)(void *user, uint64_t txid), void *user);

/* The txid and attempt of the batch a user callback runs in (tests: the
 * differential tester injects failures by txid and attempt and records
 * sink tuples per batch); 0, 0 inside a DRPC call. */
void sli_collector_batch(
    const sl_collector *c, uint64_t *txid, uint32_t *attempt);

/* The inproc endpoint of task idx of stage (tests inject frames there);
 * SL_ENOTFOUND unless the topology is running. */
int sli_topology_task_url(
    sl_topology *t, int stage, uint32_t idx, char *out, size_t n);

#endif
