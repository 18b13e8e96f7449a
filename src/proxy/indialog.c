/*
 * indialog.c - in-dialog requests prove they belong (issue 5): before a
 * request with a To-tag, an ACK for a 2xx or a CANCEL is forwarded, the
 * proxy checks it against the dialog record (sip/dialog.h) or the INVITE
 * transaction it claims, with the decisions of guard/dlgpolicy.c:
 *
 *  - Call-ID and both tags match a live dialog (RFC 3261 12.2.2); from an
 *    untrusted zone, a To-tag that matches nothing is refused instead of
 *    being routed statelessly by its Route set;
 *  - it comes from the transport address that side of the dialog used
 *    (UDP: IP and port; TCP/TLS: the connection), or a change the rebind
 *    policy accepts, which is reported (dialog-rebind);
 *  - its CSeq moves forward for that side (ACK: the INVITE's);
 *  - a re-INVITE or UPDATE from an untrusted party moves media only to
 *    its own signalling IP or allowed prefixes (RFC 3264 8), else 488;
 *  - a CANCEL comes from the INVITE's source (9.2).
 *
 * The check runs before the dialog table sees the request, so a forged
 * one changes nothing: the real call's addresses and CSeqs stay, and the
 * backend never sees it.  A refusal is 481 (488 for media), or a silent
 * drop for the untrusted zone when so configured (an attacker probing
 * tags learns nothing); ACK is never answered.
 */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "proxy/proxy_int.h"

static enum dg_rebind rebind_of(int v)
{
	return v == CONF_REBIND_NEVER           ? DG_REBIND_NEVER
	       : v == CONF_REBIND_AUTHENTICATED ? DG_REBIND_AUTH
	       : v == CONF_REBIND_ANY           ? DG_REBIND_ANY
						: DG_REBIND_SAME_IP;
}

/* Prefixes were checked by the config (check_cidr); a bad one here is
 * skipped, never fatal. */
static unsigned cidrs(struct gate_cidr *out, const char (*in)[CONF_ADDR_LEN],
		      size_t n)
{
	const char *why;
	unsigned k = 0;
	size_t i;

	for (i = 0; i < n && k < DG_MAX_CIDRS; i++)
		if (gate_cidr_parse(&out[k], str_cstr(in[i]), &why) == 0)
			k++;
	return k;
}

void proxy__dlg_conf(struct proxy *p)
{
	const struct sg_conf_dialog *d = &p->conf->guard.dialog;
	const struct sg_conf_registration *r = &p->conf->guard.registration;

	dg_conf_default(&p->dg);
	p->dg.enforce = d->enforce;
	p->dg.drop_untrusted = d->action_untrusted == 0;
	p->dg.rebind = rebind_of(d->rebind);
	p->dg.rebind_trusted = rebind_of(d->rebind_trusted);
	p->dg.media_check = d->media_check;
	p->dg.nmedia =
		cidrs(p->dg.media, d->media_addresses, d->n_media_addresses);
	rg_conf_default(&p->rg);
	p->rg.max_bindings = (unsigned)r->max_bindings;
	p->rg.move_hold_ms = (uint64_t)r->move_hold;
	p->rg.forbid_private = r->forbid_private_contacts;
	p->rg.nforbidden = cidrs(p->rg.forbidden, r->forbidden_contacts,
				 r->n_forbidden_contacts);
}

static bool zone_trusted(const struct proxy *p, uint16_t zone)
{
	return zone < p->nzones && p->zones[zone].trusted;
}

/* Answer through the transaction (or statelessly without one). */
static void answer(struct proxy *p, struct sip_stx *stx,
		   const struct sip_msg *m, const struct sip_peer *from,
		   int status)
{
	char tag[PROXY_TAG_LEN + 1];

	p->st.local_replies++;
	if (!stx) {
		proxy__reply_stateless(p, m, from, status, NULL, STR_NULL);
		return;
	}
	proxy__tag(p, m, tag);
	if (sip_stx_reply_local(stx, status, STR_NULL, str_cstr(tag),
				STR_NULL) != 0)
		sip_stx_terminate(stx);
}

/*
 * Report a refusal and carry it out.  Returns false when the rule is in
 * monitor mode: the request goes on ("would-" event).
 */
