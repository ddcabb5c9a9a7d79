/*
 * wordcount_plain.c - `sluice wordcount --mode plain`: the same word count
 * in plain tuple mode (a spout of lines, a split bolt, a count bolt
 * grouped by word), at-most-once (--acking off) or at-least-once (on),
 * counting into memory, or into LevelDB non-transactionally at the end of
 * the run with --state.
 */
#include "args.h"
#include "cli.h"

#include <sluice.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lines {
	FILE *f;
	char *buf;
	size_t cap;
	uint64_t next; /* msgid of the next new line */
	int acking;
	/* lines of pending trees (for replays), by msgid */
	char **kept;
	size_t *klen;
	size_t kcap;
	uint64_t *replay;
	size_t nreplay, creplay;
	uint64_t lines, words, replayed;
	int eof, err;
} lines;

static int keep(lines *l, uint64_t id, const char *s, size_t n)
{
	if (id >= l->kcap) {
		size_t nc = l->kcap ? l->kcap : 4096;
		while (nc <= id)
			nc *= 2;
		char **nk = realloc(l->kept, nc * sizeof(char *));
		if (!nk)
			return SL_ENOMEM;
		l->kept = nk;
		size_t *nl = realloc(l->klen, nc * sizeof(size_t));
		if (!nl)
			return SL_ENOMEM;
		l->klen = nl;
		memset(l->kept + l->kcap, 0, (nc - l->kcap) * sizeof(char *));
		l->kcap = nc;
	}
	l->kept[id] = malloc(n + 1);
	if (!l->kept[id])
		return SL_ENOMEM;
	memcpy(l->kept[id], s, n);
	l->klen[id] = n;
	return SL_OK;
}

static int next_tuple(void *self, sl_plain_collector *c)
{
	lines *l = self;
	if (l->nreplay) {
		uint64_t id = l->replay[--l->nreplay];
		l->replayed++;
		sl_value v = sl_bytes(l->kept[id], (uint32_t)l->klen[id]);
		return sl_plain_spout_emit(c, id, &v, 1);
	}
	if (l->eof)
		return SL_ECLOSED;
	ssize_t n = getline(&l->buf, &l->cap, l->f);
	if (n < 0) {
		if (ferror(l->f))
			l->err = errno;
		l->eof = 1;
		return SL_ECLOSED;
	}
	if (n && l->buf[n - 1] == '\n')
		n--;
	if ((size_t)n > SL_MAX_BYTES)
		n = SL_MAX_BYTES;
	uint64_t id = l->next++;
	l->lines++;
	l->words += sl_count_words((const uint8_t *)l->buf, (size_t)n);
	if (l->acking && keep(l, id, l->buf, (size_t)n))
		return SL_ENOMEM;
	sl_value v = sl_bytes(l->buf, (uint32_t)n);
	return sl_plain_spout_emit(c, id, &v, 1);
}

static void on_ack(void *self, uint64_t id)
{
	lines *l = self;
	if (id < l->kcap) {
		free(l->kept[id]);
		l->kept[id] = NULL;
	}
}

static void on_fail(void *self, uint64_t id)
{
	lines *l = self;
	if (id >= l->kcap || !l->kept[id])
		return;
	if (l->nreplay == l->creplay) {
		size_t nc = l->creplay ? l->creplay * 2 : 1024;
		uint64_t *n = realloc(l->replay, nc * sizeof(uint64_t));
		if (!n)
			return;
		l->replay = n;
		l->creplay = nc;
	}
	l->replay[l->nreplay++] = id;
}

/* The words of one count task and their counts: open addressing over
 * sl_fasthash (an in-process table; its hashes never leave this process),
 * each word appended once to one growing buffer of the table's words
 * (entries hold offsets: the buffer moves when it grows). One task's
 * thread. */
typedef struct wentry {
	size_t off; /* of the word in the table's buffer */
	uint32_t kl;
	int64_t n; /* 0: empty slot */
	uint64_t h;
} wentry;

typedef struct wtable {
	wentry *e;
	size_t cap, n;
	uint8_t *w; /* the words, back to back */
	size_t wlen, wcap;
} wtable;

/* The slot of word k (hash h) in t: its entry or the empty slot for it. */
static wentry *wt_slot(
    const wtable *t, const uint8_t *k, size_t kl, uint64_t h)
{
	size_t i = h & (t->cap - 1);
	while (t->e[i].n
	    && (t->e[i].h != h || t->e[i].kl != kl
	        || memcmp(t->w + t->e[i].off, k, kl)))
		i = (i + 1) & (t->cap - 1);
	return &t->e[i];
}

