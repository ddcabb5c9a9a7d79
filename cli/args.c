/*
 * args.c - the one command-line parser of the sub-commands (see args.h):
 * getopt_long driven by each sub-command's option table, the help text
 * made from the same table, and the messages for what is wrong.
 */
#include "args.h"
#include "sluice.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int sli_cli_dry_run;

#define MAX_ARGS  48
#define O_VERSION 1000
#define O_FIRST   256

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

const char *sli_args_nearest(
    const char *w, const char *const *words, size_t n, size_t stride)
{
	const char *near = NULL;
	size_t best = 3; /* within two edits */
	for (size_t i = 0; i < n; i++) {
		const char *c
		    = *(const char *const *)((const char *)words + i * stride);
		size_t d = distance(w, c);
		if (d < best) {
			best = d;
			near = c;
		}
	}
	return near;
}

int sli_args_is_endpoint(const char *word)
{
	return strstr(word, "://") != NULL;
}

int sli_args_is_hostport(const char *word)
{
	return word[0] != '-' && strchr(word, ':') != NULL;
}

/* "sluice: NAME: <msg> (see sluice NAME --help)" on err; returns 2. */
static int bad(const sli_cmd_spec *s, FILE *err, const char *fmt, ...)
{
	va_list ap;
	fprintf(err, "sluice: %s: ", s->name);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fprintf(err, " (see sluice %s --help)\n", s->name);
	return 2;
}

static const char *meta_of(const sli_arg *o)
{
	if (o->meta)
		return o->meta;
	if (o->type == SLI_ARG_CHOICE)
		return o->choices;
	if (o->type == SLI_ARG_LONG || o->type == SLI_ARG_DOUBLE)
		return "N";
	return "VALUE";
}

/* The default shown for o ("" for none) in buf. */
static const char *default_of(const sli_arg *o, char *buf, size_t n)
{
	buf[0] = 0;
	if (o->dflt)
		return o->dflt;
	if (o->optional)
		return o->optional;
	if (!o->dst)
		return buf;
	switch (o->type) {
	case SLI_ARG_LONG:
		snprintf(buf, n, "%ld", *(long *)o->dst);
		break;
	case SLI_ARG_DOUBLE:
		snprintf(buf, n, "%g", *(double *)o->dst);
		break;
	case SLI_ARG_STR:
	case SLI_ARG_CHOICE:
		if (*(const char **)o->dst)
			snprintf(buf, n, "%s", *(const char **)o->dst);
		break;
	default:
		break;
	}
	return buf;
}

/* One option line: the left column is 24 wide; the help's own lines
 * are indented to it. */
static void help_line(
    FILE *f, const char *left, const char *help, const char *dflt)
{
	int w = fprintf(f, "  %s", left);
	if (w > 24) {
		fputc('\n', f);
		w = 0;
	}
	int col = fprintf(f, "%*s", 25 - w, "") + w;
	for (const char *p = help; *p; p++) {
		fputc(*p, f);
		col++;
		if (*p == '\n')
			col = fprintf(f, "%25s", "");
	}
	if (dflt && *dflt) {
		if (col + 11 + (int)strlen(dflt) > 79)
			fprintf(f, "\n%24s", "");
		fprintf(f, " (default %s)", dflt);
	}
	fputc('\n', f);
}

void sli_args_help(const sli_cmd_spec *s, FILE *f)
{
	fprintf(f, "usage: sluice %s %s\n", s->name, s->synopsis);
	if (s->about)
		fprintf(f, "%s\n", s->about);
	fprintf(f, "Options:\n");
	for (size_t i = 0; i < s->nargs; i++) {
		const sli_arg *o = &s->args[i];
		char left[96], dbuf[64];
		if (o->type == SLI_ARG_FLAG)
			snprintf(left, sizeof(left), "--%s", o->name);
		else if (o->optional)
			snprintf(left, sizeof(left), "--%s[=%s]", o->name,
			    meta_of(o));
		else
			snprintf(left, sizeof(left), "--%s %s", o->name,
			    meta_of(o));
		help_line(f, left, o->help ? o->help : "",
		    default_of(o, dbuf, sizeof(dbuf)));
	}
	help_line(f, "-h, --help", "this help", NULL);
	help_line(f, "--version", "print the version", NULL);
	if (s->example) {
		fprintf(f, "Example:\n  ");
		for (const char *p = s->example; *p; p++) {
			fputc(*p, f);
			if (*p == '\n' && p[1])
				fputs("  ", f);
		}
		if (s->example[strlen(s->example) - 1] != '\n')
			fputc('\n', f);
	}
	if (s->exits)
		fprintf(f, "Exit status: %s\n", s->exits);
}

