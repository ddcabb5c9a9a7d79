/*
 * sluice/trident.h - Trident-style topologies: streams and their operations,
 * the spout interface, aggregators, running, statistics, and topology
 * objects for `sluice run`.
 * Part of the public API; <sluice.h> includes every part. Conventions as
 * there: int results (SL_OK or a negative SL_E* code), opaque handles,
 * ownership and thread-safety stated per declaration.
 */
#ifndef SLUICE_TRIDENT_H
#define SLUICE_TRIDENT_H

#include "sluice/core.h"
#include "sluice/drpc.h"
#include "sluice/state.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------- trident */

/* A topology of streams (Trident-style micro-batches); build it with the
 * calls below, then sl_topology_run(). Builder calls return the new stream
 * or NULL; the first error (a missing field, a bad argument) is kept and
 * returned by sl_topology_error() and sl_topology_run(), with its detail in
 * sl_topology_errmsg(). Field lists are comma-separated names ("a,b").
 * Not thread-safe while building. */
typedef struct sl_topology sl_topology;
typedef struct sl_stream sl_stream;
/* Where a callback emits tuples; valid only during the callback. */
typedef struct sl_collector sl_collector;
/* What a spout's emit call may ask and record; valid during the call. */
typedef struct sl_spout_ctx sl_spout_ctx;
/* A spout instance, the source of a topology's batches: a built-in one
 * (sluice/spouts.h) or one of your own (sl_spout_new). Opaque;
 * sl_topology_new_stream takes it. */
typedef struct sl_spout sl_spout;

/* Emits one tuple of n values (borrowed; copied or consumed before the
 * call returns). Returns SL_OK or an error to pass back. */
int sl_emit(sl_collector *c, const sl_value *v, size_t n);

/* each/map/flat_map: in is the projection on the stream's in_fields. For
 * each, emitted values are appended to the input tuple (0..n emits); map
 * emits exactly one replacement tuple, flat_map any number. A negative
 * return fails the batch (it is replayed). */
typedef int (*sl_function_fn)(
    void *user, const sl_tuple *in, sl_collector *out);
/* 1 keeps the tuple, 0 drops it, negative fails the batch. */
typedef int (*sl_filter_fn)(void *user, const sl_tuple *in);

/* A batch spout. Callbacks run on the spout's task thread. */
typedef struct sl_spout_ops {
	const char *name;
	/* 1 when a replay of a txid emits exactly the same tuples
	 * (transactional); 0 for opaque spouts */
	int transactional;
	/* Emits batch sl_spout_txid(ctx) into out; records with
	 * sl_spout_set_meta where the batch begins and ends. */
	int (*emit)(void *self, sl_spout_ctx *ctx, sl_collector *out);
	/* 1 while the source may hold more input; new txids are started
	 * only then (replays always run). NULL = always. */
	int (*has_more)(void *self);
	/* Frees self; NULL when nothing to free. */
	void (*free)(void *self);
	/* Called once before the first batch of a run with the meta of the
	 * last committed batch (NULL, 0 when none). May be NULL. */
	int (*resume)(void *self, const void *meta, size_t len);
	/* 0 when this instance of a transactional spout cannot replay a
	 * batch exactly after a restart (the file spout on a pipe), so
	 * transactional state is refused. May be NULL (as transactional). */
	int (*replays_exactly)(void *self);
} sl_spout_ops;

/* Makes a spout of your own from ops (borrowed: must outlive the spout,
 * e.g. static) and self (taken: ops->free(self) when the spout is freed).
 * Returns owned (give it to sl_topology_new_stream, or sl_spout_free).
 * SL_EINVAL without ops or ops->emit; on any error self is freed too. */
int sl_spout_new(sl_spout **out, const sl_spout_ops *ops, void *self);
/* Frees a spout no topology took (ops->free(self)); accepts NULL. */
void sl_spout_free(sl_spout *s);

uint64_t sl_spout_txid(const sl_spout_ctx *ctx);
uint32_t sl_spout_attempt(const sl_spout_ctx *ctx);
/* Meta of the batch before this one (where this one starts), or NULL for
 * the first batch ever. Borrowed. */
const void *sl_spout_prev_meta(const sl_spout_ctx *ctx, size_t *len);
/* Meta an earlier attempt of this txid recorded (also across restarts),
 * or NULL. A transactional spout must replay exactly that range. */
