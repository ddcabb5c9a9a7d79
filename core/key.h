/*
 * key.h - state keys of group values (docs/state-format.md, "Keys"):
 * typed and injective, so the int 5 and the string "5" are different
 * keys and no byte inside a value can make two groups meet. Per value:
 *
 *   00                      null
 *   01 8 bytes              int, big-endian with the sign bit flipped
 *   02 8 bytes              double, big-endian IEEE bits, sign-flipped
 *                           (negative: all bits flipped)
 *   03 varint len, bytes    bytes
 *
 * Each value's encoding is self-delimiting, so a key is their plain
 * concatenation and decodes back to exactly one list of values. Ints
 * and doubles sort numerically in key byte order.
 *
 * The text form (the `sluice state` tools): values separated by TAB; a
 * bytes value as is when it is printable UTF-8 without spaces that would
 * not read back as something else, otherwise "quoted" with C escapes
 * (\" \\ \t \n \r \xHH); ints in decimal; doubles in the shortest %g
 * form that reads back (up to %.17g), always
 * a '.', 'e', "inf" or "nan"; null as null. So 5 is the int, "5" the
 * string.
 */
#ifndef SLI_KEY_H
#define SLI_KEY_H

#include "core.h"

/* Appends the key of the n values g to out. SL_EINVAL for a bad type. */
int sli_key_put(sli_buf *out, const sl_value *g, size_t n);
/* Decodes the key [p, p+len) into at most max values (bytes borrow p).
 * SL_ECORRUPT when malformed, SL_ELIMIT when it holds more than max. */
int sli_key_get(
    const uint8_t *p, size_t len, sl_value *v, size_t max, size_t *n);
/* Appends the text form of the n values (no NUL). */
int sli_key_format(sli_buf *out, const sl_value *v, size_t n);
/* Parses the text form s (NUL-terminated) into at most max values; bytes
 * values are unescaped into store (which must outlive v). SL_EINVAL with
 * a detail on bad input. */
int sli_key_parse(
    const char *s, sli_buf *store, sl_value *v, size_t max, size_t *n);

/* The keys of a batch's groups for one state write (sli_state_apply):
 * key i encodes the i-th group added; the keys point into the list's own
 * buffer. Owned by the caller; one thread. */
typedef struct sli_keylist {
	sli_buf buf;
	size_t *offs;
	sl_value *keys;
	size_t n, cap;
} sli_keylist;

/* An empty list with room for cap keys. SL_ENOMEM (the list is still
 * safe to free). */
int sli_keylist_init(sli_keylist *l, size_t cap);
/* Adds the key of the ng values g. SL_EINVAL for a bad type, SL_ELIMIT
 * past the list's room. Inline: called once per group of every batch. */
static inline int sli_keylist_add(sli_keylist *l, const sl_value *g, size_t ng)
{
	if (l->n >= l->cap)
		return SL_ELIMIT;
	l->offs[l->n] = l->buf.len;
	int rc = sli_key_put(&l->buf, g, ng);
	if (rc)
		return rc;
	l->keys[l->n].len = (uint32_t)(l->buf.len - l->offs[l->n]);
	l->n++;
	return SL_OK;
}
/* The n keys added, as SL_BYTES values (valid until the list is freed). */
const sl_value *sli_keylist_keys(sli_keylist *l);
void sli_keylist_free(sli_keylist *l);

#endif
