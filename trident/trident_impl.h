/*
 * trident_impl.h - private to trident/: the topology object, the plan's
 * stages, the tasks and their per-batch contexts, the collector, and the
 * functions the files of the Trident layer call in one another. Nothing
 * outside trident/ includes it (tests use trident/trident.h).
 *
 *   topology.c    building the stream graph (sl_stream_*)
 *   aggregators.c everything about an aggregator kind
 *   join.c        the join operator: building, per-batch state, output
 *   plan.c        planner (fusion into stages) and wiring tasks by links
 *   task.c        the task loop, per-batch contexts and routing
 *   spout_ctx.c   the spout API (sl_spout_*) and the spout task's EMIT
 *   coord.c       the batch coordinator (talks to tasks by messages only)
 *   run.c         sl_topology_run, stats, DRPC calls, test hooks
 *   live.c        live per-stage counters
 *   aggmap.c      per-batch aggregation maps
 */
#ifndef SLI_TRIDENT_IMPL_H
#define SLI_TRIDENT_IMPL_H

#include "core/fault.h"
#include "core/latency.h"
#include "trident.h"

typedef struct task task;

typedef struct tstage {
	int id;
	sl_stream *entry; /* the node that starts the stage */
	uint32_t ntasks;
	uint32_t gid0; /* gid of the stage's first task (plan order) */
	task **tasks;
	uint32_t nsources; /* upstream tasks feeding this stage */
	int *upstream; /* stage ids */
	size_t nupstream;
} tstage;

/* Live counters of one stage (trident/live.c); tasks add to them. */
typedef struct lstage {
	sl_stage_stats s; /* name, tasks, upstream */
	_Atomic uint64_t in, out, busy_ns;
} lstage;

/* Guards sl_topology.running and .free_pending (run.c): a free during a
 * run is left to the run's end. */
extern pthread_mutex_t sli_topology_life;
/* Frees t now (topology.c); sl_topology_free, or the run it waited for. */
void sli_topology_free_now(sl_topology *t);

struct sl_topology {
	char *name;
	sl_stream **nodes;
	size_t nnodes;
	sl_stream *spout;
	int err;
	char errmsg[512];
	int running; /* under sli_topology_life (run.c) */
	int free_pending; /* sl_topology_free during a run: the run frees */
	_Atomic int stop;
	_Atomic int shutdown; /* tasks give up blocked sends */
	/* plan */
	tstage *stages;
	size_t nstages;
	uint32_t ntasks;
	sl_state *store; /* where commits and spout meta live */
	sl_state **states;
	size_t nstates;
	uint32_t npersist_tasks;
	/* run */
	sl_run_options o;
	char url_base[64];
	uint8_t key[SL_KEY_BYTES];
	const uint8_t *keyp; /* key, or NULL without a cluster key */
	uint64_t rejected_at_start;
	/* test hook (failures: core/fault.h, obj = the topology) */
	int (*done_delay)(void *user, uint64_t txid);
	void *done_delay_user;
	/* stats */
	pthread_mutex_t stats_lock;
	uint64_t batches_committed, replays, tuples, empty_batches;
	uint64_t last_committed;
	sli_latency lat_commit, lat_batch; /* ms, core/latency.h */
	uint64_t start_ns, end_ns;
	/* live statistics (trident/live.c), under stats_lock */
	lstage *lstages;
	uint32_t nlstages;
	_Atomic uint32_t in_flight;
	double batch_max_ms, commit_max_ms;
	char last_replay[160];
	uint64_t replays_by[SL_REPLAY_REASONS];
};

/* ---- tasks (task.c) ---- */

/* One batch attempt in one task: its aggregation maps, per node. */
typedef struct bctx {
	uint64_t txid;
	uint32_t attempt;
	int used, failed;
	aggmap *maps; /* per node: receiving-side aggregation */
	aggmap *pmaps; /* per node: sending-side partial aggregation */
	uint8_t *mused, *pused;
	uint64_t tuples;
} bctx;

/* A task's way to one downstream stage: a link per task there and the
 * outbox that routes tuples over them. */
typedef struct texit {
	int stage;
	sli_link **links;
	uint32_t nlinks;
	sli_outbox *ob;
} texit;

/* A DONE report held back by the done-delay test hook. */
typedef struct delayed {
	uint64_t due_ns, txid;
	uint32_t attempt;
	sli_buf body;
} delayed;

/* One task: a thread running the fused nodes of one stage on one share of
 * its input (or, local, a DRPC call on the caller's thread). */
