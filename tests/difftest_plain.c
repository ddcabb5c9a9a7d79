/*
 * difftest_plain.c - the differential tester for plain tuple mode
 * (docs/testing.md): a random chain of bolts (pass, duplicate, filter,
 * failing once) with random groupings and parallelism, acking on or off,
 * frames dropped between bolts, and a sink that counts what arrives per
 * spout tuple. The promises checked: with acking on, every tuple tree
 * completes (each expected leaf arrives at least once, the spout sees
 * every message acked); with acking off, nothing arrives twice, and with
 * no drops and no failures, everything arrives exactly once.
 */
#define _POSIX_C_SOURCE 200809L
#include "difftest.h"

#include "core/fault.h"
#include "sluice.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum { B_PASS, B_DUP, B_FILTER, B_SINK };
static const char *bnames[] = { "pass", "dup", "filter", "sink" };
static const char *gnames[] = { "shuffle", "fields(id)", "all", "global" };

#define MAXB 6

typedef struct prun prun;

typedef struct pbolt {
	prun *r;
	int kind, index;
	unsigned fail_permille; /* fail a tuple the first time it is seen */
	uint8_t *seen; /* bit per (id, c) */
} pbolt;

struct prun {
	uint64_t seed, n;
	int acking;
	/* spout */
	pthread_mutex_t mu;
	uint64_t next, *replay, nreplay, capreplay;
	uint8_t *acked; /* per id: times acked */
	uint64_t acks, fails, emitted;
	/* chain */
	pbolt b[MAXB];
	int nb, ndup, copies;
	unsigned fault_any;
	/* sink: arrivals per (id, c), c < 4 */
	/* 32 bits: a leaf of a tree that timed out and was replayed many
	 * times arrives (copies x attempts) times; byte counters wrapped
	 * after 255 and read as "lost" (a candidate for the seed-49 report,
	 * docs/testing.md) */
	uint32_t *got;
	atomic_ulong sink_tuples, unexpected;
	int mism;
	FILE *log;
};

