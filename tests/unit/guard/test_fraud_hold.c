/*
 * test_fraud_hold.c - the anomaly rules' blocks and throttles across
 * instances (fraud_hold.c) against a real redis-server (Debian's),
 * started here on 127.0.0.1:43620 and stopped by pid.  Two fraud objects
 * with their own stores on one loop play two instances; each store's
 * ban events are routed as bansync.c routes them.  A user blocked on A
 * by a burst of short international calls is refused on B within a few
 * loop turns, another user is not, and the record in Redis names nobody
 * in clear; a throttle travels too; an instance started afterwards
 * learns the hold from the shared table; monitor mode shares nothing;
 * held users are listed by name; an unblock frees the user everywhere.
 * The hold table: keys that are not a hold's, holds already over,
 * forever or longer than 30 days are refused; the later end wins; an
 * unban marks it lifted; a full table drops the hold that ends soonest; resync
 * pushes what is still in force.  Skipped when redis-server is not
 * installed.  Waits are bounded loop turns, never sleeps.
 */
#include "test.h"
#include "redis_helper.h"
#include "fraud_helper.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "core/conf.h"
#include "core/loop.h"
#include "core/siphash.h"
#include "guard/fraud.h"
#include "guard/fraud_int.h"
#include "sip/sip.h"
#include "store/store.h"

#define REDIS_PORT "43620"
#define SECRET     "fhunit cluster secret"
#define INTL       "sip:0049301234567@pbx.test"

static struct sg_conf_fraud C;

/* What one instance's store told it (as bansync.c hands it over). */
struct seen {
	struct fh_inst *in;
	int holds, unholds, other, resyncs;
};

static struct seen SEEN[3];

static int start_redis(void **state)
{
	(void)state;
	return redis_helper_start(REDIS_PORT);
}

static uint64_t wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void ev_ban(void *arg, const struct store_ban *b)
{
	struct seen *s = arg;

	if (!fraud_share_hold_key(b->key)) {
		s->other++;
		return;
	}
	fraud_share_hold_put(s->in->sh, b, wall_now());
	s->holds++;
}

static void ev_unban(void *arg, const char *key)
{
	struct seen *s = arg;

	fraud_share_hold_del(s->in->sh, key);
	s->unholds++;
}

static void ev_resync(void *arg)
{
	struct seen *s = arg;

	s->resyncs++;
	s->in->resyncs++;
}

/* Three short international calls end a minute: the third fires. */
static void base_conf(int action)
{
	fh_conf(&C);
	C.anomaly.short_calls.count = 2;
	C.anomaly.short_calls.shorter_than = 10000;
	C.anomaly.short_calls.window = 600000;
	C.anomaly.short_calls.action = action;
	C.anomaly.block_time = 3600000;
	C.anomaly.throttle_time = 1800000;
	C.anomaly.throttle_calls_per_minute = 1;
}

static void mk(struct fh_inst *in, struct seen *s, struct loop *l,
	       const char *name, const char *prefix)
{
	struct store_events ev = {ev_ban, ev_unban, ev_resync, s};
	struct store_conf c;

	redis_helper_store_conf(&c, REDIS_PORT, true, name, prefix);
	c.secret = SECRET;
	memset(s, 0, sizeof(*s));
	s->in = in;
	fh_new(in, l, &c, &C, true);
	store_set_events(in->s, &ev);
}

/* A call of user to INTL checked on in now: NULL (pass) or the rule. */
static const char *check(struct fh_inst *in, struct loop *l, const char *user,
			 struct fraud_note *note)
{
	static struct sip_uri u;
	struct guard_verdict v;
	struct sg_addr a;

	assert_int_equal(sip_uri_parse(&u, str_cstr(INTL), 0, NULL), 0);
	assert_int_equal(sg_addr_from_host(&a, STR("192.0.2.7"), 5060), 0);
	fraud_check(in->f, &u, str_cstr(user), &a, 0, loop_now(l), wall_now(),
		    note, &v);
	return v.action == GUARD_PASS ? NULL : v.rule;
}

