/*
 * fraud_int.h - private to fraud.c and fraud_learn.c: the tables of
 * toll-fraud protection (users, sources, countries, calls) and the
 * helpers the two files share.
 */
#ifndef SIPGUARD_GUARD_FRAUD_INT_H
#define SIPGUARD_GUARD_FRAUD_INT_H

#include "core/conf.h"
#include "core/htab.h"
#include "core/siphash.h"
#include "guard/fraud.h"
#include "guard/window.h"
#include "store/store.h"

enum {
	FR_HOUR_MS = 3600 * 1000,
	FR_DAY_MS = 24 * FR_HOUR_MS,
	FR_MIN_MS = 60 * 1000,
	FR_HOURS_CAP = 10000, /* histogram halves past this */
	FR_BASE_SHIFT = 4,    /* baseline in 1/16 calls */
	FR_MAX_GAP_DAYS = 60, /* idle days folded into the mean */
};

/* First member of every table entry (fraud_tab.c). */
struct fr_slot {
	struct hnode hn;             /* in the table's index while in use */
	struct fr_slot *prev, *next; /* idle LRU list; next: free list */
	uint64_t h;                  /* the key's hash; 0: free */
	uint64_t seen;               /* last use, monotonic ms */
	uint32_t busy;               /* calls up: not evicted while > 0 */
};

/* A chained hash table over a pool of n entries of `stride` bytes. */
struct fr_tab {
	struct htab ix;
	char *mem;
	size_t n, stride, used;
	struct fr_slot *free;
	struct fr_slot lru; /* sentinel: next = most recently used */
	uint64_t evicted;
};

/* The cluster's view of one entry (fraud_share.c), read before a call
 * is decided: other instances' calls up, calls in the last second,
 * minute and hour everywhere (ours included), and when it was read. */
struct fr_cl {
	uint32_t others, cps, cpm, hour;
	uint64_t at; /* 0: never */
};

struct fr_user {
	struct fr_slot k; /* busy = concurrent calls */
	struct win_ctr cps, cpm, shortc, thr;
	uint64_t blocked_until, throttled_until, short_quiet_until;
	uint16_t hours[24];
	uint32_t hours_total;
	uint32_t hours_alerted; /* hour number (wall) of the last alert */
	uint32_t day;           /* day number of `today` */
	uint32_t today;         /* calls that day */
	uint32_t base;          /* mean calls per day << FR_BASE_SHIFT */
	uint16_t days;          /* days learned */
	uint32_t base_alerted;  /* day of the last baseline alert, + 1 */
	struct fr_cl cl;        /* the cluster's view (fraud_share.c) */
	uint16_t cl_pending;    /* its reads in flight (every entry's) */
	/* Who, and why, while blocked or throttled (sipguardctl held). */
	const char *held_rule; /* FRAUD_R_SHORT..., FRAUD_R_CLUSTER */
	uint8_t name_len;
	char name[FRAUD_USER_MAX];
};

struct fr_src {
	struct fr_slot k; /* busy = concurrent calls */
	struct win_ctr cps, cpm;
	struct fr_cl cl;
};

struct fr_cty {
	struct fr_slot k;
	struct win_ctr hour;
	struct fr_cl cl; /* hour: the user's calls there everywhere */
};

struct fr_call {
	struct hnode hn;
	struct fr_call *next_free;
	uint64_t user_h, src_h;
	uint64_t start; /* monotonic ms */
	uint32_t day;   /* day and hour learned at start */
	uint8_t hour;
	char cc[DP_CC_MAX + 1];
	enum dp_kind kind;
	struct sg_addr src;
	uint16_t zone;
	char user[FRAUD_USER_MAX];
	uint8_t user_len;
	bool shared;     /* counted in the store (fraud_share.c) */
	bool src_shared; /* its source's concurrent count too */
	uint8_t cls;     /* class at start */
	uint8_t pushed;  /* counters sent to the store at start */
};

