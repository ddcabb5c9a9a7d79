/* test_compose.c - operations composed as a user would compose them:
 * chained repartitions, merges across stages, grouped aggregators that
 * emit whole tuples, and joins. Every case counts what reached a sink
 * against what the input holds (an independent count).
 * Longer than 700 lines: 19 short cases over one recording sink and a
 * few shared topologies (the first 150 lines); each case reads top to
 * bottom with the topology it builds and the count it checks. */
#include "../trident/trident.h"
#include "sltest.h"
#include "core/fault.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a sink: records the tuples of each txid's newest attempt ---- */
typedef struct rec {
	uint64_t txid;
	char text[256];
} rec;

typedef struct sink {
	pthread_mutex_t mu;
	rec *r;
	size_t n, cap;
} sink;

static void sink_init(sink *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
}

static void sink_free(sink *s)
{
	free(s->r);
	pthread_mutex_destroy(&s->mu);
}

/* A printable form of a tuple: "v1|v2|..." (ints as i5, bytes as s'..',
 * doubles as d.., null as n). */
static void tuple_text(const sl_tuple *in, char *out, size_t cap)
{
	size_t l = 0;
	out[0] = 0;
	for (size_t i = 0; i < in->n && l + 1 < cap; i++) {
		const sl_value *v = &in->v[i];
		int w;
		if (v->type == SL_INT)
			w = snprintf(out + l, cap - l, "%si%lld", i ? "|" : "",
			    (long long)v->u.i);
		else if (v->type == SL_DOUBLE)
			w = snprintf(
			    out + l, cap - l, "%sd%g", i ? "|" : "", v->u.d);
		else if (v->type == SL_BYTES)
			w = snprintf(out + l, cap - l, "%ss%.*s", i ? "|" : "",
			    (int)v->len, (const char *)v->u.p);
		else
			w = snprintf(out + l, cap - l, "%sn", i ? "|" : "");
		if (w < 0)
			break;
		l += (size_t)w;
	}
}

static int sink_fn(void *user, const sl_tuple *in, sl_collector *out)
{
	(void)out;
	sink *s = user;
	pthread_mutex_lock(&s->mu);
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->r = realloc(s->r, s->cap * sizeof(rec));
	}
	rec *r = &s->r[s->n++];
	r->txid = 0;
	tuple_text(in, r->text, sizeof(r->text));
	pthread_mutex_unlock(&s->mu);
	return SL_OK;
}

static int rec_cmp(const void *a, const void *b)
{
	return strcmp(((const rec *)a)->text, ((const rec *)b)->text);
}

/* The sink's tuples, sorted, joined by newlines (owned). */
static char *sink_bag(sink *s)
{
	qsort(s->r, s->n, sizeof(rec), rec_cmp);
	size_t cap = 1 + s->n * 257, l = 0;
	char *out = malloc(cap);
	out[0] = 0;
	for (size_t i = 0; i < s->n; i++)
		l += (size_t)snprintf(out + l, cap - l, "%s\n", s->r[i].text);
	return out;
}

static sl_stream *to_sink(sl_stream *s, const char *fields, sink *k)
{
	return sl_stream_each(s, fields, sink_fn, k, NULL);
}

static sl_run_options opts(uint32_t max_pending)
{
	sl_run_options o;
	sl_run_options_default(&o);
	o.batch_timeout_ms = 10000;
	o.max_pending = max_pending;
	o.max_attempts = 3;
	return o;
}

static int tag_fn(void *user, const sl_tuple *in, sl_collector *out)
{
	(void)in;
	sl_value v = sl_str(user);
	return sl_emit(out, &v, 1);
}

/* sentences "a b", "c d e", "f" in batches of one: 6 words */
static sl_topology *six_words(sl_stream **words)
{
	static const char *lines[] = { "a b", "c d e", "f" };
	sl_value v[3]
	    = { sl_str(lines[0]), sl_str(lines[1]), sl_str(lines[2]) };
	size_t starts[4] = { 0, 1, 2, 3 };
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(sl_spout_fixed_new(&sp, 1, v, starts, 3, 0), 0);
	sl_topology *t;
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&t, "compose"), SL_OK);
	sl_stream *s = sl_topology_new_stream(t, "lines", sp, "line");
	*words
	    = sl_stream_flat_map(s, "line", sl_fn_split_words, NULL, "word");
	return t;
}

/* Runs t (max_pending mp), checks sink k got the bag want, frees both. */
static void run_expect(sl_topology *t, uint32_t mp, sink *k, const char *want)
{
	CU_ASSERT_EQUAL_FATAL(sl_topology_error(t), SL_OK);
	sl_run_options o = opts(mp);
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	char *bag = sink_bag(k);
	CU_ASSERT_STRING_EQUAL(bag, want);
	free(bag);
	sink_free(k);
	sl_topology_free(t);
}

/* flat_map -> shuffle(2) -> each -> {shuffle | global | partition_by}
 * -> each -> sink: all six words arrive, with every max_pending. */
