/* test_drpc.c - the DRPC server and clients: round trips (C client,
 * `sluice drpc`, nanocat), bad requests, timeouts, load, Storm's classic
 * word count queries, and queries during ingestion. */
#include "../transport/transport.h"
#include "sltest.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int handler(void *user, const char *fn, const uint8_t *args, size_t len,
    sl_value *result)
{
	(void)user;
	if (!strcmp(fn, "echo")) {
		*result = sl_bytes(args, (uint32_t)len);
		return SL_OK;
	}
	if (!strcmp(fn, "len")) {
		*result = sl_int((int64_t)len);
		return SL_OK;
	}
	if (!strcmp(fn, "sleep")) {
		usleep(1500000);
		*result = sl_int(1);
		return SL_OK;
	}
	return SL_ENOTFOUND;
}

static sl_drpc_server *serve(const char *ep, int timeout_ms)
{
	sl_drpc_options o;
	sl_drpc_options_default(&o);
	o.endpoint = ep;
	o.timeout_ms = timeout_ms;
	sl_drpc_server *s = NULL;
	CU_ASSERT_EQUAL(sl_drpc_server_start(&s, &o, handler, NULL), SL_OK);
	return s;
}

static char *call(const char *ep, const char *fn, const char *args)
{
	char *r = NULL;
	int rc = sl_drpc_call(ep, fn, args, 3000, &r);
	CU_ASSERT_EQUAL(rc, SL_OK);
	return r ? r : calloc(1, 1);
}

static void expect(
    const char *ep, const char *fn, const char *args, const char *want)
{
	char *r = call(ep, fn, args);
	CU_ASSERT_STRING_EQUAL(r, want);
	if (strcmp(r, want))
		printf("\n    %s(%s): got %s, want %s\n", fn, args, r, want);
	free(r);
}

static void test_round_trips_from_c_cli_and_nanocat(void)
{
	const char *ep = "tcp://127.0.0.1:37701";
	sl_drpc_server *s = serve(ep, 2000);
	expect(ep, "echo", "hello world", "{\"result\":\"hello world\"}");
	expect(ep, "len", "", "{\"result\":0}");
	expect(ep, "nope", "x", "{\"error\":\"unknown function: nope\"}");
	char cmd[1024];
	const char *out = sl_test_tmpdir("drpc");
	snprintf(cmd, sizeof(cmd), "'%s' drpc --endpoint %s len ab cd > %s/o",
	    sl_test_sluice_bin(), ep, out);
	CU_ASSERT_EQUAL(sl_test_sh("%s", cmd), 0);
	CU_ASSERT_EQUAL(sl_test_sh("grep -qx '{\"result\":5}' %s/o", out), 0);
	CU_ASSERT_EQUAL(sl_test_sh("'%s' drpc --endpoint %s nope x >/dev/null",
	                    sl_test_sluice_bin(), ep),
	    1);
	CU_ASSERT_EQUAL(
	    sl_test_sh("'%s' drpc --endpoint tcp://127.0.0.1:37799 "
	               "--timeout 200 len x >/dev/null 2>&1",
	        sl_test_sluice_bin()),
	    2);
	CU_ASSERT_EQUAL(
	    sl_test_sh("timeout 10 nanocat --req --connect %s "
	               "--data \"$(printf 'echo\\tfrom nanocat')\" "
	               "-A > %s/n",
	        ep, out),
	    0);
	CU_ASSERT_EQUAL(sl_test_sh("grep -q 'from nanocat' %s/n", out), 0);
	sl_drpc_server_stop(s);
}

static char *raw(const char *ep, const void *p, size_t n)
{
	sli_msg m;
	int rc = sli_req_call(ep, p, n, 3000, &m);
	CU_ASSERT_EQUAL(rc, SL_OK);
	if (rc)
		return calloc(1, 1);
	char *s = malloc(m.len + 1);
	memcpy(s, m.data, m.len);
	s[m.len] = 0;
	sli_msg_free(&m);
	return s;
}

