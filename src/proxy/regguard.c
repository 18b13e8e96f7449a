/*
 * regguard.c - registration hijack protection (issue 5) for REGISTERs
 * from untrusted zones (RFC 3261 10.3), around the Contact-rewriting
 * registrar of registrar.c:
 *
 *  - a binding is created or moved only by the registrar's 2xx (the PBX
 *    authenticated the REGISTER; in local auth mode sipguard did before
 *    forwarding): a REGISTER the registrar refuses changes nothing, and
 *    one that would have moved an existing binding to a new address is
 *    reported (registration-hijack);
 *  - a binding that moves to another source address or User-Agent is
 *    reported (registration-moved); within guard.registration.move_hold
 *    of its last refresh the move is refused outright (403);
 *  - bindings per AOR are capped (403, registration-limit);
 *  - Contacts naming sipguard itself, a backend, a trunk or a forbidden
 *    prefix are refused (403, forbidden-contact): they would make the
 *    PBX call its own infrastructure through us.
 * Decisions are in guard/dlgpolicy.c; events through the guard facade.
 */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/siphash.h"
#include "proxy/proxy_int.h"

static bool is_removal(const struct sip_msg *m, const struct sip_nameaddr *c)
{
	return c->has_expires ? c->expires == 0 : m->expires == 0;
}

static uint64_t ua_hash(const struct proxy *p, const struct sip_msg *m)
{
	return siphash24(m->user_agent.p, m->user_agent.len, p->key);
}

/* A Contact naming one of our own or the trusted side's addresses. */
static bool names_infrastructure(const struct proxy *p, const struct sg_addr *a)
{
	unsigned i, z, b;

	for (i = 0; i < p->nlis; i++)
		if (sg_addr_eq(&p->lis[i].addr, a))
			return true;
	for (z = 0; z < p->nzones; z++) {
		const struct proxy_zone *zn = &p->zones[z];

		for (b = 0; b < zn->nbe; b++)
			if (sg_addr_eq(&zn->be[b].peer.addr, a))
				return true;
		if (zn->has_trunk && sg_addr_eq(&zn->trunk.addr, a))
			return true;
	}
	return false;
}

static bool contact_forbidden(const struct proxy *p,
			      const struct sip_nameaddr *c)
{
	struct sg_addr a;
	uint16_t port = c->uri.has_port              ? c->uri.port
			: c->uri.sch == SIP_URI_SIPS ? 5061
						     : 5060;

	/* Host names are not resolved here: the PBX never reaches them
	 * anyway (it sees our rewritten Contact). */
	if (sg_addr_from_host(&a, c->uri.host, port) != 0)
		return false;
	return names_infrastructure(p, &a) || rg_contact_forbidden(&p->rg, &a);
}

bool proxy__regguard_request(struct proxy *p, struct sip_stx *stx,
			     const struct sip_msg *m,
			     const struct sip_peer *from)
{
	uint64_t now = loop_now(p->loop), ua = ua_hash(p, m);
	struct proxy_reg_view v;
	unsigned i, fresh = 0;

	if (m->mid != SIP_METHOD_REGISTER || p->zones[from->zone].trusted)
		return false;
	for (i = 0; i < m->ncontact; i++) {
		const struct sip_nameaddr *c = &m->contact[i];

		if (c->star || is_removal(m, c))
			continue;
		if (contact_forbidden(p, c) &&
		    proxy__refuse(p, stx, m, from, DG_RULE_REG_CONTACT,
				  "Contact names a forbidden address", 403,
				  false))
			return true;
		if (!proxy__reg_view(p, m, c, &v) || !v.confirmed) {
			fresh++;
			continue;
		}
		if (rg_move_check(&p->rg, &v.peer, v.ua, v.refreshed_ms, from,
				  ua, now) == RG_HELD &&
		    proxy__refuse(p, stx, m, from, DG_RULE_REG_HOLD,
				  "binding moved within move_hold", 403, false))
			return true;
	}
	if (p->rg.max_bindings && fresh &&
	    proxy__reg_aor_count(p, m) + fresh > p->rg.max_bindings &&
	    proxy__refuse(p, stx, m, from, DG_RULE_REG_LIMIT,
			  "too many bindings for this AOR", 403, false))
		return true;
	return false;
}

/* One REGISTER, one report: the first contact that tells. */
static void answer_one(struct proxy *p, struct proxy_fwd *f,
		       const struct sip_msg *m, const struct sip_nameaddr *c,
		       int status, uint64_t ua, bool *reportedp)
{
	uint64_t now = loop_now(p->loop);
	struct proxy_reg_view v;
	struct guard_verdict gv;
	bool known = proxy__reg_view(p, m, c, &v);
	bool moved = known && v.confirmed &&
		     rg_move_check(&p->rg, &v.peer, v.ua, v.refreshed_ms,
				   &f->from, ua, now) != RG_SAME;

	if (status >= 200 && status < 300) {
		if (!known)
			return;
		if (moved && !*reportedp) {
			guard_notice(p->guard, DG_RULE_REG_MOVED, &f->from, m,
				     m->to.uri.user,
				     dg_peer_cmp(&v.peer, &f->from) ==
						     DG_PEER_SAME
					     ? "binding has a new User-Agent"
					     : "binding moved to a new address",
				     now, proxy__wall_ms());
			*reportedp = true;
		}
		proxy__reg_confirm(p, m, c, &f->from, ua, now);
		return;
	}
	if (!moved || *reportedp)
		return;
	/* The registrar refused a REGISTER that would have taken over a
	 * live binding: the binding stays where it was. */
	guard_verdict_pass(&gv);
	gv.action = GUARD_REPLY;
	gv.status = status;
	gv.rule = DG_RULE_REG_HIJACK;
	gv.why = "REGISTER for a live binding from a new source refused by "
		 "the registrar";
	guard_policy(p->guard, &gv, &f->from, m, m->to.uri.user, now,
		     proxy__wall_ms());
	*reportedp = true;
}

void proxy__regguard_answer(struct proxy *p, struct proxy_fwd *f,
			    const struct sip_msg *resp)
{
	struct sip_perr pe;
	const struct sip_msg *m = p->msg2;
	bool reported = false;
	uint64_t ua;
	unsigned i;

	if (f->mid != SIP_METHOD_REGISTER || resp->status < 200 ||
	    p->zones[f->in_zone].trusted || !f->req)
		return;
	/* The request as received: its Contacts name the bindings this
	 * answer is about (the 2xx also lists other devices' Contacts). */
	if (sip_msg_parse(p->msg2, f->req, f->req_len, &p->lim, SIP_PARSE_DGRAM,
			  &pe) != 0)
		return;
	ua = ua_hash(p, m);
	for (i = 0; i < m->ncontact; i++)
		if (!m->contact[i].star && !is_removal(m, &m->contact[i]))
			answer_one(p, f, m, &m->contact[i], resp->status, ua,
				   &reported);
		else if (resp->status >= 200 && resp->status < 300)
			proxy__reg_drop(p, m, &m->contact[i]); /* accepted */
}
