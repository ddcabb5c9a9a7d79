/* difftest_plain.c - placeholder, replaced below */
#include "difftest.h"
int dt_run_plain(
    uint64_t seed, uint64_t ntuples, const dt_opts *o, dt_plain_totals *tot)
{
	(void)seed, (void)ntuples, (void)o;
	tot->runs++;
	return 0;
}
