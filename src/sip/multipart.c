/*
 * multipart.c - split a multipart body (RFC 2046 5.1, RFC 5621 for its
 * use in SIP) into its parts, zero-copy.
 *
 * A delimiter is CRLF "--" boundary, except the first one, which may
 * also open the body; after it comes optional transport padding (SP,
 * HTAB) and CRLF, or "--" for the close delimiter.  The preamble before
 * the first delimiter and the epilogue after the close delimiter are
 * ignored.  Each part is headers, an empty line, then its body; a part
 * that starts with CRLF has no headers.  Nested multiparts are left to
 * the caller (split the part's body again with its own boundary).
 *
 * Refused: a boundary that is empty or longer than 70 characters, no
 * opening delimiter, no close delimiter, no part at all, a part whose
 * headers never end, more than max_parts parts (SIP_PE_LIMIT).
 */
#include "sip/sip_int.h"

#include <errno.h>
#include <string.h>

enum { MP_MAX_BOUNDARY = 70 }; /* RFC 2046 5.1.1 */

struct mp_ctx {
	struct str body;
	char delim[MP_MAX_BOUNDARY + 4]; /* "\r\n--" boundary */
	size_t dlen;
	struct sip_perr *errp;
};

static int mp_fail(struct mp_ctx *c, enum sip_perr_code code, const char *at,
		   const char *reason)
{
	return sip__fail(c->errp, code, c->body.p, at, reason);
}

/* Next delimiter (with its leading CRLF) at or after p, or NULL. */
static const char *next_delim(const struct mp_ctx *c, const char *p)
{
	const char *end = c->body.p + c->body.len;

	if ((size_t)(end - p) < c->dlen)
		return NULL;
	return memmem(p, (size_t)(end - p), c->delim, c->dlen);
}

/*
 * After "--boundary" at p: close delimiter ("--"), or padding and CRLF.
 * Returns the start of the next part, c->body end for the close
 * delimiter (*closep set), or NULL on a malformed delimiter line.
 */
static const char *after_delim(const struct mp_ctx *c, const char *p,
			       bool *closep)
{
	const char *end = c->body.p + c->body.len;

	*closep = false;
	if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
		*closep = true;
		return end;
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
		return NULL;
	return p + 2;
}

/*
 * One header of a part's raw header block (RFC 2045 / RFC 5322 2.2.3):
 * a line and the folded continuation lines below it, which belong to
 * it.  Every reader of part headers goes through here, so that a folded
 * value ("Content-Transfer-Encoding:" CRLF " base64") is seen whole by
 * each of them; a filter that read line by line would miss it.
 */
bool sip_part_hdr_next(struct str *rest, struct str *name, struct str *val)
{
	while (rest->len) {
		const char *nl = memchr(rest->p, '\n', rest->len);
		size_t n = nl ? (size_t)(nl - rest->p) + 1 : rest->len;
		struct str line = str_make(rest->p, n);
		long colon;

		*rest = str_skip(*rest, n);
		while (rest->len && (rest->p[0] == ' ' || rest->p[0] == '\t')) {
			nl = memchr(rest->p, '\n', rest->len);
			n = nl ? (size_t)(nl - rest->p) + 1 : rest->len;
			line.len += n;
			*rest = str_skip(*rest, n);
		}
		colon = str_chr(line, ':');
		if (colon < 0)
			continue; /* not a header: nothing to read in it */
		*name = str_trim(str_make(line.p, (size_t)colon));
		*val = str_trim(str_skip(line, (size_t)colon + 1));
		return true;
	}
	return false;
}

bool sip_part_hdrs_bad(struct str hdrs)
{
	size_t k;

	for (k = 0; k < hdrs.len; k++)
		if (hdrs.p[k] == '\0' ||
		    (hdrs.p[k] == '\r' &&
		     (k + 1 == hdrs.len || hdrs.p[k + 1] != '\n')))
			return true;
	return false;
}

bool sip_cte_identity(struct str val)
{
	return str_caseeq_cstr(val, "7bit") || str_caseeq_cstr(val, "8bit") ||
	       str_caseeq_cstr(val, "binary");
}

