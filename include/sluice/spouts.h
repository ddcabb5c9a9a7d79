/*
 * sluice/spouts.h - the built-in spouts of Trident topologies (fixed
 * batches, random sentences, files, partitions, sockets).
 * Part of the public API; <sluice.h> includes every part. Conventions as
 * there: int results (SL_OK or a negative SL_E* code), opaque handles,
 * ownership and thread-safety stated per declaration.
 */
#ifndef SLUICE_SPOUTS_H
#define SLUICE_SPOUTS_H

#include "sluice/core.h"
#include "sluice/trident.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- spouts */

/* Each constructor returns an owned spout (sl_topology_new_stream takes
 * it; sl_spout_free frees one no topology took) and leaves *out NULL on
 * error. The accessors of one kind of spout ignore (or refuse with
 * SL_EINVAL) a spout of another kind. */

/* Fixed batches: batch i is tuples [starts[i], starts[i+1]) of values
 * (arity each, copied). cycle repeats forever. Transactional. */
int sl_spout_fixed_new(sl_spout **out, size_t arity, const sl_value *values,
    const size_t *starts, size_t nbatches, int cycle);
/* Random sentences (Storm's example), seeded; n sentences in all (0 =
 * forever). Field: "sentence". */
int sl_spout_sentence_new(sl_spout **out, uint64_t seed, uint64_t n);
/* Lines of a file (path "-" = stdin), transactional: each batch is a
 * byte range recorded per txid. Field: "line". */
int sl_spout_file_new(sl_spout **out, const char *path);
/* Follow mode: an unterminated last line is held back until its newline
 * arrives, and the spout waits for the file to grow instead of ending
 * (stop the topology to end). Default off: a finished file's last line
 * is counted as awk does, and a later run refuses the file if that line
 * has grown since. */
void sl_spout_file_follow(sl_spout *spout, int on);
/* Lines the spout read so far in new batches (for statistics; 0 for a
 * spout that is not a file spout). Thread-safe while running. */
uint64_t sl_spout_file_lines(sl_spout *spout);
/* Cut batches at the batch size counted in words instead of lines. */
void sl_spout_file_count_words(sl_spout *spout, int on);
/* Words (see sl_spout_file_count_words) the spout read so far in new
 * batches. */
uint64_t sl_spout_file_words(sl_spout *spout);
/* Opaque partitioned spout over nparts in-memory partitions of lines; a
 * script may decide what each attempt of a txid emits (tests). */
typedef int (*sl_partition_script)(void *user, uint64_t txid, uint32_t attempt,
    uint32_t part, size_t start, size_t avail, size_t *count);
int sl_spout_partitioned_new(sl_spout **out, uint32_t nparts,
    const char *const *lines, const size_t *nlines, sl_partition_script script,
    void *user);
/* Appends a line to partition part (the source grows). SL_EINVAL for a
 * spout that is not a partitioned spout or a bad part. Thread-safe. */
int sl_spout_partitioned_append(
    sl_spout *spout, uint32_t part, const char *line);
/* Opaque socket spout: a nanomsg PULL socket bound at endpoint; each
 * message is one line. Field: "line". */
int sl_spout_socket_new(sl_spout **out, const char *endpoint);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_SPOUTS_H */
