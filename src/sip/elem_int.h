/*
 * elem_int.h - scanning helpers shared by the SIP element parsers:
 * uri.c, params.c, nameaddr.c, via.c, hparse.c and digest.c.
 * Private to src/sip/.
 *
 * Every helper works on a [p, end) range and never reads at or past end.
 * Helpers that can fail take the start of the caller's slice (`base`)
 * so that error offsets are relative to what the public parser was given.
 */
#ifndef SIPGUARD_SIP_ELEM_INT_H
#define SIPGUARD_SIP_ELEM_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sip/sip_int.h"

#ifdef __SSE2__
/* How many of the 16 bytes at p are ASCII letters or digits (16: all). */
SIP__HOT unsigned sip__alnum16(const char *p)
{
	const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	const __m128i a = _mm_sub_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)),
				       _mm_set1_epi8('a'));
	const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
	/* unsigned x <= n as min(x, n) == x */
	const __m128i ok = _mm_or_si128(
		_mm_cmpeq_epi8(_mm_min_epu8(a, _mm_set1_epi8(25)), a),
		_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
	unsigned bad = ~(unsigned)_mm_movemask_epi8(ok) & 0xffff;

	return bad ? (unsigned)__builtin_ctz(bad) : 16;
}
#endif

/* Letters and digits from p, 16 at a time while 16 bytes remain (for
 * values that are usually long: tags, branches, ids); the caller goes
 * on byte by byte from the result. */
SIP__HOT const char *sip__skip_alnum_long(const char *p, const char *end)
{
#ifdef __SSE2__
	while (end - p >= 16) {
		unsigned n = sip__alnum16(p);

		p += n;
		if (n < 16)
			break;
	}
#else
	(void)end;
#endif
	return p;
}

static inline const char *sip__skip_lws(const char *p, const char *end)
{
	while (p < end && str_is_lws(*p))
		p++;
	return p;
}

/* Skip bytes of class cls; unrolled, one bounds check per four bytes. */
static inline const char *sip__skip_class(const char *p, const char *end,
					  unsigned cls)
{
	while (end - p >= 4) {
		if (!sip__is((unsigned char)p[0], cls))
			return p;
		if (!sip__is((unsigned char)p[1], cls))
			return p + 1;
		if (!sip__is((unsigned char)p[2], cls))
			return p + 2;
		if (!sip__is((unsigned char)p[3], cls))
			return p + 3;
		p += 4;
	}
	while (p < end && sip__is((unsigned char)*p, cls))
		p++;
	return p;
}

static inline bool sip__is_alnum(unsigned char c)
{
	return sip__is(c, SIP__C_ALPHA | SIP__C_DIGIT);
}

/* Case-insensitive compare with a string literal, without strlen(). */
#define SIP__CASEEQ(s, lit) str_caseeq((s), STR(lit))

/*
 * n bytes at p equal lit ignoring ASCII case, where lit is lower-case
 * LETTERS only: then (x | 0x20) == lit holds exactly for the two cases
 * of each letter and for no other byte, so whole words compare at once.
 * With a literal and constant n this is a few loads and compares.
 */
static inline bool sip__alphaeq(const char *p, const char *lit, size_t n)
{
	uint64_t a, b;
	uint32_t c, d;
	uint16_t e, f;

	while (n >= 8) {
		memcpy(&a, p, 8);
		memcpy(&b, lit, 8);
		if ((a | 0x2020202020202020ull) != b)
			return false;
		p += 8;
		lit += 8;
		n -= 8;
	}
	if (n >= 4) {
		memcpy(&c, p, 4);
		memcpy(&d, lit, 4);
		if ((c | 0x20202020u) != d)
			return false;
		p += 4;
		lit += 4;
		n -= 4;
	}
	if (n >= 2) {
		memcpy(&e, p, 2);
		memcpy(&f, lit, 2);
		if ((uint16_t)(e | 0x2020u) != f)
			return false;
		p += 2;
		lit += 2;
		n -= 2;
	}
	return n == 0 || ((unsigned char)*p | 0x20) == (unsigned char)*lit;
}

