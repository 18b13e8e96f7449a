/*
 * topo_out.c - topology hiding, messages leaving a hiding zone (issue 5;
 * the scheme, and what comes back, in topo.c's file comment).
 *
 * Leaving the zone (requests in build_request, responses in
 * build_response):
 * - Via (RFC 3261 16.6 step 8): a request carries only our own Via; the
 *   stack below it is kept in the forwarding context (proxy_fwd.th_via)
 *   and put back in place of our Via on the responses (16.7 step 3).
 * - Record-Route (RFC 3261 16.6 step 4, 12.1): the entries on the
 *   internal side of our own entry for this zone (our entry for the
 *   trusted zone, the PBX's and any internal proxy's) are sealed into a
 *   "th" parameter of our one remaining entry.  The outside party's route
 *   set is then that one entry; when it comes back as a Route (requests)
 *   or a Record-Route (the callee's answer), the token opens into the
 *   entries it hid, in the order each needs (a caller's route set is the
 *   Record-Route reversed, a callee's is not: 12.1.1, 12.1.2).
 * - Contact: an internal party's Contact becomes
 *   <sip:TOKEN@our-address-in-this-zone>, TOKEN sealing its URI.  A
 *   request coming back to that Request-URI gets the original again.
 *   (sipguard routes in-dialog requests by its dialog record anyway,
 *   request.c dialog_target; the token makes the Request-URI right.)
 * - From/To of a dialog or request made inside: the host part becomes
 *   ours, the original URI sealed in a "th" URI parameter (the user part
 *   stays readable: it is the caller's number).  Dialogs are matched by
 *   tags, not URIs (RFC 3261 12.2.2), and the inside sees its own URIs.
 * - Call-ID (zones[].hide_call_id): a Call-ID made inside is replaced by
 *   its token outside.  Off by default.
 * - Diversion and History-Info: each URI like From/To (never mapped back:
 *   they only inform).
 * - Refer-To of a REFER from inside: its URI becomes a Contact token (the
 *   INVITE the outside sends to it maps back); its ?Replaces= part stays.
 * - Warning (it names the host that wrote it), Path and Service-Route
 *   (RFC 3327, RFC 3608: internal proxies), P-Asserted-Identity,
 *   Remote-Party-ID and Referred-By (RFC 3325 5: identities are not sent
 *   to an untrusted peer), P-Charging-Vector and
 *   P-Charging-Function-Addresses (RFC 7315) are removed; Server and
 *   User-Agent are kept, removed or replaced (zones[].server_header).
 * - SDP o=/c= are not touched here: media anchoring (the media relay)
 *   rewrites them; without it the SDP still names the PBX's media
 *   address.
 */
#include <errno.h>
#include <string.h>

#include "core/mem.h"
#include "proxy/proxy_int.h"
#include "proxy/topo_int.h"

/* Seal plain into the scratch.  -E2BIG: too long for a URI (every
 * kind but the Call-ID goes into one). */
static int scr_seal(struct proxy_topo *t, char kind, struct str plain,
		    struct str *sp)
{
	int n;

	if (kind != TOPO_KIND_CALLID && plain.len > TOPO_URI_PLAIN)
		return -E2BIG;
	n = proxy__topo_seal(&t->k, kind, plain, t->scr + t->used,
			     TOPO_SCRATCH - t->used);
	if (n < 0)
		return n;
	*sp = str_make(t->scr + t->used, (size_t)n);
	t->used += (size_t)n;
	return 0;
}

/* Join slices with ", " after a one-byte prefix (0: none) into dst. */
static int join(char *dst, size_t dstsz, size_t *np, char prefix,
		const struct sip_nameaddr *e, unsigned from, unsigned to)
{
	size_t n = 0;
	unsigned i;

	if (prefix) {
		if (dstsz < 1)
			return -E2BIG;
		dst[n++] = prefix;
	}
	for (i = from; i < to; i++) {
		size_t need = e[i].raw.len + (i > from ? 2 : 0);

		if (need > dstsz - n)
			return -E2BIG;
		if (i > from) {
			memcpy(dst + n, ", ", 2);
			n += 2;
		}
		memcpy(dst + n, e[i].raw.p, e[i].raw.len);
		n += e[i].raw.len;
	}
	*np = n;
	return 0;
}

