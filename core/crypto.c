/* crypto.c - the one wrapper around libsodium: init, keyed hashing and
 * sealing of frames. */
#include "core.h"
#include "fault.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_rc;
/* Fixed default key: partitioning must be stable across restarts (state
 * partitions record which keys they wrote). SLUICE_HASH_KEY (32 hex
 * digits) replaces it, e.g. to resist hostile key sets. */
static uint8_t hash_key[crypto_shorthash_KEYBYTES] = { 's', 'l', 'u', 'i', 'c',
	'e', '-', 'g', 'r', 'o', 'u', 'p', 'i', 'n', 'g', '1' };

static void do_init(void)
{
	init_rc = sodium_init() < 0 ? SL_ECRYPTO : SL_OK;
	const char *hex = getenv("SLUICE_HASH_KEY");
	if (hex && strlen(hex) == 2 * crypto_shorthash_KEYBYTES) {
		uint8_t k[crypto_shorthash_KEYBYTES];
		size_t n = 0;
		if (sodium_hex2bin(
		        k, sizeof(k), hex, strlen(hex), NULL, &n, NULL)
		        == 0
		    && n == sizeof(k))
			memcpy(hash_key, k, sizeof(k));
		sodium_memzero(k, sizeof(k));
	}
	sli_fault_init(); /* SLUICE_FAULT, for tests' child processes */
}

int sl_init(void)
{
	pthread_once(&once, do_init);
	return init_rc;
}

const uint8_t *sli_default_hash_key(void)
{
	sl_init();
	return hash_key;
}

uint64_t sl_hash(const uint8_t key[16], const void *p, size_t len)
{
	unsigned char out[crypto_shorthash_BYTES];
	crypto_shorthash(out, p, len, key ? key : sli_default_hash_key());
	return sli_le64_get(out);
}

uint64_t sl_value_hash(const uint8_t key[16], const sl_value *v)
{
	if (!v)
		return sl_hash(key, NULL, 0);
	uint8_t tmp[16];
	switch (v->type) {
	case SL_BYTES:
		return sl_hash(key, v->u.p, v->len);
	case SL_INT:
		tmp[0] = SL_INT;
		sli_le64_put(tmp + 1, (uint64_t)v->u.i);
		return sl_hash(key, tmp, 9);
	case SL_DOUBLE:
		tmp[0] = SL_DOUBLE;
		memcpy(tmp + 1, &v->u.d, 8);
		return sl_hash(key, tmp, 9);
	default:
		tmp[0] = SL_NULL;
		return sl_hash(key, tmp, 1);
	}
}

int sl_key_from_hex(uint8_t out[SL_KEY_BYTES], const char *hex)
{
	SLI_NONNULL(out);
	size_t n = 0;
	if (!hex || strlen(hex) != 2 * SL_KEY_BYTES)
		return SL_EINVAL;
	if (sodium_hex2bin(out, SL_KEY_BYTES, hex, strlen(hex), NULL, &n, NULL)
	        != 0
	    || n != SL_KEY_BYTES) {
		sodium_memzero(out, SL_KEY_BYTES);
		return SL_EINVAL;
	}
	return SL_OK;
}

int sl_key_from_file(uint8_t out[SL_KEY_BYTES], const char *path)
{
	SLI_NONNULL(out);
	if (!path)
		return sli_err(SL_EINVAL, "no key file given");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return sli_err(sli_errno_code(e), "cluster key file %s: %s",
		    path, strerror(e));
	}
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return sli_err(SL_EINVAL,
		    "cluster key file %s: not a regular file", path);
	}
	if (sb.st_mode & 077) {
		close(fd);
		return sli_err(SL_EPERM,
		    "cluster key file %s is readable by other users "
		    "(chmod 600 %s)",
		    path, path);
	}
	char buf[2 * SL_KEY_BYTES + 64];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return sli_err(
		    SL_EIO, "cluster key file %s: read failed", path);
	size_t b = 0, e = (size_t)n;
	while (b < e
	    && (buf[b] == ' ' || buf[b] == '\t' || buf[b] == '\n'
	        || buf[b] == '\r'))
		b++;
	while (e > b
	    && (buf[e - 1] == ' ' || buf[e - 1] == '\t' || buf[e - 1] == '\n'
	        || buf[e - 1] == '\r'))
		e--;
	buf[e] = 0;
	int rc = sl_key_from_hex(out, buf + b);
	sodium_memzero(buf, sizeof(buf));
	if (rc)
		return sli_err(SL_EINVAL,
		    "cluster key file %s: expected 64 hex digits (32 bytes)",
		    path);
	return SL_OK;
}

void sli_wipe(void *p, size_t n)
{
	sodium_memzero(p, n);
}

void sl_wipe(void *p, size_t n)
{
	if (!p)
		return;
	sli_wipe(p, n);
}

void sl_key_derive(uint8_t out[SL_KEY_BYTES], const uint8_t key[SL_KEY_BYTES],
    const char *context)
{
	if (!out)
		return;
	if (!key || !context) {
		/* a key that matches nothing */
		randombytes_buf(out, SL_KEY_BYTES);
		return;
	}
	sli_derive_key(out, key, context);
}

int sli_seal(const uint8_t key[SL_KEY_BYTES], const uint8_t *ad, size_t adlen,
    const uint8_t *plain, size_t plen, uint8_t *out)
{
	if (sl_init())
		return SL_ECRYPTO;
	randombytes_buf(out, SLI_SEAL_NONCE);
	unsigned long long clen = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + SLI_SEAL_NONCE, &clen,
	    plain, plen, ad, adlen, NULL, out, key);
	return SL_OK;
}

int sli_open(const uint8_t key[SL_KEY_BYTES], const uint8_t *ad, size_t adlen,
    const uint8_t *sealed, size_t slen, uint8_t *out)
{
	if (sl_init())
		return SL_ECRYPTO;
	if (slen < SLI_SEAL_OVERHEAD)
		return SL_ETRUNC;
	unsigned long long mlen = 0;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &mlen, NULL,
	        sealed + SLI_SEAL_NONCE, slen - SLI_SEAL_NONCE, ad, adlen,
	        sealed, key)
	    != 0)
		return SL_ECRYPTO;
	return SL_OK;
}

void sli_derive_key(uint8_t out[SL_KEY_BYTES], const uint8_t key[SL_KEY_BYTES],
    const char *context)
{
	sl_init();
	crypto_generichash(out, SL_KEY_BYTES, (const unsigned char *)context,
	    strlen(context), key, SL_KEY_BYTES);
}
