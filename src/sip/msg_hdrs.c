/*
 * msg_hdrs.c - eager parsing of the header fields every proxy decision
 * relies on, while sip_msg_parse() walks the header lines once:
 * Via (each hop), From, To, Call-ID, CSeq, Max-Forwards, Contact (and
 * "*"), Route, Record-Route, Content-Length, Content-Type, Expires,
 * User-Agent/Server.  Then the message-level checks: mandatory headers,
 * CSeq method against the request method, Contact "*" alone.
 *
 * RFC 3261 sections 8.1.1, 8.2.2, 20 (per header) and 25 (grammar);
 * RFC 4475 3.1.2 and 3.3 (what a parser must refuse).
 *
 * Single-instance headers (From, To, Call-ID, CSeq, Max-Forwards,
 * Content-Length, Content-Type, Expires) may appear once: a second one
 * is SIP_PE_DUPLICATE, whatever its value (RFC 4475 multi01, mcl01),
 * because an element behind us might pick the other one.
 */
#include "sip/elem_int.h"
#include "sip/msg_int.h"

#include <errno.h>
#include <string.h>

/*
 * sip_list_next(), with the common case inline: a value without a comma
 * is one element (trimmed; header values already are).
 */
SIP__HOT bool list_next(struct str *rest, struct str *elemp)
{
	struct str e = *rest;

	if (!e.p)
		return false;
	if (sip__find_byte(e.p, e.p, e.p + e.len, ','))
		return sip_list_next(rest, elemp);
	while (e.len && str_is_lws(e.p[0])) {
		e.p++;
		e.len--;
	}
	while (e.len && str_is_lws(e.p[e.len - 1]))
		e.len--;
	*elemp = e;
	*rest = STR_NULL;
	return true;
}

static int dup_check(struct sip__pctx *c, const struct sip_hdr *h,
		     const char *reason)
{
	if (c->m->count[h->id] > 1)
		return sip__msg_fail(c, SIP_PE_DUPLICATE, h->name.p, reason);
	return 0;
}

/*
 * A name-addr or addr-spec.  In the addr-spec form a URI holding a '?'
 * part cannot be told from header parameters, so RFC 3261 20 requires
 * <> around it (RFC 4475 regbadct); refuse it here whatever the element
 * parser did.
 */
SIP__HOT int nameaddr(struct sip__pctx *c, struct sip_nameaddr *na,
		      struct str s)
{
	struct sip_perr e = {0};

	if (s.len == 0)
		return sip__msg_fail(c, SIP_PE_SYNTAX, s.p, "empty address");
	if (sip_nameaddr_parse(na, s, c->max_uri, &e) != 0)
		return sip__msg_subfail(c, &e, s);
	if (!na->angle && na->uri.headers.p && na->uri.headers.len)
		return sip__msg_fail(c, SIP_PE_SYNTAX, s.p,
				     "URI with headers needs <>");
	return 0;
}

static int hdr_via(struct sip__pctx *c, const struct sip_hdr *h)
{
	struct sip_msg *m = c->m;
	struct str rest = h->value, el;

	while (list_next(&rest, &el)) {
		struct sip_perr e = {0};

		if (el.len == 0)
			return sip__msg_fail(c, SIP_PE_SYNTAX, el.p,
					     "empty Via element");
		if (m->nvia >= c->max_via)
			return sip__msg_fail(c, SIP_PE_LIMIT, el.p,
					     "too many Via hops");
		if (sip_via_parse(&m->via[m->nvia], el, &e) != 0)
			return sip__msg_subfail(c, &e, el);
		m->nvia++;
	}
	return 0;
}

/* The element list of Route / Record-Route: name-addr only (RFC 3261
 * 20.30, 20.34: route-param = name-addr *(SEMI rr-param)). */
static int hdr_route(struct sip__pctx *c, const struct sip_hdr *h,
		     struct sip_nameaddr *arr, unsigned *np)
{
	struct str rest = h->value, el;
	int err;

	while (list_next(&rest, &el)) {
		if (*np >= SIP_MAX_ROUTE)
			return sip__msg_fail(c, SIP_PE_LIMIT, el.p,
					     "too many route entries");
		err = nameaddr(c, &arr[*np], el);
		if (err)
			return err;
		if (!arr[*np].angle)
			return sip__msg_fail(c, SIP_PE_SYNTAX, el.p,
					     "route entry without <>");
		(*np)++;
	}
	return 0;
}

