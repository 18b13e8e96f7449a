/*
 * test_loop.c - event loop over pipes: read/write readiness, hang-up,
 * removal from inside callbacks (stale events in a batch are dropped,
 * also when the fd number is re-added at once), registry growth during
 * dispatch, timers on a fake clock, loop_run/loop_stop, and signals
 * through signalfd.  Nothing sleeps: every wait has timeout 0 or an
 * event already pending.
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "test.h"
#include "core/core.h"

struct hits {
	int n;
	int fd;
	unsigned revents;
	int other; /* fd to delete (and maybe re-add) */
	bool readd;
	struct hits *readd_to;
};

static void on_fd(struct loop *l, int fd, unsigned revents, void *arg)
{
	struct hits *h = arg;

	(void)l;
	h->n++;
	h->fd = fd;
	h->revents = revents;
}

static void make_pipe(int p[2])
{
	assert_int_equal(pipe(p), 0);
}

static void test_read_write(void **state)
{
	struct loop *l;
	struct hits h = {0};
	int p[2];

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	make_pipe(p);
	assert_int_equal(loop_fd_add(l, p[0], LOOP_READ, on_fd, &h), 0);
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_int_equal(h.n, 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(loop_run_once(l, 0), 1);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.fd, p[0]);
	assert_int_equal(h.revents, LOOP_READ);
	/* Level-triggered: still readable. */
	assert_int_equal(loop_run_once(l, -1), 1);
	assert_int_equal(h.n, 2);

	/* The write end: writable. */
	assert_int_equal(loop_fd_add(l, p[1], LOOP_WRITE, on_fd, &h), 0);
	assert_int_equal(loop_fd_mod(l, p[0], LOOP_WRITE), 0);
	h.n = 0;
	assert_int_equal(loop_run_once(l, 0), 1);
	assert_int_equal(h.fd, p[1]);
	assert_int_equal(h.revents, LOOP_WRITE);

	/* Errors. */
	assert_int_equal(loop_fd_add(l, p[1], LOOP_READ, on_fd, &h), -EEXIST);
	assert_int_equal(loop_fd_add(l, -1, LOOP_READ, on_fd, &h), -EBADF);
	assert_int_equal(loop_fd_add(l, 1000, LOOP_READ, on_fd, &h), -EBADF);
	assert_int_equal(loop_fd_add(l, p[0], 0, on_fd, &h), -EINVAL);
	assert_int_equal(loop_fd_add(l, p[0], 8, on_fd, &h), -EINVAL);
	assert_int_equal(loop_fd_add(l, p[0], LOOP_READ, NULL, &h), -EINVAL);
	assert_int_equal(loop_fd_mod(l, 999, LOOP_READ), -ENOENT);
	assert_int_equal(loop_fd_del(l, 999), -ENOENT);
	assert_int_equal(loop_fd_del(l, -5), -ENOENT);
	assert_int_equal(loop_fd_del(l, p[1]), 0);
	assert_int_equal(loop_fd_del(l, p[1]), -ENOENT);
	assert_int_equal(loop_fd_del(l, p[0]), 0);
	close(p[0]);
	close(p[1]);
	loop_free(l);
	loop_free(NULL);
	assert_no_leaks();
}

static void test_hangup(void **state)
{
	struct loop *l;
	struct hits h = {0};
	int p[2];

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	make_pipe(p);
	assert_int_equal(loop_fd_add(l, p[0], LOOP_READ, on_fd, &h), 0);
	close(p[1]);
	assert_int_equal(loop_run_once(l, 0), 1);
	assert_int_equal(h.revents, LOOP_READ | LOOP_ERR);
	assert_int_equal(loop_fd_del(l, p[0]), 0);
	close(p[0]);
	loop_free(l);
	assert_no_leaks();
}