/* Doubles t's slots (at most half full afterwards). */
static int wt_grow(wtable *t)
{
	wtable g = *t;
	g.cap = t->cap ? t->cap * 2 : 1024;
	g.e = calloc(g.cap, sizeof(wentry));
	if (!g.e)
		return SL_ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].n)
			*wt_slot(&g, t->w + t->e[i].off, t->e[i].kl, t->e[i].h)
			    = t->e[i];
	free(t->e);
	*t = g;
	return SL_OK;
}

/* Counts one more of word [k, k+kl). */
static int wt_add(wtable *t, const uint8_t *k, size_t kl)
{
	if ((t->n + 1) * 2 > t->cap && wt_grow(t))
		return SL_ENOMEM;
	uint64_t h = sl_fasthash(k, kl);
	wentry *e = wt_slot(t, k, kl, h);
	if (!e->n) {
		if (!t->w || t->wcap - t->wlen < kl) { /* non-NULL once used */
			size_t nc = t->wcap ? t->wcap : 65536;
			while (nc - t->wlen < kl)
				nc *= 2;
			uint8_t *nw = realloc(t->w, nc);
			if (!nw)
				return SL_ENOMEM;
			t->w = nw;
			t->wcap = nc;
		}
		if (kl)
			memcpy(t->w + t->wlen, k, kl);
		e->off = t->wlen;
		e->kl = (uint32_t)kl;
		e->h = h;
		t->wlen += kl;
		t->n++;
	}
	e->n++;
	return SL_OK;
}

static void wt_free(wtable *t)
{
	free(t->w);
	free(t->e);
}

typedef struct counts {
	wtable *m; /* one per count task */
} counts;

static int count(void *user, const sl_tuple *in, sl_plain_collector *c)
{
	counts *k = user;
	if (in->n < 1 || in->v[0].type != SL_BYTES)
		return SL_EINVAL;
	return wt_add(
	    &k->m[sl_plain_task_index(c)], in->v[0].u.p, in->v[0].len);
}

typedef struct kv {
	const uint8_t *k;
	uint32_t kl;
	int64_t v;
} kv;

static int kv_cmp(const void *a, const void *b)
{
	const kv *x = a, *y = b;
	size_t n = x->kl < y->kl ? x->kl : y->kl;
	int c = memcmp(x->k, y->k, n);
	return c ? c : (x->kl > y->kl) - (x->kl < y->kl);
}

/* The count tasks' words merged and sorted by key into *out (owned; the
 * words borrow the tables); NULL when out of memory. */
static kv *merged(const counts *cs, long par, size_t *out)
{
	size_t total = 0, n = 0;
	for (long t = 0; t < par; t++)
		total += cs->m[t].n;
	kv *all = calloc(total + 1, sizeof(kv));
	for (long t = 0; all && t < par; t++)
		for (size_t i = 0; i < cs->m[t].cap; i++) {
			const wentry *e = &cs->m[t].e[i];
			if (e->n)
				all[n++] = (kv) { cs->m[t].w + e->off, e->kl,
					e->n };
		}
	if (all)
		qsort(all, n, sizeof(kv), kv_cmp);
	*out = n;
	return all;
}

/* Folds the n counts into st as one committed batch: 0, or 1 (said). */
static int store(sl_state *st, const char *dir, const kv *all, size_t n)
{
	/* the keys Trident's group_by("word") writes: the typed key of the
	 * one string value (docs/state-format.md), so that `sluice state
	 * get/dump` and a Trident word count read the same state */
	size_t cap = 0;
	for (size_t i = 0; i < n; i++)
		cap += all[i].kl + 16;
	uint8_t *arena = malloc(cap + 1);
	sl_value *keys = calloc(n + 1, sizeof(sl_value));
	sl_value *d = calloc(n + 1, sizeof(sl_value));
	int rc = arena && keys && d ? SL_OK : SL_ENOMEM;
	for (size_t i = 0, off = 0; !rc && i < n; i++) {
		sl_value w = sl_bytes(all[i].k, all[i].kl);
		size_t len;
		rc = sl_state_key(&w, 1, arena + off, cap - off, &len);
		keys[i] = sl_bytes(arena + off, (uint32_t)len);
		d[i] = sl_int(all[i].v);
		off += len;
	}
	if (!rc)
		rc = sl_state_apply_batch(st, n, keys, d, sl_combiner_count());
	if (rc)
		fprintf(stderr, "sluice: wordcount: state %s: %s\n", dir,
		    *sl_errdetail() ? sl_errdetail() : sl_strerror(rc));
	free(arena);
	free(keys);
	free(d);
	return rc ? 1 : 0;
}

