/*
 * loop.c - the per-thread event loop: fd registry, once-per-turn clock,
 * timer wheel and signals through signalfd(2).  The OS polling itself is
 * in loop_epoll.c behind loop_int.h.
 *
 * Stale events: a batch from the backend may hold events for an fd that
 * a callback earlier in the same batch removed (and perhaps re-added:
 * fd numbers are reused at once).  Each registration therefore gets a
 * fresh 32-bit generation, carried in the backend token next to the fd;
 * an event whose generation no longer matches is dropped.
 */
#include "core/loop.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "core/loop_int.h"
#include "core/mem.h"

/* One watched fd.  gen == 0: free. */
struct loop_fd {
	loop_fd_fn *fn;
	void *arg;
	uint32_t gen;
	unsigned events;
};

struct loop_sig {
	loop_signal_fn *fn;
	void *arg;
};

/* Owner: the caller of loop_new(); freed by loop_free(). */
struct loop {
	struct loop__be *be; /* owned */
	struct loop_fd *fds; /* owned, indexed by fd */
	size_t nfds;
	uint32_t gen; /* last generation handed out */
	bool stop;
	uint64_t now;
	loop_clock_fn *clock;
	void *clock_arg;
	struct tmr_wheel timers;
	int sigfd;        /* owned; -1 until a signal is added */
	sigset_t sigmask; /* signals with a handler */
	struct loop_sig sig[NSIG];
	struct loop__event ev[LOOP_MAX_EVENTS];
	/* Deferred calls, FIFO; dq_tail: &last->next, or &dq. */
	struct loop_defer *dq;
	struct loop_defer **dq_tail;
};

static uint64_t mono_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int loop_new(struct loop **lp)
{
	struct loop *l;
	int err;

	if (!lp)
		return -EINVAL;
	*lp = NULL;
	l = mem_zalloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->sigfd = -1;
	sigemptyset(&l->sigmask);
	err = loop__be_new(&l->be);
	if (err) {
		mem_free(l);
		return err;
	}
	l->dq_tail = &l->dq;
	l->clock = mono_ms;
	l->now = l->clock(NULL);
	tmr_wheel_init(&l->timers, l->now);
	*lp = l;
	return 0;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	if (l->sigfd >= 0)
		close(l->sigfd);
	tmr_wheel_fini(&l->timers);
	while (l->dq)
		loop_defer_cancel(l->dq);
	loop__be_free(l->be);
	mem_free(l->fds);
	mem_free(l);
}

static uint64_t token(int fd, uint32_t gen)
{
	return ((uint64_t)gen << 32) | (uint32_t)fd;
}

/* Make room in the registry for fd. */
static int fds_reserve(struct loop *l, int fd)
{
	size_t n = l->nfds ? l->nfds : 64;
	struct loop_fd *p;

	if ((size_t)fd < l->nfds)
		return 0;
	while (n <= (size_t)fd)
		n *= 2;
	if (n > LOOP_MAX_FD)
		n = LOOP_MAX_FD;
	p = mem_realloc(l->fds, n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(p + l->nfds, 0, (n - l->nfds) * sizeof(*p));
	l->fds = p;
	l->nfds = n;
	return 0;
}

static bool valid_events(unsigned events)
{
	return events && !(events & ~(unsigned)(LOOP_READ | LOOP_WRITE));
}

static struct loop_fd *lookup(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].gen)
		return NULL;
	return &l->fds[fd];
}

int loop_fd_add(struct loop *l, int fd, unsigned events, loop_fd_fn *fn,
		void *arg)
{
	struct loop_fd *e;
	uint32_t gen;
	int err;

	if (!l || !fn || !valid_events(events))
		return -EINVAL;
	if (fd < 0 || fd >= LOOP_MAX_FD)
		return -EBADF;
	if (lookup(l, fd))
		return -EEXIST;
	err = fds_reserve(l, fd);
	if (err)
		return err;
	gen = l->gen + 1 ? l->gen + 1 : 1;
	err = loop__be_add(l->be, fd, events, token(fd, gen));
	if (err)
		return err;
	l->gen = gen;
	e = &l->fds[fd];
	e->fn = fn;
	e->arg = arg;
	e->gen = gen;
	e->events = events;
	return 0;
}

int loop_fd_mod(struct loop *l, int fd, unsigned events)
{
	struct loop_fd *e;
	int err;

	if (!l || !valid_events(events))
		return -EINVAL;
	e = lookup(l, fd);
	if (!e)
		return -ENOENT;
	err = loop__be_mod(l->be, fd, events, token(fd, e->gen));
	if (err)
		return err;
	e->events = events;
	return 0;
}

int loop_fd_del(struct loop *l, int fd)
{
	struct loop_fd *e;

	if (!l)
		return -EINVAL;
	e = lookup(l, fd);
	if (!e)
		return -ENOENT;
	/* Failure means the fd was closed already, which removed it from
	 * the epoll set unless it was dup()ed; either way it is gone here. */
	(void)loop__be_del(l->be, fd);
	memset(e, 0, sizeof(*e));
	return 0;
}

/* Drain the signalfd and call the handlers. */
static void on_signal(struct loop *l, int fd, unsigned revents, void *arg)
{
	struct signalfd_siginfo si[8];
	ssize_t n;
	size_t i;
	unsigned s;

	(void)revents;
	(void)arg;
	while ((n = read(fd, si, sizeof(si))) > 0) {
		for (i = 0; i < (size_t)n / sizeof(si[0]); i++) {
			s = si[i].ssi_signo;
			if (s < NSIG && l->sig[s].fn)
				l->sig[s].fn(l, (int)s, l->sig[s].arg);
		}
	}
}