/* The Content-Type value among a part's header lines, or empty. */
static struct str part_ctype(struct str hdrs)
{
	struct str rest = hdrs, name, val;

	while (sip_part_hdr_next(&rest, &name, &val))
		if (sip_hdr_classify(name) == SIP_HDR_CONTENT_TYPE)
			return val;
	return str_make(hdrs.p + hdrs.len, 0);
}

/* Split one part's content into headers and body. */
static int split_part(struct mp_ctx *c, struct sip_part *pt, struct str s)
{
	const char *eoh;

	if (s.len >= 2 && s.p[0] == '\r' && s.p[1] == '\n') {
		pt->headers = str_make(s.p, 0);
		pt->body = str_skip(s, 2);
	} else if ((eoh = memmem(s.p, s.len, "\r\n\r\n", 4)) != NULL) {
		pt->headers = str_span(s.p, eoh);
		pt->body = str_span(eoh + 4, s.p + s.len);
	} else if (s.len >= 2 && s.p[s.len - 2] == '\r' &&
		   s.p[s.len - 1] == '\n') {
		/* Headers only: the delimiter's CRLF ended the blank line. */
		pt->headers = str_make(s.p, s.len - 2);
		pt->body = str_make(s.p + s.len, 0);
	} else if (s.len == 0) {
		pt->headers = s;
		pt->body = s;
	} else {
		return mp_fail(c, SIP_PE_SYNTAX, s.p,
			       "part headers not terminated");
	}
	pt->ctype = part_ctype(pt->headers);
	return 0;
}

/* Locate the opening delimiter: at the very start, or after a CRLF. */
static const char *first_delim(const struct mp_ctx *c)
{
	if (c->body.len >= c->dlen - 2 &&
	    memcmp(c->body.p, c->delim + 2, c->dlen - 2) == 0)
		return c->body.p + c->dlen - 2;
	{
		const char *d = next_delim(c, c->body.p);

		return d ? d + c->dlen : NULL;
	}
}

/*
 * Split `body` at `boundary` (unquoted, as in sip_ctype.boundary) into
 * parts[0..*npartsp).  Returns 0, or -EINVAL with *errp (off relative to
 * body.p).  Results point into body.
 */
int sip_multipart_split(struct sip_part *parts, unsigned max_parts,
			unsigned *npartsp, struct str body, struct str boundary,
			struct sip_perr *errp)
{
	struct mp_ctx c;
	const char *p, *q, *d;
	unsigned n = 0;
	bool close = false;
	int err;

	if (npartsp)
		*npartsp = 0;
	c.body = body;
	c.errp = errp;
	if (!parts || !npartsp || (!body.p && body.len))
		return mp_fail(&c, SIP_PE_SYNTAX, NULL, "bad arguments");
	if (boundary.len == 0 || boundary.len > MP_MAX_BOUNDARY)
		return mp_fail(&c, SIP_PE_SYNTAX, body.p, "bad boundary");
	memcpy(c.delim, "\r\n--", 4);
	memcpy(c.delim + 4, boundary.p, boundary.len);
	c.dlen = boundary.len + 4;
	p = body.len ? first_delim(&c) : NULL;
	if (!p)
		return mp_fail(&c, SIP_PE_SYNTAX, body.p, "no boundary");
	for (;;) {
		q = after_delim(&c, p, &close);
		if (!q)
			return mp_fail(&c, SIP_PE_SYNTAX, p,
				       "bad boundary line");
		p = q;
		if (close)
			break;
		d = next_delim(&c, p);
		if (!d)
			return mp_fail(&c, SIP_PE_SYNTAX, p,
				       "no closing boundary");
		if (n >= max_parts)
			return mp_fail(&c, SIP_PE_LIMIT, p, "too many parts");
		err = split_part(&c, &parts[n], str_span(p, d));
		if (err)
			return err;
		n++;
		p = d + c.dlen;
	}
	if (n == 0)
		return mp_fail(&c, SIP_PE_SYNTAX, body.p, "no body part");
	*npartsp = n;
	return 0;
}
