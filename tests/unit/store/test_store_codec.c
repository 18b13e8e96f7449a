/*
 * test_store_codec.c - ban records and bans-channel messages
 * (store_codec.c): round trips, and a table of hostile inputs.
 */
#include "test.h"

#include <errno.h>
#include <stdio.h>

#include "store/store.h"

static struct store_ban sample(void)
{
	struct store_ban b;

	memset(&b, 0, sizeof(b));
	snprintf(b.key, sizeof(b.key), "203.0.113.9");
	snprintf(b.rule, sizeof(b.rule), "scanner-ua");
	snprintf(b.reason, sizeof(b.reason), "User-Agent friendly-scanner");
	b.start_wall_ms = 1700000000000ULL;
	b.expires_wall_ms = 1700000600000ULL;
	b.offences = 3;
	return b;
}

static void test_record_roundtrip(void **state)
{
	struct store_ban b = sample(), d;
	char buf[STORE_RECORD_MAX];
	int n;

	(void)state;
	n = store_ban_encode(buf, sizeof(buf), &b);
	assert_true(n > 0);
	assert_string_equal(buf, "v1|1700000600000|1700000000000|3|scanner-ua|"
				 "User-Agent friendly-scanner");
	assert_int_equal(
		store_ban_decode(&d, str_cstr(b.key), str_make(buf, (size_t)n)),
		0);
	assert_memory_equal(&b, &d, sizeof(b));
}

static void test_record_cleans(void **state)
{
	struct store_ban b = sample(), d;
	char buf[STORE_RECORD_MAX];
	int n;

	(void)state;
	snprintf(b.rule, sizeof(b.rule), "a|b");
	snprintf(b.reason, sizeof(b.reason), "x|y\nz");
	b.expires_wall_ms = 0;
	n = store_ban_encode(buf, sizeof(buf), &b);
	assert_true(n > 0);
	assert_string_equal(buf, "v1|0|1700000000000|3|a_b|x|y_z");
	assert_int_equal(store_ban_decode(&d, str_cstr("2001:db8:1:2::/64"),
					  str_make(buf, (size_t)n)),
			 0);
	assert_string_equal(d.rule, "a_b");
	assert_string_equal(d.reason, "x|y_z");
	assert_string_equal(d.key, "2001:db8:1:2::/64");
	assert_int_equal(store_ban_encode(buf, 20, &b), -ENOSPC);
	snprintf(b.key, sizeof(b.key), "bad key");
	assert_int_equal(store_ban_encode(buf, sizeof(buf), &b), -EINVAL);
}

static const struct {
	const char *key, *rec;
	int rc;
} decode_cases[] = {
	{"1.2.3.4", "v1|1|2|3|r|why", 0},
	{"1.2.3.4", "v1|1|2|3|r|", 0},
	{"1.2.3.4", "v1|1|2|3|r", 0},
	{"1.2.3.4", "v1|1|2|3||", 0},
	{"1.2.3.4", "v1|18446744073709551615|0|4294967295|r|w", 0},
	{"1.2.3.4", "v1|18446744073709551616|0|1|r|w", -EINVAL},
	{"1.2.3.4", "v1|1|2|4294967296|r|w", -EINVAL},
	{"1.2.3.4", "v2|1|2|3|r|w", -EINVAL},
	{"1.2.3.4", "v1|1|2|3", -EINVAL},
	{"1.2.3.4", "v1|1|2", -EINVAL},
	{"1.2.3.4", "", -EINVAL},
	{"1.2.3.4", "v1||2|3|r|w", -EINVAL},
	{"1.2.3.4", "v1|-1|2|3|r|w", -EINVAL},
	{"1.2.3.4", "v1| 1|2|3|r|w", -EINVAL},
	{"1.2.3.4", "v1|1|2|3|r\x01|w", -EINVAL},
	{"1.2.3.4", "v1|1|2|3|r|w\x7f", -EINVAL},
	{"1.2.3.4", "v1|1|2|3|0123456789012345678901234567890123|w", -EINVAL},
	{"", "v1|1|2|3|r|w", -EINVAL},
	{"1.2.3.4 ", "v1|1|2|3|r|w", -EINVAL},
	{"x.y", "v1|1|2|3|r|w", -EINVAL},
	{"0123456789012345678901234567890123456789012345678901234567890123",
	 "v1|1|2|3|r|w", -EINVAL},
};

static void test_record_decode_table(void **state)
{
	struct store_ban d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
		int rc = store_ban_decode(&d, str_cstr(decode_cases[i].key),
					  str_cstr(decode_cases[i].rec));

		if (rc != decode_cases[i].rc)
			fail_msg("case %zu (%s): %d", i, decode_cases[i].rec,
				 rc);
	}
}

static void test_messages(void **state)
{
	struct store_ban b = sample();
	struct store_msg m;
	char buf[STORE_RECORD_MAX + 128];
	int n;

	(void)state;
	n = store_msg_format(buf, sizeof(buf), true, "sg-a", &b);
	assert_true(n > 0);
	assert_int_equal(store_msg_parse(&m, str_make(buf, (size_t)n)), 0);
	assert_true(m.ban);
	assert_str_equal_cstr(m.origin, "sg-a");
	assert_memory_equal(&m.b, &b, sizeof(b));
	n = store_msg_format(buf, sizeof(buf), false, "sg-b", &b);
	assert_string_equal(buf, "U sg-b 203.0.113.9");
	assert_int_equal(store_msg_parse(&m, str_make(buf, (size_t)n)), 0);
	assert_false(m.ban);
	assert_string_equal(m.b.key, "203.0.113.9");
	assert_int_equal(
		store_msg_format(buf, sizeof(buf), false, "bad name", &b),
		-EINVAL);
	assert_int_equal(store_msg_format(buf, 10, true, "a", &b), -ENOSPC);
}

static const char *const bad_msgs[] = {
	"",
	"B",
	"B a",
	"B a 1.2.3.4",
	"X a 1.2.3.4",
	"U a",
	"U a ",
	"U  1.2.3.4",
	"UU a 1.2.3.4",
	"U a 1.2.3.4 ",
	"U a/b 1.2.3.4",
	"B a 1.2.3.4 v1|1|2",
	"B a zz v1|1|2|3|r|w",
	" U a 1.2.3.4",
	"U 0123456789012345678901234567890123 1.2.3.4",
};

static void test_messages_bad(void **state)
{
	struct store_msg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_msgs) / sizeof(bad_msgs[0]); i++)
		if (store_msg_parse(&m, str_cstr(bad_msgs[i])) != -EINVAL)
			fail_msg("accepted \"%s\"", bad_msgs[i]);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(store_instance_valid(str_cstr("sg-1.eu_west")));
	assert_false(store_instance_valid(str_cstr("")));
	assert_false(store_instance_valid(str_cstr("a b")));
	assert_false(store_instance_valid(
		str_cstr("0123456789012345678901234567890123")));
	assert_true(store_key_valid(str_cstr("2001:DB8::/64")));
	assert_false(store_key_valid(str_cstr("1.2.3.4|")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_roundtrip),
		cmocka_unit_test(test_record_cleans),
		cmocka_unit_test(test_record_decode_table),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_messages_bad),
		cmocka_unit_test(test_names),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
