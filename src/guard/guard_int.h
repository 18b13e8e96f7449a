/*
 * guard_int.h - private to the guard facade (guard.c, guard_checks.c,
 * guard_reload.c): struct guard and the helpers the three files share.
 */
#ifndef SIPGUARD_GUARD_GUARD_INT_H
#define SIPGUARD_GUARD_GUARD_INT_H

#include "core/buf.h"
#include "events/events.h"
#include "guard/guard.h"

enum {
	GUARD_MAX_RULES = 128, /* of RULES_MAX: room for every module */
};

/* Owner: the proxy (guard_new/guard_free). */
struct guard {
	struct gate *gate;
	struct inspect *in;
	struct auth *auth;             /* NULL when auth mode is off */
	struct im *im;                 /* MESSAGE content rules */
	struct presence *pres;         /* presence privacy */
	struct buf scrub;              /* a scrubbed NOTIFY body */
	uint32_t im_zones, pres_zones; /* zone bits; 0: by trust */
	enum auth_mode auth_mode;
	struct rules *rules;
	struct evlog *ev;                       /* borrowed */
	int rule_banned, rule_rate, rule_flood; /* gate rules, per packet */
	const char *zone_name[GUARD_MAX_ZONES];
	bool zone_trusted[GUARD_MAX_ZONES];
	unsigned nzones;
	/* What gate and inspect run with, to undo a half-applied reload. */
	struct gate_conf gate_conf;
	struct inspect_conf inspect_conf;
	struct fraud *fraud;       /* toll fraud; NULL: off */
	struct fraud_share *share; /* its counts across instances */
	struct rate_share *rshare; /* auth failures across instances */
	guard_wake_fn *wake;       /* the proxy's: held INVITEs */
	void *wake_arg;
};

/* guard.c */
/* The event name of a rule ("rate-limit", "toll-fraud", ...). */
const char *guard__event_of(const char *rule);
/* A zone's name for events; NULL when out of range. */
const char *guard__zone_of(const struct guard *g, uint16_t zone);
/* A rule's registry id, registering it first if needed; -1: no rule. */
int guard__rule_id(struct guard *g, const char *rule);
/*
 * Count a non-PASS verdict, apply monitor mode, log, and ban when asked.
 * Returns with v->action PASS when the rule is monitored.
 */
void guard__decide(struct guard *g, struct guard_verdict *v,
		   const struct sg_addr *src, uint16_t zone, enum sip_tp tp,
		   const struct sip_msg *m, struct str user, uint64_t now,
		   uint64_t wall);
/* The gate's callback when a ban runs out. */
void guard__ban_lapsed(void *arg, const struct gate_ban_info *bi,
		       uint64_t now_ms);

/* guard_share.c: rate_share and its hooks; 0 or -ENOMEM. */
int guard__share_init(struct guard *g);

/* guard_checks.c */
/* IM and presence content rules for a request that passed so far. */
void guard__content_check(struct guard *g, const struct sip_msg *m,
			  const struct sip_peer *from, bool trusted,
			  bool allowed, struct str user, uint64_t now_ms,
			  uint64_t wall_ms, struct guard_verdict *v);
/* Toll fraud on a new call (initial INVITE). */
void guard__toll_check(struct guard *g, const struct sip_msg *m,
		       const struct sip_peer *from, uint64_t now, uint64_t wall,
		       struct guard_req *rq, struct guard_verdict *v);
/* The fraud module's reporter and the shared counts' wake-up. */
bool guard__fraud_alerted(void *arg, const struct fraud_alert *a, uint64_t now,
			  uint64_t wall);
void guard__fraud_woke(void *arg, uint64_t token);

/* guard_reload.c */
/* Zone names to a bit mask of zone indexes.  0 or -EINVAL (unknown). */
int guard__zone_mask(const struct guard *g, const char *const *names,
		     unsigned n, const char *what, uint32_t *maskp, char *err,
		     size_t errsz);

#endif
