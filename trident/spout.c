/*
 * spout.c - sl_spout, the typed handle of a spout instance: its ops and
 * the instance (self) they run on. A built-in constructor or sl_spout_new
 * makes one; sl_topology_new_stream takes it and frees it with the
 * topology, so the handle stays valid (for sl_spout_file_lines and the
 * like) while the topology lives.
 */
#include "spout.h"
#include "core/core.h"

#include <stdlib.h>

struct sl_spout {
	const sl_spout_ops *ops;
	void *self;
};

int sl_spout_new(sl_spout **out, const sl_spout_ops *ops, void *self)
{
	SLI_NONNULL(out);
	SLI_NONNULL(ops);
	*out = NULL;
	if (!ops || !ops->emit) {
		if (ops && ops->free && self)
			ops->free(self);
		return sl_errorf(SL_EINVAL, "spout: no ops or no emit");
	}
	sl_spout *s = malloc(sizeof(*s));
	if (!s) {
		if (ops->free && self)
			ops->free(self);
		return SL_ENOMEM;
	}
	s->ops = ops;
	s->self = self;
	*out = s;
	return SL_OK;
}

void sl_spout_free(sl_spout *s)
{
	if (!s)
		return;
	if (s->ops->free && s->self)
		s->ops->free(s->self);
	free(s);
}

const sl_spout_ops *sli_spout_ops(const sl_spout *s)
{
	return s->ops;
}

void *sli_spout_self(const sl_spout *s, const sl_spout_ops *ops)
{
	return s && (!ops || s->ops == ops) ? s->self : NULL;
}
