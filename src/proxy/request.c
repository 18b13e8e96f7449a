/*
 * request.c - proxying requests (RFC 3261 16.3-16.6): validation,
 * Max-Forwards, loop detection, Route processing (loose routing and
 * strict-router compatibility, 16.4), target choice per zone, Via push,
 * Record-Route (two entries when the request changes zone or transport),
 * received/rport for the sender's Via (RFC 3581), 100 Trying for INVITE,
 * CANCEL hop by hop (9.2, 16.10) and ACK for 2xx end to end.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "proxy/proxy_int.h"

/* Where a request goes and what its Request-URI becomes. */
struct target {
	struct sip_peer to;
	unsigned zone;   /* zone it goes into */
	struct str ruri; /* new Request-URI; empty: unchanged */
	int backend;     /* backend index, -1 if none */
	unsigned pop;    /* leading Route entries that are ours */
	bool strict;     /* last Route became the Request-URI */
};

static bool is_dialog_forming(enum sip_method m)
{
	return m == SIP_METHOD_INVITE || m == SIP_METHOD_SUBSCRIBE ||
	       m == SIP_METHOD_REFER;
}

static unsigned egress_zone(const struct proxy *p, unsigned in_zone)
{
	int e = p->zones[in_zone].egress;

	return e < 0 ? in_zone : (unsigned)e;
}

/* Answer through the server transaction (or statelessly without one). */
static void reply(struct proxy *p, struct sip_stx *stx, const struct sip_msg *m,
		  const struct sip_peer *from, int status, const char *reason,
		  struct str extra)
{
	char tag[PROXY_TAG_LEN + 1];

	p->st.local_replies++;
	if (!stx) {
		proxy__reply_stateless(p, m, from, status, reason, extra);
		return;
	}
	proxy__tag(p, m, tag);
	if (sip_stx_reply_local(stx, status, str_cstr(reason ? reason : ""),
				str_cstr(tag), extra) != 0)
		sip_stx_terminate(stx);
}

/*
 * Route processing (16.4): a Request-URI naming us means a strict router
 * sent it: the last Route becomes the Request-URI.  Then leading Route
 * entries naming us are ours to remove (two when we double
 * record-routed).  Fills t->pop and, for strict routing, t->ruri.
 */
static void route_preprocess(struct proxy *p, const struct sip_msg *m,
			     struct target *t, bool *strictp)
{
	*strictp = false;
	if (m->nroute && proxy__uri_is_us(p, &m->ruri)) {
		t->ruri = m->route[m->nroute - 1].uri.raw;
		*strictp = true;
	}
	while (t->pop < m->nroute && proxy__uri_is_us(p, &m->route[t->pop].uri))
		t->pop++;
}

/*
 * In-dialog target from the dialog record: the address the other party
 * used.  Toward the untrusted side always (NAT: its Contact may be a
 * private address); toward the trusted side only when the Request-URI
 * names us (a UA that sent the request to the proxy instead of our
 * peer's Contact, as without Record-Route).
 */
static bool dialog_target(struct proxy *p, const struct sip_msg *m,
			  const struct sip_peer *from, bool ruri_is_us,
			  struct sip_peer *to)
{
	enum sip_dlg_side s;
	struct sip_dlg *d;

	if (!m->to.tag.len)
		return false;
	d = sip_dlg_find(p->dlgs, m->call_id, m->from.tag, m->to.tag, &s);
	if (!d)
		return false;
	s = s == SIP_DLG_CALLER ? SIP_DLG_CALLEE : SIP_DLG_CALLER;
	if (!d->side[s].has_peer)
		return false;
	if (!ruri_is_us && (p->zones[d->side[s].peer.zone].trusted ||
			    d->side[s].peer.zone == from->zone))
		return false;
	*to = d->side[s].peer;
	to->local = 0;
	return true;
}

/*
 * Choose the next hop (16.5/16.6 with our zone policy).  Returns 0, or a
 * SIP status to answer with.
 */
