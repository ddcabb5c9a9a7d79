/* test_latency.c - the one latency recorder (core/latency.h): bounded
 * memory, percentiles within the documented accuracy of an exact sort,
 * and plain mode past a million acked trees (it used to write past its
 * sample array there). */
#include "../core/latency.h"
#include "sltest.h"
#include "sluice.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static uint64_t xs = 0x9e3779b97f4a7c15ull;
static double unit(void)
{
	xs ^= xs << 13;
	xs ^= xs >> 7;
	xs ^= xs << 17;
	return (double)(xs >> 11) / 9007199254740992.0;
}

static void test_empty_recorder_reports_zero(void)
{
	static sli_latency l;
	sli_latency_reset(&l);
	CU_ASSERT_EQUAL(sli_latency_quantile(&l, 0.5), 0);
	CU_ASSERT_EQUAL(sli_latency_quantile(&l, 0.99), 0);
	sli_latency_add(&l, 3.0);
	CU_ASSERT_EQUAL(sli_latency_quantile(&l, 0.5), 3.0);
	CU_ASSERT_EQUAL(sli_latency_quantile(&l, 0.99), 3.0);
}

/* 3M samples over nine decades (log-uniform, plus zeros, tiny and huge
 * outliers): every reported quantile is within 1/(2*SLI_LAT_SUB) relative
 * of the exact sample of rank round(q*(n-1)). */
static void test_percentiles_match_exact_over_3m_samples(void)
{
	enum { N = 3000000 };
	double *v = malloc(N * sizeof(double));
	static sli_latency l;
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	sli_latency_reset(&l);
	for (size_t i = 0; i < N; i++) {
		double x = pow(10, unit() * 9 - 4); /* 1e-4 .. 1e5 ms */
		if (i % 100000 == 7)
			x = 0;
		else if (i % 100000 == 8)
			x = 1e-9; /* below the range */
		else if (i % 100000 == 9)
			x = 1e9; /* above it */
		v[i] = x;
		sli_latency_add(&l, x);
	}
	CU_ASSERT_EQUAL(l.n, (uint64_t)N);
	qsort(v, N, sizeof(double), dbl_cmp);
	static const double qs[] = { 0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9,
		0.99, 0.999, 0.9999, 1 };
	double worst = 0;
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		size_t rank = (size_t)(qs[i] * (double)(N - 1) + 0.5);
		double exact = v[rank], got = sli_latency_quantile(&l, qs[i]);
		double err = exact ? fabs(got - exact) / exact : fabs(got);
		if (err > worst)
			worst = err;
		if (err > 1.0 / (2 * SLI_LAT_SUB) + 1e-12)
			printf("\n    q %g: exact %.9g got %.9g (%.3g%%)\n",
			    qs[i], exact, got, 100 * err);
		CU_ASSERT(err <= 1.0 / (2 * SLI_LAT_SUB) + 1e-12);
	}
	printf("\n    3M samples in %zu bytes; worst relative error %.3g%% "
	       "(bound %.3g%%)\n",
	    sizeof(l), 100 * worst, 100.0 / (2 * SLI_LAT_SUB));
	free(v);
}

/* A spout of N one-value tuples, each its own tree. */
typedef struct many {
	uint64_t next, n, acked;
} many;

static int many_next(void *self, sl_plain_collector *c)
{
	many *m = self;
	if (m->next >= m->n)
		return SL_ECLOSED;
	sl_value v = sl_int((int64_t)m->next);
	int rc = sl_plain_spout_emit(c, m->next, &v, 1);
	if (!rc)
		m->next++;
	return rc;
}

static void many_ack(void *self, uint64_t id)
{
	(void)id;
	((many *)self)->acked++;
}

static void many_fail(void *self, uint64_t id)
{
	(void)self, (void)id;
}

static int pass_bolt(void *user, const sl_tuple *in, sl_plain_collector *c)
{
	(void)user, (void)in, (void)c;
	return SL_OK;
}

/* Before the shared recorder, the 2^20+2nd acked tree wrote past the end
 * of plain mode's sample array (SIGSEGV or heap corruption). */
static void test_plain_survives_over_a_million_acked_trees(void)
{
	many m = { 0, (1u << 20) + 50000, 0 };
	sl_plain_options o;
	sl_plain_options_default(&o);
	o.seed = 3;
	static const sl_plain_spout ops
	    = { "many", many_next, many_ack, many_fail };
	sl_plain *p;
	CU_ASSERT_EQUAL_FATAL(sl_plain_new(&p, &o), SL_OK);
	CU_ASSERT_EQUAL(sl_plain_set_spout(p, "many", &ops, &m, "n"), SL_OK);
	CU_ASSERT_EQUAL(sl_plain_add_bolt(p, "pass", "many", SL_GROUP_SHUFFLE,
	                    NULL, pass_bolt, NULL, "", 1),
	    SL_OK);
	CU_ASSERT_EQUAL(sl_plain_run(p), SL_OK);
	sl_plain_stats st;
	sl_plain_stats_get(p, &st);
	CU_ASSERT_EQUAL(st.acked, m.n);
	CU_ASSERT_EQUAL(m.acked, m.n);
	CU_ASSERT(st.latency_p50_ms > 0);
	CU_ASSERT(st.latency_p99_ms >= st.latency_p50_ms);
	printf("\n    %llu trees acked in %.1f s, latency p50 %.3f ms p99 "
	       "%.3f ms\n",
	    (unsigned long long)st.acked, st.elapsed_s, st.latency_p50_ms,
	    st.latency_p99_ms);
	sl_plain_free(p);
}

SL_SUITE(latency, NULL, NULL,
    { "empty recorder reports zero", test_empty_recorder_reports_zero },
    { "percentiles match exact over 3M samples",
        test_percentiles_match_exact_over_3m_samples },
    { "plain survives over a million acked trees",
        test_plain_survives_over_a_million_acked_trees })
