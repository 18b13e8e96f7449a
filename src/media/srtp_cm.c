/*
 * srtp_cm.c - the SRTP/SRTCP transform of the AES counter-mode suites
 * with HMAC-SHA1 (RFC 3711 sections 3.3, 3.4, 4.1.1, 4.2, 4.3.1;
 * AES_CM_128_HMAC_SHA1_80/_32 of RFC 4568 6.2, AES_256_CM_HMAC_SHA1_80
 * of RFC 6188), on OpenSSL's AES-CTR and SHA-1 (AES-NI, SHA-NI).
 *
 * Why not libsrtp2 for these: Debian's libsrtp2 is built on NSS, which
 * creates and destroys a PKCS#11 context, with allocations and locks,
 * for every packet (about 2.3 us per packet here, and worse with many
 * contexts alive).  These suites carry almost all SDES traffic and the
 * relay's budget per packet is a few microseconds, so srtp.c runs them
 * here and keeps libsrtp2 for the AEAD GCM suites and MKI keys.  The
 * unit tests check this transform against libsrtp2 both ways, and
 * bench-srtp against rtpengine's own implementation.
 *
 * One context is one direction of one leg (rx: verify and decrypt, tx:
 * encrypt and authenticate), with per-SSRC state (RFC 3711 3.2.1: ROC,
 * highest sequence number, replay list; SRTCP index) for a few SSRCs,
 * the least recently used one replaced.  On rx, a new SSRC gets a slot
 * only once a packet of it authenticated.  No allocation per packet:
 * the cipher context is re-keyed with the packet's IV only, and the
 * HMAC's inner and outer SHA-1 states are precomputed and copied.
 * Session keys are derived once (KDR 0; a non-zero KDR is refused by
 * sdp_crypto.c) and wiped with the context.
 */
#define OPENSSL_API_COMPAT 0x10100000L /* SHA1_* on plain structs */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "media/srtp.h"
#include "sip/sip.h"

enum {
	CM_SSRCS = 4,     /* SSRCs tracked per direction and leg */
	CM_SALT = 14,     /* 112-bit master and session salt */
	CM_AUTH_KEY = 20, /* HMAC-SHA1 session key */
	CM_TAG_RTCP = 10, /* SRTCP tag: 80 bits for all three suites */
	CM_WINDOW = 128,  /* replay window, packets */
	CM_E_FLAG = 0x80000000u,
};

struct cm_keys {
	EVP_CIPHER_CTX *ctr; /* keyed with the session key */
	SHA_CTX ipad, opad;  /* HMAC state after the padded key */
	uint8_t salt[CM_SALT];
};

struct cm_ssrc {
	uint32_t ssrc;
	bool used;
	bool have_seq;
	uint16_t s_l;                 /* highest sequence number */
	uint32_t roc;                 /* rollover counter */
	uint64_t win[CM_WINDOW / 64]; /* bit k: highest index - k seen */
	uint32_t rtcp_hi;             /* highest SRTCP index (rx) / next */
	bool have_rtcp;
	uint64_t rtcp_win[CM_WINDOW / 64];
	uint64_t last; /* use stamp, for replacement */
};

struct media_srtp_cm {
	bool rx;
	unsigned tag_len; /* SRTP tag: 10 or 4 */
	struct cm_keys rtp, rtcp;
	struct cm_ssrc ss[CM_SSRCS];
	uint64_t stamp;
};

/* ------------------------------------------------- key derivation */

static const EVP_CIPHER *ctr_cipher(size_t key_len)
{
	return key_len == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr();
}

/* RFC 3711 4.3.1 with key_derivation_rate 0: x = label XOR'd into the
 * salt's 8th byte; the key stream of AES-CM(master key, x * 2^16). */
static int derive(uint8_t *out, size_t n, const uint8_t *mkey, size_t mlen,
		  const uint8_t *msalt, uint8_t label)
{
	uint8_t iv[16] = {0}, zero[64] = {0};
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len, ok;

	memcpy(iv, msalt, CM_SALT);
	iv[7] ^= label;
	ok = c && n <= sizeof(zero) &&
	     EVP_EncryptInit_ex(c, ctr_cipher(mlen), NULL, mkey, iv) &&
	     EVP_EncryptUpdate(c, out, &len, zero, (int)n) && len == (int)n;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -EIO;
}

