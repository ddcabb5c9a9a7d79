/* sentence.c - Storm's random sentence spout, seeded: sentence i is a pure
 * function of (seed, i), so replays are identical. Meta: first and end
 * index of the batch. */
#include "core/core.h"
#include "sluice/spouts.h"
#include "trident/spout.h"

#include <stdlib.h>
#include <string.h>

static const sl_spout_ops sentence_ops; /* at the end */

static const char *const sentences[]
    = { "the cow jumped over the moon", "an apple a day keeps the doctor away",
	      "four score and seven years ago",
	      "snow white and the seven dwarfs", "i am at two with nature" };

typedef struct sentence {
	uint64_t seed, n;
} sentence;

int sl_spout_sentence_new(sl_spout **out, uint64_t seed, uint64_t n)
{
	SLI_NONNULL(out);
	sentence *s = calloc(1, sizeof(*s));
	if (!s)
		return SL_ENOMEM;
	s->seed = seed;
	s->n = n;
	return sl_spout_new(out, &sentence_ops, s);
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static int sentence_emit(void *self, sl_spout_ctx *ctx, sl_collector *out)
{
	sentence *s = self;
	size_t len;
	uint64_t start, end;
	const uint8_t *m = sl_spout_replay_meta(ctx, &len);
	if (m && len == 16) {
		start = sli_le64_get(m);
		end = sli_le64_get(m + 8);
	} else {
		m = sl_spout_prev_meta(ctx, &len);
		start = m && len == 16 ? sli_le64_get(m + 8) : 0;
		end = start + sl_spout_batch_size(ctx);
		if (s->n && end > s->n)
			end = s->n;
	}
	uint8_t mb[16];
	sli_le64_put(mb, start);
	sli_le64_put(mb + 8, end);
	int rc = sl_spout_set_meta(ctx, mb, 16);
	if (s->n && end >= s->n)
		sl_spout_set_eof(ctx);
	for (uint64_t i = start; i < end && !rc; i++) {
		const char *txt = sentences[mix(s->seed ^ mix(i))
		    % (sizeof(sentences) / sizeof(sentences[0]))];
		sl_value v = sl_str(txt);
		rc = sl_emit(out, &v, 1);
	}
	return rc;
}

static const sl_spout_ops sentence_ops
    = { "random-sentence", 1, sentence_emit, NULL, free };
