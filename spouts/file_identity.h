/*
 * file_identity.h - the identity of a file spout's input (spouts/file.c):
 * the FNV-1a 64 hash of the bytes counted, and the checks that read the
 * file again to see that it still begins with them.
 */
#ifndef SLI_FILE_IDENTITY_H
#define SLI_FILE_IDENTITY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* The file spout's meta (little-endian): start u64, end u64, hash u64,
 * flags u8. */
enum {
	SLI_META_LEN = 25,
	SLI_META_PIPE = 1, /* read from a pipe: no identity */
	SLI_META_OPEN_LINE = 2, /* the batch's last line had no '\n' */
	SLI_META_HASHED = 4 /* hash holds the identity of [0, end) */
};

#define SLI_FNV_BASIS 0xcbf29ce484222325ull

/* h extended by the bytes [p, p + n). */
static inline uint64_t sli_fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* *h = the hash of the bytes [0, end) of the file behind fd as they are
 * now; SL_EIO naming path when they cannot be read. */
int sli_file_prefix_hash(int fd, const char *path, uint64_t end, uint64_t *h);

/* The file behind fd, opened when it was as *seen (fstat), was read up to
 * end with hash: SL_OK when it was not written since (size, mtime and
 * ctime as in *seen: one fstat), or when its bytes [0, end) still hash to
 * hash (it grew: *seen becomes its new fstat); SL_ECORRUPT naming path
 * when they do not (it was written over while it was read). */
int sli_file_check_prefix(
    int fd, const char *path, struct stat *seen, uint64_t end, uint64_t hash);

/* At a resume: whether the regular file behind fd (size bytes) may go on
 * from the stored position m (SLI_META_LEN bytes, end at most size): its
 * bytes [0, end) hash to m's identity, a last line counted without its
 * newline has not grown, and a position without an identity (read from a
 * pipe) is refused unless it is 0. SL_EINVAL naming path otherwise. */
int sli_file_check_position(
    int fd, const char *path, uint64_t size, const uint8_t *m);

#endif
