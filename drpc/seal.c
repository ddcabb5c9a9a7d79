/*
 * seal.c - the sealed DRPC wire format (docs/drpc.md, "Cluster key"): a
 * request is 0x01, then XChaCha20-Poly1305 of (8-byte unix ms timestamp,
 * request) under a key derived from the cluster key; the reply is padded
 * to a power of two and bound to its request's nonce. The server refuses
 * requests stamped more than SLI_DRPC_SKEW_MS from its clock and replays
 * (the seen cache).
 */
#include "drpc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REQ_AD       "sluice drpc request v1"
#define REP_AD       "sluice drpc reply v1"
#define KEY_CONTEXT  "sluice drpc v1"
#define REP_AD_BYTES (sizeof(REP_AD) - 1 + SLI_SEAL_NONCE)

#define SEEN_CAP  65536 /* sealed requests remembered (replay window) */
#define SEEN_HASH (SEEN_CAP * 2)
#define PAD_MIN   128 /* sealed replies are padded to a power of two */

typedef struct sli_drpc_seen_entry {
	uint8_t nonce[SLI_SEAL_NONCE];
	uint64_t ts;
	int32_t next; /* hash chain */
} seen_entry;

void sli_drpc_derive_key(
    uint8_t key[SL_KEY_BYTES], const uint8_t cluster_key[SL_KEY_BYTES])
{
	sli_derive_key(key, cluster_key, KEY_CONTEXT);
}

static uint32_t seen_bucket(const uint8_t *nonce)
{
	/* the nonce is random (an attacker cannot choose it without the
	 * key: only authenticated requests are recorded) */
	return sli_le32_get(nonce) % SEEN_HASH;
}

int sli_drpc_seen_init(sli_drpc_seen *c)
{
	c->e = calloc(SEEN_CAP, sizeof(*c->e));
	c->head = malloc(SEEN_HASH * sizeof(*c->head));
	if (!c->e || !c->head)
		return SL_ENOMEM;
	for (uint32_t i = 0; i < SEEN_HASH; i++)
		c->head[i] = -1;
	return SL_OK;
}

void sli_drpc_seen_free(sli_drpc_seen *c)
{
	free(c->e);
	free(c->head);
}

/* Drops the oldest entry, raising the floor to its timestamp. */
static void seen_drop_oldest(sli_drpc_seen *c)
{
	seen_entry *o = &c->e[c->first];
	int32_t *pp = &c->head[seen_bucket(o->nonce)];
	while (*pp != -1 && *pp != (int32_t)c->first)
		pp = &c->e[*pp].next;
	if (*pp != -1)
		*pp = o->next;
	if (o->ts > c->floor_ms)
		c->floor_ms = o->ts;
	c->first = (c->first + 1) % SEEN_CAP;
	c->n--;
}

/* Records nonce (stamped ts); 0 when new, 1 when seen before or older
 * than what the cache still remembers. now: the server's clock. */
static int seen_check_add(
    sli_drpc_seen *c, const uint8_t *nonce, uint64_t ts, uint64_t now)
{
	/* entries past the window are refused by their timestamp anyway */
	while (c->n && c->e[c->first].ts + SLI_DRPC_SKEW_MS < now)
		seen_drop_oldest(c);
	if (ts <= c->floor_ms)
		return 1;
	uint32_t b = seen_bucket(nonce);
	for (int32_t i = c->head[b]; i != -1; i = c->e[i].next)
		if (!memcmp(c->e[i].nonce, nonce, SLI_SEAL_NONCE))
			return 1;
	if (c->n == SEEN_CAP)
		seen_drop_oldest(c);
	uint32_t at = (c->first + c->n) % SEEN_CAP;
	seen_entry *e = &c->e[at];
	memcpy(e->nonce, nonce, SLI_SEAL_NONCE);
	e->ts = ts;
	e->next = c->head[b];
	c->head[b] = (int32_t)at;
	c->n++;
	return 0;
}

