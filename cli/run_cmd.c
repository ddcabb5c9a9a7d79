/*
 * run_cmd.c - `sluice run TOPOLOGY.so [options] [-- args]`: loads a
 * topology from a shared object (its entry point builds the streams on an
 * sl_app, see include/sluice.h), runs it with the run options of the
 * command line and config file, serves DRPC, `sluice stats` and metrics
 * while it runs, and prints a summary.
 */
#include "cli.h"
#include "job.h"
#include "runopts.h"
#include "sluice.h"

#include <dlfcn.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The lib directory next to this program's bin directory holds the
 * libsluice.so.0 that topologies link against: loading it first lets a
 * topology built against an install in a private PREFIX find it. The
 * symbols still bind to this program's own copy (it exports them). */
static void preload_library(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return;
	self[n] = 0;
	char *slash = strrchr(self, '/');
	if (!slash)
		return;
	*slash = 0;
	char lib[PATH_MAX + 32];
	snprintf(lib, sizeof(lib), "%s/../lib/libsluice.so.0", self);
	if (access(lib, R_OK) == 0)
		dlopen(lib, RTLD_NOW | RTLD_LOCAL);
}

/* Loads path and finds its entry point; prints why not. */
static int load(const char *path, void **handle, sl_topology_entry *entry)
{
	char p[PATH_MAX + 8];
	/* dlopen searches the library path for a bare name: a file in the
	 * current directory is meant */
	snprintf(p, sizeof(p), "%s%s", strchr(path, '/') ? "" : "./", path);
	if (access(p, R_OK) != 0) {
		fprintf(stderr, "sluice: run: %s: cannot read it: %m\n", path);
		return 1;
	}
	void *h = dlopen(p, RTLD_NOW | RTLD_LOCAL);
	char why[1024] = "";
	if (!h)
		snprintf(why, sizeof(why), "%s", dlerror());
	if (!h && strstr(why, "libsluice.so")) {
		/* linked against a libsluice.so.0 that is not on the library
		 * path: the one installed beside this program will do (only
		 * then: a second copy of the library is not loaded for
		 * nothing) */
		preload_library();
		h = dlopen(p, RTLD_NOW | RTLD_LOCAL);
		if (!h)
			snprintf(why, sizeof(why), "%s", dlerror());
	}
	if (!h) {
		fprintf(stderr, "sluice: run: %s: cannot load it: %s\n", path,
		    why);
		return 1;
	}
	const unsigned *abi = dlsym(h, SL_TOPOLOGY_ABI_SYMBOL);
	if (!abi) {
		fprintf(stderr,
		    "sluice: run: %s: not a sluice topology: no %s symbol "
		    "(write SL_TOPOLOGY_ABI_EXPORT; in its source)\n",
		    path, SL_TOPOLOGY_ABI_SYMBOL);
		dlclose(h);
		return 1;
	}
	if (*abi != SL_TOPOLOGY_ABI) {
		fprintf(stderr,
		    "sluice: run: %s: built for topology ABI %u, this sluice "
		    "(%s) runs ABI %u: rebuild it against this sluice's "
		    "sluice.h\n",
		    path, *abi, SL_VERSION_STRING, SL_TOPOLOGY_ABI);
		dlclose(h);
		return 1;
	}
	void *fn = dlsym(h, SL_TOPOLOGY_ENTRY);
	if (!fn) {
		fprintf(stderr,
		    "sluice: run: %s: no %s function (int %s(sl_app *app, "
		    "int argc, char **argv))\n",
		    path, SL_TOPOLOGY_ENTRY, SL_TOPOLOGY_ENTRY);
		dlclose(h);
		return 1;
	}
	*handle = h;
	memcpy(entry, &fn, sizeof(fn));
	return 0;
}

static uint64_t app_progress(void *user)
{
	const char *unit;
	uint64_t v = 0;
	sl_app_progress(user, &unit, &v);
	return v;
}

static void print_summary(FILE *f, sl_topology *t, sli_monitor *m)
{
	sl_topology_stats s;
	sl_topology_stats_get(t, &s);
	const char *unit;
	uint64_t total;
	double r;
	sli_monitor_progress(m, &unit, &total, &r);
	if (!strcmp(unit, "tuples"))
		fprintf(f, "sluice: run: ");
	else
		fprintf(f, "sluice: run: %" PRIu64 " %s, ", total, unit);
	fprintf(f,
	    "%" PRIu64 " tuples in %" PRIu64 " batches, %" PRIu64
	    " replays, last txid %" PRIu64
	    ", %.2f s; batch latency p50 %.1f ms p99 %.1f ms\n",
	    s.tuples, s.batches_committed, s.replays, s.last_committed,
	    s.elapsed_s, s.batch_p50_ms, s.batch_p99_ms);
}