static void test_chained_repartitions(void)
{
	for (int kind = 0; kind < 3; kind++)
		for (uint32_t mp = 1; mp <= 4; mp += 3) {
			sl_stream *w;
			sl_topology *t = six_words(&w);
			sink k;
			sink_init(&k);
			sl_stream *s
			    = sl_stream_parallelism(sl_stream_shuffle(w), 2);
			s = sl_stream_each(s, "word", tag_fn, "x", "tag");
			s = kind == 0   ? sl_stream_shuffle(s)
			    : kind == 1 ? sl_stream_global(s)
			                : sl_stream_partition_by(s, "word");
			if (kind != 1)
				sl_stream_parallelism(s, 3);
			s = sl_stream_each(s, "word", tag_fn, "y", "tag2");
			to_sink(s, "word,tag,tag2", &k);
			run_expect(t, mp, &k,
			    "sa|sx|sy\nsb|sx|sy\nsc|sx|sy\nsd|sx|sy\n"
			    "se|sx|sy\nsf|sx|sy\n");
		}
}

/* merge of a same-stage branch with a shuffled branch: 12 tuples */
static void test_merge_across_stages(void)
{
	for (uint32_t mp = 1; mp <= 4; mp += 3) {
		sl_stream *w;
		sl_topology *t = six_words(&w);
		sink k;
		sink_init(&k);
		sl_stream *a = sl_stream_each(w, "word", tag_fn, "a", "tag");
		sl_stream *b = sl_stream_parallelism(sl_stream_shuffle(w), 2);
		b = sl_stream_each(b, "word", tag_fn, "b", "tag");
		sl_stream *both[2] = { a, b };
		sl_stream *m = sl_stream_merge(t, both, 2);
		to_sink(m, "word,tag", &k);
		run_expect(t, mp, &k,
		    "sa|sa\nsa|sb\nsb|sa\nsb|sb\nsc|sa\nsc|sb\nsd|sa\nsd|sb\n"
		    "se|sa\nse|sb\nsf|sa\nsf|sb\n");
	}
}

static int first_letter(void *user, const sl_tuple *in, sl_collector *out)
{
	(void)user;
	const sl_value *w = &in->v[0];
	sl_value v = sl_int(w->len && w->u.p[0] <= 'c' ? 1 : 2);
	return sl_emit(out, &v, 1);
}

/* group_by(g).aggregate(first_n(k)) emits whole input tuples, at most k
 * per group and batch; the run ends (no endless replays). */
static int keep_all(void *user, const sl_tuple *in)
{
	(void)user, (void)in;
	return 1;
}

static void test_grouped_first_n(void)
{
	static const char *words[] = { "a", "b", "c", "d", "e", "f" };
	sl_value v[6];
	for (int i = 0; i < 6; i++)
		v[i] = sl_str(words[i]);
	size_t starts[2] = { 0, 6 };
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(sl_spout_fixed_new(&sp, 1, v, starts, 1, 0), 0);
	sl_topology *t;
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&t, "firstn"), SL_OK);
	sl_stream *s = sl_topology_new_stream(t, "w", sp, "word");
	s = sl_stream_each(s, "word", first_letter, NULL, "g");
	s = sl_stream_group_by(s, "g");
	s = sl_stream_aggregate(s, NULL, sl_agg_first_n(2), NULL);
	sink k;
	sink_init(&k);
	to_sink(s, "word,g", &k);
	CU_ASSERT_EQUAL_FATAL(sl_topology_error(t), SL_OK);
	sl_run_options o = opts(2);
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	CU_ASSERT_EQUAL(k.n, 4);
	size_t g1 = 0, g2 = 0;
	for (size_t i = 0; i < k.n; i++) {
		size_t l = strlen(k.r[i].text);
		g1 += k.r[i].text[l - 1] == '1';
		g2 += k.r[i].text[l - 1] == '2';
	}
	CU_ASSERT_EQUAL(g1, 2);
	CU_ASSERT_EQUAL(g2, 2);
	sink_free(&k);
	sl_topology_free(t);
}

/* group_by(g).aggregate(...) ends the grouping: a global aggregate after
 * it sees the aggregate's own fields (found by the differential tester:
 * the grouping's field indexes of the input were applied to the output,
 * reading past the tuple and emitting nulls) */