static void test_bad_requests_get_clear_errors(void)
{
	const char *ep = "tcp://127.0.0.1:37702";
	sl_drpc_server *s = serve(ep, 2000);
	struct {
		const char *req;
		size_t len;
		const char *want;
	} cases[] = {
		{ "", 0, "empty request" },
		{ "words the", 9, "no TAB" },
		{ "\tthe", 4, "no function name" },
		{ "echo\t\xff\xfe", 7, "not valid UTF-8" },
		{ "echo\t\xc0\xaf", 7, "not valid UTF-8" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r = raw(ep, cases[i].req, cases[i].len);
		CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"error\""));
		CU_ASSERT_PTR_NOT_NULL(strstr(r, cases[i].want));
		free(r);
	}
	size_t big = 1 << 20;
	char *huge = malloc(big);
	memset(huge, 'a', big);
	memcpy(huge, "echo\t", 5);
	char *r = raw(ep, huge, big);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "too large"));
	free(r);
	free(huge);
	/* still serving */
	expect(ep, "echo", "ok", "{\"result\":\"ok\"}");
	sl_drpc_stats st;
	sl_drpc_server_stats(s, &st);
	CU_ASSERT_EQUAL(st.bad_requests, 6);
	sl_drpc_server_stop(s);
}

static void test_blocked_function_times_out_and_server_goes_on(void)
{
	const char *ep = "tcp://127.0.0.1:37703";
	sl_drpc_server *s = serve(ep, 300);
	uint64_t t0 = sli_now_ns();
	expect(ep, "sleep", "", "{\"error\":\"timeout\"}");
	uint64_t ms = (sli_now_ns() - t0) / 1000000u;
	CU_ASSERT(ms < 1400); /* answered before the handler returned */
	/* a client that goes away mid-request does not wedge the server */
	sli_msg m;
	CU_ASSERT_EQUAL(sli_req_call(ep, "sleep\tx", 7, 50, &m), SL_ETIMEDOUT);
	expect(ep, "echo", "still here", "{\"result\":\"still here\"}");
	sl_drpc_server_stop(s);
}

struct loader {
	const char *ep;
	int ok, busy, other;
};

static void *load(void *arg)
{
	struct loader *l = arg;
	for (int i = 0; i < 50; i++) {
		char *r = NULL;
		if (sl_drpc_call(l->ep, "len", "abc", 5000, &r) != SL_OK) {
			l->other++;
			continue;
		}
		if (!strcmp(r, "{\"result\":3}"))
			l->ok++;
		else if (strstr(r, "busy"))
			l->busy++;
		else
			l->other++;
		free(r);
	}
	return NULL;
}

static void test_a_thousand_concurrent_requests_are_all_answered(void)
{
	const char *ep = "tcp://127.0.0.1:37704";
	sl_drpc_server *s = serve(ep, 2000);
	pthread_t th[20];
	struct loader l[20];
	for (int i = 0; i < 20; i++) {
		l[i] = (struct loader) { ep, 0, 0, 0 };
		pthread_create(&th[i], NULL, load, &l[i]);
	}
	int ok = 0, busy = 0, other = 0;
	for (int i = 0; i < 20; i++) {
		pthread_join(th[i], NULL);
		ok += l[i].ok;
		busy += l[i].busy;
		other += l[i].other;
	}
	printf("\n    1000 requests: %d answered, %d busy, %d other\n", ok,
	    busy, other);
	CU_ASSERT_EQUAL(ok + busy, 1000);
	CU_ASSERT_EQUAL(other, 0);
	CU_ASSERT(ok > 0);
	expect(ep, "len", "", "{\"result\":0}");
	sl_drpc_server_stop(s);
}

static void test_listening_off_loopback_needs_the_cluster_key(void)
{
	sl_drpc_options o;
	sl_drpc_options_default(&o);
	o.endpoint = "tcp://0.0.0.0:37705";
	sl_drpc_server *s = NULL;
	CU_ASSERT_EQUAL(sl_drpc_server_start(&s, &o, handler, NULL), SL_EPERM);
	CU_ASSERT_PTR_NULL(s);
}

/* ---- Storm's classic DRPC word count ---- */

struct stop_at {
	sl_topology *t;
	uint64_t txid;
};

static void stop_at(void *user, uint64_t txid)
{
	struct stop_at *s = user;
	if (txid >= s->txid)
		sl_topology_stop(s->t);
}

