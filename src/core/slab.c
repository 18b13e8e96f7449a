/*
 * slab.c - size-class allocator in aligned chunks (see slab.h for why).
 *
 * A chunk is SLAB_CHUNK bytes aligned on SLAB_CHUNK: a header, then
 * objects of one class.  Objects never used yet are handed out by a bump
 * index, so a new chunk touches only the pages its objects need; freed
 * objects go on the chunk's own free list.  A class keeps its chunks
 * that have room on a doubly linked list; a full chunk leaves it, and a
 * chunk that becomes empty is unmapped unless it is the class's last
 * one with room (a spare, so that one object freed and allocated again
 * does not map and unmap a chunk each time).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "core/mem.h"
#include "core/slab.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_ASAN 1
#endif
#endif
#ifdef SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

enum {
	SLAB_ALIGN = 16,
	SLAB_HDR = 64, /* chunk header, rounded so objects stay aligned */
	SLAB_LUT = SLAB_MAX / SLAB_ALIGN + 1,
};

struct chunk {
	struct chunk *next, *prev; /* on the class's avail or full list */
	void *free;                /* freed objects of this chunk */
	uint32_t used;             /* live objects */
	uint32_t bump;             /* objects ever handed out */
	uint32_t nobj;             /* capacity */
	uint16_t cls;
};

struct slab_class {
	uint32_t size;
	uint32_t nobj;
	struct chunk *avail; /* chunks with room */
	struct chunk *full;  /* chunks without */
};

struct slab {
	struct slab_class cls[SLAB_NCLASS];
	unsigned ncls;
	uint8_t lut[SLAB_LUT]; /* (n + 15) / 16 -> class */
	size_t objects, bytes, chunks, chunk_high;
};

_Static_assert(sizeof(struct chunk) <= SLAB_HDR, "chunk header too big");
_Static_assert((SLAB_CHUNK & (SLAB_CHUNK - 1)) == 0, "chunk: power of 2");

/* 16-byte steps to 256, then ~12 % steps (rounded to 16) to SLAB_MAX:
 * at most ~12 % of an object is slack. */
static int build_classes(struct slab *s)
{
	size_t sz = SLAB_ALIGN, i, c = 0;

	while (c < SLAB_NCLASS) {
		s->cls[c].size = (uint32_t)sz;
		s->cls[c].nobj = (uint32_t)((SLAB_CHUNK - SLAB_HDR) / sz);
		c++;
		if (sz >= SLAB_MAX)
			break;
		sz = sz < 256 ? sz + SLAB_ALIGN
			      : (sz + sz / 8 + SLAB_ALIGN - 1) &
					~(size_t)(SLAB_ALIGN - 1);
		if (sz > SLAB_MAX)
			sz = SLAB_MAX;
	}
	if (s->cls[c - 1].size != SLAB_MAX)
		return -EINVAL; /* SLAB_NCLASS too small: a build error */
	s->ncls = (unsigned)c;
	for (i = 0, c = 0; i < SLAB_LUT; i++) {
		while (s->cls[c].size < i * SLAB_ALIGN)
			c++;
		s->lut[i] = (uint8_t)c;
	}
	return 0;
}

int slab_new(struct slab **sp)
{
	struct slab *s = mem_zalloc(sizeof(*s));

	*sp = NULL;
	if (!s)
		return -ENOMEM;
	if (build_classes(s) != 0) {
		mem_free(s);
		return -EINVAL;
	}
	*sp = s;
	return 0;
}

static struct chunk *chunk_of(const void *p)
{
	return (struct chunk *)((uintptr_t)p & ~(uintptr_t)(SLAB_CHUNK - 1));
}

static void unlist(struct chunk **head, struct chunk *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		*head = k->next;
	if (k->next)
		k->next->prev = k->prev;
	k->next = k->prev = NULL;
}

static void enlist(struct chunk **head, struct chunk *k)
{
	k->prev = NULL;
	k->next = *head;
	if (k->next)
		k->next->prev = k;
	*head = k;
}

static struct chunk *chunk_new(struct slab *s, unsigned cls)
{
	struct chunk *k = mem_map_aligned(SLAB_CHUNK);

	if (!k)
		return NULL;
	/* mmap gives zeroed memory: only the header needs setting. */
	k->nobj = s->cls[cls].nobj;
	k->cls = (uint16_t)cls;
	POISON((char *)k + SLAB_HDR, SLAB_CHUNK - SLAB_HDR);
	s->chunks++;
	if (s->chunks > s->chunk_high)
		s->chunk_high = s->chunks;
	enlist(&s->cls[cls].avail, k);
	return k;
}

void *slab_alloc(struct slab *s, size_t n)
{
	struct slab_class *c;
	struct chunk *k;
	char *p;

	if (n == 0 || n > SLAB_MAX)
		return NULL;
	c = &s->cls[s->lut[(n + SLAB_ALIGN - 1) / SLAB_ALIGN]];
	k = c->avail;
	if (!k && !(k = chunk_new(s, (unsigned)(c - s->cls))))
		return NULL;
	if (k->free) {
		p = k->free;
		UNPOISON(p, c->size);
		memcpy(&k->free, p, sizeof(void *));
	} else {
		p = (char *)k + SLAB_HDR + (size_t)k->bump * c->size;
		k->bump++;
		UNPOISON(p, c->size);
	}
	k->used++;
	if (k->used == k->nobj) {
		unlist(&c->avail, k);
		enlist(&c->full, k);
	}
	s->objects++;
	s->bytes += c->size;
	return p;
}

void slab_free(struct slab *s, void *p)
{
	struct chunk *k;
	struct slab_class *c;

	if (!p)
		return;
	k = chunk_of(p);
	c = &s->cls[k->cls];
	memcpy(p, &k->free, sizeof(void *));
	POISON(p, c->size);
	k->free = p;
	k->used--;
	s->objects--;
	s->bytes -= c->size;
	if (k->used + 1 == k->nobj) {
		unlist(&c->full, k);
		enlist(&c->avail, k);
	}
	/* Empty and not the class's only room: back to the system. */
	if (k->used == 0 && (c->avail != k || k->next)) {
		unlist(&c->avail, k);
		UNPOISON(k, SLAB_CHUNK);
		mem_unmap(k, SLAB_CHUNK);
		s->chunks--;
	}
}

size_t slab_size(const struct slab *s, const void *p)
{
	return p ? s->cls[chunk_of(p)->cls].size : 0;
}

void slab_stats(const struct slab *s, struct slab_stats *st)
{
	st->objects = s->objects;
	st->bytes = s->bytes;
	st->chunks = s->chunks;
	st->chunk_high = s->chunk_high;
}

static void unmap_list(struct slab *s, struct chunk **head)
{
	struct chunk *k;

	while ((k = *head)) {
		unlist(head, k);
		UNPOISON(k, SLAB_CHUNK);
		mem_unmap(k, SLAB_CHUNK);
		s->chunks--;
	}
}

void slab_free_all(struct slab *s)
{
	unsigned i;

	if (!s)
		return;
	for (i = 0; i < s->ncls; i++) {
		unmap_list(s, &s->cls[i].avail);
		unmap_list(s, &s->cls[i].full);
	}
	mem_free(s);
}