/* s equals lit (lower-case letters only), ignoring case. */
#define SIP__ALPHAEQ(s, lit)           \
	((s).len == sizeof(lit) - 1 && \
	 sip__alphaeq((s).p, lit, sizeof(lit) - 1))

/*
 * Reset a URI to "nothing parsed", field by field: memset() of the
 * struct compiles to "rep stos", slower than these few stores.
 */
SIP__HOT void sip__uri_clear(struct sip_uri *u, struct str raw)
{
	u->raw = raw;
	u->scheme = STR_NULL;
	u->sch = SIP_URI_OTHER;
	u->user = STR_NULL;
	u->password = STR_NULL;
	u->has_userinfo = false;
	u->host = STR_NULL;
	u->host_type = SIP_HOST_NONE;
	u->port = 0;
	u->has_port = false;
	u->params = STR_NULL;
	u->headers = STR_NULL;
	u->transport = STR_NULL;
	u->user_param = STR_NULL;
	u->maddr = STR_NULL;
	u->method = STR_NULL;
	u->ttl = STR_NULL;
	u->lr = false;
}

/* True when s is a non-empty RFC 3261 token. */
SIP__HOT bool sip__token_ok(struct str s)
{
	return s.len > 0 &&
	       sip__skip_class(s.p, s.p + s.len, SIP__C_TOKEN) == s.p + s.len;
}

/*
 * p points at a '"'.  Returns the byte after the closing quote, or NULL if
 * the quoted-string is unterminated or holds a byte qdtext/quoted-pair
 * forbid (RFC 3261 25.1).
 */
const char *sip__qstring_end(const char *p, const char *end);

/*
 * host = hostname / IPv4address / IPv6reference (RFC 3261 25.1, RFC 5118,
 * RFC 5954 for IPv4 octets).  Scans from p and stops at the first byte
 * that cannot continue the host; *stopp gets that position.  An IPv6
 * reference includes its brackets.  Returns 0 or -EINVAL via errp.
 */
int sip__host_scan(struct str *hostp, enum sip_host_type *typep, const char *p,
		   const char *end, const char **stopp, const char *base,
		   struct sip_perr *errp);
SIP__HOT bool sip__is_digit(char c)
{
	return (unsigned)((unsigned char)c - '0') < 10;
}

/*
 * A dotted quad at p with octets 0..255 and no leading zeros (what
 * sip__ipv4_parse() accepts), followed by the end or a byte that cannot
 * continue a host.  Returns its end, or NULL when the host at p is
 * anything else (then the general scan decides).
 */
SIP__HOT const char *sip__ipv4_fast(const char *p, const char *end)
{
	unsigned i, v;

	for (i = 0;; i++) {
		if (p == end || !sip__is_digit(*p))
			return NULL;
		v = (unsigned)(*p++ - '0');
		if (p < end && sip__is_digit(*p)) {
			if (v == 0)
				return NULL;
			v = v * 10 + (unsigned)(*p++ - '0');
			if (p < end && sip__is_digit(*p)) {
				v = v * 10 + (unsigned)(*p++ - '0');
				if (v > 255 || (p < end && sip__is_digit(*p)))
					return NULL;
			}
		}
		if (i == 3)
			break;
		if (p == end || *p != '.')
			return NULL;
		p++;
	}
	if (p < end &&
	    (sip__is_alnum((unsigned char)*p) || *p == '-' || *p == '.'))
		return NULL;
	return p;
}

/*
 * A hostname at p: stops at the first byte that is not alnum, '-' or
 * '.', and tells whether the text scanned is certainly a valid hostname
 * (labels non-empty, no '-' at either end of a label, top label starting
 * with a letter, no trailing dot).  Anything else is left to
 * sip__host_type().
 */
