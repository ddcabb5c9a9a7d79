/*
 * stats_cmd.c - `sluice stats [--endpoint EP] [--json]`: asks a running
 * job (`sluice run ... --drpc` or `sluice wordcount ... --drpc`) for its
 * live figures over DRPC, as Redis answers INFO.
 */
#include "args.h"
#include "cli.h"
#include "monitor.h"
#include "sluice.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_number(v) ? json_number_value(v) : 0;
}

static void print_info(json_t *j)
{
	json_t *r = json_object_get(j, "rates"),
	       *p = json_object_get(j, "progress");
	json_t *bl = json_object_get(j, "batch_latency_ms"),
	       *cl = json_object_get(j, "commit_latency_ms");
	printf("# job\ntopology:%s\nversion:%s\nuptime_s:%.1f\n",
	    json_string_value(json_object_get(j, "topology")),
	    json_string_value(json_object_get(j, "version")),
	    num(j, "uptime_s"));
	printf("\n# batches\ncommitted_txid:%.0f\nbatches_committed:%.0f\n"
	       "batches_in_flight:%.0f\nempty_batches:%.0f\nreplays:%.0f\n",
	    num(j, "committed_txid"), num(j, "batches_committed"),
	    num(j, "batches_in_flight"), num(j, "empty_batches"),
	    num(j, "replays"));
	const char *rk;
	json_t *rv;
	json_object_foreach(json_object_get(j, "replays_by_reason"), rk, rv)
	    printf("replays_%s:%.0f\n", rk, json_number_value(rv));
	printf("last_replay_reason:%s\nrejected_frames:%.0f\n",
	    json_string_value(json_object_get(j, "last_replay_reason")),
	    num(j, "rejected_frames"));
	printf("\n# throughput\ntuples:%.0f\n%s:%.0f\nbatches_per_s_1s:%.1f\n"
	       "batches_per_s_1m:%.1f\ntuples_per_s_1s:%.0f\n"
	       "tuples_per_s_1m:%.0f\n%s_per_s_1s:%.0f\n%s_per_s_1m:%.0f\n",
	    num(j, "tuples"), json_string_value(json_object_get(p, "unit")),
	    num(p, "total"), num(r, "batches_per_s_1s"),
	    num(r, "batches_per_s_1m"), num(r, "tuples_per_s_1s"),
	    num(r, "tuples_per_s_1m"),
	    json_string_value(json_object_get(p, "unit")), num(p, "per_s_1s"),
	    json_string_value(json_object_get(p, "unit")), num(p, "per_s_1m"));
	printf("\n# latency\nbatch_p50_ms:%.2f\nbatch_p99_ms:%.2f\n"
	       "batch_max_ms:%.2f\ncommit_p50_ms:%.2f\ncommit_p99_ms:%.2f\n"
	       "commit_max_ms:%.2f\n",
	    num(bl, "p50"), num(bl, "p99"), num(bl, "max"), num(cl, "p50"),
	    num(cl, "p99"), num(cl, "max"));
	printf("\n# stages\n");
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(j, "stages"), i, v)
	{
		printf("stage%zu:name=%s,tasks=%.0f,tuples_in=%.0f,"
		       "tuples_out=%.0f,in_per_s=%.0f,out_per_s=%.0f,"
		       "busy_s=%.3f,busy_1s=%.3f\n",
		    i, json_string_value(json_object_get(v, "name")),
		    num(v, "tasks"), num(v, "tuples_in"), num(v, "tuples_out"),
		    num(v, "in_per_s"), num(v, "out_per_s"), num(v, "busy_s"),
		    num(v, "busy_1s"));
	}
	printf("\n# states\n");
	json_array_foreach(json_object_get(j, "states"), i, v)
	{
		json_t *k = json_object_get(v, "keys"),
		       *h = json_object_get(v, "cache_hit_rate");
		const char *n = json_string_value(json_object_get(v, "name"));
		printf("state%zu:name=%s,keys=", i, *n ? n : "-");
		if (json_is_integer(k))
			printf("%.0f", num(v, "keys"));
		else
			printf("unknown");
		printf(",cache_hit_rate=");
		if (json_is_number(h))
			printf("%.3f", json_number_value(h));
		else
			printf("-");
		printf(",disk_bytes=%.0f\n", num(v, "disk_bytes"));
	}
	json_t *d = json_object_get(j, "drpc");
	if (json_is_object(d))
		printf("\n# drpc\nrequests:%.0f\nanswered:%.0f\nerrors:%.0f\n"
		       "timeouts:%.0f\nbusy:%.0f\nbad_requests:%.0f\n"
		       "auth_failures:%.0f\n",
		    num(d, "requests"), num(d, "answered"), num(d, "errors"),
		    num(d, "timeouts"), num(d, "busy"), num(d, "bad_requests"),
		    num(d, "auth_failures"));
}

