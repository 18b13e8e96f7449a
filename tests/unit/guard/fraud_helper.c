/*
 * fraud_helper.c - toll-fraud instances sharing limits through a store,
 * for the unit tests (see fraud_helper.h).
 */
#include "fraud_helper.h"

#include <stdio.h>

#include "../redis_helper.h"
#include "../test.h"

#include "core/loop.h"
#include "sip/sip.h"

static const char *const zn[] = {"internet", "pbx"};
static const bool zt[] = {false, true};

static void on_wake(void *arg, uint64_t token)
{
	struct fh_inst *in = arg;

	(void)token;
	in->wakes++;
}

static void ev_resync(void *arg)
{
	struct fh_inst *in = arg;

	in->resyncs++;
}

void fh_conf(struct sg_conf_fraud *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->reason, sizeof(c->reason), "Forbidden");
	snprintf(c->international_prefix, sizeof(c->international_prefix),
		 "00");
	snprintf(c->national_prefix, sizeof(c->national_prefix), "0");
	snprintf(c->country_code, sizeof(c->country_code), "44");
	snprintf(c->classes[0].name, sizeof(c->classes[0].name), "local");
	c->classes[0].otherwise = CONF_DIAL_ALLOW;
	c->classes[0].names = CONF_DIAL_ALLOW;
	c->n_classes = 1;
	c->max_users = 64;
	c->max_calls = 64;
}

void fh_new(struct fh_inst *in, struct loop *l, const struct store_conf *sc,
	    const struct sg_conf_fraud *fc, bool wait)
{
	struct store_events ev = {NULL, NULL, ev_resync, in};
	char err[160] = "";

	memset(in, 0, sizeof(*in));
	assert_int_equal(store_new(&in->s, l, sc, NULL, 0), 0);
	store_set_events(in->s, &ev);
	assert_int_equal(
		fraud_new(&in->f, fc, zn, zt, 2, NULL, NULL, err, sizeof(err)),
		0);
	assert_int_equal(fraud_share_new(&in->sh, on_wake, in), 0);
	fraud_set_share(in->f, in->sh);
	fraud_share_attach(in->sh, in->s, l);
	assert_int_equal(store_start(in->s), 0);
	if (wait)
		assert_true(redis_helper_spin(l, &in->resyncs, 1));
}

void fh_free(struct fh_inst *in)
{
	fraud_share_attach(in->sh, NULL, NULL);
	store_free(in->s);
	fraud_free(in->f);
	fraud_share_free(in->sh);
}

const char *fh_ask_call(struct fh_inst *in, struct loop *l, const char *user,
			const char *uri, const char *src,
			struct fraud_note *note)
{
	static struct sip_uri u;
	struct guard_verdict v;
	struct sg_addr a;
	uint64_t token = 0;
	int w = in->wakes;

	assert_int_equal(sip_uri_parse(&u, str_cstr(uri), 0, NULL), 0);
	assert_int_equal(sg_addr_from_host(&a, str_cstr(src), 5060), 0);
	if (fraud_prefetch_call(in->f, &u, str_cstr(user), &a, 0, loop_now(l),
				&token))
		assert_true(redis_helper_spin(l, &in->wakes, w + 1));
	fraud_check(in->f, &u, str_cstr(user), &a, 0, loop_now(l), 1, note, &v);
	return v.action == GUARD_PASS ? NULL : v.rule;
}

void fh_start_call(struct fh_inst *in, struct loop *l, const char *user,
		   const char *uri, const char *src, const char *cid)
{
	struct fraud_note n;

	assert_null(fh_ask_call(in, l, user, uri, src, &n));
	(void)fraud_call_start(in->f, &n, str_cstr(cid), STR("t"), loop_now(l),
			       1);
	/* A read on the same connection comes after the pushes. */
	(void)fh_ask_call(in, l, user, uri, src, &n);
}