static void test_storm_classic_words_query(void)
{
	const char *ep = "tcp://127.0.0.1:37706";
	sl_value v[4] = { sl_str("hello the man said"), sl_str("the"),
		sl_str("the man on the moon"), sl_str("where are you") };
	size_t starts[3] = { 0, 2, 4 };
	sl_spout *sp;
	CU_ASSERT_EQUAL_FATAL(sl_spout_fixed_new(&sp, 1, v, starts, 2, 0), 0);
	char d[512];
	snprintf(d, sizeof(d), "%s/db", sl_test_tmpdir("classic"));
	sl_state *st;
	sl_state_options so;
	sl_state_options_default(&so);
	so.sync = 0;
	CU_ASSERT_EQUAL_FATAL(sl_state_open_leveldb(&st, d, &so), SL_OK);
	sl_topology *t;
	sl_topology_new(&t, "classic");
	sl_stream *s = sl_topology_new_stream(t, "spout", sp, "sentence");
	s = sl_stream_flat_map(s, "sentence", sl_fn_split_words, NULL, "word");
	s = sl_stream_group_by(s, "word");
	s = sl_stream_persistent_aggregate(
	    s, st, NULL, sl_agg_count(), "count");
	sl_stream *q = sl_topology_new_drpc_stream(t, "words");
	q = sl_stream_flat_map(q, "args", sl_fn_split_words, NULL, "word");
	q = sl_stream_state_query(q, st, "word", "count");
	sl_stream_aggregate(q, "count", sl_agg_sum(), "sum");
	CU_ASSERT_EQUAL_FATAL(sl_topology_error(t), SL_OK);
	sl_drpc_options o;
	sl_drpc_options_default(&o);
	o.endpoint = ep;
	sl_drpc_server *srv;
	CU_ASSERT_EQUAL_FATAL(sl_drpc_server_start_topology(&srv, &o, t), 0);
	struct stop_at sa = { t, 1 };
	sl_run_options ro;
	sl_run_options_default(&ro);
	ro.max_pending = 1;
	ro.on_commit = stop_at;
	ro.user = &sa;
	CU_ASSERT_EQUAL(sl_topology_run(t, &ro), SL_OK);
	expect(ep, "words", "the", "{\"result\":2}");
	expect(ep, "words", "hello", "{\"result\":1}");
	sa.txid = 2;
	CU_ASSERT_EQUAL(sl_topology_run(t, &ro), SL_OK);
	expect(ep, "words", "the", "{\"result\":4}");
	expect(ep, "words", "man", "{\"result\":2}");
	expect(ep, "words", "man where you the", "{\"result\":8}");
	expect(ep, "words", "", "{\"result\":0}");
	expect(ep, "words", "neverseen", "{\"result\":0}");
	sl_drpc_server_stop(srv);
	sl_topology_free(t);
	sl_state_close(st);
}

/* A running `sluice wordcount --drpc` fed through a pipe while it is
 * queried: answers never go down and never exceed the final count; after
 * the input ends they equal it. */
static long query_the(const char *ep)
{
	char *r = NULL;
	long v = -1;
	if (sl_drpc_call(ep, "words", "the", 1000, &r) == SL_OK) {
		if (sscanf(r, "{\"result\":%ld}", &v) != 1)
			v = -1;
		free(r);
	}
	return v;
}