/* Contact: a list of addresses, or "*" alone (checked at the end). */
static int hdr_contact(struct sip__pctx *c, const struct sip_hdr *h)
{
	struct sip_msg *m = c->m;
	struct str rest = h->value, el;
	int err;

	while (list_next(&rest, &el)) {
		struct sip_nameaddr *na;

		if (m->ncontact >= SIP_MAX_CONTACT)
			return sip__msg_fail(c, SIP_PE_LIMIT, el.p,
					     "too many Contact entries");
		na = &m->contact[m->ncontact];
		if (el.len == 1 && el.p[0] == '*') {
			memset(na, 0, sizeof(*na));
			na->raw = el;
			na->star = true;
			na->q1000 = 1000;
			if (!c->star_at)
				c->star_at = el.p;
		} else {
			err = nameaddr(c, na, el);
			if (err)
				return err;
		}
		m->ncontact++;
	}
	return 0;
}

/* Characters of `word` (RFC 3261 25.1): alphanum and
 * -.!%*_+`'~()<>:\"/[]?{} (a byte table: one load per byte). */
static const uint8_t callid_word[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 1, 1,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0,
};

static bool is_word(unsigned char ch)
{
	return callid_word[ch];
}

/* Call-ID = word [ "@" word ] */
static int hdr_call_id(struct sip__pctx *c, const struct sip_hdr *h)
{
	struct str v = h->value;
	const char *p = v.p, *end = v.p + v.len, *at = NULL;

	for (;;) {
		/* Letters and digits are word characters (ids are long). */
		p = sip__skip_alnum_long(p, end);
		while (p < end && is_word((unsigned char)*p))
			p++;
		if (p == end)
			break;
		/* One '@', not first: the word on each side is non-empty
		 * (the other one is checked below). */
		if (*p != '@' || at || p == v.p)
			return sip__msg_fail(c, SIP_PE_SYNTAX, p,
					     "bad Call-ID");
		at = p++;
	}
	if (v.len == 0 || (at && at + 1 == end))
		return sip__msg_fail(c, SIP_PE_SYNTAX, v.p, "bad Call-ID");
	c->m->call_id = v;
	return 0;
}

static int hdr_cseq(struct sip__pctx *c, const struct sip_hdr *h)
{
	struct sip_perr e = {0};

	if (sip_cseq_parse(&c->m->cseq, h->value, &e) != 0)
		return sip__msg_subfail(c, &e, h->value);
	if (c->m->cseq.num > 0x7fffffffu)
		return sip__msg_fail(c, SIP_PE_SYNTAX, h->value.p,
				     "CSeq number too large");
	return 0;
}

/* Max-Forwards = 1*DIGIT, 0..255 (RFC 3261 20.22). */
static int hdr_max_forwards(struct sip__pctx *c, const struct sip_hdr *h)
{
	uint32_t v;

	if (str_to_u32(&v, h->value, 255) != 0)
		return sip__msg_fail(c, SIP_PE_SYNTAX, h->value.p,
				     "bad Max-Forwards");
	c->m->max_forwards = (int)v;
	return 0;
}

/* Content-Length = 1*DIGIT, never more than the message size limit. */
static int hdr_content_length(struct sip__pctx *c, const struct sip_hdr *h)
{
	uint64_t v;
	int err = str_to_u64(&v, h->value, c->max_msg);

	if (err == -ERANGE)
		return sip__msg_fail(c, SIP_PE_TOO_LARGE, h->value.p,
				     "Content-Length too large");
	if (err)
		return sip__msg_fail(c, SIP_PE_SYNTAX, h->value.p,
				     "bad Content-Length");
	c->m->content_length = (int64_t)v;
	return 0;
}

static int hdr_content_type(struct sip__pctx *c, const struct sip_hdr *h)
{
	struct sip_ctype ct;
	struct sip_perr e = {0};

	if (sip_ctype_parse(&ct, h->value, &e) != 0)
		return sip__msg_subfail(c, &e, h->value);
	c->m->content_type = h->value;
	return 0;
}

/*
 * Expires = delta-seconds (RFC 3261 20.19): digits only.  A value past
 * 2^32-1 is taken as 2^32-1 rather than refused (the RFC allows treating
 * it as a default; clamping keeps the field usable).
 */
static int hdr_expires(struct sip__pctx *c, const struct sip_hdr *h)
{
	uint64_t v;
	int err = str_to_u64(&v, h->value, UINT32_MAX);

	if (err == -ERANGE)
		v = UINT32_MAX;
	else if (err)
		return sip__msg_fail(c, SIP_PE_SYNTAX, h->value.p,
				     "bad Expires");
	c->m->expires = (int64_t)v;
	return 0;
}

