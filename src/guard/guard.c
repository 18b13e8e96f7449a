/*
 * guard.c - the guard facade: runs the gate, inspection and
 * authentication modules in order, applies monitor mode through the rule
 * registry, bans, and turns every decision into an event.  The
 * per-method checks after inspection (IM, presence, toll fraud) are in
 * guard_checks.c; reconfiguration on reload in guard_reload.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "events/events.h"
#include "guard/guard.h"
#include "guard/guard_int.h"
#include "guard/rate_share.h"
#include "sip/dialog.h"

/* Every rule a module can name, registered up front so that the
 * registry lists them (and monitor mode can be set) before they fire. */
static const char *const known_rules[] = {
	GATE_RULE_BANNED,     GATE_RULE_RATE,
	GATE_RULE_FLOOD,      "manual",
	"auth-challenge",     "auth-stale",
	"auth-nonce-replay",  "auth-failed",
	"auth-user-locked",   "auth-bruteforce-userip",
	"auth-bruteforce-ip", "auth-normalised",
	"auth-error",
};

void guard_conf_default(struct guard_conf *c)
{
	memset(c, 0, sizeof(*c));
	gate_conf_default(&c->gate);
	inspect_conf_default(&c->inspect);
	auth_conf_default(&c->auth);
	im_conf_default(&c->im);
	presence_conf_default(&c->presence);
}

const char *guard__event_of(const char *rule)
{
	if (!rule)
		return "policy";
	if (dlgpolicy_event(rule))
		return dlgpolicy_event(rule);
	if (strcmp(rule, GATE_RULE_BANNED) == 0)
		return "banned-source";
	if (strncmp(rule, "gate-", 5) == 0 || strncmp(rule, "rate-", 5) == 0)
		return "rate-limit";
	if (strncmp(rule, "scanner-", 8) == 0)
		return "scanner";
	if (strncmp(rule, "auth-", 5) == 0)
		return "auth-failure";
	if (strcmp(rule, "overload") == 0)
		return "overload";
	if (strcmp(rule, "manual") == 0)
		return "manual";
	if (strncmp(rule, "dial-", 5) == 0)
		return "toll-fraud";
	if (strncmp(rule, "call-limit-", 11) == 0)
		return "call-limit";
	if (strncmp(rule, "fraud-", 6) == 0)
		return "fraud-suspected";
	if (strncmp(rule, "im-", 3) == 0)
		return "im-blocked";
	if (strcmp(rule, "presence-harvest") == 0)
		return "presence-harvest";
	if (strncmp(rule, "presence-", 9) == 0)
		return "presence-denied";
	return "policy";
}

/* Routine answers that are not worth an event line. */
static bool routine(const char *rule)
{
	return rule && (strcmp(rule, "auth-challenge") == 0 ||
			strcmp(rule, "auth-stale") == 0);
}

const char *guard__zone_of(const struct guard *g, uint16_t zone)
{
	return zone < g->nzones ? g->zone_name[zone] : NULL;
}

static void emit(struct guard *g, const char *type, const char *action,
		 const char *rule, const struct sg_addr *src, uint16_t zone,
		 enum sip_tp tp, const struct sip_msg *m, struct str user,
		 const char *why, int status, uint64_t now, uint64_t wall)
{
	struct ev e;

	if (!g->ev)
		return;
	memset(&e, 0, sizeof(e));
	e.type = type;
	e.event = guard__event_of(rule);
	e.zone = guard__zone_of(g, zone);
	if (src)
		e.src = *src;
	e.transport = sip_tp_name(tp);
	if (m && m->is_request)
		e.method = m->method;
	e.user = user;
	e.rule = rule;
	e.action = action;
	e.reason = str_cstr(why);
	e.status = status;
	(void)evlog_emit(g->ev, &e, now, wall);
}

int guard__rule_id(struct guard *g, const char *rule)
{
	int id;

	if (!rule)
		return -1;
	id = rules_find(g->rules, str_cstr(rule));
	if (id < 0)
		id = rules_register(g->rules, rule, false);
	return id;
}

