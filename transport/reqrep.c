/* reqrep.c - nanomsg request/reply sockets for DRPC: a raw REP socket
 * whose replies may be sent from any thread in any order, and a REQ
 * client. */
#include "transport.h"

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* The connections a REP socket keeps at most (issue 15.4): nanomsg
 * accepts every connection by itself, without a limit, and keeps an idle
 * one forever once its SP handshake is done; when descriptors run out its
 * accept loop spins and nobody new gets in. */
#define REP_MAX_CONN 4096
#define REP_MIN_CONN 8

struct sli_rep {
	int sock;
	int eid; /* the bound endpoint; -1 while binding again */
	char *url;
	uint32_t max_conn; /* 0: no bound (inproc) */
	uint64_t accept_errors; /* nanomsg's count at the last check */
	uint64_t drops; /* times every connection was dropped */
};

/* Descriptors this process has open (/proc/self/fd; else a probe of the
 * first `limit` numbers). */
static unsigned long fds_in_use(unsigned long limit)
{
	unsigned long n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				n++;
		closedir(d);
		return n ? n - 1 : 0; /* the directory's own descriptor */
	}
	for (unsigned long fd = 0; fd < limit && fd < 65536; fd++)
		if (fcntl((int)fd, F_GETFD) != -1)
			n++;
	return n;
}

/* How many connections a listener on url may hold: the soft open-files
 * limit is raised to the hard one, then half of the descriptors not in
 * use go to connections (the other half stays for the state, links, and
 * clients still in their handshake), at most REP_MAX_CONN. SL_ELIMIT when
 * that is fewer than REP_MIN_CONN. 0 (no bound) for inproc. */
static int conn_budget(const char *url, uint32_t *out)
{
	*out = 0;
	if (!strncmp(url, "inproc://", 9))
		return SL_OK;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return SL_OK; /* unknown: nanomsg's behaviour */
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit up = rl;
		up.rlim_cur = rl.rlim_max == RLIM_INFINITY
		    ? (rl.rlim_cur > 1048576 ? rl.rlim_cur : 1048576)
		    : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	if (rl.rlim_cur == RLIM_INFINITY) {
		*out = REP_MAX_CONN;
		return SL_OK;
	}
	unsigned long limit = (unsigned long)rl.rlim_cur;
	unsigned long used = fds_in_use(limit);
	unsigned long room = limit > used ? (limit - used) / 2 : 0;
	if (room < REP_MIN_CONN)
		return sli_err(SL_ELIMIT,
		    "too few open files allowed: the limit "
		    "(ulimit -n) is %lu and %lu are in use, which leaves "
		    "room for %lu connections (at least %d needed); raise it "
		    "with ulimit -n",
		    limit, used, room, REP_MIN_CONN);
	*out = room > REP_MAX_CONN ? REP_MAX_CONN : (uint32_t)room;
	return SL_OK;
}

struct sli_req_hdr {
	void *control; /* nanomsg's routing header (NN_MSG) */
};

int sli_rep_open(
    sli_rep **out, const char *url, const uint8_t *key, size_t max_msg)
{
	*out = NULL;
	int rc = sli_bind_allowed(url, key);
	if (rc)
		return rc;
	uint32_t max_conn;
	if ((rc = conn_budget(url, &max_conn)))
		return rc;
	sli_rep *r = calloc(1, sizeof(*r));
	if (!r || !(r->url = strdup(url))) {
		free(r);
		return SL_ENOMEM;
	}
	r->max_conn = max_conn;
	r->sock = nn_socket(AF_SP_RAW, NN_REP);
	if (r->sock < 0) {
		free(r->url);
		free(r);
		return sli_err(
		    SL_EIO, "nn_socket: %s", nn_strerror(nn_errno()));
	}
	int maxsz = max_msg > INT_MAX ? INT_MAX : (int)max_msg;
	nn_setsockopt(
	    r->sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsz, sizeof(maxsz));
	if ((r->eid = nn_bind(r->sock, url)) < 0) {
		int e = nn_errno();
		nn_close(r->sock);
		free(r->url);
		free(r);
		return sli_err(e == EADDRINUSE ? SL_EIO : SL_EINVAL,
		    "cannot listen on %s: %s", url, nn_strerror(e));
	}
	r->accept_errors = nn_get_statistic(r->sock, NN_STAT_ACCEPT_ERRORS);
	*out = r;
	return SL_OK;
}

