/*
 * store_redis_ban.c - the Redis backend's shared bans: pushing a ban or
 * an unban (Lua scripts, so that a ban lifted elsewhere meanwhile is not
 * resurrected by a stale push), the bans channel's messages, the unban
 * queue kept while Redis is away, and the resynchronisation at READY
 * (queued unbans, every local ban again, then the shared table read).
 * Connection handling is in store_redis.c.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "core/log.h"
#include "core/mem.h"

/*
 * KEYS: bans hash (also the channel), the key's unban tombstone.
 * ARGV: ban key, record, expiry, message, start.  A ban that began
 * before the source was last unbanned somewhere is stale (a resync
 * pushing what another instance lifted meanwhile): refused, and the key
 * comes back so that the pushing instance lifts it too.  A ban
 * already stored with a later expiry stays.
 */
static const char ban_put_lua[] =
	"local t = tonumber(redis.call('GET', KEYS[2]) or '0')\n"
	"if t > 0 and tonumber(ARGV[5]) <= t then return ARGV[1] end\n"
	"local cur = redis.call('HGET', KEYS[1], ARGV[1])\n"
	"if cur then\n"
	"  local e = tonumber(string.match(cur, '^v1|(%d+)|'))\n"
	"  local n = tonumber(ARGV[3])\n"
	"  if e and (e == 0 or (n ~= 0 and e > n)) then return 0 end\n"
	"end\n"
	"redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
	"redis.call('PUBLISH', KEYS[1], ARGV[4])\n"
	"return 1\n";

/*
 * KEYS: bans hash, tombstone.  ARGV: ban key, message, unban time.  A
 * ban stored that began after this unban (another instance banned the
 * source again while our unban waited for Redis) stays: its record
 * comes back so that we apply it too.  Later wins, as for ban_put_lua.
 */
static const char ban_del_lua[] =
	"local u = tonumber(ARGV[3])\n"
	"local t = tonumber(redis.call('GET', KEYS[2]) or '0')\n"
	"if u > t then\n"
	"  redis.call('SET', KEYS[2], ARGV[3], 'PX', 86400000)\n"
	"end\n"
	"local cur = redis.call('HGET', KEYS[1], ARGV[1])\n"
	"if cur then\n"
	"  local s = tonumber(string.match(cur, '^v1|%d+|(%d+)|'))\n"
	"  if s and s > u then return cur end\n"
	"end\n"
	"redis.call('HDEL', KEYS[1], ARGV[1])\n"
	"redis.call('PUBLISH', KEYS[1], ARGV[2])\n"
	"return 1\n";

/* ------------------------------------------------ recent unbans (race) */

/*
 * A ban can reach us by three paths: the channel, the table read at
 * READY (on the command connection) and an answer.  Two connections are
 * two sockets, read in whatever order the loop finds them ready, so
 * what they say can arrive out of the order Redis did it in:
 *  - the table read at READY may be answered after an unban heard on
 *    the channel that Redis ran after the read: the stale record would
 *    ban the source again here only (the flaky test_redis_down_and_back:
 *    x1 still banned on A after B's queued unban);
 *  - a ban pushed by another instance before our queued unban reached
 *    Redis may be heard after our unban was sent: it would undo our
 *    unban here only (x1 banned again on B).
 * So we remember recent unbans: our own with their time (a ban that
 * began at or before it is stale: the tombstones' rule in Redis), and
 * those heard on the channel with the number of table reads sent when
 * heard (a read sent before is stale for that key).  A ring: when an
 * entry is overwritten a stale ban may come back (the safe side).
 */
static void tomb_add(struct store_redis *r, const char *key, uint64_t wall,
		     uint32_t upto)
{
	struct rtomb *t = &r->tomb[r->tomb_next++ % STORE__TOMBS];

	snprintf(t->key, sizeof(t->key), "%s", key);
	t->wall_ms = wall;
	t->upto = upto;
}

/* b arrived by table read number gen (0: on the channel): older than an
 * unban we know of? */
static bool tomb_stale(const struct store_redis *r, const struct store_ban *b,
		       uint32_t gen)
{
	size_t i;

	for (i = 0; i < STORE__TOMBS; i++) {
		const struct rtomb *t = &r->tomb[i];

		if (!t->key[0] || strcmp(t->key, b->key))
			continue;
		if (t->wall_ms && b->start_wall_ms <= t->wall_ms)
			return true;
		if (!t->wall_ms && gen && gen <= t->upto)
			return true;
	}
	return false;
}

/* ------------------------------------------------------ bans channel */

