/*
 * monitor.c - the live view of a running job: a sampler thread reads the
 * topology's counters once a second into a ring of the last ten minutes;
 * the figures are served as JSON (DRPC `sluice.stats`, /stats.json,
 * /history.json) and, by cli/prometheus.c, in the Prometheus text format
 * (/metrics).
 */
#include "monitor_impl.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(const sli_monitor *m)
{
	return (double)(cli_now_ns() - m->start_ns) / 1e9;
}

/* Reads the counters into s. */
static void fill(sli_monitor *m, sample *sp)
{
	sample s;
	memset(&s, 0, sizeof(s));
	sl_topology_stats ts;
	sl_topology_stats_get(m->t, &ts);
	s.t = now_s(m);
	s.txid = ts.last_committed;
	s.batches = ts.batches_committed;
	s.tuples = ts.tuples;
	s.replays = ts.replays;
	s.batch_p50 = ts.batch_p50_ms;
	s.batch_p99 = ts.batch_p99_ms;
	s.commit_p50 = ts.commit_p50_ms;
	s.commit_p99 = ts.commit_p99_ms;
	s.progress = m->progress ? m->progress(m->puser) : ts.tuples;
	sl_stage_stats ss;
	for (uint32_t i = 0;
	     i < MAX_STAGES && sl_topology_stage_get(m->t, i, &ss) == SL_OK;
	     i++) {
		s.in[i] = ss.tuples_in;
		s.out[i] = ss.tuples_out;
		s.busy[i] = ss.busy_ns;
	}
	*sp = s;
}

static void take(sli_monitor *m)
{
	sample s;
	fill(m, &s);
	pthread_mutex_lock(&m->lock);
	m->ring[m->n % HIST] = s;
	m->n++;
	pthread_mutex_unlock(&m->lock);
}

/* Keys of each state when watching begins: one scan before the run
 * starts (a scan beside the batch writes would read LevelDB's cached
 * blocks while it fills them), skipped for stores over 256 MiB; later,
 * keys = that + keys created since. */
static void count_keys(sli_monitor *m)
{
	for (size_t i = 0; i < m->nst && !m->stop; i++) {
		mstate *ms = &m->st[i];
		sl_state_counters c;
		sl_state_counters_get(ms->s, &c);
		if (c.disk_bytes > (256u << 20))
			continue;
		sl_state_stats st;
		if (sl_state_stats_get(ms->s, &st) != SL_OK)
			continue;
		pthread_mutex_lock(&m->lock);
		ms->base_keys = st.keys;
		ms->base_created = c.keys_created;
		ms->counted = 1;
		pthread_mutex_unlock(&m->lock);
	}
}

