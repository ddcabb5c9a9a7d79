/*
 * plain.c - the plain tuple mode: a spout task, bolt tasks and one acker
 * task on threads, connected by nanomsg inproc links. Tuples travel in
 * frames (many per message); with acking on, each carries its tree's root
 * id and its own random id as two trailing int values, and acks travel to
 * the acker in frames too. An end marker (an EOB frame) follows the last
 * tuple so that an at-most-once run knows when everything was processed.
 */
#include "core/fault.h"
#include "core/latency.h"
#include "plain.h"
#include "transport/transport.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

enum { ST_DATA = 0, ST_ACK = 1, ST_REPLY = 2, ST_STOP = 3 };
enum { A_INIT = 0, A_ACK = 1, A_FAIL = 2 };

typedef struct comp {
	char *name;
	int input; /* component index, -1 for the spout */
	sl_grouping g;
	sli_grouping grouping;
	sl_fields *out;
	uint32_t ntasks;
	sl_plain_bolt_fn fn;
	void *user;
} comp;

typedef struct ptask ptask;

typedef struct pout {
	int comp;
	sli_link **links;
	sli_frame_writer *w;
	uint32_t n;
	sli_grouping g;
} pout;

struct sl_plain_collector {
	ptask *k;
	uint64_t root, xor_ids;
	int err;
	int fatal; /* err is a bug in the topology (wrong arity) */
};

struct ptask {
	sl_plain *p;
	int comp;
	uint32_t idx, gid;
	pthread_t th;
	sli_link *in, *to_acker;
	sli_frame_writer ackw;
	pout *outs;
	size_t nouts;
	uint64_t rng;
	uint32_t ends;
	/* bolts: acks of the current input frame, per root */
	uint64_t *ack_root, *ack_val;
	size_t nacks, cacks;
	/* spout: pending trees, msgid -> emit time */
	uint64_t *pk, *pv;
	size_t pcap, pn;
};

struct sl_plain {
	sl_plain_options o;
	comp *c;
	size_t nc;
	const sl_plain_spout *spout;
	void *spout_self;
	ptask **tasks;
	uint32_t ntasks;
	char url[64];
	pthread_mutex_t lock;
	sl_plain_stats st;
	sli_latency lat; /* tree latencies, ms (core/latency.h) */
	uint64_t start_ns, end_ns;
	_Atomic int acker_stop;
	int run_err; /* the first spout failure (under lock), and its detail */
	char run_msg[512];
	_Atomic int halt; /* a bolt failed in a way no replay heals */
	int build_err; /* the first failed set_spout/add_bolt */
	char build_msg[512];
};

/* Keeps the first build error: sl_plain_run refuses to start after one
 * (a topology missing a bolt would run and count nothing). */
static int build_fail(sl_plain *p, int rc)
{
	if (rc && !p->build_err) {
		p->build_err = rc;
		snprintf(p->build_msg, sizeof(p->build_msg), "%s",
		    *sl_errdetail() ? sl_errdetail() : sl_strerror(rc));
	}
	return rc;
}

/* Records the first failure that stops the spout, for sl_plain_run. */
static void record_err(sl_plain *p, int rc)
{
	pthread_mutex_lock(&p->lock);
	if (!p->run_err) {
		p->run_err = rc;
		snprintf(p->run_msg, sizeof(p->run_msg), "%s",
		    *sl_errdetail() ? sl_errdetail() : sl_strerror(rc));
	}
	pthread_mutex_unlock(&p->lock);
}

void sl_plain_options_default(sl_plain_options *o)
{
	memset(o, 0, sizeof(*o));
	o->acking = 1;
	o->message_timeout_ms = 30000;
	o->max_spout_pending = 10000;
	o->frame_tuples = 1024;
}

int sl_plain_new(sl_plain **out, const sl_plain_options *o)
{
	*out = NULL;
	int rc = sl_init();
	if (rc)
		return rc;
	sl_plain *p = calloc(1, sizeof(*p));
	if (!p)
		return SL_ENOMEM;
	sl_plain_options_default(&p->o);
	if (o)
		p->o = *o;
	if (!p->o.frame_tuples)
		p->o.frame_tuples = 1024;
	if (p->o.message_timeout_ms <= 0)
		p->o.message_timeout_ms = 30000;
	if (!p->o.max_spout_pending)
		p->o.max_spout_pending = 10000;
	pthread_mutex_init(&p->lock, NULL);
	*out = p;
	return SL_OK;
}

