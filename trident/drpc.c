/*
 * drpc.c - the DRPC server: a raw REP socket, one receiver thread that
 * validates requests and enforces timeouts, a bounded pool of handler
 * threads, JSON replies (jansson). A request is `FUNCTION` TAB `ARGS`.
 * With a cluster key, requests and replies travel sealed (docs/drpc.md,
 * "Cluster key"): 0x01, then XChaCha20-Poly1305 of (8-byte unix ms
 * timestamp, request) under a key derived from the cluster key; the reply
 * is bound to its request's nonce.
 */
#include "topology_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { J_FREE, J_QUEUED, J_RUNNING, J_ABANDONED };

#define SEALED_MARK  0x01 /* first byte of a sealed request or reply */
#define SKEW_MS      300000 /* accepted clock difference, sealed requests */
#define REQ_AD       "sluice drpc request v1"
#define REP_AD       "sluice drpc reply v1"
#define KEY_CONTEXT  "sluice drpc v1"
#define REP_AD_BYTES (sizeof(REP_AD) - 1 + SLI_SEAL_NONCE)

#define SEEN_CAP  65536 /* sealed requests remembered (replay window) */
#define SEEN_HASH (SEEN_CAP * 2)
#define PAD_MIN   128 /* sealed replies are padded to a power of two */

/* The nonces of the sealed requests accepted recently, oldest first (a
 * ring) and hashed for lookup. A request whose nonce is here is a replay.
 * When the ring is full the oldest entry is dropped and floor_ms rises to
 * its timestamp: requests stamped at or before floor_ms are refused, so
 * a dropped nonce can never be replayed either. Receiver thread only. */
typedef struct seen_entry {
	uint8_t nonce[SLI_SEAL_NONCE];
	uint64_t ts;
	int32_t next; /* hash chain */
} seen_entry;

typedef struct seen_cache {
	seen_entry *e;
	int32_t *head; /* SEEN_HASH chains, -1 = empty */
	uint32_t first, n;
	uint64_t floor_ms;
} seen_cache;

/* How to answer one request: in clear, or sealed and bound to nonce. */
typedef struct sealinfo {
	int on;
	uint8_t nonce[SLI_SEAL_NONCE];
} sealinfo;

typedef struct job {
	int state;
	sealinfo si;
	void *hdr;
	char *fn;
	uint8_t *args;
	size_t len;
	uint64_t deadline;
} job;

struct sl_drpc_server {
	sl_drpc_options o;
	char *endpoint;
	sl_drpc_fn fn;
	void *user;
	sli_rep *rep;
	pthread_t rx;
	pthread_t *w;
	uint32_t nw;
	pthread_mutex_t lock;
	pthread_cond_t cv, idle;
	job *jobs;
	_Atomic int stop;
	uint32_t busy_workers;
	sl_drpc_stats st;
	int keyed;
	uint8_t key[SL_KEY_BYTES]; /* derived from the cluster key */
	seen_cache seen;
};

static uint32_t seen_bucket(const uint8_t *nonce)
{
	/* the nonce is random (an attacker cannot choose it without the
	 * key: only authenticated requests are recorded) */
	return sli_le32_get(nonce) % SEEN_HASH;
}

static int seen_init(seen_cache *c)
{
	c->e = calloc(SEEN_CAP, sizeof(*c->e));
	c->head = malloc(SEEN_HASH * sizeof(*c->head));
	if (!c->e || !c->head)
		return SL_ENOMEM;
	for (uint32_t i = 0; i < SEEN_HASH; i++)
		c->head[i] = -1;
	return SL_OK;
}

static void seen_free(seen_cache *c)
{
	free(c->e);
	free(c->head);
}

/* Drops the oldest entry, raising the floor to its timestamp. */
static void seen_drop_oldest(seen_cache *c)
{
	seen_entry *o = &c->e[c->first];
	int32_t *pp = &c->head[seen_bucket(o->nonce)];
	while (*pp != -1 && *pp != (int32_t)c->first)
		pp = &c->e[*pp].next;
	if (*pp != -1)
		*pp = o->next;
	if (o->ts > c->floor_ms)
		c->floor_ms = o->ts;
	c->first = (c->first + 1) % SEEN_CAP;
	c->n--;
}

/* Records nonce (stamped ts); 0 when new, 1 when seen before or older
 * than what the cache still remembers. now: the server's clock. */
