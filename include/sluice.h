/*
 * sluice.h - the one public header of sluice, a small exactly-once stream
 * processor: a tuple transport, a Trident-style transactional micro-batch
 * layer with LevelDB state, DRPC queries and a plain tuple mode.
 *
 * Conventions: every function that can fail returns an int, SL_OK (0) or a
 * negative SL_E* code (sl_strerror() names it); results go through
 * out-parameters. Handles are opaque; each _new/_open has one _free/_close
 * that accepts NULL. Each declaration says who owns what and whether it is
 * thread-safe.
 */
#ifndef SLUICE_H
#define SLUICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SL_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------- errors */

enum {
	SL_OK = 0,
	SL_ENOMEM = -1, /* out of memory */
	SL_EINVAL = -2, /* invalid argument or configuration */
	SL_EIO = -3, /* I/O error (file, socket, LevelDB) */
	SL_ECORRUPT = -4, /* stored data or frame is corrupt */
	SL_ENOTFOUND = -5, /* no such key, file, field or function */
	SL_ELOCKED = -6, /* data directory locked by another process */
	SL_EVERSION = -7, /* unsupported format or protocol version */
	SL_ETIMEDOUT = -8, /* operation timed out */
	SL_ECRYPTO = -9, /* authentication of a sealed frame failed */
	SL_ESTALE = -10, /* txid or attempt older than expected */
	SL_EFULL = -11, /* queue or buffer full (backpressure) */
	SL_ETRUNC = -12, /* input ends before a complete item */
	SL_EOVERFLOW = -13, /* a length or count field overflows */
	SL_EPROTO = -14, /* protocol violation (bad magic, kind, ...) */
	SL_ECLOSED = -15, /* link or topology closed */
	SL_ENOSPC = -16, /* no space left on device */
	SL_EPERM = -17, /* permission denied */
	SL_EFAILED = -18, /* a batch failed (user function or injected) */
	SL_ESTATE = -19, /* call not valid in the object's current state */
	SL_EAGAIN = -20, /* nothing available now; try again */
	SL_ELIMIT = -21 /* a configured limit was reached */
};

/* Returns a static, human-readable name for an SL_* code. Thread-safe. */
const char *sl_strerror(int code);

/* Detail of the last error in the calling thread (a file name, a LevelDB
 * message, the field that was missing...), or "" when there is none.
 * Borrowed; valid until the next sluice call in this thread. */
const char *sl_errdetail(void);

/* Initialises the library (libsodium). Called implicitly by every
 * constructor; safe to call many times from any thread. */
int sl_init(void);

/* ---------------------------------------------------------------- values */

typedef enum sl_type {
	SL_NULL = 0,
	SL_INT = 1,
	SL_DOUBLE = 2,
	SL_BYTES = 3
} sl_type;

/* A tagged scalar. SL_BYTES values borrow their bytes: the pointer is valid
 * as long as whatever it points into (a frame, an input line, an arena). */
typedef struct sl_value {
	uint8_t type; /* sl_type */
	uint32_t len; /* SL_BYTES only */
	union {
		int64_t i;
		double d;
		const uint8_t *p;
	} u;
} sl_value;

/* Largest SL_BYTES value the codecs accept (16 MiB - 1). */
#define SL_MAX_BYTES ((1u << 24) - 1)
/* Largest number of values in one tuple. */
#define SL_MAX_FIELDS 64

static inline sl_value sl_null(void)
{
	sl_value v = { SL_NULL, 0, { 0 } };
	return v;
}
static inline sl_value sl_int(int64_t i)
{
	sl_value v = { SL_INT, 0, { 0 } };
	v.u.i = i;
	return v;
}
static inline sl_value sl_double(double d)
{
	sl_value v = { SL_DOUBLE, 0, { 0 } };
	v.u.d = d;
	return v;
}
/* Borrows p (len bytes). */
static inline sl_value sl_bytes(const void *p, uint32_t len)
{
	sl_value v = { SL_BYTES, 0, { 0 } };
	v.len = len;
	v.u.p = (const uint8_t *)p;
	return v;
}
/* Borrows the NUL-terminated s (the NUL is not part of the value). */
sl_value sl_str(const char *s);

/* 1 when a and b have the same type and content (NaN equals NaN bitwise). */
int sl_value_equal(const sl_value *a, const sl_value *b);

/* ---------------------------------------------------------------- tuples */

