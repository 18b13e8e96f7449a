/*
 * sdp_attr.c - lookups in a parsed SDP and the parsers of single
 * attribute values, run on demand by the media layer:
 *   a=rtpmap       RFC 8866 6.6
 *   a=crypto       RFC 4568 9.1 (SDES: key||salt, lifetime, MKI)
 *   a=fingerprint  RFC 8122 5 (was RFC 4572)
 *   a=candidate    RFC 8839 5.1 (ICE)
 * Each parser takes the attribute value (after "name:"), checks it
 * completely, and fills a struct of slices into that value.  Key
 * material is only located, never decoded or copied.
 */
#include "sip/elem_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

int sdp_ip_af(struct str addr)
{
	char buf[64];
	unsigned char bin[16];

	/* Most addresses are dotted quads: sip__ipv4_parse() accepts
	 * exactly what inet_pton(AF_INET) does (four octets 0..255, no
	 * leading zeros), without the copy. */
	if (addr.len && addr.len <= 15 && sip__ipv4_parse(bin, addr))
		return AF_INET;
	/* An embedded NUL would make inet_pton see a shorter address. */
	if (!addr.len || memchr(addr.p, '\0', addr.len) ||
	    str_copy_cstr(buf, sizeof(buf), addr))
		return 0;
	if (inet_pton(AF_INET, buf, bin) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, buf, bin) == 1)
		return AF_INET6;
	return 0;
}

const struct sdp_conn *sdp_media_conn(const struct sdp_sess *s, unsigned i)
{
	if (!s || i >= s->nmedia)
		return NULL;
	if (s->media[i].conn.present)
		return &s->media[i].conn;
	return s->conn.present ? &s->conn : NULL;
}

const struct sdp_attr *sdp_attr_find(const struct sdp_sess *s, int i,
				     const char *name)
{
	unsigned first, n, k;

	if (!s || !name)
		return NULL;
	if (i < 0) {
		first = 0;
		n = s->nsess_attr;
	} else if ((unsigned)i < s->nmedia) {
		first = s->media[i].attr_first;
		n = s->media[i].nattr;
	} else {
		return NULL;
	}
	for (k = 0; k < n && first + k < s->nattr; k++)
		if (str_eq_cstr(s->attr[first + k].name, name))
			return &s->attr[first + k];
	return NULL;
}

static bool is_sp(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Next SP-separated field of *rest into *fp; false when none is left. */
static bool field(struct str *rest, struct str *fp)
{
	size_t i = 0, j;

	while (i < rest->len && is_sp(rest->p[i]))
		i++;
	j = i;
	while (j < rest->len && !is_sp(rest->p[j]))
		j++;
	*fp = str_make(rest->p + i, j - i);
	*rest = str_skip(*rest, j);
	return j > i;
}

/* Split at the first sep: *headp before it, *rest after it. */
static bool cut(struct str *rest, char sep, struct str *headp)
{
	long i = str_chr(*rest, sep);

	if (i < 0)
		return false;
	*headp = str_make(rest->p, (size_t)i);
	*rest = str_skip(*rest, (size_t)i + 1);
	return true;
}

static bool all_of(struct str s, unsigned cls, const char *extra)
{
	size_t i;

	for (i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.p[i];

		if (!sip__is(ch, cls) && !(ch && strchr(extra, ch)))
			return false;
	}
	return s.len > 0;
}

static bool is_token(struct str s)
{
	return all_of(s, SIP__C_TOKEN, "");
}

static struct str trim_sp(struct str s)
{
	while (s.len && is_sp(s.p[0]))
		s = str_skip(s, 1);
	while (s.len && is_sp(s.p[s.len - 1]))
		s.len--;
	return s;
}

int sdp_rtpmap_parse(struct sdp_rtpmap *rp, struct str value)
{
	struct str rest = trim_sp(value), pt, enc, clk;
	uint16_t v;

	if (!rp)
		return -EINVAL;
	memset(rp, 0, sizeof(*rp));
	if (!field(&rest, &pt) || str_to_u16(&v, pt, 127))
		return -EINVAL;
	rest = trim_sp(rest);
	if (!cut(&rest, '/', &enc) || !is_token(enc))
		return -EINVAL;
	rp->pt = (uint8_t)v;
	rp->encoding = enc;
	rp->channels = 1;
	if (!cut(&rest, '/', &clk))
		clk = rest;
	else if (str_to_u16(&rp->channels, rest, 65535) || !rp->channels)
		return -EINVAL;
	if (str_to_u32(&rp->clock, clk, UINT32_MAX) || !rp->clock)
		return -EINVAL;
	return 0;
}

/* Decoded length of a base64 string (padding optional), or -1. */
static long b64_len(struct str s)
{
	size_t i, pad = 0, n;

	for (i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.p[i];

		if (ch == '=')
			pad++;
		else if (pad || !(sip__is(ch, SIP__C_ALPHA | SIP__C_DIGIT) ||
				  ch == '+' || ch == '/'))
			return -1;
	}
	n = s.len - pad;
	if (pad > 2 || (pad && s.len % 4) || n % 4 == 1 || !n)
		return -1;
	return (long)(n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0));
}

