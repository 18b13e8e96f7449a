/*
 * uri.c - URI parsing: sip/sips (RFC 3261 19.1, 25.1), tel (RFC 3966),
 * other schemes kept opaque (RFC 3986 scheme syntax), and the host
 * grammar shared with Via (IPv4 per RFC 5954, IPv6 references per
 * RFC 5118).  Comparison and unescaping are in uri_cmp.c.
 *
 * Zero-copy: every field of struct sip_uri is a slice into the input.
 * One left-to-right pass, except that the userinfo '@' is found by a
 * forward look-ahead over userinfo characters first.
 */
#include "sip/elem_int.h"

#include <errno.h>
#include <string.h>

/*
 * Scan bytes of class cls or valid %HH escapes.  Stops at the first other
 * byte; a stop on '%' therefore means a malformed escape.
 */
static const char *scan_esc(const char *p, const char *end, unsigned cls)
{
	while (p < end) {
		unsigned char c = (unsigned char)*p;

		if (sip__is(c, cls)) {
			p++;
		} else if (c == '%' && end - p >= 3 &&
			   sip__hexval((unsigned char)p[1]) >= 0 &&
			   sip__hexval((unsigned char)p[2]) >= 0) {
			p += 3;
		} else {
			break;
		}
	}
	return p;
}

/* Next byte of an escaped string, decoded; false at the end. */
static bool esc_getc(struct str *s, unsigned char *cp)
{
	int hi, lo;

	if (s->len == 0)
		return false;
	*cp = (unsigned char)s->p[0];
	if (*cp == '%' && s->len >= 3 &&
	    (hi = sip__hexval((unsigned char)s->p[1])) >= 0 &&
	    (lo = sip__hexval((unsigned char)s->p[2])) >= 0) {
		*cp = (unsigned char)(hi << 4 | lo);
		*s = str_skip(*s, 3);
	} else {
		*s = str_skip(*s, 1);
	}
	return true;
}

/* Escaped and unescaped forms are equal (RFC 3261 19.1.4). */
bool sip__esc_eq(struct str a, struct str b, bool icase)
{
	unsigned char ca, cb;
	bool ma, mb;

	/* Fast path: nothing escaped on either side. */
	if ((!a.len || !memchr(a.p, '%', a.len)) &&
	    (!b.len || !memchr(b.p, '%', b.len)))
		return icase ? str_caseeq(a, b) : str_eq(a, b);
	for (;;) {
		ma = esc_getc(&a, &ca);
		mb = esc_getc(&b, &cb);
		if (!ma || !mb)
			return ma == mb;
		if (icase ? sip__lower(ca) != sip__lower(cb) : ca != cb)
			return false;
	}
}

/* ------------------------------------------------------------- hosts */

bool sip__ipv4_parse(uint8_t out[4], struct str s)
{
	const char *p = s.p, *end = s.p + s.len;
	unsigned i, v, d;

	/* "0.0.0.0" to "255.255.255.255" */
	if (s.len < 7 || s.len > 15)
		return false;
	for (i = 0; i < 4; i++) {
		if (i > 0) {
			if (p == end || *p != '.')
				return false;
			p++;
		}
		if (p == end || (d = (unsigned char)*p - (unsigned)'0') > 9)
			return false;
		v = d;
		p++;
		if (p < end && (d = (unsigned char)*p - (unsigned)'0') <= 9) {
			/* Leading zeros are refused: inet_aton() reads them as
			 * octal, and two readers must never disagree on an
			 * address. */
			if (v == 0)
				return false;
			v = v * 10 + d;
			p++;
			if (p < end &&
			    (d = (unsigned char)*p - (unsigned)'0') <= 9) {
				v = v * 10 + d;
				p++;
				if (v > 255)
					return false;
			}
		}
		out[i] = (uint8_t)v;
	}
	return p == end;
}

