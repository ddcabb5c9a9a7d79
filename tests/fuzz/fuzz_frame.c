/* fuzz_frame.c - libFuzzer target: arbitrary bytes as a batch frame,
 * plain and sealed. Decoding must reject or read every tuple without
 * touching memory outside the input; every value of an accepted frame
 * must decode (the validation pass skips values, it does not decode
 * them), and the input as a single value must be skipped exactly as it
 * is decoded. */
#include "transport/transport.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[SL_KEY_BYTES] = { 1, 2, 3 };
	const uint8_t *p1 = data, *p2 = data;
	sl_value one;
	int r1 = sli_value_get(&p1, data + size, &one);
	if (r1 != sli_value_skip(&p2, data + size) || p1 != p2)
		abort();
	for (int sealed = 0; sealed < 2; sealed++) {
		uint8_t *copy = malloc(size ? size : 1);
		if (!copy)
			return 0;
		memcpy(copy, data, size);
		sli_frame_reader r;
		if (sli_frame_decode(&r, copy, size, sealed ? key : NULL)
		    == SL_OK) {
			sl_value v[SL_MAX_FIELDS];
			size_t n;
			uint32_t left = r.left;
			for (; left; left--) {
				/* each tuple, checked value by value */
				const uint8_t *q = r.p;
				uint64_t arity;
				if (sli_varint_get(&q, r.end, &arity))
					abort();
				for (uint64_t i = 0; i < arity; i++)
					if (sli_value_get(&q, r.end, &v[0]))
						abort();
				if (sli_frame_next(&r, v, SL_MAX_FIELDS, &n)
				        != SL_OK
				    || r.p != q)
					abort();
				for (size_t i = 0; i < n; i++)
					if (v[i].type == SL_BYTES && v[i].len)
						(void)v[i].u.p[v[i].len - 1];
			}
		}
		free(copy);
	}
	return 0;
}
