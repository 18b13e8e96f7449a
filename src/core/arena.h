/*
 * arena.h - region allocator freed in one go.
 *
 * Memory that lives and dies with one message, transaction or call comes
 * from an arena: many small bump allocations, no individual frees, and
 * one arena_free() at the end.  Non-memory resources tied to the same
 * lifetime (a socket, a timer, a reference) register a cleanup hook that
 * runs when the arena is reset or freed, newest first (STYLE.md 5).
 *
 * An arena may carry a byte limit so that work driven by hostile input
 * cannot grow one without bound: past the limit allocations fail.
 */
#ifndef SIPGUARD_CORE_ARENA_H
#define SIPGUARD_CORE_ARENA_H

#include <stddef.h>

#include "core/str.h"

enum {
	ARENA_CHUNK_DEFAULT = 4096, /* chunk size when 0 is asked for */
	ARENA_CHUNK_MIN = 256,
	ARENA_CHUNK_MAX = 1 << 24,
};

/* Opaque.  Owner: whoever called arena_new(); freed by arena_free(). */
struct arena;

typedef void arena_cleanup_fn(void *arg);

/*
 * Create an arena whose chunks hold `chunk` bytes each (0: the default;
 * clamped to [ARENA_CHUNK_MIN, ARENA_CHUNK_MAX]).  The first chunk is
 * allocated with the arena.  Returns 0 and *ap, or -EINVAL / -ENOMEM.
 */
int arena_new(struct arena **ap, size_t chunk);

/*
 * n bytes aligned for any type (max_align_t), uninitialised.  Requests
 * larger than a quarter chunk get a chunk of their own.  NULL when memory
 * or the arena limit runs out; n == 0 gives a valid unique pointer.
 */
void *arena_alloc(struct arena *a, size_t n);
void *arena_zalloc(struct arena *a, size_t n);
/* Copy of n bytes at p; NULL on failure. */
void *arena_memdup(struct arena *a, const void *p, size_t n);
/* NUL-terminated copy of s (embedded NULs are copied too); NULL on failure. */
char *arena_strdup(struct arena *a, struct str s);
/* Slice over a copy of s that lives as long as the arena. */
int arena_strdup_str(struct arena *a, struct str *dstp, struct str s);

/*
 * Register fn(arg) to run when the arena is reset or freed.  Hooks run in
 * reverse order of registration.  The record comes from the arena itself:
 * on -ENOMEM nothing was registered and the caller still owns the
 * resource.
 */
int arena_cleanup_add(struct arena *a, arena_cleanup_fn *fn, void *arg);

/*
 * Cap the bytes the arena may take from the heap (chunks included, the
 * first one too); 0 means no cap.  Allocations that would pass the cap
 * return NULL.  Already allocated memory is unaffected.
 */
void arena_set_limit(struct arena *a, size_t max_bytes);
/* Bytes currently taken from the heap by the arena. */
size_t arena_size(const struct arena *a);

/*
 * Run the cleanups, free every chunk but the first and make all of it
 * available again.  Every pointer handed out before is invalid after.
 */
void arena_reset(struct arena *a);

/* Run the cleanups and free everything.  arena_free(NULL) does nothing. */
void arena_free(struct arena *a);

#endif
