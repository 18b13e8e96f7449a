/*
 * mem.h - the one heap allocator interface of sipguard.
 *
 * Thin wrappers over malloc/free that count live allocations and can be
 * told to fail the Nth allocation, so tests can check every error path
 * and end with a leak check (see STYLE.md 12).
 */
#ifndef SIPGUARD_CORE_MEM_H
#define SIPGUARD_CORE_MEM_H

#include <stddef.h>

void *mem_alloc(size_t n);
void *mem_zalloc(size_t n);
void *mem_realloc(void *p, size_t n);
void mem_free(void *p);
/*
 * n bytes of zeroed pages straight from the system (mmap), aligned on n
 * (n: a power of two, a multiple of the page size); counted and
 * failure-injectable like mem_alloc().  For allocators that give whole
 * chunks back (core/slab.c).  NULL on failure.
 */
void *mem_map_aligned(size_t n);
void mem_unmap(void *p, size_t n);
/* Overwrite a secret with zeros in a way the compiler cannot drop. */
void mem_secclean(void *p, size_t n);

/* Test hooks.  Counters are process-wide (relaxed atomics); failure
 * injection is not thread-safe. */
size_t mem_live(void);  /* allocations not yet freed */
size_t mem_total(void); /* allocations ever made */
/* Fail the nth allocation from now (1 = the next one); 0 turns it off. */
void mem_fail_nth(size_t n);
/* Call fn with every block mem_free() is about to free and its usable
 * size (tests check that secrets were wiped first); NULL: none. */
void mem_set_free_hook(void (*fn)(const void *p, size_t n));

#endif