/* A field schema: an ordered list of field names. Names are resolved to
 * indexes when a topology is built, never per tuple. */
typedef struct sl_fields sl_fields;

/* Returns owned (free with sl_fields_free) a schema of n names (copied).
 * SL_EINVAL for an empty name or a name given twice. */
int sl_fields_new(sl_fields **out, size_t n, const char *const *names);
/* Returns owned; names is a NULL-terminated list: sl_fields_of("a","b",0).
 * Returns NULL on out of memory. */
sl_fields *sl_fields_of(const char *first, ...);
/* Returns owned the schema of a comma-separated list ("a,b"; NULL or ""
 * gives no fields). SL_EINVAL for more than SL_MAX_FIELDS names. */
int sl_fields_parse(sl_fields **out, const char *list);
void sl_fields_free(sl_fields *f);
size_t sl_fields_count(const sl_fields *f);
/* Borrowed name of field i (valid while f lives). */
const char *sl_fields_name(const sl_fields *f, size_t i);
/* Index of the field named name, or SL_ENOTFOUND. */
int sl_fields_index(const sl_fields *f, const char *name);

/* A tuple as user callbacks see it: n values, borrowed. */
typedef struct sl_tuple {
	const sl_value *v;
	size_t n;
} sl_tuple;

/* ------------------------------------------------------- keyed hashing */

/* Keyed 64-bit hash (libsodium crypto_shorthash, SipHash-2-4) of bytes.
 * key is 16 bytes or NULL for the process-wide default key. Thread-safe. */
uint64_t sl_hash(const uint8_t key[16], const void *p, size_t len);
/* Hash of a value (type tag included). */
uint64_t sl_value_hash(const uint8_t key[16], const sl_value *v);

/* Size of a cluster key in bytes (XChaCha20-Poly1305 key). */
#define SL_KEY_BYTES 32

/* Parses a cluster key from 64 hex digits into out. SL_EINVAL on bad
 * input (the message never contains the key). */
int sl_key_from_hex(uint8_t out[SL_KEY_BYTES], const char *hex);
/* Reads a cluster key file: 64 hex digits, surrounding whitespace allowed
 * (e.g. made with `head -c32 /dev/urandom | xxd -p -c32 > key; chmod 600
 * key`). SL_ENOTFOUND / SL_EIO when it cannot be read, SL_EPERM when the
 * file is readable by group or others, SL_EINVAL when its content is not
 * a key; sl_errdetail() names the file, never the key. Thread-safe. */
int sl_key_from_file(uint8_t out[SL_KEY_BYTES], const char *path);


/* ------------------------------------------------------------ combiners */

/* An associative, commutative fold used by aggregators and state updates:
 * out = combine(a, b). zero is the identity. The output may borrow the
 * bytes of a or b. Must be thread-safe for concurrent calls. */
typedef struct sl_combiner {
	const char *name;
	int (*combine)(
	    void *user, const sl_value *a, const sl_value *b, sl_value *out);
	sl_value zero;
	void *user;
} sl_combiner;

/* Built-in combiners (static, never freed). Count folds per-tuple 1s;
 * Sum/Min/Max work on int and double values (int + double -> double);
 * nulls are skipped. Min/Max compare ints and doubles exactly (2^53 + 1
 * is above 2^53), sort NaN above every number and -0.0 below 0.0, and
 * keep the int of an equal int and double, so the result never depends
 * on the order of the tuples. */
const sl_combiner *sl_combiner_count(void);
const sl_combiner *sl_combiner_sum(void);
const sl_combiner *sl_combiner_min(void);
const sl_combiner *sl_combiner_max(void);

/* ---------------------------------------------------------------- state */

/* Update semantics of a map state (docs/guide.md, design "State"). */
typedef enum sl_semantics {
	SL_SEM_NONE = 0, /* val = f(val, delta): replays overcount */
	SL_SEM_TRANSACTIONAL = 1, /* (txid, val): skip a replayed txid */
	SL_SEM_OPAQUE = 2 /* (txid, prev, curr): recompute on replay */
} sl_semantics;

/* Parses "none" | "transactional" | "opaque". SL_EINVAL otherwise. */
int sl_semantics_parse(const char *s, sl_semantics *out);
const char *sl_semantics_name(sl_semantics s);

