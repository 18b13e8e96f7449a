/*
 * response.c - proxying responses (RFC 3261 16.7): match the client
 * transaction, pop our Via, forward through the server transaction,
 * fail over to the next backend on 503 or timeout, synthesise 408, and
 * forward 2xx retransmissions and stray 2xx statelessly by Via.
 */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/loop.h"
#include "proxy/proxy_int.h"

/* Build m without its top Via (ours) into p->out; gv, when not NULL, is
 * a guard verdict that rewrites the answer (anti-enumeration). */
static int build_response(struct proxy *p, const struct sip_msg *m,
			  bool registrar, const struct guard_verdict *gv,
			  const struct proxy_fwd *f,
			  const struct sip_peer *from)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_VIA);
	struct sip_bld b;
	int err;

	if (!h || m->nvia == 0)
		return -EINVAL;
	sip_bld_init(&b, m);
	if (f && f->th_via) {
		/* Topology hiding kept the Via stack aside (topo.c). */
		err = proxy__topo_via_restore(&b, m, f);
		if (err)
			return err;
	} else if (m->nvia > 1 && m->via[1].raw.p > h->value.p &&
		   m->via[1].raw.p < h->value.p + h->value.len) {
		/* Several Vias on one line: drop "ours, " up to the next. */
		sip_bld_replace_range(
			&b, str_span(m->via[0].raw.p, m->via[1].raw.p),
			STR_NULL);
	} else {
		sip_bld_remove(&b, h);
	}
	if (f && !gv && f->in_zone != f->out_zone &&
	    proxy__topo_zone(p, f->in_zone)) {
		err = proxy__topo_response(p, &b, m, f, registrar);
		if (err)
			return err;
	}
	if (gv) {
		/* The rewrite replaces every header but the routing ones:
		 * the registrar's Contacts go with it. */
		err = guard_apply_answer(p->guard, &b, m, gv);
		if (err)
			return err;
	} else if (registrar) {
		err = proxy__reg_response(p, &b, m);
		if (err)
			return err;
	}
	if (!gv) {
		err = proxy__anchor_response(p, &b, m, from);
		if (err)
			return err;
	}
	buf_reset(&p->out);
	return sip_bld_write(&b, &p->out);
}

/* Send the response in p->out to where its (new) top Via says. */
static void send_by_via(struct proxy *p, const struct sip_msg *m,
			const struct sip_peer *hint)
{
	struct sip_peer to;
	unsigned i;

	if (m->nvia < 2 && hint) {
		/* Topology hiding kept the Vias: back to the requester. */
		to = *hint;
	} else if (m->nvia < 2 ||
		   proxy__via_target(&to, &m->via[1], hint) != 0) {
		p->st.dropped++;
		return;
	}
	/* Send from a listener of the zone that request came from. */
	for (i = 0; i < p->nlis; i++)
		if (sg_addr_family(&p->lis[i].addr) ==
			    sg_addr_family(&to.addr) &&
		    (!hint || p->lis[i].zone == hint->zone)) {
			to.local = p->lis[i].local;
			to.zone = p->lis[i].zone;
			break;
		}
	if (proxy__send(p, &to, p->out.p, p->out.len) == 0)
		p->st.fwd_responses++;
}

/* Is the top Via ours?  (A response must come back through our Via.) */
static bool top_via_ours(const struct proxy *p, const struct sip_msg *m)
{
	struct sg_addr a;
	unsigned i;

	if (!m->nvia)
		return false;
	if (sg_addr_from_host(&a, m->via[0].host,
			      m->via[0].has_port ? m->via[0].port : 5060))
		return false;
	for (i = 0; i < p->nlis; i++)
		if (sg_addr_eq(&a, &p->lis[i].addr))
			return true;
	return false;
}

void proxy__response(struct proxy *p, const struct sip_msg *m,
		     const struct sip_peer *from)
{
	int rc;

	p->st.rx_responses++;
	rc = sip_ctx_receive(p->txl, m, from);
	if (rc == SIP_CTX_DELIVERED)
		return;
	if (rc == SIP_CTX_ABSORBED) {
		p->st.absorbed++;
		return;
	}
	/* Stray (16.7 step 2): only a 2xx to INVITE is worth forwarding
	 * statelessly (a retransmission after our transaction ended). */
	if (m->status >= 200 && m->status < 300 &&
	    m->cseq.mid == SIP_METHOD_INVITE && top_via_ours(p, m) &&
	    build_response(p, m, false, NULL, NULL, from) == 0) {
		send_by_via(p, m, NULL);
		return;
	}
	p->st.dropped++;
}

