/*
 * msg.c - the SIP message parser: start line, header field lines, body
 * (RFC 3261 sections 7, 7.3.1, 7.4, 7.5, 18.3, 20, 25).
 *
 * One pass over the bytes, no allocation, no copy: struct sip_msg gets
 * slices into the caller's buffer.  Each header line is found with a
 * vector scan for CR/LF (sip__find_ctl), its name classified once
 * (canonical spellings of the common headers by length, the rest by
 * sip_hdr_classify()) and the headers a proxy decides on are parsed at
 * once, in msg_hdrs.c, by the element parsers of uri.c, nameaddr.c,
 * via.c, hparse.c.
 *
 * Strictness, on purpose (a gateway must not parse differently from the
 * elements behind it):
 *  - lines end in CRLF; a bare LF or a bare CR anywhere in the start line
 *    or the headers is a syntax error (no bare-LF tolerance: a peer that
 *    splits lines differently from us could smuggle a header past us);
 *  - exactly one SP between the elements of the start line, nothing after
 *    the version (RFC 4475 lwsstart, lwsruri, trws);
 *  - folded lines (CRLF followed by SP or HTAB) continue a value; the
 *    value slice spans the fold and consumers treat CR/LF as LWS.
 *
 * Errors carry a static reason and the byte offset in buf.
 */
#include "sip/elem_int.h"
#include "sip/msg_int.h"

#include <errno.h>
#include <string.h>

const struct sip_limits sip_limits_default = {
	.max_msg_size = SIP_MAX_MSG_SIZE,
	.max_headers = SIP_MAX_HEADERS,
	.max_line = SIP_MAX_LINE,
	.max_via = SIP_MAX_VIA,
	.max_uri = SIP_MAX_URI,
	.max_parts = SIP_MAX_PARTS,
};

/* The response a server sends for a refused request (RFC 3261 8.2, 21). */
int sip_perr_status(enum sip_perr_code code)
{
	switch (code) {
	case SIP_PE_NONE:
	case SIP_PE_INCOMPLETE:
		return 0;
	case SIP_PE_VERSION:
		return 505;
	case SIP_PE_TOO_LARGE:
		return 513;
	case SIP_PE_URI_SCHEME:
		return 416;
	case SIP_PE_SYNTAX:
	case SIP_PE_LIMIT:
	case SIP_PE_DUPLICATE:
	case SIP_PE_MISSING:
	case SIP_PE_CSEQ_METHOD:
	case SIP_PE_BODY:
	default:
		return 400;
	}
}

int sip__msg_fail(struct sip__pctx *c, enum sip_perr_code code, const char *at,
		  const char *reason)
{
	return sip__fail(c->errp, code, c->base, at, reason);
}

/*
 * A sub-parser failed on `slice`: copy its error with the offset made
 * relative to the whole message.  A sub-parser that forgot to say why
 * still yields a syntax error.
 */
int sip__msg_subfail(struct sip__pctx *c, const struct sip_perr *e,
		     struct str slice)
{
	if (c->errp) {
		size_t off = (size_t)(slice.p - c->base);

		if (e->code == SIP_PE_NONE || e->code == SIP_PE_INCOMPLETE) {
			c->errp->code = SIP_PE_SYNTAX;
			c->errp->reason = "malformed header value";
		} else {
			c->errp->code = e->code;
			c->errp->reason = e->reason ? e->reason : "malformed";
		}
		off += e->off <= slice.len ? e->off : slice.len;
		c->errp->off = (uint32_t)off;
	}
	return -EINVAL;
}

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Clamp the run-time limits to the compile-time array sizes. */
static void limits_init(struct sip__pctx *c, const struct sip_limits *lim)
{
	if (!lim)
		lim = &sip_limits_default;
	c->max_msg = min_sz(lim->max_msg_size, SIP_MAX_MSG_SIZE);
	c->max_headers = (unsigned)min_sz(lim->max_headers, SIP_MAX_HEADERS);
	c->max_line = min_sz(lim->max_line, SIP_MAX_LINE);
	c->max_via = (unsigned)min_sz(lim->max_via, SIP_MAX_VIA);
	c->max_uri = min_sz(lim->max_uri, SIP_MAX_URI);
}

/* ------------------------------------------------------------ start line */