/* A table bound as a long: the double 2^63 (what 0x7fff...ffff becomes)
 * is LONG_MAX, not the overflow of a conversion. */
static long bound(double d)
{
	if (d >= 0x1p63)
		return LONG_MAX;
	if (d <= -0x1p63)
		return LONG_MIN;
	return (long)d;
}

/* Digits, with a leading '-' only when minus; the whole word. */
static int digits(const char *w, int minus)
{
	if (*w == '-' && minus)
		w++;
	if (!*w)
		return 0;
	for (; *w; w++)
		if (*w < '0' || *w > '9')
			return 0;
	return 1;
}

/* A decimal number: digits [. digits] [e [-] digits], a leading '-' only
 * when minus (no blanks, '+', hex, inf or nan). */
static int decimal(const char *w, int minus)
{
	if (*w == '-' && minus)
		w++;
	size_t n = strspn(w, "0123456789");
	if (!n)
		return 0;
	w += n;
	if (*w == '.') {
		n = strspn(++w, "0123456789");
		if (!n)
			return 0;
		w += n;
	}
	if (*w == 'e' || *w == 'E')
		return digits(w + 1, 1);
	return !*w;
}

int sli_args_long(const char *w, long min, long max, long *out)
{
	if (!digits(w, min < 0))
		return -1;
	errno = 0;
	char *end;
	long v = strtol(w, &end, 10);
	if (*end || errno || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Stores value into o; returns 0 or the exit status (message printed). */
static int store(
    const sli_cmd_spec *s, FILE *err, const sli_arg *o, const char *value)
{
	char where[80];
	snprintf(where, sizeof(where), "--%s", o->name);
	char *end;
	switch (o->type) {
	case SLI_ARG_FLAG:
		if (!o->dst)
			return s->call(s->user, o, NULL, where);
		*(int *)o->dst = 1;
		return 0;
	case SLI_ARG_STR:
		if (!*value)
			return bad(s, err, "%s needs a value (%s)", where,
			    meta_of(o));
		*(const char **)o->dst = value;
		return 0;
	case SLI_ARG_CHOICE: {
		size_t l = strlen(value);
		for (const char *c = o->choices; *c;) {
			size_t cl = strcspn(c, "|");
			if (l && cl == l && !strncmp(c, value, l)) {
				*(const char **)o->dst = value;
				return 0;
			}
			c += cl + (c[cl] == '|');
		}
		return bad(s, err, "%s: expected %s, got '%s'", where,
		    o->choices, value);
	}
	case SLI_ARG_LONG: {
		long v, min = bound(o->min), max = bound(o->max);
		if (sli_args_long(value, min, max, &v))
			return bad(s, err,
			    "%s: expected a number from %ld to %ld, got "
			    "'%s'",
			    where, min, max, value);
		*(long *)o->dst = v;
		return 0;
	}
	case SLI_ARG_DOUBLE: {
		double v = 0;
		int ok = decimal(value, o->min < 0);
		if (ok) {
			errno = 0;
			v = strtod(value, &end);
			ok = !*end && !errno && isfinite(v) && v >= o->min
			    && v <= o->max && !(o->below_max && v >= o->max);
		}
		if (!ok)
			return bad(s, err,
			    "%s: expected a number in [%g, %g%c, got '%s'",
			    where, o->min, o->max, o->below_max ? ')' : ']',
			    value);
		*(double *)o->dst = v;
		return 0;
	}
	case SLI_ARG_CALL:
		return s->call(s->user, o, value, where);
	}
	return 2;
}

/* A number ("-5", "-2.5e3", "-inf") is not an option. */
static int is_number(const char *w)
{
	if (w[0] != '-' || !w[1] || w[1] == '-')
		return 0;
	char *end;
	strtod(w, &end);
	return *end == 0;
}

/* The word a substituted pointer stands for (see is_number). */
static char *unsub(char *p, char **orig, const unsigned char *sub, int n)
{
	for (int i = 1; p && i < n; i++)
		if (sub[i] && p == orig[i] + 1)
			return orig[i];
	return p;
}

/* The option word argv[optind - 1] without its dashes and "=value". */
static void typed_name(const char *w, char *out, size_t n)
{
	while (*w == '-')
		w++;
	size_t l = strcspn(w, "=");
	if (l >= n)
		l = n - 1;
	memcpy(out, w, l);
	out[l] = 0;
}

static int unknown(const sli_cmd_spec *s, FILE *err, const char *word)
{
	if (word[0] != '-' || word[1] != '-')
		return bad(s, err, "unknown option '%s'", word);
	char name[64];
	typed_name(word, name, sizeof(name));
	/* an abbreviation of more than one option */
	size_t l = strlen(name), nmatch = 0;
	char list[256] = "";
	for (size_t i = 0; l && i < s->nargs; i++)
		if (!strncmp(s->args[i].name, name, l)) {
			nmatch++;
			size_t ll = strlen(list);
			snprintf(list + ll, sizeof(list) - ll, "%s--%s",
			    ll ? ", " : "", s->args[i].name);
		}
	if (nmatch > 1)
		return bad(s, err, "option '%s' is ambiguous: %s", word, list);
	const char *names[MAX_ARGS + 2];
	size_t n = 0;
	for (size_t i = 0; i < s->nargs && n < MAX_ARGS; i++)
		names[n++] = s->args[i].name;
	names[n++] = "help";
	names[n++] = "version";
	const char *near = sli_args_nearest(name, names, n, sizeof(char *));
	if (near)
		return bad(s, err, "unknown option '%s'; did you mean '--%s'?",
		    word, near);
	return bad(s, err, "unknown option '%s'", word);
}

/* getopt_long's table for s in lo (MAX_ARGS + 3 entries): the spec's
 * options (val O_FIRST + index), then --help and --version. */
static void long_options(const sli_cmd_spec *s, struct option *lo)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nargs; i++, n++) {
		const sli_arg *o = &s->args[i];
		lo[n].name = o->name;
		lo[n].has_arg = o->type == SLI_ARG_FLAG ? no_argument
		    : o->optional                       ? optional_argument
		                                        : required_argument;
		lo[n].flag = NULL;
		lo[n].val = O_FIRST + (int)i;
	}
	lo[n++] = (struct option) { "help", no_argument, NULL, 'h' };
	lo[n++] = (struct option) { "version", no_argument, NULL, O_VERSION };
	lo[n] = (struct option) { NULL, 0, NULL, 0 };
}

