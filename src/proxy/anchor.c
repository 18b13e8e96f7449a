/*
 * anchor.c - the proxy's glue to the media relay (issue 6): every SDP
 * body in an INVITE, ACK, PRACK or UPDATE, or in a 1xx/2xx answering
 * one, is handed to the media layer, which rewrites it so both legs
 * send their media to sipguard (media.h).  Each leg is offered the relay
 * address of the zone it faces: a UDP listener address of that zone.
 *
 * One media call per dialog-forming INVITE, keyed by Call-ID and the
 * caller's From-tag; it ends with the dialog record that stands for the
 * call (BYE, CANCEL, rejection, timeout), and its statistics go into
 * that call record.  A media timeout ends the call with a BYE to both
 * sides (RFC 3326 Reason "sipguard media-timeout").
 *
 * SDP that cannot be anchored (unparseable, inside a multipart body, or
 * for a call without a media call) is never forwarded with the parties'
 * real addresses (that would bypass the relay): a request gets 488, a
 * response is dropped.  No relay port free: 503.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/keyline.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "media/media.h"
#include "proxy/proxy_int.h"

enum {
	ANCHOR_BODY_MAX = SIP_MAX_MSG_SIZE,
};

struct proxy_anchor {
	struct media *m;
	struct buf body; /* rewritten SDP, until sip_bld_write() */
	struct buf json; /* media statistics for the call record */
	bool watching;
	bool kwatching; /* media_kernel_fd() is on the loop */
	bool keyed;     /* body (and p->out) held our SDES keys: scrub them */
};

static bool has_sdp(const struct sip_msg *m)
{
	return m->body.len &&
	       str_casestarts(m->content_type, STR("application/sdp"));
}

/* An SDP inside a multipart body: not anchored, so never forwarded (it
 * would give each party the other's real address, around the relay). */
static bool sdp_in_multipart(const struct sip_msg *m)
{
	struct str b = m->body;
	size_t i, n = sizeof("application/sdp") - 1;

	if (!m->body.len || !str_casestarts(m->content_type, STR("multipart/")))
		return false;
	for (i = 0; i + n <= b.len; i++)
		if (str_caseeq(str_make(b.p + i, n), STR("application/sdp")))
			return true;
	return false;
}

static bool sdp_method(enum sip_method mid)
{
	return mid == SIP_METHOD_INVITE || mid == SIP_METHOD_ACK ||
	       mid == SIP_METHOD_PRACK || mid == SIP_METHOD_UPDATE;
}

/* A UDP listener of zone z, of family af when there is one. */
static const struct sg_addr *zone_relay(const struct proxy *p, unsigned z,
					int af)
{
	const struct sg_addr *any = NULL;
	unsigned i;

	for (i = 0; i < p->nlis; i++) {
		if (p->lis[i].zone != z)
			continue;
		if (sg_addr_family(&p->lis[i].addr) == af)
			return &p->lis[i].addr;
		if (!any)
			any = &p->lis[i].addr;
	}
	return any;
}

static int lis_family(const struct proxy *p, uint16_t local)
{
	unsigned i;

	for (i = 0; i < p->nlis; i++)
		if (p->lis[i].local == local)
			return sg_addr_family(&p->lis[i].addr);
	return AF_INET;
}

/*
 * The call m belongs to and the leg that sent it; NULL when none.  A
 * request's sender is its From, a response's its To; the pass of a
 * spiralled call is the one whose sending leg faces the zone m came in
 * from.
 */
static struct media_call *find_call(struct media *md, const struct sip_msg *m,
				    const struct sip_peer *from, unsigned *legp)
{
	unsigned first = m->is_request ? MEDIA_CALLER : MEDIA_CALLEE;
	struct media_call *c;

	c = media_call_find_zone(md, m->call_id, m->from.tag, first,
				 from->zone);
	if (c) {
		*legp = first;
		return c;
	}
	if (m->to.tag.len &&
	    (c = media_call_find_zone(md, m->call_id, m->to.tag, 1 - first,
				      from->zone))) {
		*legp = 1 - first;
		return c;
	}
	return NULL;
}

static int apply(struct proxy *p, struct sip_bld *b, const struct sip_msg *m,
		 struct media_call *c, unsigned leg, enum media_sdp_kind kind)
{
	struct proxy_anchor *a = p->anchor;
	int err;

	buf_reset(&a->body);
	err = media_call_sdp(c, leg, kind, m->body, &a->body);
	if (err)
		return err;
	/* Our master keys for an SDES leg (media/srtp_sdp.c): the body and
	 * the message built from it are wiped once sent or copied. */
	if (keyline_in(a->body.p, a->body.len))
		a->keyed = true;
	sip_bld_body(b, buf_str(&a->body));
	return 0;
}

/*
 * After a message built with our SDES keys was sent or copied (into a
 * transaction): wipe the rewritten SDP and p->out, whole capacity (a
 * shorter message written since leaves the key in the tail).  Cheap for
 * all other messages: one flag test.
 */