SIP__HOT const char *sip__host_pass(const char *p, const char *end, bool *namep)
{
	const char *q = p, *lab = p;
	bool ok = true;

	for (;;) {
		q = sip__skip_class(q, end, SIP__C_ALPHA | SIP__C_DIGIT);
		if (q == end)
			break;
		if (*q == '-') {
			ok &= q != lab;
		} else if (*q == '.') {
			ok &= q != lab && q[-1] != '-';
			lab = q + 1;
		} else {
			break;
		}
		q++;
	}
	/* The last label: non-empty, no trailing '-', starts with a letter. */
	ok &= q != lab && q[-1] != '-' &&
	      sip__is((unsigned char)*lab, SIP__C_ALPHA);
	*namep = ok;
	return q;
}

/*
 * sip__ipv4_fast() for when 16 bytes can be read at p: no bounds checks (a
 * dotted quad and the byte after it fit in 16 bytes).
 */
SIP__HOT const char *sip__ipv4_fast16(const char *p)
{
	unsigned i, d0, d1, d2;

	for (i = 0;; i++) {
		d0 = (unsigned char)p[0] - (unsigned)'0';
		d1 = (unsigned char)p[1] - (unsigned)'0';
		if (d0 > 9)
			return NULL;
		if (d1 > 9) {
			p += 1;
		} else {
			d2 = (unsigned char)p[2] - (unsigned)'0';
			if (d0 == 0)
				return NULL;
			if (d2 > 9) {
				p += 2;
			} else {
				if (d0 * 100 + d1 * 10 + d2 > 255 ||
				    (unsigned char)p[3] - (unsigned)'0' <= 9)
					return NULL;
				p += 3;
			}
		}
		if (i == 3)
			break;
		if (*p != '.')
			return NULL;
		p++;
	}
	if (sip__is_alnum((unsigned char)*p) || *p == '-' || *p == '.')
		return NULL;
	return p;
}

/*
 * sip__host_scan() with its common cases inline: a dotted quad or a
 * plain hostname are accepted here, anything else (IPv6 references,
 * odd names, errors) goes to sip__host_scan(), which agrees on these.
 * *pp is the start, advanced past the host.
 */
SIP__HOT int sip__host_scan_fast(struct str *hostp, enum sip_host_type *typep,
				 const char **pp, const char *end,
				 const char *base, struct sip_perr *errp)
{
	const char *p = *pp, *q;
	bool name;

	if (end - p >= 16 && sip__is_digit(*p) && (q = sip__ipv4_fast16(p))) {
		*typep = SIP_HOST_IPV4;
	} else if (p < end && sip__is_digit(*p) &&
		   (q = sip__ipv4_fast(p, end))) {
		*typep = SIP_HOST_IPV4;
	} else if (p < end && sip__is((unsigned char)*p, SIP__C_ALPHA) &&
		   (q = sip__host_pass(p, end, &name)) && name) {
		*typep = SIP_HOST_NAME;
	} else {
		return sip__host_scan(hostp, typep, p, end, pp, base, errp);
	}
	*hostp = str_span(p, q);
	*pp = q;
	return 0;
}

/* The whole of s is a host (as above); returns its type or NONE. */
enum sip_host_type sip__host_type(struct str s);
/* Dotted quad with octets 0..255 and no leading zeros. */
bool sip__ipv4_parse(uint8_t out[4], struct str s);
/* RFC 4291 text form without brackets, optional dotted-quad tail. */
bool sip__ipv6_parse(uint8_t out[16], struct str s);

/*
 * port = 1*DIGIT, 0..65535.  *pp at the first digit; advanced past the
 * digits.  Returns false on no digit or overflow.
 */
SIP__HOT bool sip__port_scan(uint16_t *portp, const char **pp, const char *end)
{
	const char *p = *pp;
	uint32_t v, d;

	if (p == end || (v = (unsigned char)*p - (unsigned)'0') > 9)
		return false;
	while (++p < end && (d = (unsigned char)*p - (unsigned)'0') <= 9) {
		v = v * 10 + d;
		if (v > 65535)
			return false;
	}
	*portp = (uint16_t)v;
	*pp = p;
	return true;
}

/* delta-seconds: 1*DIGIT, saturating at UINT32_MAX (RFC 3261 20.19). */
bool sip__delta_seconds(uint32_t *vp, struct str s);

