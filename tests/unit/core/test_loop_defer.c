/*
 * test_loop_defer.c - the loop's deferred calls (loop_defer): they run at
 * the end of the turn that queued them, after its timers and fd events,
 * in FIFO order; a queued call keeps its place when queued again; calls
 * queued by deferred calls run in the same drain; the drain is bounded
 * (LOOP_DEFER_BUDGET) and the rest runs next turn without blocking;
 * cancel unlinks from anywhere in the queue; loop_free unlinks all.
 * Nothing sleeps: every wait that could block is proven not to by a
 * deferred call or an event already pending.
 */
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "core/core.h"

enum { NREC = 16 };

struct rec {
	struct loop *l;
	int order[NREC]; /* ids in the order they ran */
	int n;
	int fd_seen_at; /* n when the fd handler ran */
	int tmr_seen_at;
};

struct call {
	struct rec *r;
	struct loop_defer d;
	int id;
	struct call *queue_next; /* queued by this call when it runs */
	int requeue;             /* times to queue itself again */
	bool stop;
};

static void on_call(void *arg)
{
	struct call *c = arg;
	struct rec *r = c->r;

	if (r->n < NREC)
		r->order[r->n] = c->id;
	r->n++;
	if (c->queue_next)
		loop_defer(r->l, &c->queue_next->d, on_call, c->queue_next);
	if (c->requeue > 0) {
		c->requeue--;
		loop_defer(r->l, &c->d, on_call, c);
	}
	if (c->stop)
		loop_stop(r->l);
}

static struct call calls[4];
static struct rec rec;

static void on_fd(struct loop *l, int fd, unsigned revents, void *arg)
{
	char b[8];

	(void)revents;
	(void)arg;
	assert_true(read(fd, b, sizeof(b)) > 0);
	rec.fd_seen_at = rec.n;
	/* 2, 0, 1, then 2 again: keeps its first place. */
	loop_defer(l, &calls[2].d, on_call, &calls[2]);
	loop_defer(l, &calls[0].d, on_call, &calls[0]);
	loop_defer(l, &calls[1].d, on_call, &calls[1]);
	loop_defer(l, &calls[2].d, on_call, &calls[2]);
}

static void on_tmr(void *arg)
{
	(void)arg;
	rec.tmr_seen_at = rec.n;
	loop_defer(rec.l, &calls[3].d, on_call, &calls[3]);
}

static void setup_calls(struct loop *l)
{
	int i;

	memset(&rec, 0, sizeof(rec));
	memset(calls, 0, sizeof(calls));
	rec.l = l;
	rec.fd_seen_at = rec.tmr_seen_at = -1;
	for (i = 0; i < 4; i++) {
		calls[i].r = &rec;
		calls[i].id = i;
	}
}

static void test_order_same_turn(void **state)
{
	struct loop *l;
	struct tmr t;
	int p[2];

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	setup_calls(l);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(loop_fd_add(l, p[0], LOOP_READ, on_fd, NULL), 0);
	tmr_init(&t);
	tmr_start(loop_timers(l), &t, 0, on_tmr, NULL);
	assert_int_equal(write(p[1], "x", 1), 1);
	/* One turn: the timer, the fd, then the deferred calls, in the
	 * order queued (the timer's first: it ran first). */
	assert_int_equal(loop_run_once(l, -1), 1);
	assert_int_equal(rec.tmr_seen_at, 0);
	assert_int_equal(rec.fd_seen_at, 0);
	assert_int_equal(rec.n, 4);
	assert_int_equal(rec.order[0], 3);
	assert_int_equal(rec.order[1], 2);
	assert_int_equal(rec.order[2], 0);
	assert_int_equal(rec.order[3], 1);
	for (int i = 0; i < 4; i++)
		assert_false(loop_defer_pending(&calls[i].d));
	/* Nothing left: a turn with timeout 0 runs none. */
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_int_equal(rec.n, 4);
	loop_fd_del(l, p[0]);
	close(p[0]);
	close(p[1]);
	loop_free(l);
	assert_no_leaks();
}

static void test_requeue_same_drain(void **state)
{
	struct loop *l;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	setup_calls(l);
	/* 0 queues 2 and itself once more; 1 was queued before both. */
	calls[0].queue_next = &calls[2];
	calls[0].requeue = 1;
	loop_defer(l, &calls[0].d, on_call, &calls[0]);
	loop_defer(l, &calls[1].d, on_call, &calls[1]);
	assert_true(loop_defer_pending(&calls[0].d));
	/* Queued outside a turn: the next turn does not block (-1). */
	assert_int_equal(loop_run_once(l, -1), 0);
	assert_int_equal(rec.order[0], 0);
	assert_int_equal(rec.order[1], 1);
	assert_int_equal(rec.order[2], 2);
	assert_int_equal(rec.order[3], 0);
	/* 0's second run queued 2 again: that ran in the same drain too. */
	assert_int_equal(rec.order[4], 2);
	assert_int_equal(rec.n, 5);
	loop_free(l);
	assert_no_leaks();
}