static const char *tp_param(enum sip_tp tp)
{
	return proxy__tp_param(tp); /* udp, tcp or tls */
}

static const struct proxy_lis *lis_by_local(const struct proxy *p,
					    uint16_t local)
{
	unsigned i;

	for (i = 0; i < p->nlis; i++)
		if (p->lis[i].local == local)
			return &p->lis[i];
	return NULL;
}

static void remove_all(struct sip_bld *b, const struct sip_msg *m,
		       enum sip_hdr_id id)
{
	const struct sip_hdr *h;

	for (h = sip_msg_hdr(m, id); h; h = sip_hdr_next(m, h))
		sip_bld_remove(b, h);
}

/* Put value in the first header of id (or after the last header when
 * there is none) and remove the others. */
static void set_only(struct sip_bld *b, const struct sip_msg *m,
		     enum sip_hdr_id id, struct str name, struct str value)
{
	const struct sip_hdr *h = sip_msg_hdr(m, id);

	if (!h) {
		sip_bld_append(b, name, value);
		return;
	}
	sip_bld_replace_value(b, h, value);
	for (h = sip_hdr_next(m, h); h; h = sip_hdr_next(m, h))
		sip_bld_remove(b, h);
}

/* ------------------------------------------------------------ leaving */

/* Is m's dialog (or m itself) made inside?  See the file comment. */
static bool made_inside(const struct proxy *p, const struct sip_msg *m)
{
	const struct sip_dlg *d = NULL;

	/* A request without To-tag is made by its sender: inside. */
	if (m->to.tag.len)
		d = sip_dlg_find(p->dlgs, m->call_id, m->from.tag, m->to.tag,
				 NULL);
	if (!d)
		return m->is_request;
	return d->side[SIP_DLG_CALLER].has_peer &&
	       p->zones[d->side[SIP_DLG_CALLER].peer.zone].trusted;
}

static bool hdr_named(const struct sip_hdr *h, const char *name)
{
	return h->id == SIP_HDR_OTHER && str_caseeq_cstr(h->name, name);
}

/* Headers that name internal hosts, or identify the software. */
static int hide_common(struct proxy *p, struct sip_bld *b,
		       const struct sip_msg *m, unsigned zone)
{
	const char *sh = p->zones[zone].c->server_header;
	unsigned i;

	remove_all(b, m, SIP_HDR_WARNING);
	remove_all(b, m, SIP_HDR_PATH);
	remove_all(b, m, SIP_HDR_P_ASSERTED_IDENTITY);
	remove_all(b, m, SIP_HDR_REFERRED_BY);
	/* P-Charging-* stay inside the trust domain (RFC 7315 4.6, 4.5). */
	for (i = 0; i < m->nhdr; i++)
		if (hdr_named(&m->hdr[i], "Service-Route") ||
		    hdr_named(&m->hdr[i], "Remote-Party-ID") ||
		    hdr_named(&m->hdr[i], "P-Preferred-Identity") ||
		    hdr_named(&m->hdr[i], "P-Charging-Vector") ||
		    hdr_named(&m->hdr[i], "P-Charging-Function-Addresses"))
			sip_bld_remove(b, &m->hdr[i]);
	if (!strcmp(sh, "keep"))
		return 0;
	if (!strcmp(sh, "remove")) {
		remove_all(b, m, SIP_HDR_SERVER);
		remove_all(b, m, SIP_HDR_USER_AGENT);
		return 0;
	}
	/* Replace the values present; add none. */
	if (sip_msg_hdr(m, SIP_HDR_SERVER))
		set_only(b, m, SIP_HDR_SERVER, STR("Server"), str_cstr(sh));
	if (sip_msg_hdr(m, SIP_HDR_USER_AGENT))
		set_only(b, m, SIP_HDR_USER_AGENT, STR("User-Agent"),
			 str_cstr(sh));
	return 0;
}