int sli_rep_guard(sli_rep *r, uint64_t *drops)
{
	if (r->max_conn && r->eid < 0)
		r->eid = nn_bind(r->sock, r->url); /* retried until it works */
	if (drops)
		*drops = r->drops;
	if (!r->max_conn || r->eid < 0)
		return 0;
	uint64_t cur = nn_get_statistic(r->sock, NN_STAT_CURRENT_CONNECTIONS);
	uint64_t aerr = nn_get_statistic(r->sock, NN_STAT_ACCEPT_ERRORS);
	int over = (cur != (uint64_t)-1 && cur >= r->max_conn)
	    || aerr != r->accept_errors;
	r->accept_errors = aerr;
	if (!over)
		return 0;
	/* nanomsg cannot refuse or close one connection: close the listener
	 * and every connection it accepted, and listen again */
	nn_shutdown(r->sock, r->eid);
	r->eid = nn_bind(r->sock, r->url);
	r->drops++;
	if (drops)
		*drops = r->drops;
	return 1;
}

int sli_rep_recv(sli_rep *r, sli_msg *m, void **hdr, int timeout_ms)
{
	struct nn_pollfd pfd = { r->sock, NN_POLLIN, 0 };
	int n = nn_poll(&pfd, 1, timeout_ms);
	if (n == 0)
		return SL_ETIMEDOUT;
	if (n < 0)
		return nn_errno() == EINTR ? SL_EAGAIN : SL_ECLOSED;
	void *body = NULL, *control = NULL;
	struct nn_iovec iov = { &body, NN_MSG };
	struct nn_msghdr h;
	memset(&h, 0, sizeof(h));
	h.msg_iov = &iov;
	h.msg_iovlen = 1;
	h.msg_control = &control;
	h.msg_controllen = NN_MSG;
	int len = nn_recvmsg(r->sock, &h, NN_DONTWAIT);
	if (len < 0)
		return nn_errno() == EAGAIN ? SL_EAGAIN : SL_ECLOSED;
	m->data = body;
	m->len = (size_t)len;
	*hdr = control;
	return SL_OK;
}

int sli_rep_send(sli_rep *r, void *hdr, const void *p, size_t n)
{
	struct nn_iovec iov = { (void *)p, n };
	struct nn_msghdr h;
	memset(&h, 0, sizeof(h));
	h.msg_iov = &iov;
	h.msg_iovlen = 1;
	h.msg_control = &hdr;
	h.msg_controllen = NN_MSG;
	/* the header is consumed by nanomsg on success */
	if (nn_sendmsg(r->sock, &h, NN_DONTWAIT) < 0) {
		nn_freemsg(hdr);
		return SL_EIO;
	}
	return SL_OK;
}

void sli_rep_hdr_free(void *hdr)
{
	if (hdr)
		nn_freemsg(hdr);
}

void sli_rep_close(sli_rep *r)
{
	if (!r)
		return;
	nn_close(r->sock);
	free(r->url);
	free(r);
}

