/*
 * test_rate_keys.c - the source addresses in the shared failure and
 * request-rate windows Redis holds (rate_share.c, issue 9), against a
 * real redis-server (Debian's) started here on 127.0.0.1:43500 and
 * stopped by pid.  Every key is read back (KEYS) and checked: no address
 * (IPv4, IPv6 or its /64) nor user name in clear, each window named by
 * its family and 16 hex digits (store_hkey()), one key per IPv6 /64.
 * Two instances with the same store.secret still share a source's
 * window (5 + 5 failures ban at 10); with different secrets they do
 * not; with none (nor a password) they share it under the public key,
 * still without addresses in clear.  store_hkey() itself: table-driven.
 * Skipped (the Redis tests) when redis-server is not installed.  Waits
 * are bounded loop turns, never sleeps.
 */
#include "test.h"
#include "redis_helper.h"
#include "guard/rate_helper.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <hiredis/hiredis.h>

#include "core/loop.h"
#include "guard/auth.h"
#include "guard/rate_share.h"
#include "store/store.h"

#define REDIS_PORT "43500"

static int start_redis(void **state)
{
	(void)state;
	return redis_helper_start(REDIS_PORT);
}

/* One instance under prefix counting per source and (with a secret)
 * per user; secret NULL: none (nor a password), and then no per-user
 * sharing (as guard_share.c). */
static void mk(struct rh_inst *in, struct loop *l, const char *name,
	       const char *prefix, const char *secret)
{
	struct rh_opts o = {REDIS_PORT, true, RH_SRC | RH_USERS, 100, secret};

	rh_new(in, l, name, prefix, &o);
}

/* n request-rate hits of kind from addr, local counts 1..n. */
static void rhits(struct rh_inst *in, struct loop *l, enum rate_share_kind kind,
		  const char *addr, uint32_t n, uint32_t limit)
{
	struct guard_src src;
	struct sg_addr a;
	uint32_t i;

	assert_int_equal(sg_addr_parse(&a, str_cstr(addr), 5060), 0);
	guard_src_from_addr(&src, &a);
	for (i = 1; i <= n; i++)
		rate_share_hit(in->rs, kind, &src, i, limit, RH_DAY_MS,
			       loop_now(l));
}

