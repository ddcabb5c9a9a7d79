/* test_examples.c - the shipped examples run and keep their promises. */
#include "sltest.h"

#include <stdio.h>
#include <string.h>

/* counters: every record is counted once in the url and status counters,
 * and the DRPC `top` answer agrees with the state. */
static void test_counters_count_every_record_once(void)
{
	char bin[4200], d[600];
	snprintf(bin, sizeof(bin), "%s", sl_test_sluice_bin());
	char *slash = strrchr(bin, '/');
	if (slash)
		strcpy(slash + 1, "counters");
	snprintf(d, sizeof(d), "%s", sl_test_tmpdir("counters"));
	CU_ASSERT_EQUAL(sl_test_sh("'%s' --state '%s/st' --records 30000 "
	                           "--drpc tcp://127.0.0.1:37721 2>/dev/null",
	                    bin, d),
	    0);
	for (int i = 0; i < 2; i++)
		CU_ASSERT_EQUAL(
		    sl_test_sh("test $('%s' state dump '%s/st/%s' | "
		               "awk -F'\\t' '{ s += $2 } END { "
		               "print s }') -eq 30000",
		        sl_test_sluice_bin(), d, i ? "statuses" : "urls"),
		    0);
	/* a rerun resumes: nothing counted twice */
	CU_ASSERT_EQUAL(sl_test_sh("'%s' --state '%s/st' --records 30000 "
	                           "--drpc tcp://127.0.0.1:37721 2>/dev/null",
	                    bin, d),
	    0);
	CU_ASSERT_EQUAL(
	    sl_test_sh("test $('%s' state dump '%s/st/urls' | "
	               "awk -F'\\t' '{ s += $2 } END { print s }') "
	               "-eq 30000",
	        sl_test_sluice_bin(), d),
	    0);
}

SL_SUITE(examples, NULL, NULL,
    { "counters count every record once",
        test_counters_count_every_record_once })
