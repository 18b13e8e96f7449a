/*
 * loop.h - event loop: one per thread, epoll underneath.
 *
 * A loop watches file descriptors, runs the timer wheel and turns
 * signals into ordinary callbacks (signalfd), all on the thread that
 * calls loop_run().  Handlers must not block.  The clock is read once per
 * turn; every handler in that turn sees the same loop_now() and timers
 * started from handlers count from it (STYLE.md 7).
 *
 * Order of one turn: wait for events (timeout: the next timer, 0 if
 * deferred calls are queued), read the clock, fire due timers, deliver
 * the fd events of the batch, then run the deferred calls (loop_defer).
 */
#ifndef SIPGUARD_CORE_LOOP_H
#define SIPGUARD_CORE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/tmr.h"

enum {
	LOOP_READ = 1 << 0,
	LOOP_WRITE = 1 << 1,
	/* Only in revents: error or hang-up on the fd.  Delivered together
	 * with the interest flags, so the handler's read or write returns
	 * the actual error. */
	LOOP_ERR = 1 << 2,

	LOOP_MAX_EVENTS = 256, /* events taken per epoll_wait */
	LOOP_MAX_FD = 1 << 22, /* sanity bound on fd numbers */
};

struct loop;

typedef void loop_fd_fn(struct loop *l, int fd, unsigned revents, void *arg);
typedef void loop_signal_fn(struct loop *l, int signo, void *arg);
/* Monotonic milliseconds; replaceable for tests (loop_set_clock). */
typedef uint64_t loop_clock_fn(void *arg);
typedef void loop_defer_fn(void *arg);

/*
 * A deferred call: embedded in its owner like a struct tmr (queuing never
 * allocates); the owner loop_defer_cancel()s it before it goes away.
 * A zero-filled one is valid and not queued.
 */
struct loop_defer {
	struct loop_defer *next;
	struct loop_defer **pprev; /* NULL when not queued */
	struct loop *l;            /* loop it was last queued on */
	loop_defer_fn *fn;
	void *arg;
};

/*
 * Create a loop.  Owner: the caller, who frees it with loop_free() on
 * the thread that ran it.  Returns 0 and *lp, or -ENOMEM / -errno.
 */
int loop_new(struct loop **lp);

/*
 * Free the loop and its epoll and signal fds.  Registered fds are not
 * closed (their owners close them); pending timers are unlinked and
 * become not pending.  loop_free(NULL) does nothing.
 */
void loop_free(struct loop *l);

/*
 * Watch fd for `events` (LOOP_READ | LOOP_WRITE, level-triggered) and
 * call fn(l, fd, revents, arg).  -EEXIST if fd is watched already,
 * -EBADF for a bad fd, -EINVAL for empty or unknown flags, -ENOMEM,
 * or -errno from epoll_ctl.
 */
int loop_fd_add(struct loop *l, int fd, unsigned events, loop_fd_fn *fn,
		void *arg);
/* Change the events of a watched fd.  -ENOENT if fd is not watched. */
int loop_fd_mod(struct loop *l, int fd, unsigned events);
/*
 * Stop watching fd; call it before close(fd).  Safe from any callback,
 * also for an fd with an event pending in the current batch: that event
 * is then not delivered, even if the fd number is added again at once.
 * -ENOENT if fd is not watched.
 */
int loop_fd_del(struct loop *l, int fd);

/*
 * Call fn(l, signo, arg) from the loop when signo arrives.  The signal is
 * blocked for the calling thread (and stays blocked, also after
 * loop_free); threads started later inherit that mask, which is how a
 * daemon keeps SIGINT/SIGTERM/SIGHUP away from its worker threads.  One
 * handler per signal: -EEXIST for a second one, -EINVAL for a bad or
 * unblockable signal.
 */
int loop_signal_add(struct loop *l, int signo, loop_signal_fn *fn, void *arg);
/* Remove the handler; the signal stays blocked.  -ENOENT if none. */
int loop_signal_del(struct loop *l, int signo);

/* Monotonic ms, as read at the start of the current turn. */
uint64_t loop_now(const struct loop *l);
/* Outside a turn only (set-up code): read the clock and run the timers
 * now due, as a turn would.  For a set-up step that can take long (the
 * media kernel path's load, seconds): the timers started after it then
 * count from now, not from before it (a 500 ms timeout started on a
 * stale clock would expire at the first turn). */
void loop_tick_now(struct loop *l);
/* The loop's timer wheel, for tmr_start(). */
struct tmr_wheel *loop_timers(struct loop *l);

/*
 * Run turns until loop_stop() is called (from a handler).  Returns 0, or
 * -errno if waiting for events fails.  The stop request is consumed, so
 * the loop can be run again.
 */
int loop_run(struct loop *l);
/*
 * One turn, waiting at most timeout_ms (-1: until an event or timer).
 * Returns the number of fd events delivered, or -errno.  An interrupted
 * wait counts as a turn with no events.
 */
int loop_run_once(struct loop *l, int timeout_ms);
/* Make loop_run() return after the current turn. */
void loop_stop(struct loop *l);

/*
 * Deferred calls: fn(arg) at the end of the current turn, after its
 * timers and fd events, before the loop waits again; without the
 * epoll_wait that a 0 ms timer costs (it fires only after the next
 * wait, which returns at once).  Use it for work a handler starts that
 * should gather everything else of the same turn first (one write for
 * the whole batch) but not wait for any new event.
 *
 * Ordering: FIFO in the order queued.  Queuing a call that is queued
 * already keeps its place (so it runs once, with the new fn and arg).
 * A call queued by a deferred call runs in the same drain, after the
 * ones queued before it; the drain runs at most LOOP_DEFER_BUDGET calls
 * per turn (a call that re-queues itself cannot starve the fds): the
 * rest run at the end of the next turn, whose wait then does not block.
 * Queued outside any turn (before loop_run), it runs at the end of the
 * next turn, which does not block either.  The entry is unlinked before
 * fn runs, so fn may queue it again or free its owner.
 */
enum { LOOP_DEFER_BUDGET = 4096 };

void loop_defer(struct loop *l, struct loop_defer *d, loop_defer_fn *fn,
		void *arg);
/* Unqueue d if queued; otherwise nothing happens. */
void loop_defer_cancel(struct loop_defer *d);
static inline bool loop_defer_pending(const struct loop_defer *d)
{
	return d->pprev != NULL;
}

/*
 * Replace the clock (NULL: CLOCK_MONOTONIC), for tests with a fake
 * clock.  Also re-reads the time; the timer wheel must be empty.
 */
void loop_set_clock(struct loop *l, loop_clock_fn *fn, void *arg);

#endif