static int choose_target(struct proxy *p, const struct sip_msg *m,
			 const struct sip_peer *from, struct target *t)
{
	const struct proxy_zone *z = &p->zones[from->zone];
	struct sip_uri ru;
	bool strict;

	memset(t, 0, sizeof(*t));
	t->backend = -1;
	t->zone = egress_zone(p, from->zone);
	route_preprocess(p, m, t, &strict);
	t->strict = strict;
	if (t->pop < m->nroute - (strict ? 1u : 0u)) {
		/* Loose routing: the next Route is the next hop. */
		if (proxy__uri_target(&t->to, &m->route[t->pop].uri) != 0)
			return 404;
		/* To the other party's own address: leave by its zone
		 * (a call handed between instances, cluster.c). */
		proxy__cl_route_zone(p, m, &t->to, &t->zone);
		goto found;
	}
	if (m->to.tag.len || strict) {
		/* In dialog: the remote target, or that party's address. */
		if (dialog_target(p, m, from,
				  !strict && proxy__uri_is_us(p, &m->ruri),
				  &t->to)) {
			t->zone = t->to.zone;
			goto found;
		}
		if (strict) {
			if (sip_uri_parse(&ru, t->ruri, p->lim.max_uri, NULL) !=
				    0 ||
			    proxy__uri_target(&t->to, &ru) != 0)
				return 404;
		} else if (proxy__uri_target(&t->to, &m->ruri) != 0) {
			return 404;
		}
		goto found;
	}
	if (!z->trusted) {
		/* Untrusted zone: initial requests go to the PBX. */
		t->backend = proxy__backend_pick(p, from->zone, -1);
		if (t->backend < 0)
			return 503;
		t->to = z->be[t->backend].peer;
		goto found;
	}
	/* Trusted zone: a registered remote user, else the trunk. */
	if (proxy__reg_lookup(p, &m->ruri, &t->to, &t->ruri)) {
		t->zone = t->to.zone;
		goto found;
	}
	/* Registered through another instance: hand it over (cluster.c). */
	if (proxy__cl_lookup(p, &m->ruri, from->zone, &t->to)) {
		t->zone = t->to.zone;
		goto found;
	}
	if (z->has_trunk) {
		t->to = z->trunk;
		goto found;
	}
	return 404;
found:
	/* A target that is one of our own listeners would loop to us. */
	{
		unsigned i;

		for (i = 0; i < p->nlis; i++)
			if (sg_addr_eq(&p->lis[i].addr, &t->to.addr))
				return 482;
	}
	return 0;
}

static void fwd_free(struct proxy_fwd *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		f->p->fwds = f->next;
	if (f->next)
		f->next->prev = f->prev;
	mem_free(f->req);
	mem_free(f->th_via);
	mem_free(f);
}

/* Shutdown: the transaction layer is gone, free what it pointed at. */
void proxy__fwd_free_all(struct proxy *p)
{
	while (p->fwds)
		fwd_free(p->fwds);
}

/* Called when a transaction pointing at f goes away. */
void proxy__fwd_release(struct proxy_fwd *f)
{
	if (!f->stx && !f->ctx)
		fwd_free(f);
}

/*
 * Our own final answer to a request the guard observes: it counts (404
 * for an unknown user is what enumeration collects).  Returns false when
 * the source has just become a scanner: send nothing.
 */
static bool guard_lets_answer(struct proxy *p, const struct guard_req *gq,
			      const struct sip_peer *from, int status)
{
	struct guard_verdict v;

	if (!gq || !gq->active || status < 300)
		return true;
	guard_answer(p->guard, gq, from, NULL, status, loop_now(p->loop),
		     proxy__wall_ms(), &v);
	return v.action != GUARD_DROP;
}

/* Answer a REPLY verdict of the guard through the transaction, so a
 * retransmitted request gets the same bytes. */
static void reply_verdict(struct proxy *p, struct sip_stx *stx,
			  const struct sip_msg *m,
			  const struct guard_verdict *v)
{
	char tag[PROXY_TAG_LEN + 1];

	proxy__tag(p, m, tag);
	buf_reset(&p->out);
	p->st.local_replies++;
	if (guard_reply(p->guard, &p->out, m, str_cstr(tag), v) != 0 ||
	    sip_stx_send_response(stx, p->out.p, p->out.len, v->status) != 0)
		sip_stx_terminate(stx);
}