const void *sl_spout_replay_meta(const sl_spout_ctx *ctx, size_t *len);
/* Records this batch's meta (copied); stored durably before any state
 * write of the batch. */
int sl_spout_set_meta(sl_spout_ctx *ctx, const void *p, size_t n);
/* Says the source is exhausted after this batch: the topology stops once
 * it has committed (unless the spout's has_more says otherwise later). */
void sl_spout_set_eof(sl_spout_ctx *ctx);
/* Marks the error this emit returns as one no replay can heal (bad input:
 * a line over the limit, a file that changed): the run stops with it
 * instead of replaying the batch. */
void sl_spout_set_fatal(sl_spout_ctx *ctx);
/* Tuples per batch the topology asks for (a hint) and the time limit in
 * ms after which a batch with at least one tuple should be cut. */
size_t sl_spout_batch_size(const sl_spout_ctx *ctx);
int sl_spout_batch_ms(const sl_spout_ctx *ctx);

/* Aggregators. A combiner (Count, Sum, Min, Max or your own) is combined
 * locally before a repartition and again at the target; a reducer folds
 * tuples one by one at the target; an aggregator gets init/aggregate/
 * complete calls per batch and partition and emits what it likes. A
 * reducer or aggregator given an in_field sees that one field as its
 * tuple, else the whole tuple. A fold that overflows (or a built-in
 * combiner given a non-number) stops the run: replays cannot heal it. */
typedef enum sl_agg_kind {
	SL_AGG_COMBINER = 0,
	SL_AGG_REDUCER = 1,
	SL_AGG_AGGREGATOR = 2
} sl_agg_kind;

typedef struct sl_agg {
	sl_agg_kind kind;
	const sl_combiner *combiner; /* COMBINER */
	sl_value reducer_init; /* REDUCER */
	int (*reduce)(void *user, const sl_value *acc, const sl_tuple *in,
	    sl_value *out);
	/* AGGREGATOR: returns owned per-batch state */
	void *(*init)(void *user, uint64_t txid);
	int (*aggregate)(
	    void *user, void *st, const sl_tuple *in, sl_collector *out);
	int (*complete)(void *user, void *st, sl_collector *out);
	void (*free_state)(void *user, void *st);
	void *user;
} sl_agg;

/* Counts tuples (no input field needed; a named one is only checked to
 * exist, never summed). */
sl_agg sl_agg_count(void);
/* Sum/Min/Max of the input field. */
sl_agg sl_agg_sum(void);
sl_agg sl_agg_min(void);
sl_agg sl_agg_max(void);
/* A user combiner (borrowed; must outlive the topology). */
sl_agg sl_agg_combiner(const sl_combiner *c);
/* The first n tuples of each batch and partition (all input fields). */
sl_agg sl_agg_first_n(size_t n);

/* A ready-made function for flat_map: splits its input field (bytes) into
 * words, runs of bytes other than space, tab and newline. */
int sl_fn_split_words(void *user, const sl_tuple *in, sl_collector *out);

/* Returns owned (sl_topology_free). */
int sl_topology_new(sl_topology **out, const char *name);
/* Frees t. Called while sl_topology_run runs (from another thread or from
 * one of the run's own callbacks), it asks the run to stop and returns at
 * once; the run frees t when it returns. Either way t must not be used
 * after this call (stop a DRPC server serving t first). */
void sl_topology_free(sl_topology *t);
int sl_topology_error(const sl_topology *t);
const char *sl_topology_errmsg(const sl_topology *t);

/* A stream fed by spout with output fields. Takes spout (freed with the
 * topology; the handle stays valid until then, e.g. for
 * sl_spout_file_lines). Each topology has at most one spout stream. A
 * NULL spout (what a failed constructor leaves) is refused with
 * SL_EINVAL (sl_topology_error). */
sl_stream *sl_topology_new_stream(
    sl_topology *t, const char *name, sl_spout *spout, const char *fields);
/* A DRPC stream: its tuples are the request args (one field "args"). */
sl_stream *sl_topology_new_drpc_stream(sl_topology *t, const char *function);

sl_stream *sl_stream_each(sl_stream *s, const char *in_fields,
    sl_function_fn fn, void *user, const char *out_fields);
sl_stream *sl_stream_map(sl_stream *s, const char *in_fields,
    sl_function_fn fn, void *user, const char *out_fields);
sl_stream *sl_stream_flat_map(sl_stream *s, const char *in_fields,
    sl_function_fn fn, void *user, const char *out_fields);
