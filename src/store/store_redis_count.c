/*
 * store_redis_count.c - the Redis backend's counters and rates: a
 * concurrent count made of per-connection shares (INSTANCE@EPOCH, each
 * counting while its heartbeat key lives) and a sliding-window rate on
 * Redis' clock (and taking events back from one).  Each is one Lua
 * script, so the check and the change are atomic across instances.
 * -EAGAIN (not READY, queue full) tells store.c to answer from local
 * state.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdio.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "core/mem.h"

/* A counter or rate command waiting for its reply. */
struct rop {
	struct store_redis *r;
	store_count_fn *cb;
	void *arg;
};

/* Returns the cluster count after the change, or -1-count if refused. */
static const char count_lua[] =
	"local n, mine = 0, 0\n"
	"local f = redis.call('HGETALL', KEYS[1])\n"
	"for i = 1, #f, 2 do\n"
	"  if f[i] == ARGV[4] then mine = tonumber(f[i+1]); n = n + mine\n"
	"  elseif redis.call('EXISTS', ARGV[5] .. f[i]) == 1 then\n"
	"    n = n + tonumber(f[i+1])\n"
	"  else redis.call('HDEL', KEYS[1], f[i]) end\n"
	"end\n"
	"local d, lim = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
	"if d > 0 and lim > 0 and n + d > lim then return -1 - n end\n"
	"if mine + d <= 0 then\n"
	"  redis.call('HDEL', KEYS[1], ARGV[4]); n = n - mine\n"
	"else\n"
	"  redis.call('HSET', KEYS[1], ARGV[4], mine + d); n = n + d\n"
	"end\n"
	"if redis.call('HLEN', KEYS[1]) > 0 then\n"
	"  redis.call('PEXPIRE', KEYS[1], ARGV[3]) end\n"
	"return n\n";

/* Global windows: Redis' clock, not the instances'. */
static const char rate_lua[] =
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
	"local w = tonumber(ARGV[1])\n"
	"local k = math.floor(now / w)\n"
	"local ck = KEYS[1] .. ':' .. k\n"
	"local cur = redis.call('INCRBY', ck, ARGV[2])\n"
	"redis.call('PEXPIRE', ck, 2 * w + 1000)\n"
	"local p = tonumber(redis.call('GET', KEYS[1] .. ':' .. (k - 1)) or '0')\n"
	"return cur + math.floor(p * (w - (now - k * w)) / w)\n";

/* Take ARGV[2] events back from the period ARGV[3] ms ago, not below 0
 * (a period already expired is gone: nothing to do). */
static const char take_lua[] =
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000 +\n"
	"  math.floor(tonumber(t[2]) / 1000)\n"
	"local w = tonumber(ARGV[1])\n"
	"local k = math.floor((now - tonumber(ARGV[3])) / w)\n"
	"local ck = KEYS[1] .. ':' .. k\n"
	"local v = tonumber(redis.call('GET', ck) or '0')\n"
	"if v > 0 then\n"
	"  redis.call('DECRBY', ck, math.min(v, tonumber(ARGV[2])))\n"
	"end\n"
	"return 0\n";

/* ------------------------------------------------- counters and rates */

static void on_count(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_redis *r = ac->data;
	struct rop *op = priv;
	redisReply *rep = reply;

	if (r && r->inflight)
		r->inflight--;
	if (!rep || rep->type != REDIS_REPLY_INTEGER)
		op->cb(op->arg, -EAGAIN, 0);
	else if (rep->integer < 0)
		op->cb(op->arg, -EDQUOT, -1 - rep->integer);
	else
		op->cb(op->arg, 0, rep->integer);
	mem_free(op);
}

static struct rop *op_new(struct store_redis *r, store_count_fn *cb,
			  void *arg)
{
	struct rop *op;

	if (r->state != R_READY || !r->cmd || r->inflight >= r->queue_max)
		return NULL;
	op = mem_zalloc(sizeof(*op));
	if (op) {
		op->r = r;
		op->cb = cb;
		op->arg = arg;
	}
	return op;
}

int store__redis_count(struct store_redis *r, struct str key, int64_t delta,
		       int64_t limit, uint64_t ttl_ms, store_count_fn *cb,
		       void *arg)
{
	char k[STORE_PREFIX_MAX + STORE_CKEY_MAX + 8];
	struct rop *op = op_new(r, cb, arg);

	if (!op)
		return -EAGAIN;
	snprintf(k, sizeof(k), "%scnt:%.*s", r->prefix, (int)key.len, key.p);
	if (redisAsyncCommand(r->cmd, on_count, op,
			      "EVAL %s 1 %s %lld %lld %llu %s %s", count_lua, k,
			      (long long)delta, (long long)limit,
			      (unsigned long long)(ttl_ms ? ttl_ms : 1),
			      r->share_id, r->k_inst) != REDIS_OK) {
		mem_free(op);
		return -EAGAIN;
	}
	r->inflight++;
	store__loop_flush_soon(r->cmd); /* a call set-up may wait for it */
	return 0;
}

int store__redis_rate(struct store_redis *r, struct str key,
		      uint64_t window_ms, uint32_t n, int64_t limit,
		      store_count_fn *cb, void *arg)
{
	char k[STORE_PREFIX_MAX + STORE_CKEY_MAX + 8];
	struct rop *op = op_new(r, cb, arg);

	(void)limit; /* applied by store.c on the answer */
	if (!op)
		return -EAGAIN;
	snprintf(k, sizeof(k), "%srate:%.*s", r->prefix, (int)key.len, key.p);
	if (redisAsyncCommand(r->cmd, on_count, op, "EVAL %s 1 %s %llu %u",
			      rate_lua, k, (unsigned long long)window_ms,
			      n) != REDIS_OK) {
		mem_free(op);
		return -EAGAIN;
	}
	r->inflight++;
	store__loop_flush_soon(r->cmd);
	return 0;
}

int store__redis_rate_take(struct store_redis *r, struct str key,
			   uint64_t window_ms, uint32_t n, uint64_t age_ms)
{
	char k[STORE_PREFIX_MAX + STORE_CKEY_MAX + 8];

	if (r->state != R_READY || !r->cmd || r->inflight >= r->queue_max)
		return -EAGAIN;
	snprintf(k, sizeof(k), "%srate:%.*s", r->prefix, (int)key.len, key.p);
	if (redisAsyncCommand(r->cmd, store__redis_on_plain, NULL,
			      "EVAL %s 1 %s %llu %u %llu", take_lua, k,
			      (unsigned long long)window_ms, n,
			      (unsigned long long)age_ms) != REDIS_OK)
		return -EAGAIN;
	r->inflight++;
	store__loop_flush_soon(r->cmd); /* before the call comes back */
	return 0;
}
