/* topology_int.h - the topology object and the executor's structures
 * (trident/ only). */
#ifndef SLI_TOPOLOGY_INT_H
#define SLI_TOPOLOGY_INT_H

#include "core/latency.h"
#include "trident.h"

typedef struct task task;

typedef struct tstage {
	int id;
	sl_stream *entry; /* the node that starts the stage */
	uint32_t ntasks;
	task **tasks;
	uint32_t nsources; /* upstream tasks feeding this stage */
	int *upstream; /* stage ids */
	size_t nupstream;
} tstage;

/* Live counters of one stage (trident/live.c); tasks add to them. */
typedef struct lstage {
	sl_stage_stats s; /* name, tasks, upstream */
	_Atomic uint64_t in, out;
} lstage;

typedef struct inflight {
	uint64_t txid;
	uint32_t attempt;
	int phase; /* 0 emitted, 1 writing */
	uint32_t done;
	uint32_t written;
	uint64_t emit_ns, first_emit_ns, write_ns;
	int eof, spout_done;
	uint64_t tuples;
	sli_buf meta;
} inflight;

struct sl_topology {
	char *name;
	sl_stream **nodes;
	size_t nnodes;
	sl_stream *spout;
	int err;
	char errmsg[512];
	int running;
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
	/* hooks */
	_Atomic int fail_stage;
	/* armed from any thread (a test's on_commit), read by tasks */
	_Atomic uint64_t fail_txid;
	_Atomic uint32_t fail_attempt;
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
};

/* trident/live.c: builds the live counters of the planned stages (at the
 * start of a run). */
int sli_live_plan(sl_topology *t);
/* A task of stage finished a batch: in tuples taken, out sent on. */
void sli_live_count(sl_topology *t, int stage, uint64_t in, uint64_t out);
/* A batch committed with these latencies. */
void sli_live_latency(sl_topology *t, double commit_ms, double batch_ms);
/* A batch is replayed because of why. */
void sli_live_replay(sl_topology *t, const char *why);

#endif