static struct proxy_fwd *fwd_new(struct proxy *p, struct sip_stx *stx,
				 const struct sip_msg *m,
				 const struct sip_peer *from, bool keep)
{
	struct proxy_fwd *f = mem_zalloc(sizeof(*f));

	if (!f)
		return NULL;
	f->kind = PROXY_U_FWD;
	f->p = p;
	f->stx = stx;
	f->mid = m->mid;
	f->in_zone = from->zone;
	f->from = *from;
	f->backend = -1;
	if (keep) {
		/* Failover re-sends the original to the next backend. */
		f->req = mem_alloc(m->raw.len);
		if (!f->req) {
			mem_free(f);
			return NULL;
		}
		memcpy(f->req, m->raw.p, m->raw.len);
		f->req_len = m->raw.len;
	}
	f->next = p->fwds;
	if (f->next)
		f->next->prev = f;
	p->fwds = f;
	sip_stx_set_user(stx, f);
	return f;
}

/* ---------------------------------------------------------- building */

/* Re-emit the Route entries we keep, as one header, in place of all. */
static void rebuild_routes(struct sip_bld *b, const struct sip_msg *m,
			   unsigned pop, unsigned end, struct buf *tmp)
{
	const struct sip_hdr *h, *first = sip_msg_hdr(m, SIP_HDR_ROUTE);
	unsigned i;

	for (h = first; h; h = sip_hdr_next(m, h))
		sip_bld_remove(b, h);
	if (pop >= end)
		return;
	for (i = pop; i < end; i++) {
		if (i > pop)
			buf_append_cstr(tmp, ", ");
		buf_append_str(tmp, m->route[i].raw);
	}
	sip_bld_insert(b, first, STR("Route"), buf_str(tmp));
}

static int build_request(struct proxy_fwd *f, const struct sip_msg *m,
			 const struct target *t, const struct proxy_lis *out,
			 struct str branch, struct buf *outb)
{
	struct proxy *p = f->p;
	const struct proxy_lis *in = NULL;
	char via[512], rr[512], mf[16], line[SIP_MAX_START_LINE];
	char fixed[1024], routes_mem[SIP_MAX_URI * 2];
	struct buf routes;
	struct sip_bld b;
	const struct sip_hdr *h;
	unsigned i;
	int n;
	/* Topology hiding: into a hiding zone from another (topo.c). */
	bool th = proxy__topo_zone(p, out->zone) && f->in_zone != out->zone;
	struct str via0, rrv = STR_NULL;

	buf_init_fixed(&routes, routes_mem, sizeof(routes_mem));
	sip_bld_init(&b, m);
	if (t->ruri.len) {
		n = snprintf(line, sizeof(line), "%.*s %.*s SIP/2.0",
			     STR_FMT(m->method), STR_FMT(t->ruri));
		if (n < 0 || (size_t)n >= sizeof(line))
			return -ENOSPC;
		sip_bld_start_line(&b, str_make(line, (size_t)n));
	}
	h = sip_msg_hdr(m, SIP_HDR_MAX_FORWARDS);
	snprintf(mf, sizeof(mf), "%d",
		 m->max_forwards < 0 ? PROXY_DEFAULT_MF : m->max_forwards - 1);
	if (h)
		sip_bld_replace_value(&b, h, str_cstr(mf));
	else
		sip_bld_append(&b, STR("Max-Forwards"), str_cstr(mf));
	if (t->pop || t->strict)
		rebuild_routes(&b, m, t->pop,
			       t->strict ? m->nroute - 1 : m->nroute, &routes);
	n = proxy__via_fix(fixed, sizeof(fixed), &m->via[0], &f->from);
	via0 = n > 0 ? str_make(fixed, (size_t)n) : m->via[0].raw;
	if (n > 0 && !th)
		sip_bld_replace_range(&b, m->via[0].raw,
				      str_make(fixed, (size_t)n));
	/* The transport the request really leaves on (TLS to a backend
	 * from a zone that only listens on UDP: SIP/2.0/TLS). */
	n = snprintf(via, sizeof(via), "SIP/2.0/%s %s;branch=%.*s;sgl=%016llx",
		     sip_tp_name(t->to.tp), out->hostport, STR_FMT(branch),
		     (unsigned long long)proxy__loop_hash(p, m));
	if (n < 0 || (size_t)n >= sizeof(via))
		return -ENOSPC;
	sip_bld_insert(&b, sip_msg_hdr(m, SIP_HDR_VIA), STR("Via"),
		       str_make(via, (size_t)n));
	if (is_dialog_forming(m->mid) && !m->to.tag.len) {
		for (i = 0; i < p->nlis; i++)
			if (p->lis[i].local == f->from.local)
				in = &p->lis[i];
		/* Two entries when zone or transport changes (RFC 5658). */
		if (in && (in->zone != out->zone || in->tp != out->tp))
			n = snprintf(rr, sizeof(rr),
				     "<sip:%s;transport=%s;lr>, "
				     "<sip:%s;transport=%s;lr>",
				     out->hostport, proxy__tp_param(out->tp),
				     in->hostport, proxy__tp_param(in->tp));
		else
			n = snprintf(rr, sizeof(rr), "<sip:%s;transport=%s;lr>",
				     out->hostport, proxy__tp_param(out->tp));
		if (n < 0 || (size_t)n >= sizeof(rr))
			return -ENOSPC;
		rrv = str_make(rr, (size_t)n);
		h = sip_msg_hdr(m, SIP_HDR_RECORD_ROUTE);
		if (th)
			; /* topo.c seals it with the inside's entries */
		else if (h)
			sip_bld_insert(&b, h, STR("Record-Route"),
				       str_make(rr, (size_t)n));
		else
			sip_bld_append(&b, STR("Record-Route"),
				       str_make(rr, (size_t)n));
	}
	if (f->strip_auth && (h = guard_strip_hdr(p->guard, m)))
		sip_bld_remove(&b, h);
	if (m->mid == SIP_METHOD_REGISTER && !p->zones[f->in_zone].trusted) {
		n = proxy__reg_request(p, &b, m, &f->from, out);
		if (n)
			return n;
	}
	if (th) {
		n = proxy__topo_request(p, &b, m, f, out, via0, rrv);
		if (n)
			return n;
	}
	n = proxy__anchor_request(p, &b, m, &f->from, out);
	if (n)
		return n;
	if (f->in_zone != out->zone &&
	    (n = guard_scrub(p->guard, &b, m, f->in_zone, out->zone,
			     loop_now(p->loop), proxy__wall_ms())) != 0)
		return n;
	buf_reset(outb);
	return sip_bld_write(&b, outb);
}

