/* test_app.c - the sl_app object a topology in a shared object builds on
 * (include/sluice.h, "topology objects"), called from C: the topology by
 * name, states by name (LevelDB under the --state directory or memory),
 * sl_app_fail's message and the progress counter, as the `sluice run`
 * runner reads them through the host side (sl_app_new and the rest). */
#include "sluice.h"
#include "sltest.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t progress_of(void *user)
{
	return *(const uint64_t *)user;
}

static void test_topology_states_failure_and_progress(void)
{
	char dir[600], sub[700];
	snprintf(dir, sizeof(dir), "%s/state", sl_test_tmpdir("app"));
	sl_app *a;
	CU_ASSERT_EQUAL_FATAL(sl_app_new(&a, dir, NULL), SL_OK);
	/* one topology per app: the first name sticks */
	CU_ASSERT_PTR_NULL(sl_app_get_topology(a));
	sl_topology *t = sl_app_topology(a, "clicks");
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_EQUAL(sl_app_topology(a, "other"), t);
	CU_ASSERT_PTR_EQUAL(sl_app_get_topology(a), t);
	CU_ASSERT_STRING_EQUAL(sl_app_name(a), "clicks");
	/* named states: subdirectories of the state directory, made on
	 * first use; the same name gives the same state */
	struct stat sb;
	CU_ASSERT_NOT_EQUAL(stat(dir, &sb), 0);
	sl_state *s1, *s2, *bad = (sl_state *)1;
	CU_ASSERT_EQUAL_FATAL(sl_app_state(a, "counts", &s1), SL_OK);
	snprintf(sub, sizeof(sub), "%s/counts/CURRENT", dir);
	CU_ASSERT_EQUAL(stat(sub, &sb), 0);
	CU_ASSERT_EQUAL(sl_app_state(a, "counts", &s2), SL_OK);
	CU_ASSERT_PTR_EQUAL(s1, s2);
	CU_ASSERT_EQUAL(sl_app_state(a, "owners", &s2), SL_OK);
	CU_ASSERT_PTR_NOT_EQUAL(s1, s2);
	/* names are plain names */
	CU_ASSERT_EQUAL(sl_app_state(a, "a/b", &bad), SL_EINVAL);
	CU_ASSERT_PTR_NULL(bad);
	CU_ASSERT_EQUAL(sl_app_state(a, "..", &bad), SL_EINVAL);
	CU_ASSERT_EQUAL(sl_app_state(a, ".", &bad), SL_EINVAL);
	CU_ASSERT_EQUAL(sl_app_nstates(a), 2);
	const char *name = NULL;
	CU_ASSERT_PTR_EQUAL(sl_app_state_at(a, 0, &name), s1);
	CU_ASSERT_STRING_EQUAL(name, "counts");
	CU_ASSERT_PTR_NULL(sl_app_state_at(a, 2, &name));
	/* the app holds the directory's lock until it is freed */
	sl_state *other;
	snprintf(sub, sizeof(sub), "%s/counts", dir);
	CU_ASSERT_EQUAL(sl_state_open_leveldb(&other, sub, NULL), SL_ELOCKED);
	/* sl_app_fail: SL_EINVAL and the message for the runner */
	CU_ASSERT_STRING_EQUAL(sl_app_error(a), "");
	CU_ASSERT_EQUAL(
	    sl_app_fail(a, "no input file %s (%d)", "x.txt", 2), SL_EINVAL);
	CU_ASSERT_STRING_EQUAL(sl_app_error(a), "no input file x.txt (2)");
	/* progress: none until set, then read through the function */
	const char *unit = NULL;
	uint64_t v = 0, words = 41;
	CU_ASSERT_EQUAL(sl_app_progress(a, &unit, &v), 0);
	sl_app_set_progress(a, "words", progress_of, &words);
	words++;
	CU_ASSERT_EQUAL(sl_app_progress(a, &unit, &v), 1);
	CU_ASSERT_STRING_EQUAL(unit, "words");
	CU_ASSERT_EQUAL(v, 42);
	sl_app_set_progress(a, NULL, progress_of, &words);
	CU_ASSERT_EQUAL(sl_app_progress(a, &unit, &v), 1);
	CU_ASSERT_STRING_EQUAL(unit, "items");
	sl_app_free(a);
	/* freed: the states are closed, their lock released */
	CU_ASSERT_EQUAL(sl_state_open_leveldb(&other, sub, NULL), SL_OK);
	sl_state_close(other);
}

static void test_memory_app_states(void)
{
	sl_app *a;
	CU_ASSERT_EQUAL_FATAL(sl_app_new(&a, NULL, NULL), SL_OK);
	sl_state *s1, *s2;
	CU_ASSERT_EQUAL(sl_app_state(a, "counts", &s1), SL_OK);
	CU_ASSERT_EQUAL(sl_app_state(a, NULL, &s2), SL_OK);
	CU_ASSERT_PTR_NOT_EQUAL(s1, s2);
	sl_state_stats st;
	CU_ASSERT_EQUAL(sl_state_stats_get(s1, &st), SL_OK);
	CU_ASSERT_EQUAL(st.keys, 0);
	CU_ASSERT_EQUAL(sl_app_nstates(a), 2);
	CU_ASSERT_STRING_EQUAL(sl_app_name(a), "topology");
	sl_app_free(a);
	sl_app_free(NULL);
}

SL_SUITE(app, NULL, NULL,
    { "topology, states, failure and progress",
        test_topology_states_failure_and_progress },
    { "memory states by name", test_memory_app_states })