/* One 1*4HEXDIG group; returns its end or NULL. */
static const char *v6_group(uint16_t *gp, const char *p, const char *end)
{
	unsigned v = 0, n = 0;
	int h;

	while (p < end && n < 5 && (h = sip__hexval((unsigned char)*p)) >= 0) {
		v = v << 4 | (unsigned)h;
		n++;
		p++;
	}
	if (n == 0 || n > 4)
		return NULL;
	*gp = (uint16_t)v;
	return p;
}

/* Does a dotted quad start at p (digits up to a '.')? */
static bool v6_at_v4(const char *p, const char *end)
{
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p < end && *p == '.';
}

bool sip__ipv6_parse(uint8_t out[16], struct str s)
{
	const char *p = s.p, *end = s.p + s.len;
	uint16_t g[8];
	int ng = 0, dc = -1, i;

	if (s.len == 0)
		return false;
	if (end - p >= 2 && p[0] == ':' && p[1] == ':') {
		dc = 0;
		p += 2;
	}
	while (p < end) {
		if (v6_at_v4(p, end)) {
			uint8_t v4[4];

			if (ng > 6 || !sip__ipv4_parse(v4, str_span(p, end)))
				return false;
			g[ng++] = (uint16_t)(v4[0] << 8 | v4[1]);
			g[ng++] = (uint16_t)(v4[2] << 8 | v4[3]);
			p = end;
			break;
		}
		if (ng == 8 || !(p = v6_group(&g[ng], p, end)))
			return false;
		ng++;
		if (p == end)
			break;
		if (*p++ != ':' || p == end)
			return false;
		if (*p == ':') {
			/* A second "::", or ":::" (RFC 5118 4.9). */
			if (dc >= 0)
				return false;
			dc = ng;
			if (++p < end && *p == ':')
				return false;
		}
	}
	if (dc < 0 ? ng != 8 : ng > 7)
		return false;
	memset(out, 0, 16);
	for (i = 0; i < ng; i++) {
		int at = (dc >= 0 && i >= dc) ? i + (8 - ng) : i;

		out[2 * at] = (uint8_t)(g[i] >> 8);
		out[2 * at + 1] = (uint8_t)g[i];
	}
	return true;
}

/* hostname = *( domainlabel "." ) toplabel [ "." ] */
static bool hostname_ok(struct str h)
{
	size_t i, lab = 0, top = 0, n = h.len;

	if (n && h.p[n - 1] == '.')
		n--;
	if (n == 0)
		return false;
	for (i = 0; i <= n; i++) {
		if (i == n || h.p[i] == '.') {
			if (i == lab || h.p[i - 1] == '-')
				return false;
			top = lab;
			lab = i + 1;
		} else if (h.p[i] == '-') {
			if (i == lab)
				return false;
		} else if (!sip__is_alnum((unsigned char)h.p[i])) {
			return false;
		}
	}
	return sip__is((unsigned char)h.p[top], SIP__C_ALPHA);
}

enum sip_host_type sip__host_type(struct str s)
{
	uint8_t a[16];

	if (s.len == 0)
		return SIP_HOST_NONE;
	if (s.len >= 2 && s.p[0] == '[' && s.p[s.len - 1] == ']')
		return sip__ipv6_parse(a, str_make(s.p + 1, s.len - 2))
			       ? SIP_HOST_IPV6
			       : SIP_HOST_NONE;
	if (sip__ipv4_parse(a, s))
		return SIP_HOST_IPV4;
	return hostname_ok(s) ? SIP_HOST_NAME : SIP_HOST_NONE;
}

int sip__host_scan(struct str *hostp, enum sip_host_type *typep, const char *p,
		   const char *end, const char **stopp, const char *base,
		   struct sip_perr *errp)
{
	const char *q = p;
	bool name = false;

