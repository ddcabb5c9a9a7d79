/*
 * spout.h - the sl_spout handle (trident/spout.c) as spout implementations
 * (spouts/) and the topology see it: the ops and the instance behind it.
 */
#ifndef SLI_SPOUT_H
#define SLI_SPOUT_H

#include "sluice/trident.h"

/* The ops of s (borrowed). */
const sl_spout_ops *sli_spout_ops(const sl_spout *s);
/* The instance of s when s is a spout of ops (NULL = any), else NULL: the
 * typed accessors of the built-in spouts (sl_spout_file_lines, ...) ask
 * with their own ops, so another spout's handle is refused, not misread. */
void *sli_spout_self(const sl_spout *s, const sl_spout_ops *ops);

/* 1 once the topology running the spout of ctx is stopping: a spout
 * waiting for input (an idle source) returns its batch instead. Any
 * thread. */
int sli_spout_stopping(const sl_spout_ctx *ctx);

#endif
