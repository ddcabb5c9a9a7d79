/* kv_leveldb.c - the LevelDB key-value back-end; the only file that
 * includes LevelDB. Maps LevelDB's error strings to SL_* codes. */
#include "kv.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <leveldb/c.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct ldbkv {
	sli_kv base;
	leveldb_t *db;
	leveldb_options_t *opt;
	leveldb_readoptions_t *ro;
	leveldb_writeoptions_t *wo_sync, *wo_nosync;
	leveldb_cache_t *cache;
	leveldb_filterpolicy_t *bloom;
	char *dir;
} ldbkv;

/* 1 when s ends with suffix. */
static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !memcmp(s + n - m, suffix, m);
}

/* Turns a LevelDB error string into a code; keeps the text as detail and
 * frees it. LevelDB's messages are "<Kind>: <context, often a path>:
 * <strerror>": the kind is read from the start and the system error from
 * the end, never by searching the whole text (a directory named
 * "blocks" or "lock" must not turn an I/O error into SL_ELOCKED). */
static int ldb_err(char *err, const char *what)
{
	int rc = SL_EIO;
	if (!strncmp(err, "Corruption: ", 12))
		rc = SL_ECORRUPT;
	else if (ends_with(err, "No space left on device"))
		rc = SL_ENOSPC;
	else if (!strncmp(err, "IO error: lock ", 15)
	    && (ends_with(err, "Resource temporarily unavailable")
	        || ends_with(err, "already held by process")))
		rc = SL_ELOCKED;
	else if (ends_with(err, "Permission denied")
	    || ends_with(err, "Read-only file system"))
		rc = SL_EPERM;
	else if (!strncmp(err, "Invalid argument: ", 18)
	    && (ends_with(err, "does not exist (create_if_missing is false)")
	        || strstr(err, ": does not exist (")))
		rc = SL_ENOTFOUND;
	if (rc == SL_ELOCKED)
		sli_err(rc, "%s: locked by another process (%s)", what, err);
	else
		sli_err(rc, "%s: %s", what, err);
	leveldb_free(err);
	return rc;
}

int sli_kv_leveldb_errcode(const char *msg)
{
	char *copy = malloc(strlen(msg) + 1);
	if (!copy)
		return SL_ENOMEM;
	strcpy(copy, msg);
	/* ldb_err frees with leveldb_free, which is free() */
	return ldb_err(copy, "test");
}

static int ldb_get(
    sli_kv *kv, const void *k, size_t kl, sli_buf *out, int *found)
{
	ldbkv *l = (ldbkv *)kv;
	char *err = NULL;
	size_t vl = 0;
	out->len = 0;
	char *v = leveldb_get(l->db, l->ro, k, kl, &vl, &err);
	if (err)
		return ldb_err(err, "read");
	*found = v != NULL;
	int rc = v ? sli_buf_append(out, v, vl) : SL_OK;
	leveldb_free(v);
	return rc;
}

static inline int wb_op(
    void *u, int op, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	if (op == SLI_KV_PUT)
		leveldb_writebatch_put(
		    u, (const char *)k, kl, (const char *)v, vl);
	else
		leveldb_writebatch_delete(u, (const char *)k, kl);
	return 0;
}

static int ldb_write(sli_kv *kv, const sli_kv_batch *b, int sync)
{
	ldbkv *l = (ldbkv *)kv;
	leveldb_writebatch_t *wb = leveldb_writebatch_create();
	int rc = sli_kv_batch_foreach(b, wb_op, wb);
	char *err = NULL;
	if (!rc)
		leveldb_write(
		    l->db, sync ? l->wo_sync : l->wo_nosync, wb, &err);
	leveldb_writebatch_destroy(wb);
	return err ? ldb_err(err, "write") : rc;
}

static int ldb_scan(sli_kv *kv, const void *prefix, size_t pl,
    int (*fn)(
        void *u, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl),
    void *u)
{
	ldbkv *l = (ldbkv *)kv;
	leveldb_iterator_t *it = leveldb_create_iterator(l->db, l->ro);
	int rc = 0;
	for (leveldb_iter_seek(it, prefix, pl); leveldb_iter_valid(it) && !rc;
	     leveldb_iter_next(it)) {
		size_t kl, vl;
		const char *k = leveldb_iter_key(it, &kl);
		if (kl < pl || memcmp(k, prefix, pl))
			break;
		/* a damaged block makes LevelDB skip to the next one (and
		 * may surface an older version of a key from a lower level):
		 * check before every callback, never hand out a record read
		 * after an error */
		char *e = NULL;
		leveldb_iter_get_error(it, &e);
		if (e) {
			leveldb_iter_destroy(it);
			return ldb_err(e, "scan");
		}
		const char *v = leveldb_iter_value(it, &vl);
		rc = fn(u, (const uint8_t *)k, kl, (const uint8_t *)v, vl);
	}
	char *err = NULL;
	leveldb_iter_get_error(it, &err);
	leveldb_iter_destroy(it);
	if (err)
		return ldb_err(err, "scan");
	return rc;
}

