/*
 * test_store_batch.c - store_batch(): several counters and rates in one
 * Redis round trip (store_batch.c, store_redis_count.c).  The memory
 * backend and the argument checks run without Redis; the rest against a
 * real redis-server (Debian's) started here on 127.0.0.1:39451 and
 * stopped by pid, two stores on one loop playing two instances: a batch
 * agrees with the single calls, a read changes nothing, a refusal in a
 * batch leaves the others applied, lazy batches are merged into one
 * script run in their order, the script is sent by SHA1 and a
 * SCRIPT FLUSH under the store costs local answers and a reconnect,
 * never a wrong count.  Waits are bounded loop turns, never sleeps.
 */
#include "test.h"
#include "redis_helper.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "core/loop.h"
#include "store/store.h"

#define REDIS_PORT "39451"
#define PREFIX     "batch:"

struct got {
	int calls;
	size_t n;
	int rcs[STORE_BATCH_MAX];
	int64_t v[STORE_BATCH_MAX];
};

static void on_got(void *arg, const int *rcs, const int64_t *values, size_t n)
{
	struct got *g = arg;
	size_t i;

	g->calls++;
	g->n = n;
	for (i = 0; i < n && i < STORE_BATCH_MAX; i++) {
		g->rcs[i] = rcs[i];
		g->v[i] = values[i];
	}
}

struct one {
	int calls, rc;
	int64_t value;
};

static void on_one(void *arg, int rc, int64_t value)
{
	struct one *o = arg;

	o->calls++;
	o->rc = rc;
	o->value = value;
}

static struct store_op cnt(const char *key, int64_t delta, int64_t limit)
{
	return (struct store_op){str_cstr(key), STORE_OP_COUNT, delta, limit,
				 60000};
}

static struct store_op rate(const char *key, int64_t n, uint64_t window)
{
	return (struct store_op){str_cstr(key), STORE_OP_RATE, n, 0, window};
}

static void test_memory_and_args(void **state)
{
	struct store_op ops[STORE_BATCH_MAX + 1];
	struct store_conf c;
	struct got g = {0};
	struct store *s;
	struct loop *l;
	size_t i;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	store_conf_default(&c);
	assert_int_equal(store_new(&s, l, &c, NULL, 0), 0);
	ops[0] = cnt("u", 1, 2);
	ops[1] = rate("r", 3, 60000);
	ops[2] = cnt("u", 1, 2);
	ops[3] = cnt("u", 1, 2); /* over the limit: refused */
	assert_int_equal(store_batch(s, ops, 4, 0, on_got, &g), 0);
	assert_int_equal(g.calls, 1); /* answered at once */
	assert_int_equal(g.n, 4);
	assert_int_equal(g.rcs[0], 0);
	assert_int_equal(g.v[0], 1);
	assert_int_equal(g.rcs[1], 0);
	assert_int_equal(g.v[1], 3);
	assert_int_equal(g.v[2], 2);
	assert_int_equal(g.rcs[3], -EDQUOT);
	assert_int_equal(g.v[3], 2);

	/* Bad arguments: -EINVAL and nothing applied. */
	for (i = 0; i <= STORE_BATCH_MAX; i++)
		ops[i] = cnt("u", -1, 0);
	assert_int_equal(store_batch(s, ops, 0, 0, on_got, &g), -EINVAL);
	assert_int_equal(
		store_batch(s, ops, STORE_BATCH_MAX + 1, 0, on_got, &g),
		-EINVAL);
	assert_int_equal(store_batch(NULL, ops, 1, 0, on_got, &g), -EINVAL);
	ops[1] = rate("r", 1, 0); /* no window */
	assert_int_equal(store_batch(s, ops, 2, 0, on_got, &g), -EINVAL);
	ops[1] = rate("r", -1, 1000); /* negative events */
	assert_int_equal(store_batch(s, ops, 2, 0, on_got, &g), -EINVAL);
	ops[1] = cnt("u", 1, -1); /* negative limit */
	assert_int_equal(store_batch(s, ops, 2, 0, on_got, &g), -EINVAL);
	ops[1] = cnt("", 1, 0); /* empty key */
	assert_int_equal(store_batch(s, ops, 2, 0, on_got, &g), -EINVAL);
	assert_int_equal(g.calls, 1);
	/* ... so the count is still 2, and a NULL callback is fine. */
	ops[0] = cnt("u", 0, 0);
	assert_int_equal(store_batch(s, ops, 1, 0, NULL, NULL), 0);
	assert_int_equal(store_batch(s, ops, 1, 0, on_got, &g), 0);
	assert_int_equal(g.v[0], 2);

	/* REMOTE: no local view.  Without Redis every answer is -EAGAIN,
	 * 0, and the local count is untouched; a limit is refused. */
	ops[0] = cnt("u", 1, 0);
	ops[1] = rate("r", 1, 60000);
	assert_int_equal(store_batch(s, ops, 2, STORE_BATCH_REMOTE, on_got, &g),
			 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.rcs[0], -EAGAIN);
	assert_int_equal(g.v[0], 0);
	assert_int_equal(g.rcs[1], -EAGAIN);
	assert_int_equal(g.v[1], 0);
	ops[0] = cnt("u", 1, 5);
	assert_int_equal(store_batch(s, ops, 1, STORE_BATCH_REMOTE, on_got, &g),
			 -EINVAL);
	ops[0] = cnt("u", 0, 0);
	ops[1] = rate("r", 0, 60000);
	assert_int_equal(store_batch(s, ops, 2, 0, on_got, &g), 0);
	assert_int_equal(g.v[0], 2);
	assert_int_equal(g.v[1], 3);
	store_free(s);
	loop_free(l);
}

