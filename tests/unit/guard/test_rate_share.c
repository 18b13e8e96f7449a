/*
 * test_rate_share.c - authentication failures per source counted in a
 * global window across instances (rate_share.c) against a real
 * redis-server (Debian's), started here on 127.0.0.1:38451 and stopped
 * by pid: two authfail tables, each with its own store and rate_share,
 * on one loop play two instances.  Failures of one source split over
 * both stay under each local limit and cross the global one together;
 * sources under the floor are never pushed; request rates ban over
 * their limit, not at it, each class its own window; the memory backend and a
 * detached share push nothing.  Failures per user: split over both
 * instances they lock the user on both, under a keyed hash (never the
 * name in Redis); another secret is another cluster, none keeps them
 * local.  Skipped when redis-server is not
 * installed.  Waits are bounded loop turns, never sleeps.
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

#define REDIS_PORT "38451"

static int start_redis(void **state)
{
	(void)state;
	return redis_helper_start(REDIS_PORT);
}

/* One instance under prefix (Redis, or memory): failures per source,
 * or with users per user (user_max 6) shared under the cluster key of
 * secret ("" / NULL: none) and locked by the cluster's lock. */
static void mk_inst(struct rh_inst *in, struct loop *l, const char *name,
		    const char *prefix, bool redis, bool users,
		    const char *secret)
{
	struct rh_opts o = {REDIS_PORT, redis,
			    users ? RH_USERS | RH_LOCK : RH_SRC,
			    users ? 6 : 100, users ? secret : NULL};

	rh_new(in, l, name, prefix, &o);
}

static void mk(struct rh_inst *in, struct loop *l, const char *name,
	       const char *prefix, bool redis)
{
	mk_inst(in, l, name, prefix, redis, false, NULL);
}

/* The end of a two-instance test. */
static void rm_pair(struct loop *l, struct rh_inst *a, struct rh_inst *b)
{
	rh_free(a);
	rh_free(b);
	loop_free(l);
}

/* 10 failures split 5/5 over two instances: neither bans locally, the
 * cluster does once the global window holds 10. */
static void test_split_crosses_together(void **state)
{
	struct rate_share_stats st;
	struct rh_inst a, b;
	struct loop *l;
	char txt[64];
	int i;

	(void)state;
	l = redis_helper_loop();
	mk(&a, l, "rs-a", "rsunit1:", true);
	mk(&b, l, "rs-b", "rsunit1:", true);
	for (i = 0; i < 4; i++) {
		assert_int_equal(rh_fail(&a, l, "203.0.113.9", "alice"),
				 AUTHFAIL_COUNTED);
		assert_int_equal(rh_fail(&b, l, "203.0.113.9", "bob"),
				 AUTHFAIL_COUNTED);
		rh_settle(l);
	}
	/* 8 in the cluster, under 10: nobody bans. */
	assert_int_equal(a.bans + b.bans, 0);
	assert_int_equal(rh_fail(&a, l, "203.0.113.9", "carol"),
			 AUTHFAIL_COUNTED);
	assert_int_equal(rh_fail(&b, l, "203.0.113.9", "dave"),
			 AUTHFAIL_COUNTED);
	for (i = 0; i < 100 && a.bans + b.bans == 0; i++)
		(void)loop_run_once(l, 10);
	assert_true(a.bans + b.bans >= 1);
	if (a.bans) {
		assert_string_equal(a.rule, "auth-bruteforce-ip");
		assert_string_equal(guard_src_fmt(&a.banned, txt, sizeof(txt)),
				    "203.0.113.9");
	}
	rate_share_get_stats(a.rs, &st);
	assert_int_equal(st.hits, 5);
	/* Below the floor nothing went, then every hit exactly once. */
	assert_int_equal(st.pushed, 5 - RATE_SHARE_FLOOR + RATE_SHARE_FLOOR);
	assert_true(st.pushes >= 1 && st.pushes <= 4);
	/* A source with one failure per instance never leaves them. */
	(void)rh_fail(&a, l, "198.51.100.7", "x");
	(void)rh_fail(&b, l, "198.51.100.7", "x");
	rh_settle(l);
	rate_share_get_stats(b.rs, &st);
	assert_int_equal(st.pushed, 5);
	rm_pair(l, &a, &b);
}

/* Instances under different prefixes do not share: local limits. */
static void test_separate_windows(void **state)
{
	struct rh_inst a, b;
	struct loop *l;
	int i;

	(void)state;
	l = redis_helper_loop();
	mk(&a, l, "rs-c", "rsunit2a:", true);
	mk(&b, l, "rs-d", "rsunit2b:", true);
	for (i = 0; i < 9; i++) {
		assert_int_equal(rh_fail(&a, l, "203.0.113.10", "u"),
				 AUTHFAIL_COUNTED);
		assert_int_equal(rh_fail(&b, l, "203.0.113.10", "u"),
				 AUTHFAIL_COUNTED);
		rh_settle(l);
	}
	assert_int_equal(a.bans + b.bans, 0);
	/* The 10th local one still bans locally, as without a store. */
	assert_int_equal(rh_fail(&a, l, "203.0.113.10", "u"), AUTHFAIL_BAN_IP);
	rm_pair(l, &a, &b);
}

