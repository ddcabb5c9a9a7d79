/*
 * counters.c - aggregated counters over a synthetic click log, kept
 * exactly once in LevelDB and queried over DRPC while the stream runs.
 *
 *   counters --state DIR [--records N] [--drpc ENDPOINT] [--serve]
 *            [--cluster-key-file FILE]
 *
 * Each record is (url, country, status, bytes), generated from a seed
 * (replays are identical: a transactional spout). Three states in DIR:
 * urls (Count per url), countries (Sum of bytes per country) and statuses
 * (Count per status). DRPC functions: `url URL`, `country CC`,
 * `status CODE`, and `top N` (the N most visited urls, as JSON text).
 */
#include "sluice.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const countries[]
    = { "de", "fr", "us", "jp", "br", "in", "ng", "au" };
static const int statuses[] = { 200, 200, 200, 200, 304, 404, 500 };

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

typedef struct clicks {
	uint64_t n;
} clicks;

/* Record i of the log, a pure function of i. */
static void record(uint64_t i, char *url, size_t ul, sl_value v[4])
{
	uint64_t r = mix(i);
	uint64_t page = (r % 1000) * (r % 1000) / 1000; /* skewed */
	snprintf(url, ul, "/page/%llu", (unsigned long long)page);
	v[0] = sl_str(url);
	v[1] = sl_str(countries[(r >> 12) % 8]);
	v[2] = sl_int(statuses[(r >> 20) % 7]);
	v[3] = sl_int((int64_t)(200 + (r >> 28) % 20000));
}

static int clicks_emit(void *self, sl_spout_ctx *ctx, sl_collector *out)
{
	clicks *c = self;
	size_t len;
	uint64_t start, end;
	const uint8_t *m = sl_spout_replay_meta(ctx, &len);
	if (m && len == 16) {
		memcpy(&start, m, 8);
		memcpy(&end, m + 8, 8);
	} else {
		m = sl_spout_prev_meta(ctx, &len);
		start = 0;
		if (m && len == 16)
			memcpy(&start, m + 8, 8);
		end = start + sl_spout_batch_size(ctx);
		if (end > c->n)
			end = c->n;
	}
	uint8_t meta[16];
	memcpy(meta, &start, 8);
	memcpy(meta + 8, &end, 8);
	int rc = sl_spout_set_meta(ctx, meta, 16);
	if (end >= c->n)
		sl_spout_set_eof(ctx);
	for (uint64_t i = start; i < end && !rc; i++) {
		char url[32];
		sl_value v[4];
		record(i, url, sizeof(url), v);
		rc = sl_emit(out, v, 4);
	}
	return rc;
}

static int clicks_more(void *self)
{
	(void)self;
	return 1; /* the eof flag of the last batch ends the run */
}

static const sl_spout_ops clicks_ops
    = { "clicks", 1, clicks_emit, clicks_more, free, NULL };

typedef struct app {
	sl_topology *t;
	sl_state *urls;
} app;

typedef struct top {
	char key[64][40];
	int64_t n[64];
	size_t k, want;
} top;

static int top_one(
    void *user, const uint8_t *key, size_t klen, const sl_value *v)
{
	top *t = user;
	/* the key is the group's values (here one url, bytes) */
	sl_value url;
	size_t n;
	if (sl_state_key_values(key, klen, &url, 1, &n) || n != 1
	    || url.type != SL_BYTES)
		return SL_ECORRUPT;
	key = url.u.p;
	klen = url.len;
	if (v->type != SL_INT || klen >= 40)
		return 0;
	size_t i = t->k < t->want ? t->k++ : t->want - 1;
	if (i == t->want - 1 && t->k == t->want && t->n[i] >= v->u.i)
		return 0;
	memcpy(t->key[i], key, klen);
	t->key[i][klen] = 0;
	t->n[i] = v->u.i;
	/* keep the list sorted, largest first */
	while (i > 0 && t->n[i] > t->n[i - 1]) {
		char tk[40];
		memcpy(tk, t->key[i], 40);
		memcpy(t->key[i], t->key[i - 1], 40);
		memcpy(t->key[i - 1], tk, 40);
		int64_t tn = t->n[i];
		t->n[i] = t->n[i - 1];
		t->n[i - 1] = tn;
		i--;
	}
	return 0;
}

static int handler(void *user, const char *fn, const uint8_t *args, size_t len,
    sl_value *result)
{
	app *a = user;
	if (strcmp(fn, "top"))
		return sl_topology_drpc_call(a->t, fn, args, len, result);
	static __thread char out[64 * 64];
	top t;
	memset(&t, 0, sizeof(t));
	t.want = (size_t)atoi(len ? (const char *)args : "10");
	if (t.want < 1 || t.want > 64)
		t.want = 10;
	int rc = sl_state_foreach(a->urls, top_one, &t);
	if (rc)
		return rc;
	size_t o = 0;
	for (size_t i = 0; i < t.k; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s=%lld",
		    i ? " " : "", t.key[i], (long long)t.n[i]);
	*result = sl_bytes(out, (uint32_t)o);
	return SL_OK;
}

