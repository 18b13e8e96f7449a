/*
 * sdp_dtls.h - the SDP attributes of DTLS-SRTP (RFC 5763, RFC 8842):
 * a=fingerprint (RFC 8122 5), a=setup (RFC 4145 4, RFC 5763 5) and
 * a=tls-id (RFC 8842 5): strict parsers that decode into plain structs,
 * formatters for our own SDP, and the role rules of the offer/answer.
 *
 * sdp_parse() already checks a=setup and locates a=fingerprint loosely
 * (sdp_fingerprint_parse); this module is what a DTLS leg relies on, so
 * it decodes the digest bytes and refuses anything it cannot verify.
 *
 * Every function returns 0 (or a length) on success, or the negative of
 * one enum sdp_dtls_err code; sdp_dtls_strerror() names it.
 */
#ifndef SIPGUARD_SIP_SDP_DTLS_H
#define SIPGUARD_SIP_SDP_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/sip.h"

enum {
	SDP_DTLS_MD_MAX = 64,     /* sha-512 */
	SDP_DTLS_MAX_FP = 4,      /* fingerprints kept per section */
	SDP_DTLS_TLS_ID_MIN = 20, /* RFC 8842 5: 20*255 tls-id-char */
	SDP_DTLS_TLS_ID_MAX = 255,
	/* "sha-512 " + 64 hex pairs with colons, and a NUL */
	SDP_DTLS_FP_STRLEN = 8 + SDP_DTLS_MD_MAX * 3,
};

/* RFC 8122 5 hash functions we verify with (md2 and md5 are refused). */
enum sdp_dtls_hash {
	SDP_DTLS_HASH_NONE = 0,
	SDP_DTLS_HASH_SHA1,
	SDP_DTLS_HASH_SHA224,
	SDP_DTLS_HASH_SHA256,
	SDP_DTLS_HASH_SHA384,
	SDP_DTLS_HASH_SHA512,
};

enum sdp_dtls_err {
	SDP_DTLS_OK = 0,
	SDP_DTLS_E_SYNTAX,    /* not "<hash-func> <fingerprint>" */
	SDP_DTLS_E_HASH,      /* hash function unknown or refused (md5) */
	SDP_DTLS_E_HEX,       /* not hex pairs separated by ':' */
	SDP_DTLS_E_LENGTH,    /* digest length differs from the hash's */
	SDP_DTLS_E_TOO_MANY,  /* more than SDP_DTLS_MAX_FP usable */
	SDP_DTLS_E_MISSING,   /* no usable a=fingerprint for the section */
	SDP_DTLS_E_SETUP,     /* a=setup value unknown */
	SDP_DTLS_E_ROLE,      /* a=setup pair without a DTLS client */
	SDP_DTLS_E_TLS_ID,    /* a=tls-id malformed */
	SDP_DTLS_E_DUPLICATE, /* a=tls-id twice in a section */
	SDP_DTLS_E_SPACE,     /* output buffer too small */
	SDP_DTLS_E_ARG,       /* bad argument */
};

/* A decoded fingerprint: the digest of the peer's DER certificate. */
struct sdp_dtls_fp {
	enum sdp_dtls_hash hash;
	uint8_t len; /* digest bytes in md[] */
	uint8_t md[SDP_DTLS_MD_MAX];
};

/* What a DTLS leg needs from one media section of the peer's SDP. */
struct sdp_dtls {
	struct sdp_dtls_fp fp[SDP_DTLS_MAX_FP];
	unsigned nfp;
	unsigned nskipped;    /* fingerprints with hashes we do not use */
	enum sdp_setup setup; /* media level, else session level */
	struct str tls_id;    /* slice into the SDP, empty when absent */
};

const char *sdp_dtls_strerror(int err);
/* "sha-256"... for a hash, "" for SDP_DTLS_HASH_NONE or out of range. */
const char *sdp_dtls_hash_name(enum sdp_dtls_hash h);
/* Digest length in bytes of a hash, 0 when unknown. */
size_t sdp_dtls_hash_len(enum sdp_dtls_hash h);

