/*
 * test_authfail.c - brute-force accounting: each counter and threshold,
 * sliding windows, lock and block expiry, known-good, eviction.
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>

#include "guard/auth.h"

static struct auth_fail_conf conf(void)
{
	struct auth_conf c;

	auth_conf_default(&c);
	c.fail.window_ms = 60000;
	c.fail.ip_max = 10;
	c.fail.ip_known_good_max = 30;
	c.fail.user_max = 8;
	c.fail.userip_max = 4;
	c.fail.user_lock_ms = 120000;
	c.fail.userip_block_ms = 90000;
	c.fail.known_good_ms = 300000;
	return c.fail;
}

static struct sg_addr ip(const char *s)
{
	struct sg_addr a;

	assert_int_equal(sg_addr_parse(&a, str_cstr(s), 5060), 0);
	return a;
}

static void key(struct authfail *f, struct authfail_key *k, const char *addr,
		const char *user)
{
	struct sg_addr a = ip(addr);

	authfail_key(f, k, &a, str_cstr(user));
}

static void test_pair_block(void **state)
{
	struct auth_fail_conf c = conf();
	struct authfail *f = NULL;
	struct authfail_key k, k2;
	uint64_t t = 1000;
	int i;

	(void)state;
	assert_int_equal(authfail_new(&f, &c), 0);
	key(f, &k, "192.0.2.1", "alice");
	key(f, &k2, "192.0.2.1", "bob");
	for (i = 1; i < 4; i++) {
		assert_int_equal(authfail_failure(f, &k, true, t),
				 AUTHFAIL_COUNTED);
		assert_int_equal(authfail_check(f, &k, t), AUTHFAIL_OK);
	}
	assert_int_equal(authfail_failure(f, &k, true, t), AUTHFAIL_BLOCK_PAIR);
	assert_int_equal(authfail_check(f, &k, t), AUTHFAIL_PAIR_BLOCKED);
	/* The other user behind the same address is not affected. */
	assert_int_equal(authfail_check(f, &k2, t), AUTHFAIL_OK);
	assert_int_equal(authfail_count_src(f, &k, t), 4);
	assert_int_equal(authfail_count_pair(f, &k2, t), 0);
	/* Further failures keep it blocked but report COUNTED once. */
	assert_int_equal(authfail_failure(f, &k, false, t), AUTHFAIL_COUNTED);
	assert_int_equal(authfail_check(f, &k, t + 89999),
			 AUTHFAIL_PAIR_BLOCKED);
	assert_int_equal(authfail_check(f, &k, t + 90001), AUTHFAIL_OK);
	authfail_free(f);
}

static void test_ip_ban(void **state)
{
	struct auth_fail_conf c = conf();
	struct authfail *f = NULL;
	struct authfail_key k;
	char user[32];
	int i;

	(void)state;
	assert_int_equal(authfail_new(&f, &c), 0);
	/* Ten users, one failure each: no pair, no user hits its limit. */
	for (i = 0; i < 9; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		key(f, &k, "198.51.100.7", user);
		assert_int_equal(authfail_failure(f, &k, true, 5000),
				 AUTHFAIL_COUNTED);
	}
	key(f, &k, "198.51.100.7", "u9");
	assert_int_equal(authfail_failure(f, &k, true, 5000), AUTHFAIL_BAN_IP);
	/* Without a user name (unparsable credentials) only the IP counts. */
	key(f, &k, "198.51.100.8", "");
	assert_int_equal(k.user_h, 0);
	for (i = 0; i < 9; i++)
		assert_int_equal(authfail_failure(f, &k, true, 5000),
				 AUTHFAIL_COUNTED);
	assert_int_equal(authfail_failure(f, &k, true, 5000), AUTHFAIL_BAN_IP);
	authfail_free(f);
}

static void test_user_lock(void **state)
{
	struct auth_fail_conf c = conf();
	struct authfail *f = NULL;
	struct authfail_key k, good;
	char addr[32];
	int i;

	(void)state;
	assert_int_equal(authfail_new(&f, &c), 0);
	key(f, &good, "203.0.113.5", "alice");
	authfail_success(f, &good, 1000);
	assert_true(authfail_known_good(f, &good.src, 1000));
	/* Eight addresses, one failure each: the user is locked. */
	for (i = 0; i < 8; i++) {
		snprintf(addr, sizeof(addr), "192.0.2.%d", 10 + i);
		key(f, &k, addr, "alice");
		assert_int_equal(authfail_failure(f, &k, true, 2000),
				 AUTHFAIL_COUNTED);
	}
	assert_int_equal(authfail_count_user(f, &k, 2000), 8);
	key(f, &k, "192.0.2.99", "alice");
	assert_int_equal(authfail_check(f, &k, 2000), AUTHFAIL_USER_LOCKED);
	/* ... but not for the source that authenticated before. */
	assert_int_equal(authfail_check(f, &good, 2000), AUTHFAIL_OK);
	/* Nor for another user. */
	key(f, &k, "192.0.2.99", "bob");
	assert_int_equal(authfail_check(f, &k, 2000), AUTHFAIL_OK);
	/* The lock expires. */
	key(f, &k, "192.0.2.99", "alice");
	assert_int_equal(authfail_check(f, &k, 2000 + 120001), AUTHFAIL_OK);
	authfail_free(f);
}

