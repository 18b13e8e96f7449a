/*
 * params.c - header parameters (RFC 3261 25.1 generic-param, SEMI and
 * EQUAL with their optional LWS), quoted-strings, tokens and
 * delta-seconds: the small scanners every element parser shares.
 */
#include "sip/elem_int.h"

#include <errno.h>
#include <string.h>

/* qdtext bytes that need no second look: HTAB, SP..~ except '"' and
 * '\\', and every byte >= 0x80 (UTF8-NONASCII, not validated). */
static const uint32_t qplain[8] = {
	0x00000200, 0xfffffffb, 0xefffffff, 0x7fffffff,
	0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
};

static bool is_qplain(unsigned char c)
{
	return (qplain[c >> 5] >> (c & 31)) & 1;
}

const char *sip__qstring_end(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (is_qplain(c))
			continue;
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

int sip__hparam_next(struct sip_param *pp, const char **curp, const char *end,
		     const char *base, struct sip_perr *errp)
{
	bool tok;

	return sip__hparam_next_tok(pp, &tok, curp, end, base, errp);
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
	bool tok;
	int rc;

	if (!pp || (!s.p && s.len))
		return sip__fail(errp, SIP_PE_SYNTAX, NULL, NULL,
				 "invalid argument");
	pp->n = 0;
	p = sip__skip_lws(s.p, end);
	if (p < end && *p != ';')
		rc = sip__param_body(&one, &tok, p, end, &p, s.p, errp);
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