/* A header parameter value that names an address: a URI, an IP literal
 * (quoted or not).  Registrars add ;received="sip:10.1.2.3:5060". */
static bool names_address(struct str v)
{
	struct sg_addr a;

	if (v.len >= 2 && v.p[0] == '"' && v.p[v.len - 1] == '"')
		v = str_sub(v, 1, v.len - 2);
	if (v.len >= 2 && v.p[0] == '<' && v.p[v.len - 1] == '>')
		v = str_sub(v, 1, v.len - 2);
	return memchr(v.p, ':', v.len) || memchr(v.p, '@', v.len) ||
	       sg_addr_from_host(&a, v, 5060) == 0;
}

/* Contact header parameters for the outside: all but "received" and
 * values that name an address; none if they do not parse. */
static int contact_params(struct proxy_topo *t, struct str params,
			  struct str *outp)
{
	struct sip_params prm;
	struct str out = STR_NULL;
	unsigned i;
	int err = 0;

	*outp = STR_NULL;
	if (!params.len || sip_params_parse(&prm, params, NULL) != 0)
		return 0;
	for (i = 0; i < prm.n && !err; i++) {
		const struct sip_param *q = &prm.p[i];

		if (str_caseeq(q->name, STR("received")) ||
		    (q->has_value && names_address(q->value)))
			continue;
		err = proxy__topo_fmt(t, &out, "%.*s;%.*s%s%.*s", STR_FMT(out),
				      STR_FMT(q->name), q->has_value ? "=" : "",
				      STR_FMT(q->value));
	}
	*outp = out;
	return err;
}

/*
 * Contacts of an internal party: <sip:TOKEN@lis;transport=x> and the
 * header parameters (expires, q, isfocus...) but those that name an
 * address.  The registrar's own rewritten bindings in an answer to
 * REGISTER are the user's and are left to it.
 */
static int hide_contacts(struct proxy *p, struct sip_bld *b,
			 const struct sip_msg *m, const struct proxy_lis *lis,
			 bool registrar)
{
	struct proxy_topo *t = p->topo;
	unsigned i;
	int err;

	for (i = 0; i < m->ncontact; i++) {
		const struct sip_nameaddr *c = &m->contact[i];
		struct str tok, out, prm;

		if (c->star || (registrar && proxy__reg_is_binding(p, &c->uri)))
			continue;
		err = scr_seal(t, TOPO_KIND_CONTACT, c->uri.raw, &tok);
		if (!err)
			err = contact_params(t, c->params, &prm);
		if (!err)
			err = proxy__topo_fmt(t, &out,
					      "<sip:%.*s@%s;transport=%s>%.*s",
					      STR_FMT(tok), lis->hostport,
					      tp_param(lis->tp), STR_FMT(prm));
		if (err)
			return err;
		sip_bld_replace_range(b, c->raw, out);
	}
	return 0;
}

/*
 * Refer-To of a REFER from inside (RFC 3515): the target URI becomes a
 * Contact token at our address, so the INVITE the outside party sends to
 * it comes back to us and maps to the target.  Its headers part
 * (?Replaces=..., RFC 3891) stays readable: the outside party must copy
 * it.  A Refer-To we cannot parse goes (a REFER without one is refused
 * by the outside party: better than leaking).
 */
static int hide_refer_to(struct proxy *p, struct sip_bld *b,
			 const struct sip_msg *m, const struct proxy_lis *lis)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_REFER_TO);
	struct proxy_topo *t = p->topo;
	struct sip_nameaddr na;
	struct str uri, tok, prm, out;
	int err;

	if (!h)
		return 0;
	if (sip_hdr_next(m, h) ||
	    sip_nameaddr_parse(&na, h->value, SIP_MAX_URI, NULL) != 0 ||
	    (na.uri.sch != SIP_URI_SIP && na.uri.sch != SIP_URI_SIPS)) {
		remove_all(b, m, SIP_HDR_REFER_TO);
		return 0;
	}
	uri = na.uri.headers.len ? str_span(na.uri.raw.p, na.uri.headers.p - 1)
				 : na.uri.raw;
	err = scr_seal(t, TOPO_KIND_CONTACT, uri, &tok);
	if (!err)
		err = contact_params(t, na.params, &prm);
	if (!err)
		err = proxy__topo_fmt(
			t, &out, "<sip:%.*s@%s;transport=%s%s%.*s>%.*s",
			STR_FMT(tok), lis->hostport, tp_param(lis->tp),
			na.uri.headers.len ? "?" : "", STR_FMT(na.uri.headers),
			STR_FMT(prm));
	if (!err)
		sip_bld_replace_value(b, h, out);
	return err;
}