struct fr_map {
	const char *user; /* "*": zone default */
	int zone;         /* -1: every zone */
	uint8_t cls;
};

/* Owner: the guard (fraud_new/fraud_free). */
struct fraud {
	struct sg_conf_fraud *c; /* our copy */
	struct dp_numbering nb;
	struct dp_rules *rules;
	const char *cls_names[CONF_MAX_FRAUD_CLASSES];
	unsigned ncls, def_cls;
	struct fr_map map[CONF_MAX_FRAUD_USERS];
	size_t nmap;
	uint32_t zones; /* bit per checked zone */
	fraud_alert_fn *alert;
	void *alert_arg;
	uint8_t key[SIPHASH_KEY_LEN];

	struct fr_tab users, srcs, ctys;
	struct fr_call *calls;
	struct fr_call *free_calls;
	struct htab ch;
	size_t ncalls;
	struct fraud_share *share; /* borrowed from the guard; NULL */
	char why[FRAUD_WHY_MAX];
};

/* fraud.c: replace the SipHash key (tests: reproducible placements).
 * Only on a fresh object, before any call. */
void fraud__set_key(struct fraud *f, const uint8_t key[SIPHASH_KEY_LEN]);

/* fraud_tab.c: n entries of stride bytes (a record whose first member
 * is a struct fr_slot).  0, -EINVAL or -ENOMEM. */
int fraud__tab_init(struct fr_tab *t, size_t n, size_t stride);
void fraud__tab_fini(struct fr_tab *t);
/* The entry of hash h: found (marked used at now; 0 is a peek), or with
 * create a zeroed one taking a free or the least recently used idle
 * entry.  NULL: absent, or no room (every entry has calls up). */
void *fraud__tab_get(struct fr_tab *t, uint64_t h, uint64_t now, bool create);
/* The entry of h, or NULL; nothing changes. */
const void *fraud__tab_peek(const struct fr_tab *t, uint64_t h);
/* A call of the entry starts / ends: busy entries are never evicted. */
void fraud__tab_hold(struct fr_tab *t, struct fr_slot *s);
void fraud__tab_release(struct fr_tab *t, struct fr_slot *s);
/* Entries with calls up (O(n): reload and tests). */
size_t fraud__tab_busy(const struct fr_tab *t);
/* Copy every entry of `from` into `to` (reload): busy ones first, then
 * idle ones, most recent kept when `to` is smaller.  Returns how many
 * busy entries found no room (0 when `to` holds fraud__tab_busy()). */
size_t fraud__tab_move(struct fr_tab *to, const struct fr_tab *from);

uint64_t fraud__cty_hash(const struct fraud *f, uint64_t user_h,
			 const char *cc);

/* The user, source or (user, country) entry of hash h (create: make
 * room for it); now 0 is a peek. */
static inline struct fr_user *fraud__user(struct fraud *f, uint64_t h,
					  uint64_t now, bool create)
{
	return fraud__tab_get(&f->users, h, now, create);
}

static inline struct fr_src *fraud__src(struct fraud *f, uint64_t h,
					uint64_t now, bool create)
{
	return fraud__tab_get(&f->srcs, h, now, create);
}

static inline struct fr_cty *fraud__cty(struct fraud *f, uint64_t h,
					uint64_t now, bool create)
{
	return fraud__tab_get(&f->ctys, h, now, create);
}

/* fraud_share.c: counts across instances (see there). */

/* A block or throttle an anomaly rule put on a user, as the cluster
 * knows it (fraud_hold.c): the user's cluster hash, wall-clock times. */
struct fr_hold {
	uint64_t h; /* 0: free slot */
	uint64_t start_wall, until_wall;
	bool block;  /* else a throttle */
	bool lifted; /* unblocked elsewhere: clear it at the next call */
	bool own;    /* put here: applied already, pushed at resync */
	char rule[STORE_RULE_MAX];
};

enum { FR_HOLDS = 256 }; /* holds known at once; full: the soonest over goes */
/* The longest hold: block_time's and throttle_time's maximum (30 days). */
#define FR_HOLD_MAX_MS (30ull * FR_DAY_MS)

