/* monitor.h - the live view of a running job (cli/ only): a sampler
 * thread keeps the last minutes of figures; they are served as JSON (the
 * `sluice.stats` DRPC function, /stats.json), as Prometheus text
 * (/metrics) and as a status page (cli/http.c). */
#ifndef SLI_MONITOR_H
#define SLI_MONITOR_H

#include "sluice.h"

#include <stdint.h>
#include <time.h>

/* Monotonic clock in nanoseconds (the job's and the sampler's). */
static inline uint64_t cli_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct sli_monitor sli_monitor;

/* The DRPC function that answers the statistics (`sluice stats`). */
#define SLI_STATS_FN "sluice.stats"

/* Starts watching t (borrowed; must outlive the monitor). Returns
 * owned (sli_monitor_stop). */
int sli_monitor_start(sli_monitor **out, sl_topology *t, const char *name);
/* A state to report (borrowed) under name ("" for the only one). */
int sli_monitor_add_state(sli_monitor *m, const char *name, sl_state *s);
/* The running total of unit ("words"): fn(user), from the sampler. */
void sli_monitor_set_progress(
    sli_monitor *m, const char *unit, uint64_t (*fn)(void *user), void *user);
/* The DRPC server whose counters to report (borrowed, may be NULL). */
void sli_monitor_set_drpc(sli_monitor *m, sl_drpc_server *s);
/* Starts sampling (once the states and progress are set). */
int sli_monitor_begin(sli_monitor *m);
/* Stops the sampler and frees; accepts NULL. */
void sli_monitor_stop(sli_monitor *m);

/* The current figures as one JSON object (returns owned, free()). */
char *sli_monitor_json(sli_monitor *m);
/* The samples of the last minutes for charts (returns owned). */
char *sli_monitor_history_json(sli_monitor *m);
/* The figures in the Prometheus text format (returns owned). */
char *sli_monitor_prometheus(sli_monitor *m);
/* Progress line figures: the total of the unit and its rate over the
 * last second. */
void sli_monitor_progress(
    sli_monitor *m, const char **unit, uint64_t *total, double *rate);

/* A DRPC handler (user: the monitor) answering SLI_STATS_FN and passing
 * every other function to the topology. */
int sli_monitor_drpc(void *user, const char *function, const uint8_t *args,
    size_t len, sl_value *result);

/* cli/http.c: serves /metrics, /stats.json, /history.json and the status
 * page on addr ("HOST:PORT"). Off loopback a cluster key is required and
 * requests must carry `Authorization: Bearer TOKEN` (sli_http_token). */
typedef struct sli_http sli_http;
int sli_http_start(sli_http **out, const char *addr, sli_monitor *m,
    const uint8_t *cluster_key);
void sli_http_stop(sli_http *h);
/* The bearer token for a cluster key: 64 hex digits + NUL. */
void sli_http_token(char out[65], const uint8_t *cluster_key);

#endif
