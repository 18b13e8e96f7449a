/*
 * sdp_dtls.c - the SDP attributes of DTLS-SRTP, decoded strictly:
 *   a=fingerprint  RFC 8122 5 (hash-func SP fingerprint, 2UHEX *(":" 2UHEX))
 *   a=setup        RFC 4145 4, RFC 5763 5 (who is the DTLS client)
 *   a=tls-id       RFC 8842 5 (20*255 tls-id-char)
 * and the offer/answer role rules that go with a=setup.
 *
 * Pure functions over slices: no allocation, no I/O.  A fingerprint is
 * the only thing that authenticates a DTLS peer (there is no CA), so a
 * malformed one fails the whole section instead of being skipped: a
 * sloppy parser here would be an authentication bypass or a way to make
 * every call fail.
 */
#include "sip/sdp_dtls.h"

#include <errno.h>
#include <string.h>

static const struct {
	const char *name;
	size_t len;
} hashes[] = {
	[SDP_DTLS_HASH_NONE] = {"", 0},
	[SDP_DTLS_HASH_SHA1] = {"sha-1", 20},
	[SDP_DTLS_HASH_SHA224] = {"sha-224", 28},
	[SDP_DTLS_HASH_SHA256] = {"sha-256", 32},
	[SDP_DTLS_HASH_SHA384] = {"sha-384", 48},
	[SDP_DTLS_HASH_SHA512] = {"sha-512", 64},
};
enum { NHASHES = sizeof(hashes) / sizeof(hashes[0]) };

static const char *const setup_names[] = {
	[SDP_SETUP_NONE] = "",
	[SDP_SETUP_ACTIVE] = "active",
	[SDP_SETUP_PASSIVE] = "passive",
	[SDP_SETUP_ACTPASS] = "actpass",
	[SDP_SETUP_HOLDCONN] = "holdconn",
};
enum { NSETUP = sizeof(setup_names) / sizeof(setup_names[0]) };

const char *sdp_dtls_strerror(int err)
{
	static const char *const msg[] = {
		[SDP_DTLS_OK] = "ok",
		[SDP_DTLS_E_SYNTAX] = "a=fingerprint is not <hash> <digest>",
		[SDP_DTLS_E_HASH] = "a=fingerprint hash unknown or refused",
		[SDP_DTLS_E_HEX] = "a=fingerprint digest is not XX:XX hex",
		[SDP_DTLS_E_LENGTH] = "a=fingerprint digest length wrong",
		[SDP_DTLS_E_TOO_MANY] = "too many a=fingerprint lines",
		[SDP_DTLS_E_MISSING] = "no usable a=fingerprint",
		[SDP_DTLS_E_SETUP] = "a=setup value unknown",
		[SDP_DTLS_E_ROLE] = "a=setup pair leaves no DTLS client",
		[SDP_DTLS_E_TLS_ID] = "a=tls-id malformed",
		[SDP_DTLS_E_DUPLICATE] = "a=tls-id repeated",
		[SDP_DTLS_E_SPACE] = "output buffer too small",
		[SDP_DTLS_E_ARG] = "bad argument",
	};
	unsigned e = err < 0 ? (unsigned)-err : (unsigned)err;

	return e < sizeof(msg) / sizeof(msg[0]) ? msg[e] : "unknown error";
}

const char *sdp_dtls_hash_name(enum sdp_dtls_hash h)
{
	return (unsigned)h < NHASHES ? hashes[h].name : "";
}

size_t sdp_dtls_hash_len(enum sdp_dtls_hash h)
{
	return (unsigned)h < NHASHES ? hashes[h].len : 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_sp(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 3261 token characters (RFC 8122 hash-func is a token). */
static bool is_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("-.!%*_+`'~", c));
}

/* Decode "XX:XX:...": exactly 3n-1 characters for n bytes.  Any length
 * is checked (a hash we skip may be longer than ours); only digests that
 * fit md[] are stored, longer ones give -SDP_DTLS_E_LENGTH. */
static int hex_pairs(struct sdp_dtls_fp *fp, struct str hex)
{
	size_t i, n;

	if (hex.len % 3 != 2)
		return -SDP_DTLS_E_HEX;
	n = (hex.len + 1) / 3;
	for (i = 0; i < n; i++) {
		int hi = hexval(hex.p[3 * i]), lo = hexval(hex.p[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i + 1 < n && hex.p[3 * i + 2] != ':'))
			return -SDP_DTLS_E_HEX;
		if (i < SDP_DTLS_MD_MAX)
			fp->md[i] = (uint8_t)(hi << 4 | lo);
	}
	if (n > SDP_DTLS_MD_MAX)
		return -SDP_DTLS_E_LENGTH;
	fp->len = (uint8_t)n;
	return 0;
}