typedef struct sl_state_options {
	sl_semantics semantics; /* default SL_SEM_OPAQUE */
	int sync; /* fsync each batch's write; default 1 */
	size_t cache_entries; /* cached records per partition (CLOCK); default
	                         100000 */
	int read_only; /* open for reading (state tools); default 0 */
	int create; /* create the directory if missing; default 1 */
} sl_state_options;

/* Fills o with the defaults above. */
void sl_state_options_default(sl_state_options *o);

/* A map state: key bytes -> value, with update semantics, a commit record
 * and per-txid metadata. One handle per directory. */
typedef struct sl_state sl_state;

/* Opens (or creates) a LevelDB state in dir and locks it: SL_ELOCKED when
 * another process holds it, SL_EVERSION when written by a newer format,
 * SL_ECORRUPT, SL_EPERM, SL_EIO (sl_errdetail() names the file/reason).
 * A state created with one semantics refuses another (SL_EINVAL).
 * Returns owned (sl_state_close). */
int sl_state_open_leveldb(
    sl_state **out, const char *dir, const sl_state_options *o);
/* A state in memory (tests, benchmarks). Returns owned. */
int sl_state_open_memory(sl_state **out, const sl_state_options *o);
/* Closes and frees; accepts NULL. */
void sl_state_close(sl_state *s);

/* The committed value of key (never a half-committed batch). For SL_BYTES
 * results the bytes live in a thread-local buffer valid until the next call
 * in this thread. SL_ENOTFOUND when the key has no value. Thread-safe:
 * may run concurrently with batches being written and committed. */
int sl_state_get(sl_state *s, const void *key, size_t klen, sl_value *out);
/* State keys. The group values of a group_by are stored under a typed,
 * injective key (docs/state-format.md): the int 5 and the string "5", or
 * ("a\x1f","b") and ("a","\x1fb"), are different keys. Build keys for
 * sl_state_get with sl_state_key, or use sl_state_get_group.
 * Writes the key of the n values v into buf (cap bytes) and its length
 * into *len; SL_EFULL (with *len set to the size needed) when cap is too
 * small, SL_EINVAL for a bad value type. Thread-safe. */
int sl_state_key(
    const sl_value *v, size_t n, uint8_t *buf, size_t cap, size_t *len);
/* Decodes a key (e.g. from sl_state_foreach) into at most max values and
 * their number *n; SL_BYTES values borrow key. SL_ECORRUPT when it is not
 * a key, SL_ELIMIT when it holds more than max values. Thread-safe. */
int sl_state_key_values(
    const uint8_t *key, size_t klen, sl_value *v, size_t max, size_t *n);
/* sl_state_get of the key made of the n group values key[]. */
int sl_state_get_group(
    sl_state *s, const sl_value *key, size_t n, sl_value *out);
/* Last committed txid (0 when none). Thread-safe. */
int sl_state_last_committed(sl_state *s, uint64_t *txid);
/* Calls fn for each key (see sl_state_key_values) with a committed value,
 * in key byte order; stops
 * early when fn returns non-zero (returned). Key/value borrowed for the
 * call. Thread-safe. */
int sl_state_foreach(sl_state *s,
    int (*fn)(void *user, const uint8_t *key, size_t klen, const sl_value *v),
    void *user);

typedef struct sl_state_stats {
	uint64_t keys; /* keys with a committed value */
	uint64_t last_committed; /* txid */
	uint64_t disk_bytes; /* size of the directory's files */
	sl_semantics semantics;
	uint32_t format_version;
	/* 1 after a repair that dropped records: the counts may miss input
	 * of txids up to repaired_txid (docs/errors.md says what to do) */
	int repaired;
	uint64_t repaired_txid; /* last committed txid when repaired */
	uint64_t repaired_at; /* unix seconds */
} sl_state_stats;
/* Fills st (scans every key). Thread-safe. */
int sl_state_stats_get(sl_state *s, sl_state_stats *st);

/* Rewrites a state directory of an older format (format 1: untyped keys,
 * which sl_state_open_leveldb refuses with SL_EVERSION) to the current
 * one, in one atomic write, keeping values, txids and the commit record.
 * Format 1 kept a group as text (numbers in decimal, fields joined by
 * 0x1f); types[0..ntypes) says what each field of the group was
 * (SL_BYTES, SL_INT or SL_DOUBLE; NULL = one SL_BYTES field). A key that
 * does not read as those types is an error (nothing is written). The
 * records of touched keys are rewritten too, so the next run rolls back a
 * batch that never committed as it would have. SL_ELOCKED while another
 * process holds dir; SL_OK with *upgraded = 0 when dir is already
 * current. Not thread-safe with other users of dir. */
