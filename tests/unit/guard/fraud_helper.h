/*
 * fraud_helper.h - toll-fraud instances for the unit tests that share
 * fraud limits through a store (test_fraud_share.c, test_fraud_keys.c):
 * one instance is a store, a fraud object on zones "internet" and "pbx"
 * and the fraud_share between them, on a loop the test owns; the base
 * fraud config those tests start from; a call asked and started with
 * the cluster's view read first.  Linked by the tests that list
 * $(BUILD)/tests/unit/guard/fraud_helper.o (with redis_helper.o) as a
 * prerequisite in their .mk.
 */
#ifndef SIPGUARD_TESTS_GUARD_FRAUD_HELPER_H
#define SIPGUARD_TESTS_GUARD_FRAUD_HELPER_H

#include <stdbool.h>

#include "core/conf.h"
#include "guard/fraud.h"
#include "store/store.h"

struct loop;

/* One instance: owned by the test, freed with fh_free(). */
struct fh_inst {
	struct store *s;
	struct fraud_share *sh;
	struct fraud *f;
	int wakes, resyncs; /* fraud_share wakes, store resyncs seen */
};

/* The base config: one class "local" that allows every number, "00",
 * "0" and country 44, room for 64 users and 64 calls, no limit set
 * (each test sets the ones it checks). */
void fh_conf(struct sg_conf_fraud *c);

/* A new instance on l: a store on sc (started), a fraud on fc sharing
 * through it.  wait: spin l until the store's first resync (Redis). */
void fh_new(struct fh_inst *in, struct loop *l, const struct store_conf *sc,
	    const struct sg_conf_fraud *fc, bool wait);
void fh_free(struct fh_inst *in);

/* Ask for a call of user to uri from src, reading the cluster's view
 * first (waiting for its wake): NULL (pass, *note filled) or the
 * refusal's rule. */
const char *fh_ask_call(struct fh_inst *in, struct loop *l, const char *user,
			const char *uri, const char *src,
			struct fraud_note *note);
/* A call that must pass, started with call-id cid; returns once what in
 * pushed for it is applied (a read on the same connection follows). */
void fh_start_call(struct fh_inst *in, struct loop *l, const char *user,
		   const char *uri, const char *src, const char *cid);

#endif
