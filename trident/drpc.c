/*
 * drpc.c - Trident's DRPC streams served by the general DRPC server
 * (drpc/server.c): a request FUNCTION TAB ARGS runs the topology's DRPC
 * stream FUNCTION (sl_topology_drpc_call in trident/run.c).
 */
#include "trident.h"

static int topology_fn(void *user, const char *function, const uint8_t *args,
    size_t len, sl_value *result)
{
	return sl_topology_drpc_call(user, function, args, len, result);
}

int sl_drpc_server_start_topology(
    sl_drpc_server **out, const sl_drpc_options *o, sl_topology *t)
{
	SLI_NONNULL(out);
	SLI_NONNULL(t);
	return sl_drpc_server_start(out, o, topology_fn, t);
}
