/*
 * test_store_race.c - the store's answers to reorderings between its
 * two Redis connections (store_redis_ban.c, the flaky
 * test_redis_down_and_back) and the cluster's user-hash key
 * (store_key.c), and store_rate_take(), against a real redis-server (Debian's)
 * started here on 127.0.0.1:39501 and stopped by pid.  A raw hiredis connection
 * plays the channel's late messages.  The key tests run without Redis. Waits
 * are bounded loop turns, never sleeps.
 */
#include "test.h"
#include "redis_helper.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "core/loop.h"
#include "store/store.h"

#define REDIS_PORT "39501"
#define PREFIX     "race:"

struct seen {
	int bans, unbans, resyncs;
	struct store_ban last;
};

static void ev_ban(void *arg, const struct store_ban *b)
{
	struct seen *s = arg;

	s->bans++;
	s->last = *b;
}

static void ev_unban(void *arg, const char *key)
{
	struct seen *s = arg;

	(void)key;
	s->unbans++;
}

static void ev_resync(void *arg)
{
	struct seen *s = arg;

	s->resyncs++;
}

static void turns(struct loop *l, int n)
{
	while (n-- > 0)
		(void)loop_run_once(l, 10);
}

static int start_redis(void **state)
{
	(void)state;
	return redis_helper_start(REDIS_PORT);
}

static uint64_t wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct store *mk(struct loop *l, const char *name, struct seen *sn)
{
	struct store_events ev = {ev_ban, ev_unban, ev_resync, sn};
	struct store_conf c;
	struct store *s;

	redis_helper_store_conf(&c, REDIS_PORT, true, name, PREFIX);
	assert_int_equal(store_new(&s, l, &c, NULL, 0), 0);
	store_set_events(s, &ev);
	assert_int_equal(store_start(s), 0);
	assert_true(redis_helper_spin(l, &sn->resyncs, 1));
	return s;
}

static void ban_of(struct store_ban *b, const char *key, uint64_t start)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->key, sizeof(b->key), "%s", key);
	snprintf(b->rule, sizeof(b->rule), "scanner-ua");
	snprintf(b->reason, sizeof(b->reason), "test");
	b->start_wall_ms = start;
	b->offences = 1;
}

/* Publish a ban message as another instance would have, earlier. */
static void late_ban(const char *key, uint64_t start)
{
	redisContext *c = redisConnect("127.0.0.1", atoi(REDIS_PORT));
	struct store_ban b;
	char msg[STORE_RECORD_MAX + 128];
	redisReply *r;

	assert_non_null(c);
	ban_of(&b, key, start);
	assert_true(store_msg_format(msg, sizeof(msg), true, "other", &b) > 0);
	r = redisCommand(c, "PUBLISH %sbans %s", PREFIX, msg);
	assert_non_null(r);
	freeReplyObject(r);
	redisFree(c);
}

/* A ban that began before our unban, heard after it (pushed by another
 * instance before our unban reached Redis) is stale: ignored.  One that
 * began after it is applied. */
static void test_late_message_after_unban(void **state)
{
	struct seen sa = {0};
	struct store *s;
	struct loop *l;
	uint64_t t0 = wall();

	(void)state;
	l = redis_helper_loop();
	s = mk(l, "one", &sa);
	assert_int_equal(store_ban_del(s, "192.0.2.50"), 0);
	turns(l, 5);
	late_ban("192.0.2.50", t0 - 1000);
	turns(l, 20);
	assert_int_equal(sa.bans, 0);
	late_ban("192.0.2.50", wall() + 1000);
	assert_true(redis_helper_spin(l, &sa.bans, 1));
	assert_string_equal(sa.last.key, "192.0.2.50");
	store_free(s);
	loop_free(l);
}

/* An unban does not delete a ban that began after it (our unban waited
 * for Redis while another instance banned again): the ban stays in
 * Redis and comes back to the unbanning instance. */
static void test_unban_keeps_later_ban(void **state)
{
	struct seen sa = {0}, sb = {0};
	struct store *s1, *s2;
	struct store_ban b;
	struct loop *l;
	redisContext *c;
	redisReply *r;

	(void)state;
	l = redis_helper_loop();
	s1 = mk(l, "one", &sa);
	s2 = mk(l, "two", &sb);
	/* Began "later" than the unban below (a start in the future). */
	ban_of(&b, "192.0.2.51", wall() + 60000);
	assert_int_equal(store_ban_put(s1, &b), 0);
	assert_true(redis_helper_spin(l, &sb.bans, 1));
	assert_int_equal(store_ban_del(s2, "192.0.2.51"), 0);
	assert_true(redis_helper_spin(l, &sb.bans, 2));
	assert_string_equal(sb.last.key, "192.0.2.51");
	turns(l, 10);
	assert_int_equal(sa.unbans, 0);
	c = redisConnect("127.0.0.1", atoi(REDIS_PORT));
	assert_non_null(c);
	r = redisCommand(c, "HEXISTS %sbans 192.0.2.51", PREFIX);
	assert_non_null(r);
	assert_int_equal(r->integer, 1);
	freeReplyObject(r);
	redisFree(c);
	/* An ordinary one is lifted everywhere. */
	ban_of(&b, "192.0.2.52", wall() - 1000);
	assert_int_equal(store_ban_put(s1, &b), 0);
	assert_true(redis_helper_spin(l, &sb.bans, 3));
	assert_int_equal(store_ban_del(s2, "192.0.2.52"), 0);
	assert_true(redis_helper_spin(l, &sa.unbans, 1));
	store_free(s1);
	store_free(s2);
	loop_free(l);
}

