/*
 * rate_helper.h - authentication-failure and request-rate instances for
 * the unit tests that share them through a store (test_rate_share.c,
 * test_rate_keys.c): one instance is a store, an authfail table and the
 * rate_share between them, wired as guard_share.c wires them, on a loop
 * the test owns.  Linked by the tests that list
 * $(BUILD)/tests/unit/guard/rate_helper.o (with redis_helper.o) as a
 * prerequisite in their .mk.
 */
#ifndef SIPGUARD_TESTS_GUARD_RATE_HELPER_H
#define SIPGUARD_TESTS_GUARD_RATE_HELPER_H

#include <stdbool.h>
#include <stdint.h>

#include "guard/auth.h"
#include "guard/rate_share.h"
#include "store/store.h"

struct loop;

/* Windows of a day: Redis' periods start at midnight UTC, so a test
 * never straddles two (where the estimate's rounding may lose one). */
#define RH_DAY_MS (24u * 3600 * 1000)

/* One instance: owned by the test, freed with rh_free(). */
struct rh_inst {
	struct store *s;
	struct authfail *f;
	struct rate_share *rs;
	int resyncs, bans;       /* store resyncs, bans and locks seen */
	struct guard_src banned; /* the last ban's source */
	const char *rule;        /* and its rule */
};

/* What an instance counts and shares. */
enum {
	RH_SRC = 1u << 0,   /* failures per source */
	RH_USERS = 1u << 1, /* failures per user (when the store has a
			     * cluster key; without one, secret must be
			     * none) */
	RH_LOCK = 1u << 2,  /* a cluster-wide user lock locks it here */
};

struct rh_opts {
	const char *port; /* Redis' */
	bool redis;       /* false: the memory store */
	unsigned what;    /* RH_* */
	uint32_t user_max;
	const char *secret; /* store.secret; NULL or "": none */
};

/* A new instance under prefix on l, its store started (and, on Redis,
 * its first resync seen).  Failure limits: a day's window, 10 per
 * source, 30 for a known-good one, o->user_max per user, 100 per user
 * and source. */
void rh_new(struct rh_inst *in, struct loop *l, const char *name,
	    const char *prefix, const struct rh_opts *o);
void rh_free(struct rh_inst *in);

/* Let every due batch go and its answer come back (bounded). */
void rh_settle(struct loop *l);

/* One failed authentication of user from addr (port 5060). */
enum authfail_outcome rh_fail(struct rh_inst *in, struct loop *l,
			      const char *addr, const char *user);

#endif
