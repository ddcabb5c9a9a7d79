/*
 * drpc.c - DRPC query latency while the word count ingests at full speed,
 * next to a Redis HGET round trip measured in the same run.
 * Usage: bench-drpc CORPUS SLUICE_BIN [REDIS_PORT]
 * Starts `SLUICE_BIN wordcount --input CORPUS --drpc ...` as a child and,
 * while it ingests, times single-word and 100-word `words` queries over a
 * persistent REQ socket; with REDIS_PORT (a running redis-server holding
 * the hash "words"), times HGET over one TCP connection. Prints a
 * markdown table.
 */
#include "transport/transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define N      4000 /* queries of each kind per round */
#define ROUNDS 3 /* ingestions; samples of all rounds pooled */

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void row(const char *name, double *v, int n, const char *note)
{
	qsort(v, (size_t)n, sizeof(double), cmp);
	printf("| %s | %d | %.3f | %.3f | %s |\n", name, n, v[n / 2],
	    v[(int)(n * 0.99)], note);
}

static int redis_hget(int fd, const char *field, char *buf, size_t cap)
{
	char req[256];
	int l = snprintf(req, sizeof(req),
	    "*3\r\n$4\r\nHGET\r\n$5\r\nwords\r\n$%zu\r\n%s\r\n", strlen(field),
	    field);
	if (write(fd, req, (size_t)l) != l)
		return -1;
	/* one bulk reply: "$len\r\ndata\r\n" or "$-1\r\n" */
	size_t got = 0;
	for (;;) {
		ssize_t r = read(fd, buf + got, cap - got - 1);
		if (r <= 0)
			return -1;
		got += (size_t)r;
		buf[got] = 0;
		if (buf[0] == '$' && buf[1] == '-' && strstr(buf, "\r\n"))
			return 0;
		char *e = strstr(buf, "\r\n");
		if (e && strstr(e + 2, "\r\n"))
			return 0;
	}
}

/* One TCP connection to redis-server on 127.0.0.1:port, or -1. */
static int redis_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = { 0 };
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int on = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr,
		    "usage: bench-drpc CORPUS SLUICE_BIN "
		    "[REDIS_PORT]\n");
		return 2;
	}
	const char *ep = "tcp://127.0.0.1:37795";
	static double one[N * ROUNDS], hundred[N * ROUNDS], red[N],
	    redload[N * ROUNDS];
	int rfd = argc > 3 ? redis_connect(atoi(argv[3])) : -1;
	int nrl = 0, n1 = 0, n100 = 0, ingesting = 1;
	char big[4096] = "words\t";
	for (int i = 0; i < 100; i++)
		strcat(big, i ? " the" : "the");
	for (int round = 0; round < ROUNDS; round++) {
		char state[64];
		snprintf(state, sizeof(state), "/tmp/sluice-bench-drpc-%ld",
		    (long)getpid());
		pid_t pid = fork();
		if (pid == 0) {
			execl(argv[2], "sluice", "wordcount", "--input",
			    argv[1], "--state", state, "--no-sync", "--quiet",
			    "--drpc", ep, (char *)NULL);
			_exit(127);
		}
		sli_req *r = NULL;
		for (int i = 0; i < 100 && !r; i++) {
			usleep(20000);
			sli_req_open(&r, ep, 2000);
		}
		for (int i = 0; r && i < N; i++) {
			sli_msg m;
			uint64_t t0 = sli_now_ns();
			if (sli_req_send_recv(r, "words\tthe", 9, &m)
			    == SL_OK) {
				one[n1++] = (double)(sli_now_ns() - t0) / 1e6;
				sli_msg_free(&m);
			}
			t0 = sli_now_ns();
			if (sli_req_send_recv(r, big, strlen(big), &m)
			    == SL_OK) {
				hundred[n100++]
				    = (double)(sli_now_ns() - t0) / 1e6;
				sli_msg_free(&m);
			}
			/* Redis under the same load: interleaved with the
			 * queries */
			char buf[512];
			t0 = sli_now_ns();
			if (rfd >= 0
			    && !redis_hget(rfd, "the", buf, sizeof(buf)))
				redload[nrl++]
				    = (double)(sli_now_ns() - t0) / 1e6;
		}
		ingesting &= waitpid(pid, NULL, WNOHANG) == 0;
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		sli_req_close(r);
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", state);
		if (system(cmd) != 0)
			fprintf(stderr, "bench-drpc: could not remove %s\n",
			    state);
	}
	/* Redis on the idle machine, after the ingestion */
	int nr = 0;
	for (int i = 0; rfd >= 0 && i < N; i++) {
		char buf[512];
		uint64_t t0 = sli_now_ns();
		if (redis_hget(rfd, "the", buf, sizeof(buf)))
			break;
		red[nr++] = (double)(sli_now_ns() - t0) / 1e6;
	}
	if (rfd >= 0)
		close(rfd);
	printf(
	    "| query | n | p50 ms | p99 ms | |\n|---|---:|---:|---:|---|\n");
	const char *note = ingesting
	    ? "while the word count ingests (3 ingestions pooled)"
	    : "(an ingestion ended during its queries)";
	if (n1)
		row("DRPC `words` 1 word", one, n1, note);
	if (n100)
		row("DRPC `words` 100 words", hundred, n100, note);
	if (nrl)
		row("Redis HGET", redload, nrl,
		    "interleaved with the DRPC queries, same load (pooled)");
	if (nr)
		row("Redis HGET", red, nr,
		    "idle machine, after the ingestion ended");
	/* row() sorted each array in place */
	if (n1 && nrl)
		printf("\nDRPC p99 / Redis HGET p99 under the same load: "
		       "1 word %.2fx, 100 words %.2fx (target ≤ 3x)\n",
		    one[(int)(n1 * 0.99)] / redload[(int)(nrl * 0.99)],
		    hundred[(int)(n100 * 0.99)] / redload[(int)(nrl * 0.99)]);
	if (n1 && nr)
		printf("\nDRPC p99 under load / idle Redis HGET p99: "
		       "1 word %.2fx, 100 words %.2fx\n",
		    one[(int)(n1 * 0.99)] / red[(int)(nr * 0.99)],
		    hundred[(int)(n100 * 0.99)] / red[(int)(nr * 0.99)]);
	return n1 ? 0 : 1;
}
