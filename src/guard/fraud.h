/*
 * fraud.h - toll-fraud protection for new calls: dial policy per user
 * class and zone (guard/dialplan.h), call limits per user and per
 * source, and anomaly rules on learned per-user behaviour.
 *
 * The guard facade calls, for each initial INVITE from a checked zone:
 *   fraud_check()       before forwarding: may refuse (403, or 503 when
 *                       the call table is full) and fills a note;
 *   fraud_call_start()  once the call has its dialog: counts it (rates,
 *                       concurrent calls, learned behaviour) and returns
 *                       the class's maximum duration;
 *   fraud_call_end()    when that call's dialog ends: releases the
 *                       concurrent slots, learns short international
 *                       calls.
 * Check and start are split so that a call refused later on (no route,
 * dialog pool full) never holds a concurrent-call slot.
 *
 * Memory is fixed at fraud_new(): users, sources and (user, country)
 * counters live in chained hash tables over fixed pools (fraud_tab.c),
 * keyed by SipHash under a random key; the least recently seen idle
 * entry is evicted, an entry with calls up never; calls in a pool of
 * max_calls.  Time is a parameter: monotonic ms for windows, blocks
 * and throttles; wall-clock ms (plus the configured UTC offset) for
 * hours of the day and day boundaries.
 *
 * Rules (static names, see docs/events.md): dial-denied (event
 * toll-fraud); call-limit-concurrent, call-limit-rate,
 * call-limit-country, call-limit-source, call-limit-table (event
 * call-limit); fraud-short-calls, fraud-odd-hours, fraud-baseline
 * (raised as alerts), fraud-blocked, fraud-throttled (event
 * fraud-suspected).  Not thread-safe: one per guard.
 */
#ifndef SIPGUARD_GUARD_FRAUD_H
#define SIPGUARD_GUARD_FRAUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/str.h"
#include "guard/dialplan.h"
#include "guard/guard_types.h"

struct sg_conf_fraud;
struct sip_uri;

#define FRAUD_R_DIAL       "dial-denied"
#define FRAUD_R_CONCURRENT "call-limit-concurrent"
#define FRAUD_R_RATE       "call-limit-rate"
#define FRAUD_R_COUNTRY    "call-limit-country"
#define FRAUD_R_SOURCE     "call-limit-source"
#define FRAUD_R_TABLE      "call-limit-table"
#define FRAUD_R_SHORT      "fraud-short-calls"
#define FRAUD_R_HOURS      "fraud-odd-hours"
#define FRAUD_R_BASELINE   "fraud-baseline"
#define FRAUD_R_BLOCKED    "fraud-blocked"
#define FRAUD_R_THROTTLED  "fraud-throttled"
/* A hold another instance put, by a rule this one does not know. */
#define FRAUD_R_CLUSTER "fraud-cluster"

enum {
	FRAUD_USER_MAX = 64, /* bytes of a user name kept */
	FRAUD_WHY_MAX = 160,
};

enum fraud_action {
	FRAUD_ALERT = 0,
	FRAUD_THROTTLE,
	FRAUD_BLOCK,
};

/* What fraud_check() hands to fraud_call_start() (kept by the proxy
 * with the request, in struct guard_req). */
struct fraud_note {
	bool active; /* a call to count at start */
	uint8_t cls;
	uint16_t zone;
	enum dp_kind kind;
	char cc[DP_CC_MAX + 1];
	struct sg_addr src;
	char user[FRAUD_USER_MAX];
	uint8_t user_len;
};

/* An anomaly rule fired. */
struct fraud_alert {
	const char *rule; /* FRAUD_R_SHORT... */
	enum fraud_action action;
	struct str user;
	const struct sg_addr *src;
	uint16_t zone;
	const char *why; /* valid during the call */
};

/*
 * Report an alert (event) and say whether to apply its action: false
 * when the rule is in monitor mode.
 */
typedef bool fraud_alert_fn(void *arg, const struct fraud_alert *a,
			    uint64_t now_ms, uint64_t wall_ms);

struct fraud;

/*
 * Build from the configuration c (copied).  zone_names/zone_trusted
 * [0..nzones) are the zones by index.  alert/arg: the reporter (alert
 * may be NULL: alerts are then applied silently).  With no classes
 * configured *fp is a fraud object that checks nothing.  Returns 0,
 * -EINVAL (err set) or -ENOMEM.
 */
int fraud_new(struct fraud **fp, const struct sg_conf_fraud *c,
	      const char *const *zone_names, const bool *zone_trusted,
	      unsigned nzones, fraud_alert_fn *alert, void *arg, char *err,
	      size_t errsz);
void fraud_free(struct fraud *f);

/*
 * Reload (fraud_reload.c): nf, fresh from fraud_new() with the new
 * configuration, takes over the state of old (users, sources, countries,
 * calls in progress, hash key); old is left as it was, for the caller
 * to free once the swap is certain.  Tables too small for what is busy
 * are grown.  0 or -ENOMEM (nf then unusable: free it, keep old).
 */
int fraud_adopt(struct fraud *nf, const struct fraud *old);

