/*
 * apply.c - the update semantics of a state partition's batch write, the
 * in-run rollback of an opaque replay, and the restart pass
 * (docs/state-format.md, "Value records").
 *
 * The rules are those of the protocol's model, shared/models/opaque_check.py
 * (the reference; its copy is tests/model/opaque_check_reference.py), as
 * widened by tests/model/model.py to what this file does. Each is cited
 * where the code applies it, by these names:
 *
 *   opaque_check.py
 *   [read]      read(): curr when the record's txid <= committed, else prev
 *               (record.c, sli_state_decode_value)
 *   [new]       write_partition(), old is None: (txid, none, delta)
 *   [replay]    write_partition(), old[0] == txid: (txid, prev, prev+delta)
 *   [next]      write_partition(), otherwise: (txid, curr, curr+delta)
 *   [rollback]  write_partition(), ROLLBACK: each key of touched[(p, txid)]
 *               that this write leaves out and that still carries txid
 *               gets curr = prev
 *   [record]    write_partition(): touched[(p, txid)] = the keys written,
 *               in the same atomic write as the keys
 *   [restart]   restart(): every key a record of txid committed+1 names
 *               that still carries it gets curr = prev; every record is
 *               dropped (whatever partition wrote it: --remap)
 *   [commit]    explore(): the commit record only after every partition
 *               wrote (state.c, sli_state_commit)
 *   tests/model/model.py
 *   [tx-skip]   apply(), transactional, old[0] == txid: skipped
 *   [older]     apply(), old[0] > txid: skipped
 *   [null-prev] apply(), restart_pass(): a rollback to a null prev deletes
 *   [drop-old]  apply(): the partition's records of other txids go
 *   [tx-forget] restart_pass(), transactional: the rolled-back key's txid
 *               becomes 0, so that the replay applies it again
 *   [uncommit]  explore_states(), uncommit: a state one commit ahead of
 *               the topology gives that commit back at the restart
 * Semantics none is outside the models: every apply folds in (replays
 * count again, by design).
 */
#include "state_impl.h"
#include "core/fault.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads key k's record of partition p (cache first) into *r; the record's
 * bytes stay valid until p->rec is next used. *found = 0 when absent. */