static void hmac_pads(struct cm_keys *k, const uint8_t *key)
{
	uint8_t pad[64];
	unsigned i;

	for (i = 0; i < 64; i++)
		pad[i] = (uint8_t)((i < CM_AUTH_KEY ? key[i] : 0) ^ 0x36);
	SHA1_Init(&k->ipad);
	SHA1_Update(&k->ipad, pad, 64);
	for (i = 0; i < 64; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	SHA1_Init(&k->opad);
	SHA1_Update(&k->opad, pad, 64);
	OPENSSL_cleanse(pad, sizeof(pad));
}

/* Session keys for RTP (labels 0-2) or RTCP (3-5). */
static int keys_make(struct cm_keys *k, const uint8_t *mkey, size_t mlen,
		     const uint8_t *msalt, uint8_t label0)
{
	uint8_t enc[32], auth[CM_AUTH_KEY];
	int err;

	err = derive(enc, mlen, mkey, mlen, msalt, label0);
	if (!err)
		err = derive(auth, sizeof(auth), mkey, mlen, msalt,
			     (uint8_t)(label0 + 1));
	if (!err)
		err = derive(k->salt, CM_SALT, mkey, mlen, msalt,
			     (uint8_t)(label0 + 2));
	if (!err) {
		k->ctr = EVP_CIPHER_CTX_new();
		if (!k->ctr || !EVP_EncryptInit_ex(k->ctr, ctr_cipher(mlen),
						   NULL, enc, NULL))
			err = -EIO;
	}
	if (!err)
		hmac_pads(k, auth);
	OPENSSL_cleanse(enc, sizeof(enc));
	OPENSSL_cleanse(auth, sizeof(auth));
	return err;
}

bool media__srtp_cm_suite(int suite)
{
	return suite == SDP_SRTP_AES_CM_128_HMAC_SHA1_80 ||
	       suite == SDP_SRTP_AES_CM_128_HMAC_SHA1_32 ||
	       suite == SDP_SRTP_AES_256_CM_HMAC_SHA1_80;
}

int media__srtp_cm_new(struct media_srtp_cm **cp, int suite, const uint8_t *key,
		       size_t len, bool rx)
{
	size_t mlen = suite == SDP_SRTP_AES_256_CM_HMAC_SHA1_80 ? 32 : 16;
	struct media_srtp_cm *c;
	int err;

	*cp = NULL;
	if (!media__srtp_cm_suite(suite) || len != mlen + CM_SALT)
		return -EINVAL;
	/* calloc, not mem_*: the relay thread frees it. */
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->rx = rx;
	c->tag_len = suite == SDP_SRTP_AES_CM_128_HMAC_SHA1_32 ? 4 : 10;
	err = keys_make(&c->rtp, key, mlen, key + mlen, 0);
	if (!err)
		err = keys_make(&c->rtcp, key, mlen, key + mlen, 3);
	if (err) {
		media__srtp_cm_free(c);
		return err;
	}
	*cp = c;
	return 0;
}

void media__srtp_cm_free(struct media_srtp_cm *c)
{
	if (!c)
		return;
	EVP_CIPHER_CTX_free(c->rtp.ctr); /* cleanses the key schedule */
	EVP_CIPHER_CTX_free(c->rtcp.ctr);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

/* ------------------------------------------------------- transform */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* AES-CM (RFC 3711 4.1.1) of p[0..n) in place: IV = salt ^ SSRC << 64
 * ^ index << 16 (index: 48-bit SRTP or 31-bit SRTCP). */
static int ctr(struct cm_keys *k, uint32_t ssrc, uint64_t index, uint8_t *p,
	       size_t n)
{
	uint8_t iv[16];
	int len, i;

	memcpy(iv, k->salt, CM_SALT);
	iv[14] = iv[15] = 0;
	for (i = 0; i < 4; i++)
		iv[4 + i] ^= (uint8_t)(ssrc >> (24 - 8 * i));
	for (i = 0; i < 6; i++)
		iv[8 + i] ^= (uint8_t)(index >> (40 - 8 * i));
	if (!EVP_EncryptInit_ex(k->ctr, NULL, NULL, NULL, iv) ||
	    !EVP_EncryptUpdate(k->ctr, p, &len, p, (int)n) || len != (int)n)
		return -EIO;
	return 0;
}

/* HMAC-SHA1 (RFC 2104) of p[0..n) then tail[0..4). */
static void hmac(const struct cm_keys *k, const uint8_t *p, size_t n,
		 const uint8_t *tail, uint8_t out[SHA_DIGEST_LENGTH])
{
	SHA_CTX c = k->ipad;

	SHA1_Update(&c, p, n);
	if (tail)
		SHA1_Update(&c, tail, 4);
	SHA1_Final(out, &c);
	c = k->opad;
	SHA1_Update(&c, out, SHA_DIGEST_LENGTH);
	SHA1_Final(out, &c);
	OPENSSL_cleanse(&c, sizeof(c));
}

static struct cm_ssrc *slot(struct media_srtp_cm *c, uint32_t ssrc, bool create)
{
	struct cm_ssrc *old = &c->ss[0];
	unsigned i;

	for (i = 0; i < CM_SSRCS; i++) {
		if (c->ss[i].used && c->ss[i].ssrc == ssrc) {
			c->ss[i].last = ++c->stamp;
			return &c->ss[i];
		}
		if (!c->ss[i].used || c->ss[i].last < old->last)
			old = &c->ss[i];
		if (!old->used)
			break;
	}
	if (!create)
		return NULL;
	memset(old, 0, sizeof(*old));
	old->used = true;
	old->ssrc = ssrc;
	old->last = ++c->stamp;
	return old;
}

/* The ROC guess for seq (RFC 3711 3.3.1, appendix A). */
static uint32_t guess_roc(const struct cm_ssrc *s, uint16_t seq)
{
	if (!s || !s->have_seq)
		return 0;
	/* (No ROC below 0: an old packet at the very start of a
	 * stream is taken as of ROC 0.) */
	if (s->s_l < 32768)
		return (int)seq - (int)s->s_l > 32768 && s->roc ? s->roc - 1
								: s->roc;
	return (int)s->s_l - 32768 > (int)seq ? s->roc + 1 : s->roc;
}

/* Replay list (RFC 3711 3.3.2) on 48-bit indexes: 0 new, -1 seen or
 * older than the window.  hi: highest index so far. */
static int replay_check(const uint64_t *win, uint64_t hi, uint64_t idx)
{
	uint64_t d;

	if (idx > hi)
		return 0;
	d = hi - idx;
	if (d >= CM_WINDOW)
		return -1;
	return win[d / 64] >> (d % 64) & 1 ? -1 : 0;
}

static void replay_add(uint64_t *win, uint64_t hi, uint64_t idx)
{
	unsigned w = CM_WINDOW / 64, i;
	uint64_t d, sh;

	if (idx > hi) {
		/* Slide the window up by idx - hi. */
		sh = idx - hi;
		if (sh >= CM_WINDOW) {
			memset(win, 0, w * sizeof(*win));
		} else {
			for (; sh >= 64; sh -= 64) {
				for (i = w - 1; i > 0; i--)
					win[i] = win[i - 1];
				win[0] = 0;
			}
			if (sh) {
				for (i = w - 1; i > 0; i--)
					win[i] = win[i] << sh |
						 win[i - 1] >> (64 - sh);
				win[0] <<= sh;
			}
		}
		win[0] |= 1;
		return;
	}
	d = hi - idx;
	win[d / 64] |= 1ULL << (d % 64);
}

/* Fixed header, CSRCs and extension (RFC 3550 5.1, 5.3.1). */
static size_t rtp_hdr_len(const uint8_t *p, size_t n)
{
	size_t h = 12 + 4 * (size_t)(p[0] & 15);

	if (p[0] & 0x10) {
		if (h + 4 > n)
			return 0;
		h += 4 + 4 * (size_t)(p[h + 2] << 8 | p[h + 3]);
	}
	return h <= n ? h : 0;
}

static int rtp_protect(struct media_srtp_cm *c, uint8_t *p, size_t *np)
{
	size_t n = *np, h = rtp_hdr_len(p, n);
	uint16_t seq = (uint16_t)(p[2] << 8 | p[3]);
	struct cm_ssrc *s = slot(c, be32(p + 8), true);
	uint8_t roc[4], mac[SHA_DIGEST_LENGTH];
	uint32_t v = guess_roc(s, seq);
	uint64_t idx = (uint64_t)v << 16 | seq,
		 hi = (uint64_t)s->roc << 16 | s->s_l;

	if (!h)
		return MEDIA_SRTP_E_OTHER;
	/* One index is never encrypted twice (RFC 3711 9.1): a repeated
	 * sequence number from the plain side is dropped. */
	if (s->have_seq && replay_check(s->win, hi, idx))
		return MEDIA_SRTP_E_REPLAY;
	if (ctr(&c->rtp, s->ssrc, idx, p + h, n - h))
		return MEDIA_SRTP_E_OTHER;
	put32(roc, v);
	hmac(&c->rtp, p, n, roc, mac);
	memcpy(p + n, mac, c->tag_len);
	*np = n + c->tag_len;
	replay_add(s->win, s->have_seq ? hi : idx, idx);
	if (!s->have_seq || idx > hi) {
		s->roc = v;
		s->s_l = seq;
		s->have_seq = true;
	}
	return 0;
}

static int rtp_unprotect(struct media_srtp_cm *c, uint8_t *p, size_t *np)
{
	size_t n = *np, h;
	uint16_t seq = (uint16_t)(p[2] << 8 | p[3]);
	uint32_t ssrc = be32(p + 8), v;
	struct cm_ssrc *s = slot(c, ssrc, false);
	uint8_t roc[4], mac[SHA_DIGEST_LENGTH];
	uint64_t idx, hi = 0;

	if (n < 12 + c->tag_len)
		return MEDIA_SRTP_E_OTHER;
	n -= c->tag_len;
	h = rtp_hdr_len(p, n);
	if (!h)
		return MEDIA_SRTP_E_AUTH;
	v = guess_roc(s, seq);
	idx = (uint64_t)v << 16 | seq;
	if (s && s->have_seq) {
		hi = (uint64_t)s->roc << 16 | s->s_l;
		if (replay_check(s->win, hi, idx))
			return MEDIA_SRTP_E_REPLAY;
	}
	put32(roc, v);
	hmac(&c->rtp, p, n, roc, mac);
	if (CRYPTO_memcmp(mac, p + n, c->tag_len) != 0)
		return MEDIA_SRTP_E_AUTH;
	if (!s)
		s = slot(c, ssrc, true); /* only once authenticated */
	if (ctr(&c->rtp, ssrc, idx, p + h, n - h))
		return MEDIA_SRTP_E_OTHER;
	replay_add(s->win, s->have_seq ? hi : idx, idx);
	if (!s->have_seq || idx > hi) {
		s->roc = v;
		s->s_l = seq;
		s->have_seq = true;
	}
	*np = n;
	return 0;
}

/* SRTCP (RFC 3711 3.4): the first 8 bytes stay clear, E flag and index
 * follow the encrypted part, the 80-bit tag covers both. */
static int rtcp_protect(struct media_srtp_cm *c, uint8_t *p, size_t *np)
{
	size_t n = *np;
	struct cm_ssrc *s = slot(c, be32(p + 4), true);
	uint8_t mac[SHA_DIGEST_LENGTH];
	uint32_t idx = s->rtcp_hi & 0x7fffffff;

	if (ctr(&c->rtcp, s->ssrc, idx, p + 8, n - 8))
		return MEDIA_SRTP_E_OTHER;
	put32(p + n, CM_E_FLAG | idx);
	n += 4;
	hmac(&c->rtcp, p, n, NULL, mac);
	memcpy(p + n, mac, CM_TAG_RTCP);
	*np = n + CM_TAG_RTCP;
	s->rtcp_hi = idx + 1;
	return 0;
}

static int rtcp_unprotect(struct media_srtp_cm *c, uint8_t *p, size_t *np)
{
	size_t n = *np;
	uint32_t ssrc, e_idx, idx;
	struct cm_ssrc *s;
	uint8_t mac[SHA_DIGEST_LENGTH];

	if (n < 8 + 4 + CM_TAG_RTCP)
		return MEDIA_SRTP_E_OTHER;
	n -= CM_TAG_RTCP;
	ssrc = be32(p + 4);
	e_idx = be32(p + n - 4);
	idx = e_idx & 0x7fffffff;
	s = slot(c, ssrc, false);
	if (s && s->have_rtcp && replay_check(s->rtcp_win, s->rtcp_hi, idx))
		return MEDIA_SRTP_E_REPLAY;
	hmac(&c->rtcp, p, n, NULL, mac);
	if (CRYPTO_memcmp(mac, p + n, CM_TAG_RTCP) != 0)
		return MEDIA_SRTP_E_AUTH;
	/* Unencrypted SRTCP (E = 0) is legal but never negotiated by
	 * us: refused like a forgery. */
	if (!(e_idx & CM_E_FLAG))
		return MEDIA_SRTP_E_AUTH;
	if (!s)
		s = slot(c, ssrc, true);
	n -= 4;
	if (ctr(&c->rtcp, ssrc, idx, p + 8, n - 8))
		return MEDIA_SRTP_E_OTHER;
	replay_add(s->rtcp_win, s->have_rtcp ? s->rtcp_hi : idx, idx);
	if (!s->have_rtcp || idx > s->rtcp_hi)
		s->rtcp_hi = idx;
	s->have_rtcp = true;
	*np = n;
	return 0;
}

int media__srtp_cm_protect(struct media_srtp_cm *c, bool rtcp, uint8_t *p,
			   size_t *np)
{
	return rtcp ? rtcp_protect(c, p, np) : rtp_protect(c, p, np);
}

int media__srtp_cm_unprotect(struct media_srtp_cm *c, bool rtcp, uint8_t *p,
			     size_t *np)
{
	return rtcp ? rtcp_unprotect(c, p, np) : rtp_unprotect(c, p, np);
}
