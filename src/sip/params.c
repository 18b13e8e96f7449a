/*
 * params.c - header parameters (RFC 3261 25.1 generic-param, SEMI and
 * EQUAL with their optional LWS), quoted-strings, tokens and
 * delta-seconds: the small scanners every element parser shares.
 */
#include "sip/elem_int.h"

#include <errno.h>
#include <string.h>

/* Characters of a parameter name or unquoted value.  token covers header
 * params; param-unreserved adds what URI params and host values (IPv6
 * "[::1]", RFC 5118 bare received=2001:db8::1) need. */
#define PCHARS (SIP__C_TOKEN | SIP__C_PARAM | SIP__C_UNRESERVED)

bool sip__token_ok(struct str s)
{
	return s.len > 0 &&
	       sip__skip_class(s.p, s.p + s.len, SIP__C_TOKEN) == s.p + s.len;
}

const char *sip__qstring_end(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			return p + 1;
		if (c == '\\') {
			/* quoted-pair: any byte below 0x80 but CR and LF */
			if (++p == end)
				return NULL;
			c = (unsigned char)*p;
			if (c >= 0x80 || c == '\r' || c == '\n')
				return NULL;
		} else if (c < 0x20 && !str_is_lws((char)c)) {
			return NULL;
		} else if (c == 0x7f) {
			return NULL;
		}
	}
	return NULL;
}

bool sip__delta_seconds(uint32_t *vp, struct str s)
{
	uint64_t v = 0;
	size_t i;

	if (s.len == 0)
		return false;
	for (i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		if (v <= UINT32_MAX)
			v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	*vp = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	return true;
}

/* name [ EQUAL value ] from p (no leading LWS); *endp after it. */
static int param_body(struct sip_param *pp, const char *p, const char *end,
		      const char **endp, const char *base,
		      struct sip_perr *errp)
{
	const char *q = sip__skip_class(p, end, PCHARS);

	if (q == p)
		return sip__fail(errp, SIP_PE_SYNTAX, base, p,
				 "parameter name expected");
	pp->name = str_span(p, q);
	pp->value = STR_NULL;
	pp->has_value = false;
	p = sip__skip_lws(q, end);
	if (p < end && *p == '=') {
		p = sip__skip_lws(p + 1, end);
		if (p < end && *p == '"')
			q = sip__qstring_end(p, end);
		else
			q = sip__skip_class(p, end, PCHARS);
		if (!q || q == p)
			return sip__fail(errp, SIP_PE_SYNTAX, base, p,
					 "bad parameter value");
		pp->value = str_span(p, q);
		pp->has_value = true;
	}
	*endp = q;
	return 1;
}

int sip__hparam_next(struct sip_param *pp, const char **curp, const char *end,
		     const char *base, struct sip_perr *errp)
{
	const char *p = sip__skip_lws(*curp, end);

	if (p == end) {
		*curp = p;
		return 0;
	}
	if (*p != ';')
		return sip__fail(errp, SIP_PE_SYNTAX, base, p,
				 "';' expected before parameter");
	return param_body(pp, sip__skip_lws(p + 1, end), end, curp, base, errp);
}

/*
 * Parse a parameter list: ";a=b;c" with the leading ';' optional and LWS
 * around ';' and '=' allowed.  Quoted values keep their quotes.  An empty
 * slice gives no parameters.  More than SIP_MAX_PARAMS is SIP_PE_LIMIT.
 * Duplicates are kept (the caller decides).  Returns 0 or -EINVAL with
 * *errp; names and values point into s.
 */
int sip_params_parse(struct sip_params *pp, struct str s, struct sip_perr *errp)
{
	const char *p, *end = s.p + s.len;
	struct sip_param one;
	int rc;

	if (!pp || (!s.p && s.len))
		return sip__fail(errp, SIP_PE_SYNTAX, NULL, NULL,
				 "invalid argument");
	pp->n = 0;
	p = sip__skip_lws(s.p, end);
	if (p < end && *p != ';')
		rc = param_body(&one, p, end, &p, s.p, errp);
	else
		rc = sip__hparam_next(&one, &p, end, s.p, errp);
	while (rc > 0) {
		if (pp->n == SIP_MAX_PARAMS)
			return sip__fail(errp, SIP_PE_LIMIT, s.p, one.name.p,
					 "too many parameters");
		pp->p[pp->n++] = one;
		rc = sip__hparam_next(&one, &p, end, s.p, errp);
	}
	return rc;
}

/* Case-insensitive lookup of `name` (a C string); NULL when absent. */
const struct sip_param *sip_params_find(const struct sip_params *pp,
					const char *name)
{
	struct str n = str_cstr(name);
	unsigned i;

	if (!pp || !name)
		return NULL;
	for (i = 0; i < pp->n && i < SIP_MAX_PARAMS; i++)
		if (str_caseeq(pp->p[i].name, n))
			return &pp->p[i];
	return NULL;
}
