/*
 * test_store_redis.c - the Redis backend against a real redis-server
 * (Debian's), started here on 127.0.0.1:34380 and stopped by pid: two
 * stores on one loop play two instances.  Checks the Lua scripts'
 * semantics (cluster-wide concurrent counts, global sliding windows)
 * and ban propagation through pub/sub.  Skipped when redis-server is
 * not installed.  Waits are bounded loop turns, never sleeps.
 */
#include "test.h"
#include "redis_helper.h"

#include <errno.h>
#include <stdio.h>

#include "core/loop.h"
#include "store/store.h"

#define REDIS_PORT "34380"

struct answer {
	int calls, rc;
	int64_t value;
};

static void got(void *arg, int rc, int64_t value)
{
	struct answer *a = arg;

	a->calls++;
	a->rc = rc;
	a->value = value;
}

struct seen {
	int bans, unbans, resyncs;
	struct store_ban last;
	char unbanned[STORE_KEY_MAX];
};

static void ev_ban(void *arg, const struct store_ban *b)
{
	struct seen *s = arg;

	s->bans++;
	s->last = *b;
}

static void ev_unban(void *arg, const char *key)
{
	struct seen *s = arg;

	s->unbans++;
	snprintf(s->unbanned, sizeof(s->unbanned), "%s", key);
}

static void ev_resync(void *arg)
{
	struct seen *s = arg;

	s->resyncs++;
}

static int start_redis(void **state)
{
	(void)state;
	return redis_helper_start(REDIS_PORT);
}

static struct store *mk(struct loop *l, const char *name, struct seen *sn)
{
	struct store_events ev = {ev_ban, ev_unban, ev_resync, sn};
	struct store_conf c;
	struct store *s;

	redis_helper_store_conf(&c, REDIS_PORT, true, name, "unit:");
	assert_int_equal(store_new(&s, l, &c, NULL, 0), 0);
	store_set_events(s, &ev);
	assert_int_equal(store_start(s), 0);
	assert_true(redis_helper_spin(l, &sn->resyncs, 1));
	return s;
}

static void test_cluster(void **state)
{
	struct seen sa = {0}, sb = {0};
	struct answer a = {0};
	struct store *s1, *s2;
	struct store_ban b;
	struct loop *l;
	int i;

	(void)state;
	l = redis_helper_loop();
	/* redis-server needs a moment to listen: retried by the store. */
	s1 = mk(l, "one", &sa);
	s2 = mk(l, "two", &sb);
	assert_true(store_connected(s1) && store_connected(s2));

	/* Concurrent calls of one user, limit 2, through both instances. */
	assert_int_equal(
		store_count_add(s1, str_cstr("carol"), 1, 2, 60000, got, &a),
		0);
	assert_true(redis_helper_spin(l, &a.calls, 1));
	assert_int_equal(a.rc, 0);
	assert_int_equal(
		store_count_add(s2, str_cstr("carol"), 1, 2, 60000, got, &a),
		0);
	assert_true(redis_helper_spin(l, &a.calls, 2));
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.value, 2);
	/* The third, on either instance, is refused by the cluster count
	 * although each instance holds only one locally. */
	assert_int_equal(
		store_count_add(s1, str_cstr("carol"), 1, 2, 60000, got, &a),
		0);
	assert_true(redis_helper_spin(l, &a.calls, 3));
	assert_int_equal(a.rc, -EDQUOT);
	assert_int_equal(a.value, 2);
	/* One ends on instance two: there is room on instance one. */
	assert_int_equal(
		store_count_add(s2, str_cstr("carol"), -1, 2, 60000, got, &a),
		0);
	assert_true(redis_helper_spin(l, &a.calls, 4));
	assert_int_equal(a.value, 1);
	assert_int_equal(
		store_count_add(s1, str_cstr("carol"), 1, 2, 60000, got, &a),
		0);
	assert_true(redis_helper_spin(l, &a.calls, 5));
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.value, 2);

	/* A global window: both instances count into the same one. */
	for (i = 0; i < 3; i++) {
		assert_int_equal(store_rate_hit(i % 2 ? s2 : s1,
						str_cstr("reg:dave"), 60000, 1,
						0, got, &a),
				 0);
		assert_true(redis_helper_spin(l, &a.calls, 6 + i));
	}
	assert_true(a.value >= 3 && a.value <= 3); /* no previous window */
	assert_int_equal(
		store_rate_hit(s1, str_cstr("reg:dave"), 60000, 1, 3, got, &a),
		0);
	assert_true(redis_helper_spin(l, &a.calls, 9));
	assert_int_equal(a.rc, -EDQUOT);

	/* A ban on one reaches the other, not itself. */
	memset(&b, 0, sizeof(b));
	snprintf(b.key, sizeof(b.key), "198.51.100.7");
	snprintf(b.rule, sizeof(b.rule), "scanner-ua");
	snprintf(b.reason, sizeof(b.reason), "svmap");
	b.start_wall_ms = 1;
	b.expires_wall_ms = 0;
	b.offences = 1;
	assert_int_equal(store_ban_put(s1, &b), 0);
	assert_true(redis_helper_spin(l, &sb.bans, 1));
	assert_string_equal(sb.last.key, "198.51.100.7");
	assert_string_equal(sb.last.rule, "scanner-ua");
	assert_string_equal(sb.last.reason, "svmap");
	assert_int_equal(sa.bans, 0);
	assert_int_equal(store_ban_del(s2, "198.51.100.7"), 0);
	assert_true(redis_helper_spin(l, &sa.unbans, 1));
	assert_string_equal(sa.unbanned, "198.51.100.7");
	/* A stale push (began before that unban) is refused and answered
	 * with an unban for the pusher. */
	assert_int_equal(store_ban_put(s1, &b), 0);
	assert_true(redis_helper_spin(l, &sa.unbans, 2));
	assert_int_equal(sb.bans, 1);

	store_free(s1);
	store_free(s2);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cluster),
	};
	int rc = cmocka_run_group_tests(tests, start_redis, redis_helper_stop);

	assert_no_leaks();
	return rc;
}
