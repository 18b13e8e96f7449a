/*
 * test_fraud.c - toll-fraud checks with a fake clock: user classes (most
 * specific mapping wins), dial policy verdicts (403 with the configured
 * reason), emergency numbers, zones that are not checked, limits per
 * user (concurrent calls and their release, calls per second and per
 * minute, per country per hour) and per source, the call table, the
 * class's maximum duration, anomaly rules (short international calls,
 * unusual hours, daily baseline) with their graded actions and monitor
 * mode, table eviction, and allocation failures.
 */
#include <errno.h>
#include <stdio.h>

#include "test.h"
#include "core/addr.h"
#include "core/conf.h"
#include "guard/fraud.h"
#include "guard/fraud_int.h"
#include "sip/sip.h"

#define SEC  1000ULL
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)

/* 2026-11-26 00:00 UTC, a Thursday: wall clock of "day 0". */
static const uint64_t WALL0 = 1795651200000ULL;

static struct sg_conf_fraud C;
static const char *const zn[] = {"internet", "pbx", "branch"};
static const bool zt[] = {false, true, false};

struct alerts {
	unsigned n;
	const char *rule[32];
	enum fraud_action act[32];
	bool monitor; /* answer "monitored": do not apply */
};
static struct alerts AL;

static bool on_alert(void *arg, const struct fraud_alert *a, uint64_t now,
		     uint64_t wall)
{
	struct alerts *al = arg;

	(void)now;
	(void)wall;
	assert_non_null(a->why);
	if (al->n < 32) {
		al->rule[al->n] = a->rule;
		al->act[al->n] = a->action;
	}
	al->n++;
	return !al->monitor;
}

static void set(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s);
}
#define SET(f, s) set((f), sizeof(f), (s))

static void add_rule(const char *name, int action, const char *prefix,
		     const char *regex, const char *cls)
{
	struct sg_conf_dial_rule *r = &C.dial_rules[C.n_dial_rules++];

	SET(r->name, name);
	r->action = action;
	if (prefix) {
		SET(r->prefixes[0], prefix);
		r->n_prefixes = 1;
	}
	if (regex)
		SET(r->regex, regex);
	if (cls) {
		SET(r->classes[0], cls);
		r->n_classes = 1;
	}
}

static void add_user(const char *user, const char *cls, const char *zone)
{
	struct sg_conf_fraud_user *u = &C.users[C.n_users++];

	SET(u->user, user);
	SET(u->class, cls);
	SET(u->zone, zone);
}

static void base_conf(void)
{
	memset(&C, 0, sizeof(C));
	memset(&AL, 0, sizeof(AL));
	SET(C.reason, "Forbidden - fraud");
	SET(C.international_prefix, "00");
	SET(C.national_prefix, "0");
	SET(C.country_code, "44");
	SET(C.classes[0].name, "local");
	C.classes[0].otherwise = CONF_DIAL_DENY;
	C.classes[0].names = CONF_DIAL_ALLOW;
	SET(C.classes[1].name, "world");
	C.classes[1].otherwise = CONF_DIAL_ALLOW;
	C.classes[1].names = CONF_DIAL_DENY;
	SET(C.classes[2].name, "barred");
	C.classes[2].otherwise = CONF_DIAL_DENY;
	C.classes[2].names = CONF_DIAL_DENY;
	C.n_classes = 3;
	add_rule("premium", CONF_DIAL_DENY, "+449", NULL, NULL);
	add_rule("national", CONF_DIAL_ALLOW, "+44", NULL, "local");
	add_rule("extensions", CONF_DIAL_ALLOW, NULL, "^[0-9]{3,4}$", NULL);
	add_user("alice", "world", "");
	add_user("*", "barred", "branch");
	add_user("bob", "world", "branch");
	C.anomaly.throttle_calls_per_minute = 1;
	C.anomaly.throttle_time = HOUR;
	C.anomaly.block_time = 4 * HOUR;
	C.anomaly.short_calls.shorter_than = 20 * SEC;
	C.anomaly.short_calls.window = 10 * MIN;
	C.anomaly.odd_hours.rare_percent = 1;
	C.anomaly.baseline.min_days = 3;
	C.anomaly.baseline.min_calls = 5;
	C.max_users = 64;
	C.max_calls = 64;
}

static struct fraud *mk(void)
{
	struct fraud *f = NULL;
	char err[160] = "";
	int rc = fraud_new(&f, &C, zn, zt, 3, on_alert, &AL, err, sizeof(err));

	if (rc)
		fail_msg("fraud_new: %d %s", rc, err);
	return f;
}

struct res {
	int status; /* 0: pass */
	const char *rule;
	const char *reason;
	struct fraud_note note;
};

