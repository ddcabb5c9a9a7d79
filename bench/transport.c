/*
 * transport.c - the transport micro-benchmark: tuples/s and MB/s of word
 * count tuples (a short word and an int) through inproc, ipc and tcp
 * links, batched at 10, 100 and 1000 tuples per frame, next to the raw
 * nanomsg rate of one tuple per message measured in the same run.
 * Prints a markdown table. Usage: bench-transport [--quick]
 */
#include "transport/transport.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct rx {
	sli_link *in;
	uint64_t tuples, bytes;
	volatile int stop;
} rx;

static void *receiver(void *arg)
{
	rx *r = arg;
	while (!r->stop) {
		sli_msg m;
		if (sli_link_recv(r->in, &m, 50))
			continue;
		sli_frame_reader fr;
		if (sli_frame_decode(&fr, m.data, m.len, NULL) == SL_OK) {
			sl_value v[2];
			size_t n;
			while (sli_frame_next(&fr, v, 2, &n) == SL_OK)
				r->tuples++;
		}
		r->bytes += m.len;
		sli_msg_free(&m);
	}
	return NULL;
}

/* Sends frames of per tuples for secs seconds; returns tuples/s. */
static double measure(const char *url, int per, double secs, double *mbps)
{
	rx r;
	memset(&r, 0, sizeof(r));
	if (sli_link_pull(&r.in, url))
		return 0;
	sli_link *out;
	if (sli_link_push(&out, url, 64)) {
		sli_link_close(r.in);
		return 0;
	}
	pthread_t th;
	pthread_create(&th, NULL, receiver, &r);
	sli_frame_writer w;
	sli_frame_writer_init(&w);
	static const char *words[] = { "the", "cow", "jumped", "over", "moon",
		"candy", "store", "seven" };
	uint64_t t0 = sli_now_ns(), end = t0 + (uint64_t)(secs * 1e9);
	uint64_t i = 0;
	while (sli_now_ns() < end) {
		sli_frame_header h = { SLI_FRAME_DATA, 0, 1, 1, 1, 0, 0, 0 };
		sli_frame_writer_begin(&w, &h);
		for (int k = 0; k < per; k++, i++) {
			sl_value v[2]
			    = { sl_str(words[i & 7]), sl_int((int64_t)i) };
			sli_frame_writer_add(&w, v, 2);
		}
		const uint8_t *d;
		size_t n;
		sli_frame_writer_finish(&w, NULL, &d, &n);
		if (sli_link_send(out, d, n, 1000))
			break;
	}
	/* let the receiver drain what was sent */
	for (int k = 0; k < 200 && r.tuples < i; k++)
		usleep(5000);
	double el = (double)(sli_now_ns() - t0) / 1e9;
	r.stop = 1;
	pthread_join(th, NULL);
	sli_frame_writer_free(&w);
	sli_link_close(out);
	sli_link_close(r.in);
	*mbps = (double)r.bytes / el / 1e6;
	return (double)r.tuples / el;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 && !strcmp(argv[1], "--quick") ? 0.1 : 0.6;
	char ipc[128];
	snprintf(ipc, sizeof(ipc), "ipc:///tmp/sluice-bench-%ld.ipc",
	    (long)getpid());
	const char *urls[3]
	    = { "inproc://bench", ipc, "tcp://127.0.0.1:37791" };
	const char *names[3] = { "inproc", "ipc", "tcp 127.0.0.1" };
	int pers[4] = { 1, 10, 100, 1000 };
	printf("| link | tuples per message | tuples/s | MB/s | ratio to 1 "
	       "tuple per message |\n|---|---:|---:|---:|---:|\n");
	for (int u = 0; u < 3; u++) {
		double raw = 0;
		for (int p = 0; p < 4; p++) {
			double mb = 0;
			double tps = measure(urls[u], pers[p], secs, &mb);
			if (p == 0)
				raw = tps;
			printf("| %s | %d%s | %.0f | %.1f | %.1fx |\n",
			    names[u], pers[p], p == 0 ? " (raw nanomsg)" : "",
			    tps, mb, raw > 0 ? tps / raw : 0);
			fflush(stdout);
		}
	}
	unlink(ipc + 6);
	return 0;
}