sl_stream *sl_stream_filter(
    sl_stream *s, const char *in_fields, sl_filter_fn fn, void *user);
sl_stream *sl_stream_project(sl_stream *s, const char *fields);
sl_stream *sl_stream_partition_by(sl_stream *s, const char *fields);
sl_stream *sl_stream_shuffle(sl_stream *s);
sl_stream *sl_stream_broadcast(sl_stream *s);
sl_stream *sl_stream_global(sl_stream *s);
/* Groups by fields: the next aggregate or persistent_aggregate runs per
 * group. */
sl_stream *sl_stream_group_by(sl_stream *s, const char *fields);
/* Aggregates each batch (per group when grouped); output: the group
 * fields then out_field. An aggregator (SL_AGG_AGGREGATOR) given no
 * out_field emits whole input tuples instead (FirstN): the stream keeps
 * its fields (or only in_field when one is named). in_field may be NULL
 * for Count and FirstN. A callback that emits the wrong number of values
 * stops the run with SL_EINVAL (a replay would fail the same way). */
sl_stream *sl_stream_aggregate(
    sl_stream *s, const char *in_field, sl_agg agg, const char *out_field);
/* Aggregates each batch within each partition, without a repartition. */
sl_stream *sl_stream_partition_aggregate(
    sl_stream *s, const char *in_field, sl_agg agg, const char *out_field);
/* Folds each batch into state (borrowed; must outlive the topology) per
 * group, exactly once under the state's semantics. Needs a combiner. The
 * stage's parallelism is the number of state partitions. Returns the
 * stage's stream: it ends there (any operation on it is refused; read the
 * state with sl_stream_state_query or DRPC). */
sl_stream *sl_stream_persistent_aggregate(sl_stream *grouped, sl_state *state,
    const char *in_field, sl_agg agg, const char *out_field);
/* Appends the committed value in state of the key made of key_fields as
 * out_field (null when absent). */
sl_stream *sl_stream_state_query(sl_stream *s, sl_state *state,
    const char *key_fields, const char *out_field);
/* One stream of the tuples of all of streams, which must have the same
 * field names in the same order (SL_EINVAL otherwise: project first). */
sl_stream *sl_stream_merge(
    sl_topology *t, sl_stream *const *streams, size_t n);
/* How sl_topology_join treats keys found on one side only. */
typedef enum sl_join_type {
	SL_JOIN_INNER = 0, /* only keys on both sides */
	SL_JOIN_LEFT = 1, /* every left tuple; nulls when no right match */
	SL_JOIN_OUTER = 2 /* every tuple of both; nulls for the missing side */
} sl_join_type;
/* Joins the tuples of left and right within each batch on their key
 * fields (left_fields and right_fields: the same number of names, matched
 * in order; values match when sl_value_equal, so the int 5 does not meet
 * the string "5", and a null key meets a null key), as Trident's join.
 * Each output tuple is the key values, then left's other fields, then
 * right's other fields, named by out_fields (exactly that many names).
 * Every left tuple meets every right tuple of its key in its batch; a
 * replayed batch is joined again from the tuples the replay emits, so a
 * join is exact under replays like every other operation. The join runs
 * in a stage of its own (sl_stream_parallelism sets its tasks); both
 * inputs are partitioned by their keys. Not available in DRPC streams. */
sl_stream *sl_topology_join(sl_topology *t, sl_stream *left,
    const char *left_fields, sl_stream *right, const char *right_fields,
    const char *out_fields, sl_join_type type);
/* Parallelism (tasks) of the stage this stream's operation runs in. */
sl_stream *sl_stream_parallelism(sl_stream *s, uint32_t n);
sl_stream *sl_stream_name(sl_stream *s, const char *name);

typedef struct sl_run_options {
	uint32_t max_pending; /* batches in flight; default 4 */
	int batch_timeout_ms; /* default 30000 */
	uint32_t max_attempts; /* per txid; 0 (default) = unlimited */
	size_t batch_size; /* tuples per batch hint; default 10000 */
	int batch_ms; /* cut a batch after this; default 100 */
	size_t frame_tuples; /* tuples per frame; default 1024 */
	/* called on the coordinator thread after each commit; may be NULL */
	void (*on_commit)(void *user, uint64_t txid);
	void *user;
	/* cluster key (SL_KEY_BYTES, borrowed) or NULL: when set, every frame
	 * between the topology's tasks is sealed with a key derived from it
	 * and the topology's name, so forged frames and frames of another
	 * topology are dropped and counted (rejected_frames) */
	const uint8_t *cluster_key;
} sl_run_options;