/* n short answered international calls of user on in. */
static void short_calls(struct fh_inst *in, struct loop *l, const char *user,
			int n)
{
	struct fraud_note note;
	char cid[32];
	int i;

	for (i = 0; i < n; i++) {
		assert_null(check(in, l, user, &note));
		snprintf(cid, sizeof(cid), "%s-short-%d", user, i);
		(void)fraud_call_start(in->f, &note, str_cstr(cid), STR("t"),
				       loop_now(l), wall_now());
		fraud_call_end(in->f, str_cstr(cid), STR("t"), 2000, 200,
			       loop_now(l), wall_now());
	}
}

/* The hold key of user under the cluster's key of in's store. */
static void hold_key(struct fh_inst *in, const char *fam, const char *user,
		     char *buf, size_t sz)
{
	uint8_t key[STORE_USER_KEY_LEN];
	uint64_t h;

	assert_int_equal(store_user_key(in->s, key), 0);
	h = siphash24(user, strlen(user), key);
	snprintf(buf, sz, "%s%016llx", fam, (unsigned long long)h);
}

/* The field names of the shared ban table under prefix, joined. */
static void ban_fields(const char *prefix, char *out, size_t sz)
{
	redisContext *c = redisConnect("127.0.0.1", atoi(REDIS_PORT));
	redisReply *r;
	size_t i, o = 0;

	assert_non_null(c);
	r = redisCommand(c, "HKEYS %sbans", prefix);
	assert_non_null(r);
	out[0] = 0;
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
		o += (size_t)snprintf(out + o, sz - o, "%s ",
				      r->element[i]->str);
	freeReplyObject(r);
	redisFree(c);
}

/* Blocked on A, applied on B; listed on both; unblocked on A: free on
 * A at once, on B at its next call, and unknown to a later C. */
static void test_unblock_everywhere(void **state)
{
	struct fraud_held h[4];
	struct fh_inst a, b, c;
	struct fraud_note note;
	struct loop *l;

	(void)state;
	base_conf(CONF_FRAUD_BLOCK);
	l = redis_helper_loop();
	mk(&a, &SEEN[0], l, "fh-i", "fhunit5:");
	mk(&b, &SEEN[1], l, "fh-j", "fhunit5:");
	short_calls(&a, l, "alice", 3);
	assert_true(redis_helper_spin(l, &SEEN[1].holds, 1));
	assert_string_equal(check(&b, l, "alice", &note), "fraud-blocked");
	assert_int_equal(fraud_held_list(a.f, h, 4, loop_now(l)), 1);
	assert_string_equal(h[0].user, "alice");
	assert_string_equal(h[0].rule, "fraud-short-calls");
	assert_true(h[0].blocked);
	assert_true(h[0].left_ms > 3500000 && h[0].left_ms <= 3600000);
	assert_int_equal(fraud_held_list(b.f, h, 4, loop_now(l)), 1);
	assert_string_equal(h[0].user, "alice");
	assert_string_equal(h[0].rule, "fraud-short-calls");
	assert_int_equal(fraud_unblock(a.f, STR("nobody"), loop_now(l)),
			 -ENOENT);
	assert_int_equal(fraud_unblock(a.f, STR("alice"), loop_now(l)), 0);
	assert_null(check(&a, l, "alice", &note));
	assert_int_equal(fraud_held_list(a.f, h, 4, loop_now(l)), 0);
	/* Its short calls count from none: two more do not fire. */
	short_calls(&a, l, "alice", 2);
	assert_null(check(&a, l, "alice", &note));
	assert_true(redis_helper_spin(l, &SEEN[1].unholds, 1));
	assert_null(check(&b, l, "alice", &note));
	assert_int_equal(fraud_held_list(b.f, h, 4, loop_now(l)), 0);
	assert_int_equal(b.sh->nholds, 0);
	mk(&c, &SEEN[2], l, "fh-k", "fhunit5:");
	assert_int_equal(SEEN[2].holds, 0);
	assert_null(check(&c, l, "alice", &note));
	fh_free(&a);
	fh_free(&b);
	fh_free(&c);
	loop_free(l);
	assert_no_leaks();
}

