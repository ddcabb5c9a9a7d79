/* fuzz_drpc_request.c - libFuzzer target: arbitrary bytes as a DRPC
 * request through the server's checks and the UTF-8 validator. */
#include "drpc/drpc.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	size_t tab = 0;
	const char *why = NULL;
	if (sli_drpc_check_request(copy, size, 65536, &tab, &why) == SL_OK
	    && (tab >= size || copy[tab] != '\t'))
		abort(); /* an accepted request always has its TAB */
	free(copy);
	return 0;
}
