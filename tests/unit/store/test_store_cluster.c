/*
 * test_store_cluster.c - shared bindings and dialog snapshots
 * (store_cluster.c) against a real redis-server (Debian's), started here
 * on 127.0.0.1:37902 and stopped by pid; two or three stores on one loop
 * play the instances.  Bindings reach the other instance and their
 * removal too, a starting instance loads them, snapshots are counted and
 * capped, a dead instance's snapshots go to exactly one survivor, a live
 * one's to nobody, a live instance taken over while cut off learns
 * which of its dialogs were claimed, and the memory backend answers
 * locally.  The loop's
 * clock is real time plus an offset the test moves forward (the
 * takeover grace), never a sleep.  Skipped without redis-server.
 */
#include "test.h"
#include "redis_helper.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "core/loop.h"
#include "store/store.h"

#define REDIS_PORT "37902"
#define WALL_FAR   4102444800000ULL /* 2100-01-01 */

static uint64_t clock_off;

static uint64_t test_clock(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 +
	       clock_off;
}

struct seen {
	int resyncs, takeovers, taken_calls;
	size_t taken_n;
	char taken_keys[64], claimer[STORE_INSTANCE_MAX];
	char owner[STORE_INSTANCE_MAX];
	char call_id[64];
	uint32_t cseq;
};

static void ev_resync(void *arg)
{
	((struct seen *)arg)->resyncs++;
}

static void ev_takeover(void *arg, const char *owner,
			const struct store_snap *s)
{
	struct seen *sn = arg;

	sn->takeovers++;
	snprintf(sn->owner, sizeof(sn->owner), "%s", owner);
	snprintf(sn->call_id, sizeof(sn->call_id), "%.*s", (int)s->call_id.len,
		 s->call_id.p);
	sn->cseq = s->leg[0].cseq;
}

