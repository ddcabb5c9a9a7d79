/*
 * partitioned.c - the opaque partitioned spout: N in-memory partitions of
 * lines (appendable while running). Meta: the end offset of every
 * partition. A replay starts again from the previous batch's ends but may
 * take a different number of lines from each partition (opaque): by
 * default all that is available up to the batch size, or what a script
 * decides (tests).
 */
#include "core/core.h"
#include "sluice/spouts.h"
#include "trident/spout.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const sl_spout_ops partitioned_ops; /* at the end */

typedef struct ppart {
	char **lines;
	size_t n, cap;
} ppart;

typedef struct pspout {
	uint32_t nparts;
	ppart *p;
	pthread_mutex_t lock;
	sl_partition_script script;
	void *user;
} pspout;

static int append(pspout *s, uint32_t part, const char *line)
{
	if (part >= s->nparts)
		return sli_err(SL_EINVAL, "no partition %u", part);
	char *c = strdup(line);
	if (!c)
		return SL_ENOMEM;
	pthread_mutex_lock(&s->lock);
	ppart *p = &s->p[part];
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 16;
		char **nl = realloc(p->lines, nc * sizeof(char *));
		if (!nl) {
			pthread_mutex_unlock(&s->lock);
			free(c);
			return SL_ENOMEM;
		}
		p->lines = nl;
		p->cap = nc;
	}
	p->lines[p->n++] = c;
	pthread_mutex_unlock(&s->lock);
	return SL_OK;
}

int sl_spout_partitioned_append(
    sl_spout *spout, uint32_t part, const char *line)
{
	pspout *s = sli_spout_self(spout, &partitioned_ops);
	if (!s)
		return sli_err(SL_EINVAL, "not a partitioned spout");
	return append(s, part, line);
}

int sl_spout_partitioned_new(sl_spout **out, uint32_t nparts,
    const char *const *lines, const size_t *nlines, sl_partition_script script,
    void *user)
{
	*out = NULL;
	if (!nparts || nparts > 1024)
		return sli_err(SL_EINVAL, "bad number of partitions");
	pspout *s = calloc(1, sizeof(*s));
	if (!s || !(s->p = calloc(nparts, sizeof(ppart)))) {
		free(s);
		return SL_ENOMEM;
	}
	s->nparts = nparts;
	s->script = script;
	s->user = user;
	pthread_mutex_init(&s->lock, NULL);
	size_t k = 0;
	for (uint32_t p = 0; p < nparts && lines; p++)
		for (size_t i = 0; i < (nlines ? nlines[p] : 0); i++)
			if (append(s, p, lines[k++])) {
				partitioned_ops.free(s);
				return SL_ENOMEM;
			}
	return sl_spout_new(out, &partitioned_ops, s);
}

static int p_emit(void *self, sl_spout_ctx *ctx, sl_collector *out)
{
	pspout *s = self;
	size_t len;
	const uint8_t *prev = sl_spout_prev_meta(ctx, &len);
	if (prev && len != 8 * (size_t)s->nparts)
		prev = NULL;
	uint8_t *meta = calloc(s->nparts, 8);
	if (!meta)
		return SL_ENOMEM;
	size_t budget = sl_spout_batch_size(ctx);
	int rc = SL_OK;
	for (uint32_t p = 0; p < s->nparts && !rc; p++) {
		uint64_t start = prev ? sli_le64_get(prev + 8 * p) : 0;
		pthread_mutex_lock(&s->lock);
		size_t avail = s->p[p].n > start ? s->p[p].n - start : 0;
		pthread_mutex_unlock(&s->lock);
		size_t take = avail < budget ? avail : budget;
		if (s->script) {
			size_t want = take;
			rc = s->script(s->user, sl_spout_txid(ctx),
			    sl_spout_attempt(ctx), p, start, avail, &want);
			take = want < avail ? want : avail;
		}
		for (size_t i = 0; i < take && !rc; i++) {
			pthread_mutex_lock(&s->lock);
			const char *line = s->p[p].lines[start + i];
			pthread_mutex_unlock(&s->lock);
			sl_value v = sl_str(line);
			rc = sl_emit(out, &v, 1);
		}
		sli_le64_put(meta + 8 * p, start + take);
	}
	if (!rc)
		rc = sl_spout_set_meta(ctx, meta, 8 * s->nparts);
	free(meta);
	return rc;
}

static void p_free(void *self)
{
	pspout *s = self;
	if (!s)
		return;
	for (uint32_t p = 0; p < s->nparts; p++) {
		for (size_t i = 0; i < s->p[p].n; i++)
			free(s->p[p].lines[i]);
		free(s->p[p].lines);
	}
	free(s->p);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const sl_spout_ops partitioned_ops
    = { "partitioned", 0, p_emit, NULL, p_free };
