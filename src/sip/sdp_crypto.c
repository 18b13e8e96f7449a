/*
 * sdp_crypto.c - SDES key exchange in SDP (RFC 4568): what the media
 * layer needs beyond the syntax check of sdp_crypto_parse() (sdp_attr.c):
 *   - the SRTP crypto suites sipguard terminates (RFC 4568 6.2,
 *     RFC 6188 for AES-256, RFC 7714 14.2 for AEAD GCM) and their key
 *     and salt lengths;
 *   - one a=crypto value turned into a usable key: suite known, session
 *     parameters acceptable (RFC 4568 6.3: no unencrypted or
 *     unauthenticated SRTP, no key derivation rate), the inline key
 *     decoded from base64 (section 6.1), lifetime tolerated, MKI value
 *     and length decoded (section 6.1: the MKI field of each packet);
 *   - our own a=crypto value written from a key we generated.
 * Pure functions: no I/O, no allocation.  Decoded keys go into caller
 * buffers, which the caller wipes.
 */
#include "sip/elem_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	uint8_t key_len; /* master key || master salt */
} suites[SDP_SRTP_NSUITES] = {
	[SDP_SRTP_AES_CM_128_HMAC_SHA1_80] = {"AES_CM_128_HMAC_SHA1_80", 30},
	[SDP_SRTP_AES_CM_128_HMAC_SHA1_32] = {"AES_CM_128_HMAC_SHA1_32", 30},
	[SDP_SRTP_AES_256_CM_HMAC_SHA1_80] = {"AES_256_CM_HMAC_SHA1_80", 46},
	[SDP_SRTP_AEAD_AES_128_GCM] = {"AEAD_AES_128_GCM", 28},
	[SDP_SRTP_AEAD_AES_256_GCM] = {"AEAD_AES_256_GCM", 44},
};

int sdp_srtp_suite_id(struct str name)
{
	int i;

	for (i = 1; i < SDP_SRTP_NSUITES; i++)
		if (str_eq_cstr(name, suites[i].name))
			return i;
	return SDP_SRTP_NONE;
}

const char *sdp_srtp_suite_name(int suite)
{
	return suite > 0 && suite < SDP_SRTP_NSUITES ? suites[suite].name
						     : NULL;
}

size_t sdp_srtp_key_len(int suite)
{
	return suite > 0 && suite < SDP_SRTP_NSUITES ? suites[suite].key_len
						     : 0;
}

static int b64_val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/*
 * Decode base64 (padding optional; RFC 4648 4) into out[0..cap).
 * Returns the decoded length, or -EINVAL (bad character, padding in
 * the middle, a lone last character, non-zero trailing bits) or
 * -ENOSPC (does not fit).
 */
static int b64_decode(uint8_t *out, size_t cap, struct str s)
{
	uint32_t acc = 0;
	size_t i, n = 0, bits = 0, len = s.len;

	while (len && s.p[len - 1] == '=')
		len--;
	if (s.len - len > 2 || (s.len != len && s.len % 4) || len % 4 == 1)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		int v = b64_val((unsigned char)s.p[i]);

		if (v < 0)
			return -EINVAL;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return -ENOSPC;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* Canonical encodings only: the leftover bits must be zero. */
	if (bits && (acc & ((1u << bits) - 1)))
		return -EINVAL;
	return (int)n;
}

/* Session parameters (RFC 4568 6.3) we cannot honour: a line carrying
 * one is skipped, as an unknown suite would be. */
static bool params_ok(struct str params)
{
	static const char *const refused[] = {
		"UNENCRYPTED_SRTP",
		"UNENCRYPTED_SRTCP",
		"UNAUTHENTICATED_SRTP",
		NULL,
	};
	struct str rest = params, tok;
	unsigned i;

	while (rest.len) {
		rest = str_ltrim(rest);
		if (!str_split(&rest, ' ', &tok))
			break;
		if (!tok.len)
			continue;
		for (i = 0; refused[i]; i++)
			if (str_eq_cstr(tok, refused[i]))
				return false;
		/* A key derivation rate other than 0 needs rekeying
		 * inside the stream, which we do not do. */
		if (str_casestarts(tok, STR("KDR=")) &&
		    !str_eq_cstr(tok, "KDR=0"))
			return false;
	}
	return true;
}

/* "MKI:len" -> value and length in bytes (at most 8 here: longer MKIs
 * are legal but unseen in practice, and refused). */
static int mki_get(struct sdp_srtp_key *kp, struct str mki)
{
	struct str val = mki;
	long colon = str_chr(mki, ':');
	uint64_t v;
	uint32_t len;

	if (colon < 0)
		return -EINVAL;
	val.len = (size_t)colon;
	if (str_to_u64(&v, val, UINT64_MAX) ||
	    str_to_u32(&len, str_skip(mki, (size_t)colon + 1), 128) || !len)
		return -EINVAL;
	if (len > 8)
		return -ENOTSUP;
	if (len < 8 && v >> (len * 8))
		return -EINVAL;
	kp->mki = v;
	kp->mki_len = (uint8_t)len;
	return 0;
}

int sdp_srtp_key_get(struct sdp_srtp_key *kp, struct str value)
{
	struct sdp_crypto c;
	int n, err;

	if (!kp)
		return -EINVAL;
	memset(kp, 0, sizeof(*kp));
	if (sdp_crypto_parse(&c, value) != 0)
		return -EINVAL;
	kp->tag = c.tag;
	kp->suite = sdp_srtp_suite_id(c.suite);
	if (!kp->suite || !params_ok(c.params))
		return -ENOTSUP;
	n = b64_decode(kp->key, sizeof(kp->key), c.key);
	if (n < 0 || (size_t)n != sdp_srtp_key_len(kp->suite)) {
		sdp_srtp_key_wipe(kp);
		return -EINVAL;
	}
	kp->key_len = (uint8_t)n;
	if (c.mki.len && (err = mki_get(kp, c.mki)) != 0) {
		sdp_srtp_key_wipe(kp);
		return err;
	}
	return 0;
}

void sdp_srtp_key_wipe(struct sdp_srtp_key *kp)
{
	if (kp)
		explicit_bzero(kp, sizeof(*kp));
}

int sdp_srtp_format(char *out, size_t cap, uint32_t tag, int suite,
		    const uint8_t *key, size_t len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *name = sdp_srtp_suite_name(suite);
	size_t i, o;
	int n;

	if (!out || !name || !key || len != sdp_srtp_key_len(suite) ||
	    tag > 999999999)
		return -EINVAL;
	n = snprintf(out, cap, "crypto:%u %s inline:", (unsigned)tag, name);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	o = (size_t)n;
	if (o + (len + 2) / 3 * 4 + 1 > cap)
		return -ENOSPC;
	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)key[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)key[i + 1] << 8;
		if (i + 2 < len)
			v |= key[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < len ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	return (int)o;
}