	if (q < end && *q == '[') {
		q++;
		while (q < end && (sip__hexval((unsigned char)*q) >= 0 ||
				   *q == ':' || *q == '.'))
			q++;
		if (q == end || *q != ']')
			return sip__fail(errp, SIP_PE_SYNTAX, base, q,
					 "unterminated IPv6 reference");
		q++;
	} else if (q < end && sip__is_digit(*q) &&
		   (q = sip__ipv4_fast(p, end))) {
		*hostp = str_span(p, q);
		*stopp = q;
		*typep = SIP_HOST_IPV4;
		return 0;
	} else {
		q = sip__host_pass(p, end, &name);
	}
	*hostp = str_span(p, q);
	*stopp = q;
	if (q == p)
		return sip__fail(errp, SIP_PE_SYNTAX, base, p, "host expected");
	*typep = name ? SIP_HOST_NAME : sip__host_type(*hostp);
	if (*typep == SIP_HOST_NONE)
		return sip__fail(errp, SIP_PE_SYNTAX, base, p, "invalid host");
	return 0;
}

/* ------------------------------------------------------- components */

/* hnv-unreserved / unreserved (RFC 3261 25.1 header names and values). */
static bool is_hnv(unsigned char c)
{
	return sip__is(c, SIP__C_UNRESERVED) || c == '[' || c == ']' ||
	       c == '/' || c == '?' || c == ':' || c == '+' || c == '$';
}

static const char *scan_hnv(const char *p, const char *end)
{
	while (p < end) {
		if (is_hnv((unsigned char)*p))
			p++;
		else if (*p == '%' && scan_esc(p, end, 0) != p)
			p += 3;
		else
			break;
	}
	return p;
}

/* userinfo in [p, at): user [":" password] */
static int parse_userinfo(struct sip_uri *u, const char *p, const char *at,
			  struct sip_perr *errp)
{
	const char *base = u->raw.p;
	const char *q = scan_esc(p, at, SIP__C_USER | SIP__C_UNRESERVED);

	u->has_userinfo = true;
	u->user = str_span(p, q);
	if (q == p)
		return sip__fail(errp, SIP_PE_SYNTAX, base, p, "empty user");
	if (q < at && *q == ':') {
		p = q + 1;
		q = scan_esc(p, at, SIP__C_PASSWORD | SIP__C_UNRESERVED);
		u->password = str_span(p, q);
	}
	if (q != at)
		return sip__fail(errp, SIP_PE_SYNTAX, base, q,
				 *q == '%' ? "bad %-escape in userinfo"
					   : "bad character in userinfo");
	return 0;
}

static bool ttl_ok(struct str v)
{
	uint32_t t;

	return v.len <= 3 && str_to_u32(&t, v, 255) == 0;
}

enum uparam_id {
	UP_OTHER = 0,
	UP_LR,
	UP_TRANSPORT,
	UP_USER,
	UP_METHOD,
	UP_MADDR,
	UP_TTL,
};

/* The well-known uri-parameter an unescaped name is (any case). */
SIP__HOT enum uparam_id uparam_id(const char *p, size_t n)
{
	switch (n) {
	case 2:
		return sip__alphaeq(p, "lr", 2) ? UP_LR : UP_OTHER;
	case 3:
		return sip__alphaeq(p, "ttl", 3) ? UP_TTL : UP_OTHER;
	case 4:
		return sip__alphaeq(p, "user", 4) ? UP_USER : UP_OTHER;
	case 5:
		return sip__alphaeq(p, "maddr", 5) ? UP_MADDR : UP_OTHER;
	case 6:
		return sip__alphaeq(p, "method", 6) ? UP_METHOD : UP_OTHER;
	case 9:
		return sip__alphaeq(p, "transport", 9) ? UP_TRANSPORT
						       : UP_OTHER;
	default:
		return UP_OTHER;
	}
}

/* One scanned parameter name; key is what dup_name() compares first. */
/* The unescaped first byte of a scanned name (escapes in it are valid). */
static unsigned char first_byte(struct str n)
{
	if (n.p[0] == '%')
		return (unsigned char)(sip__hexval((unsigned char)n.p[1]) << 4 |
				       sip__hexval((unsigned char)n.p[2]));
	return (unsigned char)n.p[0];
}