/* From or To of an inside dialog: sip:user@lis;th=TOKEN (angle form, so
 * that th stays a URI parameter).  Every such URI is rewritten, also one
 * naming an outside domain (a trunk's To): we cannot tell which host
 * names are internal, and dialogs are matched by tags. */
static int hide_party(struct proxy *p, struct sip_bld *b,
		      const struct sip_nameaddr *na,
		      const struct proxy_lis *lis)
{
	struct proxy_topo *t = p->topo;
	struct str tok, out;
	int err;

	if (na->uri.sch != SIP_URI_SIP && na->uri.sch != SIP_URI_SIPS &&
	    na->uri.sch != SIP_URI_TEL)
		return 0;
	err = scr_seal(t, TOPO_KIND_PARTY, na->uri.raw, &tok);
	if (err)
		return err;
	err = proxy__topo_fmt(t, &out, "%ssip:%.*s%s%s;th=%.*s%s",
			      na->angle ? "" : "<", STR_FMT(na->uri.user),
			      na->uri.user.len ? "@" : "", lis->hostport,
			      STR_FMT(tok), na->angle ? "" : ">");
	if (err)
		return err;
	sip_bld_replace_range(b, na->uri.raw, out);
	return 0;
}

/*
 * Diversion (RFC 5806) and History-Info (RFC 7044) from inside name the
 * internal URIs a call went through: each entry's URI gets the From/To
 * treatment (user readable, host ours, URI sealed).  A line we cannot
 * parse goes.
 */
static int hide_history(struct proxy *p, struct sip_bld *b,
			const struct sip_msg *m, const struct proxy_lis *lis)
{
	unsigned i;

	for (i = 0; i < m->nhdr; i++) {
		const struct sip_hdr *h = &m->hdr[i];
		struct str rest = h->value, e;
		struct sip_nameaddr na;
		int err = 0;

		if (!hdr_named(h, "Diversion") && !hdr_named(h, "History-Info"))
			continue;
		/* Parse the whole line first: edit all of it or none. */
		while (!err && sip_list_next(&rest, &e))
			if (sip_nameaddr_parse(&na, e, SIP_MAX_URI, NULL) !=
				    0 ||
			    !na.angle)
				err = -EINVAL;
		if (err) {
			sip_bld_remove(b, h);
			continue;
		}
		rest = h->value;
		while (sip_list_next(&rest, &e)) {
			(void)sip_nameaddr_parse(&na, e, SIP_MAX_URI, NULL);
			err = hide_party(p, b, &na, lis);
			if (err)
				return err;
		}
	}
	return 0;
}

static int hide_dialog_ids(struct proxy *p, struct sip_bld *b,
			   const struct sip_msg *m, const struct proxy_lis *lis,
			   unsigned zone)
{
	const struct sip_hdr *h;
	struct str tok;
	int err;

	err = hide_history(p, b, m, lis);
	if (err || !made_inside(p, m))
		return err;
	err = hide_party(p, b, &m->from, lis);
	if (!err)
		err = hide_party(p, b, &m->to, lis);
	if (err || !p->zones[zone].c->hide_call_id)
		return err;
	h = sip_msg_hdr(m, SIP_HDR_CALL_ID);
	if (!h)
		return -EINVAL;
	err = scr_seal(p->topo, TOPO_KIND_CALLID, m->call_id, &tok);
	if (!err)
		sip_bld_replace_value(b, h, tok);
	return err;
}

