/*
 * fasthash.c - the hash of the in-process tables (partial aggregation,
 * the memory back-end, the state cache): a wyhash-style multiply-mix hash,
 * several times faster than SipHash on short keys.
 *
 * Its seed is drawn at random when the program starts, so a hostile input
 * cannot aim many keys at one bucket chain without seeing the tables; the
 * hashes never leave the process. Groupings between tasks keep the keyed
 * SipHash of sl_value_hash, whose partitioning must be stable across
 * restarts. Public as sl_fasthash (sluice/core.h), for the tables of
 * applications (the plain word count's).
 */
#include "core.h"

#include <string.h>
#include <sys/random.h>

static uint64_t seed;
/* The secrets xored into the input words before they are multiplied:
 * drawn with the seed. With fixed public secrets (wyhash's), an input
 * word equal to a secret zeroes its product, and the seed never reaches
 * the result: keys built that way collide in every process (red team
 * F5). Random secrets keep the attacker from knowing which words do. */
static uint64_t k1, k2, k3;

static uint64_t mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

__attribute__((constructor)) static void fasthash_seed(void)
{
	uint64_t s = 0;
	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
		s = (uint64_t)sli_now_ns() ^ (uint64_t)(uintptr_t)&s;
	seed = mix(s ^ 0xa0761d6478bd642full, 0xe7037ed1a0b428dbull);
	k1 = mix(seed ^ 0x8ebc6af09c88c6e3ull, 0x589965cc75374cc3ull) | 1;
	k2 = mix(k1 ^ 0x1d8e4e27c47d124full, 0xa0761d6478bd642full) | 1;
	k3 = mix(k2 ^ 0xe7037ed1a0b428dbull, 0x8ebc6af09c88c6e3ull) | 1;
}

static uint64_t r8(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint64_t r4(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

uint64_t sl_fasthash(const void *key, size_t len)
{
	static const uint64_t s0 = 0xa0761d6478bd642full,
	                      s1 = 0xe7037ed1a0b428dbull;
	const uint8_t *p = key;
	uint64_t h = seed, a, b;
	if (!p)
		len = 0; /* NULL hashes as no bytes (never read) */
	if (len <= 16) {
		if (len >= 4) {
			size_t q = (len >> 3) << 2;
			a = (r4(p) << 32) | r4(p + q);
			b = (r4(p + len - 4) << 32) | r4(p + len - 4 - q);
		} else if (len) {
			a = ((uint64_t)p[0] << 16)
			    | ((uint64_t)p[len >> 1] << 8) | p[len - 1];
			b = 0;
		} else
			a = b = 0;
	} else {
		size_t i = len;
		if (i > 48) {
			uint64_t h1 = h, h2 = h;
			do {
				h = mix(r8(p) ^ k1, r8(p + 8) ^ h);
				h1 = mix(r8(p + 16) ^ k2, r8(p + 24) ^ h1);
				h2 = mix(r8(p + 32) ^ k3, r8(p + 40) ^ h2);
				p += 48;
				i -= 48;
			} while (i > 48);
			h ^= h1 ^ h2;
		}
		while (i > 16) {
			h = mix(r8(p) ^ k1, r8(p + 8) ^ h);
			p += 16;
			i -= 16;
		}
		a = r8(p + i - 16);
		b = r8(p + i - 8);
	}
	a ^= k1;
	b ^= h;
	__uint128_t r = (__uint128_t)a * b;
	return mix((uint64_t)r ^ s0 ^ len, (uint64_t)(r >> 64) ^ s1);
}
