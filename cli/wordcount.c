/*
 * wordcount.c - `sluice wordcount`: the exactly-once word count. Lines of
 * a file (or stdin) are split into words, grouped by word and counted
 * into a state (LevelDB by default) with opaque semantics.
 */
#include "args.h"
#include "cli.h"
#include "job.h"
#include "sluice.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DRPC `words`: the sum of the counts of the space-separated words;
 * `count`: the count of one word (the same stream; kept for clarity). */
static void drpc_streams(sl_topology *t, sl_state *st)
{
	static const char *const fns[] = { "words", "count" };
	for (size_t i = 0; i < 2; i++) {
		sl_stream *q = sl_topology_new_drpc_stream(t, fns[i]);
		q = sl_stream_flat_map(
		    q, "args", sl_fn_split_words, NULL, "word");
		q = sl_stream_state_query(q, st, "word", "count");
		sl_stream_aggregate(q, "count", sl_agg_sum(), "sum");
	}
}

static int dump_one(
    void *user, const uint8_t *key, size_t klen, const sl_value *v)
{
	FILE *f = user;
	/* the key is one word (core/key.h): printed as it is */
	sl_value w;
	size_t n;
	int rc = sl_state_key_values(key, klen, &w, 1, &n);
	if (rc || n != 1 || w.type != SL_BYTES)
		return rc ? rc : SL_ECORRUPT;
	fwrite(w.u.p, 1, w.len, f);
	fprintf(f, "\t%" PRId64 "\n", v->type == SL_INT ? v->u.i : 0);
	return 0;
}

static void print_stats(FILE *f, const sl_topology_stats *s, const char *sem,
    uint64_t lines, uint64_t words, int json)
{
	double wps = s->elapsed_s > 0 ? (double)words / s->elapsed_s : 0;
	if (json)
		fprintf(f,
		    "{\"mode\":\"trident\",\"semantics\":\"%s\","
		    "\"words\":%" PRIu64 ",\"lines\":%" PRIu64
		    ",\"batches\":%" PRIu64 ",\"replays\":%" PRIu64
		    ",\"last_committed\":%" PRIu64
		    ",\"elapsed_s\":%.3f,\"words_per_s\":%.0f,"
		    "\"batch_p50_ms\":%.3f,\"batch_p99_ms\":%.3f,"
		    "\"commit_p50_ms\":%.3f,\"commit_p99_ms\":%.3f}\n",
		    sem, words, lines, s->batches_committed, s->replays,
		    s->last_committed, s->elapsed_s, wps, s->batch_p50_ms,
		    s->batch_p99_ms, s->commit_p50_ms, s->commit_p99_ms);
	else
		fprintf(f,
		    "sluice: wordcount: %" PRIu64 " words in %" PRIu64
		    " batches (%.0f lines/batch), %" PRIu64
		    " replays, last txid %" PRIu64
		    ", %.2f s, %.0f words/s; batch latency p50 %.1f ms "
		    "p99 %.1f ms; commit p50 %.1f ms p99 %.1f ms\n",
		    words, s->batches_committed, s->tuples_per_batch,
		    s->replays, s->last_committed, s->elapsed_s, wps,
		    s->batch_p50_ms, s->batch_p99_ms, s->commit_p50_ms,
		    s->commit_p99_ms);
}

static uint64_t words_read(void *spout)
{
	return sl_spout_file_words(spout);
}

static int wordcount(int argc, char **argv, uint8_t *key);

/* The key buffer lives here so that every way out wipes it. */
int sli_cmd_wordcount(int argc, char **argv)
{
	uint8_t key[SL_KEY_BYTES];
	int rc = wordcount(argc, argv, key);
	sl_wipe(key, sizeof(key));
	return rc;
}

/* 1 when the line asks for plain mode (--mode plain, --mode=plain or
 * --acking) before any `--`. */
static int plain_asked(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strncmp(argv[i], "--acking", 8)
		    || !strcmp(argv[i], "--mode=plain")
		    || (!strcmp(argv[i], "--mode") && i + 1 < argc
		        && !strcmp(argv[i + 1], "plain")))
			return 1;
	return 0;
}

