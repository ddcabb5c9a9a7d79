/* test_api_core.c - the public calls the sluice command needed from the
 * inside (sluice/core.h): error details set by the caller, derived and
 * wiped keys, and the text form of values over caller buffers. */
#include "sltest.h"
#include "sluice.h"

#include <stdio.h>
#include <string.h>

static int fail_with(const char *path)
{
	return sl_errorf(SL_EIO, "read %s: %s", path, "broken pipe");
}

static void test_errorf_sets_the_detail_and_returns_the_code(void)
{
	CU_ASSERT_EQUAL(fail_with("in.txt"), SL_EIO);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(), "read in.txt: broken pipe");
	/* a long detail is cut, never inside a UTF-8 sequence */
	char big[1200];
	for (size_t i = 0; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2); /* é */
	big[sizeof(big) - 2] = 0;
	CU_ASSERT_EQUAL(sl_errorf(SL_EINVAL, "x%s", big), SL_EINVAL);
	size_t n = strlen(sl_errdetail());
	CU_ASSERT(n > 400 && n < 512);
	CU_ASSERT_EQUAL(n % 2, 1); /* "x" and whole two-byte sequences */
}

static void test_derived_keys_differ_per_context_and_wipe_zeroes(void)
{
	uint8_t k[SL_KEY_BYTES], a[SL_KEY_BYTES], b[SL_KEY_BYTES],
	    a2[SL_KEY_BYTES], z[SL_KEY_BYTES];
	memset(k, 7, sizeof(k));
	memset(z, 0, sizeof(z));
	sl_key_derive(a, k, "sluice-http-bearer");
	sl_key_derive(a2, k, "sluice-http-bearer");
	sl_key_derive(b, k, "topology-x");
	CU_ASSERT_EQUAL(memcmp(a, a2, sizeof(a)), 0); /* deterministic */
	CU_ASSERT_NOT_EQUAL(memcmp(a, b, sizeof(a)), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a, k, sizeof(a)), 0);
	k[0] ^= 1; /* another cluster key, another derived key */
	sl_key_derive(a2, k, "sluice-http-bearer");
	CU_ASSERT_NOT_EQUAL(memcmp(a, a2, sizeof(a)), 0);
	sl_wipe(k, sizeof(k));
	CU_ASSERT_EQUAL(memcmp(k, z, sizeof(k)), 0);
}

static void test_values_text_form_round_trips(void)
{
	sl_value v[5] = { sl_int(5), sl_str("5"), sl_double(2.5), sl_null(),
		sl_bytes("a\tb\"", 4) };
	char buf[128];
	size_t len = 0;
	CU_ASSERT_EQUAL_FATAL(
	    sl_values_format(v, 5, buf, sizeof(buf), &len), SL_OK);
	CU_ASSERT_STRING_EQUAL(buf, "5\t\"5\"\t2.5\tnull\t\"a\\tb\\\"\"");
	CU_ASSERT_EQUAL(len, strlen(buf));
	/* too small: SL_EFULL and the length needed */
	size_t need = 0;
	CU_ASSERT_EQUAL(sl_values_format(v, 5, buf, len, &need), SL_EFULL);
	CU_ASSERT_EQUAL(need, len);
	/* and back: the same values, bytes in the caller's store */
	CU_ASSERT_EQUAL_FATAL(
	    sl_values_format(v, 5, buf, sizeof(buf), &len), SL_OK);
	uint8_t store[128];
	sl_value w[8];
	size_t n = 0;
	CU_ASSERT_EQUAL_FATAL(
	    sl_values_parse(buf, store, sizeof(store), w, 8, &n), SL_OK);
	CU_ASSERT_EQUAL_FATAL(n, 5);
	for (size_t i = 0; i < 5; i++)
		CU_ASSERT(sl_value_equal(&v[i], &w[i]));
	CU_ASSERT(w[4].u.p >= store && w[4].u.p + w[4].len <= store + 128);
	/* bad input, too many values, too small a store */
	CU_ASSERT_EQUAL(
	    sl_values_parse("\"open", store, sizeof(store), w, 8, &n),
	    SL_EINVAL);
	CU_ASSERT(strstr(sl_errdetail(), "unterminated") != NULL);
	CU_ASSERT_EQUAL(
	    sl_values_parse("a\tb\tc", store, sizeof(store), w, 2, &n),
	    SL_EINVAL);
	CU_ASSERT_EQUAL(
	    sl_values_parse("abcdef", store, 3, w, 8, &n), SL_EFULL);
	CU_ASSERT_EQUAL(sl_values_parse("abcdef", store, 6, w, 8, &n), SL_OK);
}

SL_SUITE(api_core, NULL, NULL,
    { "errorf sets the detail and returns the code",
        test_errorf_sets_the_detail_and_returns_the_code },
    { "derived keys differ per context and wipe zeroes",
        test_derived_keys_differ_per_context_and_wipe_zeroes },
    { "values text form round trips", test_values_text_form_round_trips })