/* DRPC `status CODE`: the status is an int group, so the text argument
 * becomes an int before the state is queried (the key of the string
 * "404" is not the key of the int 404). */
static int to_int(void *user, const sl_tuple *in, sl_collector *out)
{
	(void)user;
	char tmp[24];
	size_t n = in->v[0].type == SL_BYTES ? in->v[0].len : 0;
	if (n >= sizeof(tmp))
		n = 0;
	memcpy(tmp, n ? in->v[0].u.p : (const uint8_t *)"", n);
	tmp[n] = 0;
	char *end;
	long long code = strtoll(tmp, &end, 10);
	sl_value v = n && !*end ? sl_int(code) : sl_null();
	return sl_emit(out, &v, 1);
}

static sl_topology *running;
static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
	if (running)
		sl_topology_stop(running);
}

static sl_state *open_state(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	sl_state_options o;
	sl_state_options_default(&o);
	o.sync = 0;
	sl_state *s = NULL;
	if (sl_state_open_leveldb(&s, path, &o))
		fprintf(stderr, "counters: %s: %s\n", path, sl_errdetail());
	return s;
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *endpoint = "tcp://127.0.0.1:3773";
	const char *keyfile = NULL;
	uint64_t n = 200000;
	int serve = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--state") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--records") && i + 1 < argc)
			n = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--drpc") && i + 1 < argc)
			endpoint = argv[++i];
		else if (!strcmp(argv[i], "--cluster-key-file")
		    && i + 1 < argc)
			keyfile = argv[++i];
		else if (!strcmp(argv[i], "--serve"))
			serve = 1;
		else {
			fprintf(stderr,
			    "usage: counters --state DIR [--records N] "
			    "[--drpc ENDPOINT] [--serve] "
			    "[--cluster-key-file FILE]\n");
			return 2;
		}
	}
	if (!dir) {
		fprintf(stderr, "counters: --state DIR is required\n");
		return 2;
	}
	uint8_t key[SL_KEY_BYTES];
	if (keyfile && sl_key_from_file(key, keyfile)) {
		fprintf(stderr, "counters: %s\n", sl_errdetail());
		return 2;
	}
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	sl_state *urls = open_state(dir, "urls");
	sl_state *ctry = open_state(dir, "countries");
	sl_state *stat = open_state(dir, "statuses");
	if (!urls || !ctry || !stat)
		return 1;
	clicks *c = calloc(1, sizeof(*c));
	c->n = n;
	sl_topology *t;
	sl_topology_new(&t, "counters");
	/* the handle takes c (freed with the topology); a failed
	 * sl_spout_new leaves NULL, which new_stream reports */
	sl_spout *source = NULL;
	sl_spout_new(&source, &clicks_ops, c);
	sl_stream *s = sl_topology_new_stream(
	    t, "clicks", source, "url,country,status,bytes");
	sl_stream_persistent_aggregate(sl_stream_group_by(s, "url"), urls,
	    NULL, sl_agg_count(), "visits");
	sl_stream_persistent_aggregate(sl_stream_group_by(s, "country"), ctry,
	    "bytes", sl_agg_sum(), "bytes_total");
	sl_stream_persistent_aggregate(sl_stream_group_by(s, "status"), stat,
	    NULL, sl_agg_count(), "requests");
	const struct {
		const char *fn;
		sl_state *st;
	} q[] = { { "url", urls }, { "country", ctry }, { "status", stat } };
	for (size_t i = 0; i < 3; i++) {
		sl_stream *d = sl_topology_new_drpc_stream(t, q[i].fn);
		if (q[i].st == stat)
			d = sl_stream_map(d, "args", to_int, NULL, "args");
		sl_stream_state_query(d, q[i].st, "args", "value");
	}
	if (sl_topology_error(t)) {
		fprintf(stderr, "counters: %s\n", sl_topology_errmsg(t));
		return 1;
	}
	app a = { t, urls };
	sl_drpc_options o;
	sl_drpc_options_default(&o);
	o.endpoint = endpoint;
	o.cluster_key = keyfile ? key : NULL;
	sl_drpc_server *srv;
	if (sl_drpc_server_start(&srv, &o, handler, &a)) {
		fprintf(stderr, "counters: drpc %s: %s\n", endpoint,
		    sl_errdetail());
		return 1;
	}
	running = t;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	sl_run_options ro;
	sl_run_options_default(&ro);
	ro.batch_size = 5000;
	int rc = sl_topology_run(t, &ro);
	sl_topology_stats st;
	sl_topology_stats_get(t, &st);
	fprintf(stderr,
	    "counters: %llu records in %llu batches%s; DRPC on %s\n",
	    (unsigned long long)st.tuples,
	    (unsigned long long)st.batches_committed,
	    rc ? " (stopped early)" : "", endpoint);
	if (rc)
		fprintf(stderr, "counters: %s\n", sl_topology_errmsg(t));
	while (serve && !stop && !rc)
		usleep(50000);
	sl_drpc_server_stop(srv);
	sl_topology_free(t);
	sl_state_close(urls);
	sl_state_close(ctry);
	sl_state_close(stat);
	return rc ? 1 : 0;
}