static void test_aggregate_ends_grouping(void)
{
	sl_value v[12];
	for (int i = 0; i < 6; i++) {
		v[2 * i] = sl_int(i % 2); /* g */
		v[2 * i + 1] = sl_int(10 * i); /* x: sums 60 (g 0), 90 (g 1) */
	}
	size_t starts[2] = { 0, 6 };
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(sl_spout_fixed_new(&sp, 2, v, starts, 1, 0), 0);
	sl_topology *t;
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&t, "regroup"), SL_OK);
	sl_stream *s = sl_topology_new_stream(t, "xs", sp, "g,x");
	s = sl_stream_group_by(s, "g");
	s = sl_stream_aggregate(s, "x", sl_agg_sum(), "sum");
	sl_stream *filtered = sl_stream_filter(s, "sum", keep_all, NULL);
	sl_stream *mx = sl_stream_aggregate(s, "sum", sl_agg_max(), "max");
	sl_stream *pm = sl_stream_partition_aggregate(
	    filtered, "sum", sl_agg_min(), "min");
	sink k1, k2;
	sink_init(&k1);
	sink_init(&k2);
	to_sink(mx, "max", &k1);
	to_sink(pm, "min", &k2);
	CU_ASSERT_EQUAL_FATAL(sl_topology_error(t), SL_OK);
	sl_run_options o = opts(1);
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	char *b1 = sink_bag(&k1), *b2 = sink_bag(&k2);
	CU_ASSERT_STRING_EQUAL(b1, "i90\n");
	CU_ASSERT_STRING_EQUAL(b2, "i60\n");
	free(b1);
	free(b2);
	sink_free(&k1);
	sink_free(&k2);
	sl_topology_free(t);
}

/* A function that emits the wrong number of values is a bug in the
 * topology, not a transient failure: the run stops with an error that
 * names the operation instead of replaying forever. */
static int two_values(void *user, const sl_tuple *in, sl_collector *out)
{
	(void)user, (void)in;
	sl_value v[2] = { sl_int(1), sl_int(2) };
	return sl_emit(out, v, 2);
}

static void test_schema_error_stops(void)
{
	sl_stream *w;
	sl_topology *t = six_words(&w);
	sl_stream_map(w, "word", two_values, NULL, "one");
	CU_ASSERT_EQUAL_FATAL(sl_topology_error(t), SL_OK);
	sl_run_options o;
	sl_run_options_default(&o); /* unlimited attempts */
	o.batch_timeout_ms = 10000;
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_topology_errmsg(t), "map"));
	sl_topology_free(t);
}

/* ---- join ---- */

/* Records: ("click", url, 0) and ("owner", url, owner-id) in 3 batches;
 * the reference below counts what each join type must produce. */
static const struct jrec {
	const char *kind, *url;
	int64_t owner;
} jin[] = {
	{ "click", "/a", 0 },
	{ "owner", "/a", 1 },
	{ "click", "/b", 0 },
	{ "click", "/a", 0 }, /* batch 2 */
	{ "owner", "/c", 3 },
	{ "click", "/a", 0 },
	{ "owner", "/a", 2 },
	{ "click", "/d", 0 }, /* batch 3 */
	{ "owner", "/b", 9 },
	{ "click", "/e", 0 },
};
static const size_t jstarts[4] = { 0, 4, 8, 10 };

static int is_kind(void *user, const sl_tuple *in)
{
	return in->v[0].len == strlen(user)
	    && !memcmp(in->v[0].u.p, user, in->v[0].len);
}

/* The bag a join of type must give: per batch, clicks x owners of the
 * same url, plus unmatched sides for LEFT / OUTER. */
static char *join_reference(sl_join_type type)
{
	char *lines[64];
	size_t n = 0;
	for (int b = 0; b < 3; b++)
		for (size_t i = jstarts[b]; i < jstarts[b + 1]; i++) {
			const struct jrec *c = &jin[i];
			int matched = 0;
			for (size_t j = jstarts[b]; j < jstarts[b + 1]; j++) {
				const struct jrec *o = &jin[j];
				if (strcmp(o->url, c->url))
					continue;
				if (!strcmp(c->kind, "click")
				    && !strcmp(o->kind, "owner")) {
					lines[n] = malloc(64);
					snprintf(lines[n++], 64, "s%s|i%lld",
					    c->url, (long long)o->owner);
					matched = 1;
				}
				if (!strcmp(c->kind, "owner")
				    && !strcmp(o->kind, "click"))
					matched = 1;
			}
			int keep = !matched
			    && ((type != SL_JOIN_INNER
			            && !strcmp(c->kind, "click"))
			        || (type == SL_JOIN_OUTER
			            && !strcmp(c->kind, "owner")));
			if (keep) {
				lines[n] = malloc(64);
				if (!strcmp(c->kind, "click"))
					snprintf(
					    lines[n++], 64, "s%s|n", c->url);
				else
					snprintf(lines[n++], 64, "s%s|i%lld",
					    c->url, (long long)c->owner);
			}
		}
	/* sort like sink_bag */
	rec *r = calloc(n + 1, sizeof(rec));
	for (size_t i = 0; i < n; i++) {
		snprintf(r[i].text, sizeof(r[i].text), "%s", lines[i]);
		free(lines[i]);
	}
	sink tmp = { .r = r, .n = n, .cap = n };
	char *bag = sink_bag(&tmp);
	free(r);
	return bag;
}