/* The command line of `sluice wordcount` (trident mode). */
typedef struct wc_opts {
	const char *input, *dir, *stats, *dump, *sem_s, *drpc, *keyfile;
	const char *metrics, *mode;
	int memory, no_sync, quiet, follow;
	long batch_size, batch_ms, max_pending, parallelism, timeout, attempts;
} wc_opts;

/* Parses argv into o (defaults first) and checks that the input and one
 * state were given; returns SLI_ARGS_GO or the exit status. */
static int parse_options(int argc, char **argv, wc_opts *o)
{
	*o = (wc_opts) { .sem_s = "opaque",
		.mode = "trident",
		.batch_size = 10000,
		.batch_ms = 100,
		.max_pending = 4,
		.parallelism = 2,
		.timeout = 30000 };
	const sli_arg opts[] = {
		{ "input", SLI_ARG_STR, &o->input, "FILE|-",
		    "the text to count (- for stdin); required" },
		{ "state", SLI_ARG_STR, &o->dir, "DIR",
		    "LevelDB state in DIR" },
		{ "memory", SLI_ARG_FLAG, &o->memory, NULL,
		    "state in memory" },
		{ "mode", SLI_ARG_CHOICE, &o->mode, NULL,
		    "plain: tuple mode (sluice wordcount --mode plain --help)",
		    .choices = "trident|plain" },
		{ "semantics", SLI_ARG_CHOICE, &o->sem_s, NULL,
		    "state semantics",
		    .choices = "opaque|transactional|none" },
		{ "batch-size", SLI_ARG_LONG, &o->batch_size, "N",
		    "tuples per batch, a hint", 1, 10000000 },
		{ "batch-ms", SLI_ARG_LONG, &o->batch_ms, "MS",
		    "cut a batch after MS", 1, 3600000 },
		{ "max-pending", SLI_ARG_LONG, &o->max_pending, "N",
		    "batches in flight", 1, 64 },
		{ "parallelism", SLI_ARG_LONG, &o->parallelism, "N",
		    "tasks of the counting stage", 1, 64 },
		{ "no-sync", SLI_ARG_FLAG, &o->no_sync, NULL,
		    "no fsync per batch" },
		{ "batch-timeout", SLI_ARG_LONG, &o->timeout, "MS",
		    "replay a batch after MS", 1, 86400000 },
		{ "max-attempts", SLI_ARG_LONG, &o->attempts, "N",
		    "give up after N attempts (0: never)", 0, 1000000 },
		{ "stats", SLI_ARG_STR, &o->stats, "FILE",
		    "write the final statistics (JSON) to FILE" },
		{ "dump", SLI_ARG_STR, &o->dump, "FILE",
		    "write WORD<TAB>count lines to FILE at the end" },
		{ "quiet", SLI_ARG_FLAG, &o->quiet, NULL,
		    "no progress line, no summary" },
		{ "drpc", SLI_ARG_STR, &o->drpc, "EP",
		    "serve DRPC (words, count) and `sluice stats` on EP",
		    .optional = "tcp://127.0.0.1:3772",
		    .takes_next = sli_args_is_endpoint },
		{ "metrics", SLI_ARG_STR, &o->metrics, "HOST:PORT",
		    "serve /metrics, the status page and /stats.json",
		    .optional = "127.0.0.1:9464",
		    .takes_next = sli_args_is_hostport },
		{ "cluster-key-file", SLI_ARG_STR, &o->keyfile, "F",
		    "seal frames and DRPC; required for DRPC/metrics off\n"
		    "loopback" },
		{ "follow", SLI_ARG_FLAG, &o->follow, NULL,
		    "wait for the file to grow (as tail -f); an unterminated\n"
		    "last line waits for its newline" },
	};
	const sli_cmd_spec spec = {
		.name = "wordcount",
		.synopsis = "--input FILE|- (--state DIR | --memory) "
		            "[options]\n"
		            "       sluice wordcount --mode plain ... (see "
		            "docs/plain.md)",
		.about = "Counts the words (runs of bytes other than space, "
		         "tab and newline) of each line\nexactly once into "
		         "the state; a rerun on the same input and state "
		         "resumes where\nit stopped. A last line without a "
		         "newline is counted (as awk does); --follow\nholds "
		         "it back until its newline arrives.",
		.args = opts,
		.nargs = sizeof(opts) / sizeof(opts[0]),
		.checks_after = 1,
		.example = "sluice wordcount --input book.txt --state /tmp/st "
		           "--drpc\n"
		           "sluice drpc words the cat    # from another shell",
		.exits = "0 the input was counted (or the run was stopped by "
		         "a signal);\n1 the input, the state or the run "
		         "failed, or a signal stopped a batch that kept\n"
		         "failing (the committed state is intact); 2 bad "
		         "usage.",
	};
	sli_args a = { 0 };
	int ps = sli_args_parse(&spec, argc, argv, &a);
	if (ps != SLI_ARGS_GO)
		return ps;
	if (!o->input || (!o->dir && !o->memory) || (o->dir && o->memory)) {
		fprintf(stderr,
		    "sluice: wordcount: give --input and one of "
		    "--state DIR or --memory (see sluice wordcount --help)\n");
		return 2;
	}
	return SLI_ARGS_GO;
}

