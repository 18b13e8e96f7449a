/*
 * slab.h - size-class allocator for long-lived, numerous small objects.
 *
 * Why: dialog records live for minutes or hours while the transactions
 * that set them up live for seconds.  From the general heap, every page
 * ends up holding a few dialog records among the freed transaction
 * chunks, so the memory of the transactions can never go back to the
 * system and the resident size per dialog is twice what the records need
 * (measured: 3.8 KiB per dialog for ~1 KiB of records).  A slab keeps
 * such objects packed together in chunks of their own, away from
 * short-lived allocations: a chunk that empties is returned to the
 * system at once.
 *
 * Objects are grouped by size class (SLAB_MAX bytes at most; classes are
 * 16 bytes apart up to 256, then about 12 % apart), each class in
 * SLAB_CHUNK-byte chunks aligned on their size, so the chunk of an
 * object is found from its address.  Each chunk keeps its own free list;
 * a class allocates from its partially used chunks first.  Chunk memory
 * comes from mem_map() (counted and failure-injectable like mem_alloc()).
 *
 * Not thread-safe: one slab per event-loop thread.  Under ASan, free
 * objects are poisoned, so a use after slab_free() is reported.
 */
#ifndef SIPGUARD_CORE_SLAB_H
#define SIPGUARD_CORE_SLAB_H

#include <stddef.h>

enum {
	SLAB_CHUNK = 64 * 1024, /* bytes per chunk, power of two */
	SLAB_MAX = 4608,        /* largest object */
	SLAB_NCLASS = 40,       /* size classes (see slab.c) */
};

struct slab_stats {
	size_t objects;    /* live objects */
	size_t bytes;      /* bytes of live objects (class sizes) */
	size_t chunks;     /* chunks mapped */
	size_t chunk_high; /* most chunks mapped at once */
};

/* Opaque.  Owner: whoever called slab_new(); freed by slab_free_all(). */
struct slab;

/* Returns 0 and *sp, or -ENOMEM. */
int slab_new(struct slab **sp);

/*
 * Free the slab and every chunk.  Objects still allocated are released
 * with it (the owner has let go of them); NULL does nothing.
 */
void slab_free_all(struct slab *s);

/* n bytes (1..SLAB_MAX), aligned to 16, uninitialised; NULL when
 * n is out of range or memory is exhausted. */
void *slab_alloc(struct slab *s, size_t n);

/* Give back an object of slab_alloc(); NULL does nothing. */
void slab_free(struct slab *s, void *p);

/* The usable size of an object (its class size). */
size_t slab_size(const struct slab *s, const void *p);

void slab_stats(const struct slab *s, struct slab_stats *st);

#endif
