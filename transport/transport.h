/*
 * transport.h - the tuple transport, for trident/ and plain/: the batch
 * frame codec (wire format in docs/wire-format.md), sealing, nanomsg
 * PUSH/PULL links, groupings, per-target outboxes with end-of-batch
 * markers, and a tracker that says when a batch is complete.
 * Only transport/ includes nanomsg.
 */
#ifndef SLI_TRANSPORT_H
#define SLI_TRANSPORT_H

#include "core/core.h"

#define SLI_FRAME_MAGIC                                                       \
	0x534c4246u /* "FBLS" little-endian: 'F','B','L','S'                  \
	             */
#define SLI_FRAME_VERSION      1
#define SLI_FRAME_HEADER_BYTES 40
/* The largest frame body a writer builds and a link accepts: 64 MiB (one
 * tuple of a few maximal values fits). Every receive is capped at
 * SLI_FRAME_MAX_BYTES, so a peer announcing a huge message is cut off
 * before anything is allocated for it. */
#define SLI_FRAME_MAX_BODY  ((size_t)64 << 20)
#define SLI_FRAME_MAX_BYTES (SLI_FRAME_HEADER_BYTES + SLI_FRAME_MAX_BODY)

enum sli_frame_kind {
	SLI_FRAME_DATA = 0, /* count tuples follow */
	SLI_FRAME_EOB = 1, /* end of batch: count = tuples this source sent
	                      this target for txid/attempt; no body */
	SLI_FRAME_CTRL = 2 /* control message: opaque body, count = 0 */
};
#define SLI_FRAME_SEALED 0x01 /* flags: body sealed with the cluster key */

typedef struct sli_frame_header {
	uint8_t kind; /* enum sli_frame_kind */
	uint8_t flags; /* SLI_FRAME_SEALED */
	uint32_t stream;
	uint64_t txid;
	uint32_t attempt;
	uint32_t source_task;
	uint32_t partition;
	uint32_t count;
} sli_frame_header;

/* Builds one frame. Owns its buffer; reuse across frames. Not thread-safe. */
typedef struct sli_frame_writer {
	sli_buf buf;
	sli_frame_header h;
	sli_buf sealed; /* scratch for sealing */
} sli_frame_writer;

void sli_frame_writer_init(sli_frame_writer *w);
void sli_frame_writer_free(sli_frame_writer *w);
/* Starts a frame with header h (count is counted by _add). */
int sli_frame_writer_begin(sli_frame_writer *w, const sli_frame_header *h);
/* Appends one tuple of n values (borrowed, copied into the frame).
 * SL_EFULL when the frame holds tuples and this one would take it past
 * SLI_FRAME_MAX_BODY (ship the frame, then add again); SL_ELIMIT when the
 * tuple alone is larger than that. */
int sli_frame_writer_add(sli_frame_writer *w, const sl_value *v, size_t n);
/* Finishes the frame: patches count, seals the body when key != NULL.
 * data and len borrow the writer's buffer until the next begin. */
int sli_frame_writer_finish(sli_frame_writer *w, const uint8_t *key,
    const uint8_t **data, size_t *len);

/* Reads one frame, zero-copy. Values returned by _next borrow buf. */
typedef struct sli_frame_reader {
	sli_frame_header h;
	const uint8_t *p, *end;
	uint32_t left;
} sli_frame_reader;

/* Validates the whole frame in buf (header, every tuple, no trailing
 * bytes) and prepares reading. A sealed frame is opened in place with key
 * (SL_ECRYPTO when key is NULL or wrong). Errors: SL_ETRUNC, SL_EPROTO
 * (magic/kind), SL_EVERSION, SL_EOVERFLOW, SL_ECORRUPT (trailing garbage,
 * count mismatch), SL_ECRYPTO. Never reads outside [buf, buf+len). */
int sli_frame_decode(
    sli_frame_reader *r, uint8_t *buf, size_t len, const uint8_t *key);
/* Next tuple: up to max values into v, *n = its arity. SL_ENOTFOUND when
 * no tuple is left, SL_ELIMIT when the tuple has more than max values. */
int sli_frame_next(sli_frame_reader *r, sl_value *v, size_t max, size_t *n);

/* ---- links: nanomsg PUSH/PULL over inproc://, ipc://, tcp:// ---- */
typedef struct sli_link sli_link;