static int seen_check_add(
    seen_cache *c, const uint8_t *nonce, uint64_t ts, uint64_t now)
{
	/* entries past the window are refused by their timestamp anyway */
	while (c->n && c->e[c->first].ts + SKEW_MS < now)
		seen_drop_oldest(c);
	if (ts <= c->floor_ms)
		return 1;
	uint32_t b = seen_bucket(nonce);
	for (int32_t i = c->head[b]; i != -1; i = c->e[i].next)
		if (!memcmp(c->e[i].nonce, nonce, SLI_SEAL_NONCE))
			return 1;
	if (c->n == SEEN_CAP)
		seen_drop_oldest(c);
	uint32_t at = (c->first + c->n) % SEEN_CAP;
	seen_entry *e = &c->e[at];
	memcpy(e->nonce, nonce, SLI_SEAL_NONCE);
	e->ts = ts;
	e->next = c->head[b];
	c->head[b] = (int32_t)at;
	c->n++;
	return 0;
}

static void reply_ad(uint8_t ad[REP_AD_BYTES], const uint8_t *nonce)
{
	memcpy(ad, REP_AD, sizeof(REP_AD) - 1);
	memcpy(ad + sizeof(REP_AD) - 1, nonce, SLI_SEAL_NONCE);
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void sl_drpc_options_default(sl_drpc_options *o)
{
	memset(o, 0, sizeof(*o));
	o->endpoint = "tcp://127.0.0.1:3772";
	o->timeout_ms = 5000;
	o->workers = 4;
	o->max_queue = 64;
	o->max_request = 65536;
}

/* 1 when [p, p+n) is valid UTF-8 (no overlongs, no surrogates). */
static int utf8_ok(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = p[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3;
			cp = c & 0x07;
		} else
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (p[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800)
		    || (k == 3 && (cp < 0x10000 || cp > 0x10ffff))
		    || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

int sli_drpc_utf8_ok(const uint8_t *p, size_t n)
{
	return utf8_ok(p, n);
}

static char *error_json(const char *msg)
{
	/* details may quote anything (a key, a path): bytes that are not
	 * valid UTF-8 become '?', never a failed reply */
	char clean[1024];
	size_t n = strlen(msg);
	if (!utf8_ok((const uint8_t *)msg, n)) {
		size_t o = 0;
		for (size_t i = 0; i < n && o + 1 < sizeof(clean); i++) {
			uint8_t c = (uint8_t)msg[i];
			clean[o++] = c < 0x80 ? (char)c : '?';
		}
		clean[o] = 0;
		msg = clean;
	}
	json_t *j = json_pack("{s:s}", "error", msg);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

static char *result_json(const sl_value *v)
{
	json_t *r;
	switch (v->type) {
	case SL_INT:
		r = json_integer(v->u.i);
		break;
	case SL_DOUBLE:
		r = (v->u.d != v->u.d || v->u.d - v->u.d != 0)
		    ? json_null()
		    : json_real(v->u.d);
		break;
	case SL_BYTES:
		r = utf8_ok(v->u.p, v->len)
		    ? json_stringn((const char *)v->u.p, v->len)
		    : json_null();
		break;
	default:
		r = json_null();
		break;
	}
	json_t *j = json_object();
	json_object_set_new(j, "result", r);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

/* The bytes answering a request: json itself in clear (*owned NULL), or
 * sealed into *owned (free()). NULL json means out of memory. */
static const uint8_t *encode_reply(sl_drpc_server *s, const sealinfo *si,
    const char *json, size_t *len, uint8_t **owned)
{
	const char *fallback = "{\"error\":\"out of memory\"}";
	const char *out = json ? json : fallback;
	size_t n = strlen(out);
	*owned = NULL;
	*len = n;
	if (!si->on)
		return (const uint8_t *)out;
	/* padded with spaces (JSON whitespace) to a power of two, so that
	 * the length tells little about the answer */
	size_t padded = PAD_MIN;
	while (padded < n)
		padded *= 2;
	uint8_t *b = malloc(1 + padded + SLI_SEAL_OVERHEAD);
	uint8_t *plain = malloc(padded);
	if (!b || !plain) {
		free(b);
		free(plain);
		*len = 0;
		return NULL;
	}
	memcpy(plain, out, n);
	memset(plain + n, ' ', padded - n);
	uint8_t ad[REP_AD_BYTES];
	reply_ad(ad, si->nonce);
	b[0] = SEALED_MARK;
	sli_seal(s->key, ad, sizeof(ad), plain, padded, b + 1);
	free(plain);
	*owned = b;
	*len = 1 + padded + SLI_SEAL_OVERHEAD;
	return b;
}

/* Answers the request of hdr (taken) with json (taken, may be NULL). */
static void reply(sl_drpc_server *s, void *hdr, const sealinfo *si, char *json)
{
	size_t n;
	uint8_t *owned;
	const uint8_t *b = encode_reply(s, si, json, &n, &owned);
	if (b)
		sli_rep_send(s->rep, hdr, b, n);
	else
		sli_rep_hdr_free(hdr); /* the client times out */
	free(owned);
	free(json);
}

/* Opens a sealed request m into *plain (owned) / [*req, *req + *rlen) and
 * fills si; returns NULL, or the reason it is refused. */
static const char *open_request(sl_drpc_server *s, const sli_msg *m,
    sealinfo *si, uint8_t **plain, const uint8_t **req, size_t *rlen)
{
	*plain = NULL;
	if (!s->keyed)
		return "sealed request, but this server has no cluster key";
	if (m->len == 0 || m->data[0] != SEALED_MARK)
		return "authentication required: this server accepts only "
		       "requests sealed with the cluster key";
	if (m->len < 1 + SLI_SEAL_OVERHEAD + 8)
		return "authentication failed: sealed request too short";
	size_t plen = m->len - 1 - SLI_SEAL_OVERHEAD;
	uint8_t *p = malloc(plen);
	if (!p)
		return "out of memory";
	if (sli_open(s->key, (const uint8_t *)REQ_AD, sizeof(REQ_AD) - 1,
	        m->data + 1, m->len - 1, p)) {
		free(p);
		return "authentication failed: wrong cluster key or tampered "
		       "request";
	}
	uint64_t ts = sli_le64_get(p), now = wall_ms();
	if ((ts > now ? ts - now : now - ts) > SKEW_MS) {
		free(p);
		return "authentication failed: request timestamp more than "
		       "300 s from the server's clock (replayed request or "
		       "clock skew)";
	}
	if (seen_check_add(&s->seen, m->data + 1, ts, now)) {
		free(p);
		return "authentication failed: replayed request (this "
		       "request was already answered)";
	}
	si->on = 1;
	memcpy(si->nonce, m->data + 1, SLI_SEAL_NONCE);
	*plain = p;
	*req = p + 8;
	*rlen = plen - 8;
	return NULL;
}

/* Parses and checks a request: SL_OK with the TAB's offset in *tab, or
 * SL_EINVAL with the reason in *why. Never reads outside [p, p+n). */
int sli_drpc_check_request(
    const uint8_t *p, size_t n, size_t max, size_t *tab, const char **why)
{
	*why = NULL;
	if (n == 0)
		*why = "empty request: expected FUNCTION<TAB>ARGS";
	else if (n > max)
		*why = "request too large";
	else {
		const uint8_t *t = memchr(p, '\t', n);
		if (!t)
			*why
			    = "malformed request: no TAB between function and "
			      "args";
		else if (t == p)
			*why = "malformed request: no function name";
		else if (!utf8_ok(p, n))
			*why = "request is not valid UTF-8";
		else if (memchr(p, 0, (size_t)(t - p)))
			*why = "malformed request: NUL in function name";
		else
			*tab = (size_t)(t - p);
	}
	return *why ? SL_EINVAL : SL_OK;
}

static void *worker(void *arg)
{
	sl_drpc_server *s = arg;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		job *j = NULL;
		while (!s->stop) {
			for (uint32_t i = 0; i < s->o.max_queue; i++)
				if (s->jobs[i].state == J_QUEUED) {
					j = &s->jobs[i];
					break;
				}
			if (j)
				break;
			pthread_cond_wait(&s->cv, &s->lock);
		}
		if (!j)
			break;
		j->state = J_RUNNING;
		s->busy_workers++;
		pthread_mutex_unlock(&s->lock);
		sl_value v = sl_null();
		sli_err(SL_OK, "%s", "");
		int rc = s->fn(s->user, j->fn, j->args, j->len, &v);
		char *json;
		if (rc == SL_ENOTFOUND && *sl_errdetail() == 0) {
			char m[300];
			snprintf(m, sizeof(m), "unknown function: %s", j->fn);
			json = error_json(m);
		} else if (rc == SL_ENOTFOUND) {
			char m[600];
			snprintf(m, sizeof(m), "%s", sl_errdetail());
			json = error_json(m);
		} else if (rc)
			json = error_json(*sl_errdetail() ? sl_errdetail()
			                                  : sl_strerror(rc));
		else
			json = result_json(&v);
		size_t blen;
		uint8_t *owned;
		const uint8_t *b
		    = encode_reply(s, &j->si, json, &blen, &owned);
		pthread_mutex_lock(&s->lock);
		s->busy_workers--;
		if (j->state == J_RUNNING) {
			if (b)
				sli_rep_send(s->rep, j->hdr, b, blen);
			else
				sli_rep_hdr_free(j->hdr);
			if (rc)
				s->st.errors++;
			else
				s->st.answered++;
		}
		free(owned);
		free(json);
		free(j->fn);
		free(j->args);
		j->state = J_FREE;
		pthread_cond_broadcast(&s->idle);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void expire(sl_drpc_server *s)
{
	uint64_t now = sli_now_ns();
	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < s->o.max_queue; i++) {
		job *j = &s->jobs[i];
		if ((j->state != J_QUEUED && j->state != J_RUNNING)
		    || now < j->deadline)
			continue;
		reply(s, j->hdr, &j->si, error_json("timeout"));
		j->hdr = NULL;
		s->st.timeouts++;
		if (j->state == J_QUEUED) {
			free(j->fn);
			free(j->args);
			j->state = J_FREE;
		} else
			j->state
			    = J_ABANDONED; /* the worker drops its answer */
	}
	pthread_mutex_unlock(&s->lock);
}

static void *receiver(void *arg)
{
	sl_drpc_server *s = arg;
	while (!s->stop) {
		sli_msg m;
		void *hdr = NULL;
		int rc = sli_rep_recv(s->rep, &m, &hdr, 20);
		expire(s);
		if (rc)
			continue;
		pthread_mutex_lock(&s->lock);
		s->st.requests++;
		pthread_mutex_unlock(&s->lock);
		sealinfo si = { 0 };
		uint8_t *plain = NULL;
		const uint8_t *req = m.data;
		size_t rlen = m.len;
		const char *bad = NULL;
		if (s->keyed || (m.len && m.data[0] == SEALED_MARK))
			bad = open_request(s, &m, &si, &plain, &req, &rlen);
		if (bad) {
			pthread_mutex_lock(&s->lock);
			s->st.auth_failures++;
			pthread_mutex_unlock(&s->lock);
			reply(s, hdr, &si, error_json(bad));
			sli_msg_free(&m);
			continue;
		}
		size_t tab = 0;
		if (sli_drpc_check_request(
		        req, rlen, s->o.max_request, &tab, &bad)) {
			pthread_mutex_lock(&s->lock);
			s->st.bad_requests++;
			pthread_mutex_unlock(&s->lock);
			reply(s, hdr, &si, error_json(bad));
			free(plain);
			sli_msg_free(&m);
			continue;
		}
		pthread_mutex_lock(&s->lock);
		job *j = NULL;
		for (uint32_t i = 0; i < s->o.max_queue; i++)
			if (s->jobs[i].state == J_FREE) {
				j = &s->jobs[i];
				break;
			}
		if (!j) {
			s->st.busy++;
			pthread_mutex_unlock(&s->lock);
			reply(s, hdr, &si,
			    error_json("busy: too many requests"));
			free(plain);
			sli_msg_free(&m);
			continue;
		}
		j->fn = malloc(tab + 1);
		j->len = rlen - tab - 1;
		j->args = malloc(j->len + 1);
		if (!j->fn || !j->args) {
			free(j->fn);
			free(j->args);
			pthread_mutex_unlock(&s->lock);
			reply(s, hdr, &si, error_json("out of memory"));
			free(plain);
			sli_msg_free(&m);
			continue;
		}
		memcpy(j->fn, req, tab);
		j->fn[tab] = 0;
		memcpy(j->args, req + tab + 1, j->len);
		j->args[j->len] = 0;
		j->si = si;
		j->hdr = hdr;
		j->deadline
		    = sli_now_ns() + (uint64_t)s->o.timeout_ms * 1000000u;
		j->state = J_QUEUED;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->lock);
		free(plain);
		sli_msg_free(&m);
	}
	return NULL;
}

int sl_drpc_server_start(
    sl_drpc_server **out, const sl_drpc_options *o, sl_drpc_fn fn, void *user)
{
	*out = NULL;
	sl_init();
	sl_drpc_server *s = calloc(1, sizeof(*s));
	if (!s)
		return SL_ENOMEM;
	sl_drpc_options_default(&s->o);
	if (o) {
		s->o = *o;
		sl_drpc_options d;
		sl_drpc_options_default(&d);
		if (!s->o.endpoint)
			s->o.endpoint = d.endpoint;
		if (s->o.timeout_ms <= 0)
			s->o.timeout_ms = d.timeout_ms;
		if (!s->o.workers)
			s->o.workers = d.workers;
		if (!s->o.max_queue)
			s->o.max_queue = d.max_queue;
		if (!s->o.max_request)
			s->o.max_request = d.max_request;
	}
	s->endpoint = strdup(s->o.endpoint);
	s->o.endpoint = s->endpoint;
	s->fn = fn;
	s->user = user;
	if (s->o.cluster_key) {
		sli_derive_key(s->key, s->o.cluster_key, KEY_CONTEXT);
		s->keyed = 1;
		if (seen_init(&s->seen)) {
			seen_free(&s->seen);
			sli_wipe(s->key, sizeof(s->key));
			free(s->endpoint);
			free(s);
			return SL_ENOMEM;
		}
	}
	s->jobs = calloc(s->o.max_queue, sizeof(job));
	s->w = calloc(s->o.workers, sizeof(pthread_t));
	if (!s->endpoint || !s->jobs || !s->w) {
		free(s->endpoint);
		free(s->jobs);
		free(s->w);
		free(s);
		return SL_ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_cond_init(&s->idle, NULL);
	/* requests up to 16x the limit arrive and get a clear error; larger
	 * ones are dropped by nanomsg */
	int rc = sli_rep_open(&s->rep, s->endpoint, s->o.cluster_key,
	    s->o.max_request * 16 + 64);
	if (rc) {
		sli_wipe(s->key, sizeof(s->key));
		seen_free(&s->seen);
		free(s->endpoint);
		free(s->jobs);
		free(s->w);
		free(s);
		return rc;
	}
	for (uint32_t i = 0; i < s->o.workers; i++)
		if (pthread_create(&s->w[i], NULL, worker, s) == 0)
			s->nw++;
	pthread_create(&s->rx, NULL, receiver, s);
	*out = s;
	return SL_OK;
}

void sl_drpc_server_stop(sl_drpc_server *s)
{
	if (!s)
		return;
	s->stop = 1;
	pthread_join(s->rx, NULL);
	pthread_mutex_lock(&s->lock);
	pthread_cond_broadcast(&s->cv);
	/* wait a little for handlers still running; abandon stuck ones */
	uint64_t until = sli_now_ns() + 2000000000ull;
	int stuck = 0;
	while (s->busy_workers && sli_now_ns() < until) {
		pthread_mutex_unlock(&s->lock);
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&s->lock);
	}
	stuck = s->busy_workers > 0;
	pthread_mutex_unlock(&s->lock);
	for (uint32_t i = 0; i < s->nw; i++) {
		if (stuck)
			pthread_detach(s->w[i]);
		else
			pthread_join(s->w[i], NULL);
	}
	for (uint32_t i = 0; i < s->o.max_queue; i++)
		if (s->jobs[i].state == J_QUEUED) {
			sli_rep_hdr_free(s->jobs[i].hdr);
			free(s->jobs[i].fn);
			free(s->jobs[i].args);
		}
	sli_rep_close(s->rep);
	if (stuck)
		return; /* the stuck threads still use s: leave it */
	free(s->jobs);
	free(s->w);
	free(s->endpoint);
	sli_wipe(s->key, sizeof(s->key));
	seen_free(&s->seen);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cv);
	pthread_cond_destroy(&s->idle);
	free(s);
}

int sl_drpc_server_stats(sl_drpc_server *s, sl_drpc_stats *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	pthread_mutex_unlock(&s->lock);
	return SL_OK;
}

static int topology_fn(void *user, const char *function, const uint8_t *args,
    size_t len, sl_value *result)
{
	return sl_topology_drpc_call(user, function, args, len, result);
}

int sl_drpc_server_start_topology(
    sl_drpc_server **out, const sl_drpc_options *o, sl_topology *t)
{
	return sl_drpc_server_start(out, o, topology_fn, t);
}

int sl_drpc_call(const char *endpoint, const char *function, const char *args,
    int timeout_ms, char **reply_json)
{
	return sl_drpc_call_keyed(
	    endpoint, NULL, function, args, timeout_ms, reply_json);
}

/* Opens the sealed reply m to the request sealed with nonce into a
 * NUL-terminated *json (owned). */
static int open_reply(
    const uint8_t *key, const uint8_t *nonce, const sli_msg *m, char **json)
{
	if (m->len < 1 + SLI_SEAL_OVERHEAD || m->data[0] != SEALED_MARK) {
		/* the server's words, shown with control bytes masked */
		char shown[201];
		size_t n = m->len < 200 ? m->len : 200;
		for (size_t i = 0; i < n; i++)
			shown[i] = m->data[i] < 0x20 || m->data[i] == 0x7f
			    ? '?'
			    : (char)m->data[i];
		shown[n] = 0;
		return sli_err(SL_ECRYPTO,
		    "the server's reply is not sealed with the cluster key "
		    "(wrong key, or a server without one): %s",
		    shown);
	}
	size_t n = m->len - 1 - SLI_SEAL_OVERHEAD;
	char *out = malloc(n + 1);
	if (!out)
		return SL_ENOMEM;
	uint8_t ad[REP_AD_BYTES];
	reply_ad(ad, nonce);
	if (sli_open(key, ad, sizeof(ad), m->data + 1, m->len - 1,
	        (uint8_t *)out)) {
		free(out);
		return sli_err(SL_ECRYPTO,
		    "the server's reply failed authentication (wrong cluster "
		    "key or a tampered reply)");
	}
	while (n && out[n - 1] == ' ') /* the padding */
		n--;
	out[n] = 0;
	*json = out;
	return SL_OK;
}

int sl_drpc_call_keyed(const char *endpoint, const uint8_t *cluster_key,
    const char *function, const char *args, int timeout_ms, char **reply_json)
{
	*reply_json = NULL;
	sl_init();
	if (!function || !args)
		return sli_err(SL_EINVAL, "no function or args");
	size_t fl = strlen(function), al = strlen(args);
	size_t pre = cluster_key ? 8 : 0; /* the timestamp */
	uint8_t *req = malloc(pre + fl + al + 1);
	if (!req)
		return SL_ENOMEM;
	if (pre)
		sli_le64_put(req, wall_ms());
	memcpy(req + pre, function, fl);
	req[pre + fl] = '\t';
	memcpy(req + pre + fl + 1, args, al);
	size_t len = pre + fl + al + 1;
	uint8_t key[SL_KEY_BYTES], *sealed = NULL;
	if (cluster_key) {
		sli_derive_key(key, cluster_key, KEY_CONTEXT);
		sealed = malloc(1 + len + SLI_SEAL_OVERHEAD);
		if (!sealed) {
			sli_wipe(key, sizeof(key));
			free(req);
			return SL_ENOMEM;
		}
		sealed[0] = SEALED_MARK;
		sli_seal(key, (const uint8_t *)REQ_AD, sizeof(REQ_AD) - 1, req,
		    len, sealed + 1);
	}
	sli_msg m;
	int rc = sli_req_call(endpoint ? endpoint : "tcp://127.0.0.1:3772",
	    sealed ? sealed : req, sealed ? 1 + len + SLI_SEAL_OVERHEAD : len,
	    timeout_ms > 0 ? timeout_ms : 5000, &m);
	free(req);
	if (!rc && sealed)
		rc = open_reply(key, sealed + 1, &m, reply_json);
	else if (!rc) {
		*reply_json = malloc(m.len + 1);
		if (*reply_json) {
			memcpy(*reply_json, m.data, m.len);
			(*reply_json)[m.len] = 0;
		} else
			rc = SL_ENOMEM;
	}
	if (m.data)
		sli_msg_free(&m);
	if (sealed) {
		sli_wipe(key, sizeof(key));
		free(sealed);
	}
	return rc;
}
