/*
 * rate_share.h - per-source and per-user counts across sipguard
 * instances (issue 9: auth failures per source and per user, INVITE /
 * REGISTER rates): each instance pushes its local hits of hot sources
 * and users into a global sliding window in the store, and bans a source
 * (locks a user) whose global count crosses the limit.  Semantics in
 * rate_share.c's top comment.
 */
#ifndef SIPGUARD_RATE_SHARE_H
#define SIPGUARD_RATE_SHARE_H

#include <stdbool.h>
#include <stdint.h>

#include "guard/guard_types.h"

struct store;
struct loop;
struct rate_share;

enum {
	RATE_SHARE_SLOTS = 256,    /* sources with hits pending or in flight */
	RATE_SHARE_BATCH_MS = 250, /* at most one push per source this often */
	RATE_SHARE_FLOOR = 2,      /* local count before a source is pushed */
	RATE_SHARE_RATE_DIV = 8, /* request rates: floor max(FLOOR, limit/8) */
};

/* What is shared; one Redis key family and one rule each. */
enum rate_share_kind {
	RATE_SHARE_AUTH_SRC = 0, /* authentication failures per source */
	RATE_SHARE_INVITE_SRC,   /* INVITEs per source (inspect's rate) */
	RATE_SHARE_REGISTER_SRC, /* REGISTERs per source */
	RATE_SHARE_AUTH_USER,    /* authentication failures per user */
	RATE_SHARE_KINDS
};

/* The global count of src crossed its limit: ban it (rule, why). */
typedef void rate_share_ban_fn(void *arg, const struct guard_src *src,
			       const char *rule, const char *why,
			       uint64_t now_ms);

/* The global failures of a user reached its limit: lock it here (its
 * local hash, as authfail_lock_user() takes it). */
typedef void rate_share_lock_fn(void *arg, uint64_t local_h, uint64_t now_ms);

struct rate_share_stats {
	uint64_t hits;   /* hits offered */
	uint64_t pushes; /* store_rate_hit() calls sent */
	uint64_t pushed; /* hits in them */
	uint64_t bans;   /* global limit crossed (users: locks) */
	uint64_t full;   /* hits not shared: table full */
	uint64_t polls;  /* pushes of no hit: watched users read */
};

/* 0 or -ENOMEM.  ban and arg borrowed. */
int rate_share_new(struct rate_share **rp, rate_share_ban_fn *ban, void *arg);
/* NULL does nothing.  Detach (or free the store) first. */
void rate_share_free(struct rate_share *rs);
/* Share through s (Redis only) on l; NULL: local only.  Pending hits
 * are forgotten on detach. */
void rate_share_attach(struct rate_share *rs, struct store *s, struct loop *l);
/*
 * One local hit of src, whose local count (after it) is local, limited
 * to limit in window_ms.  Never blocks, never waits for Redis.
 */
void rate_share_hit(struct rate_share *rs, enum rate_share_kind kind,
		    const struct guard_src *src, uint32_t local, uint32_t limit,
		    uint64_t window_ms, uint64_t now_ms);
/*
 * The same for RATE_SHARE_AUTH_USER: one local failure of the user named
 * cl_h in the cluster (a keyed hash under the cluster's key, so Redis
 * never sees the name) and local_h here, local failures after it, locked
 * at limit in window_ms.  When the global count reaches the limit, the
 * lock callback locks the user here.
 */
void rate_share_hit_user(struct rate_share *rs, uint64_t cl_h, uint64_t local_h,
			 uint32_t local, uint32_t limit, uint64_t window_ms,
			 uint64_t now_ms);
void rate_share_set_lock(struct rate_share *rs, rate_share_lock_fn *fn,
			 void *arg);
/* Push every batch that is due (the timer does it too). */
void rate_share_flush(struct rate_share *rs, uint64_t now_ms);
void rate_share_get_stats(const struct rate_share *rs,
			  struct rate_share_stats *st);

#endif