static void apply_record(struct store_redis *r, const redisReply *k,
			 const redisReply *v, uint64_t wall, uint32_t gen)
{
	const struct store_events *ev = store__events(r->s);
	struct store_ban b;

	if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
	    store_ban_decode(&b, str_make(k->str, k->len),
			     str_make(v->str, v->len)) != 0) {
		LOG_RL(LOG_LVL_WARN, "store: bad ban record in redis, ignored");
		return;
	}
	if (b.expires_wall_ms && b.expires_wall_ms <= wall) {
		/* Lapsed: tidy the shared table while we are here. */
		if (r->cmd && redisAsyncCommand(r->cmd, store__redis_on_plain,
						NULL, "HDEL %s %b", r->k_bans,
						k->str, k->len) == REDIS_OK)
			r->inflight++;
		return;
	}
	if (tomb_stale(r, &b, gen))
		return; /* lifted since this read ran (see tomb_add) */
	store__stats(r->s)->bans_in++;
	if (ev->ban)
		ev->ban(ev->arg, &b);
}

static void on_table(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_redis *r = ac->data;
	redisReply *rep = reply;
	uint64_t wall = store__wall_ms();
	uint32_t gen = (uint32_t)(uintptr_t)priv;
	size_t i;

	if (!r)
		return;
	if (r->inflight)
		r->inflight--;
	if (!rep || rep->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i + 1 < rep->elements; i += 2)
		apply_record(r, rep->element[i], rep->element[i + 1], wall,
			     gen);
}

/* A message on the bans channel (or the subscription's confirmation). */
void store__redis_on_sub(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_redis *r = ac->data;
	const struct store_events *ev;
	redisReply *rep = reply, *kind, *body;
	struct store_msg m;

	(void)priv;
	if (!r || !rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 3)
		return;
	kind = rep->element[0];
	body = rep->element[2];
	if (kind->type != REDIS_REPLY_STRING)
		return;
	if (!strcmp(kind->str, "subscribe")) {
		store__redis_sub_ok(r);
		return;
	}
	/* Before READY our queued unbans are not sent yet: a message now
	 * could undo them here.  What it says is in the table we read at
	 * READY, after our own changes. */
	if (strcmp(kind->str, "message") || body->type != REDIS_REPLY_STRING ||
	    r->state != R_READY)
		return;
	if (rep->element[1]->type == REDIS_REPLY_STRING &&
	    strcmp(rep->element[1]->str, r->k_bans)) {
		/* The bindings channel (store_cluster.c). */
		store__cluster_msg(r->s, str_make(body->str, body->len));
		return;
	}
	if (store_msg_parse(&m, str_make(body->str, body->len)) != 0) {
		LOG_RL(LOG_LVL_WARN, "store: bad message on %s, ignored",
		       r->k_bans);
		return;
	}
	if (str_eq_cstr(m.origin, r->instance))
		return; /* our own, already applied */
	ev = store__events(r->s);
	if (m.ban && tomb_stale(r, &m.b, 0))
		return; /* pushed before our later unban reached Redis */
	if (!m.ban)
		tomb_add(r, m.b.key, 0, r->reads);
	if (m.ban) {
		store__stats(r->s)->bans_in++;
		if (ev->ban)
			ev->ban(ev->arg, &m.b);
	} else {
		store__stats(r->s)->unbans_in++;
		if (ev->unban)
			ev->unban(ev->arg, m.b.key);
	}
}

/* A ban push: a string answer names a ban lifted meanwhile elsewhere. */
static void on_put(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_redis *r = ac->data;
	redisReply *rep = reply;
	const struct store_events *ev;
	char key[STORE_KEY_MAX];

	store__redis_on_plain(ac, reply, priv);
	if (!r || !rep || rep->type != REDIS_REPLY_STRING ||
	    !store_key_valid(str_make(rep->str, rep->len)))
		return;
	memcpy(key, rep->str, rep->len);
	key[rep->len] = '\0';
	ev = store__events(r->s);
	store__stats(r->s)->unbans_in++;
	if (ev->unban)
		ev->unban(ev->arg, key);
}

static void queue_unban(struct store_redis *r, const char *key, uint64_t wall);

/* An unban's answer; none (connection lost): queue it again; a record:
 * a later ban that Redis kept, applied here too. */
static void on_unban(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_redis *r = ac->data;
	struct qent *e = priv;
	redisReply *rep = reply;
	struct store_ban b;

	store__redis_on_plain(ac, reply, NULL);
	if (r && !reply && !r->freeing)
		queue_unban(r, e->key, e->wall_ms);
	if (r && rep && rep->type == REDIS_REPLY_STRING &&
	    store_ban_decode(&b, str_cstr(e->key),
			     str_make(rep->str, rep->len)) == 0) {
		store__stats(r->s)->bans_in++;
		if (store__events(r->s)->ban)
			store__events(r->s)->ban(store__events(r->s)->arg, &b);
	}
	mem_free(e);
}

