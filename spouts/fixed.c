/* fixed.c - the fixed-batch spout: a list of batches of tuples, replayed
 * identically (transactional), optionally cycling. Meta: the batch index. */
#include "core/core.h"
#include "sluice/spouts.h"
#include "trident/spout.h"

#include <stdlib.h>
#include <string.h>

static const sl_spout_ops fixed_ops; /* at the end */

typedef struct fixed {
	size_t arity, nbatches, ntuples;
	sl_value *v; /* copies; bytes in store */
	size_t *starts;
	uint8_t *store;
	int cycle;
} fixed;

int sl_spout_fixed_new(sl_spout **out, size_t arity, const sl_value *values,
    const size_t *starts, size_t nbatches, int cycle)
{
	SLI_NONNULL(out);
	SLI_NONNULL(starts);
	SLI_NONNULL(values || arity == 0);
	*out = NULL;
	if (!arity || arity > SL_MAX_FIELDS || !nbatches)
		return sli_err(
		    SL_EINVAL, "fixed spout: bad arity or no batches");
	if (starts[0] != 0)
		return sli_err(SL_EINVAL,
		    "fixed spout: starts[0] is %zu, it must be 0", starts[0]);
	for (size_t b = 1; b <= nbatches; b++)
		if (starts[b] < starts[b - 1])
			return sli_err(SL_EINVAL,
			    "fixed spout: starts must not decrease "
			    "(starts[%zu] "
			    "= %zu < starts[%zu] = %zu)",
			    b, starts[b], b - 1, starts[b - 1]);
	fixed *f = calloc(1, sizeof(*f));
	if (!f)
		return SL_ENOMEM;
	f->arity = arity;
	f->nbatches = nbatches;
	f->cycle = cycle;
	f->ntuples = starts[nbatches];
	size_t nv = f->ntuples * arity, bytes = 0;
	for (size_t i = 0; i < nv; i++)
		if (values[i].type == SL_BYTES)
			bytes += values[i].len;
	f->v = calloc(nv + 1, sizeof(sl_value));
	f->starts = calloc(nbatches + 1, sizeof(size_t));
	f->store = malloc(bytes + 1);
	if (!f->v || !f->starts || !f->store) {
		free(f->v);
		free(f->starts);
		free(f->store);
		free(f);
		return SL_ENOMEM;
	}
	memcpy(f->starts, starts, (nbatches + 1) * sizeof(size_t));
	size_t off = 0;
	for (size_t i = 0; i < nv; i++) {
		f->v[i] = values[i];
		if (values[i].type == SL_BYTES) {
			memcpy(f->store + off, values[i].u.p, values[i].len);
			f->v[i].u.p = f->store + off;
			off += values[i].len;
		}
	}
	return sl_spout_new(out, &fixed_ops, f);
}

static int fixed_emit(void *self, sl_spout_ctx *ctx, sl_collector *out)
{
	fixed *f = self;
	size_t len;
	uint64_t idx = 0;
	const uint8_t *m = sl_spout_replay_meta(ctx, &len);
	if (m && len == 8)
		idx = sli_le64_get(m);
	else {
		m = sl_spout_prev_meta(ctx, &len);
		idx = m && len == 8 ? sli_le64_get(m) + 1 : 0;
	}
	uint8_t mb[8];
	sli_le64_put(mb, idx);
	int rc = sl_spout_set_meta(ctx, mb, 8);
	if (rc)
		return rc;
	if (!f->cycle && idx + 1 >= f->nbatches)
		sl_spout_set_eof(ctx);
	if (!f->cycle && idx >= f->nbatches)
		return SL_OK;
	size_t b = (size_t)(idx % f->nbatches);
	for (size_t t = f->starts[b]; t < f->starts[b + 1] && !rc; t++)
		rc = sl_emit(out, &f->v[t * f->arity], f->arity);
	return rc;
}

static void fixed_free(void *self)
{
	fixed *f = self;
	if (!f)
		return;
	free(f->v);
	free(f->starts);
	free(f->store);
	free(f);
}

static const sl_spout_ops fixed_ops
    = { "fixed", 1, fixed_emit, NULL, fixed_free };
