/*
 * spout.c - the spout task of plain mode: pulls tuples from the user's
 * spout, keeps the pending trees (msgid -> emit time) and turns the
 * acker's replies into ack/fail calls (the spout replays) and latencies.
 */
#include "plain_impl.h"

#include <stdlib.h>
#include <unistd.h>

/* The spout's pending set: msgid -> emit time. */
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
	SLI_NONNULL(c);
	SLI_NONNULL(v || n == 0);
	ptask *k = c->k;
	sl_plain *p = k->p;
	if (n != sl_fields_count(p->c[0].out))
		return c->err
		    = sli_err(SL_EINVAL, "spout emitted %zu values", n);
	uint64_t root = p->o.acking ? sli_plain_rnd(k) : 0, xor_ids = 0;
	int rc = sli_plain_route(k, v, n, root, &xor_ids);
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
	return sli_plain_to_acker(k, a, 4);
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

void *sli_plain_spout_main(void *arg)
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
				sli_plain_record_err(p, rc ? rc : c.err);
				goto out;
			}
		}
		pthread_mutex_lock(&p->lock);
		if (k->pn > p->st.max_pending_seen)
			p->st.max_pending_seen = k->pn;
		pthread_mutex_unlock(&p->lock);
		int frc = sli_plain_flush(k);
		if (frc) {
			sli_plain_record_err(p, frc);
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
	sli_plain_flush(k);
	sli_plain_send_end(k);
	return NULL;
}
