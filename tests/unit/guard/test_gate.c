/*
 * test_gate.c - the pre-parse gate: CIDR and ban-key parsing, token
 * buckets (burst, refill, bytes), bans (expiry, escalation and its cap,
 * memory of offences, re-ban, the lapsed callback), allow list (IPv4, IPv6,
 * mapped, /0 /32 /128 edges), IPv6 /64 grouping, source table eviction under
 * 10x its size, a full ban table, iteration, housekeeping slices, no allocation
 * while checking, and allocation failures in gate_new().  Fake clock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>

#include "test.h"
#include "core/addr.h"
#include "guard/gate.h"

static const uint8_t test_key[16] = "0123456789abcdef";

static struct sg_addr A(const char *ip) {
	struct sg_addr a;

	assert_int_equal(sg_addr_from_host(&a, str_cstr(ip), 5060), 0);
	return a;
}

static struct guard_src
S(const char *text) {
	struct guard_src s;
	const char *why = NULL;

	if (gate_src_parse(&s, str_cstr(text), &why) != 0)
		fail_msg("gate_src_parse(%s): %s", text, why);
	return s;
}

static enum gate_verdict
check(struct gate *g, const char *ip, size_t bytes, uint64_t now)
{
	struct sg_addr a = A(ip);

	return gate_check(g, &a, bytes, now);
}

/* Defaults with small tables, no limits, fixed hash key. */
static void conf_small(struct gate_conf *c)
{
	gate_conf_default(c);
	c->pkt_rate = 0;
	c->byte_rate = 0;
	c->sources = 64;
	c->bans = 64;
	c->hash_key = test_key;
}

static struct gate *mk(const struct gate_conf *c)
{
	struct gate *g = NULL;
	char err[160];
	int rc = gate_new(&g, c, err, sizeof(err));

	if (rc)
		fail_msg("gate_new: %d %s", rc, err);
	return g;
}

/* --- parsing --- */

static void test_cidr_parse(void **state)
{
	static const struct {
		const char *in;
		const char *out; /* NULL: must fail */
	} t[] = {
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"127.0.0.1", "127.0.0.1/32"},
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"192.0.2.255/32", "192.0.2.255/32"},
		{"2001:db8::/32", "2001:db8::/32"},
		{"::1", "::1/128"},
		{"::/0", "::/0"},
		{"2001:db8:0:1::5/128", "2001:db8:0:1::5/128"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"::ffff:0:0/96", "0.0.0.0/0"},
		{"10.1.0.0/8", NULL}, /* host bits */
		{"2001:db8::1/64", NULL},
		{"10.0.0.0/33", NULL},
		{"::/129", NULL},
		{"10.0.0.0/", NULL},
		{"10.0.0.0/0008", NULL},
		{"10.0.0.0/+8", NULL},
		{"10.0.0.0/8/8", NULL},
		{"/8", NULL},
		{"", NULL},
		{" 10.0.0.0/8", NULL},
		{"10.0.0", NULL},
		{"10.0.0.256", NULL},
		{"1.2.3.4.5", NULL},
		{"2001:db8::g", NULL},
		{"fe80::1%eth0", NULL},
		{"example.com", NULL},
	};
	struct gate_cidr c;
	char buf[GATE_CIDR_STRLEN];
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		why = NULL;
		int rc = gate_cidr_parse(&c, str_cstr(t[i].in), &why);

		if (!t[i].out) {
			if (rc != -EINVAL || !why)
				fail_msg("%s: accepted", t[i].in);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: %s", t[i].in, why);
		assert_string_equal(gate_cidr_fmt(&c, buf, sizeof(buf)),
				    t[i].out);
	}
	/* A NUL inside the text is not an end of string. */
	assert_int_equal(gate_cidr_parse(&c, STR("10.0.0.1\0/8"), &why),
			 -EINVAL);
}

static void test_src_parse(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} t[] = {
		{"203.0.113.9", "203.0.113.9"},
		{"203.0.113.9/32", "203.0.113.9"},
		{"::ffff:203.0.113.9", "203.0.113.9"},
		{"2001:db8:1:2::/64", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::7", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:aaaa::7/64", "2001:db8:1:2::/64"},
		{"203.0.113.0/24", NULL},
		{"2001:db8::/48", NULL},
		{"2001:db8::/128", NULL},
		{"nonsense", NULL},
	};
	struct guard_src s;
	char buf[64];
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = gate_src_parse(&s, str_cstr(t[i].in), &why);

		if (!t[i].out) {
			assert_int_equal(rc, -EINVAL);
			continue;
		}
		if (rc)
			fail_msg("%s: %s", t[i].in, why);
		assert_string_equal(guard_src_fmt(&s, buf, sizeof(buf)),
				    t[i].out);
	}
}