static int start_redis(void **state)
{
	(void)state;
	return redis_helper_start(REDIS_PORT);
}

struct inst {
	struct store *s;
	int resyncs;
};

static void ev_resync(void *arg)
{
	struct inst *in = arg;

	in->resyncs++;
}

static void mk(struct inst *in, struct loop *l, const char *name)
{
	struct store_events ev = {NULL, NULL, ev_resync, in};
	struct store_conf c;

	redis_helper_store_conf(&c, REDIS_PORT, true, name, PREFIX);
	in->resyncs = 0;
	assert_int_equal(store_new(&in->s, l, &c, NULL, 0), 0);
	store_set_events(in->s, &ev);
	assert_int_equal(store_start(in->s), 0);
	assert_true(redis_helper_spin(l, &in->resyncs, 1));
}

/* A command on a plain connection; its integer (or -1). */
static long long cli(const char *fmt, const char *arg)
{
	redisContext *c = redisConnect("127.0.0.1", atoi(REDIS_PORT));
	redisReply *r;
	long long v = -1;

	assert_non_null(c);
	assert_int_equal(c->err, 0);
	r = redisCommand(c, fmt, arg);
	assert_non_null(r);
	if (r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	freeReplyObject(r);
	redisFree(c);
	return v;
}

/* Run b and wait for its answer. */
static void run(struct loop *l, struct store *s, const struct store_op *ops,
		size_t n, struct got *g)
{
	int want = g->calls + 1;

	assert_int_equal(store_batch(s, ops, n, 0, on_got, g), 0);
	assert_true(redis_helper_spin(l, &g->calls, want));
	assert_int_equal(g->n, n);
}

static void test_across_instances(void **state)
{
	struct inst a, b;
	struct store_op ops[4];
	struct store_stats st;
	struct got g = {0};
	struct one o = {0};
	struct loop *l;
	int want;

	(void)state;
	l = redis_helper_loop();
	mk(&a, l, "one");
	mk(&b, l, "two");

	/* One round trip: a count, two rates, sent by SHA1. */
	ops[0] = cnt("fc:alice", 1, 2);
	ops[1] = rate("fr:alice", 1, 60000);
	ops[2] = rate("fp:alice", 2, 1000);
	run(l, a.s, ops, 3, &g);
	assert_int_equal(g.rcs[0], 0);
	assert_int_equal(g.v[0], 1);
	assert_int_equal(g.v[1], 1);
	assert_true(g.v[2] >= 2);
	assert_true(cli("EXISTS %scnt:fc:alice", PREFIX) == 1);

	/* The other instance reads all three: a read adds nothing. */
	ops[0] = cnt("fc:alice", 0, 0);
	ops[1] = rate("fr:alice", 0, 60000);
	run(l, b.s, ops, 2, &g);
	assert_int_equal(g.v[0], 1);
	assert_int_equal(g.v[1], 1);
	run(l, b.s, ops, 2, &g);
	assert_int_equal(g.v[0], 1);
	assert_int_equal(g.v[1], 1);

	/* The single calls see the batches' counts, and the reverse. */
	assert_int_equal(store_count_add(b.s, str_cstr("fc:alice"), 1, 2, 60000,
					 on_one, &o),
			 0);
	assert_true(redis_helper_spin(l, &o.calls, 1));
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.value, 2);

	/* Over the cluster's limit in a batch: that one refused (count
	 * unchanged, the local take undone), the others applied. */
	ops[0] = cnt("fc:alice", 1, 2);
	ops[1] = rate("fr:alice", 1, 60000);
	ops[2] = cnt("fs:10.0.0.1", 1, 0);
	run(l, a.s, ops, 3, &g);
	assert_int_equal(g.rcs[0], -EDQUOT);
	assert_int_equal(g.v[0], 2);
	assert_int_equal(g.rcs[1], 0);
	assert_int_equal(g.v[1], 2);
	assert_int_equal(g.v[2], 1);
	/* A's local share is 1 again (undone): the end brings it to 0. */
	ops[0] = cnt("fc:alice", -1, 0);
	run(l, a.s, ops, 1, &g);
	assert_int_equal(g.rcs[0], 0);
	assert_int_equal(g.v[0], 1); /* B's call is still up */

	/* A lazy batch (the call's end) goes out with the write batch. */
	ops[0] = cnt("fc:alice", -1, 0);
	want = g.calls + 1;
	assert_int_equal(store_batch(b.s, ops, 1, STORE_BATCH_LAZY, on_got, &g),
			 0);
	assert_true(redis_helper_spin(l, &g.calls, want));
	assert_int_equal(g.v[0], 0);
	assert_int_equal(cli("EXISTS %scnt:fc:alice", PREFIX), 0);

	/* REMOTE: Redis' answers (the local view is not consulted). */
	ops[0] = cnt("fc:dave", 1, 0);
	ops[1] = rate("fr:dave", 1, 60000);
	want = g.calls + 1;
	assert_int_equal(
		store_batch(a.s, ops, 2, STORE_BATCH_REMOTE, on_got, &g), 0);
	assert_true(redis_helper_spin(l, &g.calls, want));
	assert_int_equal(g.rcs[0], 0);
	assert_int_equal(g.v[0], 1);
	assert_int_equal(g.rcs[1], 0);
	assert_int_equal(g.v[1], 1);
	ops[0] = cnt("fc:dave", 0, 0);
	run(l, b.s, ops, 1, &g);
	assert_int_equal(g.v[0], 1);

	store_get_stats(a.s, &st);
	assert_int_equal(st.fallbacks, 0);
	store_free(a.s);
	store_free(b.s);
	loop_free(l);
}

