/*
 * inspect.h - the guard's checks after parsing: per-source rate limits by
 * method class, a per-target-user limit, scanner detection (User-Agent
 * fingerprints, message structure of known tools, behaviour) and
 * overload protection.
 *
 * Where it sits: transport -> gate (bans, pre-parse buckets) -> SIP parse
 * -> inspect -> transactions.  The proxy calls inspect_request() for every
 * parsed request and inspect_response() for every final answer a request
 * from the untrusted zone got (from the PBX or from sipguard itself), and
 * reports its transaction-pool usage with inspect_set_load().
 *
 * Decisions (the rule names are static strings, counted in hits[]):
 *
 *   rate-invite, rate-register, rate-options, rate-subscribe,
 *   rate-message, rate-other
 *	One source sent more requests of that class than `max` in the last
 *	`window_ms`.  DROP, silently, no ban: a flood is not answered (an
 *	answer costs us bandwidth and, over UDP with a spoofed source,
 *	reflects traffic at a victim); a real client over the limit
 *	retransmits (RFC 3261 Timer A/E) and gets through once the window
 *	slides.  With conf.rate_reply_503 the non-ACK classes are answered
 *	503 + Retry-After instead (for trunks that should fail over).
 *   rate-user
 *	All untrusted sources together sent more than user.max requests
 *	for one target user (REGISTER: the To user; others: the
 *	Request-URI user) in the window: distributed brute force or call
 *	bombing.  DROP, no ban (the sources may be innocent).  In-dialog
 *	requests are not counted.
 *   scanner-ua
 *	User-Agent contains (case-insensitively) an entry of the
 *	fingerprint list (etc/scanners.txt, or the built-in defaults).
 *	DROP + ban.
 *   scanner-structure
 *	The message is built the way a known attack tool builds it
 *	(SIPVicious: Via branch, Call-ID and From tag formats, header
 *	order, Digest parameter layout; nmap; ...).  Scored, see
 *	inspect_structure_score(); independent of the User-Agent.
 *	DROP + ban.
 *   scanner-users
 *	One source tried many distinct target users and never "resolved"
 *	them.  A user is resolved when the source sends a request with
 *	credentials for it, or it gets a final answer other than
 *	401/403/404/407/484 for it.  Phones behind one NAT register many
 *	users from one address but each of them answers its challenge
 *	within a second; an enumerator (svwar) never does.  Users tried in
 *	the previous window and still unresolved once users.grace_ms has
 *	passed are counted against users_max; unresolved users of the
 *	current window against users_burst (fast enumeration).  Counts are
 *	approximate: 256-bit bitmaps of keyed hashes.  DROP + ban.
 *   scanner-options
 *	Out-of-dialog OPTIONS from one source aimed at more than
 *	options_targets distinct targets (Request-URI host:port and the
 *	listener it arrived on) in the window: a sweep.  Keep-alive
 *	OPTIONS of many phones behind one NAT all hit the same target.
 *	DROP + ban.
 *   scanner-failures (from inspect_response)
 *	401/403/404/407/484 answers to one source, minus its 2xx answers
 *	(challenges followed by success are normal), above fail.max in
 *	the window: enumeration or password guessing.  The answer is
 *	dropped (the scanner gets nothing) and the source banned.  The
 *	guard does not report a 401/407 to a request without credentials
 *	(every login starts with one; see guard_answer()).
 *   scanner-held
 *	A source already found to be a scanner (any rule above) keeps
 *	being dropped for scanner_hold_ms, in case the gate's ban is
 *	missing or expired; its answers are dropped too.
 *   overload
 *	Load (inspect_set_load) >= overload_invite_pct: new INVITEs (not
 *	in-dialog) from the untrusted zone get 503 + "Retry-After: N".
 *	Load >= overload_all_pct: every out-of-dialog untrusted request
 *	except ACK and CANCEL.  In-dialog and trusted-zone requests always
 *	pass this check.
 *
 * The trusted zone is not inspected at all unless conf.limit_trusted
 * (then rates, per-user limit and scanner checks apply; overload never).
 * A rule whose bit is set in conf.monitor_mask produces a verdict with
 * monitor = true (log only); evaluation goes on, and an enforcing rule
 * that fires later wins.
 *
 * Memory: every table is allocated by inspect_new() and has a fixed
 * size; a full table evicts its least recently used entry.  Nothing is
 * allocated per request.  Source and user keys are hashed with SipHash
 * under a random key.  Not thread-safe: one instance per event loop.
 */
