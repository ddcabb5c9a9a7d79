/*
 * state.c - the map state over a key-value back-end: open (memory,
 * LevelDB), the directory lock, the format and semantics records, the
 * partitions, the commit record and per-txid spout metadata
 * (docs/state-format.md). The update semantics are apply.c's, the layout
 * record.c's, the committed reads read.c's.
 *
 * Every semantics stores (txid, prev, curr) per key so that reads can
 * always return the committed value: curr when txid <= last committed,
 * prev otherwise (a batch applied by a partition but not yet committed).
 */
#include "state_impl.h"
#include "core/fault.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

void sl_state_options_default(sl_state_options *o)
{
	if (!o)
		return;
	o->semantics = SL_SEM_OPAQUE;
	o->sync = 1;
	o->cache_entries = 100000;
	o->read_only = 0;
	o->create = 1;
}

int sl_semantics_parse(const char *s, sl_semantics *out)
{
	if (!s)
		return SL_EINVAL;
	if (!strcmp(s, "none") || !strcmp(s, "non-transactional"))
		*out = SL_SEM_NONE;
	else if (!strcmp(s, "transactional"))
		*out = SL_SEM_TRANSACTIONAL;
	else if (!strcmp(s, "opaque"))
		*out = SL_SEM_OPAQUE;
	else
		return sli_err(SL_EINVAL,
		    "unknown semantics '%s' (opaque, transactional, none)", s);
	return SL_OK;
}

const char *sl_semantics_name(sl_semantics s)
{
	switch (s) {
	case SL_SEM_NONE:
		return "none";
	case SL_SEM_TRANSACTIONAL:
		return "transactional";
	case SL_SEM_OPAQUE:
		return "opaque";
	}
	return "unknown";
}

sl_semantics sli_state_semantics(const sl_state *s)
{
	return s->o.semantics;
}

static void part_free(sli_spart *p)
{
	sli_cache_clear(&p->c);
	sli_buf_free(&p->touched);
	sli_buf_free(&p->rec);
	sli_buf_free(&p->key);
	sli_buf_free(&p->newtouched);
	sli_buf_free(&p->arena);
	sli_kv_batch_free(&p->batch);
	free(p->offs);
	free(p->hs);
}

int sli_state_set_partitions(sl_state *s, uint32_t nparts)
{
	if (!nparts || nparts > 1024)
		return sli_err(
		    SL_EINVAL, "bad number of state partitions %u", nparts);
	sli_spart *np = calloc(nparts, sizeof(*np));
	if (!np)
		return SL_ENOMEM;
	for (uint32_t i = 0; i < s->nparts; i++)
		part_free(&s->parts[i]);
	free(s->parts);
	s->parts = np;
	s->nparts = nparts;
	/* the in-memory records of touched keys are gone: the restart pass
	 * must run again (from the records on disk) before the next apply */
	s->recovered = 0;
	/* the memory back-end needs no cache in front of it */
	size_t ce = s->o.cache_entries;
	if (!strcmp(s->kv->ops->name, "memory"))
		ce = 0;
	for (uint32_t i = 0; i < nparts; i++) {
		sli_cache_init(&np[i].c, ce);
		sli_kv_batch_init(&np[i].batch);
	}
	return SL_OK;
}

static int get_meta(
    sl_state *s, const char *name, size_t nl, sli_buf *out, int *found)
{
	return s->kv->ops->get(s->kv, name, nl, out, found);
}

static int load_committed(sl_state *s)
{
	sli_buf b;
	sli_buf_init(&b);
	int found;
	int rc
	    = get_meta(s, SLI_M_COMMIT, SLI_M_LEN(SLI_M_COMMIT), &b, &found);
	uint64_t txid = 0;
	if (!rc && found) {
		const uint8_t *p = b.data;
		if (sli_varint_get(&p, b.data + b.len, &txid))
			rc = sli_err(SL_ECORRUPT, "commit record is corrupt");
	}
	sli_buf_free(&b);
	s->committed = txid;
	return rc;
}

static int any_key(
    void *u, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	(void)k, (void)kl, (void)v, (void)vl;
	*(int *)u = 1;
	return 1;
}

/* Set by sli_state_open_any_version (this thread only): check_format then
 * accepts an older format and adopts the stored semantics. */
static __thread int open_any_version;
static __thread uint32_t opened_version;