void sl_plain_free(sl_plain *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nc; i++) {
		free(p->c[i].name);
		sl_fields_free(p->c[i].out);
	}
	free(p->c);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static int find_comp(const sl_plain *p, const char *name)
{
	for (size_t i = 0; i < p->nc; i++)
		if (!strcmp(p->c[i].name, name))
			return (int)i;
	return -1;
}

static int add_comp(sl_plain *p, const char *name, comp **out)
{
	if (!name || !*name || find_comp(p, name) >= 0)
		return sli_err(SL_EINVAL,
		    "component name '%s' missing or taken", name ? name : "");
	comp *nc = realloc(p->c, (p->nc + 1) * sizeof(*nc));
	if (!nc)
		return SL_ENOMEM;
	p->c = nc;
	*out = &p->c[p->nc++];
	memset(*out, 0, sizeof(**out));
	(*out)->name = strdup(name);
	return (*out)->name ? SL_OK : SL_ENOMEM;
}

static int set_spout(sl_plain *p, const char *name, const sl_plain_spout *ops,
    void *self, const char *fields);

int sl_plain_set_spout(sl_plain *p, const char *name,
    const sl_plain_spout *ops, void *self, const char *fields)
{
	return build_fail(p, set_spout(p, name, ops, self, fields));
}

static int set_spout(sl_plain *p, const char *name, const sl_plain_spout *ops,
    void *self, const char *fields)
{
	if (p->spout)
		return sli_err(SL_EINVAL, "the topology has a spout already");
	if (!ops || !ops->next_tuple)
		return sli_err(SL_EINVAL, "spout without next_tuple");
	comp *c;
	int rc = add_comp(p, name, &c);
	if (rc)
		return rc;
	c->input = -1;
	c->ntasks = 1;
	if ((rc = sl_fields_parse(&c->out, fields)))
		return rc;
	p->spout = ops;
	p->spout_self = self;
	return SL_OK;
}

static int add_bolt(sl_plain *p, const char *name, const char *input,
    sl_grouping g, const char *group_fields, sl_plain_bolt_fn fn, void *user,
    const char *out_fields, uint32_t parallelism);

int sl_plain_add_bolt(sl_plain *p, const char *name, const char *input,
    sl_grouping g, const char *group_fields, sl_plain_bolt_fn fn, void *user,
    const char *out_fields, uint32_t parallelism)
{
	return build_fail(p,
	    add_bolt(p, name, input, g, group_fields, fn, user, out_fields,
	        parallelism));
}

static int add_bolt(sl_plain *p, const char *name, const char *input,
    sl_grouping g, const char *group_fields, sl_plain_bolt_fn fn, void *user,
    const char *out_fields, uint32_t parallelism)
{
	int in = input ? find_comp(p, input) : -1;
	if (in < 0)
		return sli_err(SL_ENOTFOUND, "bolt %s: no component '%s'",
		    name, input ? input : "");
	if (!fn || parallelism == 0 || parallelism > 256)
		return sli_err(SL_EINVAL,
		    "bolt %s: no function or bad "
		    "parallelism",
		    name);
	sli_grouping gr;
	memset(&gr, 0, sizeof(gr));
	gr.kind = (sli_grouping_kind)g;
	gr.local = -1;
	if (g == SL_GROUP_FIELDS) {
		sl_fields *gf;
		int rc = sl_fields_parse(&gf, group_fields);
		if (rc)
			return rc;
		for (size_t i = 0; i < sl_fields_count(gf); i++) {
			int k = sl_fields_index(
			    p->c[in].out, sl_fields_name(gf, i));
			if (k < 0) {
				rc = sli_err(SL_ENOTFOUND,
				    "bolt %s: %s has no field '%s'", name,
				    input, sl_fields_name(gf, i));
				sl_fields_free(gf);
				return rc;
			}
			gr.fields[gr.nfields++] = k;
		}
		sl_fields_free(gf);
		if (!gr.nfields)
			return sli_err(
			    SL_EINVAL, "bolt %s: no group fields", name);
	}
	comp *c;
	int rc = add_comp(p, name, &c);
	if (rc)
		return rc;
	c->input = in;
	c->g = g;
	c->grouping = gr;
	c->fn = fn;
	c->user = user;
	c->ntasks = g == SL_GROUP_GLOBAL ? 1 : parallelism;
	return sl_fields_parse(&c->out, out_fields);
}

