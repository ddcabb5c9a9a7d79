/* test_difftest.c - the differential topology tester in CI: a bounded
 * number of random Trident topologies (SLUICE_DIFFTEST_COUNT, default
 * 2000; an eighth under sanitizers) and plain-mode chains, each compared
 * with the reference evaluator (tests/difftest.c, docs/testing.md). */
#include "difftest.h"
#include "sltest.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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
	unsigned n = dt_count_from_env(2000);
	dt_totals t;
	memset(&t, 0, sizeof(t));
	uint64_t s0 = base_seed();
	for (unsigned i = 0; i < n; i++)
		dt_run_trident(s0 + i, &o, &t);
	printf("\ndifftest: %" PRIu64 " topologies, %" PRIu64
	       " batches, %" PRIu64 " input tuples, %" PRIu64
	       " faults, %" PRIu64 " replays, %" PRIu64
	       " state keys checked, %" PRIu64 " mismatches\n",
	    t.topologies, t.batches, t.tuples, t.faults, t.replays,
	    t.state_keys, t.mismatches);
	CU_ASSERT_EQUAL(t.topologies, n);
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
