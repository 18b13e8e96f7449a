/*
 * store_redis_count.c - the Redis backend's counters and rates: a
 * concurrent count made of per-connection shares (INSTANCE@EPOCH, each
 * counting while its heartbeat key lives), a sliding-window rate on
 * Redis' clock, and taking events back from one.
 *
 * One Lua script does all three, for up to STORE_BATCH_MAX keys per run
 * (store_batch(): a call's counters in one round trip), so the check and
 * the change are atomic across instances and a batch is atomic as a
 * whole.  It is sent by its SHA1 (EVALSHA), never as text on the hot
 * path: SCRIPT LOAD is the first command of every connection (READY),
 * so every EVALSHA after it on that connection finds the script.  Only
 * a SCRIPT FLUSH under us breaks that: the batches it refuses (NOSCRIPT)
 * are answered locally and the connection is dropped once, so that the
 * reconnect (a new epoch, store_redis.c) loads the script again and
 * counts every call in progress again, as after any outage; resending
 * them instead could reorder a call's end before its start.  A Redis
 * refusing SCRIPT LOAD gets the text (EVAL) from then on.
 *
 * Lazy batches (store_batch's STORE_BATCH_LAZY: a call's start and
 * end) are held and merged: every lazy batch of one 20 ms write batch
 * becomes ONE script run (RMERGE_*), written just before that write
 * (store__loop_preflush) and before any other counter command (so Redis
 * applies every change in the order it was made).  Each caller still
 * gets its own answers.  The connection lost or the store freed: held
 * batches are answered locally at once (store__redis_count_drop).
 *
 * -EAGAIN (not READY, queue full) tells store.c to answer from local
 * state.
 */
#include "store/store_int.h"

#include <errno.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include "core/log.h"
#include "core/mem.h"

/*
 * KEYS: the counters' and rates' keys.  ARGV[1]: our share's field
 * (INSTANCE@EPOCH), ARGV[2]: the heartbeat keys' prefix, then one per
 * key: "KIND A B C" (store_int.h; one argument, not four: a call's
 * counters are written on every call, and each argument costs us a
 * header to format and Redis one to parse).  Returns one integer per key:
 * count: the cluster count after the change, or -1-count if refused
 * (a read, delta 0, changes nothing but the dead shares it drops);
 * rate: the estimate after adding n (n 0: a read, nothing written);
 * take: 0.  Windows are Redis' clock (TIME, read once per run).
 */
static const char batch_lua[] =
	"local out, now = {}, nil\n"
	"local function clock()\n"
	"  if not now then\n"
	"    local t = redis.call('TIME')\n"
	"    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
	"  end\n"
	"  return now\n"
	"end\n"
	"for i = 1, #KEYS do\n"
	"  local key = KEYS[i]\n"
	"  local kind, sa, sb, sc =\n"
	"    string.match(ARGV[i+2], '^(%a) (%-?%d+) (%-?%d+) (%-?%d+)$')\n"
	"  local a, b = tonumber(sa), tonumber(sb)\n"
	"  if kind == 'c' then\n"
	"    local n, mine = 0, 0\n"
	"    local f = redis.call('HGETALL', key)\n"
	"    for x = 1, #f, 2 do\n"
	"      if f[x] == ARGV[1] then mine = tonumber(f[x+1]); n = n + mine\n"
	"      elseif redis.call('EXISTS', ARGV[2] .. f[x]) == 1 then\n"
	"        n = n + tonumber(f[x+1])\n"
	"      else redis.call('HDEL', key, f[x]) end\n"
	"    end\n"
	"    if a > 0 and b > 0 and n + a > b then n = -1 - n\n"
	"    elseif a ~= 0 then\n"
	"      if mine + a <= 0 then\n"
	"        redis.call('HDEL', key, ARGV[1]); n = n - mine\n"
	"      else\n"
	"        redis.call('HSET', key, ARGV[1], mine + a); n = n + a\n"
	"      end\n"
	"      if redis.call('HLEN', key) > 0 then\n"
	"        redis.call('PEXPIRE', key, sc) end\n"
	"    end\n"
	"    out[i] = n\n"
	"  elseif kind == 'r' then\n"
	"    local t = clock()\n"
	"    local k = math.floor(t / a)\n"
	"    local ck = key .. ':' .. k\n"
	"    local cur\n"
	"    if b > 0 then\n"
	"      cur = redis.call('INCRBY', ck, sb)\n"
	"      redis.call('PEXPIRE', ck, 2 * a + 1000)\n"
	"    else cur = tonumber(redis.call('GET', ck) or '0') end\n"
	"    local p = tonumber(redis.call('GET', key .. ':' .. (k - 1)) or '0')\n"
	"    out[i] = cur + math.floor(p * (a - (t - k * a)) / a)\n"
	"  elseif kind == 't' then\n"
	"    local k = math.floor((clock() - tonumber(sc)) / a)\n"
	"    local ck = key .. ':' .. k\n"
	"    local v = tonumber(redis.call('GET', ck) or '0')\n"
	"    if v > 0 then redis.call('DECRBY', ck, math.min(v, b)) end\n"
	"    out[i] = 0\n"
	"  else return redis.error_reply('sipguard: bad counter operation')\n"
	"  end\n"
	"end\n"
	"return out\n";