struct task {
	sl_topology *t;
	int stage;
	uint32_t index, gid;
	int local; /* DRPC: every node runs here, synchronously */
	pthread_t th;
	int started;
	sli_link *in, *to_coord;
	texit *outs;
	size_t nouts;
	sli_tracker *tracker;
	bctx *b;
	size_t nb;
	delayed *dl;
	size_t ndl;
	/* spout task */
	sli_buf *metas;
	uint64_t *meta_txid;
	size_t nmetas;
	/* DRPC result */
	sli_buf result_buf;
	sl_value result;
	int has_result;
	char err[256];
	const char *fail_node; /* where the last error happened */
	int fatal; /* the last error is a bug in the topology: replaying
	              cannot heal it */
	/* DRPC: every key of one request is read against one committed
	 * txid per state (pinned at its first read) */
	sl_state *pin_state[8];
	uint64_t pin_txid[8];
	size_t npins;
};

/* What a user function emits into: APPEND adds its values to the input
 * tuple, REPLACE emits them as they are, PREFIX puts base (group values)
 * first. */
struct sl_collector {
	int mode; /* C_APPEND, C_REPLACE, C_PREFIX */
	task *k;
	bctx *b;
	sl_stream *node;
	const sl_value *base;
	size_t nbase;
	int err;
	uint64_t emitted;
};
enum { C_APPEND, C_REPLACE, C_PREFIX };

/* ---- the coordinator's messages (coord.c describes them) ---- */

enum { OP_EMIT = 1, OP_DONE, OP_FAIL, OP_WRITE, OP_WRITTEN, OP_STOP };

/* Sends one control message op on link l, waiting at most 10 s for room
 * on the link; a topology shutting down (or, for the coordinator's
 * messages, coord = 1, stopping) gives up at once (SL_ECLOSED). */
int sli_ctrl_send(sl_topology *t, int coord, sli_link *l, int op,
    uint64_t txid, uint32_t attempt, uint32_t from, const void *body,
    size_t blen);
/* The body of the spout task's DONE. */
void sli_ctrl_done_body(
    sli_buf *body, int eof, uint64_t tuples, const sli_buf *meta);
/* The body of a FAIL: code rc, fatal when no replay can heal it. */
void sli_ctrl_fail_body(sli_buf *body, int rc, int fatal, const char *msg);
/* Coordinates the run until it ends (stop, end of input, or an error):
 * in is the coordinator's inbox, to[gid] each task's; committed is the
 * last committed txid. */
int sli_coord_run(
    sl_topology *t, sli_link *in, sli_link **to, uint64_t committed);

/* ---- topology.c: the builder's helpers (join.c builds with them) ---- */

