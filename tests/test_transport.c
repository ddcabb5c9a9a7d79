/* test_transport.c - frame codec, sealing, links, groupings, outbox,
 * tracker. */
#include "../transport/transport.h"
#include "sltest.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Encodes ntuples tuples of (bytes "w<i>", int i, double i/2) and returns an
 * exact-size malloc'd copy (so ASan catches any over-read). */
static uint8_t *make_frame(uint32_t ntuples, const uint8_t *key, size_t *len)
{
	sli_frame_writer w;
	sli_frame_writer_init(&w);
	sli_frame_header h = { SLI_FRAME_DATA, 0, 7, 42, 3, 1, 2, 0 };
	CU_ASSERT_EQUAL_FATAL(sli_frame_writer_begin(&w, &h), SL_OK);
	for (uint32_t i = 0; i < ntuples; i++) {
		char s[32];
		int n = snprintf(s, sizeof(s), "w%u", i);
		sl_value v[3] = { sl_bytes(s, (uint32_t)n), sl_int(i),
			sl_double(i / 2.0) };
		CU_ASSERT_EQUAL_FATAL(sli_frame_writer_add(&w, v, 3), SL_OK);
	}
	const uint8_t *d;
	CU_ASSERT_EQUAL_FATAL(
	    sli_frame_writer_finish(&w, key, &d, len), SL_OK);
	uint8_t *copy = malloc(*len ? *len : 1);
	memcpy(copy, d, *len);
	sli_frame_writer_free(&w);
	return copy;
}

static int check_frame(
    uint8_t *buf, size_t len, const uint8_t *key, uint32_t ntuples)
{
	sli_frame_reader r;
	int rc = sli_frame_decode(&r, buf, len, key);
	if (rc)
		return rc;
	CU_ASSERT_EQUAL(r.h.stream, 7);
	CU_ASSERT_EQUAL(r.h.txid, 42);
	CU_ASSERT_EQUAL(r.h.attempt, 3);
	CU_ASSERT_EQUAL(r.h.count, ntuples);
	sl_value v[4];
	size_t n;
	uint32_t i = 0;
	while (sli_frame_next(&r, v, 4, &n) == SL_OK) {
		char s[32];
		int sl = snprintf(s, sizeof(s), "w%u", i);
		if (n != 3 || v[0].len != (uint32_t)sl
		    || memcmp(v[0].u.p, s, (size_t)sl) || v[1].u.i != i
		    || v[2].u.d != i / 2.0)
			return SL_ECORRUPT;
		i++;
	}
	return i == ntuples ? SL_OK : SL_ECORRUPT;
}

static void test_frame_round_trips_0_to_100000_tuples(void)
{
	uint32_t sizes[] = { 0, 1, 2, 127, 128, 1000, 100000 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len;
		uint8_t *f = make_frame(sizes[i], NULL, &len);
		CU_ASSERT_EQUAL(check_frame(f, len, NULL, sizes[i]), SL_OK);
		free(f);
	}
}

