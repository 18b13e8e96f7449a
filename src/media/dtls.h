/*
 * dtls.h - DTLS-SRTP key agreement for one media leg (RFC 5763, RFC 5764)
 * on OpenSSL 3, with no sockets and no clock of its own.
 *
 * A process holds one struct dtls_ctx: our certificate (self-signed
 * ECDSA P-256, generated once, or loaded from files), its sha-256
 * fingerprint for our SDP, and the OpenSSL context.  Each leg that
 * negotiated UDP/TLS/RTP/SAVP(F) holds one struct dtls_conn, owned by the
 * relay thread that owns the leg's socket.  The thread:
 *
 *   - demultiplexes (RFC 7983 7): dtls_is_record() on the first byte;
 *   - feeds each DTLS datagram from the leg's learnt peer to
 *     dtls_conn_input(now) and sends every datagram dtls_conn_output()
 *     gives back to that peer;
 *   - arms its timer at dtls_conn_deadline() and calls
 *     dtls_conn_timer(now) when it fires (retransmission, RFC 6347
 *     4.2.4, and the handshake timeout), then drains output again;
 *   - once dtls_conn_state() is DTLS_CONNECTED, takes the SRTP profile
 *     and keys from dtls_conn_keys() into its SRTP contexts; on
 *     DTLS_FAILED, reports dtls_conn_reason().
 *
 * The peer certificate is verified only against the a=fingerprint lines
 * of the peer's SDP (RFC 5763 5: no CA); a mismatch fails the handshake.
 * Key material stays inside this module and struct dtls_srtp_keys; it is
 * wiped when the connection is freed and never logged.
 *
 * Time: `now` is the caller's monotonic clock in ms.  Retransmission
 * follows OpenSSL's own DTLS timer (1 s doubling to 60 s, RFC 6347
 * 4.2.4.1); dtls_conn_deadline() translates its remaining time into the
 * caller's clock after every call, so the caller's timer wheel is the
 * only thing that wakes the engine.  The handshake timeout is ours.
 */
#ifndef SIPGUARD_MEDIA_DTLS_H
#define SIPGUARD_MEDIA_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/sdp_dtls.h"

enum {
	DTLS_MTU = 1200,           /* largest datagram we send (WebRTC's) */
	DTLS_MAX_DGRAM = 2048,     /* larger inputs are refused unread */
	DTLS_OUT_QUEUE = 8,        /* datagrams held for the caller */
	DTLS_MAX_KEY = 32,         /* AES-256 */
	DTLS_MAX_SALT = 14,        /* AES-CM salt; GCM's is 12 */
	DTLS_MAX_CERT_LIST = 8192, /* bound on a peer's certificate chain */
	DTLS_HANDSHAKE_TIMEOUT_MS = 20000,
	DTLS_MAX_INPUTS = 256,  /* datagrams read before the handshake
				 * must be done (a flood is refused) */
	DTLS_MAX_EARLY = 4,     /* of those, with next-epoch records */
	DTLS_LINGER_MS = 30000, /* OpenSSL state kept after connecting */
};

/* SRTP protection profiles of use_srtp (RFC 5764 4.1.2, RFC 7714 14.2),
 * numbered as in the IANA registry. */
enum dtls_srtp_profile {
	DTLS_SRTP_NONE = 0,
	DTLS_SRTP_AES128_CM_SHA1_80 = 0x0001,
	DTLS_SRTP_AES128_CM_SHA1_32 = 0x0002,
	DTLS_SRTP_AEAD_AES_128_GCM = 0x0007,
	DTLS_SRTP_AEAD_AES_256_GCM = 0x0008,
};

/* Bits of dtls_ctx_conf.profiles. */
enum {
	DTLS_P_AES128_CM_SHA1_80 = 1 << 0,
	DTLS_P_AES128_CM_SHA1_32 = 1 << 1,
	DTLS_P_AEAD_AES_128_GCM = 1 << 2,
	DTLS_P_AEAD_AES_256_GCM = 1 << 3,
	DTLS_P_ALL = 0xf,
};

enum dtls_state {
	DTLS_HANDSHAKE = 0, /* in progress */
	DTLS_CONNECTED,     /* keys available */
	DTLS_FAILED,        /* see dtls_conn_reason(); free the conn */
	DTLS_CLOSED,        /* close_notify sent or received */
};

/* The outcome of a handshake, what the leg's SRTP contexts need.
 * "local" protects what we send, "remote" checks what we receive. */
struct dtls_srtp_keys {
	enum dtls_srtp_profile profile;
	uint8_t key_len;  /* 16 or 32 */
	uint8_t salt_len; /* 14 (AES-CM) or 12 (GCM) */
	uint8_t local_key[DTLS_MAX_KEY];
	uint8_t local_salt[DTLS_MAX_SALT];
	uint8_t remote_key[DTLS_MAX_KEY];
	uint8_t remote_salt[DTLS_MAX_SALT];
};

struct dtls_ctx_conf {
	/* PEM certificate and key; both NULL: generate a self-signed
	 * ECDSA P-256 certificate for this process. */
	const char *cert_file;
	const char *key_file;
	unsigned profiles;             /* DTLS_P_* offered/accepted, 0 = all */
	uint32_t handshake_timeout_ms; /* 0 = DTLS_HANDSHAKE_TIMEOUT_MS */
};

struct dtls_ctx;
struct dtls_conn;

