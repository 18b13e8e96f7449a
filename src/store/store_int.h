/*
 * store_int.h - private to src/store/: the memory backend's table (which
 * also serves as the Redis backend's local view) and the Redis backend.
 */
#ifndef SIPGUARD_STORE_INT_H
#define SIPGUARD_STORE_INT_H

#include "store/store.h"

struct tmr_wheel;

/* --- store_mem.c: fixed-size table of counters and rate windows. --- */

enum {
	STORE_MEM_WAYS = 8,    /* probe length: slots looked at per key */
	STORE_MEM_MIN = 64,
	STORE_MEM_MAX = 1 << 22,
};

struct store_mem;

/* slots rounded up to a power of two.  0 or -ENOMEM / -errno. */
int store__mem_new(struct store_mem **mp, uint32_t slots);
void store__mem_free(struct store_mem *m);
/*
 * See store_count_add(); the answer is immediate: 0 with *valuep, or
 * -EDQUOT with the count unchanged in *valuep.  A full probe window
 * evicts an expired entry first, else the one nearest to expiry.
 */
int store__mem_count(struct store_mem *m, struct str key, int64_t delta,
		     int64_t limit, uint64_t ttl_ms, uint64_t now_ms,
		     int64_t *valuep);
/* See store_rate_hit(); immediate. */
int store__mem_rate(struct store_mem *m, struct str key, uint64_t window_ms,
		    uint32_t n, int64_t limit, uint64_t now_ms,
		    int64_t *valuep);
/* The sliding-window estimate (shared with the Redis script's maths). */
int64_t store__window_estimate(uint64_t prev, uint64_t cur,
			       uint64_t window_ms, uint64_t elapsed_ms);
size_t store__mem_used(const struct store_mem *m);

/* --- store_redis.c --- */

struct store_redis;
struct loop;

int store__redis_new(struct store_redis **rp, struct store *s,
		     struct loop *l, const struct store_conf *c, char *err,
		     size_t errsz);
void store__redis_free(struct store_redis *r);
int store__redis_load(struct store_redis *r);
int store__redis_start(struct store_redis *r);
bool store__redis_ready(const struct store_redis *r);
int store__redis_ban_put(struct store_redis *r, const struct store_ban *b);
int store__redis_ban_del(struct store_redis *r, const char *key);
/* -EAGAIN: not connected or queue full, answer locally. */
int store__redis_count(struct store_redis *r, struct str key, int64_t delta,
		       int64_t limit, uint64_t ttl_ms, store_count_fn *cb,
		       void *arg);
int store__redis_rate(struct store_redis *r, struct str key,
		      uint64_t window_ms, uint32_t n, int64_t limit,
		      store_count_fn *cb, void *arg);

/* --- store.c: what the Redis backend calls back. --- */

const struct store_events *store__events(const struct store *s);
/* Redis is ready under a new epoch: the counter owner pushes its counts
 * in progress again (store_set_count_resync). */
void store__count_resync(struct store *s);
struct store_stats *store__stats(struct store *s);

/* --- store_loop.c: hiredis' event hooks on our loop. --- */

struct redisAsyncContext;
/* 0, or -errno (the context is then not attached). */
int store__loop_attach(struct redisAsyncContext *ac, struct loop *l);

#endif
