/*
 * guard_checks.c - the guard's per-method checks after inspection and
 * authentication: IM content (MESSAGE, RFC 3428) and presence privacy
 * (SUBSCRIBE, PUBLISH, NOTIFY and the scrubbing of NOTIFY bodies on
 * their way out; RFC 3856, RFC 6665), and toll fraud on new calls
 * (initial INVITE: dial plan, call limits, anomaly alerts, and the
 * counts shared across instances).  guard.c calls them; the policies
 * themselves live in im.c, presence.c and fraud*.c.
 */
#include <string.h>

#include "core/buf.h"
#include "events/events.h"
#include "guard/guard.h"
#include "guard/guard_int.h"
#include "sip/dialog.h"

static bool zone_in(uint32_t mask, uint16_t zone)
{
	return zone < 32 && ((mask >> zone) & 1);
}

/*
 * The content rules: IM (MESSAGE, from the zones guard.im.direction
 * names) and presence privacy (SUBSCRIBE/PUBLISH/NOTIFY from untrusted
 * zones).  They run after authentication: content from a source that
 * has not proved who it is is challenged first, not inspected.
 */
void guard__content_check(struct guard *g, const struct sip_msg *m,
			  const struct sip_peer *from, bool trusted,
			  bool allowed, struct str user, uint64_t now_ms,
			  uint64_t wall_ms, struct guard_verdict *v)
{
	struct guard_src src;
	/* Per-source counts (MESSAGE rate, harvesting) spare the trusted
	 * zone and the allow list, like every other per-source rate. */
	const struct guard_src *counted = trusted || allowed ? NULL : &src;

	bool im_on = g->im_zones ? zone_in(g->im_zones, from->zone)
				 : im_applies(g->im, trusted);
	bool pres_on =
		g->pres_zones ? zone_in(g->pres_zones, from->zone) : !trusted;

	guard_src_from_addr(&src, &from->addr);
	if (m->mid == SIP_METHOD_MESSAGE && im_on)
		im_check(g->im, m, counted, now_ms, v);
	else if (pres_on &&
		 (m->mid == SIP_METHOD_SUBSCRIBE ||
		  m->mid == SIP_METHOD_PUBLISH || m->mid == SIP_METHOD_NOTIFY))
		presence_check(g->pres, m, counted, now_ms, v);
	guard__decide(g, v, &from->addr, from->zone, from->tp, m, user, now_ms,
		      wall_ms);
}

/* The caller a toll-fraud policy applies to: the user our local
 * authentication verified, else the From user. */
static struct str caller_user(const struct guard *g, const struct sip_msg *m)
{
	const struct sip_hdr *h =
		g->auth_mode == AUTH_LOCAL ? auth_cred_hdr(g->auth, m) : NULL;
	struct sip_digest d;
	struct sip_perr pe;

	if (h && sip_digest_parse(&d, h->value, &pe) == 0 && d.username.len)
		return d.username;
	return m->from.uri.user;
}

/* A new call (initial INVITE) from a zone with a toll-fraud policy. */
void guard__toll_check(struct guard *g, const struct sip_msg *m,
		       const struct sip_peer *from, uint64_t now, uint64_t wall,
		       struct guard_req *rq, struct guard_verdict *v)
{
	struct str caller;

	if (!g->fraud || m->mid != SIP_METHOD_INVITE || m->to.tag.len ||
	    !fraud_zone_checked(g->fraud, from->zone))
		return;
	caller = caller_user(g, m);
	fraud_check(g->fraud, &m->ruri, caller, &from->addr, from->zone, now,
		    wall, &rq->fraud, v);
	guard__decide(g, v, &from->addr, from->zone, from->tp, m, caller, now,
		      wall);
}

/*
 * The fraud module's reporter: an anomaly rule fired.  Event type
 * "alert" (action pass, throttle or block), or "would-throttle" /
 * "would-block" in monitor mode, where the action is not applied.
 */
bool guard__fraud_alerted(void *arg, const struct fraud_alert *a, uint64_t now,
			  uint64_t wall)
{
	struct guard *g = arg;
	bool mon = rules_hit(g->rules, guard__rule_id(g, a->rule));
	struct ev e;

	if (!g->ev)
		return !mon;
	memset(&e, 0, sizeof(e));
	e.type = !mon || a->action == FRAUD_ALERT ? "alert"
		 : a->action == FRAUD_BLOCK       ? "would-block"
						  : "would-throttle";
	e.event = guard__event_of(a->rule);
	e.zone = guard__zone_of(g, a->zone);
	if (a->src)
		e.src = *a->src;
	e.user = a->user;
	e.rule = a->rule;
	e.action = mon || a->action == FRAUD_ALERT ? EV_ACT_PASS
		   : a->action == FRAUD_BLOCK      ? "block"
						   : "throttle";
	e.reason = str_cstr(a->why);
	(void)evlog_emit(g->ev, &e, now, wall);
	return !mon;
}

void guard_fraud_held_count(struct guard *g, uint64_t now, size_t *blocked,
			    size_t *throttled)
{
	fraud_held_count(g->fraud, now, blocked, throttled);
}

size_t guard_fraud_held(struct guard *g, struct fraud_held *out, size_t max,
			uint64_t now)
{
	return g->fraud ? fraud_held_list(g->fraud, out, max, now) : 0;
}

