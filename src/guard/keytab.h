/*
 * keytab.h - a fixed-size table of small per-key records (per-source or
 * per-user counters) keyed by a SipHash of attacker-chosen bytes.
 *
 * The table is set-associative: KEYTAB_WAYS slots per set, the set
 * chosen by the hash.  A lookup that misses takes the least recently
 * used slot of its set and zeroes its record: memory is fixed at
 * creation and a flood of new keys only evicts old ones (STYLE.md 5, 7).
 * Keys are compared by their full 64-bit keyed hash: a false match needs
 * a SipHash collision under a random key nobody outside the process
 * knows.  Not thread-safe: one table per event loop.
 */
#ifndef SIPGUARD_GUARD_KEYTAB_H
#define SIPGUARD_GUARD_KEYTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/siphash.h"

enum {
	KEYTAB_WAYS = 4,
	KEYTAB_MAX_SLOTS = 1 << 22,
};

/* Owner: the embedding object (keytab_init / keytab_fini). */
struct keytab {
	unsigned char *mem; /* nsets * WAYS slots of esize bytes */
	size_t esize;       /* slot header + record, aligned */
	size_t rsize;       /* record bytes */
	uint32_t smask;     /* sets - 1 */
	uint64_t evicted;   /* live records recycled for new keys */
	uint8_t key[SIPHASH_KEY_LEN];
};

/*
 * Room for at least nslots records of rsize bytes (rounded up to a power
 * of two of sets; 1..KEYTAB_MAX_SLOTS) and a fresh random hash key.
 * Returns 0, -EINVAL, -ENOMEM or -errno from getrandom(2).
 */
int keytab_init(struct keytab *t, uint32_t nslots, size_t rsize);
/* Free; safe on a zeroed or finished table. */
void keytab_fini(struct keytab *t);
/* Keyed hash of n bytes; fold: ASCII case-insensitive.  Never 0. */
uint64_t keytab_hash(const struct keytab *t, const void *p, size_t n,
		     bool fold);
/*
 * The record of key hash h, marked used at `now`: the existing one, or
 * a zeroed one that replaced the set's least recently used record.
 * Never NULL on an initialised table.
 */
void *keytab_get(struct keytab *t, uint64_t h, uint64_t now);

#endif
