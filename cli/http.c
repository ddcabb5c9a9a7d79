/*
 * http.c - the job's HTTP endpoint (libmicrohttpd): /metrics in the
 * Prometheus text format, /stats.json and /history.json for scripts and
 * the status page, and the status page itself at /. Loopback by default;
 * another address needs a cluster key, and then every request must carry
 * `Authorization: Bearer TOKEN` (TOKEN derived from the key, see
 * `sluice stats --token`).
 *
 * Idle connections cannot lock scrapes out (red-team R14: 300 half-sent
 * requests held a 64-connection server for 10-15 s): the server keeps at
 * most HTTP_SOFT_LIMIT connections; a new one past that evicts (shuts
 * down) the oldest connection that has not yet sent a whole request, or
 * the oldest of all when every one has. A scrape's request follows its
 * connect at once, so it is never the oldest idle one; an attacker only
 * evicts its own sockets. epoll (no FD_SETSIZE limit), 10 s idle timeout.
 */
#include "args.h"
#include "monitor.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>

extern const char sli_status_html[]; /* cli/status.html, embedded */

#define HTTP_SOFT_LIMIT 256
/* MHD's own limit, above ours: evicted sockets close on its next loop */
#define HTTP_HARD_LIMIT (HTTP_SOFT_LIMIT + 128)

/* One accepted connection, in arrival order (only the daemon's thread
 * touches the list: every callback runs there). */
typedef struct conn {
	struct conn *prev, *next;
	int fd;
	int requested; /* a whole request header arrived */
	int evicted;
	int linked;
} conn;

struct sli_http {
	struct MHD_Daemon *d;
	sli_monitor *m;
	int need_token;
	char token[65];
	conn *head, *tail;
	size_t live; /* connections not evicted */
	uint64_t evictions;
};

/* Shuts down the oldest idle connection (the oldest of all if none is
 * idle); the daemon then sees it closed and tells notify(). */
static void evict_one(sli_http *h)
{
	conn *victim = NULL;
	for (conn *k = h->head; k; k = k->next)
		if (!k->evicted && !k->requested) {
			victim = k;
			break;
		}
	for (conn *k = h->head; !victim && k; k = k->next)
		if (!k->evicted)
			victim = k;
	if (!victim)
		return;
	shutdown(victim->fd, SHUT_RDWR);
	victim->evicted = 1;
	h->live--;
	h->evictions++;
}

static void notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	sli_http *h = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		    c, MHD_CONNECTION_INFO_CONNECTION_FD);
		conn *k = calloc(1, sizeof(*k));
		*socket_context = k;
		if (!k || !ci)
			return; /* untracked: only the daemon's limit applies
			         */
		while (h->live >= HTTP_SOFT_LIMIT)
			evict_one(h);
		k->fd = ci->connect_fd;
		k->prev = h->tail;
		if (h->tail)
			h->tail->next = k;
		else
			h->head = k;
		h->tail = k;
		h->live++;
		k->linked = 1;
		return;
	}
	conn *k = *socket_context;
	if (!k)
		return;
	if (k->linked) {
		if (k->prev)
			k->prev->next = k->next;
		else
			h->head = k->next;
		if (k->next)
			k->next->prev = k->prev;
		else
			h->tail = k->prev;
		if (!k->evicted)
			h->live--;
	}
	free(k);
	*socket_context = NULL;
}