/* Checks or writes the format version and semantics. */
static int check_format(sl_state *s, const char *dir)
{
	sli_buf b;
	sli_buf_init(&b);
	int found, rc;
	if ((rc = get_meta(
	         s, SLI_M_FORMAT, SLI_M_LEN(SLI_M_FORMAT), &b, &found)))
		goto out;
	if (!found) {
		int nonempty = 0;
		s->kv->ops->scan(s->kv, "", 0, any_key, &nonempty);
		if (nonempty || s->o.read_only) {
			rc = sli_err(SL_EINVAL,
			    "%s is not a sluice state directory", dir);
			goto out;
		}
		sli_kv_batch wb;
		sli_kv_batch_init(&wb);
		uint8_t ver[4], sem = (uint8_t)s->o.semantics;
		sli_le32_put(ver, SLI_STATE_FORMAT);
		sli_kv_batch_put(
		    &wb, SLI_M_FORMAT, SLI_M_LEN(SLI_M_FORMAT), ver, 4);
		sli_kv_batch_put(
		    &wb, SLI_M_SEM, SLI_M_LEN(SLI_M_SEM), &sem, 1);
		rc = s->kv->ops->write(s->kv, &wb, 1);
		sli_kv_batch_free(&wb);
		goto out;
	}
	if (b.len != 4) {
		rc = sli_err(SL_ECORRUPT, "%s: format record is corrupt", dir);
		goto out;
	}
	uint32_t ver = sli_le32_get(b.data);
	if (ver > SLI_STATE_FORMAT) {
		rc = sli_err(SL_EVERSION,
		    "%s was written by a newer sluice (state format %u, "
		    "this build reads up to %u)",
		    dir, ver, SLI_STATE_FORMAT);
		goto out;
	}
	opened_version = ver;
	if (ver < SLI_STATE_FORMAT && !open_any_version) {
		rc = sli_err(SL_EVERSION,
		    "%s has state format %u (untyped keys), this build reads "
		    "format %u: convert it with `sluice state upgrade %s` "
		    "(docs/state-format.md)",
		    dir, ver, SLI_STATE_FORMAT, dir);
		goto out;
	}
	if ((rc = get_meta(s, SLI_M_SEM, SLI_M_LEN(SLI_M_SEM), &b, &found)))
		goto out;
	if (!found || b.len != 1 || b.data[0] > SL_SEM_OPAQUE) {
		rc = sli_err(
		    SL_ECORRUPT, "%s: semantics record is corrupt", dir);
		goto out;
	}
	sl_semantics stored = (sl_semantics)b.data[0];
	if (s->o.read_only || open_any_version)
		s->o.semantics = stored;
	else if (stored != s->o.semantics)
		rc = sli_err(SL_EINVAL,
		    "%s holds %s state; it cannot be opened as %s", dir,
		    sl_semantics_name(stored),
		    sl_semantics_name(s->o.semantics));
out:
	sli_buf_free(&b);
	return rc;
}

static int state_new(sl_state **out, const sl_state_options *o)
{
	sl_state *s = calloc(1, sizeof(*s));
	if (!s)
		return SL_ENOMEM;
	if (o)
		s->o = *o;
	else
		sl_state_options_default(&s->o);
	if (s->o.semantics > SL_SEM_OPAQUE) {
		int sem = (int)s->o.semantics;
		free(s);
		return sli_err(SL_EINVAL, "unknown semantics %d", sem);
	}
	s->lockfd = -1;
	pthread_mutex_init(&s->fail_lock, NULL);
	pthread_mutex_init(&s->recover_lock, NULL);
	*out = s;
	return SL_OK;
}

static int finish_open(sl_state *s, const char *dir)
{
	int rc = check_format(s, dir);
	if (!rc)
		rc = load_committed(s);
	if (!rc)
		rc = sli_state_set_partitions(s, 1);
	return rc;
}

int sl_state_open_memory(sl_state **out, const sl_state_options *o)
{
	SLI_NONNULL(out);
	*out = NULL;
	sl_init();
	sl_state *s;
	int rc = state_new(&s, o);
	if (rc)
		return rc;
	s->o.read_only = 0;
	if ((rc = sli_kv_memory_open(&s->kv))
	    || (rc = finish_open(s, "memory"))) {
		sl_state_close(s);
		return rc;
	}
	*out = s;
	return SL_OK;
}

