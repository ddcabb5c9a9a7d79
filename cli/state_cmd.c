/* state_cmd.c - `sluice state dump|get|stats|repair DIR`: offline,
 * read-only tools on a state directory (repair excepted). */
#include "cli.h"
#include "sluice.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int usage(FILE *f)
{
	fprintf(f,
	    "usage: sluice state dump DIR          key<TAB>value per "
	    "line, sorted by key\n"
	    "       sluice state get DIR KEY...    value of each key "
	    "(KEY<TAB>value, or KEY<TAB>- when absent)\n"
	    "       sluice state stats DIR         keys, last committed "
	    "txid, size, semantics, format\n"
	    "       sluice state repair DIR        LevelDB repair "
	    "(may drop damaged data)\n");
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

static int dump_one(
    void *user, const uint8_t *key, size_t klen, const sl_value *v)
{
	FILE *f = user;
	fwrite(key, 1, klen, f);
	fputc('\t', f);
	print_value(f, v);
	fputc('\n', f);
	return 0;
}

static int fail(const char *dir, int rc)
{
	fprintf(stderr, "sluice: state: %s: %s\n", dir,
	    *sl_errdetail() ? sl_errdetail() : sl_strerror(rc));
	return 1;
}

int sli_cmd_state(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return usage(argc < 2 ? stderr : stdout);
	const char *sub = argv[1];
	if (argc < 3)
		return usage(stderr);
	const char *dir = argv[2];
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
	if (strcmp(sub, "stats") && sl_state_stats_get(s, &st) == SL_OK
	    && st.repaired)
		fprintf(stderr,
		    "sluice: state: warning: %s was repaired with records "
		    "dropped (at txid %" PRIu64
		    "): counts may miss input; recount the input "
		    "into a new state directory\n",
		    dir, st.repaired_txid);
	if (!strcmp(sub, "dump")) {
		rc = sl_state_foreach(s, dump_one, stdout);
		if (rc)
			status = fail(dir, rc);
	} else if (!strcmp(sub, "get")) {
		for (int i = 3; i < argc; i++) {
			sl_value v;
			rc = sl_state_get(s, argv[i], strlen(argv[i]), &v);
			if (rc == SL_ENOTFOUND) {
				printf("%s\t-\n", argv[i]);
				continue;
			}
			if (rc) {
				status = fail(dir, rc);
				break;
			}
			dump_one(stdout, (const uint8_t *)argv[i],
			    strlen(argv[i]), &v);
		}
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
	} else {
		fprintf(
		    stderr, "sluice: state: %s: unknown sub-command\n", sub);
		status = usage(stderr);
	}
	sl_state_close(s);
	if (fflush(stdout) != 0)
		return fail("stdout", SL_EIO);
	return status;
}
