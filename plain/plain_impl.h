/*
 * plain_impl.h - what the files of plain/ share (plain/ only): the
 * topology, its components and tasks, and each file's part of a run.
 *
 *   plain.c   building a topology, running it (tasks, links, threads)
 *   emit.c    a task's outbound path: routing, frames, acks to the acker
 *   spout.c   the spout task: pending trees, acker replies, replays
 *   bolt.c    the bolt tasks: user functions, acks combined per tree
 *   acker.c   the XOR acker: its table (plain.h) and its task
 */
#ifndef SLI_PLAIN_IMPL_H
#define SLI_PLAIN_IMPL_H

#include "core/latency.h"
#include "plain.h"
#include "transport/transport.h"

#include <pthread.h>

enum { ST_DATA = 0, ST_ACK = 1, ST_REPLY = 2, ST_STOP = 3 };
enum { A_INIT = 0, A_ACK = 1, A_FAIL = 2 };

typedef struct comp {
	char *name;
	int input; /* component index, -1 for the spout */
	sl_grouping g;
	sli_grouping grouping;
	sl_fields *out;
	uint32_t ntasks;
	sl_plain_bolt_fn fn;
	void *user;
} comp;

typedef struct ptask ptask;

typedef struct pout {
	int comp;
	sli_link **links;
	sli_frame_writer *w;
	uint32_t n;
	sli_grouping g;
} pout;

struct sl_plain_collector {
	ptask *k;
	uint64_t root, xor_ids;
	int err;
	int fatal; /* err is a bug in the topology (wrong arity) */
};

struct ptask {
	sl_plain *p;
	int comp;
	uint32_t idx, gid;
	pthread_t th;
	sli_link *in, *to_acker;
	sli_frame_writer ackw;
	pout *outs;
	size_t nouts;
	uint64_t rng;
	uint32_t ends;
	/* bolts: acks of the current input frame, per root */
	uint64_t *ack_root, *ack_val;
	size_t nacks, cacks;
	/* spout: pending trees, msgid -> emit time */
	uint64_t *pk, *pv;
	size_t pcap, pn;
};

struct sl_plain {
	sl_plain_options o;
	comp *c;
	size_t nc;
	const sl_plain_spout *spout;
	void *spout_self;
	ptask **tasks;
	uint32_t ntasks;
	char url[64];
	pthread_mutex_t lock;
	sl_plain_stats st;
	sli_latency lat; /* tree latencies, ms (core/latency.h) */
	uint64_t start_ns, end_ns;
	_Atomic int acker_stop;
	int run_err; /* the first spout failure (under lock), and its detail */
	char run_msg[512];
	_Atomic int halt; /* a bolt failed in a way no replay heals */
	int build_err; /* the first failed set_spout/add_bolt */
	char build_msg[512];
};

/* Records the first failure that stops the spout, for sl_plain_run. */
void sli_plain_record_err(sl_plain *p, int rc);

static inline uint64_t sli_plain_rnd(ptask *k)
{
	/* xorshift64*: fast ids; seeded per task */
	k->rng ^= k->rng >> 12;
	k->rng ^= k->rng << 25;
	k->rng ^= k->rng >> 27;
	uint64_t v = k->rng * 0x2545f4914f6cdd1dull;
	return v ? v : 1;
}

/* ---- emit.c ---- */
/* Sends w's frame on l and begins the next one (same header, empty). */
int sli_plain_send_frame(sli_link *l, sli_frame_writer *w);
/* Flushes task k's partial frames (data and acks). */
int sli_plain_flush(ptask *k);
/* Adds one message (n values) for the acker to k's ack frame. */
int sli_plain_to_acker(ptask *k, const sl_value *v, size_t n);
/* Routes one tuple (values + anchor root) to every subscriber; *xor_ids
 * gathers the ids of the tuples created. */
int sli_plain_route(
    ptask *k, const sl_value *v, size_t n, uint64_t root, uint64_t *xor_ids);
/* Sends the end marker to every task downstream of k. */
int sli_plain_send_end(ptask *k);

/* ---- the tasks' threads ---- */
void *sli_plain_spout_main(void *task); /* spout.c */
void *sli_plain_bolt_main(void *task); /* bolt.c */
void *sli_plain_acker_main(void *task); /* acker.c */

#endif