#ifndef SIPGUARD_GUARD_INSPECT_H
#define SIPGUARD_GUARD_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/str.h"
#include "guard/guard_types.h"
#include "sip/sip.h"
#include "sip/sip_peer.h"

/* Method classes with their own per-source limit. */
enum inspect_class {
	INSPECT_C_INVITE = 0,
	INSPECT_C_REGISTER,
	INSPECT_C_OPTIONS,
	INSPECT_C_SUBSCRIBE,
	INSPECT_C_MESSAGE,
	INSPECT_C_OTHER, /* ACK, BYE, CANCEL, INFO, NOTIFY, unknown... */
	INSPECT_C__COUNT
};

enum inspect_rule {
	INSPECT_R_RATE_INVITE = 0, /* same order as enum inspect_class */
	INSPECT_R_RATE_REGISTER,
	INSPECT_R_RATE_OPTIONS,
	INSPECT_R_RATE_SUBSCRIBE,
	INSPECT_R_RATE_MESSAGE,
	INSPECT_R_RATE_OTHER,
	INSPECT_R_RATE_USER,
	INSPECT_R_SCANNER_UA,
	INSPECT_R_SCANNER_STRUCTURE,
	INSPECT_R_SCANNER_USERS,
	INSPECT_R_SCANNER_OPTIONS,
	INSPECT_R_SCANNER_FAILURES,
	INSPECT_R_SCANNER_HELD,
	INSPECT_R_OVERLOAD,
	INSPECT_R__COUNT
};

/* "rate-invite", "scanner-ua", ...; "" when out of range. */
const char *inspect_rule_name(enum inspect_rule r);
enum inspect_class inspect_class_of(enum sip_method m);
/* The user a request targets: REGISTER: the To user; others: the
 * Request-URI user, or the To user when the Request-URI has none.  The
 * proxy passes the same to inspect_response(). */
struct str inspect_target_user(const struct sip_msg *m);

/* max events per window_ms; max == 0 disables the limit. */
struct inspect_rate {
	uint32_t max;
	uint32_t window_ms;
};

enum {
	INSPECT_MAX_SLOTS = 1 << 22, /* ceiling of each table */
	INSPECT_MAX_WINDOW_MS = 24 * 3600 * 1000,
	INSPECT_RETRY_AFTER_MAX = 86400,
};

/*
 * Configuration; inspect_conf_default() gives the documented defaults.
 * Copied by inspect_new().
 */
struct inspect_conf {
	/* Per source, per class.  Defaults (per 1000 ms): INVITE 20,
	 * REGISTER 30, OPTIONS 20, SUBSCRIBE 100 (phones with many BLF keys
	 * subscribe in a burst at boot), MESSAGE 20, other 100. */
	struct inspect_rate rate[INSPECT_C__COUNT];
	bool rate_in_dialog; /* count in-dialog requests too (true) */
	bool rate_reply_503; /* answer 503 instead of dropping (false) */
	/* Per target user, all untrusted sources together: 100 / 10 s. */
	struct inspect_rate user;
	bool limit_trusted; /* inspect the trusted zone too (false) */

	bool fingerprints; /* scanner-ua (true) */
	bool structure;    /* scanner-structure (true) */
	/* scanner-users: window 10 s, max 8 unresolved distinct users in
	 * the previous window, checked grace_ms (4 s) into the next one;
	 * burst 32 unresolved users in the current window.  0 disables. */
	uint32_t users_window_ms;
	uint32_t users_grace_ms;
	uint32_t users_max;
	uint32_t users_burst;
	/* scanner-options: 6 distinct targets / 60 s.  max 0 disables. */
	struct inspect_rate options_targets;
	/* scanner-failures: 20 net failures / 60 s.  max 0 disables. */
	struct inspect_rate fail;
	uint32_t scanner_hold_ms; /* scanner-held: 600000 (10 min) */