static void test_queries_during_ingestion_are_monotonic_and_exact(void)
{
	const char *ep = "tcp://127.0.0.1:37707";
	const char *dir = sl_test_tmpdir("ingest");
	char state[600];
	snprintf(state, sizeof(state), "%s/state", dir);
	int fds[2];
	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		execl(sl_test_sluice_bin(), "sluice", "wordcount", "--input",
		    "-", "--state", state, "--batch-size", "2000",
		    "--batch-ms", "20", "--quiet", "--drpc", ep, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	FILE *w = fdopen(fds[1], "w");
	long want = 0, last = 0, between = 0, violations = 0;
	int answers = 0;
	for (int chunk = 0; chunk < 30; chunk++) {
		for (int i = 0; i < 1000; i++) {
			int the = (chunk * 1000 + i) % 3 == 0;
			want += the;
			fprintf(w, "%s word%d other\n", the ? "the" : "a",
			    i % 100);
		}
		fflush(w);
		usleep(30000);
		long v = query_the(ep);
		if (v < 0)
			continue;
		answers++;
		if (v < last || v > want)
			violations++;
		if (v > 0 && v < want)
			between++;
		last = v;
	}
	fclose(w); /* the input ends */
	for (int i = 0; i < 200 && last != want; i++) {
		long v = query_the(ep);
		if (v >= 0) {
			answers++;
			if (v < last || v > want)
				violations++;
			last = v;
		}
		usleep(20000);
	}
	printf("\n    %d answers, %ld while ingesting, final %ld of %ld\n",
	    answers, between, last, want);
	CU_ASSERT(answers >= 10);
	CU_ASSERT_EQUAL(violations, 0);
	CU_ASSERT_EQUAL(last, want);
	kill(pid, SIGTERM);
	int st;
	waitpid(pid, &st, 0);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- the cluster key: sealed requests and replies ---- */

static const char *KEY_HEX
    = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/* A request sealed as docs/drpc.md describes, stamped with ts (unix ms);
 * with flip, one ciphertext byte is changed. Returns the reply as text
 * (an unsealed reply) or "SEALED" (a sealed one). */
static char *forged(
    const char *ep, const uint8_t *key, uint64_t ts, const char *req, int flip)
{
	uint8_t dk[SL_KEY_BYTES], plain[256], msg[256 + SLI_SEAL_OVERHEAD + 1];
	size_t n = strlen(req);
	sli_derive_key(dk, key, "sluice drpc v1");
	sli_le64_put(plain, ts);
	memcpy(plain + 8, req, n);
	msg[0] = 0x01;
	const char *ad = "sluice drpc request v1";
	sli_seal(dk, (const uint8_t *)ad, strlen(ad), plain, n + 8, msg + 1);
	if (flip)
		msg[1 + SLI_SEAL_NONCE + 2] ^= 0x40;
	sli_msg m;
	CU_ASSERT_EQUAL_FATAL(
	    sli_req_call(ep, msg, 1 + n + 8 + SLI_SEAL_OVERHEAD, 3000, &m),
	    SL_OK);
	char *r;
	if (m.len && m.data[0] == 0x01)
		r = strdup("SEALED");
	else {
		r = malloc(m.len + 1);
		memcpy(r, m.data, m.len);
		r[m.len] = 0;
	}
	sli_msg_free(&m);
	return r;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void test_cluster_key_seals_requests_and_replies(void)
{
	const char *ep = "tcp://127.0.0.1:37708";
	uint8_t key[SL_KEY_BYTES], other[SL_KEY_BYTES];
	CU_ASSERT_EQUAL_FATAL(sl_key_from_hex(key, KEY_HEX), SL_OK);
	memcpy(other, key, sizeof(other));
	other[7] ^= 1;
	sl_drpc_options o;
	sl_drpc_options_default(&o);
	o.endpoint = ep;
	o.cluster_key = key;
	sl_drpc_server *s = NULL;
	CU_ASSERT_EQUAL_FATAL(
	    sl_drpc_server_start(&s, &o, handler, NULL), SL_OK);

	/* the keyed client: a sealed round trip, results and errors alike */
	char *r = NULL;
	CU_ASSERT_EQUAL(
	    sl_drpc_call_keyed(ep, key, "echo", "sealed hi", 3000, &r), SL_OK);
	CU_ASSERT_STRING_EQUAL(r ? r : "", "{\"result\":\"sealed hi\"}");
	free(r);
	r = NULL;
	CU_ASSERT_EQUAL(
	    sl_drpc_call_keyed(ep, key, "nope", "", 3000, &r), SL_OK);
	CU_ASSERT_STRING_EQUAL(
	    r ? r : "", "{\"error\":\"unknown function: nope\"}");
	free(r);
	/* on the wire the reply is sealed: the result text is not in it */
	r = forged(ep, key, now_ms(), "echo\tsecret-result", 0);
	CU_ASSERT_STRING_EQUAL(r, "SEALED");
	free(r);

	/* an unsealed request is refused with a clear error, not answered */
	r = call(ep, "echo", "x");
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "authentication required"));
	CU_ASSERT_PTR_NULL(strstr(r, "result"));
	free(r);
	/* the wrong key: the server refuses, the client says so */
	r = NULL;
	CU_ASSERT_EQUAL(
	    sl_drpc_call_keyed(ep, other, "echo", "x", 3000, &r), SL_ECRYPTO);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(sl_errdetail(), "authentication failed"));
	/* a tampered request */
	r = forged(ep, key, now_ms(), "echo\tx", 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "authentication failed"));
	free(r);
	/* a stale (replayed) request: stamped 10 minutes ago */
	r = forged(ep, key, now_ms() - 600000, "echo\tx", 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "timestamp"));
	free(r);
	sl_drpc_stats st;
	sl_drpc_server_stats(s, &st);
	CU_ASSERT_EQUAL(st.auth_failures, 4);
	CU_ASSERT_EQUAL(st.answered, 2);
	sl_drpc_server_stop(s);

	/* a keyed client and a server without the key */
	const char *ep2 = "tcp://127.0.0.1:37709";
	s = serve(ep2, 2000);
	r = NULL;
	CU_ASSERT_EQUAL(
	    sl_drpc_call_keyed(ep2, key, "echo", "x", 3000, &r), SL_ECRYPTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "no cluster key"));
	sl_drpc_server_stats(s, &st);
	CU_ASSERT_EQUAL(st.auth_failures, 1);
	CU_ASSERT_EQUAL(st.answered, 0);
	sl_drpc_server_stop(s);
}

