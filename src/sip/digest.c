/*
 * digest.c - Digest credentials and challenges: the values of
 * Authorization, Proxy-Authorization, WWW-Authenticate and
 * Proxy-Authenticate (RFC 3261 22.4 and 25.1, RFC 8760, RFC 7616 for
 * userhash).
 *
 * auth-param = token EQUAL ( token / quoted-string ), separated by COMMA,
 * LWS allowed around '=' and ','.  Quoted values are returned without
 * their quotes, escapes kept.  A parameter named twice is refused: the
 * guard and the server behind it must never read different values.
 */
#include "sip/elem_int.h"

#include <errno.h>
#include <string.h>

/* The slot of a known auth-param (any case), by length first. */
static struct str *dslot(struct sip_digest *d, struct str n)
{
	switch (n.len) {
	case 2:
		return SIP__ALPHAEQ(n, "nc") ? &d->nc : NULL;
	case 3:
		if (SIP__ALPHAEQ(n, "uri"))
			return &d->uri;
		return SIP__ALPHAEQ(n, "qop") ? &d->qop : NULL;
	case 5:
		if (SIP__ALPHAEQ(n, "realm"))
			return &d->realm;
		if (SIP__ALPHAEQ(n, "nonce"))
			return &d->nonce;
		return SIP__ALPHAEQ(n, "stale") ? &d->stale : NULL;
	case 6:
		if (SIP__ALPHAEQ(n, "cnonce"))
			return &d->cnonce;
		if (SIP__ALPHAEQ(n, "opaque"))
			return &d->opaque;
		return SIP__ALPHAEQ(n, "domain") ? &d->domain : NULL;
	case 8:
		if (SIP__ALPHAEQ(n, "username"))
			return &d->username;
		if (SIP__ALPHAEQ(n, "response"))
			return &d->response;
		return SIP__ALPHAEQ(n, "userhash") ? &d->userhash : NULL;
	case 9:
		return SIP__ALPHAEQ(n, "algorithm") ? &d->algorithm : NULL;
	default:
		return NULL;
	}
}

/*
 * One auth-param at p (no leading LWS).  On success *endp is after the
 * value.  Unknown names are checked for syntax and otherwise ignored.
 */
static int auth_param(struct sip_digest *d, const char *p, const char *end,
		      const char **endp, const char *base,
		      struct sip_perr *errp)
{
	const char *q = sip__skip_class(p, end, SIP__C_TOKEN);
	struct str name = str_span(p, q), val, *slot;
	bool quoted = false;

	if (q == p)
		return sip__fail(errp, SIP_PE_SYNTAX, base, p,
				 "auth-param name expected");
	p = sip__skip_lws(q, end);
	if (p == end || *p != '=')
		return sip__fail(errp, SIP_PE_SYNTAX, base, p,
				 "'=' expected in auth-param");
	p = sip__skip_lws(p + 1, end);
	if (p < end && *p == '"') {
		if (!(q = sip__qstring_end(p, end)))
			return sip__fail(errp, SIP_PE_SYNTAX, base, p,
					 "bad quoted auth-param value");
		val = str_span(p + 1, q - 1);
		quoted = true;
	} else {
		q = sip__skip_class(p, end, SIP__C_TOKEN);
		if (q == p)
			return sip__fail(errp, SIP_PE_SYNTAX, base, p,
					 "auth-param value expected");
		val = str_span(p, q);
	}
	if ((slot = dslot(d, name))) {
		if (slot->p)
			return sip__fail(errp, SIP_PE_DUPLICATE, base, name.p,
					 "duplicate auth-param");
		*slot = val;
		if (slot == &d->username)
			d->username_quoted = quoted;
	}
	*endp = q;
	return 0;
}

/*
 * Parse a credentials or challenge value.  The scheme is always returned;
 * for a scheme other than Digest (Basic, NTLM, ...) nothing after it is
 * parsed and 0 is returned: the caller refuses it by scheme.  Digest
 * needs at least one auth-param.  Returns 0, or -EINVAL with *errp
 * (SIP_PE_DUPLICATE for a repeated parameter).  Results point into s.
 */
int sip_digest_parse(struct sip_digest *dp, struct str s, struct sip_perr *errp)
{
	const char *p, *q, *end = s.p + s.len;
	int rc;

	if (!dp || (!s.p && s.len))
		return sip__fail(errp, SIP_PE_SYNTAX, NULL, NULL,
				 "invalid argument");
	/* Field by field: memset() compiles to the slower "rep stos". */
	dp->scheme = STR_NULL;
	dp->username = dp->realm = dp->nonce = dp->uri = STR_NULL;
	dp->response = dp->algorithm = dp->cnonce = dp->opaque = STR_NULL;
	dp->qop = dp->nc = dp->domain = dp->stale = dp->userhash = STR_NULL;
	dp->username_quoted = false;
	p = sip__skip_lws(s.p, end);
	q = sip__skip_class(p, end, SIP__C_TOKEN);
	dp->scheme = str_span(p, q);
	if (q == p)
		return sip__fail(errp, SIP_PE_SYNTAX, s.p, p,
				 "auth scheme expected");
	p = sip__skip_lws(q, end);
	if (p != end && p == q)
		return sip__fail(errp, SIP_PE_SYNTAX, s.p, p,
				 "LWS expected after auth scheme");
	if (!SIP__ALPHAEQ(dp->scheme, "digest"))
		return 0;
	if (p == end)
		return sip__fail(errp, SIP_PE_SYNTAX, s.p, p,
				 "Digest parameters expected");
	for (;;) {
		if ((rc = auth_param(dp, p, end, &p, s.p, errp)))
			return rc;
		p = sip__skip_lws(p, end);
		if (p == end)
			return 0;
		if (*p != ',')
			return sip__fail(errp, SIP_PE_SYNTAX, s.p, p,
					 "',' expected between auth-params");
		p = sip__skip_lws(p + 1, end);
	}
}
