/*
 * coord.c - the batch coordinator: txids, attempts, max_pending, replays,
 * and commits in txid order. It runs on the thread that called
 * sl_topology_run (run.c); in cluster mode it becomes the leader's job.
 *
 * Its interface to the tasks is messages only: control frames
 * (transport/frame.h, kind SLI_FRAME_CTRL; the op in the header's stream
 * field, the batch in txid and attempt, the sender's gid in
 * source_task; sealed with the cluster key when there is one). It never
 * reads or writes a task's memory; it knows the plan (stages, their task
 * counts and first gids, which stages are persistent_aggregates: plan.c)
 * and the states whose commit records it writes.
 *
 *   coordinator -> a task's inbox (to[gid])
 *     EMIT(T, a)      spout task (gid 0): emit batch T, attempt a
 *     WRITE(T, a)     each persistent_aggregate task: write T to the
 *                     state partition (one atomic write each)
 *     STOP            every task, at the end of the run
 *   task -> the coordinator's inbox
 *     DONE(T, a)      the task finished T. From the spout task the body is
 *                     u8 eof, u64 LE tuples, the spout's meta (bytes).
 *     WRITTEN(T, a)   the partition holds T's writes
 *     FAIL(T, a)      body: u32 LE -code, the top bit set when no replay
 *                     can heal the failure; then the message text
 * Frames of an older attempt are ignored on both sides.
 * One call crosses the line: the coordinator asks the spout's has_more
 * itself before it starts a txid (the spout instance answers from any
 * thread); in cluster mode that answer would ride on the spout task's
 * DONE. The tasks' threads are started, stopped and given the resume
 * meta by run.c, not here.
 *
 * Protocol of one batch T (attempt a): EMIT to the spout task; every
 * task, once it has all of T (end-of-batch markers from every upstream
 * task with matching counts), finishes its aggregations, forwards T
 * downstream with its own markers and reports DONE; when all tasks
 * reported DONE and T-1 committed, WRITE goes to the persistent_aggregate
 * tasks; after every WRITTEN the coordinator writes the commit record of
 * each state. Any failure or timeout re-emits T with attempt a+1, and
 * every later batch in flight too.
 */
#include "trident_impl.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- messages */

/* Sends one control message, waiting at most 10 s for room on the link,
 * in slices: a topology shutting down (or, for the coordinator's
 * messages, stopping) gives up at once (SL_ECLOSED), so that a stop never
 * waits behind a full queue. */
int sli_ctrl_send(sl_topology *t, int coord, sli_link *l, int op,
    uint64_t txid, uint32_t attempt, uint32_t from, const void *body,
    size_t blen)
{
	const uint8_t *key = t->keyp;
	sli_frame_writer w;
	sli_frame_writer_init(&w);
	sli_frame_header h
	    = { SLI_FRAME_CTRL, 0, (uint32_t)op, txid, attempt, from, 0, 0 };
	int rc = sli_frame_writer_begin(&w, &h);
	if (!rc && blen)
		rc = sli_buf_append(&w.buf, body, blen);
	const uint8_t *d;
	size_t n;
	if (!rc)
		rc = sli_frame_writer_finish(&w, key, &d, &n);
	for (int waited = 0; !rc;) {
		rc = sli_link_send(l, d, n, 100);
		if (rc != SL_ETIMEDOUT)
			break;
		if (t->shutdown || (coord && t->stop))
			rc = sli_err(SL_ECLOSED, "stopping");
		else if ((waited += 100) < 10000)
			rc = SL_OK;
	}
	sli_frame_writer_free(&w);
	return rc;
}

void sli_ctrl_done_body(
    sli_buf *body, int eof, uint64_t tuples, const sli_buf *meta)
{
	sli_buf_put_u8(body, (uint8_t)eof);
	sli_buf_put_u64(body, tuples);
	sli_buf_append(body, meta->data, meta->len);
}