/* Which well-known parameter a name with escapes is, decoded first
 * (";m%61ddr=" is maddr: RFC 3261 19.1.4 compares unescaped). */
static enum uparam_id escaped_id(struct str n, size_t len)
{
	char buf[9];
	unsigned char ch;
	size_t i;

	if (len > sizeof(buf))
		return UP_OTHER;
	for (i = 0; esc_getc(&n, &ch); i++)
		buf[i] = (char)ch;
	return uparam_id(buf, len);
}

/* Check and record a well-known uri-parameter; NULL or why it is bad. */
static const char *known_param(struct sip_uri *u, enum uparam_id id,
			       struct str v, bool has_v)
{
	struct str *slot;

	switch (id) {
	case UP_OTHER:
		return NULL;
	case UP_LR:
		u->lr = true;
		return NULL;
	case UP_TRANSPORT:
		slot = &u->transport;
		break;
	case UP_USER:
		slot = &u->user_param;
		break;
	case UP_METHOD:
		slot = &u->method;
		break;
	case UP_MADDR:
		slot = &u->maddr;
		break;
	default:
		slot = &u->ttl;
		break;
	}
	if (!has_v)
		return "URI parameter needs a value";
	if (id == UP_MADDR) {
		if (sip__host_type(v) == SIP_HOST_NONE)
			return "bad maddr";
	} else if (id == UP_TTL ? !ttl_ok(v) : !sip__token_ok(v)) {
		return "bad URI parameter value";
	}
	*slot = v;
	return NULL;
}

/* pname / pvalue characters and %HH escapes; *npctp counts escapes. */
SIP__HOT const char *scan_pchars(const char *p, const char *end,
				 unsigned *npctp)
{
	for (;;) {
		p = sip__skip_class(p, end, SIP__C_PARAM | SIP__C_UNRESERVED);
		if (p < end && *p == '%' && end - p >= 3 &&
		    sip__hexval((unsigned char)p[1]) >= 0 &&
		    sip__hexval((unsigned char)p[2]) >= 0) {
			p += 3;
			(*npctp)++;
			continue;
		}
		return p;
	}
}

/* The names seen so far, for the duplicate check. */
struct unames {
	uint32_t key[SIP_MAX_PARAMS]; /* unescaped length << 9 | escaped
				       * << 8 | lower-cased first byte */
	struct str s[SIP_MAX_PARAMS];
	unsigned n;
};

/*
 * A parameter named twice (after unescaping, so ";maddr=a;m%61ddr=b"
 * counts) is refused: two readers could pick different copies, and
 * RFC 3261 19.1.4 comparison has no answer for it.  Names are compared
 * in full only when their keys agree (same unescaped length and first
 * byte; bit 8 only says whether the name holds escapes).
 */
SIP__HOT bool dup_name(const struct unames *nm, struct str name, uint32_t key)
{
	unsigned i;

	for (i = 0; i < nm->n; i++) {
		if ((nm->key[i] ^ key) & ~0x100u)
			continue;
		if (!((nm->key[i] | key) & 0x100u)
			    ? sip__caseeq(nm->s[i], name)
			    : sip__esc_eq(nm->s[i], name, true))
			return true;
	}
	return false;
}

/* A bit of a 64-bit filter for a name key; bit 8 of the key (escaped or
 * not) is left out, as dup_name() ignores it. */
static uint64_t key_bit(uint32_t key)
{
	return 1ull << (((key >> 9) * 7 + (key & 0xff)) & 63);
}

/* *( ";" pname [ "=" pvalue ] ), p at the first ';'. */
static int parse_uparams(struct sip_uri *u, const char **pp, const char *end,
			 struct sip_perr *errp)
{
	const unsigned cls = SIP__C_PARAM | SIP__C_UNRESERVED;
	const char *base = u->raw.p, *p = *pp, *start = p + 1, *ns, *why;
	struct unames nm;
	uint64_t seen = 0;