bool proxy__refuse(struct proxy *p, struct sip_stx *stx,
		   const struct sip_msg *m, const struct sip_peer *from,
		   const char *rule, const char *why, int status, bool drop)
{
	struct guard_verdict v;

	guard_verdict_pass(&v);
	v.action = drop ? GUARD_DROP : GUARD_REPLY;
	v.status = drop ? 0 : status;
	v.rule = rule;
	v.why = why;
	guard_policy(p->guard, &v, from, m, m->to.uri.user, loop_now(p->loop),
		     proxy__wall_ms());
	if (v.action == GUARD_PASS)
		return false;
	if (drop) {
		p->st.guard_dropped++;
		if (stx)
			sip_stx_terminate(stx);
		return true;
	}
	p->st.guard_refused++;
	if (m->mid != SIP_METHOD_ACK)
		answer(p, stx, m, from, status);
	return true;
}

/* The SDP of a body: itself, or the application/sdp parts of a
 * multipart one.  Returns 0, -EPERM (*whyp) or -EINVAL. */
static int media_ok(const struct proxy *p, const struct sip_msg *m,
		    const struct sip_peer *from, const char **whyp)
{
	struct sip_part parts[SIP_MAX_PARTS];
	struct sip_ctype ct, pct;
	struct sip_perr pe;
	unsigned n, i;
	int err;

	*whyp = NULL;
	if (!m->body.len)
		return 0;
	if (sip_ctype_parse(&ct, m->content_type, &pe) != 0) {
		*whyp = "unreadable Content-Type";
		return -EINVAL;
	}
	if (str_caseeq_cstr(ct.type, "application") &&
	    str_caseeq_cstr(ct.subtype, "sdp"))
		return dg_media_check(&p->dg, m->body, &from->addr, whyp);
	if (!str_caseeq_cstr(ct.type, "multipart"))
		return 0;
	if (sip_multipart_split(parts, SIP_MAX_PARTS, &n, m->body, ct.boundary,
				&pe) != 0) {
		*whyp = "unreadable multipart body";
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (sip_ctype_parse(&pct, parts[i].ctype, &pe) != 0 ||
		    !str_caseeq_cstr(pct.type, "application") ||
		    !str_caseeq_cstr(pct.subtype, "sdp"))
			continue;
		err = dg_media_check(&p->dg, parts[i].body, &from->addr, whyp);
		if (err)
			return err;
	}
	return 0;
}

/* A re-offer from an untrusted party: media stays with it. */
static bool media_refused(struct proxy *p, struct sip_stx *stx,
			  const struct sip_msg *m, const struct sip_peer *from)
{
	const char *why;

	if (zone_trusted(p, from->zone) ||
	    (m->mid != SIP_METHOD_INVITE && m->mid != SIP_METHOD_UPDATE))
		return false;
	if (media_ok(p, m, from, &why) == 0)
		return false;
	/* 488 Not Acceptable Here: the offer, not the dialog, is refused
	 * (RFC 3261 14.2: the session stays as it was). */
	return proxy__refuse(p, stx, m, from, DG_RULE_MEDIA, why, 488, false);
}

enum proxy_dlg proxy__dlg_check(struct proxy *p, struct sip_stx *stx,
				const struct sip_msg *m,
				const struct sip_peer *from, bool auth_tried)
{
	struct dg_in in;
	struct dg_out o;
	enum sip_dlg_side s;
	struct sip_dlg *d;

	if (!p->dg.enforce || !m->to.tag.len)
		return PROXY_DLG_PASS;
	memset(&in, 0, sizeof(in));
	d = sip_dlg_find(p->dlgs, m->call_id, m->from.tag, m->to.tag, &s);
	in.mid = m->mid;
	in.found = d != NULL;
	in.trusted = zone_trusted(p, from->zone);
	in.cseq = m->cseq.num;
	in.auth_tried = auth_tried;
	in.authenticated = auth_tried && guard_local_verified(p->guard, m);
	if (d) {
		in.has_peer = d->side[s].has_peer;
		in.peer = dg_peer_cmp(&d->side[s].peer, from);
		in.has_cseq = d->side[s].has_cseq;
		in.last_cseq = d->side[s].cseq;
	}
	dg_check(&p->dg, &in, &o);
	switch (o.res) {
	case DG_NEED_AUTH:
		return PROXY_DLG_AUTH;
	case DG_REFUSE:
		if (proxy__refuse(p, stx, m, from, o.rule, o.why, 481, o.drop))
			return PROXY_DLG_STOP;
		return PROXY_DLG_PASS;
	case DG_REBIND:
		guard_notice(p->guard, o.rule, from, m, m->to.uri.user, o.why,
			     loop_now(p->loop), proxy__wall_ms());
		break;
	case DG_OK:
		break;
	}
	if (d && media_refused(p, stx, m, from))
		return PROXY_DLG_STOP;
	return PROXY_DLG_PASS;
}

