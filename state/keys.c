/*
 * keys.c - typed group keys at the state: the lookup of a group's value
 * and `sluice state upgrade`, which rewrites a format-1 directory (keys
 * as text, fields joined by 0x1f) to typed keys (core/key.h).
 */
#include "core/key.h"
#include "state_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sl_state_get_group(
    sl_state *s, const sl_value *key, size_t n, sl_value *out)
{
	SLI_NONNULL(s);
	SLI_NONNULL(key || n == 0);
	SLI_NONNULL(out);
	sli_buf k;
	sli_buf_init(&k);
	int rc = sli_key_put(&k, key, n);
	if (!rc)
		rc = sl_state_get(
		    s, k.data ? k.data : (const uint8_t *)"", k.len, out);
	sli_buf_free(&k);
	return rc;
}

int sli_keys_repeat(
    size_t n, const sl_value *keys, size_t *first, size_t *again)
{
	size_t cap = 16;
	while (cap < n * 2)
		cap *= 2;
	size_t *idx = calloc(cap, sizeof(size_t)); /* index + 1, 0 free */
	if (!idx)
		return SL_ENOMEM;
	int rc = SL_OK;
	for (size_t i = 0; i < n && !rc; i++) {
		size_t j = sli_fasthash(keys[i].u.p, keys[i].len) & (cap - 1);
		for (; idx[j]; j = (j + 1) & (cap - 1)) {
			const sl_value *x = &keys[idx[j] - 1];
			if (x->len == keys[i].len
			    && !memcmp(x->u.p, keys[i].u.p, x->len)) {
				*first = idx[j] - 1;
				*again = i;
				rc = 1;
				break;
			}
		}
		idx[j] = i + 1;
	}
	free(idx);
	return rc;
}

/* ---- the upgrade from format 1 ----
 * What it rewrites of format 1's layout: `01` + key text -> value record
 * (kept byte for byte under the new key), and the records of touched
 * keys, `00 "touched/" ...` -> varint txid, then (varint length, key
 * text)... (kept, with each key rewritten, so the restart pass of the
 * next run rolls back an uncommitted batch as it would have). Other `00`
 * records (semantics, commit, txmeta) stay as they are. */

typedef struct up {
	const sl_type *types;
	size_t ntypes;
	sli_kv_batch dels, puts;
	sli_buf key, rec, text;
	uint64_t keys;
	int err;
} up;

/* The readable form of an old key, for messages. */
static const char *show(up *u, const uint8_t *k, size_t kl)
{
	sl_value v = sl_bytes(k, (uint32_t)kl);
	u->text.len = 0;
	if (sli_key_format(&u->text, &v, 1) || sli_buf_put_u8(&u->text, 0))
		return "?";
	return (const char *)u->text.data;
}

static const char *type_name(sl_type t)
{
	return t == SL_INT ? "int" : t == SL_DOUBLE ? "double" : "bytes";
}

/* Reads the text of one field of an old key as type t: ints and doubles
 * exactly as format 1 printed them ("%" PRId64, "%.17g"), so the mapping
 * is one to one. */
static int field_of(const uint8_t *p, size_t n, sl_type t, sl_value *v)
{
	char tmp[64], back[64];
	if (t == SL_BYTES) {
		*v = sl_bytes(p, (uint32_t)n);
		return SL_OK;
	}
	if (n == 0 || n >= sizeof(tmp))
		return SL_EINVAL;
	memcpy(tmp, p, n);
	tmp[n] = 0;
	char *end;
	errno = 0;
	if (t == SL_INT) {
		long long i = strtoll(tmp, &end, 10);
		snprintf(back, sizeof(back), "%lld", i);
		if (errno || *end || strcmp(back, tmp))
			return SL_EINVAL;
		*v = sl_int(i);
	} else {
		double d = strtod(tmp, &end);
		snprintf(back, sizeof(back), "%.17g", d);
		if (*end || strcmp(back, tmp))
			return SL_EINVAL;
		*v = sl_double(d);
	}
	return SL_OK;
}

static int new_key(up *u, const uint8_t *k, size_t kl)
{
	sl_value v[SL_MAX_FIELDS];
	size_t nf = 0, start = 0;
	int bad = 0;
	for (size_t i = 0; i <= kl; i++) {
		/* one field: no separators to split on (a bytes value may
		 * hold 0x1f) */
		if (i < kl && (u->ntypes == 1 || k[i] != 0x1f))
			continue;
		if (nf == u->ntypes
		    || field_of(k + start, i - start, u->types[nf], &v[nf])) {
			bad = 1;
			break;
		}
		nf++;
		start = i + 1;
	}
	if (bad || nf != u->ntypes) {
		char want[SL_MAX_FIELDS * 8] = "";
		for (size_t i = 0; i < u->ntypes; i++)
			snprintf(want + strlen(want),
			    sizeof(want) - strlen(want), "%s%s", i ? "," : "",
			    type_name(u->types[i]));
		return sli_err(SL_EINVAL,
		    "key %s (format 1) does not read as %s; give the types "
		    "of the group fields with --key (docs/state-format.md)",
		    show(u, k, kl), want);
	}
	u->key.len = 0;
	int rc = sli_buf_put_u8(&u->key, SLI_KEY_PREFIX);
	return rc ? rc : sli_key_put(&u->key, v, nf);
}

