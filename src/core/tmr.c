/*
 * tmr.c - hierarchical timer wheel (Varghese & Lauck, "Hashed and
 * hierarchical timing wheels", scheme 7), one millisecond per tick.
 *
 * Placement: a timer expiring at E, seen from the first unprocessed tick
 * T, goes to the level L holding the highest bit in which E and T differ
 * (six bits per level), in slot (E >> 6L) & 63.  So every timer on level
 * L shares all bits above level L with T, and its slot lies ahead of T's
 * position on that level.  When T reaches the start of a slot on level
 * L >= 1 (T's low 6L bits are zero), that slot is emptied and its timers
 * are placed again, landing on lower levels; level 0 slots hold timers
 * for exactly one millisecond each and are fired.
 *
 * Invariants (checked by tmr_wheel_run's jump and by the tests):
 * - every timer on a level-L slot expires at or after `tick`;
 * - an occupied slot never lies behind tick's position on its level, so
 *   the first occupied slot at or after that position, per level, bounds
 *   the next work from below (next_event), and the run may jump straight
 *   to it instead of stepping through empty milliseconds.
 */
#include "core/tmr.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#define TMR_LIST TMR_LEVELS /* level value of timers on due/firing */

static uint64_t bit(unsigned s)
{
	return (uint64_t)1 << s;
}

static void link_head(struct tmr **head, struct tmr *t)
{
	t->next = *head;
	if (t->next)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
}

/* Unlink a pending timer, keeping the occupancy bits right. */
static void unlink_tmr(struct tmr *t)
{
	struct tmr_wheel *w = t->w;

	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	if (t->level < TMR_LEVELS && !w->slot[t->level][t->slot])
		w->used[t->level] &= ~bit(t->slot);
	t->next = NULL;
	t->pprev = NULL;
}

/* Link t into the slot its expiry calls for, seen from w->tick. */
static void place(struct tmr_wheel *w, struct tmr *t)
{
	uint64_t x;
	unsigned level = 0, slot;

	if (t->expires < w->tick) {
		t->level = TMR_LIST;
		t->slot = 0;
		link_head(&w->due, t);
		return;
	}
	x = t->expires ^ w->tick;
	if (x)
		level = (unsigned)(63 - __builtin_clzll(x)) / TMR_LEVEL_BITS;
	slot = (unsigned)(t->expires >> (level * TMR_LEVEL_BITS)) &
	       (TMR_SLOTS - 1);
	t->level = (uint8_t)level;
	t->slot = (uint8_t)slot;
	link_head(&w->slot[level][slot], t);
	w->used[level] |= bit(slot);
}

void tmr_init(struct tmr *t)
{
	memset(t, 0, sizeof(*t));
}

void tmr_start(struct tmr_wheel *w, struct tmr *t, uint64_t delay_ms,
	       tmr_fn *fn, void *arg)
{
	assert(w && t && fn);
	tmr_cancel(t);
	t->w = w;
	t->fn = fn;
	t->arg = arg;
	t->expires =
		delay_ms > UINT64_MAX - w->now ? UINT64_MAX : w->now + delay_ms;
	place(w, t);
	w->count++;
}

void tmr_cancel(struct tmr *t)
{
	if (!t || !t->pprev)
		return;
	unlink_tmr(t);
	t->w->count--;
}

uint64_t tmr_remaining(const struct tmr *t)
{
	if (!t->pprev)
		return 0;
	return t->expires > t->w->now ? t->expires - t->w->now : 0;
}

int tmr_wheel_init(struct tmr_wheel *w, uint64_t now_ms)
{
	if (!w)
		return -EINVAL;
	memset(w, 0, sizeof(*w));
	w->now = now_ms;
	w->tick = now_ms;
	return 0;
}

static void drop_list(struct tmr **head)
{
	struct tmr *t;

	while ((t = *head) != NULL) {
		*head = t->next;
		t->next = NULL;
		t->pprev = NULL;
	}
}

void tmr_wheel_fini(struct tmr_wheel *w)
{
	unsigned l, s;

	drop_list(&w->due);
	drop_list(&w->firing);
	for (l = 0; l < TMR_LEVELS; l++)
		for (s = 0; s < TMR_SLOTS; s++)
			drop_list(&w->slot[l][s]);
	memset(w->used, 0, sizeof(w->used));
	w->count = 0;
}