void sli_ctrl_fail_body(sli_buf *body, int rc, int fatal, const char *msg)
{
	sli_buf_put_u32(body, (uint32_t)-rc | (fatal ? 0x80000000u : 0));
	sli_buf_append(body, msg, strlen(msg));
}

/* ---------------------------------------------------------- batches */

/* One batch in flight. */
typedef struct inflight {
	uint64_t txid;
	uint32_t attempt;
	int phase; /* 0 emitted, 1 writing */
	uint32_t done;
	uint32_t written;
	uint64_t emit_ns, first_emit_ns, write_ns;
	int eof, spout_done;
	int failing; /* this attempt replays its own failure */
	uint64_t tuples;
	sli_buf meta;
} inflight;

/* The coordinator of one run. */
typedef struct coord {
	sl_topology *t;
	sli_link *in;
	sli_link **to; /* per task gid */
	inflight *f;
	size_t nf;
	uint64_t next, committed;
	int eof;
	uint64_t eof_txid;
	int err;
	uint64_t commits_this_run; /* fault point term_after_commits */
	int abandon; /* stopping: batches in flight are given up */
} coord;

static inflight *find_inflight(coord *c, uint64_t txid)
{
	for (size_t i = 0; i < c->nf; i++)
		if (c->f[i].txid == txid)
			return &c->f[i];
	return NULL;
}

static int emit(coord *c, inflight *f)
{
	sl_topology *t = c->t;
	f->phase = 0;
	f->done = 0;
	f->spout_done = 0;
	f->written = 0;
	f->emit_ns = sli_now_ns();
	return sli_ctrl_send(c->t, 1, c->to[t->stages[0].gid0], OP_EMIT,
	    f->txid, f->attempt, 0, NULL, 0);
}

/* Replays txid (reason: an sl_replay_reason) and every batch in flight
 * behind it (SL_REPLAY_BEHIND). */
static int replay_from(coord *c, uint64_t txid, int reason, const char *why)
{
	sl_topology *t = c->t;
	if (t->stop) {
		/* asked to stop: a failed batch is not tried again; what
		 * committed stays, the rest replays at the next run. The run
		 * says it stopped on a failing batch (SL_EFAILED) */
		c->abandon = 1;
		uint32_t attempt = 0;
		for (size_t i = 0; i < c->nf; i++)
			if (c->f[i].txid == txid)
				attempt = c->f[i].attempt;
		snprintf(t->errmsg, sizeof(t->errmsg),
		    "stopped while txid %" PRIu64 " was failing (attempt %u: "
		    "%s); the committed state is intact and it replays at the "
		    "next run",
		    txid, attempt, why);
		return SL_OK;
	}
	for (size_t i = 0; i < c->nf; i++) {
		inflight *f = &c->f[i];
		if (f->txid < txid)
			continue;
		f->attempt++;
		if (t->o.max_attempts && f->attempt > t->o.max_attempts) {
			snprintf(t->errmsg, sizeof(t->errmsg),
			    "txid %" PRIu64 " failed %u times; stopping. "
			    "Last failure: %s",
			    f->txid, f->attempt - 1, why);
			return SL_ELIMIT;
		}
		pthread_mutex_lock(&t->stats_lock);
		t->replays++;
		pthread_mutex_unlock(&t->stats_lock);
		f->failing = f->txid == txid;
		sli_live_replay(
		    t, f->txid == txid ? reason : SL_REPLAY_BEHIND, why);
		if (f->eof && c->eof_txid == f->txid) {
			c->eof = 0; /* the replay may read more */
			c->eof_txid = 0;
		}
		int rc = emit(c, f);
		if (rc)
			return rc;
	}
	return SL_OK;
}

static void record_latency(sl_topology *t, double commit_ms, double batch_ms)
{
	pthread_mutex_lock(&t->stats_lock);
	sli_latency_add(&t->lat_commit, commit_ms);
	sli_latency_add(&t->lat_batch, batch_ms);
	pthread_mutex_unlock(&t->stats_lock);
}