/* A new call by user from ip in zone to the Request-URI user num. */
static struct res check_z(struct fraud *f, const char *user, const char *num,
			  const char *ip, uint16_t zone, uint64_t now,
			  uint64_t wall)
{
	static char text[256];
	struct guard_verdict v;
	struct sip_uri u;
	struct sg_addr a;
	struct res r;

	snprintf(text, sizeof(text), "%s%s%s",
		 strncmp(num, "tel:", 4) ? "sip:" : "", num,
		 strncmp(num, "tel:", 4) ? "@pbx" : "");
	assert_int_equal(sip_uri_parse(&u, str_cstr(text), 0, NULL), 0);
	assert_int_equal(sg_addr_from_host(&a, str_cstr(ip), 5060), 0);
	fraud_check(f, &u, str_cstr(user), &a, zone, now, wall, &r.note, &v);
	r.status = v.action == GUARD_PASS ? 0 : v.status;
	r.rule = v.rule;
	r.reason = v.reason;
	if (v.action != GUARD_PASS)
		assert_non_null(v.why);
	return r;
}

static struct res check(struct fraud *f, const char *user, const char *num,
			uint64_t now, uint64_t wall)
{
	return check_z(f, user, num, "192.0.2.1", 0, now, wall);
}

static unsigned seq;

/* check, and when it passes, start the call; returns the check. */
static struct res call(struct fraud *f, const char *user, const char *num,
		       uint64_t now, uint64_t wall, char *cid, size_t cidsz)
{
	struct res r = check(f, user, num, now, wall);
	char tmp[64];

	if (!cid) {
		cid = tmp;
		cidsz = sizeof(tmp);
	}
	snprintf(cid, cidsz, "call-%u", ++seq);
	if (r.status == 0)
		(void)fraud_call_start(f, &r.note, str_cstr(cid), STR("t"), now,
				       wall);
	return r;
}

static void end(struct fraud *f, const char *cid, uint64_t talk, uint64_t now,
		uint64_t wall)
{
	fraud_call_end(f, str_cstr(cid), STR("t"), talk, 200, now, wall);
}

/* ------------------------------------------------------------ policy */

static void test_dial_policy(void **state)
{
	static const struct {
		const char *user, *num;
		uint16_t zone;
		int status;
		const char *rule;
	} t[] = {
		{"carol", "02079460000", 0, 0, NULL}, /* local: national */
		{"carol", "09001234567", 0, 403, FRAUD_R_DIAL},
		{"carol", "0049301234", 0, 403, FRAUD_R_DIAL},
		{"carol", "1001", 0, 0, NULL}, /* extension */
		{"carol", "bob", 0, 0, NULL},  /* names allowed */
		{"carol", "112", 0, 0, NULL},  /* emergency */
		{"carol", "9-1-1", 0, 0, NULL},
		{"carol", "12+3", 0, 403, FRAUD_R_DIAL}, /* invalid */
		{"carol", "tel:+4930123", 0, 403, FRAUD_R_DIAL},
		{"carol", "tel:+442079460000", 0, 0, NULL},
		{"alice", "0049301234", 0, 0, NULL}, /* world */
		{"alice", "09001234567", 0, 403, FRAUD_R_DIAL},
		{"alice", "bob", 0, 403, FRAUD_R_DIAL},         /* no names */
		{"alice", "0049301234", 2, 0, NULL},            /* any zone */
		{"carol", "02079460000", 2, 403, FRAUD_R_DIAL}, /* barred */
		{"carol", "999", 2, 0, NULL},         /* still emergency */
		{"bob", "0049301234", 2, 0, NULL},    /* user in zone */
		{"carol", "09001234567", 1, 0, NULL}, /* trusted: off */
	};
	struct fraud *f;
	size_t i;

	(void)state;
	base_conf();
	f = mk();
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct res r = check_z(f, t[i].user, t[i].num, "192.0.2.1",
				       t[i].zone, 1000, WALL0);

		if (r.status != t[i].status)
			fail_msg("%s -> %s zone %u: %d, want %d", t[i].user,
				 t[i].num, t[i].zone, r.status, t[i].status);
		if (t[i].rule && strcmp(r.rule, t[i].rule) != 0)
			fail_msg("%s: rule %s", t[i].num, r.rule);
		if (r.status == 403)
			assert_string_equal(r.reason, "Forbidden - fraud");
	}
	/* Emergency calls and unchecked zones leave nothing to count. */
	assert_false(check(f, "carol", "112", 1000, WALL0).note.active);
	assert_false(check_z(f, "carol", "0201", "192.0.2.1", 1, 1000, WALL0)
			     .note.active);
	assert_true(check(f, "carol", "1001", 1000, WALL0).note.active);
	assert_false(fraud_zone_checked(f, 1));
	assert_true(fraud_zone_checked(f, 2));
	fraud_free(f);
	assert_no_leaks();
}

