/* state_cmd.c - `sluice state dump|get|stats|repair|upgrade DIR`: offline
 * tools on a state directory (read-only, except repair and upgrade). */
#include "args.h"
#include "cli.h"
#include "sluice.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char key_syntax[]
    = "A KEY is its group's values separated by TAB: 404 is an int, "
      "\"404\" a string,\n2.5 a double, words as they are; quote "
      "strings that hold spaces or escapes\n(\"a b\", \"\\x1f\"). "
      "An integer out of the 64-bit range is refused, not read as\n"
      "a double (write 1e20 for the double). Put -- before keys that "
      "start with '-'\nother than numbers (docs/state-format.md).";

static const struct sub {
	const char *name, *synopsis, *about, *example;
	int min_pos, max_pos;
	const char *pos_what;
} subs[] = {
	{ "dump", "DIR", "Prints KEY<TAB>value per line, in key order.",
	    "sluice state dump /tmp/st | head", 1, 1, "DIR" },
	{ "get", "DIR KEY...",
	    "Prints the value of each KEY (KEY<TAB>value, or KEY<TAB>- when "
	    "absent).",
	    "sluice state get /tmp/st the cat 404", 2, -1,
	    "DIR and at least one KEY" },
	{ "stats", "DIR",
	    "Prints keys, last committed txid, size, semantics, format and "
	    "the repair mark.",
	    "sluice state stats /tmp/st", 1, 1, "DIR" },
	{ "repair", "DIR",
	    "LevelDB repair: rebuilds DIR from what is readable (may drop "
	    "damaged data;\nback the directory up first).",
	    "sluice state repair /tmp/st", 1, 1, "DIR" },
	{ "upgrade", "DIR [--key TYPES]",
	    "Rewrites a format-1 directory to typed keys, for reading\n(dump, "
	    "get, DRPC); a run on it is refused (count into a "
	    "new\ndirectory).",
	    "sluice state upgrade /tmp/st --key bytes,int", 1, 1, "DIR" },
};

static const char state_exits[]
    = "0 done; 1 the state could not be read or changed;\n2 bad usage.";

/* Prints v after the key (ints as integers, doubles with %.17g). */
static void print_value(FILE *f, const sl_value *v)
{
	switch (v->type) {
	case SL_INT:
		fprintf(f, "%" PRId64, v->u.i);
		break;
	case SL_DOUBLE:
		fprintf(f, "%.17g", v->u.d);
		break;
	case SL_BYTES:
		fwrite(v->u.p, 1, v->len, f);
		break;
	default:
		fputs("null", f);
		break;
	}
}

typedef struct dumper {
	FILE *f;
	char *text; /* the text form of a key (sl_values_format) */
	size_t cap, len;
	int err;
} dumper;

/* The text form of the n values g into d->text, grown as needed. */
static int key_text(dumper *d, const sl_value *g, size_t n)
{
	char none[1];
	int rc = sl_values_format(
	    g, n, d->text ? d->text : none, d->text ? d->cap : 0, &d->len);
	if (rc != SL_EFULL)
		return rc;
	char *t = realloc(d->text, d->len + 1);
	if (!t)
		return SL_ENOMEM;
	d->text = t;
	d->cap = d->len + 1;
	return sl_values_format(g, n, d->text, d->cap, &d->len);
}

/* Prints the text form of a typed key (sl_values_format), then the
 * value. */
static int dump_one(
    void *user, const uint8_t *key, size_t klen, const sl_value *v)
{
	dumper *d = user;
	sl_value g[SL_MAX_FIELDS];
	size_t n;
	if ((d->err = sl_state_key_values(key, klen, g, SL_MAX_FIELDS, &n))
	    || (d->err = key_text(d, g, n)))
		return 1;
	fwrite(d->text, 1, d->len, d->f);
	fputc('\t', d->f);
	print_value(d->f, v);
	fputc('\n', d->f);
	return 0;
}

static int fail(const char *dir, int rc)
{
	fprintf(stderr, "sluice: state: %s: %s\n", dir,
	    *sl_errdetail() ? sl_errdetail() : sl_strerror(rc));
	return 1;
}

/* Parses --key TYPES ("bytes,int"). */
static int parse_types(const char *s, sl_type *t, size_t *n)
{
	*n = 0;
	while (*s) {
		size_t l = strcspn(s, ",");
		if (*n == SL_MAX_FIELDS)
			return -1;
		if (l == 5 && !strncmp(s, "bytes", 5))
			t[(*n)++] = SL_BYTES;
		else if (l == 3 && !strncmp(s, "int", 3))
			t[(*n)++] = SL_INT;
		else if (l == 6 && !strncmp(s, "double", 6))
			t[(*n)++] = SL_DOUBLE;
		else
			return -1;
		s += l + (s[l] == ',');
	}
	return *n ? 0 : -1;
}