/* Redis' count of EVALSHA commands since the last CONFIG RESETSTAT. */
static long evalsha_calls(void)
{
	redisContext *c = redisConnect("127.0.0.1", atoi(REDIS_PORT));
	redisReply *r;
	const char *p;
	long v = 0;

	assert_non_null(c);
	r = redisCommand(c, "INFO commandstats");
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	p = strstr(r->str, "cmdstat_evalsha:calls=");
	if (p)
		v = atol(p + strlen("cmdstat_evalsha:calls="));
	freeReplyObject(r);
	redisFree(c);
	return v;
}

/* Lazy batches of one write batch are ONE script run, answered each in
 * its order; a batch that is waited for goes after them (it sees their
 * changes); the store freed with lazy batches held answers them. */
static void test_lazy_merged(void **state)
{
	struct got g1 = {0}, g2 = {0}, g3 = {0}, g4 = {0};
	struct store_op ops[2];
	struct inst a;
	struct loop *l;

	(void)state;
	l = redis_helper_loop();
	mk(&a, l, "merged");
	assert_int_equal(cli("CONFIG RESETSTAT%s", ""), -1);
	ops[0] = cnt("fc:erin", 1, 0);
	assert_int_equal(store_batch(a.s, ops, 1,
				     STORE_BATCH_LAZY | STORE_BATCH_REMOTE,
				     on_got, &g1),
			 0);
	ops[1] = rate("fr:erin", 1, 60000);
	assert_int_equal(store_batch(a.s, ops, 2,
				     STORE_BATCH_LAZY | STORE_BATCH_REMOTE,
				     on_got, &g2),
			 0);
	ops[0] = cnt("fc:erin", -1, 0);
	assert_int_equal(store_batch(a.s, ops, 1,
				     STORE_BATCH_LAZY | STORE_BATCH_REMOTE,
				     on_got, &g3),
			 0);
	assert_true(redis_helper_spin(l, &g3.calls, 1));
	assert_int_equal(g1.calls, 1);
	assert_int_equal(g1.rcs[0], 0);
	assert_int_equal(g1.v[0], 1);
	assert_int_equal(g2.n, 2);
	assert_int_equal(g2.v[0], 2);
	assert_int_equal(g2.v[1], 1);
	assert_int_equal(g3.v[0], 1);
	assert_int_equal(evalsha_calls(), 1);

	/* A read after a lazy change: the change is written first. */
	ops[0] = cnt("fc:erin", 1, 0);
	assert_int_equal(store_batch(a.s, ops, 1,
				     STORE_BATCH_LAZY | STORE_BATCH_REMOTE,
				     on_got, &g1),
			 0);
	ops[0] = cnt("fc:erin", 0, 0);
	assert_int_equal(
		store_batch(a.s, ops, 1, STORE_BATCH_REMOTE, on_got, &g4), 0);
	assert_true(redis_helper_spin(l, &g4.calls, 1));
	assert_int_equal(g1.calls, 2);
	assert_int_equal(g1.v[0], 2);
	assert_int_equal(g4.v[0], 2);

	/* Held when the store goes: answered (cancelled), not lost. */
	ops[0] = cnt("fc:erin", 1, 0);
	assert_int_equal(store_batch(a.s, ops, 1,
				     STORE_BATCH_LAZY | STORE_BATCH_REMOTE,
				     on_got, &g1),
			 0);
	store_free(a.s);
	assert_int_equal(g1.calls, 3);
	assert_int_equal(g1.rcs[0], -ECANCELED);
	loop_free(l);
}