static void test_zones_listed_and_no_classes(void **state)
{
	struct fraud *f;

	(void)state;
	base_conf();
	SET(C.zones[0], "pbx");
	C.n_zones = 1;
	f = mk();
	assert_true(fraud_zone_checked(f, 1));
	assert_false(fraud_zone_checked(f, 0));
	assert_int_equal(check(f, "carol", "09001234567", 1, WALL0).status, 0);
	fraud_free(f);
	base_conf();
	C.n_classes = 0;
	C.n_users = 0;
	C.n_dial_rules = 0;
	f = mk();
	assert_false(fraud_zone_checked(f, 0));
	assert_int_equal(check(f, "carol", "09001234567", 1, WALL0).status, 0);
	assert_int_equal(fraud_call_start(f,
					  &(struct fraud_note){.active = true},
					  STR("x"), STR("y"), 1, WALL0),
			 0);
	fraud_call_end(f, STR("x"), STR("y"), 0, 0, 1, WALL0);
	fraud_free(f);
	fraud_free(NULL);
	assert_no_leaks();
}

/* ------------------------------------------------------------ limits */

static void test_concurrent_and_release(void **state)
{
	char c1[32], c2[32];
	struct fraud *f;
	struct res r;

	(void)state;
	base_conf();
	C.classes[0].max_concurrent = 2;
	C.classes[0].max_call_duration = 2 * SEC;
	f = mk();
	assert_int_equal(call(f, "carol", "0201", 1000, WALL0, c1, 32).status,
			 0);
	r = check(f, "carol", "0202", 1000, WALL0);
	assert_int_equal(r.status, 0);
	/* start returns the class's maximum duration; twice: counted once */
	assert_int_equal(
		fraud_call_start(f, &r.note, STR("cx"), STR("t"), 1000, WALL0),
		2 * SEC);
	assert_int_equal(
		fraud_call_start(f, &r.note, STR("cx"), STR("t"), 1000, WALL0),
		0);
	assert_int_equal(fraud_user_calls(f, STR("carol")), 2);
	r = check(f, "carol", "0203", 1000, WALL0);
	assert_int_equal(r.status, 403);
	assert_string_equal(r.rule, FRAUD_R_CONCURRENT);
	/* Someone else is not affected; an emergency call always passes. */
	assert_int_equal(check(f, "dave", "0203", 1000, WALL0).status, 0);
	assert_int_equal(check(f, "carol", "112", 1000, WALL0).status, 0);
	end(f, c1, 5000, 9000, WALL0);
	end(f, c1, 5000, 9000, WALL0); /* unknown now: ignored */
	end(f, "nobody", 0, 9000, WALL0);
	assert_int_equal(fraud_user_calls(f, STR("carol")), 1);
	assert_int_equal(fraud_calls(f), 1);
	assert_int_equal(call(f, "carol", "0204", 9000, WALL0, c2, 32).status,
			 0);
	end(f, c2, 0, 9500, WALL0);
	end(f, "cx", 0, 9500, WALL0);
	assert_int_equal(fraud_calls(f), 0);
	assert_int_equal(fraud_user_calls(f, STR("carol")), 0);
	fraud_free(f);
	assert_no_leaks();
}

/* Calls whose Call-IDs share a long prefix are still two calls. */
static void test_long_call_ids(void **state)
{
	char a[600], b[600];
	struct fraud *f;
	struct res r;

	(void)state;
	base_conf();
	C.classes[0].max_concurrent = 2;
	f = mk();
	memset(a, 'x', sizeof(a) - 2);
	memcpy(b, a, sizeof(a));
	a[sizeof(a) - 2] = 'a';
	b[sizeof(b) - 2] = 'b';
	a[sizeof(a) - 1] = b[sizeof(b) - 1] = '\0';
	r = check(f, "carol", "0201", 1000, WALL0);
	(void)fraud_call_start(f, &r.note, str_cstr(a), STR("t"), 1000, WALL0);
	r = check(f, "carol", "0201", 1000, WALL0);
	(void)fraud_call_start(f, &r.note, str_cstr(b), STR("t"), 1000, WALL0);
	assert_int_equal(fraud_calls(f), 2);
	assert_string_equal(check(f, "carol", "0201", 1000, WALL0).rule,
			    FRAUD_R_CONCURRENT);
	end(f, a, 0, 2000, WALL0);
	end(f, b, 0, 2000, WALL0);
	assert_int_equal(fraud_calls(f), 0);
	fraud_free(f);
	assert_no_leaks();
}

