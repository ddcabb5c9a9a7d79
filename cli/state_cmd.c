/* state_cmd.c - placeholder until its issue lands. */
#include "cli.h"

#include <stdio.h>

int sli_cmd_state(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "sluice: %s: not built yet\n", argv[0]);
	return 2;
}
