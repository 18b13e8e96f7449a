/*
 * guard.h - public interface of the guard layer: every security decision
 * the proxy asks for, in one object.
 *
 * The guard ties its modules together: the gate (ban list and token
 * buckets, before parsing; gate.h), inspection (rate limits, scanners,
 * overload; inspect.h) and authentication (local digest or pass-through
 * failure counting, brute force; auth.h).  It names every decision's
 * rule, counts it in the rule registry, applies monitor mode (log "would
 * ..." and let the traffic pass) and writes the event.
 *
 * The proxy calls, in order: guard_gate() for every datagram and
 * connection (from the transport), guard_request() for every new request
 * from an untrusted zone, guard_answer() for the final answer such a
 * request gets.  One guard per event loop; not thread-safe.
 */
#ifndef SIPGUARD_GUARD_H
#define SIPGUARD_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guard/auth.h"
#include "guard/fraud.h"
#include "guard/dlgpolicy.h"
#include "guard/gate.h"
#include "guard/guard_types.h"
#include "guard/im.h"
#include "guard/inspect.h"
#include "guard/presence.h"
#include "sip/sip.h"
#include "sip/sip_peer.h"

struct evlog;
struct rules;
struct buf;
struct sg_conf_fraud;
struct sip_dlg;

enum {
	GUARD_MAX_ZONES = 16,
	GUARD_USER_MAX = 64, /* bytes of a target user kept per request */
	GUARD_MAX_MONITOR = 32,
};

struct guard_conf {
	struct gate_conf gate;
	struct inspect_conf inspect;
	struct auth_conf auth;
	struct im_conf im;             /* MESSAGE content (im.h) */
	struct presence_conf presence; /* presence privacy (presence.h) */
	/* Zones (names) the IM / presence policy applies to; none: IM by
	 * im.dir, presence in untrusted zones. */
	const char *im_zones[GUARD_MAX_ZONES];
	unsigned n_im_zones;
	const char *presence_zones[GUARD_MAX_ZONES];
	unsigned n_presence_zones;
	const char *scanners_file; /* NULL/"": built-in fingerprints */
	bool monitor;              /* every rule in monitor mode */
	const char *monitor_rules[GUARD_MAX_MONITOR];
	unsigned n_monitor_rules;
	/* Zones by index (struct sip_peer.zone): name and trust. */
	const char *zone_name[GUARD_MAX_ZONES];
	bool zone_trusted[GUARD_MAX_ZONES];
	unsigned nzones;
	const struct sg_conf_fraud *fraud; /* toll fraud; NULL: off */
};

void guard_conf_default(struct guard_conf *c);

/* What the proxy keeps with a forwarded request for guard_answer(). */
struct guard_req {
	bool active;  /* from an untrusted zone: observe */
	bool allowed; /* source on the allow list */
	bool creds;   /* it carried credentials */
	enum sip_method mid;
	struct auth_pt_note pt;
	char user[GUARD_USER_MAX];
	uint8_t user_len;
	struct fraud_note fraud; /* a new call for the toll-fraud limits */
};

struct guard;

/*
 * Create the guard.  ev (event log, may be NULL) is borrowed and must
 * outlive the guard.  Loads the credentials (local mode) and the scanner
 * fingerprints.  Returns 0, or -EINVAL / -ENOMEM / -errno with err.
 */
int guard_new(struct guard **gp, const struct guard_conf *c, struct evlog *ev,
	      char *err, size_t errsz);
void guard_free(struct guard *g);

/* What guard_reconf() applies besides rates, scanners and ban policy. */
enum guard_reconf_flag {
	GUARD_RECONF_MONITOR = 1u << 0, /* monitor and monitor_rules */
	GUARD_RECONF_CREDS = 1u << 1,   /* re-read the credentials file */
	GUARD_RECONF_CONTENT = 1u << 2, /* new IM and presence policies */
};

/*
 * Reload: apply c to the running guard, keeping its state (bans, rate
 * windows, nonces, failure counters).  The toll-fraud policy is rebuilt
 * from c->fraud and takes over the running fraud state (fraud_adopt).  Monitor
 * flags are set from c only with GUARD_RECONF_MONITOR (so that a reload leaves
 * flags set with sipguardctl alone unless the file changed them).  Zone names
 * are taken from c (they point into the new configuration).  Everything that
 * can fail is checked first: on error nothing changed.  0 or -errno with err.
 */