static void test_frame_round_trips_every_value_type(void)
{
	static uint8_t big[SL_MAX_BYTES];
	memset(big, 0xab, sizeof(big));
	sl_value v[] = { sl_null(), sl_int(INT64_MIN), sl_int(INT64_MAX),
		sl_int(-1), sl_double(NAN), sl_double(INFINITY),
		sl_double(-INFINITY), sl_str(""),
		sl_bytes(big, SL_MAX_BYTES) };
	size_t nv = sizeof(v) / sizeof(v[0]);
	sli_frame_writer w;
	sli_frame_writer_init(&w);
	sli_frame_header h = { SLI_FRAME_DATA, 0, 1, 1, 1, 0, 0, 0 };
	sli_frame_writer_begin(&w, &h);
	CU_ASSERT_EQUAL(sli_frame_writer_add(&w, v, nv), SL_OK);
	CU_ASSERT_EQUAL(sli_frame_writer_add(&w, v, 0), SL_OK);
	const uint8_t *d;
	size_t len;
	CU_ASSERT_EQUAL_FATAL(sli_frame_writer_finish(&w, NULL, &d, &len), 0);
	uint8_t *copy = malloc(len);
	memcpy(copy, d, len);
	sli_frame_reader r;
	CU_ASSERT_EQUAL_FATAL(sli_frame_decode(&r, copy, len, NULL), SL_OK);
	sl_value out[SL_MAX_FIELDS];
	size_t n;
	CU_ASSERT_EQUAL_FATAL(sli_frame_next(&r, out, SL_MAX_FIELDS, &n), 0);
	CU_ASSERT_EQUAL(n, nv);
	for (size_t i = 0; i < nv; i++)
		CU_ASSERT(sl_value_equal(&out[i], &v[i]));
	CU_ASSERT_EQUAL(sli_frame_next(&r, out, SL_MAX_FIELDS, &n), SL_OK);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(
	    sli_frame_next(&r, out, SL_MAX_FIELDS, &n), SL_ENOTFOUND);
	free(copy);
	/* too many fields and too long bytes are refused at encode */
	sl_value many[SL_MAX_FIELDS + 1];
	for (size_t i = 0; i <= SL_MAX_FIELDS; i++)
		many[i] = sl_int((int64_t)i);
	sli_frame_writer_begin(&w, &h);
	CU_ASSERT_EQUAL(
	    sli_frame_writer_add(&w, many, SL_MAX_FIELDS + 1), SL_EINVAL);
	sli_frame_writer_free(&w);
}

static void test_frame_rejects_truncated_at_every_offset(void)
{
	size_t len;
	uint8_t *f = make_frame(5, NULL, &len);
	uint64_t before = sli_transport_rejected();
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *c = malloc(cut ? cut : 1);
		memcpy(c, f, cut);
		sli_frame_reader r;
		CU_ASSERT_NOT_EQUAL(sli_frame_decode(&r, c, cut, NULL), SL_OK);
		free(c);
	}
	CU_ASSERT_EQUAL(sli_transport_rejected() - before, len);
	free(f);
}