static sl_topology *join_topology(
    sl_join_type type, uint32_t par, sink *k, int self_join)
{
	sl_value v[30];
	for (size_t i = 0; i < 10; i++) {
		v[3 * i] = sl_str(jin[i].kind);
		v[3 * i + 1] = sl_str(jin[i].url);
		v[3 * i + 2] = sl_int(jin[i].owner);
	}
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(
	    sl_spout_fixed_new(&sp, 3, v, jstarts, 3, 0), SL_OK);
	sl_topology *t;
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&t, "join"), SL_OK);
	sl_stream *s = sl_topology_new_stream(t, "log", sp, "kind,url,owner");
	if (self_join) {
		/* every record meets every record of its url */
		sl_stream *j = sl_topology_join(
		    t, s, "url", s, "url", "url,k1,o1,k2,o2", type);
		sl_stream_parallelism(j, par);
		to_sink(j, "url,k1,k2", k);
		return t;
	}
	sl_stream *clicks = sl_stream_project(
	    sl_stream_filter(s, "kind", is_kind, "click"), "url");
	sl_stream *owners = sl_stream_project(
	    sl_stream_filter(s, "kind", is_kind, "owner"), "url,owner");
	if (par > 1) /* one side arrives from another stage */
		clicks = sl_stream_parallelism(sl_stream_shuffle(clicks), 2);
	sl_stream *j = sl_topology_join(
	    t, clicks, "url", owners, "url", "page,owner", type);
	sl_stream_parallelism(j, par);
	to_sink(j, "page,owner", k);
	return t;
}

static void test_join_types(void)
{
	sl_join_type types[3] = { SL_JOIN_INNER, SL_JOIN_LEFT, SL_JOIN_OUTER };
	for (int ti = 0; ti < 3; ti++)
		for (uint32_t par = 1; par <= 3; par += 2) {
			sink k;
			sink_init(&k);
			sl_topology *t = join_topology(types[ti], par, &k, 0);
			CU_ASSERT_EQUAL_FATAL(sl_topology_error(t), SL_OK);
			sl_run_options o = opts(par == 1 ? 1 : 3);
			CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
			char *got = sink_bag(&k),
			     *want = join_reference(types[ti]);
			CU_ASSERT_STRING_EQUAL(got, want);
			free(got);
			free(want);
			sink_free(&k);
			sl_topology_free(t);
		}
}

/* a self-join: per batch, records of one url pair up n x n */
static void test_self_join(void)
{
	sink k;
	sink_init(&k);
	sl_topology *t = join_topology(SL_JOIN_INNER, 2, &k, 1);
	CU_ASSERT_EQUAL_FATAL(sl_topology_error(t), SL_OK);
	sl_run_options o = opts(2);
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	size_t want = 0;
	for (int b = 0; b < 3; b++)
		for (size_t i = jstarts[b]; i < jstarts[b + 1]; i++)
			for (size_t j = jstarts[b]; j < jstarts[b + 1]; j++)
				want += !strcmp(jin[i].url, jin[j].url);
	CU_ASSERT_EQUAL(k.n, want);
	sink_free(&k);
	sl_topology_free(t);
}

/* clicks joined with owners, counted per owner in LevelDB-free memory
 * state, with a failure injected in the functions of txid 2: the replay
 * joins again and the counts stay exact */
static int parse_int(void *user, const sl_tuple *in, sl_collector *out)
{
	(void)user;
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%.*s", (int)in->v[0].len,
	    (const char *)in->v[0].u.p);
	sl_value v = sl_int(atoll(tmp));
	return sl_emit(out, &v, 1);
}

