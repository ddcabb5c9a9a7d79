/* probe.c - is anything listening at a DRPC endpoint? A tcp endpoint is
 * tried with a plain connect (nanomsg would wait for the whole timeout);
 * an ipc endpoint's socket file must exist. Others are assumed alive. */
#include "cli.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int sli_endpoint_listening(const char *ep)
{
	if (!strncmp(ep, "ipc://", 6)) {
		struct stat st;
		return stat(ep + 6, &st) == 0;
	}
	if (strncmp(ep, "tcp://", 6))
		return 1;
	char host[256];
	snprintf(host, sizeof(host), "%s", ep + 6);
	char *colon = strrchr(host, ':');
	if (!colon)
		return 1;
	*colon = 0;
	const char *port = colon + 1;
	char *h = host;
	if (*h == '[') { /* [::1] */
		h++;
		char *e = strchr(h, ']');
		if (e)
			*e = 0;
	}
	if (!strcmp(h, "*"))
		h = "127.0.0.1";
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(h, port, &hints, &res) || !res)
		return 1; /* let nanomsg say what is wrong */
	int ok = 0;
	for (struct addrinfo *a = res; a && !ok; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
		if (fd < 0)
			continue;
		ok = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
		close(fd);
	}
	freeaddrinfo(res);
	return ok;
}
