/*
 * daemon_ctl.c - what the control socket's commands do: bans and rules
 * from the guard, counters from the proxy.  Only wiring: ctl/ parses and
 * answers, guard/ and proxy/ act.
 */
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "ctl/ctl.h"
#include "events/events.h"
#include "guard/guard.h"
#include "proxy/proxy.h"

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void src_of(struct guard_src *s, const struct ctl_req *rq)
{
	guard_src_from_addr(s, &rq->addr);
}

void daemon_ban_addr(const struct gate_ban_info *bi, struct sg_addr *a,
		     uint8_t *plenp)
{
	memset(a, 0, sizeof(*a));
	*plenp = 0;
	if (bi->src.family == AF_INET6) {
		a->u.in6.sin6_family = AF_INET6;
		memcpy(&a->u.in6.sin6_addr, bi->src.b, 8);
		a->len = sizeof(a->u.in6);
		*plenp = 64; /* the guard bans IPv6 sources by /64 */
	} else {
		a->u.in.sin_family = AF_INET;
		memcpy(&a->u.in.sin_addr, bi->src.b, 4);
		a->len = sizeof(a->u.in);
	}
}

static int list_bans(void *arg, struct ctl_out *o)
{
	struct daemon_ctl_ctx *c = arg;
	struct gate *g = guard_gate_obj(proxy_guard(c->proxy));
	uint64_t now = loop_now(c->loop);
	struct gate_ban_info bi;
	size_t cursor = 0;
	int err = 0;

	while (!err && gate_ban_next(g, &cursor, now, false, &bi)) {
		struct ctl_ban b;

		memset(&b, 0, sizeof(b));
		daemon_ban_addr(&bi, &b.addr, &b.plen);
		b.remaining_ms = bi.expires_ms == GATE_FOREVER ? CTL_BAN_FOREVER
				 : bi.expires_ms > now ? bi.expires_ms - now
						       : 0;
		b.rule = bi.rule;
		b.reason = str_cstr(bi.reason);
		b.hits = bi.hits;
		err = ctl_out_ban(o, &b);
	}
	return err;
}

static int ban(void *arg, const struct ctl_req *rq)
{
	struct daemon_ctl_ctx *c = arg;
	struct guard_src s;

	src_of(&s, rq);
	/* rq->reason: checked by ctl (length, no control bytes); the
	 * guard copies it. */
	return guard_ban(proxy_guard(c->proxy), &s,
			 (uint64_t)rq->seconds * 1000,
			 rq->reason[0] ? rq->reason : "sipguardctl",
			 loop_now(c->loop), wall_ms());
}

static int unban(void *arg, const struct ctl_req *rq)
{
	struct daemon_ctl_ctx *c = arg;
	struct guard_src s;

	src_of(&s, rq);
	return guard_unban(proxy_guard(c->proxy), &s, loop_now(c->loop),
			   wall_ms());
}

static int list_rules(void *arg, struct ctl_out *o)
{
	struct daemon_ctl_ctx *c = arg;

	return ctl_out_rules(o, guard_rules(proxy_guard(c->proxy)));
}

static int set_monitor(void *arg, const struct ctl_req *rq)
{
	struct daemon_ctl_ctx *c = arg;
	struct rules *r = guard_rules(proxy_guard(c->proxy));
	int id;

	if (rq->all) {
		rules_set_global_monitor(r, rq->on);
		return 0;
	}
	id = rules_find(r, str_cstr(rq->rule));
	return id < 0 ? -ENOENT : rules_set_monitor(r, id, rq->on);
}