/* A touched record with every key rewritten into u->rec. */
static int touched_rec(up *u, const uint8_t *v, size_t vl)
{
	const uint8_t *p, *end = v + vl;
	uint64_t txid;
	sli_buf out;
	sli_buf_init(&out);
	int rc = sli_touched_txid(v, vl, &txid, &p);
	if (!rc)
		rc = sli_buf_put_varint(&out, txid);
	while (!rc && p < end) {
		const uint8_t *k;
		size_t kl;
		if ((rc = sli_keylist_next(&p, end, &k, &kl)))
			break;
		rc = new_key(u, k, kl);
		/* the record names keys without the 01 prefix */
		if (!rc)
			rc = sli_buf_put_varint(&out, u->key.len - 1);
		if (!rc)
			rc = sli_buf_append(
			    &out, u->key.data + 1, u->key.len - 1);
	}
	if (rc == SL_ECORRUPT)
		rc = sli_err(SL_ECORRUPT, "a touched-keys record is corrupt");
	sli_buf_free(&u->rec);
	u->rec = out;
	return rc;
}

static int up_one(
    void *user, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	up *u = user;
	int rc = SL_OK;
	if (kl > SLI_TOUCHED_PREFIX_LEN
	    && !memcmp(k, SLI_M_TOUCHED, SLI_TOUCHED_PREFIX_LEN)) {
		rc = touched_rec(u, v, vl);
		if (!rc)
			rc = sli_kv_batch_put(
			    &u->puts, k, kl, u->rec.data, u->rec.len);
	} else if (kl >= 1 && k[0] == SLI_KEY_PREFIX) {
		rc = new_key(u, k + 1, kl - 1);
		if (!rc)
			rc = sli_kv_batch_del(&u->dels, k, kl);
		if (!rc)
			rc = sli_kv_batch_put(
			    &u->puts, u->key.data, u->key.len, v, vl);
		u->keys += !rc;
	}
	if (rc)
		u->err = rc;
	return rc ? 1 : 0;
}

int sl_state_upgrade(const char *dir, const sl_type *types, size_t ntypes,
    uint64_t *keys, int *upgraded)
{
	SLI_NONNULL(dir);
	static const sl_type one_bytes[] = { SL_BYTES };
	*keys = 0;
	*upgraded = 0;
	sl_init();
	if (!types || !ntypes) {
		types = one_bytes;
		ntypes = 1;
	}
	if (ntypes > SL_MAX_FIELDS)
		return sli_err(
		    SL_EINVAL, "more than %d key fields", SL_MAX_FIELDS);
	for (size_t i = 0; i < ntypes; i++)
		if (types[i] != SL_BYTES && types[i] != SL_INT
		    && types[i] != SL_DOUBLE)
			return sli_err(SL_EINVAL,
			    "key field types are bytes, int or double");
	if (!dir || !*dir)
		return sli_err(SL_EINVAL, "no state directory given");
	char cur[4096];
	snprintf(cur, sizeof(cur), "%s/CURRENT", dir);
	if (access(cur, F_OK) != 0)
		return sli_err(access(dir, F_OK) ? SL_ENOTFOUND : SL_EINVAL,
		    "%s is not a sluice state directory", dir);
	sl_state *s;
	uint32_t ver;
	int rc = sli_state_open_any_version(&s, dir, &ver);
	if (rc)
		return rc;
	if (ver == SLI_STATE_FORMAT) {
		sl_state_close(s);
		return SL_OK;
	}
	if (ver != 1) {
		sl_state_close(s);
		return sli_err(SL_EVERSION,
		    "%s has state format %u; this build upgrades format 1",
		    dir, ver);
	}
	up u;
	memset(&u, 0, sizeof(u));
	u.types = types;
	u.ntypes = ntypes;
	sli_kv_batch_init(&u.dels);
	sli_kv_batch_init(&u.puts);
	sli_kv *kv = sli_state_kv(s);
	rc = kv->ops->scan(kv, "", 0, up_one, &u);
	if (rc >= 0) /* up_one stops the scan with 1 and keeps the error */
		rc = u.err;
	if (!rc) {
		/* every delete before any put: an old key may equal the new
		 * key of another; one atomic, synced write */
		uint8_t v[4];
		sli_le32_put(v, SLI_STATE_FORMAT);
		rc = sli_kv_batch_put(
		    &u.puts, SLI_M_FORMAT, SLI_M_LEN(SLI_M_FORMAT), v, 4);
		if (!rc)
			rc = sli_kv_batch_append(&u.dels, &u.puts);
		if (!rc)
			rc = kv->ops->write(kv, &u.dels, 1);
	}
	if (!rc) {
		*keys = u.keys;
		*upgraded = 1;
	}
	sli_kv_batch_free(&u.dels);
	sli_kv_batch_free(&u.puts);
	sli_buf_free(&u.key);
	sli_buf_free(&u.rec);
	sli_buf_free(&u.text);
	sl_state_close(s);
	return rc;
}