/*
 * Forward m (received from f->from) to t->to through a new client
 * transaction.  Returns 0 or -errno (no transaction then).
 */
static int forward(struct proxy_fwd *f, const struct sip_msg *m,
		   const struct target *t)
{
	struct proxy *p = f->p;
	const struct proxy_lis *out = proxy__egress(p, t->zone, &t->to);
	char branch[SIP_TXN_BRANCH_LEN + 1];
	struct sip_peer to = t->to;
	struct sip_ctx *ctx;
	size_t blen;
	int err;

	if (!out)
		return -ENETUNREACH;
	to.local = out->local;
	to.zone = out->zone;
	blen = sip_txl_branch(p->txl, branch);
	err = build_request(f, m, t, out, str_make(branch, blen), &p->out);
	if (err)
		return err;
	err = sip_ctx_new(&ctx, p->txl, &to, str_make(branch, blen), m->method,
			  p->out.p, p->out.len, f);
	/* Also reached from timers (failover): not only from on_recv. */
	proxy__anchor_scrub(p);
	if (err)
		return err;
	f->ctx = ctx;
	f->out_zone = out->zone;
	f->backend = t->backend;
	p->st.fwd_requests++;
	return 0;
}

/* Failover: the original request again, to the next backend. */
int proxy__forward_next(struct proxy_fwd *f)
{
	struct proxy *p = f->p;
	struct sip_perr pe;
	struct target t;
	int be;

	if (!f->req || f->backend < 0 || f->final_sent || f->cancelled)
		return -ENOENT;
	be = proxy__backend_pick(p, f->in_zone, f->backend);
	if (be < 0)
		return -ENOENT;
	if (sip_msg_parse(p->msg2, f->req, f->req_len, &p->lim, SIP_PARSE_DGRAM,
			  &pe) != 0)
		return -EINVAL;
	memset(&t, 0, sizeof(t));
	t.backend = be;
	t.zone = egress_zone(p, f->in_zone);
	t.to = p->zones[f->in_zone].be[be].peer;
	p->st.failovers++;
	log_info("failover: %s to backend %s", sip_method_name(f->mid),
		 p->zones[f->in_zone].be[be].hostport);
	return forward(f, p->msg2, &t);
}

/* ----------------------------------------------------------- methods */