static int commit_head(coord *c)
{
	sl_topology *t = c->t;
	inflight *f = &c->f[0];
	/* crash tests: die by SIGKILL between the state writes and the
	 * commit record of one txid (the worst moment for the protocol) */
	if (sli_fault(SLI_FAULT_KILL_BEFORE_COMMIT, t, f->txid, 0))
		raise(SIGKILL);
	if (sli_fault(SLI_FAULT_COMMIT, t, f->txid, f->attempt))
		return replay_from(c, f->txid, SL_REPLAY_COMMIT,
		    "injected failure writing the commit record");
	uint64_t t0 = sli_now_ns();
	for (size_t i = 0; i < t->nstates; i++) {
		uint64_t have;
		sl_state_last_committed(t->states[i], &have);
		if (have >= f->txid)
			continue;
		/* crash tests: die between the commit records of two states */
		if (i
		    && sli_fault(
		        SLI_FAULT_KILL_BETWEEN_COMMITS, t, f->txid, 0))
			raise(SIGKILL);
		int rc = sli_state_commit(
		    t->states[i], f->txid, f->meta.data, f->meta.len);
		if (rc) {
			char why[600];
			snprintf(why, sizeof(why), "commit record: %s",
			    sl_errdetail());
			/* the states before this one committed f->txid: take
			 * that back (their writes too), so that a replay that
			 * reads another range counts in every state alike */
			sli_buf pm;
			sli_buf_init(&pm);
			uint64_t prev;
			int rc2
			    = sli_state_committed(t->states[i], &prev, &pm);
			for (size_t j = 0; !rc2 && j < i; j++)
				rc2 = sli_state_recover(
				    t->states[j], prev, pm.data, pm.len);
			sli_buf_free(&pm);
			if (rc2 || rc == SL_ENOSPC || rc == SL_EIO
			    || rc == SL_EPERM) {
				snprintf(t->errmsg, sizeof(t->errmsg),
				    "txid %" PRIu64 " not committed: %s",
				    f->txid, sl_errdetail());
				return rc2 ? rc2 : rc;
			}
			return replay_from(c, f->txid, SL_REPLAY_COMMIT, why);
		}
	}
	uint64_t now = sli_now_ns();
	double commit_ms
	    = (double)(now - (f->write_ns ? f->write_ns : t0)) / 1e6;
	double batch_ms = (double)(now - f->first_emit_ns) / 1e6;
	record_latency(t, commit_ms, batch_ms);
	sli_live_latency(t, commit_ms, batch_ms);
	pthread_mutex_lock(&t->stats_lock);
	t->batches_committed++;
	t->tuples += f->tuples;
	if (!f->tuples)
		t->empty_batches++;
	t->last_committed = f->txid;
	pthread_mutex_unlock(&t->stats_lock);
	c->committed = f->txid;
	/* crash tests: SIGTERM this process right after this run's n-th
	 * commit (the signal handler's stop then meets batches in flight) */
	c->commits_this_run++;
	if (sli_fault(SLI_FAULT_TERM_AFTER_COMMITS, t, c->commits_this_run, 0))
		raise(SIGTERM);
	if (f->eof) {
		c->eof = 1;
		c->eof_txid = f->txid;
	}
	uint64_t txid = f->txid;
	sli_buf_free(&f->meta);
	memmove(&c->f[0], &c->f[1], (c->nf - 1) * sizeof(inflight));
	c->nf--;
	if (t->o.on_commit)
		t->o.on_commit(t->o.user, txid);
	return SL_OK;
}

/* Moves the oldest batch on when it can: all tasks done -> write state
 * partitions -> commit record. */
