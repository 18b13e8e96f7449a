/*
 * auth.h - the guard's authentication module: local Digest authentication
 * of untrusted-zone requests, pass-through observation of the PBX's own
 * authentication, password brute-force accounting and anti-enumeration.
 *
 * RFC 3261 22 (Digest in SIP), RFC 8760 (SHA-256 and MD5 challenges),
 * RFC 7616 3.4 (response computation, qop=auth, nc).
 *
 * Two modes (struct auth_conf.mode):
 *
 *   AUTH_LOCAL        sipguard itself challenges every initial request of
 *                     the untrusted zone and verifies the answer against a
 *                     credentials file of HA1 hashes (creds_*).  Only
 *                     authenticated requests reach the PBX: auth_check().
 *   AUTH_PASSTHROUGH  the PBX authenticates; sipguard watches the request
 *                     (auth_pt_request()) and the PBX's answer
 *                     (auth_pt_answer()), counts failures, and rewrites
 *                     answers that would tell an unknown user from a
 *                     known one (auth_pt_apply()).
 *
 * In both modes failures are counted per source, per user and per
 * user@source (authfail_*) in fixed tables, see docs/anti-enumeration.md.
 *
 * Time: now_ms is the loop's monotonic clock in milliseconds.  Nothing
 * here sleeps, blocks or does I/O except creds_load().
 * One struct auth belongs to one loop thread; it is not thread-safe.
 *
 * Verdict rule names (static strings, see guard_types.h):
 *   "auth-challenge"          routine 401/407 challenge (not an attack)
 *   "auth-stale"              challenge with stale=true (nonce expired)
 *   "auth-nonce-replay"       nc not above the last accepted one
 *   "auth-failed"             wrong password or unknown user (403)
 *   "auth-user-locked"        the user is locked: uniform failure answer
 *   "auth-bruteforce-userip"  this user from this source: dropped
 *   "auth-bruteforce-ip"      too many failures from this source: ban
 *   "auth-normalised"         pass-through answer rewritten (anti-enum)
 *   "auth-error"              internal failure (crypto, memory): drop
 */
#ifndef SIPGUARD_GUARD_AUTH_H
#define SIPGUARD_GUARD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/str.h"
#include "guard/guard_types.h"
#include "sip/sip.h"

enum auth_mode {
	AUTH_OFF = 0,
	AUTH_LOCAL,
	AUTH_PASSTHROUGH,
};

/* Algorithms offered (bit set).  Both: SHA-256 is offered first. */
enum {
	AUTH_ALG_MD5 = 1u << 0,
	AUTH_ALG_SHA256 = 1u << 1,
};

enum {
	AUTH_REALM_MAX = 128, /* bytes of the realm, NUL included */
	AUTH_PATH_MAX = 4096,
	AUTH_USER_MAX = 128, /* longest user name we look up */
	AUTH_ERR_MAX = 256,  /* error text of auth_new()/creds_*() */
};

/* Brute-force thresholds.  Defaults in brackets (auth_conf_default()). */
struct auth_fail_conf {
	uint32_t window_ms; /* sliding window of every counter [600 s] */
	uint32_t ip_max;    /* failures from one source: ban it [10] */
	uint32_t ip_known_good_max; /* same for a known-good source; 0:
				     * never ban one [100] */
	uint32_t user_max;          /* failures for one user, any source:
				     * lock the user [20] */
	uint32_t userip_max;        /* failures of one user from one source:
				     * drop that pair [5] */
	uint32_t user_lock_ms;      /* how long a user stays locked [900 s] */
	uint32_t userip_block_ms;   /* how long a pair is dropped [900 s] */
	uint32_t known_good_ms;     /* a source that authenticated is
				     * trusted this long after its last
				     * success [1 day] */
	uint32_t ip_slots;          /* table sizes, rounded up to a power of
				     * two [4096] */
	uint32_t user_slots;        /* [4096] */
	uint32_t userip_slots;      /* [8192] */
};

