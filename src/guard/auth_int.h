/*
 * auth_int.h - private to the auth module (auth.c, authfail.c, creds.c,
 * passthru.c): the struct auth layout and helpers they share.
 */
#ifndef SIPGUARD_GUARD_AUTH_INT_H
#define SIPGUARD_GUARD_AUTH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/siphash.h"
#include "guard/auth.h"

enum {
	AUTH__WAYS = 4,      /* entries per bucket of every fixed table */
	AUTH__HASH_MAX = 32, /* SHA-256 */
	AUTH__SECRET_LEN = 32,
	AUTH__CLASSES = 3, /* REGISTER, INVITE, other methods */
	AUTH__TMPL_MAX = GUARD_EXTRA_MAX - 32, /* learnt answer headers */
	AUTH__TMPL_NONCES = 4,                 /* nonces in one learnt answer */
	AUTH__NONCE_MAX = 256,                 /* longest PBX nonce we mimic */
	AUTH__REASON_MAX = 64,
};

enum auth__cls {
	AUTH__CLS_REGISTER = 0,
	AUTH__CLS_INVITE,
	AUTH__CLS_OTHER,
};

/* A learnt PBX answer: status, reason, its header lines (without Via,
 * From, To, Call-ID, CSeq, Date) and where its nonces sit. */
struct auth__tmpl {
	bool set;
	bool challenge; /* 401/407 (else e.g. 403) */
	uint16_t status;
	char reason[AUTH__REASON_MAX];
	char hdrs[AUTH__TMPL_MAX];
	size_t len;
	struct {
		uint16_t off, len;
	} nonce[AUTH__TMPL_NONCES];
	unsigned nnonce;
};

/* nc replay table entry (local mode). */
struct auth__nc {
	uint64_t key; /* keyed hash of the nonce; 0: empty */
	uint64_t ts;  /* the nonce's timestamp */
	uint32_t nc;  /* highest nc accepted */
};

/* A nonce sipguard made up in a PBX's name (pass-through). */
struct auth__fake {
	uint64_t key;
	uint64_t until;
};

struct auth {
	struct auth_conf conf;
	struct str realm;                 /* into conf.realm */
	struct creds *creds;              /* owned; local mode */
	struct authfail *fail;            /* owned */
	uint8_t secret[AUTH__SECRET_LEN]; /* nonce HMAC key */
	uint8_t dummy[AUTH__SECRET_LEN];  /* unknown users' HA1 key */
	uint8_t hkey[SIPHASH_KEY_LEN];    /* nonce table hashing */
	struct auth__nc *nc;
	size_t nc_mask;    /* buckets - 1 */
	uint64_t nc_floor; /* newest evicted live nonce ts */
	struct auth__fake *fake;
	size_t fake_mask;
	/* [class][0]: challenge to a request without credentials,
	 * [class][1]: failure answer to one with credentials. */
	struct auth__tmpl tmpl[AUTH__CLASSES][2];
	char line[32 + AUTH__REASON_MAX]; /* auth_pt_apply() */
};

/* Digest of the concatenated parts with MD5 or SHA-256.  Returns the
 * digest length, or -EIO. */
int auth__hash(unsigned alg, const struct str *parts, unsigned n, uint8_t *out);
/* RFC 7616 3.4.1 response with qop=auth; ha1 is the HA1 in hex.
 * Writes the binary digest, returns its length or -EIO. */
int auth__response(unsigned alg, struct str ha1, struct str nonce,
		   struct str nc, struct str cnonce, struct str qop,
		   struct str method, struct str uri, uint8_t *dig);
void auth__hex(char *dst, const uint8_t *src, size_t n);
/* Lower-case hex of exactly 2*n digits into n bytes; -EINVAL if not. */
int auth__unhex(uint8_t *dst, struct str hex, size_t n);
enum auth__cls auth__class(enum sip_method m);
/* Fill a local-style challenge (401/407) into v; the nonce is fresh
 * (bound to src) unless `nonce` is given.  Returns 0 or -EIO. */
int auth__challenge(struct auth *a, struct guard_verdict *v, enum auth__cls cls,
		    const struct guard_src *src, uint64_t now_ms, bool stale,
		    const char *rule);
/* The uniform failure answer of local mode. */
void auth__forbidden(struct guard_verdict *v, const char *rule);
/* Turn a failure outcome into the verdict for it. */
void auth__outcome(struct guard_verdict *v, enum authfail_outcome o);
/* The user name of a request for counting: Digest username of the
 * first credentials, unescaped into buf; empty when none. */
struct str auth__unquote(char *buf, size_t bufsz, struct str quoted);
/* Request facts shared by both modes. */
bool auth__exempt(const struct sip_msg *m);
/* Pass-through: was nonce made up by us (and still valid)? */
bool auth__pt_fake(struct auth *a, struct str nonce, uint64_t now_ms);
/* Copy len bytes of the learnt failure answer etc. (passthru.c) */
int auth__pt_fail_reply(struct auth *a, struct guard_verdict *v,
			enum auth__cls cls, uint64_t now_ms, const char *rule);

#endif