/* The address of a ban key, for an event: a host, or an IPv6 /64. */
static void src_of_key(struct ev *e, const struct guard_src *src)
{
	memset(&e->src, 0, sizeof(e->src));
	if (src->family == AF_INET6) {
		e->src.u.in6.sin6_family = AF_INET6;
		memcpy(&e->src.u.in6.sin6_addr, src->b, 8);
		e->src.len = sizeof(e->src.u.in6);
		e->src_plen = 64;
	} else {
		e->src.u.in.sin_family = AF_INET;
		memcpy(&e->src.u.in.sin_addr, src->b, 4);
		e->src.len = sizeof(e->src.u.in);
	}
}

/* The gate's callback: a ban ran out ("expire" event, stamped with the
 * wall-clock time it ended).  The rule name is the registry's copy:
 * events keep rule pointers, and the gate's text is a copy. */
void guard__ban_lapsed(void *arg, const struct gate_ban_info *bi,
		       uint64_t now_ms)
{
	struct guard *g = arg;
	struct rule_info ri;
	struct ev e;
	int id;

	if (!g->ev)
		return;
	id = rules_find(g->rules, str_cstr(bi->rule));
	memset(&e, 0, sizeof(e));
	e.type = EV_EXPIRE;
	e.rule = id >= 0 && rules_get(g->rules, id, &ri) == 0 ? ri.name : NULL;
	e.event = guard__event_of(e.rule);
	e.action = EV_ACT_UNBAN;
	e.reason = str_cstr(bi->reason);
	src_of_key(&e, &bi->src);
	(void)evlog_emit(g->ev, &e, now_ms, bi->expires_wall_ms);
}

static void ban(struct guard *g, const struct sg_addr *a, const char *rule,
		const char *why, uint16_t zone, enum sip_tp tp, uint64_t now,
		uint64_t wall)
{
	struct guard_src s;

	guard_src_from_addr(&s, a);
	if (gate_ban(g->gate, &s, 0, rule, why, now, wall) == 0)
		emit(g, EV_BAN, EV_ACT_BAN, rule, a, zone, tp, NULL, STR_NULL,
		     why, 0, now, wall);
}

/*
 * Count a non-PASS verdict, apply monitor mode, log, and ban when asked.
 * Returns with v->action PASS when the rule is monitored.
 */
