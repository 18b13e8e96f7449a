/*
 * srtp_xf.c - our SRTP/SRTCP transform (RFC 3711 3.2.1, 3.3, 3.4,
 * appendix A; RFC 7714 sections 8, 9 and 11 for the AEAD suites) for
 * the suites without MKI: the per-SSRC state, ROC and sequence number
 * estimation, replay lists, SRTCP indexes and key derivation, shared by
 * two ciphers behind struct media__srtp_cipher (srtp_xf.h):
 *   srtp_cm.c   AES-CM + HMAC-SHA1 (AES_CM_128_HMAC_SHA1_80/_32,
 *               AES_256_CM_HMAC_SHA1_80), on OpenSSL's AES-CTR and SHA-1;
 *   srtp_gcm.c  AEAD_AES_128_GCM and AEAD_AES_256_GCM (RFC 7714), on
 *               OpenSSL's EVP AES-GCM.
 * Split this way so that the state machine, which decides what is a
 * replay and which ROC a packet has, exists once whatever the cipher.
 *
 * Why not libsrtp2 for these: Debian's libsrtp2 is built on NSS, which
 * creates and destroys a PKCS#11 context, with allocations and locks,
 * for every packet (about 2.3 us per packet here, and worse with many
 * contexts alive).  The relay's budget per packet is a few
 * microseconds, so srtp.c runs every suite here and keeps libsrtp2 for
 * MKI keys only.  The unit tests check this transform against libsrtp2
 * both ways (and the GCM cipher against RFC 7714's test vectors), and
 * bench-srtp against rtpengine's own implementation.
 *
 * One context is one direction of one leg (rx: verify and decrypt, tx:
 * encrypt and authenticate), with per-SSRC state (RFC 3711 3.2.1: ROC,
 * highest sequence number, replay list; SRTCP index) for a few SSRCs,
 * the least recently used one replaced.  On rx, a new SSRC gets a slot
 * only once a packet of it authenticated.  No allocation per packet:
 * the ciphers' OpenSSL contexts are keyed once with the session keys,
 * only the IV changes per packet.  Session keys are derived once (KDR 0;
 * a non-zero KDR is refused by sdp_crypto.c) and wiped with the context.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "media/srtp.h"
#include "media/srtp_xf.h"
#include "sip/sip.h"

enum {
	XF_SSRCS = 4,    /* SSRCs tracked per direction and leg */
	XF_WINDOW = 128, /* replay window, packets */
};

struct xf_ssrc {
	uint32_t ssrc;
	bool used;
	bool have_seq;
	uint16_t s_l;                 /* highest sequence number */
	uint32_t roc;                 /* rollover counter */
	uint64_t win[XF_WINDOW / 64]; /* bit k: highest index - k seen */
	uint32_t rtcp_hi;             /* highest SRTCP index (rx) / next */
	bool have_rtcp;
	uint64_t rtcp_win[XF_WINDOW / 64];
	uint64_t last; /* use stamp, for replacement */
};

struct media_srtp_xf {
	const struct media__srtp_cipher *ci;
	bool rx;
	unsigned tag_len; /* SRTP tag: 16, 10 or 4 */
	void *rtp, *rtcp; /* the cipher's keys */
	struct xf_ssrc ss[XF_SSRCS];
	uint64_t stamp;
};

/* The suites we run: master key and salt lengths, SRTP tag, cipher. */
static const struct xf_suite {
	int suite;
	uint8_t key, salt, tag;
	const struct media__srtp_cipher *ci;
} suites[] = {
	{SDP_SRTP_AES_CM_128_HMAC_SHA1_80, 16, 14, 10, &media__srtp_cm},
	{SDP_SRTP_AES_CM_128_HMAC_SHA1_32, 16, 14, 4, &media__srtp_cm},
	{SDP_SRTP_AES_256_CM_HMAC_SHA1_80, 32, 14, 10, &media__srtp_cm},
	{SDP_SRTP_AEAD_AES_128_GCM, 16, 12, 16, &media__srtp_gcm},
	{SDP_SRTP_AEAD_AES_256_GCM, 32, 12, 16, &media__srtp_gcm},
};

static const struct xf_suite *suite_find(int suite)
{
	size_t i;

	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i].suite == suite)
			return &suites[i];
	return NULL;
}

/* ------------------------------------------------- key derivation */

const EVP_CIPHER *media__srtp_ctr(size_t key_len)
{
	return key_len == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr();
}

