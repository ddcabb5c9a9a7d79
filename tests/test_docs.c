/* test_docs.c - the C examples of docs/guide.md compile as written, and
 * the full programs among them run: on an input (exit 0, exact counts)
 * and without one (a clear error, never a crash). SLUICE_GUIDE names
 * another guide to check. */
#include "sltest.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root[400], variant[400], cflags[64];

/* The build variant (build/, build/asan/...) from the sluice binary's
 * path, and the source tree (where include/sluice.h is). */
static int locate(void)
{
	snprintf(variant, sizeof(variant), "%s", sl_test_sluice_bin());
	for (int i = 0; i < 2; i++) {
		char *sl = strrchr(variant, '/');
		if (!sl)
			return -1;
		*sl = 0;
	}
	const char *base = strrchr(variant, '/');
	base = base ? base + 1 : variant;
	snprintf(cflags, sizeof(cflags), "%s",
	    !strcmp(base, "asan")       ? "-fsanitize=address,undefined"
	        : !strcmp(base, "tsan") ? "-fsanitize=thread"
	                                : "");
	const char *cands[] = { "%s/..", "%s/../.." };
	for (size_t i = 0; i < 2; i++) {
		char inc[PATH_MAX + 32];
		snprintf(root, sizeof(root), cands[i], variant);
		snprintf(inc, sizeof(inc), "%s/include/sluice.h", root);
		if (access(inc, R_OK) == 0)
			return 0;
	}
	if (getcwd(root, sizeof(root)))
		return 0;
	return -1;
}

static void test_guide_c_examples_compile_and_run(void)
{
	CU_ASSERT_EQUAL_FATAL(locate(), 0);
	char guide[PATH_MAX + 32];
	const char *env = getenv("SLUICE_GUIDE");
	snprintf(guide, sizeof(guide), "%s", env ? env : "");
	if (!env)
		snprintf(guide, sizeof(guide), "%s/docs/guide.md", root);
	char d[600];
	snprintf(d, sizeof(d), "%s", sl_test_tmpdir("guide"));
	/* every ```c block, one file each */
	CU_ASSERT_EQUAL_FATAL(
	    sl_test_sh("awk -v d='%s' '/^```c$/ { n++; f = d \"/ex\" n "
	               "\".c\"; inc = 1; next } /^```/ { inc = 0 } inc { "
	               "print > f }' '%s'",
	        d, guide),
	    0);
	int nblocks = 0, nprogs = 0;
	for (int i = 1; i < 100; i++) {
		char src[700];
		snprintf(src, sizeof(src), "%s/ex%d.c", d, i);
		if (access(src, R_OK) != 0)
			break;
		nblocks++;
		int prog = sl_test_sh("grep -q '^int main' '%s'", src) == 0;
		char cc[1024];
		snprintf(cc, sizeof(cc),
		    "cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra "
		    "-Werror -Wno-unused-parameter %s -I'%s/include'",
		    cflags, root);
		int rc;
		if (!prog)
			rc = sl_test_sh(
			    "%s -c '%s' -o '%s/ex%d.o' 2>'%s/ex%d.err'", cc,
			    src, d, i, d, i);
		else
			rc = sl_test_sh(
			    "%s '%s' -o '%s/ex%d' '%s/lib/libsluice.a' "
			    "-lnanomsg -lleveldb -lsodium -ljansson "
			    "-lm -lrt -pthread 2>'%s/ex%d.err'",
			    cc, src, d, i, variant, d, i);
		if (rc) {
			printf("\n    guide block %d does not compile:\n", i);
			fflush(stdout);
			sl_test_sh("head -20 '%s/ex%d.err'", d, i);
		}
		CU_ASSERT_EQUAL(rc, 0);
		if (!prog || rc)
			continue;
		nprogs++;
		/* without input: an error message and a status, no crash */
		rc = sl_test_sh("mkdir -p '%s/empty%d' && cd '%s/empty%d' && "
		                "'%s/ex%d' >out 2>err",
		    d, i, d, i, d, i);
		CU_ASSERT(rc >= 1 && rc < 126);
		CU_ASSERT_EQUAL(
		    sl_test_sh("test -s '%s/empty%d/err'", d, i), 0);
		/* on an input: exit 0; a word count must count it exactly */
		rc = sl_test_sh(
		    "mkdir -p '%s/run%d' && cd '%s/run%d' && "
		    "printf 'the moon\\nthe sea the\\n' > input.txt && "
		    "'%s/ex%d' >out 2>err",
		    d, i, d, i, d, i);
		CU_ASSERT_EQUAL(rc, 0);
		if (sl_test_sh("test -d '%s/run%d/wc-state'", d, i) == 0)
			CU_ASSERT_EQUAL(
			    sl_test_sh("'%s' state dump '%s/run%d/wc-state' | "
			               "LC_ALL=C sort | cmp -s - /dev/fd/3 "
			               "3<<EOF\nmoon\t1\nsea\t1\nthe\t3\nEOF",
			        sl_test_sluice_bin(), d, i),
			    0);
	}
	printf("\n    %s: %d C blocks compiled, %d programs run\n", guide,
	    nblocks, nprogs);
	CU_ASSERT(nblocks >= 1);
	CU_ASSERT(nprogs >= 1);
}

SL_SUITE(docs, NULL, NULL,
    { "guide C examples compile and run",
        test_guide_c_examples_compile_and_run })