/*
 * Build the process context: certificate, key, OpenSSL DTLS 1.2 context
 * (ECDHE AEAD cipher suites, use_srtp, peer certificate required both
 * ways).  Returns 0, -EINVAL (bad conf, unreadable or mismatched
 * certificate and key), -ENOMEM or -EIO (OpenSSL failure).  The owner
 * (the media layer) frees it with dtls_ctx_free() after every conn.
 * The context may be shared by relay threads: each conn is used by one
 * thread at a time.
 */
int dtls_ctx_new(struct dtls_ctx **ctxp, const struct dtls_ctx_conf *conf);
void dtls_ctx_free(struct dtls_ctx *ctx);
/* Our certificate's sha-256 fingerprint, for our a=fingerprint. */
const struct sdp_dtls_fp *dtls_ctx_fingerprint(const struct dtls_ctx *ctx);

/* RFC 7983 7: a datagram whose first byte is 20..63 is DTLS (STUN is
 * 0..3, ZRTP 16..19, TURN channels 64..79, RTP/RTCP 128..191). */
static inline bool dtls_is_record(const uint8_t *p, size_t n)
{
	return n > 0 && p[0] >= 20 && p[0] <= 63;
}

/*
 * A DTLS endpoint for one leg.  client: we send the ClientHello (our
 * a=setup is active, sdp_dtls_role()).  A server conn must exist before
 * our answer leaves (the peer may send its ClientHello at once).  peer: the
 * fingerprints of the peer's SDP (sdp_dtls_get()), copied; at least one.  A
 * client's first flight is ready in dtls_conn_output() on return.  Returns 0,
 * -EINVAL or -ENOMEM.  Owned by the caller; dtls_conn_free() it.
 */
int dtls_conn_new(struct dtls_conn **connp, struct dtls_ctx *ctx, bool client,
		  const struct sdp_dtls *peer, uint64_t now);
/* Wipes the keys and frees.  NULL does nothing. */
void dtls_conn_free(struct dtls_conn *c);

/*
 * One datagram received from the leg's peer.  Returns the state after
 * it, or -EINVAL when the datagram was refused unread (not DTLS by the
 * first byte, empty, longer than DTLS_MAX_DGRAM, not a well-formed chain
 * of DTLS records, a record epoch we never read, or past the
 * DTLS_MAX_INPUTS / DTLS_MAX_EARLY caps of the handshake), or when the
 * conn is no longer open (failed, closed, shrunk): the caller drops and
 * counts it, and looks at dtls_conn_state().  Records that
 * fail DTLS's own checks are dropped inside, silently (RFC 6347 4.1.2.7).
 */
int dtls_conn_input(struct dtls_conn *c, const uint8_t *p, size_t n,
		    uint64_t now);

/*
 * Next datagram to send to the peer, copied into buf (size >= DTLS_MTU
 * is always enough).  Returns its length, 0 when none is queued, or
 * -ENOSPC when buf is too small (the datagram stays queued).
 */
int dtls_conn_output(struct dtls_conn *c, uint8_t *buf, size_t size);

/* When dtls_conn_timer() must next run, in the caller's clock, or
 * UINT64_MAX when nothing is pending. */
uint64_t dtls_conn_deadline(const struct dtls_conn *c);

/* Run the timers at now: retransmit the last flight if due, fail the
 * handshake past its timeout.  Returns the state. */
int dtls_conn_timer(struct dtls_conn *c, uint64_t now);

enum dtls_state dtls_conn_state(const struct dtls_conn *c);
/* Why the conn failed or closed (fixed text or OpenSSL's static reason
 * string: no key material, nothing from the peer); "" while it is in
 * DTLS_HANDSHAKE or DTLS_CONNECTED. */
const char *dtls_conn_reason(const struct dtls_conn *c);

/*
 * The negotiated SRTP profile and keys (RFC 5764 4.2: the exporter
 * "EXTRACTOR-dtls_srtp" gives client key | server key | client salt |
 * server salt; ours by our role).  Only in DTLS_CONNECTED; -EAGAIN
 * before, -EINVAL after a failure.  The caller wipes *keysp
 * (mem_secclean) once its SRTP contexts hold the keys.
 */
int dtls_conn_keys(const struct dtls_conn *c, struct dtls_srtp_keys *keysp);

/*
 * Free OpenSSL's state of a connected conn (about 70 KB), keeping the
 * keys and DTLS_CONNECTED; later DTLS datagrams are refused.  Call it
 * once the peer is known to have finished its handshake too (the first
 * SRTP packet from it that authenticates): until then it may need our
 * last flight again (RFC 6347 4.2.4).  dtls_conn_timer() does it
 * DTLS_LINGER_MS after connecting anyway.
 */
void dtls_conn_shrink(struct dtls_conn *c);

/* Send close_notify (queued in output, unless shrunk) and enter
 * DTLS_CLOSED. */
void dtls_conn_close(struct dtls_conn *c);

/* Counters for the leg's statistics. */
struct dtls_conn_stats {
	uint64_t in_dgrams;   /* fed to OpenSSL */
	uint64_t in_refused;  /* refused unread by dtls_conn_input */
	uint64_t out_dgrams;  /* produced */
	uint64_t out_dropped; /* output queue full */
	uint64_t retransmits; /* timer expiries that resent a flight */
};
void dtls_conn_stats(const struct dtls_conn *c, struct dtls_conn_stats *sp);
/* sizeof(struct dtls_conn), for memory accounting. */
size_t dtls_conn_size(void);

/* "AES128_CM_SHA1_80"... for a profile, "" otherwise. */
const char *dtls_srtp_profile_name(enum dtls_srtp_profile p);

#endif