static void test_rates(void **state)
{
	struct fraud *f;
	uint64_t t = 10 * SEC;
	unsigned i;
	struct res r;

	(void)state;
	base_conf();
	C.classes[0].calls_per_second = 2;
	C.classes[0].calls_per_minute = 5;
	f = mk();
	assert_int_equal(call(f, "carol", "0201", t, WALL0, NULL, 0).status, 0);
	assert_int_equal(call(f, "carol", "0201", t, WALL0, NULL, 0).status, 0);
	r = call(f, "carol", "0201", t, WALL0, NULL, 0);
	assert_int_equal(r.status, 403);
	assert_string_equal(r.rule, FRAUD_R_RATE);
	/* Two seconds later the per-second window has moved on... */
	t += 2 * SEC;
	for (i = 0; i < 3; i++)
		assert_int_equal(
			call(f, "carol", "0201", t + i * 1100, WALL0, NULL, 0)
				.status,
			0);
	/* ...but five a minute is the other limit. */
	t += 5 * SEC;
	assert_string_equal(call(f, "carol", "0201", t, WALL0, NULL, 0).rule,
			    FRAUD_R_RATE);
	/* Refused attempts are not counted: after the minute, calls pass. */
	t += 2 * MIN;
	assert_int_equal(call(f, "carol", "0201", t, WALL0, NULL, 0).status, 0);
	fraud_free(f);
	assert_no_leaks();
}

/* A challenged INVITE and its authenticated retry are one call. */
static void test_challenge_not_counted_twice(void **state)
{
	struct fraud *f;
	char cid[32];

	(void)state;
	base_conf();
	C.classes[1].calls_per_second = 1;
	C.classes[1].calls_per_country_per_hour = 1;
	C.per_source.calls_per_second = 1;
	f = mk();
	assert_int_equal(
		call(f, "alice", "0049301", 10 * SEC, WALL0, cid, 32).status,
		0);
	fraud_call_end(f, str_cstr(cid), STR("t"), 0, 407, 10 * SEC + 20,
		       WALL0);
	/* The retry with credentials: would be over every limit if the
	 * challenged attempt still counted. */
	assert_int_equal(
		call(f, "alice", "0049301", 10 * SEC + 40, WALL0, cid, 32)
			.status,
		0);
	end(f, cid, 0, 10 * SEC + 50, WALL0);
	/* It counts once: a second call to Germany this hour is over. */
	assert_string_equal(
		call(f, "alice", "0049301", 20 * SEC, WALL0, cid, 32).rule,
		FRAUD_R_COUNTRY);
	assert_int_equal(fraud_calls(f), 0);
	fraud_free(f);
	assert_no_leaks();
}

static void test_country_per_hour(void **state)
{
	struct fraud *f;
	uint64_t t = HOUR;
	struct res r;

	(void)state;
	base_conf();
	C.classes[1].calls_per_country_per_hour = 2;
	f = mk();
	assert_int_equal(call(f, "alice", "0049301", t, WALL0, NULL, 0).status,
			 0);
	assert_int_equal(call(f, "alice", "+4930-2", t, WALL0, NULL, 0).status,
			 0);
	r = call(f, "alice", "0049303", t, WALL0, NULL, 0);
	assert_int_equal(r.status, 403);
	assert_string_equal(r.rule, FRAUD_R_COUNTRY);
	/* Another country, a national number: separate. */
	assert_int_equal(call(f, "alice", "0033101", t, WALL0, NULL, 0).status,
			 0);
	assert_int_equal(call(f, "alice", "0201", t, WALL0, NULL, 0).status, 0);
	assert_int_equal(call(f, "alice", "0201", t, WALL0, NULL, 0).status, 0);
	assert_int_equal(call(f, "alice", "0201", t, WALL0, NULL, 0).status, 0);
	/* Two hours later, Germany again. */
	assert_int_equal(
		call(f, "alice", "0049301", t + 2 * HOUR, WALL0, NULL, 0)
			.status,
		0);
	fraud_free(f);
	assert_no_leaks();
}

