/*
 * fraud_reload.c - a reload of the toll-fraud policy: the new fraud
 * object (built from the new configuration by fraud_new()) takes over
 * the state of the running one.
 *
 * What carries over: the hash key (so every stored hash still finds its
 * entry), every user, source and (user, country) entry with its rate
 * windows, blocks, throttles and learned behaviour, and every call in
 * progress with its counts.  The new policy (classes, dial rules, limits,
 * zones, anomaly settings) applies to the next call checked; a call in
 * progress keeps the maximum duration it started with (its dialog timer
 * is already set) and releases its slot when it ends.
 *
 * What can be lost: when the new tables are smaller than the old ones,
 * the least recently used idle entries (never one with calls up: a table
 * is grown to hold every busy entry, and the call pool every call in
 * progress).  When the new configuration has no classes, nothing is
 * checked or kept.
 */
#include <errno.h>
#include <string.h>

#include "core/mem.h"
#include "guard/fraud_int.h"

/* Grow t to n entries (empty, so nothing to keep).  0 or -ENOMEM. */
static int tab_grow(struct fr_tab *t, size_t n)
{
	size_t stride = t->stride;

	if (n <= t->n)
		return 0;
	fraud__tab_fini(t);
	return fraud__tab_init(t, n, stride);
}

/* A call pool of n (the new one is empty yet).  0 or -ENOMEM. */
static int calls_grow(struct fraud *f, size_t n)
{
	struct fr_call *calls;
	size_t i;
	int rc;

	if (n <= (size_t)f->c->max_calls)
		return 0;
	calls = mem_zalloc(n * sizeof(*calls));
	if (!calls)
		return -ENOMEM;
	htab_fini(&f->ch);
	rc = htab_init(&f->ch, n);
	if (rc) {
		mem_free(calls);
		return rc;
	}
	mem_free(f->calls);
	f->calls = calls;
	f->free_calls = NULL;
	for (i = n; i-- > 0;) {
		calls[i].next_free = f->free_calls;
		f->free_calls = &calls[i];
	}
	return 0;
}

static void calls_copy(struct fraud *nf, const struct fraud *old)
{
	struct htab_iter it;
	struct hnode *n;

	htab_iter_init(&it, &old->ch);
	while ((n = htab_iter_next(&it)) != NULL) {
		const struct fr_call *c =
			HTAB_ENTRY(n, const struct fr_call, hn);
		struct fr_call *d = nf->free_calls;

		if (!d)
			break; /* cannot happen: the pool was grown */
		nf->free_calls = d->next_free;
		*d = *c;
		d->next_free = NULL;
		htab_insert(&nf->ch, &d->hn, n->hv);
		nf->ncalls++;
	}
}

int fraud_adopt(struct fraud *nf, const struct fraud *old)
{
	int rc;

	if (!nf || !old)
		return 0;
	if (!nf->ncls || !old->ncls)
		return 0; /* one side checks nothing: nothing to keep */
	/* Growing empties a table: do it before anything is copied. */
	if ((rc = tab_grow(&nf->users, fraud__tab_busy(&old->users))) ||
	    (rc = tab_grow(&nf->srcs, fraud__tab_busy(&old->srcs))) ||
	    (rc = calls_grow(nf, old->ncalls)))
		return rc;
	memcpy(nf->key, old->key, sizeof(nf->key));
	(void)fraud__tab_move(&nf->users, &old->users);
	(void)fraud__tab_move(&nf->srcs, &old->srcs);
	(void)fraud__tab_move(&nf->ctys, &old->ctys);
	calls_copy(nf, old);
	return 0;
}
