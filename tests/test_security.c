/* test_security.c - issue 15: hostile peers and careless operators.
 * Receives capped before any allocation (a 16-byte header must not abort
 * the process), the loopback rule for every scheme, oversize socket spout
 * messages, and the network fuzzer's short run over real loopback
 * sockets. Each test failed before its fix (docs/errors.md names them). */
#include "../trident/trident.h"
#include "sltest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* nanomsg's SP protocol ids (sp-tcp-mapping): PUSH 0x50, REP 0x31 */
#define SP_PUSH 0x50
#define SP_REP  0x31

static int tcp_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { 0 };
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 100; i++) {
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			return fd;
		usleep(10000);
	}
	close(fd);
	return -1;
}

static void sp_header(uint8_t h[8], int proto)
{
	uint8_t x[8]
	    = { 0, 'S', 'P', 0, (uint8_t)(proto >> 8), (uint8_t)proto, 0, 0 };
	memcpy(h, x, 8);
}

static void be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* Runs fn in a child; returns its wait status (the child may abort). */
static int in_child(void (*fn)(void *), void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(20);
		fn(arg);
		_exit(0);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	return st;
}

/* A PULL link gets a header announcing 2^62 bytes, then a real frame on a
 * second connection: it must drop the liar and still deliver the frame. */
static void huge_header_child(void *arg)
{
	(void)arg;
	sli_link *pull;
	if (sli_link_pull(&pull, "tcp://127.0.0.1:37901"))
		_exit(3);
	int fd = tcp_connect(37901);
	if (fd < 0)
		_exit(4);
	uint8_t m[16];
	sp_header(m, SP_PUSH);
	be64(m + 8, (uint64_t)1 << 62);
	if (write(fd, m, 16) != 16)
		_exit(5);
	sli_msg msg;
	sli_link_recv(pull, &msg, 300); /* nothing: the liar is dropped */
	sli_link *push;
	if (sli_link_push(&push, "tcp://127.0.0.1:37901", 4))
		_exit(6);
	if (sli_link_send(push, "hello", 5, 2000))
		_exit(7);
	if (sli_link_recv(pull, &msg, 3000) || msg.len != 5)
		_exit(8);
	sli_msg_free(&msg);
	close(fd);
	sli_link_close(push);
	sli_link_close(pull);
}

static void test_huge_announced_frame_does_not_abort_a_link(void)
{
	int st = in_child(huge_header_child, NULL);
	CU_ASSERT(WIFEXITED(st));
	CU_ASSERT_EQUAL(WEXITSTATUS(st), 0);
}

/* A fake DRPC server answers with a header announcing 2^62 bytes: the
 * client times out instead of aborting. */
static void *fake_rep(void *arg)
{
	int lfd = *(int *)arg;
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	uint8_t h[8], buf[256];
	sp_header(h, SP_REP);
	if (write(fd, h, 8) != 8 || read(fd, buf, 8) != 8)
		goto out;
	/* the request: 8-byte length, then the body */
	struct pollfd p = { fd, POLLIN, 0 };
	if (poll(&p, 1, 2000) <= 0 || read(fd, buf, sizeof(buf)) <= 0)
		goto out;
	uint8_t m[8];
	be64(m, (uint64_t)1 << 62);
	if (write(fd, m, 8) != 8)
		goto out;
	poll(&p, 1, 2000);
out:
	close(fd);
	return NULL;
}

static void huge_reply_child(void *arg)
{
	(void)arg;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { 0 };
	a.sin_family = AF_INET;
	a.sin_port = htons(37902);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 4))
		_exit(3);
	pthread_t th;
	pthread_create(&th, NULL, fake_rep, &lfd);
	sli_msg m;
	int rc = sli_req_call("tcp://127.0.0.1:37902", "w\tx", 3, 800, &m);
	pthread_join(th, NULL);
	close(lfd);
	_exit(rc == SL_ETIMEDOUT ? 0 : 9);
}

static void test_huge_announced_reply_does_not_abort_the_drpc_client(void)
{
	int st = in_child(huge_reply_child, NULL);
	CU_ASSERT(WIFEXITED(st));
	CU_ASSERT_EQUAL(WEXITSTATUS(st), 0);
}