/* A received message; free with sli_msg_free (nn_freemsg). */
typedef struct sli_msg {
	uint8_t *data;
	size_t len;
} sli_msg;
void sli_msg_free(sli_msg *m);

/* Binds a PULL socket at url (the receiving end). A tcp url that is not on
 * loopback needs a cluster key (SL_EPERM otherwise). Messages over
 * SLI_FRAME_MAX_BYTES are refused by nanomsg (the connection is dropped).
 * Returns owned. */
int sli_link_pull(sli_link **out, const char *url);
/* Like sli_link_pull with messages capped at max_msg bytes. */
int sli_link_pull_max(sli_link **out, const char *url, size_t max_msg);
/* Connects a PUSH socket to url. max_inflight bounds queued frames
 * (backpressure: send blocks when the peer is slow). Returns owned. */
int sli_link_push(sli_link **out, const char *url, int max_inflight);
/* Sends a copy of p. Blocks up to timeout_ms (-1 = forever):
 * SL_ETIMEDOUT, SL_ECLOSED. Thread-safe per nanomsg socket rules. */
int sli_link_send(sli_link *l, const void *p, size_t n, int timeout_ms);
/* Receives one message; SL_ETIMEDOUT after timeout_ms (-1 = forever). */
int sli_link_recv(sli_link *l, sli_msg *m, int timeout_ms);
void sli_link_close(sli_link *l);
/* Like sli_link_pull; key (borrowed, may be NULL) allows binding tcp on a
 * non-loopback address. */
int sli_link_pull_keyed(sli_link **out, const char *url, const uint8_t *key);
/* 1 when url cannot be reached from another host: inproc, ipc, or a
 * network scheme (tcp, ws) whose host is 127.0.0.0/8, localhost or ::1.
 * Unknown schemes are not loopback. */
int sli_url_is_loopback(const char *url);
/* SL_OK when a server may listen on url: a known scheme (inproc, ipc,
 * tcp, ws; SL_EINVAL otherwise) on loopback, or a cluster key is given;
 * SL_EPERM with a detail otherwise. */
int sli_bind_allowed(const char *url, const uint8_t *key);
/* Frames (and socket spout messages) rejected in this process. */
uint64_t sli_transport_rejected(void);
/* Counts one rejected message (a receiver outside the frame codec). */
void sli_transport_count_rejected(void);

/* ---- groupings ---- */
typedef enum sli_grouping_kind {
	SLI_GROUP_SHUFFLE = 0,
	SLI_GROUP_FIELDS = 1,
	SLI_GROUP_ALL = 2,
	SLI_GROUP_GLOBAL = 3,
	SLI_GROUP_LOCAL_OR_SHUFFLE = 4
} sli_grouping_kind;

typedef struct sli_grouping {
	sli_grouping_kind kind;
	uint32_t ntargets;
	uint32_t nfields;
	int fields[SL_MAX_FIELDS]; /* indexes into the tuple (FIELDS) */
	uint32_t next; /* round robin (SHUFFLE) */
	int32_t local; /* LOCAL_OR_SHUFFLE: local target or -1 */
} sli_grouping;

/* Target of tuple v (n values) in [0, ntargets), or -1 for every target
 * (ALL). FIELDS hashes the named fields with sl_value_hash. */
int32_t sli_grouping_target(sli_grouping *g, const sl_value *v, size_t n);

/* ---- outbox: one upstream task's frames to N downstream links ---- */
typedef struct sli_outbox sli_outbox;

/* targets (borrowed, must outlive the outbox), g (copied). Frames are cut
 * at frame_tuples tuples. key: cluster key or NULL. Returns owned. */
int sli_outbox_new(sli_outbox **out, sli_link **targets, uint32_t ntargets,
    const sli_grouping *g, uint32_t source_task, uint32_t stream,
    size_t frame_tuples, const uint8_t *key);
void sli_outbox_free(sli_outbox *o);
/* Starts batch txid/attempt (resets per-target counts; an open slot of an
 * older attempt of txid is reused) and makes it current. Several batches
 * may be open at once. */
int sli_outbox_begin(sli_outbox *o, uint64_t txid, uint32_t attempt);
/* Makes batch txid/attempt current, beginning it when it is not open. */
int sli_outbox_use(sli_outbox *o, uint64_t txid, uint32_t attempt);
/* Forgets the open slot of txid (a failed batch) without sending. */
void sli_outbox_drop(sli_outbox *o, uint64_t txid);
/* Routes one tuple by the grouping into the current batch (SL_ESTATE when
 * no batch is current). */
