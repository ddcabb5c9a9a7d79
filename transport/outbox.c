/* outbox.c - one upstream task's frames to its downstream tasks: tuples are
 * routed by a grouping, accumulated per target, shipped as frames, and each
 * batch ends with an end-of-batch marker per target carrying the count. */
#include "transport.h"

#include <stdlib.h>

struct sli_outbox {
	sli_link **targets;
	uint32_t ntargets;
	sli_grouping g;
	uint32_t source, stream;
	size_t frame_tuples;
	const uint8_t *key;
	uint64_t txid;
	uint32_t attempt;
	sli_frame_writer *w; /* one per target */
	uint64_t *sent;
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
	o->w = calloc(ntargets, sizeof(*o->w));
	o->sent = calloc(ntargets, sizeof(*o->sent));
	if (!o->w || !o->sent) {
		free(o->w);
		free(o->sent);
		free(o);
		return SL_ENOMEM;
	}
	for (uint32_t i = 0; i < ntargets; i++)
		sli_frame_writer_init(&o->w[i]);
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
	for (uint32_t i = 0; i < o->ntargets; i++)
		sli_frame_writer_free(&o->w[i]);
	free(o->w);
	free(o->sent);
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
	sli_frame_header h
	    = { kind, 0, o->stream, o->txid, o->attempt, o->source, t, count };
	return sli_frame_writer_begin(&o->w[t], &h);
}

static int flush(sli_outbox *o, uint32_t t)
{
	const uint8_t *d;
	size_t n;
	if (!o->w[t].h.count)
		return SL_OK;
	int rc = sli_frame_writer_finish(&o->w[t], o->key, &d, &n);
	if (!rc)
		rc = send_one(o, t, d, n);
	if (!rc)
		rc = start(o, t, SLI_FRAME_DATA, 0);
	return rc;
}

int sli_outbox_begin(sli_outbox *o, uint64_t txid, uint32_t attempt)
{
	o->txid = txid;
	o->attempt = attempt;
	for (uint32_t t = 0; t < o->ntargets; t++) {
		o->sent[t] = 0;
		int rc = start(o, t, SLI_FRAME_DATA, 0);
		if (rc)
			return rc;
	}
	return SL_OK;
}

int sli_outbox_emit_to(sli_outbox *o, uint32_t t, const sl_value *v, size_t n)
{
	if (t >= o->ntargets)
		return SL_EINVAL;
	int rc = sli_frame_writer_add(&o->w[t], v, n);
	if (rc == SL_EFULL && !(rc = flush(o, t)))
		rc = sli_frame_writer_add(&o->w[t], v, n);
	if (rc)
		return rc;
	o->sent[t]++;
	if (o->w[t].h.count >= o->frame_tuples)
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
	for (uint32_t t = 0; t < o->ntargets; t++) {
		int rc = flush(o, t);
		if (rc)
			return rc;
		if (o->sent[t] > UINT32_MAX)
			return SL_EOVERFLOW;
		const uint8_t *d;
		size_t n;
		if ((rc = start(o, t, SLI_FRAME_EOB, 0)))
			return rc;
		o->w[t].h.count = (uint32_t)o->sent[t];
		rc = sli_frame_writer_finish(&o->w[t], o->key, &d, &n);
		if (!rc)
			rc = send_one(o, t, d, n);
		if (rc)
			return rc;
		start(o, t, SLI_FRAME_DATA, 0);
	}
	return SL_OK;
}

uint64_t sli_outbox_sent(const sli_outbox *o, uint32_t t)
{
	return t < o->ntargets ? o->sent[t] : 0;
}