void sl_run_options_default(sl_run_options *o);

/* Runs the topology on threads until the spout is exhausted and every
 * batch committed, sl_topology_stop() is called, or an error (returned;
 * e.g. SL_ELIMIT after max_attempts, naming txid and stage in
 * sl_topology_errmsg()). Blocks. A stop returns SL_OK when no batch was
 * failing: what committed stays and the rest replays exactly at the next
 * run, even if nothing committed (stopped before the first commit). A
 * stop that ends a batch's replays returns SL_EFAILED instead: the batch
 * at the head was failing (it timed out, a task failed it, or its commit
 * record failed; sl_topology_errmsg() names txid, attempts and the last
 * failure), so a caller can tell "stopped" from "stopped while stuck".
 * The committed state is intact either way. */
int sl_topology_run(sl_topology *t, const sl_run_options *o);
/* Asks a running topology to stop after the batches in flight (safe from
 * a signal handler and from any thread). Asked before sl_topology_run,
 * the next run stops at once (a signal that arrives while the run starts
 * is not lost); each run clears the request when it returns. */
void sl_topology_stop(sl_topology *t);

typedef struct sl_topology_stats {
	uint64_t batches_committed, replays, tuples, empty_batches;
	uint64_t last_committed;
	uint64_t rejected_frames; /* forged, foreign or malformed: dropped */
	double tuples_per_batch;
	double commit_p50_ms, commit_p99_ms; /* state writes + record */
	double batch_p50_ms, batch_p99_ms; /* emit to commit */
	double elapsed_s;
} sl_topology_stats;

/* Counters so far; thread-safe while running. */
int sl_topology_stats_get(sl_topology *t, sl_topology_stats *st);

/* Runs DRPC function on args synchronously against committed state and
 * returns its result (the last field of the last tuple; 0 for an empty
 * aggregate). SL_ENOTFOUND for an unknown function. SL_BYTES results live
 * in a thread-local buffer until the next call. Thread-safe; runs
 * concurrently with batches. */
int sl_topology_drpc_call(sl_topology *t, const char *function,
    const uint8_t *args, size_t len, sl_value *result);
/* Starts a DRPC server (sluice/drpc.h) that serves the DRPC streams of
 * topology t (sl_topology_drpc_call). Returns owned
 * (sl_drpc_server_stop). */
int sl_drpc_server_start_topology(
    sl_drpc_server **out, const sl_drpc_options *o, sl_topology *t);

/* ------------------------------------------------------ live statistics */

/* Counters of one stage of a running (or finished) topology: the stage's
 * tasks, the stages feeding it and the tuples its tasks took in and sent
 * on, summed over every attempt of every batch they finished; busy_ns is
 * the wall time its tasks spent handling batches (messages in, the end
 * of a batch, state writes), summed over its tasks: busy_ns / elapsed /
 * tasks is how busy the stage is (1 = saturated, Storm's "capacity").
 * The spout's emit counts only the CPU it used: a spout waits there for
 * input, which is not work. */
typedef struct sl_stage_stats {
	char name[64]; /* the name of the stage's first operation */
	uint32_t tasks;
	uint64_t upstream; /* bit i set: stage i feeds this stage (i < 64) */
	uint64_t tuples_in, tuples_out;
	uint64_t busy_ns;
} sl_stage_stats;

/* Why a batch attempt was replayed (sl_topology_live.replays_by). */
typedef enum sl_replay_reason {
	SL_REPLAY_TIMEOUT = 0, /* not committed within batch_timeout_ms */
	SL_REPLAY_FAILED, /* a task failed the attempt (a user function,
	                     the spout, a partial aggregate, a state write) */
	SL_REPLAY_COMMIT, /* writing a state's commit record failed */
	SL_REPLAY_BEHIND, /* in flight behind a replayed batch (batches
	                     commit in order: it is emitted again too) */
	SL_REPLAY_REASONS
} sl_replay_reason;

/* "timeout", "failed", "commit", "behind"; NULL past the last. */
const char *sl_replay_reason_name(int reason);

