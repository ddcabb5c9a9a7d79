/*
 * bolt.c - a bolt task of plain mode: runs the user function on each
 * tuple of its input frames and acks each tree once per frame.
 */
#include "plain_impl.h"

#include <stdlib.h>

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
			sli_plain_to_acker(k, a, 3);
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
		sli_plain_to_acker(k, a, 3);
	}
	k->nacks = 0;
}

void *sli_plain_bolt_main(void *arg)
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
			sli_plain_flush(k); /* idle: ship what waits */
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
				sli_plain_record_err(p, col.err);
				p->halt = 1;
			}
			if (!p->o.acking)
				continue;
			if (rc < 0 || col.err) {
				sl_value a[2] = { sl_int(A_FAIL),
					sl_int((int64_t)root) };
				sli_plain_to_acker(k, a, 2);
			} else
				combine_ack(k, root, id ^ col.xor_ids);
		}
		flush_acks(k);
		sli_msg_free(&m);
	}
	sli_plain_flush(k);
	sli_plain_send_end(k);
	return NULL;
}
