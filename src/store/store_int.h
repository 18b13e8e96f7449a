/*
 * store_int.h - private to src/store/: the memory backend's table (which
 * also serves as the Redis backend's local view) and the Redis backend.
 */
#ifndef SIPGUARD_STORE_INT_H
#define SIPGUARD_STORE_INT_H

#include "store/store.h"
#include "core/tmr.h"

struct tmr_wheel;

/* --- store_mem.c: fixed-size table of counters and rate windows. --- */

enum {
	STORE_MEM_WAYS = 8, /* probe length: slots looked at per key */
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
/* See store_rate_take(); immediate. */
int store__mem_rate_take(struct store_mem *m, struct str key,
			 uint64_t window_ms, uint32_t n, uint64_t age_ms,
			 uint64_t now_ms);
/* The sliding-window estimate (shared with the Redis script's maths). */
int64_t store__window_estimate(uint64_t prev, uint64_t cur, uint64_t window_ms,
			       uint64_t elapsed_ms);
size_t store__mem_used(const struct store_mem *m);

/* --- store_key.c: the cluster's user-hash key (store_user_key). --- */

/* 0, -ENOKEY (secret empty) or -EIO. */
/* The "secret" of store_public_key(): known to all, on purpose. */
#define STORE_PUBLIC_SECRET "sipguard public key v1: no store.secret set"
int store__user_key(uint8_t key[STORE_USER_KEY_LEN], const char *secret,
		    const char *prefix);

/* --- store_redis.c --- */

struct store_redis;
struct loop;

int store__redis_new(struct store_redis **rp, struct store *s, struct loop *l,
		     const struct store_conf *c, char *err, size_t errsz);
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
int store__redis_rate(struct store_redis *r, struct str key, uint64_t window_ms,
		      uint32_t n, int64_t limit, store_count_fn *cb, void *arg);
int store__redis_rate_take(struct store_redis *r, struct str key,
			   uint64_t window_ms, uint32_t n, uint64_t age_ms);

/*
 * store_redis_count.c: several counter operations in ONE script run
 * (EVALSHA, one reply): store_batch() and the single operations above.
 * kind: STORE__OP_COUNT (a: delta, b: limit, c: ttl_ms), STORE__OP_RATE
 * (a: window_ms, b: n; n 0 reads without adding), STORE__OP_TAKE (a:
 * window_ms, b: n, c: age_ms; answers 0).  key: without the prefix.
 */
enum { STORE__OP_COUNT = 'c', STORE__OP_RATE = 'r', STORE__OP_TAKE = 't' };
struct store__rop {
	struct str key;
	char kind;
	int64_t a, b, c;
};
/* rc 0: vals holds n raw answers (count: the count, or -1-count when
 * refused; rate: the estimate); rc -EAGAIN: none (vals NULL). */
typedef void store__batch_fn(void *arg, int rc, const int64_t *vals, size_t n);
/* 1..STORE_BATCH_MAX ops; cb may be NULL; lazy: written with the 20 ms
 * batch, else at the next loop turn.  0, or -EAGAIN: not READY, queue
 * full, cannot send (answer locally; cb not called). */
int store__redis_batch(struct store_redis *r, const struct store__rop *ops,
		       size_t n, bool lazy, store__batch_fn *cb, void *arg);
/* READY, before anything else on the connection: load the script (its
 * SHA1 computed here), so that every EVALSHA after it finds it. */
int store__redis_count_ready(struct store_redis *r);
/* The connection is going: lazy batches not written yet are answered
 * locally (-EAGAIN). */
void store__redis_count_drop(struct store_redis *r);

/* --- store_resp.c: commands in Redis' protocol, written by us. --- */

enum { STORE__NUM_MAX = 24 }; /* room for a 64-bit decimal and its sign */

/* Decimal of v into buf (STORE__NUM_MAX bytes, no NUL); its length. */
size_t store__fmt_u64(char *buf, uint64_t v);
size_t store__fmt_i64(char *buf, int64_t v);

/* A command being written into a caller's buffer of room bytes; len
 * counts on past room (nothing is written there): see resp_end. */
struct store__resp {
	char *p;
	size_t len, room;
};
void store__resp_init(struct store__resp *w, char *buf, size_t room);
/* "*ARGC\r\n": the command's argument count, first. */
void store__resp_array(struct store__resp *w, size_t argc);
/* One argument (a bulk string: binary safe). */
void store__resp_arg(struct store__resp *w, const char *s, size_t n);
/* One argument made of a then b. */
void store__resp_arg2(struct store__resp *w, const char *a, size_t an,
		      const char *b, size_t bn);
void store__resp_str(struct store__resp *w, struct str s);
void store__resp_cstr(struct store__resp *w, const char *s);
/* An integer argument, in decimal. */
void store__resp_int(struct store__resp *w, int64_t v);
/* 0: w->len bytes at w->p are the command; -ENOSPC: it did not fit. */
int store__resp_end(const struct store__resp *w);

/* --- store_redis.c, for store_cluster.c --- */

struct redisContext;
struct store *store__redis_store(const struct store_redis *r);
/* The command connection when READY, else NULL. */
struct redisAsyncContext *store__redis_cmd(struct store_redis *r);
/* Fewer than queue_max commands await a reply. */
bool store__redis_room(const struct store_redis *r);
void store__redis_sent(struct store_redis *r);
void store__redis_replied(struct store_redis *r);
/* The heartbeat key's time to live (ms). */
uint64_t store__redis_ttl(const struct store_redis *r);
struct redisContext *store__redis_sync(struct store_redis *r);
uint64_t store__wall_ms(void);

/* --- store_redis*.c: private to the Redis backend's three files. --- */

struct redisAsyncContext;

enum rstate { R_DOWN, R_CONNECTING, R_READY };

enum {
	BACKOFF_MIN_MS = 100,
	PING_MS = 1000,
	HOST_MAX = 256,
	STORE__TOMBS = 128, /* recent unbans remembered */
};

/* Owner: the store (store.c) through store__redis_new/free. */
struct store_redis {
	struct store *s;
	struct loop *l;
	char host[HOST_MAX]; /* or the socket path when unix */
	int port;            /* 0: unix socket */
	char password[128];
	char prefix[STORE_PREFIX_MAX];
	char instance[STORE_INSTANCE_MAX];
	char k_bans[STORE_PREFIX_MAX + 8];
	char k_inst[STORE_PREFIX_MAX + 8];
	char share_id[STORE_INSTANCE_MAX + 12]; /* INSTANCE@EPOCH */
	uint32_t epoch;
	uint32_t queue_max;
	uint64_t timeout_ms, reconnect_max_ms, backoff_ms;
	uint64_t read_coalesce_ms; /* store_conf's: counter reads */
	struct redisAsyncContext *cmd, *sub;
	struct store_tls *tls; /* store.tls: hiredis goes through it */
	enum rstate state;
	bool cmd_ok, sub_ok, down_logged, resyncing, resync_due;
	bool ping_out, freeing;
	uint64_t ping_sent;
	uint32_t inflight;
	struct tmr retry, reap, conn_to, ping;
	/* unbans waiting for Redis: a ring of queue_max keys */
	struct qent {
		char key[STORE_KEY_MAX];
		uint64_t wall_ms; /* when it was lifted */
	} * q;
	uint32_t qhead, qlen;
	/* Recent unbans (store_redis_ban.c): what a ban arriving by
	 * another path may be older than.  A ring, oldest overwritten. */
	struct rtomb {
		char key[STORE_KEY_MAX];
		uint64_t wall_ms; /* our unban's time; 0: heard */
		uint32_t upto;    /* table reads sent when heard */
	} tomb[STORE__TOMBS];
	uint32_t tomb_next;
	uint32_t reads; /* table reads sent (their generation) */
	/* store_redis_count.c: the counters' script */
	char count_sha[41];   /* its SHA1, hex */
	bool count_eval;      /* SCRIPT LOAD refused: sent as EVAL */
	bool count_flushed;   /* NOSCRIPT seen: reconnecting */
	struct rbatch *cpend; /* lazy batches merged, not yet written */
};

/* store_redis.c: replies that only need counting (and error logging). */
void store__redis_on_plain(struct redisAsyncContext *ac, void *reply,
			   void *priv);
/* store_redis.c: the subscription is confirmed; READY if AUTH was too. */
void store__redis_sub_ok(struct store_redis *r);
/* store_redis_ban.c: the bans channel and the bindings channel. */
void store__redis_on_sub(struct redisAsyncContext *ac, void *reply, void *priv);
/* store_redis_ban.c: queued unbans, local bans again, the table read. */
void store__redis_resync(struct store_redis *r);

/* --- store_tls.c: TLS to Redis through an in-process tunnel. --- */

struct store_tls;

/* Borrowed strings; "" or NULL: not set. */
struct store_tls_conf {
	const char *host; /* of store.address */
	int port;
	const char *ca_file;   /* NULL: the system's CAs */
	const char *cert_file; /* client certificate (with key_file) */
	const char *key_file;
	const char *server_name; /* NULL: host */
	uint64_t timeout_ms;     /* TCP connect + handshake */
	int run_uid, run_gid;    /* the socket's owner; -1: ours */
};

/*
 * Read the CA, certificate and key files, create the private socket
 * directory and start the tunnel's thread.  0; -EINVAL (a bad file,
 * named in err), -errno, -ENOMEM.  The result is freed (thread stopped,
 * directory removed) by store__tls_free().
 */
int store__tls_new(struct store_tls **tp, const struct store_tls_conf *c,
		   char *err, size_t errsz);
void store__tls_free(struct store_tls *t);
/*
 * Read the CA, certificate and key files again (same names: store.*
 * options do not change on reload) into a new context, which the
 * connections opened from then on use; those open keep theirs.  A file
 * that does not load (missing, not PEM, a key not the certificate's)
 * changes nothing: -EINVAL, the file and the reason in err.  Loop
 * thread; the tunnel's thread takes the context at its next accept.
 * info (may be NULL): the client certificate's end of validity.
 */
int store__tls_reload(struct store_tls *t, char *info, size_t infosz, char *err,
		      size_t errsz);
/* The unix socket hiredis connects to. */
const char *store__tls_path(const struct store_tls *t);
/* "tls:HOST:PORT", for logs. */
const char *store__tls_target(const struct store_tls *t);
/* Handshakes done, connections failed, foreign peers refused. */
void store__tls_stats(const struct store_tls *t, uint64_t *okp, uint64_t *failp,
		      uint64_t *refusedp);

/* --- store_cluster.c: bindings and dialog snapshots (redis only). --- */

struct store_cluster;
int store__cluster_new(struct store_cluster **cp, struct store *s,
		       struct loop *l, const struct store_conf *conf,
		       const char *me);
void store__cluster_free(struct store_cluster *c);
const char *store__cluster_chan(const struct store_cluster *c);
/* Hooks of the Redis backend: READY (after the bans' resync), lost,
 * each heartbeat, a message on the bindings channel. */
void store__cluster_ready(struct store *s);
void store__cluster_down(struct store *s);
void store__cluster_tick(struct store *s);
void store__cluster_msg(struct store *s, struct str body);
/* Blocking startup load of the other instances' bindings. */
int store__cluster_load(struct store *s);

/* --- store_cpub.c: the bindings channel's messages, held and
 * published together at most every 20 ms (store_cluster.c). --- */

struct store_cpub;
int store__cpub_new(struct store_cpub **pp, struct store *s, struct loop *l,
		    const char *chan);
void store__cpub_free(struct store_cpub *p);
/* Hold msg for the channel.  0; -ENOBUFS: the queue is full and cannot
 * be sent now (too many commands in flight), msg not held. */
int store__cpub_put(struct store_cpub *p, struct str msg);
/* Every held message to the command connection now (dropped when Redis
 * is not ready).  0, or -ENOBUFS: in flight full, kept. */
int store__cpub_flush(struct store_cpub *p);
/* Redis lost: the held messages are dropped (READY publishes again). */
void store__cpub_drop(struct store_cpub *p);

/* --- store.c: what the Redis backend calls back. --- */

struct store_cluster *store__cluster(struct store *s);
const struct store_cluster *store__cluster_c(const struct store *s);
struct store_redis *store__redis_of(struct store *s);
/* For store_batch.c: the local table, the loop's now, being freed. */
struct store_mem *store__mem_of(struct store *s);
uint64_t store__now(const struct store *s);
bool store__freeing(const struct store *s);
const char *store__cluster_chan_of(struct store *s);

const struct store_events *store__events(const struct store *s);
/* Redis is ready under a new epoch: the counter owner pushes its counts
 * in progress again (store_set_count_resync). */
void store__count_resync(struct store *s);
struct store_stats *store__stats(struct store *s);

/* --- store_reply.c: hiredis' reply objects from a free list. --- */

struct redisReader;
/* Replies of this asynchronous context (or reader) are built and freed
 * by store_reply.c's functions (before anything is read on it). */
void store__reply_use(struct redisAsyncContext *ac);
void store__reply_reader(struct redisReader *r);

/* --- store_loop.c: hiredis' event hooks on our loop. --- */

struct redisAsyncContext;
/* 0, or -errno (the context is then not attached). */
int store__loop_attach(struct redisAsyncContext *ac, struct loop *l);
/* Write what is queued at the next loop turn, not after the batching
 * delay (ban changes and resynchronisation). */
void store__loop_flush_soon(struct redisAsyncContext *ac);
/* Write what is queued within ms (0: as flush_soon). */
void store__loop_flush_within(struct redisAsyncContext *ac, uint64_t ms);
/* fn(arg) runs just before the next write batch is written (it may
 * queue commands that go in that write); a write batch is started if
 * none is due.  One hook per context, kept until it is freed. */
void store__loop_preflush(struct redisAsyncContext *ac, void (*fn)(void *),
			  void *arg);

#endif
