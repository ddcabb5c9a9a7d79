/* combiners.c - the built-in combiners: Count, Sum, Min, Max. */
#include "core.h"

static int num(const sl_value *v, double *d, int64_t *i)
{
	if (v->type == SL_INT) {
		*i = v->u.i;
		*d = (double)v->u.i;
		return SL_INT;
	}
	if (v->type == SL_DOUBLE) {
		*d = v->u.d;
		return SL_DOUBLE;
	}
	return -1;
}

static int add(void *user, const sl_value *a, const sl_value *b, sl_value *out)
{
	(void)user;
	double da, db;
	int64_t ia = 0, ib = 0;
	int ta = num(a, &da, &ia), tb = num(b, &db, &ib);
	if (a->type == SL_NULL) {
		*out = *b;
		return tb < 0 && b->type != SL_NULL ? SL_EINVAL : SL_OK;
	}
	if (b->type == SL_NULL) {
		*out = *a;
		return ta < 0 ? SL_EINVAL : SL_OK;
	}
	if (ta < 0 || tb < 0)
		return sli_err(SL_EINVAL, "sum/count of a non-number");
	if (ta == SL_INT && tb == SL_INT) {
		int64_t r;
		if (__builtin_add_overflow(ia, ib, &r))
			return sli_err(SL_EOVERFLOW, "integer sum overflows");
		*out = sl_int(r);
	} else
		*out = sl_double(da + db);
	return SL_OK;
}

static int pick(const sl_value *a, const sl_value *b, sl_value *out, int max)
{
	if (a->type == SL_NULL) {
		*out = *b;
		return SL_OK;
	}
	if (b->type == SL_NULL) {
		*out = *a;
		return SL_OK;
	}
	double da, db;
	int64_t ia = 0, ib = 0;
	int ta = num(a, &da, &ia), tb = num(b, &db, &ib);
	if (ta < 0 || tb < 0)
		return sli_err(SL_EINVAL, "min/max of a non-number");
	int a_less = (ta == SL_INT && tb == SL_INT) ? ia < ib : da < db;
	*out = (a_less != max) ? *a : *b;
	return SL_OK;
}

static int min_fn(
    void *user, const sl_value *a, const sl_value *b, sl_value *out)
{
	(void)user;
	return pick(a, b, out, 0);
}

static int max_fn(
    void *user, const sl_value *a, const sl_value *b, sl_value *out)
{
	(void)user;
	return pick(a, b, out, 1);
}

static const sl_combiner count_c
    = { "count", add, { SL_INT, 0, { 0 } }, NULL };
static const sl_combiner sum_c = { "sum", add, { SL_NULL, 0, { 0 } }, NULL };
static const sl_combiner min_c
    = { "min", min_fn, { SL_NULL, 0, { 0 } }, NULL };
static const sl_combiner max_c
    = { "max", max_fn, { SL_NULL, 0, { 0 } }, NULL };

const sl_combiner *sl_combiner_count(void)
{
	return &count_c;
}
const sl_combiner *sl_combiner_sum(void)
{
	return &sum_c;
}
const sl_combiner *sl_combiner_min(void)
{
	return &min_c;
}
const sl_combiner *sl_combiner_max(void)
{
	return &max_c;
}