void guard__decide(struct guard *g, struct guard_verdict *v,
		   const struct sg_addr *src, uint16_t zone, enum sip_tp tp,
		   const struct sip_msg *m, struct str user, uint64_t now,
		   uint64_t wall)
{
	bool mon;

	if (v->action == GUARD_PASS)
		return;
	mon = rules_hit(g->rules, guard__rule_id(g, v->rule)) || v->monitor;
	if (mon) {
		if (!routine(v->rule))
			emit(g,
			     v->ban                    ? EV_WOULD_BAN
			     : v->action == GUARD_DROP ? EV_WOULD_DROP
						       : EV_WOULD_REFUSE,
			     EV_ACT_PASS, v->rule, src, zone, tp, m, user,
			     v->why, v->status, now, wall);
		guard_verdict_pass(v);
		return;
	}
	if (!routine(v->rule))
		emit(g, v->action == GUARD_DROP ? EV_DROP : EV_REFUSE,
		     v->action == GUARD_DROP ? EV_ACT_DROP : EV_ACT_REPLY,
		     v->rule, src, zone, tp, m, user, v->why, v->status, now,
		     wall);
	if (v->ban)
		ban(g, src, v->rule, v->why, zone, tp, now, wall);
}
int guard_new(struct guard **gp, const struct guard_conf *c, struct evlog *ev,
	      char *err, size_t errsz)
{
	struct guard *g = mem_zalloc(sizeof(*g));
	struct creds *creds = NULL;
	struct gate_conf gcf;
	unsigned i;
	int rc;

	if (!g)
		return -ENOMEM;
	g->ev = ev;
	g->nzones = c->nzones < GUARD_MAX_ZONES ? c->nzones : GUARD_MAX_ZONES;
	for (i = 0; i < g->nzones; i++) {
		g->zone_name[i] = c->zone_name[i];
		g->zone_trusted[i] = c->zone_trusted[i];
	}
	rc = rules_new(&g->rules, GUARD_MAX_RULES);
	if (rc)
		goto fail;
	gcf = c->gate;
	gcf.lapsed = guard__ban_lapsed;
	gcf.lapsed_arg = g;
	rc = gate_new(&g->gate, &gcf, err, errsz);
	if (rc)
		goto fail;
	g->gate_conf = gcf;
	g->inspect_conf = c->inspect;
	rc = inspect_new(&g->in, &c->inspect, err, errsz);
	if (rc)
		goto fail;
	if (c->scanners_file && c->scanners_file[0]) {
		rc = inspect_load_fingerprints(g->in, c->scanners_file, err,
					       errsz);
		if (rc)
			goto fail;
	}
	g->auth_mode = c->auth.mode;
	if (c->auth.mode != AUTH_OFF) {
		if (c->auth.mode == AUTH_LOCAL) {
			rc = creds_load(&creds, c->auth.creds_path, err, errsz);
			if (rc)
				goto fail;
		}
		rc = auth_new(&g->auth, &c->auth, creds, err, errsz);
		if (rc)
			goto fail;
	}
	for (i = 0; i < sizeof(known_rules) / sizeof(known_rules[0]); i++)
		(void)rules_register(g->rules, known_rules[i], false);
	for (i = 0; i < INSPECT_R__COUNT; i++)
		(void)rules_register(g->rules,
				     inspect_rule_name((enum inspect_rule)i),
				     false);
	{
		size_t nf;
		const char *const *fr = fraud_rule_names(&nf);

		for (i = 0; i < nf; i++)
			(void)rules_register(g->rules, fr[i], false);
	}
	rc = fraud_share_new(&g->share, guard__fraud_woke, g);
	if (!rc)
		rc = guard__share_init(g);
	if (rc)
		goto fail;
	if (c->fraud) {
		rc = fraud_new(&g->fraud, c->fraud, c->zone_name,
			       c->zone_trusted, g->nzones, guard__fraud_alerted,
			       g, err, errsz);
		if (rc)
			goto fail;
		fraud_set_share(g->fraud, g->share);
	}
	rc = guard__zone_mask(g, c->im_zones, c->n_im_zones, "guard.im.zones",
			      &g->im_zones, err, errsz);
	if (!rc)
		rc = guard__zone_mask(g, c->presence_zones, c->n_presence_zones,
				      "guard.presence.zones", &g->pres_zones,
				      err, errsz);
	if (!rc)
		rc = im_new(&g->im, &c->im, err, errsz);
	if (!rc)
		rc = presence_new(&g->pres, &c->presence);
	if (rc)
		goto fail;
	buf_init(&g->scrub, SIP_MAX_MSG_SIZE);
	for (i = 0; im_rule_names[i]; i++)
		(void)rules_register(g->rules, im_rule_names[i], false);
	for (i = 0; presence_rule_names[i]; i++)
		(void)rules_register(g->rules, presence_rule_names[i], false);
	for (i = 0; dlgpolicy_rules[i]; i++)
		(void)rules_register(g->rules, dlgpolicy_rules[i], false);
	for (i = 0; i < c->n_monitor_rules; i++) {
		int id = rules_find(g->rules, str_cstr(c->monitor_rules[i]));

		if (id < 0) {
			snprintf(err, errsz,
				 "guard.monitor_rules: unknown rule "
				 "'%s'",
				 c->monitor_rules[i]);
			rc = -EINVAL;
			goto fail;
		}
		rules_set_monitor(g->rules, id, true);
	}
	rules_set_global_monitor(g->rules, c->monitor);
	g->rule_banned = rules_find(g->rules, STR(GATE_RULE_BANNED));
	g->rule_rate = rules_find(g->rules, STR(GATE_RULE_RATE));
	g->rule_flood = rules_find(g->rules, STR(GATE_RULE_FLOOD));
	*gp = g;
	return 0;
fail:
	guard_free(g);
	return rc < 0 ? rc : -EINVAL;
}