/* The word count and `sluice drpc` with --cluster-key-file; key files
 * that are unsafe or malformed are refused without showing the key. */
static void test_cluster_key_file_from_the_command_line(void)
{
	const char *d0 = sl_test_tmpdir("keyfile");
	char d[512];
	snprintf(d, sizeof(d), "%s", d0);
	const char *bin = sl_test_sluice_bin();
	const char *ep = "tcp://127.0.0.1:37710";
	CU_ASSERT_EQUAL(
	    sl_test_sh("cd %s && printf '%s\\n' > key && chmod 600 key "
	               "&& printf '%s\\n' > open && chmod 644 open "
	               "&& printf 'nothex\\n' > bad && chmod 600 bad "
	               "&& printf 'the cat the\\n' > in.txt",
	        d, KEY_HEX, KEY_HEX),
	    0);
	/* unsafe, malformed and missing key files: exit 2, file named, key
	 * never printed */
	CU_ASSERT_EQUAL(
	    sl_test_sh("'%s' drpc --cluster-key-file %s/open count "
	               "the > %s/o1 2>&1",
	        bin, d, d),
	    2);
	CU_ASSERT_EQUAL(
	    sl_test_sh("grep -q 'readable by other users' %s/o1", d), 0);
	CU_ASSERT_EQUAL(sl_test_sh("'%s' wordcount --input %s/in.txt --memory "
	                           "--cluster-key-file %s/bad > %s/o2 2>&1",
	                    bin, d, d, d),
	    2);
	CU_ASSERT_EQUAL(sl_test_sh("grep -q '64 hex digits' %s/o2", d), 0);
	CU_ASSERT_EQUAL(
	    sl_test_sh("'%s' drpc --cluster-key-file %s/none count "
	               "the > %s/o3 2>&1",
	        bin, d, d),
	    2);
	CU_ASSERT_EQUAL(sl_test_sh("grep -q '%s/none' %s/o3", d, d), 0);
	CU_ASSERT_EQUAL(
	    sl_test_sh("cat %s/o1 %s/o2 %s/o3 | grep -q 0001020304", d, d, d),
	    1);

	/* a keyed word count answers keyed queries only */
	pid_t pid = fork();
	if (pid == 0) {
		char in[600], kf[600];
		snprintf(in, sizeof(in), "%s/in.txt", d);
		snprintf(kf, sizeof(kf), "%s/key", d);
		freopen("/dev/null", "w", stderr);
		execl(bin, bin, "wordcount", "--input", in, "--memory",
		    "--quiet", "--cluster-key-file", kf, "--drpc", ep,
		    (char *)NULL);
		_exit(127);
	}
	int ok = 0;
	for (int i = 0; i < 100 && !ok; i++) {
		usleep(50000);
		ok = sl_test_sh(
		         "'%s' drpc --endpoint %s --timeout 500 "
		         "--cluster-key-file %s/key count the > %s/o4 "
		         "2>/dev/null && grep -qx '{\"result\":2}' %s/o4",
		         bin, ep, d, d, d)
		    == 0;
	}
	CU_ASSERT(ok);
	CU_ASSERT_EQUAL(sl_test_sh("'%s' drpc --endpoint %s count the > %s/o5",
	                    bin, ep, d),
	    1);
	CU_ASSERT_EQUAL(
	    sl_test_sh("grep -q 'authentication required' %s/o5", d), 0);
	kill(pid, SIGTERM);
	int st;
	waitpid(pid, &st, 0);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

SL_SUITE(drpc, NULL, NULL,
    { "round trips from C, the CLI and nanocat",
        test_round_trips_from_c_cli_and_nanocat },
    { "bad requests get clear errors", test_bad_requests_get_clear_errors },
    { "blocked function times out and server goes on",
        test_blocked_function_times_out_and_server_goes_on },
    { "a thousand concurrent requests are all answered",
        test_a_thousand_concurrent_requests_are_all_answered },
    { "listening off loopback needs the cluster key",
        test_listening_off_loopback_needs_the_cluster_key },
    { "the cluster key seals requests and replies",
        test_cluster_key_seals_requests_and_replies },
    { "cluster key file from the command line",
        test_cluster_key_file_from_the_command_line },
    { "Storm's classic words query", test_storm_classic_words_query },
    { "queries during ingestion are monotonic and exact",
        test_queries_during_ingestion_are_monotonic_and_exact })