static void test_join_counted_exactly_under_replay(void)
{
	sink k;
	sink_init(&k);
	sl_value v[30];
	for (size_t i = 0; i < 10; i++) {
		v[3 * i] = sl_str(jin[i].kind);
		v[3 * i + 1] = sl_str(jin[i].url);
		v[3 * i + 2] = sl_int(jin[i].owner);
	}
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(
	    sl_spout_fixed_new(&sp, 3, v, jstarts, 3, 0), SL_OK);
	sl_state_options so;
	sl_state_options_default(&so);
	sl_state *st;
	CU_ASSERT_EQUAL_FATAL(sl_state_open_memory(&st, &so), SL_OK);
	sl_topology *t;
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&t, "joincount"), SL_OK);
	sl_stream *s = sl_topology_new_stream(t, "log", sp, "kind,url,owner");
	sl_stream *clicks = sl_stream_project(
	    sl_stream_filter(s, "kind", is_kind, "click"), "url");
	sl_stream *owners = sl_stream_project(
	    sl_stream_filter(s, "kind", is_kind, "owner"), "url,owner");
	sl_stream *j = sl_topology_join(
	    t, clicks, "url", owners, "url", "page,owner", SL_JOIN_INNER);
	j = sl_stream_parallelism(j, 2);
	j = sl_stream_group_by(j, "owner");
	sl_stream_parallelism(sl_stream_persistent_aggregate(
	                          j, st, NULL, sl_agg_count(), "clicks"),
	    2);
	/* DRPC "clicks OWNER": the committed count of one owner (an int) */
	sl_stream *q = sl_topology_new_drpc_stream(t, "clicks");
	q = sl_stream_map(q, "args", parse_int, NULL, "owner");
	sl_stream_state_query(q, st, "owner", "clicks");
	CU_ASSERT_EQUAL_FATAL(sl_topology_error(t), SL_OK);
	sl_test_fault_once(SLI_FAULT_FUNCTION, t, 2, 1);
	sl_run_options o = opts(2);
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	sl_topology_stats ts;
	sl_topology_stats_get(t, &ts);
	CU_ASSERT(ts.replays >= 1);
	/* reference: owner 1 gets /a clicks of batch 1 (2); owner 2 gets /a
	 * clicks of batch 2 (1); owners 3 and 9 none */
	int64_t want[10] = { 0 };
	for (int b = 0; b < 3; b++)
		for (size_t i = jstarts[b]; i < jstarts[b + 1]; i++)
			for (size_t r2 = jstarts[b]; r2 < jstarts[b + 1]; r2++)
				if (!strcmp(jin[i].kind, "click")
				    && !strcmp(jin[r2].kind, "owner")
				    && !strcmp(jin[i].url, jin[r2].url))
					want[jin[r2].owner]++;
	for (int64_t ow = 0; ow < 10; ow++) {
		char arg[8];
		snprintf(arg, sizeof(arg), "%d", (int)ow);
		sl_value got;
		CU_ASSERT_EQUAL(sl_topology_drpc_call(t, "clicks",
		                    (const uint8_t *)arg, strlen(arg), &got),
		    SL_OK);
		if (!want[ow])
			CU_ASSERT_EQUAL(got.type, SL_NULL);
		if (want[ow]) {
			CU_ASSERT_EQUAL_FATAL(got.type, SL_INT);
			CU_ASSERT_EQUAL(got.u.i, want[ow]);
		}
	}
	sink_free(&k);
	sl_topology_free(t);
	sl_state_close(st);
}

static void test_join_build_errors(void)
{
	sl_stream *w;
	sl_topology *t = six_words(&w);
	CU_ASSERT_PTR_NULL(
	    sl_topology_join(t, w, "word", w, "nope", "a,b", SL_JOIN_INNER));
	CU_ASSERT_EQUAL(sl_topology_error(t), SL_ENOTFOUND);
	sl_topology_free(t);
	t = six_words(&w);
	CU_ASSERT_PTR_NULL(
	    sl_topology_join(t, w, "word", w, "word", "a,b", SL_JOIN_INNER));
	CU_ASSERT_EQUAL(sl_topology_error(t), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_topology_errmsg(t), "expected"));
	sl_topology_free(t);
	t = six_words(&w);
	CU_ASSERT_PTR_NULL(
	    sl_topology_join(t, w, "word", w, "word", "a", (sl_join_type)7));
	CU_ASSERT_EQUAL(sl_topology_error(t), SL_EINVAL);
	sl_topology_free(t);
	/* a join inside a DRPC stream is refused when the topology runs */
	t = six_words(&w);
	sl_stream *d = sl_topology_new_drpc_stream(t, "f");
	CU_ASSERT_PTR_NOT_NULL(
	    sl_topology_join(t, d, "args", d, "args", "args", SL_JOIN_INNER));
	sl_run_options o = opts(1);
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_topology_errmsg(t), "DRPC"));
	sl_topology_free(t);
}

/* ---- found by playing the user (docs/testing.md, red team R1-R19) ---- */

/* one batch of (k, x) = ("k", xs[i]) */
static sl_topology *kx_topology(const sl_value *xs, size_t n, sl_stream **s)
{
	sl_value v[16];
	for (size_t i = 0; i < n; i++) {
		v[2 * i] = sl_str("k");
		v[2 * i + 1] = xs[i];
	}
	size_t starts[2] = { 0, n };
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(sl_spout_fixed_new(&sp, 2, v, starts, 1, 0), 0);
	sl_topology *t;
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&t, "kx"), SL_OK);
	*s = sl_topology_new_stream(t, "kx", sp, "k,x");
	return t;
}

/* the single value the aggregate of xs emits, as text */
static char *agg_of(const sl_value *xs, size_t n, sl_agg agg, const char *in)
{
	sl_stream *s;
	sl_topology *t = kx_topology(xs, n, &s);
	s = sl_stream_aggregate(sl_stream_group_by(s, "k"), in, agg, "r");
	sink k;
	sink_init(&k);
	to_sink(s, "r", &k);
	CU_ASSERT_EQUAL_FATAL(sl_topology_error(t), SL_OK);
	sl_run_options o = opts(1);
	int rc = sl_topology_run(t, &o);
	char *bag = rc ? strdup("error") : sink_bag(&k);
	sink_free(&k);
	sl_topology_free(t);
	return bag;
}

static void expect_agg(
    const sl_value *xs, size_t n, sl_agg agg, const char *in, const char *want)
{
	char *got = agg_of(xs, n, agg, in);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
}