static struct store *mk_key(struct loop *l, int backend, const char *prefix,
			    const char *secret, const char *password)
{
	struct store_conf c;
	struct store *s;

	store_conf_default(&c);
	c.backend = backend;
	c.address = "127.0.0.1:" REDIS_PORT;
	c.key_prefix = prefix;
	c.secret = secret;
	c.password = password;
	assert_int_equal(store_new(&s, l, &c, NULL, 0), 0);
	return s;
}

/* The user-hash key: the same from the same secret and prefix, another
 * from another of either; the password when there is no secret; none
 * without both, or with the memory backend.  Nothing is started. */
static void test_user_key(void **state)
{
	static const struct {
		int backend;
		const char *prefix, *secret, *password;
		int rc, same_as; /* same key as row same_as; -1: new */
	} t[] = {
		{STORE_REDIS, "p:", "s3cret", "", 0, -1},
		{STORE_REDIS, "p:", "s3cret", "other", 0, 0},
		{STORE_REDIS, "q:", "s3cret", "", 0, -1},
		{STORE_REDIS, "p:", "s4cret", "", 0, -1},
		{STORE_REDIS, "p:", "", "s3cret", 0, 0},
		{STORE_REDIS, "p:", NULL, "s3cret", 0, 0},
		{STORE_REDIS, "p:", "", "", -ENOKEY, -1},
		{STORE_MEMORY, "p:", "s3cret", "", -ENOKEY, -1},
	};
	uint8_t k[8][STORE_USER_KEY_LEN];
	struct loop *l;
	size_t i, j;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct store *s = mk_key(l, t[i].backend, t[i].prefix,
					 t[i].secret, t[i].password);

		assert_int_equal(store_user_key(s, k[i]), t[i].rc);
		store_free(s);
		if (t[i].rc)
			continue;
		for (j = 0; j < i; j++) {
			bool same = !t[j].rc &&
				    !memcmp(k[i], k[j], STORE_USER_KEY_LEN);

			assert_int_equal(
				same, t[i].same_as == (int)j ||
					      (t[i].same_as >= 0 &&
					       t[j].same_as == t[i].same_as));
		}
	}
	assert_int_equal(store_user_key(NULL, k[0]), -ENOKEY);
	loop_free(l);
}

struct answer {
	int calls;
	int64_t value;
};

static void got(void *arg, int rc, int64_t value)
{
	struct answer *a = arg;

	(void)rc;
	a->calls++;
	a->value = value;
}

/* Hit n (0: read) and return the estimate, waiting for Redis. */
static int64_t hit(struct store *s, struct loop *l, uint32_t n)
{
	struct answer a = {0, 0};

	assert_int_equal(
		store_rate_hit(s, str_cstr("take:k"), 86400000, n, 0, got, &a),
		0);
	assert_true(redis_helper_spin(l, &a.calls, 1));
	return a.value;
}

/* Events taken back leave the window (a challenged call), never below
 * 0; an unknown key or a wrong window changes nothing.  Memory backend,
 * then Redis (a day's window: no period boundary within the test). */
static void test_rate_take(void **state)
{
	struct seen sa = {0};
	struct store *s;
	struct loop *l;
	int pass;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	for (pass = 0; pass < 2; pass++) {
		if (pass && !redis_helper_running())
			break;
		s = pass ? mk(l, "take", &sa)
			 : mk_key(l, STORE_MEMORY, PREFIX, "", "");
		assert_int_equal(hit(s, l, 3), 3);
		assert_int_equal(
			store_rate_take(s, str_cstr("take:k"), 86400000, 1, 10),
			0);
		assert_int_equal(hit(s, l, 0), 2);
		assert_int_equal(
			store_rate_take(s, str_cstr("take:k"), 1000, 1, 0), 0);
		assert_int_equal(store_rate_take(s, str_cstr("take:none"),
						 86400000, 1, 0),
				 0);
		assert_int_equal(hit(s, l, 0), 2);
		assert_int_equal(
			store_rate_take(s, str_cstr("take:k"), 86400000, 5, 0),
			0);
		assert_int_equal(hit(s, l, 0), 0);
		assert_int_equal(store_rate_take(s, STR_NULL, 1000, 1, 0),
				 -EINVAL);
		store_free(s);
	}
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_late_message_after_unban),
		cmocka_unit_test(test_unban_keeps_later_ban),
		cmocka_unit_test(test_user_key),
		cmocka_unit_test(test_rate_take),
	};
	int rc = cmocka_run_group_tests(tests, start_redis, redis_helper_stop);

	assert_no_leaks();
	return rc;
}