/* Records the first build error of t (later ones keep it); returns it. */
int sli_build_fail(sl_topology *t, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Splits "a,b" into a schema. NULL or "" gives an empty schema. */
int sli_parse_fields(sl_topology *t, const char *list, sl_fields **out);
/* Resolves list against schema into idx; errors name the missing field
 * and op. */
int sli_resolve(sl_topology *t, const sl_fields *schema, const char *list,
    const char *op, int *idx, size_t *n);
int sli_add_child(sl_stream *p, sl_stream *c);
/* A new node under parent (NULL for sources); NULL after an error. */
sl_stream *sli_node_new(
    sl_topology *t, sl_stream *parent, nkind kind, const char *op);

/* ---- aggregators.c: everything about an aggregator kind ---- */

/* SL_OK, or SL_EINVAL and why agg cannot be used. */
int sli_agg_check(const sl_agg *agg, const char **why);
/* 1 when agg counts tuples: a named input field is checked, never read. */
int sli_agg_counts_tuples(const sl_agg *a);
/* The name of a kind that needs an input field, or NULL. */
const char *sli_agg_needs_field(const sl_agg *a);
/* 1 when agg, given nout output fields, emits its input tuples whole. */
int sli_agg_emits_input(const sl_agg *a, size_t nout);
/* 1 when a persistent_aggregate can fold agg into a state. */
int sli_agg_persistable(const sl_agg *a);
/* 1 when agg's groups hold states that sli_agg_state_free frees. */
int sli_agg_owns_states(const sl_agg *a);
/* Frees one group's aggregator state st (NULL and stateless kinds: no-op). */
void sli_agg_state_free(const sl_agg *a, void *st);
/* 1 when node n combines: partials are folded before a repartition.
 * Inline: routing asks it for every tuple. */
static inline int sli_agg_combining(const sl_stream *n)
{
	return (n->kind == N_AGG || n->kind == N_PERSIST)
	    && n->agg.kind == SL_AGG_COMBINER;
}
/* Marks k's failure fatal when a fold's error rc repeats on every replay. */
void sli_agg_fold_failed(task *k, const sl_stream *n, int rc);
/* Folds tuple v into node n's map m: raw input (partial 0) or a partial
 * (group values, acc) from upstream. */
int sli_agg_accumulate(task *k, bctx *b, sl_stream *n, aggmap *m,
    const sl_value *v, size_t nv, int partial);
/* Emits node n's results for batch b to its children. */
int sli_agg_finish(task *k, bctx *b, sl_stream *n);

/* ---- join.c ---- */

/* Sends tuple v of node n to its i-th child, a join, in the join's stage. */
int sli_join_send(
    task *k, sl_stream *n, size_t i, const sl_value *v, size_t nv);
/* Keeps a tuple (side, keys..., values...) arrived at join n for batch b. */
int sli_join_keep(bctx *b, sl_stream *n, const sl_value *v, size_t nv);
/* Emits join n's output for batch b. */
int sli_join_finish(task *k, bctx *b, sl_stream *n);

/* ---- task.c: routing inside a task ---- */

/* Sends tuple v of node n on to each of its children. */
int sli_to_children(
    task *k, bctx *b, sl_stream *n, const sl_value *v, size_t nv);
/* Node id's aggregation map in b: receiving side, or partial (sending).
 * The maps start zeroed (calloc) and are reset, not freed, between
 * batches: an unused map is empty but may keep its memory. Inline: every
 * aggregated tuple asks it. */
static inline aggmap *sli_map_of(bctx *b, int id, int partial)
{
	if (partial) {
		b->pused[id] = 1;
		return &b->pmaps[id];
	}
	b->mused[id] = 1;
	return &b->maps[id];
}
/* k's way to stage, or NULL. */
texit *sli_exit_for(task *k, int stage);

/* Batch contexts of task k: the one of (txid, attempt), a new one for a
 * newer attempt; NULL and *stale for an older attempt, NULL alone when
 * out of memory. */
bctx *sli_bctx_get(task *k, uint64_t txid, uint32_t attempt, int *stale);
void sli_bctx_release(task *k, bctx *b);
void sli_bctx_free_all(task *k);
/* Finishes batch b in k: aggregations, partials and end markers sent. */
int sli_finish_batch(task *k, bctx *b);
/* Reports op for (txid, attempt) to the coordinator. */
void sli_report(
    task *k, int op, uint64_t txid, uint32_t attempt, const sli_buf *body);
/* Reports a failure of the batch at node where (or k's fail_node). */
void sli_report_fail(
    task *k, uint64_t txid, uint32_t attempt, int rc, const char *where);
/* The thread of task arg (a task *). */
void *sli_task_main(void *arg);
/* Frees task k (closing its links). */
void sli_task_free(task *k);

/* ---- spout_ctx.c ---- */

/* Answers EMIT(txid, attempt) in the spout task k. */
int sli_spout_emit(task *k, uint64_t txid, uint32_t attempt);
/* Keeps m as the spout meta of txid in k (resume: the last commit's). */
int sli_spout_keep_meta(task *k, uint64_t txid, const sli_buf *m);

/* ---- plan.c ---- */

/* Plans t's stages, task counts and states; SL_EINVAL with t->errmsg
 * for a topology that cannot run. */
int sli_plan(sl_topology *t);
/* Creates and wires the planned tasks (coordinator at coord_url). */
int sli_plan_tasks(sl_topology *t, const char *coord_url);
void sli_plan_free_tasks(sl_topology *t);
/* The inproc address of task idx of stage. */
void sli_task_url(
    sl_topology *t, char *out, size_t n, int stage, uint32_t idx);

/* trident/live.c: builds the live counters of the planned stages (at the
 * start of a run). */
int sli_live_plan(sl_topology *t);
/* A task of stage finished a batch: in tuples taken, out sent on. */
void sli_live_count(sl_topology *t, int stage, uint64_t in, uint64_t out);
/* A batch committed with these latencies. */
void sli_live_latency(sl_topology *t, double commit_ms, double batch_ms);
/* A batch is replayed because of why. */
void sli_live_replay(sl_topology *t, int reason, const char *why);
/* Adds ns of a task's work to its stage's busy time (per message). */
void sli_live_busy(sl_topology *t, int stage, uint64_t ns);

#endif
