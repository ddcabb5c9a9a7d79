/* reqrep.c - nanomsg request/reply sockets for DRPC: a raw REP socket
 * whose replies may be sent from any thread in any order, and a REQ
 * client. */
#include "transport.h"

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct sli_rep {
	int sock;
};

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
	sli_rep *r = calloc(1, sizeof(*r));
	if (!r)
		return SL_ENOMEM;
	r->sock = nn_socket(AF_SP_RAW, NN_REP);
	if (r->sock < 0) {
		free(r);
		return sli_err(
		    SL_EIO, "nn_socket: %s", nn_strerror(nn_errno()));
	}
	int maxsz = max_msg > INT_MAX ? INT_MAX : (int)max_msg;
	nn_setsockopt(
	    r->sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsz, sizeof(maxsz));
	if (nn_bind(r->sock, url) < 0) {
		int e = nn_errno();
		nn_close(r->sock);
		free(r);
		return sli_err(e == EADDRINUSE ? SL_EIO : SL_EINVAL,
		    "cannot listen on %s: %s", url, nn_strerror(e));
	}
	*out = r;
	return SL_OK;
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
	if (nn_send(s, req, len, 0) < 0) {
		rc = sli_err(nn_errno() == ETIMEDOUT ? SL_ETIMEDOUT : SL_EIO,
		    "send to %s: %s", url, nn_strerror(nn_errno()));
		goto out;
	}
	void *buf = NULL;
	int n = nn_recv(s, &buf, NN_MSG, 0);
	if (n < 0) {
		rc = sli_err(nn_errno() == ETIMEDOUT ? SL_ETIMEDOUT : SL_EIO,
		    "no reply from %s within %d ms", url, timeout_ms);
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