static bool failover_status(int status)
{
	return status == 503 || status == 408 || status == 500;
}

/* Client transaction callback: a response from downstream. */
void proxy__ctx_response(void *user, struct sip_ctx *ctx,
			 const struct sip_msg *resp,
			 const struct sip_peer *from)
{
	struct proxy_fwd *f = user;
	struct proxy *p = f->p;
	struct sip_dlg_match dm;
	struct guard_verdict gv;
	int status = resp->status, err;
	bool reg;

	if (status == 100)
		return; /* hop by hop */
	/* From a hiding zone: the internal view (topo.c).  The transaction
	 * layer had the response as received: its ACK to a non-2xx must
	 * carry the To the outside party sent. */
	resp = proxy__topo_inbound(p, resp, from);
	if (f->backend >= 0 && status < 500)
		proxy__backend_result(p, f->in_zone, f->backend, true);
	if (status >= 300 && failover_status(status) && f->ctx == ctx &&
	    f->backend >= 0) {
		proxy__backend_result(p, f->in_zone, f->backend, false);
		if (proxy__forward_next(f) == 0)
			return;
	}
	reg = f->mid == SIP_METHOD_REGISTER && status >= 200 && status < 300 &&
	      !p->zones[f->in_zone].trusted;
	guard_verdict_pass(&gv);
	if (status >= 200 && f->gq.active && f->ctx == ctx && !f->final_sent)
		guard_answer(p->guard, &f->gq, &f->from, resp, status,
			     loop_now(p->loop), proxy__wall_ms(), &gv);
	if (gv.action == GUARD_DROP) {
		/* The requester just became a scanner: it learns nothing. */
		p->st.guard_dropped++;
		f->final_sent = true;
		if (f->stx)
			sip_stx_terminate(f->stx);
		return;
	}
	if (build_response(p, resp, reg, gv.action == GUARD_REPLY ? &gv : NULL,
			   f, from) != 0) {
		p->st.dropped++;
		return;
	}
	if (gv.action == GUARD_REPLY) {
		p->st.guard_refused++;
		status = gv.status;
	}
	if (status >= 200 && f->ctx == ctx)
		proxy__regguard_answer(p, f, resp);
	if (sip_dlg_response(p->dlgs, resp, from, &dm) == 0) {
		proxy__dlg_response(p, resp, from, &dm);
		proxy__cl_dlg_response(p, resp, &dm);
	}
	if (!f->stx) {
		if (status >= 200 && status < 300 &&
		    resp->cseq.mid == SIP_METHOD_INVITE)
			send_by_via(p, resp, &f->from);
		return;
	}
	err = sip_stx_send_response(f->stx, p->out.p, p->out.len, status);
	if (err == -EALREADY || err == -ESRCH) {
		if (status >= 200 && status < 300 &&
		    resp->cseq.mid == SIP_METHOD_INVITE)
			send_by_via(p, resp, &f->from);
		return;
	}
	if (err == 0)
		p->st.fwd_responses++;
	if (status >= 200) {
		f->final_sent = true;
		/* No failover after a final answer: drop the copy now
		 * rather than when the transactions end. */
		mem_free(f->req);
		f->req = NULL;
		f->req_len = 0;
	}
}

/* Client transaction callback: Timer B/F, or a transport error. */
void proxy__ctx_timeout(void *user, struct sip_ctx *ctx, int err)
{
	struct proxy_fwd *f = user;
	struct proxy *p = f->p;
	char tag[PROXY_TAG_LEN + 1];

	if (f->ctx != ctx)
		return;
	if (f->backend >= 0) {
		proxy__backend_result(p, f->in_zone, f->backend, false);
		if (proxy__forward_next(f) == 0)
			return;
	}
	if (!f->stx || f->final_sent)
		return;
	snprintf(tag, sizeof(tag), "%016llx",
		 (unsigned long long)(uintptr_t)f ^ p->seq++);
	f->final_sent = true;
	p->st.local_replies++;
	if (sip_stx_reply_local(f->stx,
				f->cancelled        ? 487
				: err == -ETIMEDOUT ? 408
						    : 503,
				STR_NULL, str_cstr(tag), STR_NULL) != 0)
		sip_stx_terminate(f->stx);
}
