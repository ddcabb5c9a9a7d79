/* outbox.c - one upstream task's frames to its downstream tasks: tuples are
 * routed by a grouping, accumulated per target, shipped as frames, and each
 * batch ends with an end-of-batch marker per target carrying the count.
 * A task may hold several batches open at once (frames of batches T and
 * T+1 interleave at a middle stage): each open batch has its own slot of
 * frame writers and counts, and sli_outbox_use picks the slot the next
 * tuples belong to. */
#include "transport.h"

#include <stdlib.h>

typedef struct obslot {
	uint64_t txid;
	uint32_t attempt;
	int open;
	sli_frame_writer *w; /* one per target */
	uint64_t *sent;
} obslot;

struct sli_outbox {
	sli_link **targets;
	uint32_t ntargets;
	sli_grouping g;
	uint32_t source, stream;
	size_t frame_tuples;
	const uint8_t *key;
	obslot **slots; /* stable pointers: cur points into one */
	size_t nslots;
	obslot *cur; /* the batch being written, or NULL */
	int send_timeout_ms;
	const _Atomic int *abort; /* stop waiting on a blocked link when set */
};

int sli_outbox_new(sli_outbox **out, sli_link **targets, uint32_t ntargets,
    const sli_grouping *g, uint32_t source_task, uint32_t stream,
    size_t frame_tuples, const uint8_t *key)
{
	*out = NULL;
	if (!ntargets || !frame_tuples)
		return SL_EINVAL;
	sli_outbox *o = calloc(1, sizeof(*o));
	if (!o)
		return SL_ENOMEM;
	o->targets = targets;
	o->ntargets = ntargets;
	o->g = *g;
	o->g.ntargets = ntargets;
	o->source = source_task;
	o->stream = stream;
	o->frame_tuples = frame_tuples;
	o->key = key;
	o->send_timeout_ms = -1;
	*out = o;
	return SL_OK;
}

void sli_outbox_free(sli_outbox *o)
{
	if (!o)
		return;
	for (size_t k = 0; k < o->nslots; k++) {
		obslot *sl = o->slots[k];
		for (uint32_t i = 0; i < o->ntargets; i++)
			sli_frame_writer_free(&sl->w[i]);
		free(sl->w);
		free(sl->sent);
		free(sl);
	}
	free(o->slots);
	free(o);
}

void sli_outbox_set_timeout(sli_outbox *o, int ms)
{
	o->send_timeout_ms = ms;
}

void sli_outbox_set_abort(sli_outbox *o, const _Atomic int *flag)
{
	o->abort = flag;
}

/* Sends one frame; with an abort flag, waits in slices so that a
 * topology shutting down never stays blocked on a peer that left. */
static int send_one(sli_outbox *o, uint32_t t, const uint8_t *d, size_t n)
{
	if (!o->abort)
		return sli_link_send(o->targets[t], d, n, o->send_timeout_ms);
	for (;;) {
		int rc = sli_link_send(o->targets[t], d, n, 100);
		if (rc != SL_ETIMEDOUT)
			return rc;
		if (*o->abort)
			return sli_err(SL_ECLOSED, "shutting down");
	}
}

static int start(sli_outbox *o, uint32_t t, uint8_t kind, uint32_t count)
{
	obslot *sl = o->cur;
	sli_frame_header h = { kind, 0, o->stream, sl->txid, sl->attempt,
		o->source, t, count };
	return sli_frame_writer_begin(&sl->w[t], &h);
}

static int flush(sli_outbox *o, uint32_t t)
{
	const uint8_t *d;
	size_t n;
	sli_frame_writer *w = &o->cur->w[t];
	if (!w->h.count)
		return SL_OK;
	int rc = sli_frame_writer_finish(w, o->key, &d, &n);
	if (!rc)
		rc = send_one(o, t, d, n);
	if (!rc)
		rc = start(o, t, SLI_FRAME_DATA, 0);
	return rc;
}