/* n hits of kind from src on in, local counts from..from+n-1. */
static void hits(struct rh_inst *in, struct loop *l, enum rate_share_kind kind,
		 const char *addr, uint32_t from, uint32_t n, uint32_t limit)
{
	struct guard_src src;
	struct sg_addr a;
	uint32_t i;

	assert_int_equal(sg_addr_parse(&a, str_cstr(addr), 5060), 0);
	guard_src_from_addr(&src, &a);
	for (i = 0; i < n; i++)
		rate_share_hit(in->rs, kind, &src, from + i, limit, RH_DAY_MS,
			       loop_now(l));
}

/* Request rates: floor limit / 8, banned over the limit (not at it),
 * as inspect drops; rule and prefix of their own. */
static void test_request_rates(void **state)
{
	struct rate_share_stats st;
	struct rh_inst a, b;
	struct loop *l;
	int i;

	(void)state;
	l = redis_helper_loop();
	mk(&a, l, "rs-e", "rsunit4:", true);
	mk(&b, l, "rs-f", "rsunit4:", true);
	/* Floor of 80 is 10: 9 local INVITEs never leave the instance. */
	hits(&a, l, RATE_SHARE_INVITE_SRC, "203.0.113.20", 1, 9, 80);
	rh_settle(l);
	rate_share_get_stats(a.rs, &st);
	assert_int_equal(st.pushes, 0);
	/* 8 + 8 of limit 16: at the limit, not over it: no ban. */
	hits(&a, l, RATE_SHARE_INVITE_SRC, "203.0.113.21", 1, 8, 16);
	hits(&b, l, RATE_SHARE_INVITE_SRC, "203.0.113.21", 1, 8, 16);
	rh_settle(l);
	rh_settle(l);
	assert_int_equal(a.bans + b.bans, 0);
	/* The REGISTERs of that source are another window. */
	hits(&b, l, RATE_SHARE_REGISTER_SRC, "203.0.113.21", 2, 1, 16);
	rh_settle(l);
	assert_int_equal(a.bans + b.bans, 0);
	/* One more INVITE: 17 > 16, banned by the one that pushed it. */
	hits(&b, l, RATE_SHARE_INVITE_SRC, "203.0.113.21", 9, 1, 16);
	for (i = 0; i < 100 && b.bans == 0; i++)
		(void)loop_run_once(l, 10);
	assert_int_equal(b.bans, 1);
	assert_int_equal(a.bans, 0);
	assert_string_equal(b.rule, "rate-invite");
	rm_pair(l, &a, &b);
}

/* Memory backend and a detached share: nothing pushed, local only. */
static void test_local_only(void **state)
{
	struct rate_share_stats st;
	struct rh_inst a;
	struct loop *l;
	int i;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	mk(&a, l, "rs-m", "rsunit3:", false);
	for (i = 0; i < 9; i++)
		(void)rh_fail(&a, l, "203.0.113.11", "u");
	rh_settle(l);
	rate_share_get_stats(a.rs, &st);
	assert_int_equal(st.pushes, 0);
	assert_int_equal(a.bans, 0);
	rate_share_attach(a.rs, NULL, NULL);
	(void)rh_fail(&a, l, "203.0.113.11", "u");
	rate_share_get_stats(a.rs, &st);
	assert_int_equal(st.pushes, 0);
	/* NULL share: every entry point is a no-op. */
	rate_share_hit(NULL, RATE_SHARE_AUTH_SRC, NULL, 5, 10, 1000, 0);
	rate_share_flush(NULL, 0);
	rate_share_free(NULL);
	rh_free(&a);
	loop_free(l);
}

/* ---------------------------------------------- failures per user */

/* An instance whose users lock at user_max 6, sharing per-user counts
 * under the cluster key of secret ("" / NULL: none). */
static void mk_user(struct rh_inst *in, struct loop *l, const char *name,
		    const char *prefix, const char *secret)
{
	mk_inst(in, l, name, prefix, true, true, secret);
}

static enum authfail_state ucheck(struct rh_inst *in, struct loop *l,
				  const char *addr, const char *user)
{
	struct authfail_key k;
	struct sg_addr a;

	assert_int_equal(sg_addr_parse(&a, str_cstr(addr), 5060), 0);
	authfail_key(in->f, &k, &a, str_cstr(user));
	return authfail_check(in->f, &k, loop_now(l));
}

/* Is any Redis key under prefix holding text? (the user's name must
 * never be there in clear) */