/* rest_after_dashdash: the words after the first `--` are handed back
 * in a->rest; returns the count of the words before it. */
static int cut_rest(const sli_cmd_spec *s, int argc, char **argv, sli_args *a)
{
	if (s->rest_after_dashdash)
		for (int i = 1; i < argc; i++)
			if (!strcmp(argv[i], "--")) {
				a->rest = argv + i + 1;
				a->nrest = argc - i - 1;
				return i;
			}
	return argc;
}

/* -h/--help and --version first, whatever else the line holds: 0 after
 * printing the help or the version on out, else SLI_ARGS_GO. */
static int help_or_version(const sli_cmd_spec *s, int argc, char **argv,
    const char *optstring, const struct option *lo, FILE *out)
{
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, optstring, lo, NULL)) != -1) {
		if (c == 'h') {
			sli_args_help(s, out);
			return 0;
		}
		if (c == O_VERSION) {
			fprintf(out, "sluice %s\n", SL_VERSION_STRING);
			return 0;
		}
	}
	return SLI_ARGS_GO;
}

/* getopt_long returned c ('?' or ':') for word: prints what is wrong and
 * returns 2. */
static int option_error(const sli_cmd_spec *s, FILE *err, int c, char *word)
{
	if (c == '?') {
		if (optopt >= O_FIRST && optopt < O_FIRST + MAX_ARGS)
			return bad(s, err, "--%s takes no value ('%s')",
			    s->args[optopt - O_FIRST].name, word);
		if (optopt && optopt != 'h')
			return bad(s, err, "unknown option '-%c'", optopt);
		return unknown(s, err, word);
	}
	if (optopt >= O_FIRST && optopt < O_FIRST + MAX_ARGS) {
		const sli_arg *o = &s->args[optopt - O_FIRST];
		return bad(
		    s, err, "--%s needs a value (%s)", o->name, meta_of(o));
	}
	return bad(s, err, "'%s' needs a value", word);
}

