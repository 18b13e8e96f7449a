/*
 * hparse.c - small structured header values: CSeq (RFC 3261 20.16,
 * 8.1.1.5), token-with-parameters values such as Event, Subscription-
 * State, Session-Expires, Content-Disposition and Retry-After (RFC 3261
 * 20.33, RFC 6665, RFC 4028), Content-Type (RFC 3261 20.15, RFC 2046
 * boundary) and Replaces (RFC 3891 6.1).
 */
#include "sip/elem_int.h"

#include <errno.h>
#include <string.h>

enum {
	CSEQ_MAX = 0x7fffffff,    /* RFC 3261 8.1.1.5: below 2^31 */
	HP_MAX_COMMENT_DEPTH = 8, /* nested "( ( ) )" in a comment */
	MIME_MAX_BOUNDARY = 70,   /* RFC 2046 5.1.1 */
};

/*
 * CSeq = 1*DIGIT LWS Method.  Leading zeros are fine (RFC 4475 wsinv has
 * "0009"); values above 2^31-1 are refused.  mid comes from
 * sip_method_from_str().  Returns 0 or -EINVAL with *errp.
 */
int sip_cseq_parse(struct sip_cseq *cp, struct str s, struct sip_perr *errp)
{
	const char *p, *q, *end = s.p + s.len;
	uint64_t v = 0; /* wide: one digit past the limit still fits */

	if (!cp || (!s.p && s.len))
		return sip__fail(errp, SIP_PE_SYNTAX, NULL, NULL,
				 "invalid argument");
	memset(cp, 0, sizeof(*cp));
	p = sip__skip_lws(s.p, end);
	for (q = p; q < end && *q >= '0' && *q <= '9'; q++) {
		v = v * 10 + (uint64_t)(*q - '0');
		if (v > CSEQ_MAX)
			return sip__fail(errp, SIP_PE_SYNTAX, s.p, p,
					 "CSeq number too large");
	}
	if (q == p)
		return sip__fail(errp, SIP_PE_SYNTAX, s.p, p,
				 "CSeq number expected");
	p = sip__skip_lws(q, end);
	if (p == q)
		return sip__fail(errp, SIP_PE_SYNTAX, s.p, p,
				 "LWS expected after CSeq number");
	q = sip__skip_class(p, end, SIP__C_TOKEN);
	if (q == p)
		return sip__fail(errp, SIP_PE_SYNTAX, s.p, p,
				 "CSeq method expected");
	if (sip__skip_lws(q, end) != end)
		return sip__fail(errp, SIP_PE_SYNTAX, s.p, q,
				 "junk after CSeq method");
	cp->num = (uint32_t)v;
	cp->method = str_span(p, q);
	cp->mid = sip_method_from_str(cp->method);
	return 0;
}

/*
 * comment = "(" *( ctext / quoted-pair / comment ) ")", p at '('.
 * Returns the byte after it or NULL.  Nesting is bounded.
 */
static const char *comment_end(const char *p, const char *end)
{
	unsigned depth = 0;

	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '(') {
			if (++depth > HP_MAX_COMMENT_DEPTH)
				return NULL;
		} else if (c == ')') {
			if (--depth == 0)
				return p + 1;
		} else if (c == '\\') {
			if (++p == end || *p == '\r' || *p == '\n' ||
			    (unsigned char)*p >= 0x80)
				return NULL;
		} else if ((c < 0x20 && !str_is_lws((char)c)) || c == 0x7f) {
			return NULL;
		}
	}
	return NULL;
}

/* Header params after a value, into pp; *p where they start. */
static int hparams(struct sip_params *pp, const char *p, const char *end,
		   const char *base, struct sip_perr *errp)
{
	struct sip_param one;
	int rc;

	pp->n = 0;
	while ((rc = sip__hparam_next(&one, &p, end, base, errp)) > 0) {
		if (pp->n == SIP_MAX_PARAMS)
			return sip__fail(errp, SIP_PE_LIMIT, base, one.name.p,
					 "too many parameters");
		pp->p[pp->n++] = one;
	}
	return rc;
}

/*
 * token [ comment ] *( SEMI generic-param ).  The comment (Retry-After,
 * RFC 3261 20.33) is checked and skipped.  Returns 0 or -EINVAL.
 */
int sip_tokparams_parse(struct sip_tokparams *tp, struct str s,
			struct sip_perr *errp)
{
	const char *p, *q, *end = s.p + s.len;

	if (!tp || (!s.p && s.len))
		return sip__fail(errp, SIP_PE_SYNTAX, NULL, NULL,
				 "invalid argument");
	/* Not memset: the parameter array is ~1.3 KB and filled up to n. */
	tp->value = STR_NULL;
	tp->params.n = 0;
	p = sip__skip_lws(s.p, end);
	q = sip__skip_class(p, end, SIP__C_TOKEN);
	if (q == p)
		return sip__fail(errp, SIP_PE_SYNTAX, s.p, p, "token expected");
	tp->value = str_span(p, q);
	p = sip__skip_lws(q, end);
	if (p < end && *p == '(') {
		if (!(q = comment_end(p, end)))
			return sip__fail(errp, SIP_PE_SYNTAX, s.p, p,
					 "bad comment");
	}
	return hparams(&tp->params, q, end, s.p, errp);
}

