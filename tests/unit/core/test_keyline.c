/*
 * test_keyline.c - keyline_mask(): which bytes of a message are SDES key
 * material (RFC 4568 9.1 key-params after "inline:" on a=crypto lines)
 * and become '*', and which stay (suite, lifetime, MKI, session
 * parameters, other lines, a=crypto not at a line start).
 */
#include <string.h>

#include "test.h"
#include "core/keyline.h"

static const struct {
	const char *in, *want;
	size_t n;
} cases[] = {
	{"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:QUJD|2^20|1:4\r\n",
	 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:****|2^20|1:4\r\n", 1},
	/* Two key-params, a session parameter after a space. */
	{"a=crypto:1 S inline:AAAA|2^20;inline:BB KDR=1\n",
	 "a=crypto:1 S inline:****|2^20;inline:** KDR=1\n", 2},
	/* Any case; only lines that start with it; other attributes. */
	{"A=CRYPTO:2 S INLINE:KK\r\nxa=crypto:1 inline:LL\r\na=x inline:MM\r\n",
	 "A=CRYPTO:2 S INLINE:**\r\nxa=crypto:1 inline:LL\r\na=x inline:MM\r\n",
	 1},
	/* The last line without an end; a key cut short; nothing else. */
	{"v=0\r\na=crypto:1 S inline:ZZZ", "v=0\r\na=crypto:1 S inline:***", 1},
	{"a=crypto:1 S inline:", "a=crypto:1 S inline:", 1},
	{"a=crypto:1 S\r\n", "a=crypto:1 S\r\n", 0},
	{"a=crypto:", "a=crypto:", 0},
	{"\n\na=crypto:1 S inline:Q\n", "\n\na=crypto:1 S inline:*\n", 1},
	{"", "", 0},
};

static void test_mask(void **state)
{
	char buf[256];
	size_t i, n, len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = strlen(cases[i].in);
		memcpy(buf, cases[i].in, len + 1);
		n = keyline_mask(buf, len);
		if (n != cases[i].n || strcmp(buf, cases[i].want) != 0)
			fail_msg("case %zu: %zu keys, \"%s\"", i, n, buf);
	}
	assert_int_equal(keyline_mask(NULL, 0), 0);
	/* The length given is respected: nothing past it is touched. */
	memcpy(buf, "a=crypto:1 S inline:ABCD", 25);
	assert_int_equal(keyline_mask(buf, 22), 1);
	assert_string_equal(buf, "a=crypto:1 S inline:**CD");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
