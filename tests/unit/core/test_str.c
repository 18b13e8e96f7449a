/*
 * test_str.c - string slice helpers.
 */
#include <errno.h>

#include "test.h"

static void test_compare(void **state)
{
	(void)state;
	assert_true(str_eq(STR("abc"), str_cstr("abc")));
	assert_false(str_eq(STR("abc"), STR("abd")));
	assert_true(str_caseeq(STR("Call-ID"), STR("call-id")));
	assert_false(str_caseeq(STR("Call-ID"), STR("call-i")));
	assert_true(str_casestarts(STR("INVITE sip:"), STR("invite")));
	assert_true(str_casecmp(STR("a"), STR("B")) < 0);
	assert_true(str_casecmp(STR("ab"), STR("A")) > 0);
	assert_int_equal(str_casecmp(STR("Ab"), STR("aB")), 0);
	assert_true(str_eq(STR_NULL, STR("")));
}

static void test_trim_split(void **state)
{
	struct str rest = STR("a, b,,c"), tok;

	(void)state;
	assert_str_equal_cstr(str_trim(STR(" \t x y \r\n ")), "x y");
	assert_str_equal_cstr(str_trim(STR("   ")), "");
	assert_true(str_split(&rest, ',', &tok));
	assert_str_equal_cstr(tok, "a");
	assert_true(str_split(&rest, ',', &tok));
	assert_str_equal_cstr(tok, " b");
	assert_true(str_split(&rest, ',', &tok));
	assert_str_equal_cstr(tok, "");
	assert_true(str_split(&rest, ',', &tok));
	assert_str_equal_cstr(tok, "c");
	assert_false(str_split(&rest, ',', &tok));
	assert_int_equal(str_chr(STR("abc"), 'c'), 2);
	assert_int_equal(str_chr(STR("abc"), 'x'), -1);
	assert_str_equal_cstr(str_sub(STR("abcdef"), 2, 100), "cdef");
	assert_str_equal_cstr(str_sub(STR("abc"), 5, 1), "");
}

static void test_integers(void **state)
{
	static const struct {
		const char *in;
		uint64_t max;
		int err;
		uint64_t v;
	} cases[] = {
		{"0", 10, 0, 0},
		{"0068", 255, 0, 68},
		{"255", 255, 0, 255},
		{"256", 255, -ERANGE, 0},
		{"", 10, -EINVAL, 0},
		{"-1", 10, -EINVAL, 0},
		{" 1", 10, -EINVAL, 0},
		{"1a", 10, -EINVAL, 0},
		{"9", 5, -ERANGE, 0},
		{"2147483647", 2147483647, 0, 2147483647},
		{"2147483648", 2147483647, -ERANGE, 0},
		{"18446744073709551615", UINT64_MAX, 0, UINT64_MAX},
		{"18446744073709551616", UINT64_MAX, -ERANGE, 0},
		{"99999999999999999999999", UINT64_MAX, -ERANGE, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		int err = str_to_u64(&v, str_cstr(cases[i].in), cases[i].max);

		assert_int_equal(err, cases[i].err);
		if (!err)
			assert_int_equal(v, cases[i].v);
	}
}

static void test_copy(void **state)
{
	char b[4];

	(void)state;
	assert_int_equal(str_copy_cstr(b, sizeof(b), STR("abc")), 0);
	assert_string_equal(b, "abc");
	assert_int_equal(str_copy_cstr(b, sizeof(b), STR("abcd")), -ENOSPC);
}

/* Every boundary of RFC 3629's table, each side. */
static void test_utf8(void **state)
{
	static const struct {
		const char *s;
		int32_t cp; /* -1: invalid */
		size_t len;
	} cases[] = {
		{"\x00", 0, 1},
		{"\x7f", 0x7f, 1},
		{"\xc2\x80", 0x80, 2},
		{"\xdf\xbf", 0x7ff, 2},
		{"\xc0\x80", -1, 0}, /* overlong NUL */
		{"\xc1\xbf", -1, 0}, /* overlong */
		{"\xe0\xa0\x80", 0x800, 3},
		{"\xe0\x9f\xbf", -1, 0}, /* overlong */
		{"\xed\x9f\xbf", 0xd7ff, 3},
		{"\xed\xa0\x80", -1, 0}, /* surrogate */
		{"\xee\x80\x80", 0xe000, 3},
		{"\xef\xbf\xbf", 0xffff, 3}, /* callers refuse it */
		{"\xf0\x90\x80\x80", 0x10000, 4},
		{"\xf0\x8f\xbf\xbf", -1, 0}, /* overlong */
		{"\xf4\x8f\xbf\xbf", 0x10ffff, 4},
		{"\xf4\x90\x80\x80", -1, 0}, /* past U+10FFFF */
		{"\xf5\x80\x80\x80", -1, 0},
		{"\x80", -1, 0},     /* lone continuation */
		{"\xc3\x28", -1, 0}, /* bad continuation */
		{"\xe2\x82\x28", -1, 0},
		{"\xff", -1, 0},
	};
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const unsigned char *p = (const unsigned char *)cases[i].s;
		size_t n = cases[i].s[0] ? strlen(cases[i].s) : 1;

		len = 0;
		assert_int_equal(utf8_next(p, n, &len), cases[i].cp);
		if (cases[i].cp >= 0)
			assert_int_equal(len, cases[i].len);
		/* Cut short: never valid, never read past n. */
		if (n > 1)
			assert_int_equal(utf8_next(p, n - 1, &len), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_trim_split),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