uint32_t sl_plain_task_index(const sl_plain_collector *c)
{
	return c->k->idx;
}

static uint64_t rnd(ptask *k)
{
	/* xorshift64*: fast ids; seeded per task */
	k->rng ^= k->rng >> 12;
	k->rng ^= k->rng << 25;
	k->rng ^= k->rng >> 27;
	uint64_t v = k->rng * 0x2545f4914f6cdd1dull;
	return v ? v : 1;
}

static int send_frame(sli_link *l, sli_frame_writer *w)
{
	const uint8_t *d;
	size_t n;
	int rc = sli_frame_writer_finish(w, NULL, &d, &n);
	if (!rc)
		rc = sli_link_send(l, d, n, -1);
	sli_frame_header h = w->h;
	h.count = 0;
	sli_frame_writer_begin(w, &h);
	return rc;
}

/* Ships a data frame of task k; frames between bolts may be dropped on
 * purpose (the fault point plain_drop, seeded by the task's generator),
 * counted as lost. */
static int ship(ptask *k, sli_link *l, sli_frame_writer *w)
{
	sl_plain *p = k->p;
	if (k->comp != 0
	    && sli_fault(SLI_FAULT_PLAIN_DROP, p, rnd(k), k->comp)) {
		pthread_mutex_lock(&p->lock);
		p->st.dropped_frames++;
		p->st.lost_tuples += w->h.count;
		pthread_mutex_unlock(&p->lock);
		sli_frame_header h = w->h;
		h.count = 0;
		return sli_frame_writer_begin(w, &h);
	}
	return send_frame(l, w);
}

/* Flushes task k's partial frames (data and acks). */
static int flush(ptask *k)
{
	for (size_t o = 0; o < k->nouts; o++)
		for (uint32_t t = 0; t < k->outs[o].n; t++) {
			sli_frame_writer *w = &k->outs[o].w[t];
			if (!w->h.count)
				continue;
			int rc = ship(k, k->outs[o].links[t], w);
			if (rc)
				return rc;
		}
	if (k->to_acker && k->ackw.h.count)
		return send_frame(k->to_acker, &k->ackw);
	return SL_OK;
}

static int to_acker(ptask *k, const sl_value *v, size_t n)
{
	int rc = sli_frame_writer_add(&k->ackw, v, n);
	if (rc == SL_EFULL && !(rc = send_frame(k->to_acker, &k->ackw)))
		rc = sli_frame_writer_add(&k->ackw, v, n);
	if (!rc && k->ackw.h.count >= k->p->o.frame_tuples)
		rc = send_frame(k->to_acker, &k->ackw);
	return rc;
}

/* Routes one tuple (values + anchor) to every subscriber. */
static int route(
    ptask *k, const sl_value *v, size_t n, uint64_t root, uint64_t *xor_ids)
{
	sl_plain *p = k->p;
	sl_value tu[SL_MAX_FIELDS + 2];
	memcpy(tu, v, n * sizeof(sl_value));
	for (size_t o = 0; o < k->nouts; o++) {
		pout *po = &k->outs[o];
		int32_t t = sli_grouping_target(&po->g, v, n);
		for (uint32_t j = 0; j < po->n; j++) {
			if (t >= 0 && (uint32_t)t != j)
				continue;
			size_t m = n;
			if (p->o.acking) {
				uint64_t id = rnd(k);
				*xor_ids ^= id;
				tu[m++] = sl_int((int64_t)root);
				tu[m++] = sl_int((int64_t)id);
			}
			int rc = sli_frame_writer_add(&po->w[j], tu, m);
			if (rc == SL_EFULL
			    && !(rc = ship(k, po->links[j], &po->w[j])))
				rc = sli_frame_writer_add(&po->w[j], tu, m);
			if (!rc && po->w[j].h.count >= p->o.frame_tuples)
				rc = ship(k, po->links[j], &po->w[j]);
			if (rc)
				return rc;
		}
	}
	return SL_OK;
}