/* Writes the n counts to path (word TAB count per line): 0, or 1 (said). */
static int write_dump(const char *path, const kv *all, size_t n)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "sluice: wordcount: %s: %s\n", path,
		    strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		fwrite(all[i].k, 1, all[i].kl, f);
		fprintf(f, "\t%" PRId64 "\n", all[i].v);
	}
	return sli_cli_close(f, "wordcount", path) ? 1 : 0;
}

/* What the command line asked for, once parsed. */
typedef struct wcjob {
	const char *input, *dir, *stats, *dump;
	int quiet;
	long par;
	sl_plain_options o;
} wcjob;

/* Counts the words of j->input in plain mode: the exit status. */
static int count_words(const wcjob *job)
{
	const char *input = job->input, *dir = job->dir, *stats = job->stats,
	           *dump = job->dump;
	int quiet = job->quiet;
	long par = job->par;
	sl_plain_options o = job->o;
	lines l;
	memset(&l, 0, sizeof(l));
	l.acking = o.acking;
	l.f = strcmp(input, "-") ? fopen(input, "r") : stdin;
	if (!l.f) {
		fprintf(stderr, "sluice: wordcount: cannot read %s: %s\n",
		    input, strerror(errno));
		return 1;
	}
	sl_state *st = NULL;
	if (dir) {
		sl_state_options so;
		sl_state_options_default(&so);
		so.semantics = SL_SEM_NONE;
		if (sl_state_open_leveldb(&st, dir, &so)) {
			fprintf(stderr, "sluice: wordcount: state %s: %s\n",
			    dir, sl_errdetail());
			return 1;
		}
	}
	counts cs;
	cs.m = calloc((size_t)par, sizeof(wtable));
	sl_plain *p = NULL;
	sl_plain_spout sp = { "lines", next_tuple, on_ack, on_fail };
	int rc = cs.m ? sl_plain_new(&p, &o) : SL_ENOMEM;
	if (!rc)
		rc = sl_plain_set_spout(p, "lines", &sp, &l, "line");
	if (!rc)
		rc = sl_plain_add_bolt(p, "split", "lines", SL_GROUP_SHUFFLE,
		    NULL, sl_plain_split_words, NULL, "word", (uint32_t)par);
	if (!rc)
		rc = sl_plain_add_bolt(p, "count", "split", SL_GROUP_FIELDS,
		    "word", count, &cs, "", (uint32_t)par);
	if (!rc)
		rc = sl_plain_run(p);
	int status = 0;
	if (rc) {
		fprintf(stderr, "sluice: wordcount: %s\n",
		    *sl_errdetail() ? sl_errdetail() : sl_strerror(rc));
		status = 1;
	} else if (l.err) {
		fprintf(stderr, "sluice: wordcount: read %s: %s\n", input,
		    strerror(l.err));
		status = 1;
	}
	size_t n = 0;
	kv *all = cs.m ? merged(&cs, par, &n) : NULL;
	if (!status && st && all)
		status = store(st, dir, all, n);
	sl_plain_stats ps;
	memset(&ps, 0, sizeof(ps));
	if (p)
		sl_plain_stats_get(p, &ps);
	double wps = ps.elapsed_s > 0 ? (double)l.words / ps.elapsed_s : 0;
	for (int j = 0; j < 2; j++) {
		FILE *f = j ? (stats ? fopen(stats, "w") : NULL)
		            : (quiet ? NULL : stderr);
		if (j && stats && !f && sli_cli_close(f, "wordcount", stats))
			status = 1;
		if (!f)
			continue;
		fprintf(f,
		    "%s{\"mode\":\"plain\",\"acking\":%s,\"words\":%" PRIu64
		    ",\"lines\":%" PRIu64 ",\"emitted\":%" PRIu64
		    ",\"acked\":%" PRIu64 ",\"failed\":%" PRIu64
		    ",\"timed_out\":%" PRIu64 ",\"replayed\":%" PRIu64
		    ",\"dropped_frames\":%" PRIu64 ",\"lost_tuples\":%" PRIu64
		    ",\"max_pending_seen\":%" PRIu64
		    ",\"elapsed_s\":%.3f,\"words_per_s\":%.0f,"
		    "\"latency_p50_ms\":%.3f,\"latency_p99_ms\":%.3f}\n",
		    j ? "" : "sluice: wordcount: ",
		    o.acking ? "true" : "false", l.words, l.lines, ps.emitted,
		    ps.acked, ps.failed, ps.timed_out, l.replayed,
		    ps.dropped_frames, ps.lost_tuples, ps.max_pending_seen,
		    ps.elapsed_s, wps, ps.latency_p50_ms, ps.latency_p99_ms);
		if (j && sli_cli_close(f, "wordcount", stats))
			status = 1;
	}
	if (dump && all && write_dump(dump, all, n))
		status = 1;
	free(all);
	for (long t = 0; cs.m && t < par; t++)
		wt_free(&cs.m[t]);
	free(cs.m);
	sl_plain_free(p);
	sl_state_close(st);
	for (size_t i = 0; i < l.kcap; i++)
		free(l.kept[i]);
	free(l.kept);
	free(l.klen);
	free(l.replay);
	free(l.buf);
	if (l.f && l.f != stdin)
		fclose(l.f);
	return status;
}

