/*
 * guard_share.c - the guard's side of rate_share.c (issue 9): feeds it
 * the authentication failures counted per source and per user and the
 * INVITE and REGISTER rates per source (inspect), bans a source whose
 * cluster-wide count crossed its limit through the gate, with an event,
 * as a local brute-force ban (bansync then shares the ban), and locks a
 * user whose failures crossed user_max across the cluster.
 */
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"
#include "events/events.h"
#include "guard/auth.h"
#include "guard/gate.h"
#include "guard/guard.h"
#include "guard/guard_int.h"
#include "guard/inspect.h"
#include "guard/rate_share.h"
#include "store/store.h"

static uint64_t wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void addr_of(struct sg_addr *a, const struct guard_src *src,
		    uint8_t *plen)
{
	memset(a, 0, sizeof(*a));
	if (src->family == AF_INET6) {
		a->u.in6.sin6_family = AF_INET6;
		memcpy(&a->u.in6.sin6_addr, src->b, 8);
		a->len = sizeof(a->u.in6);
		*plen = 64;
	} else {
		a->u.in.sin_family = AF_INET;
		memcpy(&a->u.in.sin_addr, src->b, 4);
		a->len = sizeof(a->u.in);
	}
}

/* rate_share's ban: the gate's rule duration (escalating), an event;
 * a rule in monitor mode only reports what it would have done. */
static void on_cluster_ban(void *arg, const struct guard_src *src,
			   const char *rule, const char *why, uint64_t now_ms)
{
	struct guard *g = arg;
	uint64_t wall = wall_now();
	bool mon = rules_hit(g->rules, guard__rule_id(g, rule));
	struct ev e;

	/* -EPERM: allow-listed here, which wins as for every ban. */
	if (!mon && gate_ban(g->gate, src, 0, rule, why, now_ms, wall) != 0)
		return;
	if (!g->ev)
		return;
	memset(&e, 0, sizeof(e));
	e.type = mon ? EV_WOULD_BAN : EV_BAN;
	e.event = guard__event_of(rule);
	e.action = mon ? EV_ACT_PASS : EV_ACT_BAN;
	e.rule = rule;
	e.reason = str_cstr(why);
	addr_of(&e.src, src, &e.src_plen);
	(void)evlog_emit(g->ev, &e, now_ms, wall);
}

static void on_auth_fail(void *arg, const struct guard_src *src, uint32_t count,
			 uint32_t limit, uint64_t window_ms, uint64_t now_ms)
{
	struct guard *g = arg;

	rate_share_hit(g->rshare, RATE_SHARE_AUTH_SRC, src, count, limit,
		       window_ms, now_ms);
}

/* A failure counted against a user (the cluster key is set). */
static void on_user_fail(void *arg, uint64_t cl_user_h, uint64_t user_h,
			 uint32_t count, uint32_t limit, uint64_t window_ms,
			 uint64_t now_ms)
{
	struct guard *g = arg;

	rate_share_hit_user(g->rshare, cl_user_h, user_h, count, limit,
			    window_ms, now_ms);
}

/* The user's failures reached user_max across the cluster: lock it
 * here as authfail would (its requests get auth-user-locked). */
static void on_cluster_lock(void *arg, uint64_t user_h, uint64_t now_ms)
{
	struct guard *g = arg;

	if (g->auth &&
	    authfail_lock_user(auth_failures(g->auth), user_h, now_ms))
		log_info("guard: a user locked: too many authentication "
			 "failures across the cluster");
}

/* INVITE and REGISTER rates per source: the floods worth sharing. */
static void on_req_rate(void *arg, const struct guard_src *src, unsigned cls,
			uint32_t count, uint32_t max, uint32_t window_ms,
			uint64_t now_ms)
{
	struct guard *g = arg;

	if (cls == INSPECT_C_INVITE || cls == INSPECT_C_REGISTER)
		rate_share_hit(g->rshare,
			       cls == INSPECT_C_INVITE
				       ? RATE_SHARE_INVITE_SRC
				       : RATE_SHARE_REGISTER_SRC,
			       src, count, max, window_ms, now_ms);
}

int guard__share_init(struct guard *g)
{
	int rc = rate_share_new(&g->rshare, on_cluster_ban, g);

	if (rc)
		return rc;
	if (g->auth)
		authfail_set_hook(auth_failures(g->auth), on_auth_fail, g);
	rate_share_set_lock(g->rshare, on_cluster_lock, g);
	if (g->in)
		inspect_set_rate_hook(g->in, on_req_rate, g);
	return 0;
}

/* Failures per user are shared only under a key common to the cluster
 * and unknown to Redis (store_user_key); none: they stay local. */
static void user_key(struct guard *g, struct store *s)
{
	uint8_t k[STORE_USER_KEY_LEN];
	struct authfail *af = g->auth ? auth_failures(g->auth) : NULL;

	if (!af)
		return;
	if (s && store_user_key(s, k) == 0) {
		authfail_set_user_hook(af, k, on_user_fail, g);
	} else {
		authfail_set_user_hook(af, NULL, NULL, NULL);
		if (s && store_backend_of(s) == STORE_REDIS)
			log_info("guard: neither store.secret nor "
				 "store.password is set: authentication "
				 "failures per user are counted per instance");
	}
	mem_secclean(k, sizeof(k));
}

void guard_rate_share(struct guard *g, struct store *s, struct loop *l)
{
	if (!g)
		return;
	rate_share_attach(g->rshare, s, l);
	user_key(g, s);
}
