/*
 * repair.c - `sluice state repair`: LevelDB's repair of a damaged state
 * directory, under the state's lock, and the mark left when records may
 * have been dropped (docs/errors.md).
 */
#include "state_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct counter {
	uint64_t n;
} counter;

static int count_cb(
    void *u, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	(void)k, (void)kl, (void)v, (void)vl;
	((counter *)u)->n++;
	return 0;
}

/* Counts every record of the LevelDB in dir with checksums verified:
 * SL_OK and *n, or the error that stopped the count. */
static int count_records(const char *dir, uint64_t *n, uint64_t *committed)
{
	sli_kv *kv;
	*n = 0;
	int rc = sli_kv_leveldb_open(&kv, dir, 0);
	if (rc)
		return rc;
	counter c = { 0 };
	rc = kv->ops->scan(kv, "", 0, count_cb, &c);
	*n = c.n;
	if (!rc && committed) {
		sli_buf b;
		sli_buf_init(&b);
		int found = 0;
		rc = kv->ops->get(
		    kv, SLI_M_COMMIT, SLI_M_LEN(SLI_M_COMMIT), &b, &found);
		const uint8_t *p = b.data;
		*committed = 0;
		if (!rc && found
		    && sli_varint_get(&p, b.data + b.len, committed))
			rc = SL_ECORRUPT;
		sli_buf_free(&b);
	}
	kv->ops->close(kv);
	return rc;
}

/* 1 when dir holds any LevelDB file (CURRENT, a MANIFEST, a log or a
 * table): something repair can work on. */
static int has_leveldb_files(const char *dir)
{
	int current, other;
	if (sli_state_survey_dir(dir, &current, &other))
		return 0;
	return current || other;
}

/* 1 when dir is a sluice state: it holds sluice.lock (every state has
 * it from its first open, before LevelDB writes anything), or it opens
 * as a LevelDB holding sluice's format record. Repair of anything else
 * would make a LevelDB database of it (red team R5). */
static int is_sluice_state(const char *dir)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof(path), "%s/sluice.lock", dir);
	if (lstat(path, &st) == 0)
		return 1;
	snprintf(path, sizeof(path), "%s/CURRENT", dir);
	sli_kv *kv;
	if (lstat(path, &st) != 0 || sli_kv_leveldb_open(&kv, dir, 0))
		return 0;
	sli_buf b;
	sli_buf_init(&b);
	int found = 0;
	if (kv->ops->get(
	        kv, SLI_M_FORMAT, SLI_M_LEN(SLI_M_FORMAT), &b, &found))
		found = 0;
	sli_buf_free(&b);
	kv->ops->close(kv);
	return found;
}

int sl_state_repair(const char *dir)
{
	sl_init();
	if (!dir || !*dir)
		return sli_err(SL_EINVAL, "no state directory given");
	struct stat st;
	if (stat(dir, &st) != 0)
		return sli_err(
		    errno == ENOENT ? SL_ENOTFOUND : sli_errno_code(errno),
		    "%s: %s (nothing to repair)", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return sli_err(SL_EINVAL, "%s is not a directory", dir);
	if (!has_leveldb_files(dir))
		return sli_err(SL_EINVAL,
		    "%s is not a sluice state directory (no LevelDB files): "
		    "nothing to repair",
		    dir);
	if (!is_sluice_state(dir))
		return sli_err(SL_EINVAL,
		    "%s is not a sluice state directory (no sluice.lock, and "
		    "no sluice format record): a repair would make a LevelDB "
		    "database of it; nothing done (a state whose sluice.lock "
		    "was deleted: create the empty file, then repair)",
		    dir);
	/* a running topology holds the lock: repairing under it would move
	 * its live log aside and lose its later commits */
	int fd;
	int rc = sli_state_lock_dir(dir, 1, 0, &fd);
	if (rc)
		return rc;
	/* what was readable before: when repair keeps exactly that, it
	 * dropped nothing */
	uint64_t before = 0, after = 0, committed = 0;
	int intact = count_records(dir, &before, &committed) == SL_OK;
	sli_err(SL_OK, "%s", "");
	rc = sli_kv_leveldb_repair(dir);
	sli_kv *kv = NULL;
	if (!rc
	    && (rc = count_records(dir, &after, intact ? NULL : &committed))
	        == SL_OK
	    && (!intact || after != before)) {
		/* mark it: the commit record no longer vouches for the
		 * counts (docs/errors.md: what to replay) */
		rc = sli_kv_leveldb_open(&kv, dir, 0);
		sli_kv_batch wb;
		sli_kv_batch_init(&wb);
		uint8_t mark[18];
		uint8_t *p = mark + sli_varint_put(mark, committed);
		sli_le64_put(p, (uint64_t)time(NULL));
		p += 8;
		if (!rc)
			rc = sli_kv_batch_put(&wb, SLI_M_REPAIRED,
			    SLI_M_LEN(SLI_M_REPAIRED), mark,
			    (size_t)(p - mark));
		if (!rc)
			rc = kv->ops->write(kv, &wb, 1);
		sli_kv_batch_free(&wb);
		if (kv)
			kv->ops->close(kv);
	}
	close(fd);
	return rc;
}