int sli_cmd_wordcount_plain(int argc, char **argv)
{
	const char *input = NULL, *dir = NULL, *stats = NULL, *dump = NULL;
	const char *mode = "plain", *acking = "off";
	int quiet = 0, memory = 0;
	long par = 2, pending = 0, timeout = 0, seed = 0;
	sl_plain_options o;
	sl_plain_options_default(&o);
	acking = o.acking ? "on" : "off";
	pending = (long)o.max_spout_pending;
	timeout = o.message_timeout_ms;
	seed = (long)o.seed;
	const sli_arg opts[] = {
		{ "mode", SLI_ARG_CHOICE, &mode, NULL, "tuple mode",
		    .choices = "plain" },
		{ "input", SLI_ARG_STR, &input, "FILE|-",
		    "the text to count (- for stdin); required" },
		{ "acking", SLI_ARG_CHOICE, &acking, NULL,
		    "off: at most once; on: at least once (trees replayed)",
		    .choices = "on|off" },
		{ "state", SLI_ARG_STR, &dir, "DIR",
		    "write the counts into LevelDB at the end (no\n"
		    "exactly-once)" },
		{ "memory", SLI_ARG_FLAG, &memory, NULL,
		    "counts in memory only (the default)" },
		{ "parallelism", SLI_ARG_LONG, &par, "N", "tasks of each bolt",
		    1, 64 },
		{ "max-spout-pending", SLI_ARG_LONG, &pending, "N",
		    "trees in flight (0: no limit)", 0, 100000000 },
		{ "message-timeout", SLI_ARG_LONG, &timeout, "MS",
		    "fail a tree after MS", 1, 86400000 },
		{ "seed", SLI_ARG_LONG, &seed, "N",
		    "seed of the message ids (0: random)", 0,
		    (double)0x7fffffffffffffffLL },
		{ "stats", SLI_ARG_STR, &stats, "FILE",
		    "write the final statistics (JSON) to FILE" },
		{ "dump", SLI_ARG_STR, &dump, "FILE",
		    "write WORD<TAB>count lines to FILE at the end" },
		{ "quiet", SLI_ARG_FLAG, &quiet, NULL, "no summary" },
	};
	const sli_cmd_spec spec = {
		.name = "wordcount --mode plain",
		.synopsis = "--input FILE|- [--acking on|off] [--state DIR] "
		            "[options]",
		.about = "The word count in plain tuple mode (a spout of "
		         "lines, a split bolt, a count\nbolt grouped by "
		         "word): at most once with --acking off, at least "
		         "once with\n--acking on (docs/plain.md).",
		.args = opts,
		.nargs = sizeof(opts) / sizeof(opts[0]),
		.checks_after = 1,
		.example = "sluice wordcount --mode plain --acking on --input "
		           "book.txt --dump counts.tsv",
		.exits = "0 the input was counted; 1 the input, the state or "
		         "the run failed;\n2 bad usage.",
	};
	sli_args a = { 0 };
	int pst = sli_args_parse(&spec, argc, argv, &a);
	if (pst != SLI_ARGS_GO)
		return pst;
	if (sli_cli_outside("wordcount", "--dump", dump, dir)
	    || sli_cli_outside("wordcount", "--stats", stats, dir))
		return 2;
	if (!input) {
		fprintf(stderr,
		    "sluice: wordcount: plain mode: give --input (see "
		    "sluice wordcount --mode plain --help)\n");
		return 2;
	}
	if (sli_cli_dry_run)
		return 0;
	o.acking = !strcmp(acking, "on");
	o.max_spout_pending = (uint32_t)pending;
	o.message_timeout_ms = (int)timeout;
	o.seed = (uint64_t)seed;
	wcjob j = { input, dir, stats, dump, quiet, par, o };
	return count_words(&j);
}