/* ACK for a 2xx (no transaction): route it like any in-dialog request. */
static void ack_end_to_end(struct proxy *p, const struct sip_msg *m,
			   const struct sip_peer *from)
{
	struct proxy_fwd f = {.kind = PROXY_U_FWD,
			      .p = p,
			      .from = *from,
			      .mid = m->mid,
			      .in_zone = from->zone};
	const struct proxy_lis *out;
	char branch[SIP_TXN_BRANCH_LEN + 1];
	struct sip_dlg_match dm;
	struct sip_peer to;
	struct target t;
	size_t blen;

	if (proxy__dlg_check(p, NULL, m, from, false) != PROXY_DLG_PASS ||
	    choose_target(p, m, from, &t) != 0 ||
	    !(out = proxy__egress(p, t.zone, &t.to))) {
		p->st.dropped++;
		return;
	}
	to = t.to;
	to.local = out->local;
	to.zone = out->zone;
	blen = sip_txl_branch(p->txl, branch);
	if (build_request(&f, m, &t, out, str_make(branch, blen), &p->out))
		return;
	(void)sip_dlg_request(p->dlgs, m, from, &dm);
	if (proxy__send(p, &to, p->out.p, p->out.len) == 0)
		p->st.fwd_requests++;
}

static void handle_cancel(struct proxy *p, const struct sip_msg *m,
			  struct sip_stx *stx, const struct sip_peer *from)
{
	struct sip_stx *inv = sip_stx_find_invite(p->txl, m);
	struct proxy_fwd *f = inv ? sip_stx_user(inv) : NULL;
	struct sip_dlg_match dm;

	/* Same source as the INVITE, or refused (indialog.c). */
	if (!proxy__dlg_cancel(p, stx, m, from, f))
		return;
	reply(p, stx, m, from, 200, NULL, STR_NULL);
	f->cancelled = true;
	(void)sip_dlg_request(p->dlgs, m, from, &dm);
	if (f->ctx)
		sip_ctx_cancel(f->ctx);
	else if (!f->final_sent && f->stx)
		reply(p, f->stx, m, from, 487, NULL, STR_NULL);
}

/* A request to us (no user, our address, no Route): OPTIONS pings. */
static bool for_us(struct proxy *p, const struct sip_msg *m)
{
	return m->nroute == 0 && m->ruri.user.len == 0 &&
	       proxy__uri_is_us(p, &m->ruri) != NULL;
}

static int check_request(struct proxy *p, const struct sip_msg *m,
			 const struct sip_peer *from, struct str *extrap,
			 char *extra, size_t extrasz)
{
	const struct sip_hdr *h;

	(void)from;
	if (m->ruri.sch != SIP_URI_SIP && m->ruri.sch != SIP_URI_SIPS &&
	    m->ruri.sch != SIP_URI_TEL)
		return 416;
	if (m->max_forwards == 0)
		return m->mid == SIP_METHOD_OPTIONS && for_us(p, m) ? 200 : 483;
	if (proxy__is_loop(p, m))
		return 482;
	/* We support no extension that a proxy must understand (16.3). */
	h = sip_msg_hdr(m, SIP_HDR_PROXY_REQUIRE);
	if (h) {
		int n = snprintf(extra, extrasz, "Unsupported: %.*s\r\n",
				 STR_FMT(h->value));

		if (n > 0 && (size_t)n < extrasz &&
		    !memchr(h->value.p, '\n', h->value.len))
			*extrap = str_make(extra, (size_t)n);
		return 420;
	}
	if (for_us(p, m) && m->mid == SIP_METHOD_OPTIONS)
		return 200;
	return 0;
}