int sl_plain_emit(sl_plain_collector *c, const sl_value *v, size_t n)
{
	if (c->err)
		return c->err;
	if (n != sl_fields_count(c->k->p->c[c->k->comp].out)) {
		c->fatal = 1; /* every replay would fail the same way */
		return c->err = sli_err(SL_EINVAL,
		           "%s emitted %zu values, its fields are %zu",
		           c->k->p->c[c->k->comp].name, n,
		           sl_fields_count(c->k->p->c[c->k->comp].out));
	}
	return c->err = route(c->k, v, n, c->root, &c->xor_ids);
}

/* ---- spout pending set: msgid -> emit time ---- */
static int pending_put(ptask *k, uint64_t id, uint64_t ns)
{
	if ((k->pn + 1) * 2 > k->pcap) {
		size_t nc = k->pcap ? k->pcap * 2 : 1024;
		uint64_t *nk = calloc(nc, 8), *nv = calloc(nc, 8);
		if (!nk || !nv) {
			free(nk);
			free(nv);
			return SL_ENOMEM;
		}
		for (size_t i = 0; i < k->pcap; i++)
			if (k->pk[i]) {
				size_t j = (k->pk[i] * 0x9e3779b97f4a7c15ull)
				    & (nc - 1);
				while (nk[j])
					j = (j + 1) & (nc - 1);
				nk[j] = k->pk[i];
				nv[j] = k->pv[i];
			}
		free(k->pk);
		free(k->pv);
		k->pk = nk;
		k->pv = nv;
		k->pcap = nc;
	}
	uint64_t key = id + 1; /* 0 marks an empty slot */
	size_t j = (key * 0x9e3779b97f4a7c15ull) & (k->pcap - 1);
	while (k->pk[j] && k->pk[j] != key)
		j = (j + 1) & (k->pcap - 1);
	if (!k->pk[j])
		k->pn++;
	k->pk[j] = key;
	k->pv[j] = ns;
	return SL_OK;
}

/* Removes id; returns its emit time or 0 when it was not pending. */
static uint64_t pending_take(ptask *k, uint64_t id)
{
	if (!k->pcap)
		return 0;
	uint64_t key = id + 1;
	size_t j = (key * 0x9e3779b97f4a7c15ull) & (k->pcap - 1);
	while (k->pk[j] && k->pk[j] != key)
		j = (j + 1) & (k->pcap - 1);
	if (!k->pk[j])
		return 0;
	uint64_t ns = k->pv[j];
	k->pk[j] = 0;
	k->pn--;
	/* re-insert the rest of the cluster */
	for (size_t i = (j + 1) & (k->pcap - 1); k->pk[i];
	     i = (i + 1) & (k->pcap - 1)) {
		uint64_t kk = k->pk[i], vv = k->pv[i];
		k->pk[i] = 0;
		size_t h = (kk * 0x9e3779b97f4a7c15ull) & (k->pcap - 1);
		while (k->pk[h])
			h = (h + 1) & (k->pcap - 1);
		k->pk[h] = kk;
		k->pv[h] = vv;
	}
	return ns;
}

int sl_plain_spout_emit(
    sl_plain_collector *c, uint64_t msgid, const sl_value *v, size_t n)
{
	ptask *k = c->k;
	sl_plain *p = k->p;
	if (n != sl_fields_count(p->c[0].out))
		return c->err
		    = sli_err(SL_EINVAL, "spout emitted %zu values", n);
	uint64_t root = p->o.acking ? rnd(k) : 0, xor_ids = 0;
	int rc = route(k, v, n, root, &xor_ids);
	pthread_mutex_lock(&p->lock);
	p->st.emitted++;
	pthread_mutex_unlock(&p->lock);
	if (rc)
		return c->err = rc;
	if (!p->o.acking) {
		if (p->spout->ack)
			p->spout->ack(p->spout_self, msgid);
		return SL_OK;
	}
	if ((rc = pending_put(k, msgid, sli_now_ns())))
		return rc;
	sl_value a[4] = { sl_int(A_INIT), sl_int((int64_t)root),
		sl_int((int64_t)xor_ids), sl_int((int64_t)msgid) };
	return to_acker(k, a, 4);
}