enum {
	RKEY_MAX = STORE_PREFIX_MAX + STORE_CKEY_MAX + 8,
	/* Lazy batches (calls' starts and ends) queued in the same 20 ms
	 * go out as ONE script run: at most this many operations, batches
	 * and key bytes in it (one run holds about ten calls'). */
	RMERGE_OPS = 64,
	RMERGE_SUBS = 16,
	RMERGE_KEYS = 4096,
};

/* One caller's batch inside a script run: its answer, its operations
 * (n of them, after those of the batches before it). */
struct rsub {
	store__batch_fn *cb; /* or */
	store_count_fn *one; /* a single operation's answer */
	void *arg;
	uint8_t n;
};

/* A script run waiting for its reply: one batch, or several lazy ones
 * merged (r->cpend until written).  One allocation: the struct, then
 * sub[subcap], e[cap], keys[kcap].  Owner: hiredis' callback
 * (on_batch), or the sender when it cannot be sent. */
struct rbatch {
	uint16_t n, cap; /* operations, room for */
	uint8_t nsub, subcap;
	bool lazy; /* no flush_soon */
	uint16_t klen, kcap;
	struct rsub *sub;
	struct rbe {
		int64_t a, b, c;
		uint16_t koff, klen;
		char kind;
	} * e;
	char *keys; /* the full Redis keys */
};

static struct rbatch *rb_new(size_t cap, size_t subcap, size_t kcap, bool lazy)
{
	struct rbatch *op = mem_alloc(sizeof(*op) + subcap * sizeof(*op->sub) +
				      cap * sizeof(*op->e) + kcap);

	if (!op)
		return NULL;
	memset(op, 0, sizeof(*op));
	op->cap = (uint16_t)cap;
	op->subcap = (uint8_t)subcap;
	op->kcap = (uint16_t)kcap;
	op->lazy = lazy;
	op->sub = (struct rsub *)(op + 1);
	op->e = (struct rbe *)(op->sub + subcap);
	op->keys = (char *)(op->e + cap);
	return op;
}

static bool rb_fits(const struct rbatch *op, size_t n, size_t klen)
{
	return op->nsub < op->subcap && op->n + n <= op->cap &&
	       op->klen + klen <= op->kcap;
}

/* Add one caller's operations (their full keys in kb, kl) to op. */
static void rb_add(struct rbatch *op, const struct store__rop *ops, size_t n,
		   char (*kb)[RKEY_MAX], const size_t *kl, store__batch_fn *cb,
		   store_count_fn *one, void *arg)
{
	size_t i;

	op->sub[op->nsub++] = (struct rsub){cb, one, arg, (uint8_t)n};
	for (i = 0; i < n; i++) {
		op->e[op->n++] =
			(struct rbe){ops[i].a, ops[i].b,        ops[i].c,
				     op->klen, (uint16_t)kl[i], ops[i].kind};
		memcpy(op->keys + op->klen, kb[i], kl[i]);
		op->klen = (uint16_t)(op->klen + kl[i]);
	}
}

static void on_batch(redisAsyncContext *ac, void *reply, void *priv);

/* An operation's parameters, one argument: "KIND A B C". */
static void put_params(struct store__resp *w, const struct rbe *e)
{
	char b[2 + 3 * (STORE__NUM_MAX + 1)];
	size_t n = 0;

	b[n++] = e->kind;
	b[n++] = ' ';
	n += store__fmt_i64(b + n, e->a);
	b[n++] = ' ';
	n += store__fmt_i64(b + n, e->b);
	b[n++] = ' ';
	n += store__fmt_i64(b + n, e->c);
	store__resp_arg(w, b, n);
}

/* The command in Redis' protocol, written here (store_resp.c):
 * hiredis' own formatting (printf-like, a growing string per argument)
 * cost more than the rest of a batch together (bench/README-store.md). */
