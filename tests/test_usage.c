/* test_usage.c - the command line does what was asked and nothing else:
 * -h/--help on every sub-command prints usage on stdout, exits 0 and
 * touches nothing (`state repair --help` used to create a LevelDB folder
 * named --help); unknown options are refused; `./run demo` with its DRPC
 * port taken never shows another server's answers. SLUICE_BIN and
 * SLUICE_DEMO_SCRIPT name another binary or demo to check. */
#include "sltest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const subs[]
    = { "wordcount", "wordcount --mode plain", "wordcount --acking on",
	      "state", "state dump", "state get", "state stats",
	      "state repair", "state upgrade", "drpc", "state repair somedir",
	      "state get somedir k", "wordcount --input x --state y" };

static void test_help_everywhere_and_nothing_created(void)
{
	const char *bin = sl_test_sluice_bin();
	char d[600];
	snprintf(d, sizeof(d), "%s", sl_test_tmpdir("help"));
	int bad = 0;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		for (int h = 0; h < 2; h++) {
			const char *opt = h ? "-h" : "--help";
			int rc
			    = sl_test_sh("cd '%s' && '%s' %s %s >out 2>err && "
			                 "grep -q '^usage: sluice' out && "
			                 "! test -s err && test \"$(ls -A | "
			                 "sort | tr '\\n' ' ')\" = 'err out '",
			        d, bin, subs[i], opt);
			if (rc) {
				printf("\n    sluice %s %s: exit, output or "
				       "files "
				       "wrong",
				    subs[i], opt);
				sl_test_sh("cd '%s' && ls -A && cat err", d);
				bad++;
			}
			sl_test_sh("cd '%s' && rm -rf -- * .[!.]*", d);
		}
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_unknown_options_refused(void)
{
	const char *bin = sl_test_sluice_bin();
	char d[600];
	snprintf(d, sizeof(d), "%s", sl_test_tmpdir("badopt"));
	int bad = 0;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		int rc
		    = sl_test_sh("cd '%s' && '%s' %s --frobnicate >out 2>err; "
		                 "test $? -eq 2 && grep -q 'frobnicate' err "
		                 "&& test \"$(ls -A | sort | tr '\\n' ' ')\" "
		                 "= 'err out '",
		        d, bin, subs[i]);
		if (rc) {
			printf("\n    sluice %s --frobnicate: not refused",
			    subs[i]);
			bad++;
		}
		sl_test_sh("cd '%s' && rm -rf -- * .[!.]*", d);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* The demo's DRPC port held by another server (it answers "FOREIGN"):
 * the demo must take another port or fail, never print that answer. */
static void test_demo_with_its_port_taken(void)
{
	char script[4200];
	const char *env = getenv("SLUICE_DEMO_SCRIPT");
	if (env)
		snprintf(script, sizeof(script), "%s", env);
	else if (getcwd(script, 2048))
		strcat(script, "/examples/demo.sh");
	if (access(script, R_OK) != 0) {
		printf("\n    (no %s: skipped)", script);
		return;
	}
	char d[600];
	snprintf(d, sizeof(d), "%s", sl_test_tmpdir("demo"));
	int rc = sl_test_sh(
	    "nanocat --rep --bind tcp://127.0.0.1:37741 "
	    "--data '{\"result\":\"FOREIGN\"}' >/dev/null "
	    "2>&1 & n=$!; sleep 0.3; SLUICE_BIN='%s' SLUICE_DEMO_PORT=37741 "
	    "timeout 120 bash '%s' >'%s/out' 2>&1; rc=$?; "
	    "kill $n; exit $rc",
	    sl_test_sluice_bin(), script, d);
	int foreign = sl_test_sh("grep -q FOREIGN '%s/out'", d) == 0;
	if (foreign || rc)
		sl_test_sh("tail -12 '%s/out'", d);
	CU_ASSERT(!foreign);
	/* it moved to a free port and said so */
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(
	    sl_test_sh("grep -q 'port 37741 is in use' '%s/out'", d), 0);
	CU_ASSERT_EQUAL(sl_test_sh("grep -q '^demo done' '%s/out'", d), 0);
}

SL_SUITE(usage, NULL, NULL,
    { "help everywhere and nothing created",
        test_help_everywhere_and_nothing_created },
    { "unknown options refused", test_unknown_options_refused },
    { "demo with its port taken", test_demo_with_its_port_taken })