static int read_rec(sl_state *s, sli_spart *p, const uint8_t *k, size_t kl,
    uint64_t h, sli_rec *r, int *found)
{
	size_t vl;
	const uint8_t *v = sli_cache_get(&p->c, k, kl, h, &vl);
	if (v) {
		p->nhit++;
		*found = 1;
		return sli_rec_decode(v, vl, r);
	}
	p->nmiss++;
	int rc = sli_rec_key(&p->key, k, kl);
	if (!rc)
		rc = s->kv->ops->get(
		    s->kv, p->key.data, p->key.len, &p->rec, found);
	if (rc || !*found)
		return rc;
	return sli_rec_decode(p->rec.data, p->rec.len, r);
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

/* The new record r of a key (found: it had one) for an update with delta
 * in batch txid under semantics sem; *skip when the key keeps its record. */
static int update_rec(sl_semantics sem, const sl_combiner *comb, sli_rec *r,
    int found, uint64_t txid, const sl_value *delta, int *skip)
{
	*skip = 0;
	if (!found) { /* [new]: no prev; curr folds delta into zero */
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
		case SL_SEM_TRANSACTIONAL: /* [tx-skip] */
			*skip = 1;
			return SL_OK;
		case SL_SEM_OPAQUE:
			/* [replay], perhaps with other tuples: from prev */
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
		/* [older]: an older txid than stored: already folded in */
		*skip = 1;
		return SL_OK;
	}
	/* [next] (and [new]): prev = curr, curr = curr + delta */
	rc = comb->combine(comb->user, &base_curr, delta, &out);
	if (rc)
		return rc;
	r->prev = r->curr;
	r->curr = out;
	r->txid = txid;
	return SL_OK;
}

/* Adds to batch b the rollback of the stored key key (full store key) of
 * record r: curr = prev, deleted when prev is null [null-prev]. rb:
 * scratch. */
static int put_rollback(
    sli_kv_batch *b, const sli_buf *key, sli_rec *r, sli_buf *rb)
{
	if (r->prev.type == SL_NULL)
		return sli_kv_batch_del(b, key->data, key->len);
	r->curr = r->prev;
	rb->len = 0;
	int rc = sli_rec_encode(rb, r);
	return rc
	    ? rc
	    : sli_kv_batch_put(b, key->data, key->len, rb->data, rb->len);
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

/* One record the write put (v) or deleted (v NULL), for the trace. */
static int trace_op(
    void *u, int op, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	sli_buf *b = u;
	char h[160];
	(void)op;
	if (!kl || k[0] != SLI_KEY_PREFIX)
		return 0;
	sli_trace_hex(h, k + 1, kl - 1);
	sli_rec r;
	if (v && sli_rec_decode(v, vl, &r) == SL_OK) {
		char t[200]; /* room for h: a long key is never cut */
		snprintf(t, sizeof(t), " r:%s:%llu:", h,
		    (unsigned long long)r.txid);
		sli_buf_append(b, t, strlen(t));
		trace_val(b, &r.prev);
		sli_buf_append(b, ":", 1);
		trace_val(b, &r.curr);
	} else {
		sli_buf_append(b, " x:", 3);
		sli_buf_append(b, h, strlen(h));
	}
	return 0;
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
	sli_kv_batch_foreach(batch, trace_op, &b);
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
	sli_buf dels; /* key list: the records' own keys */
	sli_buf keys; /* key lists of the records of undo: user keys */
	int err;
} rscan;

static int rscan_cb(
    void *u, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	rscan *r = u;
	if (kl != SLI_TOUCHED_KEY_LEN && kl != SLI_TOUCHED_KEY_V1_LEN)
		return 0;
	uint64_t txid;
	const uint8_t *list;
	int rc = sli_touched_txid(v, vl, &txid, &list);
	if (!rc)
		rc = sli_buf_put_varint(&r->dels, kl);
	if (!rc)
		rc = sli_buf_append(&r->dels, k, kl);
	if (!rc && txid == r->undo)
		rc = sli_buf_append(&r->keys, list, (size_t)(v + vl - list));
	if (rc) {
		r->err = rc;
		return 1;
	}
	return 0;
}

/* [restart]: adds to b, for every key the records of r->undo name that
 * still carries undo, curr = prev ([null-prev]; [tx-forget]); *nroll: how
 * many. */
static int restart_rollback(
    sl_state *s, const rscan *r, sli_kv_batch *b, uint64_t *nroll)
{
	sli_buf key, val, rb;
	sli_buf_init(&key);
	sli_buf_init(&val);
	sli_buf_init(&rb);
	int rc = SL_OK;
	const uint8_t *q = r->keys.data, *end = q + r->keys.len;
	while (!rc && q < end) {
		const uint8_t *k;
		size_t kl;
		if ((rc = sli_keylist_next(&q, end, &k, &kl)))
			break;
		int found;
		rc = sli_rec_key(&key, k, kl);
		if (!rc)
			rc = s->kv->ops->get(
			    s->kv, key.data, key.len, &val, &found);
		sli_rec rr;
		if (rc || !found)
			continue;
		if ((rc = sli_rec_decode(val.data, val.len, &rr)))
			break;
		if (rr.txid != r->undo)
			continue;
		(*nroll)++;
		if (s->o.semantics != SL_SEM_OPAQUE)
			rr.txid = 0; /* [tx-forget] */
		rc = put_rollback(b, &key, &rr, &rb);
	}
	sli_buf_free(&key);
	sli_buf_free(&val);
	sli_buf_free(&rb);
	return rc;
}

/* Before anything runs: for every key that a record of txid undo (the
 * first uncommitted txid, or the last committed one when another state of
 * the topology is one commit behind: [uncommit]) names and that still
 * carries undo, curr = prev [restart]; every record is dropped; when
 * undoing a commit, the commit record goes back to target with meta. One
 * atomic write. The partition count of the runs that wrote the records
 * does not matter (opaque_check.py --remap). */
int sli_state_recover_locked(
    sl_state *s, uint64_t target, const void *meta, size_t ml)
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
	sli_kv_batch b;
	sli_kv_batch_init(&b);
	int rc = s->kv->ops->scan(
	    s->kv, SLI_M_TOUCHED, SLI_TOUCHED_PREFIX_LEN, rscan_cb, &r);
	if (!rc)
		rc = r.err;
	uint64_t nroll = 0;
	if (!rc)
		rc = restart_rollback(s, &r, &b, &nroll);
	/* [restart]: every record is dropped */
	const uint8_t *q = r.dels.data, *end = q + r.dels.len;
	while (!rc && q < end) {
		const uint8_t *k;
		size_t kl;
		rc = sli_keylist_next(&q, end, &k, &kl);
		if (!rc)
			rc = sli_kv_batch_del(&b, k, kl);
	}
	if (!rc && target + 1 == committed) { /* [uncommit] */
		sli_buf v;
		sli_buf_init(&v);
		rc = sli_buf_put_varint(&v, target);
		if (!rc)
			rc = sli_buf_append(&v, meta, ml);
		if (!rc)
			rc = sli_kv_batch_put(&b, SLI_M_COMMIT,
			    SLI_M_LEN(SLI_M_COMMIT), v.data, v.len);
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
	return rc;
}

int sli_state_recover(
    sl_state *s, uint64_t target, const void *meta, size_t metalen)
{
	if (s->o.read_only)
		return SL_OK;
	pthread_mutex_lock(&s->recover_lock);
	int rc = sli_state_recover_locked(s, target, meta, metalen);
	pthread_mutex_unlock(&s->recover_lock);
	return rc;
}

/* ---- one partition's write of a batch ---- */

/* The shim of sli_state_fail_once (below): claims the failure armed for
 * (pi, txid); *after_write tells when. */
static int shim_failure(
    sl_state *s, uint32_t pi, uint64_t txid, int *after_write)
{
	int now = 0;
	if (!s->fail_set)
		return 0;
	pthread_mutex_lock(&s->fail_lock);
	if (s->fail_set && (s->fail_part == pi || s->fail_part == UINT32_MAX)
	    && s->fail_txid == txid) {
		s->fail_set = 0;
		now = 1;
		*after_write = s->fail_after;
	}
	pthread_mutex_unlock(&s->fail_lock);
	return now;
}

/* Injected failures (core/fault.h): SLI_FAULT_STATE_BEFORE_WRITE fails
 * the apply of (pi, txid) before anything is written; *after = 1 when
 * SLI_FAULT_STATE_AFTER_WRITE will fail it once its write is durable. */
static int injected_failure(
    sl_state *s, uint32_t pi, uint64_t txid, int *after)
{
	int shim_after = 0, shim = shim_failure(s, pi, txid, &shim_after);
	*after = 0;
	if ((shim && !shim_after)
	    || sli_fault(SLI_FAULT_STATE_BEFORE_WRITE, s, txid, pi + 1))
		return sli_err(SL_EFAILED,
		    "injected failure before the state write of partition %u, "
		    "txid %llu",
		    pi, (unsigned long long)txid);
	*after
	    = shim || sli_fault(SLI_FAULT_STATE_AFTER_WRITE, s, txid, pi + 1);
	return SL_OK;
}

/* Readies partition p for a call with n keys: a stale partition forgets
 * its cache and record, the scratch is emptied, the keys are hashed and
 * their entries prefetched. */
static int apply_begin(
    sl_state *s, sli_spart *p, size_t n, const sl_value *keys)
{
	if (atomic_exchange(&p->stale, 0)) {
		sli_cache_clear(&p->c);
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
		sli_cache_prefetch(&p->c, n, p->hs);
	else if (s->kv->ops->prefetch)
		s->kv->ops->prefetch(s->kv, SLI_KEY_PREFIX, n, keys);
	return SL_OK;
}

/* [new] [replay] [next] [tx-skip] [older] for each key: the new records go
 * into p->arena (p->offs[i], SIZE_MAX when skipped), then into p->batch;
 * the keys into p->newtouched when record. *created: keys new to the
 * state. */
static int apply_updates(sl_state *s, sli_spart *p, uint64_t txid, size_t n,
    const sl_value *keys, const sl_value *deltas, const sl_combiner *comb,
    int record, uint64_t *created)
{
	int rc = SL_OK;
	for (size_t i = 0; i < n && !rc; i++) {
		if (keys[i].type != SL_BYTES) {
			rc = sli_err(SL_EINVAL, "state keys must be bytes");
			break;
		}
		const uint8_t *k = keys[i].u.p;
		size_t kl = keys[i].len;
		sli_rec r;
		int found, skip;
		rc = read_rec(s, p, k, kl, p->hs[i], &r, &found);
		*created += !rc && !found;
		if (!rc)
			rc = update_rec(s->o.semantics, comb, &r, found, txid,
			    &deltas[i], &skip);
		p->offs[i] = SIZE_MAX;
		if (!rc && !skip) {
			p->offs[i] = p->arena.len;
			rc = sli_rec_encode(&p->arena, &r);
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
		rc = sli_rec_key(&p->key, keys[i].u.p, keys[i].len);
		if (!rc)
			rc = sli_kv_batch_put(&p->batch, p->key.data,
			    p->key.len, p->arena.data + p->offs[i],
			    end - p->offs[i]);
	}
	return rc;
}

/* [rollback]: keys an earlier attempt of txid wrote (p->touched) that this
 * replay does not touch get their value from before txid back. */
static int apply_rollback(
    sl_state *s, sli_spart *p, uint64_t txid, size_t n, const sl_value *keys)
{
	kset ks = { NULL, 0 };
	sli_buf key, rb;
	sli_buf_init(&key);
	sli_buf_init(&rb);
	int rc = kset_build(&ks, n, keys);
	const uint8_t *q = p->touched.data,
	              *end = p->touched.data + p->touched.len;
	while (!rc && q < end) {
		const uint8_t *k;
		size_t kl;
		if ((rc = sli_keylist_next(&q, end, &k, &kl)))
			break;
		if (kset_has(&ks, keys, k, kl))
			continue;
		sli_rec r;
		int found;
		rc = read_rec(s, p, k, kl, sli_fasthash(k, kl), &r, &found);
		if (rc || !found || r.txid != txid)
			continue;
		rc = sli_rec_key(&key, k, kl);
		if (!rc) /* [null-prev] */
			rc = put_rollback(&p->batch, &key, &r, &rb);
	}
	free(ks.idx);
	sli_buf_free(&key);
	sli_buf_free(&rb);
	return rc;
}

/* [record] of partition pi for txid, and [drop-old]: its record of the
 * previous txid, which committed before this one could be written. */
static int apply_record(sli_spart *p, uint32_t pi, uint64_t txid)
{
	uint8_t tk[SLI_TOUCHED_KEY_LEN];
	int rc = SL_OK;
	if (p->touched_txid && p->touched_txid != txid) {
		sli_touched_key(tk, p->touched_txid, pi);
		rc = sli_kv_batch_del(&p->batch, tk, SLI_TOUCHED_KEY_LEN);
	}
	sli_touched_key(tk, txid, pi);
	sli_buf tv;
	sli_buf_init(&tv);
	if (!rc)
		rc = sli_buf_put_varint(&tv, txid);
	if (!rc)
		rc = sli_buf_append(
		    &tv, p->newtouched.data, p->newtouched.len);
	if (!rc)
		rc = sli_kv_batch_put(
		    &p->batch, tk, SLI_TOUCHED_KEY_LEN, tv.data, tv.len);
	sli_buf_free(&tv);
	return rc;
}

/* A record of the durable write, mirrored in the partition's cache.
 * inline: called from the batch reader's loop (kv.h), once per record. */
static inline int mirror_op(
    void *u, int op, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	sli_cache *c = u;
	if (!kl || k[0] != SLI_KEY_PREFIX)
		return 0;
	uint64_t h = sli_fasthash(k + 1, kl - 1);
	if (op == SLI_KV_PUT)
		sli_cache_put(c, k + 1, kl - 1, h, v, vl);
	else
		sli_cache_del(c, k + 1, kl - 1, h);
	return 0;
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
	sli_spart *p = &s->parts[pi];
	int fail_after;
	int rc = injected_failure(s, pi, txid, &fail_after);
	if (rc)
		return rc;
	if (!s->recovered) {
		/* a direct caller (tests, tools) that did not run the restart
		 * pass: run it now, against this state's own commit record */
		pthread_mutex_lock(&s->recover_lock);
		if (!s->recovered)
			rc = sli_state_recover_locked(
			    s, s->committed, NULL, 0);
		pthread_mutex_unlock(&s->recover_lock);
		if (rc)
			return rc;
	}
	if ((rc = apply_begin(s, p, n, keys)))
		return rc;
	/* transactional state records its keys too: a restart that finds
	 * another state of the topology one commit behind takes this one's
	 * last commit back ([uncommit]) */
	int record = s->o.semantics != SL_SEM_NONE;
	uint64_t created = 0;
	rc = apply_updates(
	    s, p, txid, n, keys, deltas, comb, record, &created);
	if (!rc && s->o.semantics == SL_SEM_OPAQUE && p->touched_txid == txid
	    && p->touched.len)
		rc = apply_rollback(s, p, txid, n, keys);
	if (!rc && record)
		rc = apply_record(p, pi, txid);
	/* one atomic write: the keys, the rollback, the record */
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
		sli_cache_clear(&p->c);
		return rc;
	}
	/* the write is durable: mirror it in the cache (a cache of no
	 * entries, the memory back-end's, has nothing to mirror: skip the
	 * pass and its hashing) */
	if (p->c.max)
		sli_kv_batch_foreach(&p->batch, mirror_op, &p->c);
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
