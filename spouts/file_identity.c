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