int guard_reconf(struct guard *g, const struct guard_conf *c, unsigned flags,
		 char *err, size_t errsz);

/* The transport's pre-parse gate (tp_gate_fn): true lets it in. */
bool guard_gate(struct guard *g, const struct sg_addr *src, enum sip_tp tp,
		uint16_t zone, size_t bytes, uint64_t now_ms, uint64_t wall_ms);

/*
 * A new request (not a retransmission).  in_dialog: it matched a live
 * dialog.  Fills *v; for a PASS from an untrusted zone, *rq records what
 * guard_answer() needs.  Monitor mode is applied here: a monitored
 * decision comes back as PASS (its event says "would-...").
 */
void guard_request(struct guard *g, const struct sip_msg *m,
		   const struct sip_peer *from, bool in_dialog, uint64_t now_ms,
		   uint64_t wall_ms, struct guard_req *rq,
		   struct guard_verdict *v);

/*
 * The credentials header our local authentication consumed (remove it
 * before forwarding), or NULL.
 */
const struct sip_hdr *guard_strip_hdr(const struct guard *g,
				      const struct sip_msg *m);

/*
 * Build the reply for a REPLY verdict of guard_request() to req into out
 * (stateless; the proxy may instead answer through its transaction with
 * v->status/reason/extra).  Returns 0 or -errno.
 */
int guard_reply(struct guard *g, struct buf *out, const struct sip_msg *req,
		struct str to_tag, const struct guard_verdict *v);

/*
 * The final answer (status >= 200) a request observed in *rq got:
 * resp is the downstream response, or NULL when the proxy answered
 * itself.  *v: PASS (forward as is), REPLY (rewrite with
 * guard_apply_answer()), DROP (send nothing: the source became a
 * scanner or an attacker).
 */
void guard_answer(struct guard *g, const struct guard_req *rq,
		  const struct sip_peer *requester, const struct sip_msg *resp,
		  int status, uint64_t now_ms, uint64_t wall_ms,
		  struct guard_verdict *v);
/* Record the edits that rewrite resp as v says (before other edits are
 * written).  Returns 0 or -EINVAL. */
int guard_apply_answer(struct guard *g, struct sip_bld *b,
		       const struct sip_msg *resp,
		       const struct guard_verdict *v);

/*
 * Toll fraud (fraud.h).  A new call that guard_request() passed (rq) got
 * its dialog d: count it.  Returns the call's own maximum duration in ms
 * (0: none), for sip_dlg_set_max_duration().
 */
uint64_t guard_call_start(struct guard *g, const struct guard_req *rq,
			  const struct sip_dlg *d, uint64_t now_ms,
			  uint64_t wall_ms);
/* Dialog d ended (the dialog table's on_end): release its call. */
void guard_call_end(struct guard *g, const struct sip_dlg *d, uint64_t now_ms,
		    uint64_t wall_ms);

/*
 * A request m received in zone from_zone is being forwarded into
 * to_zone: record in b the edits that scrub its body (a presence NOTIFY
 * leaving the trusted zone for an untrusted one; presence.h).  The new
 * body lives in the guard until the next call.  Returns 0 or -errno.
 */
int guard_scrub(struct guard *g, struct sip_bld *b, const struct sip_msg *m,
		uint16_t from_zone, uint16_t to_zone, uint64_t now_ms,
		uint64_t wall_ms);

/* Transaction-pool usage, for overload protection. */
void guard_set_load(struct guard *g, unsigned percent);
/* Housekeeping: expire bans, flush aggregated events.  Call every ~1 s. */
void guard_tick(struct guard *g, uint64_t now_ms);

/* ------------------------------------ call-state policy (dlgpolicy.h) */

/*
 * A refusal decided by the proxy's call-state checks (v: DROP or REPLY
 * with a dlgpolicy rule): count the rule, apply monitor mode (v comes
 * back PASS, "would-" event) and write the event.
 */