/* Acker replies to the spout: (msgid, 1 done | 0 failed | 2 timed out). */
static int spout_replies(ptask *k, int timeout_ms)
{
	sl_plain *p = k->p;
	for (;;) {
		sli_msg m;
		int rc = sli_link_recv(k->in, &m, timeout_ms);
		if (rc)
			return rc == SL_ETIMEDOUT || rc == SL_EAGAIN ? SL_OK
			                                             : rc;
		timeout_ms = 0;
		sli_frame_reader r;
		if (sli_frame_decode(&r, m.data, m.len, NULL) == SL_OK) {
			sl_value v[2];
			size_t n;
			while (
			    sli_frame_next(&r, v, 2, &n) == SL_OK && n == 2) {
				uint64_t id = (uint64_t)v[0].u.i;
				uint64_t t0 = pending_take(k, id);
				if (!t0)
					continue;
				pthread_mutex_lock(&p->lock);
				if (v[1].u.i == 1) {
					p->st.acked++;
					sli_latency_add(&p->lat,
					    (double)(sli_now_ns() - t0) / 1e6);
				} else if (v[1].u.i == 2)
					p->st.timed_out++, p->st.failed++;
				else
					p->st.failed++;
				pthread_mutex_unlock(&p->lock);
				if (v[1].u.i == 1) {
					if (p->spout->ack)
						p->spout->ack(
						    p->spout_self, id);
				} else if (p->spout->fail)
					p->spout->fail(p->spout_self, id);
			}
		}
		sli_msg_free(&m);
	}
}

static int send_end(ptask *k)
{
	for (size_t o = 0; o < k->nouts; o++)
		for (uint32_t t = 0; t < k->outs[o].n; t++) {
			sli_frame_writer w;
			sli_frame_writer_init(&w);
			sli_frame_header h = { SLI_FRAME_EOB, 0, ST_DATA, 0, 0,
				k->idx, t, 0 };
			sli_frame_writer_begin(&w, &h);
			int rc = send_frame(k->outs[o].links[t], &w);
			sli_frame_writer_free(&w);
			if (rc)
				return rc;
		}
	return SL_OK;
}

static void *spout_main(void *arg)
{
	ptask *k = arg;
	sl_plain *p = k->p;
	sl_plain_collector c = { k, 0, 0, 0 };
	int exhausted = 0;
	for (;;) {
		int idle = 1;
		if (p->halt)
			goto out;
		for (size_t i = 0; i < p->o.frame_tuples; i++) {
			if (p->o.acking && k->pn >= p->o.max_spout_pending)
				break;
			int rc = p->spout->next_tuple(p->spout_self, &c);
			if (rc == SL_ECLOSED) {
				exhausted = 1;
				break;
			}
			if (rc == SL_EAGAIN)
				break;
			exhausted = 0;
			idle = 0;
			if (rc || c.err) {
				record_err(p, rc ? rc : c.err);
				goto out;
			}
		}
		pthread_mutex_lock(&p->lock);
		if (k->pn > p->st.max_pending_seen)
			p->st.max_pending_seen = k->pn;
		pthread_mutex_unlock(&p->lock);
		int frc = flush(k);
		if (frc) {
			record_err(p, frc);
			goto out;
		}
		if (exhausted && (!p->o.acking || k->pn == 0))
			break;
		if (p->o.acking)
			spout_replies(k, idle ? 5 : 0);
		else if (idle)
			usleep(1000);
	}
out:
	flush(k);
	send_end(k);
	return NULL;
}

static void combine_ack(ptask *k, uint64_t root, uint64_t val)
{
	/* frames hold tuples of few trees in a row: a short backward scan
	 * finds the entry; a new root is appended */
	for (size_t i = k->nacks; i > 0 && i + 8 > k->nacks; i--)
		if (k->ack_root[i - 1] == root) {
			k->ack_val[i - 1] ^= val;
			return;
		}
	if (k->nacks == k->cacks) {
		size_t nc = k->cacks ? k->cacks * 2 : 1024;
		uint64_t *r = realloc(k->ack_root, nc * sizeof(uint64_t));
		if (r)
			k->ack_root = r;
		uint64_t *v = realloc(k->ack_val, nc * sizeof(uint64_t));
		if (v)
			k->ack_val = v;
		if (!r || !v) {
			sl_value a[3] = { sl_int(A_ACK), sl_int((int64_t)root),
				sl_int((int64_t)val) };
			to_acker(k, a, 3);
			return;
		}
		k->cacks = nc;
	}
	k->ack_root[k->nacks] = root;
	k->ack_val[k->nacks++] = val;
}

