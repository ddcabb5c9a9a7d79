/* drpc_cmd.c - `sluice drpc [--endpoint E] [--timeout MS]
 * [--cluster-key-file FILE] [--] FUNCTION ARGS...`:
 * a DRPC client. Prints the JSON reply; exits 0 on a result, 1 on an error
 * reply, 2 on usage errors, timeouts or connection failures. */
#include "args.h"
#include "cli.h"
#include "sluice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sli_cmd_drpc(int argc, char **argv)
{
	const char *endpoint = "tcp://127.0.0.1:3772", *keyfile = NULL;
	long timeout = 5000;
	const sli_arg opts[] = {
		{ "endpoint", SLI_ARG_STR, &endpoint, "EP",
		    "the DRPC server (a job started with --drpc)" },
		{ "timeout", SLI_ARG_LONG, &timeout, "MS",
		    "give up after MS milliseconds", 1, 3600000 },
		{ "cluster-key-file", SLI_ARG_STR, &keyfile, "F",
		    "seal the request and reply with the cluster key" },
	};
	const sli_cmd_spec spec = {
		.name = "drpc",
		.synopsis = "[--endpoint EP] [--timeout MS] "
		            "[--cluster-key-file F] [--]\n"
		            "                   FUNCTION [ARGS...]",
		.about = "Sends FUNCTION<TAB>ARGS (args joined by spaces) and "
		         "prints the JSON reply.\nOptions end at FUNCTION: "
		         "what follows it is the function's, even if it\n"
		         "starts with '-'. With a cluster key the request and "
		         "reply travel sealed\n(docs/drpc.md).",
		.args = opts,
		.nargs = sizeof(opts) / sizeof(opts[0]),
		.min_pos = 1,
		.max_pos = -1,
		.pos_what = "a FUNCTION name",
		.in_order = 1,
		.example = "sluice drpc --endpoint tcp://127.0.0.1:3772 words "
		           "the cat",
		.exits = "0 a result; 1 the function answered with an error;\n"
		         "2 bad usage, nothing listening, a timeout or a "
		         "connection failure.",
	};
	sli_args a = { 0 };
	int ps;
	if ((ps = sli_args_parse(&spec, argc, argv, &a)) != SLI_ARGS_GO)
		return ps;
	uint8_t key[SL_KEY_BYTES];
	if (sli_cli_key("drpc", keyfile, key))
		return 2;
	if (!sli_endpoint_listening(endpoint)) {
		fprintf(stderr,
		    "sluice: drpc: nothing is listening at %s (is the job "
		    "running with --drpc?)\n",
		    endpoint);
		return 2;
	}
	const char *fn = a.pos[0];
	size_t len = 1;
	for (int j = 1; j < a.npos; j++)
		len += strlen(a.pos[j]) + 1;
	char *args = calloc(1, len);
	if (!args) {
		sl_wipe(key, sizeof(key));
		return 2;
	}
	for (int j = 1; j < a.npos; j++) {
		if (j > 1)
			strcat(args, " ");
		strcat(args, a.pos[j]);
	}
	char *reply = NULL;
	int rc = sl_drpc_call_keyed(
	    endpoint, keyfile ? key : NULL, fn, args, (int)timeout, &reply);
	sl_wipe(key, sizeof(key));
	free(args);
	if (rc) {
		fprintf(stderr, "sluice: drpc: %s: %s\n", endpoint,
		    *sl_errdetail() ? sl_errdetail() : sl_strerror(rc));
		return 2;
	}
	printf("%s\n", reply);
	int is_error = strncmp(reply, "{\"error\"", 8) == 0;
	free(reply);
	return is_error ? 1 : 0;
}
