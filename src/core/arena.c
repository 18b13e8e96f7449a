/*
 * arena.c - region allocator: bump allocation in chunks, freed in one go,
 * with cleanup hooks for non-memory resources (nginx pool style).
 *
 * Layout: the arena header and its first chunk are one heap allocation, so
 * a short-lived arena that never outgrows its first chunk costs exactly
 * one malloc.  Further chunks are kept on a list and freed together.
 */
#include "core/arena.h"

#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "core/mem.h"

#define ALIGN alignof(max_align_t)

/* A chunk beyond the first.  Owner: the arena's chunk list. */
struct arena_chunk {
	struct arena_chunk *next;
	size_t size; /* bytes taken from the heap, header included */
	alignas(max_align_t) unsigned char data[];
};

/* Allocated from the arena itself; freed with it. */
struct arena_cleanup {
	struct arena_cleanup *next; /* older hook */
	arena_cleanup_fn *fn;
	void *arg;
};

/* Owner: the caller of arena_new(). */
struct arena {
	unsigned char *pos;         /* next free byte in the current chunk */
	unsigned char *end;         /* end of the current chunk */
	struct arena_chunk *chunks; /* extra chunks, newest first */
	struct arena_cleanup *cleanups; /* newest first */
	size_t chunk;                   /* payload bytes of a normal chunk */
	size_t size;                    /* heap bytes held, header included */
	size_t limit;                   /* 0: none */
	alignas(max_align_t) unsigned char first[];
};

static size_t clamp_chunk(size_t chunk)
{
	if (chunk == 0)
		return ARENA_CHUNK_DEFAULT;
	if (chunk < ARENA_CHUNK_MIN)
		return ARENA_CHUNK_MIN;
	if (chunk > ARENA_CHUNK_MAX)
		return ARENA_CHUNK_MAX;
	return (chunk + ALIGN - 1) & ~(ALIGN - 1);
}

int arena_new(struct arena **ap, size_t chunk)
{
	struct arena *a;

	if (!ap)
		return -EINVAL;
	*ap = NULL;
	chunk = clamp_chunk(chunk);
	a = mem_alloc(sizeof(*a) + chunk);
	if (!a)
		return -ENOMEM;
	a->chunk = chunk;
	a->size = sizeof(*a) + chunk;
	a->limit = 0;
	a->chunks = NULL;
	a->cleanups = NULL;
	a->pos = a->first;
	a->end = a->first + chunk;
	*ap = a;
	return 0;
}

/* A new chunk with room for `payload` bytes, linked into the list. */
static struct arena_chunk *chunk_new(struct arena *a, size_t payload)
{
	struct arena_chunk *c;
	size_t sz;

	if (payload > SIZE_MAX - sizeof(*c))
		return NULL;
	sz = sizeof(*c) + payload;
	if (a->limit && (sz > a->limit || a->size > a->limit - sz))
		return NULL;
	c = mem_alloc(sz);
	if (!c)
		return NULL;
	c->size = sz;
	c->next = a->chunks;
	a->chunks = c;
	a->size += sz;
	return c;
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c;
	unsigned char *p;
	size_t need;

	if (!a || n > SIZE_MAX - ALIGN)
		return NULL;
	need = n ? (n + ALIGN - 1) & ~(ALIGN - 1) : ALIGN;
	if (need <= (size_t)(a->end - a->pos)) {
		p = a->pos;
		a->pos += need;
		return p;
	}
	/*
	 * Big requests get a chunk of their own and leave the current chunk
	 * in use, so one large value does not waste the rest of a chunk.
	 */
	if (need > a->chunk / 4) {
		c = chunk_new(a, need);
		return c ? c->data : NULL;
	}
	c = chunk_new(a, a->chunk);
	if (!c)
		return NULL;
	a->pos = c->data + need;
	a->end = c->data + a->chunk;
	return c->data;
}

void *arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);

	if (p && n)
		memset(p, 0, n);
	return p;
}

void *arena_memdup(struct arena *a, const void *p, size_t n)
{
	void *d = arena_alloc(a, n);

	if (d && n)
		memcpy(d, p, n);
	return d;
}

char *arena_strdup(struct arena *a, struct str s)
{
	char *d;

	if (s.len == SIZE_MAX)
		return NULL;
	d = arena_alloc(a, s.len + 1);
	if (!d)
		return NULL;
	if (s.len)
		memcpy(d, s.p, s.len);
	d[s.len] = '\0';
	return d;
}

int arena_strdup_str(struct arena *a, struct str *dstp, struct str s)
{
	char *d = arena_strdup(a, s);

	if (!d)
		return -ENOMEM;
	*dstp = str_make(d, s.len);
	return 0;
}

int arena_cleanup_add(struct arena *a, arena_cleanup_fn *fn, void *arg)
{
	struct arena_cleanup *c;

	if (!a || !fn)
		return -EINVAL;
	c = arena_alloc(a, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->arg = arg;
	c->next = a->cleanups;
	a->cleanups = c;
	return 0;
}

void arena_set_limit(struct arena *a, size_t max_bytes)
{
	if (a)
		a->limit = max_bytes;
}

size_t arena_size(const struct arena *a)
{
	return a ? a->size : 0;
}

/*
 * Hooks may allocate from the arena (nothing forbids it) and even add
 * more hooks; those run too, before any memory goes away.
 */
static void run_cleanups(struct arena *a)
{
	struct arena_cleanup *c;

	while ((c = a->cleanups) != NULL) {
		a->cleanups = c->next;
		c->fn(c->arg);
	}
}

static void free_chunks(struct arena *a)
{
	struct arena_chunk *c;

	while ((c = a->chunks) != NULL) {
		a->chunks = c->next;
		a->size -= c->size;
		mem_free(c);
	}
}

void arena_reset(struct arena *a)
{
	if (!a)
		return;
	run_cleanups(a);
	free_chunks(a);
	a->pos = a->first;
	a->end = a->first + a->chunk;
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	run_cleanups(a);
	free_chunks(a);
	mem_free(a);
}