/*
 * SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT; "SIP" is case-insensitive
 * (an ABNF literal).  Returns SIP_PE_NONE for 2.0, SIP_PE_VERSION for a
 * well-formed other version, SIP_PE_SYNTAX for anything else.
 */
static enum sip_perr_code check_version(struct str v)
{
	size_t i, d1 = 0, d2 = 0;

	if (v.len == 7 && memcmp(v.p, "SIP/2.0", 7) == 0)
		return SIP_PE_NONE;
	if (v.len < 7 || !str_casestarts(v, STR("SIP/")))
		return SIP_PE_SYNTAX;
	for (i = 4; i < v.len && v.p[i] >= '0' && v.p[i] <= '9'; i++)
		d1++;
	if (d1 == 0 || i >= v.len || v.p[i] != '.')
		return SIP_PE_SYNTAX;
	for (i++; i < v.len && v.p[i] >= '0' && v.p[i] <= '9'; i++)
		d2++;
	if (d2 == 0 || i != v.len)
		return SIP_PE_SYNTAX;
	if (v.len == 7 && v.p[4] == '2' && v.p[6] == '0')
		return SIP_PE_NONE;
	return SIP_PE_VERSION;
}

/*
 * Status-Line = SIP-Version SP Status-Code SP Reason-Phrase.  The code is
 * exactly three digits, 100..699.  The reason may be empty (RFC 4475
 * noreason) and may hold UTF-8 (unreason); control characters other than
 * HTAB are refused.  UTF-8 is not validated: nobody interprets it.
 */