static void flush_acks(ptask *k)
{
	for (size_t i = 0; i < k->nacks; i++) {
		sl_value a[3]
		    = { sl_int(A_ACK), sl_int((int64_t)k->ack_root[i]),
			      sl_int((int64_t)k->ack_val[i]) };
		to_acker(k, a, 3);
	}
	k->nacks = 0;
}

static void *bolt_main(void *arg)
{
	ptask *k = arg;
	sl_plain *p = k->p;
	comp *c = &p->c[k->comp];
	uint32_t nup = p->c[c->input].ntasks;
	size_t nf = sl_fields_count(p->c[c->input].out);
	for (;;) {
		sli_msg m;
		int rc = sli_link_recv(k->in, &m, 0);
		if (rc == SL_ETIMEDOUT || rc == SL_EAGAIN) {
			flush(k); /* idle: ship what waits */
			rc = sli_link_recv(k->in, &m, 200);
			if (rc == SL_ETIMEDOUT || rc == SL_EAGAIN)
				continue;
		}
		if (rc)
			break;
		sli_frame_reader r;
		if (sli_frame_decode(&r, m.data, m.len, NULL)) {
			sli_msg_free(&m);
			continue;
		}
		if (r.h.kind == SLI_FRAME_EOB) {
			sli_msg_free(&m);
			if (++k->ends == nup)
				break;
			continue;
		}
		sl_value v[SL_MAX_FIELDS + 2];
		size_t n;
		/* acks of one input frame are combined per tree: XOR is
		 * associative, so one message per root carries them all */
		k->nacks = 0;
		while (sli_frame_next(&r, v, SL_MAX_FIELDS + 2, &n) == SL_OK) {
			uint64_t root = 0, id = 0;
			if (p->o.acking && n >= 2) {
				root = (uint64_t)v[n - 2].u.i;
				id = (uint64_t)v[n - 1].u.i;
				n -= 2;
			}
			if (n != nf)
				continue;
			sl_plain_collector col = { k, root, 0, 0, 0 };
			sl_tuple in = { v, n };
			rc = c->fn(c->user, &in, &col);
			if (col.fatal) {
				record_err(p, col.err);
				p->halt = 1;
			}
			if (!p->o.acking)
				continue;
			if (rc < 0 || col.err) {
				sl_value a[2] = { sl_int(A_FAIL),
					sl_int((int64_t)root) };
				to_acker(k, a, 2);
			} else
				combine_ack(k, root, id ^ col.xor_ids);
		}
		flush_acks(k);
		sli_msg_free(&m);
	}
	flush(k);
	send_end(k);
	return NULL;
}

typedef struct acker_ctx {
	sl_plain *p;
	sli_link **to_spout;
	sli_frame_writer w;
	int status;
} acker_ctx;

static void reply(acker_ctx *a, uint64_t msgid, int status)
{
	sl_value v[2] = { sl_int((int64_t)msgid), sl_int(status) };
	sli_frame_writer_add(&a->w, v, 2);
	if (a->w.h.count >= a->p->o.frame_tuples)
		send_frame(a->to_spout[0], &a->w);
}

static void expired(void *user, const sli_tree *t)
{
	reply(user, t->msgid, 2);
}