void proxy__request(struct proxy *p, const struct sip_msg *m,
		    const struct sip_peer *from)
{
	struct sip_stx *stx = NULL;
	const struct sip_msg *rx;
	struct proxy_fwd *f;
	struct sip_dlg_match dm;
	struct target t;
	struct str extra = STR_NULL;
	struct guard_verdict gv;
	struct guard_req gq;
	char extra_mem[256];
	bool in_dialog;
	int rc, status;

	/* A new call whose caller's cluster-wide counts are being read
	 * waits for them (fraudhold.c). */
	if (proxy__hold(p, m, from))
		return;
	p->st.rx_requests++;
	rc = sip_stx_receive(p->txl, m, from, &stx);
	if (rc == SIP_STX_ABSORBED || rc == SIP_STX_ACK_ABSORBED) {
		p->st.absorbed++;
		return;
	}
	if (rc == SIP_STX_NOMATCH) {
		if (m->mid == SIP_METHOD_ACK)
			ack_end_to_end(p, proxy__topo_inbound(p, m, from),
				       from);
		else
			p->st.absorbed++;
		return;
	}
	if (rc == -ENOSPC) {
		/* Pool full: admission control, existing calls go on. */
		p->st.txn_full++;
		reply(p, NULL, m, from, 503, NULL, STR("Retry-After: 5\r\n"));
		return;
	}
	if (rc < 0 || !stx) {
		p->st.dropped++;
		return;
	}
	if (m->mid == SIP_METHOD_CANCEL) {
		handle_cancel(p, m, stx, from);
		return;
	}
	/* From a hiding zone: the internal view from here on (topo.c); the
	 * transaction keeps the message as received for its own answers,
	 * and answers built from the message use it as received (rx). */
	rx = m;
	m = proxy__topo_inbound(p, m, from);
	in_dialog =
		m->to.tag.len && sip_dlg_find(p->dlgs, m->call_id, m->from.tag,
					      m->to.tag, NULL) != NULL;
	guard_request(p->guard, m, from, in_dialog, loop_now(p->loop),
		      proxy__wall_ms(), &gq, &gv);
	if (gv.action == GUARD_DROP) {
		/* No answer, no state: the transaction just goes away. */
		p->st.guard_dropped++;
		sip_stx_terminate(stx);
		return;
	}
	if (gv.action == GUARD_REPLY) {
		p->st.guard_refused++;
		reply_verdict(p, stx, rx, &gv);
		return;
	}
	/* Does it belong to its dialog?  (indialog.c) */
	if (!proxy__dlg_admit(p, stx, m, from))
		return;
	if (p->draining && m->mid == SIP_METHOD_INVITE && !m->to.tag.len) {
		/* sipguardctl drain: no new calls, current ones go on. */
		p->st.drain_refused++;
		reply(p, stx, m, from, 503, NULL, STR("Retry-After: 60\r\n"));
		return;
	}
	status =
		check_request(p, m, from, &extra, extra_mem, sizeof(extra_mem));
	if (status == 0)
		status = choose_target(p, m, from, &t);
	if (status) {
		if (status == 482)
			p->st.loops++;
		if (status == 483)
			p->st.too_many_hops++;
		if (!guard_lets_answer(p, &gq, from, status)) {
			sip_stx_terminate(stx);
			return;
		}
		reply(p, stx, m, from, status, NULL,
		      status == 503 ? STR("Retry-After: 5\r\n") : extra);
		return;
	}
	if (proxy__regguard_request(p, stx, m, from))
		return;
	/* REGISTER keeps its copy: regguard reads its Contacts again
	 * when the registrar answers. */
	f = fwd_new(p, stx, m, from,
		    t.backend >= 0 || (m->mid == SIP_METHOD_REGISTER &&
				       !p->zones[from->zone].trusted));
	if (!f) {
		reply(p, stx, m, from, 500, NULL, STR_NULL);
		return;
	}
	f->gq = gq;
	f->strip_auth = guard_strip_hdr(p->guard, m) != NULL;
	if (m->mid == SIP_METHOD_INVITE)
		reply(p, stx, m, from, 100, NULL, STR_NULL);
	rc = sip_dlg_request(p->dlgs, m, from, &dm);
	if (rc == -ENOSPC) {
		reply(p, stx, m, from, 503, NULL, STR("Retry-After: 5\r\n"));
		return;
	}
	if (rc == 0 && !dm.created)
		proxy__cl_dlg_request(p, m, &dm);
	if (rc == 0 && dm.created && dm.dlg) {
		/* Toll fraud: the call counts from here; its class may end
		 * it early (max duration, BYE to both by on_dlg_expire). */
		uint64_t max =
			guard_call_start(p->guard, &gq, dm.dlg,
					 loop_now(p->loop), proxy__wall_ms());

		if (max)
			(void)sip_dlg_set_max_duration(dm.dlg, max);
	}
	rc = forward(f, m, &t);
	if (rc != 0 && proxy__forward_next(f) != 0) {
		LOG_RL(LOG_LVL_WARN, "cannot forward %s: %s",
		       sip_method_name(m->mid), strerror(-rc));
		reply(p, stx, m, from,
		      rc == -ENOSPC || rc == -EAGAIN ? 503
		      : rc == -EPROTO                ? 488
						     : 502,
		      NULL, STR_NULL);
	}
}