static int parse_status_line(struct sip__pctx *c, struct str line)
{
	struct sip_msg *m = c->m;
	const char *sp = memchr(line.p, ' ', line.len);
	struct str ver, rest;
	enum sip_perr_code vc;
	size_t i;

	if (!sp)
		return sip__msg_fail(c, SIP_PE_SYNTAX, line.p + line.len,
				     "status line without status code");
	ver = str_span(line.p, sp);
	vc = check_version(ver);
	if (vc == SIP_PE_SYNTAX)
		return sip__msg_fail(c, vc, line.p, "bad SIP version");
	if (vc == SIP_PE_VERSION)
		c->version_at = line.p;
	rest = str_span(sp + 1, line.p + line.len);
	if (rest.len < 4 || rest.p[3] != ' ' || rest.p[0] < '1' ||
	    rest.p[0] > '6' ||
	    !sip__is((unsigned char)rest.p[1], SIP__C_DIGIT) ||
	    !sip__is((unsigned char)rest.p[2], SIP__C_DIGIT))
		return sip__msg_fail(c, SIP_PE_SYNTAX, rest.p,
				     "bad status code");
	m->status = (uint16_t)((rest.p[0] - '0') * 100 +
			       (rest.p[1] - '0') * 10 + (rest.p[2] - '0'));
	m->reason = str_skip(rest, 4);
	for (i = 0; i < m->reason.len; i++) {
		unsigned char ch = (unsigned char)m->reason.p[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return sip__msg_fail(c, SIP_PE_SYNTAX, m->reason.p + i,
					     "control character in reason");
	}
	m->is_request = false;
	return 0;
}

/* Request-URI of a request: any valid absolute URI (the proxy answers
 * 416 to schemes it cannot route); SIP and SIPS URIs must not carry
 * headers (RFC 3261 19.1.1, RFC 4475 escruri). */
static int parse_ruri(struct sip__pctx *c, struct str uri)
{
	struct sip_msg *m = c->m;
	struct sip_perr e = {0};

	if (uri.len == 0 || memchr(uri.p, ' ', uri.len) ||
	    memchr(uri.p, '\t', uri.len))
		return sip__msg_fail(c, SIP_PE_SYNTAX, uri.p,
				     "white space in Request-URI");
	m->ruri_raw = uri;
	if (sip_uri_parse(&m->ruri, uri, c->max_uri, &e) != 0)
		return sip__msg_subfail(c, &e, uri);
	if ((m->ruri.sch == SIP_URI_SIP || m->ruri.sch == SIP_URI_SIPS) &&
	    m->ruri.headers.p && m->ruri.headers.len)
		return sip__msg_fail(c, SIP_PE_SYNTAX, m->ruri.headers.p,
				     "headers in Request-URI");
	return 0;
}

/*
 * Request-Line = Method SP Request-URI SP SIP-Version, one SP each: the
 * URI runs from the first SP to the last one and must hold no white
 * space, so "a  b" and "uri; lr" are refused, and so is a trailing SP.
 */
static int parse_request_line(struct sip__pctx *c, struct str line)
{
	struct sip_msg *m = c->m;
	const char *p = line.p, *end = line.p + line.len, *last;
	enum sip_perr_code vc;
	struct str ver;

	while (p < end && sip__is((unsigned char)*p, SIP__C_TOKEN))
		p++;
	if (p == line.p || p == end || *p != ' ')
		return sip__msg_fail(c, SIP_PE_SYNTAX, p, "bad method");
	m->method = str_span(line.p, p);
	m->mid = sip_method_from_str(m->method);
	p++;
	last = memrchr(p, ' ', (size_t)(end - p));
	if (!last)
		return sip__msg_fail(c, SIP_PE_SYNTAX, end,
				     "request line without SIP version");
	ver = str_span(last + 1, end);
	vc = check_version(ver);
	if (vc == SIP_PE_SYNTAX)
		return sip__msg_fail(c, vc, ver.p, "bad SIP version");
	if (vc == SIP_PE_VERSION)
		c->version_at = ver.p;
	m->is_request = true;
	return parse_ruri(c, str_span(p, last));
}

/*
 * The common request line, "Method SP Request-URI SP SIP-Version CRLF"
 * with no other byte <= SP in it, found with three vector scans instead
 * of the searches below.  For such a line it does what the general path
 * does; it returns 1 (not handled) for anything else.
 */
static int request_line_fast(struct sip__pctx *c, const char **pp)
{
	struct sip_msg *m = c->m;
	const char *p = *pp, *sp1, *sp2, *cr, *lim;
	enum sip_perr_code vc;
	struct sip_perr e = {0};
	struct str uri;

	lim = c->end - p > SIP_MAX_START_LINE + 1 ? p + SIP_MAX_START_LINE + 1
						  : c->end;
	sp1 = sip__find_le(c->base, p, lim, ' ');
	if (sp1 == lim || *sp1 != ' ' || sp1 == p)
		return 1;
	sp2 = sip__find_le(c->base, sp1 + 1, lim, ' ');
	if (sp2 == lim || *sp2 != ' ' || sp2 == sp1 + 1)
		return 1;
	cr = sip__find_le(c->base, sp2 + 1, lim, ' ');
	if (cr == lim || *cr != '\r' || cr + 1 == c->end || cr[1] != '\n' ||
	    sip__skip_class(p, sp1, SIP__C_TOKEN) != sp1)
		return 1;
	vc = check_version(str_span(sp2 + 1, cr));
	if (vc == SIP_PE_SYNTAX)
		return 1;
	if (vc == SIP_PE_VERSION)
		c->version_at = sp2 + 1;
	m->method = str_span(p, sp1);
	m->mid = sip_method_from_str(m->method);
	m->is_request = true;
	*pp = cr + 2;
	uri = str_span(sp1 + 1, sp2);
	m->ruri_raw = uri;
	if (sip_uri_parse(&m->ruri, uri, c->max_uri, &e) != 0)
		return sip__msg_subfail(c, &e, uri);
	if ((m->ruri.sch == SIP_URI_SIP || m->ruri.sch == SIP_URI_SIPS) &&
	    m->ruri.headers.p && m->ruri.headers.len)
		return sip__msg_fail(c, SIP_PE_SYNTAX, m->ruri.headers.p,
				     "headers in Request-URI");
	return 0;
}

static int parse_start_line(struct sip__pctx *c, const char **pp)
{
	const char *p = *pp, *nl;
	size_t avail = (size_t)(c->end - p);
	struct str line;

	bool status = avail >= 4 && sip__alphaeq(p, "sip", 3) && p[3] == '/';
	int err;

	if (!status && (err = request_line_fast(c, pp)) <= 0)
		return err;

	nl = memchr(p, '\n', min_sz(avail, SIP_MAX_START_LINE + 2));
	if (!nl) {
		if (avail > SIP_MAX_START_LINE + 1)
			return sip__msg_fail(c, SIP_PE_LIMIT, p,
					     "start line too long");
		return sip__msg_fail(c, SIP_PE_SYNTAX, c->end,
				     "start line not terminated");
	}
	if (nl == p || nl[-1] != '\r' || memchr(p, '\r', (size_t)(nl - 1 - p)))
		return sip__msg_fail(c, SIP_PE_SYNTAX, nl,
				     "start line not ended by CRLF");
	line = str_span(p, nl - 1);
	if (line.len > SIP_MAX_START_LINE)
		return sip__msg_fail(c, SIP_PE_LIMIT, p, "start line too long");
	*pp = nl + 1;
	if (status)
		return parse_status_line(c, line);
	return parse_request_line(c, line);
}

/* --------------------------------------------------------- header lines */

/*
 * Find the end of the field value starting at p: the LF of the last
 * physical line, following folds (CRLF then SP/HTAB).  Every CR must be
 * followed by LF and every LF preceded by CR.  The search is bounded by
 * the line limit counted from `name`.  Returns the LF, or NULL with the
 * error set.
 */
static const char *field_end(struct sip__pctx *c, const char *name,
			     const char *p, int *errp)
{
	const char *lim = c->end;

	if ((size_t)(lim - name) > c->max_line + 2)
		lim = name + c->max_line + 2;
	for (;;) {
		p = sip__find_ctl(c->base, p, lim);
		if (p >= lim || (*p == '\r' && p + 1 >= c->end)) {
			*errp = lim < c->end
					? sip__msg_fail(c, SIP_PE_LIMIT, name,
							"header line too long")
					: sip__msg_fail(
						  c, SIP_PE_SYNTAX, c->end,
						  "header not terminated");
			return NULL;
		}
		if (*p == '\n' || (*p == '\r' && p[1] != '\n')) {
			*errp = sip__msg_fail(c, SIP_PE_SYNTAX, p,
					      "bare CR or LF in header");
			return NULL;
		}
		if (*p != '\r') {
			p++;
			continue;
		}
		if (p + 2 < c->end && (p[2] == ' ' || p[2] == '\t')) {
			p += 3;
			continue;
		}
		return p + 1;
	}
}

/* name is exactly the literal (case-sensitive). */
#define IS(p, len, lit) \
	((len) == sizeof(lit) - 1 && memcmp(p, lit, sizeof(lit) - 1) == 0)

/*
 * Classify a header name: the canonical spellings of the headers every
 * message carries by length and a compare or two, anything else (other
 * case, compact forms, other headers) through sip_hdr_classify().
 */
static enum sip_hdr_id classify(const char *p, size_t len)
{
	switch (len) {
	case 2:
		if (IS(p, len, "To"))
			return SIP_HDR_TO;
		break;
	case 3:
		if (IS(p, len, "Via"))
			return SIP_HDR_VIA;
		break;
	case 4:
		if (IS(p, len, "From"))
			return SIP_HDR_FROM;
		if (IS(p, len, "CSeq"))
			return SIP_HDR_CSEQ;
		break;
	case 5:
		if (IS(p, len, "Route"))
			return SIP_HDR_ROUTE;
		if (IS(p, len, "Allow"))
			return SIP_HDR_ALLOW;
		break;
	case 7:
		if (IS(p, len, "Call-ID"))
			return SIP_HDR_CALL_ID;
		if (IS(p, len, "Contact"))
			return SIP_HDR_CONTACT;
		if (IS(p, len, "Expires"))
			return SIP_HDR_EXPIRES;
		break;
	case 9:
		if (IS(p, len, "Supported"))
			return SIP_HDR_SUPPORTED;
		break;
	case 10:
		if (IS(p, len, "User-Agent"))
			return SIP_HDR_USER_AGENT;
		break;
	case 12:
		if (IS(p, len, "Max-Forwards"))
			return SIP_HDR_MAX_FORWARDS;
		if (IS(p, len, "Record-Route"))
			return SIP_HDR_RECORD_ROUTE;
		if (IS(p, len, "Content-Type"))
			return SIP_HDR_CONTENT_TYPE;
		break;
	case 14:
		if (IS(p, len, "Content-Length"))
			return SIP_HDR_CONTENT_LENGTH;
		break;
	default:
		break;
	}
	return sip_hdr_classify(str_make(p, len));
}

#undef IS

/* Record header h (index i) in the per-id chain and counters. */
static void hdr_link(struct sip__pctx *c, unsigned i, enum sip_hdr_id id)
{
	struct sip_msg *m = c->m;

	m->hdr[i].next = -1;
	/* c->last[id] is set once first[id] is: no need to clear it. */
	if (m->first[id] >= 0)
		m->hdr[c->last[id]].next = (int16_t)i;
	else
		m->first[id] = (int16_t)i;
	c->last[id] = (int16_t)i;
	if (m->count[id] < UINT8_MAX)
		m->count[id]++;
}

/*
 * message-header = field-name HCOLON field-value CRLF, where HCOLON is
 * *(SP / HTAB) ":" SWS.  Parses one field line at *pp, stores it and
 * hands it to the eager parsers.
 */
static int parse_field(struct sip__pctx *c, const char **pp)
{
	struct sip_msg *m = c->m;
	const char *name = *pp, *end = c->end, *p, *nl, *v, *ve;
	enum sip_hdr_id id;
	struct sip_hdr *h;
	unsigned i = m->nhdr;
	int err = 0;

	/* Everything is read before anything is stored: stores into *m
	 * could alias the input as far as the compiler knows. */
	p = sip__skip_class(name, end, SIP__C_TOKEN);
	if (p == name)
		return sip__msg_fail(c, SIP_PE_SYNTAX, p, "bad header name");
	if (i >= c->max_headers)
		return sip__msg_fail(c, SIP_PE_LIMIT, name,
				     "too many header fields");
	if (p >= end || *p != ':') {
		const char *q = p;

		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q >= end || *q != ':')
			return sip__msg_fail(c, SIP_PE_SYNTAX, q,
					     "header without colon");
		v = q + 1;
	} else {
		v = p + 1;
	}
	/* SP and HTAB after the colon cannot end the line: skip them
	 * before the search for CR/LF. */
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	nl = field_end(c, name, v, &err);
	if (!nl)
		return err;
	if ((size_t)(nl + 1 - name) > c->max_line)
		return sip__msg_fail(c, SIP_PE_LIMIT, name,
				     "header line too long");
	/* Trim LWS (folds included) on both sides, as str_trim() would. */
	ve = nl - 1;
	while (v < ve && str_is_lws(*v))
		v++;
	while (ve > v && str_is_lws(ve[-1]))
		ve--;
	id = classify(name, (size_t)(p - name));
	h = &m->hdr[i];
	h->id = id;
	h->name = str_span(name, p);
	h->value = str_span(v, ve);
	h->line = str_span(name, nl + 1);
	hdr_link(c, i, id);
	m->nhdr = i + 1;
	*pp = nl + 1;
	return sip__msg_hdr_eager(c, h);
}

