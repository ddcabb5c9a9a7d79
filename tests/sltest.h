/*
 * sltest.h - how a test file registers its CUnit suite without touching a
 * shared list: SL_SUITE(name, init, cleanup, {"test name", fn}, ...).
 * The runner (tests/runner.c) collects every suite at start-up.
 */
#ifndef SLTEST_H
#define SLTEST_H

#include "sluice.h"

#include <CUnit/CUnit.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sl_test_def {
	const char *name;
	void (*fn)(void);
} sl_test_def;

typedef struct sl_suite_def {
	const char *name;
	int (*init)(void);
	int (*cleanup)(void);
	const sl_test_def *tests;
	size_t ntests;
	struct sl_suite_def *next;
} sl_suite_def;

void sl_test_register(sl_suite_def *s);

/* Path of the built `sluice` command (for tests that run it as a child). */
const char *sl_test_sluice_bin(void);
/* A fresh empty temporary directory (owned by the runner, removed at exit
 * unless SLUICE_KEEP_TMP is set). The returned string is static per call
 * site until the next call; copy it. */
const char *sl_test_tmpdir(const char *tag);
/* Runs a shell command, returns its exit status (or -1). */
int sl_test_sh(const char *fmt, ...);
/* Arms fault point (core/fault.h, an sli_fault_point) of obj to fire once
 * at (a, b), 0 = any; every other rule is disarmed. */
void sl_test_fault_once(int point, const void *obj, uint64_t a, uint64_t b);
/* The committed count of word w in state s (0 when absent, -1 when not
 * an int). */
int64_t sl_test_count_of(sl_state *s, const char *w);
/* split -> group_by(word) -> persistent Count, parallelism 2 at the
 * state: the word count topology of the trident and spouts suites. */
sl_topology *sl_test_wordcount(sl_spout *sp, sl_state *st);

#define SL_SUITE(sname, sinit, sclean, ...)                                   \
	static const sl_test_def sl_tests_##sname[] = { __VA_ARGS__ };        \
	static sl_suite_def sl_suite_##sname                                  \
	    = { #sname, sinit, sclean, sl_tests_##sname,                      \
		      sizeof(sl_tests_##sname) / sizeof(sl_tests_##sname[0]), \
		      NULL };                                                 \
	__attribute__((constructor)) static void sl_reg_##sname(void)         \
	{                                                                     \
		sl_test_register(&sl_suite_##sname);                          \
	}

#endif
