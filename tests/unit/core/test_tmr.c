/*
 * test_tmr.c - timer wheel on a fake clock: firing order, cancel and
 * re-arm, callbacks that touch timers, delays of hours and days, the
 * epoll timeout from tmr_wheel_next(), and a randomised comparison with
 * a trivial model (every timer fires at the first run that reaches its
 * expiry, never earlier, never later) from several start times,
 * including ones just below level and 64-bit boundaries.
 */
#include <stdlib.h>

#include "test.h"
#include "core/core.h"

static uint64_t order[16];
static int norder;

static void rec(void *arg)
{
	order[norder++] = (uint64_t)(uintptr_t)arg;
}

static void test_order(void **state)
{
	static const uint64_t delays[] = {10, 5, 20, 5, 0, 64, 63, 4096};
	struct tmr t[8];
	struct tmr_wheel w;
	size_t i;

	(void)state;
	norder = 0;
	assert_int_equal(tmr_wheel_init(&w, 1000), 0);
	for (i = 0; i < 8; i++) {
		tmr_init(&t[i]);
		tmr_start(&w, &t[i], delays[i], rec,
			  (void *)(uintptr_t)delays[i]);
	}
	assert_int_equal(tmr_wheel_count(&w), 8);
	assert_int_equal(tmr_wheel_next(&w), 0);
	tmr_wheel_run(&w, 1000);
	assert_int_equal(norder, 1);
	assert_int_equal(order[0], 0);
	assert_int_equal(tmr_wheel_next(&w), 5);
	tmr_wheel_run(&w, 1004);
	assert_int_equal(norder, 1);
	tmr_wheel_run(&w, 1005);
	assert_int_equal(norder, 3);
	assert_int_equal(tmr_remaining(&t[2]), 15);
	tmr_wheel_run(&w, 1063);
	assert_int_equal(norder, 6);
	assert_int_equal(order[3], 10);
	assert_int_equal(order[4], 20);
	assert_int_equal(order[5], 63);
	/* One big step fires the rest in expiry order. */
	tmr_wheel_run(&w, 9999);
	assert_int_equal(norder, 8);
	assert_int_equal(order[6], 64);
	assert_int_equal(order[7], 4096);
	assert_int_equal(tmr_wheel_count(&w), 0);
	assert_int_equal(tmr_wheel_next(&w), -1);
	/* Time does not go backwards. */
	tmr_wheel_run(&w, 5);
	assert_int_equal(tmr_wheel_now(&w), 9999);
}

static int fired;

static void count(void *arg)
{
	(void)arg;
	fired++;
}

static void test_cancel_restart(void **state)
{
	struct tmr_wheel w;
	struct tmr a, b;

	(void)state;
	fired = 0;
	tmr_wheel_init(&w, 0);
	tmr_init(&a);
	tmr_init(&b);
	assert_false(tmr_pending(&a));
	tmr_cancel(&a); /* never started */
	tmr_cancel(NULL);
	tmr_start(&w, &a, 100, count, NULL);
	assert_true(tmr_pending(&a));
	tmr_cancel(&a);
	tmr_cancel(&a);
	assert_false(tmr_pending(&a));
	tmr_wheel_run(&w, 200);
	assert_int_equal(fired, 0);

	tmr_start(&w, &a, 100, count, NULL);  /* due at 300 */
	tmr_start(&w, &a, 5000, count, NULL); /* re-armed: 5200 */
	tmr_start(&w, &b, 50, count, NULL);
	assert_int_equal(tmr_wheel_count(&w), 2);
	tmr_wheel_run(&w, 300);
	assert_int_equal(fired, 1); /* only b */
	assert_int_equal(tmr_remaining(&a), 4900);
	tmr_wheel_run(&w, 5199);
	assert_int_equal(fired, 1);
	tmr_wheel_run(&w, 5200);
	assert_int_equal(fired, 2);
	assert_false(tmr_pending(&a));
	assert_int_equal(tmr_remaining(&a), 0);

	/* fini unlinks what is left; cancel afterwards is harmless. */
	tmr_start(&w, &a, 10, count, NULL);
	tmr_start(&w, &b, 1 << 20, count, NULL);
	tmr_wheel_fini(&w);
	assert_false(tmr_pending(&a));
	assert_false(tmr_pending(&b));
	tmr_cancel(&b);
}