	/* Table sizes (entries): sources 8192, users 4096. */
	uint32_t src_slots;
	uint32_t user_slots;

	/* Overload: INVITE at 80 %, everything out-of-dialog at 95 %;
	 * Retry-After 30 s.  A percentage of 0 or > 100 disables that
	 * level. */
	unsigned overload_invite_pct;
	unsigned overload_all_pct;
	unsigned overload_retry_after;

	uint32_t monitor_mask; /* 1u << enum inspect_rule: log only */
};

void inspect_conf_default(struct inspect_conf *c);

struct inspect;

/*
 * Create an instance: validates conf (windows 1..INSPECT_MAX_WINDOW_MS,
 * slots 1..INSPECT_MAX_SLOTS, users_grace_ms < users_window_ms,
 * Retry-After <= INSPECT_RETRY_AFTER_MAX), allocates every table and
 * installs the built-in fingerprints.  Returns 0, -EINVAL (err says
 * which field) or -ENOMEM; *inp is set only on success.  The caller owns
 * the instance and frees it with inspect_free().
 */
int inspect_new(struct inspect **inp, const struct inspect_conf *conf,
		char *err, size_t errsz);
/* Free everything; NULL does nothing. */
void inspect_free(struct inspect *in);
/* Reload: new thresholds; tables (their sizes) and the monitor mask
 * stay.  0 or -EINVAL with err (nothing changed then). */
int inspect_reconf(struct inspect *in, const struct inspect_conf *conf,
		   char *err, size_t errsz);

/*
 * Replace the fingerprint list with the file at path (format: see
 * inspect_fps_parse()).  On any error the current list stays.  Returns
 * 0; -ENOENT when the file does not exist (the current list, at first
 * the built-in defaults, stays); -EINVAL with err naming the line
 * ("path:N: ..."); -EFBIG past INSPECT_FP_FILE_MAX
 * bytes; -ENOMEM; other -errno from opening or reading.
 */
int inspect_load_fingerprints(struct inspect *in, const char *path, char *err,
			      size_t errsz);

/*
 * Inspect one parsed request m (m->is_request) from `from`.  trusted_zone:
 * it arrived on a trusted listener; in_dialog: it matched an existing
 * dialog (the proxy decides).  now_ms: monotonic clock.  Fills *v (PASS
 * when nothing fired).  Returns 0, or -EINVAL on bad arguments (v is
 * then PASS).  Never allocates.
 */
int inspect_request(struct inspect *in, const struct sip_msg *m,
		    const struct sip_peer *from, bool trusted_zone,
		    bool in_dialog, uint64_t now_ms, struct guard_verdict *v);

/*
 * One final answer (status >= 200) that a request from the untrusted
 * zone got.  requester: its source; m: the request's method;
 * target_user: the user inspect_request() would have used (REGISTER: To
 * user; others: Request-URI user), may be empty.  Counts failures and
 * successes and resolves users (see scanner-users).  *v is PASS, or DROP
 * (+ ban) when the source is or has just become a scanner: the proxy
 * then does not send this answer.  Provisional statuses are ignored.
 */
void inspect_response(struct inspect *in, const struct sg_addr *requester,
		      enum sip_method m, struct str target_user, int status,
		      uint64_t now_ms, struct guard_verdict *v);

/* Transaction-pool usage in percent (values above 100 are clamped). */
void inspect_set_load(struct inspect *in, unsigned percent);
/*
 * Told of every request counted in a source's rate (rate_share.c, issue
 * 9): its class (enum inspect_class), the local estimate after it, the
 * class's max and window.  NULL removes it.
 */
typedef void inspect_rate_hook_fn(void *arg, const struct guard_src *src,
				  unsigned cls, uint32_t count, uint32_t max,
				  uint32_t window_ms, uint64_t now_ms);
void inspect_set_rate_hook(struct inspect *in, inspect_rate_hook_fn *fn,
			   void *arg);