static bool is_hex16(const char *p)
{
	size_t i;

	for (i = 0; i < 16; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		      (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return p[16] == ':';
}

/*
 * The keys under prefix: none holds a text of clear; every rate key is
 * "rate:", a family "xx:", 16 hex digits, ":N".  counts[] gets the
 * number of distinct windows (family and hash, whatever N) per family
 * (ra, ri, rr, au).
 */
static void rate_keys(const char *prefix, const char *const *clear,
		      size_t counts[4])
{
	static const char *const fam[] = {"ra:", "ri:", "rr:", "au:"};
	redisContext *c = redisConnect("127.0.0.1", atoi(REDIS_PORT));
	char seen[32][3 + 16 + 1];
	size_t i, j, m, ns = 0, plen = strlen(prefix);
	redisReply *r;

	assert_non_null(c);
	assert_int_equal(c->err, 0);
	r = redisCommand(c, "KEYS %s*", prefix);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	memset(counts, 0, 4 * sizeof(counts[0]));
	for (i = 0; i < r->elements; i++) {
		const char *k = r->element[i]->str;
		const char *p = k + plen;

		for (j = 0; clear[j]; j++)
			if (strstr(k, clear[j]))
				fail_msg("%s in clear in key %s", clear[j], k);
		if (strncmp(p, "rate:", 5))
			continue; /* heartbeats */
		p += 5;
		for (j = 0; j < 4 && strncmp(p, fam[j], 3); j++)
			;
		if (j == 4)
			fail_msg("unknown rate key %s", k);
		assert_true(is_hex16(p + 3));
		/* Fixed length: the window's index follows. */
		assert_true(strlen(p) > 3 + 16 + 1 &&
			    strlen(p) <= 3 + 16 + 1 + 20);
		/* A window's periods (":N") count once. */
		for (m = 0; m < ns && strncmp(seen[m], p, 3 + 16); m++)
			;
		if (m < ns)
			continue;
		assert_true(ns < 32);
		memcpy(seen[ns], p, 3 + 16);
		seen[ns++][3 + 16] = '\0';
		counts[j]++;
	}
	freeReplyObject(r);
	redisFree(c);
}

/* Failures from an IPv4 and two IPv6 sources of one /64, INVITEs and
 * REGISTERs, users' failures: four families, 4 + 1 + 1 sources' windows
 * (one for the /64), 4 users, and no address or name anywhere in a
 * key. */
static void test_no_clear_addresses(void **state)
{
	static const char *const clear[] = {
		"203.0.113", "203-0-113", "cb007109", "2001:db8", ":aa:",
		"::",        "/64",       "alice",    NULL,
	};
	size_t counts[4];
	struct rh_inst a, b;
	struct loop *l;
	int i;

	(void)state;
	l = redis_helper_loop();
	mk(&a, l, "rk-a", "rkunit1:", "rk secret");
	mk(&b, l, "rk-b", "rkunit1:", "rk secret");
	for (i = 0; i < 3; i++) {
		rh_fail(&a, l, "203.0.113.9", "x");
		rh_fail(&b, l, "2001:db8:aa:bb::1", "y");
		rh_fail(&b, l, "2001:db8:aa:bb:ffff::2", "z");
		rh_fail(&a, l, "2001:db8:aa:cc::1", "alice");
		rh_fail(&b, l, "203.0.113.10", "alice");
	}
	rhits(&a, l, RATE_SHARE_INVITE_SRC, "203.0.113.20", 4, 16);
	rhits(&b, l, RATE_SHARE_REGISTER_SRC, "2001:db8:aa:dd::7", 4, 16);
	rh_settle(l);
	assert_int_equal(a.bans + b.bans, 0);
	rate_keys("rkunit1:", clear, counts);
	/* 203.0.113.9, .10, the /64 aa:bb (two addresses), aa:cc. */
	assert_int_equal(counts[0], 4);
	assert_int_equal(counts[1], 1);
	assert_int_equal(counts[2], 1);
	assert_int_equal(counts[3], 4); /* x, y, z, alice */
	rh_free(&a);
	rh_free(&b);
	loop_free(l);
	assert_no_leaks();
}

/* 5 + 5 failures of one source through two instances: 10 in the
 * window, banned under the hashed key; the ban names the address. */
static void split_bans(const char *prefix, const char *sa, const char *sb,
		       bool shared)
{
	static const char *const clear[] = {"198.51.100", NULL};
	size_t counts[4];
	struct rh_inst a, b;
	struct loop *l;
	char txt[64];
	int i;

	l = redis_helper_loop();
	mk(&a, l, "rk-c", prefix, sa);
	mk(&b, l, "rk-d", prefix, sb);
	for (i = 0; i < 4; i++) {
		rh_fail(&a, l, "198.51.100.5", "u");
		rh_fail(&b, l, "198.51.100.5", "v");
		rh_settle(l);
	}
	assert_int_equal(a.bans + b.bans, 0);
	rh_fail(&a, l, "198.51.100.5", "u");
	rh_fail(&b, l, "198.51.100.5", "v");
	for (i = 0; i < 100 && a.bans + b.bans == 0; i++)
		(void)loop_run_once(l, 10);
	rh_settle(l);
	rate_keys(prefix, clear, counts);
	if (shared) {
		assert_true(a.bans + b.bans >= 1);
		assert_string_equal(
			guard_src_fmt(a.bans ? &a.banned : &b.banned, txt,
				      sizeof(txt)),
			"198.51.100.5");
		assert_int_equal(counts[0], 1);
	} else {
		assert_int_equal(a.bans + b.bans, 0);
		assert_int_equal(counts[0], 2); /* a window per secret */
	}
	rh_free(&a);
	rh_free(&b);
	loop_free(l);
	assert_no_leaks();
}

static void test_same_secret_shares(void **state)
{
	(void)state;
	split_bans("rkunit2:", "one secret", "one secret", true);
}

static void test_other_secret_apart(void **state)
{
	(void)state;
	split_bans("rkunit3:", "one secret", "another secret", false);
}

/* Neither secret nor password: still one window (public key). */
static void test_no_secret_public_key(void **state)
{
	(void)state;
	split_bans("rkunit4:", NULL, NULL, true);
}

/* store_hkey(): fixed length whatever the hash, family cut at its
 * bound, most significant digit first. */
static void test_hkey(void **state)
{
	static const struct {
		const char *fam;
		uint64_t h;
		const char *want;
	} t[] = {
		{"ra:", 0, "ra:0000000000000000"},
		{"ra:", 1, "ra:0000000000000001"},
		{"fc:", 0x0123456789abcdefULL, "fc:0123456789abcdef"},
		{"au:", UINT64_MAX, "au:ffffffffffffffff"},
		{"", 0xa, "000000000000000a"},
		{NULL, 0xa, "000000000000000a"},
		{"0123456789abcdefXYZ", 0, "0123456789abcde0000000000000000"},
	};
	char buf[STORE_HKEY_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct str k = store_hkey(buf, t[i].fam, t[i].h);

		assert_int_equal(k.len, strlen(t[i].want));
		assert_memory_equal(k.p, t[i].want, k.len);
		assert_int_equal(buf[k.len], '\0');
		assert_true(k.len < STORE_HKEY_MAX);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hkey),
		cmocka_unit_test(test_no_clear_addresses),
		cmocka_unit_test(test_same_secret_shares),
		cmocka_unit_test(test_other_secret_apart),
		cmocka_unit_test(test_no_secret_public_key),
	};
	int rc = cmocka_run_group_tests(tests, start_redis, redis_helper_stop);

	assert_no_leaks();
	return rc;
}