static void *acker_main(void *arg)
{
	ptask *k = arg;
	sl_plain *p = k->p;
	acker_ctx a;
	memset(&a, 0, sizeof(a));
	a.p = p;
	sli_link *spout_link = NULL;
	char url[128];
	snprintf(url, sizeof(url), "%s-c0-t0", p->url);
	if (sli_link_push(&spout_link, url, 64))
		return NULL;
	a.to_spout = &spout_link;
	sli_frame_writer_init(&a.w);
	sli_frame_header h = { SLI_FRAME_DATA, 0, ST_REPLY, 0, 0, 0, 0, 0 };
	sli_frame_writer_begin(&a.w, &h);
	sli_acker ak;
	sli_acker_init(&ak, 3);
	uint64_t rot_ns = (uint64_t)p->o.message_timeout_ms * 1000000u / 2;
	uint64_t next_rot = sli_now_ns() + rot_ns;
	while (!p->acker_stop) {
		sli_msg m;
		int rc = sli_link_recv(k->in, &m, 0);
		if (rc == SL_ETIMEDOUT || rc == SL_EAGAIN) {
			if (a.w.h.count)
				send_frame(spout_link, &a.w);
			rc = sli_link_recv(k->in, &m, 20);
		}
		uint64_t now = sli_now_ns();
		if (now >= next_rot) {
			sli_acker_rotate(&ak, expired, &a);
			next_rot = now + rot_ns;
		}
		if (rc)
			continue;
		sli_frame_reader r;
		if (sli_frame_decode(&r, m.data, m.len, NULL) == SL_OK) {
			sl_value v[4];
			size_t n;
			while (
			    sli_frame_next(&r, v, 4, &n) == SL_OK && n >= 2) {
				sli_tree t;
				uint64_t root = (uint64_t)v[1].u.i;
				int st = SLI_ACK_PENDING;
				if (v[0].u.i == A_INIT && n == 4)
					st = sli_acker_start(&ak, root,
					    (uint64_t)v[2].u.i, 0,
					    (uint64_t)v[3].u.i, &t);
				else if (v[0].u.i == A_ACK && n == 3)
					st = sli_acker_ack(
					    &ak, root, (uint64_t)v[2].u.i, &t);
				else if (v[0].u.i == A_FAIL)
					st = sli_acker_fail(&ak, root, &t);
				if (st == SLI_ACK_DONE)
					reply(&a, t.msgid, 1);
				else if (st == SLI_ACK_FAILED)
					reply(&a, t.msgid, 0);
			}
		}
		sli_msg_free(&m);
	}
	if (a.w.h.count)
		send_frame(spout_link, &a.w);
	sli_acker_free(&ak);
	sli_frame_writer_free(&a.w);
	sli_link_close(spout_link);
	return NULL;
}

static void free_task(ptask *k)
{
	if (!k)
		return;
	for (size_t o = 0; o < k->nouts; o++) {
		for (uint32_t t = 0; t < k->outs[o].n; t++) {
			sli_frame_writer_free(&k->outs[o].w[t]);
			sli_link_close(k->outs[o].links[t]);
		}
		free(k->outs[o].w);
		free(k->outs[o].links);
	}
	free(k->outs);
	sli_frame_writer_free(&k->ackw);
	sli_link_close(k->in);
	sli_link_close(k->to_acker);
	free(k->pk);
	free(k->pv);
	free(k->ack_root);
	free(k->ack_val);
	free(k);
}

int sl_plain_stats_get(sl_plain *p, sl_plain_stats *st)
{
	pthread_mutex_lock(&p->lock);
	*st = p->st;
	uint64_t end = p->end_ns ? p->end_ns : sli_now_ns();
	st->elapsed_s = p->start_ns ? (double)(end - p->start_ns) / 1e9 : 0;
	st->latency_p50_ms = sli_latency_quantile(&p->lat, 0.5);
	st->latency_p99_ms = sli_latency_quantile(&p->lat, 0.99);
	pthread_mutex_unlock(&p->lock);
	return SL_OK;
}

