/*
 * app.c - sl_app: what a topology in a shared object builds on. The
 * runner (`sluice run`) makes one from its command line; the topology's
 * entry point asks it for the topology and for states, so it never
 * parses flags or opens directories itself. Public API: sluice/trident.h,
 * "topology objects".
 */
#include "core/core.h"
#include "sluice.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct app_state {
	char *name; /* "" for the directory itself */
	sl_state *s;
} app_state;

struct sl_app {
	char *dir; /* NULL: memory */
	sl_state_options so;
	sl_topology *t;
	app_state *states;
	size_t nstates;
	char err[512];
	char name[64];
	const char *unit;
	uint64_t (*progress)(void *user);
	void *puser;
};

int sl_app_new(sl_app **out, const char *state_dir, const sl_state_options *so)
{
	SLI_NONNULL(out);
	*out = NULL;
	sl_app *a = calloc(1, sizeof(*a));
	if (!a)
		return SL_ENOMEM;
	if (state_dir && !(a->dir = strdup(state_dir))) {
		free(a);
		return SL_ENOMEM;
	}
	if (so)
		a->so = *so;
	else
		sl_state_options_default(&a->so);
	*out = a;
	return SL_OK;
}

void sl_app_free(sl_app *a)
{
	if (!a)
		return;
	sl_topology_free(a->t);
	for (size_t i = 0; i < a->nstates; i++) {
		sl_state_close(a->states[i].s);
		free(a->states[i].name);
	}
	free(a->states);
	free(a->dir);
	free(a);
}

sl_topology *sl_app_topology(sl_app *a, const char *name)
{
	if (!a)
		return NULL;
	if (!a->t && sl_topology_new(&a->t, name ? name : "topology"))
		a->t = NULL;
	if (a->t && !a->name[0])
		snprintf(
		    a->name, sizeof(a->name), "%s", name ? name : "topology");
	return a->t;
}

int sl_app_state(sl_app *a, const char *name, sl_state **out)
{
	SLI_NONNULL(a);
	SLI_NONNULL(out);
	*out = NULL;
	if (!name)
		name = "";
	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return sli_err(SL_EINVAL,
		    "state name '%s': a plain name, without '/'", name);
	for (size_t i = 0; i < a->nstates; i++)
		if (!strcmp(a->states[i].name, name)) {
			*out = a->states[i].s;
			return SL_OK;
		}
	app_state *ns
	    = realloc(a->states, (a->nstates + 1) * sizeof(app_state));
	if (!ns)
		return SL_ENOMEM;
	a->states = ns;
	char *nm = strdup(name);
	if (!nm)
		return SL_ENOMEM;
	sl_state *s;
	int rc;
	if (!a->dir)
		rc = sl_state_open_memory(&s, &a->so);
	else {
		size_t len = strlen(a->dir) + strlen(name) + 2;
		char *path = malloc(len);
		if (!path) {
			free(nm);
			return SL_ENOMEM;
		}
		snprintf(path, len, "%s%s%s", a->dir, *name ? "/" : "", name);
		/* named states live in the --state directory: make it */
		if (*name && mkdir(a->dir, 0755) && errno != EEXIST)
			rc = sli_err(sli_errno_code(errno), "%s: %s", a->dir,
			    strerror(errno));
		else
			rc = sl_state_open_leveldb(&s, path, &a->so);
		free(path);
	}
	if (rc) {
		free(nm);
		return rc;
	}
	a->states[a->nstates].name = nm;
	a->states[a->nstates].s = s;
	a->nstates++;
	*out = s;
	return SL_OK;
}

int sl_app_fail(sl_app *a, const char *fmt, ...)
{
	SLI_NONNULL(a);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->err, sizeof(a->err), fmt, ap);
	va_end(ap);
	return SL_EINVAL;
}

void sl_app_set_progress(
    sl_app *a, const char *unit, uint64_t (*fn)(void *user), void *user)
{
	if (!a)
		return;
	a->unit = unit;
	a->progress = fn;
	a->puser = user;
}

sl_topology *sl_app_get_topology(sl_app *a)
{
	if (!a)
		return NULL;
	return a->t;
}

const char *sl_app_name(const sl_app *a)
{
	if (!a)
		return NULL;
	return a->name[0] ? a->name : "topology";
}

const char *sl_app_error(const sl_app *a)
{
	if (!a)
		return NULL;
	return a->err;
}

size_t sl_app_nstates(const sl_app *a)
{
	if (!a)
		return 0;
	return a->nstates;
}

sl_state *sl_app_state_at(const sl_app *a, size_t i, const char **name)
{
	if (!a)
		return NULL;
	if (i >= a->nstates)
		return NULL;
	if (name)
		*name = a->states[i].name;
	return a->states[i].s;
}

int sl_app_progress(const sl_app *a, const char **unit, uint64_t *value)
{
	SLI_NONNULL(a);
	if (!a->progress)
		return 0;
	*unit = a->unit ? a->unit : "items";
	*value = a->progress(a->puser);
	return 1;
}
