/* fuzz_cli_args.c - libFuzzer target: the command lines of every `sluice`
 * sub-command (cli/args.c and each command's checks, through
 * sli_cli_main) under sli_cli_dry_run, so that nothing runs after the
 * arguments are parsed and checked. The input is words separated by NUL
 * bytes; its first byte picks the sub-command (or, past the list, the
 * first word is the sub-command). Oracles: the exit status is 0 (help,
 * version, a good line) or 2 (bad usage), never anything else, nothing
 * exits or crashes, and the same line gives the same status twice (no
 * state kept between calls: getopt's is reset). */
#include "cli/args.h"
#include "cli/cli.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_WORDS 24

static const char *const cmds[]
    = { "wordcount", "run", "stats", "state", "drpc", "version", "help" };
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

/* argv for one call: fresh copies (getopt permutes argv) */
static int build(const uint8_t *data, size_t size, char **argv)
{
	int argc = 0;
	argv[argc++] = strdup("sluice");
	if (data[0] < NCMDS)
		argv[argc++] = strdup(cmds[data[0]]);
	size_t i = 1;
	while (i <= size && argc < MAX_WORDS) {
		size_t j = i;
		while (j < size && data[j])
			j++;
		if (j > i || j < size) {
			char *w = malloc(j - i + 1);
			memcpy(w, data + i, j - i);
			w[j - i] = 0;
			argv[argc++] = w;
		}
		i = j + 1;
	}
	argv[argc] = NULL;
	return argc;
}

static void drop(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		free(argv[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		sli_cli_dry_run = 1;
		/* help and messages go nowhere; the descriptors stay (the
		 * sanitizers and libFuzzer report on fd 2) */
		FILE *null = fopen("/dev/null", "w");
		if (!null)
			abort();
		stdout = null;
		stderr = null;
		ready = 1;
	}
	if (size == 0)
		return 0;
	char *argv[MAX_WORDS + 3], *again[MAX_WORDS + 3], *keep[MAX_WORDS + 3];
	int argc = build(data, size, argv);
	memcpy(keep, argv, sizeof(argv)); /* argv is permuted, not freed */
	int rc = sli_cli_main(argc, argv);
	int argc2 = build(data, size, again);
	char *keep2[MAX_WORDS + 3];
	memcpy(keep2, again, sizeof(again));
	int rc2 = sli_cli_main(argc2, again);
	drop(argc, keep);
	drop(argc2, keep2);
	if (rc != 0 && rc != 2)
		abort(); /* only help/ok or bad usage while parsing */
	if (rc != rc2)
		abort(); /* the parser kept state between calls */
	return 0;
}
