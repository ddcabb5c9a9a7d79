/*
 * sluice/drpc.h - DRPC: a server answering function calls over nanomsg
 * (sealed with a cluster key off loopback) and its client.
 * Part of the public API; <sluice.h> includes every part. Conventions as
 * there: int results (SL_OK or a negative SL_E* code), opaque handles,
 * ownership and thread-safety stated per declaration.
 */
#ifndef SLUICE_DRPC_H
#define SLUICE_DRPC_H

#include "sluice/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- DRPC */

/* A DRPC function handler: computes the result of function on args (not
 * NUL-terminated). SL_ENOTFOUND for an unknown function. SL_BYTES results
 * must stay valid until the handler returns to the server (thread-local
 * buffers are fine). Called from several server threads at once. */
typedef int (*sl_drpc_fn)(void *user, const char *function,
    const uint8_t *args, size_t len, sl_value *result);

typedef struct sl_drpc_options {
	const char *endpoint; /* default tcp://127.0.0.1:3772 */
	/* SL_KEY_BYTES, borrowed for the server's life; required off
	 * loopback. When set, only requests sealed with it are answered
	 * (sl_drpc_call_keyed), on any endpoint. */
	const uint8_t *cluster_key;
	int timeout_ms; /* per request; default 5000 */
	uint32_t workers; /* handler threads; default 4 */
	uint32_t max_queue; /* requests queued or running; default 64 */
	size_t max_request; /* bytes; default 65536 */
} sl_drpc_options;

void sl_drpc_options_default(sl_drpc_options *o);

typedef struct sl_drpc_server sl_drpc_server;

/* Starts a DRPC server (nanomsg REP) answering with fn. Requests are
 * `FUNCTION` TAB `ARGS`; replies one JSON document, {"result": ...} or
 * {"error": "..."} (docs/drpc.md). SL_EPERM when the endpoint is not on
 * loopback and no cluster key is given. Raises the process's soft
 * open-files limit to its hard limit and keeps its connections within
 * half of the free descriptors (at most 4096): SL_ELIMIT when that is
 * fewer than 8. Returns owned. */
int sl_drpc_server_start(
    sl_drpc_server **out, const sl_drpc_options *o, sl_drpc_fn fn, void *user);
/* Stops answering and frees; accepts NULL. A handler still blocked past
 * its timeout is abandoned (its thread is detached). */
void sl_drpc_server_stop(sl_drpc_server *s);

typedef struct sl_drpc_stats {
	uint64_t requests, answered, errors, timeouts, busy, bad_requests;
	uint64_t auth_failures; /* unsealed, forged or stale requests */
	/* times every connection was dropped because the server held as
	 * many as its descriptors allow (docs/drpc.md, "Connections") */
	uint64_t connection_drops;
} sl_drpc_stats;
int sl_drpc_server_stats(sl_drpc_server *s, sl_drpc_stats *st);

/* Calls function with args on the server at endpoint; *reply_json is the
 * reply (returns owned, free()). SL_ETIMEDOUT after timeout_ms. */
int sl_drpc_call(const char *endpoint, const char *function, const char *args,
    int timeout_ms, char **reply_json);
/* Like sl_drpc_call with a cluster key (SL_KEY_BYTES, borrowed; NULL
 * behaves as sl_drpc_call): the request is sealed with a key derived from
 * it and stamped with the time, and the reply must come sealed by a
 * server holding the same key and bound to this request (docs/drpc.md,
 * "Cluster key"). SL_ECRYPTO when it does not; sl_errdetail() then says
 * why, quoting an unsealed reply. Thread-safe. */
int sl_drpc_call_keyed(const char *endpoint, const uint8_t *cluster_key,
    const char *function, const char *args, int timeout_ms, char **reply_json);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_DRPC_H */
