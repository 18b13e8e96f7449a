/*
 * test_store_mem.c - the memory backend's table (store_mem.c): counters
 * with limits and TTL, sliding-window rates, eviction, and the window
 * estimate shared with the Redis script.  Fake time throughout.
 */
#include "test.h"

#include <errno.h>
#include <stdio.h>

#include "store/store_int.h"

static void test_count_limit(void **state)
{
	struct store_mem *m;
	int64_t v;

	(void)state;
	assert_int_equal(store__mem_new(&m, 64), 0);
	assert_int_equal(
		store__mem_count(m, str_cstr("alice"), 1, 2, 1000, 0, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(
		store__mem_count(m, str_cstr("alice"), 1, 2, 1000, 1, &v), 0);
	assert_int_equal(v, 2);
	/* The third call is refused and takes nothing. */
	assert_int_equal(
		store__mem_count(m, str_cstr("alice"), 1, 2, 1000, 2, &v),
		-EDQUOT);
	assert_int_equal(v, 2);
	/* Others are apart. */
	assert_int_equal(
		store__mem_count(m, str_cstr("bob"), 1, 2, 1000, 2, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(
		store__mem_count(m, str_cstr("alice"), -1, 2, 1000, 3, &v), 0);
	assert_int_equal(v, 1);
	/* Never below zero; an empty counter frees its slot. */
	assert_int_equal(
		store__mem_count(m, str_cstr("alice"), -5, 0, 1000, 3, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(store__mem_used(m), 1);
	/* A refused first use leaves nothing behind. */
	assert_int_equal(
		store__mem_count(m, str_cstr("carol"), 3, 2, 1000, 3, &v),
		-EDQUOT);
	assert_int_equal(v, 0);
	assert_int_equal(store__mem_used(m), 1);
	assert_int_equal(store__mem_count(m, STR_NULL, 1, 0, 1, 0, &v),
			 -EINVAL);
	store__mem_free(m);
}

static void test_count_ttl(void **state)
{
	struct store_mem *m;
	int64_t v;

	(void)state;
	assert_int_equal(store__mem_new(&m, 64), 0);
	assert_int_equal(store__mem_count(m, str_cstr("u"), 2, 2, 500, 100, &v),
			 0);
	/* A leaked count (no decrement ever) cannot lock the user out for
	 * longer than the TTL after its last change. */
	assert_int_equal(store__mem_count(m, str_cstr("u"), 1, 2, 500, 599, &v),
			 -EDQUOT);
	assert_int_equal(store__mem_count(m, str_cstr("u"), 1, 2, 500, 600, &v),
			 0);
	assert_int_equal(v, 1);
	store__mem_free(m);
}

static void test_rate_window(void **state)
{
	struct store_mem *m;
	int64_t v;
	int i;

	(void)state;
	assert_int_equal(store__mem_new(&m, 64), 0);
	/* 10 events in the window [0, 1000). */
	for (i = 0; i < 10; i++)
		assert_int_equal(store__mem_rate(m, str_cstr("k"), 1000, 1, 0,
						 (uint64_t)i * 10, &v),
				 0);
	assert_int_equal(v, 10);
	/* Next window, a quarter in: 10 * 3/4 + 1. */
	assert_int_equal(
		store__mem_rate(m, str_cstr("k"), 1000, 1, 0, 1250, &v), 0);
	assert_int_equal(v, 8);
	/* With a limit. */
	assert_int_equal(
		store__mem_rate(m, str_cstr("k"), 1000, 1, 8, 1250, &v),
		-EDQUOT);
	assert_int_equal(v, 9);
	/* Two windows later everything is gone. */
	assert_int_equal(
		store__mem_rate(m, str_cstr("k"), 1000, 1, 0, 3100, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(store__mem_rate(m, str_cstr("k"), 0, 1, 0, 0, &v),
			 -EINVAL);
	store__mem_free(m);
}

static const struct {
	uint64_t prev, cur, w, el;
	int64_t want;
} est[] = {
	{0, 0, 1000, 0, 0},      {100, 0, 1000, 0, 100},
	{100, 5, 1000, 500, 55}, {100, 5, 1000, 1000, 5},
	{100, 5, 1000, 5000, 5}, {7, 3, 0, 0, 3},
	{3, 1, 10, 9, 1},
};

static void test_estimate(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(est) / sizeof(est[0]); i++)
		assert_int_equal(store__window_estimate(est[i].prev, est[i].cur,
							est[i].w, est[i].el),
				 est[i].want);
}

static void test_evicts(void **state)
{
	struct store_mem *m;
	char k[32];
	int64_t v;
	int i;

	(void)state;
	assert_int_equal(store__mem_new(&m, 64), 0);
	/* Far more keys than slots: the table never grows, stays usable. */
	for (i = 0; i < 10000; i++) {
		snprintf(k, sizeof(k), "user%d", i);
		assert_int_equal(store__mem_count(m, str_cstr(k), 1, 0,
						  (uint64_t)i + 1000,
						  (uint64_t)i, &v),
				 0);
	}
	assert_true(store__mem_used(m) <= 64);
	/* The newest survived. */
	assert_int_equal(store__mem_count(m, str_cstr("user9999"), 1, 0, 1000,
					  10000, &v),
			 0);
	assert_int_equal(v, 2);
	store__mem_free(m);
}

static void test_oom(void **state)
{
	struct store_mem *m = NULL;
	size_t n;

	(void)state;
	for (n = 1; n <= 2; n++) {
		mem_fail_nth(n);
		assert_int_equal(store__mem_new(&m, 64), -ENOMEM);
		mem_fail_nth(0);
	}
	assert_int_equal(store__mem_new(&m, STORE_MEM_MAX + 1), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_limit),
		cmocka_unit_test(test_count_ttl),
		cmocka_unit_test(test_rate_window),
		cmocka_unit_test(test_estimate),
		cmocka_unit_test(test_evicts),
		cmocka_unit_test(test_oom),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
