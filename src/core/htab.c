/*
 * htab.c - fixed-size intrusive hash table with a per-table SipHash key.
 *
 * Chains are singly linked and new nodes go to the head of their bucket.
 * Removal walks the chain to find the predecessor: chains stay short
 * because the key is secret and the bucket count is sized for the pool
 * behind the table.
 */
#include "core/htab.h"

#include <errno.h>
#include <string.h>

#include "core/mem.h"
#include "core/rand.h"

static int setup(struct htab *h, size_t nb)
{
	size_t n = 1;

	if (nb == 0 || nb > HTAB_MAX_BUCKETS)
		return -EINVAL;
	while (n < nb)
		n <<= 1;
	h->b = mem_zalloc(n * sizeof(*h->b));
	if (!h->b)
		return -ENOMEM;
	h->mask = n - 1;
	h->count = 0;
	return 0;
}

int htab_init(struct htab *h, size_t nbuckets_pow2)
{
	int err;

	if (!h)
		return -EINVAL;
	h->b = NULL;
	h->mask = h->count = 0;
	err = rand_bytes(h->key, sizeof(h->key));
	if (err)
		return err;
	err = setup(h, nbuckets_pow2);
	if (err)
		mem_secclean(h->key, sizeof(h->key));
	return err;
}

int htab_init_key(struct htab *h, size_t nbuckets_pow2,
		  const uint8_t key[SIPHASH_KEY_LEN])
{
	if (!h || !key)
		return -EINVAL;
	h->b = NULL;
	h->mask = h->count = 0;
	memcpy(h->key, key, sizeof(h->key));
	return setup(h, nbuckets_pow2);
}

void htab_fini(struct htab *h)
{
	if (!h)
		return;
	mem_free(h->b);
	h->b = NULL;
	h->mask = h->count = 0;
	mem_secclean(h->key, sizeof(h->key));
}

uint64_t htab_hash(const struct htab *h, const void *p, size_t n)
{
	return siphash24(p, n, h->key);
}

uint64_t htab_hash_case(const struct htab *h, const void *p, size_t n)
{
	return siphash24_case(p, n, h->key);
}

void htab_insert(struct htab *h, struct hnode *n, uint64_t hv)
{
	struct hnode **b = &h->b[hv & h->mask];

	n->hv = hv;
	n->next = *b;
	*b = n;
	h->count++;
}

static struct hnode *scan(struct hnode *n, uint64_t hv, htab_eq_fn *eq,
			  const void *key)
{
	for (; n; n = n->next)
		if (n->hv == hv && eq(n, key))
			return n;
	return NULL;
}

struct hnode *htab_find(const struct htab *h, uint64_t hv, htab_eq_fn *eq,
			const void *key)
{
	if (!h->b)
		return NULL;
	return scan(h->b[hv & h->mask], hv, eq, key);
}

struct hnode *htab_find_next(const struct hnode *after, htab_eq_fn *eq,
			     const void *key)
{
	return scan(after->next, after->hv, eq, key);
}

bool htab_remove(struct htab *h, struct hnode *n)
{
	struct hnode **pp;

	if (!h->b)
		return false;
	for (pp = &h->b[n->hv & h->mask]; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			n->next = NULL;
			h->count--;
			return true;
		}
	}
	return false;
}

size_t htab_max_chain(const struct htab *h)
{
	size_t i, len, max = 0;
	const struct hnode *n;

	for (i = 0; h->b && i <= h->mask; i++) {
		len = 0;
		for (n = h->b[i]; n; n = n->next)
			len++;
		if (len > max)
			max = len;
	}
	return max;
}

void htab_iter_init(struct htab_iter *it, const struct htab *h)
{
	it->h = h;
	it->bucket = 0;
	it->next = NULL;
}

struct hnode *htab_iter_next(struct htab_iter *it)
{
	const struct htab *h = it->h;
	struct hnode *n = it->next;

	while (!n) {
		if (!h->b || it->bucket > h->mask)
			return NULL;
		n = h->b[it->bucket++];
	}
	/* Remember the successor now, so the caller may unlink n. */
	it->next = n->next;
	return n;
}
