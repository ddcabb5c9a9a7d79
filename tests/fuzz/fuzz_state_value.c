/* fuzz_state_value.c - libFuzzer target: arbitrary bytes as a stored state
 * record (what a corrupt LevelDB value could hold). */
#include "state/state.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	sl_value v;
	for (uint64_t committed = 0; committed < 3; committed++)
		if (sli_state_decode_value(copy, size, committed, &v) == SL_OK
		    && v.type == SL_BYTES && v.len)
			(void)v.u.p[v.len - 1];
	free(copy);
	return 0;
}