/* Move the whole list at *from onto w->firing (which must be empty). */
static void detach(struct tmr_wheel *w, struct tmr **from)
{
	assert(!w->firing);
	w->firing = *from;
	*from = NULL;
	if (w->firing)
		w->firing->pprev = &w->firing;
}

/*
 * Fire everything on w->firing.  The list head lives in the wheel, so a
 * callback that cancels or re-arms a timer still waiting here unlinks it
 * correctly.
 */
static void fire(struct tmr_wheel *w)
{
	struct tmr *t;

	while ((t = w->firing) != NULL) {
		unlink_tmr(t);
		w->count--;
		t->fn(t->arg);
	}
}

/* Re-place the level-L slots that start exactly at w->tick. */
static void cascade(struct tmr_wheel *w)
{
	uint64_t tick = w->tick;
	struct tmr *list, *t;
	unsigned l, shift, s;

	for (l = TMR_LEVELS - 1; l >= 1; l--) {
		shift = l * TMR_LEVEL_BITS;
		if (tick & (bit(shift) - 1))
			continue;
		s = (unsigned)(tick >> shift) & (TMR_SLOTS - 1);
		if (!(w->used[l] & bit(s)))
			continue;
		list = w->slot[l][s];
		w->slot[l][s] = NULL;
		w->used[l] &= ~bit(s);
		while ((t = list) != NULL) {
			list = t->next;
			place(w, t);
		}
	}
}

/*
 * Lower bound on the next tick with work: the start of the first occupied
 * slot at or after tick's position, over all levels.  UINT64_MAX if the
 * wheel is empty.  The due list is not looked at.
 */
static uint64_t next_event(const struct tmr_wheel *w)
{
	uint64_t best = UINT64_MAX, m, base, e;
	unsigned l, shift, pos;

	for (l = 0; l < TMR_LEVELS; l++) {
		if (!w->used[l])
			continue;
		shift = l * TMR_LEVEL_BITS;
		pos = (unsigned)(w->tick >> shift) & (TMR_SLOTS - 1);
		m = w->used[l] & (~(uint64_t)0 << pos);
		assert(m); /* no slot lies behind the wheel position */
		base = shift + TMR_LEVEL_BITS >= 64
			       ? 0
			       : w->tick & ~(bit(shift + TMR_LEVEL_BITS) - 1);
		e = base + ((uint64_t)__builtin_ctzll(m) << shift);
		if (e < w->tick)
			e = w->tick;
		if (e < best)
			best = e;
	}
	return best;
}

void tmr_wheel_run(struct tmr_wheel *w, uint64_t now_ms)
{
	uint64_t next;
	unsigned s;

	assert(!w->running);
	if (now_ms < w->now)
		now_ms = w->now;
	if (now_ms == UINT64_MAX)
		now_ms--; /* keep now_ms + 1 representable */
	w->running = true;
	w->now = now_ms;
	detach(w, &w->due);
	fire(w);
	while (w->tick <= now_ms) {
		if ((w->tick & (TMR_SLOTS - 1)) == 0)
			cascade(w);
		s = (unsigned)w->tick & (TMR_SLOTS - 1);
		if (w->used[0] & bit(s)) {
			w->used[0] &= ~bit(s);
			detach(w, &w->slot[0][s]);
			/* Advance first: timers started now for this tick go
			 * to the due list and wait for the next run. */
			w->tick++;
			fire(w);
		} else {
			w->tick++;
		}
		next = next_event(w);
		if (next > w->tick)
			w->tick = next <= now_ms ? next : now_ms + 1;
	}
	w->running = false;
}

int64_t tmr_wheel_next(const struct tmr_wheel *w)
{
	uint64_t next;

	if (w->due)
		return 0;
	next = next_event(w);
	if (next == UINT64_MAX && !w->count)
		return -1;
	if (next <= w->now)
		return 0;
	if (next - w->now > INT64_MAX)
		return INT64_MAX;
	return (int64_t)(next - w->now);
}
