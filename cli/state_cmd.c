/* state_cmd.c - `sluice state dump|get|stats|repair|upgrade DIR`: offline
 * tools on a state directory (read-only, except repair and upgrade). */
#include "cli.h"
#include "core/key.h"
#include "sluice.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(FILE *f)
{
	fprintf(f,
	    "usage: sluice state dump DIR          KEY<TAB>value per "
	    "line, in key order\n"
	    "       sluice state get DIR KEY...    value of each key "
	    "(KEY<TAB>value, or KEY<TAB>- when absent)\n"
	    "       sluice state stats DIR         keys, last committed "
	    "txid, size, semantics, format\n"
	    "       sluice state repair DIR        LevelDB repair "
	    "(may drop damaged data)\n"
	    "       sluice state upgrade DIR [--key TYPES]\n"
	    "                                      rewrite a format-1 "
	    "directory to typed keys; TYPES\n"
	    "                                      gives each group field: "
	    "bytes (default), int or\n"
	    "                                      double, comma-separated "
	    "(e.g. --key bytes,int)\n"
	    "A KEY is its group's values separated by TAB: 404 is an int, "
	    "\"404\" a string,\n"
	    "2.5 a double, words as they are; quote strings that hold "
	    "spaces or escapes\n"
	    "(\"a b\", \"\\x1f\"). Put -- before keys that start with '-' "
	    "(docs/state-format.md).\n");
	return f == stderr ? 2 : 0;
}

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
	sli_buf text;
	int err;
} dumper;

/* Prints the text form of a typed key (core/key.h), then the value. */
static int dump_one(
    void *user, const uint8_t *key, size_t klen, const sl_value *v)
{
	dumper *d = user;
	sl_value g[SL_MAX_FIELDS];
	size_t n;
	d->text.len = 0;
	if ((d->err = sli_key_get(key, klen, g, SL_MAX_FIELDS, &n))
	    || (d->err = sli_key_format(&d->text, g, n)))
		return 1;
	fwrite(d->text.data, 1, d->text.len, d->f);
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

/* A negative number is a key, not an option. */
static int is_option(const char *a)
{
	if (a[0] != '-' || !a[1])
		return 0;
	char *end;
	strtod(a, &end);
	return *end != 0;
}

int sli_cmd_state(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	const char *sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")
	    || !strcmp(sub, "help"))
		return usage(stdout);
	static const char *const subs[]
	    = { "dump", "get", "stats", "repair", "upgrade" };
	int known = 0;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		known |= !strcmp(sub, subs[i]);
	if (!known) {
		fprintf(
		    stderr, "sluice: state: %s: unknown sub-command\n", sub);
		return usage(stderr);
	}
	/* options first (anywhere before --), then the positional words */
	const char *pos[argc], *types = NULL;
	int npos = 0, dashdash = 0;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (dashdash || !is_option(a)) {
			pos[npos++] = a;
		} else if (!strcmp(a, "--")) {
			dashdash = 1;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			return usage(stdout);
		} else if (!strcmp(sub, "upgrade") && !strcmp(a, "--key")
		    && i + 1 < argc) {
			types = argv[++i];
		} else {
			fprintf(stderr,
			    "sluice: state: %s: unknown or incomplete option "
			    "'%s'\n",
			    sub, a);
			return usage(stderr);
		}
	}
	int is_get = !strcmp(sub, "get");
	if (npos < 1 || (is_get ? npos < 2 : npos != 1)) {
		fprintf(stderr,
		    "sluice: state: %s: expected DIR%s, got %d "
		    "argument%s\n",
		    sub, is_get ? " and at least one KEY" : "", npos,
		    npos == 1 ? "" : "s");
		return usage(stderr);
	}
	const char *dir = pos[0];
	if (!strcmp(sub, "upgrade"))
		return cmd_upgrade(dir, types);
	if (!strcmp(sub, "repair")) {
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
			if (sl_state_stats_get(rs, &rst) == SL_OK
			    && rst.repaired)
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
	dumper d = { stdout, { NULL, 0, 0 }, 0 };
	if (!strcmp(sub, "dump")) {
		rc = sl_state_foreach(s, dump_one, &d);
		if (!rc && d.err)
			rc = d.err;
		if (rc)
			status = fail(dir, rc);
	} else if (is_get) {
		sli_buf store;
		sli_buf_init(&store);
		for (int i = 1; i < npos; i++) {
			sl_value g[SL_MAX_FIELDS], v;
			size_t n;
			rc = sli_key_parse(
			    pos[i], &store, g, SL_MAX_FIELDS, &n);
			if (!rc)
				rc = sl_state_get_group(s, g, n, &v);
			if (rc == SL_ENOTFOUND) {
				d.text.len = 0;
				sli_key_format(&d.text, g, n);
				printf("%.*s\t-\n", (int)d.text.len,
				    d.text.data ? (const char *)d.text.data
				                : "");
				continue;
			}
			if (!rc) {
				/* the canonical form of the key */
				d.text.len = 0;
				rc = sli_key_format(&d.text, g, n);
			}
			if (rc) {
				status = fail(dir, rc);
				break;
			}
			fwrite(d.text.data, 1, d.text.len, stdout);
			putchar('\t');
			print_value(stdout, &v);
			putchar('\n');
		}
		sli_buf_free(&store);
	} else if (!strcmp(sub, "stats")) {
		rc = sl_state_stats_get(s, &st);
		if (rc)
			status = fail(dir, rc);
		else {
			printf("keys\t%" PRIu64
			       "\nlast_committed_txid\t%" PRIu64
			       "\ndisk_bytes\t%" PRIu64 "\nsemantics\t%s\n"
			       "format_version\t%u\n",
			    st.keys, st.last_committed, st.disk_bytes,
			    sl_semantics_name(st.semantics),
			    st.format_version);
			if (st.repaired)
				printf("repaired\tyes: records were dropped "
				       "by a repair at txid %" PRIu64
				       "; counts may miss input (recount "
				       "it into a new state directory)\n",
				    st.repaired_txid);
			else
				printf("repaired\tno\n");
		}
	}
	sli_buf_free(&d.text);
	sl_state_close(s);
	if (fflush(stdout) != 0)
		return fail("stdout", SL_EIO);
	return status;
}