int sl_state_upgrade(const char *dir, const sl_type *types, size_t ntypes,
    uint64_t *keys, int *upgraded);

/* Runs LevelDB's repair on an unopened state directory. Repair may drop
 * data from damaged files: back the directory up first. Takes the
 * directory's lock (SL_ELOCKED while a topology or tool holds it);
 * SL_ENOTFOUND / SL_EINVAL for a path that is not a state directory
 * (nothing is created). When records were lost, the state is marked
 * repaired (sl_state_stats.repaired). */
int sl_state_repair(const char *dir);

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
void sl_topology_free(sl_topology *t);
int sl_topology_error(const sl_topology *t);
const char *sl_topology_errmsg(const sl_topology *t);

/* A stream fed by a spout with output fields. Takes self (ops->free).
 * Each topology has at most one spout stream. A NULL self with an
 * ops->free (every built-in spout: what a failed constructor leaves) is
 * refused with SL_EINVAL (sl_topology_error). */
sl_stream *sl_topology_new_stream(sl_topology *t, const char *name,
    const sl_spout_ops *ops, void *self, const char *fields);
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
 * sl_topology_errmsg()). Blocks. */
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

/* ---------------------------------------------------------------- spouts */

/* Fixed batches: batch i is tuples [starts[i], starts[i+1]) of values
 * (arity each, copied). cycle repeats forever. Returns owned self for
 * sl_topology_new_stream with sl_spout_fixed_ops. */
extern const sl_spout_ops sl_spout_fixed_ops;
int sl_spout_fixed_new(void **out, size_t arity, const sl_value *values,
    const size_t *starts, size_t nbatches, int cycle);
/* Random sentences (Storm's example), seeded; n sentences in all (0 =
 * forever). Field: "sentence". */
extern const sl_spout_ops sl_spout_sentence_ops;
int sl_spout_sentence_new(void **out, uint64_t seed, uint64_t n);
/* Lines of a file (path "-" = stdin), transactional: each batch is a
 * byte range recorded per txid. Field: "line". */
extern const sl_spout_ops sl_spout_file_ops;
int sl_spout_file_new(void **out, const char *path);
/* Follow mode: an unterminated last line is held back until its newline
 * arrives, and the spout waits for the file to grow instead of ending
 * (stop the topology to end). Default off: a finished file's last line
 * is counted as awk does, and a later run refuses the file if that line
 * has grown since. */
void sl_spout_file_follow(void *self, int on);
/* Lines the spout read so far in new batches (for statistics). */
uint64_t sl_spout_file_lines(void *self);
/* Cut batches at the batch size counted in words instead of lines. */
void sl_spout_file_count_words(void *self, int on);
/* Words (see sl_spout_file_count_words) the spout read so far in new
 * batches. */
uint64_t sl_spout_file_words(void *self);
/* Opaque partitioned spout over nparts in-memory partitions of lines; a
 * script may decide what each attempt of a txid emits (tests). */
extern const sl_spout_ops sl_spout_partitioned_ops;
typedef int (*sl_partition_script)(void *user, uint64_t txid, uint32_t attempt,
    uint32_t part, size_t start, size_t avail, size_t *count);
int sl_spout_partitioned_new(void **out, uint32_t nparts,
    const char *const *lines, const size_t *nlines, sl_partition_script script,
    void *user);
/* Appends a line to partition part (the source grows). Thread-safe. */
int sl_spout_partitioned_append(void *self, uint32_t part, const char *line);
/* Opaque socket spout: a nanomsg PULL socket bound at endpoint; each
 * message is one line. Field: "line". */
extern const sl_spout_ops sl_spout_socket_ops;
int sl_spout_socket_new(void **out, const char *endpoint);

/* ---------------------------------------------------------------- DRPC */

/* A DRPC function handler: computes the result of function on args (not
 * NUL-terminated). SL_ENOTFOUND for an unknown function. SL_BYTES results
 * must stay valid until the handler returns to the server (thread-local
 * buffers are fine). Called from several server threads at once. */
typedef int (*sl_drpc_fn)(void *user, const char *function,
    const uint8_t *args, size_t len, sl_value *result);