/* key||salt length of the SRTP suites we know (RFC 4568 6.2, RFC 6188,
 * RFC 7714); -1 for others, whose keys are only checked as base64. */
static long suite_key_len(struct str suite)
{
	static const struct {
		const char *name;
		long len;
	} suites[] = {
		{"AES_CM_128_HMAC_SHA1_80", 30},
		{"AES_CM_128_HMAC_SHA1_32", 30},
		{"F8_128_HMAC_SHA1_80", 30},
		{"AES_192_CM_HMAC_SHA1_80", 38},
		{"AES_192_CM_HMAC_SHA1_32", 38},
		{"AES_256_CM_HMAC_SHA1_80", 46},
		{"AES_256_CM_HMAC_SHA1_32", 46},
		{"AEAD_AES_128_GCM", 28},
		{"AEAD_AES_256_GCM", 44},
	};
	size_t i;

	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (str_eq_cstr(suite, suites[i].name))
			return suites[i].len;
	return -1;
}

/* "MKI:len": mki-value 1*DIGIT, mki-length 1..128 (RFC 4568 9.1). */
static bool mki_ok(struct str s)
{
	struct str val;
	uint16_t len;

	return cut(&s, ':', &val) && all_of(val, SIP__C_DIGIT, "") &&
	       !str_to_u16(&len, s, 128) && len > 0;
}

/* lifetime = ["2^"] 1*DIGIT */
static bool lifetime_ok(struct str s)
{
	if (s.len > 2 && s.p[0] == '2' && s.p[1] == '^')
		s = str_skip(s, 2);
	return all_of(s, SIP__C_DIGIT, "");
}

/* One "inline:<key||salt>[|lifetime][|MKI:len]" key parameter. */
static int crypto_key(struct sdp_crypto *cp, struct str kp, long want)
{
	struct str key, part;
	long n;

	if (!str_casestarts(kp, STR("inline:")))
		return -EINVAL;
	kp = str_skip(kp, 7);
	if (!cut(&kp, '|', &key)) {
		key = kp;
		kp = STR_NULL;
	}
	n = b64_len(key);
	if (n < 0 || (want >= 0 && n != want))
		return -EINVAL;
	cp->key = key;
	if (!kp.p)
		return 0;
	if (!cut(&kp, '|', &part)) {
		part = kp;
		kp = STR_NULL;
	}
	if (str_chr(part, ':') < 0) {
		if (!lifetime_ok(part))
			return -EINVAL;
		cp->lifetime = part;
		if (!kp.p)
			return 0;
		part = kp;
		kp = STR_NULL;
	}
	/* The MKI comes last: nothing may follow it. */
	if (kp.p || !mki_ok(part))
		return -EINVAL;
	cp->mki = part;
	return 0;
}

int sdp_crypto_parse(struct sdp_crypto *cp, struct str value)
{
	struct str rest = value, tag, kps, kp;
	struct sdp_crypto other;
	bool first = true;
	long want;

	if (!cp)
		return -EINVAL;
	memset(cp, 0, sizeof(*cp));
	if (!field(&rest, &tag) || tag.len > 9 ||
	    str_to_u32(&cp->tag, tag, 999999999))
		return -EINVAL;
	if (!field(&rest, &cp->suite) ||
	    !all_of(cp->suite, SIP__C_ALPHA | SIP__C_DIGIT, "_"))
		return -EINVAL;
	want = suite_key_len(cp->suite);
	if (!field(&rest, &kps) || kps.p[kps.len - 1] == ';')
		return -EINVAL;
	cp->params = trim_sp(rest);
	/* Several keys (with MKIs) may follow; the first is reported, all
	 * must be valid. */
	while (str_split(&kps, ';', &kp)) {
		if (crypto_key(first ? cp : &other, kp, want))
			return -EINVAL;
		first = false;
	}
	return 0;
}

