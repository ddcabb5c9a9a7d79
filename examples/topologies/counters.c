/*
 * counters.c - the aggregated counters example as a topology for
 * `sluice run`:
 *
 *   sluice run build/topologies/counters.so --state DIR --drpc \
 *       -- [--records N] [--rate R]
 *
 * Three states in DIR: urls (Count per url), countries (Sum of bytes per
 * country), statuses (Count per status). DRPC: `url URL`, `country CC`,
 * `status CODE`, `top N` (1-64); a missing or malformed argument is an
 * error reply naming the function. --rate R makes the source emit R records a
 * second, so the counters can be queried (and watched with `sluice
 * stats`) while they run.
 */
#include <sluice.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

SL_TOPOLOGY_ABI_EXPORT;

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
	uint64_t rate; /* records per second, 0 = as fast as it can */
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
		size_t want = sl_spout_batch_size(ctx);
		if (c->rate) {
			/* a rate-limited source: one batch per batch_ms */
			uint64_t per = c->rate
			    * (uint64_t)sl_spout_batch_ms(ctx) / 1000;
			want = per ? per : 1;
			usleep((useconds_t)sl_spout_batch_ms(ctx) * 1000);
		}
		end = start + want;
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

/* The DRPC argument as text in buf (at most n - 1 bytes), or an error
 * naming the function when it is missing or too long. */
static int arg_text(const sl_tuple *in, const char *fn, char *buf, size_t n)
{
	if (in->v[0].type != SL_BYTES || in->v[0].len == 0)
		return sl_errorf(SL_EINVAL, "%s: an argument is needed", fn);
	if (in->v[0].len >= n)
		return sl_errorf(SL_EINVAL,
		    "%s: argument longer than %zu bytes", fn, n - 1);
	memcpy(buf, in->v[0].u.p, in->v[0].len);
	buf[in->v[0].len] = 0;
	return SL_OK;
}

/* An integer argument in [lo, hi], or an error naming the function. */
static int arg_int(const sl_tuple *in, const char *fn, long long lo,
    long long hi, long long *out)
{
	char tmp[24], *end;
	int rc = arg_text(in, fn, tmp, sizeof(tmp));
	if (rc)
		return rc;
	errno = 0;
	*out = strtoll(tmp, &end, 10);
	if (errno || *end || end == tmp || *out < lo || *out > hi)
		return sl_errorf(SL_EINVAL,
		    "%s: expected an integer from %lld to %lld, got '%s'", fn,
		    lo, hi, tmp);
	return SL_OK;
}

/* DRPC `top N`: the N (1-64) most visited urls as "url=n url=n ..." */
static int top_fn(void *user, const sl_tuple *in, sl_collector *out)
{
	static __thread char text[64 * 64];
	long long want;
	int rc = arg_int(in, "top", 1, 64, &want);
	if (rc)
		return rc;
	top t;
	memset(&t, 0, sizeof(t));
	t.want = (size_t)want;
	rc = sl_state_foreach(user, top_one, &t);
	if (rc)
		return rc;
	size_t o = 0;
	for (size_t i = 0; i < t.k; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s%s=%lld",
		    i ? " " : "", t.key[i], (long long)t.n[i]);
	sl_value v = sl_bytes(text, (uint32_t)o);
	return sl_emit(out, &v, 1);
}

/* DRPC `status CODE`: the status is an int group, so the text argument
 * becomes an int before the state is queried (the key of the string
 * "404" is not the key of the int 404). */
static int to_int(void *user, const sl_tuple *in, sl_collector *out)
{
	(void)user;
	long long code;
	int rc = arg_int(in, "status", 100, 599, &code);
	if (rc)
		return rc;
	sl_value v = sl_int(code);
	return sl_emit(out, &v, 1);
}

/* DRPC `url URL`, `country CC`: the argument as given, refused when
 * missing (a query for no key is a mistake, not "no visits"). */
static int need_arg(void *user, const sl_tuple *in, sl_collector *out)
{
	char tmp[256];
	int rc = arg_text(in, user, tmp, sizeof(tmp));
	return rc ? rc : sl_emit(out, &in->v[0], 1);
}

int sluice_topology(sl_app *app, int argc, char **argv)
{
	uint64_t n = 200000, rate = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--records") && i + 1 < argc)
			n = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
			rate = strtoull(argv[++i], NULL, 10);
		else
			return sl_app_fail(app,
			    "unknown argument '%s' (usage: -- [--records N] "
			    "[--rate R])",
			    argv[i]);
	}
	sl_state *urls, *ctry, *stat;
	int rc = sl_app_state(app, "urls", &urls);
	if (!rc)
		rc = sl_app_state(app, "countries", &ctry);
	if (!rc)
		rc = sl_app_state(app, "statuses", &stat);
	if (rc)
		return rc;
	sl_topology *t = sl_app_topology(app, "counters");
	clicks *c = calloc(1, sizeof(*c));
	if (!t || !c) {
		free(c);
		return SL_ENOMEM;
	}
	c->n = n;
	c->rate = rate;
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
		else
			d = sl_stream_map(
			    d, "args", need_arg, (void *)q[i].fn, "args");
		sl_stream_state_query(d, q[i].st, "args", "value");
	}
	sl_stream_map(sl_topology_new_drpc_stream(t, "top"), "args", top_fn,
	    urls, "top");
	return sl_topology_error(t);
}
