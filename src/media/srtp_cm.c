/*
 * srtp_cm.c - the AES counter-mode + HMAC-SHA1 cipher of our SRTP
 * transform (RFC 3711 sections 4.1.1, 4.2, 4.3.1; AES_CM_128_HMAC_SHA1_80
 * and _32 of RFC 4568 6.2, AES_256_CM_HMAC_SHA1_80 of RFC 6188), on
 * OpenSSL's AES-CTR and SHA-1 (AES-NI, SHA-NI).  The per-SSRC state, ROC,
 * replay lists and key derivation are srtp_xf.c's; this file only seals
 * and opens one packet given its SSRC and index (srtp_xf.h).
 *
 * Keys of one direction: an AES-CTR context keyed once with the session
 * key (only the IV is set per packet), the HMAC's inner and outer SHA-1
 * states precomputed from the session auth key (copied per packet), and
 * the 112-bit session salt.  No allocation per packet.
 */
#define OPENSSL_API_COMPAT 0x10100000L /* SHA1_* on plain structs */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "media/srtp.h"
#include "media/srtp_xf.h"

enum {
	CM_AUTH_KEY = 20, /* HMAC-SHA1 session key */
	CM_TAG_RTCP = 10, /* SRTCP tag: 80 bits for all three suites */
};

struct cm_keys {
	struct media__srtp_keys h; /* h.ctx: AES-CTR */
	SHA_CTX ipad, opad;        /* HMAC state after the padded key */
	uint8_t salt[XF_SALT];
};

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

/* Session keys for RTP (labels 0-2) or RTCP (3-5); CTR runs the same
 * way both directions. */
static int cm_keys(void **kp, const uint8_t *mkey, size_t mlen,
		   const uint8_t *msalt, uint8_t label0, bool rx)
{
	uint8_t enc[32], auth[CM_AUTH_KEY];
	struct cm_keys *k;
	int err;

	(void)rx;
	*kp = k = media__srtp_keys_new(sizeof(*k));
	if (!k)
		return -ENOMEM;
	err = media__srtp_kdf(enc, mlen, mkey, mlen, msalt, label0);
	if (!err)
		err = media__srtp_kdf(auth, sizeof(auth), mkey, mlen, msalt,
				      (uint8_t)(label0 + 1));
	if (!err)
		err = media__srtp_kdf(k->salt, XF_SALT, mkey, mlen, msalt,
				      (uint8_t)(label0 + 2));
	if (!err && !EVP_EncryptInit_ex(k->h.ctx, media__srtp_ctr(mlen), NULL,
					enc, NULL))
		err = -EIO;
	if (!err)
		hmac_pads(k, auth);
	OPENSSL_cleanse(enc, sizeof(enc));
	OPENSSL_cleanse(auth, sizeof(auth));
	if (err) {
		media__srtp_keys_free(k);
		*kp = NULL;
	}
	return err;
}

/* AES-CM (RFC 3711 4.1.1) of p[0..n) in place: IV = salt ^ SSRC << 64
 * ^ index << 16 (index: 48-bit SRTP or 31-bit SRTCP). */
static int ctr(struct cm_keys *k, uint32_t ssrc, uint64_t index, uint8_t *p,
	       size_t n)
{
	uint8_t iv[16];
	int len, i;

	memcpy(iv, k->salt, XF_SALT);
	iv[14] = iv[15] = 0;
	for (i = 0; i < 4; i++)
		iv[4 + i] ^= (uint8_t)(ssrc >> (24 - 8 * i));
	for (i = 0; i < 6; i++)
		iv[8 + i] ^= (uint8_t)(index >> (40 - 8 * i));
	if (!EVP_EncryptInit_ex(k->h.ctx, NULL, NULL, NULL, iv) ||
	    !EVP_EncryptUpdate(k->h.ctx, p, &len, p, (int)n) || len != (int)n)
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

/* SRTP: the payload encrypted, the tag over header, payload and ROC
 * (RFC 3711 4.2). */
static int cm_rtp_seal(void *kp, uint32_t ssrc, uint64_t idx, uint8_t *p,
		       size_t h, size_t n, unsigned tag_len)
{
	uint8_t roc[4], mac[SHA_DIGEST_LENGTH];

	if (ctr(kp, ssrc, idx, p + h, n - h))
		return MEDIA_SRTP_E_OTHER;
	media__srtp_put32(roc, (uint32_t)(idx >> 16));
	hmac(kp, p, n, roc, mac);
	memcpy(p + n, mac, tag_len);
	return 0;
}

static int cm_rtp_open(void *kp, uint32_t ssrc, uint64_t idx, uint8_t *p,
		       size_t h, size_t n, unsigned tag_len)
{
	uint8_t roc[4], mac[SHA_DIGEST_LENGTH];

	media__srtp_put32(roc, (uint32_t)(idx >> 16));
	hmac(kp, p, n, roc, mac);
	if (CRYPTO_memcmp(mac, p + n, tag_len) != 0)
		return MEDIA_SRTP_E_AUTH;
	return ctr(kp, ssrc, idx, p + h, n - h) ? MEDIA_SRTP_E_OTHER : 0;
}

/* SRTCP (RFC 3711 3.4): E||index after the encrypted part, the 80-bit
 * tag over both. */
static int cm_rtcp_seal(void *kp, uint32_t ssrc, uint32_t e_idx, uint8_t *p,
			size_t n)
{
	uint8_t mac[SHA_DIGEST_LENGTH];

	if (ctr(kp, ssrc, e_idx & ~XF_E_FLAG, p + 8, n - 8))
		return MEDIA_SRTP_E_OTHER;
	media__srtp_put32(p + n, e_idx);
	hmac(kp, p, n + 4, NULL, mac);
	memcpy(p + n + 4, mac, CM_TAG_RTCP);
	return 0;
}

static int cm_rtcp_open(void *kp, uint32_t ssrc, uint32_t e_idx, uint8_t *p,
			size_t n)
{
	uint8_t mac[SHA_DIGEST_LENGTH];

	hmac(kp, p, n + 4, NULL, mac);
	if (CRYPTO_memcmp(mac, p + n + 4, CM_TAG_RTCP) != 0)
		return MEDIA_SRTP_E_AUTH;
	return ctr(kp, ssrc, e_idx & ~XF_E_FLAG, p + 8, n - 8)
		       ? MEDIA_SRTP_E_OTHER
		       : 0;
}

const struct media__srtp_cipher media__srtp_cm = {
	.rtcp_trailer = 4 + CM_TAG_RTCP,
	.rtcp_idx_at = 4 + CM_TAG_RTCP,
	.keys = cm_keys,
	.rtp_seal = cm_rtp_seal,
	.rtp_open = cm_rtp_open,
	.rtcp_seal = cm_rtcp_seal,
	.rtcp_open = cm_rtcp_open,
};