static void *sampler(void *arg)
{
	sli_monitor *m = arg;
	take(m);
	uint64_t next = m->start_ns + 1000000000u;
	while (!m->stop) {
		uint64_t now = cli_now_ns();
		if (now >= next) {
			take(m);
			next += 1000000000u;
			if (next < now)
				next = now + 1000000000u;
			continue;
		}
		uint64_t wait = next - now;
		if (wait > 50000000u)
			wait = 50000000u;
		struct timespec ts = { 0, (long)wait };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int sli_monitor_start(sli_monitor **out, sl_topology *t, const char *name)
{
	*out = NULL;
	sli_monitor *m = calloc(1, sizeof(*m));
	if (!m)
		return SL_ENOMEM;
	m->t = t;
	snprintf(m->name, sizeof(m->name), "%s", name ? name : "topology");
	m->start_ns = cli_now_ns();
	pthread_mutex_init(&m->lock, NULL);
	*out = m;
	return SL_OK;
}

int sli_monitor_add_state(sli_monitor *m, const char *name, sl_state *s)
{
	if (m->nst >= sizeof(m->st) / sizeof(m->st[0]))
		return SL_ELIMIT;
	mstate *ms = &m->st[m->nst++];
	snprintf(ms->name, sizeof(ms->name), "%s", name ? name : "");
	ms->s = s;
	return SL_OK;
}

void sli_monitor_set_progress(
    sli_monitor *m, const char *unit, uint64_t (*fn)(void *user), void *user)
{
	m->unit = unit;
	m->progress = fn;
	m->puser = user;
}

void sli_monitor_set_drpc(sli_monitor *m, sl_drpc_server *s)
{
	m->drpc = s;
}

/* Starts the sampler; called once the states and progress are set. */
int sli_monitor_begin(sli_monitor *m)
{
	static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
	int rc = SL_OK;
	pthread_mutex_lock(&once);
	if (!m->th) {
		count_keys(m);
		if (pthread_create(&m->th, NULL, sampler, m))
			rc = SL_ENOMEM;
	}
	pthread_mutex_unlock(&once);
	return rc;
}

void sli_monitor_stop(sli_monitor *m)
{
	if (!m)
		return;
	m->stop = 1;
	if (m->th)
		pthread_join(m->th, NULL);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* The newest stored sample at least back seconds older than now (the
 * oldest one when the ring is younger). 0 when there is none yet. */
static int window(
    sli_monitor *m, const sample *now, double back, sample *older)
{
	if (!m->n)
		return 0;
	size_t have = m->n < HIST ? m->n : HIST;
	for (size_t i = 0; i < have; i++) {
		*older = m->ring[(m->n - 1 - i) % HIST];
		if (now->t - older->t >= back - 0.05)
			break;
	}
	return 1;
}

void sli_monitor_gather(sli_monitor *m, figures *f)
{
	sli_monitor_begin(m);
	sl_topology_stats_get(m->t, &f->ts);
	sl_topology_live_get(m->t, &f->lv);
	f->uptime = now_s(m);
	fill(m, &f->now);
	pthread_mutex_lock(&m->lock);
	f->have = window(m, &f->now, 1, &f->s1);
	if (f->have)
		window(m, &f->now, 60, &f->s60);
	pthread_mutex_unlock(&m->lock);
	if (!f->have)
		f->s1 = f->s60 = f->now;
}

uint64_t sli_monitor_state_keys(
    sli_monitor *m, mstate *ms, const sl_state_counters *c, int *known)
{
	pthread_mutex_lock(&m->lock);
	*known = ms->counted;
	uint64_t k = ms->counted
	    ? ms->base_keys + (c->keys_created - ms->base_created)
	    : 0;
	pthread_mutex_unlock(&m->lock);
	return k;
}

static json_t *latency(double p50, double p99, double max)
{
	return json_pack("{s:f,s:f,s:f}", "p50", p50, "p99", p99, "max", max);
}

char *sli_monitor_json(sli_monitor *m)
{
	figures f;
	sli_monitor_gather(m, &f);
	double d1 = f.now.t - f.s1.t, d60 = f.now.t - f.s60.t;
	json_t *j = json_object();
	json_object_set_new(j, "topology", json_string(m->name));
	json_object_set_new(j, "version", json_string(SL_VERSION_STRING));
	json_object_set_new(j, "uptime_s", json_real(f.uptime));
	json_object_set_new(j, "committed_txid",
	    json_integer((json_int_t)f.ts.last_committed));
	json_object_set_new(j, "batches_committed",
	    json_integer((json_int_t)f.ts.batches_committed));
	json_object_set_new(
	    j, "tuples", json_integer((json_int_t)f.ts.tuples));
	json_object_set_new(
	    j, "empty_batches", json_integer((json_int_t)f.ts.empty_batches));
	json_object_set_new(
	    j, "batches_in_flight", json_integer(f.lv.in_flight));
	json_object_set_new(
	    j, "replays", json_integer((json_int_t)f.ts.replays));
	json_object_set_new(
	    j, "last_replay_reason", json_string(f.lv.last_replay));
	json_t *by = json_object();
	for (int r = 0; r < SL_REPLAY_REASONS; r++)
		json_object_set_new(by, sl_replay_reason_name(r),
		    json_integer((json_int_t)f.lv.replays_by[r]));
	json_object_set_new(j, "replays_by_reason", by);
	json_object_set_new(j, "rejected_frames",
	    json_integer((json_int_t)f.ts.rejected_frames));
	json_object_set_new(j, "rates",
	    json_pack("{s:f,s:f,s:f,s:f}", "batches_per_s_1s",
	        sli_rate(f.now.batches, f.s1.batches, d1), "batches_per_s_1m",
	        sli_rate(f.now.batches, f.s60.batches, d60), "tuples_per_s_1s",
	        sli_rate(f.now.tuples, f.s1.tuples, d1), "tuples_per_s_1m",
	        sli_rate(f.now.tuples, f.s60.tuples, d60)));
	json_object_set_new(j, "progress",
	    json_pack("{s:s,s:I,s:f,s:f}", "unit",
	        m->unit ? m->unit : "tuples", "total",
	        (json_int_t)f.now.progress, "per_s_1s",
	        sli_rate(f.now.progress, f.s1.progress, d1), "per_s_1m",
	        sli_rate(f.now.progress, f.s60.progress, d60)));
	json_object_set_new(j, "batch_latency_ms",
	    latency(f.ts.batch_p50_ms, f.ts.batch_p99_ms, f.lv.batch_max_ms));
	json_object_set_new(j, "commit_latency_ms",
	    latency(
	        f.ts.commit_p50_ms, f.ts.commit_p99_ms, f.lv.commit_max_ms));
	json_t *stages = json_array();
	sl_stage_stats ss;
	for (uint32_t i = 0; sl_topology_stage_get(m->t, i, &ss) == SL_OK;
	     i++) {
		json_t *up = json_array();
		for (int b = 0; b < 64; b++)
			if (ss.upstream >> b & 1)
				json_array_append_new(up, json_integer(b));
		int w = i < MAX_STAGES;
		/* the share of its tasks' time the stage was busy over the
		 * last second (1: saturated) */
		double busy = w && ss.tasks
		    ? sli_rate(f.now.busy[i], f.s1.busy[i], d1) / 1e9
		        / ss.tasks
		    : 0.0;
		json_array_append_new(stages,
		    json_pack("{s:i,s:s,s:i,s:o,s:I,s:I,s:f,s:f,s:f,s:f}",
		        "id", (int)i, "name", ss.name, "tasks", (int)ss.tasks,
		        "upstream", up, "tuples_in", (json_int_t)ss.tuples_in,
		        "tuples_out", (json_int_t)ss.tuples_out, "in_per_s",
		        w ? sli_rate(f.now.in[i], f.s1.in[i], d1) : 0.0,
		        "out_per_s",
		        w ? sli_rate(f.now.out[i], f.s1.out[i], d1) : 0.0,
		        "busy_s", (double)ss.busy_ns / 1e9, "busy_1s", busy));
	}
	json_object_set_new(j, "stages", stages);
	json_t *states = json_array();
	for (size_t i = 0; i < m->nst; i++) {
		sl_state_counters c;
		sl_state_counters_get(m->st[i].s, &c);
		int known;
		uint64_t keys
		    = sli_monitor_state_keys(m, &m->st[i], &c, &known);
		uint64_t looks = c.cache_hits + c.cache_misses;
		json_array_append_new(states,
		    json_pack("{s:s,s:o,s:I,s:I,s:o,s:I,s:I}", "name",
		        m->st[i].name, "keys",
		        known ? json_integer((json_int_t)keys) : json_null(),
		        "cache_hits", (json_int_t)c.cache_hits, "cache_misses",
		        (json_int_t)c.cache_misses, "cache_hit_rate",
		        looks ? json_real((double)c.cache_hits / (double)looks)
		              : json_null(),
		        "disk_bytes", (json_int_t)c.disk_bytes, "keys_created",
		        (json_int_t)c.keys_created));
	}
	json_object_set_new(j, "states", states);
	sl_drpc_server *drpc = m->drpc;
	if (drpc) {
		sl_drpc_stats ds;
		sl_drpc_server_stats(drpc, &ds);
		json_object_set_new(j, "drpc",
		    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "requests",
		        (json_int_t)ds.requests, "answered",
		        (json_int_t)ds.answered, "errors",
		        (json_int_t)ds.errors, "timeouts",
		        (json_int_t)ds.timeouts, "busy", (json_int_t)ds.busy,
		        "bad_requests", (json_int_t)ds.bad_requests,
		        "auth_failures", (json_int_t)ds.auth_failures));
	} else
		json_object_set_new(j, "drpc", json_null());
	char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(j);
	return s;
}

char *sli_monitor_history_json(sli_monitor *m)
{
	sli_monitor_begin(m);
	json_t *a = json_array();
	pthread_mutex_lock(&m->lock);
	size_t have = m->n < HIST ? m->n : HIST;
	for (size_t i = have; i-- > 0;) {
		size_t k = m->n - 1 - i;
		const sample *s = &m->ring[k % HIST];
		const sample *p = k ? &m->ring[(k - 1) % HIST] : s;
		if (i == have - 1 && have == HIST)
			p = s; /* its predecessor was overwritten */
		double dt = s->t - p->t;
		json_array_append_new(a,
		    json_pack("{s:f,s:I,s:f,s:f,s:f,s:f,s:f}", "t", s->t,
		        "txid", (json_int_t)s->txid, "tuples_per_s",
		        sli_rate(s->tuples, p->tuples, dt), "progress_per_s",
		        sli_rate(s->progress, p->progress, dt),
		        "batches_per_s", sli_rate(s->batches, p->batches, dt),
		        "batch_p99_ms", s->batch_p99, "commit_p99_ms",
		        s->commit_p99));
	}
	pthread_mutex_unlock(&m->lock);
	char *s = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(a);
	return s;
}

void sli_monitor_progress(
    sli_monitor *m, const char **unit, uint64_t *total, double *r)
{
	sample now, s1;
	*unit = m->unit ? m->unit : "tuples";
	memset(&now, 0, sizeof(now));
	now.t = now_s(m);
	if (m->progress)
		now.progress = m->progress(m->puser);
	else {
		sl_topology_stats ts;
		sl_topology_stats_get(m->t, &ts);
		now.progress = ts.tuples;
	}
	pthread_mutex_lock(&m->lock);
	int have = window(m, &now, 1, &s1);
	pthread_mutex_unlock(&m->lock);
	*r = have ? sli_rate(now.progress, s1.progress, now.t - s1.t) : 0;
	*total = now.progress;
}

static pthread_once_t reply_once = PTHREAD_ONCE_INIT;
static pthread_key_t reply_key;

static void reply_key_init(void)
{
	pthread_key_create(&reply_key, free);
}

int sli_monitor_drpc(void *user, const char *function, const uint8_t *args,
    size_t len, sl_value *result)
{
	sli_monitor *m = user;
	if (strcmp(function, SLI_STATS_FN))
		return sl_topology_drpc_call(
		    m->t, function, args, len, result);
	/* the reply must outlive this call: one buffer per server thread,
	 * freed when the thread ends */
	pthread_once(&reply_once, reply_key_init);
	free(pthread_getspecific(reply_key));
	char *s = sli_monitor_json(m);
	pthread_setspecific(reply_key, s);
	if (!s)
		return SL_ENOMEM;
	*result = sl_bytes(s, (uint32_t)strlen(s));
	return SL_OK;
}
