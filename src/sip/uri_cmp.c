/*
 * uri_cmp.c - URI comparison (RFC 3261 19.1.4, RFC 3966 4) and %-escape
 * decoding, on URIs already parsed and validated by uri.c.
 */
#include "sip/elem_int.h"

#include <errno.h>
#include <string.h>

/*
 * Decode %-escapes of s into dst (no NUL added).  Returns the decoded
 * length, -EINVAL on a malformed escape, -ENOSPC when dst is too small.
 */
ssize_t sip_unescape(char *dst, size_t dstsz, struct str s)
{
	size_t i, n = 0;

	if (!dst && dstsz)
		return -EINVAL;
	for (i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c == '%') {
			int hi, lo;

			if (s.len - i < 3 ||
			    (hi = sip__hexval((unsigned char)s.p[i + 1])) < 0 ||
			    (lo = sip__hexval((unsigned char)s.p[i + 2])) < 0)
				return -EINVAL;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (n == dstsz)
			return -ENOSPC;
		dst[n++] = (char)c;
	}
	return (ssize_t)n;
}

/* ---------------------------------------------------------- comparison */

/* First parameter whose unescaped name equals n; NULL when absent. */
static bool uparam_lookup(struct str params, struct str n, struct str *vp)
{
	struct str pn, pv;

	while (sip__uparam_next(&params, &pn, &pv)) {
		if (sip__esc_eq(pn, n, true)) {
			*vp = pv;
			return true;
		}
	}
	return false;
}

static bool is_strict_param(struct str n)
{
	static const struct str names[] = {STR("user"), STR("ttl"),
					   STR("method"), STR("maddr"),
					   STR("transport")};
	unsigned i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (sip__esc_eq(n, names[i], true))
			return true;
	return false;
}

/*
 * Parameters of a checked against b: a parameter in both must match; one
 * of user/ttl/method/maddr/transport present on one side only is a
 * mismatch (RFC 3261 19.1.4).  Run both ways.
 */
static bool uparams_match(struct str a, struct str b, bool all)
{
	struct str n, v, bv;

	while (sip__uparam_next(&a, &n, &v)) {
		if (uparam_lookup(b, n, &bv)) {
			if (!sip__esc_eq(v, bv, true))
				return false;
		} else if (all || is_strict_param(n)) {
			return false;
		}
	}
	return true;
}

/* URI headers: every one must appear on both sides, order free. */
static bool headers_match(struct str a, struct str b)
{
	struct str rest = a, h, bh, brest;
	unsigned na = 0, nb = 0;

	while (str_split(&rest, '&', &h)) {
		long eq = str_chr(h, '=');
		struct str n = str_make(h.p, eq < 0 ? h.len : (size_t)eq);
		bool found = false;

		na++;
		brest = b;
		while (!found && str_split(&brest, '&', &bh)) {
			long beq = str_chr(bh, '=');
			size_t bl = beq < 0 ? bh.len : (size_t)beq;

			found = sip__esc_eq(n, str_make(bh.p, bl), true) &&
				sip__esc_eq(str_skip(h, n.len + 1),
					    str_skip(bh, bl + 1), true);
		}
		if (!found)
			return false;
	}
	rest = b;
	while (str_split(&rest, '&', &h))
		nb++;
	return na == nb;
}

static bool host_eq(const struct sip_uri *a, const struct sip_uri *b)
{
	uint8_t x[16], y[16];

	if (a->host_type != b->host_type)
		return false;
	if (a->host_type != SIP_HOST_IPV6 || a->host.len < 2 || b->host.len < 2)
		return str_caseeq(a->host, b->host);
	/* [::1] and [0:0::1] are one address. */
	return sip__ipv6_parse(x, str_make(a->host.p + 1, a->host.len - 2)) &&
	       sip__ipv6_parse(y, str_make(b->host.p + 1, b->host.len - 2)) &&
	       memcmp(x, y, 16) == 0;
}

/* tel numbers compare without visual separators (RFC 3966 4). */
static bool tel_number_eq(struct str a, struct str b)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < a.len && sip__is_visual((unsigned char)a.p[i]))
			i++;
		while (j < b.len && sip__is_visual((unsigned char)b.p[j]))
			j++;
		if (i == a.len || j == b.len)
			return i == a.len && j == b.len;
		if (sip__lower((unsigned char)a.p[i++]) !=
		    sip__lower((unsigned char)b.p[j++]))
			return false;
	}
}

/*
 * RFC 3261 19.1.4 equality of two parsed URIs: userinfo case-sensitive,
 * the rest case-insensitive, escapes decoded first; a port (even the
 * default) only equals the same explicit port; user/ttl/method/maddr/
 * transport must match when either side has them, other parameters only
 * when both do; URI headers must all match, in any order.  tel: numbers
 * without visual separators and all parameters.  Others: exact.
 */
bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	if (!a || !b || a->sch != b->sch || !str_caseeq(a->scheme, b->scheme))
		return false;
	switch (a->sch) {
	case SIP_URI_OTHER:
		return sip__esc_eq(a->user, b->user, false);
	case SIP_URI_TEL:
		return tel_number_eq(a->user, b->user) &&
		       uparams_match(a->params, b->params, true) &&
		       uparams_match(b->params, a->params, true);
	default:
		break;
	}
	return a->has_userinfo == b->has_userinfo &&
	       sip__esc_eq(a->user, b->user, false) &&
	       sip__esc_eq(a->password, b->password, false) && host_eq(a, b) &&
	       a->has_port == b->has_port && a->port == b->port &&
	       uparams_match(a->params, b->params, false) &&
	       uparams_match(b->params, a->params, false) &&
	       headers_match(a->headers, b->headers) &&
	       headers_match(b->headers, a->headers);
}
