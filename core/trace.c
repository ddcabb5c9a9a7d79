/*
 * trace.c - the trace of atomic writes and reads for trace checking
 * (tests/model/trace_check.py), compiled in with SL_TRACE only.
 */
#include "core.h"

#ifdef SL_TRACE
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int trace_fd = -1;
static long crash_at;
static _Atomic long points;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void trace_init(void)
{
	const char *p = getenv("SLUICE_TRACE");
	if (p && *p)
		trace_fd
		    = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	const char *c = getenv("SLUICE_TRACE_CRASH");
	crash_at = c ? strtol(c, NULL, 10) : 0;
}

void sli_trace(const char *fmt, ...)
{
	pthread_once(&once, trace_init);
	if (trace_fd < 0)
		return;
	char small[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	char *line = small;
	if ((size_t)n >= sizeof(small) - 1) {
		line = malloc((size_t)n + 2);
		if (!line)
			return;
		va_start(ap, fmt);
		vsnprintf(line, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	line[n] = '\n';
	if (write(trace_fd, line, (size_t)n + 1) < 0) {
		/* a trace is best effort */
	}
	if (line != small)
		free(line);
}

void sli_trace_point(void)
{
	pthread_once(&once, trace_init);
	long n = ++points;
	if (crash_at && n == crash_at) {
		sli_trace("crash %ld %ld", (long)getpid(), n);
		_exit(137);
	}
}

static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

void sli_trace_begin(void)
{
	pthread_mutex_lock(&write_lock);
}

void sli_trace_end(void)
{
	pthread_mutex_unlock(&write_lock);
}

const char *sli_trace_hex(char *out, const void *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	const uint8_t *b = p;
	if (n > 64)
		n = 64;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * n] = 0;
	if (!n) {
		out[0] = '-';
		out[1] = 0;
	}
	return out;
}
#else
typedef int sli_trace_unused; /* ISO C forbids an empty translation unit */
#endif
