/* latency.c - the bounded latency recorder (see latency.h). */
#include "latency.h"

#include <math.h>
#include <string.h>

void sli_latency_reset(sli_latency *l)
{
	memset(l, 0, sizeof(*l));
}

/* Bucket of v: frexp gives v = m * 2^e with m in [0.5, 1); the power of
 * two picks the group, the mantissa one of SLI_LAT_SUB equal slices. */
static int bucket_of(double v, int *idx)
{
	int e;
	double m = frexp(v, &e);
	e -= 1; /* v = (2m) * 2^e, 2m in [1, 2) */
	if (e < SLI_LAT_MIN_EXP)
		return -1;
	if (e >= SLI_LAT_MAX_EXP)
		return 1;
	int s = (int)((2 * m - 1) * SLI_LAT_SUB);
	if (s >= SLI_LAT_SUB) /* rounding at the top of the slice */
		s = SLI_LAT_SUB - 1;
	*idx = (e - SLI_LAT_MIN_EXP) * SLI_LAT_SUB + s;
	return 0;
}

void sli_latency_add(sli_latency *l, double ms)
{
	if (!(ms > 0)) /* zero, negative, NaN */
		ms = 0;
	if (!l->n || ms < l->min)
		l->min = ms;
	if (!l->n || ms > l->max)
		l->max = ms;
	l->n++;
	int i = 0;
	int where = ms > 0 ? bucket_of(ms, &i) : -1;
	if (where < 0)
		l->under++;
	else if (where > 0)
		l->over++;
	else
		l->b[i]++;
}

/* Midpoint of bucket i. */
static double bucket_mid(int i)
{
	int e = i / SLI_LAT_SUB + SLI_LAT_MIN_EXP, s = i % SLI_LAT_SUB;
	return ldexp(1.0 + (s + 0.5) / SLI_LAT_SUB, e);
}

double sli_latency_quantile(const sli_latency *l, double q)
{
	if (!l->n)
		return 0;
	if (!(q > 0))
		q = 0;
	if (q > 1)
		q = 1;
	uint64_t rank = (uint64_t)(q * (double)(l->n - 1) + 0.5);
	if (rank == 0)
		return l->min;
	if (rank == l->n - 1)
		return l->max;
	/* samples below the range are all at most 2^MIN_EXP: the smallest
	 * seen stands for them */
	if (rank < l->under)
		return l->min;
	uint64_t seen = l->under;
	for (int i = 0; i < SLI_LAT_BUCKETS; i++) {
		seen += l->b[i];
		if (rank < seen) {
			double v = bucket_mid(i);
			/* the exact extremes bound every sample */
			return v < l->min ? l->min : v > l->max ? l->max : v;
		}
	}
	return l->max; /* the rank is among the samples above the range */
}