int sli_req_call(const char *url, const void *req, size_t len, int timeout_ms,
    sli_msg *reply)
{
	reply->data = NULL;
	reply->len = 0;
	int s = nn_socket(AF_SP, NN_REQ);
	if (s < 0)
		return sli_err(
		    SL_EIO, "nn_socket: %s", nn_strerror(nn_errno()));
	int rc = SL_OK;
	int resend = timeout_ms > 0 ? timeout_ms * 2 : 60000;
	nn_setsockopt(s, NN_REQ, NN_REQ_RESEND_IVL, &resend, sizeof(resend));
	nn_setsockopt(
	    s, NN_SOL_SOCKET, NN_SNDTIMEO, &timeout_ms, sizeof(timeout_ms));
	nn_setsockopt(
	    s, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout_ms, sizeof(timeout_ms));
	/* a reply larger than any valid one is refused: a hostile server
	 * announcing a huge message must not make nanomsg abort us */
	int maxsz = (int)SLI_REPLY_MAX_BYTES;
	nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsz, sizeof(maxsz));
	if (nn_connect(s, url) < 0) {
		rc = sli_err(SL_EINVAL, "cannot connect to %s: %s", url,
		    nn_strerror(nn_errno()));
		goto out;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (nn_send(s, req, len, 0) < 0) {
		rc = sli_err(nn_errno() == ETIMEDOUT ? SL_ETIMEDOUT : SL_EIO,
		    "send to %s: %s", url, nn_strerror(nn_errno()));
		goto out;
	}
	/* one deadline for the whole call: the reply gets what the send
	 * left of timeout_ms */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (timeout_ms > 0) {
		long spent = (long)(t1.tv_sec - t0.tv_sec) * 1000
		    + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		int left = spent >= timeout_ms ? 1 : timeout_ms - (int)spent;
		nn_setsockopt(
		    s, NN_SOL_SOCKET, NN_RCVTIMEO, &left, sizeof(left));
	}
	void *buf = NULL;
	int n = nn_recv(s, &buf, NN_MSG, 0);
	if (n < 0) {
		rc = sli_err(nn_errno() == ETIMEDOUT ? SL_ETIMEDOUT : SL_EIO,
		    "no reply from %s within %d ms (the server is down, "
		    "unreachable, or too busy to take the connection)",
		    url, timeout_ms);
		goto out;
	}
	reply->data = buf;
	reply->len = (size_t)n;
out:
	nn_close(s);
	return rc;
}

struct sli_req {
	int sock;
};

int sli_req_open(sli_req **out, const char *url, int timeout_ms)
{
	*out = NULL;
	sli_req *r = calloc(1, sizeof(*r));
	if (!r)
		return SL_ENOMEM;
	r->sock = nn_socket(AF_SP, NN_REQ);
	if (r->sock < 0) {
		free(r);
		return sli_err(
		    SL_EIO, "nn_socket: %s", nn_strerror(nn_errno()));
	}
	nn_setsockopt(r->sock, NN_SOL_SOCKET, NN_SNDTIMEO, &timeout_ms,
	    sizeof(timeout_ms));
	nn_setsockopt(r->sock, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout_ms,
	    sizeof(timeout_ms));
	int maxsz = (int)SLI_REPLY_MAX_BYTES;
	nn_setsockopt(
	    r->sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsz, sizeof(maxsz));
	if (nn_connect(r->sock, url) < 0) {
		nn_close(r->sock);
		free(r);
		return sli_err(SL_EINVAL, "cannot connect to %s", url);
	}
	*out = r;
	return SL_OK;
}

int sli_req_send_recv(sli_req *r, const void *req, size_t len, sli_msg *reply)
{
	if (nn_send(r->sock, req, len, 0) < 0)
		return nn_errno() == ETIMEDOUT ? SL_ETIMEDOUT : SL_EIO;
	void *buf = NULL;
	int n = nn_recv(r->sock, &buf, NN_MSG, 0);
	if (n < 0)
		return nn_errno() == ETIMEDOUT ? SL_ETIMEDOUT : SL_EIO;
	reply->data = buf;
	reply->len = (size_t)n;
	return SL_OK;
}

void sli_req_close(sli_req *r)
{
	if (!r)
		return;
	nn_close(r->sock);
	free(r);
}