static uint64_t ldb_disk(sli_kv *kv)
{
	ldbkv *l = (ldbkv *)kv;
	uint64_t total = 0;
	DIR *d = opendir(l->dir);
	if (!d)
		return 0;
	struct dirent *e;
	char path[4096];
	while ((e = readdir(d))) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", l->dir, e->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	}
	closedir(d);
	return total;
}

static void ldb_close(sli_kv *kv)
{
	ldbkv *l = (ldbkv *)kv;
	if (l->db)
		leveldb_close(l->db);
	leveldb_options_destroy(l->opt);
	leveldb_readoptions_destroy(l->ro);
	leveldb_writeoptions_destroy(l->wo_sync);
	leveldb_writeoptions_destroy(l->wo_nosync);
	if (l->cache)
		leveldb_cache_destroy(l->cache);
	if (l->bloom)
		leveldb_filterpolicy_destroy(l->bloom);
	free(l->dir);
	free(l);
}

static const struct sli_kv_ops ldb_ops
    = { "leveldb", ldb_get, ldb_write, ldb_scan, ldb_disk, ldb_close };

int sli_kv_leveldb_open(sli_kv **out, const char *dir, int create)
{
	*out = NULL;
	ldbkv *l = calloc(1, sizeof(*l));
	if (!l || !(l->dir = strdup(dir))) {
		free(l);
		return SL_ENOMEM;
	}
	l->base.ops = &ldb_ops;
	l->opt = leveldb_options_create();
	leveldb_options_set_create_if_missing(l->opt, create);
	leveldb_options_set_paranoid_checks(l->opt, 1);
	/* a small memtable: its skip list stays in the CPU caches (16 MiB
	 * ran the word count 20% slower); a Bloom filter per table spares
	 * reads of keys a table does not hold (new keys of a batch) */
	leveldb_options_set_write_buffer_size(l->opt, 2 << 20);
	l->bloom = leveldb_filterpolicy_create_bloom(10);
	leveldb_options_set_filter_policy(l->opt, l->bloom);
	l->cache = leveldb_cache_create_lru(16 << 20);
	leveldb_options_set_cache(l->opt, l->cache);
	l->ro = leveldb_readoptions_create();
	leveldb_readoptions_set_verify_checksums(l->ro, 1);
	l->wo_sync = leveldb_writeoptions_create();
	leveldb_writeoptions_set_sync(l->wo_sync, 1);
	l->wo_nosync = leveldb_writeoptions_create();
	char *err = NULL;
	l->db = leveldb_open(l->opt, dir, &err);
	if (err) {
		int rc = ldb_err(err, dir);
		ldb_close(&l->base);
		return rc;
	}
	*out = &l->base;
	return SL_OK;
}

/* LevelDB's repair copies the entries of damaged tables without checking
 * their order, and asserts (aborts the process) when a flipped bit put a
 * key out of order. It runs in a child process: a crash there becomes a
 * clear error here, and the directory is left as the child left it. */
int sli_kv_leveldb_repair(const char *dir)
{
	int fds[2];
	if (pipe(fds) != 0)
		return sli_err(
		    sli_errno_code(errno), "pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return sli_err(
		    sli_errno_code(errno), "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		leveldb_options_t *o = leveldb_options_create();
		char *err = NULL;
		leveldb_repair_db(o, dir, &err);
		if (err) {
			size_t n = strlen(err);
			if (write(fds[1], err, n) < 0) {
				/* the parent reports a generic failure */
			}
		}
		_exit(err ? 1 : 0);
	}
	close(fds[1]);
	char msg[2048];
	size_t got = 0;
	for (;;) {
		ssize_t r = read(fds[0], msg + got, sizeof(msg) - 1 - got);
		if (r > 0 && (got += (size_t)r) < sizeof(msg) - 1)
			continue;
		if (r < 0 && errno == EINTR)
			continue;
		break;
	}
	msg[got] = 0;
	close(fds[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) { }
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return SL_OK;
	if (WIFEXITED(st) && got) {
		char *copy = malloc(got + 1);
		if (!copy)
			return SL_ENOMEM;
		memcpy(copy, msg, got + 1);
		return ldb_err(copy, dir);
	}
	return sli_err(SL_ECORRUPT,
	    "LevelDB's repair crashed (%s %d) on a damaged table; "
	    "its log (%s/LOG) names the table it was reading: move that "
	    ".ldb file out of the directory and run the repair again",
	    WIFSIGNALED(st) ? "signal" : "exit status",
	    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), dir);
}
