/* monitor_impl.h - the inside of the monitor (cli/monitor.c), shared with
 * the Prometheus exposition (cli/prometheus.c) only. */
#ifndef SLI_MONITOR_IMPL_H
#define SLI_MONITOR_IMPL_H

#include "monitor.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define MAX_STAGES 16
#define HIST       600 /* samples, one a second */

typedef struct sample {
	double t; /* seconds since the monitor started */
	uint64_t txid, batches, tuples, replays, progress;
	double batch_p50, batch_p99, commit_p50, commit_p99;
	uint64_t in[MAX_STAGES], out[MAX_STAGES], busy[MAX_STAGES];
} sample;

typedef struct mstate {
	char name[64];
	sl_state *s;
	int counted; /* keys at start known */
	uint64_t base_keys, base_created;
} mstate;

struct sli_monitor {
	sl_topology *t;
	char name[64];
	mstate st[16];
	size_t nst;
	const char *unit;
	uint64_t (*progress)(void *user);
	void *puser;
	sl_drpc_server *_Atomic drpc; /* set and cleared while served */
	uint64_t start_ns;
	pthread_t th;
	_Atomic int stop;
	pthread_mutex_t lock;
	sample ring[HIST];
	size_t n; /* samples taken */
};

/* The rate of a counter that went from b to a over dt seconds (0 when
 * dt is not positive or the counter went back). */
static inline double sli_rate(uint64_t a, uint64_t b, double dt)
{
	return dt > 0 && a >= b ? (double)(a - b) / dt : 0;
}

typedef struct figures {
	sl_topology_stats ts;
	sl_topology_live lv;
	sample now, s1, s60;
	int have;
	double uptime;
} figures;

/* The figures now and the samples 1 s and 60 s before (starts the
 * sampler if it is not running). Thread-safe. */
void sli_monitor_gather(sli_monitor *m, figures *f);
/* The keys of state ms given its counters c; *known 0 when they were not
 * counted at the start (the store was too large to scan). */
uint64_t sli_monitor_state_keys(
    sli_monitor *m, mstate *ms, const sl_state_counters *c, int *known);

#endif
