/*
 * baseline_wc.c - the COST baseline: a single-threaded word count with no
 * framework: read the file in big chunks, split with the same tokenizer
 * as sluice (sli_next_word), count in an open-addressing hash map.
 * Usage: bench-baseline_wc FILE [--dump OUT]; prints words, distinct,
 * seconds and words/s on stderr.
 */
#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ent {
	uint64_t h;
	uint32_t off, len; /* into the arena */
	int64_t n;
} ent;

static ent *tab;
static size_t cap = 1 << 16, used;
static char *arena;
static size_t alen, acap;

static uint64_t hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static void grow(void)
{
	size_t nc = cap * 2;
	ent *nt = calloc(nc, sizeof(ent));
	if (!nt)
		exit(1);
	for (size_t i = 0; i < cap; i++)
		if (tab[i].len) {
			size_t j = tab[i].h & (nc - 1);
			while (nt[j].len)
				j = (j + 1) & (nc - 1);
			nt[j] = tab[i];
		}
	free(tab);
	tab = nt;
	cap = nc;
}

static void add(const uint8_t *w, size_t n)
{
	uint64_t h = hash(w, n);
	size_t j = h & (cap - 1);
	while (tab[j].len) {
		if (tab[j].h == h && tab[j].len == n
		    && !memcmp(arena + tab[j].off, w, n)) {
			tab[j].n++;
			return;
		}
		j = (j + 1) & (cap - 1);
	}
	if (alen + n > acap) {
		acap = acap ? acap * 2 : 1 << 20;
		while (alen + n > acap)
			acap *= 2;
		arena = realloc(arena, acap);
		if (!arena)
			exit(1);
	}
	memcpy(arena + alen, w, n);
	tab[j] = (ent) { h, (uint32_t)alen, (uint32_t)n, 1 };
	alen += n;
	if (++used * 2 > cap)
		grow();
}

static int cmp(const void *a, const void *b)
{
	const ent *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(arena + x->off, arena + y->off, n);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(
		    stderr, "usage: bench-baseline_wc FILE [--dump OUT]\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	tab = calloc(cap, sizeof(ent));
	uint64_t t0 = sli_now_ns(), words = 0;
	size_t bufsz = 1 << 20, have = 0;
	uint8_t *buf = malloc(bufsz);
	for (;;) {
		size_t r = fread(buf + have, 1, bufsz - have, f);
		size_t n = have + r;
		if (!n)
			break;
		/* count whole words only; keep a cut word for the next read */
		size_t end = n;
		if (r)
			while (end > 0 && buf[end - 1] != ' '
			    && buf[end - 1] != '\n' && buf[end - 1] != '\t')
				end--;
		if (end == 0)
			end = n;
		size_t pos = 0, l;
		const uint8_t *w;
		while ((l = sli_next_word(buf, end, &pos, &w))) {
			add(w, l);
			words++;
		}
		memmove(buf, buf + end, n - end);
		have = n - end;
		if (!r && !have)
			break;
		if (!r) {
			pos = 0;
			while ((l = sli_next_word(buf, have, &pos, &w))) {
				add(w, l);
				words++;
			}
			break;
		}
	}
	double secs = (double)(sli_now_ns() - t0) / 1e9;
	fclose(f);
	fprintf(stderr,
	    "{\"mode\":\"baseline\",\"words\":%llu,\"distinct\":%zu,"
	    "\"elapsed_s\":%.3f,\"words_per_s\":%.0f}\n",
	    (unsigned long long)words, used, secs,
	    secs > 0 ? (double)words / secs : 0);
	if (argc > 3 && !strcmp(argv[2], "--dump")) {
		FILE *o = fopen(argv[3], "w");
		ent *all = malloc((used + 1) * sizeof(ent));
		size_t k = 0;
		for (size_t i = 0; i < cap; i++)
			if (tab[i].len)
				all[k++] = tab[i];
		qsort(all, k, sizeof(ent), cmp);
		for (size_t i = 0; o && i < k; i++) {
			fwrite(arena + all[i].off, 1, all[i].len, o);
			fprintf(o, "\t%lld\n", (long long)all[i].n);
		}
		if (o)
			fclose(o);
		free(all);
	}
	free(buf);
	return 0;
}