/* Deletes the other fd; optionally re-adds the same number at once. */
static void on_fd_del_other(struct loop *l, int fd, unsigned revents, void *arg)
{
	struct hits *h = arg;

	on_fd(l, fd, revents, arg);
	if (h->other >= 0) {
		assert_int_equal(loop_fd_del(l, h->other), 0);
		if (h->readd)
			assert_int_equal(loop_fd_add(l, h->other, LOOP_READ,
						     on_fd, h->readd_to),
					 0);
		h->other = -1;
	}
}

static void del_in_batch(bool readd)
{
	struct loop *l;
	struct hits a = {0}, b = {0}, late = {0};
	int p[2], q[2];

	assert_int_equal(loop_new(&l), 0);
	make_pipe(p);
	make_pipe(q);
	/* Each callback deletes the other: whichever runs first must
	 * keep the other's event in this batch from being delivered. */
	a.other = q[0];
	b.other = p[0];
	a.readd = b.readd = readd;
	a.readd_to = b.readd_to = &late;
	assert_int_equal(loop_fd_add(l, p[0], LOOP_READ, on_fd_del_other, &a),
			 0);
	assert_int_equal(loop_fd_add(l, q[0], LOOP_READ, on_fd_del_other, &b),
			 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(write(q[1], "y", 1), 1);
	assert_int_equal(loop_run_once(l, 0), 1);
	assert_int_equal(a.n + b.n, 1);
	assert_int_equal(late.n, 0);
	if (readd) {
		/* The new registration sees the fd from the next turn on. */
		assert_int_equal(loop_run_once(l, 0), 2);
		assert_int_equal(late.n, 1);
	} else {
		assert_int_equal(loop_run_once(l, 0), 1);
		assert_int_equal(a.n + b.n, 2);
	}
	loop_fd_del(l, p[0]);
	loop_fd_del(l, q[0]);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	loop_free(l);
	assert_no_leaks();
}

static void test_del_in_batch(void **state)
{
	(void)state;
	del_in_batch(false);
	del_in_batch(true);
}

/* Adds a high fd from inside a callback: the registry moves. */
static int high_fd = -1;

static void on_fd_grow(struct loop *l, int fd, unsigned revents, void *arg)
{
	on_fd(l, fd, revents, arg);
	if (high_fd >= 0)
		return;
	high_fd = dup2(fd, 900);
	assert_int_equal(high_fd, 900);
	assert_int_equal(loop_fd_add(l, high_fd, LOOP_READ, on_fd, arg), 0);
}

static void test_grow_during_dispatch(void **state)
{
	struct loop *l;
	struct hits a = {0}, b = {0};
	int p[2], q[2];

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	make_pipe(p);
	make_pipe(q);
	assert_int_equal(loop_fd_add(l, p[0], LOOP_READ, on_fd_grow, &a), 0);
	assert_int_equal(loop_fd_add(l, q[0], LOOP_READ, on_fd_grow, &b), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(write(q[1], "y", 1), 1);
	assert_int_equal(loop_run_once(l, 0), 2);
	/* Next turn: both pipes and the dup. */
	assert_int_equal(loop_run_once(l, 0), 3);
	loop_fd_del(l, high_fd);
	close(high_fd);
	high_fd = -1;
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	loop_free(l);
	assert_no_leaks();
}

static uint64_t fake_ms;

static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_ms;
}

struct tctx {
	struct loop *l;
	int fired;
	uint64_t at;
	bool stop;
};

static void on_tmr(void *arg)
{
	struct tctx *c = arg;

	c->fired++;
	c->at = loop_now(c->l);
	if (c->stop)
		loop_stop(c->l);
}

static void test_timers_fake_clock(void **state)
{
	struct loop *l;
	struct tmr t;
	struct tctx c = {0};

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	fake_ms = 50000;
	loop_set_clock(l, fake_clock, NULL);
	assert_int_equal(loop_now(l), 50000);
	c.l = l;
	tmr_init(&t);
	tmr_start(loop_timers(l), &t, 100, on_tmr, &c);
	fake_ms += 99;
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_int_equal(loop_now(l), 50099);
	assert_int_equal(c.fired, 0);
	fake_ms += 1;
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_int_equal(c.fired, 1);
	assert_int_equal(c.at, 50100);

	/* A due timer makes the wait non-blocking even with timeout -1,
	 * and loop_run() returns once a callback stops it. */
	c.stop = true;
	tmr_start(loop_timers(l), &t, 0, on_tmr, &c);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(c.fired, 2);
	/* The stop request was consumed. */
	tmr_start(loop_timers(l), &t, 0, on_tmr, &c);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(c.fired, 3);

	/* A long set-up step outside any turn: without loop_tick_now() a
	 * 500 ms timer started after it would count from before it and
	 * fire at the first turn; with it, from now.  What was due fires
	 * in it. */
	c.stop = false;
	tmr_start(loop_timers(l), &t, 100, on_tmr, &c);
	fake_ms += 2000;
	loop_tick_now(l);
	assert_int_equal(c.fired, 4);
	assert_int_equal(loop_now(l), fake_ms);
	tmr_start(loop_timers(l), &t, 500, on_tmr, &c);
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_int_equal(c.fired, 4);
	fake_ms += 500;
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_int_equal(c.fired, 5);

	/* Pending timers are unlinked by loop_free. */
	tmr_start(loop_timers(l), &t, 1000, on_tmr, &c);
	loop_free(l);
	assert_false(tmr_pending(&t));
	assert_no_leaks();
}

static int sig_seen;

static void on_sig(struct loop *l, int signo, void *arg)
{
	(void)l;
	(void)arg;
	sig_seen = signo;
}

static void test_signals(void **state)
{
	struct loop *l;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(loop_signal_add(l, SIGUSR1, on_sig, NULL), 0);
	assert_int_equal(loop_signal_add(l, SIGUSR1, on_sig, NULL), -EEXIST);
	assert_int_equal(loop_signal_add(l, SIGKILL, on_sig, NULL), -EINVAL);
	assert_int_equal(loop_signal_add(l, 0, on_sig, NULL), -EINVAL);
	assert_int_equal(loop_signal_add(l, SIGUSR2, NULL, NULL), -EINVAL);
	assert_int_equal(loop_signal_add(l, SIGUSR2, on_sig, NULL), 0);
	sig_seen = 0;
	assert_int_equal(raise(SIGUSR2), 0);
	assert_int_equal(loop_run_once(l, -1), 1);
	assert_int_equal(sig_seen, SIGUSR2);
	assert_int_equal(kill(getpid(), SIGUSR1), 0);
	assert_int_equal(loop_run_once(l, -1), 1);
	assert_int_equal(sig_seen, SIGUSR1);
	assert_int_equal(loop_signal_del(l, SIGUSR1), 0);
	assert_int_equal(loop_signal_del(l, SIGUSR1), -ENOENT);
	loop_free(l);
	assert_no_leaks();
}

static void test_oom(void **state)
{
	struct loop *l;
	struct hits h = {0};
	size_t n;
	int p[2], err;

	(void)state;
	for (n = 1; n <= 3; n++) {
		mem_fail_nth(n);
		err = loop_new(&l);
		mem_fail_nth(0);
		if (err) {
			assert_int_equal(err, -ENOMEM);
			assert_null(l);
			continue;
		}
		/* The registry allocation fails instead. */
		make_pipe(p);
		mem_fail_nth(1);
		assert_int_equal(loop_fd_add(l, p[0], LOOP_READ, on_fd, &h),
				 -ENOMEM);
		mem_fail_nth(0);
		assert_int_equal(loop_fd_add(l, p[0], LOOP_READ, on_fd, &h), 0);
		close(p[0]);
		close(p[1]);
		loop_free(l);
	}
	assert_int_equal(loop_new(NULL), -EINVAL);
	assert_no_leaks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_write),
		cmocka_unit_test(test_hangup),
		cmocka_unit_test(test_del_in_batch),
		cmocka_unit_test(test_grow_during_dispatch),
		cmocka_unit_test(test_timers_fake_clock),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_oom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
