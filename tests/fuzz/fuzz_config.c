/* fuzz_config.c - libFuzzer target: arbitrary bytes through the parsers
 * of configuration a user types: field lists, semantics names, cluster
 * keys in hex. */
#include "core/core.h"
#include "sluice/state.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	sl_fields *f = NULL;
	if (sl_fields_parse(&f, s) == SL_OK) {
		for (size_t i = 0; i < sl_fields_count(f); i++)
			if (sl_fields_index(f, sl_fields_name(f, i)) < 0)
				abort(); /* every parsed name resolves */
		sl_fields_free(f);
	}
	sl_semantics sem;
	(void)sl_semantics_parse(s, &sem);
	uint8_t key[SL_KEY_BYTES];
	(void)sl_key_from_hex(key, s);
	free(s);
	return 0;
}