/* What a live view needs beyond sl_topology_stats. */
typedef struct sl_topology_live {
	uint32_t in_flight; /* batches emitted and not yet committed */
	uint32_t nstages; /* stages planned (0 before the first run) */
	double batch_max_ms, commit_max_ms; /* since the run started */
	char last_replay[160]; /* why the last batch was replayed, or "" */
	/* replays by reason, counted as sl_topology_stats.replays is (over
	 * every run of the topology): they sum to it */
	uint64_t replays_by[SL_REPLAY_REASONS];
} sl_topology_live;

/* Fills st. Thread-safe while running. */
int sl_topology_live_get(sl_topology *t, sl_topology_live *st);
/* Fills st for stage i (0 = the spout's stage); SL_ENOTFOUND past the
 * last stage. Thread-safe while running. */
int sl_topology_stage_get(sl_topology *t, uint32_t i, sl_stage_stats *st);

/* ---------------------------------------------------- topology objects */

/* A topology in a shared object, run by `sluice run TOPOLOGY.so` (see
 * docs/guide.md, "Write your own topology"). The object declares the ABI
 * it was built for and defines the entry point:
 *
 *     SL_TOPOLOGY_ABI_EXPORT;
 *     int sluice_topology(sl_app *app, int argc, char **argv);
 *
 * The entry point builds its streams on sl_app_topology(app, NAME) with
 * states from sl_app_state(), and returns SL_OK; the runner plans and
 * runs the topology with the command line's run options, serves DRPC,
 * statistics and metrics, and frees everything afterwards. argv[0] is the
 * object's path, then the arguments given after `--`. */
#define SL_TOPOLOGY_ABI 1
#define SL_TOPOLOGY_ABI_EXPORT                                                \
	const unsigned sluice_topology_abi = SL_TOPOLOGY_ABI
#define SL_TOPOLOGY_ENTRY      "sluice_topology"
#define SL_TOPOLOGY_ABI_SYMBOL "sluice_topology_abi"

typedef struct sl_app sl_app;
typedef int (*sl_topology_entry)(sl_app *app, int argc, char **argv);

/* The app's topology, created by the first call with name (later calls
 * return the same one). Owned by the app. NULL on out of memory. */
sl_topology *sl_app_topology(sl_app *app, const char *name);
/* A state opened as the command line says: LevelDB in the --state
 * directory itself (name NULL) or in its subdirectory name, or in memory
 * (--memory), with the configured semantics, sync and cache size. The
 * same name gives the same state. Owned by the app, closed after the
 * run. Errors as sl_state_open_leveldb; sl_errdetail() says why. */
int sl_app_state(sl_app *app, const char *name, sl_state **out);
/* Records why the topology cannot be built (printf-style; shown by the
 * runner) and returns SL_EINVAL, for `return sl_app_fail(app, ...)`. */
int sl_app_fail(sl_app *app, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A running total shown by the progress line and the statistics, e.g.
 * words read so far: fn(user) is called from other threads while the
 * topology runs. unit is borrowed (a literal). */
void sl_app_set_progress(
    sl_app *app, const char *unit, uint64_t (*fn)(void *user), void *user);

/* The host's side of an app (what `sluice run` does around a topology
 * object; a program may embed topology objects the same way): make an
 * app, dlopen the object and call its entry point with it, then plan and
 * run sl_app_get_topology(), and free the app. */

/* Returns owned (sl_app_free) an app whose states live in state_dir
 * (LevelDB; a state named NULL is the directory itself) or in memory when
 * state_dir is NULL, opened with so (copied; NULL = defaults). */
int sl_app_new(
    sl_app **out, const char *state_dir, const sl_state_options *so);
/* Frees the topology, then closes the states; accepts NULL. */
void sl_app_free(sl_app *app);
/* The topology the entry point made (owned by the app), or NULL. */
sl_topology *sl_app_get_topology(sl_app *app);
/* The name the topology was made with ("" before). Borrowed. */
const char *sl_app_name(const sl_app *app);
/* What sl_app_fail recorded, or "". Borrowed. */
const char *sl_app_error(const sl_app *app);
/* Number of states the entry point opened. */
size_t sl_app_nstates(const sl_app *app);
/* State i (owned by the app) and its name ("" for the directory itself;
 * borrowed), or NULL past the last. */
sl_state *sl_app_state_at(const sl_app *app, size_t i, const char **name);
/* The progress counter (sl_app_set_progress): 1 with *unit and *value
 * set (fn called now), 0 when there is none. */
int sl_app_progress(const sl_app *app, const char **unit, uint64_t *value);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_TRIDENT_H */
