/*
 * wordcount.c - `sluice wordcount`: the exactly-once word count. Lines of
 * a file (or stdin) are split into words, grouped by word and counted
 * into a state (LevelDB by default) with opaque semantics.
 */
#include "cli.h"
#include "job.h"
#include "core/core.h"
#include "sluice.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(FILE *f)
{
	fprintf(f,
	    "usage: sluice wordcount --input FILE|- (--state DIR | --memory)\n"
	    "         [--semantics opaque|transactional|none] "
	    "[--batch-size N] [--batch-ms N]\n"
	    "         [--max-pending N] [--parallelism N] [--no-sync] "
	    "[--batch-timeout MS]\n"
	    "         [--max-attempts N] [--stats FILE] [--dump FILE] "
	    "[--quiet] [--drpc [ENDPOINT]]\n"
	    "         [--cluster-key-file FILE] [--metrics [HOST:PORT]]\n"
	    "         [--follow]\n"
	    "       sluice wordcount --mode plain ... (see docs/plain.md)\n"
	    "Counts the words (runs of bytes other than space, tab and "
	    "newline) of each line\nexactly once into the state; a rerun on "
	    "the same input and state resumes where\nit stopped. A last line "
	    "without a newline is counted (as awk does); --follow\nholds it "
	    "back until its newline arrives and waits for the file to "
	    "grow.\n");
	return f == stderr ? 2 : 0;
}

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

static int parse_num(
    const char *opt, const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = s ? strtol(s, &end, 10) : 0;
	if (!s || errno || *end || v < min || v > max) {
		fprintf(stderr,
		    "sluice: wordcount: %s: expected a number from %ld to "
		    "%ld, got '%s'\n",
		    opt, min, max, s ? s : "");
		return -1;
	}
	*out = v;
	return 0;
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
	sli_wipe(key, sizeof(key));
	return rc;
}

