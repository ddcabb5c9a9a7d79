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
	uint64_t fail_txid;
	uint32_t fail_attempt;
	int (*done_delay)(void *user, uint64_t txid);
	void *done_delay_user;
	/* stats */
	pthread_mutex_t stats_lock;
	uint64_t batches_committed, replays, tuples, empty_batches;
	uint64_t last_committed;
	sli_latency lat_commit, lat_batch; /* ms, core/latency.h */
	uint64_t start_ns, end_ns;
};

#endif
