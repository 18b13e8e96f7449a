/*
 * cidr.c - address prefixes as text for the gate: allow-list CIDRs
 * ("10.0.0.0/8", "2001:db8::/32", RFC 4632 section 3.1 notation, RFC 4291
 * section 2.3 for IPv6) and ban keys typed by an operator ("203.0.113.9",
 * "2001:db8:1:2::/64").  IPv4-mapped IPv6 (RFC 4291 section 2.5.5.2) is
 * IPv4 here as everywhere in the guard, so "::ffff:10.0.0.0/104" is
 * 10.0.0.0/8.
 *
 * Also the allow-list matcher the gate runs when a source first shows
 * up: prefixes pre-split into host-order words and masks.
 *
 * The text comes from configuration and the control socket, not from the
 * network, but it is still parsed as hostile: bounded copies, every
 * length checked, inet_pton(3) only on a NUL-terminated copy.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "guard/gate.h"

enum {
	PREFIX_DIGITS_MAX = 3, /* "128" */
	V4_BITS = 32,
	V6_BITS = 128,
	V6_MAPPED_BITS = 96, /* ::ffff:0:0/96 */
	V6_SRC_BITS = 64,    /* a ban key is an IPv6 /64 */
};

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* The address part, without a prefix length, into a (network order). */
static int parse_ip(uint8_t a[16], uint8_t *famp, struct str s,
		    const char **whyp)
{
	char tmp[INET6_ADDRSTRLEN];

	if (s.len == 0) {
		*whyp = "empty address";
		return -EINVAL;
	}
	if (s.len >= sizeof(tmp)) {
		*whyp = "address too long";
		return -EINVAL;
	}
	/* inet_pton would stop at a NUL and accept what comes before. */
	if (memchr(s.p, '\0', s.len)) {
		*whyp = "NUL byte in address";
		return -EINVAL;
	}
	memcpy(tmp, s.p, s.len);
	tmp[s.len] = '\0';
	memset(a, 0, 16);
	if (memchr(s.p, ':', s.len)) {
		if (inet_pton(AF_INET6, tmp, a) != 1) {
			*whyp = "bad IPv6 address";
			return -EINVAL;
		}
		*famp = AF_INET6;
	} else {
		if (inet_pton(AF_INET, tmp, a) != 1) {
			*whyp = "bad IPv4 address";
			return -EINVAL;
		}
		*famp = AF_INET;
	}
	return 0;
}

/*
 * "addr" or "addr/len" into c (host bits not checked).  *has_lenp tells
 * whether a length was written.  A mapped IPv6 prefix of /96 or longer
 * becomes the IPv4 prefix it covers.
 */
static int parse_prefix(struct gate_cidr *c, struct str s, bool *has_lenp,
			const char **whyp)
{
	struct str ip = s, len = STR_NULL;
	long slash = str_chr(s, '/');
	uint32_t bits, max;
	int rc;

	memset(c, 0, sizeof(*c));
	*has_lenp = false;
	if (s.len > GATE_CIDR_TEXT_MAX) {
		*whyp = "prefix text too long";
		return -EINVAL;
	}
	if (slash >= 0) {
		ip = str_sub(s, 0, (size_t)slash);
		len = str_skip(s, (size_t)slash + 1);
		*has_lenp = true;
	}
	rc = parse_ip(c->a, &c->family, ip, whyp);
	if (rc)
		return rc;
	max = c->family == AF_INET ? V4_BITS : V6_BITS;
	bits = max;
	if (*has_lenp) {
		if (len.len == 0 || len.len > PREFIX_DIGITS_MAX) {
			*whyp = "bad prefix length";
			return -EINVAL;
		}
		if (str_to_u32(&bits, len, max) != 0) {
			*whyp = "prefix length out of range";
			return -EINVAL;
		}
	}
	if (c->family == AF_INET6 && bits >= V6_MAPPED_BITS &&
	    memcmp(c->a, v4mapped, sizeof(v4mapped)) == 0) {
		memmove(c->a, c->a + 12, 4);
		memset(c->a + 4, 0, 12);
		c->family = AF_INET;
		bits -= V6_MAPPED_BITS;
	}
	c->bits = (uint8_t)bits;
	return 0;
}

/* Mask of the first `keep` bits of a byte (keep 0..8). */
static uint8_t byte_mask(unsigned keep)
{
	return keep >= 8 ? 0xff : (uint8_t)(0xff00u >> keep);
}

/* True when x and y agree on their first bits bits. */
static bool prefix_eq(const uint8_t *x, const uint8_t *y, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(x, y, full) != 0)
		return false;
	return rest == 0 || ((x[full] ^ y[full]) & byte_mask(rest)) == 0;
}

static bool host_bits_zero(const struct gate_cidr *c)
{
	unsigned n = c->family == AF_INET ? 4 : 16, i, keep;

	for (i = 0; i < n; i++) {
		keep = c->bits >= 8 * (i + 1) ? 8
		       : c->bits > 8 * i      ? c->bits - 8 * i
					      : 0;
		if (c->a[i] & (uint8_t)~byte_mask(keep))
			return false;
	}
	return true;
}

