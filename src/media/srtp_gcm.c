/*
 * srtp_gcm.c - the AEAD AES-GCM cipher of our SRTP transform (RFC 7714:
 * AEAD_AES_128_GCM and AEAD_AES_256_GCM with their 16-octet tag), on
 * OpenSSL's EVP AES-GCM (AES-NI, PCLMULQDQ).  The per-SSRC state, ROC,
 * replay lists and key derivation are srtp_xf.c's; this file only seals
 * and opens one packet given its SSRC and index (srtp_xf.h).
 *
 * RFC 7714 sections used: 8.1 (SRTP IV = (00 00 || SSRC || ROC || SEQ)
 * XOR session salt), 8.2 (AAD = the RTP header with its CSRCs and
 * extension; the tag follows the ciphertext), 9.1 (SRTCP IV = (00 00 ||
 * SSRC || 00 00 || 0 || index) XOR salt), 9.2/9.3 (AAD = the first 8
 * octets then the E||index word; the word follows the tag on the wire),
 * 11 (keys: RFC 3711's AES-CM PRF, labels 0x00/0x02 for SRTP and
 * 0x03/0x05 for SRTCP, 96-bit session salt, no authentication key).
 * Unencrypted SRTCP (E = 0, 9.4) is refused by srtp_xf.c before it gets
 * here.
 *
 * Keys of one direction: an EVP context keyed once with the session key
 * for encryption (tx) or decryption (rx), and the session salt; per
 * packet only the IV is set.  No allocation per packet.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "media/srtp.h"
#include "media/srtp_xf.h"

enum {
	GCM_SALT = 12, /* session salt and IV */
	GCM_TAG = 16,
};

struct gcm_keys {
	struct media__srtp_keys h; /* h.ctx: encrypts (tx), decrypts (rx) */
	bool rx;
	uint8_t salt[GCM_SALT];
};

