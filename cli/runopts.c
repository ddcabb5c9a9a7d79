/*
 * runopts.c - the run options of `sluice run`, from flags and from a
 * config file in the redis.conf manner: one `key = value` a line, `#`
 * comments. The keys are the long flag names (batch-size, max-pending,
 * ...); an unknown key or a bad value names its file and line.
 */
#include "runopts.h"

#include <sluice.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The flags of `sluice run` (cli/run_cmd.c collects them through its
 * call and applies them after the config file). */
const sli_arg runopts_args[] = {
	{ "config", SLI_ARG_CALL, NULL, "FILE",
	    "read these options from FILE (`key = value` lines,\n"
	    "e.g. `batch-size = 5000`); flags override it",
	    .dflt = "" },
	{ "state", SLI_ARG_CALL, NULL, "DIR",
	    "LevelDB state in DIR (a topology's named states in\n"
	    "DIR/NAME)",
	    .dflt = "" },
	{ "memory", SLI_ARG_FLAG, NULL, NULL,
	    "state in memory (the default without --state)" },
	{ "semantics", SLI_ARG_CALL, NULL, "S",
	    "opaque | transactional | none", .dflt = "opaque" },
	{ "no-sync", SLI_ARG_FLAG, NULL, NULL,
	    "no fsync per batch (config: sync = no)" },
	{ "cache-entries", SLI_ARG_CALL, NULL, "N",
	    "cached records per state partition", .dflt = "100000" },
	{ "batch-size", SLI_ARG_CALL, NULL, "N", "tuples per batch, a hint",
	    .dflt = "10000" },
	{ "batch-ms", SLI_ARG_CALL, NULL, "MS", "cut a batch after MS",
	    .dflt = "100" },
	{ "max-pending", SLI_ARG_CALL, NULL, "N", "batches in flight",
	    .dflt = "4" },
	{ "batch-timeout", SLI_ARG_CALL, NULL, "MS", "replay a batch after MS",
	    .dflt = "30000" },
	{ "max-attempts", SLI_ARG_CALL, NULL, "N", "give up after N attempts",
	    .dflt = "0: never" },
	{ "frame-tuples", SLI_ARG_CALL, NULL, "N", "tuples per frame",
	    .dflt = "1024" },
	{ "drpc", SLI_ARG_CALL, NULL, "EP",
	    "serve DRPC and `sluice stats` on EP",
	    .optional = RUNOPTS_DRPC_DEFAULT,
	    .takes_next = sli_args_is_endpoint },
	{ "metrics", SLI_ARG_CALL, NULL, "HOST:PORT",
	    "serve /metrics (Prometheus), the status page and\n"
	    "/stats.json",
	    .optional = RUNOPTS_METRICS_DEFAULT,
	    .takes_next = sli_args_is_hostport },
	{ "cluster-key-file", SLI_ARG_CALL, NULL, "F",
	    "seal frames and DRPC; required for DRPC/metrics\noff loopback",
	    .dflt = "" },
	{ "stats", SLI_ARG_CALL, NULL, "FILE",
	    "write the final statistics (JSON) to FILE", .dflt = "" },
	{ "quiet", SLI_ARG_FLAG, NULL, NULL, "no progress line, no summary" },
};
const size_t runopts_nargs = sizeof(runopts_args) / sizeof(runopts_args[0]);

/* The library's defaults (sl_run_options_default,
 * sl_state_options_default), one copy of them. */
void runopts_default(runopts *o)
{
	memset(o, 0, sizeof(*o));
	sl_run_options r;
	sl_run_options_default(&r);
	sl_state_options so;
	sl_state_options_default(&so);
	o->semantics = so.semantics == SL_SEM_TRANSACTIONAL ? "transactional"
	    : so.semantics == SL_SEM_NONE                   ? "none"
	                                                    : "opaque";
	o->sync = so.sync;
	o->cache_entries = (long)so.cache_entries;
	o->batch_size = (long)r.batch_size;
	o->batch_ms = r.batch_ms;
	o->max_pending = (long)r.max_pending;
	o->batch_timeout = r.batch_timeout_ms;
	o->max_attempts = (long)r.max_attempts;
	o->frame_tuples = (long)r.frame_tuples;
}

void runopts_free(runopts *o)
{
	for (int i = 0; i < o->nowned; i++)
		free(o->owned[i]);
	free(o->owned);
	o->owned = NULL;
	o->nowned = 0;
}

enum { T_STR, T_NUM, T_BOOL };

static const struct opt {
	const char *key;
	int type;
	long min, max;
} opts[] = {
	{ "state", T_STR, 0, 0 },
	{ "memory", T_BOOL, 0, 0 },
	{ "semantics", T_STR, 0, 0 },
	{ "sync", T_BOOL, 0, 0 },
	{ "cache-entries", T_NUM, 0, 100000000 },
	{ "batch-size", T_NUM, 1, 10000000 },
	{ "batch-ms", T_NUM, 1, 3600000 },
	{ "max-pending", T_NUM, 1, 64 },
	{ "batch-timeout", T_NUM, 1, 86400000 },
	{ "max-attempts", T_NUM, 0, 1000000 },
	{ "frame-tuples", T_NUM, 1, 1000000 },
	{ "drpc", T_STR, 0, 0 },
	{ "metrics", T_STR, 0, 0 },
	{ "cluster-key-file", T_STR, 0, 0 },
	{ "stats", T_STR, 0, 0 },
	{ "quiet", T_BOOL, 0, 0 },
};