static void test_source_limits(void **state)
{
	char c1[32];
	struct fraud *f;
	struct res r;

	(void)state;
	base_conf();
	C.per_source.max_concurrent = 1;
	C.per_source.calls_per_minute = 3;
	f = mk();
	assert_int_equal(call(f, "u1", "0201", 1000, WALL0, c1, 32).status, 0);
	r = check(f, "u2", "0201", 1000, WALL0);
	assert_int_equal(r.status, 403);
	assert_string_equal(r.rule, FRAUD_R_SOURCE);
	assert_int_equal(
		check_z(f, "u2", "0201", "192.0.2.2", 0, 1000, WALL0).status,
		0);
	end(f, c1, 0, 2000, WALL0);
	assert_int_equal(call(f, "u3", "0201", 2000, WALL0, c1, 32).status, 0);
	end(f, c1, 0, 2000, WALL0);
	assert_int_equal(call(f, "u4", "0201", 2000, WALL0, c1, 32).status, 0);
	end(f, c1, 0, 2000, WALL0);
	assert_string_equal(check(f, "u5", "0201", 2000, WALL0).rule,
			    FRAUD_R_SOURCE);
	fraud_free(f);
	assert_no_leaks();
}

static void test_call_table_full(void **state)
{
	struct fraud *f;
	char name[16];
	unsigned i;
	struct res r;

	(void)state;
	base_conf();
	C.max_calls = 16;
	C.max_users = 64;
	f = mk();
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "u%u", i);
		assert_int_equal(
			call(f, name, "0201", 1000, WALL0, NULL, 0).status, 0);
	}
	r = check(f, "u99", "0201", 1000, WALL0);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.rule, FRAUD_R_TABLE);
	assert_int_equal(check(f, "u99", "112", 1000, WALL0).status, 0);
	fraud_free(f);
	assert_no_leaks();
}

/*
 * 16 users with a call up each in a 64-user table, under 2000 different
 * hash keys: every call is admitted.  The 4-way set-associative table
 * this replaced refused a user in 4 of these 2000 runs ("user table
 * full": both of its candidate sets held 4 busy users while 48 of the
 * 64 entries were free); the chained table is full only when every
 * entry is busy.
 */
/* A deterministic byte stream (64-bit LCG, top byte). */
static uint8_t next_byte(uint64_t *st)
{
	*st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint8_t)(*st >> 56);
}

static void test_user_table_not_full_early(void **state)
{
	uint8_t key[SIPHASH_KEY_LEN];
	unsigned seed, i, refused = 0;
	uint64_t st = 1;
	struct fraud *f;
	char name[16];

	(void)state;
	base_conf();
	C.max_users = 64;
	C.max_calls = 16;
	for (seed = 0; seed < 2000; seed++) {
		f = mk();
		for (i = 0; i < SIPHASH_KEY_LEN; i++)
			key[i] = next_byte(&st);
		fraud__set_key(f, key);
		for (i = 0; i < 16; i++) {
			snprintf(name, sizeof(name), "u%u", i);
			if (call(f, name, "0201", 1000 + i, WALL0, NULL, 0)
				    .status)
				refused++;
		}
		fraud_free(f);
	}
	assert_int_equal(refused, 0);
	assert_no_leaks();
}

/* Every entry busy: the 65th user is refused (503), and admitted again
 * once one call ends. */
static void test_user_table_full_when_all_busy(void **state)
{
	char cids[64][32], name[16];
	struct fraud *f;
	unsigned i;
	struct res r;

	(void)state;
	base_conf();
	C.max_users = 64;
	C.max_calls = 128;
	f = mk();
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "b%u", i);
		assert_int_equal(call(f, name, "0201", 1000, WALL0, cids[i],
				      sizeof(cids[i]))
					 .status,
				 0);
	}
	r = check(f, "late", "0201", 1001, WALL0);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.rule, FRAUD_R_TABLE);
	/* A user already in the table still calls. */
	assert_int_equal(check(f, "b3", "0201", 1002, WALL0).status, 0);
	end(f, cids[7], 0, 1003, WALL0);
	assert_int_equal(call(f, "late", "0201", 1004, WALL0, NULL, 0).status,
			 0);
	assert_int_equal(fraud_user_calls(f, STR("late")), 1);
	assert_int_equal(fraud_user_calls(f, STR("b3")), 1);
	assert_int_equal(fraud_user_calls(f, STR("b7")), 0);
	fraud_free(f);
	assert_no_leaks();
}

/* Many more users than the table holds: idle ones are evicted, users
 * with calls up stay (their count is not lost). */