/* Reads the semantics and the cluster key (into key), then opens the
 * input and the state, in that order: a bad input never touches the
 * state. Returns 0, or the exit status after printing why (nothing
 * left open). */
static int open_input_and_state(const wc_opts *o, uint8_t *key,
    sl_state_options *so, sl_spout **spout, sl_state **st)
{
	sl_state_options_default(so);
	if (sl_semantics_parse(o->sem_s, &so->semantics)) {
		fprintf(stderr, "sluice: wordcount: --semantics: %s\n",
		    sl_errdetail());
		return 2;
	}
	so->sync = !o->no_sync;
	/* the cluster key seals DRPC (and frames); checked before anything
	 * is opened */
	if (sli_cli_key("wordcount", o->keyfile, key))
		return 2;
	if (sl_spout_file_new(spout, o->input)) {
		fprintf(stderr, "sluice: wordcount: %s\n", sl_errdetail());
		return 1;
	}
	sl_spout_file_count_words(*spout, 1);
	sl_spout_file_follow(*spout, o->follow);
	int rc = o->memory ? sl_state_open_memory(st, so)
	                   : sl_state_open_leveldb(st, o->dir, so);
	if (rc) {
		fprintf(stderr, "sluice: wordcount: state %s: %s\n",
		    o->memory ? "memory" : o->dir,
		    *sl_errdetail() ? sl_errdetail() : sl_strerror(rc));
		sl_spout_free(*spout);
		return 1;
	}
	return 0;
}

/* The counting topology over spout (taken) and st (borrowed), with the
 * DRPC streams. Returns 0, or 1 after printing why (spout freed). */
static int build_topology(
    const wc_opts *o, sl_spout *spout, sl_state *st, sl_topology **tp)
{
	sl_topology *t;
	if (sl_topology_new(&t, "wordcount")) {
		sl_spout_free(spout);
		return 1;
	}
	sl_stream *s = sl_topology_new_stream(t, "lines", spout, "line");
	s = sl_stream_flat_map(s, "line", sl_fn_split_words, NULL, "word");
	s = sl_stream_group_by(s, "word");
	s = sl_stream_persistent_aggregate(
	    s, st, NULL, sl_agg_count(), "count");
	sl_stream_parallelism(s, (uint32_t)o->parallelism);
	drpc_streams(t, st);
	if (sl_topology_error(t)) {
		fprintf(
		    stderr, "sluice: wordcount: %s\n", sl_topology_errmsg(t));
		sl_topology_free(t);
		return 1;
	}
	*tp = t;
	return 0;
}

/* Runs t to the end of its input under a job (progress, signals, DRPC
 * and metrics serving); with --drpc, keeps answering after the input
 * ends until a signal. Returns the exit status so far (0 or 1), or -1
 * when the job could not start (nothing ran: no summary). */
