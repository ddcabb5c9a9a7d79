/* fuzz_frame.c - libFuzzer target: arbitrary bytes as a batch frame,
 * plain and sealed. Decoding must reject or read every tuple without
 * touching memory outside the input. */
#include "transport/transport.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[SL_KEY_BYTES] = { 1, 2, 3 };
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
			while (
			    sli_frame_next(&r, v, SL_MAX_FIELDS, &n) == SL_OK)
				for (size_t i = 0; i < n; i++)
					if (v[i].type == SL_BYTES && v[i].len)
						(void)v[i].u.p[v[i].len - 1];
		}
		free(copy);
	}
	return 0;
}