static void reply_ad(uint8_t ad[REP_AD_BYTES], const uint8_t *nonce)
{
	memcpy(ad, REP_AD, sizeof(REP_AD) - 1);
	memcpy(ad + sizeof(REP_AD) - 1, nonce, SLI_SEAL_NONCE);
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const uint8_t *sli_drpc_encode_reply(const uint8_t *key,
    const sli_drpc_sealinfo *si, const char *json, size_t *len,
    uint8_t **owned)
{
	const char *fallback = "{\"error\":\"out of memory\"}";
	const char *out = json ? json : fallback;
	size_t n = strlen(out);
	*owned = NULL;
	*len = n;
	if (!si->on)
		return (const uint8_t *)out;
	/* padded with spaces (JSON whitespace) to a power of two, so that
	 * the length tells little about the answer */
	size_t padded = PAD_MIN;
	while (padded < n)
		padded *= 2;
	uint8_t *b = malloc(1 + padded + SLI_SEAL_OVERHEAD);
	uint8_t *plain = malloc(padded);
	if (!b || !plain) {
		free(b);
		free(plain);
		*len = 0;
		return NULL;
	}
	memcpy(plain, out, n);
	memset(plain + n, ' ', padded - n);
	uint8_t ad[REP_AD_BYTES];
	reply_ad(ad, si->nonce);
	b[0] = SLI_DRPC_SEALED_MARK;
	sli_seal(key, ad, sizeof(ad), plain, padded, b + 1);
	free(plain);
	*owned = b;
	*len = 1 + padded + SLI_SEAL_OVERHEAD;
	return b;
}

const char *sli_drpc_open_request(const uint8_t *key, sli_drpc_seen *seen,
    const sli_msg *m, sli_drpc_sealinfo *si, uint8_t **plain,
    const uint8_t **req, size_t *rlen)
{
	*plain = NULL;
	if (!key)
		return "sealed request, but this server has no cluster key";
	if (m->len == 0 || m->data[0] != SLI_DRPC_SEALED_MARK)
		return "authentication required: this server accepts only "
		       "requests sealed with the cluster key";
	if (m->len < 1 + SLI_SEAL_OVERHEAD + 8)
		return "authentication failed: sealed request too short";
	size_t plen = m->len - 1 - SLI_SEAL_OVERHEAD;
	uint8_t *p = malloc(plen);
	if (!p)
		return "out of memory";
	if (sli_open(key, (const uint8_t *)REQ_AD, sizeof(REQ_AD) - 1,
	        m->data + 1, m->len - 1, p)) {
		free(p);
		return "authentication failed: wrong cluster key or tampered "
		       "request";
	}
	uint64_t ts = sli_le64_get(p), now = wall_ms();
	if ((ts > now ? ts - now : now - ts) > SLI_DRPC_SKEW_MS) {
		free(p);
		return "authentication failed: request timestamp more than "
		       "300 s from the server's clock (replayed request or "
		       "clock skew)";
	}
	if (seen_check_add(seen, m->data + 1, ts, now)) {
		free(p);
		return "authentication failed: replayed request (this "
		       "request was already answered)";
	}
	si->on = 1;
	memcpy(si->nonce, m->data + 1, SLI_SEAL_NONCE);
	*plain = p;
	*req = p + 8;
	*rlen = plen - 8;
	return NULL;
}

int sli_drpc_seal_request(const uint8_t *key, const uint8_t *req, size_t len,
    uint8_t **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	uint8_t *stamped = malloc(8 + len);
	uint8_t *sealed = malloc(1 + 8 + len + SLI_SEAL_OVERHEAD);
	if (!stamped || !sealed) {
		free(stamped);
		free(sealed);
		return SL_ENOMEM;
	}
	sli_le64_put(stamped, wall_ms());
	memcpy(stamped + 8, req, len);
	sealed[0] = SLI_DRPC_SEALED_MARK;
	sli_seal(key, (const uint8_t *)REQ_AD, sizeof(REQ_AD) - 1, stamped,
	    8 + len, sealed + 1);
	free(stamped);
	*out = sealed;
	*out_len = 1 + 8 + len + SLI_SEAL_OVERHEAD;
	return SL_OK;
}

int sli_drpc_open_reply(
    const uint8_t *key, const uint8_t *nonce, const sli_msg *m, char **json)
{
	if (m->len < 1 + SLI_SEAL_OVERHEAD
	    || m->data[0] != SLI_DRPC_SEALED_MARK) {
		/* the server's words, shown with control bytes masked */
		char shown[201];
		size_t n = m->len < 200 ? m->len : 200;
		for (size_t i = 0; i < n; i++)
			shown[i] = m->data[i] < 0x20 || m->data[i] == 0x7f
			    ? '?'
			    : (char)m->data[i];
		shown[n] = 0;
		return sli_err(SL_ECRYPTO,
		    "the server's reply is not sealed with the cluster key "
		    "(wrong key, or a server without one): %s",
		    shown);
	}
	size_t n = m->len - 1 - SLI_SEAL_OVERHEAD;
	char *out = malloc(n + 1);
	if (!out)
		return SL_ENOMEM;
	uint8_t ad[REP_AD_BYTES];
	reply_ad(ad, nonce);
	if (sli_open(key, ad, sizeof(ad), m->data + 1, m->len - 1,
	        (uint8_t *)out)) {
		free(out);
		return sli_err(SL_ECRYPTO,
		    "the server's reply failed authentication (wrong cluster "
		    "key or a tampered reply)");
	}
	while (n && out[n - 1] == ' ') /* the padding */
		n--;
	out[n] = 0;
	*json = out;
	return SL_OK;
}