/* ------------------------------------------------------------------ body */

/*
 * RFC 3261 18.3.  Stream: Content-Length is mandatory and the buffer
 * holds exactly the framed message.  Datagram: without Content-Length
 * the body runs to the end; with it, the body must fit and trailing
 * octets are ignored (RFC 4475 dblreq).
 */
static int parse_body(struct sip__pctx *c, const char *body, unsigned flags)
{
	struct sip_msg *m = c->m;
	size_t avail = (size_t)(c->end - body);

	if (m->content_length < 0) {
		if (flags & SIP_PARSE_STREAM)
			return sip__msg_fail(c, SIP_PE_MISSING, body,
					     "no Content-Length on stream");
		m->body = str_make(body, avail);
	} else if ((uint64_t)m->content_length > avail) {
		return sip__msg_fail(c, SIP_PE_BODY, c->end,
				     "body shorter than Content-Length");
	} else if ((flags & SIP_PARSE_STREAM) &&
		   (size_t)m->content_length != avail) {
		return sip__msg_fail(c, SIP_PE_BODY, body + m->content_length,
				     "bytes after the body on stream");
	} else {
		m->body = str_make(body, (size_t)m->content_length);
	}
	m->raw = str_span(c->base, m->body.p + m->body.len);
	return 0;
}

