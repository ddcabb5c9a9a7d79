/*
 * topology_template.c - a topology for `sluice run`: copy it, change the
 * streams, build and run it (docs/guide.md, "Write your own topology"):
 *
 *   cc -shared -fPIC topo.c $(pkg-config --cflags --libs sluice) -o topo.so
 *   sluice run ./topo.so                       # the built-in input
 *   sluice run ./topo.so --state st -- a.txt   # count the words of files
 *
 * It counts words exactly once: lines -> words -> group by word -> Count
 * into a state the runner opens from the command line (--state DIR or
 * --memory), and answers the DRPC function `count WORD...` (with --drpc).
 */
#include <sluice.h>

#include <stdio.h>
#include <string.h>

SL_TOPOLOGY_ABI_EXPORT;

/* Used when no file is given: three small batches, then the end. */
static const char *const builtin[] = {
	"the quick brown fox",
	"jumps over the lazy dog",
	"the dog sleeps",
};

static uint64_t words_read(void *spout)
{
	return sl_spout_file_words(spout);
}

int sluice_topology(sl_app *app, int argc, char **argv)
{
	sl_topology *t = sl_app_topology(app, "template");
	sl_state *counts;
	int rc = sl_app_state(app, NULL, &counts);
	if (!t || rc)
		return rc ? rc : SL_ENOMEM;

	sl_stream *s;
	if (argc > 2)
		return sl_app_fail(
		    app, "give at most one input file, got %d", argc - 1);
	if (argc == 2) {
		/* a file (or - for stdin), read exactly once even across
		 * restarts: the file spout is transactional */
		sl_spout *spout;
		if ((rc = sl_spout_file_new(&spout, argv[1])))
			return sl_app_fail(app, "%s", sl_errdetail());
		sl_spout_file_count_words(spout, 1);
		sl_app_set_progress(app, "words", words_read, spout);
		s = sl_topology_new_stream(t, "lines", spout, "line");
	} else {
		sl_value v[3];
		size_t starts[4] = { 0, 1, 2, 3 };
		for (size_t i = 0; i < 3; i++)
			v[i] = sl_str(builtin[i]);
		sl_spout *spout;
		if ((rc = sl_spout_fixed_new(&spout, 1, v, starts, 3, 0)))
			return rc;
		s = sl_topology_new_stream(t, "lines", spout, "line");
	}
	s = sl_stream_flat_map(s, "line", sl_fn_split_words, NULL, "word");
	s = sl_stream_group_by(s, "word");
	s = sl_stream_persistent_aggregate(
	    s, counts, NULL, sl_agg_count(), "count");
	sl_stream_parallelism(s, 2);

	/* DRPC `count WORD...`: the sum of the words' counts */
	sl_stream *q = sl_topology_new_drpc_stream(t, "count");
	q = sl_stream_flat_map(q, "args", sl_fn_split_words, NULL, "word");
	q = sl_stream_state_query(q, counts, "word", "count");
	sl_stream_aggregate(q, "count", sl_agg_sum(), "sum");
	return sl_topology_error(t);
}
