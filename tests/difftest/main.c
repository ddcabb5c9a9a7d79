/*
 * main.c - sluice-difftest, the differential topology tester as a command
 * (docs/testing.md):
 *   sluice-difftest --seed N --one          one topology, printed
 *   sluice-difftest --seed N --count C      C topologies from seed N
 *   sluice-difftest --minutes M             soak: Trident topologies and
 *                                           plain chains until M minutes
 *   --plain (only plain chains), --plain-tuples N (tuples per plain run),
 *   --no-faults, --exclude default|none|chain,merge,firstn,keys,
 *   --shrink, --verbose, --max-batches B, --skip-steps MASK (shrinking),
 *   --no-crash / --crash-all / --crash-share N (crash runs: by default
 *   one topology in five, when it has a state, runs in child processes
 *   killed with SIGKILL at chosen moments and restarted; --crash-child
 *   SEED --gen G --log FILE --tmpdir DIR is such a child)
 * Exits 1 when any run disagreed with the reference.
 */
#define _POSIX_C_SOURCE 200809L
#include "../difftest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned parse_exclude(const char *e)
{
	if (!strcmp(e, "default"))
		return DT_KNOWN_DEFAULT;
	unsigned x = 0;
	if (strstr(e, "chain"))
		x |= DT_KNOWN_CHAIN;
	if (strstr(e, "merge"))
		x |= DT_KNOWN_MERGE;
	if (strstr(e, "firstn"))
		x |= DT_KNOWN_FIRSTN;
	if (strstr(e, "keys"))
		x |= DT_KNOWN_KEYS;
	if (strstr(e, "regroup"))
		x |= DT_KNOWN_REGROUP;
	return x;
}

static void usage(void)
{
	fprintf(stderr,
	    "usage: sluice-difftest [--seed N] [--one | --count C | --minutes "
	    "M]\n"
	    "         [--plain] [--plain-tuples N] [--no-faults] [--exclude "
	    "LIST]\n"
	    "         [--shrink] [--verbose] [--max-batches B] [--skip-steps "
	    "MASK]\n"
	    "         [--no-crash | --crash-all | --crash-share N]\n");
}

/* The command line (the options of the runs go to dt_opts). */
typedef struct dt_args {
	uint64_t seed, count, plain_tuples;
	int have_seed, one, plain_only, child_gen;
	const char *child_log, *tmpdir;
	double minutes;
} dt_args;

/* Reads argv into a and o; returns 0, or 2 after printing the usage. */
static int parse_args(int argc, char **argv, dt_args *a, dt_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(w, "--seed") && v) {
			a->seed = strtoull(v, NULL, 0);
			a->have_seed = 1;
			i++;
		} else if (!strcmp(w, "--one"))
			a->one = 1;
		else if (!strcmp(w, "--count") && v) {
			a->count = strtoull(v, NULL, 0);
			i++;
		} else if (!strcmp(w, "--minutes") && v) {
			a->minutes = atof(v);
			i++;
		} else if (!strcmp(w, "--plain"))
			a->plain_only = 1;
		else if (!strcmp(w, "--plain-tuples") && v) {
			a->plain_tuples = strtoull(v, NULL, 0);
			i++;
		} else if (!strcmp(w, "--no-faults"))
			o->no_faults = 1;
		else if (!strcmp(w, "--exclude") && v) {
			o->exclude = parse_exclude(v);
			i++;
		} else if (!strcmp(w, "--exclude-bits") && v) {
			o->exclude = (unsigned)strtoul(v, NULL, 0);
			i++;
		} else if (!strcmp(w, "--no-crash"))
			o->crash = 0;
		else if (!strcmp(w, "--crash-all"))
			o->crash = 1;
		else if (!strcmp(w, "--crash-share") && v) {
			o->crash = atoi(v);
			i++;
		} else if (!strcmp(w, "--crash-child") && v) {
			a->seed = strtoull(v, NULL, 0);
			a->have_seed = 1;
			a->child_gen = -1;
			i++;
		} else if (!strcmp(w, "--gen") && v) {
			a->child_gen = atoi(v);
			i++;
		} else if (!strcmp(w, "--log") && v) {
			a->child_log = v;
			i++;
		} else if (!strcmp(w, "--tmpdir") && v) {
			a->tmpdir = v;
			i++;
		} else if (!strcmp(w, "--shrink"))
			o->shrink = 1;
		else if (!strcmp(w, "--verbose"))
			o->verbose = 1;
		else if (!strcmp(w, "--max-batches") && v) {
			o->max_batches = atoi(v);
			i++;
		} else if (!strcmp(w, "--skip-steps") && v) {
			o->skip_steps = strtoull(v, NULL, 0);
			i++;
		} else {
			usage();
			return 2;
		}
	}
	return 0;
}

