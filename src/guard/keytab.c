/*
 * keytab.c - fixed-size set-associative table of per-key records (see
 * keytab.h).
 */
#include <errno.h>
#include <string.h>

#include "core/mem.h"
#include "guard/keytab.h"
#include "core/rand.h"

struct kslot {
	uint64_t h;    /* 0: empty */
	uint64_t used; /* last use, ms */
};

enum { KSLOT_HDR = (sizeof(struct kslot) + 15) & ~(size_t)15 };

int keytab_init(struct keytab *t, uint32_t nslots, size_t rsize)
{
	size_t sets = 1;
	int rc;

	memset(t, 0, sizeof(*t));
	if (!nslots || nslots > KEYTAB_MAX_SLOTS || rsize > 4096)
		return -EINVAL;
	while (sets * KEYTAB_WAYS < nslots)
		sets <<= 1;
	t->rsize = rsize;
	t->esize = KSLOT_HDR + ((rsize + 15) & ~(size_t)15);
	t->mem = mem_zalloc(sets * KEYTAB_WAYS * t->esize);
	if (!t->mem)
		return -ENOMEM;
	t->smask = (uint32_t)(sets - 1);
	rc = rand_bytes(t->key, sizeof(t->key));
	if (rc) {
		keytab_fini(t);
		return rc;
	}
	return 0;
}

void keytab_fini(struct keytab *t)
{
	mem_free(t->mem);
	mem_secclean(t->key, sizeof(t->key));
	t->mem = NULL;
}

uint64_t keytab_hash(const struct keytab *t, const void *p, size_t n, bool fold)
{
	uint64_t h =
		fold ? siphash24_case(p, n, t->key) : siphash24(p, n, t->key);

	return h ? h : 1;
}

void *keytab_get(struct keytab *t, uint64_t h, uint64_t now)
{
	unsigned char *set =
		t->mem + (size_t)(h & t->smask) * KEYTAB_WAYS * t->esize;
	struct kslot *s, *lru = NULL;
	unsigned i;

	for (i = 0; i < KEYTAB_WAYS; i++) {
		s = (struct kslot *)(void *)(set + i * t->esize);
		if (s->h == h) {
			s->used = now;
			return (unsigned char *)s + KSLOT_HDR;
		}
		if (!lru || (lru->h && (!s->h || s->used < lru->used)))
			lru = s;
	}
	if (lru->h)
		t->evicted++;
	lru->h = h;
	lru->used = now;
	memset((unsigned char *)lru + KSLOT_HDR, 0, t->rsize);
	return (unsigned char *)lru + KSLOT_HDR;
}