/* Owner: the guard (fraud_share_new/free). */
struct fraud_share {
	struct fraud *f; /* the policy in force; NULL: none */
	struct store *s; /* NULL: detached, local counts only */
	struct loop *l;
	fraud_wake_fn *wake;
	void *wake_arg;
	uint8_t key[STORE_USER_KEY_LEN]; /* names in keys (s set) */
	struct fr_hold holds[FR_HOLDS];  /* [0, nholds) in use */
	size_t nholds;
	uint64_t held_in; /* holds from other instances applied here */
};

/* What a new call is counted under: its user, and when their limits
 * are set its (user, country) and its source. */
struct fr_ask {
	struct str user;
	uint64_t uh;
	struct fr_user *u;
	unsigned cls;
	const char *cc;            /* international: its country */
	struct fr_cty *ct;         /* NULL: no country limit, or no room */
	const struct sg_addr *src; /* NULL: no source limit */
	struct fr_src *s;
};
bool fraud__share_prefetch(struct fraud *f, const struct fr_ask *a);
/* Any limit of class cls or per source that is shared? */
bool fraud__share_wanted(const struct fraud *f, unsigned cls);
void fraud__share_start(struct fraud *f, struct fr_user *u,
			struct fr_call *call);
void fraud__share_end(struct fraud *f, struct fr_user *u,
		      const struct fr_call *call);
/* A challenged call (401/407) ended: take it back out of the cluster's
 * rate windows too, as fraud__refund does locally. */
void fraud__share_refund(struct fraud *f, const struct fr_call *call,
			 uint64_t now);
/* An entry's cluster view if fresh (Redis up, read within
 * FR_FRESH_MS), else all zero: then only local counts decide. */
struct fr_cl fraud__share_view(const struct fraud *f, const struct fr_cl *cl,
			       uint64_t now);
void fraud__share_detach(struct fraud *f);

/* fraud_hold.c: an anomaly rule's block (or throttle) of user for
 * dur_ms from wall, told to the cluster; the cluster's holds of user
 * applied to u (its monotonic now, wall clock wall). */
void fraud__hold_publish(struct fraud *f, struct str user, bool block,
			 const char *rule, uint64_t dur_ms, uint64_t wall);
void fraud__hold_apply(struct fraud *f, struct fr_user *u, struct str user,
		       uint64_t now, uint64_t wall);
/* u is blocked or throttled by rule: keep its name for the listing. */
void fraud__held(struct fr_user *u, struct str user, const char *rule);
/* An administrator unblocked u (here or elsewhere): its short calls
 * count from none again. */
void fraud__short_reset(struct fr_user *u);

/* fraud.c: the key of user in the users table. */
uint64_t fraud__user_hash(const struct fraud *f, struct str user);

/* fraud_learn.c: the wall clock in the users' local time (UTC offset). */
uint64_t fraud__local_ms(const struct fraud *f, uint64_t wall);
/* Anomaly rules, checked when a call is checked. */
void fraud__check_hours(struct fraud *f, struct fr_user *u, struct str user,
			const struct sg_addr *src, uint16_t zone, uint64_t now,
			uint64_t wall);
void fraud__check_baseline(struct fraud *f, struct fr_user *u, struct str user,
			   const struct sg_addr *src, uint16_t zone,
			   uint64_t now, uint64_t wall);
/* Learn a call that started (hour of day, calls today). */
void fraud__learn(struct fraud *f, struct fr_user *u, uint64_t wall);
/* A short international call ended: count it, raise on a burst. */
void fraud__short_call(struct fraud *f, struct fr_user *u,
		       const struct fr_call *call, uint64_t now, uint64_t wall);
/* A challenged call (401/407) ended: take it back out of the counts. */
void fraud__refund(struct fraud *f, struct fr_user *u, struct fr_src *s,
		   const struct fr_call *call);

#endif
