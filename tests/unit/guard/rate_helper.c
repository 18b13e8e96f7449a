/*
 * rate_helper.c - authentication-failure and request-rate instances
 * sharing through a store, for the unit tests (see rate_helper.h).
 */
#include "rate_helper.h"

#include "../redis_helper.h"
#include "../test.h"

#include "core/addr.h"
#include "core/loop.h"

static void ev_resync(void *arg)
{
	struct rh_inst *in = arg;

	in->resyncs++;
}

static void on_ban(void *arg, const struct guard_src *src, const char *rule,
		   const char *why, uint64_t now_ms)
{
	struct rh_inst *in = arg;

	(void)why;
	(void)now_ms;
	in->bans++;
	in->banned = *src;
	in->rule = rule;
}

static void on_fail(void *arg, const struct guard_src *src, uint32_t count,
		    uint32_t limit, uint64_t window_ms, uint64_t now_ms)
{
	struct rh_inst *in = arg;

	rate_share_hit(in->rs, RATE_SHARE_AUTH_SRC, src, count, limit,
		       window_ms, now_ms);
}

static void on_user(void *arg, uint64_t cl_h, uint64_t user_h, uint32_t count,
		    uint32_t limit, uint64_t window_ms, uint64_t now_ms)
{
	struct rh_inst *in = arg;

	rate_share_hit_user(in->rs, cl_h, user_h, count, limit, window_ms,
			    now_ms);
}

static void on_lock(void *arg, uint64_t user_h, uint64_t now_ms)
{
	struct rh_inst *in = arg;

	if (authfail_lock_user(in->f, user_h, now_ms))
		in->bans++;
}

void rh_new(struct rh_inst *in, struct loop *l, const char *name,
	    const char *prefix, const struct rh_opts *o)
{
	struct store_events ev = {NULL, NULL, ev_resync, in};
	uint8_t key[STORE_USER_KEY_LEN];
	struct auth_conf ac;
	struct store_conf c;

	memset(in, 0, sizeof(*in));
	auth_conf_default(&ac);
	ac.fail.window_ms = RH_DAY_MS;
	ac.fail.ip_max = 10;
	ac.fail.ip_known_good_max = 30;
	ac.fail.user_max = o->user_max;
	ac.fail.userip_max = 100;
	redis_helper_store_conf(&c, o->port, o->redis, name, prefix);
	c.secret = o->secret;
	assert_int_equal(store_new(&in->s, l, &c, NULL, 0), 0);
	store_set_events(in->s, &ev);
	assert_int_equal(authfail_new(&in->f, &ac.fail), 0);
	assert_int_equal(rate_share_new(&in->rs, on_ban, in), 0);
	if (o->what & RH_SRC)
		authfail_set_hook(in->f, on_fail, in);
	if (o->what & RH_LOCK)
		rate_share_set_lock(in->rs, on_lock, in);
	if (o->what & RH_USERS) {
		if (store_user_key(in->s, key) == 0)
			authfail_set_user_hook(in->f, key, on_user, in);
		else
			assert_true(!o->secret || !*o->secret);
	}
	rate_share_attach(in->rs, in->s, l);
	assert_int_equal(store_start(in->s), 0);
	if (o->redis)
		assert_true(redis_helper_spin(l, &in->resyncs, 1));
}

void rh_free(struct rh_inst *in)
{
	rate_share_attach(in->rs, NULL, NULL);
	store_free(in->s);
	rate_share_free(in->rs);
	authfail_free(in->f);
}

void rh_settle(struct loop *l)
{
	int i;

	for (i = 0; i < 60; i++)
		(void)loop_run_once(l, 10);
}

enum authfail_outcome rh_fail(struct rh_inst *in, struct loop *l,
			      const char *addr, const char *user)
{
	struct authfail_key k;
	struct sg_addr a;

	assert_int_equal(sg_addr_parse(&a, str_cstr(addr), 5060), 0);
	authfail_key(in->f, &k, &a, str_cstr(user));
	return authfail_failure(in->f, &k, true, loop_now(l));
}