/* ------------------------------------------------------------ top level */

/* Reset only what the parse relies on: the struct is ~30 KB and most of
 * it (headers, Vias, Contacts) is written before it is read. */
static void msg_init(struct sip_msg *m, const char *buf, size_t len)
{
	m->raw = str_make(buf, len);
	m->is_request = false;
	m->method = STR_NULL;
	m->mid = SIP_METHOD_UNKNOWN;
	m->ruri_raw = STR_NULL;
	m->status = 0;
	m->reason = STR_NULL;
	m->nhdr = 0;
	memset(m->first, 0xff, sizeof(m->first));
	memset(m->count, 0, sizeof(m->count));
	m->nvia = 0;
	m->call_id = STR_NULL;
	memset(&m->cseq, 0, sizeof(m->cseq));
	m->max_forwards = -1;
	m->ncontact = 0;
	m->nroute = 0;
	m->nrr = 0;
	m->content_type = STR_NULL;
	m->content_length = -1;
	m->expires = -1;
	m->body = STR_NULL;
	m->user_agent = STR_NULL;
}

static int parse_all(struct sip__pctx *c, unsigned flags)
{
	const char *p = c->base;
	int err;

	err = parse_start_line(c, &p);
	if (err)
		return err;
	if (!c->m->is_request)
		sip__uri_clear(&c->m->ruri, STR_NULL);
	for (;;) {
		if (c->end - p >= 2 && p[0] == '\r' && p[1] == '\n')
			break;
		if (p >= c->end)
			return sip__msg_fail(c, SIP_PE_SYNTAX, p,
					     "headers not terminated");
		err = parse_field(c, &p);
		if (err)
			return err;
	}
	err = sip__msg_check(c);
	if (err)
		return err;
	return parse_body(c, p + 2, flags);
}

