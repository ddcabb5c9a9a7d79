/*
 * server.c - the DRPC server: a raw REP socket (transport/reqrep.c), one
 * receiver thread that validates requests (drpc/protocol.c), opens sealed
 * ones (drpc/seal.c) and enforces timeouts, a bounded pool of handler
 * threads calling the server's function, JSON replies. Trident serves its
 * DRPC streams through it (trident/drpc.c).
 */
#include "drpc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { J_FREE, J_QUEUED, J_RUNNING, J_ABANDONED };

typedef struct job {
	int state;
	sli_drpc_sealinfo si;
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
	sli_drpc_seen seen;
};

void sl_drpc_options_default(sl_drpc_options *o)
{
	if (!o)
		return;
	memset(o, 0, sizeof(*o));
	o->endpoint = "tcp://127.0.0.1:3772";
	o->timeout_ms = 5000;
	o->workers = 4;
	o->max_queue = 64;
	o->max_request = 65536;
}

/* Answers the request of hdr (taken) with json (taken, may be NULL). */
static void reply(
    sl_drpc_server *s, void *hdr, const sli_drpc_sealinfo *si, char *json)
{
	size_t n;
	uint8_t *owned;
	const uint8_t *b = sli_drpc_encode_reply(
	    s->keyed ? s->key : NULL, si, json, &n, &owned);
	if (b)
		sli_rep_send(s->rep, hdr, b, n);
	else
		sli_rep_hdr_free(hdr); /* the client times out */
	free(owned);
	free(json);
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
			json = sli_drpc_error_json(m);
		} else if (rc == SL_ENOTFOUND) {
			char m[600];
			snprintf(m, sizeof(m), "%s", sl_errdetail());
			json = sli_drpc_error_json(m);
		} else if (rc)
			json = sli_drpc_error_json(*sl_errdetail()
			        ? sl_errdetail()
			        : sl_strerror(rc));
		else {
			int refused;
			json = sli_drpc_result_json(&v, &refused);
			if (refused)
				rc = SL_EINVAL; /* counted as an error */
		}
		size_t blen;
		uint8_t *owned;
		const uint8_t *b = sli_drpc_encode_reply(
		    s->keyed ? s->key : NULL, &j->si, json, &blen, &owned);
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
		reply(s, j->hdr, &j->si, sli_drpc_error_json("timeout"));
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
		/* the connections within the descriptors (issue 15.4) */
		uint64_t drops;
		sli_rep_guard(s->rep, &drops);
		pthread_mutex_lock(&s->lock);
		s->st.connection_drops = drops;
		pthread_mutex_unlock(&s->lock);
		if (rc)
			continue;
		pthread_mutex_lock(&s->lock);
		s->st.requests++;
		pthread_mutex_unlock(&s->lock);
		sli_drpc_sealinfo si = { 0 };
		uint8_t *plain = NULL;
		const uint8_t *req = m.data;
		size_t rlen = m.len;
		const char *bad = NULL;
		if (s->keyed || (m.len && m.data[0] == SLI_DRPC_SEALED_MARK))
			bad = sli_drpc_open_request(s->keyed ? s->key : NULL,
			    &s->seen, &m, &si, &plain, &req, &rlen);
		if (bad) {
			pthread_mutex_lock(&s->lock);
			s->st.auth_failures++;
			pthread_mutex_unlock(&s->lock);
			reply(s, hdr, &si, sli_drpc_error_json(bad));
			sli_msg_free(&m);
			continue;
		}
		size_t tab = 0;
		if (sli_drpc_check_request(
		        req, rlen, s->o.max_request, &tab, &bad)) {
			pthread_mutex_lock(&s->lock);
			s->st.bad_requests++;
			pthread_mutex_unlock(&s->lock);
			reply(s, hdr, &si, sli_drpc_error_json(bad));
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
			    sli_drpc_error_json("busy: too many requests"));
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
			reply(
			    s, hdr, &si, sli_drpc_error_json("out of memory"));
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
	SLI_NONNULL(out);
	SLI_NONNULL(fn);
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
		sli_drpc_derive_key(s->key, s->o.cluster_key);
		s->keyed = 1;
		if (sli_drpc_seen_init(&s->seen)) {
			sli_drpc_seen_free(&s->seen);
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
		sli_drpc_seen_free(&s->seen);
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
	sli_drpc_seen_free(&s->seen);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cv);
	pthread_cond_destroy(&s->idle);
	free(s);
}

int sl_drpc_server_stats(sl_drpc_server *s, sl_drpc_stats *st)
{
	SLI_NONNULL(s);
	SLI_NONNULL(st);
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	pthread_mutex_unlock(&s->lock);
	return SL_OK;
}