void proxy__anchor_scrub(struct proxy *p)
{
	struct proxy_anchor *a = p->anchor;

	if (!a || !a->keyed)
		return;
	mem_secclean(a->body.p, a->body.cap);
	mem_secclean(p->out.p, p->out.cap);
	a->keyed = false;
}

int proxy__anchor_request(struct proxy *p, struct sip_bld *b,
			  const struct sip_msg *m, const struct sip_peer *from,
			  const struct proxy_lis *out)
{
	struct proxy_anchor *a = p->anchor;
	struct media_call *c;
	unsigned leg = MEDIA_CALLER;
	bool created = false;
	int err;

	if (!a || !sdp_method(m->mid))
		return 0;
	if (sdp_in_multipart(m))
		return -EPROTO;
	c = find_call(a->m, m, from, &leg);
	if (!c && m->mid == SIP_METHOD_INVITE && !m->to.tag.len) {
		err = media_call_new(a->m, m->call_id, m->from.tag, from->zone,
				     loop_now(p->loop), &c);
		if (err == -ENOSPC)
			return -EAGAIN;
		if (err)
			return has_sdp(m) ? -EPROTO : 0;
		media_call_leg(
			c, MEDIA_CALLER,
			zone_relay(p, from->zone, lis_family(p, from->local)),
			&from->addr, !p->zones[from->zone].trusted, from->zone,
			p->zones[from->zone].c->name);
		media_call_leg(
			c, MEDIA_CALLEE,
			zone_relay(p, out->zone, sg_addr_family(&out->addr)),
			NULL, !p->zones[out->zone].trusted, out->zone,
			p->zones[out->zone].c->name);
		/* SRTP policy of each leg's zone (media/srtp_sdp.c). */
		media_call_leg_srtp(c, MEDIA_CALLER,
				    p->zones[from->zone].c->srtp);
		media_call_leg_srtp(c, MEDIA_CALLEE,
				    p->zones[out->zone].c->srtp);
		media_call_leg_srtp_kx(
			c, MEDIA_CALLER,
			p->zones[from->zone].c->srtp_key_exchange);
		media_call_leg_srtp_kx(
			c, MEDIA_CALLEE,
			p->zones[out->zone].c->srtp_key_exchange);
		created = true;
	}
	if (!has_sdp(m))
		return 0;
	if (!c)
		return -EPROTO; /* no media call to anchor it in: 488 */
	err = apply(p, b, m, c, leg, MEDIA_SDP_REQUEST);
	/* Refused (488, 503): the call will not be set up; its relay
	 * ports go back now rather than after the setup timeout. */
	if (err && created)
		media_call_end(c);
	if (err == -EAGAIN || err == -ENOSPC)
		return -EAGAIN;
	return err ? -EPROTO : 0;
}

int proxy__anchor_response(struct proxy *p, struct sip_bld *b,
			   const struct sip_msg *m, const struct sip_peer *from)
{
	struct proxy_anchor *a = p->anchor;
	struct media_call *c;
	unsigned leg = MEDIA_CALLEE;

	if (!a || !sdp_method(m->cseq.mid) || m->status <= 100 ||
	    m->status >= 300)
		return 0;
	if (sdp_in_multipart(m))
		return -EPROTO;
	c = find_call(a->m, m, from, &leg);
	if (!c)
		return has_sdp(m) ? -EPROTO : 0; /* dropped */
	if (leg == MEDIA_CALLEE && m->to.tag.len) {
		media_call_leg(c, MEDIA_CALLEE, NULL, &from->addr,
			       !p->zones[from->zone].trusted, from->zone,
			       p->zones[from->zone].c->name);
		media_call_set_callee_tag(c, m->to.tag);
	}
	if (m->status >= 200 && m->cseq.mid == SIP_METHOD_INVITE)
		media_call_confirmed(c, loop_now(p->loop));
	if (!has_sdp(m))
		return 0;
	return apply(p, b, m, c, leg,
		     m->status < 200 ? MEDIA_SDP_PROVISIONAL : MEDIA_SDP_FINAL);
}

/* Append c's streams to the "media" array being built in a->json. */
static void add_stats(struct proxy_anchor *a, const struct media_call *c)
{
	size_t len0 = a->json.len;
	static const char head[] = ",\"media\":[";

	if (media_call_stats_json(c, &a->json) != 0) {
		a->json.len = len0;
		return;
	}
	if (len0 && a->json.len > len0) {
		/* A second pass: its streams join the first one's array:
		 * "...}]" + ",\"media\":[{...}]" -> "...},{...}]". */
		size_t hl = sizeof(head) - 1;

		a->json.p[len0 - 1] = ',';
		memmove(a->json.p + len0, a->json.p + len0 + hl,
			a->json.len - len0 - hl);
		a->json.len -= hl;
	}
}

struct str proxy__anchor_dlg_end(struct proxy *p, struct sip_dlg *d)
{
	struct proxy_anchor *a = p->anchor;
	struct media_call *c;