int sli_outbox_emit(sli_outbox *o, const sl_value *v, size_t n);
/* Sends one tuple to target t. */
int sli_outbox_emit_to(sli_outbox *o, uint32_t t, const sl_value *v, size_t n);
/* Flushes every partial frame of the current batch and sends each target
 * an EOB frame with the number of tuples it was sent in this batch; the
 * batch is then closed (no batch is current). */
int sli_outbox_end(sli_outbox *o);
/* Tuples sent to target t in the current batch. */
uint64_t sli_outbox_sent(const sli_outbox *o, uint32_t t);
/* Send timeout per frame in ms (-1, the default, blocks: backpressure). */
void sli_outbox_set_timeout(sli_outbox *o, int ms);
/* While *flag is 0 a blocked send keeps waiting (backpressure); once it
 * is set, the send gives up with SL_ECLOSED. flag borrowed. */
void sli_outbox_set_abort(sli_outbox *o, const _Atomic int *flag);

/* ---- batch tracker: when has a downstream task its whole batch? ---- */
typedef struct sli_tracker sli_tracker;

/* For a task with nsources upstream tasks. Returns owned. */
int sli_tracker_new(sli_tracker **out, uint32_t nsources);
void sli_tracker_free(sli_tracker *t);
/* Records a decoded frame header (DATA adds count received from
 * source_task, EOB records the expected count). Frames of an older attempt
 * than the newest seen for that txid are ignored (returns SL_ESTALE).
 * Returns 1 when txid/attempt is now complete: every source sent its EOB
 * and the received counts equal them; 0 otherwise. SL_ECORRUPT when more
 * tuples arrived than a marker announced. */
int sli_tracker_record(sli_tracker *t, const sli_frame_header *h);
/* Forgets txid (after commit or when it is abandoned). */
void sli_tracker_forget(sli_tracker *t, uint64_t txid);

/* ---- request/reply (DRPC) ---- */
typedef struct sli_rep sli_rep;
/* A raw REP socket bound at url (loopback unless key); requests larger
 * than max_msg are dropped by nanomsg. Raises the soft open-files limit
 * to the hard one; SL_ELIMIT when the descriptors left give room for
 * fewer than 8 connections. Returns owned. */
int sli_rep_open(
    sli_rep **out, const char *url, const uint8_t *key, size_t max_msg);
/* One request and its routing header (pass to sli_rep_send, or free with
 * sli_rep_hdr_free). SL_ETIMEDOUT when none arrived. */
int sli_rep_recv(sli_rep *r, sli_msg *m, void **hdr, int timeout_ms);
/* Replies to the request of hdr (taken). Thread-safe. */
int sli_rep_send(sli_rep *r, void *hdr, const void *p, size_t n);
void sli_rep_hdr_free(void *hdr);
void sli_rep_close(sli_rep *r);
/* Keeps r's connections within its bound (half the free descriptors when
 * it opened, at most 4096; none for inproc): when nanomsg holds that many,
 * or failed to accept one because descriptors ran out, every connection
 * is dropped and the listener bound again (clients with a request in
 * flight resend it on their new connection). Returns 1 when it dropped
 * them; *drops (may be NULL): how many times so far. Call it from the
 * receiving thread between receives. */
int sli_rep_guard(sli_rep *r, uint64_t *drops);
/* The largest DRPC reply a client accepts (a maximal value as escaped
 * JSON, sealed and padded): larger ones are refused by nanomsg. */
#define SLI_REPLY_MAX_BYTES ((size_t)128 << 20)
/* Sends req to a REP server at url and waits timeout_ms for the reply
 * (sli_msg_free it); replies over SLI_REPLY_MAX_BYTES never arrive.
 * SL_ETIMEDOUT, SL_EIO, SL_EINVAL. */
int sli_req_call(const char *url, const void *req, size_t len, int timeout_ms,
    sli_msg *reply);
/* A persistent REQ socket (one request at a time). Returns owned. */
typedef struct sli_req sli_req;
int sli_req_open(sli_req **out, const char *url, int timeout_ms);
int sli_req_send_recv(sli_req *r, const void *req, size_t len, sli_msg *reply);
void sli_req_close(sli_req *r);

#endif