static void test_known_good(void **state)
{
	struct auth_fail_conf c = conf();
	struct authfail *f = NULL;
	struct authfail_key k, other;
	int i;

	(void)state;
	assert_int_equal(authfail_new(&f, &c), 0);
	key(f, &k, "192.0.2.50", "alice");
	authfail_success(f, &k, 1000);
	/* Others' failures from the office address: no ban below 30. */
	for (i = 0; i < 29; i++) {
		char user[32];

		snprintf(user, sizeof(user), "x%d", i);
		key(f, &other, "192.0.2.50", user);
		assert_int_not_equal(authfail_failure(f, &other, true, 2000),
				     AUTHFAIL_BAN_IP);
	}
	assert_int_equal(authfail_failure(f, &other, true, 2000),
			 AUTHFAIL_BAN_IP);
	/* Known-good expires. */
	assert_true(authfail_known_good(f, &k.src, 1000 + 299999));
	assert_false(authfail_known_good(f, &k.src, 1000 + 300001));
	authfail_free(f);
}

static void test_success_clears_pair(void **state)
{
	struct auth_fail_conf c = conf();
	struct authfail *f = NULL;
	struct authfail_key k;
	int i;

	(void)state;
	assert_int_equal(authfail_new(&f, &c), 0);
	key(f, &k, "192.0.2.1", "alice");
	for (i = 0; i < 3; i++)
		authfail_failure(f, &k, true, 1000);
	authfail_success(f, &k, 1000);
	assert_int_equal(authfail_count_pair(f, &k, 1000), 0);
	assert_int_equal(authfail_count_user(f, &k, 1000), 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(authfail_failure(f, &k, true, 1000),
				 AUTHFAIL_COUNTED);
	authfail_free(f);
}

static void test_window(void **state)
{
	struct auth_fail_conf c = conf();
	struct authfail *f = NULL;
	struct authfail_key k;
	int i;

	(void)state;
	assert_int_equal(authfail_new(&f, &c), 0);
	key(f, &k, "192.0.2.1", "alice");
	for (i = 0; i < 3; i++)
		authfail_failure(f, &k, true, 0);
	assert_int_equal(authfail_count_pair(f, &k, 59999), 3);
	/* Half a window later the previous window weighs half. */
	assert_int_equal(authfail_count_pair(f, &k, 60000 + 30000), 1);
	assert_int_equal(authfail_count_pair(f, &k, 120000), 0);
	/* Slow guessing, spread out, never blocks. */
	for (i = 0; i < 50; i++)
		assert_int_equal(authfail_failure(f, &k, true,
						  200000 + (uint64_t)i * 40000),
				 AUTHFAIL_COUNTED);
	authfail_free(f);
}

static void test_eviction(void **state)
{
	struct auth_fail_conf c = conf();
	struct authfail *f = NULL;
	struct authfail_key locked, k;
	char user[32];
	int i;

	(void)state;
	c.user_slots = 4; /* one bucket */
	c.user_max = 2;
	c.userip_max = 100;
	c.ip_max = 0;
	assert_int_equal(authfail_new(&f, &c), 0);
	key(f, &locked, "192.0.2.1", "alice");
	authfail_failure(f, &locked, true, 10);
	authfail_failure(f, &locked, true, 11);
	assert_int_equal(authfail_check(f, &locked, 12), AUTHFAIL_USER_LOCKED);
	/* A flood of made-up names must not evict the live lock. */
	for (i = 0; i < 1000; i++) {
		snprintf(user, sizeof(user), "junk%d", i);
		key(f, &k, "192.0.2.2", user);
		authfail_failure(f, &k, true, 100 + (uint64_t)i);
	}
	assert_int_equal(authfail_check(f, &locked, 2000),
			 AUTHFAIL_USER_LOCKED);
	authfail_free(f);
}

static void test_ipv6_prefix(void **state)
{
	struct auth_fail_conf c = conf();
	struct authfail *f = NULL;
	struct authfail_key a, b;

	(void)state;
	assert_int_equal(authfail_new(&f, &c), 0);
	key(f, &a, "[2001:db8:1:2::1]", "alice");
	key(f, &b, "[2001:db8:1:2::ffff]", "alice");
	/* One /64 is one source. */
	assert_true(a.src_h == b.src_h && a.pair_h == b.pair_h);
	key(f, &b, "[2001:db8:1:3::1]", "alice");
	assert_true(a.src_h != b.src_h && a.user_h == b.user_h);
	authfail_free(f);
}

static void test_new_errors(void **state)
{
	struct auth_fail_conf c = conf();
	struct authfail *f = NULL;
	size_t n;

	(void)state;
	c.window_ms = 0;
	assert_int_equal(authfail_new(&f, &c), -EINVAL);
	c = conf();
	for (n = 1;; n++) {
		int rc;

		mem_fail_nth(n);
		rc = authfail_new(&f, &c);
		mem_fail_nth(0);
		if (!rc)
			break;
		assert_int_equal(rc, -ENOMEM);
		assert_null(f);
		assert_int_equal(mem_live(), 0);
	}
	authfail_free(f);
	authfail_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pair_block),
		cmocka_unit_test(test_ip_ban),
		cmocka_unit_test(test_user_lock),
		cmocka_unit_test(test_known_good),
		cmocka_unit_test(test_success_clears_pair),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_ipv6_prefix),
		cmocka_unit_test(test_new_errors),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
