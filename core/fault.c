/*
 * fault.c - the fault hook for tests (fault.h): the armed rules, their
 * matching, and SLUICE_FAULT. Built with SL_UNTESTABLE only the stubs
 * remain and no environment variable is read.
 */
#include "fault.h"
#include "core.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const names[SLI_FAULT_COUNT] = {
	[SLI_FAULT_SPOUT] = "spout",
	[SLI_FAULT_FUNCTION] = "function",
	[SLI_FAULT_PARTIAL] = "partial",
	[SLI_FAULT_STATE] = "state",
	[SLI_FAULT_COMMIT] = "commit",
	[SLI_FAULT_KILL_BEFORE_COMMIT] = "kill_before_commit",
	[SLI_FAULT_KILL_BETWEEN_COMMITS] = "kill_between_commits",
	[SLI_FAULT_TERM_AFTER_COMMITS] = "term_after_commits",
	[SLI_FAULT_STATE_BEFORE_WRITE] = "state_before_write",
	[SLI_FAULT_STATE_AFTER_WRITE] = "state_after_write",
	[SLI_FAULT_STATE_COMMIT] = "state_commit",
	[SLI_FAULT_PLAIN_DROP] = "plain_drop",
};

const char *sli_fault_name(sli_fault_point point)
{
	if ((int)point <= SLI_FAULT_NONE || point >= SLI_FAULT_COUNT)
		return NULL;
	return names[point];
}

/* Reads an unsigned decimal at *p; advances *p. */
static int parse_u64(const char **p, uint64_t *out)
{
	if (**p < '0' || **p > '9')
		return SL_EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(*p, &end, 10);
	if (errno)
		return SL_EINVAL;
	*out = v;
	*p = end;
	return SL_OK;
}

/* One rule NAME[@A[/B]][~RATE][*TIMES] from s up to its end. */
static int parse_rule(const char *s, const char *end, sli_fault_rule *r)
{
	memset(r, 0, sizeof(*r));
	size_t len = 0;
	while (
	    s + len < end && s[len] != '@' && s[len] != '~' && s[len] != '*')
		len++;
	for (int i = 1; i < SLI_FAULT_COUNT; i++)
		if (strlen(names[i]) == len && !memcmp(names[i], s, len))
			r->point = (sli_fault_point)i;
	if (!r->point)
		return sli_err(SL_EINVAL,
		    "SLUICE_FAULT: unknown fault point '%.*s'", (int)len, s);
	const char *p = s + len;
	if (p < end && *p == '@') {
		p++;
		if (parse_u64(&p, &r->a))
			goto bad;
		if (p < end && *p == '/') {
			p++;
			if (parse_u64(&p, &r->b))
				goto bad;
		}
	}
	if (p < end && *p == '~') {
		char *e;
		r->rate = strtod(p + 1, &e);
		if (e == p + 1 || !(r->rate > 0 && r->rate <= 1))
			goto bad;
		p = e;
	}
	if (p < end && *p == '*') {
		uint64_t t;
		p++;
		if (parse_u64(&p, &t) || t > UINT32_MAX)
			goto bad;
		r->times = (uint32_t)t;
	}
	if (p == end)
		return SL_OK;
bad:
	return sli_err(SL_EINVAL,
	    "SLUICE_FAULT: bad rule '%.*s' (NAME[@A[/B]][~RATE][*TIMES])",
	    (int)(end - s), s);
}

int sli_fault_parse(
    const char *spec, sli_fault_rule *rules, size_t max, size_t *n)
{
	*n = 0;
	const char *s = spec;
	while (s && *s) {
		const char *end = strchr(s, ',');
		if (!end)
			end = s + strlen(s);
		if (end > s) {
			if (*n == max)
				return sli_err(SL_ELIMIT,
				    "SLUICE_FAULT: more than %zu rules", max);
			int rc = parse_rule(s, end, &rules[*n]);
			if (rc)
				return rc;
			(*n)++;
		}
		s = *end ? end + 1 : end;
	}
	return SL_OK;
}

#ifdef SL_UNTESTABLE

int sli_fault_config(const sli_fault_rule *rules, size_t n)
{
	(void)rules;
	(void)n;
	return sli_err(SL_ESTATE, "fault hook compiled out (SL_UNTESTABLE)");
}

void sli_fault_init(void)
{
}

#else

_Atomic uint64_t sli_fault_armed;

/* The rules; written under lock, read under lock by sli_fault_hit (only
 * reached while a rule for its point is armed, so never on a hot path of
 * an unarmed process). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static sli_fault_rule *rules_v;
static size_t rules_n;

static uint64_t mask_of(void)
{
	uint64_t m = 0;
	for (size_t i = 0; i < rules_n; i++)
		if (rules_v[i].times != UINT32_MAX) /* not spent */
			m |= (uint64_t)1 << rules_v[i].point;
	return m;
}

int sli_fault_config(const sli_fault_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((int)rules[i].point <= SLI_FAULT_NONE
		    || rules[i].point >= SLI_FAULT_COUNT || rules[i].rate < 0
		    || rules[i].rate > 1 || rules[i].times == UINT32_MAX)
			return sli_err(SL_EINVAL,
			    "fault rule %zu: bad point, "
			    "rate or times",
			    i);
	sli_fault_rule *v = NULL;
	if (n) {
		v = malloc(n * sizeof(*v));
		if (!v)
			return SL_ENOMEM;
		memcpy(v, rules, n * sizeof(*v));
	}
	pthread_mutex_lock(&lock);
	free(rules_v);
	rules_v = v;
	rules_n = n;
	atomic_store(&sli_fault_armed, mask_of());
	pthread_mutex_unlock(&lock);
	return SL_OK;
}

static int matches(const sli_fault_rule *r, sli_fault_point point,
    const void *obj, uint64_t a, uint64_t b)
{
	if (r->point != point || r->times == UINT32_MAX)
		return 0;
	if (r->obj && r->obj != obj)
		return 0;
	if (r->b && r->b != b)
		return 0;
	if (r->rate > 0)
		return (double)(a >> 11) / 9007199254740992.0 < r->rate;
	return !r->a || r->a == a;
}

int sli_fault_hit(
    sli_fault_point point, const void *obj, uint64_t a, uint64_t b)
{
	int fired = 0;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < rules_n && !fired; i++) {
		sli_fault_rule *r = &rules_v[i];
		if (!matches(r, point, obj, a, b))
			continue;
		fired = 1;
		/* times counts down to 1, then the rule is spent (UINT32_MAX)
		 */
		if (r->times == 1) {
			r->times = UINT32_MAX;
			atomic_store(&sli_fault_armed, mask_of());
		} else if (r->times) {
			r->times--;
		}
	}
	pthread_mutex_unlock(&lock);
	return fired;
}

static void init_once(void)
{
	const char *spec = getenv("SLUICE_FAULT");
	if (!spec || !*spec)
		return;
	sli_fault_rule r[32];
	size_t n;
	int rc = sli_fault_parse(spec, r, 32, &n);
	if (!rc)
		rc = sli_fault_config(r, n);
	if (rc) {
		fprintf(stderr, "sluice: %s: %s\n", sl_strerror(rc),
		    sl_errdetail());
		exit(2);
	}
}

void sli_fault_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, init_once);
}

#endif
