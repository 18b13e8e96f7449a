/*
 * fraud_tab.c - the fixed-size tables of toll-fraud protection (users,
 * sources, (user, country) counters): a chained hash table over a pool
 * of entries allocated once, at creation.
 *
 * Why not set-associative (what this replaced): a set-associative table
 * is full per set, not per table.  With 4 ways and two candidate sets
 * filled first-fit, a user was refused ("user table full", 503) as soon
 * as the 8 entries of its two sets held users with calls up, however
 * empty the rest was: 16 busy users in a 64-entry table hit that in 4
 * of 2000 hash keys (tests/unit/guard/test_fraud.c).  Here any free
 * entry serves any key, so the table is full only when every entry
 * holds a user with calls in progress.
 *
 * Keys are the callers' 64-bit SipHash values under the fraud object's
 * random key (attacker-chosen names cannot be steered into one chain),
 * compared whole.  Entries with busy > 0 (calls up) are never evicted:
 * an attacker rotating names cannot push out the count of a user whose
 * calls are running.  Idle entries sit on an LRU list; a new key takes
 * a free entry, else the least recently used idle one.  Not
 * thread-safe: one per fraud object.
 */
#include <errno.h>
#include <string.h>

#include "core/mem.h"
#include "guard/fraud_int.h"

static bool slot_eq(const struct hnode *n, const void *key)
{
	(void)n;
	(void)key;
	return true; /* the 64-bit keyed hash is the key */
}

static struct fr_slot *slot_at(const struct fr_tab *t, size_t i)
{
	return (struct fr_slot *)(t->mem + i * t->stride);
}

static void lru_unlink(struct fr_slot *s)
{
	if (!s->prev)
		return;
	s->prev->next = s->next;
	s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

/* Most recently used end: right after the sentinel. */
static void lru_push(struct fr_tab *t, struct fr_slot *s)
{
	s->prev = &t->lru;
	s->next = t->lru.next;
	t->lru.next->prev = s;
	t->lru.next = s;
}

int fraud__tab_init(struct fr_tab *t, size_t n, size_t stride)
{
	static const uint8_t unused_key[SIPHASH_KEY_LEN];
	size_t i;
	int rc;

	memset(t, 0, sizeof(*t));
	t->lru.prev = t->lru.next = &t->lru;
	if (n == 0 || n > HTAB_MAX_BUCKETS || stride < sizeof(struct fr_slot))
		return -EINVAL;
	t->mem = mem_zalloc(n * stride);
	if (!t->mem)
		return -ENOMEM;
	/* The hash values come keyed from fraud.c: the table's own key
	 * is never used. */
	rc = htab_init_key(&t->ix, n, unused_key);
	if (rc) {
		mem_free(t->mem);
		t->mem = NULL;
		return rc;
	}
	t->n = n;
	t->stride = stride;
	for (i = n; i-- > 0;) {
		slot_at(t, i)->next = t->free;
		t->free = slot_at(t, i);
	}
	return 0;
}

void fraud__tab_fini(struct fr_tab *t)
{
	if (!t)
		return;
	htab_fini(&t->ix);
	mem_free(t->mem);
	t->mem = NULL;
	t->free = NULL;
	t->n = 0;
}

/* A free entry, else the least recently used idle one (unlinked and
 * zeroed), else NULL: every entry has calls up. */
static struct fr_slot *take(struct fr_tab *t)
{
	struct fr_slot *s = t->free;

	if (s) {
		t->free = s->next;
		t->used++;
	} else if (t->lru.prev != &t->lru) {
		s = t->lru.prev;
		lru_unlink(s);
		(void)htab_remove(&t->ix, &s->hn);
		t->evicted++;
	} else {
		return NULL;
	}
	memset(s, 0, t->stride);
	return s;
}

void *fraud__tab_get(struct fr_tab *t, uint64_t h, uint64_t now, bool create)
{
	struct hnode *n;
	struct fr_slot *s;

	if (!t->mem)
		return NULL;
	n = htab_find(&t->ix, h, slot_eq, NULL);
	if (n) {
		s = HTAB_ENTRY(n, struct fr_slot, hn);
		if (now) { /* 0: a peek, the entry's age stays */
			s->seen = now;
			if (!s->busy) {
				lru_unlink(s);
				lru_push(t, s);
			}
		}
		return s;
	}
	if (!create || !(s = take(t)))
		return NULL;
	s->h = h;
	s->seen = now;
	htab_insert(&t->ix, &s->hn, h);
	lru_push(t, s);
	return s;
}

const void *fraud__tab_peek(const struct fr_tab *t, uint64_t h)
{
	const struct hnode *n =
		t->mem ? htab_find(&t->ix, h, slot_eq, NULL) : NULL;

	return n ? HTAB_ENTRY(n, const struct fr_slot, hn) : NULL;
}

void fraud__tab_hold(struct fr_tab *t, struct fr_slot *s)
{
	(void)t;
	if (s->busy++ == 0)
		lru_unlink(s);
}

void fraud__tab_release(struct fr_tab *t, struct fr_slot *s)
{
	if (!s->busy)
		return;
	if (--s->busy == 0)
		lru_push(t, s);
}

size_t fraud__tab_busy(const struct fr_tab *t)
{
	size_t i, n = 0;

	for (i = 0; t->mem && i < t->n; i++)
		n += slot_at(t, i)->h && slot_at(t, i)->busy;
	return n;
}

/*
 * Copy the entry s of another table (same record type) into t: its
 * record, age and busy count.  Returns the copy, or NULL when t has no
 * room (every entry busy).
 */
static struct fr_slot *copy_in(struct fr_tab *t, const struct fr_slot *s)
{
	struct fr_slot *d =
		fraud__tab_get(t, s->h, s->seen ? s->seen : 1, true);

	if (!d)
		return NULL;
	memcpy((char *)d + sizeof(*d), (const char *)s + sizeof(*s),
	       t->stride - sizeof(*d));
	d->seen = s->seen;
	while (d->busy < s->busy)
		fraud__tab_hold(t, d);
	return d;
}

size_t fraud__tab_move(struct fr_tab *to, const struct fr_tab *from)
{
	const struct fr_slot *s;
	size_t i, lost = 0;

	if (!from->mem || !to->mem || to->stride != from->stride)
		return 0;
	/* Busy entries first: they must never be lost. */
	for (i = 0; i < from->n; i++) {
		s = slot_at(from, i);
		if (s->h && s->busy && !copy_in(to, s))
			lost++;
	}
	/* Then the idle ones, oldest first: in a smaller table the most
	 * recently used are the ones that stay. */
	for (s = from->lru.prev; s != &from->lru; s = s->prev)
		(void)copy_in(to, s);
	return lost;
}