/* The boundary without its quotes, 1..70 characters (RFC 2046 5.1.1). */
static bool boundary(struct str *bp, struct str v)
{
	if (v.len >= 2 && v.p[0] == '"')
		v = str_make(v.p + 1, v.len - 2);
	if (v.len == 0 || v.len > MIME_MAX_BOUNDARY ||
	    memchr(v.p, '\\', v.len) || memchr(v.p, '"', v.len))
		return false;
	*bp = v;
	return true;
}

/*
 * Content-Type = m-type SLASH m-subtype *( SEMI m-parameter ), with every
 * m-parameter carrying a value.  boundary is returned unquoted; a second
 * boundary is an error.  Returns 0 or -EINVAL with *errp.
 */
int sip_ctype_parse(struct sip_ctype *ctp, struct str s, struct sip_perr *errp)
{
	const char *p, *q, *end = s.p + s.len;
	unsigned i;
	int rc;

	if (!ctp || (!s.p && s.len))
		return sip__fail(errp, SIP_PE_SYNTAX, NULL, NULL,
				 "invalid argument");
	/* Not memset: the parameter array is ~1.3 KB and filled up to n. */
	ctp->type = STR_NULL;
	ctp->subtype = STR_NULL;
	ctp->boundary = STR_NULL;
	ctp->params.n = 0;
	p = sip__skip_lws(s.p, end);
	q = sip__skip_class(p, end, SIP__C_TOKEN);
	ctp->type = str_span(p, q);
	p = sip__skip_lws(q, end);
	if (q == ctp->type.p || p == end || *p != '/')
		return sip__fail(errp, SIP_PE_SYNTAX, s.p, p,
				 "media type expected");
	p = sip__skip_lws(p + 1, end);
	q = sip__skip_class(p, end, SIP__C_TOKEN);
	if (q == p)
		return sip__fail(errp, SIP_PE_SYNTAX, s.p, p,
				 "media subtype expected");
	ctp->subtype = str_span(p, q);
	if ((rc = hparams(&ctp->params, q, end, s.p, errp)))
		return rc;
	for (i = 0; i < ctp->params.n; i++) {
		const struct sip_param *pp = &ctp->params.p[i];

		if (!pp->has_value)
			return sip__fail(errp, SIP_PE_SYNTAX, s.p, pp->name.p,
					 "media parameter needs a value");
		if (!SIP__ALPHAEQ(pp->name, "boundary"))
			continue;
		if (ctp->boundary.p || !boundary(&ctp->boundary, pp->value))
			return sip__fail(errp, SIP_PE_SYNTAX, s.p, pp->name.p,
					 "bad boundary");
	}
	return 0;
}

/* word (RFC 3261 25.1): token characters plus ()<>:\"/[]?{} */
static bool is_word(unsigned char c)
{
	return sip__is(c, SIP__C_TOKEN) || (c && strchr("()<>:\\\"/[]?{}", c));
}

static const char *skip_word(const char *p, const char *end)
{
	while (p < end && is_word((unsigned char)*p))
		p++;
	return p;
}

static const char *replaces_param(struct sip_replaces *rp,
				  const struct sip_param *pp)
{
	struct str *slot = NULL;

	if (SIP__CASEEQ(pp->name, "early-only")) {
		if (rp->early_only || pp->has_value)
			return "bad early-only";
		rp->early_only = true;
		return NULL;
	}
	if (SIP__CASEEQ(pp->name, "to-tag"))
		slot = &rp->to_tag;
	else if (SIP__CASEEQ(pp->name, "from-tag"))
		slot = &rp->from_tag;
	if (slot && (slot->p || !sip__token_ok(pp->value)))
		return "bad or duplicate tag";
	if (slot)
		*slot = pp->value;
	return NULL;
}

/*
 * Replaces = callid *( SEMI replaces-param ) (RFC 3891 6.1).  Exactly one
 * to-tag and one from-tag are required: they identify the dialog.
 * Returns 0 or -EINVAL with *errp.
 */
int sip_replaces_parse(struct sip_replaces *rp, struct str s,
		       struct sip_perr *errp)
{
	const char *p, *q, *end = s.p + s.len, *why;
	struct sip_param one;
	int rc;

	if (!rp || (!s.p && s.len))
		return sip__fail(errp, SIP_PE_SYNTAX, NULL, NULL,
				 "invalid argument");
	memset(rp, 0, sizeof(*rp));
	p = sip__skip_lws(s.p, end);
	q = skip_word(p, end);
	if (q < end && *q == '@' && q != p)
		q = skip_word(q + 1, end);
	if (q == p || q[-1] == '@')
		return sip__fail(errp, SIP_PE_SYNTAX, s.p, p,
				 "bad Call-ID in Replaces");
	rp->call_id = str_span(p, q);
	while ((rc = sip__hparam_next(&one, &q, end, s.p, errp)) > 0)
		if ((why = replaces_param(rp, &one)))
			return sip__fail(errp, SIP_PE_SYNTAX, s.p, one.name.p,
					 why);
	if (rc)
		return rc;
	if (!rp->to_tag.p || !rp->from_tag.p)
		return sip__fail(errp, SIP_PE_SYNTAX, s.p, end,
				 "Replaces needs to-tag and from-tag");
	return 0;
}