/*
 * Stop holding src as a scanner (scanner-held): an administrator lifted
 * its ban.  Its counters stay, so a source that goes on scanning is
 * caught again.  Returns true when it was held.
 */
bool inspect_release(struct inspect *in, const struct guard_src *src,
		     uint64_t now_ms);

/* Times a rule fired (monitor hits included); 0 when out of range. */
uint64_t inspect_hits(const struct inspect *in, enum inspect_rule r);

/* Entries in use in the source and user tables (tests, metrics). */
size_t inspect_src_count(const struct inspect *in);
size_t inspect_user_count(const struct inspect *in);

/* ------------------------------------------- scanner.c: lower level API
 * Exposed for unit tests and the fuzz target. */

enum {
	INSPECT_FP_MAX = 128,        /* entries in a fingerprint list */
	INSPECT_FP_LEN = 64,         /* bytes per entry, NUL included */
	INSPECT_FP_FILE_MAX = 65536, /* bytes in a fingerprint file */
	INSPECT_UA_SCAN = 512,       /* User-Agent bytes searched */
};

/* A fingerprint list: lower-cased, NUL-terminated entries. */
struct inspect_fps {
	unsigned n;
	uint8_t len[INSPECT_FP_MAX];
	char s[INSPECT_FP_MAX][INSPECT_FP_LEN];
};

/*
 * Parse a fingerprint file.  One entry per line (LF or CRLF); leading
 * and trailing blanks are trimmed; empty lines and lines whose first
 * non-blank byte is '#' are skipped (a '#' elsewhere is part of the
 * entry).  An entry is 1..INSPECT_FP_LEN-1 printable ASCII bytes
 * (0x20..0x7e); it matches case-insensitively anywhere in a User-Agent.
 * More than INSPECT_FP_MAX entries, a bad byte, an over-long line or
 * more than INSPECT_FP_FILE_MAX bytes is an error.  Returns 0, or
 * -EINVAL with *linep set to the 1-based line number (0 when the error
 * is not tied to a line).  *out is fully written on success only.
 * Pure: no I/O, no allocation.
 */
int inspect_fps_parse(struct inspect_fps *out, struct str text,
		      unsigned *linep);
/* The built-in list (the same entries as etc/scanners.txt). */
void inspect_fps_default(struct inspect_fps *out);
/* Index of the first entry found in ua (its first INSPECT_UA_SCAN
 * bytes), or -1. */
int inspect_fps_match(const struct inspect_fps *f, struct str ua);

/*
 * Structural indicators of known attack tools, each with a weight.  A
 * message is a scanner when the weights of the indicators it shows add
 * up to INSPECT_STRUCT_THRESHOLD; no single weak indicator (a numeric
 * Call-ID, which some embedded phones use) is enough on its own.
 */
enum inspect_ind {
	INSPECT_I_SV_BRANCH = 1u << 0,  /* Via z9hG4bK-<digits>;rport   1 */
	INSPECT_I_NUM_CALLID = 1u << 1, /* Call-ID all digits, no '@'  1 */
	INSPECT_I_SV_TAG = 1u << 2,     /* From tag hex(data 01 digits) 2 */
	INSPECT_I_SV_ORDER = 1u << 3,   /* SIPVicious header order      2 */
	INSPECT_I_SV_DIGEST = 1u << 4,  /* SIPVicious Digest layout     2 */
	INSPECT_I_SV_FROM = 1u << 5,    /* "sipvicious" / 100@1.1.1.1   3 */
	INSPECT_I_NONE_USER = 1u << 6,  /* Contact user "None"          1 */
	INSPECT_I_NMAP = 1u << 7,       /* nmap's sip:nm@nm             3 */
	INSPECT_I_SDP_SPOOF = 1u << 8,  /* Cisco GW SDP, non-Cisco UA   1 */
};

enum { INSPECT_STRUCT_THRESHOLD = 3 };

/* Sum of weights of the indicators m shows; *indp gets their bits
 * (may be NULL).  Pure; safe on any parsed message. */
unsigned inspect_structure_score(const struct sip_msg *m, uint32_t *indp);

#endif
