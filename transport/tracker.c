/* tracker.c - says when a downstream task holds all of a batch: every
 * upstream task sent its end-of-batch marker and the tuple counts match. */
#include "transport.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
	uint64_t txid;
	uint32_t attempt;
	int used;
	uint64_t *got; /* tuples received per source */
	int64_t *expect; /* marker count per source, -1 = no marker yet */
} entry;

struct sli_tracker {
	uint32_t nsources;
	entry *e;
	size_t ne;
};

int sli_tracker_new(sli_tracker **out, uint32_t nsources)
{
	*out = NULL;
	if (!nsources)
		return SL_EINVAL;
	sli_tracker *t = calloc(1, sizeof(*t));
	if (!t)
		return SL_ENOMEM;
	t->nsources = nsources;
	*out = t;
	return SL_OK;
}

void sli_tracker_free(sli_tracker *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ne; i++) {
		free(t->e[i].got);
		free(t->e[i].expect);
	}
	free(t->e);
	free(t);
}

static void reset(sli_tracker *t, entry *e, uint64_t txid, uint32_t attempt)
{
	e->txid = txid;
	e->attempt = attempt;
	e->used = 1;
	memset(e->got, 0, t->nsources * sizeof(*e->got));
	for (uint32_t i = 0; i < t->nsources; i++)
		e->expect[i] = -1;
}

static entry *find(sli_tracker *t, uint64_t txid, int create)
{
	entry *free_e = NULL;
	for (size_t i = 0; i < t->ne; i++) {
		if (t->e[i].used && t->e[i].txid == txid)
			return &t->e[i];
		if (!t->e[i].used && !free_e)
			free_e = &t->e[i];
	}
	if (!create)
		return NULL;
	if (!free_e) {
		entry *n = realloc(t->e, (t->ne + 1) * sizeof(*n));
		if (!n)
			return NULL;
		t->e = n;
		free_e = &t->e[t->ne];
		memset(free_e, 0, sizeof(*free_e));
		free_e->got = calloc(t->nsources, sizeof(*free_e->got));
		free_e->expect = calloc(t->nsources, sizeof(*free_e->expect));
		if (!free_e->got || !free_e->expect) {
			free(free_e->got);
			free(free_e->expect);
			return NULL;
		}
		t->ne++;
	}
	return free_e;
}

int sli_tracker_record(sli_tracker *t, const sli_frame_header *h)
{
	if (h->source_task >= t->nsources)
		return sli_err(SL_EPROTO, "frame from unknown source task %u",
		    h->source_task);
	entry *e = find(t, h->txid, 1);
	if (!e)
		return SL_ENOMEM;
	if (!e->used || h->attempt > e->attempt)
		reset(t, e, h->txid, h->attempt);
	else if (h->attempt < e->attempt)
		return SL_ESTALE;
	uint32_t s = h->source_task;
	if (h->kind == SLI_FRAME_DATA)
		e->got[s] += h->count;
	else if (h->kind == SLI_FRAME_EOB) {
		if (e->expect[s] >= 0)
			return sli_err(SL_EPROTO,
			    "two end-of-batch markers "
			    "from task %u",
			    s);
		e->expect[s] = h->count;
	} else
		return SL_OK;
	int complete = 1;
	for (uint32_t i = 0; i < t->nsources; i++) {
		if (e->expect[i] >= 0 && e->got[i] > (uint64_t)e->expect[i])
			return sli_err(SL_ECORRUPT,
			    "task %u sent more tuples than its marker "
			    "says",
			    i);
		if (e->expect[i] < 0 || e->got[i] != (uint64_t)e->expect[i])
			complete = 0;
	}
	return complete;
}

void sli_tracker_forget(sli_tracker *t, uint64_t txid)
{
	entry *e = find(t, txid, 0);
	if (e)
		e->used = 0;
}