typedef struct sl_drpc_options {
	const char *endpoint; /* default tcp://127.0.0.1:3772 */
	/* SL_KEY_BYTES, borrowed for the server's life; required off
	 * loopback. When set, only requests sealed with it are answered
	 * (sl_drpc_call_keyed), on any endpoint. */
	const uint8_t *cluster_key;
	int timeout_ms; /* per request; default 5000 */
	uint32_t workers; /* handler threads; default 4 */
	uint32_t max_queue; /* requests queued or running; default 64 */
	size_t max_request; /* bytes; default 65536 */
} sl_drpc_options;

void sl_drpc_options_default(sl_drpc_options *o);

typedef struct sl_drpc_server sl_drpc_server;

/* Starts a DRPC server (nanomsg REP) answering with fn. Requests are
 * `FUNCTION` TAB `ARGS`; replies one JSON document, {"result": ...} or
 * {"error": "..."} (docs/drpc.md). SL_EPERM when the endpoint is not on
 * loopback and no cluster key is given. Raises the process's soft
 * open-files limit to its hard limit and keeps its connections within
 * half of the free descriptors (at most 4096): SL_ELIMIT when that is
 * fewer than 8. Returns owned. */
int sl_drpc_server_start(
    sl_drpc_server **out, const sl_drpc_options *o, sl_drpc_fn fn, void *user);
/* Serves the DRPC streams of topology t (sl_topology_drpc_call). */
int sl_drpc_server_start_topology(
    sl_drpc_server **out, const sl_drpc_options *o, sl_topology *t);
/* Stops answering and frees; accepts NULL. A handler still blocked past
 * its timeout is abandoned (its thread is detached). */
void sl_drpc_server_stop(sl_drpc_server *s);

typedef struct sl_drpc_stats {
	uint64_t requests, answered, errors, timeouts, busy, bad_requests;
	uint64_t auth_failures; /* unsealed, forged or stale requests */
	/* times every connection was dropped because the server held as
	 * many as its descriptors allow (docs/drpc.md, "Connections") */
	uint64_t connection_drops;
} sl_drpc_stats;
int sl_drpc_server_stats(sl_drpc_server *s, sl_drpc_stats *st);

/* Calls function with args on the server at endpoint; *reply_json is the
 * reply (returns owned, free()). SL_ETIMEDOUT after timeout_ms. */
int sl_drpc_call(const char *endpoint, const char *function, const char *args,
    int timeout_ms, char **reply_json);
/* Like sl_drpc_call with a cluster key (SL_KEY_BYTES, borrowed; NULL
 * behaves as sl_drpc_call): the request is sealed with a key derived from
 * it and stamped with the time, and the reply must come sealed by a
 * server holding the same key and bound to this request (docs/drpc.md,
 * "Cluster key"). SL_ECRYPTO when it does not; sl_errdetail() then says
 * why, quoting an unsealed reply. Thread-safe. */
int sl_drpc_call_keyed(const char *endpoint, const uint8_t *cluster_key,
    const char *function, const char *args, int timeout_ms, char **reply_json);

/* ------------------------------------------------------ live statistics */

/* Counters of one stage of a running (or finished) topology: the stage's
 * tasks, the stages feeding it and the tuples its tasks took in and sent
 * on, summed over every attempt of every batch they finished. */
typedef struct sl_stage_stats {
	char name[64]; /* the name of the stage's first operation */
	uint32_t tasks;
	uint64_t upstream; /* bit i set: stage i feeds this stage (i < 64) */
	uint64_t tuples_in, tuples_out;
} sl_stage_stats;

/* What a live view needs beyond sl_topology_stats. */
typedef struct sl_topology_live {
	uint32_t in_flight; /* batches emitted and not yet committed */
	uint32_t nstages; /* stages planned (0 before the first run) */
	double batch_max_ms, commit_max_ms; /* since the run started */
	char last_replay[160]; /* why the last batch was replayed, or "" */
} sl_topology_live;

/* Fills st. Thread-safe while running. */
int sl_topology_live_get(sl_topology *t, sl_topology_live *st);
/* Fills st for stage i (0 = the spout's stage); SL_ENOTFOUND past the
 * last stage. Thread-safe while running. */
int sl_topology_stage_get(sl_topology *t, uint32_t i, sl_stage_stats *st);

/* Cheap counters of a state (no scan): record cache hits and misses of
 * the batch writes, keys created since it was opened, size on disk. */