static int cmd_upgrade(const char *dir, const char *types)
{
	sl_type t[SL_MAX_FIELDS];
	size_t nt = 0;
	if (types && parse_types(types, t, &nt)) {
		fprintf(stderr,
		    "sluice: state: upgrade: --key: expected bytes, int or "
		    "double per group field (comma-separated), got '%s'\n",
		    types);
		return 2;
	}
	uint64_t keys;
	int done;
	int rc = sl_state_upgrade(dir, nt ? t : NULL, nt, &keys, &done);
	if (rc)
		return fail(dir, rc);
	if (done)
		fprintf(stderr,
		    "sluice: state: %s upgraded to typed keys (%" PRIu64
		    " keys rewritten)\n",
		    dir, keys);
	else
		fprintf(stderr,
		    "sluice: state: %s is already current; nothing to do\n",
		    dir);
	return 0;
}

static const sli_cmd_spec state_top = {
	.name = "state",
	.synopsis = "dump|get|stats|repair|upgrade DIR ...   "
	            "(sluice state SUB --help)",
	.about = "Offline tools on a state directory (read-only, "
	         "except repair and upgrade):\n"
	         "  dump DIR          KEY<TAB>value per line, in key "
	         "order\n"
	         "  get DIR KEY...    value of each key\n"
	         "  stats DIR         keys, last committed txid, size, "
	         "semantics, format\n"
	         "  repair DIR        LevelDB repair (may drop damaged "
	         "data)\n"
	         "  upgrade DIR       rewrite a format-1 directory to "
	         "typed keys",
	.min_pos = 1,
	.max_pos = -1,
	.pos_what = "a sub-command: dump, get, stats, repair or upgrade",
	.in_order = 1,
	.checks_after = 1, /* the sub-command's line follows */
	.example = "sluice state stats /tmp/st",
	.exits = state_exits,
};

/* Finds the sub-command of `sluice state [--] SUB ...` (argv[1] after
 * the call: *argc and *argv move past a leading `--`). Returns
 * SLI_ARGS_GO with *sb set, or the exit status (the top help, or a
 * message). */
static int find_sub(int *argc, char ***argv, const struct sub **sb)
{
	sli_args a = { 0 };
	if (*argc < 2 || (*argv)[1][0] == '-') {
		int ps = sli_args_parse(&state_top, *argc, *argv, &a);
		if (ps != SLI_ARGS_GO)
			return ps;
		*argv = a.pos - 1; /* `sluice state -- SUB ...` */
		*argc = a.npos + 1;
	}
	const char *subname = (*argv)[1];
	if (!strcmp(subname, "help")) {
		sli_args_help(&state_top, stdout);
		return 0;
	}
	*sb = NULL;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(subname, subs[i].name))
			*sb = &subs[i];
	if (!*sb) {
		const char *near = sli_args_nearest(subname, &subs[0].name,
		    sizeof(subs) / sizeof(subs[0]), sizeof(subs[0]));
		fprintf(stderr,
		    "sluice: state: %s: unknown sub-command%s%s%s (see "
		    "sluice state --help)\n",
		    subname, near ? "; did you mean '" : "", near ? near : "",
		    near ? "'?" : "");
		return 2;
	}
	return SLI_ARGS_GO;
}

/* Parses the sub-command's own line (argv[0] is its name) into a (and
 * *types for upgrade's --key); returns SLI_ARGS_GO or the exit
 * status. */
static int parse_sub(const struct sub *sb, int argc, char **argv, sli_args *a,
    const char **types)
{
	char name[32], about[600];
	snprintf(name, sizeof(name), "state %s", sb->name);
	int is_get = !strcmp(sb->name, "get");
	snprintf(about, sizeof(about), "%s%s%s", sb->about, is_get ? "\n" : "",
	    is_get ? key_syntax : "");
	const sli_arg key_opt[] = {
		{ "key", SLI_ARG_STR, types, "TYPES",
		    "each group field's type: bytes (default), int or "
		    "double,\ncomma-separated (e.g. --key bytes,int)",
		    .dflt = "" },
	};
	const sli_cmd_spec spec = {
		.name = name,
		.synopsis = sb->synopsis,
		.about = about,
		.args = key_opt,
		.nargs = !strcmp(sb->name, "upgrade") ? 1 : 0,
		.min_pos = sb->min_pos,
		.max_pos = sb->max_pos,
		.pos_what = sb->pos_what,
		.numbers_positional = is_get,
		.example = sb->example,
		.exits = state_exits,
	};
	return sli_args_parse(&spec, argc, argv, a);
}

/* `state repair DIR`: warns, repairs, and says when records were
 * dropped (the repair mark). */
static int cmd_repair(const char *dir)
{
	fprintf(stderr,
	    "sluice: state: warning: repair rebuilds %s from "
	    "what is readable; records in damaged files are "
	    "dropped and cannot be recovered (back the directory "
	    "up first)\n",
	    dir);
	int rc = sl_state_repair(dir);
	if (rc)
		return fail(dir, rc);
	sl_state_options ro;
	sl_state_options_default(&ro);
	ro.read_only = 1;
	sl_state *rs;
	sl_state_stats rst;
	if (sl_state_open_leveldb(&rs, dir, &ro) == SL_OK) {
		if (sl_state_stats_get(rs, &rst) == SL_OK && rst.repaired)
			fprintf(stderr,
			    "sluice: state: %s repaired, but records "
			    "were dropped: the counts may miss input "
			    "up to txid %" PRIu64
			    " and a resume will not bring it back; "
			    "recount the input into a new state "
			    "directory (`sluice state stats` shows "
			    "the mark)\n",
			    dir, rst.repaired_txid);
		sl_state_close(rs);
	}
	fprintf(stderr, "sluice: state: %s repaired\n", dir);
	return 0;
}

