/*
 * wordcount.c - the word count as a topology for `sluice run` (the same
 * streams as `sluice wordcount`):
 *
 *   sluice run build/topologies/wordcount.so --state DIR [--drpc] -- FILE
 *
 * FILE defaults to stdin. DRPC functions: `words W...` (the sum of the
 * words' counts) and `count W`.
 */
#include <sluice.h>

#include <stdlib.h>
#include <string.h>

SL_TOPOLOGY_ABI_EXPORT;

static uint64_t words_read(void *spout)
{
	return sl_spout_file_words(spout);
}

int sluice_topology(sl_app *app, int argc, char **argv)
{
	const char *input = "-";
	int parallelism = 2;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--parallelism") && i + 1 < argc) {
			parallelism = atoi(argv[++i]);
			if (parallelism < 1 || parallelism > 64)
				return sl_app_fail(app,
				    "--parallelism: 1 to 64, got '%s'",
				    argv[i]);
		} else if (argv[i][0] == '-' && argv[i][1])
			return sl_app_fail(app,
			    "unknown argument '%s' (usage: [--parallelism "
			    "N] [FILE])",
			    argv[i]);
		else
			input = argv[i];
	}
	/* open the input first: a bad input never touches the state */
	sl_spout *spout;
	if (sl_spout_file_new(&spout, input))
		return sl_app_fail(app, "%s", sl_errdetail());
	sl_spout_file_count_words(spout, 1);
	sl_topology *t = sl_app_topology(app, "wordcount");
	if (!t) {
		sl_spout_free(spout);
		return SL_ENOMEM;
	}
	sl_stream *s = sl_topology_new_stream(t, "lines", spout, "line");
	sl_app_set_progress(app, "words", words_read, spout);
	sl_state *st;
	int rc = sl_app_state(app, NULL, &st);
	if (rc)
		return rc;
	s = sl_stream_flat_map(s, "line", sl_fn_split_words, NULL, "word");
	s = sl_stream_group_by(s, "word");
	s = sl_stream_persistent_aggregate(
	    s, st, NULL, sl_agg_count(), "count");
	sl_stream_parallelism(s, (uint32_t)parallelism);
	static const char *const fns[] = { "words", "count" };
	for (size_t i = 0; i < 2; i++) {
		sl_stream *q = sl_topology_new_drpc_stream(t, fns[i]);
		q = sl_stream_flat_map(
		    q, "args", sl_fn_split_words, NULL, "word");
		q = sl_stream_state_query(q, st, "word", "count");
		sl_stream_aggregate(q, "count", sl_agg_sum(), "sum");
	}
	return sl_topology_error(t);
}