/* The slot of txid (any attempt), else a closed one, else a new one. */
static obslot *slot_for(sli_outbox *o, uint64_t txid)
{
	obslot *closed = NULL;
	for (size_t k = 0; k < o->nslots; k++) {
		obslot *sl = o->slots[k];
		if (sl->open && sl->txid == txid)
			return sl;
		if (!sl->open && !closed)
			closed = sl;
	}
	if (closed)
		return closed;
	obslot **ns = realloc(o->slots, (o->nslots + 1) * sizeof(*ns));
	if (!ns)
		return NULL;
	o->slots = ns;
	obslot *sl = calloc(1, sizeof(*sl));
	if (!sl)
		return NULL;
	sl->w = calloc(o->ntargets, sizeof(*sl->w));
	sl->sent = calloc(o->ntargets, sizeof(*sl->sent));
	if (!sl->w || !sl->sent) {
		free(sl->w);
		free(sl->sent);
		free(sl);
		return NULL;
	}
	for (uint32_t i = 0; i < o->ntargets; i++)
		sli_frame_writer_init(&sl->w[i]);
	o->slots[o->nslots++] = sl;
	return sl;
}

int sli_outbox_begin(sli_outbox *o, uint64_t txid, uint32_t attempt)
{
	obslot *sl = slot_for(o, txid);
	if (!sl)
		return SL_ENOMEM;
	sl->txid = txid;
	sl->attempt = attempt;
	sl->open = 1;
	o->cur = sl;
	for (uint32_t t = 0; t < o->ntargets; t++) {
		sl->sent[t] = 0;
		int rc = start(o, t, SLI_FRAME_DATA, 0);
		if (rc)
			return rc;
	}
	return SL_OK;
}

int sli_outbox_use(sli_outbox *o, uint64_t txid, uint32_t attempt)
{
	if (o->cur && o->cur->open && o->cur->txid == txid
	    && o->cur->attempt == attempt)
		return SL_OK;
	for (size_t k = 0; k < o->nslots; k++) {
		obslot *sl = o->slots[k];
		if (sl->open && sl->txid == txid && sl->attempt == attempt) {
			o->cur = sl;
			return SL_OK;
		}
	}
	return sli_outbox_begin(o, txid, attempt);
}

void sli_outbox_drop(sli_outbox *o, uint64_t txid)
{
	for (size_t k = 0; k < o->nslots; k++)
		if (o->slots[k]->open && o->slots[k]->txid == txid)
			o->slots[k]->open = 0;
	if (o->cur && !o->cur->open)
		o->cur = NULL;
}

int sli_outbox_emit_to(sli_outbox *o, uint32_t t, const sl_value *v, size_t n)
{
	if (t >= o->ntargets)
		return SL_EINVAL;
	if (!o->cur)
		return sli_err(SL_ESTATE, "outbox: no batch begun");
	obslot *sl = o->cur;
	int rc = sli_frame_writer_add(&sl->w[t], v, n);
	if (rc == SL_EFULL && !(rc = flush(o, t)))
		rc = sli_frame_writer_add(&sl->w[t], v, n);
	if (rc)
		return rc;
	sl->sent[t]++;
	if (sl->w[t].h.count >= o->frame_tuples)
		return flush(o, t);
	return SL_OK;
}

int sli_outbox_emit(sli_outbox *o, const sl_value *v, size_t n)
{
	int32_t t = sli_grouping_target(&o->g, v, n);
	if (t >= 0)
		return sli_outbox_emit_to(o, (uint32_t)t, v, n);
	for (uint32_t i = 0; i < o->ntargets; i++) {
		int rc = sli_outbox_emit_to(o, i, v, n);
		if (rc)
			return rc;
	}
	return SL_OK;
}

int sli_outbox_end(sli_outbox *o)
{
	obslot *sl = o->cur;
	if (!sl)
		return sli_err(SL_ESTATE, "outbox: no batch begun");
	for (uint32_t t = 0; t < o->ntargets; t++) {
		int rc = flush(o, t);
		if (rc)
			return rc;
		if (sl->sent[t] > UINT32_MAX)
			return SL_EOVERFLOW;
		const uint8_t *d;
		size_t n;
		if ((rc = start(o, t, SLI_FRAME_EOB, 0)))
			return rc;
		sl->w[t].h.count = (uint32_t)sl->sent[t];
		rc = sli_frame_writer_finish(&sl->w[t], o->key, &d, &n);
		if (!rc)
			rc = send_one(o, t, d, n);
		if (rc)
			return rc;
	}
	sl->open = 0;
	o->cur = NULL;
	return SL_OK;
}

uint64_t sli_outbox_sent(const sli_outbox *o, uint32_t t)
{
	return o->cur && t < o->ntargets ? o->cur->sent[t] : 0;
}