/* A read that a call set-up waits for is written within
 * store.read_coalesce, with the reads queued meanwhile: here 15 ms, two
 * reads 5 ms apart share the write and come back in the same turn. */
struct when {
	struct loop *l;
	int calls;
	uint64_t at;
	int64_t v;
};

static void on_when(void *arg, const int *rcs, const int64_t *values, size_t n)
{
	struct when *w = arg;

	(void)rcs;
	w->calls++;
	w->at = loop_now(w->l);
	w->v = n ? values[0] : -1;
}

static void test_read_coalesce(void **state)
{
	struct store_events ev;
	struct store_conf c;
	struct store_op ops[1];
	struct when a = {0}, b = {0};
	struct inst in;
	struct loop *l;
	uint64_t t0;

	(void)state;
	l = redis_helper_loop();
	a.l = b.l = l;
	ev = (struct store_events){NULL, NULL, ev_resync, &in};
	redis_helper_store_conf(&c, REDIS_PORT, true, "coalesce", PREFIX);
	c.read_coalesce_ms = 15;
	in.resyncs = 0;
	assert_int_equal(store_new(&in.s, l, &c, NULL, 0), 0);
	store_set_events(in.s, &ev);
	assert_int_equal(store_start(in.s), 0);
	assert_true(redis_helper_spin(l, &in.resyncs, 1));

	ops[0] = cnt("fc:gail", 0, 0);
	(void)loop_run_once(l, 0);
	t0 = loop_now(l);
	assert_int_equal(
		store_batch(in.s, ops, 1, STORE_BATCH_REMOTE, on_when, &a), 0);
	(void)loop_run_once(l, 5);
	(void)loop_run_once(l, 5);
	assert_int_equal(a.calls, 0); /* not written yet */
	assert_int_equal(
		store_batch(in.s, ops, 1, STORE_BATCH_REMOTE, on_when, &b), 0);
	assert_true(redis_helper_spin(l, &b.calls, 1));
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.v, 0);
	assert_true(a.at >= t0 + 14);
	assert_int_equal(a.at, b.at); /* one write, one reply turn */
	store_free(in.s);
	loop_free(l);
}