/*
 * Parse one SIP message (see sip.h for the contract).  On success with
 * every check passed, returns 0.  A message whose only fault is a SIP
 * version other than 2.0 is fully parsed and returns -EINVAL with
 * SIP_PE_VERSION, so the caller can answer 505 from it; any other error
 * leaves *msgp unusable.
 */
int sip_msg_parse(struct sip_msg *msgp, const char *buf, size_t len,
		  const struct sip_limits *lim, unsigned flags,
		  struct sip_perr *errp)
{
	struct sip__pctx c;
	int err;

	if (errp) {
		errp->code = SIP_PE_NONE;
		errp->off = 0;
		errp->reason = NULL;
	}
	if (!msgp || (!buf && len))
		return sip__fail(errp, SIP_PE_SYNTAX, NULL, NULL, "no message");
	/* Field by field: c.last[] is written before it is read. */
	limits_init(&c, lim);
	c.m = msgp;
	c.base = buf;
	c.end = buf + len;
	c.errp = errp;
	c.version_at = NULL;
	c.star_at = NULL;
	msg_init(msgp, buf, len);
	if (len > c.max_msg) {
		sip__fail(errp, SIP_PE_TOO_LARGE, buf, buf + c.max_msg,
			  "message too large");
		return -EMSGSIZE;
	}
	if (len == 0)
		return sip__fail(errp, SIP_PE_SYNTAX, buf, buf,
				 "empty message");
	err = parse_all(&c, flags);
	if (err)
		return err;
	if (c.version_at)
		return sip__msg_fail(&c, SIP_PE_VERSION, c.version_at,
				     "SIP version not supported");
	return 0;
}

/* ------------------------------------------------------------- accessors */

const struct sip_hdr *sip_msg_hdr(const struct sip_msg *msg, enum sip_hdr_id id)
{
	if (!msg || (unsigned)id >= SIP_HDR__COUNT || msg->first[id] < 0)
		return NULL;
	return &msg->hdr[msg->first[id]];
}

const struct sip_hdr *sip_hdr_next(const struct sip_msg *msg,
				   const struct sip_hdr *h)
{
	if (!msg || !h || h->next < 0)
		return NULL;
	return &msg->hdr[h->next];
}

/* By name: known names (long or compact) go through their id chain, so
 * "Contact" also finds "m:" lines; other names walk SIP_HDR_OTHER. */
const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *msg,
					  struct str name)
{
	enum sip_hdr_id id = sip_hdr_classify(name);
	const struct sip_hdr *h;

	if (id != SIP_HDR_OTHER)
		return sip_msg_hdr(msg, id);
	for (h = sip_msg_hdr(msg, SIP_HDR_OTHER); h; h = sip_hdr_next(msg, h))
		if (str_caseeq(h->name, name))
			return h;
	return NULL;
}