static void test_user_eviction(void **state)
{
	char c1[32], name[16];
	struct fraud *f;
	unsigned i;

	(void)state;
	base_conf();
	C.max_users = 16;
	C.max_calls = 1024;
	C.classes[0].max_concurrent = 1;
	f = mk();
	assert_int_equal(call(f, "keeper", "0201", 1, WALL0, c1, 32).status, 0);
	for (i = 0; i < 2000; i++) {
		char cid[32];

		snprintf(name, sizeof(name), "n%u", i);
		(void)call(f, name, "0201", 2 + i, WALL0, cid, sizeof(cid));
		end(f, cid, 0, 2 + i, WALL0);
	}
	assert_int_equal(fraud_user_calls(f, STR("keeper")), 1);
	assert_string_equal(check(f, "keeper", "0201", 5000, WALL0).rule,
			    FRAUD_R_CONCURRENT);
	assert_int_equal(fraud_calls(f), 1);
	fraud_free(f);
	assert_no_leaks();
}

/*
 * Reload: a new policy built from a changed configuration takes over the
 * running one.  The new limit applies to the next call; calls in
 * progress keep counting and release their slots in the new object;
 * learned and rate state carries over; a smaller table still holds
 * every user with calls up.
 */
static void test_reload_adopts_state(void **state)
{
	char c1[32], c2[32], cids[20][32], name[16];
	struct fraud *f, *nf;
	unsigned i;

	(void)state;
	base_conf();
	C.classes[0].max_concurrent = 1;
	C.classes[0].calls_per_minute = 100;
	f = mk();
	assert_int_equal(call(f, "carol", "0201", 1000, WALL0, c1, 32).status,
			 0);
	assert_string_equal(check(f, "carol", "0201", 1001, WALL0).rule,
			    FRAUD_R_CONCURRENT);
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "r%u", i);
		assert_int_equal(call(f, name, "0201", 1002, WALL0, cids[i],
				      sizeof(cids[i]))
					 .status,
				 0);
	}
	/* Limit 2, calls per minute 2 (carol made 1), a user table of 8
	 * (grown to the 21 users with calls up). */
	C.classes[0].max_concurrent = 2;
	C.classes[0].calls_per_minute = 2;
	C.max_users = 8;
	nf = mk();
	assert_int_equal(fraud_adopt(nf, f), 0);
	fraud_free(f);
	assert_int_equal(fraud_calls(nf), 21);
	assert_int_equal(fraud_user_calls(nf, STR("carol")), 1);
	assert_int_equal(call(nf, "carol", "0201", 2000, WALL0, c2, 32).status,
			 0);
	/* Third: over both the new concurrent limit and the carried-over
	 * minute window (2 calls in it). */
	assert_int_equal(check(nf, "carol", "0201", 2001, WALL0).status, 403);
	end(nf, c1, 0, 3000, WALL0);
	end(nf, c2, 0, 3000, WALL0);
	assert_int_equal(fraud_user_calls(nf, STR("carol")), 0);
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "r%u", i);
		assert_int_equal(fraud_user_calls(nf, str_cstr(name)), 1);
		end(nf, cids[i], 0, 3000, WALL0);
		assert_int_equal(fraud_user_calls(nf, str_cstr(name)), 0);
	}
	assert_int_equal(fraud_calls(nf), 0);
	/* The window moved on: carol calls again. */
	assert_int_equal(check(nf, "carol", "0201", 3 * MIN, WALL0).status, 0);
	fraud_free(nf);
	assert_no_leaks();
}

/* Allocation failures while adopting: old stays whole, nothing leaks. */
static void test_reload_alloc_failures(void **state)
{
	struct fraud *f, *nf;
	char cid[32];
	size_t n;
	int rc;

	(void)state;
	base_conf();
	C.max_calls = 4;
	f = mk();
	assert_int_equal(call(f, "carol", "0201", 1000, WALL0, cid, 32).status,
			 0);
	for (n = 1; n < 50; n++) {
		nf = mk();
		mem_fail_nth(n);
		rc = fraud_adopt(nf, f);
		mem_fail_nth(0);
		fraud_free(nf);
		if (rc == 0)
			break;
		assert_int_equal(rc, -ENOMEM);
	}
	assert_int_equal(fraud_user_calls(f, STR("carol")), 1);
	end(f, cid, 0, 2000, WALL0);
	assert_int_equal(fraud_calls(f), 0);
	fraud_free(f);
	assert_no_leaks();
}

/* ----------------------------------------------------------- anomaly */

