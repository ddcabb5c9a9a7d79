/*
 * job.c - the services around a running topology, shared by `sluice run`
 * and `sluice wordcount`: the monitor (cli/monitor.c), a DRPC server that
 * answers the topology's functions and `sluice.stats`, the HTTP endpoint
 * (cli/http.c), the progress line and clean stops on SIGINT/SIGTERM.
 */
#include "job.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static sl_topology *volatile running;
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
	if (running)
		sl_topology_stop(running);
}

int sli_job_signalled(void)
{
	return got_signal;
}

int sli_job_init(sli_job *j, const char *cmd, sl_topology *t, const char *name)
{
	memset(j, 0, sizeof(*j));
	j->cmd = cmd;
	j->t = t;
	int rc = sli_monitor_start(&j->m, t, name);
	if (rc)
		fprintf(stderr, "sluice: %s: %s\n", cmd, sl_strerror(rc));
	return rc;
}

int sli_job_serve(sli_job *j, const char *drpc, const char *metrics,
    const uint8_t *key, int quiet)
{
	int rc = sli_monitor_begin(j->m);
	if (rc) {
		fprintf(stderr, "sluice: %s: %s\n", j->cmd, sl_strerror(rc));
		return rc;
	}
	if (drpc) {
		sl_drpc_options o;
		sl_drpc_options_default(&o);
		o.endpoint = drpc;
		o.cluster_key = key;
		rc = sl_drpc_server_start(
		    &j->drpc, &o, sli_monitor_drpc, j->m);
		if (rc) {
			fprintf(stderr, "sluice: %s: drpc %s: %s\n", j->cmd,
			    drpc,
			    *sl_errdetail() ? sl_errdetail()
			                    : sl_strerror(rc));
			return rc;
		}
		sli_monitor_set_drpc(j->m, j->drpc);
	}
	if (metrics) {
		rc = sli_http_start(&j->http, metrics, j->m, key);
		if (rc) {
			fprintf(stderr, "sluice: %s: %s\n", j->cmd,
			    *sl_errdetail() ? sl_errdetail()
			                    : sl_strerror(rc));
			return rc;
		}
	}
	j->tty = !quiet && isatty(2);
	running = j->t;
	sli_job_signals();
	return SL_OK;
}

void sli_job_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void sli_job_on_commit(void *user, uint64_t txid)
{
	sli_job *j = user;
	if (!j->tty)
		return;
	uint64_t now = cli_now_ns();
	if (now - j->last_ns < 250000000u)
		return;
	j->last_ns = now;
	const char *unit;
	uint64_t total;
	double r;
	sli_monitor_progress(j->m, &unit, &total, &r);
	fprintf(stderr,
	    "\r%s: %" PRIu64 " %s, %.0f %s/s, committed txid %" PRIu64
	    "\033[K",
	    j->cmd, total, unit, r, unit, txid);
}

void sli_job_serve_until_signal(sli_job *j, int rc, const char *ep, int quiet)
{
	if (!j->drpc || rc || sli_job_signalled())
		return;
	if (!quiet)
		fprintf(stderr,
		    "sluice: %s: input done; serving DRPC on %s until "
		    "SIGINT/SIGTERM\n",
		    j->cmd, ep);
	while (!sli_job_signalled())
		usleep(50000);
}

void sli_job_progress_done(sli_job *j)
{
	if (j->tty && j->last_ns)
		fputc('\n', stderr);
}

void sli_job_end(sli_job *j)
{
	running = NULL;
	sli_http_stop(j->http);
	j->http = NULL;
	if (j->m)
		sli_monitor_set_drpc(j->m, NULL);
	sl_drpc_server_stop(j->drpc);
	j->drpc = NULL;
	sli_monitor_stop(j->m);
	j->m = NULL;
}