static int stats(void *arg, struct ctl_out *o)
{
	struct daemon_ctl_ctx *c = arg;
	struct gate_stats gs;
	struct proxy_stats st;
	int err = 0;

	proxy_get_stats(c->proxy, &st);
	gate_stats(guard_gate_obj(proxy_guard(c->proxy)), &gs);
#define STAT(name, v)                                               \
	do {                                                        \
		if (!err)                                           \
			err = ctl_out_stat(o, name, (uint64_t)(v)); \
	} while (0)
	STAT("sip.requests", st.rx_requests);
	STAT("sip.responses", st.rx_responses);
	STAT("sip.malformed", st.rx_malformed);
	STAT("sip.forwarded_requests", st.fwd_requests);
	STAT("sip.forwarded_responses", st.fwd_responses);
	STAT("sip.local_replies", st.local_replies);
	STAT("sip.absorbed", st.absorbed);
	STAT("sip.txn_full", st.txn_full);
	STAT("sip.udp_overflow", st.udp_rx_overflow);
	STAT("sip.loops", st.loops);
	STAT("sip.failovers", st.failovers);
	STAT("calls.dialogs_confirmed", st.dialogs_active);
	STAT("calls.records", st.calls_active);
	STAT("registrations.bindings", st.bindings);
	STAT("guard.dropped", st.guard_dropped);
	STAT("guard.refused", st.guard_refused);
	STAT("gate.checked", gs.checked);
	STAT("gate.drop_banned", gs.drop_banned);
	STAT("gate.drop_rate", gs.drop_rate);
	STAT("gate.bans_active", gs.bans_active);
	STAT("gate.bans_total", gs.bans_total);
	STAT("tls.handshakes", st.tls_handshakes);
	STAT("tls.resumed", st.tls_resumed);
	STAT("tls.failed", st.tls_failed);
	STAT("config.reloads", st.reloads);
	STAT("calls.draining", proxy_draining(c->proxy));
	STAT("calls.drain_refused", st.drain_refused);
#undef STAT
	if (!err && proxy_evlog(c->proxy))
		err = ctl_out_evlog_stats(o, proxy_evlog(c->proxy));
	return err;
}

static int one_call(void *arg, const struct proxy_call *pc)
{
	struct ctl_call c = {
		.call_id = pc->call_id,
		.caller = pc->caller,
		.callee = pc->callee,
		.caller_addr = pc->caller_addr,
		.callee_addr = pc->callee_addr,
		.caller_zone = pc->caller_zone,
		.callee_zone = pc->callee_zone,
		.state = pc->state,
		.duration_ms = pc->duration_ms,
		.answered_ms = pc->answered_ms,
		.media = pc->media,
	};

	memcpy(c.media_pkts, pc->media_pkts, sizeof(c.media_pkts));
	memcpy(c.media_bytes, pc->media_bytes, sizeof(c.media_bytes));
	memcpy(c.media_dropped, pc->media_dropped, sizeof(c.media_dropped));

	return ctl_out_call(arg, &c);
}

static int list_calls(void *arg, struct ctl_out *o)
{
	struct daemon_ctl_ctx *c = arg;

	return proxy_list_calls(c->proxy, one_call, o);
}

static int drain(void *arg, const struct ctl_req *rq)
{
	struct daemon_ctl_ctx *c = arg;

	proxy_set_drain(c->proxy, rq->on);
	log_info("drain %s (sipguardctl, uid %u)", rq->on ? "on" : "off",
		 (unsigned)rq->uid);
	return 0;
}

/* At most a user table's worth (fraud.max_users is at most this). */
enum { HELD_MAX = 1024 };

static int list_held(void *arg, struct ctl_out *o)
{
	struct daemon_ctl_ctx *c = arg;
	struct guard *g = proxy_guard(c->proxy);
	struct fraud_held *h = mem_alloc(HELD_MAX * sizeof(*h));
	size_t i, n;
	int err = 0;

	if (!h)
		return -ENOMEM;
	n = guard_fraud_held(g, h, HELD_MAX, loop_now(c->loop));
	for (i = 0; i < n && !err; i++) {
		struct ctl_held x = {str_cstr(h[i].user), h[i].rule,
				     h[i].blocked, h[i].left_ms};

		err = ctl_out_held(o, &x);
	}
	mem_free(h);
	return err;
}

static int unblock(void *arg, const struct ctl_req *rq)
{
	struct daemon_ctl_ctx *c = arg;
	int rc = guard_fraud_unblock(proxy_guard(c->proxy), str_cstr(rq->user),
				     loop_now(c->loop), wall_ms());

	if (rc == 0)
		log_info("fraud: user %s unblocked (sipguardctl, uid %u)",
			 rq->user, (unsigned)rq->uid);
	return rc;
}

static int reload(void *arg, char *err, size_t errsz)
{
	struct daemon_ctl_ctx *c = arg;

	return c->reload ? c->reload(c->reload_arg, err, errsz) : -EOPNOTSUPP;
}

const struct ctl_ops daemon_ctl_ops = {
	.list_bans = list_bans,
	.ban = ban,
	.unban = unban,
	.list_rules = list_rules,
	.set_monitor = set_monitor,
	.stats = stats,
	.reload = reload,
	.list_calls = list_calls,
	.drain = drain,
	.list_held = list_held,
	.unblock = unblock,
};