int guard_fraud_unblock(struct guard *g, struct str user, uint64_t now,
			uint64_t wall)
{
	struct ev e;
	int rc;

	if (!g->fraud)
		return -ENOENT;
	rc = fraud_unblock(g->fraud, user, now);
	if (rc == 0 && g->ev) {
		memset(&e, 0, sizeof(e));
		e.type = EV_UNBAN;
		e.event = "fraud-suspected";
		e.user = user;
		e.rule = "manual";
		e.action = EV_ACT_UNBAN;
		e.reason = STR("user unblocked by an administrator");
		(void)evlog_emit(g->ev, &e, now, wall);
	}
	return rc;
}

/* ------------------------------ toll-fraud counts across instances */

void guard__fraud_woke(void *arg, uint64_t token)
{
	struct guard *g = arg;

	if (g->wake)
		g->wake(g->wake_arg, token);
}

void guard_fraud_share(struct guard *g, struct store *s, struct loop *l)
{
	if (g)
		fraud_share_attach(g->share, s, l);
}

void guard_set_fraud_wake(struct guard *g, guard_wake_fn *fn, void *arg)
{
	g->wake = fn;
	g->wake_arg = arg;
}

bool guard_fraud_prefetch(struct guard *g, const struct sip_msg *m,
			  const struct sip_peer *from, uint64_t now_ms,
			  uint64_t *tokenp)
{
	if (!g->fraud || m->mid != SIP_METHOD_INVITE || m->to.tag.len ||
	    !fraud_zone_checked(g->fraud, from->zone))
		return false;
	/* Local authentication challenges first: no view needed yet. */
	if (g->auth_mode == AUTH_LOCAL && !auth_cred_hdr(g->auth, m))
		return false;
	return fraud_prefetch_call(g->fraud, &m->ruri, caller_user(g, m),
				   &from->addr, from->zone, now_ms, tokenp);
}

uint64_t guard_call_start(struct guard *g, const struct guard_req *rq,
			  const struct sip_dlg *d, uint64_t now_ms,
			  uint64_t wall_ms)
{
	if (!g->fraud || !rq->fraud.active || d->kind != SIP_DLG_INVITE)
		return 0;
	return fraud_call_start(
		g->fraud, &rq->fraud, sip_dlg_str(d, SIP_DLG_S_CALL_ID),
		sip_dlg_str(d, SIP_DLG_S_CALLER_TAG), now_ms, wall_ms);
}

void guard_call_end(struct guard *g, const struct sip_dlg *d, uint64_t now_ms,
		    uint64_t wall_ms)
{
	uint64_t talk;

	/* One record per call attempt has `record` set (dialog.h): the
	 * call ends with it; forks that lost end without it. */
	if (!g->fraud || !fraud_calls(g->fraud) || !d->record ||
	    d->kind != SIP_DLG_INVITE)
		return;
	talk = d->answer_mono && now_ms > d->answer_mono
		       ? now_ms - d->answer_mono
		       : 0;
	fraud_call_end(g->fraud, sip_dlg_str(d, SIP_DLG_S_CALL_ID),
		       sip_dlg_str(d, SIP_DLG_S_CALLER_TAG), talk,
		       d->final_status, now_ms, wall_ms);
}

/* An event about a body on its way out (no source to name: the sender
 * is in the trusted zone; zone is where the body was going). */
static void emit_body(struct guard *g, const char *type, const char *action,
		      const char *rule, uint16_t zone, const struct sip_msg *m,
		      const char *why, uint64_t now, uint64_t wall)
{
	struct ev e;

	if (!g->ev)
		return;
	memset(&e, 0, sizeof(e));
	e.type = type;
	e.event = guard__event_of(rule);
	e.zone = guard__zone_of(g, zone);
	e.method = m->method;
	e.rule = rule;
	e.action = action;
	e.reason = str_cstr(why);
	(void)evlog_emit(g->ev, &e, now, wall);
}

int guard_scrub(struct guard *g, struct sip_bld *b, const struct sip_msg *m,
		uint16_t from_zone, uint16_t to_zone, uint64_t now_ms,
		uint64_t wall_ms)
{
	const struct sip_hdr *ct;
	const char *rule;
	int r;

	if (!m->is_request || m->mid != SIP_METHOD_NOTIFY ||
	    from_zone >= g->nzones || to_zone >= g->nzones ||
	    !g->zone_trusted[from_zone] || g->zone_trusted[to_zone])
		return 0;
	r = presence_scrub(g->pres, m, &g->scrub);
	if (r == PRES_SCRUB_KEEP)
		return 0;
	rule = r == PRES_SCRUB_BODY ? "presence-scrub"
				    : "presence-scrub-unsafe";
	if (rules_hit(g->rules, guard__rule_id(g, rule))) {
		if (r == PRES_SCRUB_STRIP)
			emit_body(g, EV_WOULD_DROP, EV_ACT_PASS, rule, to_zone,
				  m,
				  "would remove a NOTIFY body that cannot be "
				  "scrubbed",
				  now_ms, wall_ms);
		return 0;
	}
	if (r == PRES_SCRUB_BODY) {
		sip_bld_body(b, buf_str(&g->scrub));
		return 0;
	}
	/* Unsafe: the NOTIFY goes on (the subscription stays up) with no
	 * body, which RFC 6665 4.2.2 lets a notifier send. */
	emit_body(g, EV_DROP, EV_ACT_DROP, rule, to_zone, m,
		  "NOTIFY body cannot be scrubbed safely: removed", now_ms,
		  wall_ms);
	if ((ct = sip_msg_hdr(m, SIP_HDR_CONTENT_TYPE)))
		sip_bld_remove(b, ct);
	sip_bld_body(b, STR(""));
	return 0;
}