static void test_frame_rejects_bad_header_fields(void)
{
	size_t len;
	uint8_t *f = make_frame(3, NULL, &len);
	sli_frame_reader r;
	uint8_t *c = malloc(len + 1);
	struct {
		size_t off;
		uint8_t val;
		int want;
	} cases[] = {
		{ 0, 'X', SL_EPROTO }, /* magic */
		{ 4, 2, SL_EVERSION }, /* version */
		{ 5, 9, SL_EPROTO }, /* kind */
		{ 6, 0x80, SL_EPROTO }, /* unknown flag */
		{ 35, 0x7f, SL_EOVERFLOW }, /* count far over the body */
		{ 39, 0x7f, SL_ETRUNC }, /* body length over the buffer */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(c, f, len);
		c[cases[i].off] = cases[i].val;
		CU_ASSERT_EQUAL(
		    sli_frame_decode(&r, c, len, NULL), cases[i].want);
	}
	/* count one more than present: the last tuple is missing */
	memcpy(c, f, len);
	c[32] = 4;
	CU_ASSERT_NOT_EQUAL(sli_frame_decode(&r, c, len, NULL), SL_OK);
	/* count one less: bytes left after the last tuple */
	memcpy(c, f, len);
	c[32] = 2;
	CU_ASSERT_EQUAL(sli_frame_decode(&r, c, len, NULL), SL_ECORRUPT);
	/* trailing garbage after the body */
	memcpy(c, f, len);
	c[len] = 0;
	CU_ASSERT_EQUAL(sli_frame_decode(&r, c, len + 1, NULL), SL_ECORRUPT);
	/* a value length field that overflows */
	uint8_t evil[SLI_FRAME_HEADER_BYTES + 8];
	memcpy(evil, f, SLI_FRAME_HEADER_BYTES);
	evil[32] = 1, evil[33] = evil[34] = evil[35] = 0;
	uint8_t body[] = { 1, SL_BYTES, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
	memcpy(evil + SLI_FRAME_HEADER_BYTES, body, 8);
	sli_le32_put(evil + 36, 8);
	CU_ASSERT_EQUAL(
	    sli_frame_decode(&r, evil, sizeof(evil), NULL), SL_EOVERFLOW);
	/* arity over the limit */
	body[0] = SL_MAX_FIELDS + 1;
	memcpy(evil + SLI_FRAME_HEADER_BYTES, body, 8);
	CU_ASSERT_EQUAL(
	    sli_frame_decode(&r, evil, sizeof(evil), NULL), SL_EOVERFLOW);
	free(c);
	free(f);
}

static void test_sealed_frames_reject_tampering(void)
{
	uint8_t key[SL_KEY_BYTES], wrong[SL_KEY_BYTES];
	memset(key, 1, sizeof(key));
	memset(wrong, 2, sizeof(wrong));
	size_t len, len2;
	uint8_t *f = make_frame(4, key, &len);
	uint8_t *g = make_frame(4, key, &len2);
	uint8_t *c = malloc(len);
	sli_frame_reader r;
	memcpy(c, f, len);
	CU_ASSERT_EQUAL(check_frame(c, len, key, 4), SL_OK);
	memcpy(c, f, len);
	CU_ASSERT_EQUAL(sli_frame_decode(&r, c, len, wrong), SL_ECRYPTO);
	memcpy(c, f, len);
	CU_ASSERT_EQUAL(sli_frame_decode(&r, c, len, NULL), SL_ECRYPTO);
	uint64_t before = sli_transport_rejected();
	size_t flips = 0;
	for (size_t bit = 0; bit < len * 8; bit++) {
		memcpy(c, f, len);
		c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CU_ASSERT_NOT_EQUAL(sli_frame_decode(&r, c, len, key), SL_OK);
		flips++;
	}
	CU_ASSERT_EQUAL(sli_transport_rejected() - before, flips);
	/* header of frame g on the body of frame f */
	memcpy(c, f, len);
	memcpy(c, g, SLI_FRAME_HEADER_BYTES);
	c[20] = 9; /* a different attempt, same length */
	CU_ASSERT_EQUAL(sli_frame_decode(&r, c, len, key), SL_ECRYPTO);
	/* an unsealed frame on a sealed link is refused */
	size_t plen;
	uint8_t *p = make_frame(1, NULL, &plen);
	CU_ASSERT_EQUAL(sli_frame_decode(&r, p, plen, key), SL_ECRYPTO);
	free(p);
	free(c);
	free(f);
	free(g);
}

struct link_run {
	const char *url;
	int frames;
	int ok;
};

static void *pusher(void *arg)
{
	struct link_run *lr = arg;
	sli_link *l;
	if (sli_link_push(&l, lr->url, 64))
		return NULL;
	sli_outbox *o;
	sli_link *targets[1] = { l };
	sli_grouping g = { SLI_GROUP_GLOBAL, 1, 0, { 0 }, 0, -1 };
	sli_outbox_new(&o, targets, 1, &g, 0, 1, 10, NULL);
	for (int b = 1; b <= lr->frames; b++) {
		sli_outbox_begin(o, (uint64_t)b, 1);
		for (int i = 0; i < b * 7; i++) {
			sl_value v[2] = { sl_int(b), sl_int(i) };
			sli_outbox_emit(o, v, 2);
		}
		sli_outbox_end(o);
	}
	sli_outbox_free(o);
	lr->ok = 1;
	usleep(100000); /* let the linger flush */
	sli_link_close(l);
	return NULL;
}

static void run_link(const char *url)
{
	sli_link *pull;
	CU_ASSERT_EQUAL_FATAL(sli_link_pull(&pull, url), SL_OK);
	struct link_run lr = { url, 20, 0 };
	pthread_t th;
	pthread_create(&th, NULL, pusher, &lr);
	sli_tracker *t;
	sli_tracker_new(&t, 1);
	int64_t last_b = 0, last_i = -1, complete = 0;
	int order_ok = 1;
	while (complete < lr.frames) {
		sli_msg m;
		int rc = sli_link_recv(pull, &m, 5000);
		CU_ASSERT_EQUAL_FATAL(rc, SL_OK);
		sli_frame_reader r;
		CU_ASSERT_EQUAL_FATAL(
		    sli_frame_decode(&r, m.data, m.len, NULL), 0);
		sl_value v[2];
		size_t n;
		while (sli_frame_next(&r, v, 2, &n) == SL_OK) {
			if (v[0].u.i == last_b && v[1].u.i == last_i + 1)
				last_i++;
			else if (v[0].u.i == last_b + 1 && v[1].u.i == 0)
				last_b++, last_i = 0;
			else
				order_ok = 0;
		}
		rc = sli_tracker_record(t, &r.h);
		if (r.h.kind == SLI_FRAME_EOB)
			CU_ASSERT_EQUAL(r.h.count, r.h.txid * 7);
		if (rc == 1) {
			CU_ASSERT_EQUAL(r.h.txid, (uint64_t)complete + 1);
			complete++;
		}
		sli_msg_free(&m);
	}
	pthread_join(th, NULL);
	CU_ASSERT(lr.ok);
	CU_ASSERT(order_ok);
	CU_ASSERT_EQUAL(last_b, lr.frames);
	sli_tracker_free(t);
	sli_link_close(pull);
}

static void test_links_deliver_in_order_over_every_transport(void)
{
	char ipc[256];
	snprintf(ipc, sizeof(ipc), "ipc://%s/link.ipc", sl_test_tmpdir("ipc"));
	run_link("inproc://test-link");
	run_link(ipc);
	run_link("tcp://127.0.0.1:37611");
}

static void test_tcp_bind_off_loopback_needs_key(void)
{
	sli_link *l;
	CU_ASSERT_EQUAL(sli_link_pull(&l, "tcp://0.0.0.0:37612"), SL_EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "cluster key"));
	CU_ASSERT_EQUAL(sli_link_pull(&l, "bogus://x"), SL_EINVAL);
	CU_ASSERT(sli_url_is_loopback("tcp://127.0.0.1:1"));
	CU_ASSERT(sli_url_is_loopback("inproc://a"));
	CU_ASSERT(!sli_url_is_loopback("tcp://10.0.0.1:1"));
}