struct auth_conf {
	enum auth_mode mode; /* [AUTH_OFF] */
	/* Local: our realm.  Pass-through: the PBX's realm, used only
	 * until a real PBX challenge has been seen (see passthru.c). */
	char realm[AUTH_REALM_MAX];     /* [""] */
	char creds_path[AUTH_PATH_MAX]; /* local mode [""] */
	unsigned algs;                  /* AUTH_ALG_* offered [MD5 | SHA256] */
	uint32_t nonce_ttl_ms;          /* nonce lifetime [300 s] */
	uint32_t nonce_slots;           /* nc replay table [4096] */
	/* The REGISTER To user, or the From user of other requests, must
	 * equal the authenticated user name [true]: stops one account
	 * registering or calling as another. */
	bool match_identity;
	bool normalise;            /* pass-through anti-enumeration [true] */
	uint32_t fake_nonce_slots; /* pass-through made-up nonces [4096] */
	struct auth_fail_conf fail;
};

void auth_conf_default(struct auth_conf *c);

/* ------------------------------------------------------- credentials */

/*
 * The credentials file: one entry per line,
 *     user:realm:ha1-md5[:ha1-sha256]
 * where ha1-md5 is 32 hex digits of MD5(user:realm:password) or empty,
 * ha1-sha256 64 hex digits of SHA-256(user:realm:password); at least
 * one of them.  Blank lines and lines starting with '#' (after optional
 * white space) are ignored; spaces and tabs around fields are trimmed.
 * A user name and realm may not contain ':', control characters or
 * white space.  A (user, realm) pair may appear only once.
 *
 * Owner: whoever holds the pointer; creds_free() wipes every HA1.
 */
struct creds;

enum {
	CREDS_MAX_LINE = 1024, /* bytes of one line */
	CREDS_MAX_ENTRIES = 1000000,
	CREDS_MAX_FILE = 64 << 20, /* bytes of the whole file */
};

/* Where a credentials file failed: 1-based line and a static reason. */
struct creds_err {
	unsigned line;
	const char *reason;
};

/*
 * Parse a whole credentials text.  Returns 0 and *credsp, or -EINVAL
 * (*errp says which line and why), -ENOMEM, -E2BIG (too many entries).
 * The text is not kept: the caller may wipe it afterwards.
 */
int creds_parse(struct creds **credsp, struct str text, struct creds_err *errp);
/*
 * Read and parse a file (at most CREDS_MAX_FILE bytes).  The read copy is
 * wiped before it is freed.  Errors as creds_parse(), plus -errno from
 * open/read; err (may be NULL) gets "path:line: reason".
 */
int creds_load(struct creds **credsp, const char *path, char *err,
	       size_t errsz);
void creds_free(struct creds *c);
size_t creds_count(const struct creds *c);
/*
 * The HA1 of (user, realm) for one algorithm (AUTH_ALG_MD5 or
 * AUTH_ALG_SHA256) as lower-case hex, or NULL when there is no such
 * user or no HA1 for that algorithm.  Valid until creds_free().
 */
const char *creds_ha1(const struct creds *c, struct str user, struct str realm,
		      unsigned alg);
/*
 * 0 when every entry of `realm` has an HA1 for each algorithm in algs;
 * else -ENOENT and *userp names the first entry lacking one.  Offering
 * SHA-256 while a user has only an MD5 HA1 would lock that user out.
 */
int creds_check_algs(const struct creds *c, struct str realm, unsigned algs,
		     struct str *userp);

/*
 * One line, pure: no allocation, no I/O.  Returns 1 and *linep for an
 * entry, 0 for a blank or comment line, -EINVAL with a static *reasonp.
 * Slices point into `line`.
 */
struct creds_line {
	struct str user, realm, ha1_md5, ha1_sha256;
};
int creds_parse_line(struct creds_line *linep, struct str line,
		     const char **reasonp);

/* --------------------------------------------------- failure accounting */

/*
 * Per-source, per-user and per-user@source failure counters (sliding
 * windows, fixed tables, keyed hashes), user locks, pair blocks and the
 * known-good memory.  Used by both modes; exposed for tests and status.
 */
struct authfail;

struct authfail_key {
	struct guard_src src;
	uint64_t src_h, user_h, pair_h; /* keyed hashes; 0: no user */
	uint64_t cl_user_h; /* the user under the cluster's key; 0: none */
};

enum authfail_state {
	AUTHFAIL_OK = 0,
	AUTHFAIL_PAIR_BLOCKED, /* drop: "auth-bruteforce-userip" */
	AUTHFAIL_USER_LOCKED,  /* uniform failure: "auth-user-locked" */
};

enum authfail_outcome {
	AUTHFAIL_COUNTED = 0, /* answer with the uniform failure */
	AUTHFAIL_BLOCK_PAIR,  /* this failure blocked the pair: drop */
	AUTHFAIL_BAN_IP,      /* this failure banned the source: drop */
};