typedef struct sl_state_counters {
	uint64_t cache_hits, cache_misses;
	uint64_t keys_created;
	uint64_t disk_bytes;
} sl_state_counters;
/* Fills c. Thread-safe. */
int sl_state_counters_get(sl_state *s, sl_state_counters *c);

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

/* ---------------------------------------------------------- plain mode */

/* Storm-core-like spouts and bolts over the same transport, one tuple at a
 * time: at-most-once with acking off, at-least-once with XOR acking on
 * (docs/plain.md). Components form a graph by name; each runs as
 * `parallelism` task threads; tuples travel in frames of many tuples. */
typedef struct sl_plain sl_plain;
typedef struct sl_plain_collector sl_plain_collector;

typedef enum sl_grouping {
	SL_GROUP_SHUFFLE = 0,
	SL_GROUP_FIELDS = 1,
	SL_GROUP_ALL = 2,
	SL_GROUP_GLOBAL = 3
} sl_grouping;

typedef struct sl_plain_spout {
	const char *name;
	/* Emits at most one tuple with sl_plain_spout_emit. Returns SL_OK,
	 * SL_EAGAIN when nothing is ready now, or SL_ECLOSED when the
	 * source is exhausted (it is asked again while trees are pending,
	 * since a fail may make it replay). */
	int (*next_tuple)(void *self, sl_plain_collector *c);
	/* The tree of msgid completed / failed or timed out. */
	void (*ack)(void *self, uint64_t msgid);
	void (*fail)(void *self, uint64_t msgid);
} sl_plain_spout;

/* A bolt: emits tuples anchored to in with sl_plain_emit; returning a
 * negative code fails in (its tree is replayed when acking is on),
 * anything else acks it. */
typedef int (*sl_plain_bolt_fn)(
    void *user, const sl_tuple *in, sl_plain_collector *c);

typedef struct sl_plain_options {
	int acking; /* default 1 */
	int message_timeout_ms; /* default 30000 */
	uint32_t max_spout_pending; /* trees in flight; default 10000 */
	size_t frame_tuples; /* default 1024 */
	uint64_t seed; /* for ids (and the tests' injected drops); 0 = random */
} sl_plain_options;

void sl_plain_options_default(sl_plain_options *o);
/* Returns owned (sl_plain_free). */
int sl_plain_new(sl_plain **out, const sl_plain_options *o);
void sl_plain_free(sl_plain *p);
/* The spout (one task). self is borrowed. */
int sl_plain_set_spout(sl_plain *p, const char *name,
    const sl_plain_spout *ops, void *self, const char *fields);
/* A bolt reading component input with a grouping (group_fields for
 * SL_GROUP_FIELDS). user is shared by its tasks (see
 * sl_plain_task_index). */
int sl_plain_add_bolt(sl_plain *p, const char *name, const char *input,
    sl_grouping g, const char *group_fields, sl_plain_bolt_fn fn, void *user,
    const char *out_fields, uint32_t parallelism);
/* A ready-made bolt: splits its input field into words (as
 * sl_fn_split_words). */
int sl_plain_split_words(
    void *user, const sl_tuple *in, sl_plain_collector *c);
int sl_plain_spout_emit(
    sl_plain_collector *c, uint64_t msgid, const sl_value *v, size_t n);
int sl_plain_emit(sl_plain_collector *c, const sl_value *v, size_t n);
/* The index of the task running the callback (0..parallelism-1). */
uint32_t sl_plain_task_index(const sl_plain_collector *c);
/* Runs until the spout is exhausted and every tree completed (acking on)
 * or every tuple was processed or dropped (acking off). When the spout
 * fails (next_tuple returns an error other than SL_EAGAIN/SL_ECLOSED),
 * the run stops and returns that error, its detail in sl_errdetail().
 * A bolt that emits the wrong number of values stops the run with
 * SL_EINVAL; after a failed sl_plain_set_spout / sl_plain_add_bolt the
 * run does not start and returns that first error. */
int sl_plain_run(sl_plain *p);

typedef struct sl_plain_stats {
	uint64_t emitted, acked, failed, timed_out, replayed;
	uint64_t dropped_frames, lost_tuples, max_pending_seen;
	double latency_p50_ms, latency_p99_ms, elapsed_s;
} sl_plain_stats;
int sl_plain_stats_get(sl_plain *p, sl_plain_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_H */