/* The flags as given (applied after the config file). */
typedef struct flags {
	struct {
		const char *key, *val;
	} set[64];
	int nset;
	const char *config;
} flags;

static int collect(
    void *user, const sli_arg *a, const char *value, const char *where)
{
	flags *f = user;
	if (!strcmp(a->name, "config")) {
		f->config = value;
		return 0;
	}
	if (f->nset == 64) {
		fprintf(stderr, "sluice: run: %s: too many options\n", where);
		return 2;
	}
	int nosync = !strcmp(a->name, "no-sync");
	f->set[f->nset].key = nosync ? "sync" : a->name;
	f->set[f->nset].val = nosync ? "no" : value;
	f->nset++;
	return 0;
}

/* Parses the command line of `sluice run`: the flags are collected into
 * fl (applied after the config file), the topology's path is a->pos[0]
 * and its arguments a->rest. Returns SLI_ARGS_GO or the exit status. */
static int parse_line(int argc, char **argv, flags *fl, sli_args *a)
{
	const sli_cmd_spec spec = {
		.name = "run",
		.synopsis = "TOPOLOGY.so [--state DIR | --memory] "
		            "[--config FILE] [options]\n"
		            "                  [-- TOPOLOGY ARGS...]",
		.about
		= "Loads the topology the shared object defines (its "
		  "sluice_topology entry point,\nsee docs/guide.md "
		  "\"Write your own topology\"), runs it until its input "
		  "ends\nor SIGINT/SIGTERM, and prints a summary.",
		.checks_after = 1,
		.args = runopts_args,
		.nargs = runopts_nargs,
		.min_pos = 1,
		.max_pos = 1,
		.pos_what = "a topology: give the path of a shared object",
		.extra_hint = "(topology arguments go after --)",
		.rest_after_dashdash = 1,
		.example = "cc -shared -fPIC topo.c $(pkg-config --cflags "
		           "--libs sluice) -o topo.so\n"
		           "sluice run ./topo.so --state /tmp/st --drpc -- "
		           "input.txt\n"
		           "sluice stats                  # from another "
		           "shell, while it runs",
		.exits = "0 the input was processed (or the job was stopped "
		         "by a signal);\n1 the topology failed to load, build "
		         "or run, a result could not be\nwritten, or a signal "
		         "stopped a batch that kept failing; 2 bad usage or\n"
		         "options.",
		.call = collect,
		.user = fl,
	};
	return sli_args_parse(&spec, argc, argv, a);
}

/* The config file (not read under sli_cli_dry_run), then the flags as
 * given, into o. Returns 0 or 2 (message printed). */
static int apply_options(runopts *o, const flags *fl)
{
	int rc = fl->config && !sli_cli_dry_run
	    ? runopts_load(o, "run", fl->config)
	    : 0;
	for (int i = 0; !rc && i < fl->nset; i++) {
		char where[80];
		snprintf(where, sizeof(where), "--%s", fl->set[i].key);
		if (!strcmp(fl->set[i].key, "sync"))
			snprintf(where, sizeof(where), "--no-sync");
		rc = runopts_set(
		    o, "run", fl->set[i].key, fl->set[i].val, where);
	}
	return rc;
}

/* Checks the state options, reads the cluster key (into key), loads the
 * topology's shared object (*dl) and makes its app (*app). Returns 0,
 * or the exit status after printing why (what was opened is in *dl and
 * *app for the caller to free). */
static int open_app(const char *path, const runopts *o, uint8_t *key,
    void **dl, sl_topology_entry *entry, sl_app **app)
{
	if (o->state && o->memory) {
		fprintf(stderr,
		    "sluice: run: give one of --state DIR and --memory\n");
		return 2;
	}
	if (sli_cli_outside("run", "--stats", o->stats_file, o->state))
		return 2;
	sl_state_options so;
	sl_state_options_default(&so);
	if (sl_semantics_parse(o->semantics, &so.semantics)) {
		fprintf(
		    stderr, "sluice: run: semantics: %s\n", sl_errdetail());
		return 2;
	}
	so.sync = o->sync;
	so.cache_entries = (size_t)o->cache_entries;
	if (sli_cli_key("run", o->keyfile, key))
		return 2;
	if (load(path, dl, entry))
		return 1;
	int rc = sl_app_new(app, o->memory ? NULL : o->state, &so);
	if (rc) {
		fprintf(stderr, "sluice: run: %s\n", sl_strerror(rc));
		return 1;
	}
	return 0;
}

/* Calls the topology's entry point with its argv (its path, then what
 * follows `--`) and takes the topology it made (*t). Returns 0, or 1
 * after printing why it failed to build. */
