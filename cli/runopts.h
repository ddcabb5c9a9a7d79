/* runopts.h - the run options shared by `sluice run` and its config
 * file (cli/runopts.c): every option is a `key = value` line in the file
 * and a --key flag; flags override the file. */
#ifndef SLI_RUNOPTS_H
#define SLI_RUNOPTS_H

#include "args.h"

typedef struct runopts {
	const char *state; /* NULL: memory */
	int memory;
	const char *semantics;
	int sync;
	long cache_entries;
	long batch_size, batch_ms, max_pending, batch_timeout, max_attempts;
	long frame_tuples;
	const char *drpc; /* NULL: no DRPC server */
	const char *metrics; /* NULL: no HTTP endpoint */
	const char *keyfile;
	const char *stats_file;
	int quiet;
	/* strings read from the config file (freed by runopts_free) */
	char **owned;
	int nowned;
} runopts;

#define RUNOPTS_DRPC_DEFAULT    "tcp://127.0.0.1:3772"
#define RUNOPTS_METRICS_DEFAULT "127.0.0.1:9464"

void runopts_default(runopts *o);
void runopts_free(runopts *o);
/* Sets key (a long option name without the dashes, '_' allowed for '-')
 * to value; where names the source for messages ("--batch-size",
 * "job.conf:3"). Returns 0, or prints `sluice: CMD: WHERE: why` and
 * returns 2. value NULL for flags without a value (memory, quiet,
 * no-sync). */
int runopts_set(runopts *o, const char *cmd, const char *key,
    const char *value, const char *where);
/* Reads a config file of `key = value` lines (# comments, blank lines).
 * Unknown keys and bad values are errors naming the line. Returns 0 or 2
 * (message printed). */
int runopts_load(runopts *o, const char *cmd, const char *path);
/* The flags, for sli_args_parse (cli/args.h): every one is
 * SLI_ARG_CALL, or SLI_ARG_FLAG with dst NULL (the caller sets dst). */
extern const sli_arg runopts_args[];
extern const size_t runopts_nargs;

#endif
