/*
 * args.h - the one command-line parser of the `sluice` sub-commands
 * (getopt_long underneath). A sub-command describes its options in a
 * table; sli_args_parse does the common parts for all of them: --opt=value
 * and --opt value, `--`, -h/--help (usage with the defaults, an example
 * and the exit codes, on stdout), --version, unknown options (with a
 * "did you mean" hint), missing values, an option that takes a value
 * given twice (no option is repeatable; flags may repeat), numbers
 * (strict: sli_args_long) and their ranges, choices and the count of
 * positional words. It never exits and keeps no state between
 * calls (getopt's is reset on entry): the libFuzzer target of the
 * argument parsers calls it directly.
 */
#ifndef SLI_ARGS_H
#define SLI_ARGS_H

#include <stddef.h>
#include <stdio.h>

typedef enum {
	SLI_ARG_FLAG, /* no value: *(int *)dst = 1 (dst NULL: the call) */
	SLI_ARG_STR, /* *(const char **)dst = value */
	SLI_ARG_LONG, /* *(long *)dst, an integer in [min, max] (digits, a
	                 '-' only when min < 0; a max of 2^63 is LONG_MAX) */
	SLI_ARG_DOUBLE, /* *(double *)dst, in [min, max] ([min, max) with
	                   below_max): digits [. digits] [e [-] digits], a
	                   '-' only when min < 0 */
	SLI_ARG_CHOICE, /* *(const char **)dst, one of `choices` ("a|b") */
	SLI_ARG_CALL, /* the spec's call(user, arg, value, where) */
} sli_arg_type;

typedef struct sli_arg {
	const char *name; /* long name, without "--" */
	sli_arg_type type;
	void *dst; /* see the types; NULL for SLI_ARG_CALL */
	const char *meta; /* the value's name in the help ("DIR") */
	const char *help; /* one line (may hold '\n' for more) */
	double min, max; /* SLI_ARG_LONG / SLI_ARG_DOUBLE */
	int below_max; /* SLI_ARG_DOUBLE: max itself is refused */
	const char *choices; /* SLI_ARG_CHOICE: "opaque|transactional" */
	/* The value may be left out (--drpc, --drpc=EP): it is then this.
	 * The next word is taken as the value when takes_next says so
	 * (--drpc tcp://...). */
	const char *optional;
	int (*takes_next)(const char *word);
	/* Shown as "(default X)"; NULL: from *dst before parsing (numbers,
	 * strings), nothing for flags. "" shows none. */
	const char *dflt;
} sli_arg;

typedef struct sli_cmd_spec {
	const char *name; /* "wordcount", "state get" */
	/* after "usage: sluice NAME "; more lines start with spaces */
	const char *synopsis;
	const char *about; /* what it does: a paragraph */
	const sli_arg *args;
	size_t nargs;
	int min_pos, max_pos; /* positional words; max_pos -1: any */
	const char *pos_what; /* for "expected ...": "DIR and a KEY" */
	const char *extra_hint; /* after "unexpected argument 'x'" */
	/* Options end at the first positional word (`sluice drpc FUNCTION
	 * -x`: -x is an argument of the function). */
	int in_order;
	/* Words that are numbers ("-5", "-2.5") are positional words (keys),
	 * not options. */
	int numbers_positional;
	/* The words after the first `--` are not parsed: they are handed
	 * back in rest (`sluice run T.so -- topology args`). */
	int rest_after_dashdash;
	/* The command checks more after parsing (and then returns 0 itself
	 * under sli_cli_dry_run); 0: sli_args_parse returns 0 for it. */
	int checks_after;
	const char *example; /* lines, printed indented */
	const char *exits; /* the exit status paragraph */
	/* SLI_ARG_CALL: 0, or the exit status (2) after printing why;
	 * where is "--name" */
	int (*call)(void *user, const sli_arg *a, const char *value,
	    const char *where);
	void *user;
} sli_cmd_spec;

typedef struct sli_args {
	FILE *out, *err; /* set by the caller; NULL: stdout, stderr */
	char **pos; /* positional words (pointers into argv) */
	int npos;
	char **rest; /* rest_after_dashdash: the words after `--` */
	int nrest;
} sli_args;

#define SLI_ARGS_GO (-1)

/* Set by the argument fuzzer (tests/fuzz): every sub-command returns 0
 * right after its arguments are parsed and checked, doing nothing
 * (sli_args_parse returns 0 instead of SLI_ARGS_GO unless the spec says
 * checks_after). */
extern int sli_cli_dry_run;

/* Parses argv[1..argc) (argv[0] is the sub-command's name) by spec,
 * storing option values through the table (defaults are what the dst
 * held). Returns SLI_ARGS_GO when the command should go on (a->pos,
 * a->npos, a->rest, a->nrest set), or the exit status to return at once:
 * 0 after printing the help or the version on a->out, 2 after printing
 * what was wrong and a hint on a->err. argv is permuted (as getopt_long
 * does). -h/--help and --version win over any error on the line. Not
 * thread-safe (getopt's globals). */
int sli_args_parse(
    const sli_cmd_spec *spec, int argc, char **argv, sli_args *a);

/* Prints the spec's usage, options with defaults, example and exit
 * status on f. */
void sli_args_help(const sli_cmd_spec *spec, FILE *f);

/* Reads w as an integer in [min, max] into *out: base-10 digits and
 * nothing else, a leading '-' only when min < 0 (" 5", "+5", "5 ", "0x5"
 * and "-0" for min 0 are refused). Returns 0, or -1 (nothing stored).
 * Thread-safe. */
int sli_args_long(const char *w, long min, long max, long *out);

/* The word of words[0..n) nearest to w within two edits, or NULL. */
const char *sli_args_nearest(
    const char *w, const char *const *words, size_t n, size_t stride);

/* takes_next predicates: a word holding "://" (an endpoint); a word
 * HOST:PORT not starting with '-'. */
int sli_args_is_endpoint(const char *word);
int sli_args_is_hostport(const char *word);

#endif