int authfail_new(struct authfail **fp, const struct auth_fail_conf *c);
void authfail_free(struct authfail *f);
/* Build the keys of (source, user); an empty user gives user_h = 0. */
void authfail_key(const struct authfail *f, struct authfail_key *k,
		  const struct sg_addr *from, struct str user);
/* Before verifying credentials: may this user try from this source? */
enum authfail_state authfail_check(struct authfail *f,
				   const struct authfail_key *k,
				   uint64_t now_ms);
/*
 * Count one failure.  count_user false: only the source and the pair
 * count (attempts that were refused without being verified).
 */
enum authfail_outcome authfail_failure(struct authfail *f,
				       const struct authfail_key *k,
				       bool count_user, uint64_t now_ms);
/* A verified success: the source becomes known-good, the pair clean. */
void authfail_success(struct authfail *f, const struct authfail_key *k,
		      uint64_t now_ms);
bool authfail_known_good(struct authfail *f, const struct guard_src *s,
			 uint64_t now_ms);
/*
 * Told of every failure counted against a source (rate_share.c, issue 9):
 * its local count after it, the limit that applies to it and the window.
 * NULL removes it.
 */
typedef void authfail_hook_fn(void *arg, const struct guard_src *src,
			      uint32_t count, uint32_t limit,
			      uint64_t window_ms, uint64_t now_ms);
void authfail_set_hook(struct authfail *f, authfail_hook_fn *fn, void *arg);
/*
 * Per-user failures across instances (rate_share.c, issue 9).  The
 * cluster key (store_user_key(), 16 bytes; NULL: none) makes
 * authfail_key() fill cl_user_h, the user's name in shared counters;
 * the user hook is then told of every failure counted against a user:
 * its cluster name, its local hash (for authfail_lock_user), the local
 * count after it, user_max and the window.  NULL removes them.
 */
typedef void authfail_user_hook_fn(void *arg, uint64_t cl_user_h,
				   uint64_t user_h, uint32_t count,
				   uint32_t limit, uint64_t window_ms,
				   uint64_t now_ms);
void authfail_set_user_hook(struct authfail *f, const uint8_t *cluster_key,
			    authfail_user_hook_fn *fn, void *arg);
/* Lock the user of local hash user_h for user_lock_ms from now (its
 * failures crossed user_max across the cluster).  True if it was not
 * locked before; false too when user_h is 0. */
bool authfail_lock_user(struct authfail *f, uint64_t user_h, uint64_t now_ms);
/* Current (weighted) failure counts, for tests and status output. */
uint32_t authfail_count_src(struct authfail *f, const struct authfail_key *k,
			    uint64_t now_ms);
uint32_t authfail_count_user(struct authfail *f, const struct authfail_key *k,
			     uint64_t now_ms);
uint32_t authfail_count_pair(struct authfail *f, const struct authfail_key *k,
			     uint64_t now_ms);

/* ------------------------------------------------------------ the module */

struct auth;

/*
 * Create the module.  Local mode takes ownership of creds (required);
 * pass-through and off ignore it (pass NULL).  Draws its secrets with
 * RAND_bytes.  Returns 0, -EINVAL (bad conf, or a user lacks an HA1 for
 * an offered algorithm: err says which), -ENOMEM, -EIO (no randomness).
 * On error creds is freed.  auth_free(NULL) does nothing; it wipes every
 * secret.
 */
int auth_new(struct auth **ap, const struct auth_conf *c, struct creds *creds,
	     char *err, size_t errsz);
void auth_free(struct auth *a);
/* Reload: take new credentials (ownership), keep counters and nonces.
 * Same checks and error values as auth_new(); on error the old ones stay
 * and the new ones are freed. */
int auth_swap_creds(struct auth *a, struct creds *creds, char *err,
		    size_t errsz);
struct authfail *auth_failures(struct auth *a);

/* ---------------------------------------------------------- local mode */

