/* test_difftest.c - the differential topology tester in CI: a bounded
 * number of random Trident topologies (SLUICE_DIFFTEST_COUNT, default
 * 2000; an eighth under sanitizers) and plain-mode chains, each compared
 * with the reference evaluator (tests/difftest.c, docs/testing.md). */
#include "difftest.h"
#include "sltest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t base_seed(void)
{
	const char *e = getenv("SLUICE_DIFFTEST_SEED");
	return e && *e ? strtoull(e, NULL, 10) : 1;
}

static void test_random_topologies_agree_with_the_reference(void)
{
	dt_opts o;
	memset(&o, 0, sizeof(o));
	o.exclude = dt_exclusions_from_env();
	o.tmpdir = sl_test_tmpdir("difftest");
	o.shrink = 1;
	/* crash runs: one topology in ten (those with a state) runs in
	 * sluice-difftest children killed with SIGKILL and restarted */
	static char child[4096];
	snprintf(child, sizeof(child), "%s", sl_test_sluice_bin());
	char *slash = strrchr(child, '/');
	snprintf(slash ? slash + 1 : child,
	    sizeof(child) - (size_t)(slash ? slash + 1 - child : 0),
	    "sluice-difftest");
	CU_ASSERT_EQUAL_FATAL(access(child, X_OK), 0);
	o.crash = 10;
	o.child_bin = child;
	unsigned n = dt_count_from_env(2000);
	dt_totals t;
	memset(&t, 0, sizeof(t));
	uint64_t s0 = base_seed();
	for (unsigned i = 0; i < n; i++)
		dt_run_trident(s0 + i, &o, &t);
	printf("\ndifftest: %" PRIu64 " topologies, %" PRIu64
	       " batches, %" PRIu64 " input tuples, %" PRIu64
	       " faults, %" PRIu64 " replays, %" PRIu64 " crash runs (%" PRIu64
	       " SIGKILLs), %" PRIu64 " state keys checked, %" PRIu64
	       " mismatches\n",
	    t.topologies, t.batches, t.tuples, t.faults, t.replays,
	    t.crash_runs, t.crashes, t.state_keys, t.mismatches);
	CU_ASSERT_EQUAL(t.topologies, n);
	if (n >= 100) /* the crash runs happened */
		CU_ASSERT(t.crashes > 0);
	CU_ASSERT_EQUAL(t.mismatches, 0);
}

static void test_random_plain_chains_keep_their_promises(void)
{
	dt_opts o;
	memset(&o, 0, sizeof(o));
	unsigned n = dt_count_from_env(2000) / 20 + 1;
	dt_plain_totals t;
	memset(&t, 0, sizeof(t));
	uint64_t s0 = base_seed();
	for (unsigned i = 0; i < n; i++)
		dt_run_plain(s0 + i, 0, &o, &t);
	printf("\ndifftest plain: %" PRIu64 " runs, %" PRIu64
	       " tuples, %" PRIu64 " dropped frames, %" PRIu64 " mismatches\n",
	    t.runs, t.tuples, t.dropped_frames, t.mismatches);
	CU_ASSERT_EQUAL(t.mismatches, 0);
}

SL_SUITE(difftest, NULL, NULL,
    { "random topologies agree with the reference",
        test_random_topologies_agree_with_the_reference },
    { "random plain chains keep their promises",
        test_random_plain_chains_keep_their_promises })