static int advance(coord *c)
{
	sl_topology *t = c->t;
	while (c->nf) {
		inflight *f = &c->f[0];
		if (f->phase == 0 && f->done == t->ntasks) {
			f->phase = 1;
			f->write_ns = sli_now_ns();
			f->written = 0;
			for (size_t s = 0; s < t->nstages; s++) {
				if (t->stages[s].entry->kind != N_PERSIST)
					continue;
				for (uint32_t i = 0; i < t->stages[s].ntasks;
				     i++) {
					int rc = sli_ctrl_send(c->t, 1,
					    c->to[t->stages[s].gid0 + i],
					    OP_WRITE, f->txid, f->attempt, 0,
					    NULL, 0);
					if (rc)
						return rc;
				}
			}
		}
		if (f->phase == 1 && f->written == t->npersist_tasks) {
			int rc = commit_head(c);
			if (rc)
				return rc;
			continue;
		}
		break;
	}
	return SL_OK;
}

static int handle_msg(coord *c, sli_frame_reader *r)
{
	sl_topology *t = c->t;
	inflight *f = find_inflight(c, r->h.txid);
	if (!f || f->attempt != r->h.attempt)
		return SL_OK; /* an older attempt */
	uint32_t op = r->h.stream;
	const uint8_t *p = r->p;
	size_t blen = (size_t)(r->end - r->p);
	if (op == OP_DONE) {
		if (f->phase != 0)
			return SL_OK;
		f->done++;
		if (r->h.source_task == 0)
			f->spout_done = 1;
		if (r->h.source_task == 0 && blen >= 9) {
			f->eof = p[0];
			f->tuples = sli_le64_get(p + 1);
			f->meta.len = 0;
			sli_buf_append(&f->meta, p + 9, blen - 9);
			if (f->eof) {
				c->eof = 1;
				if (!c->eof_txid || f->txid < c->eof_txid)
					c->eof_txid = f->txid;
			}
		}
	} else if (op == OP_WRITTEN) {
		if (f->phase == 1)
			f->written++;
	} else if (op == OP_FAIL) {
		char why[600] = "";
		int code = SL_EFAILED, fatal = 0;
		if (blen >= 4) {
			snprintf(why, sizeof(why), "%.*s", (int)(blen - 4),
			    (const char *)p + 4);
			uint32_t raw = sli_le32_get(p);
			fatal = (raw & 0x80000000u) != 0;
			code = -(int)(raw & 0x7fffffffu);
		}
		if (fatal) {
			snprintf(t->errmsg, sizeof(t->errmsg),
			    "txid %" PRIu64 " failed (a replay would fail "
			    "the same way; the committed state is intact): "
			    "%s",
			    f->txid, why);
			return code;
		}
		/* a full disk, a read-only or broken store does not heal by
		 * replaying: stop with the committed state intact */
		/* neither does a spout error other than a failed attempt
		 * (a file that changed, a pipe that cannot replay) */
		int spout_permanent = r->h.source_task == 0
		    && code != SL_EFAILED && code != SL_ETIMEDOUT
		    && code != SL_EAGAIN && code != SL_ENOMEM
		    && code != SL_EFULL;
		if (code == SL_ENOSPC || code == SL_EIO || code == SL_EPERM
		    || code == SL_ECORRUPT || spout_permanent) {
			snprintf(t->errmsg, sizeof(t->errmsg),
			    "txid %" PRIu64 " not committed (the committed "
			    "state is intact): %s",
			    f->txid, why);
			return code;
		}
		return replay_from(c, f->txid, SL_REPLAY_FAILED, why);
	}
	(void)t;
	return advance(c);
}

static int spout_has_more(sl_topology *t)
{
	const sl_spout_ops *ops = t->spout->spout;
	return ops->has_more ? ops->has_more(t->spout->spout_self) : 1;
}

/* A stop ended the run with batches in flight: SL_OK, or SL_EFAILED
 * when the head was being replayed after its own failure. */
