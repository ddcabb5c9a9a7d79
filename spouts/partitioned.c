/*
 * partitioned.c - the opaque partitioned spout: N in-memory partitions of
 * lines (appendable while running). Meta: the end offset of every
 * partition. A replay starts again from the previous batch's ends but may
 * take a different number of lines from each partition (opaque): by
 * default all that is available up to the batch size, or what a script
 * decides (tests).
 * A rerun with another partition count (the source was repartitioned)
 * resumes the partitions both runs have at their ends and starts new ones
 * at 0; partitions the state read that the spout no longer has are
 * refused unless nothing of them was read (red team T10). With nothing to
 * read, a batch waits up to batch_ms for a line instead of committing an
 * empty batch every few milliseconds.
 */
#include "core/core.h"
#include "sluice/spouts.h"
#include "trident/spout.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const sl_spout_ops partitioned_ops; /* at the end */

typedef struct ppart {
	char **lines;
	size_t n, cap;
} ppart;

typedef struct pspout {
	uint32_t nparts;
	ppart *p;
	pthread_mutex_t lock;
	pthread_cond_t grown; /* signalled by append */
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
	pthread_cond_broadcast(&s->grown);
	pthread_mutex_unlock(&s->lock);
	return SL_OK;
}

int sl_spout_partitioned_append(
    sl_spout *spout, uint32_t part, const char *line)
{
	SLI_NONNULL(spout);
	SLI_NONNULL(line);
	pspout *s = sli_spout_self(spout, &partitioned_ops);
	if (!s)
		return sli_err(SL_EINVAL, "not a partitioned spout");
	return append(s, part, line);
}

int sl_spout_partitioned_new(sl_spout **out, uint32_t nparts,
    const char *const *lines, const size_t *nlines, sl_partition_script script,
    void *user)
{
	SLI_NONNULL(out);
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
	pthread_cond_init(&s->grown, NULL);
	size_t k = 0;
	for (uint32_t p = 0; p < nparts && lines; p++)
		for (size_t i = 0; i < (nlines ? nlines[p] : 0); i++)
			if (append(s, p, lines[k++])) {
				partitioned_ops.free(s);
				return SL_ENOMEM;
			}
	return sl_spout_new(out, &partitioned_ops, s);
}

/* Where each partition starts: the ends of the previous batch's meta (8
 * bytes LE per partition it read; none: 0). A meta of another partition
 * count is a rerun after a repartition: the partitions both have go on
 * from their ends, new ones start at 0, and a partition the meta read
 * that this spout no longer has is refused unless nothing of it was read
 * (its counts would stay while its lines are never read again). Never
 * "start over": a position it cannot read is refused. */
static int p_starts(const pspout *s, sl_spout_ctx *ctx, uint64_t *starts)
{
	size_t len;
	const uint8_t *prev = sl_spout_prev_meta(ctx, &len);
	memset(starts, 0, s->nparts * sizeof(*starts));
	if (!prev)
		return SL_OK;
	if (len % 8) {
		sl_spout_set_fatal(ctx);
		return sli_err(SL_EINVAL,
		    "the state's last batch did not come from a partitioned "
		    "spout (its position is %zu bytes, 8 per partition): use "
		    "a new state directory",
		    len);
	}
	size_t old = len / 8;
	for (size_t p = 0; p < old; p++) {
		uint64_t end = sli_le64_get(prev + 8 * p);
		if (p < s->nparts)
			starts[p] = end;
		else if (end) {
			sl_spout_set_fatal(ctx);
			return sli_err(SL_EINVAL,
			    "the state's last batch read %zu partitions, this "
			    "spout has %u: partition %zu was read up to line "
			    "%llu and would never be read again (its counts "
			    "stay in the state): give the spout at least %zu "
			    "partitions, or count into a new state directory",
			    old, s->nparts, p, (unsigned long long)end, p + 1);
		}
	}
	return SL_OK;
}

/* Lines available in all partitions from starts (under s->lock). */
static size_t p_avail(const pspout *s, const uint64_t *starts)
{
	size_t n = 0;
	for (uint32_t p = 0; p < s->nparts; p++)
		n += s->p[p].n > starts[p] ? s->p[p].n - starts[p] : 0;
	return n;
}

static void ts_add_ms(struct timespec *t, long ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static int ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec
	    || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* An idle source: waits up to batch_ms for a line (or the topology's
 * stop) before the batch is cut, so that an idle run commits an empty
 * batch per batch_ms, not one every few milliseconds (a synced write
 * each). The first attempt of a txid only (a replay reads at once), and
 * not under a script (tests decide each batch). */
static void p_wait(pspout *s, sl_spout_ctx *ctx, const uint64_t *starts)
{
	int ms = sl_spout_batch_ms(ctx);
	if (s->script || sl_spout_attempt(ctx) != 1 || ms <= 0)
		return;
	struct timespec end, at;
	clock_gettime(CLOCK_REALTIME, &end);
	ts_add_ms(&end, ms);
	pthread_mutex_lock(&s->lock);
	while (!p_avail(s, starts) && !sli_spout_stopping(ctx)) {
		/* wake every 10 ms to see a stop */
		clock_gettime(CLOCK_REALTIME, &at);
		if (!ts_before(&at, &end))
			break;
		ts_add_ms(&at, 10);
		if (ts_before(&end, &at))
			at = end;
		pthread_cond_timedwait(&s->grown, &s->lock, &at);
	}
	pthread_mutex_unlock(&s->lock);
}

static int p_emit(void *self, sl_spout_ctx *ctx, sl_collector *out)
{
	pspout *s = self;
	uint64_t *starts = calloc(s->nparts, sizeof(*starts));
	uint8_t *meta = calloc(s->nparts, 8);
	int rc = starts && meta ? p_starts(s, ctx, starts) : SL_ENOMEM;
	if (!rc)
		p_wait(s, ctx, starts);
	size_t budget = sl_spout_batch_size(ctx);
	for (uint32_t p = 0; p < s->nparts && !rc; p++) {
		uint64_t start = starts[p];
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
	free(starts);
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
	pthread_cond_destroy(&s->grown);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const sl_spout_ops partitioned_ops
    = { "partitioned", 0, p_emit, NULL, p_free };