void guard_free(struct guard *g)
{
	if (!g)
		return;
	fraud_free(g->fraud);
	fraud_share_free(g->share);
	rate_share_free(g->rshare);
	auth_free(g->auth);
	im_free(g->im);
	presence_free(g->pres);
	buf_free(&g->scrub);
	inspect_free(g->in);
	gate_free(g->gate);
	rules_free(g->rules);
	mem_free(g);
}

bool guard_gate(struct guard *g, const struct sg_addr *src, enum sip_tp tp,
		uint16_t zone, size_t bytes, uint64_t now_ms, uint64_t wall_ms)
{
	enum gate_verdict gv;
	int id;

	/* The trusted zone (PBX, trunks we chose) is not gated. */
	if (zone < g->nzones && g->zone_trusted[zone])
		return true;
	gv = gate_check(g->gate, src, bytes, now_ms);
	if (gv == GATE_PASS)
		return true;
	if (gv == GATE_FLOOD) {
		if (rules_hit(g->rules, g->rule_flood)) {
			emit(g, EV_WOULD_BAN, EV_ACT_PASS, GATE_RULE_FLOOD, src,
			     zone, tp, NULL, STR_NULL, "flooding", 0, now_ms,
			     wall_ms);
			return true;
		}
		ban(g, src, GATE_RULE_FLOOD,
		    "flooding: far over its packet "
		    "rate for a second",
		    zone, tp, now_ms, wall_ms);
		return false;
	}
	id = gv == GATE_BANNED ? g->rule_banned : g->rule_rate;
	if (rules_hit(g->rules, id)) {
		emit(g, EV_WOULD_DROP, EV_ACT_PASS,
		     gv == GATE_BANNED ? GATE_RULE_BANNED : GATE_RULE_RATE, src,
		     zone, tp, NULL, STR_NULL, "monitor mode", 0, now_ms,
		     wall_ms);
		return true;
	}
	/* Aggregated by the event log: a flood makes a few lines. */
	emit(g, EV_DROP, EV_ACT_DROP,
	     gv == GATE_BANNED ? GATE_RULE_BANNED : GATE_RULE_RATE, src, zone,
	     tp, NULL, STR_NULL,
	     gv == GATE_BANNED ? "source is banned" : "over its packet rate", 0,
	     now_ms, wall_ms);
	return false;
}
static void keep_user(struct guard_req *rq, struct str u)
{
	if (u.len > sizeof(rq->user))
		u.len = sizeof(rq->user);
	if (u.len)
		memcpy(rq->user, u.p, u.len);
	rq->user_len = (uint8_t)u.len;
}

void guard_request(struct guard *g, const struct sip_msg *m,
		   const struct sip_peer *from, bool in_dialog, uint64_t now_ms,
		   uint64_t wall_ms, struct guard_req *rq,
		   struct guard_verdict *v)
{
	bool trusted = from->zone < g->nzones && g->zone_trusted[from->zone];
	struct str user = inspect_target_user(m);

