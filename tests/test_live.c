/* test_live.c - `sluice run` with a topology object, its config file,
 * and the live view (sluice stats, /metrics scraped by a real Prometheus,
 * the status page in headless Chromium). Each case is a script in
 * tests/live/ run against the built sluice command. */
#include "sltest.h"

#include <stdio.h>
#include <unistd.h>

static int script_within(const char *name, int seconds)
{
	char cwd[1024], tmp[1200];
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	snprintf(tmp, sizeof(tmp), "%s", sl_test_tmpdir(name));
	/* the script's output is shown only when it fails */
	return sl_test_sh("timeout %d bash '%s/tests/live/%s' '%s' '%s' '%s' "
	                  "> '%s.log' 2>&1 || { cat '%s.log'; exit 1; }",
	    seconds, cwd, name, sl_test_sluice_bin(), tmp, cwd, tmp, tmp);
}

static int script(const char *name)
{
	return script_within(name, 120);
}

static void test_template_builds_and_runs_as_the_guide_says(void)
{
	/* `scons install` compiles the release build (build/release, the
	 * fault hook compiled out) the first time: a longer limit */
	CU_ASSERT_EQUAL(script_within("template.sh", 900), 0);
}

static void test_run_names_what_is_wrong(void)
{
	CU_ASSERT_EQUAL(script("run_errors.sh"), 0);
}

static void test_config_file_and_flags(void)
{
	CU_ASSERT_EQUAL(script("config.sh"), 0);
}

static void test_stats_and_metrics_of_a_running_job(void)
{
	CU_ASSERT_EQUAL(script("stats.sh"), 0);
}

static void test_prometheus_scrapes_the_committed_txid(void)
{
	CU_ASSERT_EQUAL(script("prometheus.sh"), 0);
}

static void test_status_page_in_headless_chromium(void)
{
	CU_ASSERT_EQUAL(script_within("status_page.sh", 300), 0);
}

static void test_progress_line_only_on_a_terminal(void)
{
	CU_ASSERT_EQUAL(script("progress.sh"), 0);
}

static void test_idle_connections_do_not_lock_scrapes_out(void)
{
	CU_ASSERT_EQUAL(script("idle_conns.sh"), 0);
}

static void test_counters_example_queried_while_it_runs(void)
{
	CU_ASSERT_EQUAL(script_within("counters.sh", 300), 0);
}

static void test_metrics_auth_off_loopback(void)
{
	CU_ASSERT_EQUAL(script("metrics_auth.sh"), 0);
}

SL_SUITE(live, NULL, NULL,
    { "template builds and runs as the guide says",
        test_template_builds_and_runs_as_the_guide_says },
    { "run names what is wrong", test_run_names_what_is_wrong },
    { "config file and flags", test_config_file_and_flags },
    { "stats and metrics of a running job",
        test_stats_and_metrics_of_a_running_job },
    { "prometheus scrapes the committed txid",
        test_prometheus_scrapes_the_committed_txid },
    { "status page in headless chromium",
        test_status_page_in_headless_chromium },
    { "progress line only on a terminal",
        test_progress_line_only_on_a_terminal },
    { "idle connections do not lock scrapes out",
        test_idle_connections_do_not_lock_scrapes_out },
    { "counters example queried while it runs",
        test_counters_example_queried_while_it_runs },
    { "metrics auth off loopback", test_metrics_auth_off_loopback })