static void test_send_times_out_when_consumer_stalls(void)
{
	sli_link *pull, *push;
	CU_ASSERT_EQUAL_FATAL(sli_link_pull(&pull, "inproc://stall"), 0);
	CU_ASSERT_EQUAL_FATAL(sli_link_push(&push, "inproc://stall", 1), 0);
	static uint8_t blob[64 * 1024];
	int sent = 0, rc = 0;
	for (int i = 0; i < 10000 && rc == 0; i++) {
		rc = sli_link_send(push, blob, sizeof(blob), 20);
		if (!rc)
			sent++;
	}
	CU_ASSERT_EQUAL(rc, SL_ETIMEDOUT);
	CU_ASSERT(sent < 10000);
	sli_link_close(push);
	sli_link_close(pull);
}

static void test_tracker_waits_for_all_markers_and_ignores_stale(void)
{
	sli_tracker *t;
	sli_tracker_new(&t, 2);
	sli_frame_header d0 = { SLI_FRAME_DATA, 0, 0, 5, 1, 0, 0, 3 };
	sli_frame_header e0 = { SLI_FRAME_EOB, 0, 0, 5, 1, 0, 0, 3 };
	sli_frame_header e1 = { SLI_FRAME_EOB, 0, 0, 5, 1, 1, 0, 2 };
	sli_frame_header d1 = { SLI_FRAME_DATA, 0, 0, 5, 1, 1, 0, 2 };
	CU_ASSERT_EQUAL(sli_tracker_record(t, &e0), 0); /* marker first */
	CU_ASSERT_EQUAL(sli_tracker_record(t, &d0), 0);
	CU_ASSERT_EQUAL(sli_tracker_record(t, &e1), 0); /* 0 of 2 arrived */
	CU_ASSERT_EQUAL(sli_tracker_record(t, &d1), 1);
	/* a new attempt resets; the old attempt's frames are stale */
	sli_frame_header n0 = { SLI_FRAME_EOB, 0, 0, 5, 2, 0, 0, 0 };
	CU_ASSERT_EQUAL(sli_tracker_record(t, &n0), 0);
	CU_ASSERT_EQUAL(sli_tracker_record(t, &d1), SL_ESTALE);
	sli_frame_header n1 = { SLI_FRAME_EOB, 0, 0, 5, 2, 1, 0, 0 };
	CU_ASSERT_EQUAL(sli_tracker_record(t, &n1), 1);
	/* more tuples than announced */
	sli_frame_header x = { SLI_FRAME_DATA, 0, 0, 6, 1, 0, 0, 5 };
	sli_frame_header xe = { SLI_FRAME_EOB, 0, 0, 6, 1, 0, 0, 4 };
	sli_tracker_record(t, &x);
	CU_ASSERT_EQUAL(sli_tracker_record(t, &xe), SL_ECORRUPT);
	sli_frame_header bad = { SLI_FRAME_DATA, 0, 0, 6, 1, 9, 0, 5 };
	CU_ASSERT_EQUAL(sli_tracker_record(t, &bad), SL_EPROTO);
	sli_tracker_free(t);
}

