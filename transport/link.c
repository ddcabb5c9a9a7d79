/* link.c - nanomsg PUSH/PULL links (inproc, ipc, tcp) with bounded
 * in-flight frames; the only file besides reqrep.c that includes nanomsg. */
#include "transport.h"

#include <nanomsg/nn.h>
#include <nanomsg/pipeline.h>
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct sli_link {
	int sock;
	int endpoint;
};

void sli_msg_free(sli_msg *m)
{
	if (m && m->data) {
		nn_freemsg(m->data);
		m->data = NULL;
		m->len = 0;
	}
}

/* The scheme of url: 0 unknown, 1 local (inproc, ipc), 2 network. */
static int url_scheme(const char *url, const char **rest)
{
	static const struct {
		const char *pre;
		int kind;
	} schemes[] = { { "inproc://", 1 }, { "ipc://", 1 }, { "tcp://", 2 },
		{ "ws://", 2 } };
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i].pre);
		if (!strncmp(url, schemes[i].pre, n)) {
			*rest = url + n;
			return schemes[i].kind;
		}
	}
	*rest = url;
	return 0;
}

/* 1 when the host of a tcp:// or ws:// address (host:port[/path], maybe
 * after nanomsg's "local;" part) is a loopback address; the whole host is
 * compared, never a prefix ("127.x.evil" is not loopback). */
static int host_is_loopback(const char *h)
{
	const char *semi = strchr(h, ';');
	if (semi)
		h = semi + 1;
	char host[256];
	size_t n;
	if (*h == '[') {
		const char *e = strchr(h, ']');
		if (!e || e[1] != ':')
			return 0;
		n = (size_t)(e - h - 1);
		h++;
	} else {
		const char *e = strrchr(h, ':');
		const char *slash = strchr(h, '/');
		if (slash && e && e > slash) {
			/* a ':' inside the path: the port ends the host */
			e = memchr(h, ':', (size_t)(slash - h));
		}
		if (!e)
			return 0;
		n = (size_t)(e - h);
	}
	if (n == 0 || n >= sizeof(host))
		return 0;
	memcpy(host, h, n);
	host[n] = 0;
	if (!strcmp(host, "localhost"))
		return 1;
	struct in_addr a4;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	struct in6_addr a6;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

int sli_url_is_loopback(const char *url)
{
	const char *rest;
	switch (url_scheme(url, &rest)) {
	case 1:
		return 1; /* inproc and ipc never leave the host */
	case 2:
		return host_is_loopback(rest);
	default:
		return 0;
	}
}

int sli_bind_allowed(const char *url, const uint8_t *key)
{
	const char *rest;
	if (!url || !*url)
		return sli_err(SL_EINVAL, "empty endpoint");
	if (!url_scheme(url, &rest))
		return sli_err(SL_EINVAL,
		    "%s: unknown transport (use inproc://, ipc://, tcp:// or "
		    "ws://)",
		    url);
	if (!sli_url_is_loopback(url) && !key)
		return sli_err(SL_EPERM,
		    "%s is not on loopback: a cluster key is required to "
		    "listen there",
		    url);
	return SL_OK;
}

static int nn_code(void)
{
	switch (nn_errno()) {
	case ENOMEM:
		return SL_ENOMEM;
	case ETIMEDOUT:
	case EAGAIN:
		return SL_ETIMEDOUT;
	case EBADF:
	case ETERM:
		return SL_ECLOSED;
	case EADDRINUSE:
		return SL_EIO;
	case EINVAL:
	case EPROTONOSUPPORT:
	case ENAMETOOLONG:
	case ENODEV:
		return SL_EINVAL;
	default:
		return SL_EIO;
	}
}

static int open_link(sli_link **out, int proto, const char *url, int bind,
    int max_inflight, const uint8_t *key, size_t max_msg)
{
	*out = NULL;
	if (bind) {
		int rc = sli_bind_allowed(url, key);
		if (rc)
			return rc;
	}
	sli_link *l = calloc(1, sizeof(*l));
	if (!l)
		return SL_ENOMEM;
	l->sock = nn_socket(AF_SP, proto);
	if (l->sock < 0) {
		free(l);
		return sli_err(
		    nn_code(), "nn_socket: %s", nn_strerror(nn_errno()));
	}
	/* never -1 (unlimited): a peer announcing a 2^62-byte message
	 * would make nanomsg abort the process on the failed allocation */
	int maxsz = max_msg > INT_MAX ? INT_MAX : (int)max_msg;
	nn_setsockopt(
	    l->sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsz, sizeof(maxsz));
	if (max_inflight > 0) {
		/* nanomsg bounds queues in bytes: about max_inflight frames of
		 * up to 256 KiB each */
		int bytes
		    = max_inflight > 4096 ? 4096 << 18 : max_inflight << 18;
		nn_setsockopt(
		    l->sock, NN_SOL_SOCKET, NN_SNDBUF, &bytes, sizeof(bytes));
	}
	int linger = 1000;
	nn_setsockopt(
	    l->sock, NN_SOL_SOCKET, NN_LINGER, &linger, sizeof(linger));
	l->endpoint = bind ? nn_bind(l->sock, url) : nn_connect(l->sock, url);
	if (l->endpoint < 0) {
		int rc = nn_code();
		sli_err(rc, "%s %s: %s", bind ? "bind" : "connect", url,
		    nn_strerror(nn_errno()));
		nn_close(l->sock);
		free(l);
		return rc;
	}
	*out = l;
	return SL_OK;
}

int sli_link_pull(sli_link **out, const char *url)
{
	return open_link(out, NN_PULL, url, 1, 0, NULL, SLI_FRAME_MAX_BYTES);
}

int sli_link_pull_max(sli_link **out, const char *url, size_t max_msg)
{
	return open_link(out, NN_PULL, url, 1, 0, NULL, max_msg);
}

int sli_link_pull_keyed(sli_link **out, const char *url, const uint8_t *key)
{
	return open_link(out, NN_PULL, url, 1, 0, key, SLI_FRAME_MAX_BYTES);
}

int sli_link_push(sli_link **out, const char *url, int max_inflight)
{
	/* a PUSH socket receives nothing: the smallest cap */
	return open_link(
	    out, NN_PUSH, url, 0, max_inflight, NULL, SLI_FRAME_MAX_BYTES);
}

static int wait_for(int sock, short events, int timeout_ms)
{
	struct nn_pollfd pfd = { sock, events, 0 };
	int rc = nn_poll(&pfd, 1, timeout_ms);
	if (rc < 0)
		return nn_errno() == EINTR ? SL_EAGAIN : nn_code();
	return rc == 0 ? SL_ETIMEDOUT : SL_OK;
}

static uint64_t deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? UINT64_MAX
	                      : sli_now_ns() + (uint64_t)timeout_ms * 1000000u;
}