static bool redis_has(const char *prefix, const char *text)
{
	redisContext *c = redisConnect("127.0.0.1", atoi(REDIS_PORT));
	redisReply *r;
	bool found = false;
	size_t i;

	assert_non_null(c);
	r = redisCommand(c, "KEYS %s*", prefix);
	assert_non_null(r);
	for (i = 0; i < r->elements; i++)
		if (strstr(r->element[i]->str, text))
			found = true;
	assert_true(r->elements > 0);
	freeReplyObject(r);
	redisFree(c);
	return found;
}

/* Six wrong passwords for alice, three through each instance from six
 * sources: no instance reaches user_max 6 alone; the cluster does, and
 * alice is locked on both (the second within a batch, by reading). */
static void test_user_lock_across(void **state)
{
	static const char *const src[] = {
		"203.0.113.31", "203.0.113.32", "203.0.113.33", "203.0.113.34",
		"203.0.113.35", "203.0.113.36", "203.0.113.37", "203.0.113.38",
	};
	struct rate_share_stats st;
	struct rh_inst a, b;
	struct loop *l;
	int i;

	(void)state;
	l = redis_helper_loop();
	mk_user(&a, l, "ru-a", "rsunit5:", "s3cret");
	mk_user(&b, l, "ru-b", "rsunit5:", "s3cret");
	for (i = 0; i < 4; i++) {
		(void)rh_fail(i % 2 ? &b : &a, l, src[i], "alice");
		rh_settle(l);
	}
	assert_int_equal(a.bans + b.bans, 0);
	assert_int_equal(ucheck(&a, l, "198.51.100.1", "alice"), AUTHFAIL_OK);
	for (i = 4; i < 6; i++) {
		(void)rh_fail(i % 2 ? &b : &a, l, src[i], "alice");
		rh_settle(l);
	}
	/* 6 in the cluster: b pushed the 6th and locked alice. */
	assert_int_equal(b.bans, 1);
	assert_int_equal(ucheck(&b, l, "198.51.100.1", "alice"),
			 AUTHFAIL_USER_LOCKED);
	/* a saw her at 5 (over half of 6): it reads her window every batch
	 * and locks her without another failure here. */
	for (i = 0; i < 100 && a.bans == 0; i++)
		(void)loop_run_once(l, 10);
	assert_int_equal(a.bans, 1);
	assert_int_equal(ucheck(&a, l, "198.51.100.1", "alice"),
			 AUTHFAIL_USER_LOCKED);
	/* bob is someone else; no source was banned. */
	assert_int_equal(ucheck(&a, l, "198.51.100.1", "bob"), AUTHFAIL_OK);
	rate_share_get_stats(a.rs, &st);
	assert_true(st.pushes >= 2);
	assert_true(st.polls >= 1);
	/* Locked: no more reads. */
	rh_settle(l);
	rate_share_get_stats(a.rs, &st);
	i = (int)st.polls;
	rh_settle(l);
	rate_share_get_stats(a.rs, &st);
	assert_int_equal(st.polls, (uint64_t)i);
	/* Redis holds a keyed hash of alice, never her name. */
	assert_false(redis_has("rsunit5:", "alice"));
	rm_pair(l, &a, &b);
}

/* Another secret is another cluster: no common count; no secret at all
 * (nor password): per-user counts stay local, nothing pushed. */
static void test_user_secrets(void **state)
{
	struct rate_share_stats st;
	struct rh_inst a, b, c;
	struct loop *l;
	int i;

	(void)state;
	l = redis_helper_loop();
	mk_user(&a, l, "ru-c", "rsunit6:", "one");
	mk_user(&b, l, "ru-d", "rsunit6:", "two");
	mk_user(&c, l, "ru-e", "rsunit6:", NULL);
	for (i = 0; i < 5; i++) {
		(void)rh_fail(&a, l, "203.0.113.41", "carol");
		(void)rh_fail(&b, l, "203.0.113.42", "carol");
		(void)rh_fail(&c, l, "203.0.113.43", "carol");
		rh_settle(l);
	}
	assert_int_equal(a.bans + b.bans + c.bans, 0);
	rate_share_get_stats(c.rs, &st);
	assert_int_equal(st.pushes, 0);
	/* The 6th local failure still locks locally. */
	(void)rh_fail(&c, l, "203.0.113.43", "carol");
	assert_int_equal(ucheck(&c, l, "198.51.100.1", "carol"),
			 AUTHFAIL_USER_LOCKED);
	assert_int_equal(ucheck(&a, l, "198.51.100.1", "carol"), AUTHFAIL_OK);
	rh_free(&a);
	rh_free(&b);
	rh_free(&c);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_crosses_together),
		cmocka_unit_test(test_separate_windows),
		cmocka_unit_test(test_request_rates),
		cmocka_unit_test(test_local_only),
		cmocka_unit_test(test_user_lock_across),
		cmocka_unit_test(test_user_secrets),
	};
	int rc = cmocka_run_group_tests(tests, start_redis, redis_helper_stop);

	assert_no_leaks();
	return rc;
}
