/* cli.h - the sub-commands of the `sluice` command, one file each. */
#ifndef SLI_CLI_H
#define SLI_CLI_H

#include <stdint.h>
#include <stdio.h>

/* Each takes the arguments after the sub-command name (argv[0] is the
 * sub-command) and returns the process exit status. */
int sli_cmd_wordcount(int argc, char **argv); /* cli/wordcount.c */
int sli_cmd_wordcount_plain(int argc, char **argv); /* cli/wordcount_plain.c */
int sli_cmd_state(int argc, char **argv); /* cli/state_cmd.c */
int sli_cmd_drpc(int argc, char **argv); /* cli/drpc_cmd.c */
int sli_cmd_run(int argc, char **argv); /* cli/run_cmd.c */
int sli_cmd_stats(int argc, char **argv); /* cli/stats_cmd.c */

/* cli/probe.c: 0 when nothing listens at a tcp:// or ipc:// endpoint
 * (checked with a plain connect), 1 otherwise. */
int sli_endpoint_listening(const char *endpoint);

/* cli/commands.c: closes f, a file the user named for output (NULL: its
 * fopen failed, errno says why), and reports any write error on it as
 * "sluice: CMD: PATH: why" (a full disk shows at the flush). Returns 0,
 * or 1 after the message. */
int sli_cli_close(FILE *f, const char *cmd, const char *path);

/* cli/commands.c: reads the cluster key of --cluster-key-file path into
 * key when path is set. Returns 0 (also when path is NULL), or 2 (bad
 * usage) after "sluice: CMD: why" with key wiped. */
int sli_cli_key(const char *cmd, const char *path, uint8_t *key);

/* cli/commands.c: 0 when output file path (of option opt) lies outside
 * state directory dir (or either is NULL); otherwise 2 after "sluice:
 * CMD: OPT PATH is inside the state directory DIR" (it would overwrite
 * the state's own files, e.g. LevelDB's CURRENT). */
int sli_cli_outside(
    const char *cmd, const char *opt, const char *path, const char *dir);

/* cli/commands.c: the `sluice` command line (argv[0] the program);
 * returns the exit status. */
int sli_cli_main(int argc, char **argv);

#endif
