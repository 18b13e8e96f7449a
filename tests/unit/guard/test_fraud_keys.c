/*
 * test_fraud_keys.c - the names in the toll-fraud keys Redis holds
 * (fraud_share.c, issue 9), against a real redis-server (Debian's)
 * started here on 127.0.0.1:43001 and stopped by pid.  Every key is read
 * back (KEYS) and checked: no user name, dialled number, country or
 * source address in clear, each name 16 hex digits whatever the length
 * of what it hashes.  Two instances with the same store.secret share a
 * user's count; with different secrets they do not; with none (and no
 * password) they share it under the public key, still without names in
 * clear.  Skipped when redis-server is not installed.
 * Waits are bounded loop turns, never sleeps.
 */
#include "test.h"
#include "redis_helper.h"
#include "fraud_helper.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <hiredis/hiredis.h>

#include "core/conf.h"
#include "core/loop.h"
#include "guard/fraud.h"
#include "sip/sip.h"
#include "store/store.h"

#define REDIS_PORT "43001"

static int start_redis(void **state)
{
	(void)state;
	return redis_helper_start(REDIS_PORT);
}

static struct sg_conf_fraud C;

/* Every limit that makes a key: the user's three, the country's hour,
 * the source's three. */
static void full_conf(void)
{
	fh_conf(&C);
	C.classes[0].max_concurrent = 1;
	C.classes[0].calls_per_minute = 50;
	C.classes[0].calls_per_second = 50;
	C.classes[0].calls_per_country_per_hour = 50;
	C.per_source.max_concurrent = 50;
	C.per_source.calls_per_minute = 50;
	C.per_source.calls_per_second = 50;
}

/* One instance on l under prefix; secret NULL: none (nor a password). */
static void mk(struct fh_inst *in, struct loop *l, const char *name,
	       const char *prefix, const char *secret)
{
	struct store_conf c;

	redis_helper_store_conf(&c, REDIS_PORT, true, name, prefix);
	if (secret)
		c.secret = secret;
	fh_new(in, l, &c, &C, true);
}

/* The keys under prefix (KEYS: a test's few dozen), in *rp. */
static redisReply *keys_of(redisContext **cp, const char *prefix)
{
	redisReply *r;

	*cp = redisConnect("127.0.0.1", atoi(REDIS_PORT));
	assert_non_null(*cp);
	assert_int_equal((*cp)->err, 0);
	r = redisCommand(*cp, "KEYS %s*", prefix);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	return r;
}

