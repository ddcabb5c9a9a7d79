/*
 * emit.c - a task's outbound path in plain mode: tuples routed by the
 * subscribers' groupings into frames (with the tree's root and a random
 * id when acking), frames shipped when full or idle, acks gathered for the
 * acker, the end marker.
 */
#include "core/fault.h"
#include "plain_impl.h"

#include <string.h>

int sli_plain_send_frame(sli_link *l, sli_frame_writer *w)
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
	    && sli_fault(SLI_FAULT_PLAIN_DROP, p, sli_plain_rnd(k), k->comp)) {
		pthread_mutex_lock(&p->lock);
		p->st.dropped_frames++;
		p->st.lost_tuples += w->h.count;
		pthread_mutex_unlock(&p->lock);
		sli_frame_header h = w->h;
		h.count = 0;
		return sli_frame_writer_begin(w, &h);
	}
	return sli_plain_send_frame(l, w);
}

int sli_plain_flush(ptask *k)
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
		return sli_plain_send_frame(k->to_acker, &k->ackw);
	return SL_OK;
}

int sli_plain_to_acker(ptask *k, const sl_value *v, size_t n)
{
	int rc = sli_frame_writer_add(&k->ackw, v, n);
	if (rc == SL_EFULL
	    && !(rc = sli_plain_send_frame(k->to_acker, &k->ackw)))
		rc = sli_frame_writer_add(&k->ackw, v, n);
	if (!rc && k->ackw.h.count >= k->p->o.frame_tuples)
		rc = sli_plain_send_frame(k->to_acker, &k->ackw);
	return rc;
}

int sli_plain_route(
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
				uint64_t id = sli_plain_rnd(k);
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
	SLI_NONNULL(c);
	SLI_NONNULL(v || n == 0);
	if (c->err)
		return c->err;
	if (n != sl_fields_count(c->k->p->c[c->k->comp].out)) {
		c->fatal = 1; /* every replay would fail the same way */
		return c->err = sli_err(SL_EINVAL,
		           "%s emitted %zu values, its fields are %zu",
		           c->k->p->c[c->k->comp].name, n,
		           sl_fields_count(c->k->p->c[c->k->comp].out));
	}
	return c->err = sli_plain_route(c->k, v, n, c->root, &c->xor_ids);
}

int sli_plain_send_end(ptask *k)
{
	for (size_t o = 0; o < k->nouts; o++)
		for (uint32_t t = 0; t < k->outs[o].n; t++) {
			sli_frame_writer w;
			sli_frame_writer_init(&w);
			sli_frame_header h = { SLI_FRAME_EOB, 0, ST_DATA, 0, 0,
				k->idx, t, 0 };
			sli_frame_writer_begin(&w, &h);
			int rc = sli_plain_send_frame(k->outs[o].links[t], &w);
			sli_frame_writer_free(&w);
			if (rc)
				return rc;
		}
	return SL_OK;
}
