/*
 * sluice.h - the public API of sluice, a small exactly-once stream
 * processor: a tuple transport, a Trident-style transactional micro-batch
 * layer with LevelDB state, DRPC queries and a plain tuple mode. This
 * umbrella includes every part; a program may include only the parts it
 * uses (as nng's headers):
 *
 *   sluice/core.h     errors, values, tuples, hashing, keys, combiners
 *   sluice/state.h    map states (semantics, keys, tools)
 *   sluice/trident.h  topologies, streams, the spout interface, running
 *   sluice/spouts.h   the built-in spouts
 *   sluice/drpc.h     the DRPC server and client
 *   sluice/plain.h    plain mode (spouts and bolts, acking)
 *
 * Conventions: every function that can fail returns an int, SL_OK (0) or a
 * negative SL_E* code (sl_strerror() names it); results go through
 * out-parameters. Handles are opaque; each _new/_open has one _free/_close
 * that accepts NULL. Each declaration says who owns what and whether it is
 * thread-safe. A NULL where a call needs a pointer never crashes: int
 * calls return SL_EINVAL (sl_errdetail() names the call and the argument),
 * calls that return a pointer or a count return NULL or 0, void calls do
 * nothing; where NULL means something (a default, "none") the declaration
 * says so. tests/test_nullargs.c holds every call to this rule.
 */
#ifndef SLUICE_H
#define SLUICE_H

#include "sluice/core.h"
#include "sluice/drpc.h"
#include "sluice/plain.h"
#include "sluice/spouts.h"
#include "sluice/state.h"
#include "sluice/trident.h"

#endif /* SLUICE_H */