int sli_cmd_stats(int argc, char **argv)
{
	const char *endpoint = "tcp://127.0.0.1:3772", *keyfile = NULL;
	long timeout = 5000;
	int json = 0, token = 0;
	const sli_arg opts[] = {
		{ "endpoint", SLI_ARG_STR, &endpoint, "EP",
		    "the job's DRPC endpoint" },
		{ "json", SLI_ARG_FLAG, &json, NULL,
		    "the figures as one JSON object" },
		{ "timeout", SLI_ARG_LONG, &timeout, "MS",
		    "give up after MS milliseconds", 1, 3600000 },
		{ "cluster-key-file", SLI_ARG_STR, &keyfile, "F",
		    "for a job started with a cluster key" },
		{ "token", SLI_ARG_FLAG, &token, NULL,
		    "print the HTTP bearer token of the cluster key (for\n"
		    "--metrics off loopback) and exit" },
	};
	const sli_cmd_spec spec = {
		.name = "stats",
		.synopsis
		= "[--endpoint EP] [--json] [--timeout MS]\n"
		  "                    [--cluster-key-file F] [--token]",
		.about
		= "Prints the live figures of the job serving DRPC at EP "
		  "(start it with --drpc):\nuptime, committed txid, "
		  "rates over the last second and minute, replays,\n"
		  "latencies, stages, states and DRPC counters.",
		.args = opts,
		.nargs = sizeof(opts) / sizeof(opts[0]),
		.example
		= "sluice stats --endpoint tcp://127.0.0.1:3772 --json",
		.exits
		= "0 figures printed; 1 the job answered with an "
		  "error;\n2 bad usage, nothing listening, or no answer.",
	};
	sli_args a = { 0 };
	int ps;
	if ((ps = sli_args_parse(&spec, argc, argv, &a)) != SLI_ARGS_GO)
		return ps;
	uint8_t key[SL_KEY_BYTES];
	if (sli_cli_key("stats", keyfile, key))
		return 2;
	if (token) {
		if (!keyfile) {
			fprintf(stderr,
			    "sluice: stats: --token needs "
			    "--cluster-key-file\n");
			return 2;
		}
		char tok[65];
		sli_http_token(tok, key);
		printf("%s\n", tok);
		return 0;
	}
	if (!sli_endpoint_listening(endpoint)) {
		fprintf(stderr,
		    "sluice: stats: nothing is listening at %s (start the "
		    "job with --drpc)\n",
		    endpoint);
		return 2;
	}
	char *reply = NULL;
	int rc = sl_drpc_call_keyed(endpoint, keyfile ? key : NULL,
	    SLI_STATS_FN, "", (int)timeout, &reply);
	if (rc) {
		fprintf(stderr, "sluice: stats: %s: %s\n", endpoint,
		    *sl_errdetail() ? sl_errdetail() : sl_strerror(rc));
		return 2;
	}
	json_t *r = json_loads(reply, 0, NULL);
	json_t *res = json_object_get(r, "result");
	json_t *st = json_is_string(res)
	    ? json_loads(json_string_value(res), 0, NULL)
	    : NULL;
	int status = 0;
	if (!st) {
		fprintf(stderr,
		    "sluice: stats: %s does not serve statistics: %s\n",
		    endpoint, reply);
		status = 1;
	} else if (json) {
		char *s
		    = json_dumps(st, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
		printf("%s\n", s);
		free(s);
	} else
		print_info(st);
	json_decref(st);
	json_decref(r);
	free(reply);
	if (fflush(stdout)) {
		fprintf(stderr, "sluice: stats: stdout: write error\n");
		return 2;
	}
	return status;
}
