/*
 * gencorpus.c - the benchmark corpus: N words in lines of 4 to 16 words
 * (Storm's random-sentence style), each word drawn from a Zipf(1.0)
 * distribution over a vocabulary of V made-up words. Deterministic for a
 * seed. Usage: bench-gencorpus WORDS [VOCAB [SEED]] > corpus.txt
 */
#include "core/core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t s = 0x853c49e6748fea9bull;

static uint64_t next(void)
{
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return s;
}

/* The word of rank r: syllables from its digits, so words look alike
 * but differ. */
static size_t word(uint64_t r, char *out)
{
	static const char *const syl[]
	    = { "ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "de", "va",
		      "sho", "qua", "ber", "lin", "dor", "fe" };
	size_t n = 0;
	uint64_t x = r + 1;
	while (x) {
		const char *p = syl[x % 16];
		size_t l = strlen(p);
		memcpy(out + n, p, l);
		n += l;
		x /= 16;
	}
	return n;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(
		    stderr, "usage: bench-gencorpus WORDS [VOCAB [SEED]]\n");
		return 2;
	}
	uint64_t n = strtoull(argv[1], NULL, 10);
	uint64_t v = argc > 2 ? strtoull(argv[2], NULL, 10) : 100000;
	if (argc > 3)
		s ^= strtoull(argv[3], NULL, 10) * 0x9e3779b97f4a7c15ull;
	if (!n || !v)
		return 2;
	/* cumulative Zipf(1) table over the vocabulary */
	double *cdf = malloc(v * sizeof(double));
	if (!cdf)
		return 1;
	double sum = 0;
	for (uint64_t i = 0; i < v; i++)
		cdf[i] = (sum += 1.0 / (double)(i + 1));
	static char buf[1 << 16];
	setvbuf(stdout, buf, _IOFBF, sizeof(buf));
	char w[64];
	uint64_t inline_left = 0;
	for (uint64_t i = 0; i < n; i++) {
		if (!inline_left)
			inline_left = 4 + next() % 13;
		double u = (double)(next() >> 11) / 9007199254740992.0 * sum;
		uint64_t lo = 0, hi = v - 1;
		while (lo < hi) {
			uint64_t mid = (lo + hi) / 2;
			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		size_t l = word(lo, w);
		fwrite(w, 1, l, stdout);
		putchar(--inline_left && i + 1 < n ? ' ' : '\n');
	}
	free(cdf);
	return fflush(stdout) ? 1 : 0;
}