static void test_loopback_rule_checks_every_scheme(void)
{
	/* ws:// listened on every interface without a key before */
	CU_ASSERT_EQUAL(
	    sli_bind_allowed("ws://0.0.0.0:37903", NULL), SL_EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "cluster key"));
	CU_ASSERT_EQUAL(sli_bind_allowed("ws://127.0.0.1:37903", NULL), 0);
	CU_ASSERT_EQUAL(
	    sli_bind_allowed("ws://127.0.0.1:37903/path", NULL), 0);
	CU_ASSERT_EQUAL(sli_bind_allowed("tcp://[::1]:37903", NULL), 0);
	CU_ASSERT_EQUAL(sli_bind_allowed("tcp://localhost:37903", NULL), 0);
	CU_ASSERT_EQUAL(sli_bind_allowed("inproc://x", NULL), 0);
	CU_ASSERT_EQUAL(sli_bind_allowed("ipc:///tmp/x", NULL), 0);
	/* the whole host is compared, not a prefix */
	CU_ASSERT_EQUAL(
	    sli_bind_allowed("tcp://127.attacker.example:1", NULL), SL_EPERM);
	CU_ASSERT_EQUAL(
	    sli_bind_allowed("tcp://localhost.example:1", NULL), SL_EPERM);
	CU_ASSERT_EQUAL(sli_bind_allowed("tcp://eth0:37903", NULL), SL_EPERM);
	CU_ASSERT_EQUAL(sli_bind_allowed("tcp://*:37903", NULL), SL_EPERM);
	CU_ASSERT_EQUAL(sli_bind_allowed("tcp://[::]:37903", NULL), SL_EPERM);
	/* unknown schemes are refused, whatever the key */
	uint8_t key[SL_KEY_BYTES] = { 1 };
	CU_ASSERT_EQUAL(sli_bind_allowed("foo://127.0.0.1:1", key), SL_EINVAL);
	CU_ASSERT_EQUAL(sli_bind_allowed("ws://0.0.0.0:37903", key), 0);
	/* the DRPC server follows the rule */
	sl_drpc_options o;
	sl_drpc_options_default(&o);
	o.endpoint = "ws://0.0.0.0:37903";
	sl_drpc_server *s = NULL;
	CU_ASSERT_EQUAL(sl_drpc_server_start(&s, &o, NULL, NULL), SL_EPERM);
	CU_ASSERT_PTR_NULL(s);
}

struct sockrun {
	sl_topology *t;
	sl_state *st;
};

static void stop_when_counted(void *user, uint64_t txid)
{
	struct sockrun *r = user;
	sl_value v;
	if (txid > 300 || sl_state_get(r->st, "tail", 4, &v) == SL_OK)
		sl_topology_stop(r->t);
}

static void *push_lines(void *arg)
{
	sli_link *push = arg;
	size_t big = (size_t)SL_MAX_BYTES + 100;
	char *b = malloc(big);
	memset(b, 'x', big);
	memcpy(b, "head ", 5);
	CU_ASSERT_EQUAL(sli_link_send(push, "a b", 3, 5000), SL_OK);
	CU_ASSERT_EQUAL(sli_link_send(push, b, big, 10000), SL_OK);
	CU_ASSERT_EQUAL(sli_link_send(push, "tail", 4, 10000), SL_OK);
	free(b);
	return NULL;
}

/* A message over 16 MiB is rejected and counted, never cut into a word. */
static void test_socket_spout_rejects_oversize_messages(void)
{
	void *sp;
	const char *ep = "tcp://127.0.0.1:37904";
	CU_ASSERT_EQUAL_FATAL(sl_spout_socket_new(&sp, ep), SL_OK);
	sl_state *st;
	CU_ASSERT_EQUAL_FATAL(sl_state_open_memory(&st, NULL), SL_OK);
	sl_topology *t;
	CU_ASSERT_EQUAL_FATAL(sl_topology_new(&t, "sock"), SL_OK);
	sl_stream *s = sl_topology_new_stream(
	    t, "lines", &sl_spout_socket_ops, sp, "l");
	s = sl_stream_flat_map(s, "l", sl_fn_split_words, NULL, "word");
	s = sl_stream_group_by(s, "word");
	sl_stream_persistent_aggregate(s, st, NULL, sl_agg_count(), "count");
	CU_ASSERT_EQUAL_FATAL(sl_topology_error(t), SL_OK);
	sli_link *push;
	CU_ASSERT_EQUAL_FATAL(sli_link_push(&push, ep, 4), SL_OK);
	pthread_t th;
	pthread_create(&th, NULL, push_lines, push);
	struct sockrun r = { t, st };
	sl_run_options o;
	sl_run_options_default(&o);
	o.batch_ms = 20;
	o.on_commit = stop_when_counted;
	o.user = &r;
	CU_ASSERT_EQUAL(sl_topology_run(t, &o), SL_OK);
	pthread_join(th, NULL);
	sl_topology_stats ts;
	sl_topology_stats_get(t, &ts);
	CU_ASSERT(ts.rejected_frames >= 1);
	sl_state_stats ss;
	CU_ASSERT_EQUAL(sl_state_stats_get(st, &ss), SL_OK);
	CU_ASSERT_EQUAL(ss.keys, 3); /* a, b, tail: no "head", no x... */
	sl_value v;
	CU_ASSERT_EQUAL(sl_state_get(st, "head", 4, &v), SL_ENOTFOUND);
	sli_link_close(push);
	sl_topology_free(t);
	sl_state_close(st);
}

SL_SUITE(security, NULL, NULL,
    { "huge announced frame does not abort a link",
        test_huge_announced_frame_does_not_abort_a_link },
    { "huge announced reply does not abort the drpc client",
        test_huge_announced_reply_does_not_abort_the_drpc_client },
    { "loopback rule checks every scheme",
        test_loopback_rule_checks_every_scheme },
    { "socket spout rejects oversize messages",
        test_socket_spout_rejects_oversize_messages })