/* Our one Record-Route entry for the outside, sealing `hidden`
 * (direction byte first). */
static int sealed_rr(struct proxy *p, const struct proxy_lis *lis,
		     struct str hidden, struct str *outp)
{
	struct str tok;
	int err = scr_seal(p->topo, TOPO_KIND_ROUTE, hidden, &tok);

	if (err)
		return err;
	return proxy__topo_fmt(p->topo, outp,
			       "<sip:%s;transport=%s;lr;th=%.*s>",
			       lis->hostport, tp_param(lis->tp), STR_FMT(tok));
}

/* Keep the Via stack of a request that expects answers (f->stx): via0
 * (the sender's element as forwarded), then the others. */
static int keep_vias(struct proxy_fwd *f, const struct sip_msg *m,
		     struct str via0)
{
	size_t len = via0.len, n;
	unsigned i;
	char *s;

	for (i = 1; i < m->nvia; i++)
		len += 2 + m->via[i].raw.len;
	s = mem_alloc(len + 1);
	if (!s)
		return -ENOMEM;
	memcpy(s, via0.p, via0.len);
	n = via0.len;
	for (i = 1; i < m->nvia; i++) {
		memcpy(s + n, ", ", 2);
		memcpy(s + n + 2, m->via[i].raw.p, m->via[i].raw.len);
		n += 2 + m->via[i].raw.len;
	}
	s[n] = '\0';
	mem_free(f->th_via);
	f->th_via = s;
	f->th_via_len = n;
	return 0;
}

/*
 * Request m leaves through `out` into a hiding zone (see proxy_int.h).
 * Our Via (inserted by request.c before the first Via line) stays; every
 * original Via line goes.  Returns 0 or -errno (the request is then not
 * forwarded: failing open would leak what we hide).
 */
int proxy__topo_request(struct proxy *p, struct sip_bld *b,
			const struct sip_msg *m, struct proxy_fwd *f,
			const struct proxy_lis *out, struct str via0,
			struct str rr)
{
	struct proxy_topo *t = p->topo;
	char plain[PROXY_TOPO_MAX_PLAIN];
	const struct sip_hdr *h;
	size_t n;
	int err;

	t->used = 0;
	if (f->stx) {
		err = keep_vias(f, m, via0);
		if (err)
			return err;
	}
	remove_all(b, m, SIP_HDR_VIA);
	if (rr.len) {
		/* Ours for the outside, ours for inside, then the inside's. */
		struct str v;

		if (rr.len + 1 > sizeof(plain))
			return -E2BIG;
		plain[0] = TOPO_RR_BELOW;
		memcpy(plain + 1, rr.p, rr.len);
		n = 1 + rr.len;
		for (h = sip_msg_hdr(m, SIP_HDR_RECORD_ROUTE); h;
		     h = sip_hdr_next(m, h)) {
			if (h->value.len + 2 > sizeof(plain) - n)
				return -E2BIG;
			memcpy(plain + n, ", ", 2);
			memcpy(plain + n + 2, h->value.p, h->value.len);
			n += 2 + h->value.len;
		}
		err = sealed_rr(p, out, str_make(plain, n), &v);
		if (err)
			return err;
		set_only(b, m, SIP_HDR_RECORD_ROUTE, STR("Record-Route"), v);
	} else {
		remove_all(b, m, SIP_HDR_RECORD_ROUTE);
	}
	err = hide_contacts(p, b, m, out, false);
	if (!err)
		err = hide_refer_to(p, b, m, out);
	if (!err)
		err = hide_dialog_ids(p, b, m, out, out->zone);
	if (!err)
		err = hide_common(p, b, m, out->zone);
	return err;
}

/*
 * Record-Route of an answer for the outside: the entries up to and
 * including our entry for the requester's zone are sealed into that
 * entry; entries after it (the outside's own proxies) stay.  Without our
 * entry (an in-dialog answer: its route set is fixed, RFC 3261 12.2.1.2)
 * the header goes.
 */