void guard_policy(struct guard *g, struct guard_verdict *v,
		  const struct sip_peer *from, const struct sip_msg *m,
		  struct str user, uint64_t now_ms, uint64_t wall_ms);
/* Something accepted that must not be silent (a party's address
 * changed): count the rule, write a "notice" event. */
void guard_notice(struct guard *g, const char *rule,
		  const struct sip_peer *from, const struct sip_msg *m,
		  struct str user, const char *why, uint64_t now_ms,
		  uint64_t wall_ms);
/* Local auth mode: authenticate an in-dialog request (a party proving
 * itself from a new address): challenge, verify, count failures like
 * guard_request() does for new requests.  PASS in other modes. */
void guard_authenticate(struct guard *g, const struct sip_msg *m,
			const struct sip_peer *from, uint64_t now_ms,
			uint64_t wall_ms, struct guard_verdict *v);
/* After a PASS of guard_authenticate(): m carried credentials that
 * sipguard verified itself (local auth mode). */
bool guard_local_verified(const struct guard *g, const struct sip_msg *m);

/* ------------------------------------------------- control, metrics */

/* Ban (duration 0: escalation policy) or unban a source by hand. */
int guard_ban(struct guard *g, const struct guard_src *src,
	      uint64_t duration_ms, const char *reason, uint64_t now_ms,
	      uint64_t wall_ms);
int guard_unban(struct guard *g, const struct guard_src *src, uint64_t now_ms,
		uint64_t wall_ms);
struct gate *guard_gate_obj(struct guard *g);
/* The toll-fraud share (its blocks and throttles travel with the bans:
 * bansync.c). */
struct fraud_share *guard_fraud_share_obj(struct guard *g);

/* ------------------- toll-fraud limits across instances (issue 9) */

struct loop;
/* Held INVITEs of the user `token` may be processed now. */
typedef void guard_wake_fn(void *arg, uint64_t token);

/* Count the toll-fraud limits through store s on loop l, so that they
 * hold across instances (fraud_share.c); NULL: this instance only.  The
 * daemon detaches before it frees the store. */
void guard_fraud_share(struct guard *g, struct store *s, struct loop *l);
void guard_set_fraud_wake(struct guard *g, guard_wake_fn *fn, void *arg);
/* How many users an anomaly rule blocks, and throttles, now. */
void guard_fraud_held_count(struct guard *g, uint64_t now_ms, size_t *blocked,
			    size_t *throttled);
/* Users an anomaly rule blocks or throttles now (fraud_held_list()). */
size_t guard_fraud_held(struct guard *g, struct fraud_held *out, size_t max,
			uint64_t now_ms);
/* An administrator lifts user's block and throttle, on every instance
 * (fraud_unblock()); an "unban" event says so.  0 or -ENOENT. */
int guard_fraud_unblock(struct guard *g, struct str user, uint64_t now_ms,
			uint64_t wall_ms);
/*
 * A new call (m, an initial INVITE, not processed yet): true when the
 * guard reads its caller's cluster-wide counts first; the proxy then
 * holds m until wake(token) and processes it as if just received.
 */
bool guard_fraud_prefetch(struct guard *g, const struct sip_msg *m,
			  const struct sip_peer *from, uint64_t now_ms,
			  uint64_t *tokenp);

/*
 * Count authentication failures and INVITE / REGISTER rates per source
 * in global windows through store s on loop l too (rate_share.c; Redis
 * only); NULL: this instance only.  The daemon detaches before it frees the
 * store.
 */
void guard_rate_share(struct guard *g, struct store *s, struct loop *l);

/* ------------------------------------- shared bans (bansync.c, issue 9) */

struct store;
struct loop;
struct guard_sync;
/*
 * Share g's bans through s: local bans and unbans are published, other
 * instances' are applied (rule, reason, remaining time).  Call before
 * store_load() so the startup load lands in the gate.  g, s and l are
 * borrowed and must outlive the sync.  0, -EINVAL or -ENOMEM.
 */
int guard_sync_new(struct guard_sync **gsp, struct guard *g, struct store *s,
		   struct loop *l);
/* Unhook and free; NULL does nothing. */
void guard_sync_free(struct guard_sync *gs);
struct rules *guard_rules(struct guard *g);

#endif