static bool is_hex16(const char *p)
{
	size_t i;

	for (i = 0; i < 16; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		      (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return p[16] == '\0' || p[16] == ':';
}

/* A fraud key under prefix: "cnt:" or "rate:", a family "fX:", 16 hex
 * digits (and ":N", a rate's window).  Its family letter, or 0 when the
 * key is not a fraud key (an instance's heartbeat). */
static char fraud_family(const char *key, size_t plen)
{
	const char *p = key + plen;

	if (!strncmp(p, "cnt:", 4))
		p += 4;
	else if (!strncmp(p, "rate:", 5))
		p += 5;
	else
		return 0;
	assert_true(p[0] == 'f' && p[1] && p[2] == ':');
	assert_true(is_hex16(p + 3));
	return p[1];
}

/* How many fraud keys under prefix; families: their letters seen. */
static size_t fraud_keys(const char *prefix, const char *const *clear,
			 char *families, size_t fsz)
{
	redisContext *c;
	redisReply *r = keys_of(&c, prefix);
	size_t i, j, n = 0, plen = strlen(prefix), nf = 0;

	for (i = 0; i < r->elements; i++) {
		const char *k = r->element[i]->str;
		char fam;

		for (j = 0; clear && clear[j]; j++)
			if (strstr(k, clear[j]))
				fail_msg("%s in clear in key %s", clear[j], k);
		fam = fraud_family(k, plen);
		if (!fam)
			continue;
		n++;
		/* Bounded: cnt: or rate: + 19 + a window index. */
		assert_true(strlen(k) <= plen + 5 + 19 + 1 + 20);
		if (families && !memchr(families, fam, nf) && nf + 1 < fsz)
			families[nf++] = fam;
	}
	if (families)
		families[nf] = '\0';
	freeReplyObject(r);
	redisFree(c);
	return n;
}

/* Calls with every counter: no key names the user, the number, the
 * country or the source; all seven families are there. */
static void test_no_clear_names(void **state)
{
	static const char *const clear[] = {
		"carolina", "zzzzzzzz", "0033140000001", "33:", "198.51",
		"198-51",   NULL,
	};
	char longuser[121], fams[16];
	struct fh_inst a, b;
	struct loop *l;

	(void)state;
	full_conf();
	l = redis_helper_loop();
	mk(&a, l, "k-a", "fkunit1:", "fkunit secret");
	mk(&b, l, "k-b", "fkunit1:", "fkunit secret");
	memset(longuser, 'z', sizeof(longuser) - 1);
	longuser[sizeof(longuser) - 1] = '\0';
	fh_start_call(&a, l, "carolina", "sip:0033140000001@pbx",
		      "198.51.100.77", "n1");
	fh_start_call(&b, l, longuser, "sip:0033140000001@pbx", "198.51.100.78",
		      "n2");
	assert_true(fraud_keys("fkunit1:", clear, fams, sizeof(fams)) >= 14);
	assert_int_equal(strlen(fams), 7);
	assert_non_null(strchr(fams, 'k')); /* the country's hour */
	fraud_call_end(a.f, STR("n1"), STR("t"), 1000, 200, loop_now(l), 1);
	fraud_call_end(b.f, STR("n2"), STR("t"), 1000, 200, loop_now(l), 1);
	fh_free(&a);
	fh_free(&b);
	loop_free(l);
	assert_no_leaks();
}

/* Same secret, different instance names: one count for carolina (her
 * limit is 1 call up); another secret: another name, not shared. */
static void test_secret_decides_sharing(void **state)
{
	struct fh_inst a, b, c;
	struct fraud_note n;
	struct loop *l;

	(void)state;
	full_conf();
	l = redis_helper_loop();
	mk(&a, l, "s-a", "fkunit2:", "one secret");
	mk(&b, l, "s-b", "fkunit2:", "one secret");
	mk(&c, l, "s-c", "fkunit2:", "another secret");
	fh_start_call(&a, l, "carolina", "sip:0201@pbx", "192.0.2.1", "s1");
	assert_string_equal(
		fh_ask_call(&b, l, "carolina", "sip:0202@pbx", "192.0.2.2", &n),
		FRAUD_R_CONCURRENT);
	/* c names her otherwise: her call through a is not seen. */
	assert_null(fh_ask_call(&c, l, "carolina", "sip:0203@pbx", "192.0.2.3",
				&n));
	fh_start_call(&c, l, "carolina", "sip:0203@pbx", "192.0.2.3", "s2");
	/* Two counts of calls up for her: one a key per secret. */
	{
		redisContext *rc;
		redisReply *r = keys_of(&rc, "fkunit2:cnt:fc:");

		assert_int_equal(r->elements, 2);
		freeReplyObject(r);
		redisFree(rc);
	}
	fraud_call_end(a.f, STR("s1"), STR("t"), 1000, 200, loop_now(l), 1);
	fraud_call_end(c.f, STR("s2"), STR("t"), 1000, 200, loop_now(l), 1);
	fh_free(&a);
	fh_free(&b);
	fh_free(&c);
	loop_free(l);
	assert_no_leaks();
}

/* Neither store.secret nor store.password: the limits stay shared (issue
 * 9), under the public key (store_public_key): one count for carolina
 * across both instances, her name still not in clear, and not the key a
 * secret gives (a third instance with one does not see her call). */
static void test_no_secret_public_key(void **state)
{
	static const char *const clear[] = {"carolina", "192.0.2", NULL};
	struct fh_inst a, b, c;
	struct fraud_note n;
	struct loop *l;

	(void)state;
	full_conf();
	l = redis_helper_loop();
	mk(&a, l, "p-a", "fkunit3:", NULL);
	mk(&b, l, "p-b", "fkunit3:", NULL);
	mk(&c, l, "p-c", "fkunit3:", "a secret");
	fh_start_call(&a, l, "carolina", "sip:0201@pbx", "192.0.2.1", "p1");
	assert_string_equal(
		fh_ask_call(&b, l, "carolina", "sip:0202@pbx", "192.0.2.2", &n),
		FRAUD_R_CONCURRENT);
	assert_null(fh_ask_call(&c, l, "carolina", "sip:0203@pbx", "192.0.2.3",
				&n));
	assert_true(fraud_keys("fkunit3:", clear, NULL, 0) > 0);
	fraud_call_end(a.f, STR("p1"), STR("t"), 1000, 200, loop_now(l), 1);
	fh_free(&a);
	fh_free(&b);
	fh_free(&c);
	loop_free(l);
	assert_no_leaks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_clear_names),
		cmocka_unit_test(test_secret_decides_sharing),
		cmocka_unit_test(test_no_secret_public_key),
	};
	int rc = cmocka_run_group_tests(tests, start_redis, redis_helper_stop);

	assert_no_leaks();
	return rc;
}
