/* app.h - what the `sluice run` runner uses of an sl_app (app/ only
 * otherwise): the object a topology's entry point builds on. */
#ifndef SLI_APP_H
#define SLI_APP_H

#include "sluice.h"

/* Returns owned (sli_app_free) an app whose states live in state_dir
 * (LevelDB; name NULL = the directory itself) or in memory when
 * state_dir is NULL, opened with so (copied). */
int sli_app_new(
    sl_app **out, const char *state_dir, const sl_state_options *so);
/* Frees the topology, then closes the states; accepts NULL. */
void sli_app_free(sl_app *a);
/* The topology the entry point made, or NULL. */
sl_topology *sli_app_get_topology(sl_app *a);
/* The name the topology was made with. */
const char *sli_app_name(const sl_app *a);
/* What sl_app_fail recorded, or "". */
const char *sli_app_error(const sl_app *a);
/* Number of states opened, and state i with its name ("" for the
 * directory itself). */
size_t sli_app_nstates(const sl_app *a);
sl_state *sli_app_state_at(const sl_app *a, size_t i, const char **name);
/* The progress counter: 1 with *unit and *value set, 0 when none. */
int sli_app_progress(const sl_app *a, const char **unit, uint64_t *value);

#endif