	memset(rq, 0, sizeof(*rq));
	guard_verdict_pass(v);
	/* The allow list is never rate limited nor banned: inspection,
	 * whose rules rate-limit and hold scanners, treats it as trusted.
	 * It still authenticates. */
	rq->allowed = !trusted && gate_allowed(g->gate, &from->addr);
	(void)inspect_request(g->in, m, from, trusted || rq->allowed, in_dialog,
			      now_ms, v);
	guard__decide(g, v, &from->addr, from->zone, from->tp, m, user, now_ms,
		      wall_ms);
	if (v->action == GUARD_PASS && trusted)
		guard__content_check(g, m, from, trusted, false, user, now_ms,
				     wall_ms, v);
	if (v->action == GUARD_PASS && trusted && !in_dialog)
		guard__toll_check(g, m, from, now_ms, wall_ms, rq, v);
	if (v->action != GUARD_PASS || trusted)
		return;
	if (g->auth_mode == AUTH_LOCAL && !in_dialog) {
		(void)auth_check(g->auth, m, &from->addr, now_ms, v);
		guard__decide(g, v, &from->addr, from->zone, from->tp, m, user,
			      now_ms, wall_ms);
	} else if (g->auth_mode == AUTH_PASSTHROUGH && !in_dialog) {
		(void)auth_pt_request(g->auth, m, &from->addr, now_ms, &rq->pt,
				      v);
		guard__decide(g, v, &from->addr, from->zone, from->tp, m, user,
			      now_ms, wall_ms);
	}
	if (v->action == GUARD_PASS)
		guard__content_check(g, m, from, trusted, rq->allowed, user,
				     now_ms, wall_ms, v);
	if (v->action == GUARD_PASS && !in_dialog) {
		rq->active = true;
		rq->mid = m->mid;
		rq->creds = sip_msg_hdr(m, SIP_HDR_AUTHORIZATION) ||
			    sip_msg_hdr(m, SIP_HDR_PROXY_AUTHORIZATION);
		keep_user(rq, user);
		guard__toll_check(g, m, from, now_ms, wall_ms, rq, v);
	}
}

const struct sip_hdr *guard_strip_hdr(const struct guard *g,
				      const struct sip_msg *m)
{
	return g->auth_mode == AUTH_LOCAL ? auth_cred_hdr(g->auth, m) : NULL;
}

int guard_reply(struct guard *g, struct buf *out, const struct sip_msg *req,
		struct str to_tag, const struct guard_verdict *v)
{
	if (g->auth_mode == AUTH_PASSTHROUGH && v->rule &&
	    strncmp(v->rule, "auth-", 5) == 0)
		return auth_pt_reply(out, req, to_tag, v);
	return sip_reply(out, req, v->status,
			 str_cstr(v->reason ? v->reason : ""), to_tag,
			 str_make(v->extra, v->extra_len));
}

void guard_answer(struct guard *g, const struct guard_req *rq,
		  const struct sip_peer *requester, const struct sip_msg *resp,
		  int status, uint64_t now_ms, uint64_t wall_ms,
		  struct guard_verdict *v)
{
	struct str user = str_make(rq->user, rq->user_len);

	guard_verdict_pass(v);
	if (!rq->active || status < 200)
		return;
	/* A challenge to a request without credentials is how every login
	 * starts: not a failure.  Counted, a burst of them (an office
	 * behind one NAT address, a few phones with a wrong password)
	 * outruns the successes and bans everyone there (scanner-failures);
	 * credentials that fail are counted, and so is every 404. */
	if (!rq->allowed && !((status == 401 || status == 407) && !rq->creds)) {
		inspect_response(g->in, &requester->addr, rq->mid, user, status,
				 now_ms, v);
		guard__decide(g, v, &requester->addr, requester->zone,
			      requester->tp, NULL, user, now_ms, wall_ms);
	}
	if (v->action != GUARD_PASS || !resp || !rq->pt.active ||
	    g->auth_mode != AUTH_PASSTHROUGH)
		return;
	(void)auth_pt_answer(g->auth, &rq->pt, resp, now_ms, v);
	guard__decide(g, v, &requester->addr, requester->zone, requester->tp,
		      NULL, user, now_ms, wall_ms);
}

int guard_apply_answer(struct guard *g, struct sip_bld *b,
		       const struct sip_msg *resp,
		       const struct guard_verdict *v)
{
	if (!g->auth)
		return -EINVAL;
	return auth_pt_apply(g->auth, b, resp, v);
}
void guard_set_load(struct guard *g, unsigned percent)
{
	inspect_set_load(g->in, percent);
}

void guard_tick(struct guard *g, uint64_t now_ms)
{
	(void)gate_expire(g->gate, now_ms, 1024);
	rate_share_flush(g->rshare, now_ms);
	if (g->ev)
		(void)evlog_flush(g->ev, now_ms);
}