static int wordcount(int argc, char **argv, uint8_t *key)
{
	const char *input = NULL, *dir = NULL, *stats = NULL, *dump = NULL;
	const char *sem_s = "opaque", *drpc = NULL, *keyfile = NULL;
	const char *metrics = NULL;
	int memory = 0, sync = 1, quiet = 0, follow = 0;
	long batch_size = 10000, batch_ms = 100, max_pending = 4;
	long parallelism = 2, timeout = 30000, attempts = 0;
	if (sli_cli_help_asked(argc, argv)) {
		for (int i = 1; i < argc; i++)
			if (!strcmp(argv[i], "--acking")
			    || (!strcmp(argv[i], "--mode") && i + 1 < argc
			        && !strcmp(argv[i + 1], "plain")))
				return sli_cmd_wordcount_plain(argc, argv);
		return usage(stdout);
	}
	/* catch SIGINT/SIGTERM from the start: a signal that arrives while
	 * the state opens stops the run cleanly instead of killing it */
	sli_job_signals();
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--mode")) {
			if (v && !strcmp(v, "plain")) {
				signal(SIGINT, SIG_DFL);
				signal(SIGTERM, SIG_DFL);
				return sli_cmd_wordcount_plain(argc, argv);
			}
			if (!v || strcmp(v, "trident")) {
				fprintf(stderr,
				    "sluice: wordcount: --mode: trident or "
				    "plain, got '%s'\n",
				    v ? v : "");
				return 2;
			}
			i++;
		} else if (!strcmp(a, "--acking"))
			return sli_cmd_wordcount_plain(argc, argv);
		else if (!strcmp(a, "--input") && v)
			input = argv[++i];
		else if (!strcmp(a, "--state") && v)
			dir = argv[++i];
		else if (!strcmp(a, "--memory"))
			memory = 1;
		else if (!strcmp(a, "--semantics") && v)
			sem_s = argv[++i];
		else if (!strcmp(a, "--batch-size")) {
			if (parse_num(a, v, 1, 10000000, &batch_size))
				return 2;
			i++;
		} else if (!strcmp(a, "--batch-ms")) {
			if (parse_num(a, v, 1, 3600000, &batch_ms))
				return 2;
			i++;
		} else if (!strcmp(a, "--max-pending")) {
			if (parse_num(a, v, 1, 64, &max_pending))
				return 2;
			i++;
		} else if (!strcmp(a, "--parallelism")) {
			if (parse_num(a, v, 1, 64, &parallelism))
				return 2;
			i++;
		} else if (!strcmp(a, "--batch-timeout")) {
			if (parse_num(a, v, 1, 86400000, &timeout))
				return 2;
			i++;
		} else if (!strcmp(a, "--max-attempts")) {
			if (parse_num(a, v, 0, 1000000, &attempts))
				return 2;
			i++;
		} else if (!strcmp(a, "--no-sync"))
			sync = 0;
		else if (!strcmp(a, "--follow"))
			follow = 1;
		else if (!strcmp(a, "--quiet"))
			quiet = 1;
		else if (!strcmp(a, "--stats") && v)
			stats = argv[++i];
		else if (!strcmp(a, "--dump") && v)
			dump = argv[++i];
		else if (!strcmp(a, "--cluster-key-file") && v)
			keyfile = argv[++i];
		else if (!strcmp(a, "--drpc")) {
			drpc = "tcp://127.0.0.1:3772";
			if (v && v[0] != '-')
				drpc = argv[++i];
		} else if (!strcmp(a, "--metrics")) {
			metrics = "127.0.0.1:9464";
			if (v && v[0] != '-')
				metrics = argv[++i];
		} else if (!strncmp(a, "--metrics=", 10))
			metrics = a + 10;
		else if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return usage(stdout);
		else {
			fprintf(stderr,
			    "sluice: wordcount: unknown or incomplete "
			    "option '%s'\n",
			    a);
			return usage(stderr);
		}
	}
	if (!input || (!dir && !memory) || (dir && memory)) {
		fprintf(stderr,
		    "sluice: wordcount: give --input and one of "
		    "--state DIR or --memory\n");
		return usage(stderr);
	}
	sl_state_options so;
	sl_state_options_default(&so);
	if (sl_semantics_parse(sem_s, &so.semantics)) {
		fprintf(stderr, "sluice: wordcount: --semantics: %s\n",
		    sl_errdetail());
		return 2;
	}
	so.sync = sync;
	/* the cluster key seals DRPC (and frames); checked before anything
	 * is opened */
	if (keyfile && sl_key_from_file(key, keyfile)) {
		fprintf(stderr, "sluice: wordcount: %s\n", sl_errdetail());
		return 2;
	}
	/* open the input first: a bad input never touches the state */
	void *spout;
	int rc = sl_spout_file_new(&spout, input);
	if (rc) {
		fprintf(stderr, "sluice: wordcount: %s\n", sl_errdetail());
		return 1;
	}
	sl_spout_file_count_words(spout, 1);
	sl_spout_file_follow(spout, follow);
	sl_state *st;
	rc = memory ? sl_state_open_memory(&st, &so)
	            : sl_state_open_leveldb(&st, dir, &so);
	if (rc) {
		fprintf(stderr, "sluice: wordcount: state %s: %s\n",
		    memory ? "memory" : dir,
		    *sl_errdetail() ? sl_errdetail() : sl_strerror(rc));
		sl_spout_file_ops.free(spout);
		return 1;
	}
	sl_topology *t;
	if ((rc = sl_topology_new(&t, "wordcount"))) {
		sl_spout_file_ops.free(spout);
		sl_state_close(st);
		return 1;
	}
	sl_stream *s = sl_topology_new_stream(
	    t, "lines", &sl_spout_file_ops, spout, "line");
	s = sl_stream_flat_map(s, "line", sl_fn_split_words, NULL, "word");
	s = sl_stream_group_by(s, "word");
	s = sl_stream_persistent_aggregate(
	    s, st, NULL, sl_agg_count(), "count");
	sl_stream_parallelism(s, (uint32_t)parallelism);
	drpc_streams(t, st);
	if (sl_topology_error(t)) {
		fprintf(
		    stderr, "sluice: wordcount: %s\n", sl_topology_errmsg(t));
		sl_topology_free(t);
		sl_state_close(st);
		return 1;
	}
	sl_run_options ro;
	sl_run_options_default(&ro);
	ro.batch_size = (size_t)batch_size;
	ro.batch_ms = (int)batch_ms;
	ro.max_pending = (uint32_t)max_pending;
	ro.batch_timeout_ms = (int)timeout;
	ro.max_attempts = (uint32_t)attempts;
	ro.cluster_key = keyfile ? key : NULL;
	sli_job job;
	if (sli_job_init(&job, "wordcount", t, "wordcount")) {
		sl_topology_free(t);
		sl_state_close(st);
		return 1;
	}
	sli_monitor_add_state(job.m, "", st);
	sli_monitor_set_progress(job.m, "words", words_read, spout);
	ro.on_commit = sli_job_on_commit;
	ro.user = &job;
	if (sli_job_serve(&job, drpc, metrics, keyfile ? key : NULL, quiet)) {
		sli_job_end(&job);
		sl_topology_free(t);
		sl_state_close(st);
		return 1;
	}
	sl_drpc_server *server = job.drpc;
	/* stopped before it started: nothing to finish */
	rc = sli_job_signalled() ? SL_OK : sl_topology_run(t, &ro);
	sli_job_progress_done(&job);
	int status = 0;
	if (rc) {
		fprintf(stderr, "sluice: wordcount: %s\n",
		    *sl_topology_errmsg(t) ? sl_topology_errmsg(t)
		                           : sl_strerror(rc));
		status = 1;
	}
	/* with --drpc, keep answering after the input ends until a signal */
	if (server && !rc && !sli_job_signalled()) {
		if (!quiet)
			fprintf(stderr,
			    "sluice: wordcount: input done; serving "
			    "DRPC on %s until SIGINT/SIGTERM\n",
			    drpc);
		while (!sli_job_signalled())
			usleep(50000);
	}
	sli_job_end(&job);
	sl_topology_stats ts;
	sl_topology_stats_get(t, &ts);
	uint64_t lines = sl_spout_file_lines(spout);
	uint64_t words = sl_spout_file_words(spout);
	if (!quiet)
		print_stats(stderr, &ts, sl_semantics_name(so.semantics),
		    lines, words, 0);
	if (stats) {
		FILE *f = fopen(stats, "w");
		if (!f) {
			fprintf(stderr, "sluice: wordcount: %s: %s\n", stats,
			    strerror(errno));
			status = 1;
		} else {
			print_stats(f, &ts, sl_semantics_name(so.semantics),
			    lines, words, 1);
			fclose(f);
		}
	}
	if (dump) {
		FILE *f = fopen(dump, "w");
		if (!f) {
			fprintf(stderr, "sluice: wordcount: %s: %s\n", dump,
			    strerror(errno));
			status = 1;
		} else {
			/* a damaged state must not leave a partial dump
			 * behind an exit status of 0 */
			int drc = sl_state_foreach(st, dump_one, f);
			if (drc) {
				fprintf(stderr, "sluice: wordcount: %s: %s\n",
				    dump,
				    *sl_errdetail() ? sl_errdetail()
				                    : sl_strerror(drc));
				status = 1;
			}
			if (fclose(f)) {
				fprintf(stderr, "sluice: wordcount: %s: %s\n",
				    dump, strerror(errno));
				status = 1;
			}
		}
	}
	sl_topology_free(t);
	sl_state_close(st);
	return status;
}