int sl_plain_run(sl_plain *p)
{
	if (p->build_err)
		return sli_err(p->build_err, "%s", p->build_msg);
	if (!p->spout)
		return sli_err(SL_EINVAL, "the topology has no spout");
	p->run_err = 0;
	p->run_msg[0] = 0;
	p->halt = 0;
	static _Atomic unsigned seq;
	snprintf(p->url, sizeof(p->url), "inproc://plain-%ld-%u",
	    (long)getpid(), ++seq);
	uint64_t seed = p->o.seed;
	if (!seed && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = sli_now_ns();
	uint32_t total = 0;
	for (size_t i = 0; i < p->nc; i++)
		total += p->c[i].ntasks;
	p->ntasks = total + 1; /* + the acker */
	p->tasks = calloc(p->ntasks, sizeof(ptask *));
	if (!p->tasks)
		return SL_ENOMEM;
	char url[128], acker_url[128];
	snprintf(acker_url, sizeof(acker_url), "%s-acker", p->url);
	int rc = SL_OK;
	uint32_t gid = 0;
	for (size_t ci = 0; ci < p->nc && !rc; ci++)
		for (uint32_t i = 0; i < p->c[ci].ntasks && !rc; i++) {
			ptask *k = calloc(1, sizeof(*k));
			if (!k) {
				rc = SL_ENOMEM;
				break;
			}
			p->tasks[gid] = k;
			k->p = p;
			k->comp = (int)ci;
			k->idx = i;
			k->gid = gid++;
			k->rng = seed ^ (0x9e3779b97f4a7c15ull * (k->gid + 1));
			snprintf(
			    url, sizeof(url), "%s-c%zu-t%u", p->url, ci, i);
			rc = sli_link_pull(&k->in, url);
			sli_frame_writer_init(&k->ackw);
			sli_frame_header h = { SLI_FRAME_DATA, 0, ST_ACK, 0, 0,
				k->idx, 0, 0 };
			sli_frame_writer_begin(&k->ackw, &h);
			if (!rc && p->o.acking)
				rc = sli_link_push(
				    &k->to_acker, acker_url, 64);
		}
	ptask *acker = calloc(1, sizeof(*acker));
	if (!acker)
		rc = SL_ENOMEM;
	else {
		acker->p = p;
		acker->comp = -1;
		p->tasks[gid] = acker;
		if (!rc)
			rc = sli_link_pull(&acker->in, acker_url);
	}
	/* outputs: each task to every task of each subscriber */
	for (uint32_t g = 0; g < total && !rc; g++) {
		ptask *k = p->tasks[g];
		for (size_t d = 0; d < p->nc && !rc; d++) {
			if (p->c[d].input != k->comp)
				continue;
			pout *no
			    = realloc(k->outs, (k->nouts + 1) * sizeof(*no));
			if (!no) {
				rc = SL_ENOMEM;
				break;
			}
			k->outs = no;
			pout *po = &k->outs[k->nouts++];
			memset(po, 0, sizeof(*po));
			po->comp = (int)d;
			po->n = p->c[d].ntasks;
			po->g = p->c[d].grouping;
			po->g.ntargets = po->n;
			po->g.next = k->idx;
			po->links = calloc(po->n, sizeof(sli_link *));
			po->w = calloc(po->n, sizeof(sli_frame_writer));
			if (!po->links || !po->w) {
				rc = SL_ENOMEM;
				break;
			}
			for (uint32_t t = 0; t < po->n && !rc; t++) {
				snprintf(url, sizeof(url), "%s-c%zu-t%u",
				    p->url, d, t);
				rc = sli_link_push(&po->links[t], url, 64);
				sli_frame_writer_init(&po->w[t]);
				sli_frame_header h = { SLI_FRAME_DATA, 0,
					ST_DATA, 0, 0, k->idx, t, 0 };
				sli_frame_writer_begin(&po->w[t], &h);
			}
		}
	}
	p->start_ns = sli_now_ns();
	p->end_ns = 0;
	p->acker_stop = 0;
	pthread_t ath;
	int acker_started = 0;
	if (!rc && p->o.acking) {
		if (pthread_create(&ath, NULL, acker_main, acker) == 0)
			acker_started = 1;
		else
			rc = SL_ENOMEM;
	}
	uint32_t started = 0;
	for (uint32_t g = 0; g < total && !rc; g++, started++)
		if (pthread_create(&p->tasks[g]->th, NULL,
		        p->tasks[g]->comp == 0 ? spout_main : bolt_main,
		        p->tasks[g]))
			rc = SL_ENOMEM;
	for (uint32_t g = 0; g < started; g++)
		pthread_join(p->tasks[g]->th, NULL);
	p->acker_stop = 1;
	if (acker_started)
		pthread_join(ath, NULL);
	p->end_ns = sli_now_ns();
	for (uint32_t g = 0; g < p->ntasks; g++)
		free_task(p->tasks[g]);
	free(p->tasks);
	p->tasks = NULL;
	/* a spout that failed stopped the run: that is not success */
	if (!rc && p->run_err)
		rc = sli_err(p->run_err, "%s", p->run_msg);
	return rc;
}

static int emit_word_p(void *ctx, const sl_value *word)
{
	return sl_plain_emit(ctx, word, 1);
}

int sl_plain_split_words(
    void *user, const sl_tuple *in, sl_plain_collector *out)
{
	(void)user;
	return in->n ? sli_split_words(&in->v[0], emit_word_p, out) : SL_OK;
}
