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

/* Fixed batches: batch i is tuples [starts[i], starts[i+1]) of values
 * (arity each, copied). cycle repeats forever. Returns owned self for
 * sl_topology_new_stream with sl_spout_fixed_ops. */
extern const sl_spout_ops sl_spout_fixed_ops;
int sl_spout_fixed_new(void **out, size_t arity, const sl_value *values,
    const size_t *starts, size_t nbatches, int cycle);
/* Random sentences (Storm's example), seeded; n sentences in all (0 =
 * forever). Field: "sentence". */
extern const sl_spout_ops sl_spout_sentence_ops;
int sl_spout_sentence_new(void **out, uint64_t seed, uint64_t n);
/* Lines of a file (path "-" = stdin), transactional: each batch is a
 * byte range recorded per txid. Field: "line". */
extern const sl_spout_ops sl_spout_file_ops;
int sl_spout_file_new(void **out, const char *path);
/* Follow mode: an unterminated last line is held back until its newline
 * arrives, and the spout waits for the file to grow instead of ending
 * (stop the topology to end). Default off: a finished file's last line
 * is counted as awk does, and a later run refuses the file if that line
 * has grown since. */
void sl_spout_file_follow(void *self, int on);
/* Lines the spout read so far in new batches (for statistics). */
uint64_t sl_spout_file_lines(void *self);
/* Cut batches at the batch size counted in words instead of lines. */
void sl_spout_file_count_words(void *self, int on);
/* Words (see sl_spout_file_count_words) the spout read so far in new
 * batches. */
uint64_t sl_spout_file_words(void *self);
/* Opaque partitioned spout over nparts in-memory partitions of lines; a
 * script may decide what each attempt of a txid emits (tests). */
extern const sl_spout_ops sl_spout_partitioned_ops;
typedef int (*sl_partition_script)(void *user, uint64_t txid, uint32_t attempt,
    uint32_t part, size_t start, size_t avail, size_t *count);
int sl_spout_partitioned_new(void **out, uint32_t nparts,
    const char *const *lines, const size_t *nlines, sl_partition_script script,
    void *user);
/* Appends a line to partition part (the source grows). Thread-safe. */
int sl_spout_partitioned_append(void *self, uint32_t part, const char *line);
/* Opaque socket spout: a nanomsg PULL socket bound at endpoint; each
 * message is one line. Field: "line". */
extern const sl_spout_ops sl_spout_socket_ops;
int sl_spout_socket_new(void **out, const char *endpoint);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_SPOUTS_H */