struct cb_ctx {
	struct tmr_wheel *w;
	struct tmr self, other, extra;
	int self_fired, other_fired, extra_fired;
	uint64_t restart; /* delay to re-arm self with, or none */
	bool cancel_other, start_extra;
};

static void other_cb(void *arg)
{
	((struct cb_ctx *)arg)->other_fired++;
}

static void extra_cb(void *arg)
{
	((struct cb_ctx *)arg)->extra_fired++;
}

static void self_cb(void *arg)
{
	struct cb_ctx *c = arg;

	c->self_fired++;
	if (c->cancel_other)
		tmr_cancel(&c->other);
	if (c->start_extra)
		tmr_start(c->w, &c->extra, 5, extra_cb, c);
	if (c->restart != UINT64_MAX)
		tmr_start(c->w, &c->self, c->restart, self_cb, c);
}

static void test_callbacks(void **state)
{
	struct tmr_wheel w;
	struct cb_ctx c;

	(void)state;
	/* Cancelling a timer due in the same millisecond, and a later one. */
	memset(&c, 0, sizeof(c));
	c.w = &w;
	c.restart = UINT64_MAX;
	c.cancel_other = true;
	tmr_wheel_init(&w, 0);
	tmr_start(&w, &c.other, 10, other_cb, &c);
	tmr_start(&w, &c.self, 10, self_cb, &c);
	tmr_wheel_run(&w, 10);
	assert_int_equal(c.self_fired + c.other_fired, 1);
	if (c.self_fired == 1) {
		tmr_start(&w, &c.self, 10, self_cb, &c);
		tmr_start(&w, &c.other, 30, other_cb, &c);
		tmr_wheel_run(&w, 100);
		assert_int_equal(c.self_fired, 2);
		assert_int_equal(c.other_fired, 0);
	}
	assert_int_equal(tmr_wheel_count(&w), 0);

	/* Re-arming with delay 0 counts from the run's time: the timer is
	 * due once more within that run, then waits for the next run.  So
	 * a callback that keeps re-arming itself cannot spin. */
	memset(&c, 0, sizeof(c));
	c.w = &w;
	c.restart = 0;
	tmr_wheel_init(&w, 0);
	tmr_start(&w, &c.self, 3, self_cb, &c);
	tmr_wheel_run(&w, 1000);
	assert_int_equal(c.self_fired, 2); /* at 3, then due at 1000 */
	assert_int_equal(tmr_wheel_next(&w), 0);
	tmr_wheel_run(&w, 1000);
	assert_int_equal(c.self_fired, 3);
	tmr_wheel_run(&w, 1000);
	assert_int_equal(c.self_fired, 4);

	/* Periodic: a callback re-arms itself with a delay; a timer started
	 * inside a callback counts from the run's time too. */
	c.restart = 10;
	c.start_extra = true;
	tmr_wheel_run(&w, 1001); /* self (due 1000) fires, re-armed 1011 */
	assert_int_equal(c.self_fired, 5);
	assert_int_equal(c.extra_fired, 0);
	c.start_extra = false;
	tmr_wheel_run(&w, 1005);
	assert_int_equal(c.extra_fired, 0);
	tmr_wheel_run(&w, 1006); /* extra was started at 1001 + 5 */
	assert_int_equal(c.extra_fired, 1);
	tmr_wheel_run(&w, 1010);
	assert_int_equal(c.self_fired, 5);
	tmr_wheel_run(&w, 1011);
	assert_int_equal(c.self_fired, 6);
	c.restart = UINT64_MAX;
	c.start_extra = false;
	tmr_cancel(&c.self);
	tmr_cancel(&c.extra);
	assert_int_equal(tmr_wheel_count(&w), 0);
}

/* Follow tmr_wheel_next() like the loop does; count the wake-ups. */
static int follow(struct tmr_wheel *w, uint64_t *nowp, int max_wakeups)
{
	int64_t next;
	int n = 0;

	while ((next = tmr_wheel_next(w)) >= 0 && n < max_wakeups) {
		*nowp += (uint64_t)next;
		tmr_wheel_run(w, *nowp);
		n++;
	}
	return n;
}

static uint64_t fire_time[8];
static uint64_t fake_now;

static void stamp(void *arg)
{
	fire_time[(uintptr_t)arg] = fake_now;
}

