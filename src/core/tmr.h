/*
 * tmr.h - hierarchical timer wheel, millisecond resolution.
 *
 * A timer is a struct tmr embedded in the object it belongs to (a
 * transaction, a dialog, a flow), so starting one never allocates, and
 * the owner's destructor must tmr_cancel() it (STYLE.md 7).  Each event
 * loop owns one wheel and feeds it its once-per-turn clock.
 *
 * Costs: start and cancel are O(1); a timer moves down at most once per
 * level on its way to expiry, so SIP dialog timeouts of hours cost a few
 * list moves, not a scan.  Any uint64_t expiry fits (11 levels of 64
 * slots cover 66 bits), so there is no overflow list to scan.
 *
 * Semantics:
 * - Delays count from the wheel's current time: the `now_ms` of the last
 *   tmr_wheel_init()/tmr_wheel_run(), also inside callbacks.
 * - A timer fires at the first tmr_wheel_run() whose now_ms reaches its
 *   expiry; a delay of 0 fires at the next run.  Timers due in the same
 *   millisecond fire in unspecified order; earlier ones fire first.
 * - A callback may start or cancel any timer, including its own.  A timer
 *   that becomes due while a run is firing callbacks, at or before the
 *   time being processed, fires at the next run rather than this one, so
 *   a callback that re-arms itself with delay 0 cannot spin.
 * - Not thread-safe: a wheel and its timers belong to one loop thread.
 */
#ifndef SIPGUARD_CORE_TMR_H
#define SIPGUARD_CORE_TMR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	TMR_LEVEL_BITS = 6,
	TMR_SLOTS = 1 << TMR_LEVEL_BITS,
	TMR_LEVELS = 11, /* 11 * 6 = 66 bits: every uint64_t fits */
};

typedef void tmr_fn(void *arg);

struct tmr_wheel;

/* Embedded in its owner; the owner cancels it before it goes away. */
struct tmr {
	struct tmr *next;
	struct tmr **pprev;  /* NULL when not pending */
	struct tmr_wheel *w; /* wheel it was last started on */
	uint64_t expires;    /* absolute ms */
	tmr_fn *fn;
	void *arg;
	uint8_t level; /* where it is linked; TMR_LEVELS: a list */
	uint8_t slot;
};

/* Embedded in its owner (the loop).  No heap memory. */
struct tmr_wheel {
	uint64_t now;  /* time of the last init or run */
	uint64_t tick; /* first ms whose level-0 slot is unprocessed */
	size_t count;  /* pending timers */
	bool running;
	struct tmr *due;           /* expired before `tick`: fire at next run */
	struct tmr *firing;        /* detached by the run in progress */
	uint64_t used[TMR_LEVELS]; /* bit s: slot[l][s] is not empty */
	struct tmr *slot[TMR_LEVELS][TMR_SLOTS];
};

/* Make t not pending.  A zero-filled struct tmr is also valid. */
void tmr_init(struct tmr *t);

/*
 * Call fn(arg) once, delay_ms after the wheel's current time.  A pending
 * timer is re-armed (moved, even to another wheel).  Delays saturate at
 * the end of time.
 */
void tmr_start(struct tmr_wheel *w, struct tmr *t, uint64_t delay_ms,
	       tmr_fn *fn, void *arg);

/* Stop t if pending; otherwise nothing happens. */
void tmr_cancel(struct tmr *t);

static inline bool tmr_pending(const struct tmr *t)
{
	return t->pprev != NULL;
}

/* Ms left until t fires (0 when overdue), or 0 when not pending. */
uint64_t tmr_remaining(const struct tmr *t);

/* Empty wheel at time now_ms.  Returns 0 (-EINVAL on a NULL wheel). */
int tmr_wheel_init(struct tmr_wheel *w, uint64_t now_ms);

/*
 * Unlink every pending timer (they become not pending, callbacks are not
 * called).  For shutdown; the owners should have cancelled them already.
 */
void tmr_wheel_fini(struct tmr_wheel *w);

/*
 * Advance to now_ms and fire every timer due by then, oldest first.
 * A now_ms older than the current time is taken as the current time.
 * Must not be called from inside a timer callback.
 */
void tmr_wheel_run(struct tmr_wheel *w, uint64_t now_ms);

/*
 * Ms from the current time until the next tmr_wheel_run() has work, or -1
 * when no timer is pending: the epoll_wait timeout.  May be earlier than
 * the next expiry (a far timer moves down a level on the way), never
 * later.
 */
int64_t tmr_wheel_next(const struct tmr_wheel *w);

static inline size_t tmr_wheel_count(const struct tmr_wheel *w)
{
	return w->count;
}

static inline uint64_t tmr_wheel_now(const struct tmr_wheel *w)
{
	return w->now;
}

#endif
