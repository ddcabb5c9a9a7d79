/*
 * transport_demo.c - two tasks exchange a few batches of tuples over each
 * transport (inproc, ipc, tcp on 127.0.0.1): a producer thread sends
 * frames with end-of-batch markers, the consumer prints what arrived.
 * Usage: transport_demo [--sealed]   (seals frames with a cluster key)
 * A demo of the internal transport layer (transport/transport.h), which
 * has no public API: it lives here, not in examples/ (public headers
 * only).
 */
#include "transport/transport.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const uint8_t *key;

static void *producer(void *arg)
{
	const char *url = arg;
	sli_link *l;
	if (sli_link_push(&l, url, 16))
		return NULL;
	sli_link *targets[1] = { l };
	sli_grouping g = { SLI_GROUP_GLOBAL, 1, 0, { 0 }, 0, -1 };
	sli_outbox *o;
	sli_outbox_new(&o, targets, 1, &g, 0, 1, 4, key);
	const char *words[]
	    = { "the", "cow", "jumped", "over", "the", "moon" };
	for (uint64_t txid = 1; txid <= 3; txid++) {
		sli_outbox_begin(o, txid, 1);
		for (int i = 0; i < 6; i++) {
			sl_value v[2] = { sl_str(words[i]), sl_int(i) };
			sli_outbox_emit(o, v, 2);
		}
		sli_outbox_end(o);
	}
	sli_outbox_free(o);
	usleep(100000);
	sli_link_close(l);
	return NULL;
}

static int run(const char *url)
{
	sli_link *in;
	int rc = sli_link_pull(&in, url);
	if (rc) {
		fprintf(
		    stderr, "transport_demo: %s: %s\n", url, sl_errdetail());
		return 1;
	}
	pthread_t th;
	pthread_create(&th, NULL, producer, (void *)url);
	sli_tracker *t;
	sli_tracker_new(&t, 1);
	int batches = 0;
	printf("%s\n", url);
	while (batches < 3) {
		sli_msg m;
		if (sli_link_recv(in, &m, 5000)) {
			fprintf(stderr,
			    "transport_demo: %s: nothing arrived\n", url);
			break;
		}
		sli_frame_reader r;
		rc = sli_frame_decode(&r, m.data, m.len, key);
		if (rc) {
			fprintf(stderr, "transport_demo: bad frame: %s\n",
			    sl_errdetail());
			sli_msg_free(&m);
			continue;
		}
		if (r.h.kind == SLI_FRAME_DATA) {
			printf("  txid %llu frame of %u tuples (%zu bytes%s):",
			    (unsigned long long)r.h.txid, r.h.count, m.len,
			    key ? ", sealed" : "");
			sl_value v[2];
			size_t n;
			while (sli_frame_next(&r, v, 2, &n) == SL_OK)
				printf(" (%.*s, %lld)", (int)v[0].len,
				    (const char *)v[0].u.p,
				    (long long)v[1].u.i);
			printf("\n");
		} else
			printf(
			    "  txid %llu end of batch: %u tuples were sent\n",
			    (unsigned long long)r.h.txid, r.h.count);
		if (sli_tracker_record(t, &r.h) == 1) {
			printf("  txid %llu complete\n",
			    (unsigned long long)r.h.txid);
			batches++;
		}
		sli_msg_free(&m);
	}
	pthread_join(th, NULL);
	sli_tracker_free(t);
	sli_link_close(in);
	return batches == 3 ? 0 : 1;
}

int main(int argc, char **argv)
{
	static uint8_t k[SL_KEY_BYTES];
	if (argc > 1 && !strcmp(argv[1], "--sealed")) {
		memset(k, 0x5a, sizeof(k));
		key = k;
	}
	char ipc[128];
	snprintf(ipc, sizeof(ipc), "ipc:///tmp/sluice-demo-%ld.ipc",
	    (long)getpid());
	int rc
	    = run("inproc://demo") | run(ipc) | run("tcp://127.0.0.1:37790");
	unlink(ipc + 6);
	return rc;
}