static void test_long_delays(void **state)
{
	static const uint64_t delays[] = {
		3 * 3600 * 1000ULL, /* SIP dialog session timer scale */
		24 * 3600 * 1000ULL,
		7 * 24 * 3600 * 1000ULL + 123,
		(1ULL << 40) + 5,
		32000, /* Timer B/F: 64 * T1 */
		1,
	};
	const size_t n = sizeof(delays) / sizeof(delays[0]);
	struct tmr t[8];
	struct tmr_wheel w;
	size_t i;
	int wakeups;

	(void)state;
	fake_now = 987654321;
	tmr_wheel_init(&w, fake_now);
	memset(fire_time, 0, sizeof(fire_time));
	for (i = 0; i < n; i++) {
		tmr_init(&t[i]);
		tmr_start(&w, &t[i], delays[i], stamp, (void *)(uintptr_t)i);
	}
	wakeups = follow(&w, &fake_now, 1000);
	for (i = 0; i < n; i++)
		assert_true(fire_time[i] == 987654321 + delays[i]);
	print_message("      %zu timers up to 2^40 ms: %d wake-ups\n", n,
		      wakeups);
	assert_true(wakeups < 60);

	/* Saturated delay: pending forever, never fires. */
	tmr_start(&w, &t[0], UINT64_MAX, stamp, (void *)(uintptr_t)0);
	assert_true(tmr_wheel_next(&w) > 0);
	tmr_wheel_run(&w, UINT64_MAX - 5);
	assert_true(tmr_pending(&t[0]));
	tmr_cancel(&t[0]);
}

/* ---- randomised comparison with a model ---- */

struct mt {
	struct tmr t;
	uint64_t exp;
	bool pending;
	bool grace; /* (re)started by a callback during the last run */
};

static uint64_t m_now;
static struct tmr_wheel *m_wheel;
static struct mt *m_all;
static size_t m_n, m_fired;
static bool m_chaos; /* callbacks start and cancel timers */

static uint64_t rnd_delay(void);

static void mt_fire(void *arg);

static void mt_start(struct mt *m, uint64_t d, bool in_run)
{
	tmr_start(m_wheel, &m->t, d, mt_fire, m);
	m->exp = d > UINT64_MAX - m_now ? UINT64_MAX : m_now + d;
	m->pending = true;
	m->grace = in_run;
}

static void mt_fire(void *arg)
{
	struct mt *m = arg;
	struct mt *o;

	if (!m->pending || m->exp > m_now)
		fail_msg("timer fired early or twice: exp %llu now %llu",
			 (unsigned long long)m->exp, (unsigned long long)m_now);
	m->pending = false;
	m_fired++;
	if (!m_chaos)
		return;
	switch (rand() % 4) {
	case 0:
		mt_start(m, rand() % 3 ? (uint64_t)(rand() % 3) : rnd_delay(),
			 true);
		break;
	case 1:
		o = &m_all[(size_t)rand() % m_n];
		tmr_cancel(&o->t);
		o->pending = false;
		break;
	case 2:
		mt_start(&m_all[(size_t)rand() % m_n], rnd_delay(), true);
		break;
	default:
		break;
	}
}

static uint64_t rnd64(void)
{
	return ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^
	       (uint64_t)rand();
}

static uint64_t rnd_delay(void)
{
	switch (rand() % 8) {
	case 0:
		return 0;
	case 1:
	case 2:
		return rnd64() % 100;
	case 3:
	case 4:
		return rnd64() % 70000;
	case 5:
		return rnd64() % (10 * 3600 * 1000ULL);
	case 6:
		return rnd64() % (1ULL << 42);
	default:
		return rnd64() % 5000;
	}
}

static uint64_t rnd_step(void)
{
	switch (rand() % 6) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return rnd64() % 64;
	case 3:
		return rnd64() % 5000;
	case 4:
		return rnd64() % 10000000;
	default:
		return rnd64() % (1ULL << 36);
	}
}

/*
 * After a run nothing pending may be due; before it (just after starting
 * timers), timers started with delay 0 are due at exactly m_now.
 */
/*
 * After a run nothing pending may be due, except timers a callback of
 * that run (re)started for a time the run had already processed; those
 * must be gone after the next run.  Before a run, timers just started
 * with delay 0 are due at exactly m_now.
 */
