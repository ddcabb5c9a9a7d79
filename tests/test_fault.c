/* test_fault.c - the fault hook (core/fault.h): rule syntax, matching,
 * once-only rules, lazy arguments, and SLUICE_FAULT read by a child
 * process (the sluice command). */
#include "../core/fault.h"
#include "sltest.h"
#include "sluice.h"

#include <stdio.h>
#include <string.h>

static void test_rules_parse_and_bad_rules_are_named(void)
{
	sli_fault_rule r[4];
	size_t n = 9;
	CU_ASSERT_EQUAL(sli_fault_parse("commit@3/1*1,,plain_drop~0.25,"
	                                "kill_before_commit@17",
	                    r, 4, &n),
	    SL_OK);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_EQUAL(r[0].point, SLI_FAULT_COMMIT);
	CU_ASSERT_EQUAL(r[0].a, 3);
	CU_ASSERT_EQUAL(r[0].b, 1);
	CU_ASSERT_EQUAL(r[0].times, 1);
	CU_ASSERT_EQUAL(r[1].point, SLI_FAULT_PLAIN_DROP);
	CU_ASSERT(r[1].rate == 0.25);
	CU_ASSERT_EQUAL(r[1].times, 0);
	CU_ASSERT_EQUAL(r[2].point, SLI_FAULT_KILL_BEFORE_COMMIT);
	CU_ASSERT_EQUAL(r[2].a, 17);
	CU_ASSERT_EQUAL(r[2].b, 0);
	CU_ASSERT_EQUAL(sli_fault_parse("", r, 4, &n), SL_OK);
	CU_ASSERT_EQUAL(n, 0);

	const char *bad[] = { "nosuch", "commit@", "commit@x", "commit@3/",
		"commit@3x", "plain_drop~0", "plain_drop~1.5", "commit*",
		"commit*-1", "commitx" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(sli_fault_parse(bad[i], r, 4, &n), SL_EINVAL);
		CU_ASSERT(strstr(sl_errdetail(), "SLUICE_FAULT") != NULL);
	}
	CU_ASSERT(strstr((sli_fault_parse("nosuch", r, 4, &n), sl_errdetail()),
	              "'nosuch'")
	    != NULL);
	CU_ASSERT_EQUAL(
	    sli_fault_parse("spout,spout,spout", r, 2, &n), SL_ELIMIT);
	CU_ASSERT_STRING_EQUAL(
	    sli_fault_name(SLI_FAULT_STATE_COMMIT), "state_commit");
	CU_ASSERT_PTR_NULL(sli_fault_name(SLI_FAULT_NONE));
	CU_ASSERT_PTR_NULL(sli_fault_name(SLI_FAULT_COUNT));
}

static int evaluated;
static uint64_t draw(uint64_t v)
{
	evaluated++;
	return v;
}