int gate_cidr_parse(struct gate_cidr *cp, struct str s, const char **whyp)
{
	bool has_len;
	int rc = parse_prefix(cp, s, &has_len, whyp);

	if (rc)
		return rc;
	if (!host_bits_zero(cp)) {
		*whyp = "host bits set after the prefix length";
		return -EINVAL;
	}
	return 0;
}

/* Address bytes and family of a; mapped IPv6 gives IPv4.  0: neither. */
static int addr_bytes(const struct sg_addr *a, uint8_t out[16])
{
	if (a->u.sa.sa_family == AF_INET) {
		memcpy(out, &a->u.in.sin_addr, 4);
		return AF_INET;
	}
	if (a->u.sa.sa_family != AF_INET6)
		return 0;
	if (memcmp(a->u.in6.sin6_addr.s6_addr, v4mapped, 12) == 0) {
		memcpy(out, a->u.in6.sin6_addr.s6_addr + 12, 4);
		return AF_INET;
	}
	memcpy(out, a->u.in6.sin6_addr.s6_addr, 16);
	return AF_INET6;
}

bool gate_cidr_contains(const struct gate_cidr *c, const struct sg_addr *a)
{
	uint8_t b[16];

	if (addr_bytes(a, b) != c->family)
		return false;
	return prefix_eq(b, c->a, c->bits);
}

const char *gate_cidr_fmt(const struct gate_cidr *c, char *buf, size_t sz)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family, c->a, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, sz, "%s/%u", ip, (unsigned)c->bits);
	return buf;
}

int gate_src_parse(struct guard_src *sp, struct str s, const char **whyp)
{
	struct gate_cidr c;
	bool has_len;
	int rc = parse_prefix(&c, s, &has_len, whyp);

	memset(sp, 0, sizeof(*sp));
	if (rc)
		return rc;
	if (c.family == AF_INET) {
		if (c.bits != V4_BITS) {
			*whyp = "an IPv4 ban is one address (/32)";
			return -EINVAL;
		}
		sp->family = AF_INET;
		sp->len = 4;
		memcpy(sp->b, c.a, 4);
		return 0;
	}
	/*
	 * "2001:db8::7/64" plainly means the /64 that holds ::7, so host
	 * bits are ignored rather than refused.
	 */
	if (has_len && c.bits != V6_SRC_BITS) {
		*whyp = "an IPv6 ban is one /64 prefix";
		return -EINVAL;
	}
	sp->family = AF_INET6;
	sp->len = 8;
	memcpy(sp->b, c.a, 8);
	return 0;
}

/* --- allow-list matching for the gate --- */

static uint32_t mask32(unsigned bits)
{
	return bits == 0 ? 0 : bits >= 32 ? UINT32_MAX : ~(UINT32_MAX >> bits);
}

static uint64_t mask64(unsigned bits)
{
	return bits == 0 ? 0 : bits >= 64 ? UINT64_MAX : ~(UINT64_MAX >> bits);
}

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

void gate__allow_add(struct gate__allow *al, const struct gate_cidr *c)
{
	if (c->family == AF_INET) {
		struct gate__allow4 *a = &al->v4[al->n4++];
		uint32_t v;

		memcpy(&v, c->a, 4);
		a->mask = mask32(c->bits);
		a->net = be32toh(v) & a->mask;
	} else {
		struct gate__allow6 *a = &al->v6[al->n6++];

		a->bits = c->bits;
		a->mhi = mask64(c->bits);
		a->mlo = mask64(c->bits > 64 ? c->bits - 64u : 0);
		a->hi = load_be64(c->a) & a->mhi;
		a->lo = load_be64(c->a + 8) & a->mlo;
	}
}

/*
 * An IPv6 key is a /64: a prefix of /64 or shorter covers it whole, a
 * longer one inside it covers only part of it.
 */
enum gate__allow_state gate__allow_key(const struct gate__allow *al, bool v6,
				       uint64_t k)
{
	enum gate__allow_state st = GATE__ALLOW_NO;
	size_t i;

	if (!v6) {
		for (i = 0; i < al->n4; i++)
			if ((k & al->v4[i].mask) == al->v4[i].net)
				return GATE__ALLOW_YES;
		return GATE__ALLOW_NO;
	}
	for (i = 0; i < al->n6; i++) {
		const struct gate__allow6 *a = &al->v6[i];

		if (a->bits <= 64 && (k & a->mhi) == a->hi)
			return GATE__ALLOW_YES;
		if (a->bits > 64 && k == a->hi)
			st = GATE__ALLOW_PART;
	}
	return st;
}

bool gate__allow_long6(const struct gate__allow *al, uint64_t hi, uint64_t lo)
{
	size_t i;

	for (i = 0; i < al->n6; i++) {
		const struct gate__allow6 *a = &al->v6[i];

		if (a->bits > 64 && hi == a->hi && (lo & a->mlo) == a->lo)
			return true;
	}
	return false;
}
