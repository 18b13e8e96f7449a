/*
 * test_gatehook.c - the gate's change hook (gate_set_hook), which the
 * shared-ban sync (bansync.c) relies on: told after every ban (new or
 * extended) with the entry's rule, reason and expiry, and after every
 * unban; not for refused bans, failed unbans or expiry.
 */
#include "test.h"

#include <errno.h>
#include <stdio.h>

#include "guard/gate.h"

struct seen {
	int bans, unbans;
	struct gate_ban_info last;
};

static void hook(void *arg, const struct gate_ban_info *bi, bool banned)
{
	struct seen *s = arg;

	if (banned)
		s->bans++;
	else
		s->unbans++;
	s->last = *bi;
}

static const uint8_t key[16] = "gatehook-test-k";

static void test_hook(void **state)
{
	static const char *const allow[] = {"10.0.0.0/8"};
	struct gate_conf c;
	struct gate *g;
	struct guard_src src, allowed;
	struct seen s = {0};
	const char *why;
	char err[128];

	(void)state;
	gate_conf_default(&c);
	c.hash_key = key;
	c.allow = allow;
	c.n_allow = 1;
	assert_int_equal(gate_new(&g, &c, err, sizeof(err)), 0);
	gate_set_hook(g, hook, &s);
	assert_int_equal(gate_src_parse(&src, str_cstr("192.0.2.5"), &why), 0);
	assert_int_equal(gate_src_parse(&allowed, str_cstr("10.1.2.3"), &why),
			 0);
	assert_int_equal(gate_ban(g, &src, 60000, "scanner-ua", "svmap", 1000,
				  1700000000000ULL),
			 0);
	assert_int_equal(s.bans, 1);
	assert_string_equal(s.last.rule, "scanner-ua");
	assert_string_equal(s.last.reason, "svmap");
	assert_int_equal(s.last.expires_ms, 61000);
	assert_int_equal(s.last.expires_wall_ms, 1700000060000ULL);
	/* Extended by another rule: told again, with the later expiry. */
	assert_int_equal(
		gate_ban(g, &src, 120000, "flood", "x", 2000, 1700000001000ULL),
		0);
	assert_int_equal(s.bans, 2);
	assert_int_equal(s.last.expires_ms, 122000);
	assert_string_equal(s.last.rule, "flood");
	/* Refused (allow list): not told. */
	assert_int_equal(gate_ban(g, &allowed, 1000, "r", "w", 2000, 1),
			 -EPERM);
	assert_int_equal(s.bans, 2);
	assert_int_equal(gate_unban(g, &src), 0);
	assert_int_equal(s.unbans, 1);
	assert_true(guard_src_eq(&s.last.src, &src));
	assert_int_equal(gate_unban(g, &src), -ENOENT);
	assert_int_equal(s.unbans, 1);
	/* Expiry is not a change to publish. */
	assert_int_equal(gate_ban(g, &src, 10, "r", "w", 3000, 1), 0);
	assert_int_equal(gate_expire(g, 5000, 1 << 20), 1);
	assert_int_equal(s.unbans, 1);
	/* Unhooked: silent. */
	gate_set_hook(g, NULL, NULL);
	assert_int_equal(gate_ban(g, &src, 10, "r", "w", 6000, 1), 0);
	assert_int_equal(s.bans, 3);
	gate_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hook),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