/* x = label XOR'd into the salt's 8th byte; the key stream of
 * AES-CM(master key, x * 2^16).  (RFC 6188 for AES-256 keys.) */
int media__srtp_kdf(uint8_t *out, size_t n, const uint8_t *mkey, size_t mlen,
		    const uint8_t *msalt, uint8_t label)
{
	uint8_t iv[16] = {0}, zero[64] = {0};
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len, ok;

	memcpy(iv, msalt, XF_SALT);
	iv[7] ^= label;
	ok = c && n <= sizeof(zero) &&
	     EVP_EncryptInit_ex(c, media__srtp_ctr(mlen), NULL, mkey, iv) &&
	     EVP_EncryptUpdate(c, out, &len, zero, (int)n) && len == (int)n;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -EIO;
}

void *media__srtp_keys_new(size_t size)
{
	/* calloc, not mem_*: the relay thread frees it. */
	struct media__srtp_keys *k = calloc(1, size);

	if (k) {
		k->size = size;
		k->ctx = EVP_CIPHER_CTX_new();
	}
	if (k && !k->ctx) {
		free(k);
		k = NULL;
	}
	return k;
}

void media__srtp_keys_free(void *kp)
{
	struct media__srtp_keys *k = kp;

	if (!k)
		return;
	EVP_CIPHER_CTX_free(k->ctx);
	OPENSSL_cleanse(k, k->size);
	free(k);
}

void media__srtp_xf_free(struct media_srtp_xf *c)
{
	if (c) {
		media__srtp_keys_free(c->rtp);
		media__srtp_keys_free(c->rtcp);
		OPENSSL_cleanse(c, sizeof(*c));
		free(c);
	}
}

bool media__srtp_xf_suite(int suite)
{
	return suite_find(suite) != NULL;
}

int media__srtp_xf_new(struct media_srtp_xf **cp, int suite, const uint8_t *key,
		       size_t len, bool rx)
{
	const struct xf_suite *su = suite_find(suite);
	uint8_t salt[XF_SALT] = {0};
	struct media_srtp_xf *c;
	int err;

	*cp = NULL;
	if (!su || len != (size_t)su->key + su->salt)
		return -EINVAL;
	/* calloc, not mem_*: the relay thread frees it. */
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ci = su->ci;
	c->rx = rx;
	c->tag_len = su->tag;
	/* RFC 7714's 96-bit master salt enters RFC 3711's KDF as salt *
	 * 2^16 (erratum 4938): zero-padded to 14 bytes. */
	memcpy(salt, key + su->key, su->salt);
	err = c->ci->keys(&c->rtp, key, su->key, salt, 0, rx);
	if (!err)
		err = c->ci->keys(&c->rtcp, key, su->key, salt, 3, rx);
	OPENSSL_cleanse(salt, sizeof(salt));
	if (err)
		media__srtp_xf_free(c);
	else
		*cp = c;
	return err;
}

/* ------------------------------------------------ per-SSRC state */

static struct xf_ssrc *slot(struct media_srtp_xf *c, uint32_t ssrc, bool create)
{
	struct xf_ssrc *old = &c->ss[0];
	unsigned i;

