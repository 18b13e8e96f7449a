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

#include <stdbool.h>
#include <stdint.h>

#include "sip/sip_int.h"

static inline const char *sip__skip_lws(const char *p, const char *end)
{
	while (p < end && str_is_lws(*p))
		p++;
	return p;
}

static inline const char *sip__skip_class(const char *p, const char *end,
					  unsigned cls)
{
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

/* True when s is a non-empty RFC 3261 token. */
bool sip__token_ok(struct str s);

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
bool sip__port_scan(uint16_t *portp, const char **pp, const char *end);

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

#endif