/* The rule names this module can report, for the registry. */
const char *const *fraud_rule_names(size_t *np);

/* Does zone's traffic get checked? */
bool fraud_zone_checked(const struct fraud *f, unsigned zone);

/*
 * A new call (initial INVITE) to ruri by user (the authenticated user,
 * else the From user) from src in zone.  Fills *v: PASS, or REPLY 403
 * (503 for call-limit-table) naming the rule, with v->why pointing into
 * f (valid until the next call).  Fills *note; note->active is false for
 * emergency calls and unchecked zones (nothing to count).
 */
void fraud_check(struct fraud *f, const struct sip_uri *ruri, struct str user,
		 const struct sg_addr *src, uint16_t zone, uint64_t now_ms,
		 uint64_t wall_ms, struct fraud_note *note,
		 struct guard_verdict *v);

/*
 * The call of note (checked and passed) is up as the dialog (call_id,
 * caller_tag).  Counts it.  Returns the class's maximum duration in ms
 * (0: none).  A call already counted, or no room: 0, nothing counted.
 */
uint64_t fraud_call_start(struct fraud *f, const struct fraud_note *note,
			  struct str call_id, struct str caller_tag,
			  uint64_t now_ms, uint64_t wall_ms);

/*
 * The call (call_id, caller_tag) ended after talk_ms of conversation (0:
 * never answered); status: the final answer to its INVITE (0: none).  A
 * 401/407 challenge takes the call back out of the rates and learned
 * counts (its authenticated retry is the same call).  Unknown calls are
 * ignored.
 */
void fraud_call_end(struct fraud *f, struct str call_id, struct str caller_tag,
		    uint64_t talk_ms, int status, uint64_t now_ms,
		    uint64_t wall_ms);

/* ---- Across instances (fraud_share.c, issue 9) ---- */

struct fraud_share;
struct store;
struct loop;

/* The user of hash token has a fresh cluster view: process its held
 * INVITEs now. */
typedef void fraud_wake_fn(void *arg, uint64_t token);

/* The guard's share object (outlives fraud objects).  0 or -ENOMEM. */
int fraud_share_new(struct fraud_share **shp, fraud_wake_fn *wake, void *arg);
void fraud_share_free(struct fraud_share *sh);
/* Count through store s on loop l (NULL: local counts only). */
void fraud_share_attach(struct fraud_share *sh, struct store *s,
			struct loop *l);
/* f is the policy in force (sh's callbacks update it). */
void fraud_set_share(struct fraud *f, struct fraud_share *sh);
/*
 * Before a new call of user from zone is processed: true when its
 * cluster view is being read (hold the INVITE until wake(*tokenp)),
 * false to go on now (no store, Redis down, no limit to share).
 */
bool fraud_prefetch(struct fraud *f, struct str user, uint16_t zone,
		    uint64_t now_ms, uint64_t *tokenp);
/* The same, with the call's Request-URI (its country, for the hourly
 * limit per country) and source (the per-source limits): every limit
 * that applies is read.  NULL ruri / src: those are not read. */
bool fraud_prefetch_call(struct fraud *f, const struct sip_uri *ruri,
			 struct str user, const struct sg_addr *src,
			 uint16_t zone, uint64_t now_ms, uint64_t *tokenp);

/*
 * The anomaly rules' blocks and throttles across instances
 * (fraud_hold.c): they travel as shared ban records whose key is "fb:"
 * or "fd:" and a hash of the user.  bansync.c hands such records over
 * (fraud_share_hold_key() tells them from address bans); wall is the
 * wall clock in ms.  resync: Redis is back, every hold still in force
 * here is published again (returns how many).
 */
struct store_ban;
bool fraud_share_hold_key(const char *key);
void fraud_share_hold_put(struct fraud_share *sh, const struct store_ban *b,
			  uint64_t wall);
void fraud_share_hold_del(struct fraud_share *sh, const char *key);
size_t fraud_share_hold_resync(struct fraud_share *sh, uint64_t wall);

/* A user blocked or throttled now (sipguardctl held). */
struct fraud_held {
	char user[FRAUD_USER_MAX + 1];
	const char *rule; /* FRAUD_R_SHORT, _HOURS, _BASELINE, _CLUSTER */
	bool blocked;     /* else throttled */
	uint64_t left_ms;
};
/* Up to max users held now into out; returns how many. */
size_t fraud_held_list(struct fraud *f, struct fraud_held *out, size_t max,
		       uint64_t now_ms);
/* How many users are blocked, and how many throttled, now. */
void fraud_held_count(const struct fraud *f, uint64_t now_ms, size_t *blocked,
		      size_t *throttled);
/*
 * Lift user's block and throttle here and on every instance (an
 * administrator's decision: a false positive); the short calls counted
 * here start again from none.  0, or -ENOENT when nothing held the user
 * here (the cluster is told all the same).
 */
int fraud_unblock(struct fraud *f, struct str user, uint64_t now_ms);

/* Calls tracked now (tests, metrics). */
size_t fraud_calls(const struct fraud *f);
/* Concurrent calls of a user (tests). */
unsigned fraud_user_calls(const struct fraud *f, struct str user);

#endif
