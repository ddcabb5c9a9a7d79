/*
 * state.c - the map state: update semantics over a key-value back-end,
 * the opaque rollback record, the commit record, per-txid spout metadata,
 * committed-only reads, a per-partition CLOCK cache (docs/state-format.md).
 *
 * Every semantics stores (txid, prev, curr) per key so that reads can
 * always return the committed value: curr when txid <= last committed,
 * prev otherwise (a batch applied by a partition but not yet committed).
 */
#include "state.h"
#include "kv.h"
#include "state_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* 2: typed group keys (core/key.h); 1 joined them as text (`sluice state
 * upgrade` converts, state/keys.c) */
#define FORMAT_VERSION 2
#define REC_VERSION    1
#define KEY_PREFIX     0x01

static const char M_FORMAT[] = "\0format";
static const char M_SEM[] = "\0semantics";
static const char M_COMMIT[] = "\0commit";
/* written by a repair that may have dropped records: varint txid
 * committed then, u64 unix seconds */
static const char M_REPAIRED[] = "\0repaired";

/* ---- cache of encoded records, one per partition (one thread) ----
 * Replacement is CLOCK (second chance): a hit only sets the entry's
 * reference bit, so it touches no other entry (an LRU list move touches
 * two neighbours, two cache misses per key on a big cache); when the
 * cache is full, the hand sweeps the ring, clearing bits, and evicts the
 * first entry not referenced since its last pass. */
typedef struct centry {
	struct centry *prev, *next; /* the ring, in insertion order */
	uint64_t h;
	uint32_t kl, vl, vcap; /* vcap: room for the value in kv */
	uint32_t ref; /* used since the hand last passed */
	uint8_t *kv; /* key then value */
} centry;

typedef struct cslot {
	uint64_t h; /* the entry's hash: probes skip others unread */
	centry *e; /* NULL empty, CTOMB deleted */
} cslot;

typedef struct cache {
	cslot *slots; /* open addressing */
	size_t cap, n, max, tombs;
	centry head; /* sentinel of the ring */
	centry *hand; /* the clock hand: an entry, or &head */
} cache;

#define CTOMB ((centry *)1)

static void cache_init(cache *c, size_t max)
{
	memset(c, 0, sizeof(*c));
	c->max = max;
	c->head.next = c->head.prev = &c->head;
	c->hand = &c->head;
}

static void cache_clear(cache *c)
{
	for (centry *e = c->head.next; e != &c->head;) {
		centry *nx = e->next;
		free(e->kv);
		free(e);
		e = nx;
	}
	free(c->slots);
	size_t max = c->max;
	cache_init(c, max);
}

static size_t cache_find(
    const cache *c, const uint8_t *k, size_t kl, uint64_t h, int *found)
{
	size_t i = h & (c->cap - 1), tomb = SIZE_MAX;
	for (;;) {
		centry *e = c->slots[i].e;
		if (!e) {
			*found = 0;
			return tomb != SIZE_MAX ? tomb : i;
		}
		if (e == CTOMB) {
			if (tomb == SIZE_MAX)
				tomb = i;
		} else if (c->slots[i].h == h && e->kl == kl
		    && !memcmp(e->kv, k, kl)) {
			*found = 1;
			return i;
		}
		i = (i + 1) & (c->cap - 1);
	}
}

/* Three pipelined passes over the hashes, PF apart: the home slot of key
 * i+2PF, the entry of key i+PF (its slot fetched before), the key bytes
 * of key i (its entry fetched before). The apply loop that follows then
 * finds them in the CPU cache. */
static void cache_prefetch(const cache *c, size_t n, const uint64_t *hs)
{
	enum { PF = 8 };
	for (size_t i = 0; i < n + 2 * PF; i++) {
		if (i < n)
			__builtin_prefetch(&c->slots[hs[i] & (c->cap - 1)]);
		if (i >= PF && i - PF < n) {
			const centry *e
			    = c->slots[hs[i - PF] & (c->cap - 1)].e;
			if (e && e != CTOMB)
				__builtin_prefetch(e);
		}
		if (i >= 2 * PF) {
			const centry *e
			    = c->slots[hs[i - 2 * PF] & (c->cap - 1)].e;
			if (e && e != CTOMB)
				__builtin_prefetch(e->kv);
		}
	}
}

static void unlink_e(cache *c, centry *e)
{
	if (c->hand == e)
		c->hand = e->next;
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

/* Links a new entry just behind the hand: the last one it will visit. */
static void link_behind_hand(cache *c, centry *e)
{
	centry *h = c->hand;
	e->next = h;
	e->prev = h->prev;
	h->prev->next = e;
	h->prev = e;
}

/* The entry to evict: sweeps from the hand, giving referenced entries a
 * second chance. The cache is not empty. */
static centry *clock_victim(cache *c)
{
	for (;;) {
		centry *x = c->hand;
		if (x == &c->head) {
			c->hand = x->next;
			continue;
		}
		if (!x->ref)
			return x;
		x->ref = 0;
		c->hand = x->next;
	}
}

/* Borrowed value bytes of k, or NULL. Marks it referenced. */
static const uint8_t *cache_get(
    cache *c, const uint8_t *k, size_t kl, uint64_t h, size_t *vl)
{
	if (!c->cap)
		return NULL;
	int found;
	size_t i = cache_find(c, k, kl, h, &found);
	if (!found)
		return NULL;
	centry *e = c->slots[i].e;
	e->ref = 1;
	*vl = e->vl;
	return e->kv + e->kl;
}

static void cache_del(cache *c, const uint8_t *k, size_t kl, uint64_t h)
{
	if (!c->cap)
		return;
	int found;
	size_t i = cache_find(c, k, kl, h, &found);
	if (!found)
		return;
	centry *e = c->slots[i].e;
	c->slots[i].e = CTOMB;
	c->tombs++;
	unlink_e(c, e);
	free(e->kv);
	free(e);
	c->n--;
}

static void cache_put(cache *c, const uint8_t *k, size_t kl, uint64_t h,
    const uint8_t *v, size_t vl)
{
	if (!c->max)
		return;
	if (!c->cap) {
		/* at most a quarter full: short probe chains */
		size_t cap = 16;
		while (cap < c->max * 4)
			cap *= 2;
		c->slots = calloc(cap, sizeof(*c->slots));
		if (!c->slots)
			return;
		c->cap = cap;
	}
	int found;
	size_t i = cache_find(c, k, kl, h, &found);
	if (found) {
		/* the common case: a key written again, updated in place */
		centry *e = c->slots[i].e;
		if (vl > e->vcap) {
			uint8_t *kv = realloc(e->kv, kl + vl);
			if (!kv) {
				cache_del(c, k, kl, h);
				return;
			}
			e->kv = kv;
			e->vcap = (uint32_t)vl;
		}
		memcpy(e->kv + kl, v, vl);
		e->vl = (uint32_t)vl;
		e->ref = 1;
		return;
	}
	if (c->n >= c->max) {
		centry *old = clock_victim(c);
		cache_del(c, old->kv, old->kl, old->h);
	}
	if (c->tombs > c->cap / 4) {
		/* rebuild the slots from the ring: drops tombstones */
		memset(c->slots, 0, c->cap * sizeof(*c->slots));
		c->tombs = 0;
		for (centry *x = c->head.next; x != &c->head; x = x->next) {
			size_t j = x->h & (c->cap - 1);
			while (c->slots[j].e)
				j = (j + 1) & (c->cap - 1);
			c->slots[j] = (cslot) { x->h, x };
		}
	}
	centry *e = malloc(sizeof(*e));
	uint8_t *kv = malloc(kl + vl + 1);
	if (!e || !kv) {
		free(e);
		free(kv);
		return;
	}
	memcpy(kv, k, kl);
	memcpy(kv + kl, v, vl);
	*e = (centry) { NULL, NULL, h, (uint32_t)kl, (uint32_t)vl,
		(uint32_t)vl + 1, 0, kv };
	i = cache_find(c, k, kl, h, &found);
	if (c->slots[i].e == CTOMB)
		c->tombs--;
	c->slots[i] = (cslot) { h, e };
	link_behind_hand(c, e);
	c->n++;
}

/* ---- the state ---- */
typedef struct spart {
	cache c;
	uint64_t touched_txid; /* 0: no record of this partition on disk */
	sli_buf touched; /* varint klen, key ... */
	sli_buf rec, key, newtouched, arena;
	sli_kv_batch batch;
	size_t *offs; /* record offsets in arena */
	uint64_t *hs; /* hashes of the keys of an apply call */
	size_t noffs;
	uint64_t nhit, nmiss; /* cache, since the last publish */
	/* set by the restart pass (any thread): the partition's owner
	 * empties its cache and forgets its touched record at its next
	 * apply, so that only the owner ever touches them */
	_Atomic int stale;
} spart;

struct sl_state {
	sli_kv *kv;
	sl_state_options o;
	_Atomic uint64_t committed;
	_Atomic int recovered; /* the restart pass ran since the last
	                          set_partitions */
	pthread_mutex_t recover_lock;
	/* live statistics (sl_state_counters_get), published per apply */
	_Atomic uint64_t c_hits, c_misses, c_created;
	uint32_t nparts;
	spart *parts;
	int lockfd;
	char *dir;
	/* failure injection */
	/* failure injection (tests): the fields are written before fail_set
	 * is released and read only by the apply that claims fail_set */
	_Atomic int fail_set;
	_Atomic uint64_t fail_commit; /* txid whose commit record fails */
	int fail_after;
	uint32_t fail_part;
	uint64_t fail_txid;
	pthread_mutex_t fail_lock;
};

void sl_state_options_default(sl_state_options *o)
{
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

static void part_free(spart *p)
{
	cache_clear(&p->c);
	free(p->c.slots);
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
	spart *np = calloc(nparts, sizeof(*np));
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
		cache_init(&np[i].c, ce);
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
	int rc = get_meta(s, M_COMMIT, sizeof(M_COMMIT) - 1, &b, &found);
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
	if ((rc = get_meta(s, M_FORMAT, sizeof(M_FORMAT) - 1, &b, &found)))
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
		sli_le32_put(ver, FORMAT_VERSION);
		sli_kv_batch_put(&wb, M_FORMAT, sizeof(M_FORMAT) - 1, ver, 4);
		sli_kv_batch_put(&wb, M_SEM, sizeof(M_SEM) - 1, &sem, 1);
		rc = s->kv->ops->write(s->kv, &wb, 1);
		sli_kv_batch_free(&wb);
		goto out;
	}
	if (b.len != 4) {
		rc = sli_err(SL_ECORRUPT, "%s: format record is corrupt", dir);
		goto out;
	}
	uint32_t ver = sli_le32_get(b.data);
	if (ver > FORMAT_VERSION) {
		rc = sli_err(SL_EVERSION,
		    "%s was written by a newer sluice (state format %u, "
		    "this build reads up to %u)",
		    dir, ver, FORMAT_VERSION);
		goto out;
	}
	opened_version = ver;
	if (ver < FORMAT_VERSION && !open_any_version) {
		rc = sli_err(SL_EVERSION,
		    "%s has state format %u (untyped keys), this build reads "
		    "format %u: convert it with `sluice state upgrade %s` "
		    "(docs/state-format.md)",
		    dir, ver, FORMAT_VERSION, dir);
		goto out;
	}
	if ((rc = get_meta(s, M_SEM, sizeof(M_SEM) - 1, &b, &found)))
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

/* Opens and flocks DIR/sluice.lock (never through a symbolic link, a
 * regular file only) into *fd; SL_ELOCKED naming the holder's pid. With
 * may_skip, a directory where the file cannot be created is not an
 * error (*fd = -1: read-only media, LevelDB's own lock decides). */
static int lock_dir(const char *dir, int write_pid, int may_skip, int *fd)
{
	char path[4096];
	*fd = -1;
	snprintf(path, sizeof(path), "%s/sluice.lock", dir);
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (f < 0 && errno == ELOOP)
		return sli_err(SL_EPERM,
		    "%s is a symbolic link: refusing to follow it (remove it)",
		    path);
	if (f < 0) {
		if (may_skip && (errno == EROFS || errno == EACCES))
			return SL_OK;
		return sli_err(
		    sli_errno_code(errno), "%s: %s", path, strerror(errno));
	}
	struct stat st;
	if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(f);
		return sli_err(SL_EPERM,
		    "%s is not a regular file: refusing to use it (remove it)",
		    path);
	}
	if (flock(f, LOCK_EX | LOCK_NB) != 0) {
		char pid[32] = "";
		ssize_t n = pread(f, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		close(f);
		return sli_err(SL_ELOCKED,
		    "state directory %s is locked by another process%s%s%s",
		    dir, pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "");
	}
	if (write_pid) {
		char pid[32];
		int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		if (ftruncate(f, 0) == 0 && pwrite(f, pid, (size_t)n, 0) < 0) {
			/* the pid is only for messages */
		}
	}
	*fd = f;
	return SL_OK;
}

/* Our own lock beside LevelDB's, holding the pid for a clear message. */
static int take_lock(sl_state *s, const char *dir)
{
	return lock_dir(dir, !s->o.read_only, s->o.read_only, &s->lockfd);
}

/* 1 when name is a LevelDB data file (a MANIFEST, a log or a table). */
static int leveldb_file(const char *n)
{
	size_t l = strlen(n);
	return !strncmp(n, "MANIFEST-", 9)
	    || (l > 4
	        && (!strcmp(n + l - 4, ".log") || !strcmp(n + l - 4, ".ldb")
	            || !strcmp(n + l - 4, ".sst")));
}

/* What a directory holds: *current when it has a CURRENT file, *other =
 * how many LevelDB data files (a MANIFEST, logs, tables). */
static int survey_dir(const char *dir, int *current, int *other)
{
	*current = 0;
	*other = 0;
	DIR *d = opendir(dir);
	if (!d)
		return sli_err(
		    sli_errno_code(errno), "%s: %s", dir, strerror(errno));
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, "CURRENT"))
			*current = 1;
		else if (leveldb_file(e->d_name))
			(*other)++;
	}
	closedir(d);
	return SL_OK;
}

int sl_state_open_leveldb(
    sl_state **out, const char *dir, const sl_state_options *o)
{
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
	/* LevelDB creates a database only where there is none: with
	 * create_if_missing it would start an empty one beside old tables
	 * when CURRENT is lost, and delete those tables as obsolete */
	int has_current, other;
	if ((rc = survey_dir(dir, &has_current, &other)))
		goto fail;
	if (!has_current && other) {
		rc = sli_err(SL_ECORRUPT,
		    "%s has no CURRENT file but holds %d LevelDB files: not "
		    "starting an empty state over them; back the directory "
		    "up, then `sluice state repair %s` may recover it",
		    dir, other, dir);
		goto fail;
	}
	if (!has_current && s->o.read_only) {
		rc = sli_err(
		    SL_EINVAL, "%s is not a sluice state directory", dir);
		goto fail;
	}
	if ((rc = take_lock(s, dir)))
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
	if ((rc = finish_open(s, dir)))
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

/* ---- records: u8 version, varint txid, prev value, curr value ---- */
typedef struct rec {
	uint64_t txid;
	sl_value prev, curr; /* SL_NULL = absent */
} rec;

static int rec_decode(const uint8_t *p, size_t n, rec *r)
{
	const uint8_t *end = p + n;
	if (n < 1 || *p != REC_VERSION)
		return sli_err(
		    n && *p > REC_VERSION ? SL_EVERSION : SL_ECORRUPT,
		    "stored value has an unknown encoding");
	p++;
	if (sli_varint_get(&p, end, &r->txid)
	    || sli_value_get(&p, end, &r->prev)
	    || sli_value_get(&p, end, &r->curr) || p != end)
		return sli_err(SL_ECORRUPT, "stored value is corrupt");
	return SL_OK;
}

static int rec_encode(sli_buf *b, const rec *r)
{
	int rc = sli_buf_put_u8(b, REC_VERSION);
	if (!rc)
		rc = sli_buf_put_varint(b, r->txid);
	if (!rc)
		rc = sli_value_put(b, &r->prev);
	if (!rc)
		rc = sli_value_put(b, &r->curr);
	return rc;
}

int sli_state_decode_value(
    const uint8_t *p, size_t n, uint64_t committed, sl_value *out)
{
	rec r;
	int rc = rec_decode(p, n, &r);
	if (rc)
		return rc;
	*out = r.txid <= committed ? r.curr : r.prev;
	return out->type == SL_NULL ? SL_ENOTFOUND : SL_OK;
}

static int prefixed(sli_buf *b, const void *k, size_t kl)
{
	b->len = 0;
	int rc = sli_buf_put_u8(b, KEY_PREFIX);
	return rc ? rc : sli_buf_append(b, k, kl);
}

/* The record of the keys partition pn wrote for txid: "\0touched/",
 * txid (u64 BE), pn (u32 BE). Keyed by txid first: at a restart every
 * record of the uncommitted txid is found whatever the partition count of
 * the run that wrote it (format 1 keyed it by partition number only). */
#define TOUCHED_PREFIX_LEN 9
#define TOUCHED_KEY_LEN    21
#define TOUCHED_KEY_V1_LEN 13
static void touched_key(
    uint8_t out[TOUCHED_KEY_LEN], uint64_t txid, uint32_t pn)
{
	memcpy(out, "\0touched/", TOUCHED_PREFIX_LEN);
	for (int i = 0; i < 8; i++)
		out[9 + i] = (uint8_t)(txid >> (56 - 8 * i));
	out[17] = (uint8_t)(pn >> 24);
	out[18] = (uint8_t)(pn >> 16);
	out[19] = (uint8_t)(pn >> 8);
	out[20] = (uint8_t)pn;
}

/* Reads key k's record of partition p (cache first) into *r; the record's
 * bytes stay valid until p->rec is next used. *found = 0 when absent. */
static int read_rec(sl_state *s, spart *p, const uint8_t *k, size_t kl,
    uint64_t h, rec *r, int *found)
{
	size_t vl;
	const uint8_t *v = cache_get(&p->c, k, kl, h, &vl);
	if (v) {
		p->nhit++;
		*found = 1;
		return rec_decode(v, vl, r);
	}
	p->nmiss++;
	int rc = prefixed(&p->key, k, kl);
	if (!rc)
		rc = s->kv->ops->get(
		    s->kv, p->key.data, p->key.len, &p->rec, found);
	if (rc || !*found)
		return rc;
	return rec_decode(p->rec.data, p->rec.len, r);
}

/* A small set of the keys of one apply call, to find the touched keys a
 * replay leaves out. */
typedef struct kset {
	size_t *idx; /* index+1 into keys, 0 empty */
	size_t cap;
} kset;

static int kset_build(kset *ks, size_t n, const sl_value *keys)
{
	ks->cap = 16;
	while (ks->cap < n * 2)
		ks->cap *= 2;
	ks->idx = calloc(ks->cap, sizeof(size_t));
	if (!ks->idx)
		return SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t j
		    = sli_fasthash(keys[i].u.p, keys[i].len) & (ks->cap - 1);
		while (ks->idx[j])
			j = (j + 1) & (ks->cap - 1);
		ks->idx[j] = i + 1;
	}
	return SL_OK;
}

static int kset_has(
    const kset *ks, const sl_value *keys, const uint8_t *k, size_t kl)
{
	size_t j = sli_fasthash(k, kl) & (ks->cap - 1);
	while (ks->idx[j]) {
		const sl_value *x = &keys[ks->idx[j] - 1];
		if (x->len == kl && !memcmp(x->u.p, k, kl))
			return 1;
		j = (j + 1) & (ks->cap - 1);
	}
	return 0;
}

/* New record for an update with delta in batch txid under semantics. */
static int update_rec(sl_semantics sem, const sl_combiner *comb, rec *r,
    int found, uint64_t txid, const sl_value *delta, int *skip)
{
	*skip = 0;
	if (!found) {
		r->txid = 0;
		r->prev = sl_null();
		r->curr = sl_null();
	}
	sl_value base_prev = r->prev.type == SL_NULL ? comb->zero : r->prev;
	sl_value base_curr = r->curr.type == SL_NULL ? comb->zero : r->curr;
	sl_value out;
	int rc;
	if (found && r->txid == txid) {
		switch (sem) {
		case SL_SEM_TRANSACTIONAL:
			*skip = 1;
			return SL_OK;
		case SL_SEM_OPAQUE:
			/* a replay, perhaps with other tuples: from prev */
			rc = comb->combine(
			    comb->user, &base_prev, delta, &out);
			break;
		default: /* none: replays overcount */
			rc = comb->combine(
			    comb->user, &base_curr, delta, &out);
			break;
		}
		if (!rc)
			r->curr = out;
		return rc;
	}
	if (found && r->txid > txid && sem != SL_SEM_NONE) {
		/* an older txid than stored: already folded in */
		*skip = 1;
		return SL_OK;
	}
	rc = comb->combine(comb->user, &base_curr, delta, &out);
	if (rc)
		return rc;
	r->prev = r->curr;
	r->curr = out;
	r->txid = txid;
	return SL_OK;
}

#if SLI_TRACING
/* "key:txid:prev:curr" of a record for the trace (ints; others as ?) */
static void trace_val(sli_buf *b, const sl_value *v)
{
	char t[32];
	if (v->type == SL_INT)
		snprintf(t, sizeof(t), "%lld", (long long)v->u.i);
	else if (v->type == SL_NULL)
		snprintf(t, sizeof(t), "n");
	else
		snprintf(t, sizeof(t), "?");
	sli_buf_append(b, t, strlen(t));
}

static void trace_write(sl_state *s, uint32_t pi, uint64_t txid,
    const sli_kv_batch *batch, size_t n, const sl_value *deltas,
    const sl_value *keys)
{
	sli_buf b;
	sli_buf_init(&b);
	char h[160];
	/* deltas of the call, then every record the write put or deleted */
	for (size_t i = 0; i < n; i++) {
		sli_buf_append(&b, " d:", 3);
		sli_trace_hex(h, keys[i].u.p, keys[i].len);
		sli_buf_append(&b, h, strlen(h));
		sli_buf_append(&b, ":", 1);
		trace_val(&b, &deltas[i]);
	}
	const uint8_t *q = batch->ops.data, *end = q + batch->ops.len;
	while (q < end) {
		uint8_t op = *q++;
		uint64_t kl, vl = 0;
		sli_varint_get(&q, end, &kl);
		const uint8_t *k = q;
		q += kl;
		const uint8_t *v = NULL;
		if (op == 1) {
			sli_varint_get(&q, end, &vl);
			v = q;
			q += vl;
		}
		if (!kl || k[0] != KEY_PREFIX)
			continue;
		sli_trace_hex(h, k + 1, kl - 1);
		rec r;
		if (v && rec_decode(v, vl, &r) == SL_OK) {
			char t[64];
			snprintf(t, sizeof(t), " r:%s:%llu:", h,
			    (unsigned long long)r.txid);
			sli_buf_append(&b, t, strlen(t));
			trace_val(&b, &r.prev);
			sli_buf_append(&b, ":", 1);
			trace_val(&b, &r.curr);
		} else {
			sli_buf_append(&b, " x:", 3);
			sli_buf_append(&b, h, strlen(h));
		}
	}
	sli_trace("write %s %u %llu%.*s", s->dir ? s->dir : "mem", pi,
	    (unsigned long long)txid, (int)b.len,
	    b.data ? (const char *)b.data : "");
	sli_buf_free(&b);
	sli_trace_point();
}
#endif

/* ---- the restart pass ----
 * Collects every touched record (any partition number, format 1's
 * per-partition records included): their keys, and the keys each record
 * names when its txid is the one being rolled back. */
typedef struct rscan {
	uint64_t undo; /* the txid whose writes are taken back */
	sli_buf dels; /* varint klen, record key ... */
	sli_buf keys; /* varint klen, user key ... (of records of undo) */
	int err;
} rscan;

static int rscan_cb(
    void *u, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	rscan *r = u;
	if (kl != TOUCHED_KEY_LEN && kl != TOUCHED_KEY_V1_LEN)
		return 0;
	const uint8_t *q = v, *end = v + vl;
	uint64_t txid;
	if (sli_varint_get(&q, end, &txid)) {
		r->err = sli_err(SL_ECORRUPT, "touched record is corrupt");
		return 1;
	}
	int rc = sli_buf_put_varint(&r->dels, kl);
	if (!rc)
		rc = sli_buf_append(&r->dels, k, kl);
	if (!rc && txid == r->undo)
		rc = sli_buf_append(&r->keys, q, (size_t)(end - q));
	if (rc) {
		r->err = rc;
		return 1;
	}
	return 0;
}

/* Before anything runs: for every key that a record of txid undo (the
 * first uncommitted txid, or the last committed one when another state of
 * the topology is one commit behind) names and that still carries undo,
 * curr = prev (deleted when prev is null; transactional records also
 * forget the txid so that the replay applies again); every record is
 * dropped; when undoing a commit, the commit record goes back to target
 * with meta. One atomic write. The partition count of the runs that wrote
 * the records does not matter (opaque_check.py --remap). */
static int recover(sl_state *s, uint64_t target, const void *meta, size_t ml)
{
	uint64_t committed = s->committed;
	if (target != committed && target + 1 != committed)
		return sli_err(SL_ESTALE,
		    "%s has committed txid %llu but the topology resumes at "
		    "%llu: these states were not written by one topology",
		    s->dir ? s->dir : "state", (unsigned long long)committed,
		    (unsigned long long)target);
	rscan r;
	memset(&r, 0, sizeof(r));
	r.undo = target + 1;
	sli_buf_init(&r.dels);
	sli_buf_init(&r.keys);
	sli_buf key, val, rb;
	sli_buf_init(&key);
	sli_buf_init(&val);
	sli_buf_init(&rb);
	sli_kv_batch b;
	sli_kv_batch_init(&b);
	static const uint8_t pre[] = "\0touched/";
	int rc
	    = s->kv->ops->scan(s->kv, pre, TOUCHED_PREFIX_LEN, rscan_cb, &r);
	if (!rc)
		rc = r.err;
	uint64_t nroll = 0;
	const uint8_t *q = r.keys.data, *end = q + r.keys.len;
	while (!rc && q < end) {
		uint64_t kl;
		if (sli_varint_get(&q, end, &kl) || kl > (uint64_t)(end - q)) {
			rc = sli_err(SL_ECORRUPT, "touched record is corrupt");
			break;
		}
		const uint8_t *k = q;
		q += kl;
		int found;
		rc = prefixed(&key, k, kl);
		if (!rc)
			rc = s->kv->ops->get(
			    s->kv, key.data, key.len, &val, &found);
		rec rr;
		if (rc || !found)
			continue;
		if ((rc = rec_decode(val.data, val.len, &rr)))
			break;
		if (rr.txid != r.undo)
			continue;
		nroll++;
		if (rr.prev.type == SL_NULL) {
			rc = sli_kv_batch_del(&b, key.data, key.len);
			continue;
		}
		rr.curr = rr.prev;
		if (s->o.semantics != SL_SEM_OPAQUE)
			rr.txid = 0;
		rb.len = 0;
		rc = rec_encode(&rb, &rr);
		if (!rc)
			rc = sli_kv_batch_put(
			    &b, key.data, key.len, rb.data, rb.len);
	}
	q = r.dels.data;
	end = q + r.dels.len;
	while (!rc && q < end) {
		uint64_t kl;
		sli_varint_get(&q, end, &kl);
		rc = sli_kv_batch_del(&b, q, kl);
		q += kl;
	}
	if (!rc && target + 1 == committed) {
		sli_buf v;
		sli_buf_init(&v);
		rc = sli_buf_put_varint(&v, target);
		if (!rc)
			rc = sli_buf_append(&v, meta, ml);
		if (!rc)
			rc = sli_kv_batch_put(
			    &b, M_COMMIT, sizeof(M_COMMIT) - 1, v.data, v.len);
		sli_buf_free(&v);
	}
	sli_trace_begin();
	if (!rc && b.n)
		rc = s->kv->ops->write(s->kv, &b, s->o.sync);
	if (!rc) {
		s->committed = target;
		for (uint32_t i = 0; i < s->nparts; i++)
			s->parts[i].stale = 1;
		s->recovered = 1;
#if SLI_TRACING
		/* the pass, then what it wrote as a write of partition -1 */
		sli_trace("recover %s %llu %llu %llu", s->dir ? s->dir : "mem",
		    (unsigned long long)committed, (unsigned long long)target,
		    (unsigned long long)nroll);
		trace_write(s, UINT32_MAX, target, &b, 0, NULL, NULL);
#endif
		(void)nroll;
	}
	sli_trace_end();
	sli_kv_batch_free(&b);
	sli_buf_free(&r.dels);
	sli_buf_free(&r.keys);
	sli_buf_free(&key);
	sli_buf_free(&val);
	sli_buf_free(&rb);
	return rc;
}

int sli_state_recover(
    sl_state *s, uint64_t target, const void *meta, size_t metalen)
{
	if (s->o.read_only)
		return SL_OK;
	pthread_mutex_lock(&s->recover_lock);
	int rc = recover(s, target, meta, metalen);
	pthread_mutex_unlock(&s->recover_lock);
	return rc;
}

int sli_state_apply(sl_state *s, uint32_t pi, uint64_t txid, size_t n,
    const sl_value *keys, const sl_value *deltas, const sl_combiner *comb)
{
	if (s->o.read_only)
		return sli_err(SL_EPERM, "state opened read-only");
	if (pi >= s->nparts)
		return sli_err(
		    SL_EINVAL, "state partition %u of %u", pi, s->nparts);
	if (txid <= s->committed)
		return sli_err(SL_ESTALE, "txid %llu is already committed",
		    (unsigned long long)txid);
	spart *p = &s->parts[pi];
	int fail_after = 0, fail_now = 0, fail_mode = 0;
	if (s->fail_set) {
		pthread_mutex_lock(&s->fail_lock);
		if (s->fail_set
		    && (s->fail_part == pi || s->fail_part == UINT32_MAX)
		    && s->fail_txid == txid) {
			s->fail_set = 0;
			fail_now = 1;
			fail_mode = s->fail_after;
		}
		pthread_mutex_unlock(&s->fail_lock);
	}
	if (fail_now) {
		if (!fail_mode)
			return sli_err(SL_EFAILED,
			    "injected failure before the state write of "
			    "partition %u, txid %llu",
			    pi, (unsigned long long)txid);
		fail_after = 1;
	}
	int rc = SL_OK;
	if (!s->recovered) {
		/* a direct caller (tests, tools) that did not run the restart
		 * pass: run it now, against this state's own commit record */
		pthread_mutex_lock(&s->recover_lock);
		if (!s->recovered)
			rc = recover(s, s->committed, NULL, 0);
		pthread_mutex_unlock(&s->recover_lock);
		if (rc)
			return rc;
	}
	if (atomic_exchange(&p->stale, 0)) {
		cache_clear(&p->c);
		p->touched.len = 0;
		p->touched_txid = 0;
	}
	sli_kv_batch_clear(&p->batch);
	p->arena.len = 0;
	p->newtouched.len = 0;
	if (p->noffs < n + 1) {
		size_t *o = realloc(p->offs, (n + 1) * sizeof(*o));
		if (o)
			p->offs = o;
		uint64_t *hs
		    = o ? realloc(p->hs, (n + 1) * sizeof(*hs)) : NULL;
		if (!hs)
			return SL_ENOMEM;
		p->hs = hs;
		p->noffs = n + 1;
	}
	for (size_t i = 0; i < n; i++)
		p->hs[i] = keys[i].type == SL_BYTES
		    ? sli_fasthash(keys[i].u.p, keys[i].len)
		    : 0;
	if (p->c.cap)
		cache_prefetch(&p->c, n, p->hs);
	else if (s->kv->ops->prefetch)
		s->kv->ops->prefetch(s->kv, KEY_PREFIX, n, keys);
	kset ks = { NULL, 0 };
	int opaque = s->o.semantics == SL_SEM_OPAQUE;
	/* transactional state records its keys too: a restart that finds
	 * another state of the topology one commit behind takes this one's
	 * last commit back (sli_state_recover) */
	int record = s->o.semantics != SL_SEM_NONE;
	uint64_t created = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (keys[i].type != SL_BYTES) {
			rc = sli_err(SL_EINVAL, "state keys must be bytes");
			break;
		}
		const uint8_t *k = keys[i].u.p;
		size_t kl = keys[i].len;
		uint64_t h = p->hs[i];
		rec r;
		int found, skip;
		rc = read_rec(s, p, k, kl, h, &r, &found);
		created += !rc && !found;
		if (!rc)
			rc = update_rec(s->o.semantics, comb, &r, found, txid,
			    &deltas[i], &skip);
		p->offs[i] = SIZE_MAX;
		if (!rc && !skip) {
			p->offs[i] = p->arena.len;
			rc = rec_encode(&p->arena, &r);
		}
		if (!rc && record) {
			rc = sli_buf_put_varint(&p->newtouched, kl);
			if (!rc)
				rc = sli_buf_append(&p->newtouched, k, kl);
		}
	}
	p->offs[n] = p->arena.len;
	for (size_t i = 0; i < n && !rc; i++) {
		if (p->offs[i] == SIZE_MAX)
			continue;
		size_t end = p->arena.len;
		for (size_t j = i + 1; j <= n; j++)
			if (j == n || p->offs[j] != SIZE_MAX) {
				end = p->offs[j];
				break;
			}
		rc = prefixed(&p->key, keys[i].u.p, keys[i].len);
		if (!rc)
			rc = sli_kv_batch_put(&p->batch, p->key.data,
			    p->key.len, p->arena.data + p->offs[i],
			    end - p->offs[i]);
	}
	/* opaque rollback: keys an earlier attempt of txid wrote that this
	 * replay does not touch get their value from before txid back */
	sli_buf rb;
	sli_buf_init(&rb);
	if (!rc && opaque && p->touched_txid == txid && p->touched.len) {
		rc = kset_build(&ks, n, keys);
		const uint8_t *q = p->touched.data,
		              *end = p->touched.data + p->touched.len;
		while (!rc && q < end) {
			uint64_t kl;
			if (sli_varint_get(&q, end, &kl)
			    || kl > (uint64_t)(end - q)) {
				rc = sli_err(
				    SL_ECORRUPT, "touched record is corrupt");
				break;
			}
			const uint8_t *k = q;
			q += kl;
			if (kset_has(&ks, keys, k, kl))
				continue;
			rec r;
			int found;
			rc = read_rec(
			    s, p, k, kl, sli_fasthash(k, kl), &r, &found);
			if (rc || !found || r.txid != txid)
				continue;
			sli_buf key;
			sli_buf_init(&key);
			rc = prefixed(&key, k, kl);
			if (!rc && r.prev.type == SL_NULL)
				rc = sli_kv_batch_del(
				    &p->batch, key.data, key.len);
			else if (!rc) {
				r.curr = r.prev;
				rb.len = 0;
				rc = rec_encode(&rb, &r);
				if (!rc)
					rc = sli_kv_batch_put(&p->batch,
					    key.data, key.len, rb.data,
					    rb.len);
			}
			sli_buf_free(&key);
		}
		free(ks.idx);
	}
	sli_buf_free(&rb);
	if (!rc && record) {
		uint8_t tk[TOUCHED_KEY_LEN];
		if (p->touched_txid && p->touched_txid != txid) {
			/* the record of this partition's previous txid: that
			 * txid committed before this one could be written */
			touched_key(tk, p->touched_txid, pi);
			rc = sli_kv_batch_del(&p->batch, tk, TOUCHED_KEY_LEN);
		}
		touched_key(tk, txid, pi);
		sli_buf tv;
		sli_buf_init(&tv);
		if (!rc)
			rc = sli_buf_put_varint(&tv, txid);
		if (!rc)
			rc = sli_buf_append(
			    &tv, p->newtouched.data, p->newtouched.len);
		if (!rc)
			rc = sli_kv_batch_put(
			    &p->batch, tk, TOUCHED_KEY_LEN, tv.data, tv.len);
		sli_buf_free(&tv);
	}
	sli_trace_begin();
	if (!rc)
		rc = s->kv->ops->write(s->kv, &p->batch, s->o.sync);
#if SLI_TRACING
	if (!rc)
		trace_write(s, pi, txid, &p->batch, n, deltas, keys);
#endif
	sli_trace_end();
	atomic_fetch_add_explicit(&s->c_hits, p->nhit, memory_order_relaxed);
	atomic_fetch_add_explicit(
	    &s->c_misses, p->nmiss, memory_order_relaxed);
	if (!rc)
		atomic_fetch_add_explicit(
		    &s->c_created, created, memory_order_relaxed);
	p->nhit = p->nmiss = 0;
	if (rc) {
		/* nothing of this call may stay in the cache; the records
		 * in memory still describe what is on disk */
		cache_clear(&p->c);
		return rc;
	}
	/* the write is durable: mirror it in the cache */
	const uint8_t *q = p->batch.ops.data, *end = q + p->batch.ops.len;
	while (q < end) {
		uint8_t op = *q++;
		uint64_t kl, vl = 0;
		sli_varint_get(&q, end, &kl);
		const uint8_t *k = q;
		q += kl;
		if (op == 1) {
			sli_varint_get(&q, end, &vl);
			if (kl && k[0] == KEY_PREFIX)
				cache_put(&p->c, k + 1, kl - 1,
				    sli_fasthash(k + 1, kl - 1), q, vl);
			q += vl;
		} else if (kl && k[0] == KEY_PREFIX)
			cache_del(
			    &p->c, k + 1, kl - 1, sli_fasthash(k + 1, kl - 1));
	}
	if (record) {
		sli_buf t = p->touched;
		p->touched = p->newtouched;
		p->newtouched = t;
		p->touched_txid = txid;
	}
	if (fail_after)
		return sli_err(SL_EFAILED,
		    "injected failure after the state write of partition "
		    "%u, txid %llu",
		    pi, (unsigned long long)txid);
	return SL_OK;
}

int sli_state_commit(
    sl_state *s, uint64_t txid, const void *meta, size_t metalen)
{
	if (s->o.read_only)
		return sli_err(SL_EPERM, "state opened read-only");
	uint64_t fc = txid;
	if (s->fail_commit == txid
	    && atomic_compare_exchange_strong(&s->fail_commit, &fc, 0))
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
		    &b, M_COMMIT, sizeof(M_COMMIT) - 1, v.data, v.len);
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
	int rc = get_meta(s, M_COMMIT, sizeof(M_COMMIT) - 1, &b, &found);
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

static int meta_key(sli_buf *k, const char *name, uint64_t txid)
{
	k->len = 0;
	int rc = sli_buf_append(k, "\0txmeta/", 8);
	if (!rc)
		rc = sli_buf_append(k, name, strlen(name) + 1);
	uint8_t be[8];
	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)(txid >> (56 - 8 * i));
	if (!rc)
		rc = sli_buf_append(k, be, 8);
	return rc;
}

int sli_state_put_meta(
    sl_state *s, const char *name, uint64_t txid, const void *p, size_t n)
{
	sli_buf k;
	sli_buf_init(&k);
	sli_kv_batch b;
	sli_kv_batch_init(&b);
	int rc = meta_key(&k, name, txid);
	if (!rc)
		rc = sli_kv_batch_put(&b, k.data, k.len, p, n);
	/* forget metadata of long-committed batches */
	if (!rc && txid > 64) {
		rc = meta_key(&k, name, txid - 64);
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
	int rc = meta_key(&k, name, txid);
	if (!rc)
		rc = s->kv->ops->get(s->kv, k.data, k.len, out, &found);
	sli_buf_free(&k);
	if (!rc && !found)
		rc = SL_ENOTFOUND;
	return rc;
}

void sli_state_fail_commit_once(sl_state *s, uint64_t txid)
{
	s->fail_commit = txid;
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

/* ---- committed reads ---- */
static __thread sli_buf tls_val;

int sl_state_get(sl_state *s, const void *key, size_t klen, sl_value *out)
{
	return sli_state_get_at(s, key, klen, s->committed, out);
}

int sli_state_get_at(sl_state *s, const void *key, size_t klen,
    uint64_t committed, sl_value *out)
{
	sli_buf k, v;
	sli_buf_init(&k);
	sli_buf_init(&v);
	int found = 0;
	int rc = prefixed(&k, key, klen);
	if (!rc)
		rc = s->kv->ops->get(s->kv, k.data, k.len, &v, &found);
	if (!rc && !found)
		rc = SL_ENOTFOUND;
	if (!rc)
		rc = sli_state_decode_value(v.data, v.len, committed, out);
#if SLI_TRACING
	{
		char h[160];
		sli_trace("read %s %s %llu %lld", s->dir ? s->dir : "mem",
		    sli_trace_hex(h, key, klen), (unsigned long long)committed,
		    rc == SL_ENOTFOUND        ? 0LL
		        : out->type == SL_INT ? (long long)out->u.i
		                              : -1LL);
	}
#endif
	if (!rc && out->type == SL_BYTES) {
		tls_val.len = 0;
		rc = sli_buf_append(&tls_val, out->u.p, out->len);
		out->u.p = tls_val.data;
	}
	sli_buf_free(&k);
	sli_buf_free(&v);
	return rc;
}

int sl_state_last_committed(sl_state *s, uint64_t *txid)
{
	*txid = s->committed;
	return SL_OK;
}

typedef struct fe {
	uint64_t committed;
	int (*fn)(void *, const uint8_t *, size_t, const sl_value *);
	void *user;
	uint64_t count;
	int err;
} fe;

static int fe_cb(
    void *u, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	fe *f = u;
	sl_value val;
	int rc = sli_state_decode_value(v, vl, f->committed, &val);
	if (rc == SL_ENOTFOUND)
		return 0;
	if (rc) {
		f->err = rc;
		return 1;
	}
	f->count++;
	return f->fn ? f->fn(f->user, k + 1, kl - 1, &val) : 0;
}

int sl_state_foreach(sl_state *s,
    int (*fn)(void *user, const uint8_t *key, size_t klen, const sl_value *v),
    void *user)
{
	fe f = { s->committed, fn, user, 0, 0 };
	uint8_t pre = KEY_PREFIX;
	int rc = s->kv->ops->scan(s->kv, &pre, 1, fe_cb, &f);
	return f.err ? f.err : rc;
}

int sl_state_stats_get(sl_state *s, sl_state_stats *st)
{
	memset(st, 0, sizeof(*st));
	fe f = { s->committed, NULL, NULL, 0, 0 };
	uint8_t pre = KEY_PREFIX;
	int rc = s->kv->ops->scan(s->kv, &pre, 1, fe_cb, &f);
	if (!rc)
		rc = f.err;
	st->keys = f.count;
	st->last_committed = s->committed;
	st->disk_bytes = s->kv->ops->disk_bytes(s->kv);
	st->semantics = s->o.semantics;
	st->format_version = FORMAT_VERSION;
	sli_buf b;
	sli_buf_init(&b);
	int found = 0;
	int mrc = get_meta(s, M_REPAIRED, sizeof(M_REPAIRED) - 1, &b, &found);
	if (!rc)
		rc = mrc;
	if (!mrc && found) {
		const uint8_t *p = b.data, *end = b.data + b.len;
		st->repaired = 1;
		if (sli_varint_get(&p, end, &st->repaired_txid)
		    || end - p != 8)
			rc = sli_err(SL_ECORRUPT, "repair record is corrupt");
		else
			st->repaired_at = sli_le64_get(p);
	}
	sli_buf_free(&b);
	return rc;
}

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
		    kv, M_COMMIT, sizeof(M_COMMIT) - 1, &b, &found);
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
	if (survey_dir(dir, &current, &other))
		return 0;
	return current || other;
}

int sl_state_counters_get(sl_state *s, sl_state_counters *c)
{
	c->cache_hits = atomic_load_explicit(&s->c_hits, memory_order_relaxed);
	c->cache_misses
	    = atomic_load_explicit(&s->c_misses, memory_order_relaxed);
	c->keys_created
	    = atomic_load_explicit(&s->c_created, memory_order_relaxed);
	c->disk_bytes = s->kv->ops->disk_bytes(s->kv);
	return SL_OK;
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
	/* a running topology holds the lock: repairing under it would move
	 * its live log aside and lose its later commits */
	int fd;
	int rc = lock_dir(dir, 1, 0, &fd);
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
			rc = sli_kv_batch_put(&wb, M_REPAIRED,
			    sizeof(M_REPAIRED) - 1, mark, (size_t)(p - mark));
		if (!rc)
			rc = kv->ops->write(kv, &wb, 1);
		sli_kv_batch_free(&wb);
		if (kv)
			kv->ops->close(kv);
	}
	close(fd);
	return rc;
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

uint32_t sli_state_format_version(void)
{
	return FORMAT_VERSION;
}