static void model_check(struct mt *m, size_t n, bool after_run)
{
	uint64_t min = UINT64_MAX;
	size_t i, pending = 0;
	int64_t next;

	for (i = 0; i < n; i++) {
		if (!m[i].pending)
			continue;
		pending++;
		if (!m[i].grace &&
		    (after_run ? m[i].exp <= m_now : m[i].exp < m_now))
			fail_msg("timer %zu late: exp %llu now %llu", i,
				 (unsigned long long)m[i].exp,
				 (unsigned long long)m_now);
		assert_true(tmr_pending(&m[i].t));
		if (m[i].exp < min)
			min = m[i].exp;
	}
	assert_int_equal(tmr_wheel_count(m_wheel), pending);
	next = tmr_wheel_next(m_wheel);
	if (!pending) {
		assert_int_equal(next, -1);
		return;
	}
	/* Never later than the earliest expiry. */
	assert_true(next >= 0);
	if (min <= m_now)
		assert_int_equal(next, 0);
	else
		assert_true((uint64_t)next <= min - m_now);
}

static void run_model(uint64_t start, unsigned seed, size_t n, int steps,
		      bool chaos)
{
	struct mt *m = calloc(n, sizeof(*m));
	struct tmr_wheel w;
	int s, k, ops;
	size_t i;

	assert_non_null(m);
	srand(seed);
	m_now = start;
	m_wheel = &w;
	m_all = m;
	m_n = n;
	m_fired = 0;
	m_chaos = chaos;
	tmr_wheel_init(&w, m_now);
	for (s = 0; s < steps; s++) {
		ops = rand() % 8;
		for (k = 0; k < ops; k++) {
			i = (size_t)rand() % n;
			if (rand() % 4 == 0) {
				tmr_cancel(&m[i].t);
				m[i].pending = false;
			} else {
				mt_start(&m[i], rnd_delay(), false);
			}
		}
		model_check(m, n, false);
		if (rand() % 2) {
			int64_t next = tmr_wheel_next(&w);

			m_now += next > 0 ? (uint64_t)next : 0;
		} else {
			m_now += rnd_step();
		}
		for (i = 0; i < n; i++)
			m[i].grace = false;
		tmr_wheel_run(&w, m_now);
		model_check(m, n, true);
	}
	print_message("      start %#llx%s: %zu fired\n",
		      (unsigned long long)start, chaos ? " (chaos)" : "",
		      m_fired);
	assert_true(m_fired > 1000);
	for (i = 0; i < n; i++)
		tmr_cancel(&m[i].t);
	assert_int_equal(tmr_wheel_count(&w), 0);
	free(m);
}

static void test_model(void **state)
{
	static const uint64_t starts[] = {
		0,
		123456789,
		(1ULL << 36) - 3, /* just below the 7th level */
		(1ULL << 42) - 1,
		(1ULL << 62) + 12345,
		(1ULL << 63) - 70, /* crosses bit 63 while running */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		run_model(starts[i], (unsigned)(i + 7), 1500, 3000, false);
		run_model(starts[i], (unsigned)(i + 70), 1500, 3000, true);
	}
}

/* Many thousands of timers, each firing exactly when due. */
static void test_many(void **state)
{
	enum { N = 50000 };
	struct mt *m = calloc(N, sizeof(*m));
	struct tmr_wheel w;
	size_t i;
	int wakeups = 0;
	int64_t next;

	(void)state;
	assert_non_null(m);
	srand(99);
	m_now = 5000;
	m_chaos = false;
	tmr_wheel_init(&w, m_now);
	for (i = 0; i < N; i++) {
		uint64_t d = rnd64() % (3600 * 1000ULL);

		tmr_start(&w, &m[i].t, d, mt_fire, &m[i]);
		m[i].exp = m_now + d;
		m[i].pending = true;
	}
	while ((next = tmr_wheel_next(&w)) >= 0) {
		m_now += (uint64_t)next;
		tmr_wheel_run(&w, m_now);
		wakeups++;
	}
	for (i = 0; i < N; i++)
		assert_false(m[i].pending);
	print_message("      %d timers over an hour: %d wake-ups\n", N,
		      wakeups);
	free(m);
	assert_no_leaks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_cancel_restart),
		cmocka_unit_test(test_callbacks),
		cmocka_unit_test(test_long_delays),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