/* LevelDB's corruption messages rarely name the file: name the manifest
 * when the descriptor is at fault, and point at the repair tool. */
static void name_corrupt_file(const char *dir)
{
	char msg[512], path[4096], cur[256] = "";
	snprintf(msg, sizeof(msg), "%s", sl_errdetail());
	snprintf(path, sizeof(path), "%s/CURRENT", dir);
	FILE *f = fopen(path, "r");
	if (f) {
		if (!fgets(cur, sizeof(cur), f))
			cur[0] = 0;
		fclose(f);
		cur[strcspn(cur, "\n")] = 0;
	}
	if (strstr(msg, "descriptor") || strstr(msg, "MANIFEST")
	    || strstr(msg, "manifest"))
		sli_err(SL_ECORRUPT,
		    "%s (in %s/%s); `sluice state repair %s` may recover "
		    "it",
		    msg, dir, cur[0] ? cur : "MANIFEST", dir);
	else
		sli_err(SL_ECORRUPT,
		    "%s; `sluice state repair %s` may recover it", msg, dir);
}

/* Our own lock beside LevelDB's, holding the pid for a clear message. */
static int take_lock(sl_state *s, const char *dir)
{
	return sli_state_lock_dir(
	    dir, !s->o.read_only, s->o.read_only, &s->lockfd);
}

/* Takes dir's lock and looks at it under the lock: *has_current. The lock
 * comes first so that a directory another process is creating right now
 * reads as locked, not as damaged; a creation that was interrupted (no
 * CURRENT, no data) starts again. LevelDB creates a database only where
 * there is none: with create_if_missing it would start an empty one
 * beside old tables when CURRENT is lost, and delete those tables as
 * obsolete. A reader never creates a lock file in a directory that holds
 * no LevelDB file. */
static int survey_locked(sl_state *s, const char *dir, int *has_current)
{
	int other, rc;
	if ((rc = sli_state_survey_dir(dir, has_current, &other)))
		return rc;
	if (!*has_current && !other && s->o.read_only)
		return sli_err(
		    SL_EINVAL, "%s is not a sluice state directory", dir);
	if ((rc = take_lock(s, dir))
	    || (rc = sli_state_survey_dir(dir, has_current, &other)))
		return rc;
	if (!*has_current && other && !s->o.read_only
	    && sli_state_interrupted_creation(dir)) {
		if ((rc = sli_state_restart_creation(dir)))
			return rc;
		other = 0;
	}
	if (!*has_current && other)
		return sli_err(SL_ECORRUPT,
		    "%s has no CURRENT file but holds %d LevelDB files: not "
		    "starting an empty state over them; back the directory "
		    "up, then `sluice state repair %s` may recover it",
		    dir, other, dir);
	if (!*has_current && s->o.read_only)
		return sli_err(
		    SL_EINVAL, "%s is not a sluice state directory", dir);
	return SL_OK;
}

/* A state whose repair dropped records (the \0repaired mark) no longer
 * matches its input: its committed txid does not vouch for its counts,
 * and a run resuming on it would add to wrong numbers and exit 0 (red
 * team T6). Writers are refused; the read-only tools open it and warn. */
static int refuse_repaired(sl_state *s, const char *dir)
{
	if (s->o.read_only || open_any_version)
		return SL_OK;
	sli_buf b;
	sli_buf_init(&b);
	int found = 0;
	int rc = get_meta(
	    s, SLI_M_REPAIRED, SLI_M_LEN(SLI_M_REPAIRED), &b, &found);
	sli_buf_free(&b);
	if (!rc && found)
		rc = sli_err(SL_ECORRUPT,
		    "state %s was repaired with records dropped: its counts "
		    "no longer match its input, and a run would add to them; "
		    "recount the whole input into a new state directory "
		    "(`sluice state stats %s` shows the repair)",
		    dir, dir);
	return rc;
}