void sli_http_token(char out[65], const uint8_t *cluster_key)
{
	uint8_t k[SL_KEY_BYTES];
	sl_key_derive(k, cluster_key, "sluice-http-bearer");
	sodium_bin2hex(out, 65, k, SL_KEY_BYTES);
	sodium_memzero(k, sizeof(k));
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status,
    const char *type, char *body, int owned)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body),
	    body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
    const char *url, const char *method, const char *version,
    const char *upload, size_t *upload_size, void **con_cls)
{
	sli_http *h = cls;
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	const union MHD_ConnectionInfo *ci
	    = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci && ci->socket_context)
		((conn *)ci->socket_context)->requested = 1;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
		    "only GET\n", 0);
	if (h->need_token) {
		const char *a = MHD_lookup_connection_value(
		    c, MHD_HEADER_KIND, "Authorization");
		/* RFC 7235: the scheme is case-insensitive, then one or
		 * more spaces; trailing spaces are not part of the token */
		size_t n = 0;
		if (a && !strncasecmp(a, "Bearer", 6)
		    && (a[6] == ' ' || a[6] == '\t')) {
			a += 6;
			while (*a == ' ' || *a == '\t')
				a++;
			n = strlen(a);
			while (n && (a[n - 1] == ' ' || a[n - 1] == '\t'))
				n--;
		} else
			return send_text(c, MHD_HTTP_UNAUTHORIZED,
			    "text/plain",
			    "a bearer token is required (Authorization: "
			    "Bearer TOKEN, see sluice stats --token)\n",
			    0);
		if (n != 64 || sodium_memcmp(a, h->token, 64))
			return send_text(c, MHD_HTTP_UNAUTHORIZED,
			    "text/plain", "wrong bearer token\n", 0);
	}
	char *body = NULL;
	const char *type = "application/json";
	if (!strcmp(url, "/metrics")) {
		body = sli_monitor_prometheus(h->m);
		type = "text/plain; version=0.0.4; charset=utf-8";
	} else if (!strcmp(url, "/stats.json"))
		body = sli_monitor_json(h->m);
	else if (!strcmp(url, "/history.json"))
		body = sli_monitor_history_json(h->m);
	else if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
		return send_text(c, MHD_HTTP_OK, "text/html; charset=utf-8",
		    (char *)sli_status_html, 0);
	else
		return send_text(
		    c, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 0);
	if (!body)
		return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "text/plain", "out of memory\n", 0);
	return send_text(c, MHD_HTTP_OK, type, body, 1);
}

/* HOST:PORT with an IPv4 HOST or "localhost" into sa. */
static int parse_addr(const char *addr, struct sockaddr_in *sa)
{
	const char *colon = strrchr(addr, ':');
	if (!colon || colon == addr)
		return sl_errorf(SL_EINVAL,
		    "metrics address '%s': expected HOST:PORT, e.g. "
		    "127.0.0.1:9464",
		    addr);
	char host[64];
	size_t hl = (size_t)(colon - addr);
	if (hl >= sizeof(host))
		return sl_errorf(
		    SL_EINVAL, "metrics address '%s': bad host", addr);
	memcpy(host, addr, hl);
	host[hl] = 0;
	long port;
	if (sli_args_long(colon + 1, 1, 65535, &port))
		return sl_errorf(
		    SL_EINVAL, "metrics address '%s': bad port", addr);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return sl_errorf(SL_EINVAL,
		    "metrics address '%s': HOST must be an IPv4 address "
		    "or localhost",
		    addr);
	return SL_OK;
}

int sli_http_start(sli_http **out, const char *addr, sli_monitor *m,
    const uint8_t *cluster_key)
{
	*out = NULL;
	struct sockaddr_in sa;
	int rc = parse_addr(addr, &sa);
	if (rc)
		return rc;
	int loopback = (ntohl(sa.sin_addr.s_addr) >> 24) == 127;
	if (!loopback && !cluster_key)
		return sl_errorf(SL_EPERM,
		    "metrics on %s: not a loopback address; give "
		    "--cluster-key-file (requests then need the bearer "
		    "token of `sluice stats --token`)",
		    addr);
	sli_http *h = calloc(1, sizeof(*h));
	if (!h)
		return SL_ENOMEM;
	h->m = m;
	if (cluster_key) {
		h->need_token = 1;
		sli_http_token(h->token, cluster_key);
	}
	/* room for the connections beside the state's files */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096
	    && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	h->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD,
	    ntohs(sa.sin_port), NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)10, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)HTTP_HARD_LIMIT, MHD_OPTION_NOTIFY_CONNECTION, notify, h,
	    MHD_OPTION_END);
	if (!h->d) {
		free(h);
		return sl_errorf(SL_EIO,
		    "metrics: cannot listen on %s (address in use?)", addr);
	}
	*out = h;
	return SL_OK;
}

void sli_http_stop(sli_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	sodium_memzero(h->token, sizeof(h->token));
	free(h);
}
