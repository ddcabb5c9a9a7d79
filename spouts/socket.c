/*
 * socket.c - the socket spout: a nanomsg PULL socket (via the transport)
 * bound at an endpoint; each message is one line (a trailing newline is
 * dropped). Opaque: what a batch holds depends on when messages arrive.
 * Lines of recent batches are kept in memory so a replay within a run
 * re-emits them; after a crash, messages not yet committed are lost with
 * the producer's socket buffer (at-most-once at the edge).
 */
#include "core/core.h"
#include "sluice/spouts.h"
#include "trident/spout.h"
#include "transport/transport.h"

#include <stdlib.h>
#include <string.h>

static const sl_spout_ops socket_ops; /* at the end */

#define KEEP 32
/* Messages up to this size arrive and are judged here (a line over
 * SL_MAX_BYTES is rejected and counted); larger ones make nanomsg drop the
 * sender's connection before anything is allocated for them. */
#define MAX_MSG ((size_t)SL_MAX_BYTES * 2 + 2)

typedef struct kept {
	uint64_t txid;
	sli_buf data; /* varint len, line ... */
} kept;

typedef struct sockspout {
	sli_link *l;
	kept k[KEEP];
} sockspout;

int sl_spout_socket_new(sl_spout **out, const char *endpoint)
{
	SLI_NONNULL(out);
	SLI_NONNULL(endpoint);
	*out = NULL;
	sockspout *s = calloc(1, sizeof(*s));
	if (!s)
		return SL_ENOMEM;
	int rc = sli_link_pull_max(&s->l, endpoint, MAX_MSG);
	if (rc) {
		free(s);
		return rc;
	}
	for (int i = 0; i < KEEP; i++)
		sli_buf_init(&s->k[i].data);
	return sl_spout_new(out, &socket_ops, s);
}

static int emit_kept(const sli_buf *b, sl_collector *out)
{
	const uint8_t *p = b->data, *end = b->data + b->len;
	int rc = SL_OK;
	while (p < end && !rc) {
		uint64_t n;
		sli_varint_get(&p, end, &n);
		sl_value v = sl_bytes(p, (uint32_t)n);
		rc = sl_emit(out, &v, 1);
		p += n;
	}
	return rc;
}

static int sock_emit(void *self, sl_spout_ctx *ctx, sl_collector *out)
{
	sockspout *s = self;
	uint64_t txid = sl_spout_txid(ctx);
	kept *k = &s->k[txid % KEEP];
	size_t len;
	if (sl_spout_replay_meta(ctx, &len) && k->txid == txid)
		return emit_kept(&k->data, out);
	k->txid = txid;
	k->data.len = 0;
	size_t max = sl_spout_batch_size(ctx), n = 0;
	uint64_t deadline
	    = sli_now_ns() + (uint64_t)sl_spout_batch_ms(ctx) * 1000000u;
	int rc = SL_OK;
	while (n < max && !rc) {
		uint64_t now = sli_now_ns();
		if (now >= deadline)
			break;
		sli_msg m;
		rc = sli_link_recv(
		    s->l, &m, (int)((deadline - now) / 1000000u) + 1);
		if (rc == SL_ETIMEDOUT) {
			rc = SL_OK;
			break;
		}
		if (rc)
			break;
		size_t l = m.len;
		while (l && (m.data[l - 1] == '\n' || m.data[l - 1] == 0))
			l--;
		if (l > SL_MAX_BYTES) {
			/* never cut it into a bogus word: drop and count it
			 * (rejected_frames) */
			sli_transport_count_rejected();
			sli_msg_free(&m);
			continue;
		}
		rc = sli_buf_put_varint(&k->data, l);
		if (!rc)
			rc = sli_buf_append(&k->data, m.data, l);
		sli_msg_free(&m);
		n++;
	}
	uint8_t mb[8];
	sli_le64_put(mb, n);
	if (!rc)
		rc = sl_spout_set_meta(ctx, mb, 8);
	return rc ? rc : emit_kept(&k->data, out);
}

static void sock_free(void *self)
{
	sockspout *s = self;
	if (!s)
		return;
	sli_link_close(s->l);
	for (int i = 0; i < KEEP; i++)
		sli_buf_free(&s->k[i].data);
	free(s);
}

static const sl_spout_ops socket_ops
    = { "socket", 0, sock_emit, NULL, sock_free };
