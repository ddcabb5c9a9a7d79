/*
 * drpc.h - internals of the DRPC module (drpc/ and its tests): the request
 * grammar, JSON replies and the sealed wire format shared by the server
 * (drpc/server.c) and the client (drpc/client.c). The sockets are
 * transport/'s (transport/reqrep.c); drpc/ depends on core/ and transport/
 * only. The public API (sl_drpc_*) is in include/sluice.h; Trident serves
 * its DRPC streams through it (trident/drpc.c).
 */
#ifndef SLI_DRPC_H
#define SLI_DRPC_H

#include "core/core.h"
#include "sluice/drpc.h"
#include "transport/transport.h"

/* ---- the request and its reply (drpc/protocol.c) ---- */

/* Parses and checks a request `FUNCTION` TAB `ARGS`: SL_OK with the TAB's
 * offset in *tab, or SL_EINVAL with the reason in *why (static). Never
 * reads outside [p, p+n). Thread-safe. */
int sli_drpc_check_request(
    const uint8_t *p, size_t n, size_t max, size_t *tab, const char **why);
/* 1 when [p, p+n) is valid UTF-8 (no overlongs, no surrogates). */
int sli_drpc_utf8_ok(const uint8_t *p, size_t n);
/* {"error":msg} (bytes of msg that are not UTF-8 become '?'); returns
 * owned (free()), NULL when out of memory. */
char *sli_drpc_error_json(const char *msg);
/* {"result":v}; for a NaN or infinite double or bytes that are not UTF-8
 * (which JSON cannot hold) {"error":"the result is not representable in
 * JSON: ..."} with *refused 1. Returns owned (free()), NULL when out of
 * memory. */
char *sli_drpc_result_json(const sl_value *v, int *refused);

/* ---- sealing (drpc/seal.c; docs/drpc.md, "Cluster key") ----
 * A sealed request is 0x01, then XChaCha20-Poly1305 of (8-byte unix ms
 * timestamp, request) under a key derived from the cluster key; the reply
 * is sealed the same way, padded, and bound to its request's nonce. */
#define SLI_DRPC_SEALED_MARK 0x01 /* first byte of a sealed message */
#define SLI_DRPC_SKEW_MS     300000 /* accepted clock difference */

/* The DRPC key derived from a cluster key (sli_wipe it when done). */
void sli_drpc_derive_key(
    uint8_t key[SL_KEY_BYTES], const uint8_t cluster_key[SL_KEY_BYTES]);

/* How to answer one request: in clear, or sealed and bound to nonce. */
typedef struct sli_drpc_sealinfo {
	int on;
	uint8_t nonce[SLI_SEAL_NONCE];
} sli_drpc_sealinfo;

/* The nonces of the sealed requests a server accepted recently, oldest
 * first (a ring) and hashed for lookup. A request whose nonce is here is
 * a replay. When the ring is full the oldest entry is dropped and floor_ms
 * rises to its timestamp: requests stamped at or before floor_ms are
 * refused, so a dropped nonce can never be replayed either. One thread
 * (the server's receiver). */
typedef struct sli_drpc_seen {
	struct sli_drpc_seen_entry *e;
	int32_t *head; /* hash chains, -1 = empty */
	uint32_t first, n;
	uint64_t floor_ms;
} sli_drpc_seen;

/* SL_OK or SL_ENOMEM (then sli_drpc_seen_free it anyway). */
int sli_drpc_seen_init(sli_drpc_seen *c);
/* Accepts an initialised or zeroed cache. */
void sli_drpc_seen_free(sli_drpc_seen *c);

/* Opens the sealed request m (borrowed) with key (NULL: the server has
 * none) into *plain (owned, free()) with the request at [*req, *req +
 * *rlen), and fills si; records its nonce in seen. Returns NULL, or the
 * reason it is refused (static; nothing to free). */
const char *sli_drpc_open_request(const uint8_t *key, sli_drpc_seen *seen,
    const sli_msg *m, sli_drpc_sealinfo *si, uint8_t **plain,
    const uint8_t **req, size_t *rlen);
/* The bytes answering a request: json itself in clear (si->on == 0; *owned
 * NULL), or sealed under key into *owned (free()). NULL json stands for
 * "out of memory"; returns NULL when sealing runs out of memory. */
const uint8_t *sli_drpc_encode_reply(const uint8_t *key,
    const sli_drpc_sealinfo *si, const char *json, size_t *len,
    uint8_t **owned);
/* Stamps and seals the request [req, req+len) under key into *out (owned,
 * free()) of *out_len bytes; its nonce is *out + 1. SL_OK, SL_ENOMEM. */
int sli_drpc_seal_request(const uint8_t *key, const uint8_t *req, size_t len,
    uint8_t **out, size_t *out_len);
/* Opens the sealed reply m (borrowed) to the request sealed with nonce
 * into a NUL-terminated *json (owned). SL_ECRYPTO with the reason. */
int sli_drpc_open_reply(
    const uint8_t *key, const uint8_t *nonce, const sli_msg *m, char **json);

#endif
