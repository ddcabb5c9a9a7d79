/*
 * enospc.c - an LD_PRELOAD shim that makes the disk full at a chosen
 * call (issue 15: disk full at every point of a commit; driven by
 * tests/diskfull.py, see docs/testing.md).
 *
 * Only calls on files under $SLUICE_ENOSPC_DIR count (a state directory;
 * file descriptors are resolved through /proc/self/fd, so pipes, sockets,
 * eventfds and the terminal never fail). The calls counted are the ones
 * that need space or make data durable: write, pwrite, writev, pwritev,
 * fsync, fdatasync, ftruncate, fallocate, posix_fallocate, rename,
 * renameat, and open/openat/creat with O_CREAT and mkdir of a name that
 * does not exist yet. They are numbered from
 * 1 in the order they happen (an atomic counter, any thread).
 *
 *   SLUICE_ENOSPC_DIR=DIR     the directory whose files count (required)
 *   SLUICE_ENOSPC_AT=N        call N and every later call fail with ENOSPC
 *                             (the disk stays full); 0 or unset: none fail
 *   SLUICE_ENOSPC_ONCE=1      only call N fails (space comes back at once)
 *   SLUICE_ENOSPC_LOG=FILE    appends "N CALL PATH" for every counted call
 *                             (and "N CALL PATH ENOSPC" when it failed)
 *
 * Ownership: none (process-wide shim). Thread-safety: every wrapper may
 * be called from any thread. Test code only: never built into libsluice.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static char g_dir[PATH_MAX];
static size_t g_dirlen;
static long g_at;
static int g_once;
static int g_log = -1;
static _Atomic long g_calls;
static pthread_once_t g_init_once = PTHREAD_ONCE_INIT;

static void init(void)
{
	const char *d = getenv("SLUICE_ENOSPC_DIR");
	if (d && *d && realpath(d, g_dir))
		g_dirlen = strlen(g_dir);
	else if (d && *d && strlen(d) < sizeof(g_dir)) {
		/* the directory may not exist yet: take it as given */
		strcpy(g_dir, d);
		g_dirlen = strlen(g_dir);
	}
	const char *at = getenv("SLUICE_ENOSPC_AT");
	g_at = at ? atol(at) : 0;
	const char *once = getenv("SLUICE_ENOSPC_ONCE");
	g_once = once && *once == '1';
	const char *log = getenv("SLUICE_ENOSPC_LOG");
	if (log && *log)
		g_log = (int)syscall(SYS_openat, AT_FDCWD, log,
		    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static int under_dir(const char *path)
{
	if (!g_dirlen || !path)
		return 0;
	char buf[PATH_MAX];
	const char *p = path;
	if (path[0] != '/') {
		if (!getcwd(buf, sizeof(buf) - 1))
			return 0;
		size_t n = strlen(buf);
		if (n + 1 + strlen(path) >= sizeof(buf))
			return 0;
		buf[n] = '/';
		strcpy(buf + n + 1, path);
		p = buf;
	}
	return strncmp(p, g_dir, g_dirlen) == 0
	    && (p[g_dirlen] == '/' || p[g_dirlen] == 0);
}

static int fd_path(int fd, char *out, size_t cap)
{
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, out, cap - 1);
	if (n < 0)
		return -1;
	out[n] = 0;
	return 0;
}

/* 1 when this call must fail with ENOSPC; counts and logs it when it
 * concerns the directory. */
static int full(const char *call, const char *path)
{
	pthread_once(&g_init_once, init);
	if (!under_dir(path))
		return 0;
	long n = atomic_fetch_add(&g_calls, 1) + 1;
	int fail = g_at > 0 && (g_once ? n == g_at : n >= g_at);
	if (g_log >= 0) {
		char line[PATH_MAX + 96];
		int len = snprintf(line, sizeof(line), "%ld %s %s%s\n", n,
		    call, path, fail ? " ENOSPC" : "");
		if (len > 0)
			syscall(SYS_write, g_log, line,
			    (size_t)len < sizeof(line) ? (size_t)len
			                               : sizeof(line) - 1);
	}
	return fail;
}

static int full_fd(const char *call, int fd)
{
	if (fd <= 2)
		return 0;
	pthread_once(&g_init_once, init);
	if (!g_dirlen)
		return 0;
	char p[PATH_MAX];
	if (fd_path(fd, p, sizeof(p)))
		return 0;
	return full(call, p);
}