int media__srtp_gcm_session(void **kp, const uint8_t *key, size_t len,
			    const uint8_t *salt, bool rx)
{
	const EVP_CIPHER *ci =
		len == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
	struct gcm_keys *k;
	int ok;

	*kp = NULL;
	if (len != 16 && len != 32)
		return -EINVAL;
	k = media__srtp_keys_new(sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->rx = rx;
	memcpy(k->salt, salt, GCM_SALT);
	/* The default IV length of GCM is RFC 7714's 12 octets. */
	ok = EVP_CipherInit_ex(k->h.ctx, ci, NULL, key, NULL, rx ? 0 : 1);
	if (!ok)
		media__srtp_keys_free(k);
	else
		*kp = k;
	return ok ? 0 : -EIO;
}

/* Session key (label0) and salt (label0 + 2) from the master key. */
static int gcm_keys(void **kp, const uint8_t *mkey, size_t mlen,
		    const uint8_t *msalt, uint8_t label0, bool rx)
{
	uint8_t enc[32], salt[GCM_SALT];
	int err;

	*kp = NULL;
	err = media__srtp_kdf(enc, mlen, mkey, mlen, msalt, label0);
	if (!err)
		err = media__srtp_kdf(salt, sizeof(salt), mkey, mlen, msalt,
				      (uint8_t)(label0 + 2));
	if (!err)
		err = media__srtp_gcm_session(kp, enc, mlen, salt, rx);
	OPENSSL_cleanse(enc, sizeof(enc));
	OPENSSL_cleanse(salt, sizeof(salt));
	return err;
}

/* IV = (00 00 || SSRC || v) XOR salt, v the 48-bit ROC||SEQ of SRTP or
 * 00 00 || 0||index of SRTCP (RFC 7714 8.1, 9.1). */
static void gcm_iv(uint8_t iv[GCM_SALT], const struct gcm_keys *k,
		   uint32_t ssrc, uint64_t v)
{
	int i;

	memcpy(iv, k->salt, GCM_SALT);
	for (i = 0; i < 4; i++)
		iv[2 + i] ^= (uint8_t)(ssrc >> (24 - 8 * i));
	for (i = 0; i < 6; i++)
		iv[6 + i] ^= (uint8_t)(v >> (40 - 8 * i));
}

/*
 * One AEAD operation in place on p[0..n): AAD a[0..an) then, if set,
 * the 4-byte word w; the tag written to (tx) or read from (rx) tag.
 * 0, MEDIA_SRTP_E_AUTH (rx: the tag did not verify) or _E_OTHER.
 */
static int gcm_run(struct gcm_keys *k, const uint8_t iv[GCM_SALT],
		   const uint8_t *a, size_t an, const uint8_t *w, uint8_t *p,
		   size_t n, uint8_t *tag)
{
	int len;

	/* enc -1: the direction the context was keyed for. */
	if (!EVP_CipherInit_ex(k->h.ctx, NULL, NULL, NULL, iv, -1) ||
	    !EVP_CipherUpdate(k->h.ctx, NULL, &len, a, (int)an) ||
	    (w && !EVP_CipherUpdate(k->h.ctx, NULL, &len, w, 4)) ||
	    (n && !EVP_CipherUpdate(k->h.ctx, p, &len, p, (int)n)))
		return MEDIA_SRTP_E_OTHER;
	if (k->rx) {
		if (!EVP_CIPHER_CTX_ctrl(k->h.ctx, EVP_CTRL_AEAD_SET_TAG,
					 GCM_TAG, tag))
			return MEDIA_SRTP_E_OTHER;
		/* Final compares the tag (in constant time). */
		return EVP_DecryptFinal_ex(k->h.ctx, p + n, &len) > 0
			       ? 0
			       : MEDIA_SRTP_E_AUTH;
	}
	if (!EVP_EncryptFinal_ex(k->h.ctx, p + n, &len) ||
	    !EVP_CIPHER_CTX_ctrl(k->h.ctx, EVP_CTRL_AEAD_GET_TAG, GCM_TAG, tag))
		return MEDIA_SRTP_E_OTHER;
	return 0;
}

/* SRTP (RFC 7714 8): header as AAD, payload encrypted, tag after it. */
static int gcm_rtp(void *kp, uint32_t ssrc, uint64_t idx, uint8_t *p, size_t h,
		   size_t n, unsigned tag_len)
{
	uint8_t iv[GCM_SALT];

	(void)tag_len; /* always GCM_TAG: srtp_xf.c's suite table */
	gcm_iv(iv, kp, ssrc, idx);
	return gcm_run(kp, iv, p, h, NULL, p + h, n - h, p + n);
}

/* SRTCP (RFC 7714 9): first 8 octets and E||index as AAD, the rest
 * encrypted, then the tag, then the E||index word. */
static int gcm_rtcp_seal(void *kp, uint32_t ssrc, uint32_t e_idx, uint8_t *p,
			 size_t n)
{
	uint8_t iv[GCM_SALT];

	media__srtp_put32(p + n + GCM_TAG, e_idx);
	gcm_iv(iv, kp, ssrc, e_idx & ~XF_E_FLAG);
	return gcm_run(kp, iv, p, 8, p + n + GCM_TAG, p + 8, n - 8, p + n);
}

static int gcm_rtcp_open(void *kp, uint32_t ssrc, uint32_t e_idx, uint8_t *p,
			 size_t n)
{
	uint8_t iv[GCM_SALT], w[4];

	media__srtp_put32(w, e_idx);
	gcm_iv(iv, kp, ssrc, e_idx & ~XF_E_FLAG);
	return gcm_run(kp, iv, p, 8, w, p + 8, n - 8, p + n);
}

const struct media__srtp_cipher media__srtp_gcm = {
	.rtcp_trailer = GCM_TAG + 4,
	.rtcp_idx_at = 4,
	.keys = gcm_keys,
	.rtp_seal = gcm_rtp,
	.rtp_open = gcm_rtp,
	.rtcp_seal = gcm_rtcp_seal,
	.rtcp_open = gcm_rtcp_open,
};
