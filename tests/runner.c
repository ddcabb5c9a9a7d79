/*
 * runner.c - the CUnit test runner. Usage:
 *   sluice-tests [-s SUITE[,SUITE...]] [-l]
 * SLUICE_TEST_SUITES selects suites too, SLUICE_TEST_ONLY=WORDS the tests
 * whose name holds WORDS. Prints CUnit's summary and then
 * `N passed, N failed` alone on a line; exits non-zero on any failure
 * (test, assertion or suite set-up).
 */
#define _POSIX_C_SOURCE 200809L
#include "sltest.h"
#include "core/fault.h"

#include <CUnit/Basic.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sl_suite_def *suites;
static char tmproot[PATH_MAX];
static char bin_path[PATH_MAX + 16];

void sl_test_register(sl_suite_def *s)
{
	/* keep registration order stable: append */
	sl_suite_def **pp = &suites;
	while (*pp)
		pp = &(*pp)->next;
	s->next = NULL;
	*pp = s;
}

const char *sl_test_sluice_bin(void)
{
	return bin_path;
}

void sl_test_fault_once(int point, const void *obj, uint64_t a, uint64_t b)
{
	sli_fault_rule r = { .point = (sli_fault_point)point,
		.obj = obj,
		.a = a,
		.b = b,
		.times = 1 };
	CU_ASSERT_EQUAL_FATAL(sli_fault_config(&r, 1), 0);
}

int sl_test_sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	if (st == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

const char *sl_test_tmpdir(const char *tag)
{
	static __thread char path[PATH_MAX + 64];
	static int seq;
	snprintf(path, sizeof(path), "%s/%s-%d", tmproot, tag,
	    __atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST));
	sl_test_sh("rm -rf '%s' && mkdir -p '%s'", path, path);
	return path;
}

static int selected(const char *list, const char *name)
{
	if (!list || !*list)
		return 1;
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && strncmp(p, name, n) == 0)
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

static void cleanup_tmp(void)
{
	if (!getenv("SLUICE_KEEP_TMP") && tmproot[0])
		sl_test_sh("rm -rf '%s'", tmproot);
}

int main(int argc, char **argv)
{
	const char *only = getenv("SLUICE_TEST_SUITES");
	int list = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-s") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "-l"))
			list = 1;
	}
	if (list) {
		for (sl_suite_def *s = suites; s; s = s->next)
			printf("%s (%zu tests)\n", s->name, s->ntests);
		return 0;
	}
	/* the sluice command sits next to this runner: build/.../bin */
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = 0;
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	snprintf(bin_path, sizeof(bin_path), "%s/sluice", self);
	if (getenv("SLUICE_BIN"))
		snprintf(
		    bin_path, sizeof(bin_path), "%s", getenv("SLUICE_BIN"));
	const char *t = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(tmproot, sizeof(tmproot), "%s/sluice-tests.XXXXXX", t);
	if (!mkdtemp(tmproot)) {
		perror("sluice-tests: mkdtemp");
		return 2;
	}
	atexit(cleanup_tmp);

	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(
		    stderr, "sluice-tests: CUnit: %s\n", CU_get_error_msg());
		return 2;
	}
	for (sl_suite_def *s = suites; s; s = s->next) {
		if (!selected(only, s->name))
			continue;
		CU_pSuite cs = CU_add_suite(s->name, s->init, s->cleanup);
		if (!cs) {
			fprintf(
			    stderr, "sluice-tests: %s\n", CU_get_error_msg());
			return 2;
		}
		/* SLUICE_TEST_ONLY=WORDS: only the tests whose name holds
		 * WORDS (while working on one test) */
		const char *test_only = getenv("SLUICE_TEST_ONLY");
		for (size_t i = 0; i < s->ntests; i++)
			if (!test_only || strstr(s->tests[i].name, test_only))
				CU_add_test(
				    cs, s->tests[i].name, s->tests[i].fn);
	}
	CU_basic_set_mode(
	    getenv("SLUICE_TEST_VERBOSE") ? CU_BRM_VERBOSE : CU_BRM_NORMAL);
	CU_basic_run_tests();
	unsigned run = CU_get_number_of_tests_run();
	unsigned failed_tests = CU_get_number_of_tests_failed();
	unsigned failed_asserts = CU_get_number_of_failures();
	unsigned suites_failed = CU_get_number_of_suites_failed();
	unsigned failed = failed_tests + suites_failed;
	printf("\n%u passed, %u failed\n", run - failed_tests, failed);
	CU_cleanup_registry();
	return (failed || failed_asserts) ? 1 : 0;
}

int64_t sl_test_count_of(sl_state *s, const char *w)
{
	sl_value v;
	sl_value k = sl_str(w);
	int rc = sl_state_get_group(s, &k, 1, &v);
	if (rc == SL_ENOTFOUND)
		return 0;
	CU_ASSERT_EQUAL(rc, SL_OK);
	return v.type == SL_INT ? v.u.i : -1;
}

sl_topology *sl_test_wordcount(sl_spout *sp, sl_state *st)
{
	sl_topology *t;
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&t, "wc"), SL_OK);
	sl_stream *s = sl_topology_new_stream(t, "lines", sp, "line");
	s = sl_stream_flat_map(s, "line", sl_fn_split_words, NULL, "word");
	s = sl_stream_group_by(s, "word");
	s = sl_stream_persistent_aggregate(
	    s, st, NULL, sl_agg_count(), "count");
	sl_stream_parallelism(s, 2);
	CU_ASSERT_EQUAL(sl_topology_error(t), SL_OK);
	return t;
}