static void test_short_international_burst_blocks(void **state)
{
	struct fraud *f;
	uint64_t t = HOUR;
	char cid[32];
	unsigned i;
	struct res r;

	(void)state;
	base_conf();
	C.anomaly.short_calls.count = 3;
	C.anomaly.short_calls.action = CONF_FRAUD_BLOCK;
	f = mk();
	/* Long international calls and short national ones do not count. */
	for (i = 0; i < 5; i++) {
		assert_int_equal(
			call(f, "alice", "0049301", t, WALL0, cid, 32).status,
			0);
		end(f, cid, 5 * MIN, t + 5 * MIN, WALL0);
		assert_int_equal(
			call(f, "alice", "0201", t, WALL0, cid, 32).status, 0);
		end(f, cid, 1000, t + 1000, WALL0);
	}
	assert_int_equal(AL.n, 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(
			call(f, "alice", "0049301", t, WALL0, cid, 32).status,
			0);
		end(f, cid, i == 0 ? 0 : 3 * SEC, t + 5 * SEC, WALL0);
		t += 10 * SEC;
	}
	assert_int_equal(AL.n, 1);
	assert_string_equal(AL.rule[0], FRAUD_R_SHORT);
	assert_int_equal(AL.act[0], FRAUD_BLOCK);
	r = check(f, "alice", "0201", t, WALL0);
	assert_int_equal(r.status, 403);
	assert_string_equal(r.rule, FRAUD_R_BLOCKED);
	assert_int_equal(check(f, "alice", "112", t, WALL0).status, 0);
	assert_int_equal(check(f, "zoe", "0201", t, WALL0).status, 0);
	/* The block runs out. */
	assert_int_equal(
		check(f, "alice", "0201", t + 4 * HOUR + 1, WALL0).status, 0);
	fraud_free(f);
	assert_no_leaks();
}

static void test_monitor_does_not_apply(void **state)
{
	struct fraud *f;
	uint64_t t = HOUR;
	char cid[32];
	unsigned i;

	(void)state;
	base_conf();
	C.anomaly.short_calls.count = 1;
	C.anomaly.short_calls.action = CONF_FRAUD_BLOCK;
	AL.monitor = true;
	f = mk();
	for (i = 0; i < 3; i++) {
		assert_int_equal(
			call(f, "alice", "0049301", t, WALL0, cid, 32).status,
			0);
		end(f, cid, 0, t, WALL0);
	}
	assert_int_equal(AL.n, 1); /* once per window */
	assert_int_equal(check(f, "alice", "0201", t, WALL0).status, 0);
	fraud_free(f);
	assert_no_leaks();
}

static void test_odd_hours(void **state)
{
	struct fraud *f;
	uint64_t t = HOUR, day;
	unsigned i;

	(void)state;
	base_conf();
	C.anomaly.odd_hours.after_calls = 20;
	C.anomaly.odd_hours.action = CONF_FRAUD_ALERT;
	C.anomaly.utc_offset = 60; /* local time = UTC + 1 h */
	f = mk();
	/* Office hours: 09:00-17:00 local, over a few days. */
	for (day = 0; day < 5; day++)
		for (i = 0; i < 8; i++)
			assert_int_equal(
				call(f, "carol", "0201", t++,
				     WALL0 + day * DAY + (8 + i) * HOUR, NULL,
				     0)
					.status,
				0);
	assert_int_equal(AL.n, 0);
	/* 10:30 local: usual.  08:30 local: next to usual hours. */
	assert_int_equal(check(f, "carol", "0201", t,
			       WALL0 + 6 * DAY + 9 * HOUR + 30 * MIN)
				 .status,
			 0);
	assert_int_equal(check(f, "carol", "0201", t,
			       WALL0 + 6 * DAY + 7 * HOUR + 30 * MIN)
				 .status,
			 0);
	assert_int_equal(AL.n, 0);
	/* 03:10 local: alert only, the call passes; once per hour. */
	assert_int_equal(check(f, "carol", "0201", t,
			       WALL0 + 6 * DAY + 2 * HOUR + 10 * MIN)
				 .status,
			 0);
	assert_int_equal(check(f, "carol", "0201", t,
			       WALL0 + 6 * DAY + 2 * HOUR + 20 * MIN)
				 .status,
			 0);
	assert_int_equal(AL.n, 1);
	assert_string_equal(AL.rule[0], FRAUD_R_HOURS);
	assert_int_equal(AL.act[0], FRAUD_ALERT);
	/* A user still learning is not judged. */
	assert_int_equal(check(f, "dave", "0201", t, WALL0 + 2 * HOUR).status,
			 0);
	assert_int_equal(AL.n, 1);
	fraud_free(f);
	assert_no_leaks();
}

