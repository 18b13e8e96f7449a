/*
 * test_store.c - the store's public interface (store.c) with the memory
 * backend on a loop with a fake clock, configuration errors, and the
 * Redis backend with Redis unreachable: every call still answers, from
 * local state, and nothing leaks.
 */
#include "test.h"

#include <errno.h>
#include <stdio.h>

#include "core/loop.h"
#include "store/store.h"

static uint64_t fake_now;

static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

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

static void test_memory_api(void **state)
{
	struct store_conf c;
	struct store *s;
	struct loop *l;
	struct answer a = {0};
	struct store_ban b;
	struct store_stats st;

	(void)state;
	fake_now = 1000;
	assert_int_equal(loop_new(&l), 0);
	loop_set_clock(l, fake_clock, NULL);
	store_conf_default(&c);
	assert_int_equal(store_new(&s, l, &c, NULL, 0), 0);
	assert_int_equal(store_backend_of(s), STORE_MEMORY);
	assert_true(store_instance_valid(str_cstr(store_instance(s))));
	assert_int_equal(store_load(s), 0);
	assert_int_equal(store_start(s), 0);
	assert_false(store_connected(s));
	/* Calls per user, limit 2: answered at once. */
	assert_int_equal(
		store_count_add(s, str_cstr("alice"), 1, 2, 60000, got, &a), 0);
	assert_int_equal(
		store_count_add(s, str_cstr("alice"), 1, 2, 60000, got, &a), 0);
	assert_int_equal(a.calls, 2);
	assert_int_equal(a.value, 2);
	assert_int_equal(
		store_count_add(s, str_cstr("alice"), 1, 2, 60000, got, &a), 0);
	assert_int_equal(a.rc, -EDQUOT);
	assert_int_equal(
		store_count_add(s, str_cstr("alice"), -1, 2, 60000, NULL, NULL),
		0);
	assert_int_equal(store_count_add(s, STR_NULL, 1, 2, 1, got, &a),
			 -EINVAL);
	/* Rates. */
	assert_int_equal(
		store_rate_hit(s, str_cstr("reg:bob"), 10000, 5, 4, got, &a),
		0);
	assert_int_equal(a.rc, -EDQUOT);
	assert_int_equal(a.value, 5);
	assert_int_equal(store_rate_hit(s, str_cstr("x"), 0, 1, 0, got, &a),
			 -EINVAL);
	/* Bans: nothing to share, nothing to do. */
	memset(&b, 0, sizeof(b));
	snprintf(b.key, sizeof(b.key), "192.0.2.1");
	assert_int_equal(store_ban_put(s, &b), 0);
	assert_int_equal(store_ban_del(s, "192.0.2.1"), 0);
	store_get_stats(s, &st);
	assert_false(st.connected);
	assert_int_equal(st.fallbacks, 0);
	store_free(s);
	store_free(NULL);
	loop_free(l);
}

static void test_conf_errors(void **state)
{
	static const char *const bad_addr[] = {
		"",           "localhost",   ":6379",
		"127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
		"[::1:6379",  "unix:",       "1.2.3.4:12x",
	};
	struct store_conf c;
	struct store *s = NULL;
	struct loop *l;
	char err[256];
	size_t i;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	store_conf_default(&c);
	c.instance = "bad name";
	assert_int_equal(store_new(&s, l, &c, err, sizeof(err)), -EINVAL);
	assert_null(s);
	store_conf_default(&c);
	c.backend = 7;
	assert_int_equal(store_new(&s, l, &c, err, sizeof(err)), -EINVAL);
	store_conf_default(&c);
	c.backend = STORE_REDIS;
	for (i = 0; i < sizeof(bad_addr) / sizeof(bad_addr[0]); i++) {
		c.address = bad_addr[i];
		if (store_new(&s, l, &c, err, sizeof(err)) != -EINVAL)
			fail_msg("accepted address \"%s\"", bad_addr[i]);
	}
	c.address = "[::1]:6379";
	assert_int_equal(store_new(&s, l, &c, err, sizeof(err)), 0);
	store_free(s);
	c.address = "unix:/nonexistent/redis.sock";
	assert_int_equal(store_new(&s, l, &c, err, sizeof(err)), 0);
	store_free(s);
	for (i = 1; i <= 4; i++) {
		mem_fail_nth(i);
		s = NULL;
		assert_int_equal(store_new(&s, l, &c, err, sizeof(err)),
				 -ENOMEM);
		assert_null(s);
	}
	mem_fail_nth(0);
	loop_free(l);
}

/* Redis configured but nobody listens: local answers, reconnect loop. */
static void test_redis_unreachable(void **state)
{
	struct store_conf c;
	struct store_stats st;
	struct store *s;
	struct loop *l;
	struct answer a = {0};
	struct store_ban b;
	int i;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	store_conf_default(&c);
	c.backend = STORE_REDIS;
	c.address = "unix:/nonexistent/sipguard-test-redis.sock";
	c.timeout_ms = 100;
	c.queue_max = 16;
	assert_int_equal(store_new(&s, l, &c, NULL, 0), 0);
	assert_true(store_load(s) < 0);
	assert_int_equal(store_start(s), 0);
	for (i = 0; i < 20; i++)
		(void)loop_run_once(l, 10);
	assert_false(store_connected(s));
	assert_int_equal(store_count_add(s, str_cstr("u"), 1, 1, 1000, got, &a),
			 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.rc, 0);
	assert_int_equal(store_count_add(s, str_cstr("u"), 1, 1, 1000, got, &a),
			 0);
	assert_int_equal(a.rc, -EDQUOT);
	memset(&b, 0, sizeof(b));
	snprintf(b.key, sizeof(b.key), "192.0.2.1");
	assert_int_equal(store_ban_put(s, &b), 0);
	/* More unbans than the queue holds: bounded, oldest forgotten. */
	for (i = 0; i < 40; i++)
		assert_int_equal(store_ban_del(s, "192.0.2.1"), 0);
	store_get_stats(s, &st);
	assert_int_equal(st.dropped, 40 - 16);
	assert_true(st.fallbacks >= 1);
	store_free(s);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_api),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_redis_unreachable),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