static int hdr_single(struct sip__pctx *c, const struct sip_hdr *h)
{
	struct sip_msg *m = c->m;
	int err;

	switch (h->id) {
	case SIP_HDR_FROM:
		err = dup_check(c, h, "duplicate From");
		return err ? err : nameaddr(c, &m->from, h->value);
	case SIP_HDR_TO:
		err = dup_check(c, h, "duplicate To");
		return err ? err : nameaddr(c, &m->to, h->value);
	case SIP_HDR_CALL_ID:
		err = dup_check(c, h, "duplicate Call-ID");
		return err ? err : hdr_call_id(c, h);
	case SIP_HDR_CSEQ:
		err = dup_check(c, h, "duplicate CSeq");
		return err ? err : hdr_cseq(c, h);
	case SIP_HDR_MAX_FORWARDS:
		err = dup_check(c, h, "duplicate Max-Forwards");
		return err ? err : hdr_max_forwards(c, h);
	case SIP_HDR_CONTENT_LENGTH:
		err = dup_check(c, h, "duplicate Content-Length");
		return err ? err : hdr_content_length(c, h);
	case SIP_HDR_CONTENT_TYPE:
		err = dup_check(c, h, "duplicate Content-Type");
		return err ? err : hdr_content_type(c, h);
	case SIP_HDR_EXPIRES:
		err = dup_check(c, h, "duplicate Expires");
		return err ? err : hdr_expires(c, h);
	default:
		return 0;
	}
}

/*
 * Dispatch one header line to its parser.  Headers not listed here are
 * kept as raw slices and parsed on demand by whoever needs them.
 */
int sip__msg_hdr_eager(struct sip__pctx *c, const struct sip_hdr *h)
{
	struct sip_msg *m = c->m;

	switch (h->id) {
	case SIP_HDR_VIA:
		return hdr_via(c, h);
	case SIP_HDR_CONTACT:
		return hdr_contact(c, h);
	case SIP_HDR_ROUTE:
		return hdr_route(c, h, m->route, &m->nroute);
	case SIP_HDR_RECORD_ROUTE:
		return hdr_route(c, h, m->rr, &m->nrr);
	case SIP_HDR_USER_AGENT:
	case SIP_HDR_SERVER:
		if (!m->user_agent.p)
			m->user_agent = h->value;
		return 0;
	case SIP_HDR_OTHER:
		return 0;
	default:
		return hdr_single(c, h);
	}
}

/*
 * Message-level rules once every header is in: From, To, Call-ID, CSeq
 * and Via are mandatory in requests (RFC 3261 8.1.1) and in responses
 * too (a proxy routes a response by its Via and matches it by CSeq and
 * Call-ID; one without them is dropped).  Max-Forwards is optional here:
 * a proxy adds it when absent (RFC 3261 16.6 step 3).  The CSeq method
 * equals the request method for every request, ACK and CANCEL included
 * (RFC 3261 8.1.1.5, RFC 4475 mismatch01/02).  "Contact: *" must be the
 * only Contact (RFC 3261 10.2.2).
 */
int sip__msg_check(struct sip__pctx *c)
{
	struct sip_msg *m = c->m;
	const char *at = c->end;

	if (m->nvia == 0)
		return sip__msg_fail(c, SIP_PE_MISSING, at, "no Via");
	if (m->first[SIP_HDR_FROM] < 0)
		return sip__msg_fail(c, SIP_PE_MISSING, at, "no From");
	if (m->first[SIP_HDR_TO] < 0)
		return sip__msg_fail(c, SIP_PE_MISSING, at, "no To");
	if (m->first[SIP_HDR_CALL_ID] < 0)
		return sip__msg_fail(c, SIP_PE_MISSING, at, "no Call-ID");
	if (m->first[SIP_HDR_CSEQ] < 0)
		return sip__msg_fail(c, SIP_PE_MISSING, at, "no CSeq");
	/* Two known methods are equal exactly when their ids are (ids
	 * come from case-sensitive names); otherwise compare the text. */
	if (m->is_request &&
	    (m->mid != SIP_METHOD_UNKNOWN ? m->cseq.mid != m->mid
					  : !str_eq(m->cseq.method, m->method)))
		return sip__msg_fail(c, SIP_PE_CSEQ_METHOD,
				     m->hdr[m->first[SIP_HDR_CSEQ]].value.p,
				     "CSeq method differs from request");
	if (c->star_at && m->ncontact > 1)
		return sip__msg_fail(c, SIP_PE_SYNTAX, c->star_at,
				     "Contact * not alone");
	return 0;
}