static void test_conf_errors(void **state)
{
	static const char *const bad[] = {"10.0.0.0/8", "10.1.0.0/8"};
	static const char *const nul[] = {NULL};
	struct gate_conf c;
	struct gate *g = (struct gate *)&g;
	char err[160];

	(void)state;
	conf_small(&c);
	c.allow = bad;
	c.n_allow = 2;
	assert_int_equal(gate_new(&g, &c, err, sizeof(err)), -EINVAL);
	assert_null(g);
	assert_non_null(strstr(err, "allow[1] \"10.1.0.0/8\": host bits"));

	conf_small(&c);
	c.allow = nul;
	c.n_allow = 1;
	assert_int_equal(gate_new(&g, &c, err, sizeof(err)), -EINVAL);
	conf_small(&c);
	c.n_allow = GATE_ALLOW_MAX + 1;
	c.allow = bad;
	assert_int_equal(gate_new(&g, &c, err, sizeof(err)), -EINVAL);
	conf_small(&c);
	c.sources = 4;
	assert_int_equal(gate_new(&g, &c, err, sizeof(err)), -EINVAL);
	conf_small(&c);
	c.bans = 0;
	assert_int_equal(gate_new(&g, &c, err, sizeof(err)), -EINVAL);
	conf_small(&c);
	c.ban_max_ms = c.ban_first_ms - 1;
	assert_int_equal(gate_new(&g, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ban_max_ms"));
	conf_small(&c);
	c.pkt_rate = GATE_RATE_MAX + 1u;
	assert_int_equal(gate_new(&g, &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(gate_new(&g, NULL, err, sizeof(err)), -EINVAL);
	gate_free(NULL);
	assert_no_leaks();
}

/* --- rate limits --- */

static void test_packet_bucket(void **state)
{
	struct gate_conf c;
	struct gate *g;
	int i;

	(void)state;
	conf_small(&c);
	c.pkt_rate = 10; /* one every 100 ms */
	c.pkt_burst = 5;
	g = mk(&c);
	for (i = 0; i < 5; i++)
		assert_int_equal(check(g, "198.51.100.1", 100, 0), GATE_PASS);
	assert_int_equal(check(g, "198.51.100.1", 100, 0), GATE_RATE);
	assert_int_equal(check(g, "198.51.100.1", 100, 99), GATE_RATE);
	/* Other sources have their own bucket. */
	assert_int_equal(check(g, "198.51.100.2", 100, 99), GATE_PASS);
	/* Refill: one packet per 100 ms. */
	assert_int_equal(check(g, "198.51.100.1", 100, 100), GATE_PASS);
	assert_int_equal(check(g, "198.51.100.1", 100, 100), GATE_RATE);
	assert_int_equal(check(g, "198.51.100.1", 100, 350), GATE_PASS);
	assert_int_equal(check(g, "198.51.100.1", 100, 350), GATE_PASS);
	assert_int_equal(check(g, "198.51.100.1", 100, 350), GATE_RATE);
	/* A long idle time refills to the burst, not beyond. */
	for (i = 0; i < 5; i++)
		assert_int_equal(check(g, "198.51.100.1", 0, 60000), GATE_PASS);
	assert_int_equal(check(g, "198.51.100.1", 0, 60000), GATE_RATE);
	/* Sustained: exactly the rate gets through over 10 s. */
	{
		int passed = 0;
		uint64_t t;

		for (t = 70000; t < 80000; t += 10)
			passed += check(g, "198.51.100.1", 0, t) == GATE_PASS;
		assert_in_range(passed, 100, 105);
	}
	gate_free(g);
	assert_no_leaks();
}

static void test_burst_default(void **state)
{
	struct gate_conf c;
	struct gate *g;
	int i;

	(void)state;
	conf_small(&c);
	c.pkt_rate = 20;
	c.pkt_burst = 0; /* = rate */
	g = mk(&c);
	for (i = 0; i < 20; i++)
		assert_int_equal(check(g, "192.0.2.1", 0, 5), GATE_PASS);
	assert_int_equal(check(g, "192.0.2.1", 0, 5), GATE_RATE);
	gate_free(g);
	assert_no_leaks();
}

static void test_byte_bucket(void **state)
{
	struct gate_conf c;
	struct gate *g;

	(void)state;
	conf_small(&c);
	c.byte_rate = 1000;
	c.byte_burst = 1500;
	g = mk(&c);
	assert_int_equal(check(g, "192.0.2.1", 1000, 0), GATE_PASS);
	assert_int_equal(check(g, "192.0.2.1", 600, 0), GATE_RATE);
	assert_int_equal(check(g, "192.0.2.1", 500, 0), GATE_PASS);
	assert_int_equal(check(g, "192.0.2.1", 1, 0), GATE_RATE);
	/* 200 ms refill 200 bytes. */
	assert_int_equal(check(g, "192.0.2.1", 201, 200), GATE_RATE);
	assert_int_equal(check(g, "192.0.2.1", 200, 200), GATE_PASS);
	/* Bigger than the burst: never. */
	assert_int_equal(check(g, "192.0.2.2", 1501, 0), GATE_RATE);
	assert_int_equal(check(g, "192.0.2.2", 1501, 999999), GATE_RATE);
	assert_int_equal(check(g, "192.0.2.2", 1500, 999999), GATE_PASS);
	/* A connection attempt (0 bytes) fits a full byte bucket. */
	assert_int_equal(check(g, "192.0.2.2", 0, 999999), GATE_PASS);
	gate_free(g);

	/* Both limits: a packet refused for bytes is not charged a token. */
	conf_small(&c);
	c.pkt_rate = 1;
	c.pkt_burst = 2;
	c.byte_rate = 1000;
	c.byte_burst = 1000;
	g = mk(&c);
	assert_int_equal(check(g, "192.0.2.3", 900, 0), GATE_PASS);
	assert_int_equal(check(g, "192.0.2.3", 900, 0), GATE_RATE);
	assert_int_equal(check(g, "192.0.2.3", 100, 0), GATE_PASS);
	assert_int_equal(check(g, "192.0.2.3", 0, 0), GATE_RATE);
	gate_free(g);
	assert_no_leaks();
}

/* --- bans --- */

static void test_ban_unban(void **state)
{
	struct guard_src s = S("203.0.113.9");
	struct gate_ban_info bi;
	struct gate_stats st;
	struct gate_conf c;
	struct gate *g;
	char longr[200];

	(void)state;
	conf_small(&c);
	g = mk(&c);
	memset(longr, 'x', sizeof(longr) - 1);
	longr[sizeof(longr) - 1] = '\0';
	assert_int_equal(gate_ban(g, &s, 30000, "scanner-ua", longr, 1000,
				  1700000000000ULL),
			 0);
	assert_true(gate_is_banned(g, &s, 1000));
	assert_int_equal(check(g, "203.0.113.9", 100, 1001), GATE_BANNED);
	assert_int_equal(check(g, "::ffff:203.0.113.9", 100, 1002),
			 GATE_BANNED);
	assert_int_equal(check(g, "203.0.113.10", 100, 1002), GATE_PASS);
	assert_int_equal(gate_ban_get(g, &s, 1003, &bi), 0);
	assert_string_equal(bi.rule, "scanner-ua");
	assert_int_equal(strlen(bi.reason), GATE_REASON_MAX - 1);
	assert_true(guard_src_eq(&bi.src, &s));
	assert_int_equal(bi.start_ms, 1000);
	assert_int_equal(bi.start_wall_ms, 1700000000000ULL);
	assert_int_equal(bi.expires_ms, 31000);
	assert_int_equal(bi.expires_wall_ms, 1700000030000ULL);
	assert_int_equal(bi.hits, 2);
	assert_int_equal(bi.offences, 1);
	assert_true(bi.active);
	gate_stats(g, &st);
	assert_int_equal(st.bans_active, 1);
	assert_int_equal(st.bans_total, 1);
	assert_int_equal(st.drop_banned, 2);
	assert_int_equal(st.checked, 3);
	assert_int_equal(st.passed, 1);

	assert_int_equal(gate_unban(g, &s), 0);
	assert_int_equal(gate_unban(g, &s), -ENOENT);
	assert_false(gate_is_banned(g, &s, 1004));
	assert_int_equal(gate_ban_get(g, &s, 1004, &bi), -ENOENT);
	assert_int_equal(check(g, "203.0.113.9", 100, 1005), GATE_PASS);
	gate_stats(g, &st);
	assert_int_equal(st.bans_active, 0);
	assert_int_equal(st.bans_used, 0);

	/* Bad keys. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(gate_ban(g, &s, 0, "r", "w", 0, 0), -EINVAL);
	assert_int_equal(gate_unban(g, &s), -EINVAL);
	/* NULL rule and reason are empty strings; forever never ends. */
	s = S("2001:db8:7::/64");
	assert_int_equal(gate_ban(g, &s, GATE_FOREVER, NULL, NULL, 5, 5), 0);
	assert_int_equal(gate_ban_get(g, &s, UINT64_MAX - 1, &bi), 0);
	assert_string_equal(bi.rule, "");
	assert_true(bi.active);
	assert_int_equal(bi.expires_wall_ms, GATE_FOREVER);
	assert_int_equal(check(g, "2001:db8:7::1", 0, UINT64_MAX / 2000000),
			 GATE_BANNED);
	gate_free(g);
	assert_no_leaks();
}

static void test_ban_expiry(void **state)
{
	struct guard_src s = S("198.51.100.7");
	struct gate_ban_info bi;
	struct gate_stats st;
	struct gate_conf c;
	struct gate *g;

	(void)state;
	conf_small(&c);
	c.ban_first_ms = 1000;
	c.ban_memory_ms = 5000;
	g = mk(&c);
	assert_int_equal(gate_ban(g, &s, 0, "r", "why", 100, 0), 0);
	assert_int_equal(check(g, "198.51.100.7", 10, 1099), GATE_BANNED);
	assert_int_equal(check(g, "198.51.100.7", 10, 1100), GATE_PASS);
	gate_stats(g, &st);
	assert_int_equal(st.bans_active, 0);
	assert_int_equal(st.bans_used, 1); /* the offence is remembered */
	assert_int_equal(gate_ban_get(g, &s, 1100, &bi), 0);
	assert_false(bi.active);
	assert_int_equal(bi.hits, 1);
	/* Housekeeping forgets it after the memory time. */
	assert_int_equal(gate_expire(g, 6099, 1000), 0);
	assert_int_equal(gate_expire(g, 6100, 1000), 1);
	gate_stats(g, &st);
	assert_int_equal(st.bans_used, 0);

	/* gate_expire() also lapses bans nobody checked. */
	assert_int_equal(gate_ban(g, &s, 0, "r", "why", 10000, 0), 0);
	assert_int_equal(gate_expire(g, 10999, 64), 0);
	assert_int_equal(gate_expire(g, 11000, 64), 1);
	gate_stats(g, &st);
	assert_int_equal(st.bans_active, 0);
	assert_int_equal(st.bans_used, 1);
	gate_free(g);
	assert_no_leaks();
}

/* The lapsed callback: once per ban that runs out, however it is found. */
struct lapses {
	unsigned n;
	struct gate_ban_info last;
	uint64_t now;
};

static void on_lapse(void *arg, const struct gate_ban_info *bi, uint64_t now_ms)
{
	struct lapses *l = arg;

	l->n++;
	l->last = *bi;
	l->now = now_ms;
}

static void test_lapsed_callback(void **state)
{
	struct guard_src s = S("198.51.100.8");
	struct lapses l = {0};
	struct gate_conf c;
	struct gate *g;

	(void)state;
	conf_small(&c);
	c.ban_first_ms = 1000;
	c.lapsed = on_lapse;
	c.lapsed_arg = &l;
	g = mk(&c);
	/* Found by the check. */
	assert_int_equal(gate_ban(g, &s, 0, "scanner-ua", "ua", 100, 5000), 0);
	assert_int_equal(check(g, "198.51.100.8", 10, 1099), GATE_BANNED);
	assert_int_equal(l.n, 0);
	assert_int_equal(check(g, "198.51.100.8", 10, 1150), GATE_PASS);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.now, 1150);
	assert_true(guard_src_eq(&l.last.src, &s));
	assert_string_equal(l.last.rule, "scanner-ua");
	assert_int_equal(l.last.expires_wall_ms, 6000);
	assert_false(l.last.active);
	assert_int_equal(check(g, "198.51.100.8", 10, 1200), GATE_PASS);
	assert_int_equal(l.n, 1);
	/* Found by housekeeping (second offence: 2 s). */
	assert_int_equal(gate_ban(g, &s, 0, "r", "why", 2000, 0), 0);
	assert_int_equal(gate_expire(g, 3999, 64), 0);
	assert_int_equal(gate_expire(g, 4000, 64), 1);
	assert_int_equal(l.n, 2);
	/* Found by a new ban after the old one ran out. */
	assert_int_equal(gate_ban(g, &s, 500, "r", "why", 7000, 0), 0);
	assert_int_equal(gate_ban(g, &s, 500, "r", "why", 7600, 0), 0);
	assert_int_equal(l.n, 3);
	/* Lifted by hand: not a lapse. */
	assert_int_equal(gate_unban(g, &s), 0);
	assert_int_equal(l.n, 3);
	gate_free(g);
	assert_no_leaks();
}

static void test_escalation(void **state)
{
	static const uint64_t want[] = {1000, 2000, 4000, 8000, 10000, 10000};
	struct guard_src s = S("2001:db8:aa:bb::/64");
	struct gate_ban_info bi;
	struct gate_conf c;
	struct gate *g;
	uint64_t t = 0;
	size_t i;

	(void)state;
	conf_small(&c);
	c.ban_first_ms = 1000;
	c.ban_factor = 2;
	c.ban_max_ms = 10000;
	c.ban_memory_ms = 60000;
	g = mk(&c);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(gate_ban(g, &s, 0, "r", "x", t, t), 0);
		assert_int_equal(gate_ban_get(g, &s, t, &bi), 0);
		assert_int_equal(bi.offences, i + 1);
		assert_int_equal(bi.expires_ms - t, want[i]);
		assert_int_equal(bi.hits, 0);
		t += want[i] + 10; /* ban over, offence still remembered */
		assert_int_equal(check(g, "2001:db8:aa:bb::1", 0, t),
				 GATE_PASS);
	}
	/* Forgotten after the memory time: back to the first duration. */
	t += 60000 + 10000;
	assert_int_equal(gate_ban(g, &s, 0, "r", "x", t, t), 0);
	assert_int_equal(gate_ban_get(g, &s, t, &bi), 0);
	assert_int_equal(bi.offences, 1);
	assert_int_equal(bi.expires_ms - t, 1000);

	/* A ban on an active ban: not a new offence, the later expiry. */
	assert_int_equal(gate_ban(g, &s, 0, "other", "y", t + 500, 0), 0);
	assert_int_equal(gate_ban_get(g, &s, t, &bi), 0);
	assert_int_equal(bi.offences, 1);
	assert_int_equal(bi.expires_ms, t + 1500);
	assert_string_equal(bi.rule, "other");
	assert_int_equal(gate_ban(g, &s, 100, "third", "z", t + 600, 0), 0);
	assert_int_equal(gate_ban_get(g, &s, t, &bi), 0);
	assert_int_equal(bi.expires_ms, t + 1500);
	gate_free(g);

	/* Factor 1: constant; huge factor saturates at the cap. */
	conf_small(&c);
	c.ban_first_ms = 7;
	c.ban_factor = 1;
	g = mk(&c);
	for (i = 0; i < 5; i++) {
		assert_int_equal(gate_ban(g, &s, 0, "r", "x", i * 100, 0), 0);
		assert_int_equal(gate_ban_get(g, &s, 0, &bi), 0);
		assert_int_equal(bi.expires_ms, i * 100 + 7);
	}
	gate_free(g);
	conf_small(&c);
	c.ban_first_ms = 1000;
	c.ban_factor = UINT32_MAX;
	c.ban_max_ms = UINT64_MAX - 1;
	g = mk(&c);
	for (i = 0; i < 4; i++)
		assert_int_equal(gate_ban(g, &s, 0, "r", "x", 0, 0), 0);
	assert_int_equal(gate_unban(g, &s), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(gate_ban(g, &s, 0, "r", "x", 0, 0), 0);
		assert_int_equal(gate_ban_get(g, &s, 0, &bi), 0);
		/* Lapse it by hand so the next ban is a new offence. */
		assert_int_equal(gate_expire(g, bi.expires_ms, 64), 1);
		assert_int_equal(bi.offences, i + 1);
	}
	assert_int_equal(bi.expires_ms, UINT64_MAX - 1);
	gate_free(g);
	assert_no_leaks();
}

/* --- allow list and source keys --- */

static void test_allow_list(void **state)
{
	static const char *const allow[] = {
		"10.0.0.0/8",
		"192.0.2.1",
		"2001:db8::/32",
		"2001:db8:ffff:1::5/128",
		"::ffff:198.51.100.0/120",
	};
	static const struct {
		const char *ip;
		bool allowed;
	} t[] = {
		{"10.0.0.0", true},
		{"10.255.255.255", true},
		{"11.0.0.0", false},
		{"9.255.255.255", false},
		{"192.0.2.1", true},
		{"192.0.2.0", false},
		{"192.0.2.2", false},
		{"::ffff:10.1.2.3", true},
		{"198.51.100.200", true},
		{"198.51.101.0", false},
		{"2001:db8::1", true},
		{"2001:db8:ffff:ffff::1", true},
		{"2001:db9::1", false},
		{"2001:db7:ffff::1", false},
		{"2001:db8:ffff:1::5", true},
		{"2001:db8:ffff:1::6", true}, /* inside 2001:db8::/32 */
	};
	struct gate_conf c;
	struct guard_src s;
	struct gate *g;
	size_t i;
	int j;

	(void)state;
	conf_small(&c);
	c.pkt_rate = 1;
	c.pkt_burst = 1;
	c.allow = allow;
	c.n_allow = sizeof(allow) / sizeof(allow[0]);
	g = mk(&c);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct sg_addr a = A(t[i].ip);
		enum gate_verdict v = GATE_PASS;

		assert_int_equal(gate_allowed(g, &a), t[i].allowed);
		for (j = 0; j < 5; j++)
			v = gate_check(g, &a, 100, 0);
		if (v != (t[i].allowed ? GATE_PASS : GATE_RATE))
			fail_msg("%s: verdict %d", t[i].ip, v);
		guard_src_from_addr(&s, &a);
		assert_int_equal(gate_ban(g, &s, 0, "r", "x", 0, 0),
				 t[i].allowed ? -EPERM : 0);
	}
	gate_free(g);
	assert_no_leaks();
}

static void test_allow_edges(void **state)
{
	static const char *const all4[] = {"0.0.0.0/0"};
	static const char *const all6[] = {"::/0"};
	static const char *const host6[] = {"2001:db8:1:2::7/128"};
	struct gate_conf c;
	struct gate *g;

	(void)state;
	conf_small(&c);
	c.pkt_rate = 1;
	c.pkt_burst = 1;
	c.allow = all4;
	c.n_allow = 1;
	g = mk(&c);
	assert_int_equal(check(g, "203.0.113.1", 0, 0), GATE_PASS);
	assert_int_equal(check(g, "203.0.113.1", 0, 0), GATE_PASS);
	assert_int_equal(check(g, "255.255.255.255", 0, 0), GATE_PASS);
	assert_int_equal(check(g, "2001:db8::1", 0, 0), GATE_PASS);
	assert_int_equal(check(g, "2001:db8::1", 0, 0), GATE_RATE);
	gate_free(g);

	c.allow = all6;
	g = mk(&c);
	assert_int_equal(check(g, "2001:db8::1", 0, 0), GATE_PASS);
	assert_int_equal(check(g, "2001:db8::1", 0, 0), GATE_PASS);
	assert_int_equal(check(g, "::1", 0, 0), GATE_PASS);
	assert_int_equal(check(g, "::1", 0, 0), GATE_PASS);
	assert_int_equal(check(g, "203.0.113.1", 0, 0), GATE_PASS);
	assert_int_equal(check(g, "203.0.113.1", 0, 0), GATE_RATE);
	gate_free(g);

	/* A /128 inside a /64: only that host is allowed; the /64 is
	 * still limited and can never be banned. */
	c.allow = host6;
	g = mk(&c);
	assert_int_equal(check(g, "2001:db8:1:2::8", 0, 0), GATE_PASS);
	assert_int_equal(check(g, "2001:db8:1:2::8", 0, 0), GATE_RATE);
	assert_int_equal(check(g, "2001:db8:1:2::7", 0, 0), GATE_PASS);
	assert_int_equal(check(g, "2001:db8:1:2::7", 0, 0), GATE_PASS);
	assert_int_equal(check(g, "2001:db8:1:2::9", 0, 0), GATE_RATE);
	{
		struct guard_src s = S("2001:db8:1:2::/64");
		struct guard_src s2 = S("2001:db8:1:3::/64");

		assert_int_equal(gate_ban(g, &s, 0, "r", "x", 0, 0), -EPERM);
		assert_int_equal(gate_ban(g, &s2, 0, "r", "x", 0, 0), 0);
	}
	gate_free(g);
	assert_no_leaks();
}

static void test_ipv6_grouping(void **state)
{
	struct guard_src s = S("2001:db8:5:6::1");
	struct gate_conf c;
	struct gate *g;

	(void)state;
	conf_small(&c);
	c.pkt_rate = 1;
	c.pkt_burst = 2;
	g = mk(&c);
	/* One /64, one bucket, whatever the interface identifier. */
	assert_int_equal(check(g, "2001:db8:5:6::1", 0, 0), GATE_PASS);
	assert_int_equal(check(g, "2001:db8:5:6:ffff::2", 0, 0), GATE_PASS);
	assert_int_equal(check(g, "2001:db8:5:6:1:2:3:4", 0, 0), GATE_RATE);
	assert_int_equal(check(g, "2001:db8:5:7::1", 0, 0), GATE_PASS);
	/* A ban taken from one address covers the whole /64. */
	assert_int_equal(gate_ban(g, &s, 0, "r", "x", 0, 0), 0);
	assert_int_equal(check(g, "2001:db8:5:6:dead:beef::", 0, 1),
			 GATE_BANNED);
	assert_int_equal(check(g, "2001:db8:5:7::1", 0, 1), GATE_PASS);
	/* Unknown families pass untouched. */
	{
		struct sg_addr a;

		memset(&a, 0, sizeof(a));
		a.u.sa.sa_family = AF_UNIX;
		assert_int_equal(gate_check(g, &a, 0, 1), GATE_PASS);
		assert_false(gate_allowed(g, &a));
	}
	gate_free(g);
	assert_no_leaks();
}

/* --- fixed memory --- */

static struct sg_addr addr4(uint32_t ip)
{
	struct sg_addr a;

	memset(&a, 0, sizeof(a));
	a.u.in.sin_family = AF_INET;
	a.u.in.sin_addr.s_addr = htonl(ip);
	a.len = sizeof(a.u.in);
	return a;
}

static void test_source_eviction(void **state)
{
	struct gate_stats st;
	struct gate_conf c;
	struct sg_addr a;
	struct gate *g;
	size_t total;
	uint32_t i;
	int j;

	(void)state;
	conf_small(&c);
	c.sources = 64;
	c.pkt_rate = 1;
	c.pkt_burst = 100;
	g = mk(&c);
	/* An attacker well ahead of its limit... */
	a = addr4(0xc6336401);
	for (j = 0; j < 150; j++)
		gate_check(g, &a, 0, 0);
	assert_int_equal(gate_check(g, &a, 0, 0), GATE_RATE);
	total = mem_total();
	/* ...survives 10x the table in one-packet sources... */
	for (i = 0; i < 640; i++) {
		struct sg_addr b = addr4(0x0a000000 + i);

		assert_int_equal(gate_check(g, &b, 0, 1 + i), GATE_PASS);
	}
	assert_int_equal(mem_total(), total);
	gate_stats(g, &st);
	assert_int_equal(st.src_used, 64);
	assert_true(st.src_evicted >= 640 - 63);
	/* ...and is still limited: its state was the one worth keeping. */
	assert_int_equal(gate_check(g, &a, 0, 700), GATE_RATE);
	gate_free(g);
	assert_no_leaks();
}

static void test_ban_table_full(void **state)
{
	static const uint64_t dur[] = {10000, 20000, 5000, 30000};
	struct gate_ban_info bi;
	struct guard_src s[6];
	struct gate_stats st;
	struct gate_conf c;
	struct gate *g;
	size_t i;

	(void)state;
	conf_small(&c);
	c.bans = 4;
	g = mk(&c);
	s[0] = S("192.0.2.10");
	s[1] = S("192.0.2.11");
	s[2] = S("192.0.2.12");
	s[3] = S("192.0.2.13");
	s[4] = S("192.0.2.14");
	s[5] = S("192.0.2.15");
	for (i = 0; i < 4; i++)
		assert_int_equal(gate_ban(g, &s[i], dur[i], "r", "x", 0, 0), 0);
	/* Full: the ban ending soonest (s[2]) goes. */
	assert_int_equal(gate_ban(g, &s[4], 1000, "r", "x", 0, 0), 0);
	assert_false(gate_is_banned(g, &s[2], 1));
	assert_true(gate_is_banned(g, &s[0], 1));
	assert_true(gate_is_banned(g, &s[1], 1));
	assert_true(gate_is_banned(g, &s[3], 1));
	assert_true(gate_is_banned(g, &s[4], 1));
	gate_stats(g, &st);
	assert_int_equal(st.bans_evicted, 1);
	assert_int_equal(st.bans_active, 4);
	assert_int_equal(st.bans_used, 4);
	/* A remembered offence goes before any ban in force: s[4] lapsed
	 * at 1000, even though s[0] ends sooner than s[3]. */
	assert_int_equal(gate_ban(g, &s[5], 1000, "r", "x", 2000, 0), 0);
	assert_int_equal(gate_ban_get(g, &s[4], 2000, &bi), -ENOENT);
	assert_true(gate_is_banned(g, &s[0], 2000));
	assert_true(gate_is_banned(g, &s[5], 2000));
	gate_stats(g, &st);
	assert_int_equal(st.bans_evicted, 2);
	assert_int_equal(st.bans_active, 4);
	gate_free(g);

	/* A big table under a ban storm: always room, never allocates. */
	conf_small(&c);
	c.bans = 100;
	g = mk(&c);
	{
		size_t total = mem_total();
		struct guard_src x;
		struct sg_addr a;

		for (i = 0; i < 1000; i++) {
			a = addr4(0xcb007100 + (uint32_t)i);
			guard_src_from_addr(&x, &a);
			assert_int_equal(gate_ban(g, &x, 0, "r", "x", i, 0), 0);
			assert_true(gate_is_banned(g, &x, i));
		}
		assert_int_equal(mem_total(), total);
	}
	gate_stats(g, &st);
	assert_int_equal(st.bans_used, 100);
	assert_int_equal(st.bans_evicted, 900);
	gate_free(g);
	assert_no_leaks();
}

static void test_iteration(void **state)
{
	static const char *const srcs[] = {"192.0.2.1", "192.0.2.2",
					   "2001:db8:1::/64", "192.0.2.3"};
	struct gate_ban_info bi;
	struct gate_conf c;
	struct gate *g;
	size_t cur, n, i;
	unsigned seen;

	(void)state;
	conf_small(&c);
	c.ban_memory_ms = 100000;
	g = mk(&c);
	for (i = 0; i < 4; i++) {
		struct guard_src s = S(srcs[i]);

		assert_int_equal(gate_ban(g, &s, i == 3 ? 10 : 60000, srcs[i],
					  "it", 0, 0),
				 0);
	}
	cur = 0;
	n = 0;
	seen = 0;
	while (gate_ban_next(g, &cur, 100, false, &bi)) {
		char buf[64];

		assert_true(bi.active);
		for (i = 0; i < 4; i++)
			if (strcmp(guard_src_fmt(&bi.src, buf, sizeof(buf)),
				   srcs[i]) == 0 ||
			    (i == 2 && strcmp(buf, "2001:db8:1::/64") == 0))
				seen |= 1u << i;
		/* The rule was set to the source text. */
		assert_string_equal(bi.rule, buf);
		n++;
	}
	assert_int_equal(n, 3);
	assert_int_equal(seen, 7);
	cur = 0;
	n = 0;
	while (gate_ban_next(g, &cur, 100, true, &bi))
		n++;
	assert_int_equal(n, 4);
	/* Past the memory time the dormant one is no longer listed. */
	cur = 0;
	n = 0;
	while (gate_ban_next(g, &cur, 200000, true, &bi))
		n++;
	assert_int_equal(n, 0);
	gate_free(g);
	assert_no_leaks();
}

static void test_expire_slices(void **state)
{
	struct gate_stats st;
	struct gate_conf c;
	struct guard_src s;
	struct sg_addr a;
	struct gate *g;
	size_t changed = 0, calls = 0, n;
	uint32_t i;

	(void)state;
	conf_small(&c);
	c.bans = 128;
	c.ban_first_ms = 1000;
	c.ban_memory_ms = 0;
	g = mk(&c);
	for (i = 0; i < 100; i++) {
		a = addr4(0xc0000200 + i);
		guard_src_from_addr(&s, &a);
		assert_int_equal(gate_ban(g, &s, 0, "r", "x", 0, 0), 0);
	}
	while (changed < 100) {
		n = gate_expire(g, 1000, 10);
		assert_true(n <= 10);
		changed += n;
		assert_true(++calls <= 13);
	}
	gate_stats(g, &st);
	assert_int_equal(st.bans_active, 0);
	assert_int_equal(st.bans_used, 0);
	assert_int_equal(gate_expire(g, 1000, 1000000), 0);
	gate_free(g);
	assert_no_leaks();
}

static void test_no_alloc_in_checks(void **state)
{
	static const char *const allow[] = {"10.0.0.0/8",
					    "2001:db8:9:9::1/128"};
	struct gate_conf c;
	struct guard_src s;
	struct sg_addr a;
	struct gate *g;
	size_t total;
	uint32_t i;

	(void)state;
	memset(&s, 0, sizeof(s));
	gate_conf_default(&c);
	c.sources = 256;
	c.bans = 32;
	c.pkt_rate = 50;
	c.byte_rate = 20000;
	c.byte_burst = 70000;
	c.allow = allow;
	c.n_allow = 2;
	g = mk(&c); /* random hash key this time */
	total = mem_total();
	for (i = 0; i < 100000; i++) {
		uint64_t now = i / 10;

		if (i % 3 == 0) {
			a = addr4(0xc6336400 + i % 1000);
		} else if (i % 3 == 1) {
			a = A("2001:db8:9:9::1");
			a.u.in6.sin6_addr.s6_addr[15] = (uint8_t)i;
			a.u.in6.sin6_addr.s6_addr[7] = (uint8_t)(i >> 8);
		} else {
			a = addr4(0x0a000000 + i);
		}
		gate_check(g, &a, i % 1500, now);
		if (i % 97 == 0) {
			guard_src_from_addr(&s, &a);
			gate_ban(g, &s, 0, "r", "x", now, now);
		}
		if (i % 101 == 0)
			gate_unban(g, &s);
		if (i % 50 == 0)
			gate_expire(g, now, 8);
	}
	assert_int_equal(mem_total(), total);
	gate_free(g);
	assert_no_leaks();
}

static void test_oom(void **state)
{
	struct gate_conf c;
	struct gate *g;
	char err[64];
	size_t n;
	int rc;

	(void)state;
	conf_small(&c);
	for (n = 1; n < 10; n++) {
		mem_fail_nth(n);
		rc = gate_new(&g, &c, err, sizeof(err));
		mem_fail_nth(0);
		if (rc == 0) {
			gate_free(g);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_null(g);
		assert_no_leaks();
	}
	assert_true(n > 1 && n < 10);
	assert_no_leaks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_src_parse),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_packet_bucket),
		cmocka_unit_test(test_burst_default),
		cmocka_unit_test(test_byte_bucket),
		cmocka_unit_test(test_ban_unban),
		cmocka_unit_test(test_ban_expiry),
		cmocka_unit_test(test_lapsed_callback),
		cmocka_unit_test(test_escalation),
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_allow_edges),
		cmocka_unit_test(test_ipv6_grouping),
		cmocka_unit_test(test_source_eviction),
		cmocka_unit_test(test_ban_table_full),
		cmocka_unit_test(test_iteration),
		cmocka_unit_test(test_expire_slices),
		cmocka_unit_test(test_no_alloc_in_checks),
		cmocka_unit_test(test_oom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
