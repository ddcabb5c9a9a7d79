/*
 * latency.h - the one latency recorder (plain mode's tree latencies,
 * Trident's batch and commit latencies): a log-linear histogram of fixed
 * size, so memory stays bounded however many samples are recorded.
 *
 * Accuracy: a sample v in [SLI_LAT_MIN_MS, SLI_LAT_MAX_MS) falls in a bucket
 * [b, b * (1 + 1/SLI_LAT_SUB)) and a quantile reports the bucket's
 * midpoint, so the reported value is within 1/(2*SLI_LAT_SUB) (0.2%)
 * relative of the exact sample of that rank. Samples below the range
 * (and zero, negative or NaN ones) count as the smallest sample seen (or
 * 0), samples at or above it as the largest seen; min and max are exact.
 * The rank of quantile q over n samples is round(q * (n - 1)) in sorted
 * order (q = 0.5 of 1..100 is 51, the upper median).
 *
 * Not thread-safe: callers hold their own lock.
 */
#ifndef SLI_LATENCY_H
#define SLI_LATENCY_H

#include <stdint.h>

#define SLI_LAT_SUB     256 /* linear sub-buckets per power of two */
#define SLI_LAT_MIN_EXP (-20) /* 2^-20 ms, about 1 ns */
#define SLI_LAT_MAX_EXP 24 /* 2^24 ms, about 4.7 hours */
#define SLI_LAT_BUCKETS ((SLI_LAT_MAX_EXP - SLI_LAT_MIN_EXP) * SLI_LAT_SUB)

typedef struct sli_latency {
	uint64_t n; /* samples recorded */
	uint64_t under, over; /* below / at or above the bucket range */
	double min, max; /* exact, valid when n > 0 */
	uint64_t b[SLI_LAT_BUCKETS];
} sli_latency;

/* Empties l (a zeroed struct is empty too). */
void sli_latency_reset(sli_latency *l);
/* Records one sample in milliseconds. Never fails, never allocates. */
void sli_latency_add(sli_latency *l, double ms);
/* The q-quantile (0 <= q <= 1) of the samples, within the accuracy above;
 * 0 when there are none. */
double sli_latency_quantile(const sli_latency *l, double q);

#endif
