/*
 * srtp_xf.h - what the SRTP transform (srtp_xf.c) asks of a cipher, and
 * what it gives the ciphers (srtp_cm.c, srtp_gcm.c).  Private to those
 * files and their unit tests.
 *
 * The transform owns everything that is not cryptography: per-SSRC
 * state, ROC and sequence estimation, replay lists, the RTP header's
 * length, the SRTCP index.  A cipher seals (encrypts and tags) and opens
 * (verifies and decrypts) one packet in place, given the SSRC and the
 * packet index the transform settled on, and lays out its own trailer.
 */
#ifndef SIPGUARD_MEDIA_SRTP_XF_H
#define SIPGUARD_MEDIA_SRTP_XF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

enum {
	XF_SALT = 14, /* RFC 3711 master salt; RFC 7714's 12 bytes, padded */
	XF_E_FLAG = 0x80000000u, /* SRTCP E bit (RFC 3711 3.4) */
};

/*
 * One cipher's operations.  The keys of one direction (rx: verify and
 * decrypt, tx: encrypt and tag) for RTP or for RTCP are the cipher's
 * own object, made by keys() from the master key and the 14-byte master
 * salt with the labels label0 (key), label0 + 1 (auth), label0 + 2
 * (salt) of RFC 3711 4.3.1.  It starts with struct media__srtp_keys,
 * through which srtp_xf.c frees (and cleanses) it.
 *
 * rtp_seal: p[0..h) is the header, p[h..n) the payload; the tag
 * (tag_len bytes) is written at p + n.  rtp_open: the same with the tag
 * read at p + n.  idx is the 48-bit packet index ROC << 16 | SEQ.
 * rtcp_seal: p[0..n) is the compound RTCP packet, the trailer
 * (E||index word and tag, rtcp_trailer bytes) is written at p + n.
 * rtcp_open: p[0..n) without the trailer that follows; e_idx the E||index
 * word the transform read from it (at rtcp_idx_at from the end).
 * All return 0, MEDIA_SRTP_E_AUTH (open: the tag does not verify; p may
 * be garbled then) or MEDIA_SRTP_E_OTHER (library failure).
 */
struct media__srtp_cipher {
	unsigned rtcp_trailer; /* E||index word + tag */
	unsigned rtcp_idx_at;  /* the word's offset from the packet's end */
	int (*keys)(void **kp, const uint8_t *mkey, size_t mlen,
		    const uint8_t *msalt, uint8_t label0, bool rx);
	int (*rtp_seal)(void *k, uint32_t ssrc, uint64_t idx, uint8_t *p,
			size_t h, size_t n, unsigned tag_len);
	int (*rtp_open)(void *k, uint32_t ssrc, uint64_t idx, uint8_t *p,
			size_t h, size_t n, unsigned tag_len);
	int (*rtcp_seal)(void *k, uint32_t ssrc, uint32_t e_idx, uint8_t *p,
			 size_t n);
	int (*rtcp_open)(void *k, uint32_t ssrc, uint32_t e_idx, uint8_t *p,
			 size_t n);
};

/* The start of every cipher's key object. */
struct media__srtp_keys {
	EVP_CIPHER_CTX *ctx; /* keyed once with the session key */
	size_t size;         /* of the whole object */
};
/* A zeroed key object of size bytes (>= the header) with a fresh EVP
 * context, or NULL. */
void *media__srtp_keys_new(size_t size);
/* Frees the context (which cleanses the key schedule), wipes and frees
 * the object.  NULL: nothing. */
void media__srtp_keys_free(void *k);

extern const struct media__srtp_cipher media__srtp_cm;  /* srtp_cm.c */
extern const struct media__srtp_cipher media__srtp_gcm; /* srtp_gcm.c */

/* AES-CTR of this key length (16 or 32 bytes). */
const EVP_CIPHER *media__srtp_ctr(size_t key_len);
/* RFC 3711 4.3.1 key derivation with KDR 0: n (<= 64) bytes for label
 * from master key mkey (mlen bytes) and the 14-byte master salt.
 * 0 or -EIO. */
int media__srtp_kdf(uint8_t *out, size_t n, const uint8_t *mkey, size_t mlen,
		    const uint8_t *msalt, uint8_t label);

/* AES-GCM keys from a session key (16 or 32 bytes) and 12-byte session
 * salt, as keys() makes them after derivation; exposed for RFC 7714's
 * test vectors, which give session keys.  0, -ENOMEM or -EIO. */
int media__srtp_gcm_session(void **kp, const uint8_t *key, size_t len,
			    const uint8_t *salt, bool rx);

static inline uint32_t media__srtp_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void media__srtp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
