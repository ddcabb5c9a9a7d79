/*
 * state_impl.h - what the files of state/ share beyond state.h (state/
 * only): the upgrade of older state formats (keys.c) reaches the store
 * under a state.
 */
#ifndef SLI_STATE_IMPL_H
#define SLI_STATE_IMPL_H

#include "kv.h"
#include "state.h"

/* Opens dir as sl_state_open_leveldb does (locked; never creates) but
 * accepts any format up to the current one, returned in *version, and
 * adopts the stored semantics. Returns owned (sl_state_close). */
int sli_state_open_any_version(
    sl_state **out, const char *dir, uint32_t *version);
/* The key-value store under s (borrowed). */
sli_kv *sli_state_kv(sl_state *s);
/* The format this build writes. */
uint32_t sli_state_format_version(void);

#endif
