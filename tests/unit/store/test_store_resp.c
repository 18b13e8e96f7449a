/*
 * test_store_resp.c - the commands store_resp.c writes in Redis' protocol
 * (byte for byte, as hiredis' own formatting writes them), the decimal
 * writers, a buffer too small; and core/addr.c's IPv4 text (written by
 * hand on the same per-call path) against inet_ntop for every edge.
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>

#include <hiredis/hiredis.h>

#include "core/addr.h"
#include "store/store_int.h"

/* v as store__fmt_u64 writes it and as printf does. */
static void same_num(uint64_t v)
{
	char b[STORE__NUM_MAX], want[32];
	size_t n = store__fmt_u64(b, v);

	snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(b, want, n);
}

static void test_numbers(void **state)
{
	static const struct {
		int64_t v;
		const char *want;
	} t[] = {
		{0, "0"},
		{7, "7"},
		{10, "10"},
		{-1, "-1"},
		{86400000, "86400000"},
		{INT64_MAX, "9223372036854775807"},
		{INT64_MIN, "-9223372036854775808"},
	};
	char b[STORE__NUM_MAX];
	uint64_t p;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = store__fmt_i64(b, t[i].v);
		assert_int_equal(n, strlen(t[i].want));
		assert_memory_equal(b, t[i].want, n);
	}
	n = store__fmt_u64(b, UINT64_MAX);
	assert_int_equal(n, 20);
	assert_memory_equal(b, "18446744073709551615", n);
	/* Two digits at a time: every value to 100000, and each power of
	 * ten and its neighbours, as printf writes them. */
	for (i = 0; i <= 100000; i++)
		same_num(i);
	for (p = 10; p <= UINT64_MAX / 10; p *= 10) {
		same_num(p - 1);
		same_num(p);
		same_num(p + 1);
	}
}

/* What hiredis writes for the same arguments (redisFormatCommandArgv). */
static void same_as_hiredis(const struct store__resp *w, int argc,
			    const char **argv, const size_t *lens)
{
	char *want = NULL;
	long long n = redisFormatCommandArgv(&want, argc, argv, lens);

	assert_true(n > 0);
	assert_int_equal(store__resp_end(w), 0);
	assert_int_equal(w->len, (size_t)n);
	assert_memory_equal(w->p, want, w->len);
	free(want);
}

static void test_commands(void **state)
{
	char buf[256];
	struct store__resp w;
	/* binary bytes, an empty argument, spaces: bulk strings as given */
	const char rec[] = {'b', '1', ',', '\0', '\r', '\n', ' ', '%'};
	const char *argv[] = {"HSET", "p:dlg:a", "0123456789abcdef", rec, ""};
	size_t lens[] = {4, 7, 16, sizeof(rec), 0};
	const char *iv[] = {"EVALSHA", "-42", "0", "9223372036854775807"};
	size_t il[] = {7, 3, 1, 19};

	(void)state;
	store__resp_init(&w, buf, sizeof(buf));
	store__resp_array(&w, 5);
	store__resp_cstr(&w, "HSET");
	store__resp_str(&w, str_cstr("p:dlg:a"));
	store__resp_arg(&w, "0123456789abcdef", 16);
	store__resp_arg2(&w, rec, 3, rec + 3, sizeof(rec) - 3);
	store__resp_arg(&w, NULL, 0);
	same_as_hiredis(&w, 5, argv, lens);
	assert_memory_equal(
		buf,
		"*5\r\n$4\r\nHSET\r\n$7\r\np:dlg:a\r\n$16\r\n"
		"0123456789abcdef\r\n$8\r\nb1,\0\r\n %\r\n$0\r\n\r\n",
		w.len);

	store__resp_init(&w, buf, sizeof(buf));
	store__resp_array(&w, 4);
	store__resp_cstr(&w, "EVALSHA");
	store__resp_int(&w, -42);
	store__resp_int(&w, 0);
	store__resp_int(&w, INT64_MAX);
	same_as_hiredis(&w, 4, iv, il);
}

/* Too small: nothing written past the room, the overflow reported, and
 * the length still the whole command's. */
static void test_overflow(void **state)
{
	char buf[32];
	struct store__resp w;
	size_t room;

	(void)state;
	for (room = 0; room <= 26; room++) {
		memset(buf, 'x', sizeof(buf));
		store__resp_init(&w, buf, room);
		store__resp_array(&w, 2);
		store__resp_cstr(&w, "PUBLISH");
		store__resp_cstr(&w, "chan");
		/* *2 $7 PUBLISH $4 chan: 4 + 4 + 9 + 4 + 6 = 27 bytes */
		assert_int_equal(w.len, 27);
		assert_int_equal(store__resp_end(&w), -ENOSPC);
		assert_int_equal(buf[room], 'x');
	}
	store__resp_init(&w, buf, 27);
	store__resp_array(&w, 2);
	store__resp_cstr(&w, "PUBLISH");
	store__resp_cstr(&w, "chan");
	assert_int_equal(store__resp_end(&w), 0);
	assert_memory_equal(buf, "*2\r\n$7\r\nPUBLISH\r\n$4\r\nchan\r\n", 27);
}

static void test_ip4_text(void **state)
{
	static const char *const ips[] = {
		"0.0.0.0",      "127.0.0.1",       "9.10.99.100", "1.2.3.4",
		"10.0.100.255", "255.255.255.255", "192.0.2.1",   "100.20.3.0",
	};
	static const uint16_t ports[] = {1, 9, 10, 99, 100, 5060, 10000, 65535};
	char want[64], got[64], ip[SG_IP4_TEXT];
	struct sg_addr a;
	uint8_t b4[4];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		assert_int_equal(inet_pton(AF_INET, ips[i], b4), 1);
		assert_int_equal(sg_ip4_fmt(ip, b4), strlen(ips[i]));
		assert_string_equal(ip, ips[i]);
		for (j = 0; j < sizeof(ports) / sizeof(ports[0]); j++) {
			assert_int_equal(sg_addr_from_host(&a, str_cstr(ips[i]),
							   ports[j]),
					 0);
			snprintf(want, sizeof(want), "%s:%u", ips[i], ports[j]);
			assert_string_equal(sg_addr_fmt(&a, got, sizeof(got)),
					    want);
			assert_string_equal(sg_addr_ip(&a, got, sizeof(got)),
					    ips[i]);
		}
	}
	/* Too small a buffer for the fast path: truncated as before. */
	assert_int_equal(sg_addr_from_host(&a, str_cstr("1.2.3.4"), 5060), 0);
	assert_string_equal(sg_addr_fmt(&a, got, 6), "1.2.3");
	/* IPv6 unchanged. */
	assert_int_equal(sg_addr_from_host(&a, str_cstr("2001:db8::1"), 5061),
			 0);
	assert_string_equal(sg_addr_fmt(&a, got, sizeof(got)),
			    "[2001:db8::1]:5061");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_ip4_text),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