static void ev_taken(void *arg, const char *claimer, const char *const *keys,
		     size_t n)
{
	struct seen *sn = arg;
	size_t i;

	sn->taken_calls++;
	sn->taken_n = n;
	snprintf(sn->claimer, sizeof(sn->claimer), "%s", claimer);
	sn->taken_keys[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(sn->taken_keys + strlen(sn->taken_keys),
			 sizeof(sn->taken_keys) - strlen(sn->taken_keys),
			 "%s%s", i ? "," : "", keys[i]);
}

static bool spin_until(struct loop *l, bool (*pred)(void *), void *arg)
{
	int i;

	for (i = 0; i < 300 && !pred(arg); i++)
		(void)loop_run_once(l, 10);
	return pred(arg);
}

static bool resynced(void *arg)
{
	return ((struct seen *)arg)->resyncs > 0;
}

static int start_redis(void **state)
{
	(void)state;
	return redis_helper_start(REDIS_PORT);
}

/* A blocking command, for what the test itself checks or breaks. */
static long long redis_int(const char *fmt, const char *arg)
{
	redisContext *c = redisConnect("127.0.0.1", atoi(REDIS_PORT));
	redisReply *r;
	long long v = -1;

	assert_non_null(c);
	r = redisCommand(c, fmt, arg);
	if (r && r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	if (r)
		freeReplyObject(r);
	redisFree(c);
	return v;
}

/* Each test starts from an empty Redis (state of an earlier test's
 * instances would be taken over here). */
static void flush(void)
{
	redisContext *c = redisConnect("127.0.0.1", atoi(REDIS_PORT));
	redisReply *r;
	int i;

	/* redis-server may still be starting: a few tries. */
	for (i = 0; i < 100 && (!c || c->err); i++) {
		if (c)
			redisFree(c);
		usleep(20000);
		c = redisConnect("127.0.0.1", atoi(REDIS_PORT));
	}
	assert_true(c && !c->err);
	r = redisCommand(c, "FLUSHALL");
	assert_non_null(r);
	freeReplyObject(r);
	redisFree(c);
}

static struct store *mk(struct loop *l, const char *name, struct seen *sn,
			bool start)
{
	struct store_cluster_events ev = {ev_resync, ev_takeover, ev_taken, sn};
	struct store_conf c;
	struct store *s;

	store_conf_default(&c);
	c.backend = STORE_REDIS;
	c.address = "127.0.0.1:" REDIS_PORT;
	c.instance = name;
	c.key_prefix = "ucl:";
	c.max_snapshots = 3;
	assert_int_equal(store_new(&s, l, &c, NULL, 0), 0);
	store_set_cluster_events(s, &ev);
	if (start) {
		assert_int_equal(store_start(s), 0);
		assert_true(spin_until(l, resynced, sn));
	}
	return s;
}

static struct store_binding binding(const char *token, uint64_t exp)
{
	struct store_binding b;

	memset(&b, 0, sizeof(b));
	b.token = str_cstr(token);
	b.handoff = str_cstr("udp:127.0.0.21:37570");
	b.flow = str_cstr("tcp:203.0.113.5:40312");
	b.contact = str_cstr("sip:carol@10.99.0.5");
	b.expires_wall_ms = exp;
	return b;
}

struct probe {
	struct store *s;
	const char *token;
};

static bool found(void *arg)
{
	struct probe *p = arg;
	char h[STORE_ADDR_MAX];

	return store_binding_find(p->s, str_cstr(p->token), 1, h, sizeof(h));
}

static bool gone(void *arg)
{
	return !found(arg);
}

static struct store_snap snap(const char *cid, uint32_t cseq)
{
	struct store_snap s;

	memset(&s, 0, sizeof(s));
	s.call_id = str_cstr(cid);
	s.final_status = 200;
	s.start_wall_ms = 1700000000000ULL;
	s.leg[0].tag = str_cstr("at");
	s.leg[0].cseq = cseq;
	s.leg[0].has_cseq = true;
	s.leg[1].tag = str_cstr("bt");
	return s;
}

static bool snaps_are(struct store *s, uint32_t n)
{
	struct store_cluster_stats st;

	store_get_cluster_stats(s, &st);
	return st.snaps == n;
}

static bool two_snaps(void *arg)
{
	return snaps_are(arg, 2);
}

static bool one_snap(void *arg)
{
	return snaps_are(arg, 1);
}

static bool taken(void *arg)
{
	return ((struct seen *)arg)->takeovers > 0;
}

static void test_bindings(void **state)
{
	struct seen sa = {0}, sb = {0}, sc = {0};
	struct store_binding b = binding("0a1b", WALL_FAR);
	struct store *a, *bb, *c;
	struct probe pr;
	char h[STORE_ADDR_MAX];
	struct loop *l;

	(void)state;
	if (!redis_helper_running())
		skip();
	flush();
	assert_int_equal(loop_new(&l), 0);
	a = mk(l, "a", &sa, true);
	bb = mk(l, "b", &sb, true);
	/* A's binding reaches B through the channel, with its handoff. */
	assert_int_equal(store_binding_put(a, &b), 0);
	pr = (struct probe){bb, "0a1b"};
	assert_true(spin_until(l, found, &pr));
	assert_true(store_binding_find(bb, str_cstr("0a1b"), 1, h, sizeof(h)));
	assert_string_equal(h, "udp:127.0.0.21:37570");
	/* Never our own, never past its expiry. */
	pr.s = a;
	assert_false(found(&pr));
	assert_false(store_binding_find(bb, str_cstr("0a1b"), WALL_FAR, h,
					sizeof(h)));
	assert_int_equal(store_binding_put(a, &b), 0);
	pr.s = bb;
	assert_true(spin_until(l, found, &pr));
	/* A starting instance loads it before its loop runs. */
	c = mk(l, "c", &sc, false);
	assert_int_equal(store_load(c), 0);
	assert_int_equal(store_binding_remote_count(c), 1);
	/* Removal propagates. */
	assert_int_equal(store_binding_del(a, str_cstr("0a1b")), 0);
	assert_true(spin_until(l, gone, &pr));
	assert_int_equal(store_binding_del(a, str_cstr("not hex")), -EINVAL);
	store_free(c);
	store_free(bb);
	store_free(a);
	loop_free(l);
}

static void test_snapshots_and_takeover(void **state)
{
	struct seen sa = {0}, sb = {0};
	struct store_snap s1 = snap("c1@x", 7), s2 = snap("c2@x", 9);
	struct store *a, *b;
	struct loop *l;

	(void)state;
	if (!redis_helper_running())
		skip();
	flush();
	assert_int_equal(loop_new(&l), 0);
	clock_off = 0;
	loop_set_clock(l, test_clock, NULL);
	a = mk(l, "ta", &sa, true);
	b = mk(l, "tb", &sb, true);
	assert_int_equal(store_snap_put(a, str_cstr("01"), &s1), 0);
	assert_int_equal(store_snap_put(a, str_cstr("02"), &s2), 0);
	assert_true(spin_until(l, two_snaps, a));
	/* A refresh is not a new one; a delete is counted. */
	assert_int_equal(store_snap_put(a, str_cstr("02"), &s2), 0);
	assert_int_equal(store_snap_del(a, str_cstr("01")), 0);
	assert_true(spin_until(l, one_snap, a));
	assert_int_equal(store_snap_put(a, str_cstr("01"), &s1), 0);
	assert_true(spin_until(l, two_snaps, a));
	assert_int_equal(store_snap_put(a, str_cstr("zz"), &s1), -EINVAL);
	/* Past the grace, a live instance is not taken over. */
	clock_off += 20000;
	for (int i = 0; i < 100; i++)
		(void)loop_run_once(l, 10);
	assert_int_equal(sb.takeovers, 0);
	assert_int_equal(redis_int("HLEN %s", "ucl:dlg:ta"), 2);
	/* A dies: its heartbeat lapses (removed here rather than waited
	 * for); B, one second later, takes both calls. */
	store_free(a);
	assert_int_equal(redis_int("DEL %s", "ucl:inst:ta"), 1);
	clock_off += 1000;
	assert_true(spin_until(l, taken, &sb));
	for (int i = 0; i < 100 && sb.takeovers < 2; i++)
		(void)loop_run_once(l, 10);
	assert_int_equal(sb.takeovers, 2);
	assert_string_equal(sb.owner, "ta");
	assert_int_equal(redis_int("EXISTS %s", "ucl:dlg:ta"), 0);
	assert_int_equal(redis_int("SISMEMBER ucl:insts %s", "ta"), 0);
	{
		struct store_cluster_stats st;

		store_get_cluster_stats(b, &st);
		assert_int_equal(st.takeovers, 1);
		assert_int_equal(st.taken_dialogs, 2);
	}
	store_free(b);
	loop_free(l);
}

static bool told_taken(void *arg)
{
	return ((struct seen *)arg)->taken_calls > 0;
}

static void run_a_while(struct loop *l)
{
	for (int i = 0; i < 100; i++)
		(void)loop_run_once(l, 10);
}

/* Past the takeover grace one heartbeat at a time, so that each beat is
 * answered before the next (one 20 s jump would read as "no reply"). */
static bool advance_until_taken(struct loop *l, struct seen *sn)
{
	for (int i = 0; i < 40 && !taken(sn); i++) {
		clock_off += 1000;
		for (int j = 0; j < 10; j++)
			(void)loop_run_once(l, 10);
	}
	return taken(sn);
}

/*
 * An instance cut off from Redis past its heartbeat is taken over though
 * alive.  Each instance on its own loop: A's loop not run is A frozen
 * (stalled, or its network gone).  (1) A stalled, its connection up:
 * the "G" naming it tells it, and it learns which of its dialogs were
 * claimed.  (2) A's connections dropped meanwhile: it learns at READY.
 * Either way once, with the claimer's name, and the record is gone.
 */
static void test_taken_over_while_alive(void **state)
{
	struct seen sa = {0}, sb = {0};
	struct store_snap s1 = snap("c1@x", 7), s2 = snap("c2@x", 9);
	struct store *a, *b;
	struct loop *la, *lb;
	redisContext *rc;
	redisReply *rep;

	(void)state;
	if (!redis_helper_running())
		skip();
	flush();
	assert_int_equal(loop_new(&la), 0);
	assert_int_equal(loop_new(&lb), 0);
	clock_off = 0;
	loop_set_clock(la, test_clock, NULL);
	loop_set_clock(lb, test_clock, NULL);
	a = mk(la, "wa", &sa, true);
	b = mk(lb, "wb", &sb, true);
	assert_int_equal(store_snap_put(a, str_cstr("02"), &s2), 0);
	assert_int_equal(store_snap_put(a, str_cstr("01"), &s1), 0);
	assert_true(spin_until(la, two_snaps, a));

	/* (1) A stalls; its heartbeat lapses; B takes both calls. */
	assert_int_equal(redis_int("DEL %s", "ucl:inst:wa"), 1);
	assert_true(advance_until_taken(lb, &sb));
	run_a_while(lb);
	assert_int_equal(sb.takeovers, 2);
	assert_int_equal(redis_int("HLEN %s", "ucl:taken:wa"), 2);
	assert_int_equal(sa.taken_calls, 0);
	/* A runs again and hears of it. */
	assert_true(spin_until(la, told_taken, &sa));
	run_a_while(la);
	assert_int_equal(sa.taken_calls, 1);
	assert_int_equal(sa.taken_n, 2);
	assert_string_equal(sa.taken_keys, "01,02");
	assert_string_equal(sa.claimer, "wb");
	assert_int_equal(redis_int("EXISTS %s", "ucl:taken:wa"), 0);
	/* Its state was written again (resync): two resyncs so far. */
	assert_int_equal(sa.resyncs, 2);

	/* (2) A is cut off (every connection dropped while it is frozen,
	 * B's too: B reconnects), and taken over again meanwhile. */
	assert_int_equal(store_snap_put(a, str_cstr("03"), &s1), 0);
	run_a_while(la);
	assert_int_equal(redis_int("HEXISTS ucl:dlg:wa %s", "03"), 1);
	rc = redisConnect("127.0.0.1", atoi(REDIS_PORT));
	assert_true(rc && !rc->err);
	rep = redisCommand(rc, "CLIENT KILL TYPE pubsub");
	freeReplyObject(rep);
	rep = redisCommand(rc, "CLIENT KILL TYPE normal");
	freeReplyObject(rep);
	redisFree(rc);
	assert_int_equal(redis_int("DEL %s", "ucl:inst:wa"), 1);
	sb.takeovers = 0;
	sb.resyncs = 0;
	assert_true(spin_until(lb, resynced, &sb));
	assert_true(advance_until_taken(lb, &sb));
	run_a_while(lb);
	sa.taken_calls = 0;
	assert_true(spin_until(la, told_taken, &sa));
	run_a_while(la);
	assert_int_equal(sa.taken_calls, 1);
	/* Only 03: the test's resync callback wrote nothing again, so
	 * 01 and 02 were no longer A's in Redis. */
	assert_string_equal(sa.taken_keys, "03");
	assert_string_equal(sa.claimer, "wb");
	{
		struct store_cluster_stats st;

		store_get_cluster_stats(a, &st);
		assert_int_equal(st.taken_from_us, 3);
	}
	store_free(b);
	store_free(a);
	loop_free(lb);
	loop_free(la);
}

static void test_snapshot_cap(void **state)
{
	struct seen sa = {0};
	struct store_snap s = snap("c@x", 1);
	struct store_cluster_stats st;
	struct store *a;
	struct loop *l;
	char k[16];
	int i;

	(void)state;
	if (!redis_helper_running())
		skip();
	flush();
	assert_int_equal(loop_new(&l), 0);
	a = mk(l, "cap", &sa, true);
	for (i = 0; i < 3; i++) {
		snprintf(k, sizeof(k), "a%d", i % 10);
		assert_int_equal(store_snap_put(a, str_cstr(k), &s), 0);
	}
	for (i = 0; i < 100 && !snaps_are(a, 3); i++)
		(void)loop_run_once(l, 10);
	/* max_snapshots 3: the fourth is refused and counted. */
	assert_int_equal(store_snap_put(a, str_cstr("b0"), &s), -ENOBUFS);
	store_get_cluster_stats(a, &st);
	assert_int_equal(st.snaps_refused, 1);
	store_free(a);
	loop_free(l);
}

static void test_memory_backend(void **state)
{
	struct store_binding b = binding("0a", WALL_FAR);
	struct store_snap s = snap("c@x", 1);
	struct store_conf c;
	struct store_cluster_stats st;
	struct store *m;
	struct loop *l;
	char h[STORE_ADDR_MAX];

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	store_conf_default(&c);
	assert_int_equal(store_new(&m, l, &c, NULL, 0), 0);
	/* Local only: accepted, nothing shared, nothing found. */
	assert_int_equal(store_binding_put(m, &b), 0);
	assert_int_equal(store_binding_del(m, str_cstr("0a")), 0);
	assert_false(store_binding_find(m, str_cstr("0a"), 1, h, sizeof(h)));
	assert_int_equal(store_snap_put(m, str_cstr("0a"), &s), 0);
	assert_int_equal(store_snap_del(m, str_cstr("0a")), 0);
	assert_int_equal(store_snap_put(m, str_cstr("0A"), &s), -EINVAL);
	store_get_cluster_stats(m, &st);
	assert_int_equal(st.snaps_out, 0);
	assert_int_equal(store_binding_remote_count(m), 0);
	store_free(m);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bindings),
		cmocka_unit_test(test_snapshots_and_takeover),
		cmocka_unit_test(test_taken_over_while_alive),
		cmocka_unit_test(test_snapshot_cap),
		cmocka_unit_test(test_memory_backend),
	};
	int rc = cmocka_run_group_tests(tests, start_redis, redis_helper_stop);

	assert_no_leaks();
	return rc;
}