static int run_job(const wc_opts *o, const uint8_t *key, sl_topology *t,
    sl_state *st, sl_spout *spout)
{
	sl_run_options ro;
	sl_run_options_default(&ro);
	ro.batch_size = (size_t)o->batch_size;
	ro.batch_ms = (int)o->batch_ms;
	ro.max_pending = (uint32_t)o->max_pending;
	ro.batch_timeout_ms = (int)o->timeout;
	ro.max_attempts = (uint32_t)o->attempts;
	ro.cluster_key = o->keyfile ? key : NULL;
	sli_job job;
	if (sli_job_init(&job, "wordcount", t, "wordcount"))
		return -1;
	sli_monitor_add_state(job.m, "", st);
	sli_monitor_set_progress(job.m, "words", words_read, spout);
	ro.on_commit = sli_job_on_commit;
	ro.user = &job;
	if (sli_job_serve(&job, o->drpc, o->metrics, o->keyfile ? key : NULL,
	        o->quiet)) {
		sli_job_end(&job);
		return -1;
	}
	/* stopped before it started: nothing to finish */
	int rc = sli_job_signalled() ? SL_OK : sl_topology_run(t, &ro);
	sli_job_progress_done(&job);
	int status = 0;
	if (rc) {
		fprintf(stderr, "sluice: wordcount: %s\n",
		    *sl_topology_errmsg(t) ? sl_topology_errmsg(t)
		                           : sl_strerror(rc));
		status = 1;
	}
	sli_job_serve_until_signal(&job, rc, o->drpc, o->quiet);
	sli_job_end(&job);
	return status;
}

/* Writes WORD<TAB>count lines of st to path; returns 0 or 1 (printed).
 * A damaged state must not leave a partial dump behind an exit status
 * of 0. */
static int write_dump(sl_state *st, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "sluice: wordcount: %s: %s\n", path,
		    strerror(errno));
		return 1;
	}
	int status = 0;
	int drc = sl_state_foreach(st, dump_one, f);
	if (drc) {
		fprintf(stderr, "sluice: wordcount: %s: %s\n", path,
		    *sl_errdetail() ? sl_errdetail() : sl_strerror(drc));
		status = 1;
	}
	if (sli_cli_close(f, "wordcount", path))
		status = 1;
	return status;
}

/* The summary on stderr (unless --quiet), --stats and --dump; returns
 * 1 if a file could not be written, else 0. */
static int report(const wc_opts *o, const sl_state_options *so, sl_topology *t,
    sl_spout *spout, sl_state *st)
{
	int status = 0;
	sl_topology_stats ts;
	sl_topology_stats_get(t, &ts);
	uint64_t lines = sl_spout_file_lines(spout);
	uint64_t words = sl_spout_file_words(spout);
	const char *sem = sl_semantics_name(so->semantics);
	if (!o->quiet)
		print_stats(stderr, &ts, sem, lines, words, 0);
	if (o->stats) {
		FILE *f = fopen(o->stats, "w");
		if (f)
			print_stats(f, &ts, sem, lines, words, 1);
		if (sli_cli_close(f, "wordcount", o->stats))
			status = 1;
	}
	if (o->dump && write_dump(st, o->dump))
		status = 1;
	return status;
}

static int wordcount(int argc, char **argv, uint8_t *key)
{
	if (plain_asked(argc, argv))
		return sli_cmd_wordcount_plain(argc, argv);
	wc_opts o;
	int ps = parse_options(argc, argv, &o);
	if (ps != SLI_ARGS_GO)
		return ps;
	if (sli_cli_outside("wordcount", "--dump", o.dump, o.dir)
	    || sli_cli_outside("wordcount", "--stats", o.stats, o.dir))
		return 2;
	if (sli_cli_dry_run)
		return 0;
	/* catch SIGINT/SIGTERM from the start: a signal that arrives while
	 * the state opens stops the run cleanly instead of killing it */
	sli_job_signals();
	sl_state_options so;
	sl_spout *spout;
	sl_state *st;
	int rc = open_input_and_state(&o, key, &so, &spout, &st);
	if (rc)
		return rc;
	sl_topology *t;
	if (build_topology(&o, spout, st, &t)) {
		sl_state_close(st);
		return 1;
	}
	int status = run_job(&o, key, t, st, spout);
	if (status >= 0 && report(&o, &so, t, spout, st))
		status = 1;
	sl_topology_free(t);
	sl_state_close(st);
	return status < 0 ? 1 : status;
}