/*
 * Check an untrusted-zone request in local mode.
 *
 * ACK, CANCEL (they cannot be challenged, RFC 3261 22.1) and in-dialog
 * requests (To tag present) PASS: the proxy must refuse in-dialog
 * requests that match no dialog.  Call once per new server transaction,
 * not for retransmissions (their nc would look replayed).
 *
 * REGISTER is answered 401 with WWW-Authenticate, every other method 407
 * with Proxy-Authenticate; the client's answer is read from
 * Authorization or Proxy-Authorization respectively, whichever entry
 * carries our realm.
 *   no credentials            REPLY 401/407, challenge in v->extra
 *   valid                     PASS; strip auth_cred_hdr() before
 *                             forwarding (the PBX never sees our nonce)
 *   valid but nonce expired   REPLY 401/407 with stale=true
 *   nonce not ours / other IP REPLY 401/407 (fresh challenge, not counted)
 *   nc replayed               REPLY 401/407 stale=true, not counted
 *   wrong password, unknown   REPLY 403 Forbidden, no extra headers,
 *   user, bad parameters      counted; the same bytes whoever the user
 *   locked user               the same 403 (unless known-good source)
 *   threshold reached         DROP (pair blocked, or ban: v->ban)
 * Returns 0, or -EIO/-EINVAL on an internal failure (v: DROP, fail
 * closed, rule "auth-error").
 */
int auth_check(struct auth *a, const struct sip_msg *m,
	       const struct sg_addr *from, uint64_t now_ms,
	       struct guard_verdict *v);
/* The same for an in-dialog request (with a To-tag), which auth_check()
 * exempts: a call party proving itself from a new address (guard.dialog
 * rebind: authenticated).  ACK and CANCEL stay exempt. */
int auth_check_dialog(struct auth *a, const struct sip_msg *m,
		      const struct sg_addr *from, uint64_t now_ms,
		      struct guard_verdict *v);
/* The header auth_check() accepted (ours: the PBX must not see it), or
 * NULL.  Remove it with sip_bld_remove() before forwarding. */
const struct sip_hdr *auth_cred_hdr(const struct auth *a,
				    const struct sip_msg *m);

/* ---------------------------------------------------- pass-through mode */

/* What the proxy keeps with the transaction between request and answer. */
struct auth_pt_note {
	struct authfail_key key;
	uint8_t cls; /* method class: REGISTER, INVITE, other */
	bool active; /* false: nothing to observe */
	bool creds;  /* the request carried Digest credentials */
};

/*
 * Pass-through, request side (untrusted zone, before forwarding).
 * Fills *note for auth_pt_answer().  Verdicts:
 *   PASS    forward (note->active says whether to observe the answer)
 *   DROP    pair blocked ("auth-bruteforce-userip"), or banned
 *   REPLY   answered locally with the PBX's own failure answer as
 *           learnt (locked user; second round of an unknown user whose
 *           challenge sipguard made up).  Build it with auth_pt_reply().
 */
int auth_pt_request(struct auth *a, const struct sip_msg *m,
		    const struct sg_addr *from, uint64_t now_ms,
		    struct auth_pt_note *note, struct guard_verdict *v);
/*
 * Pass-through, answer side: a final response of the PBX to a request
 * noted active.  Counts 401/407 (not stale) and 403/404/484/604 to a
 * request with credentials as failures and 2xx as successes, learns the
 * PBX's challenge and failure answers, and (conf.normalise) decides
 * whether the answer would give an unknown user away.  Verdicts:
 *   PASS    forward the PBX's answer unchanged
 *   REPLY   rewrite it: auth_pt_apply() ("auth-normalised")
 *   DROP    the failure banned the source or blocked the pair: drop it
 * v->reason and v->extra may point into *a: use them before the next
 * auth_* call.
 */
int auth_pt_answer(struct auth *a, const struct auth_pt_note *note,
		   const struct sip_msg *resp, uint64_t now_ms,
		   struct guard_verdict *v);
/*
 * Record the edits that turn the PBX's answer resp into v's answer:
 * new status line, every header but Via, From, To, Call-ID and CSeq
 * removed, the body dropped, v->extra appended (it holds its own
 * Content-Length).  The caller adds its own edits (its Via) and calls
 * sip_bld_write() before the next auth_* call.  Returns 0 or -EINVAL.
 */
int auth_pt_apply(struct auth *a, struct sip_bld *b, const struct sip_msg *resp,
		  const struct guard_verdict *v);
/*
 * Build a REPLY verdict of auth_pt_request() as a stateless response
 * to req (sip_reply() plus v->extra, whose Content-Length line is
 * dropped because sip_reply() adds its own).  Returns as sip_reply().
 */
int auth_pt_reply(struct buf *out, const struct sip_msg *req, struct str to_tag,
		  const struct guard_verdict *v);

#endif
