/* main.c - the `sluice` command (cli/commands.c dispatches). */
#include "cli.h"

int main(int argc, char **argv)
{
	return sli_cli_main(argc, argv);
}
