/*
 * client.c - the DRPC client: one request over a REQ socket
 * (transport/reqrep.c), in clear or sealed with the cluster key
 * (drpc/seal.c); the reply is returned as JSON text.
 */
#include "drpc.h"

#include <stdlib.h>
#include <string.h>

int sl_drpc_call(const char *endpoint, const char *function, const char *args,
    int timeout_ms, char **reply_json)
{
	SLI_NONNULL(endpoint);
	SLI_NONNULL(function);
	SLI_NONNULL(reply_json);
	return sl_drpc_call_keyed(
	    endpoint, NULL, function, args, timeout_ms, reply_json);
}

/* The reply m (borrowed) as a NUL-terminated *json (owned). */
static int clear_reply(const sli_msg *m, char **json)
{
	*json = malloc(m->len + 1);
	if (!*json)
		return SL_ENOMEM;
	memcpy(*json, m->data, m->len);
	(*json)[m->len] = 0;
	return SL_OK;
}

int sl_drpc_call_keyed(const char *endpoint, const uint8_t *cluster_key,
    const char *function, const char *args, int timeout_ms, char **reply_json)
{
	SLI_NONNULL(endpoint);
	SLI_NONNULL(function);
	SLI_NONNULL(reply_json);
	*reply_json = NULL;
	sl_init();
	if (!function || !args)
		return sli_err(SL_EINVAL, "no function or args");
	size_t fl = strlen(function), al = strlen(args);
	uint8_t *req = malloc(fl + al + 1);
	if (!req)
		return SL_ENOMEM;
	memcpy(req, function, fl);
	req[fl] = '\t';
	memcpy(req + fl + 1, args, al);
	size_t len = fl + al + 1;
	uint8_t key[SL_KEY_BYTES], *sealed = NULL;
	size_t sealed_len = 0;
	if (cluster_key) {
		sli_drpc_derive_key(key, cluster_key);
		if (sli_drpc_seal_request(
		        key, req, len, &sealed, &sealed_len)) {
			sli_wipe(key, sizeof(key));
			free(req);
			return SL_ENOMEM;
		}
	}
	sli_msg m;
	int rc = sli_req_call(endpoint ? endpoint : "tcp://127.0.0.1:3772",
	    sealed ? sealed : req, sealed ? sealed_len : len,
	    timeout_ms > 0 ? timeout_ms : 5000, &m);
	free(req);
	if (!rc && sealed)
		rc = sli_drpc_open_reply(key, sealed + 1, &m, reply_json);
	else if (!rc)
		rc = clear_reply(&m, reply_json);
	if (m.data)
		sli_msg_free(&m);
	if (sealed) {
		sli_wipe(key, sizeof(key));
		free(sealed);
	}
	return rc;
}
