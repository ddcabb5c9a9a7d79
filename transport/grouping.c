/* grouping.c - which downstream task gets a tuple. */
#include "transport.h"

int32_t sli_grouping_target(sli_grouping *g, const sl_value *v, size_t n)
{
	if (g->ntargets <= 1)
		return g->kind == SLI_GROUP_ALL ? -1 : 0;
	switch (g->kind) {
	case SLI_GROUP_ALL:
		return -1;
	case SLI_GROUP_GLOBAL:
		return 0;
	case SLI_GROUP_LOCAL_OR_SHUFFLE:
		if (g->local >= 0 && (uint32_t)g->local < g->ntargets)
			return g->local;
		/* fall through */
	case SLI_GROUP_SHUFFLE: {
		uint32_t t = g->next++ % g->ntargets;
		return (int32_t)t;
	}
	case SLI_GROUP_FIELDS: {
		uint64_t h = 0;
		for (uint32_t i = 0; i < g->nfields; i++) {
			int f = g->fields[i];
			sl_value nul = sl_null();
			const sl_value *x
			    = (f >= 0 && (size_t)f < n) ? &v[f] : &nul;
			h = h * 0x9e3779b97f4a7c15ull ^ sl_value_hash(NULL, x);
		}
		return (int32_t)(h % g->ntargets);
	}
	}
	return 0;
}
