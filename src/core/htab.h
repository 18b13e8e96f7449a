/*
 * htab.h - intrusive hash table for keys an attacker chooses.
 *
 * Objects embed a struct hnode and are linked into a fixed array of
 * buckets; linking never allocates.  Each table hashes with SipHash-2-4
 * under its own random 128-bit key from getrandom(2), so colliding keys
 * cannot be precomputed (STYLE.md 5).  The bucket count is fixed at init:
 * callers bound the number of objects with pools, so there is never a
 * rehash pause on the hot path.
 *
 * The table does not own the objects.  The hash value is stored in the
 * node; lookups compare it first and call the caller's equality function
 * only on a full 64-bit match.  Not thread-safe: one table per loop.
 */
#ifndef SIPGUARD_CORE_HTAB_H
#define SIPGUARD_CORE_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/siphash.h"

enum {
	HTAB_MAX_BUCKETS = 1 << 24,
};

/* Embedded in the object being indexed. */
struct hnode {
	struct hnode *next;
	uint64_t hv;
};

/* Owner: the embedding object; the bucket array is freed by htab_fini(). */
struct htab {
	struct hnode **b;
	size_t mask; /* buckets - 1 */
	size_t count;
	uint8_t key[SIPHASH_KEY_LEN];
};

/*
 * Object containing a node: HTAB_ENTRY(n, struct call, hnode), or with
 * `const struct call` for a const node (through uintptr_t, so one macro
 * serves both without a qualifier-dropping cast).
 */
#define HTAB_ENTRY(node, type, member) \
	((type *)((uintptr_t)(node)-offsetof(type, member)))

/* True when node n holds the key `key` (caller-defined). */
typedef bool htab_eq_fn(const struct hnode *n, const void *key);

/*
 * Allocate nbuckets buckets (rounded up to a power of two, at least 1,
 * at most HTAB_MAX_BUCKETS) and draw a fresh random key.
 * Returns 0, -EINVAL, -ENOMEM, or -errno from getrandom(2).
 */
int htab_init(struct htab *h, size_t nbuckets_pow2);
/* Same with a given key: for tests and reproducible benchmarks only. */
int htab_init_key(struct htab *h, size_t nbuckets_pow2,
		  const uint8_t key[SIPHASH_KEY_LEN]);
/*
 * Free the bucket array and wipe the key.  Linked objects are not
 * touched; their nodes simply stop being part of a table.  Safe on a
 * zeroed or already finished table.
 */
void htab_fini(struct htab *h);

/* Keyed hash of n bytes, exact and ASCII-case-insensitive. */
uint64_t htab_hash(const struct htab *h, const void *p, size_t n);
uint64_t htab_hash_case(const struct htab *h, const void *p, size_t n);

/* Link n with hash hv.  Duplicates are allowed (see htab_find_next). */
void htab_insert(struct htab *h, struct hnode *n, uint64_t hv);

/* First node with hash hv for which eq(node, key) holds, or NULL. */
struct hnode *htab_find(const struct htab *h, uint64_t hv, htab_eq_fn *eq,
			const void *key);
/* Next match after `after` (which must be linked), or NULL. */
struct hnode *htab_find_next(const struct hnode *after, htab_eq_fn *eq,
			     const void *key);

/* Unlink n.  Returns false (and changes nothing) if n was not linked. */
bool htab_remove(struct htab *h, struct hnode *n);

static inline size_t htab_count(const struct htab *h)
{
	return h->count;
}

static inline size_t htab_buckets(const struct htab *h)
{
	return h->b ? h->mask + 1 : 0;
}

/* Length of the longest chain: for tests and metrics, O(buckets). */
size_t htab_max_chain(const struct htab *h);

/*
 * Iteration in bucket order.  The node returned last may be removed (or
 * even freed) before the next call; removing any other node during the
 * walk is not allowed.  Nodes inserted during the walk may or may not be
 * visited.
 *
 *	struct htab_iter it;
 *	struct hnode *n;
 *	htab_iter_init(&it, h);
 *	while ((n = htab_iter_next(&it)) != NULL)
 *		...
 */
struct htab_iter {
	const struct htab *h;
	size_t bucket;      /* next bucket to scan */
	struct hnode *next; /* next node to return */
};

void htab_iter_init(struct htab_iter *it, const struct htab *h);
struct hnode *htab_iter_next(struct htab_iter *it);

#endif
