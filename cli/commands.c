/* commands.c - the `sluice` command: dispatches to sub-commands (main is
 * in cli/main.c, so that the argument fuzzer can call this). */
#include "args.h"
#include "cli.h"
#include "sluice.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
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

int sli_cli_close(FILE *f, const char *cmd, const char *path)
{
	int e = 0;
	if (!f)
		e = errno ? errno : EIO;
	else {
		errno = 0;
		if (fflush(f) || ferror(f))
			e = errno ? errno : EIO;
		if (fclose(f) && !e)
			e = errno ? errno : EIO;
	}
	if (!e)
		return 0;
	fprintf(stderr, "sluice: %s: %s: %s\n", cmd, path, strerror(e));
	return 1;
}

int sli_cli_key(const char *cmd, const char *path, uint8_t *key)
{
	if (!path || !sl_key_from_file(key, path))
		return 0;
	sl_wipe(key, SL_KEY_BYTES);
	fprintf(stderr, "sluice: %s: %s\n", cmd, sl_errdetail());
	return 2;
}

/* The real path of the folder holding path into out (PATH_MAX), with
 * path's last name appended when keep_name; NULL when it does not
 * exist. */
static char *real_parent(const char *path, char *out, int keep_name)
{
	char parent[PATH_MAX], real[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", path);
	char *slash = strrchr(parent, '/');
	const char *name = slash ? slash + 1 : path;
	if (slash)
		*(slash == parent ? slash + 1 : slash) = 0;
	else
		snprintf(parent, sizeof(parent), ".");
	if (!realpath(parent, real))
		return NULL;
	int n = keep_name && *name ? snprintf(out, PATH_MAX, "%s/%s",
	            strcmp(real, "/") ? real : "", name)
	                           : snprintf(out, PATH_MAX, "%s", real);
	return n >= 0 && n < PATH_MAX ? out : NULL;
}

int sli_cli_outside(
    const char *cmd, const char *opt, const char *path, const char *dir)
{
	if (!path || !dir)
		return 0;
	char d[PATH_MAX], p[PATH_MAX];
	/* a state made by this run does not exist yet: its parent does */
	if (!realpath(dir, d) && !real_parent(dir, d, 1))
		return 0;
	if (!real_parent(path, p, 0)) {
		/* its folder may be the state this run creates */
		char up[PATH_MAX];
		snprintf(up, sizeof(up), "%s", path);
		char *slash = strrchr(up, '/');
		if (!slash || slash == up)
			return 0;
		*slash = 0;
		if (!real_parent(up, p, 1))
			return 0; /* no such folder: the open says so */
	}
	size_t n = strlen(d);
	if (strncmp(p, d, n) || (p[n] && p[n] != '/'))
		return 0;
	fprintf(stderr,
	    "sluice: %s: %s %s is inside the state directory %s: it would "
	    "overwrite the state's own files; write it elsewhere\n",
	    cmd, opt, path, dir);
	return 2;
}

static int usage(FILE *f)
{
	fprintf(f,
	    "usage: sluice COMMAND [ARGS]   (sluice COMMAND --help)\n"
	    "commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "  %-10s %s\n", "version", "print the version");
	fprintf(f,
	    "Every command takes -h/--help and --version.\n"
	    "Example:\n  sluice wordcount --input book.txt --state /tmp/st\n"
	    "Exit status: 0 done; 1 the command failed; 2 bad usage.\n");
	return f == stderr ? 2 : 0;
}

int sli_cli_main(int argc, char **argv)
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
	const char *near = sli_args_nearest(argv[1], &cmds[0].name,
	    sizeof(cmds) / sizeof(cmds[0]), sizeof(cmds[0]));
	if (near)
		fprintf(stderr,
		    "sluice: %s: unknown command; did you mean '%s'?\n",
		    argv[1], near);
	else
		fprintf(stderr, "sluice: %s: unknown command\n", argv[1]);
	return usage(stderr);
}