struct spin {
	struct loop *l;
	struct loop_defer d;
	unsigned runs;
};

static void on_spin(void *arg)
{
	struct spin *s = arg;

	s->runs++;
	loop_defer(s->l, &s->d, on_spin, s);
}

static void on_fd_count(struct loop *l, int fd, unsigned revents, void *arg)
{
	unsigned *n = arg;
	char b[8];

	(void)l;
	(void)revents;
	assert_true(read(fd, b, sizeof(b)) > 0);
	(*n)++;
}

static void test_budget(void **state)
{
	struct loop *l;
	struct spin s = {0};
	unsigned fd_runs = 0;
	int p[2];

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	s.l = l;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(loop_fd_add(l, p[0], LOOP_READ, on_fd_count, &fd_runs),
			 0);
	loop_defer(l, &s.d, on_spin, &s);
	/* A call that queues itself forever: LOOP_DEFER_BUDGET per turn,
	 * and the next turn does not block (timeout -1, nothing ready). */
	assert_int_equal(loop_run_once(l, -1), 0);
	assert_int_equal(s.runs, LOOP_DEFER_BUDGET);
	assert_true(loop_defer_pending(&s.d));
	/* ... and does not starve the fds. */
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(loop_run_once(l, -1), 1);
	assert_int_equal(fd_runs, 1);
	assert_int_equal(s.runs, 2 * LOOP_DEFER_BUDGET);
	loop_defer_cancel(&s.d);
	assert_false(loop_defer_pending(&s.d));
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_int_equal(s.runs, 2 * LOOP_DEFER_BUDGET);
	loop_fd_del(l, p[0]);
	close(p[0]);
	close(p[1]);
	loop_free(l);
	assert_no_leaks();
}

/* Cancel the first, a middle and the last entry: the rest still run in
 * order and the tail stays right (entries queued after run too). */
static void test_cancel(void **state)
{
	static const struct {
		int cancel;
		int want[4]; /* -1: end */
	} tc[] = {
		{0, {1, 2, 3, -1}},
		{1, {0, 2, 3, -1}},
		{2, {0, 1, 3, -1}},
	};
	struct loop *l;
	size_t t;
	int i;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	for (t = 0; t < sizeof(tc) / sizeof(tc[0]); t++) {
		setup_calls(l);
		for (i = 0; i < 3; i++)
			loop_defer(l, &calls[i].d, on_call, &calls[i]);
		loop_defer_cancel(&calls[tc[t].cancel].d);
		loop_defer_cancel(&calls[tc[t].cancel].d); /* twice: no-op */
		assert_false(loop_defer_pending(&calls[tc[t].cancel].d));
		loop_defer(l, &calls[3].d, on_call, &calls[3]);
		assert_int_equal(loop_run_once(l, -1), 0);
		assert_int_equal(rec.n, 3);
		for (i = 0; i < 3; i++)
			assert_int_equal(rec.order[i], tc[t].want[i]);
	}
	/* Everything cancelled: the queue is empty and a turn with
	 * timeout 0 runs nothing. */
	setup_calls(l);
	loop_defer(l, &calls[0].d, on_call, &calls[0]);
	loop_defer(l, &calls[1].d, on_call, &calls[1]);
	loop_defer_cancel(&calls[1].d);
	loop_defer_cancel(&calls[0].d);
	loop_defer(l, &calls[2].d, on_call, &calls[2]);
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.order[0], 2);
	/* A zero-filled entry is not queued; cancelling it is a no-op. */
	struct loop_defer z = {0};
	loop_defer_cancel(&z);
	assert_false(loop_defer_pending(&z));
	/* loop_free unlinks what is still queued. */
	loop_defer(l, &calls[0].d, on_call, &calls[0]);
	loop_defer(l, &calls[1].d, on_call, &calls[1]);
	loop_free(l);
	assert_false(loop_defer_pending(&calls[0].d));
	assert_false(loop_defer_pending(&calls[1].d));
	assert_no_leaks();
}

/* The entry is unlinked before it runs: its owner may free itself. */
struct owned {
	struct loop_defer d;
	int *ran;
};

static void on_free_self(void *arg)
{
	struct owned *o = arg;

	(*o->ran)++;
	mem_free(o);
}

static void test_free_in_call_and_stop(void **state)
{
	struct loop *l;
	struct owned *o;
	int ran = 0;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	setup_calls(l);
	o = mem_zalloc(sizeof(*o));
	assert_non_null(o);
	o->ran = &ran;
	loop_defer(l, &o->d, on_free_self, o);
	/* loop_run returns after the turn whose deferred call stops it. */
	calls[0].stop = true;
	loop_defer(l, &calls[0].d, on_call, &calls[0]);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(ran, 1);
	assert_int_equal(rec.n, 1);
	loop_free(l);
	assert_no_leaks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_same_turn),
		cmocka_unit_test(test_requeue_same_drain),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_free_in_call_and_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