int sl_state_open_leveldb(
    sl_state **out, const char *dir, const sl_state_options *o)
{
	SLI_NONNULL(out);
	SLI_NONNULL(dir);
	*out = NULL;
	sl_init();
	if (!dir || !*dir)
		return sli_err(SL_EINVAL, "no state directory given");
	sl_state *s;
	int rc = state_new(&s, o);
	if (rc)
		return rc;
	s->dir = strdup(dir);
	struct stat st;
	if (stat(dir, &st) != 0) {
		if (errno != ENOENT || s->o.read_only || !s->o.create) {
			rc = sli_err(errno == ENOENT ? SL_ENOTFOUND
			                             : sli_errno_code(errno),
			    "%s: %s", dir, strerror(errno));
			goto fail;
		}
		if (mkdir(dir, 0755) != 0) {
			rc = sli_err(sli_errno_code(errno),
			    "cannot create %s: %s", dir, strerror(errno));
			goto fail;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		rc = sli_err(SL_EINVAL, "%s is not a directory", dir);
		goto fail;
	}
	int has_current;
	if ((rc = survey_locked(s, dir, &has_current)))
		goto fail;
	if ((rc = sli_kv_leveldb_open(&s->kv, dir, !has_current))) {
		if (rc == SL_ECORRUPT)
			name_corrupt_file(dir);
		else if (has_current && rc != SL_ELOCKED && rc != SL_EPERM
		    && rc != SL_ENOSPC && rc != SL_ENOMEM) {
			/* a missing MANIFEST or table: the database is
			 * damaged, whatever LevelDB calls it */
			char msg[1024];
			snprintf(msg, sizeof(msg), "%s", sl_errdetail());
			rc = sli_err(SL_ECORRUPT,
			    "%s; the state is damaged: back the directory "
			    "up, then `sluice state repair %s` may recover it",
			    msg, dir);
		}
		goto fail;
	}
	if ((rc = finish_open(s, dir)) || (rc = refuse_repaired(s, dir)))
		goto fail;
	*out = s;
	return SL_OK;
fail:
	sl_state_close(s);
	return rc;
}

void sl_state_close(sl_state *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->nparts; i++)
		part_free(&s->parts[i]);
	free(s->parts);
	if (s->kv)
		s->kv->ops->close(s->kv);
	if (s->lockfd >= 0)
		close(s->lockfd);
	pthread_mutex_destroy(&s->fail_lock);
	pthread_mutex_destroy(&s->recover_lock);
	free(s->dir);
	free(s);
}

int sli_state_commit(
    sl_state *s, uint64_t txid, const void *meta, size_t metalen)
{
	if (s->o.read_only)
		return sli_err(SL_EPERM, "state opened read-only");
	if (sli_fault(SLI_FAULT_STATE_COMMIT, s, txid, 0))
		return sli_err(SL_EFAILED,
		    "injected failure writing the commit record of txid %llu",
		    (unsigned long long)txid);
	if (txid != s->committed + 1)
		return sli_err(SL_ESTALE,
		    "commit of txid %llu after %llu: commits go in order",
		    (unsigned long long)txid,
		    (unsigned long long)s->committed);
	sli_buf v;
	sli_buf_init(&v);
	int rc = sli_buf_put_varint(&v, txid);
	if (!rc)
		rc = sli_buf_append(&v, meta, metalen);
	sli_kv_batch b;
	sli_kv_batch_init(&b);
	if (!rc)
		rc = sli_kv_batch_put(
		    &b, SLI_M_COMMIT, SLI_M_LEN(SLI_M_COMMIT), v.data, v.len);
	sli_trace_begin();
	if (!rc)
		rc = s->kv->ops->write(s->kv, &b, s->o.sync);
	sli_kv_batch_free(&b);
	sli_buf_free(&v);
	if (!rc) {
		s->committed = txid;
		char h[160];
		sli_trace("commit %s %llu %s", s->dir ? s->dir : "mem",
		    (unsigned long long)txid, sli_trace_hex(h, meta, metalen));
		sli_trace_point();
	}
	sli_trace_end();
	return rc;
}

int sli_state_committed(sl_state *s, uint64_t *txid, sli_buf *meta)
{
	sli_buf b;
	sli_buf_init(&b);
	int found;
	int rc
	    = get_meta(s, SLI_M_COMMIT, SLI_M_LEN(SLI_M_COMMIT), &b, &found);
	*txid = 0;
	if (meta)
		meta->len = 0;
	if (!rc && found) {
		const uint8_t *p = b.data;
		if (sli_varint_get(&p, b.data + b.len, txid))
			rc = sli_err(SL_ECORRUPT, "commit record is corrupt");
		else if (meta)
			rc = sli_buf_append(
			    meta, p, (size_t)(b.data + b.len - p));
	}
	sli_buf_free(&b);
	return rc;
}

