/* job.h - what `sluice run` and `sluice wordcount` share around a running
 * topology (cli/job.c): the monitor, the DRPC server that also answers
 * `sluice stats`, the HTTP endpoint, the progress line and the signals. */
#ifndef SLI_JOB_H
#define SLI_JOB_H

#include "monitor.h"
#include "sluice.h"

typedef struct sli_job {
	const char *cmd; /* for messages: "run", "wordcount" */
	sl_topology *t;
	sli_monitor *m;
	sl_drpc_server *drpc;
	sli_http *http;
	int tty; /* the progress line is shown */
	uint64_t last_ns;
} sli_job;

/* Starts watching t (monitor); add states and progress to j->m next. */
int sli_job_init(
    sli_job *j, const char *cmd, sl_topology *t, const char *name);
/* Serves DRPC on drpc (NULL: none) and HTTP on metrics (NULL: none),
 * installs SIGINT/SIGTERM handlers that stop t, and sets the progress
 * line (on a terminal, unless quiet). Prints the error and returns
 * non-zero when a server cannot start. key may be NULL. */
int sli_job_serve(sli_job *j, const char *drpc, const char *metrics,
    const uint8_t *key, int quiet);
/* An on_commit callback (user: the job) drawing the progress line. */
void sli_job_on_commit(void *user, uint64_t txid);
/* After a run that ended well (rc 0) with a DRPC server: says so (unless
 * quiet) and keeps answering until SIGINT/SIGTERM. */
void sli_job_serve_until_signal(sli_job *j, int rc, const char *ep, int quiet);
/* Ends the progress line (after the run). */
void sli_job_progress_done(sli_job *j);
/* Installs the SIGINT/SIGTERM handlers (early: a signal before the run
 * starts still ends the command cleanly). */
void sli_job_signals(void);
/* 1 once SIGINT or SIGTERM arrived. */
int sli_job_signalled(void);
/* Stops the servers and the monitor. */
void sli_job_end(sli_job *j);

#endif
