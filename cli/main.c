/* main.c - the `sluice` command: dispatches to sub-commands. */
#include "sluice.h"

#include <stdio.h>
#include <string.h>

static int usage(FILE *f)
{
	fprintf(f,
	    "usage: sluice COMMAND [ARGS]\n"
	    "commands:\n"
	    "  version          print the version\n");
	return f == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("sluice %s\n", SL_VERSION_STRING);
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help"))
		return usage(stdout);
	fprintf(stderr, "sluice: %s: unknown command\n", argv[1]);
	return usage(stderr);
}
