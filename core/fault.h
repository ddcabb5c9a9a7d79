/*
 * fault.h - the one fault hook for tests (as SQLite's sqlite3FaultSim):
 * named fault points in the engine, one call site shape
 *
 *     if (sli_fault(SLI_FAULT_COMMIT, t, txid, attempt))
 *         return replay_from(...);   (the call site decides what a fault
 *                                     means: fail, raise(SIGKILL), drop)
 *
 * and one way to arm them: sli_fault_config() from a test in the same
 * process, or the environment variable SLUICE_FAULT for a child process a
 * test forks or executes (read once, by the first sl_init()). Not public
 * API. Built with SL_UNTESTABLE (`scons --release`, `scons install`) the
 * hook is the constant 0 and the points cost nothing.
 */
#ifndef SLI_FAULT_H
#define SLI_FAULT_H

#include <stddef.h>
#include <stdint.h>

/* The fault points. a and b are what the call site passes: their meaning
 * is fixed per point (below), so that a rule can name them. Add a point
 * here, to the name table in fault.c and to docs/testing.md. */
typedef enum sli_fault_point {
	SLI_FAULT_NONE = 0,
	/* trident: a batch fails at this stage (a = txid, b = attempt) */
	SLI_FAULT_SPOUT, /* "spout": the spout's emit */
	SLI_FAULT_FUNCTION, /* "function": a user function */
	SLI_FAULT_PARTIAL, /* "partial": a partial aggregation */
	SLI_FAULT_STATE, /* "state": a task's state write */
	SLI_FAULT_COMMIT, /* "commit": writing the commit records */
	/* trident: the process dies (a = txid, b = 0) */
	SLI_FAULT_KILL_BEFORE_COMMIT, /* "kill_before_commit": SIGKILL
	                                 between state writes and commit */
	SLI_FAULT_KILL_BETWEEN_COMMITS, /* "kill_between_commits": SIGKILL
	                                   between two states' records */
	SLI_FAULT_TERM_AFTER_COMMITS, /* "term_after_commits": SIGTERM after
	                                 a = the number of commits so far */
	/* state: the apply of a batch fails (a = txid, b = partition + 1) */
	SLI_FAULT_STATE_BEFORE_WRITE, /* "state_before_write" */
	SLI_FAULT_STATE_AFTER_WRITE, /* "state_after_write" */
	/* state: its commit record fails (a = txid, b = 0) */
	SLI_FAULT_STATE_COMMIT, /* "state_commit" */
	/* plain: a frame between bolts is dropped (a = a uniform 64-bit draw
	 * of the task's seeded generator, b = component index) */
	SLI_FAULT_PLAIN_DROP, /* "plain_drop" */
	SLI_FAULT_COUNT
} sli_fault_point;

/* One rule: the point fires where it matches. obj, a and b match when 0
 * (any) or equal to what the call site passes; rate > 0 instead matches a
 * as a uniform draw, firing with that probability ((a >> 11) / 2^53 <
 * rate; points whose a is a draw only). times > 0 disarms the rule after
 * it fired that many times (1: once); 0 fires every time. */
typedef struct sli_fault_rule {
	sli_fault_point point;
	const void
	    *obj; /* the topology, state or plain instance; NULL = any */
	uint64_t a, b;
	double rate;
	uint32_t times;
} sli_fault_rule;

#ifdef SL_UNTESTABLE
#define sli_fault(point, obj, a, b) 0
#else
#include <stdatomic.h>
/* Bit p set while a rule for point p is armed (the cheap test). */
extern _Atomic uint64_t sli_fault_armed;
/* Whether an armed rule fires at this call (counts it). Thread-safe. */
int sli_fault_hit(
    sli_fault_point point, const void *obj, uint64_t a, uint64_t b);
/* 1 when point fires here, else 0. A macro: obj, a and b are evaluated
 * only while a rule for point is armed (a may draw from a generator). */
#define sli_fault(point, obj, a, b)                                           \
	((atomic_load_explicit(&sli_fault_armed, memory_order_relaxed)        \
	     >> (point)&1)                                                    \
	    && sli_fault_hit((point), (obj), (a), (b)))
#endif

/* Replaces every rule with rules[0..n) (copied; n = 0 disarms all).
 * SL_EINVAL for a bad point, SL_ENOMEM; SL_ESTATE in a build without the
 * hook (SL_UNTESTABLE). Thread-safe; points already past their test are
 * not affected. */
int sli_fault_config(const sli_fault_rule *rules, size_t n);

/* Parses a rule list as SLUICE_FAULT takes it: comma-separated
 * NAME[@A[/B]][~RATE][*TIMES], NAME a point's name above ("commit@3/1*1":
 * fail the commit of txid 3 at its first attempt, once). Fills at most
 * max rules and sets *n. SL_EINVAL (sl_errdetail() says where) for an
 * unknown name or bad syntax, SL_ELIMIT past max. Thread-safe. */
int sli_fault_parse(
    const char *spec, sli_fault_rule *rules, size_t max, size_t *n);

/* Reads SLUICE_FAULT once (called by sl_init()); a bad value is reported
 * on stderr and ends the process (a test must not pass unarmed). */
void sli_fault_init(void);

/* The name of a point ("commit"), or NULL. */
const char *sli_fault_name(sli_fault_point point);

#endif
