/*
 * ring.c - single-producer single-consumer ring of fixed-size messages
 * between the signalling thread and a relay thread (one ring per
 * direction).  Lock-free: the producer owns tail, the consumer head;
 * acquire/release ordering publishes the element before the index.
 */
#include <errno.h>
#include <string.h>

#include "core/mem.h"
#include "media/media_int.h"

int media__ring_init(struct media_ring *r, uint32_t cap_pow2, uint32_t esz)
{
	if (!cap_pow2 || (cap_pow2 & (cap_pow2 - 1)) || !esz)
		return -EINVAL;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->mask = cap_pow2 - 1;
	r->esz = esz;
	r->buf = mem_alloc((size_t)cap_pow2 * esz);
	return r->buf ? 0 : -ENOMEM;
}

void media__ring_fini(struct media_ring *r)
{
	mem_free(r->buf);
	r->buf = NULL;
}

/* Producer side.  false: full (the caller decides: retry or count). */
bool media__ring_push(struct media_ring *r, const void *e)
{
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);

	if (t - h > r->mask)
		return false;
	memcpy(r->buf + (size_t)(t & r->mask) * r->esz, e, r->esz);
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
	return true;
}

/* Consumer side.  false: empty. */
bool media__ring_pop(struct media_ring *r, void *e)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (h == t)
		return false;
	memcpy(e, r->buf + (size_t)(h & r->mask) * r->esz, r->esz);
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
	return true;
}