static void test_fields_grouping_is_stable_and_even(void)
{
	sli_grouping g = { SLI_GROUP_FIELDS, 8, 1, { 0 }, 0, -1 };
	uint32_t counts[8] = { 0 };
	for (int i = 0; i < 100000; i++) {
		char s[32];
		int n = snprintf(s, sizeof(s), "key-%d", i);
		sl_value v[2] = { sl_bytes(s, (uint32_t)n), sl_int(i) };
		int32_t t = sli_grouping_target(&g, v, 2);
		CU_ASSERT_FATAL(t >= 0 && t < 8);
		sl_value v2[2] = { sl_bytes(s, (uint32_t)n), sl_int(-i) };
		CU_ASSERT_EQUAL(sli_grouping_target(&g, v2, 2), t);
		counts[t]++;
	}
	for (int t = 0; t < 8; t++) {
		CU_ASSERT(counts[t] >= 12500 * 9 / 10);
		CU_ASSERT(counts[t] <= 12500 * 11 / 10);
	}
	sli_grouping all = { SLI_GROUP_ALL, 3, 0, { 0 }, 0, -1 };
	sli_grouping glob = { SLI_GROUP_GLOBAL, 3, 0, { 0 }, 0, -1 };
	sli_grouping shuf = { SLI_GROUP_SHUFFLE, 3, 0, { 0 }, 0, -1 };
	sli_grouping local = { SLI_GROUP_LOCAL_OR_SHUFFLE, 3, 0, { 0 }, 0, 2 };
	sl_value v = sl_int(1);
	CU_ASSERT_EQUAL(sli_grouping_target(&all, &v, 1), -1);
	CU_ASSERT_EQUAL(sli_grouping_target(&glob, &v, 1), 0);
	CU_ASSERT_EQUAL(sli_grouping_target(&local, &v, 1), 2);
	int seen[3] = { 0 };
	for (int i = 0; i < 9; i++)
		seen[sli_grouping_target(&shuf, &v, 1)]++;
	CU_ASSERT(seen[0] == 3 && seen[1] == 3 && seen[2] == 3);
}

SL_SUITE(transport, NULL, NULL,
    { "frame round trips 0 to 100000 tuples",
        test_frame_round_trips_0_to_100000_tuples },
    { "frame round trips every value type",
        test_frame_round_trips_every_value_type },
    { "frame rejects truncated at every offset",
        test_frame_rejects_truncated_at_every_offset },
    { "frame rejects bad header fields",
        test_frame_rejects_bad_header_fields },
    { "sealed frames reject tampering", test_sealed_frames_reject_tampering },
    { "links deliver in order over every transport",
        test_links_deliver_in_order_over_every_transport },
    { "tcp bind off loopback needs key",
        test_tcp_bind_off_loopback_needs_key },
    { "send times out when consumer stalls",
        test_send_times_out_when_consumer_stalls },
    { "tracker waits for all markers and ignores stale",
        test_tracker_waits_for_all_markers_and_ignores_stale },
    { "fields grouping is stable and even",
        test_fields_grouping_is_stable_and_even })
