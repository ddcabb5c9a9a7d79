/* drpc_cmd.c - `sluice drpc [--endpoint E] [--timeout MS]
 * [--cluster-key-file FILE] [--] FUNCTION ARGS...`:
 * a DRPC client. Prints the JSON reply; exits 0 on a result, 1 on an error
 * reply, 2 on usage errors, timeouts or connection failures. */
#include "cli.h"
#include "core/core.h"
#include "sluice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(FILE *f)
{
	fprintf(f,
	    "usage: sluice drpc [--endpoint tcp://127.0.0.1:3772] "
	    "[--timeout MS]\n"
	    "                   [--cluster-key-file FILE] [--] FUNCTION "
	    "[ARGS...]\n"
	    "Sends FUNCTION<TAB>ARGS (args joined by spaces) and prints "
	    "the JSON reply.\n"
	    "With a cluster key the request and reply travel sealed "
	    "(docs/drpc.md).\n");
	return f == stderr ? 2 : 0;
}

int sli_cmd_drpc(int argc, char **argv)
{
	const char *endpoint = "tcp://127.0.0.1:3772", *keyfile = NULL;
	long timeout = 5000;
	int i = 1;
	/* options, up to the function name (or "--") */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--endpoint") && i + 1 < argc)
			endpoint = argv[++i];
		else if (!strcmp(argv[i], "--cluster-key-file")
		    && i + 1 < argc)
			keyfile = argv[++i];
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			char *end;
			timeout = strtol(argv[++i], &end, 10);
			if (*end || timeout <= 0 || timeout > 3600000) {
				fprintf(stderr,
				    "sluice: drpc: --timeout: bad "
				    "value '%s'\n",
				    argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--help")
		    || !strcmp(argv[i], "-h"))
			return usage(stdout);
		else {
			fprintf(stderr, "sluice: drpc: unknown option '%s'\n",
			    argv[i]);
			return usage(stderr);
		}
	}
	if (i >= argc)
		return usage(stderr);
	uint8_t key[SL_KEY_BYTES];
	if (keyfile && sl_key_from_file(key, keyfile)) {
		sli_wipe(key, sizeof(key));
		fprintf(stderr, "sluice: drpc: %s\n", sl_errdetail());
		return 2;
	}
	if (!sli_endpoint_listening(endpoint)) {
		fprintf(stderr,
		    "sluice: drpc: nothing is listening at %s (is the job "
		    "running with --drpc?)\n",
		    endpoint);
		return 2;
	}
	const char *fn = argv[i++];
	size_t len = 1;
	for (int j = i; j < argc; j++)
		len += strlen(argv[j]) + 1;
	char *args = calloc(1, len);
	if (!args) {
		sli_wipe(key, sizeof(key));
		return 2;
	}
	for (int j = i; j < argc; j++) {
		if (j > i)
			strcat(args, " ");
		strcat(args, argv[j]);
	}
	char *reply = NULL;
	int rc = sl_drpc_call_keyed(
	    endpoint, keyfile ? key : NULL, fn, args, (int)timeout, &reply);
	sli_wipe(key, sizeof(key));
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
