/* fuzz_drpc_sealed.c - libFuzzer target: the sealed-DRPC receive path as
 * the server runs it (drpc/seal.c, then drpc/protocol.c), with oracles:
 *
 *  - input byte 0 even: the rest, as received, must be refused (nobody
 *    without the cluster key makes a request the server opens);
 *  - input byte 0 odd: the rest is a request the client seals; the server
 *    must open it to exactly those bytes, once (the same message again is
 *    a replay), and refuse it with any one byte flipped; the reply sealed
 *    for it is padded to a power of two of at least 128 bytes, opens at
 *    the client to the JSON the server sent, and does not open for
 *    another request's nonce.
 *
 * One replay cache lives across inputs, so long runs fill its ring and
 * exercise the dropping of its oldest entries. */
#include "drpc/drpc.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t key[SL_KEY_BYTES];
static sli_drpc_seen seen;
static int ready;

static void setup(void)
{
	uint8_t cluster[SL_KEY_BYTES];
	for (size_t i = 0; i < sizeof(cluster); i++)
		cluster[i] = (uint8_t)(i * 37 + 11);
	sli_drpc_derive_key(key, cluster);
	if (sli_drpc_seen_init(&seen))
		abort();
	ready = 1;
}

/* Opens [p, p+n) as the server does; 1 when it is accepted (the request
 * then in *req / *rlen of *plain, owned). */
static int server_open(const uint8_t *p, size_t n, sli_drpc_sealinfo *si,
    uint8_t **plain, const uint8_t **req, size_t *rlen)
{
	uint8_t *copy = malloc(n ? n : 1); /* the received message */
	if (!copy)
		abort();
	memcpy(copy, p, n);
	sli_msg m = { copy, n };
	const char *why
	    = sli_drpc_open_request(key, &seen, &m, si, plain, req, rlen);
	free(copy);
	if (why && *plain)
		abort(); /* a refusal hands nothing out */
	return why == NULL;
}

static void sealed_round_trip(const uint8_t *data, size_t size)
{
	uint8_t *msg;
	size_t mlen;
	if (sli_drpc_seal_request(key, data, size, &msg, &mlen))
		return;
	sli_drpc_sealinfo si = { 0 };
	uint8_t *plain = NULL;
	const uint8_t *req = NULL;
	size_t rlen = 0;
	if (!server_open(msg, mlen, &si, &plain, &req, &rlen))
		abort(); /* an honest request was refused */
	if (!si.on || rlen != size || (size && memcmp(req, data, size))
	    || memcmp(si.nonce, msg + 1, SLI_SEAL_NONCE))
		abort(); /* opened to other bytes */
	size_t tab = 0;
	const char *why = NULL;
	if (sli_drpc_check_request(req, rlen, 65536, &tab, &why) == SL_OK
	    && (tab >= rlen || req[tab] != '\t'))
		abort();
	free(plain);

	/* the same message again: a replay */
	sli_drpc_sealinfo si2 = { 0 };
	if (server_open(msg, mlen, &si2, &plain, &req, &rlen))
		abort();
	/* one byte flipped (where the input says) */
	size_t at = size ? data[0] % mlen : mlen / 2;
	msg[at] ^= (uint8_t)(1u << (size > 1 ? data[1] % 8 : 0));
	if (server_open(msg, mlen, &si2, &plain, &req, &rlen))
		abort();
	msg[at] ^= (uint8_t)(1u << (size > 1 ? data[1] % 8 : 0));

	/* the reply: the input as an error message, padded and bound */
	char *text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = 0;
	char *json = sli_drpc_error_json(text);
	free(text);
	if (!json)
		abort();
	size_t blen;
	uint8_t *owned;
	const uint8_t *b
	    = sli_drpc_encode_reply(key, &si, json, &blen, &owned);
	if (!b)
		abort();
	size_t body = blen - 1 - SLI_SEAL_OVERHEAD;
	if (body < 128 || (body & (body - 1)) || body < strlen(json))
		abort(); /* not padded to a power of two */
	sli_msg rm = { owned, blen };
	char *got = NULL;
	if (sli_drpc_open_reply(key, si.nonce, &rm, &got) || strcmp(got, json))
		abort();
	free(got);
	got = NULL;
	uint8_t other[SLI_SEAL_NONCE];
	memcpy(other, si.nonce, sizeof(other));
	other[size % SLI_SEAL_NONCE] ^= 1;
	if (sli_drpc_open_reply(key, other, &rm, &got) == SL_OK)
		abort(); /* a reply opened for another request */
	free(got);
	free(owned);
	free(json);
	free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready)
		setup();
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0) {
		sli_drpc_sealinfo si = { 0 };
		uint8_t *plain = NULL;
		const uint8_t *req = NULL;
		size_t rlen = 0;
		if (server_open(data + 1, size - 1, &si, &plain, &req, &rlen))
			abort(); /* a forged request was opened */
	} else
		sealed_round_trip(data + 1, size - 1);
	return 0;
}
