/*
 * file_identity.c - the identity checks of the file spout's input
 * (file_identity.h): the hash of a prefix read again, and the check at
 * the end of a run that the file still begins with what was read.
 */
#include "file_identity.h"
#include "core/core.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int sli_file_prefix_hash(int fd, const char *path, uint64_t end, uint64_t *h)
{
	uint64_t off = 0;
	uint8_t buf[65536];
	*h = SLI_FNV_BASIS;
	while (off < end) {
		size_t want = end - off < sizeof(buf) ? (size_t)(end - off)
		                                      : sizeof(buf);
		ssize_t r = pread(fd, buf, want, (off_t)off);
		if (r <= 0)
			return sli_err(SL_EIO, "read %s: %s", path,
			    r < 0 ? strerror(errno) : "short read");
		*h = sli_fnv(*h, buf, (size_t)r);
		off += (uint64_t)r;
	}
	return SL_OK;
}

static int same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size
	    && a->st_mtim.tv_sec == b->st_mtim.tv_sec
	    && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec
	    && a->st_ctim.tv_sec == b->st_ctim.tv_sec
	    && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* A file overwritten in place by a longer one was not noticed (a shrink
 * is, by the spout's size check): red team T5/F3. One fstat per call;
 * the file is read again only when it was written to. */
int sli_file_check_prefix(
    int fd, const char *path, struct stat *seen, uint64_t end, uint64_t hash)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return sli_err(
		    sli_errno_code(errno), "%s: %s", path, strerror(errno));
	if (same_stat(&st, seen))
		return SL_OK;
	uint64_t h;
	int rc = sli_file_prefix_hash(fd, path, end, &h);
	if (rc)
		return rc;
	if (h != hash)
		return sli_err(SL_ECORRUPT,
		    "%s was written over while it was read: its first %llu "
		    "bytes are no longer the ones read, so the counts this "
		    "run committed may mix the old and the new content; count "
		    "the file into a new state directory",
		    path, (unsigned long long)end);
	*seen = st; /* it grew: read and checked up to end */
	return SL_OK;
}

int sli_file_check_position(
    int fd, const char *path, uint64_t size, const uint8_t *m)
{
	uint64_t next = sli_le64_get(m + 8);
	uint8_t flags = m[24];
	if (!(flags & SLI_META_HASHED) && next)
		/* a position read from a pipe (stdin) is a byte count of
		 * another input: never a place in this file (red team F8) */
		return sli_err(SL_EINVAL,
		    "the state's last batch read %s: its position (byte "
		    "%llu) cannot be checked against %s; count %s into a new "
		    "state directory",
		    (flags & SLI_META_PIPE) ? "a pipe (stdin)"
		                            : "input without an identity",
		    (unsigned long long)next, path, path);
	if (flags & SLI_META_HASHED) {
		/* the identity of the input: the bytes already counted */
		uint64_t h, end = next;
		int rc = sli_file_prefix_hash(fd, path, end, &h);
		if (rc)
			return rc;
		if (h != sli_le64_get(m + 16))
			return sli_err(SL_EINVAL,
			    "%s is not the input this state has counted: its "
			    "first %llu bytes differ from the ones counted "
			    "(to count this file from the start, use a new "
			    "state directory or delete the old one)",
			    path, (unsigned long long)end);
	}
	if ((flags & SLI_META_OPEN_LINE) && size > next) {
		uint8_t c = 0;
		if (pread(fd, &c, 1, (off_t)next) == 1 && c != '\n')
			return sli_err(SL_EINVAL,
			    "%s: its last line was counted without a newline "
			    "(at byte %llu) and has grown since; counting on "
			    "would split its last word (start over with a new "
			    "state directory, or count growing files with "
			    "--follow, which holds an unfinished line back)",
			    path, (unsigned long long)next);
	}
	return SL_OK;
}
