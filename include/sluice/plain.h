/*
 * sluice/plain.h - plain mode: Storm-core-like spouts and bolts, one tuple
 * at a time, at-most-once or at-least-once with XOR acking.
 * Part of the public API; <sluice.h> includes every part. Conventions as
 * there: int results (SL_OK or a negative SL_E* code), opaque handles,
 * ownership and thread-safety stated per declaration.
 */
#ifndef SLUICE_PLAIN_H
#define SLUICE_PLAIN_H

#include "sluice/core.h"

#ifdef __cplusplus
extern "C" {
#endif

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
	uint64_t
	    seed; /* for ids (and the tests' injected drops); 0 = random */
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
#endif /* SLUICE_PLAIN_H */