static void test_baseline_throttles(void **state)
{
	struct fraud *f;
	uint64_t t = HOUR, day;
	unsigned i;
	struct res r;

	(void)state;
	base_conf();
	C.anomaly.baseline.factor = 3;
	C.anomaly.baseline.action = CONF_FRAUD_THROTTLE;
	f = mk();
	/* Four days of two calls a day, then a busy day. */
	for (day = 0; day < 4; day++)
		for (i = 0; i < 2; i++)
			assert_int_equal(call(f, "carol", "0201", t++,
					      WALL0 + day * DAY + 10 * HOUR,
					      NULL, 0)
						 .status,
					 0);
	/* limit = max(min_calls 5, 3 x 2) = 6 calls on day 4 */
	for (i = 0; i < 6; i++)
		assert_int_equal(call(f, "carol", "0201", t + i * 2 * MIN,
				      WALL0 + 4 * DAY + 10 * HOUR, NULL, 0)
					 .status,
				 0);
	assert_int_equal(AL.n, 0);
	t += 20 * MIN;
	/* The 7th raises fraud-baseline: throttled to 1 call a minute. */
	assert_int_equal(call(f, "carol", "0201", t,
			      WALL0 + 4 * DAY + 11 * HOUR, NULL, 0)
				 .status,
			 0);
	assert_int_equal(AL.n, 1);
	assert_string_equal(AL.rule[0], FRAUD_R_BASELINE);
	assert_int_equal(AL.act[0], FRAUD_THROTTLE);
	r = check(f, "carol", "0201", t + SEC, WALL0 + 4 * DAY + 11 * HOUR);
	assert_int_equal(r.status, 403);
	assert_string_equal(r.rule, FRAUD_R_THROTTLED);
	assert_int_equal(call(f, "carol", "0201", t + 3 * MIN,
			      WALL0 + 4 * DAY + 11 * HOUR, NULL, 0)
				 .status,
			 0);
	assert_int_equal(AL.n, 1); /* once a day */
	/* After the throttle time, no limit. */
	t += 2 * HOUR;
	for (i = 0; i < 3; i++)
		assert_int_equal(call(f, "carol", "0201", t,
				      WALL0 + 4 * DAY + 13 * HOUR, NULL, 0)
					 .status,
				 0);
	fraud_free(f);
	assert_no_leaks();
}

static void test_baseline_idle_days_lower_mean(void **state)
{
	struct fraud *f;
	uint64_t t = HOUR, day;
	unsigned i;

	(void)state;
	base_conf();
	C.anomaly.baseline.factor = 2;
	C.anomaly.baseline.min_calls = 1;
	C.anomaly.baseline.action = CONF_FRAUD_ALERT;
	f = mk();
	for (day = 0; day < 3; day++)
		for (i = 0; i < 10; i++)
			(void)call(f, "carol", "0201", t++,
				   WALL0 + day * DAY + HOUR, NULL, 0);
	/* Fifty silent days, then ten calls: far above the mean now. */
	for (i = 0; i < 10; i++)
		(void)call(f, "carol", "0201", t++, WALL0 + 53 * DAY + HOUR,
			   NULL, 0);
	assert_int_equal(AL.n, 1);
	fraud_free(f);
	assert_no_leaks();
}

static void test_alloc_failures(void **state)
{
	struct fraud *f = NULL;
	char err[160];
	size_t n;
	int rc;

	(void)state;
	base_conf();
	for (n = 1; n < 300; n++) {
		mem_fail_nth(n);
		rc = fraud_new(&f, &C, zn, zt, 3, on_alert, &AL, err,
			       sizeof(err));
		mem_fail_nth(0);
		if (rc == 0) {
			fraud_free(f);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_null(f);
		assert_no_leaks();
	}
	assert_true(n > 1 && n < 300);
	assert_no_leaks();
}

static void test_rule_names(void **state)
{
	size_t n, i;
	const char *const *names = fraud_rule_names(&n);

	(void)state;
	assert_int_equal(n, 11);
	for (i = 0; i < n; i++)
		assert_true(strlen(names[i]) < 48);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dial_policy),
		cmocka_unit_test(test_zones_listed_and_no_classes),
		cmocka_unit_test(test_concurrent_and_release),
		cmocka_unit_test(test_long_call_ids),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_challenge_not_counted_twice),
		cmocka_unit_test(test_country_per_hour),
		cmocka_unit_test(test_source_limits),
		cmocka_unit_test(test_call_table_full),
		cmocka_unit_test(test_user_eviction),
		cmocka_unit_test(test_user_table_not_full_early),
		cmocka_unit_test(test_user_table_full_when_all_busy),
		cmocka_unit_test(test_reload_adopts_state),
		cmocka_unit_test(test_reload_alloc_failures),
		cmocka_unit_test(test_short_international_burst_blocks),
		cmocka_unit_test(test_monitor_does_not_apply),
		cmocka_unit_test(test_odd_hours),
		cmocka_unit_test(test_baseline_throttles),
		cmocka_unit_test(test_baseline_idle_days_lower_mean),
		cmocka_unit_test(test_alloc_failures),
		cmocka_unit_test(test_rule_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
