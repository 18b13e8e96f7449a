/*
 * topo.c - topology hiding on untrusted zones (issue 5): no internal
 * address, host name or port leaves an untrusted zone, and what comes
 * back is mapped to the internal view again, so both sides see
 * consistent dialogs.  Applies to messages sent into a zone with
 * zones[].topology_hiding (untrusted zones only) that came from another
 * zone.
 *
 * What leaves the zone (Via, Record-Route, Contact, From/To, Call-ID and
 * the headers removed) is hidden in topo_out.c, whose file comment lists
 * it; this file holds the per-proxy state and maps what comes back.
 *
 * Which Call-ID and From/To are "made inside": a request from inside
 * unless it belongs to a dialog whose caller is outside; a response
 * when it belongs to a dialog whose caller is inside.  The dialog table
 * always holds the internal view (messages from a hiding zone are
 * mapped before anything else looks at them).
 *
 * Tokens are sealed with keys derived from the proxy key (topo_seal.c):
 * they cannot be forged or read, and die with the process.  A token that
 * does not open is left as it is (foreign text): nothing is routed by it.
 * Not hidden: a 2xx retransmitted after our client transaction ended
 * (its Via stack is gone: dropped), and bodies other than SDP
 * (e.g. message/sipfrag in NOTIFY), URIs inside other headers
 * (Call-Info, Alert-Info: distinctive ringing needs them) and the
 * Call-ID inside a Refer-To's Replaces part.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "proxy/proxy_int.h"
#include "proxy/topo_int.h"

int proxy__topo_new(struct proxy *p)
{
	struct proxy_topo *t = mem_zalloc(sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->msg = mem_alloc(sizeof(*t->msg));
	t->scr = mem_alloc(TOPO_SCRATCH);
	if (!t->msg || !t->scr) {
		mem_free(t->msg);
		mem_free(t->scr);
		mem_free(t);
		return -ENOMEM;
	}
	buf_init(&t->in, PROXY_OUT_MAX);
	proxy__topo_keys(&t->k, p->key);
	p->topo = t;
	return 0;
}

void proxy__topo_free(struct proxy *p)
{
	struct proxy_topo *t = p ? p->topo : NULL;

	if (!t)
		return;
	buf_free(&t->in);
	mem_free(t->msg);
	mem_free(t->scr);
	mem_free(t);
	p->topo = NULL;
}

bool proxy__topo_zone(const struct proxy *p, unsigned zone)
{
	return zone < p->nzones && !p->zones[zone].trusted &&
	       p->zones[zone].c->topology_hiding;
}

/* ------------------------------------------------------------ scratch */

/* Append formatted text to the scratch; *sp gets it.  -ENOSPC if full. */
int proxy__topo_fmt(struct proxy_topo *t, struct str *sp, const char *fmt, ...)
{
	size_t room = TOPO_SCRATCH - t->used;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->scr + t->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return -ENOSPC;
	*sp = str_make(t->scr + t->used, (size_t)n);
	t->used += (size_t)n;
	return 0;
}

/* Open tok into the scratch; -EBADMSG when it is not ours. */
static int scr_open(struct proxy_topo *t, char kind, struct str tok,
		    struct str *sp)
{
	int n = proxy__topo_open(&t->k, kind, tok, t->scr + t->used,
				 TOPO_SCRATCH - t->used);

	if (n < 0)
		return n;
	*sp = str_make(t->scr + t->used, (size_t)n);
	t->used += (size_t)n + 1;
	return 0;
}

/* The value of URI parameter "th", if present. */
static bool th_param(struct str params, struct str *vp)
{
	struct sip_params prm;
	const struct sip_param *q;

	if (!params.len || str_chr(params, '=') < 0)
		return false;
	if (sip_params_parse(&prm, params, NULL) != 0)
		return false;
	q = sip_params_find(&prm, "th");
	if (!q || !q->has_value)
		return false;
	*vp = q->value;
	return true;
}

/* ---------------------------------------------------------- coming back */

/* Entries of an opened route, split at top-level commas. */
struct entries {
	struct str e[SIP_MAX_ROUTE];
	unsigned n;
};

static int split_entries(struct entries *es, struct str s)
{
	struct str rest = s, e;

	es->n = 0;
	while (sip_list_next(&rest, &e)) {
		if (es->n == SIP_MAX_ROUTE)
			return -E2BIG;
		es->e[es->n++] = e;
	}
	return es->n ? 0 : -EINVAL;
}

/*
 * Our Route or Record-Route entry with a th token: the entries it hid.
 * As a Route of a request from a caller (hidden above ours in
 * Record-Route order), they come reversed.  Returns 1 with *outp set,
 * 0 when na is not such an entry (or the token does not open).
 */