	if (!a || !d->record || d->kind != SIP_DLG_INVITE)
		return STR_NULL;
	buf_reset(&a->json);
	/* Every pass of the call (see find_call). */
	while ((c = media_call_find(a->m, sip_dlg_str(d, SIP_DLG_S_CALL_ID),
				    sip_dlg_str(d, SIP_DLG_S_CALLER_TAG)))) {
		add_stats(a, c);
		media_call_end(c);
	}
	return buf_str(&a->json);
}

/* BYE to both sides of d, as on_dlg_expire() does for dialog timers. */
static void bye_both(struct proxy *p, struct sip_dlg *d)
{
	unsigned self_rr = (d->side[0].peer.zone != d->side[1].peer.zone ||
			    d->side[0].peer.tp != d->side[1].peer.tp)
				   ? 2
				   : 1;
	int s;

	for (s = 0; s < 2; s++) {
		const struct sip_peer *to = &d->side[s].peer;
		const struct proxy_lis *out;
		char branch[SIP_TXN_BRANCH_LEN + 1];
		struct sip_dlg_bye bye;
		struct sip_ctx *ctx;
		size_t blen;

		if (!d->side[s].has_peer ||
		    !(out = proxy__egress(p, to->zone, to)))
			continue;
		blen = sip_txl_branch(p->txl, branch);
		memset(&bye, 0, sizeof(bye));
		bye.via_host = str_cstr(out->hostport);
		bye.branch = str_make(branch, blen);
		bye.tp = out->tp;
		bye.self_rr = self_rr;
		bye.reason =
			STR("SIP;cause=200;text=\"sipguard media-timeout\"");
		buf_reset(&p->out);
		if (sip_dlg_build_bye(d, (enum sip_dlg_side)s, &bye, &p->out,
				      NULL) != 0)
			continue;
		(void)sip_ctx_new(&ctx, p->txl, to, bye.branch, STR("BYE"),
				  p->out.p, p->out.len, NULL);
	}
}

/* media.end_call_on_timeout: end the call whose media went silent. */
static void on_media_timeout(void *arg, struct media_call *c)
{
	struct proxy *p = arg;
	struct sip_dlg *d = sip_dlg_find(p->dlgs, media_call_id(c),
					 media_call_tag(c, MEDIA_CALLER),
					 media_call_tag(c, MEDIA_CALLEE), NULL);

	log_info("media timeout: ending call");
	if (!d || d->state != SIP_DLG_CONFIRMED) {
		media_call_end(c);
		return;
	}
	bye_both(p, d);
	/* on_end (proxy.c) ends the media call and writes the record. */
	(void)sip_dlg_end(d, SIP_DLG_END_POLICY);
}

static void on_media_fd(struct loop *l, int fd, unsigned revents, void *arg)
{
	struct proxy *p = arg;

	(void)l;
	(void)fd;
	(void)revents;
	media_poll(p->anchor->m, loop_now(p->loop),
		   (uint64_t)((int64_t)loop_now(p->loop) + p->wall_off));
}

/* media.kernel: an interface came up or went (rtnetlink). */
static void on_kernel_fd(struct loop *l, int fd, unsigned revents, void *arg)
{
	struct proxy *p = arg;

	(void)fd;
	(void)revents;
	media_kernel_poll(p->anchor->m, loop_now(l));
}

int proxy__anchor_new(struct proxy *p)
{
	struct proxy_anchor *a;
	int err;

	if (!p->conf->media.enabled)
		return 0;
	a = mem_zalloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	buf_init(&a->body, ANCHOR_BODY_MAX);
	buf_init(&a->json, 64 * 1024);
	p->anchor = a;
	err = media_new(&a->m, &p->conf->media, p->ev, on_media_timeout, p);
	if (err) {
		log_err("media relay: %s", strerror(-err));
		return err;
	}
	err = loop_fd_add(p->loop, media_fd(a->m), LOOP_READ, on_media_fd, p);
	if (err)
		return err;
	a->watching = true;
	if (media_kernel_fd(a->m) >= 0 &&
	    loop_fd_add(p->loop, media_kernel_fd(a->m), LOOP_READ, on_kernel_fd,
			p) == 0)
		a->kwatching = true;
	log_info("media relay: ports %lld-%lld, %lld thread(s)",
		 (long long)p->conf->media.port_min,
		 (long long)p->conf->media.port_max,
		 (long long)p->conf->media.threads);
	return 0;
}

void proxy__anchor_tick(struct proxy *p)
{
	if (p->anchor)
		media_tick(
			p->anchor->m, loop_now(p->loop),
			(uint64_t)((int64_t)loop_now(p->loop) + p->wall_off));
}

void proxy__anchor_free(struct proxy *p)
{
	struct proxy_anchor *a = p->anchor;

	if (!a)
		return;
	if (a->watching)
		loop_fd_del(p->loop, media_fd(a->m));
	if (a->kwatching)
		loop_fd_del(p->loop, media_kernel_fd(a->m));
	media_free(a->m);
	proxy__anchor_scrub(p);
	buf_free(&a->body);
	buf_free(&a->json);
	mem_free(a);
	p->anchor = NULL;
}

struct media *proxy_media(struct proxy *p)
{
	return p && p->anchor ? p->anchor->m : NULL;
}