/* Runs the topologies from a->seed on (a->count of them, or for
 * a->minutes), printing the totals every 10 s and at the end. */
static void run_all(
    const dt_args *a, const dt_opts *o, dt_totals *t, dt_plain_totals *p)
{
	double t0 = now_s(), last = t0;
	for (uint64_t i = 0;; i++) {
		double el = now_s() - t0;
		if (a->minutes > 0 ? el >= a->minutes * 60 : i >= a->count)
			break;
		/* the soak: mostly Trident topologies, every 20th a plain
		 * chain (every 200th a long one) */
		if (a->plain_only || (a->minutes > 0 && i % 20 == 19)) {
			uint64_t nt = a->plain_tuples;
			if (!nt && a->minutes > 0 && i % 200 == 199)
				nt = 2000000;
			dt_run_plain(a->seed + i, nt, o, p);
		} else
			dt_run_trident(a->seed + i, o, t);
		if (now_s() - last >= 10
		    || (a->minutes <= 0 && i + 1 == a->count)) {
			last = now_s();
			printf("sluice-difftest: %.0fs: %" PRIu64
			       " topologies, %" PRIu64 " batches, %" PRIu64
			       " input tuples, %" PRIu64
			       " faults injected, %" PRIu64
			       " replays, %" PRIu64 " crash runs (%" PRIu64
			       " SIGKILLs), %" PRIu64 " state keys, %" PRIu64
			       " mismatches; plain: %" PRIu64 " runs, %" PRIu64
			       " tuples, %" PRIu64 " dropped frames, %" PRIu64
			       " mismatches\n",
			    last - t0, t->topologies, t->batches, t->tuples,
			    t->faults, t->replays, t->crash_runs, t->crashes,
			    t->state_keys, t->mismatches, p->runs, p->tuples,
			    p->dropped_frames, p->mismatches);
			fflush(stdout);
		}
	}
}

int main(int argc, char **argv)
{
	dt_args a = { .count = 100 };
	dt_opts o;
	memset(&o, 0, sizeof(o));
	o.exclude = dt_exclusions_from_env();
	o.self = argv[0];
	o.crash = 5;
	static char exe[4096];
	ssize_t xl = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (xl > 0) {
		exe[xl] = 0;
		o.child_bin = exe;
	}
	if (parse_args(argc, argv, &a, &o))
		return 2;
	if (a.child_gen) {
		if (a.child_gen < 1 || !a.child_log || !a.tmpdir
		    || !a.have_seed) {
			usage();
			return 2;
		}
		o.tmpdir = a.tmpdir;
		return dt_crash_child(a.seed, a.child_gen, a.child_log, &o);
	}
	char tmp[] = "/tmp/sluice-difftest.XXXXXX";
	if (!mkdtemp(tmp)) {
		perror("sluice-difftest: mkdtemp");
		return 2;
	}
	o.tmpdir = tmp;
	if (!a.have_seed)
		a.seed
		    = (uint64_t)time(NULL) * 1000 + (uint64_t)getpid() % 1000;
	if (a.one) {
		o.verbose = 1;
		a.count = 1;
	}
	printf("sluice-difftest: seeds from %" PRIu64 ", exclusions 0x%x%s\n",
	    a.seed, o.exclude,
	    o.exclude == DT_KNOWN_DEFAULT ? " (the known-issue list)" : "");
	fflush(stdout);
	dt_totals t;
	dt_plain_totals p;
	memset(&t, 0, sizeof(t));
	memset(&p, 0, sizeof(p));
	run_all(&a, &o, &t, &p);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "sluice-difftest: could not remove %s\n", tmp);
	printf("sluice-difftest: done: %" PRIu64 " topologies, %" PRIu64
	       " batches, %" PRIu64 " faults, %" PRIu64 " crash runs, %" PRIu64
	       " SIGKILLs, %" PRIu64 " mismatches; plain %" PRIu64
	       " runs, %" PRIu64 " tuples, %" PRIu64 " mismatches\n",
	    t.topologies, t.batches, t.faults, t.crash_runs, t.crashes,
	    t.mismatches, p.runs, p.tuples, p.mismatches);
	return t.mismatches || p.mismatches ? 1 : 0;
}