int sl_state_apply_batch(sl_state *s, size_t n, const sl_value *keys,
    const sl_value *deltas, const sl_combiner *comb)
{
	SLI_NONNULL(s);
	SLI_NONNULL(comb);
	SLI_NONNULL((keys && deltas) || n == 0);
	if (!s || (n && (!keys || !deltas)) || !comb || !comb->combine)
		return sli_err(
		    SL_EINVAL, "no state, keys, deltas or combiner");
	if (s->o.read_only)
		return sli_err(SL_EPERM, "state opened read-only");
	for (size_t i = 0; i < n; i++)
		if (keys[i].type != SL_BYTES)
			return sli_err(SL_EINVAL, "key %zu is not bytes", i);
	size_t a, b;
	int rc = sli_keys_repeat(n, keys, &a, &b);
	if (rc)
		return rc < 0 ? rc
		              : sli_err(SL_EINVAL,
		                  "key %zu repeats key %zu (keys must be "
		                  "distinct: fold their deltas first)",
		                  b, a);
	/* not a spout's batch: the commit keeps the last one's position
	 * (a topology resuming on s goes on from it, red team F4). A run
	 * that crashed before its commit left the ranges of its batches:
	 * dropped, or the topology's next run would replay the range of the
	 * batch after the one this call takes (F13); its writes are rolled
	 * back by the restart pass of the first apply. */
	uint64_t txid = s->committed + 1, have;
	sli_buf meta;
	sli_buf_init(&meta);
	rc = sli_state_committed(s, &have, &meta);
	if (!rc)
		rc = sli_state_drop_txmeta_after(s, have);
	if (!rc)
		rc = sli_state_apply(s, 0, txid, n, keys, deltas, comb);
	if (!rc)
		rc = sli_state_commit(s, txid, meta.data, meta.len);
	sli_buf_free(&meta);
	return rc;
}

int sli_state_put_meta(
    sl_state *s, const char *name, uint64_t txid, const void *p, size_t n)
{
	sli_buf k;
	sli_buf_init(&k);
	sli_kv_batch b;
	sli_kv_batch_init(&b);
	int rc = sli_meta_key(&k, name, txid);
	if (!rc)
		rc = sli_kv_batch_put(&b, k.data, k.len, p, n);
	/* forget metadata of long-committed batches */
	if (!rc && txid > 64) {
		rc = sli_meta_key(&k, name, txid - 64);
		if (!rc)
			rc = sli_kv_batch_del(&b, k.data, k.len);
	}
	sli_trace_begin();
	if (!rc)
		rc = s->kv->ops->write(s->kv, &b, s->o.sync);
	if (!rc) {
		char h[160];
		sli_trace("meta %s %s %llu %s", s->dir ? s->dir : "mem", name,
		    (unsigned long long)txid, sli_trace_hex(h, p, n));
		sli_trace_point();
	}
	sli_trace_end();
	sli_kv_batch_free(&b);
	sli_buf_free(&k);
	return rc;
}

int sli_state_get_meta(
    sl_state *s, const char *name, uint64_t txid, sli_buf *out)
{
	sli_buf k;
	sli_buf_init(&k);
	int found = 0;
	int rc = sli_meta_key(&k, name, txid);
	if (!rc)
		rc = s->kv->ops->get(s->kv, k.data, k.len, out, &found);
	sli_buf_free(&k);
	if (!rc && !found)
		rc = SL_ENOTFOUND;
	return rc;
}

void sli_state_fail_once(
    sl_state *s, uint32_t pn, uint64_t txid, int after_write)
{
	pthread_mutex_lock(&s->fail_lock);
	s->fail_part = pn;
	s->fail_txid = txid;
	s->fail_after = after_write;
	s->fail_set = 1;
	pthread_mutex_unlock(&s->fail_lock);
}

int sli_state_open_any_version(
    sl_state **out, const char *dir, uint32_t *version)
{
	sl_state_options o;
	sl_state_options_default(&o);
	o.create = 0;
	o.cache_entries = 0;
	open_any_version = 1;
	opened_version = 0;
	int rc = sl_state_open_leveldb(out, dir, &o);
	open_any_version = 0;
	*version = opened_version;
	return rc;
}

sli_kv *sli_state_kv(sl_state *s)
{
	return s->kv;
}