/* The positional words argv[first..argc) into a; checks their count. */
static int positional(const sli_cmd_spec *s, FILE *err, int argc, char **argv,
    int first, sli_args *a)
{
	a->pos = argv + first;
	a->npos = argc - first;
	if (a->npos < s->min_pos)
		return bad(s, err, "expected %s", s->pos_what);
	if (s->max_pos >= 0 && a->npos > s->max_pos)
		return bad(s, err, "unexpected argument '%s'%s%s",
		    a->pos[s->max_pos], s->extra_hint ? " " : "",
		    s->extra_hint ? s->extra_hint : "");
	return sli_cli_dry_run && !s->checks_after ? 0 : SLI_ARGS_GO;
}

int sli_args_parse(const sli_cmd_spec *s, int argc, char **argv, sli_args *a)
{
	FILE *out = a->out ? a->out : stdout;
	FILE *err = a->err ? a->err : stderr;
	a->pos = a->rest = NULL;
	a->npos = a->nrest = 0;
	if (s->nargs > MAX_ARGS)
		return bad(s, err, "too many options in the table");
	struct option lo[MAX_ARGS + 3];
	long_options(s, lo);
	const char *optstring = s->in_order ? "+:h" : ":h";
	argc = cut_rest(s, argc, argv, a);
	/* numbers stand for themselves: getopt sees them one character
	 * further on (a word not starting with '-'), put back below */
	char *orig[argc > 0 ? argc : 1];
	char *line[argc > 0 ? argc : 1];
	unsigned char sub[argc > 0 ? argc : 1];
	for (int i = 0; i < argc; i++) {
		orig[i] = argv[i];
		sub[i] = i && s->numbers_positional && is_number(argv[i]);
		if (sub[i])
			argv[i] = argv[i] + 1;
		line[i] = argv[i];
	}
#define UNSUB(p) ((p) = unsub((p), orig, sub, argc))
	opterr = 0;
	int c, status = help_or_version(s, argc, argv, optstring, lo, out);
	/* the first pass permuted argv: a missing value at the end would
	 * now take the positional word moved behind it */
	for (int i = 0; i < argc; i++)
		argv[i] = line[i];
	optind = 0;
	unsigned char given[MAX_ARGS] = { 0 };
	while (status == SLI_ARGS_GO
	    && (c = getopt_long(argc, argv, optstring, lo, NULL)) != -1) {
		char *word = argv[optind - 1];
		UNSUB(word);
		if (c == '?' || c == ':') {
			status = option_error(s, err, c, word);
			break;
		}
		if (c < O_FIRST || c >= O_FIRST + (int)s->nargs)
			continue; /* help and version: handled above */
		const sli_arg *o = &s->args[c - O_FIRST];
		/* a value given twice: one of them would be dropped in
		 * silence (a flag may repeat: nothing is lost) */
		if (o->type != SLI_ARG_FLAG && given[c - O_FIRST]++) {
			status = bad(s, err, "--%s given twice", o->name);
			break;
		}
		char *v = optarg;
		UNSUB(v);
		if (o->optional && !v) {
			if (o->takes_next && optind < argc
			    && o->takes_next(argv[optind]))
				v = argv[optind++];
			else
				v = (char *)o->optional;
		}
		int rc = store(s, err, o, v ? v : "");
		if (rc)
			status = rc;
	}
	int first = optind;
	for (int i = 1; i < argc; i++)
		UNSUB(argv[i]);
#undef UNSUB
	if (status != SLI_ARGS_GO)
		return status;
	return positional(s, err, argc, argv, first, a);
}