/* R1: Count given a field counts tuples, it does not sum the field */
static void test_count_with_a_field_counts(void)
{
	sl_value xs[2] = { sl_int(5), sl_int(7) };
	expect_agg(xs, 2, sl_agg_count(), "x", "i2\n");
	expect_agg(xs, 2, sl_agg_count(), NULL, "i2\n");
}

/* R10: min and max give one answer whatever the order of the tuples */
static void test_min_max_total_order(void)
{
	sl_value a[2] = { sl_double(NAN), sl_int(2) };
	sl_value b[2] = { sl_int(2), sl_double(NAN) };
	expect_agg(a, 2, sl_agg_min(), "x", "i2\n");
	expect_agg(b, 2, sl_agg_min(), "x", "i2\n");
	expect_agg(a, 2, sl_agg_max(), "x", "dnan\n");
	expect_agg(b, 2, sl_agg_max(), "x", "dnan\n");
	/* 2^53 as a double is below the int 2^53 + 1 */
	sl_value c[2]
	    = { sl_double(9007199254740992.0), sl_int(9007199254740993LL) };
	sl_value d[2] = { c[1], c[0] };
	expect_agg(c, 2, sl_agg_min(), "x", "d9.0072e+15\n");
	expect_agg(d, 2, sl_agg_min(), "x", "d9.0072e+15\n");
	expect_agg(c, 2, sl_agg_max(), "x", "i9007199254740993\n");
	expect_agg(d, 2, sl_agg_max(), "x", "i9007199254740993\n");
	/* equal int and double: the int, in either order */
	sl_value e[2] = { sl_double(3.0), sl_int(3) };
	sl_value f[2] = { sl_int(3), sl_double(3.0) };
	expect_agg(e, 2, sl_agg_min(), "x", "i3\n");
	expect_agg(f, 2, sl_agg_max(), "x", "i3\n");
}

static int rsum(
    void *user, const sl_value *acc, const sl_tuple *in, sl_value *out)
{
	(void)user;
	int64_t sum = acc->u.i;
	for (size_t i = 0; i < in->n; i++)
		sum += in->v[i].type == SL_INT ? in->v[i].u.i : 1000;
	*out = sl_int(sum);
	return SL_OK;
}

/* R15: a reducer given a field sees that field, as an aggregator does */
static void test_reducer_sees_its_field(void)
{
	sl_value xs[2] = { sl_int(5), sl_int(7) };
	sl_agg r;
	memset(&r, 0, sizeof(r));
	r.kind = SL_AGG_REDUCER;
	r.reducer_init = sl_int(0);
	r.reduce = rsum;
	expect_agg(xs, 2, r, "x", "i12\n");
	/* without a field: the whole tuple (the string k counts 1000) */
	expect_agg(xs, 2, r, NULL, "i2012\n");
}

/* R19: a fold that overflows in the state stops the run, it does not
 * replay forever */
static void test_state_overflow_stops(void)
{
	sl_value xs[1] = { sl_int(INT64_MAX) };
	size_t starts[3] = { 0, 1, 2 };
	sl_value v[4] = { sl_str("k"), xs[0], sl_str("k"), xs[0] };
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(sl_spout_fixed_new(&sp, 2, v, starts, 2, 0), 0);
	sl_topology *t;
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&t, "ovf"), SL_OK);
	sl_stream *s = sl_topology_new_stream(t, "kx", sp, "k,x");
	sl_state_options so;
	sl_state_options_default(&so);
	sl_state *st;
	CU_ASSERT_EQUAL_FATAL(sl_state_open_memory(&st, &so), SL_OK);
	sl_stream_persistent_aggregate(
	    sl_stream_group_by(s, "k"), st, "x", sl_agg_sum(), "sum");
	sl_run_options o;
	sl_run_options_default(&o); /* unlimited attempts */
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_EOVERFLOW);
	uint64_t last;
	sl_state_last_committed(st, &last);
	CU_ASSERT_EQUAL(last, 1); /* batch 1 committed, batch 2 cannot */
	sl_topology_free(t);
	sl_state_close(st);
}

/* R17: merge refuses streams whose fields differ in name or order */
static void test_merge_needs_the_same_fields(void)
{
	sl_value xs[1] = { sl_int(1) };
	sl_stream *s;
	sl_topology *t = kx_topology(xs, 1, &s);
	sl_stream *a = sl_stream_project(s, "k,x");
	sl_stream *b = sl_stream_project(s, "x,k");
	sl_stream *both[2] = { a, b };
	CU_ASSERT_PTR_NULL(sl_stream_merge(t, both, 2));
	CU_ASSERT_EQUAL(sl_topology_error(t), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_topology_errmsg(t), "order"));
	sl_topology_free(t);
}

