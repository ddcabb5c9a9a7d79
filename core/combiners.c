/* combiners.c - the built-in combiners: Count, Sum, Min, Max. */
#include "core.h"

#include <math.h>

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

/* -1, 0, 1 as a is below, equal to or above b, exactly: an int and a
 * double compare by value without rounding the int (2^53 + 1 is above
 * 2^53), NaN sorts above every number (so min and max are commutative
 * and associative whatever the order of the tuples). */
static int cmp_num(const sl_value *a, const sl_value *b)
{
	if (a->type == SL_INT && b->type == SL_INT)
		return (a->u.i > b->u.i) - (a->u.i < b->u.i);
	if (a->type == SL_DOUBLE && b->type == SL_DOUBLE) {
		double x = a->u.d, y = b->u.d;
		if (x != x || y != y)
			return (x != x) - (y != y);
		if (x == 0 && y == 0) /* -0.0 below 0.0 */
			return (signbit(y) != 0) - (signbit(x) != 0);
		return (x > y) - (x < y);
	}
	if (a->type == SL_DOUBLE)
		return -cmp_num(b, a);
	/* a int, b double */
	int64_t i = a->u.i;
	double d = b->u.d;
	if (d != d)
		return -1;
	if (d >= 9223372036854775808.0)
		return -1;
	if (d < -9223372036854775808.0)
		return 1;
	int64_t t = (int64_t)d; /* toward zero, exact in range */
	if (i != t)
		return (i > t) - (i < t);
	double frac = d - (double)t;
	return (frac < 0) - (frac > 0);
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
	int c = cmp_num(a, b);
	if (c == 0) /* equal values: the int of an int and a double */
		*out = b->type == SL_INT ? *b : *a;
	else
		*out = (c < 0) != max ? *a : *b;
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