	nm.n = 0;
	while (p < end && *p == ';') {
		struct str name, val = STR_NULL;
		unsigned npct = 0, vpct = 0;
		enum uparam_id id;
		bool has_v = false;
		uint32_t key;

		if (nm.n == SIP_MAX_PARAMS)
			return sip__fail(errp, SIP_PE_LIMIT, base, p,
					 "too many URI parameters");
		ns = ++p;
		p = sip__skip_class(p, end, cls);
		if (p < end && *p == '%')
			p = scan_pchars(p, end, &npct);
		if (p == ns)
			return sip__fail(errp, SIP_PE_SYNTAX, base, p,
					 "empty URI parameter");
		name = str_span(ns, p);
		if (p < end && *p == '=') {
			const char *vs = ++p;

			p = sip__skip_class(sip__skip_alnum_long(p, end), end,
					    cls);
			if (p < end && *p == '%')
				p = scan_pchars(p, end, &vpct);
			if (p == vs)
				return sip__fail(errp, SIP_PE_SYNTAX, base, p,
						 "empty URI parameter value");
			val = str_span(vs, p);
			has_v = true;
		}
		if (!npct)
			key = (uint32_t)name.len << 9 |
			      sip__lc((unsigned char)*ns);
		else
			key = (uint32_t)(name.len - 2 * npct) << 9 | 0x100u |
			      sip__lc(first_byte(name));
		/* Most names differ in length or first byte from every
		 * earlier one: the filter spares the list walk. */
		if ((seen & key_bit(key)) && dup_name(&nm, name, key))
			return sip__fail(errp, SIP_PE_SYNTAX, base, name.p,
					 "duplicate URI parameter");
		seen |= key_bit(key);
		nm.key[nm.n] = key;
		nm.s[nm.n++] = name;
		if (u->sch == SIP_URI_TEL)
			continue;
		id = npct ? escaped_id(name, name.len - 2 * npct)
			  : uparam_id(name.p, name.len);
		if (id != UP_OTHER && (why = known_param(u, id, val, has_v)))
			return sip__fail(errp, SIP_PE_SYNTAX, base, name.p,
					 why);
	}
	if (p < end && *p == '%')
		return sip__fail(errp, SIP_PE_SYNTAX, base, p,
				 "bad %-escape in URI parameter");
	u->params = str_span(start, p);
	*pp = p;
	return 0;
}

/* "?" hname "=" hvalue *( "&" hname "=" hvalue ), p at '?'. */
static int parse_headers(struct sip_uri *u, const char **pp, const char *end,
			 struct sip_perr *errp)
{
	const char *base = u->raw.p, *p = *pp + 1, *start = p, *q;

	for (;;) {
		q = scan_hnv(p, end);
		if (q == p || q == end || *q != '=')
			return sip__fail(errp, SIP_PE_SYNTAX, base, q,
					 "bad URI header");
		p = scan_hnv(q + 1, end);
		if (p == end || *p != '&')
			break;
		p++;
	}
	u->headers = str_span(start, p);
	*pp = p;
	return 0;
}

/* The host of a SIP URI: the common forms inline, the rest through
 * sip__host_scan(), which gives the same answer for them. */
SIP__HOT int host(struct sip_uri *u, const char **pp, const char *end,
		  struct sip_perr *errp)
{
	return sip__host_scan_fast(&u->host, &u->host_type, pp, end, u->raw.p,
				   errp);
}

/* SIP-URI / SIPS-URI after "sip:" (RFC 3261 25.1). */
SIP__HOT int parse_sip(struct sip_uri *u, const char *p, const char *end,
		       struct sip_perr *errp)
{
	const unsigned ucls = SIP__C_USER | SIP__C_PASSWORD | SIP__C_UNRESERVED;
	const char *base = u->raw.p, *q;
	bool plain = true;
	int err;