/* R11: a field named twice is refused */
static void test_duplicate_field_names_refused(void)
{
	sl_fields *f = NULL;
	CU_ASSERT_EQUAL(sl_fields_parse(&f, "k,k"), SL_EINVAL);
	CU_ASSERT_PTR_NULL(f);
	CU_ASSERT_EQUAL(sl_fields_parse(&f, "k,x"), SL_OK);
	sl_fields_free(f);
	sl_value xs[1] = { sl_int(1) };
	sl_stream *s;
	sl_topology *t = kx_topology(xs, 1, &s);
	CU_ASSERT_PTR_NULL(sl_stream_map(s, "k", tag_fn, "y", "y,y"));
	CU_ASSERT_EQUAL(sl_topology_error(t), SL_EINVAL);
	sl_topology_free(t);
}

/* R3: a stop asked before the run is not lost: the run ends at once
 * even with a spout that would cycle forever, and the next run (the
 * request cleared) runs normally */
static int stop_after(void *user, const sl_tuple *in)
{
	(void)in;
	sl_topology_stop(user);
	return 1;
}

static void test_stop_before_run(void)
{
	sl_value v[1] = { sl_str("a") };
	size_t starts[2] = { 0, 1 };
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(sl_spout_fixed_new(&sp, 1, v, starts, 1, 1), 0);
	sl_topology *t;
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&t, "stop"), SL_OK);
	sl_stream *s = sl_topology_new_stream(t, "a", sp, "w");
	sl_stream_filter(s, "w", stop_after, t);
	sl_run_options o = opts(2);
	sl_topology_stop(t);
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	sl_topology_stats st;
	sl_topology_stats_get(t, &st);
	CU_ASSERT_EQUAL(st.batches_committed, 0);
	/* the second run starts: the filter stops it after its batches */
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	sl_topology_stats_get(t, &st);
	CU_ASSERT(st.batches_committed >= 1);
	sl_topology_free(t);
}

/* R9: the socket spout (opaque) replays what it read when a function
 * fused into its stage fails: no message is lost */
typedef struct sockfeed {
	sl_state *st;
	sl_topology *t;
	int64_t want;
} sockfeed;

static int64_t state_count(sl_state *st, const char *w)
{
	sl_value key = sl_str(w), got;
	int rc = sl_state_get_group(st, &key, 1, &got);
	return rc == SL_OK && got.type == SL_INT ? got.u.i : 0;
}

static void *sock_watch(void *arg)
{
	sockfeed *f = arg;
	for (int i = 0; i < 2000 && state_count(f->st, "w") < f->want; i++)
		usleep(5000);
	sl_topology_stop(f->t);
	return NULL;
}

static void test_socket_spout_replays_what_it_read(void)
{
	char ep[600];
	snprintf(ep, sizeof(ep), "ipc://%s/in.ipc", sl_test_tmpdir("sock"));
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(sl_spout_socket_new(&sp, ep), SL_OK);
	sli_link *push;
	CU_ASSERT_EQUAL_FATAL(sli_link_push(&push, ep, 64), SL_OK);
	for (int i = 0; i < 300; i++)
		CU_ASSERT_EQUAL(sli_link_send(push, "w", 1, 5000), SL_OK);
	sl_state_options so;
	sl_state_options_default(&so);
	sl_state *st;
	CU_ASSERT_EQUAL_FATAL(sl_state_open_memory(&st, &so), SL_OK);
	sl_topology *t;
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&t, "sock"), SL_OK);
	sl_stream *s = sl_topology_new_stream(t, "in", sp, "line");
	s = sl_stream_filter(s, "line", keep_all, NULL);
	sl_stream_persistent_aggregate(
	    sl_stream_group_by(s, "line"), st, NULL, sl_agg_count(), "n");
	CU_ASSERT_EQUAL_FATAL(sl_topology_error(t), SL_OK);
	/* the filter (fused into the spout's stage) fails txid 2 once */
	sl_test_fault_once(SLI_FAULT_FUNCTION, t, 2, 1);
	sl_run_options o = opts(2);
	o.batch_size = 50;
	o.batch_ms = 20;
	sockfeed f = { st, t, 300 };
	pthread_t th;
	pthread_create(&th, NULL, sock_watch, &f);
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	pthread_join(th, NULL);
	sl_topology_stats ts;
	sl_topology_stats_get(t, &ts);
	CU_ASSERT(ts.replays >= 1);
	CU_ASSERT_EQUAL(state_count(st, "w"), 300);
	sli_link_close(push);
	sl_topology_free(t);
	sl_state_close(st);
}

/* R18: a group value over SL_MAX_BYTES is refused (it was counted under
 * a null key) and stops the run */
static int big_value(void *user, const sl_tuple *in, sl_collector *out)
{
	(void)in;
	sl_value v = sl_bytes(user, SL_MAX_BYTES + 1);
	return sl_emit(out, &v, 1);
}

