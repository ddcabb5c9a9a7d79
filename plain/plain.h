/*
 * plain.h - internals of the plain tuple mode (plain/ only, and tests):
 * the XOR acker and a rotating map for timeouts.
 */
#ifndef SLI_PLAIN_H
#define SLI_PLAIN_H

#include "core/core.h"
#include "sluice/plain.h"

/* One tuple tree: ackval is the XOR of every tuple id created in the tree
 * and every id acked; 0 (after the spout's init) means complete. */
typedef struct sli_tree {
	uint64_t root;
	uint64_t ackval;
	uint64_t msgid;
	uint32_t spout_task;
	uint8_t inited, used, failed;
	uint32_t bucket;
	uint64_t born_ns;
} sli_tree;

/* The acker's table of trees with rotating buckets for timeouts (like
 * Storm's RotatingMap: a tree not complete after nbuckets-1 rotations
 * expires). Not thread-safe: one acker task owns it. */
typedef struct sli_acker {
	sli_tree *t;
	size_t cap, n;
	uint32_t bucket; /* current bucket number */
	uint32_t nbuckets;
} sli_acker;

enum { SLI_ACK_PENDING = 0, SLI_ACK_DONE = 1, SLI_ACK_FAILED = 2 };

int sli_acker_init(sli_acker *a, uint32_t nbuckets);
void sli_acker_free(sli_acker *a);
/* The spout started tree root with first tuple id val for msgid. Returns
 * SLI_ACK_DONE/PENDING; *out is the tree (valid until the next call). */
int sli_acker_start(sli_acker *a, uint64_t root, uint64_t val,
    uint32_t spout_task, uint64_t msgid, sli_tree *out);
/* A bolt acked: val = input id ^ ids of the tuples it emitted anchored to
 * it. Returns SLI_ACK_DONE when the tree completed (*out filled). */
int sli_acker_ack(sli_acker *a, uint64_t root, uint64_t val, sli_tree *out);
/* A bolt failed a tuple of tree root: SLI_ACK_FAILED (*out) once. */
int sli_acker_fail(sli_acker *a, uint64_t root, sli_tree *out);
/* Moves to the next bucket; calls fn for every tree that expires (never
 * completed within nbuckets-1 rotations). Returns how many expired. */
size_t sli_acker_rotate(
    sli_acker *a, void (*fn)(void *user, const sli_tree *t), void *user);
/* Trees being tracked. */
size_t sli_acker_pending(const sli_acker *a);

#endif