	/*
	 * Userinfo is what a look-ahead over user characters, ':' and '%'
	 * finds before an '@'.  A scan over unreserved characters (which
	 * are user characters, and all a host is made of) settles the
	 * common cases at once: it stops at the '@' of a plain user, or at
	 * a byte that would stop the look-ahead too (no userinfo).  Only
	 * otherwise is the rest searched for an '@' and looked through.
	 */
	q = sip__skip_class(p, end, SIP__C_UNRESERVED);
	if (q < end && *q != '@' &&
	    (sip__is((unsigned char)*q, ucls) || *q == ':' || *q == '%')) {
		q = end;
		if (sip__find_byte(base, p, end, '@')) {
			for (q = p; q < end; q++) {
				if (sip__is((unsigned char)*q, ucls))
					continue;
				if (*q != ':' && *q != '%')
					break;
				plain = false;
			}
		}
	}
	if (q < end && *q == '@') {
		/* Without ':' or '%' the user part is valid as scanned (the
		 * password characters are user characters too). */
		if (plain && q > p) {
			u->has_userinfo = true;
			u->user = str_span(p, q);
		} else if ((err = parse_userinfo(u, p, q, errp))) {
			return err;
		}
		p = q + 1;
	}
	if ((err = host(u, &p, end, errp)))
		return err;
	if (p < end && *p == ':') {
		p++;
		if (!sip__port_scan(&u->port, &p, end))
			return sip__fail(errp, SIP_PE_SYNTAX, base, p,
					 "bad port");
		u->has_port = true;
	}
	if (p < end && *p == ';' && (err = parse_uparams(u, &p, end, errp)))
		return err;
	if (p < end && *p == '?' && (err = parse_headers(u, &p, end, errp)))
		return err;
	if (p != end)
		return sip__fail(errp, SIP_PE_SYNTAX, base, p,
				 "unexpected character in URI");
	return 0;
}

/*
 * Walk an already validated uri-parameters slice (no leading ';').
 * Returns false at the end.
 */
bool sip__uparam_next(struct str *rest, struct str *np, struct str *vp)
{
	struct str one;
	long eq;

	if (!str_split(rest, ';', &one))
		return false;
	eq = str_chr(one, '=');
	*np = eq < 0 ? one : str_make(one.p, (size_t)eq);
	*vp = eq < 0 ? STR_NULL : str_skip(one, (size_t)eq + 1);
	return true;
}

/* First parameter called name (case-insensitive, unescaped names only). */
static bool uparam_find(struct str params, const char *name, struct str *vp)
{
	struct str n, v;

	while (sip__uparam_next(&params, &n, &v)) {
		if (str_caseeq_cstr(n, name)) {
			if (vp)
				*vp = v;
			return true;
		}
	}
	return false;
}

/* tel: global-number / local-number (RFC 3966 3). */
static int parse_tel(struct sip_uri *u, const char *p, const char *end,
		     struct sip_perr *errp)
{
	const char *base = u->raw.p, *q = p;
	bool global = q < end && *q == '+', digit = false;
	int err;

	if (global)
		q++;
	for (; q < end; q++) {
		unsigned char c = (unsigned char)*q;

		if (c >= '0' && c <= '9')
			digit = true;
		else if (!global &&
			 (sip__hexval(c) >= 0 || c == '*' || c == '#'))
			digit = true;
		else if (!sip__is_visual(c))
			break;
	}
	u->user = str_span(p, q);
	if (!digit)
		return sip__fail(errp, SIP_PE_SYNTAX, base, q,
				 "tel: number expected");
	if (q < end && *q == ';' && (err = parse_uparams(u, &q, end, errp)))
		return err;
	if (q != end)
		return sip__fail(errp, SIP_PE_SYNTAX, base, q,
				 "unexpected character in tel: URI");
	/* A local number means nothing without its context (RFC 3966 5.1.5). */
	if (!global && !uparam_find(u->params, "phone-context", NULL))
		return sip__fail(errp, SIP_PE_SYNTAX, base, p,
				 "local tel: number without phone-context");
	return 0;
}

