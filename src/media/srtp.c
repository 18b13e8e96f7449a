/*
 * srtp.c - SRTP/SRTCP termination on a media leg (RFC 3711; suites of
 * RFC 4568 6.2, RFC 6188, RFC 7714): contexts made from one master key
 * per direction, in-place protect/unprotect, and the relay thread's two
 * hooks (what a leg sent us, what we send a leg).  Every suite without
 * MKI (AES-CM + HMAC-SHA1 and AEAD AES-GCM) runs on our own transform
 * over OpenSSL (srtp_xf.c with srtp_cm.c and srtp_gcm.c, for speed: see
 * there); MKI keys, rare in practice, on libsrtp2.
 *
 * Every packet from an SRTP leg is authenticated (and replay-checked
 * over MEDIA_SRTP_REPLAY_WINDOW packets) before anything else looks at
 * it; a packet that fails is dropped and counted, never relayed.  No
 * allocation per packet: both transforms work in our receive buffer,
 * which has MEDIA_SRTP_TRAILER bytes of room past any packet we protect.
 * Both keep state per SSRC they see; on rx only after a packet of that
 * SSRC authenticated, so only the key holder can add streams.
 *
 * Keys: the caller's copies are only borrowed; the transforms expand
 * them into their contexts and zero those when they are freed
 * (media__srtp_xf_free, srtp_dealloc).
 * Nothing here logs or reports key material.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "media/media_int.h"
#include "media/srtp.h"
#include "sip/sip.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_err;

static void do_init(void)
{
	init_err = srtp_init() == srtp_err_status_ok ? 0 : -EIO;
}

int media_srtp_init(void)
{
	pthread_once(&once, do_init);
	return init_err;
}

/* RTP and RTCP policies of a suite; false if not one of ours.  The
 * _32 suite keeps an 80-bit tag on SRTCP (RFC 4568 6.2.2). */
static bool suite_policy(int suite, srtp_crypto_policy_t *rtp,
			 srtp_crypto_policy_t *rtcp)
{
	switch (suite) {
	case SDP_SRTP_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp);
		return true;
	case SDP_SRTP_AES_CM_128_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp);
		return true;
	case SDP_SRTP_AES_256_CM_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtcp);
		return true;
	case SDP_SRTP_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(rtcp);
		return true;
	case SDP_SRTP_AEAD_AES_256_GCM:
		srtp_crypto_policy_set_aes_gcm_256_16_auth(rtp);
		srtp_crypto_policy_set_aes_gcm_256_16_auth(rtcp);
		return true;
	default:
		return false;
	}
}

bool media_srtp_suite_ok(int suite)
{
	srtp_crypto_policy_t a, b;

	return suite_policy(suite, &a, &b);
}

/* One session with one wildcard stream: inbound (rx) or outbound. */
static int make_one(srtp_t *sp, const struct media_srtp_dir *d, bool rx)
{
	srtp_master_key_t mk, *mkp = &mk;
	uint8_t key[SDP_SRTP_KEY_MAX], mki[8];
	srtp_policy_t pol;
	unsigned i;
	int err = 0;

	memset(&pol, 0, sizeof(pol));
	if (!suite_policy(d->suite, &pol.rtp, &pol.rtcp) || !d->key ||
	    d->key_len != sdp_srtp_key_len(d->suite) || d->mki_len > 8)
		return -EINVAL;
	/* libsrtp2 wants a non-const key buffer: a short-lived copy. */
	memcpy(key, d->key, d->key_len);
	pol.ssrc.type = rx ? ssrc_any_inbound : ssrc_any_outbound;
	pol.window_size = MEDIA_SRTP_REPLAY_WINDOW;
	if (d->mki_len) {
		for (i = 0; i < d->mki_len; i++)
			mki[i] =
				(uint8_t)(d->mki >> (8 * (d->mki_len - 1 - i)));
		mk.key = key;
		mk.mki_id = mki;
		mk.mki_size = d->mki_len;
		pol.keys = &mkp;
		pol.num_master_keys = 1;
	} else {
		pol.key = key;
	}
	if (srtp_create(sp, &pol) != srtp_err_status_ok) {
		*sp = NULL;
		err = -EIO;
	}
	explicit_bzero(key, sizeof(key));
	return err;
}

/* One direction: our transform when it can (no MKI), else libsrtp2. */
static int make_dir(void **pp, bool *xfp, const struct media_srtp_dir *d,
		    bool rx)
{
	*xfp = media__srtp_xf_suite(d->suite) && !d->mki_len;
	if (*xfp)
		return media__srtp_xf_new((struct media_srtp_xf **)pp, d->suite,
					  d->key, d->key_len, rx);
	return make_one((srtp_t *)pp, d, rx);
}