static int stopped(coord *c)
{
	sl_topology *t = c->t;
	if (!c->nf || !c->f[0].failing)
		return SL_OK;
	char last[160];
	pthread_mutex_lock(&t->stats_lock);
	snprintf(last, sizeof(last), "%s", t->last_replay);
	pthread_mutex_unlock(&t->stats_lock);
	snprintf(t->errmsg, sizeof(t->errmsg),
	    "stopped while txid %" PRIu64 " was being replayed (attempt %u; "
	    "last failure: %s); the committed state is intact and it "
	    "replays at the next run",
	    c->f[0].txid, c->f[0].attempt, last);
	return SL_EFAILED;
}

/* How long a stop waits for the batches in flight to commit; after that
 * they are abandoned (they replay at the next run, exactly). */
#define STOP_GRACE_MS 1500

static int coordinate(coord *c)
{
	sl_topology *t = c->t;
	uint64_t stop_ns = 0;
	for (;;) {
		int rc;
		if (t->stop && !stop_ns)
			stop_ns = sli_now_ns();
		if (stop_ns
		    && sli_now_ns() - stop_ns > STOP_GRACE_MS * 1000000ull)
			return stopped(c);
		/* start a new txid once the spout finished the previous one,
		 * so that has_more and the end of the input are known */
		while (!t->stop && !c->eof && c->nf < t->o.max_pending
		    && (!c->nf || c->f[c->nf - 1].spout_done)
		    && spout_has_more(t)) {
			inflight *f = &c->f[c->nf++];
			memset(f, 0, sizeof(*f));
			sli_buf_init(&f->meta);
			f->txid = c->next++;
			f->attempt = 1;
			f->first_emit_ns = sli_now_ns();
			if ((rc = emit(c, f)))
				return t->stop && rc == SL_ECLOSED ? SL_OK
				                                   : rc;
		}
		t->in_flight = (uint32_t)c->nf;
		if (!c->nf && (t->stop || c->eof || !spout_has_more(t)))
			return SL_OK;
		if (c->abandon)
			return SL_EFAILED; /* errmsg set by replay_from */
		sli_msg m;
		rc = sli_link_recv(c->in, &m, 20);
		if (rc == SL_OK) {
			sli_frame_reader r;
			if (sli_frame_decode(&r, m.data, m.len, t->keyp)
			        == SL_OK
			    && r.h.kind == SLI_FRAME_CTRL)
				rc = handle_msg(c, &r);
			sli_msg_free(&m);
			if (rc)
				return t->stop && rc == SL_ECLOSED ? SL_OK
				                                   : rc;
		} else if (rc != SL_ETIMEDOUT && rc != SL_EAGAIN)
			return rc;
		/* timeouts */
		uint64_t now = sli_now_ns();
		for (size_t i = 0; i < c->nf; i++) {
			inflight *f = &c->f[i];
			if (t->o.batch_timeout_ms > 0
			    && now - f->emit_ns
			        > (uint64_t)t->o.batch_timeout_ms * 1000000u) {
				char why[128];
				snprintf(why, sizeof(why),
				    "batch timed out after %d ms",
				    t->o.batch_timeout_ms);
				if ((rc = replay_from(
				         c, f->txid, SL_REPLAY_TIMEOUT, why)))
					return rc;
				break;
			}
		}
	}
}

int sli_coord_run(
    sl_topology *t, sli_link *in, sli_link **to, uint64_t committed)
{
	coord c;
	memset(&c, 0, sizeof(c));
	c.t = t;
	c.in = in;
	c.to = to;
	c.committed = committed;
	c.next = committed + 1;
	c.f = calloc(t->o.max_pending + 1, sizeof(inflight));
	if (!c.f)
		return SL_ENOMEM;
	int rc = coordinate(&c);
	for (size_t i = 0; i < c.nf; i++)
		sli_buf_free(&c.f[i].meta);
	free(c.f);
	return rc;
}