static int build(sl_app *app, sl_topology_entry entry, const char *path,
    const sli_args *a, sl_topology **t)
{
	int targc = 1 + a->nrest;
	char **targv = calloc((size_t)targc + 1, sizeof(char *));
	if (!targv)
		return 1;
	targv[0] = (char *)path;
	for (int i = 1; i < targc; i++)
		targv[i] = a->rest[i - 1];
	int rc = entry(app, targc, targv);
	*t = sl_app_get_topology(app);
	if (rc || !*t || sl_topology_error(*t)) {
		const char *why = *sl_app_error(app) ? sl_app_error(app)
		    : *t && sl_topology_error(*t)    ? sl_topology_errmsg(*t)
		    : *sl_errdetail()                ? sl_errdetail()
		    : rc                             ? sl_strerror(rc)
		                                     : "no topology was made "
		                                       "(call sl_app_topology)";
		fprintf(stderr,
		    "sluice: run: %s: the topology failed to build: %s\n",
		    path, why);
		free(targv);
		return 1;
	}
	free(targv);
	return 0;
}

/* --stats FILE: the monitor's JSON; returns 0 or 1 (printed). */
static int write_stats(const char *path, sli_monitor *m)
{
	int status = 0;
	char *js = sli_monitor_json(m);
	FILE *f = fopen(path, "w");
	if (f && !js) {
		fprintf(stderr, "sluice: run: %s: out of memory\n", path);
		status = 1;
	} else if (f)
		fprintf(f, "%s\n", js);
	if (sli_cli_close(f, "run", path))
		status = 1;
	free(js);
	return status;
}

/* Runs t under job (the caller ends it): monitors the app's states and
 * progress, serves DRPC and metrics, runs to the end of the input (with
 * DRPC, keeps answering after it until a signal), then prints the
 * summary and writes --stats. Returns the exit status. */
static int run_job(const runopts *o, const uint8_t *key, sl_app *app,
    sl_topology *t, sli_job *job)
{
	if (sli_job_init(job, "run", t, sl_app_name(app)))
		return 1;
	for (size_t i = 0; i < sl_app_nstates(app); i++) {
		const char *name;
		sl_state *st = sl_app_state_at(app, i, &name);
		sli_monitor_add_state(job->m, name, st);
	}
	const char *unit;
	uint64_t first;
	if (sl_app_progress(app, &unit, &first))
		sli_monitor_set_progress(job->m, unit, app_progress, app);
	sl_run_options ro;
	sl_run_options_default(&ro);
	ro.batch_size = (size_t)o->batch_size;
	ro.batch_ms = (int)o->batch_ms;
	ro.max_pending = (uint32_t)o->max_pending;
	ro.batch_timeout_ms = (int)o->batch_timeout;
	ro.max_attempts = (uint32_t)o->max_attempts;
	ro.frame_tuples = (size_t)o->frame_tuples;
	ro.cluster_key = o->keyfile ? key : NULL;
	ro.on_commit = sli_job_on_commit;
	ro.user = job;
	if (sli_job_serve(
	        job, o->drpc, o->metrics, o->keyfile ? key : NULL, o->quiet))
		return 1;
	int rc = sl_topology_run(t, &ro);
	sli_job_progress_done(job);
	int status = 0;
	if (rc) {
		fprintf(stderr, "sluice: run: %s\n",
		    *sl_topology_errmsg(t) ? sl_topology_errmsg(t)
		                           : sl_strerror(rc));
		status = 1;
	}
	sli_job_serve_until_signal(job, rc, o->drpc, o->quiet);
	if (!o->quiet)
		print_summary(stderr, t, job->m);
	if (o->stats_file && write_stats(o->stats_file, job->m))
		status = 1;
	return status;
}

int sli_cmd_run(int argc, char **argv)
{
	flags fl = { .nset = 0 };
	sli_args a = { 0 };
	int ps = parse_line(argc, argv, &fl, &a);
	if (ps != SLI_ARGS_GO)
		return ps;
	const char *path = a.pos[0];
	runopts o;
	runopts_default(&o);
	int rc = apply_options(&o, &fl);
	if (rc || sli_cli_dry_run) {
		runopts_free(&o);
		return rc;
	}
	sli_job_signals();
	void *dl = NULL;
	sl_app *app = NULL;
	sli_job job;
	memset(&job, 0, sizeof(job));
	uint8_t key[SL_KEY_BYTES];
	sl_topology_entry entry;
	sl_topology *t = NULL;
	int status = open_app(path, &o, key, &dl, &entry, &app);
	if (!status)
		status = build(app, entry, path, &a, &t);
	if (!status)
		status = run_job(&o, key, app, t, &job);
	sli_job_end(&job);
	sl_app_free(app); /* before dlclose: the spout's free is in dl */
	if (dl)
		dlclose(dl);
	runopts_free(&o);
	return status;
}
