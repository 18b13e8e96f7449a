/*
 * nameaddr.c - name-addr / addr-spec with header parameters (RFC 3261
 * 20.10, 20.20, 20.39, 25.1): From, To, Contact, Route, Record-Route,
 * Refer-To, P-Asserted-Identity, Path.
 *
 * Display names are a quoted-string (RFC 4475 3.1.1.x esc02, quotbal) or
 * a run of tokens (lwsdisp: no space needed before '<').  A bare
 * addr-spec may not hold ',', '?' or ';' (20.10): any ';' after it starts
 * the header parameters, not URI parameters (RFC 4475 regbadct).
 */
#include "sip/elem_int.h"

#include <errno.h>
#include <string.h>

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
static bool qvalue(uint16_t *qp, struct str v)
{
	unsigned q, i, scale = 100;

	if (v.len == 0 || (v.p[0] != '0' && v.p[0] != '1') || v.len > 5)
		return false;
	q = v.p[0] == '1' ? 1000 : 0;
	if (v.len > 1 && v.p[1] != '.')
		return false;
	for (i = 2; i < v.len; i++, scale /= 10) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return false;
		q += (unsigned)(v.p[i] - '0') * scale;
	}
	if (q > 1000)
		return false;
	*qp = (uint16_t)q;
	return true;
}

/* tag, expires, q; a repeat is refused (one dialog, one answer). */
static const char *na_param(struct sip_nameaddr *na, const struct sip_param *pp,
			    bool vtok, bool *seen_q)
{
	struct str n = pp->name, v = pp->value;

	if (SIP__ALPHAEQ(n, "tag")) {
		if (na->tag.p)
			return "duplicate tag";
		if (!vtok)
			return "bad tag";
		na->tag = v;
	} else if (SIP__ALPHAEQ(n, "expires")) {
		if (na->has_expires)
			return "duplicate expires";
		if (!sip__delta_seconds(&na->expires, v))
			return "bad expires";
		na->has_expires = true;
	} else if (n.len == 1 && (n.p[0] | 0x20) == 'q') {
		if (*seen_q)
			return "duplicate q";
		if (!qvalue(&na->q1000, v))
			return "bad q value";
		*seen_q = true;
	}
	return NULL;
}

/*
 * Display name, if any, then the '<' of a name-addr.  Leaves *pp at '<'
 * (name-addr) or at the first byte of a bare addr-spec.
 */
static int display_name(struct sip_nameaddr *na, const char **pp,
			const char *end, const char *base,
			struct sip_perr *errp)
{
	const char *p = *pp, *q;

	if (*p == '"') {
		if (!(q = sip__qstring_end(p, end)))
			return sip__fail(errp, SIP_PE_SYNTAX, base, p,
					 "bad quoted display name");
		na->display = str_span(p + 1, q - 1);
		p = sip__skip_lws(q, end);
		if (p == end || *p != '<')
			return sip__fail(errp, SIP_PE_SYNTAX, base, p,
					 "'<' expected after display name");
	} else if (*p != '<') {
		for (q = p;
		     q < end && (str_is_lws(*q) ||
				 sip__is((unsigned char)*q, SIP__C_TOKEN));
		     q++)
			;
		if (q < end && *q == '<') {
			na->display = str_rtrim(str_span(p, q));
			p = q;
		}
	}
	*pp = p;
	return 0;
}

/* The URI: "<" addr-spec ">" or a bare addr-spec; *pp after it. */
static int addr(struct sip_nameaddr *na, const char **pp, const char *end,
		size_t max_uri, const char *base, struct sip_perr *errp)
{
	const char *p = *pp, *q;
	struct str u;
	int rc;

	if (*p == '<') {
		q = sip__find_byte(base, p + 1, end, '>');
		if (!q) {
			sip__uri_clear(&na->uri, STR_NULL);
			return sip__fail(errp, SIP_PE_SYNTAX, base, p,
					 "unterminated '<'");
		}
		u = str_span(p + 1, q);
		na->angle = true;
		*pp = q + 1;
	} else {
		for (q = p; q < end && *q != ';' && !str_is_lws(*q); q++)
			if (*q == '?' || *q == ',') {
				sip__uri_clear(&na->uri, STR_NULL);
				return sip__fail(errp, SIP_PE_SYNTAX, base, q,
						 "addr-spec needs <> here");
			}
		u = str_span(p, q);
		*pp = q;
	}
	rc = sip_uri_parse(&na->uri, u, max_uri, errp);
	if (rc && errp)
		errp->off += (uint32_t)(u.p - base);
	return rc;
}

/*
 * Parse one name-addr or addr-spec with header params.  A lone "*"
 * (Contact wildcard) sets star and nothing else: the caller checks that
 * the header allows it.  tag must be a token; expires saturates at
 * 2^32-1; q must be a qvalue (q1000 is 1000 when absent).  A repeated
 * tag, expires or q is an error.  URIs longer than max_uri are
 * SIP_PE_LIMIT.  Returns 0 or -EINVAL with *errp; results point into s.
 */
int sip_nameaddr_parse(struct sip_nameaddr *nap, struct str s, size_t max_uri,
		       struct sip_perr *errp)
{
	const char *p, *end = s.p + s.len, *why;
	struct sip_param prm;
	bool seen_q = false, vtok;
	int rc;

	if (!nap || (!s.p && s.len))
		return sip__fail(errp, SIP_PE_SYNTAX, NULL, NULL,
				 "invalid argument");
	/* Field by field: the URI (most of the struct) is cleared by
	 * sip_uri_parse(), or here when it is not reached. */
	nap->raw = s;
	nap->display = STR_NULL;
	nap->angle = false;
	nap->params = STR_NULL;
	nap->tag = STR_NULL;
	nap->star = false;
	nap->expires = 0;
	nap->has_expires = false;
	nap->q1000 = 1000;
	p = sip__skip_lws(s.p, end);
	if (p == end || (*p == '*' && sip__skip_lws(p + 1, end) == end)) {
		sip__uri_clear(&nap->uri, STR_NULL);
		if (p == end)
			return sip__fail(errp, SIP_PE_SYNTAX, s.p, p,
					 "empty address");
		nap->star = true;
		return 0;
	}
	if ((rc = display_name(nap, &p, end, s.p, errp))) {
		sip__uri_clear(&nap->uri, STR_NULL);
		return rc;
	}
	if ((rc = addr(nap, &p, end, max_uri, s.p, errp)))
		return rc;
	while ((rc = sip__hparam_next_tok(&prm, &vtok, &p, end, s.p, errp)) >
	       0) {
		if (!nap->params.p)
			nap->params.p = prm.name.p;
		nap->params.len = (size_t)(p - nap->params.p);
		if ((why = na_param(nap, &prm, vtok, &seen_q)))
			return sip__fail(errp, SIP_PE_SYNTAX, s.p, prm.name.p,
					 why);
	}
	return rc;
}
