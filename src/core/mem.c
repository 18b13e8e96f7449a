/*
 * mem.c - counting allocator with failure injection for tests.
 */
#include "core/mem.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* live and total are relaxed atomics: relay threads allocate too
 * (media/dtls_leg.c frees DTLS conns there). */
static size_t live, total, fail_at;
static void (*free_hook)(const void *p, size_t n); /* tests only */

#define CNT_ADD(x, v) __atomic_fetch_add(&(x), (v), __ATOMIC_RELAXED)

static int should_fail(void)
{
	if (fail_at == 0)
		return 0;
	if (--fail_at == 0)
		return 1;
	return 0;
}

void *mem_alloc(size_t n)
{
	void *p;

	if (should_fail())
		return NULL;
	p = malloc(n ? n : 1);
	if (p) {
		CNT_ADD(live, 1);
		CNT_ADD(total, 1);
	}
	return p;
}

void *mem_zalloc(size_t n)
{
	void *p = mem_alloc(n);

	if (p)
		memset(p, 0, n ? n : 1);
	return p;
}

void *mem_realloc(void *p, size_t n)
{
	void *q;

	if (!p)
		return mem_alloc(n);
	if (should_fail())
		return NULL;
	q = realloc(p, n ? n : 1);
	if (q)
		CNT_ADD(total, 1);
	return q;
}

void mem_free(void *p)
{
	if (!p)
		return;
	CNT_ADD(live, (size_t)-1);
	if (free_hook)
		free_hook(p, malloc_usable_size(p));
	free(p);
}

void *mem_map_aligned(size_t n)
{
	char *p, *a;
	size_t head;

	if (n == 0 || (n & (n - 1)) || should_fail())
		return NULL;
	/* Map twice the size and trim to an aligned window. */
	p = mmap(NULL, 2 * n, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + n - 1) & ~(uintptr_t)(n - 1));
	head = (size_t)(a - p);
	if (head)
		munmap(p, head);
	munmap(a + n, n - head);
	CNT_ADD(live, 1);
	CNT_ADD(total, 1);
	return a;
}

void mem_unmap(void *p, size_t n)
{
	if (!p)
		return;
	CNT_ADD(live, (size_t)-1);
	munmap(p, n);
}

void mem_secclean(void *p, size_t n)
{
	/* A memset the compiler may not drop, at memset's speed: message
	 * buffers of a few KiB are wiped on the signalling path. */
	if (p && n)
		explicit_bzero(p, n);
}

size_t mem_live(void)
{
	return __atomic_load_n(&live, __ATOMIC_RELAXED);
}

size_t mem_total(void)
{
	return __atomic_load_n(&total, __ATOMIC_RELAXED);
}

void mem_fail_nth(size_t n)
{
	fail_at = n;
}

void mem_set_free_hook(void (*fn)(const void *p, size_t n))
{
	free_hook = fn;
}