#define NEXT(ret, name, ...)                                                  \
	static ret (*next_##name)(__VA_ARGS__);                               \
	if (!next_##name)                                                     \
	next_##name = (ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name)

#define FAIL_ENOSPC(ret)                                                      \
	do {                                                                  \
		errno = ENOSPC;                                               \
		return ret;                                                   \
	} while (0)

ssize_t write(int fd, const void *b, size_t n)
{
	NEXT(ssize_t, write, int, const void *, size_t);
	if (full_fd("write", fd))
		FAIL_ENOSPC(-1);
	return next_write(fd, b, n);
}

ssize_t pwrite(int fd, const void *b, size_t n, off_t off)
{
	NEXT(ssize_t, pwrite, int, const void *, size_t, off_t);
	if (full_fd("pwrite", fd))
		FAIL_ENOSPC(-1);
	return next_pwrite(fd, b, n, off);
}

ssize_t pwrite64(int fd, const void *b, size_t n, off_t off)
{
	NEXT(ssize_t, pwrite64, int, const void *, size_t, off_t);
	if (full_fd("pwrite64", fd))
		FAIL_ENOSPC(-1);
	return next_pwrite64(fd, b, n, off);
}

ssize_t writev(int fd, const struct iovec *v, int n)
{
	NEXT(ssize_t, writev, int, const struct iovec *, int);
	if (full_fd("writev", fd))
		FAIL_ENOSPC(-1);
	return next_writev(fd, v, n);
}

ssize_t pwritev(int fd, const struct iovec *v, int n, off_t off)
{
	NEXT(ssize_t, pwritev, int, const struct iovec *, int, off_t);
	if (full_fd("pwritev", fd))
		FAIL_ENOSPC(-1);
	return next_pwritev(fd, v, n, off);
}

int fsync(int fd)
{
	NEXT(int, fsync, int);
	if (full_fd("fsync", fd))
		FAIL_ENOSPC(-1);
	return next_fsync(fd);
}

int fdatasync(int fd)
{
	NEXT(int, fdatasync, int);
	if (full_fd("fdatasync", fd))
		FAIL_ENOSPC(-1);
	return next_fdatasync(fd);
}

int ftruncate(int fd, off_t len)
{
	NEXT(int, ftruncate, int, off_t);
	if (full_fd("ftruncate", fd))
		FAIL_ENOSPC(-1);
	return next_ftruncate(fd, len);
}

int ftruncate64(int fd, off_t len)
{
	NEXT(int, ftruncate64, int, off_t);
	if (full_fd("ftruncate64", fd))
		FAIL_ENOSPC(-1);
	return next_ftruncate64(fd, len);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	NEXT(int, fallocate, int, int, off_t, off_t);
	if (full_fd("fallocate", fd))
		FAIL_ENOSPC(-1);
	return next_fallocate(fd, mode, off, len);
}

int posix_fallocate(int fd, off_t off, off_t len)
{
	NEXT(int, posix_fallocate, int, off_t, off_t);
	if (full_fd("posix_fallocate", fd))
		return ENOSPC; /* returns the error, errno untouched */
	return next_posix_fallocate(fd, off, len);
}

int rename(const char *from, const char *to)
{
	NEXT(int, rename, const char *, const char *);
	if (full("rename", to))
		FAIL_ENOSPC(-1);
	return next_rename(from, to);
}

int renameat(int fd1, const char *from, int fd2, const char *to)
{
	NEXT(int, renameat, int, const char *, int, const char *);
	/* relative to a directory descriptor: only absolute names judged */
	if (to[0] == '/' && full("renameat", to))
		FAIL_ENOSPC(-1);
	return next_renameat(fd1, from, fd2, to);
}

/* a full disk still answers EEXIST for what exists: only a new name
 * can fail with ENOSPC */
static int exists(const char *path)
{
	struct stat st;
	return syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) == 0;
}

int mkdir(const char *path, mode_t mode)
{
	NEXT(int, mkdir, const char *, mode_t);
	if (!exists(path) && full("mkdir", path))
		FAIL_ENOSPC(-1);
	return next_mkdir(path, mode);
}

/* open with O_CREAT may need a new directory entry or inode */
static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
	NEXT(int, open, const char *, int, ...);
	va_list ap;
	va_start(ap, flags);
	mode_t m = mode_arg(flags, ap);
	va_end(ap);
	if ((flags & O_CREAT) && !exists(path) && full("open", path))
		FAIL_ENOSPC(-1);
	return next_open(path, flags, m);
}

int open64(const char *path, int flags, ...)
{
	NEXT(int, open64, const char *, int, ...);
	va_list ap;
	va_start(ap, flags);
	mode_t m = mode_arg(flags, ap);
	va_end(ap);
	if ((flags & O_CREAT) && !exists(path) && full("open64", path))
		FAIL_ENOSPC(-1);
	return next_open64(path, flags, m);
}

int openat(int dfd, const char *path, int flags, ...)
{
	NEXT(int, openat, int, const char *, int, ...);
	va_list ap;
	va_start(ap, flags);
	mode_t m = mode_arg(flags, ap);
	va_end(ap);
	if ((flags & O_CREAT) && (path[0] == '/' || dfd == AT_FDCWD)
	    && !exists(path) && full("openat", path))
		FAIL_ENOSPC(-1);
	return next_openat(dfd, path, flags, m);
}

int openat64(int dfd, const char *path, int flags, ...)
{
	NEXT(int, openat64, int, const char *, int, ...);
	va_list ap;
	va_start(ap, flags);
	mode_t m = mode_arg(flags, ap);
	va_end(ap);
	if ((flags & O_CREAT) && (path[0] == '/' || dfd == AT_FDCWD)
	    && !exists(path) && full("openat64", path))
		FAIL_ENOSPC(-1);
	return next_openat64(dfd, path, flags, m);
}

int creat(const char *path, mode_t mode)
{
	NEXT(int, creat, const char *, mode_t);
	if (!exists(path) && full("creat", path))
		FAIL_ENOSPC(-1);
	return next_creat(path, mode);
}