static int bool_of(const char *v, int *out)
{
	if (!v || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on")
	    || !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off")
	    || !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* "sluice: CMD: WHERE: why", with the help hint for a flag; returns 2. */
static int say(const char *cmd, const char *where, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "sluice: %s: %s: ", cmd, where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (where[0] == '-')
		fprintf(stderr, " (see sluice %s --help)", cmd);
	fputc('\n', stderr);
	return 2;
}

int runopts_set(runopts *o, const char *cmd, const char *key,
    const char *value, const char *where)
{
	char k[64];
	snprintf(k, sizeof(k), "%s", key);
	for (char *p = k; *p; p++)
		if (*p == '_')
			*p = '-';
	const struct opt *d = NULL;
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (!strcmp(opts[i].key, k))
			d = &opts[i];
	if (!d) {
		return say(cmd, where, "unknown key '%s'", key);
	}
	long num = 0;
	int b = 0;
	if (d->type == T_NUM) {
		if (!value || sli_args_long(value, d->min, d->max, &num)) {
			return say(cmd, where,
			    "expected a number from %ld to %ld, got '%s'",
			    d->min, d->max, value ? value : "");
		}
	} else if (d->type == T_BOOL && bool_of(value, &b)) {
		return say(cmd, where, "expected yes or no, got '%s'", value);
	} else if (d->type == T_STR && (!value || !*value)) {
		return say(cmd, where, "a value is needed");
	}
	if (!strcmp(k, "state"))
		o->state = value;
	else if (!strcmp(k, "memory"))
		o->memory = b;
	else if (!strcmp(k, "semantics"))
		o->semantics = value;
	else if (!strcmp(k, "sync"))
		o->sync = b;
	else if (!strcmp(k, "cache-entries"))
		o->cache_entries = num;
	else if (!strcmp(k, "batch-size"))
		o->batch_size = num;
	else if (!strcmp(k, "batch-ms"))
		o->batch_ms = num;
	else if (!strcmp(k, "max-pending"))
		o->max_pending = num;
	else if (!strcmp(k, "batch-timeout"))
		o->batch_timeout = num;
	else if (!strcmp(k, "max-attempts"))
		o->max_attempts = num;
	else if (!strcmp(k, "frame-tuples"))
		o->frame_tuples = num;
	else if (!strcmp(k, "drpc"))
		o->drpc = value;
	else if (!strcmp(k, "metrics"))
		o->metrics = value;
	else if (!strcmp(k, "cluster-key-file"))
		o->keyfile = value;
	else if (!strcmp(k, "stats"))
		o->stats_file = value;
	else if (!strcmp(k, "quiet"))
		o->quiet = b;
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

int runopts_load(runopts *o, const char *cmd, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "sluice: %s: config %s: %s\n", cmd, path,
		    strerror(errno));
		return 2;
	}
	char line[4096];
	int lineno = 0, rc = 0, nseen = 0;
	struct {
		char key[64];
		int line;
	} seen[64];
	while (!rc && fgets(line, sizeof(line), f)) {
		lineno++;
		char where[512];
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (!strchr(line, '\n') && !feof(f)) {
			fprintf(stderr, "sluice: %s: %s: line too long\n", cmd,
			    where);
			rc = 2;
			break;
		}
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			fprintf(stderr,
			    "sluice: %s: %s: expected `key = value`, got "
			    "'%s'\n",
			    cmd, where, s);
			rc = 2;
			break;
		}
		*eq = 0;
		char *key = trim(s), *val = trim(eq + 1);
		size_t vl = strlen(val);
		int quoted = vl >= 2 && val[0] == '"' && val[vl - 1] == '"';
		if (quoted) {
			val[vl - 1] = 0;
			val++;
		}
		/* comments go on their own line (as in redis.conf): a
		 * "# ..." after a value would become part of it */
		for (const char *h = strchr(val, '#'); !quoted && h;
		     h = strchr(h + 1, '#'))
			if (h == val || h[-1] == ' ' || h[-1] == '\t') {
				fprintf(stderr,
				    "sluice: %s: %s: comments go on their own "
				    "line ('%s'); quote a value that holds "
				    "\" #\"\n",
				    cmd, where, val);
				rc = 2;
				break;
			}
		if (rc)
			break;
		/* a key given twice is a mistake, not "the last wins" */
		char norm[64];
		snprintf(norm, sizeof(norm), "%s", key);
		for (char *p = norm; *p; p++)
			if (*p == '_')
				*p = '-';
		for (int i = 0; i < nseen; i++)
			if (!strcmp(seen[i].key, norm)) {
				fprintf(stderr,
				    "sluice: %s: %s: %s given twice, first on "
				    "line %d\n",
				    cmd, where, norm, seen[i].line);
				rc = 2;
				break;
			}
		if (rc)
			break;
		if (nseen < (int)(sizeof(seen) / sizeof(seen[0]))) {
			snprintf(seen[nseen].key, sizeof(seen[nseen].key),
			    "%s", norm);
			seen[nseen++].line = lineno;
		}
		char *keep = strdup(val);
		char **no = realloc(
		    o->owned, (size_t)(o->nowned + 1) * sizeof(char *));
		if (!keep || !no) {
			free(keep);
			if (no)
				o->owned = no;
			fprintf(stderr, "sluice: %s: out of memory\n", cmd);
			rc = 2;
			break;
		}
		o->owned = no;
		o->owned[o->nowned++] = keep;
		rc = runopts_set(o, cmd, key, keep, where);
	}
	if (!rc && ferror(f)) {
		fprintf(
		    stderr, "sluice: %s: config %s: read error\n", cmd, path);
		rc = 2;
	}
	fclose(f);
	return rc;
}