/* After an EAGAIN: waits (in slices of at most 100 ms) for events until
 * the deadline. SL_OK to try again, SL_ETIMEDOUT, or another error. */
static int wait_until(sli_link *l, short events, uint64_t deadline)
{
	if (nn_errno() != EAGAIN)
		return nn_code();
	uint64_t now = sli_now_ns();
	if (now >= deadline)
		return SL_ETIMEDOUT;
	uint64_t left = (deadline - now) / 1000000u;
	int rc = wait_for(l->sock, events, left > 100 ? 100 : (int)left + 1);
	return rc == SL_ETIMEDOUT || rc == SL_EAGAIN ? SL_OK : rc;
}

int sli_link_send(sli_link *l, const void *p, size_t n, int timeout_ms)
{
	uint64_t deadline = deadline_of(timeout_ms);
	for (;;) {
		if (nn_send(l->sock, p, n, NN_DONTWAIT) >= 0)
			return SL_OK;
		int rc = wait_until(l, NN_POLLOUT, deadline);
		if (rc)
			return rc;
	}
}

int sli_link_recv(sli_link *l, sli_msg *m, int timeout_ms)
{
	m->data = NULL;
	m->len = 0;
	uint64_t deadline = deadline_of(timeout_ms);
	for (;;) {
		void *buf = NULL;
		int n = nn_recv(l->sock, &buf, NN_MSG, NN_DONTWAIT);
		if (n >= 0) {
			m->data = buf;
			m->len = (size_t)n;
			return SL_OK;
		}
		int rc = wait_until(l, NN_POLLIN, deadline);
		if (rc)
			return rc;
	}
}

void sli_link_close(sli_link *l)
{
	if (!l)
		return;
	nn_close(l->sock);
	free(l);
}