static void test_rules_match_object_and_values_and_fire_once(void)
{
	int x, y; /* two instances */
	sli_fault_rule r[] = {
		{ .point = SLI_FAULT_COMMIT, .obj = &x, .a = 3, .times = 1 },
		{ .point = SLI_FAULT_STATE_AFTER_WRITE, .b = 2, .times = 2 },
	};
	CU_ASSERT_EQUAL_FATAL(sli_fault_config(r, 2), SL_OK);
	CU_ASSERT_EQUAL(sli_fault(SLI_FAULT_COMMIT, &x, 2, 1), 0);
	CU_ASSERT_EQUAL(sli_fault(SLI_FAULT_COMMIT, &y, 3, 1), 0);
	CU_ASSERT_EQUAL(sli_fault(SLI_FAULT_SPOUT, &x, 3, 1), 0);
	CU_ASSERT_EQUAL(sli_fault(SLI_FAULT_COMMIT, &x, 3, 7), 1);
	CU_ASSERT_EQUAL(sli_fault(SLI_FAULT_COMMIT, &x, 3, 7), 0); /* spent */
	/* b must match; any object and a; twice */
	CU_ASSERT_EQUAL(sli_fault(SLI_FAULT_STATE_AFTER_WRITE, &y, 9, 1), 0);
	CU_ASSERT_EQUAL(sli_fault(SLI_FAULT_STATE_AFTER_WRITE, &y, 9, 2), 1);
	CU_ASSERT_EQUAL(sli_fault(SLI_FAULT_STATE_AFTER_WRITE, &x, 1, 2), 1);
	CU_ASSERT_EQUAL(sli_fault(SLI_FAULT_STATE_AFTER_WRITE, &x, 1, 2), 0);
	/* every rule spent: nothing armed, the arguments are not evaluated */
	evaluated = 0;
	CU_ASSERT_EQUAL(
	    sli_fault(SLI_FAULT_STATE_AFTER_WRITE, &x, draw(1), 2), 0);
	CU_ASSERT_EQUAL(evaluated, 0);

	/* a rate reads a as a uniform draw */
	sli_fault_rule d = { .point = SLI_FAULT_PLAIN_DROP, .rate = 0.5 };
	CU_ASSERT_EQUAL_FATAL(sli_fault_config(&d, 1), SL_OK);
	CU_ASSERT_EQUAL(sli_fault(SLI_FAULT_PLAIN_DROP, &x, draw(0), 1), 1);
	CU_ASSERT_EQUAL(
	    sli_fault(SLI_FAULT_PLAIN_DROP, &x, draw(UINT64_MAX), 1), 0);
	CU_ASSERT_EQUAL(
	    sli_fault(SLI_FAULT_PLAIN_DROP, &x, draw(UINT64_MAX / 4), 1), 1);
	CU_ASSERT_EQUAL(evaluated, 3);
	/* other points stay unarmed */
	evaluated = 0;
	CU_ASSERT_EQUAL(sli_fault(SLI_FAULT_SPOUT, &x, draw(0), 0), 0);
	CU_ASSERT_EQUAL(evaluated, 0);

	/* bad rules are refused and leave the armed ones as they were */
	sli_fault_rule bad[]
	    = { { .point = SLI_FAULT_COUNT }, { .point = SLI_FAULT_NONE },
		      { .point = SLI_FAULT_SPOUT, .rate = 2 } };
	for (size_t i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(sli_fault_config(&bad[i], 1), SL_EINVAL);
	CU_ASSERT_EQUAL(sli_fault(SLI_FAULT_PLAIN_DROP, &x, 0, 1), 1);
	CU_ASSERT_EQUAL(sli_fault_config(NULL, 0), SL_OK);
	CU_ASSERT_EQUAL(sli_fault(SLI_FAULT_PLAIN_DROP, &x, 0, 1), 0);
}

/* A child process reads SLUICE_FAULT once: the sluice command drops
 * every frame between its plain bolts, and refuses a bad rule. */
static void test_environment_arms_a_child_process(void)
{
	const char *d = sl_test_tmpdir("fault");
	char dir[600];
	snprintf(dir, sizeof(dir), "%s", d);
	CU_ASSERT_EQUAL_FATAL(
	    sl_test_sh("printf 'a b c\\nd e f\\n' > '%s/in.txt'", dir), 0);
	CU_ASSERT_EQUAL(sl_test_sh("SLUICE_FAULT=plain_drop~1 '%s' wordcount "
	                           "--mode plain --acking off --input "
	                           "'%s/in.txt' --stats '%s/st.json' --quiet "
	                           "> /dev/null",
	                    sl_test_sluice_bin(), dir, dir),
	    0);
	CU_ASSERT_EQUAL(
	    sl_test_sh("grep -q '\"dropped_frames\":[1-9]' '%s/st.json'", dir),
	    0);
	CU_ASSERT_EQUAL(
	    sl_test_sh("grep -q '\"lost_tuples\":[1-9]' '%s/st.json'", dir),
	    0);
	/* without the variable nothing is dropped */
	CU_ASSERT_EQUAL(sl_test_sh("'%s' wordcount --mode plain --acking off "
	                           "--input '%s/in.txt' --stats '%s/st.json' "
	                           "--quiet > /dev/null",
	                    sl_test_sluice_bin(), dir, dir),
	    0);
	CU_ASSERT_EQUAL(
	    sl_test_sh("grep -q '\"dropped_frames\":0,' '%s/st.json'", dir),
	    0);
	CU_ASSERT_EQUAL(sl_test_sh("SLUICE_FAULT=plain_drip '%s' wordcount "
	                           "--mode plain --input '%s/in.txt' --quiet "
	                           "> /dev/null 2> '%s/err'",
	                    sl_test_sluice_bin(), dir, dir),
	    2);
	CU_ASSERT_EQUAL(
	    sl_test_sh(
	        "grep -q \"unknown fault point 'plain_drip'\" '%s/err'", dir),
	    0);
}

SL_SUITE(fault, NULL, NULL,
    { "rules parse and bad rules are named",
        test_rules_parse_and_bad_rules_are_named },
    { "rules match object and values and fire once",
        test_rules_match_object_and_values_and_fire_once },
    { "environment arms a child process",
        test_environment_arms_a_child_process })
