/*
 * srtp.h - SRTP/SRTCP termination on one media leg (RFC 3711, with
 * libsrtp2), private to the media layer.
 *
 * sipguard terminates SRTP per leg: what a leg sends us is verified and
 * decrypted with that leg's own key (rx), what we send it is encrypted
 * with a key we made for it (tx).  The two legs of a stream never share
 * a key, and a key never crosses from one leg's SDP to the other's.
 *
 * Where keys come from: SDES (a=crypto, srtp_sdp.c) today.  Another key
 * exchange (DTLS-SRTP, RFC 5764) installs its keys the same way: it
 * fills two struct media_srtp_dir (the key||salt it derived for each
 * direction) and calls media_srtp_make(), then hands the result to the
 * relay thread (MEDIA_CMD_ADD/UPDATE with prm.srtp_set, or
 * media__srtp_install() when already on the relay thread).  Nothing in
 * the relay depends on how the keys were agreed.
 *
 * Threads: media_srtp_make() and media_srtp_free() may run on any
 * thread (libsrtp2 and our transform allocate with malloc, not with our
 * counting allocator); a context is used by one relay thread at a time.
 */
#ifndef SIPGUARD_MEDIA_SRTP_H
#define SIPGUARD_MEDIA_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The SRTP contexts of one leg; both NULL: the leg is plain RTP.  Each
 * is a libsrtp2 srtp_t, or with rx_xf/tx_xf our own transform
 * (srtp_xf.c: every suite without MKI). */
struct media_srtp {
	void *rx;    /* what the leg sends us */
	void *tx;    /* what we send the leg */
	bool rx_mki; /* its packets carry an MKI (RFC 3711 3.1) */
	bool rx_xf, tx_xf;
};

/* One direction's master key: suite (enum sdp_srtp_suite), key||salt
 * of the suite's length, optional MKI.  Borrowed by media_srtp_make(),
 * which does not keep or wipe it: the caller wipes its copy. */
struct media_srtp_dir {
	int suite;
	const uint8_t *key;
	size_t key_len;
	uint64_t mki;    /* with mki_len bytes, big-endian on the wire */
	uint8_t mki_len; /* 0: none; at most 8 */
};

enum {
	/* Room protect needs after the packet: tag (<= 16), SRTCP index
	 * (4); we never send an MKI. */
	MEDIA_SRTP_TRAILER = 32,
	MEDIA_SRTP_REPLAY_WINDOW = 128, /* RFC 3711 3.3.2: >= 64 */
};

/* Why a packet was refused (negative returns of the transforms). */
enum media_srtp_err {
	MEDIA_SRTP_E_AUTH = -1,   /* authentication tag wrong */
	MEDIA_SRTP_E_REPLAY = -2, /* seen already, or too old */
	MEDIA_SRTP_E_OTHER = -3,  /* too short, no room, library error */
};

/* Initialise libsrtp2 once per process (any thread, idempotent).
 * Returns 0 or -EIO. */
int media_srtp_init(void);
/* The library can run this suite (enum sdp_srtp_suite). */
bool media_srtp_suite_ok(int suite);

/*
 * Contexts for a leg: rx from the key the leg sends with, tx from the key
 * we send it with (either may be NULL: that direction stays plain).
 * Replay protection with a window of MEDIA_SRTP_REPLAY_WINDOW packets.
 * On success *sp is filled (free with media_srtp_free()); on failure
 * *sp is empty and the result -EINVAL (suite, key length, MKI) or -EIO.
 */
int media_srtp_make(struct media_srtp *sp, const struct media_srtp_dir *rx,
		    const struct media_srtp_dir *tx);
/* Free both contexts (libsrtp2 zeroes their keys); *sp becomes empty.
 * NULL or an empty one: nothing. */
void media_srtp_free(struct media_srtp *sp);

/*
 * Verify and decrypt a packet the leg sent, in place: p[0..*np) becomes
 * the plain RTP (or RTCP when rtcp) packet and *np its length.  Returns
 * 0 or a MEDIA_SRTP_E_* code (the packet must be dropped).
 */
int media_srtp_unprotect(const struct media_srtp *sp, bool rtcp, uint8_t *p,
			 size_t *np);
/*
 * Encrypt and authenticate a plain packet for the leg, in place; cap is
 * the size of the buffer at p (at least *np + MEDIA_SRTP_TRAILER).
 * Returns 0 or a MEDIA_SRTP_E_* code.
 */
int media_srtp_protect(const struct media_srtp *sp, bool rtcp, uint8_t *p,
		       size_t *np, size_t cap);

/* srtp_xf.c: our transform, AES-CM + HMAC-SHA1 (RFC 3711) and AEAD
 * AES-GCM (RFC 7714) on OpenSSL (see there). */
struct media_srtp_xf;
bool media__srtp_xf_suite(int suite);
/* A context for one direction (rx: verify/decrypt) from master key||salt
 * (of the suite's length).  0, -EINVAL, -ENOMEM or -EIO. */
int media__srtp_xf_new(struct media_srtp_xf **cp, int suite, const uint8_t *key,
		       size_t len, bool rx);
void media__srtp_xf_free(struct media_srtp_xf *c);
/* In place; protect needs MEDIA_SRTP_TRAILER bytes of room after the
 * packet and at least a fixed header.  0 or a MEDIA_SRTP_E_* code. */
int media__srtp_xf_protect(struct media_srtp_xf *c, bool rtcp, uint8_t *p,
			   size_t *np);
int media__srtp_xf_unprotect(struct media_srtp_xf *c, bool rtcp, uint8_t *p,
			     size_t *np);

#endif
