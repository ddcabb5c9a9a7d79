/*
 * prometheus.c - the monitor's figures (cli/monitor.c) in the Prometheus
 * text exposition format, version 0.0.4, for /metrics (cli/http.c).
 */
#include "monitor_impl.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pbuf {
	FILE *f; /* open_memstream over data */
	char *data;
	size_t len;
	const char *topo;
} pbuf;

static void pf(pbuf *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void pf(pbuf *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(p->f, fmt, ap);
	va_end(ap);
}

static void head(pbuf *p, const char *name, const char *type, const char *help)
{
	pf(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample of a metric without extra labels. */
static void one(
    pbuf *p, const char *name, const char *type, const char *help, double v)
{
	head(p, name, type, help);
	pf(p, "%s{topology=\"%s\"} %.17g\n", name, p->topo, v);
}

/* Label values: the names are ours or the user's; escape \ " and \n. */
static void esc(char *out, size_t n, const char *s)
{
	size_t o = 0;
	for (; *s && o + 3 < n; s++) {
		if (*s == '\\' || *s == '"') {
			out[o++] = '\\';
			out[o++] = *s;
		} else if (*s == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else
			out[o++] = *s;
	}
	out[o] = 0;
}

/* A gauge per window: the rate over the last second and minute. */
static void per_second(
    pbuf *p, const char *name, const char *help, double r1, double r60)
{
	head(p, name, "gauge", help);
	pf(p, "%s{topology=\"%s\",window=\"1s\"} %.17g\n", name, p->topo, r1);
	pf(p, "%s{topology=\"%s\",window=\"1m\"} %.17g\n", name, p->topo, r60);
}

/* The job's counters, rates over 1 s and 1 m, and its progress. */
static void prom_job(pbuf *p, const sli_monitor *m, const figures *f)
{
	double d1 = f->now.t - f->s1.t, d60 = f->now.t - f->s60.t;
	const char *topo = p->topo;
	one(p, "sluice_uptime_seconds", "gauge",
	    "Seconds since the job started.", f->uptime);
	one(p, "sluice_committed_txid", "gauge",
	    "Last committed transaction id.", (double)f->ts.last_committed);
	one(p, "sluice_batches_committed_total", "counter",
	    "Batches committed.", (double)f->ts.batches_committed);
	one(p, "sluice_tuples_total", "counter",
	    "Tuples the spout emitted in committed batches.",
	    (double)f->ts.tuples);
	head(p, "sluice_replays_total", "counter",
	    "Batch attempts replayed, by reason (they sum to all replays).");
	for (int r = 0; r < SL_REPLAY_REASONS; r++)
		pf(p,
		    "sluice_replays_total{topology=\"%s\",reason=\"%s\"} "
		    "%" PRIu64 "\n",
		    topo, sl_replay_reason_name(r), f->lv.replays_by[r]);
	one(p, "sluice_batches_in_flight", "gauge",
	    "Batches emitted and not yet committed.", (double)f->lv.in_flight);
	one(p, "sluice_rejected_frames_total", "counter",
	    "Forged, foreign or malformed frames dropped.",
	    (double)f->ts.rejected_frames);
	per_second(p, "sluice_tuples_per_second",
	    "Tuples committed per second over a window.",
	    sli_rate(f->now.tuples, f->s1.tuples, d1),
	    sli_rate(f->now.tuples, f->s60.tuples, d60));
	per_second(p, "sluice_batches_per_second",
	    "Batches committed per second over a window.",
	    sli_rate(f->now.batches, f->s1.batches, d1),
	    sli_rate(f->now.batches, f->s60.batches, d60));
	char unit[64];
	esc(unit, sizeof(unit), m->unit ? m->unit : "tuples");
	head(p, "sluice_progress_total", "counter",
	    "The job's own running total (e.g. words read).");
	pf(p,
	    "sluice_progress_total{topology=\"%s\",unit=\"%s\"} %" PRIu64 "\n",
	    topo, unit, f->now.progress);
}

/* Batch and commit latency: gauges per statistic (a "quantile" label
 * belongs to summaries). */
static void prom_latency(pbuf *p, const figures *f)
{
	const struct {
		const char *name, *help;
		double p50, p99, max;
	} lat[] = {
		{ "sluice_batch_latency", "Emit-to-commit time of batches.",
		    f->ts.batch_p50_ms, f->ts.batch_p99_ms,
		    f->lv.batch_max_ms },
		{ "sluice_commit_latency",
		    "State write and commit record time of batches.",
		    f->ts.commit_p50_ms, f->ts.commit_p99_ms,
		    f->lv.commit_max_ms },
	};
	for (size_t i = 0; i < 2; i++) {
		const char *stat[] = { "p50", "p99", "max" };
		double v[] = { lat[i].p50, lat[i].p99, lat[i].max };
		for (size_t k = 0; k < 3; k++) {
			char name[96], help[160];
			snprintf(name, sizeof(name), "%s_%s_seconds",
			    lat[i].name, stat[k]);
			snprintf(help, sizeof(help), "%s (%s)", lat[i].help,
			    stat[k]);
			one(p, name, "gauge", help, v[k] / 1e3);
		}
	}
}

/* Per stage: tuples in, tuples out and busy seconds, each metric's
 * samples under its own header. */
static void prom_stages(pbuf *p, const sli_monitor *m)
{
	const char *topo = p->topo;
	sl_stage_stats ss;
	char *in = NULL, *out = NULL, *busy = NULL;
	size_t inl = 0, outl = 0, busyl = 0;
	FILE *fin = open_memstream(&in, &inl);
	FILE *fout = open_memstream(&out, &outl);
	FILE *fbusy = open_memstream(&busy, &busyl);
	for (uint32_t i = 0; fin && fout && fbusy
	     && sl_topology_stage_get(m->t, i, &ss) == SL_OK;
	     i++) {
		char name[160];
		esc(name, sizeof(name), ss.name);
		fprintf(fin,
		    "sluice_stage_tuples_in_total{topology=\"%s\",stage=\"%"
		    "u\",name=\"%s\"} %" PRIu64 "\n",
		    topo, i, name, ss.tuples_in);
		fprintf(fout,
		    "sluice_stage_tuples_out_total{topology=\"%s\",stage=\"%"
		    "u\",name=\"%s\"} %" PRIu64 "\n",
		    topo, i, name, ss.tuples_out);
		fprintf(fbusy,
		    "sluice_stage_busy_seconds_total{topology=\"%s\",stage="
		    "\"%u\",name=\"%s\"} %.9f\n",
		    topo, i, name, (double)ss.busy_ns / 1e9);
	}
	if (fin)
		fclose(fin);
	if (fout)
		fclose(fout);
	if (fbusy)
		fclose(fbusy);
	head(p, "sluice_stage_tuples_in_total", "counter",
	    "Tuples a stage's tasks took in (every attempt).");
	fwrite(in ? in : "", 1, in ? inl : 0, p->f);
	head(p, "sluice_stage_tuples_out_total", "counter",
	    "Tuples a stage's tasks sent on (every attempt).");
	fwrite(out ? out : "", 1, out ? outl : 0, p->f);
	head(p, "sluice_stage_busy_seconds_total", "counter",
	    "Seconds a stage's tasks spent handling batches, summed over "
	    "its tasks.");
	fwrite(busy ? busy : "", 1, busy ? busyl : 0, p->f);
	free(in);
	free(out);
	free(busy);
}

/* Per monitored state: keys (when known), cache hits and misses, disk
 * bytes. */
static void prom_states(pbuf *p, sli_monitor *m)
{
	if (!m->nst)
		return;
	sl_state_counters c[16];
	uint64_t keys[16];
	int known[16];
	for (size_t i = 0; i < m->nst; i++) {
		sl_state_counters_get(m->st[i].s, &c[i]);
		keys[i]
		    = sli_monitor_state_keys(m, &m->st[i], &c[i], &known[i]);
	}
	const char *names[] = { "sluice_state_keys",
		"sluice_state_cache_hits_total",
		"sluice_state_cache_misses_total", "sluice_state_disk_bytes" };
	const char *types[] = { "gauge", "counter", "counter", "gauge" };
	const char *helps[] = { "Keys with a value in the state.",
		"Record cache hits of batch writes.",
		"Record cache misses of batch writes.",
		"Size of the state's files." };
	for (int k = 0; k < 4; k++) {
		head(p, names[k], types[k], helps[k]);
		for (size_t i = 0; i < m->nst; i++) {
			char sn[160];
			esc(sn, sizeof(sn), m->st[i].name);
			uint64_t v = k == 0 ? keys[i]
			    : k == 1        ? c[i].cache_hits
			    : k == 2        ? c[i].cache_misses
			                    : c[i].disk_bytes;
			if (k == 0 && !known[i])
				continue;
			pf(p, "%s{topology=\"%s\",state=\"%s\"} %" PRIu64 "\n",
			    names[k], p->topo, sn, v);
		}
	}
}

/* The DRPC server's counters, while one is served. */
static void prom_drpc(pbuf *p, sli_monitor *m)
{
	sl_drpc_server *drpc = m->drpc;
	if (!drpc)
		return;
	sl_drpc_stats ds;
	sl_drpc_server_stats(drpc, &ds);
	one(p, "sluice_drpc_requests_total", "counter",
	    "DRPC requests received.", (double)ds.requests);
	one(p, "sluice_drpc_errors_total", "counter",
	    "DRPC requests answered with an error.", (double)ds.errors);
	one(p, "sluice_drpc_busy_total", "counter",
	    "DRPC requests refused as too many.", (double)ds.busy);
	one(p, "sluice_drpc_timeouts_total", "counter",
	    "DRPC requests that timed out.", (double)ds.timeouts);
}

char *sli_monitor_prometheus(sli_monitor *m)
{
	figures f;
	sli_monitor_gather(m, &f);
	char topo[160];
	esc(topo, sizeof(topo), m->name);
	pbuf p = { NULL, NULL, 0, topo };
	if (!(p.f = open_memstream(&p.data, &p.len)))
		return NULL;
	prom_job(&p, m, &f);
	prom_latency(&p, &f);
	prom_stages(&p, m);
	prom_states(&p, m);
	prom_drpc(&p, m);
	/* owned (free()): the stream's storage, NUL-terminated */
	if (fclose(p.f) != 0) {
		free(p.data);
		return NULL;
	}
	return p.data;
}