static void test_oversize_group_value_refused(void)
{
	uint8_t *big = calloc(1, (size_t)SL_MAX_BYTES + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'x', (size_t)SL_MAX_BYTES + 1);
	sl_value xs[2] = { sl_int(1), sl_int(2) };
	sl_stream *s;
	sl_topology *t = kx_topology(xs, 2, &s);
	s = sl_stream_map(s, "k", big_value, big, "big");
	sl_state_options so;
	sl_state_options_default(&so);
	sl_state *st;
	CU_ASSERT_EQUAL_FATAL(sl_state_open_memory(&st, &so), SL_OK);
	sl_stream_persistent_aggregate(
	    sl_stream_group_by(s, "big"), st, NULL, sl_agg_count(), "n");
	CU_ASSERT_EQUAL_FATAL(sl_topology_error(t), SL_OK);
	sl_run_options o;
	sl_run_options_default(&o);
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_topology_errmsg(t), "limit"));
	sl_state_stats ss;
	CU_ASSERT_EQUAL(sl_state_stats_get(st, &ss), SL_OK);
	CU_ASSERT_EQUAL(ss.keys, 0);
	sl_topology_free(t);
	sl_state_close(st);
	free(big);
}

/* R21: plain mode refuses to run after a failed add_bolt, and a bolt
 * emitting the wrong number of values stops the run with SL_EINVAL */
typedef struct nsrc {
	int i, n;
} nsrc;

static int nsrc_next(void *self, sl_plain_collector *c)
{
	nsrc *s = self;
	if (s->i >= s->n)
		return SL_ECLOSED;
	sl_value v = sl_int(s->i);
	int rc = sl_plain_spout_emit(c, (uint64_t)s->i + 1, &v, 1);
	s->i++;
	return rc;
}
static void nsrc_ack(void *self, uint64_t id)
{
	(void)self, (void)id;
}
static void nsrc_fail(void *self, uint64_t id)
{
	nsrc *s = self; /* replay: emit it again */
	(void)id;
	if (s->i > 0)
		s->i--;
}

static int three_values(void *user, const sl_tuple *in, sl_plain_collector *c)
{
	(void)user;
	sl_value v[3] = { in->v[0], in->v[0], in->v[0] };
	return sl_plain_emit(c, v, 3);
}

static void test_plain_build_and_arity_errors(void)
{
	static const sl_plain_spout ops
	    = { "n", nsrc_next, nsrc_ack, nsrc_fail };
	for (int acking = 0; acking <= 1; acking++) {
		sl_plain_options o;
		sl_plain_options_default(&o);
		o.acking = acking;
		sl_plain *p;
		nsrc src = { 0, 500 };
		CU_ASSERT_EQUAL_FATAL(sl_plain_new(&p, &o), SL_OK);
		CU_ASSERT_EQUAL(
		    sl_plain_set_spout(p, "n", &ops, &src, "x"), SL_OK);
		CU_ASSERT_EQUAL(sl_plain_add_bolt(p, "b", "n", SL_GROUP_FIELDS,
		                    "nosuch", three_values, NULL, "a,b", 1),
		    SL_ENOTFOUND);
		CU_ASSERT_EQUAL(sl_plain_run(p), SL_ENOTFOUND);
		CU_ASSERT_EQUAL(src.i, 0);
		sl_plain_free(p);

		CU_ASSERT_EQUAL_FATAL(sl_plain_new(&p, &o), SL_OK);
		CU_ASSERT_EQUAL(
		    sl_plain_set_spout(p, "n", &ops, &src, "x"), SL_OK);
		CU_ASSERT_EQUAL(
		    sl_plain_add_bolt(p, "b", "n", SL_GROUP_SHUFFLE, NULL,
		        three_values, NULL, "a,b", 2),
		    SL_OK);
		CU_ASSERT_EQUAL(sl_plain_run(p), SL_EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "emitted 3"));
		sl_plain_free(p);
	}
}

SL_SUITE(compose, NULL, NULL,
    { "a group value over the limit is refused",
        test_oversize_group_value_refused },
    { "plain: build and arity errors stop the run",
        test_plain_build_and_arity_errors },
    { "count with a field counts tuples", test_count_with_a_field_counts },
    { "min and max: one answer in any order", test_min_max_total_order },
    { "a reducer sees its field", test_reducer_sees_its_field },
    { "an overflow in the state stops the run", test_state_overflow_stops },
    { "merge needs the same fields", test_merge_needs_the_same_fields },
    { "duplicate field names refused", test_duplicate_field_names_refused },
    { "a stop before the run is kept", test_stop_before_run },
    { "the socket spout replays what it read",
        test_socket_spout_replays_what_it_read },
    { "join: inner, left and outer against a reference", test_join_types },
    { "join: a stream with itself", test_self_join },
    { "join: counted per owner, exact under a replay",
        test_join_counted_exactly_under_replay },
    { "join: build errors", test_join_build_errors },
    { "chained repartitions deliver every tuple", test_chained_repartitions },
    { "merge of a same-stage and a shuffled branch",
        test_merge_across_stages },
    { "grouped first_n emits whole tuples", test_grouped_first_n },
    { "an aggregate ends the grouping", test_aggregate_ends_grouping },
    { "a wrong emit arity stops the run", test_schema_error_stops })