static bool monitored(void *arg, const struct fraud_alert *al, uint64_t now,
		      uint64_t wall)
{
	(void)arg;
	(void)al;
	(void)now;
	(void)wall;
	return false;
}

static void test_block_reaches_the_other_instance(void **state)
{
	struct fh_inst a, b, c;
	struct fraud_note note;
	struct loop *l;
	char key[40], fields[512];

	(void)state;
	base_conf(CONF_FRAUD_BLOCK);
	l = redis_helper_loop();
	mk(&a, &SEEN[0], l, "fh-a", "fhunit1:");
	mk(&b, &SEEN[1], l, "fh-b", "fhunit1:");
	short_calls(&a, l, "alice", 3);
	assert_string_equal(check(&a, l, "alice", &note), "fraud-blocked");
	assert_true(redis_helper_spin(l, &SEEN[1].holds, 1));
	assert_string_equal(check(&b, l, "alice", &note), "fraud-blocked");
	assert_null(check(&b, l, "bob", &note));
	assert_int_equal(b.sh->held_in, 1);
	assert_int_equal(a.sh->held_in, 0); /* its own: applied when fired */
	/* Redis holds the block under the user's hash, not the name. */
	hold_key(&a, "fb:", "alice", key, sizeof(key));
	ban_fields("fhunit1:", fields, sizeof(fields));
	assert_non_null(strstr(fields, key));
	assert_null(strstr(fields, "alice"));
	/* An instance started later loads it from the shared table. */
	mk(&c, &SEEN[2], l, "fh-c", "fhunit1:");
	assert_true(redis_helper_spin(l, &SEEN[2].holds, 1));
	assert_string_equal(check(&c, l, "alice", &note), "fraud-blocked");
	fh_free(&c);
	/* Lifted on the table (unban): forgotten where not applied yet. */
	mk(&c, &SEEN[2], l, "fh-c", "fhunit1:");
	assert_true(redis_helper_spin(l, &SEEN[2].holds, 1));
	assert_int_equal(store_ban_del(a.s, key), 0);
	assert_true(redis_helper_spin(l, &SEEN[2].unholds, 1));
	assert_null(check(&c, l, "alice", &note));
	fh_free(&c);
	fh_free(&a);
	fh_free(&b);
	loop_free(l);
	assert_no_leaks();
}

static void test_throttle_travels_monitor_does_not(void **state)
{
	struct fh_inst a, b;
	struct fraud_note note;
	struct loop *l;

	(void)state;
	base_conf(CONF_FRAUD_THROTTLE);
	l = redis_helper_loop();
	mk(&a, &SEEN[0], l, "fh-d", "fhunit2:");
	mk(&b, &SEEN[1], l, "fh-e", "fhunit2:");
	short_calls(&a, l, "carol", 3);
	assert_true(redis_helper_spin(l, &SEEN[1].holds, 1));
	/* One call a minute on B, then refused. */
	assert_null(check(&b, l, "carol", &note));
	(void)fraud_call_start(b.f, &note, STR("carol-b"), STR("t"),
			       loop_now(l), wall_now());
	assert_string_equal(check(&b, l, "carol", &note), "fraud-throttled");
	fraud_call_end(b.f, STR("carol-b"), STR("t"), 60000, 200, loop_now(l),
		       wall_now());
	fh_free(&a);
	fh_free(&b);
	/* Monitor mode (the guard's alert hook says "monitored"): the
	 * rule only reports, nothing is shared. */
	base_conf(CONF_FRAUD_BLOCK);
	mk(&a, &SEEN[0], l, "fh-f", "fhunit3:");
	mk(&b, &SEEN[1], l, "fh-g", "fhunit3:");
	a.f->alert = monitored;
	short_calls(&a, l, "dave", 4);
	(void)redis_helper_spin(l, &SEEN[1].holds, 1);
	assert_int_equal(SEEN[1].holds, 0);
	assert_null(check(&b, l, "dave", &note));
	fh_free(&a);
	fh_free(&b);
	loop_free(l);
	assert_no_leaks();
}