/* Point the signalfd at l->sigmask, creating it the first time. */
static int sigfd_update(struct loop *l)
{
	int fd, err;

	fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (l->sigfd < 0) {
		err = loop_fd_add(l, fd, LOOP_READ, on_signal, NULL);
		if (err) {
			close(fd);
			return err;
		}
		l->sigfd = fd;
	}
	return 0;
}

int loop_signal_add(struct loop *l, int signo, loop_signal_fn *fn, void *arg)
{
	sigset_t one;
	int err;

	if (!l || !fn || signo <= 0 || signo >= NSIG || signo == SIGKILL ||
	    signo == SIGSTOP)
		return -EINVAL;
	if (l->sig[signo].fn)
		return -EEXIST;
	sigemptyset(&one);
	sigaddset(&one, signo);
	/* Blocked first, so no instance is delivered the default way in
	 * between; signalfd only sees blocked signals. */
	err = pthread_sigmask(SIG_BLOCK, &one, NULL);
	if (err)
		return -err;
	sigaddset(&l->sigmask, signo);
	err = sigfd_update(l);
	if (err) {
		sigdelset(&l->sigmask, signo);
		return err;
	}
	l->sig[signo].fn = fn;
	l->sig[signo].arg = arg;
	return 0;
}

int loop_signal_del(struct loop *l, int signo)
{
	if (!l || signo <= 0 || signo >= NSIG)
		return -EINVAL;
	if (!l->sig[signo].fn)
		return -ENOENT;
	l->sig[signo].fn = NULL;
	l->sig[signo].arg = NULL;
	sigdelset(&l->sigmask, signo);
	return sigfd_update(l);
}

uint64_t loop_now(const struct loop *l)
{
	return l->now;
}

void loop_tick_now(struct loop *l)
{
	l->now = l->clock(l->clock_arg);
	tmr_wheel_run(&l->timers, l->now);
}

struct tmr_wheel *loop_timers(struct loop *l)
{
	return &l->timers;
}

void loop_set_clock(struct loop *l, loop_clock_fn *fn, void *arg)
{
	l->clock = fn ? fn : mono_ms;
	l->clock_arg = fn ? arg : NULL;
	l->now = l->clock(l->clock_arg);
	tmr_wheel_fini(&l->timers);
	tmr_wheel_init(&l->timers, l->now);
}

void loop_defer(struct loop *l, struct loop_defer *d, loop_defer_fn *fn,
		void *arg)
{
	if (d->pprev && d->l != l)
		loop_defer_cancel(d); /* moved to another loop */
	d->fn = fn;
	d->arg = arg;
	if (d->pprev)
		return; /* keeps its place */
	d->l = l;
	d->next = NULL;
	d->pprev = l->dq_tail;
	*l->dq_tail = d;
	l->dq_tail = &d->next;
}

void loop_defer_cancel(struct loop_defer *d)
{
	if (!d->pprev)
		return;
	*d->pprev = d->next;
	if (d->next)
		d->next->pprev = d->pprev;
	else
		d->l->dq_tail = d->pprev; /* d was last */
	d->next = NULL;
	d->pprev = NULL;
}

/* Deliver one event of the batch, unless it went stale. */
static bool deliver(struct loop *l, const struct loop__event *ev)
{
	int fd = (int)(uint32_t)ev->token;
	uint32_t gen = (uint32_t)(ev->token >> 32);
	struct loop_fd *e = lookup(l, fd);
	loop_fd_fn *fn;
	unsigned rev;
	void *arg;

	if (!e || e->gen != gen)
		return false;
	rev = ev->revents & (e->events | LOOP_ERR);
	if (rev & LOOP_ERR)
		rev |= e->events;
	if (!rev)
		return false; /* interest changed earlier in this batch */
	/* Copy out: the callback may grow (move) the registry. */
	fn = e->fn;
	arg = e->arg;
	fn(l, fd, rev, arg);
	return true;
}

/* Run the deferred calls, at most LOOP_DEFER_BUDGET (the rest: next
 * turn, which then does not block). */
static void drain_deferred(struct loop *l)
{
	struct loop_defer *d;
	unsigned n;

	for (n = 0; n < LOOP_DEFER_BUDGET && (d = l->dq); n++) {
		loop_defer_cancel(d);
		d->fn(d->arg);
	}
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	int64_t next = tmr_wheel_next(&l->timers);
	int n, i, delivered = 0;

	if (l->dq)
		next = 0; /* queued outside a turn, or over the budget */
	if (next >= 0 && (timeout_ms < 0 || next < timeout_ms))
		timeout_ms = next > INT_MAX ? INT_MAX : (int)next;
	n = loop__be_wait(l->be, l->ev, LOOP_MAX_EVENTS, timeout_ms);
	if (n < 0)
		return n;
	l->now = l->clock(l->clock_arg);
	/* Timers first, so the wheel's time is this turn's time before any
	 * fd handler starts a timer. */
	tmr_wheel_run(&l->timers, l->now);
	for (i = 0; i < n; i++)
		if (deliver(l, &l->ev[i]))
			delivered++;
	drain_deferred(l);
	return delivered;
}

int loop_run(struct loop *l)
{
	int n = 0;

	while (!l->stop) {
		n = loop_run_once(l, -1);
		if (n < 0)
			break;
	}
	l->stop = false;
	return n < 0 ? n : 0;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}