int sdp_fingerprint_parse(struct sdp_fingerprint *fp, struct str value)
{
	static const struct {
		const char *name;
		size_t len;
	} hashes[] = {
		{"sha-1", 20},   {"sha-224", 28}, {"sha-256", 32},
		{"sha-384", 48}, {"sha-512", 64}, {"md5", 16},
		{"md2", 16},
	};
	struct str rest = value, extra;
	size_t i;

	if (!fp)
		return -EINVAL;
	memset(fp, 0, sizeof(*fp));
	if (!field(&rest, &fp->hash) || !is_token(fp->hash) ||
	    !field(&rest, &fp->value) || field(&rest, &extra))
		return -EINVAL;
	/* 2HEX *(":" 2HEX); lower case too, though RFC 8122 says UHEX. */
	if (fp->value.len % 3 != 2)
		return -EINVAL;
	for (i = 0; i < fp->value.len; i++) {
		unsigned char ch = (unsigned char)fp->value.p[i];

		if (i % 3 == 2 ? ch != ':' : !sip__is(ch, SIP__C_HEX))
			return -EINVAL;
	}
	for (i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (str_caseeq_cstr(fp->hash, hashes[i].name))
			return (fp->value.len + 1) / 3 == hashes[i].len
				       ? 0
				       : -EINVAL;
	return 0;
}

/* connection-address of a candidate: an IP literal or a name (FQDN,
 * or an mDNS "<uuid>.local" name from a browser). */
static bool cand_addr_ok(struct str s)
{
	return sdp_ip_af(s) || all_of(s, SIP__C_ALPHA | SIP__C_DIGIT, "-._");
}

/* The extension pairs after "typ <type>": raddr/rport located. */
static int cand_ext(struct sdp_candidate *cp, struct str rest)
{
	struct str name, val;

	while (field(&rest, &name)) {
		if (!field(&rest, &val) || !is_token(name))
			return -EINVAL;
		if (str_eq_cstr(name, "raddr") && !cp->raddr.len &&
		    !cp->ext.len) {
			if (!cand_addr_ok(val))
				return -EINVAL;
			cp->raddr = val;
		} else if (str_eq_cstr(name, "rport") && !cp->has_rport &&
			   !cp->ext.len) {
			if (str_to_u16(&cp->rport, val, 65535))
				return -EINVAL;
			cp->has_rport = true;
		} else if (str_eq_cstr(name, "raddr") ||
			   str_eq_cstr(name, "rport")) {
			return -EINVAL; /* twice, or after other pairs */
		} else if (!cp->ext.len) {
			cp->ext = trim_sp(str_make(
				name.p, (size_t)(rest.p + rest.len - name.p)));
		}
	}
	return 0;
}

int sdp_candidate_parse(struct sdp_candidate *cp, struct str value)
{
	struct str rest = value, comp, prio, port, typ;

	if (!cp)
		return -EINVAL;
	memset(cp, 0, sizeof(*cp));
	/* foundation = 1*32 ice-char (ALPHA / DIGIT / "+" / "/") */
	if (!field(&rest, &cp->foundation) || cp->foundation.len > 32 ||
	    !all_of(cp->foundation, SIP__C_ALPHA | SIP__C_DIGIT, "+/"))
		return -EINVAL;
	if (!field(&rest, &comp) || comp.len > 3 ||
	    str_to_u32(&cp->component, comp, 256) || !cp->component)
		return -EINVAL;
	if (!field(&rest, &cp->transport) || !is_token(cp->transport))
		return -EINVAL;
	if (!field(&rest, &prio) || prio.len > 10 ||
	    str_to_u32(&cp->priority, prio, UINT32_MAX))
		return -EINVAL;
	if (!field(&rest, &cp->addr) || !cand_addr_ok(cp->addr))
		return -EINVAL;
	if (!field(&rest, &port) || str_to_u16(&cp->port, port, 65535))
		return -EINVAL;
	if (!field(&rest, &typ) || !str_eq_cstr(typ, "typ") ||
	    !field(&rest, &cp->type) || !is_token(cp->type))
		return -EINVAL;
	return cand_ext(cp, rest);
}