static int send_batch(struct store_redis *r, struct rbatch *op)
{
	char buf[sizeof(batch_lua) + RMERGE_OPS * 100 + RMERGE_KEYS +
		 2 * STORE_INSTANCE_MAX + STORE_PREFIX_MAX + 256];
	struct store__resp w;
	size_t i;

	store__resp_init(&w, buf, sizeof(buf));
	store__resp_array(&w, 5 + 2 * (size_t)op->n);
	if (r->count_eval) {
		store__resp_arg(&w, "EVAL", 4);
		store__resp_arg(&w, batch_lua, sizeof(batch_lua) - 1);
	} else {
		store__resp_arg(&w, "EVALSHA", 7);
		store__resp_cstr(&w, r->count_sha);
	}
	store__resp_int(&w, op->n);
	for (i = 0; i < op->n; i++)
		store__resp_arg(&w, op->keys + op->e[i].koff, op->e[i].klen);
	store__resp_cstr(&w, r->share_id);
	store__resp_cstr(&w, r->k_inst);
	for (i = 0; i < op->n; i++)
		put_params(&w, &op->e[i]);
	if (store__resp_end(&w) != 0 ||
	    redisAsyncFormattedCommand(r->cmd, on_batch, op, buf, w.len) !=
		    REDIS_OK)
		return -EAGAIN;
	r->inflight++;
	/* A call set-up waits for it: written within read_coalesce_ms,
	 * with every read of that time (under load, one write and one
	 * reply for many calls; bench/README-store.md). */
	if (!op->lazy)
		store__loop_flush_within(r->cmd, r->read_coalesce_ms);
	return 0;
}

/* An error reply: logged; NOSCRIPT drops the connection (see top). */
static void batch_error(struct store_redis *r, redisAsyncContext *ac,
			const redisReply *rep)
{
	LOG_RL(LOG_LVL_WARN, "store: redis error: %.*s",
	       (int)(rep->len > 200 ? 200 : rep->len), rep->str);
	if (!r || r->count_flushed || ac != r->cmd ||
	    strncmp(rep->str, "NOSCRIPT", 8) != 0)
		return;
	r->count_flushed = true;
	log_warn("store: redis lost the counters' script (SCRIPT FLUSH?): "
		 "reconnecting to count the calls in progress again");
	redisAsyncDisconnect(ac);
}

/* Each caller's answers: rc 0 with vals (all of op's, in order), or
 * rc -EAGAIN (vals NULL: answer locally). */
static void answer(const struct rbatch *op, int rc, const int64_t *vals)
{
	const struct rsub *b;
	size_t i, off = 0;

	for (i = 0; i < op->nsub; off += op->sub[i].n, i++) {
		b = &op->sub[i];
		if (b->cb)
			b->cb(b->arg, rc, vals ? vals + off : NULL,
			      vals ? b->n : 0);
		else if (!b->one)
			continue;
		else if (rc)
			b->one(b->arg, rc, 0);
		else if (op->e[off].kind == STORE__OP_COUNT && vals[off] < 0)
			b->one(b->arg, -EDQUOT, -1 - vals[off]);
		else
			b->one(b->arg, 0, vals[off]);
	}
}

static void on_batch(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_redis *r = ac->data;
	struct rbatch *op = priv;
	redisReply *rep = reply;
	int64_t vals[RMERGE_OPS];
	size_t i;

	if (r && r->inflight)
		r->inflight--;
	if (rep && rep->type == REDIS_REPLY_ERROR)
		batch_error(r, ac, rep);
	if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != op->n)
		goto local;
	for (i = 0; i < op->n; i++) {
		if (rep->element[i]->type != REDIS_REPLY_INTEGER)
			goto local;
		vals[i] = rep->element[i]->integer;
	}
	answer(op, 0, vals);
	mem_free(op);
	return;
local:
	answer(op, -EAGAIN, NULL);
	mem_free(op);
}

/* The merged lazy batches to hiredis now, before any other counter
 * command (their order kept); not sendable: answered locally. */
static void send_pend(struct store_redis *r)
{
	struct rbatch *op = r->cpend;

	r->cpend = NULL;
	if (!op)
		return;
	if (r->state != R_READY || !r->cmd || send_batch(r, op) != 0) {
		answer(op, -EAGAIN, NULL);
		mem_free(op);
	}
}

/* The store's write batch is about to be written (store_loop.c). */
static void on_preflush(void *arg)
{
	send_pend(arg);
}

void store__redis_count_drop(struct store_redis *r)
{
	struct rbatch *op = r->cpend;

	r->cpend = NULL;
	if (op) {
		answer(op, -EAGAIN, NULL);
		mem_free(op);
	}
}

/* The full key: prefix, "cnt:" or "rate:", key (cut at RKEY_MAX). */
static size_t full_key(const struct store_redis *r, char *buf,
		       const struct store__rop *o)
{
	const char *mid = o->kind == STORE__OP_COUNT ? "cnt:" : "rate:";
	size_t p = strnlen(r->prefix, STORE_PREFIX_MAX), m = strlen(mid);
	size_t k = o->key.len;

	if (p + m + k > RKEY_MAX) /* not reached: bounded by the API */
		k = RKEY_MAX - p - m;
	memcpy(buf, r->prefix, p);
	memcpy(buf + p, mid, m);
	memcpy(buf + p + m, o->key.p, k);
	return p + m + k;
}