	for (i = 0; i < XF_SSRCS; i++) {
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
static uint32_t guess_roc(const struct xf_ssrc *s, uint16_t seq)
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
	if (d >= XF_WINDOW)
		return -1;
	return win[d / 64] >> (d % 64) & 1 ? -1 : 0;
}

static void replay_add(uint64_t *win, uint64_t hi, uint64_t idx)
{
	unsigned w = XF_WINDOW / 64, i;
	uint64_t d, sh;

	if (idx > hi) {
		/* Slide the window up by idx - hi. */
		sh = idx - hi;
		if (sh >= XF_WINDOW) {
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

/* A packet of index idx (ROC v, seq) went through: the list and the
 * highest index move (RFC 3711 3.3.1 last paragraph). */
static void rtp_seen(struct xf_ssrc *s, uint64_t hi, uint64_t idx, uint32_t v,
		     uint16_t seq)
{
	replay_add(s->win, s->have_seq ? hi : idx, idx);
	if (!s->have_seq || idx > hi) {
		s->roc = v;
		s->s_l = seq;
		s->have_seq = true;
	}
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

/* ------------------------------------------------------- transform */

static int rtp_protect(struct media_srtp_xf *c, uint8_t *p, size_t *np)
{
	size_t n = *np, h = rtp_hdr_len(p, n);
	uint16_t seq = (uint16_t)(p[2] << 8 | p[3]);
	struct xf_ssrc *s;
	uint64_t idx, hi;
	uint32_t v;

	if (!h)
		return MEDIA_SRTP_E_OTHER;
	s = slot(c, media__srtp_be32(p + 8), true);
	v = guess_roc(s, seq);
	idx = (uint64_t)v << 16 | seq;
	hi = (uint64_t)s->roc << 16 | s->s_l;
	/* One index is never encrypted twice (RFC 3711 9.1, RFC 7714
	 * 8.1: a repeated IV breaks GCM outright): a repeated sequence
	 * number from the plain side is dropped. */
	if (s->have_seq && replay_check(s->win, hi, idx))
		return MEDIA_SRTP_E_REPLAY;
	if (c->ci->rtp_seal(c->rtp, s->ssrc, idx, p, h, n, c->tag_len))
		return MEDIA_SRTP_E_OTHER;
	*np = n + c->tag_len;
	rtp_seen(s, hi, idx, v, seq);
	return 0;
}

static int rtp_unprotect(struct media_srtp_xf *c, uint8_t *p, size_t *np)
{
	size_t n = *np, h;
	uint16_t seq = (uint16_t)(p[2] << 8 | p[3]);
	uint32_t ssrc = media__srtp_be32(p + 8), v;
	struct xf_ssrc *s = slot(c, ssrc, false);
	uint64_t idx, hi = 0;
	int err;

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
	err = c->ci->rtp_open(c->rtp, ssrc, idx, p, h, n, c->tag_len);
	if (err)
		return err;
	if (!s)
		s = slot(c, ssrc, true); /* only once authenticated */
	rtp_seen(s, hi, idx, v, seq);
	*np = n;
	return 0;
}

/* SRTCP (RFC 3711 3.4, RFC 7714 9): the first 8 bytes stay clear, the
 * E flag and 31-bit index travel in the trailer, where the cipher puts
 * them. */
static int rtcp_protect(struct media_srtp_xf *c, uint8_t *p, size_t *np)
{
	size_t n = *np;
	struct xf_ssrc *s = slot(c, media__srtp_be32(p + 4), true);
	uint32_t idx = s->rtcp_hi & 0x7fffffff;

	if (c->ci->rtcp_seal(c->rtcp, s->ssrc, XF_E_FLAG | idx, p, n))
		return MEDIA_SRTP_E_OTHER;
	*np = n + c->ci->rtcp_trailer;
	s->rtcp_hi = idx + 1;
	return 0;
}

static int rtcp_unprotect(struct media_srtp_xf *c, uint8_t *p, size_t *np)
{
	size_t n = *np;
	uint32_t ssrc, e_idx, idx;
	struct xf_ssrc *s;
	int err;

	if (n < 8 + c->ci->rtcp_trailer)
		return MEDIA_SRTP_E_OTHER;
	ssrc = media__srtp_be32(p + 4);
	e_idx = media__srtp_be32(p + n - c->ci->rtcp_idx_at);
	idx = e_idx & 0x7fffffff;
	/* Unencrypted SRTCP (E = 0, RFC 3711 3.4, RFC 7714 9.4) is legal
	 * but never negotiated by us: refused like a forgery. */
	if (!(e_idx & XF_E_FLAG))
		return MEDIA_SRTP_E_AUTH;
	s = slot(c, ssrc, false);
	if (s && s->have_rtcp && replay_check(s->rtcp_win, s->rtcp_hi, idx))
		return MEDIA_SRTP_E_REPLAY;
	n -= c->ci->rtcp_trailer;
	err = c->ci->rtcp_open(c->rtcp, ssrc, e_idx, p, n);
	if (err)
		return err;
	if (!s)
		s = slot(c, ssrc, true);
	replay_add(s->rtcp_win, s->have_rtcp ? s->rtcp_hi : idx, idx);
	if (!s->have_rtcp || idx > s->rtcp_hi)
		s->rtcp_hi = idx;
	s->have_rtcp = true;
	*np = n;
	return 0;
}

int media__srtp_xf_protect(struct media_srtp_xf *c, bool rtcp, uint8_t *p,
			   size_t *np)
{
	return rtcp ? rtcp_protect(c, p, np) : rtp_protect(c, p, np);
}

int media__srtp_xf_unprotect(struct media_srtp_xf *c, bool rtcp, uint8_t *p,
			     size_t *np)
{
	return rtcp ? rtcp_unprotect(c, p, np) : rtp_unprotect(c, p, np);
}