/* A challenge or failure of guard_authenticate(), through the
 * transaction (a retransmission gets the same bytes). */
static void verdict_reply(struct proxy *p, struct sip_stx *stx,
			  const struct sip_msg *m,
			  const struct guard_verdict *v)
{
	char tag[PROXY_TAG_LEN + 1];

	proxy__tag(p, m, tag);
	buf_reset(&p->out);
	p->st.local_replies++;
	/* Echo the request as received, not topo.c's internal view. */
	if (guard_reply(p->guard, &p->out, proxy__topo_received(p, m),
			str_cstr(tag), v) != 0 ||
	    sip_stx_send_response(stx, p->out.p, p->out.len, v->status) != 0)
		sip_stx_terminate(stx);
}

bool proxy__dlg_admit(struct proxy *p, struct sip_stx *stx,
		      const struct sip_msg *m, const struct sip_peer *from)
{
	struct guard_verdict gv;
	enum proxy_dlg dg = proxy__dlg_check(p, stx, m, from, false);

	if (dg != PROXY_DLG_AUTH)
		return dg == PROXY_DLG_PASS;
	/* The digest covers the Request-URI the party sent (a topology
	 * hiding token), not the internal one it maps to. */
	guard_authenticate(p->guard, proxy__topo_received(p, m), from,
			   loop_now(p->loop), proxy__wall_ms(), &gv);
	if (gv.action == GUARD_DROP) {
		p->st.guard_dropped++;
		sip_stx_terminate(stx);
		return false;
	}
	if (gv.action == GUARD_REPLY) {
		p->st.guard_refused++;
		verdict_reply(p, stx, m, &gv);
		return false;
	}
	return proxy__dlg_check(p, stx, m, from, true) == PROXY_DLG_PASS;
}

bool proxy__dlg_cancel(struct proxy *p, struct sip_stx *stx,
		       const struct sip_msg *m, const struct sip_peer *from,
		       const struct proxy_fwd *f)
{
	struct dg_out o;

	dg_check_cancel(&p->dg, f != NULL, zone_trusted(p, from->zone),
			f ? dg_peer_cmp(&f->from, from) : DG_PEER_OTHER, &o);
	if (o.res == DG_OK)
		return true;
	if (!p->dg.enforce) {
		/* The old check: the INVITE's IP. */
		if (f && sg_addr_ip_eq(&f->from.addr, &from->addr))
			return true;
		answer(p, stx, m, from, 481);
		return false;
	}
	if (!f) {
		/* Nothing to cancel: 481 as RFC 3261 9.2 says (a CANCEL
		 * racing the final answer is normal), and reported. */
		if (!proxy__refuse(p, stx, m, from, o.rule, o.why, 481, false))
			answer(p, stx, m, from, 481);
		return false;
	}
	return !proxy__refuse(p, stx, m, from, o.rule, o.why, 481, o.drop);
}

void proxy__dlg_response(struct proxy *p, const struct sip_msg *resp,
			 const struct sip_peer *from,
			 const struct sip_dlg_match *dm)
{
	/* A response matched our client transaction by its branch, which
	 * only the next hop saw: a new source is the party behind a NAT
	 * that rebound, not a forger.  Accepted, but reported.  A new fork
	 * is a new party, not a move. */
	if (!p->dg.enforce || !dm->dlg || !dm->peer_changed || dm->created)
		return;
	guard_notice(p->guard, DG_RULE_REBIND, from, resp, resp->to.uri.user,
		     "party answers from a new address", loop_now(p->loop),
		     proxy__wall_ms());
}