/* Lazy: into the pending run (r->cpend), written with the store's next
 * write batch (its pre-flush hook: store_loop.c), where every lazy
 * batch of those 20 ms joins it.  Else its own run, after the pending
 * one so that Redis sees every change in the order it was made. */
static int batch(struct store_redis *r, const struct store__rop *ops, size_t n,
		 bool lazy, store__batch_fn *cb, store_count_fn *one, void *arg)
{
	char kb[STORE_BATCH_MAX][RKEY_MAX];
	size_t i, kl[STORE_BATCH_MAX], total = 0;
	struct rbatch *op;

	if (r->state != R_READY || !r->cmd || r->inflight >= r->queue_max ||
	    n == 0 || n > STORE_BATCH_MAX)
		return -EAGAIN;
	for (i = 0; i < n; i++) {
		kl[i] = full_key(r, kb[i], &ops[i]);
		total += kl[i];
	}
	if (r->cpend && (!lazy || !rb_fits(r->cpend, n, total)))
		send_pend(r);
	if (lazy) {
		if (!r->cpend) {
			r->cpend = rb_new(RMERGE_OPS, RMERGE_SUBS, RMERGE_KEYS,
					  true);
			if (!r->cpend)
				return -EAGAIN;
			store__loop_preflush(r->cmd, on_preflush, r);
		}
		rb_add(r->cpend, ops, n, kb, kl, cb, one, arg);
		return 0;
	}
	op = rb_new(n, 1, total, false);
	if (!op)
		return -EAGAIN;
	rb_add(op, ops, n, kb, kl, cb, one, arg);
	if (send_batch(r, op) != 0) {
		mem_free(op);
		return -EAGAIN;
	}
	return 0;
}

int store__redis_batch(struct store_redis *r, const struct store__rop *ops,
		       size_t n, bool lazy, store__batch_fn *cb, void *arg)
{
	return batch(r, ops, n, lazy, cb, NULL, arg);
}

int store__redis_count(struct store_redis *r, struct str key, int64_t delta,
		       int64_t limit, uint64_t ttl_ms, store_count_fn *cb,
		       void *arg)
{
	struct store__rop o = {key, STORE__OP_COUNT, delta, limit,
			       (int64_t)(ttl_ms ? ttl_ms : 1)};

	return batch(r, &o, 1, false, NULL, cb, arg);
}

int store__redis_rate(struct store_redis *r, struct str key, uint64_t window_ms,
		      uint32_t n, int64_t limit, store_count_fn *cb, void *arg)
{
	struct store__rop o = {key, STORE__OP_RATE, (int64_t)window_ms, n, 0};

	(void)limit; /* applied by store.c on the answer */
	return batch(r, &o, 1, false, NULL, cb, arg);
}

int store__redis_rate_take(struct store_redis *r, struct str key,
			   uint64_t window_ms, uint32_t n, uint64_t age_ms)
{
	struct store__rop o = {key, STORE__OP_TAKE, (int64_t)window_ms, n,
			       (int64_t)age_ms};

	/* Before the call comes back: flushed at the next turn. */
	return batch(r, &o, 1, false, NULL, NULL, NULL);
}

/* ------------------------------------------------- the script's load */

static void on_script(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_redis *r = ac->data;
	redisReply *rep = reply;

	(void)priv;
	if (!r)
		return;
	if (r->inflight)
		r->inflight--;
	if (!rep)
		return;
	if (rep->type != REDIS_REPLY_STRING ||
	    strcmp(rep->str, r->count_sha) != 0) {
		log_warn("store: redis refused SCRIPT LOAD (%.*s): counters "
			 "sent as EVAL",
			 rep->type == REDIS_REPLY_ERROR ? (int)rep->len : 0,
			 rep->type == REDIS_REPLY_ERROR ? rep->str : "");
		r->count_eval = true;
	}
}

int store__redis_count_ready(struct store_redis *r)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	r->count_flushed = false;
	if (!r->count_sha[0]) {
		if (!EVP_Digest(batch_lua, sizeof(batch_lua) - 1, md, &mdlen,
				EVP_sha1(), NULL) ||
		    mdlen != 20) {
			r->count_eval = true;
			return 0;
		}
		for (i = 0; i < mdlen; i++) {
			r->count_sha[2 * i] = hex[md[i] >> 4];
			r->count_sha[2 * i + 1] = hex[md[i] & 15];
		}
		r->count_sha[40] = '\0';
	}
	if (r->count_eval)
		return 0;
	if (redisAsyncCommand(r->cmd, on_script, NULL, "SCRIPT LOAD %s",
			      batch_lua) != REDIS_OK)
		return -EIO;
	r->inflight++;
	return 0;
}