/*
 * Header parameter cursor (SEMI generic-param, RFC 3261 25.1).  *curp
 * points at optional LWS then ';'.  Returns 1 and fills *pp with the next
 * parameter, 0 at end of input, or -EINVAL via errp.  The value is a token
 * (plus the URI param characters, so host values like [::1] fit) or a
 * quoted-string kept with its quotes.
 */
int sip__hparam_next(struct sip_param *pp, const char **curp, const char *end,
		     const char *base, struct sip_perr *errp);

/* Characters of a parameter name or unquoted value.  token covers header
 * params; param-unreserved adds what URI params and host values (IPv6
 * "[::1]", RFC 5118 bare received=2001:db8::1) need. */
#define SIP__PCHARS (SIP__C_TOKEN | SIP__C_PARAM | SIP__C_UNRESERVED)

/*
 * name [ EQUAL value ] from p (no leading LWS); *endp after it.  An
 * unquoted value is scanned as token characters first, then as the
 * wider set: the value is a token exactly when the second scan adds
 * nothing (token characters are a subset of SIP__PCHARS), and *vtokp
 * says so without a second pass.  Returns 1 or -EINVAL.
 */
SIP__HOT int sip__param_body(struct sip_param *pp, bool *vtokp, const char *p,
			     const char *end, const char **endp,
			     const char *base, struct sip_perr *errp)
{
	const char *q = sip__skip_class(p, end, SIP__PCHARS), *t;

	/* -EINVAL spelled out: the compiler then knows rc > 0 means the
	 * parameter was filled in. */
	if (q == p) {
		sip__fail(errp, SIP_PE_SYNTAX, base, p,
			  "parameter name expected");
		return -EINVAL;
	}
	pp->name = str_span(p, q);
	pp->value = STR_NULL;
	pp->has_value = false;
	*vtokp = false;
	p = q;
	if (p < end && str_is_lws(*p))
		p = sip__skip_lws(p, end);
	if (p < end && *p == '=') {
		p = sip__skip_lws(p + 1, end);
		if (p < end && *p == '"') {
			q = sip__qstring_end(p, end);
		} else {
			t = sip__skip_alnum_long(p, end);
			t = sip__skip_class(t, end, SIP__C_TOKEN);
			q = sip__skip_class(t, end, SIP__PCHARS);
			*vtokp = t == q && q != p;
		}
		if (!q || q == p) {
			sip__fail(errp, SIP_PE_SYNTAX, base, p,
				  "bad parameter value");
			return -EINVAL;
		}
		pp->value = str_span(p, q);
		pp->has_value = true;
	}
	*endp = q;
	return 1;
}

/* sip__hparam_next(), also telling whether the value is a non-empty
 * token (found during the scan, so callers need not scan it again). */
SIP__HOT int sip__hparam_next_tok(struct sip_param *pp, bool *vtokp,
				  const char **curp, const char *end,
				  const char *base, struct sip_perr *errp)
{
	const char *p = *curp;

	if (p < end && str_is_lws(*p))
		p = sip__skip_lws(p, end);
	if (p == end) {
		*curp = p;
		return 0;
	}
	if (*p != ';') {
		sip__fail(errp, SIP_PE_SYNTAX, base, p,
			  "';' expected before parameter");
		return -EINVAL;
	}
	p++;
	if (p < end && str_is_lws(*p))
		p = sip__skip_lws(p, end);
	return sip__param_body(pp, vtokp, p, end, curp, base, errp);
}

/* --- shared by uri.c and uri_cmp.c --- */

/* Value of a hex digit, or -1. */
SIP__HOT int sip__hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* ASCII lower case. */
SIP__HOT unsigned char sip__lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* tel: visual separators (RFC 3966 3). */
SIP__HOT bool sip__is_visual(unsigned char c)
{
	return c == '-' || c == '.' || c == '(' || c == ')';
}

/* Escaped and unescaped forms are equal (RFC 3261 19.1.4). */
bool sip__esc_eq(struct str a, struct str b, bool icase);
/* Walk a validated uri-parameters slice (no leading ';'); false at end. */
bool sip__uparam_next(struct str *rest, struct str *np, struct str *vp);

#endif