/*
 * a=fingerprint value (after "fingerprint:"): "<hash-func> <XX:XX:..>",
 * one SP or HTAB between them, nothing after.  The hash name is matched
 * without case (RFC 8122 5 uses lower case, many stacks send upper);
 * the hex is accepted in either case.  The digest must have exactly the
 * length of the hash.  md2/md5/unknown tokens: -SDP_DTLS_E_HASH (the
 * caller may skip those, RFC 8122 5 says to ignore unsupported ones).
 */
int sdp_dtls_fp_parse(struct sdp_dtls_fp *fpp, struct str value);

/*
 * Write "<hash> XX:XX:..." (upper-case hex, RFC 8122 5 UHEX) and a NUL
 * into buf.  Returns the length without the NUL, -SDP_DTLS_E_SPACE when
 * size is too small, -SDP_DTLS_E_ARG for a bad fingerprint.
 */
int sdp_dtls_fp_format(char *buf, size_t size, const struct sdp_dtls_fp *fp);

/* True when both name the same hash and digest (constant time in the
 * digest bytes). */
bool sdp_dtls_fp_eq(const struct sdp_dtls_fp *a, const struct sdp_dtls_fp *b);

/* a=setup value: active, passive, actpass, holdconn (RFC 4145 4, exact
 * lower case as in its ABNF).  Anything else: -SDP_DTLS_E_SETUP. */
int sdp_dtls_setup_parse(enum sdp_setup *sp, struct str value);
/* "active"... for a value, "" for SDP_SETUP_NONE. */
const char *sdp_dtls_setup_name(enum sdp_setup s);

/* a=tls-id value: 20..255 of ALPHA / DIGIT / "+" / "/" / "-" / "_"
 * (RFC 8842 5).  *idp points into value. */
int sdp_dtls_tls_id_parse(struct str *idp, struct str value);
/*
 * Make a fresh tls-id from n random bytes (the caller's CSPRNG): their
 * hex, NUL-terminated.  n must give 20..255 characters (10..127 bytes).
 * Returns the length or -SDP_DTLS_E_SPACE / -SDP_DTLS_E_ARG.
 */
int sdp_dtls_tls_id_make(char *buf, size_t size, const uint8_t *rnd, size_t n);

/*
 * Collect the DTLS parameters of media section i (RFC 8122 5: media-level
 * a=fingerprint lines replace the session-level ones; a=setup likewise;
 * a=tls-id is media-level only, RFC 8842 5).  Every fingerprint line must
 * be well formed (a malformed one fails the section: it cannot be
 * verified against); those with an unknown or refused hash are counted
 * in nskipped.  Fails with -SDP_DTLS_E_MISSING when none is usable.
 */
int sdp_dtls_get(struct sdp_dtls *dp, const struct sdp_sess *s, unsigned i);

/*
 * The a=setup of an answer to an offer saying `offered` (RFC 5763 5:
 * the answerer SHOULD be active when offered actpass; RFC 4145 4: an
 * absent attribute means active in an offer).  holdconn is answered
 * holdconn.  Returns 0 or -SDP_DTLS_E_SETUP.
 */
int sdp_dtls_setup_answer(enum sdp_setup *answerp, enum sdp_setup offered);

/*
 * Whether we are the DTLS client (a=setup:active side, RFC 5763 5) given
 * our a=setup and the peer's.  actpass on one side takes the opposite of
 * the other; an absent remote value counts as RFC 4145's default for the
 * side that sent it (we must say which: remote_is_offer).  Both active,
 * both passive, actpass on both sides or holdconn: -SDP_DTLS_E_ROLE.
 */
int sdp_dtls_role(bool *clientp, enum sdp_setup local, enum sdp_setup remote,
		  bool remote_is_offer);

#endif