static struct store_ban ban_of(const char *key, uint64_t until)
{
	struct store_ban b;

	memset(&b, 0, sizeof(b));
	snprintf(b.key, sizeof(b.key), "%s", key);
	snprintf(b.rule, sizeof(b.rule), "fraud-short-calls");
	b.start_wall_ms = wall_now();
	b.expires_wall_ms = until;
	return b;
}

static void test_hold_table(void **state)
{
	static const char *const not_holds[] = {
		"192.0.2.1",           "fb:",
		"fb:0123456789abcde",  "fb:0123456789abcdef0",
		"fb:0123456789ABCDEF", "fx:0123456789abcdef",
		"fb:0000000000000000", "fb:0123456789abcdeg",
	};
	struct fh_inst a;
	struct fraud_note note;
	struct store_ban b;
	struct loop *l;
	uint64_t w = wall_now();
	char key[40];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(not_holds) / sizeof(not_holds[0]); i++)
		assert_false(fraud_share_hold_key(not_holds[i]));
	assert_true(fraud_share_hold_key("fb:0123456789abcdef"));
	assert_true(fraud_share_hold_key("fd:0123456789abcdef"));
	base_conf(CONF_FRAUD_BLOCK);
	l = redis_helper_loop();
	mk(&a, &SEEN[0], l, "fh-h", "fhunit4:");
	hold_key(&a, "fb:", "erin", key, sizeof(key));
	/* Over, forever, longer than 30 days: refused. */
	b = ban_of(key, w - 1);
	fraud_share_hold_put(a.sh, &b, w);
	b = ban_of(key, 0);
	fraud_share_hold_put(a.sh, &b, w);
	b = ban_of(key, w + 31ull * 24 * 3600 * 1000);
	fraud_share_hold_put(a.sh, &b, w);
	assert_int_equal(a.sh->nholds, 0);
	assert_null(check(&a, l, "erin", &note));
	/* The later end wins; an unban forgets. */
	b = ban_of(key, w + 60000);
	fraud_share_hold_put(a.sh, &b, w);
	b = ban_of(key, w + 30000);
	fraud_share_hold_put(a.sh, &b, w);
	assert_int_equal(a.sh->nholds, 1);
	assert_int_equal(a.sh->holds[0].until_wall, w + 60000);
	/* An unban marks it lifted (the user may be held here already):
	 * never pushed again, dropped at the user's next call. */
	fraud_share_hold_del(a.sh, key);
	assert_int_equal(a.sh->nholds, 1);
	assert_true(a.sh->holds[0].lifted);
	assert_int_equal(fraud_share_hold_resync(a.sh, w), 0);
	assert_null(check(&a, l, "erin", &note));
	assert_int_equal(a.sh->nholds, 0);
	/* Full: the one that ends soonest makes room. */
	for (i = 0; i < FR_HOLDS + 1; i++) {
		snprintf(key, sizeof(key), "fb:%016zx", i + 1);
		b = ban_of(key, w + 100000 + (i == 5 ? 0 : 1000 + i));
		fraud_share_hold_put(a.sh, &b, w);
	}
	assert_int_equal(a.sh->nholds, FR_HOLDS);
	for (i = 0; i < FR_HOLDS; i++)
		assert_true(a.sh->holds[i].h != 6);
	assert_int_equal(fraud_share_hold_resync(a.sh, w), FR_HOLDS);
	/* Holds over are dropped at the next call checked. */
	(void)check(&a, l, "frank", &note);
	assert_int_equal(a.sh->nholds, FR_HOLDS);
	assert_int_equal(fraud_share_hold_resync(a.sh, w + 200000), 0);
	fh_free(&a);
	loop_free(l);
	assert_no_leaks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hold_table),
		cmocka_unit_test(test_block_reaches_the_other_instance),
		cmocka_unit_test(test_throttle_travels_monitor_does_not),
		cmocka_unit_test(test_unblock_everywhere),
	};

	int rc = cmocka_run_group_tests(tests, start_redis, redis_helper_stop);

	assert_no_leaks();
	return rc;
}
