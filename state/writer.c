/*
 * writer.c - the writer record of a state (docs/state-format.md,
 * `writer`): the topology, spout stream and spout kind whose spout
 * position the commit record holds; a run of another one is refused
 * before anything is written (red team T8/R7, F1, F9).
 */
#include "state_impl.h"

#include <stdio.h>
#include <string.h>

/* The metadata record name under s (s->kv get). */
static int get_writer(sl_state *s, sli_buf *out, int *found)
{
	return s->kv->ops->get(
	    s->kv, SLI_M_WRITER, SLI_M_LEN(SLI_M_WRITER), out, found);
}

/* w encoded as the \0writer record. */
static int writer_encode(sli_buf *b, const sli_writer *w)
{
	const char *f[3] = { w->topology, w->stream, w->spout };
	int rc = sli_buf_put_u8(b, 1);
	for (int i = 0; !rc && i < 3; i++) {
		const char *v = f[i] ? f[i] : "";
		rc = sli_buf_put_varint(b, strlen(v));
		if (!rc)
			rc = sli_buf_append(b, v, strlen(v));
	}
	return rc;
}

/* The stored writer's text ("topology 'T' (stream 'S', spout 'K')") into
 * out, or SL_ECORRUPT. */
static int writer_text(const sli_buf *b, char *out, size_t n)
{
	const uint8_t *p = b->data, *end = b->data + b->len;
	char f[3][128];
	if (b->len < 1 || *p != 1)
		return SL_ECORRUPT;
	p++;
	for (int i = 0; i < 3; i++) {
		uint64_t l;
		if (sli_varint_get(&p, end, &l) || l > (uint64_t)(end - p))
			return SL_ECORRUPT;
		snprintf(f[i], sizeof(f[i]), "%.*s", (int)(l > 120 ? 120 : l),
		    (const char *)p);
		p += l;
	}
	if (p != end)
		return SL_ECORRUPT;
	snprintf(out, n, "topology '%s' (stream '%s', spout '%s')", f[0], f[1],
	    f[2]);
	return SL_OK;
}

/* 1 when the last commit of s holds a spout position (meta bytes). */
static int has_position(sl_state *s)
{
	sli_buf m;
	sli_buf_init(&m);
	uint64_t txid;
	int rc = sli_state_committed(s, &txid, &m);
	int has = rc || m.len; /* unreadable: as if it had one */
	sli_buf_free(&m);
	return has;
}

int sli_state_claim(
    sl_state *s, const sli_writer *w, int spout_checks, int record)
{
	if (s->o.read_only)
		return SL_OK;
	sli_buf have, want;
	sli_buf_init(&have);
	sli_buf_init(&want);
	int found = 0;
	int rc = get_writer(s, &have, &found);
	if (!rc)
		rc = writer_encode(&want, w);
	int same = found && have.len == want.len
	    && !memcmp(have.data, want.data, want.len);
	const char *dir = s->dir ? s->dir : "the state";
	char was[512];
	if (!rc && found && !same && writer_text(&have, was, sizeof(was)))
		rc = sli_err(SL_ECORRUPT, "%s: writer record is corrupt", dir);
	else if (!rc && found && !same && s->committed) {
		char is[512];
		writer_text(&want, is, sizeof(is));
		rc = sli_err(SL_EINVAL,
		    "%s was written by %s, not by %s: its last batch's "
		    "spout position belongs to the other one, and resuming "
		    "there would count the wrong input; use a new state "
		    "directory (or delete %s to count from the start)",
		    dir, was, is, dir);
	} else if (!rc && !found && s->committed && !spout_checks
	    && has_position(s)) {
		/* an older sluice's directory: only a spout that checks a
		 * stored position (the file spout's resume) may adopt it
		 * (red team F9) */
		char is[512];
		writer_text(&want, is, sizeof(is));
		rc = sli_err(SL_EINVAL,
		    "%s records no writer (an older sluice wrote it) and %s "
		    "cannot check that its last spout position is its own; "
		    "use a new state directory (this one can still be read)",
		    dir, is);
	} else if (!rc && record && !same) {
		sli_kv_batch b;
		sli_kv_batch_init(&b);
		rc = sli_kv_batch_put(&b, SLI_M_WRITER,
		    SLI_M_LEN(SLI_M_WRITER), want.data, want.len);
		if (!rc)
			rc = s->kv->ops->write(s->kv, &b, 1);
		sli_kv_batch_free(&b);
	}
	sli_buf_free(&have);
	sli_buf_free(&want);
	return rc;
}