static void free_dir(void *p, bool xf)
{
	if (p && xf)
		media__srtp_xf_free(p);
	else if (p)
		srtp_dealloc(p);
}

int media_srtp_make(struct media_srtp *sp, const struct media_srtp_dir *rx,
		    const struct media_srtp_dir *tx)
{
	int err;

	if (!sp)
		return -EINVAL;
	memset(sp, 0, sizeof(*sp));
	err = media_srtp_init();
	if (!err && rx)
		err = make_dir(&sp->rx, &sp->rx_xf, rx, true);
	if (!err && tx)
		err = make_dir(&sp->tx, &sp->tx_xf, tx, false);
	if (err) {
		media_srtp_free(sp);
		return err;
	}
	sp->rx_mki = rx && rx->mki_len;
	return 0;
}

void media_srtp_free(struct media_srtp *sp)
{
	if (!sp)
		return;
	free_dir(sp->rx, sp->rx_xf);
	free_dir(sp->tx, sp->tx_xf);
	memset(sp, 0, sizeof(*sp));
}

static int map_err(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_ok:
		return 0;
	case srtp_err_status_auth_fail:
		return MEDIA_SRTP_E_AUTH;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		return MEDIA_SRTP_E_REPLAY;
	default:
		return MEDIA_SRTP_E_OTHER;
	}
}

int media_srtp_unprotect(const struct media_srtp *sp, bool rtcp, uint8_t *p,
			 size_t *np)
{
	int len;
	srtp_err_status_t st;

	if (!sp->rx || *np > INT_MAX || *np < (rtcp ? 8u : 12u))
		return MEDIA_SRTP_E_OTHER;
	if (sp->rx_xf)
		return media__srtp_xf_unprotect(sp->rx, rtcp, p, np);
	len = (int)*np;
	if (rtcp)
		st = srtp_unprotect_rtcp_mki(sp->rx, p, &len, sp->rx_mki);
	else
		st = srtp_unprotect_mki(sp->rx, p, &len, sp->rx_mki);
	if (st != srtp_err_status_ok)
		return map_err(st);
	*np = (size_t)len;
	return 0;
}

int media_srtp_protect(const struct media_srtp *sp, bool rtcp, uint8_t *p,
		       size_t *np, size_t cap)
{
	int len;
	srtp_err_status_t st;

	/* The transforms write the trailer without knowing the buffer
	 * size. */
	if (!sp->tx || *np > INT_MAX || cap < *np + MEDIA_SRTP_TRAILER ||
	    *np < (rtcp ? 8u : 12u))
		return MEDIA_SRTP_E_OTHER;
	if (sp->tx_xf)
		return media__srtp_xf_protect(sp->tx, rtcp, p, np);
	len = (int)*np;
	st = rtcp ? srtp_protect_rtcp(sp->tx, p, &len)
		  : srtp_protect(sp->tx, p, &len);
	if (st != srtp_err_status_ok)
		return map_err(st);
	*np = (size_t)len;
	return 0;
}

/* ------------------------------------------------ relay thread hooks */

void media__srtp_install(struct media_leg_rt *rt, struct media_srtp *sp)
{
	media_srtp_free(&rt->srtp);
	rt->srtp = *sp;
	memset(sp, 0, sizeof(*sp));
}

int media__srtp_rx(struct media_stream *s, unsigned leg, bool rtcp, uint8_t *p,
		   size_t *np)
{
	struct media_leg_stats *st = &s->st[leg];
	int err = media_srtp_unprotect(&s->rt[leg].srtp, rtcp, p, np);

	if (!err)
		return 0;
	MEDIA_ADD(st->dropped, 1);
	if (err == MEDIA_SRTP_E_REPLAY)
		MEDIA_ADD(st->srtp_replay, 1);
	else
		MEDIA_ADD(st->srtp_auth, 1);
	return err;
}

int media__srtp_tx(struct media_stream *s, unsigned leg, unsigned from,
		   bool rtcp, uint8_t *p, size_t *np, size_t cap)
{
	int err = media_srtp_protect(&s->rt[leg].srtp, rtcp, p, np, cap);

	/* A repeated sequence number from the plain side (neither
	 * transform encrypts two packets under one index): lost, as on a
	 * net. */
	if (err)
		MEDIA_ADD(s->st[from].dropped, 1);
	return err;
}
