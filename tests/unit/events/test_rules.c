/*
 * test_rules.c - the rule registry: registration (ids, duplicates, bad
 * names, capacity), lookup by name, hit and monitored counters, own and
 * global monitor flags, listing, and allocation failure.
 */
#include <errno.h>
#include <stdio.h>

#include "test.h"
#include "events/events.h"

static void test_register(void **state)
{
	struct rules *r = NULL;
	char name[80];
	int a, b;

	(void)state;
	assert_int_equal(rules_new(&r, 3), 0);
	a = rules_register(r, "scanner-ua", false);
	b = rules_register(r, "rate-invite", true);
	assert_int_equal(a, 0);
	assert_int_equal(b, 1);
	/* Same name again, even another copy of it: same id, flag kept. */
	snprintf(name, sizeof(name), "%s", "rate-invite");
	assert_int_equal(rules_register(r, name, false), 1);
	assert_true(rules_monitor(r, 1));
	assert_int_equal(rules_find(r, STR("scanner-ua")), 0);
	assert_int_equal(rules_find(r, STR("rate-invite")), 1);
	assert_int_equal(rules_find(r, STR("rate")), -ENOENT);
	assert_int_equal(rules_find(r, STR("rate-invite-x")), -ENOENT);
	assert_int_equal(rules_find(r, STR_NULL), -ENOENT);

	static const char *const bad[] = {
		"",
		"has space",
		"quo\"te",
		"new\nline",
		"ümlaut",
		"0123456789012345678901234567890123456789012345678901234567890"
		"12345",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rules_register(r, bad[i], false), -EINVAL);
	assert_int_equal(rules_register(r, NULL, false), -EINVAL);
	assert_int_equal(rules_register(NULL, "x", false), -EINVAL);
	assert_int_equal(rules_register(r, "auth_brute.ip", false), 2);
	assert_int_equal(rules_register(r, "one-more", false), -ENOSPC);
	assert_int_equal(rules_count(r), 3);
	rules_free(r);
	rules_free(NULL);
}

static void test_monitor(void **state)
{
	struct rules *r = NULL;
	struct rule_info ri;
	int a, b, i;

	(void)state;
	assert_int_equal(rules_new(&r, 0), 0);
	a = rules_register(r, "scanner-ua", false);
	b = rules_register(r, "rate-invite", true);
	assert_false(rules_hit(r, a));
	assert_true(rules_hit(r, b));
	assert_true(rules_hit(r, b));
	rules_set_global_monitor(r, true);
	assert_true(rules_global_monitor(r));
	assert_true(rules_monitor(r, a));
	assert_true(rules_hit(r, a));
	rules_set_global_monitor(r, false);
	assert_false(rules_monitor(r, a));
	assert_int_equal(rules_set_monitor(r, a, true), 0);
	assert_true(rules_monitor(r, a));
	assert_int_equal(rules_set_monitor(r, b, false), 0);
	assert_false(rules_hit(r, b));
	assert_int_equal(rules_set_monitor(r, 7, true), -ENOENT);
	assert_int_equal(rules_set_monitor(r, -1, true), -ENOENT);
	assert_false(rules_hit(r, 7));
	assert_false(rules_hit(r, -1));
	assert_false(rules_monitor(r, 99));

	assert_int_equal(rules_get(r, a, &ri), 0);
	assert_string_equal(ri.name, "scanner-ua");
	assert_true(ri.monitor && ri.effective);
	assert_int_equal(ri.hits, 2);
	assert_int_equal(ri.monitored, 1);
	assert_int_equal(rules_get(r, b, &ri), 0);
	assert_false(ri.monitor || ri.effective);
	assert_int_equal(ri.hits, 3);
	assert_int_equal(ri.monitored, 2);
	rules_set_global_monitor(r, true);
	assert_int_equal(rules_get(r, b, &ri), 0);
	assert_true(!ri.monitor && ri.effective);
	assert_int_equal(rules_get(r, 2, &ri), -ENOENT);
	for (i = 0; i < (int)rules_count(r); i++)
		assert_int_equal(rules_get(r, i, &ri), 0);
	rules_free(r);
}

static void test_alloc(void **state)
{
	struct rules *r = NULL;

	(void)state;
	assert_int_equal(rules_new(NULL, 1), -EINVAL);
	assert_int_equal(rules_new(&r, RULES_MAX + 1), -EINVAL);
	mem_fail_nth(1);
	assert_int_equal(rules_new(&r, 1), -ENOMEM);
	mem_fail_nth(0);
	assert_int_equal(rules_count(NULL), 0);
	assert_false(rules_global_monitor(NULL));
	rules_set_global_monitor(NULL, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_monitor),
		cmocka_unit_test(test_alloc),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