static int send_unban(struct store_redis *r, const char *key, uint64_t wall)
{
	char msg[STORE_RECORD_MAX + 128];
	char tomb[STORE_PREFIX_MAX + STORE_KEY_MAX + 8];
	struct store_ban b;
	struct qent *e;

	memset(&b, 0, sizeof(b));
	snprintf(b.key, sizeof(b.key), "%s", key);
	if (store_msg_format(msg, sizeof(msg), false, r->instance, &b) < 0)
		return -EINVAL;
	snprintf(tomb, sizeof(tomb), "%sunban:%s", r->prefix, key);
	e = mem_zalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->wall_ms = wall;
	tomb_add(r, key, wall, 0);
	if (redisAsyncCommand(r->cmd, on_unban, e, "EVAL %s 2 %s %s %s %s %llu",
			      ban_del_lua, r->k_bans, tomb, key, msg,
			      (unsigned long long)wall) != REDIS_OK) {
		mem_free(e);
		return -EIO;
	}
	r->inflight++;
	store__stats(r->s)->unbans_out++;
	store__loop_flush_soon(r->cmd);
	return 0;
}

void store__redis_resync(struct store_redis *r)
{
	const struct store_events *ev = store__events(r->s);

	while (r->qlen && r->cmd) {
		(void)send_unban(r, r->q[r->qhead].key, r->q[r->qhead].wall_ms);
		r->qhead = (r->qhead + 1) % r->queue_max;
		r->qlen--;
	}
	r->resyncing = true;
	if (ev->resync)
		ev->resync(ev->arg);
	r->resyncing = false;
	r->resync_due = false;
	/* Its number: unbans heard while it is out make its records
	 * stale for their keys (tomb_stale). */
	r->reads = r->reads + 1 ? r->reads + 1 : 1;
	if (r->cmd &&
	    redisAsyncCommand(r->cmd, on_table, (void *)(uintptr_t)r->reads,
			      "HGETALL %s", r->k_bans) == REDIS_OK)
		r->inflight++;
	store__loop_flush_soon(r->cmd);
}

int store__redis_ban_put(struct store_redis *r, const struct store_ban *b)
{
	char rec[STORE_RECORD_MAX], msg[STORE_RECORD_MAX + 128];
	char tomb[STORE_PREFIX_MAX + STORE_KEY_MAX + 8];
	char exp[24], start[24];

	if (store_ban_encode(rec, sizeof(rec), b) < 0 ||
	    store_msg_format(msg, sizeof(msg), true, r->instance, b) < 0)
		return -EINVAL;
	if (r->state != R_READY || !r->cmd)
		return 0; /* pushed from the gate at resync */
	if (r->inflight >= r->queue_max && !r->resyncing) {
		store__stats(r->s)->dropped++;
		r->resync_due = true;
		return -ENOBUFS;
	}
	snprintf(exp, sizeof(exp), "%llu",
		 (unsigned long long)b->expires_wall_ms);
	snprintf(start, sizeof(start), "%llu",
		 (unsigned long long)b->start_wall_ms);
	snprintf(tomb, sizeof(tomb), "%sunban:%s", r->prefix, b->key);
	if (redisAsyncCommand(r->cmd, on_put, NULL,
			      "EVAL %s 2 %s %s %s %s %s %s %s", ban_put_lua,
			      r->k_bans, tomb, b->key, rec, exp, msg,
			      start) != REDIS_OK)
		return -EIO;
	r->inflight++;
	store__stats(r->s)->bans_out++;
	store__loop_flush_soon(r->cmd);
	return 0;
}

int store__redis_ban_del(struct store_redis *r, const char *key)
{
	if (!store_key_valid(str_cstr(key)))
		return -EINVAL;
	if (r->state == R_READY && r->cmd && r->inflight < r->queue_max &&
	    send_unban(r, key, store__wall_ms()) == 0)
		return 0;
	queue_unban(r, key, store__wall_ms());
	return 0;
}

/* Keep an unban for the resync; full: forget the oldest (its ban may come
 * back from Redis, which errs on the side of protection). */
static void queue_unban(struct store_redis *r, const char *key, uint64_t wall)
{
	uint32_t tail;

	if (r->qlen == r->queue_max) {
		r->qhead = (r->qhead + 1) % r->queue_max;
		r->qlen--;
		store__stats(r->s)->dropped++;
	}
	tail = (r->qhead + r->qlen) % r->queue_max;
	snprintf(r->q[tail].key, STORE_KEY_MAX, "%s", key);
	r->q[tail].wall_ms = wall;
	r->qlen++;
}