int guard_ban(struct guard *g, const struct guard_src *src,
	      uint64_t duration_ms, const char *reason, uint64_t now_ms,
	      uint64_t wall_ms)
{
	struct sg_addr a;
	int rc;

	rc = gate_ban(g->gate, src, duration_ms, "manual",
		      reason ? reason : "administrator", now_ms, wall_ms);
	if (rc == 0 && g->ev) {
		struct ev e;

		memset(&e, 0, sizeof(e));
		memset(&a, 0, sizeof(a));
		e.type = EV_BAN;
		e.event = "manual";
		e.action = EV_ACT_BAN;
		e.rule = "manual";
		e.reason = str_cstr(reason);
		if (src->family == AF_INET6) {
			a.u.in6.sin6_family = AF_INET6;
			memcpy(&a.u.in6.sin6_addr, src->b, 8);
			a.len = sizeof(a.u.in6);
			e.src_plen = 64;
		} else {
			a.u.in.sin_family = AF_INET;
			memcpy(&a.u.in.sin_addr, src->b, 4);
			a.len = sizeof(a.u.in);
		}
		e.src = a;
		(void)evlog_emit(g->ev, &e, now_ms, wall_ms);
	}
	return rc;
}

int guard_unban(struct guard *g, const struct guard_src *src, uint64_t now_ms,
		uint64_t wall_ms)
{
	int rc = gate_unban(g->gate, src);

	/* Lifting a ban lifts inspection's hold on a scanner too, or the
	 * source would stay dropped (scanner-held) and be banned again. */
	if (inspect_release(g->in, src, now_ms) && rc == -ENOENT)
		rc = 0;
	if (rc == 0 && g->ev) {
		struct ev e;

		memset(&e, 0, sizeof(e));
		e.type = EV_UNBAN;
		e.event = "manual";
		e.action = EV_ACT_UNBAN;
		e.rule = "manual";
		if (src->family == AF_INET6) {
			e.src.u.in6.sin6_family = AF_INET6;
			memcpy(&e.src.u.in6.sin6_addr, src->b, 8);
			e.src.len = sizeof(e.src.u.in6);
			e.src_plen = 64;
		} else {
			e.src.u.in.sin_family = AF_INET;
			memcpy(&e.src.u.in.sin_addr, src->b, 4);
			e.src.len = sizeof(e.src.u.in);
		}
		(void)evlog_emit(g->ev, &e, now_ms, wall_ms);
	}
	return rc;
}

struct gate *guard_gate_obj(struct guard *g)
{
	return g->gate;
}

struct fraud_share *guard_fraud_share_obj(struct guard *g)
{
	return g->share;
}

struct rules *guard_rules(struct guard *g)
{
	return g->rules;
}

/* ------------------------------------ call-state policy (dlgpolicy) */

void guard_policy(struct guard *g, struct guard_verdict *v,
		  const struct sip_peer *from, const struct sip_msg *m,
		  struct str user, uint64_t now_ms, uint64_t wall_ms)
{
	guard__decide(g, v, &from->addr, from->zone, from->tp, m, user, now_ms,
		      wall_ms);
}

void guard_notice(struct guard *g, const char *rule,
		  const struct sip_peer *from, const struct sip_msg *m,
		  struct str user, const char *why, uint64_t now_ms,
		  uint64_t wall_ms)
{
	(void)rules_hit(g->rules, guard__rule_id(g, rule));
	emit(g, EV_NOTICE, EV_ACT_PASS, rule, &from->addr, from->zone, from->tp,
	     m, user, why, 0, now_ms, wall_ms);
}

void guard_authenticate(struct guard *g, const struct sip_msg *m,
			const struct sip_peer *from, uint64_t now_ms,
			uint64_t wall_ms, struct guard_verdict *v)
{
	guard_verdict_pass(v);
	if (g->auth_mode != AUTH_LOCAL)
		return;
	(void)auth_check_dialog(g->auth, m, &from->addr, now_ms, v);
	guard__decide(g, v, &from->addr, from->zone, from->tp, m,
		      inspect_target_user(m), now_ms, wall_ms);
}

bool guard_local_verified(const struct guard *g, const struct sip_msg *m)
{
	return g->auth_mode == AUTH_LOCAL && auth_cred_hdr(g->auth, m);
}
