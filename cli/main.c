/* main.c - the `sluice` command: dispatches to sub-commands. */
#include "cli.h"
#include "sluice.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "wordcount", sli_cmd_wordcount,
	    "exactly-once word count (--mode plain for tuple mode)" },
	{ "run", sli_cmd_run,
	    "run a topology from a shared object (TOPOLOGY.so)" },
	{ "stats", sli_cmd_stats, "live figures of a running job" },
	{ "state", sli_cmd_state, "offline tools on a state directory" },
	{ "drpc", sli_cmd_drpc, "query a running topology over DRPC" },
};

int sli_cli_help_asked(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	return 0;
}

static int usage(FILE *f)
{
	fprintf(f,
	    "usage: sluice COMMAND [ARGS]   (sluice COMMAND --help)\n"
	    "commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "  %-10s %s\n", "version", "print the version");
	return f == stderr ? 2 : 0;
}

/* Edit distance (Levenshtein) of two short words, capped at 32 bytes. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 32 || lb > 32)
		return 99;
	size_t row[33];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t v = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < v)
				v = row[j] + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			diag = up;
		}
	}
	return row[lb];
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("sluice %s\n", SL_VERSION_STRING);
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help")
	    || !strcmp(argv[1], "-h"))
		return usage(stdout);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	const char *near = NULL;
	size_t best = 3; /* suggest within two edits */
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		size_t d = distance(argv[1], cmds[i].name);
		if (d < best) {
			best = d;
			near = cmds[i].name;
		}
	}
	if (near)
		fprintf(stderr,
		    "sluice: %s: unknown command; did you mean '%s'?\n",
		    argv[1], near);
	else
		fprintf(stderr, "sluice: %s: unknown command\n", argv[1]);
	return usage(stderr);
}