/* SCRIPT FLUSH under a connected store: the batch refused is answered
 * locally (a fallback), the connection is dropped and the reconnect
 * loads the script again and counts from a new epoch. */
static void test_script_flushed(void **state)
{
	struct inst a;
	struct store_op ops[2];
	struct store_stats st;
	struct got g = {0};
	struct loop *l;

	(void)state;
	l = redis_helper_loop();
	mk(&a, l, "flushed");
	ops[0] = cnt("fc:bob", 1, 0);
	ops[1] = rate("fr:bob", 1, 60000);
	run(l, a.s, ops, 2, &g);
	assert_int_equal(g.v[0], 1);

	assert_int_equal(cli("SCRIPT FLUSH%s", ""), -1);
	run(l, a.s, ops, 2, &g);
	assert_int_equal(g.rcs[0], 0);
	assert_int_equal(g.v[0], 2); /* the local view */
	store_get_stats(a.s, &st);
	assert_int_equal(st.fallbacks, 2);
	assert_true(redis_helper_spin(l, &a.resyncs, 2));
	assert_true(store_connected(a.s));

	/* Back through Redis: the new epoch's share starts from what this
	 * instance pushes again (no calls here: 0), plus this one. */
	ops[0] = cnt("fc:bob", 1, 0);
	run(l, a.s, ops, 1, &g);
	assert_int_equal(g.rcs[0], 0);
	assert_true(g.v[0] >= 1);
	store_get_stats(a.s, &st);
	assert_int_equal(st.fallbacks, 2);
	store_free(a.s);
	loop_free(l);
}

/* A Redis that refuses SCRIPT LOAD (an ACL) gets the script's text. */
static void test_script_load_refused(void **state)
{
	struct inst a;
	struct store_op ops[1];
	struct store_stats st;
	struct got g = {0};
	struct loop *l;
	int i;

	(void)state;
	if (!redis_helper_running())
		skip();
	assert_int_equal(cli("ACL SETUSER default -script|load%s", ""), -1);
	l = redis_helper_loop();
	mk(&a, l, "noload");
	for (i = 0; i < 10; i++) /* the refusal's reply */
		(void)loop_run_once(l, 10);
	ops[0] = rate("fr:carol", 1, 60000);
	run(l, a.s, ops, 1, &g);
	assert_int_equal(g.rcs[0], 0);
	assert_int_equal(g.v[0], 1);
	run(l, a.s, ops, 1, &g);
	assert_int_equal(g.v[0], 2);
	store_get_stats(a.s, &st);
	assert_int_equal(st.fallbacks, 0);
	store_free(a.s);
	loop_free(l);
	assert_int_equal(cli("ACL SETUSER default +@all%s", ""), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_and_args),
		cmocka_unit_test(test_across_instances),
		cmocka_unit_test(test_lazy_merged),
		cmocka_unit_test(test_read_coalesce),
		cmocka_unit_test(test_script_flushed),
		cmocka_unit_test(test_script_load_refused),
	};
	int rc = cmocka_run_group_tests(tests, start_redis, redis_helper_stop);

	assert_no_leaks();
	return rc;
}