/* `state dump DIR`: every key and value on stdout, in key order. */
static int cmd_dump(sl_state *s, const char *dir, dumper *d)
{
	int rc = sl_state_foreach(s, dump_one, d);
	if (!rc && d->err)
		rc = d->err;
	return rc ? fail(dir, rc) : 0;
}

/* `state get DIR KEY...`: KEY<TAB>value (KEY<TAB>- when absent) per
 * key, the key in its canonical form; stops at the first error. */
static int cmd_get(
    sl_state *s, const char *dir, char **keys, int nkeys, dumper *d)
{
	for (int i = 0; i < nkeys; i++) {
		sl_value g[SL_MAX_FIELDS], v;
		size_t n;
		/* unescaped bytes never outgrow the text */
		size_t cap = strlen(keys[i]) + 1;
		uint8_t *store = malloc(cap);
		int rc = store ? sl_values_parse(
		             keys[i], store, cap, g, SL_MAX_FIELDS, &n)
		               : SL_ENOMEM;
		if (!rc)
			rc = sl_state_get_group(s, g, n, &v);
		if (rc == SL_ENOTFOUND) {
			rc = key_text(d, g, n);
			free(store);
			if (rc)
				return fail(dir, rc);
			printf("%s\t-\n", d->text);
			continue;
		}
		if (!rc) /* the canonical form of the key */
			rc = key_text(d, g, n);
		free(store);
		if (rc)
			return fail(dir, rc);
		fwrite(d->text, 1, d->len, stdout);
		putchar('\t');
		print_value(stdout, &v);
		putchar('\n');
	}
	return 0;
}

/* `state stats DIR`: NAME<TAB>value lines, the repair mark last. */
static int cmd_stats(sl_state *s, const char *dir)
{
	sl_state_stats st;
	int rc = sl_state_stats_get(s, &st);
	if (rc)
		return fail(dir, rc);
	printf("keys\t%" PRIu64 "\nlast_committed_txid\t%" PRIu64
	       "\ndisk_bytes\t%" PRIu64 "\nsemantics\t%s\n"
	       "format_version\t%u\n",
	    st.keys, st.last_committed, st.disk_bytes,
	    sl_semantics_name(st.semantics), st.format_version);
	if (st.repaired)
		printf("repaired\tyes: records were dropped "
		       "by a repair at txid %" PRIu64
		       "; counts may miss input (recount "
		       "it into a new state directory)\n",
		    st.repaired_txid);
	else
		printf("repaired\tno\n");
	return 0;
}

/* dump, get and stats: open pos[0] read-only and run sub on it (pos[1..]
 * are get's keys). */
static int cmd_read(const char *sub, char **pos, int npos)
{
	const char *dir = pos[0];
	sl_state_options o;
	sl_state_options_default(&o);
	o.read_only = 1;
	sl_state *s;
	int rc = sl_state_open_leveldb(&s, dir, &o);
	if (rc)
		return fail(dir, rc);
	int status = 0;
	sl_state_stats st;
	/* the repair mark is read even when the scan of the keys fails:
	 * a damaged repaired state must still say it was repaired */
	memset(&st, 0, sizeof(st));
	if (strcmp(sub, "stats") && (sl_state_stats_get(s, &st), st.repaired))
		fprintf(stderr,
		    "sluice: state: warning: %s was repaired with records "
		    "dropped (at txid %" PRIu64
		    "): counts may miss input; recount the input "
		    "into a new state directory\n",
		    dir, st.repaired_txid);
	dumper d = { stdout, NULL, 0, 0, 0 };
	if (!strcmp(sub, "dump"))
		status = cmd_dump(s, dir, &d);
	else if (!strcmp(sub, "get"))
		status = cmd_get(s, dir, pos + 1, npos - 1, &d);
	else if (!strcmp(sub, "stats"))
		status = cmd_stats(s, dir);
	free(d.text);
	sl_state_close(s);
	if (fflush(stdout) != 0)
		return fail("stdout", SL_EIO);
	return status;
}

int sli_cmd_state(int argc, char **argv)
{
	const struct sub *sb;
	int ps = find_sub(&argc, &argv, &sb);
	if (ps != SLI_ARGS_GO)
		return ps;
	sli_args a = { 0 };
	const char *types = NULL;
	ps = parse_sub(sb, argc - 1, argv + 1, &a, &types);
	if (ps != SLI_ARGS_GO)
		return ps;
	if (!strcmp(sb->name, "upgrade"))
		return cmd_upgrade(a.pos[0], types);
	if (!strcmp(sb->name, "repair"))
		return cmd_repair(a.pos[0]);
	return cmd_read(sb->name, a.pos, a.npos);
}