/* RFC 3986 reserved / unreserved / pct-encoded, for opaque schemes. */
static int parse_opaque(struct sip_uri *u, const char *p, const char *end,
			struct sip_perr *errp)
{
	static const char extra[] = ";/?:@&=+$,[]#!'()*";
	const char *q = p;

	while (q < end) {
		unsigned char c = (unsigned char)*q;

		if (sip__is(c, SIP__C_UNRESERVED) || (c && strchr(extra, c)))
			q++;
		else if (c == '%' && scan_esc(q, end, 0) != q)
			q += 3;
		else
			break;
	}
	if (q == p || q != end)
		return sip__fail(errp, SIP_PE_SYNTAX, u->raw.p, q,
				 "bad character in URI");
	u->user = str_span(p, q);
	return 0;
}

/*
 * Parse one URI (no <>, no white space).  max_len 0 or above SIP_MAX_URI
 * means SIP_MAX_URI; a longer URI is SIP_PE_LIMIT.  sip/sips: userinfo
 * with valid escapes, typed host, port 0..65535, uri-parameters (no name
 * twice, well-known ones located and checked) and headers.  tel: a global
 * number, or a local one with phone-context.  Other schemes: RFC 3986
 * characters only, the part after ':' in user.  Returns 0 or -EINVAL with
 * *errp (offset relative to s); the result points into s.
 */
static int parse_scheme(struct sip_uri *urip, const char *p, const char *end,
			struct sip_perr *errp);

int sip_uri_parse(struct sip_uri *urip, struct str s, size_t max_len,
		  struct sip_perr *errp)
{
	const char *p = s.p, *end = s.p + s.len;

	if (!urip || (!s.p && s.len))
		return sip__fail(errp, SIP_PE_SYNTAX, NULL, NULL,
				 "invalid argument");
	sip__uri_clear(urip, s);
	if (max_len == 0 || max_len > SIP_MAX_URI)
		max_len = SIP_MAX_URI;
	if (s.len > max_len)
		return sip__fail(errp, SIP_PE_LIMIT, s.p, s.p + max_len,
				 "URI too long");
	/* Nearly every URI here starts "sip:" (any case). */
	if (s.len >= 4 && (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' &&
	    (p[2] | 0x20) == 'p' && p[3] == ':') {
		urip->scheme = str_make(p, 3);
		urip->sch = SIP_URI_SIP;
		return parse_sip(urip, p + 4, end, errp);
	}
	return parse_scheme(urip, p, end, errp);
}

/* The general case of sip_uri_parse(): any scheme. */
static int parse_scheme(struct sip_uri *urip, const char *p, const char *end,
			struct sip_perr *errp)
{
	struct str s = urip->raw;
	const char *q;

	if (p == end || !sip__is((unsigned char)*p, SIP__C_ALPHA))
		return sip__fail(errp, SIP_PE_SYNTAX, s.p, p,
				 "URI scheme expected");
	for (q = p + 1; q < end && (sip__is_alnum((unsigned char)*q) ||
				    *q == '+' || *q == '-' || *q == '.');
	     q++)
		;
	if (q == end || *q != ':')
		return sip__fail(errp, SIP_PE_SYNTAX, s.p, q, "bad URI scheme");
	urip->scheme = str_span(p, q);
	p = q + 1;
	if (SIP__ALPHAEQ(urip->scheme, "sip"))
		urip->sch = SIP_URI_SIP;
	else if (SIP__ALPHAEQ(urip->scheme, "sips"))
		urip->sch = SIP_URI_SIPS;
	else if (SIP__ALPHAEQ(urip->scheme, "tel"))
		urip->sch = SIP_URI_TEL;
	switch (urip->sch) {
	case SIP_URI_SIP:
	case SIP_URI_SIPS:
		return parse_sip(urip, p, end, errp);
	case SIP_URI_TEL:
		return parse_tel(urip, p, end, errp);
	default:
		return parse_opaque(urip, p, end, errp);
	}
}