static int open_route(struct proxy *p, const struct sip_nameaddr *na,
		      bool as_route, struct str *outp)
{
	struct proxy_topo *t = p->topo;
	struct str tok, plain, out = STR_NULL;
	struct entries es;
	unsigned i;

	if (!th_param(na->uri.params, &tok) || !proxy__uri_is_us(p, &na->uri))
		return 0;
	if (scr_open(t, TOPO_KIND_ROUTE, tok, &plain) != 0 || plain.len < 2)
		return 0;
	if (plain.p[0] != TOPO_RR_ABOVE || !as_route) {
		*outp = str_skip(plain, 1);
		return 1;
	}
	if (split_entries(&es, str_skip(plain, 1)) != 0)
		return 0;
	for (i = es.n; i-- > 0;) {
		int err = i + 1 == es.n ? proxy__topo_fmt(t, &out, "%.*s",
							  STR_FMT(es.e[i]))
					: proxy__topo_fmt(t, &out, "%.*s, %.*s",
							  STR_FMT(out),
							  STR_FMT(es.e[i]));

		if (err)
			return 0;
	}
	*outp = out;
	return 1;
}

/* From/To with our th token: the original URI. */
static void open_party(struct proxy *p, struct sip_bld *b,
		       const struct sip_nameaddr *na)
{
	struct str tok, plain;

	if (!na->angle || !th_param(na->uri.params, &tok) ||
	    !proxy__uri_is_us(p, &na->uri) ||
	    scr_open(p->topo, TOPO_KIND_PARTY, tok, &plain) != 0)
		return;
	sip_bld_replace_range(b, na->uri.raw, plain);
}

/* The edits that map m back; returns how many. */
static unsigned inbound_edits(struct proxy *p, struct sip_bld *b,
			      const struct sip_msg *m, unsigned zone)
{
	struct proxy_topo *t = p->topo;
	const struct sip_hdr *h;
	struct str plain;
	unsigned i;

	if (m->is_request && m->ruri.user.len >= 12 &&
	    proxy__uri_is_us(p, &m->ruri) &&
	    scr_open(t, TOPO_KIND_CONTACT, m->ruri.user, &plain) == 0)
		sip_bld_replace_range(b, m->ruri_raw, plain);
	for (i = 0; m->is_request && i < m->nroute; i++)
		if (open_route(p, &m->route[i], true, &plain))
			sip_bld_replace_range(b, m->route[i].raw, plain);
	for (i = 0; i < m->nrr; i++)
		if (open_route(p, &m->rr[i], false, &plain))
			sip_bld_replace_range(b, m->rr[i].raw, plain);
	open_party(p, b, &m->from);
	open_party(p, b, &m->to);
	h = sip_msg_hdr(m, SIP_HDR_CALL_ID);
	if (p->zones[zone].c->hide_call_id && h &&
	    m->call_id.len > PROXY_TOPO_MAC_LEN &&
	    scr_open(t, TOPO_KIND_CALLID, m->call_id, &plain) == 0)
		sip_bld_replace_value(b, h, plain);
	return b->nedit;
}

/*
 * A message received from a hiding zone, in the internal view (see
 * proxy_int.h).  A message we cannot rebuild or re-parse is passed on
 * as it came: its tokens then route nowhere inside.
 */
const struct sip_msg *proxy__topo_inbound(struct proxy *p,
					  const struct sip_msg *m,
					  const struct sip_peer *from)
{
	struct proxy_topo *t = p->topo;
	struct sip_perr pe;
	struct sip_bld b;

	if (!t || !from || !proxy__topo_zone(p, from->zone))
		return m;
	t->used = 0;
	sip_bld_init(&b, m);
	if (!inbound_edits(p, &b, m, from->zone))
		return m;
	buf_reset(&t->in);
	if (sip_bld_write(&b, &t->in) != 0 ||
	    sip_msg_parse(t->msg, t->in.p, t->in.len, &sip_limits_default,
			  SIP_PARSE_DGRAM, &pe) != 0) {
		LOG_RL(LOG_LVL_INFO, "topology: cannot map a message back");
		return m;
	}
	t->orig = m;
	return t->msg;
}

/*
 * The message as received for m, when m is the mapped view the last
 * proxy__topo_inbound() returned; else m.  Answers built from a request
 * (stateless replies, guard refusals) must echo what the sender sent,
 * never the internal view.
 */
const struct sip_msg *proxy__topo_received(const struct proxy *p,
					   const struct sip_msg *m)
{
	const struct proxy_topo *t = p->topo;

	return t && m == t->msg && t->orig ? t->orig : m;
}