int sdp_dtls_fp_parse(struct sdp_dtls_fp *fpp, struct str value)
{
	struct str name, hex;
	size_t i = 0, j;
	unsigned h;
	int err;

	if (!fpp || (!value.p && value.len))
		return -SDP_DTLS_E_ARG;
	memset(fpp, 0, sizeof(*fpp));
	while (i < value.len && is_token_char(value.p[i]))
		i++;
	name = str_make(value.p, i);
	j = i;
	while (j < value.len && is_sp(value.p[j]))
		j++;
	/* One hash name, some blanks, then the digest up to the end. */
	if (!name.len || j == i || j == value.len)
		return -SDP_DTLS_E_SYNTAX;
	hex = str_skip(value, j);
	for (i = 0; i < hex.len; i++)
		if (is_sp(hex.p[i]))
			return -SDP_DTLS_E_SYNTAX;
	for (h = 1; h < NHASHES; h++)
		if (str_caseeq_cstr(name, hashes[h].name))
			break;
	err = hex_pairs(fpp, hex);
	if (h == NHASHES) {
		memset(fpp, 0, sizeof(*fpp));
		return err == -SDP_DTLS_E_HEX ? err : -SDP_DTLS_E_HASH;
	}
	if (!err && fpp->len != hashes[h].len)
		err = -SDP_DTLS_E_LENGTH;
	if (err) {
		memset(fpp, 0, sizeof(*fpp));
		return err;
	}
	fpp->hash = (enum sdp_dtls_hash)h;
	return 0;
}

int sdp_dtls_fp_format(char *buf, size_t size, const struct sdp_dtls_fp *fp)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *name;
	size_t n, i, k;

	if (!buf || !fp || fp->hash == SDP_DTLS_HASH_NONE ||
	    (unsigned)fp->hash >= NHASHES || fp->len != hashes[fp->hash].len)
		return -SDP_DTLS_E_ARG;
	name = hashes[fp->hash].name;
	n = strlen(name);
	if (size < n + 1 + 3 * (size_t)fp->len)
		return -SDP_DTLS_E_SPACE;
	memcpy(buf, name, n);
	buf[n] = ' ';
	k = n + 1;
	for (i = 0; i < fp->len; i++) {
		buf[k++] = hex[fp->md[i] >> 4];
		buf[k++] = hex[fp->md[i] & 15];
		buf[k++] = i + 1 < fp->len ? ':' : '\0';
	}
	return (int)(k - 1);
}

bool sdp_dtls_fp_eq(const struct sdp_dtls_fp *a, const struct sdp_dtls_fp *b)
{
	unsigned diff = 0;
	size_t i;

	if (!a || !b || a->hash != b->hash || a->len != b->len ||
	    a->len > SDP_DTLS_MD_MAX)
		return false;
	for (i = 0; i < a->len; i++)
		diff |= (unsigned)(a->md[i] ^ b->md[i]);
	return diff == 0;
}

int sdp_dtls_setup_parse(enum sdp_setup *sp, struct str value)
{
	unsigned i;

	if (!sp)
		return -SDP_DTLS_E_ARG;
	*sp = SDP_SETUP_NONE;
	for (i = 1; i < NSETUP; i++)
		if (str_eq_cstr(value, setup_names[i])) {
			*sp = (enum sdp_setup)i;
			return 0;
		}
	return -SDP_DTLS_E_SETUP;
}

const char *sdp_dtls_setup_name(enum sdp_setup s)
{
	return (unsigned)s < NSETUP ? setup_names[s] : "";
}

static bool is_tls_id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '-' ||
	       c == '_';
}

int sdp_dtls_tls_id_parse(struct str *idp, struct str value)
{
	size_t i;

	if (!idp)
		return -SDP_DTLS_E_ARG;
	*idp = str_make(NULL, 0);
	if (value.len < SDP_DTLS_TLS_ID_MIN || value.len > SDP_DTLS_TLS_ID_MAX)
		return -SDP_DTLS_E_TLS_ID;
	for (i = 0; i < value.len; i++)
		if (!is_tls_id_char(value.p[i]))
			return -SDP_DTLS_E_TLS_ID;
	*idp = value;
	return 0;
}

int sdp_dtls_tls_id_make(char *buf, size_t size, const uint8_t *rnd, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	if (!buf || !rnd || 2 * n < SDP_DTLS_TLS_ID_MIN ||
	    2 * n > SDP_DTLS_TLS_ID_MAX)
		return -SDP_DTLS_E_ARG;
	if (size < 2 * n + 1)
		return -SDP_DTLS_E_SPACE;
	for (i = 0; i < n; i++) {
		buf[2 * i] = hex[rnd[i] >> 4];
		buf[2 * i + 1] = hex[rnd[i] & 15];
	}
	buf[2 * n] = '\0';
	return (int)(2 * n);
}

