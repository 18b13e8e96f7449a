/*
 * store_loop.c - hiredis' asynchronous context on our event loop: the
 * five event hooks hiredis asks for (add/del read, add/del write,
 * cleanup) become watches of the context's fd in loop.h.
 *
 * Writes are coalesced: once connected, a command does not arm write
 * interest (two epoll_ctl calls around every write); it starts a timer
 * of STORE_FLUSH_MS instead, which writes everything queued meanwhile
 * with one write(), and the replies come back together (one read).
 * Only when the socket does not take it all is write interest armed,
 * until it drains.  Nothing we send to Redis is urgent to the
 * millisecond (snapshots, bindings), and the batching is what keeps
 * the Redis store's cost per call low (bench/bench_store.py): fewer
 * writes, fewer reads, fewer wake-ups.  What someone waits for (a
 * counter answer delays a call set-up) goes out within a few ms
 * (flush_within: store.read_coalesce, so the reads of the calls held
 * meanwhile share the write and the reply); what must keep its order
 * against the bans channel goes out at the end of this loop turn
 * (flush_soon: a deferred call, loop_defer, after every fd event of the
 * turn has queued its commands, so one write still carries the whole
 * turn).
 *
 * hiredis may free the context from inside redisAsyncHandleRead() (the
 * connection broke, or a callback asked for it); it then calls cleanup,
 * and the watch's own state is freed only once our fd handler is done
 * with it (STYLE.md 5: never free an object inside its own callback).
 */
#include "store/store_int.h"

#include <errno.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "core/loop.h"
#include "core/mem.h"

enum { STORE_FLUSH_MS = 20 };

/* Owner: the attached context (freed by its cleanup hook). */
struct watch {
	redisAsyncContext *ac;
	struct loop *l;
	int fd;
	unsigned mask; /* what hiredis wants */
	bool added;    /* fd registered with the loop */
	bool in_handler;
	bool flushing;    /* inside the flush timer's write */
	bool dead;        /* cleaned up while in_handler: free after */
	struct tmr flush; /* the coalesced write */
	/* The same, at the end of this turn (flush_soon). */
	struct loop_defer soon;
	void (*preflush)(void *); /* store__loop_preflush */
	void *preflush_arg;
};

static void on_fd(struct loop *l, int fd, unsigned revents, void *arg)
{
	struct watch *w = arg;

	(void)l;
	(void)fd;
	w->in_handler = true;
	if (revents & (LOOP_READ | LOOP_ERR))
		redisAsyncHandleRead(w->ac);
	if (!w->dead && (revents & LOOP_WRITE))
		redisAsyncHandleWrite(w->ac);
	w->in_handler = false;
	if (w->dead)
		mem_free(w);
}

static void apply(struct watch *w, unsigned mask)
{
	if (w->dead || mask == w->mask)
		return;
	w->mask = mask;
	if (!mask) {
		if (w->added)
			(void)loop_fd_del(w->l, w->fd);
		w->added = false;
	} else if (w->added) {
		(void)loop_fd_mod(w->l, w->fd, mask);
	} else if (loop_fd_add(w->l, w->fd, mask, on_fd, w) == 0) {
		w->added = true;
	}
}

static void add_read(void *p)
{
	struct watch *w = p;

	apply(w, w->mask | LOOP_READ);
}

static void del_read(void *p)
{
	struct watch *w = p;

	apply(w, w->mask & ~(unsigned)LOOP_READ);
}

static void on_flush(void *arg)
{
	struct watch *w = arg;

	/* What is held for this write joins it (the counters' merged
	 * lazy batches); the timer it may start is cancelled below. */
	if (w->preflush && !w->dead)
		w->preflush(w->preflush_arg);
	tmr_cancel(&w->flush);
	loop_defer_cancel(&w->soon);
	w->in_handler = w->flushing = true;
	redisAsyncHandleWrite(w->ac);
	w->in_handler = w->flushing = false;
	if (w->dead)
		mem_free(w);
}

static void add_write(void *p)
{
	struct watch *w = p;

	/* Before the connection is up, writability is what tells hiredis
	 * that connect() finished; after a short write, it is what tells
	 * that the socket takes more. */
	if (w->dead || !(w->ac->c.flags & REDIS_CONNECTED) || w->flushing) {
		apply(w, w->mask | LOOP_WRITE);
		return;
	}
	if (!tmr_pending(&w->flush) && !loop_defer_pending(&w->soon))
		tmr_start(loop_timers(w->l), &w->flush, STORE_FLUSH_MS,
			  on_flush, w);
}

/* Bans are urgent in their order against the channel, a counter read
 * holds a call: write at the end of this loop turn (every command this
 * turn's events queue goes in the same write), without another wait. */
void store__loop_flush_soon(redisAsyncContext *ac)
{
	struct watch *w = ac ? ac->ev.data : NULL;

	if (w && !w->dead && tmr_pending(&w->flush)) {
		tmr_cancel(&w->flush);
		loop_defer(w->l, &w->soon, on_flush, w);
	}
}

void store__loop_preflush(redisAsyncContext *ac, void (*fn)(void *), void *arg)
{
	struct watch *w = ac ? ac->ev.data : NULL;

	if (!w || w->dead)
		return;
	w->preflush = fn;
	w->preflush_arg = arg;
	if ((w->ac->c.flags & REDIS_CONNECTED) && !w->flushing &&
	    !tmr_pending(&w->flush) && !loop_defer_pending(&w->soon))
		tmr_start(loop_timers(w->l), &w->flush, STORE_FLUSH_MS,
			  on_flush, w);
}

void store__loop_flush_within(redisAsyncContext *ac, uint64_t ms)
{
	struct watch *w = ac ? ac->ev.data : NULL;

	if (!w || w->dead || loop_defer_pending(&w->soon))
		return;
	if (!ms) {
		store__loop_flush_soon(ac);
		return;
	}
	if (tmr_pending(&w->flush) && tmr_remaining(&w->flush) <= ms)
		return;
	tmr_start(loop_timers(w->l), &w->flush, ms, on_flush, w);
}

static void del_write(void *p)
{
	struct watch *w = p;

	apply(w, w->mask & ~(unsigned)LOOP_WRITE);
}

static void cleanup(void *p)
{
	struct watch *w = p;

	apply(w, 0);
	tmr_cancel(&w->flush);
	loop_defer_cancel(&w->soon);
	w->ac->ev.data = NULL;
	if (w->in_handler)
		w->dead = true;
	else
		mem_free(w);
}

int store__loop_attach(redisAsyncContext *ac, struct loop *l)
{
	struct watch *w;

	if (!ac || !l || ac->ev.data)
		return -EINVAL;
	w = mem_zalloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->ac = ac;
	w->l = l;
	w->fd = ac->c.fd;
	tmr_init(&w->flush);
	ac->ev.data = w;
	ac->ev.addRead = add_read;
	ac->ev.delRead = del_read;
	ac->ev.addWrite = add_write;
	ac->ev.delWrite = del_write;
	ac->ev.cleanup = cleanup;
	return 0;
}