static int hide_rr_response(struct proxy *p, struct sip_bld *b,
			    const struct sip_msg *m,
			    const struct proxy_lis *lis, unsigned zone)
{
	char plain[PROXY_TOPO_MAX_PLAIN];
	struct str v, rest;
	unsigned k, j;
	size_t n;
	int err;

	for (k = 0; k < m->nrr; k++) {
		const struct proxy_lis *l = proxy__uri_is_us(p, &m->rr[k].uri);

		if (l && l->zone == zone)
			break;
	}
	if (k == m->nrr) {
		remove_all(b, m, SIP_HDR_RECORD_ROUTE);
		return 0;
	}
	err = join(plain, sizeof(plain), &n, TOPO_RR_ABOVE, m->rr, 0, k + 1);
	if (!err)
		err = sealed_rr(p, lis, str_make(plain, n), &v);
	if (err)
		return err;
	rest = v;
	for (j = k + 1; j < m->nrr && !err; j++)
		err = proxy__topo_fmt(p->topo, &rest, "%.*s, %.*s",
				      STR_FMT(rest), STR_FMT(m->rr[j].raw));
	if (err)
		return err;
	set_only(b, m, SIP_HDR_RECORD_ROUTE, STR("Record-Route"), rest);
	return 0;
}

/*
 * Response m goes back to f's requester, in a hiding zone, from another
 * zone.  registrar: an answer to REGISTER whose bindings registrar.c
 * rewrites (their Contacts are left to it).  Returns 0 or -errno (the
 * response is then dropped rather than leaked).
 */
int proxy__topo_response(struct proxy *p, struct sip_bld *b,
			 const struct sip_msg *m, const struct proxy_fwd *f,
			 bool registrar)
{
	const struct proxy_lis *lis = lis_by_local(p, f->from.local);
	int err;

	if (!lis)
		return -ENOENT;
	p->topo->used = 0;
	err = hide_rr_response(p, b, m, lis, f->in_zone);
	if (!err)
		err = hide_contacts(p, b, m, lis, registrar);
	if (!err)
		err = hide_dialog_ids(p, b, m, lis, f->in_zone);
	if (!err)
		err = hide_common(p, b, m, f->in_zone);
	return err;
}

/*
 * Response m (from the outside) to a request whose Via stack we kept:
 * it carries our Via alone, which becomes the stack again.  Anything else
 * is not an answer to what we sent: -EINVAL (dropped).
 */
int proxy__topo_via_restore(struct sip_bld *b, const struct sip_msg *m,
			    const struct proxy_fwd *f)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_VIA);

	if (!h || m->nvia != 1 || sip_hdr_next(m, h))
		return -EINVAL;
	sip_bld_replace_value(b, h, str_make(f->th_via, f->th_via_len));
	return 0;
}

/*
 * A request sipguard makes itself (a BYE when a call runs out, built by
 * sip_dlg_build_bye into out) going into hiding zone `zone` through lis:
 * the same hiding as a forwarded request (From/To, Call-ID of an inside
 * dialog; its Via is ours alone, its Route the outside's part).  out is
 * rewritten in place.  Returns 0 or -errno: do not send it then.
 */
int proxy__topo_local(struct proxy *p, struct buf *out,
		      const struct proxy_lis *lis)
{
	struct proxy_topo *t = p->topo;
	struct sip_perr pe;
	struct sip_bld b;
	int err;

	t->orig = NULL;
	buf_reset(&t->in);
	err = buf_append(&t->in, out->p, out->len);
	if (err)
		return err;
	if (sip_msg_parse(t->msg, t->in.p, t->in.len, &sip_limits_default,
			  SIP_PARSE_DGRAM, &pe) != 0)
		return -EINVAL;
	t->used = 0;
	sip_bld_init(&b, t->msg);
	err = hide_dialog_ids(p, &b, t->msg, lis, lis->zone);
	if (!err)
		err = hide_common(p, &b, t->msg, lis->zone);
	if (err)
		return err;
	buf_reset(out);
	return sip_bld_write(&b, out);
}