static void pmismatch(prun *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void pmismatch(prun *r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (++r->mism <= 5)
		fprintf(r->log,
		    "difftest plain: MISMATCH seed %" PRIu64 ": %s\n", r->seed,
		    msg);
}

static int dropped_id(const prun *r, uint64_t id)
{
	return mix(r->seed ^ 0xf1, id) % 5 == 0;
}

static int sp_next(void *self, sl_plain_collector *c)
{
	prun *r = self;
	uint64_t id;
	pthread_mutex_lock(&r->mu);
	if (r->nreplay)
		id = r->replay[--r->nreplay];
	else if (r->next < r->n)
		id = r->next++;
	else {
		pthread_mutex_unlock(&r->mu);
		return SL_ECLOSED;
	}
	r->emitted++;
	pthread_mutex_unlock(&r->mu);
	char pad[24];
	size_t pl = (size_t)(mix(r->seed, id) % sizeof(pad));
	memset(pad, 'a' + (int)(id % 26), pl);
	sl_value v[3]
	    = { sl_int((int64_t)id), sl_int(0), sl_bytes(pad, (uint32_t)pl) };
	return sl_plain_spout_emit(c, id, v, 3);
}

static void sp_ack(void *self, uint64_t id)
{
	prun *r = self;
	pthread_mutex_lock(&r->mu);
	r->acks++;
	if (id < r->n && r->acked[id] < 255)
		r->acked[id]++;
	pthread_mutex_unlock(&r->mu);
}

static void sp_fail(void *self, uint64_t id)
{
	prun *r = self;
	pthread_mutex_lock(&r->mu);
	r->fails++;
	if (r->acking && id < r->n) {
		if (r->nreplay == r->capreplay) {
			r->capreplay = r->capreplay ? 2 * r->capreplay : 1024;
			r->replay = realloc(
			    r->replay, r->capreplay * sizeof(uint64_t));
		}
		r->replay[r->nreplay++] = id;
	}
	pthread_mutex_unlock(&r->mu);
}

static int bolt_cb(void *user, const sl_tuple *in, sl_plain_collector *c)
{
	pbolt *b = user;
	prun *r = b->r;
	if (in->n < 2 || in->v[0].type != SL_INT || in->v[1].type != SL_INT) {
		atomic_fetch_add(&r->unexpected, 1);
		return SL_OK;
	}
	uint64_t id = (uint64_t)in->v[0].u.i;
	int64_t cc = in->v[1].u.i;
	if (id >= r->n || cc < 0 || cc > 3) {
		atomic_fetch_add(&r->unexpected, 1);
		return SL_OK;
	}
	if (b->fail_permille
	    && mix(mix(r->seed, (uint64_t)b->index), id) % 1000
	        < b->fail_permille) {
		uint64_t bit = id * 4 + (uint64_t)cc;
		uint8_t m = (uint8_t)(1u << (bit & 7));
		if (!(__atomic_fetch_or(
		          &b->seen[bit >> 3], m, __ATOMIC_RELAXED)
		        & m))
			return SL_EFAILED; /* first sight: fail it */
	}
	sl_value v[3]
	    = { in->v[0], in->v[1], in->n > 2 ? in->v[2] : sl_null() };
	switch (b->kind) {
	case B_DUP:
		for (int k = 0; k < 2; k++) {
			v[1] = sl_int(cc * 2 + k);
			int rc = sl_plain_emit(c, v, 3);
			if (rc)
				return rc;
		}
		return SL_OK;
	case B_FILTER:
		return dropped_id(r, id) ? SL_OK : sl_plain_emit(c, v, 3);
	case B_SINK:
		__atomic_fetch_add(
		    &r->got[id * 4 + (uint64_t)cc], 1, __ATOMIC_RELAXED);
		atomic_fetch_add(&r->sink_tuples, 1);
		return SL_OK;
	default:
		return sl_plain_emit(c, v, 3);
	}
}

/* The plain run's options from the run's random stream s (after the
 * tuple count and acking were drawn); *drop_rate: the share of frames
 * between bolts the fault hook drops. */
static void plain_options(prun *r, uint64_t *s, const dt_opts *o,
    uint64_t ntuples, sl_plain_options *po, double *drop_rate)
{
	sl_plain_options_default(po);
	po->acking = r->acking;
	po->seed = r->seed | 1;
	static const size_t ft[] = { 1, 3, 16, 1024 };
	po->frame_tuples = ft[rn(s, 4)];
	if (!ntuples && po->frame_tuples < 16 && r->n > 400)
		r->n = 400; /* a frame per tuple is slow: fewer tuples */
	po->max_spout_pending = rn(s, 2) ? 10000 : 1 + rn(s, 64);
	int drops = !o->no_faults && rn(s, 3) == 0;
	*drop_rate = drops ? 0.001 * (1 + rn(s, 10)) : 0;
	/* dropped frames heal by timeouts: short ones, and few trees in
	 * flight so that a slow pass does not time out everything */
	po->message_timeout_ms = drops ? 400 : 5000;
	if (drops && po->max_spout_pending > 256)
		po->max_spout_pending = 256;
	if (drops && po->max_spout_pending < 64)
		po->max_spout_pending = 64;
	if (getenv("SL_DIFFTEST_PLAIN_TIMEOUT_MS"))
		po->message_timeout_ms
		    = atoi(getenv("SL_DIFFTEST_PLAIN_TIMEOUT_MS"));
}

/* The chain of r->nb bolts and the sink after the spout, drawn from s;
 * each described on a line appended to desc (dl bytes so far). Returns
 * 0 or the first error of sl_plain_add_bolt. */
static int add_bolts(prun *r, sl_plain *p, uint64_t *s, const dt_opts *o,
    char *desc, size_t cap, size_t *dl)
{
	int rc = 0;
	const char *input = "spout";
	char names[MAXB][16];
	for (int i = 0; i <= r->nb && !rc; i++) {
		pbolt *b = &r->b[i];
		b->r = r;
		b->index = i;
		b->kind = i == r->nb ? B_SINK : (int)rn(s, 3);
		/* trees of at most 32 leaves */
		if (b->kind == B_DUP
		    && (r->ndup >= 2 || r->copies * (2 << r->ndup) > 32))
			b->kind = B_PASS;
		if (b->kind == B_DUP)
			r->ndup++;
		if (!o->no_faults && rn(s, 4) == 0) {
			b->fail_permille = 20 + rn(s, 200);
			b->seen = calloc(r->n * 4 / 8 + 1, 1);
			r->fault_any = 1;
		}
		int g = (int)rn(s, 4);
		uint32_t par = g == SL_GROUP_GLOBAL ? 1 : 1 + rn(s, 4);
		if (g == SL_GROUP_ALL && r->copies * (int)par > 64)
			par = 1; /* trees of at most 64 x 4 leaves
			          */
		if (g == SL_GROUP_ALL)
			r->copies *= (int)par;
		snprintf(names[i], sizeof(names[i]), "b%d", i);
		rc = sl_plain_add_bolt(p, names[i], input, (sl_grouping)g,
		    g == SL_GROUP_FIELDS ? "id" : NULL, bolt_cb, b,
		    b->kind == B_SINK ? "" : "id,c,pad", par);
		*dl += (size_t)snprintf(desc + *dl, cap - *dl,
		    "  b%d = %s(%s, %s) x%u%s\n", i, bnames[b->kind], input,
		    gnames[g], par, b->fail_permille ? ", fails once" : "");
		input = names[i];
	}
	return rc;
}

/* Per spout tuple: every leaf (id, c) expected `copies` times (with
 * acking at least that, without it at most that; exactly, without
 * drops or failures); every tree acked. */
static void check_leaves(prun *r, double drop_rate)
{
	uint64_t lost = 0, dup = 0, extra = 0, unacked = 0, first = UINT64_MAX;
	int leaves = 1 << r->ndup;
	for (uint64_t id = 0; id < r->n; id++) {
		int want_any = !dropped_id(r, id);
		int has_filter = 0;
		for (int i = 0; i < r->nb; i++)
			has_filter |= r->b[i].kind == B_FILTER;
		if (!has_filter)
			want_any = 1;
		for (int cc = 0; cc < 4; cc++) {
			unsigned g = r->got[id * 4 + (uint64_t)cc];
			unsigned want = want_any && cc < leaves
			    ? (unsigned)r->copies
			    : 0;
			if (!want && g) {
				extra++;
				first = first < id ? first : id;
			} else if (r->acking && g < want) {
				lost++;
				first = first < id ? first : id;
			} else if (!r->acking && g > want) {
				dup++;
				first = first < id ? first : id;
			} else if (!r->acking && !drop_rate && !r->fault_any
			    && g != want) {
				lost++;
				first = first < id ? first : id;
			}
		}
		if (r->acking && !r->acked[id])
			unacked++;
	}
	if (lost || dup || extra || unacked)
		pmismatch(r,
		    "acking %s: %" PRIu64 " leaves lost, %" PRIu64
		    " duplicated, %" PRIu64 " unexpected, %" PRIu64
		    " trees never acked (first: spout tuple %" PRIu64 ")",
		    r->acking ? "on" : "off", lost, dup, extra, unacked,
		    first);
}

int dt_run_plain(
    uint64_t seed, uint64_t ntuples, const dt_opts *o, dt_plain_totals *tot)
{
	prun *r = calloc(1, sizeof(*r));
	r->seed = seed;
	r->log = o->log ? o->log : stderr;
	uint64_t s = mix(seed, 9);
	r->n = ntuples ? ntuples : 1 + rn(&s, 3000);
	r->acking = rn(&s, 3) != 0;
	pthread_mutex_init(&r->mu, NULL);
	r->acked = calloc(r->n, 1);
	r->got = calloc(r->n * 4, sizeof(uint32_t));
	sl_plain_options po;
	double drop_rate;
	plain_options(r, &s, o, ntuples, &po, &drop_rate);
	sl_plain *p = NULL;
	int rc = sl_plain_new(&p, &po);
	/* frames between bolts dropped by the fault hook (plain_drop) */
	sli_fault_rule drop
	    = { .point = SLI_FAULT_PLAIN_DROP, .obj = p, .rate = drop_rate };
	if (!rc)
		rc = sli_fault_config(&drop, drop_rate > 0);
	sl_plain_spout ops = { "dt-spout", sp_next, sp_ack, sp_fail };
	if (!rc)
		rc = sl_plain_set_spout(p, "spout", &ops, r, "id,c,pad");
	r->nb = 1 + (int)rn(&s, 4);
	r->copies = 1;
	char desc[1024];
	size_t dl = (size_t)snprintf(desc, sizeof(desc),
	    "  spout: %" PRIu64 " tuples, acking %s, frame %zu, pending %u, "
	    "drop_rate %.3f\n",
	    r->n, r->acking ? "on" : "off", po.frame_tuples,
	    po.max_spout_pending, drop_rate);
	if (!rc)
		rc = add_bolts(r, p, &s, o, desc, sizeof(desc), &dl);
	if (o->verbose) {
		fprintf(r->log, "difftest plain: seed %" PRIu64 ":\n%s", seed,
		    desc);
		fflush(r->log);
	}
	if (!rc)
		rc = sl_plain_run(p);
	sl_plain_stats st;
	memset(&st, 0, sizeof(st));
	if (p)
		sl_plain_stats_get(p, &st);
	if (rc)
		pmismatch(r, "sl_plain_run: %s (%s)", sl_strerror(rc),
		    sl_errdetail());
	if (atomic_load(&r->unexpected))
		pmismatch(r, "%lu tuples no bolt emitted arrived",
		    (unsigned long)atomic_load(&r->unexpected));
	if (!rc)
		check_leaves(r, drop_rate);
	tot->runs++;
	tot->tuples += r->n;
	tot->sink_tuples += atomic_load(&r->sink_tuples);
	tot->dropped_frames += st.dropped_frames;
	tot->replayed += st.replayed;
	tot->mismatches += (uint64_t)r->mism;
	if (r->mism)
		fprintf(r->log, "difftest plain: seed %" PRIu64 "%s:\n%s",
		    seed, ntuples ? " (with --plain-tuples)" : "", desc);
	if (r->mism) {
		char nt[48] = "";
		if (ntuples)
			snprintf(nt, sizeof(nt), " --plain-tuples %" PRIu64,
			    ntuples);
		fprintf(r->log,
		    "difftest plain: reproduce: %s --plain --seed %" PRIu64
		    " --one%s\n",
		    o->self ? o->self : "build/bin/sluice-difftest", seed, nt);
	}
	int m = r->mism;
	sli_fault_config(NULL, 0);
	sl_plain_free(p);
	for (int i = 0; i <= r->nb; i++)
		free(r->b[i].seen);
	free(r->acked);
	free(r->got);
	free(r->replay);
	pthread_mutex_destroy(&r->mu);
	free(r);
	return m;
}
