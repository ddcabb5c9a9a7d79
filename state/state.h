/*
 * state.h - what trident/ uses of state/: partitioned batch updates with
 * the three semantics (design.md "State"), the commit record and per-txid
 * spout metadata. Only state/ includes LevelDB.
 *
 * Protocol for batch T (the coordinator guarantees the order):
 *   1. spouts may sli_state_put_meta(name, T, ...) before emitting T;
 *   2. after T-1 committed, each state partition p calls
 *      sli_state_apply(p, T, ...) once per attempt that reaches it: ONE
 *      atomic write (WriteBatch, sync per options) holding the key updates
 *      and the partition's record of the keys it wrote for T;
 *   3. then the coordinator calls sli_state_commit(T, meta): one atomic
 *      write of the commit record (last committed txid + spout meta).
 * A crash between any two writes is harmless: on restart the batch T is
 * replayed and apply's rules make the result exact.
 */
#ifndef SLI_STATE_H
#define SLI_STATE_H

#include "core/core.h"
#include "sluice/state.h"

/* Number of state partitions (default 1). Set before the first apply; it
 * may change between runs: the records of touched keys belong to a txid
 * and the restart pass (sli_state_recover) reads them all. */
int sli_state_set_partitions(sl_state *s, uint32_t nparts);

/* Writes batch txid for partition part: for each i, key keys[i] (bytes,
 * distinct within the call) folds deltas[i] with comb under the state's
 * semantics:
 *   none:          val = comb(val, delta)
 *   transactional: if stored txid == txid skip, else val = comb(val,delta)
 *   opaque:        if stored txid == txid curr = comb(prev, delta)
 *                  else prev = curr, curr = comb(curr, delta)
 *                  and keys this partition wrote in an earlier attempt of
 *                  txid that this call does not touch get curr = prev.
 * One atomic write. Thread-safe for distinct partitions. n may be 0 (an
 * empty batch still records that the partition wrote txid). */
int sli_state_apply(sl_state *s, uint32_t part, uint64_t txid, size_t n,
    const sl_value *keys, const sl_value *deltas, const sl_combiner *comb);

/* The restart pass, before anything runs (a topology calls it for each
 * of its states with the lowest committed txid among them, and the meta
 * of that commit): for every key that a record of txid target+1 names and
 * that still carries target+1, curr = prev; every record of touched keys
 * is dropped, whatever partition count wrote it. When this state already
 * committed target+1 (a crash between the commit records of two states),
 * that commit is taken back too and the commit record becomes (target,
 * meta). SL_ESTALE when the state is further apart. Read-only: nothing.
 * sli_state_apply runs it with the state's own commit when it was not
 * run since the last sli_state_set_partitions. */
int sli_state_recover(
    sl_state *s, uint64_t target, const void *meta, size_t metalen);

/* Durably records that txid committed, with meta (opaque bytes of the
 * spouts, e.g. file offsets). Must be txid == last committed + 1. */
int sli_state_commit(
    sl_state *s, uint64_t txid, const void *meta, size_t metalen);
/* Last committed txid and its meta (meta may be NULL). */
int sli_state_committed(sl_state *s, uint64_t *txid, sli_buf *meta);

/* The writer of a state: the topology whose spout meta the commit record
 * and the txmeta records hold (docs/state-format.md, "writer"). Any field
 * may be NULL (as ""). */
typedef struct sli_writer {
	const char *topology, *stream, *spout;
} sli_writer;

/* Checks that s may be resumed by w, before any write of a run: SL_OK
 * when s records w as its writer, has committed nothing, or records no
 * writer (a directory of an older sluice, or one written only by
 * sl_state_apply_batch) and either holds no spout position or the spout
 * checks stored positions (spout_checks: it has a resume op, as the file
 * spout); else SL_EINVAL naming both (nothing written). With record, also
 * writes w as the writer (synced) where it is not recorded yet. Read-only
 * states: SL_OK, nothing written. Not thread-safe with other writers. */
int sli_state_claim(
    sl_state *s, const sli_writer *w, int spout_checks, int record);

/* Per-txid metadata of a named spout (transactional replays): durable
 * before it returns. get: SL_ENOTFOUND when absent. */
int sli_state_put_meta(
    sl_state *s, const char *name, uint64_t txid, const void *p, size_t n);
int sli_state_get_meta(
    sl_state *s, const char *name, uint64_t txid, sli_buf *out);

/* Decodes a stored record (bytes as kept in the store) and applies the
 * committed-read rule: curr when its txid <= committed, else prev.
 * SL_ENOTFOUND when that value is absent; SL_ECORRUPT/SL_EVERSION on bad
 * bytes (never reads outside [p, p+n)). Values borrow p. */
int sli_state_decode_value(
    const uint8_t *p, size_t n, uint64_t committed, sl_value *out);

/* sl_state_get with the read rule at txid committed (at most the last
 * committed txid): curr when the record's txid <= committed, else prev.
 * The value of the state after that commit while no later batch has
 * committed (the batch after it may write only then). */
int sli_state_get_at(sl_state *s, const void *key, size_t klen,
    uint64_t committed, sl_value *out);

/* Semantics the state was opened with. */
sl_semantics sli_state_semantics(const sl_state *s);

/* Injected failure for tests, kept for trident/exec.c until it arms the
 * fault points of core/fault.h (SLI_FAULT_STATE_BEFORE_WRITE,
 * SLI_FAULT_STATE_AFTER_WRITE: a = txid, b = partition + 1; and
 * SLI_FAULT_STATE_COMMIT: a = txid), which every other test uses: when
 * set, apply of (part, txid) returns SL_EFAILED after (when after_write)
 * or before writing. UINT32_MAX part = any. */
void sli_state_fail_once(
    sl_state *s, uint32_t part, uint64_t txid, int after_write);

#endif