/* Add the fingerprints of attributes [first, first+n) to *dp. */
static int collect_fps(struct sdp_dtls *dp, const struct sdp_sess *s,
		       unsigned first, unsigned n)
{
	unsigned k;

	for (k = first; k < first + n && k < s->nattr; k++) {
		struct sdp_dtls_fp fp;
		int err;

		if (!str_eq_cstr(s->attr[k].name, "fingerprint"))
			continue;
		err = sdp_dtls_fp_parse(&fp, s->attr[k].value);
		if (err == -SDP_DTLS_E_HASH) {
			dp->nskipped++;
			continue;
		}
		if (err)
			return err;
		if (dp->nfp == SDP_DTLS_MAX_FP)
			return -SDP_DTLS_E_TOO_MANY;
		dp->fp[dp->nfp++] = fp;
	}
	return 0;
}

static bool has_fp_line(const struct sdp_sess *s, unsigned first, unsigned n)
{
	unsigned k;

	for (k = first; k < first + n && k < s->nattr; k++)
		if (str_eq_cstr(s->attr[k].name, "fingerprint"))
			return true;
	return false;
}

static int find_tls_id(struct sdp_dtls *dp, const struct sdp_sess *s,
		       const struct sdp_media *m)
{
	unsigned k;
	bool seen = false;

	for (k = m->attr_first; k < m->attr_first + m->nattr && k < s->nattr;
	     k++) {
		int err;

		if (!str_eq_cstr(s->attr[k].name, "tls-id"))
			continue;
		if (seen)
			return -SDP_DTLS_E_DUPLICATE;
		seen = true;
		err = sdp_dtls_tls_id_parse(&dp->tls_id, s->attr[k].value);
		if (err)
			return err;
	}
	return 0;
}

int sdp_dtls_get(struct sdp_dtls *dp, const struct sdp_sess *s, unsigned i)
{
	const struct sdp_media *m;
	int err;

	if (!dp || !s || i >= s->nmedia)
		return -SDP_DTLS_E_ARG;
	memset(dp, 0, sizeof(*dp));
	m = &s->media[i];
	if (has_fp_line(s, m->attr_first, m->nattr))
		err = collect_fps(dp, s, m->attr_first, m->nattr);
	else
		err = collect_fps(dp, s, 0, s->nsess_attr);
	if (!err)
		err = find_tls_id(dp, s, m);
	if (!err && dp->nfp == 0)
		err = -SDP_DTLS_E_MISSING;
	dp->setup = m->setup != SDP_SETUP_NONE ? m->setup : s->setup;
	if (err) {
		memset(dp, 0, sizeof(*dp));
		return err;
	}
	return 0;
}

int sdp_dtls_setup_answer(enum sdp_setup *answerp, enum sdp_setup offered)
{
	if (!answerp)
		return -SDP_DTLS_E_ARG;
	switch (offered) {
	case SDP_SETUP_ACTPASS:
	case SDP_SETUP_PASSIVE:
		*answerp = SDP_SETUP_ACTIVE;
		return 0;
	case SDP_SETUP_NONE: /* RFC 4145 4: an offer defaults to active */
	case SDP_SETUP_ACTIVE:
		*answerp = SDP_SETUP_PASSIVE;
		return 0;
	case SDP_SETUP_HOLDCONN:
		*answerp = SDP_SETUP_HOLDCONN;
		return 0;
	}
	return -SDP_DTLS_E_SETUP;
}

int sdp_dtls_role(bool *clientp, enum sdp_setup local, enum sdp_setup remote,
		  bool remote_is_offer)
{
	if (!clientp)
		return -SDP_DTLS_E_ARG;
	*clientp = false;
	if ((unsigned)local >= NSETUP || (unsigned)remote >= NSETUP)
		return -SDP_DTLS_E_SETUP;
	if (remote == SDP_SETUP_NONE)
		remote = remote_is_offer ? SDP_SETUP_ACTIVE : SDP_SETUP_PASSIVE;
	if (local == SDP_SETUP_ACTIVE &&
	    (remote == SDP_SETUP_PASSIVE || remote == SDP_SETUP_ACTPASS)) {
		*clientp = true;
		return 0;
	}
	if (local == SDP_SETUP_PASSIVE &&
	    (remote == SDP_SETUP_ACTIVE || remote == SDP_SETUP_ACTPASS))
		return 0;
	if (local == SDP_SETUP_ACTPASS && remote == SDP_SETUP_ACTIVE)
		return 0;
	if (local == SDP_SETUP_ACTPASS && remote == SDP_SETUP_PASSIVE) {
		*clientp = true;
		return 0;
	}
	return -SDP_DTLS_E_ROLE;
}
