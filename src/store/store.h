/*
 * store.h - public interface of the store layer: state that several
 * sipguard instances share (issue 9).
 *
 * One interface, two backends behind a table of functions (store_int.h):
 *  - memory (the default): this instance only, no other software.  Bans
 *    live in the gate anyway, so publishing them is a no-op; counters and
 *    sliding-window rates live in a fixed table (store_mem.c).
 *  - redis: hiredis' asynchronous client on our event loop (store_loop.c),
 *    never blocking the signalling path (store_redis.c).  Bans are kept
 *    in one Redis hash and announced on one pub/sub channel, so that
 *    additions AND removals reach every instance within a round trip;
 *    counters and rates are Lua scripts, atomic on the Redis side.
 *
 * Degraded mode: when Redis is unreachable every call still answers
 * from local state (the memory backend runs beside Redis all the time
 * and sees every local change); the store logs the loss once, reconnects
 * with exponential backoff and resynchronises when Redis is back (queued
 * unbans first, then every local ban, then the shared table is read).
 * Memory stays bounded: at most queue_max commands wait for a reply and
 * queue_max unbans wait for Redis; past that, the oldest unban is
 * forgotten (the ban may then come back from Redis: the safe side).
 *
 * Threading: one store per event loop, used on that loop's thread.
 */
#ifndef SIPGUARD_STORE_H
#define SIPGUARD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

struct loop;
struct sg_conf_store;

enum store_backend {
	STORE_MEMORY = 0,
	STORE_REDIS = 1,
};

enum {
	STORE_KEY_MAX = 64,      /* ban key text, NUL included */
	STORE_RULE_MAX = 32,     /* as the gate keeps it */
	STORE_REASON_MAX = 96,
	STORE_INSTANCE_MAX = 32, /* instance name, NUL included */
	STORE_PREFIX_MAX = 64,   /* Redis key prefix, NUL included */
	STORE_RECORD_MAX = 256,  /* an encoded ban record, NUL included */
	STORE_CKEY_MAX = 128,    /* counter / rate key bytes */
};

struct store_conf {
	int backend;            /* enum store_backend */
	const char *address;    /* "127.0.0.1:6379", "[::1]:6379", */
				/* "unix:/run/redis.sock" */
	const char *password;   /* "" or NULL: no AUTH */
	const char *key_prefix; /* every Redis key and channel starts so */
	const char *instance;   /* this instance's name; "": random */
	uint32_t queue_max;     /* commands awaiting a reply; unbans */
				/* waiting for Redis */
	uint64_t timeout_ms;    /* connect, reply, startup load */
	uint64_t reconnect_max_ms; /* backoff cap */
	uint32_t counters;      /* memory backend: counter slots */
};

void store_conf_default(struct store_conf *c);
/* Fill c from the parsed configuration (strings are borrowed). */
void store_conf_from(struct store_conf *c, const struct sg_conf_store *sc);

/* A ban as instances exchange it.  Times are wall clock (Unix ms): the
 * instances' monotonic clocks do not agree, their wall clocks do (NTP). */
struct store_ban {
	char key[STORE_KEY_MAX];       /* "203.0.113.9", "2001:db8:1:2::/64" */
	char rule[STORE_RULE_MAX];
	char reason[STORE_REASON_MAX];
	uint64_t start_wall_ms;
	uint64_t expires_wall_ms;      /* 0: never */
	uint32_t offences;
};

/* What the store tells its owner (guard/bansync.c). */
struct store_events {
	/* Another instance banned, or the shared table holds, b. */
	void (*ban)(void *arg, const struct store_ban *b);
	/* Another instance lifted the ban of key. */
	void (*unban)(void *arg, const char *key);
	/* (Re)connected: push every local ban now with store_ban_put(). */
	void (*resync)(void *arg);
	void *arg;
};

struct store_stats {
	uint64_t connects;      /* times Redis became ready */
	uint64_t disconnects;   /* times it was lost */
	uint64_t bans_out, unbans_out; /* published */
	uint64_t bans_in, unbans_in;   /* received from other instances */
	uint64_t dropped;       /* commands not sent: queue full */
	uint64_t fallbacks;     /* counter answers from local state */
	uint32_t inflight;      /* commands awaiting a reply now */
	bool connected;
};

struct store;

/*
 * Create a store on loop l (borrowed, must outlive it).  Nothing is sent
 * yet: the caller sets its events, calls store_load() and then
 * store_start().  Returns 0, -EINVAL (message in err), -ENOMEM.  The
 * caller owns *sp and frees it with store_free().
 */
int store_new(struct store **sp, struct loop *l, const struct store_conf *c,
	      char *err, size_t errsz);
/* Pending counter callbacks get -ECANCELED.  NULL does nothing. */
void store_free(struct store *s);
void store_set_events(struct store *s, const struct store_events *ev);
/* The instance name in use (generated when the configuration has none). */
const char *store_instance(const struct store *s);
enum store_backend store_backend_of(const struct store *s);

/*
 * Startup: read the shared bans and hand each live one to ev.ban, before
 * the loop runs (so before any SIP traffic is read).  This is the only
 * blocking call of the layer: a synchronous connection with timeout_ms
 * for connect and reply.  Returns the number of bans loaded, 0 for the
 * memory backend, or -errno (the daemon then starts on local state and
 * the asynchronous side resynchronises when Redis comes).
 */
int store_load(struct store *s);
/* Start the asynchronous connection (redis); 0 or -errno. */
int store_start(struct store *s);
bool store_connected(const struct store *s);

/*
 * Publish a local ban / unban.  Never blocks.  Disconnected: a ban is
 * pushed again at resync from the gate; an unban waits in a bounded
 * queue.  Returns 0 (sent or queued), -EINVAL (bad record), -ENOBUFS
 * (dropped: queue full).  Memory backend: 0, nothing to do.
 */
int store_ban_put(struct store *s, const struct store_ban *b);
int store_ban_del(struct store *s, const char *key);

/*
 * Result of a counter operation: rc 0 and value, or rc -EDQUOT (limit
 * reached; value is the count), -ECANCELED (store freed).  May run
 * before the call returns (memory backend, degraded mode).
 */
typedef void store_count_fn(void *arg, int rc, int64_t value);

/*
 * Concurrent-use counter (calls per user across the cluster).  delta > 0
 * takes delta slots if the cluster-wide count stays <= limit (limit 0:
 * no limit), else answers -EDQUOT and takes nothing; delta < 0 gives
 * slots back (never below 0).  Each instance's share is kept apart and
 * counts only while that instance is alive (heartbeat key refreshed every
 * second, lapsing after 3 * timeout): a dead instance's calls stop
 * counting by themselves.  Shares are per connection (epoch, see
 * store_set_count_resync()): a delta sent while Redis is away changes
 * only the local view.  The whole counter also expires ttl_ms after
 * its last change (a leak can never lock a user out forever).
 * cb may be NULL.  Returns 0 or -EINVAL.
 */
/*
 * Counter shares belong to one connection to Redis (an epoch): after a
 * reconnect the previous epoch's shares stop counting within the
 * heartbeat's lapse, and fn(arg) is called to add every count still in
 * progress again (store_count_add with delta > 0).  One owner (the toll
 * fraud limits); NULL removes it.
 */
void store_set_count_resync(struct store *s, void (*fn)(void *arg),
			    void *arg);

int store_count_add(struct store *s, struct str key, int64_t delta,
		    int64_t limit, uint64_t ttl_ms, store_count_fn *cb,
		    void *arg);

/*
 * Sliding-window rate: add n events to key and report the estimated
 * number in the last window_ms, defined as
 *     cur + prev * (window - elapsed) / window
 * where cur and prev count the fixed windows [k*W, (k+1)*W) of the
 * current and previous period and elapsed is the time since the current
 * one began.  With Redis the periods come from Redis' own clock (TIME),
 * so every instance counts into the same global windows; in memory (and
 * when Redis is down) from this instance's monotonic clock.  value is
 * the estimate after adding n; rc is -EDQUOT when it exceeds limit
 * (limit 0: never).  Returns 0 or -EINVAL.
 */
int store_rate_hit(struct store *s, struct str key, uint64_t window_ms,
		   uint32_t n, int64_t limit, store_count_fn *cb, void *arg);

void store_get_stats(const struct store *s, struct store_stats *st);

/* --- Ban records and pub/sub messages (store_codec.c): pure. --- */

/*
 * "v1|EXPIRES|START|OFFENCES|RULE|REASON" into buf (NUL-terminated).
 * '|' in RULE and control bytes anywhere become '_'.  Returns the
 * length, or -ENOSPC / -EINVAL (key not a ban key).
 */
int store_ban_encode(char *buf, size_t sz, const struct store_ban *b);
/*
 * Parse a record for key (copied into b->key).  Rejects: wrong version,
 * numbers that are not 1-20 decimal digits or overflow, missing fields,
 * control bytes, over-long rule or reason.  Returns 0 or -EINVAL.
 */
int store_ban_decode(struct store_ban *b, struct str key, struct str rec);
/* A ban key's characters: hex digits, '.', ':', '/'; 1..63 bytes. */
bool store_key_valid(struct str key);
/* An instance name: [A-Za-z0-9._-], 1..31 bytes. */
bool store_instance_valid(struct str name);

/* A pub/sub message: "B ORIGIN KEY RECORD" or "U ORIGIN KEY". */
struct store_msg {
	bool ban; /* false: unban */
	struct str origin;
	struct store_ban b; /* key always; the rest for a ban */
};
/* Parse a channel message; 0 or -EINVAL. */
int store_msg_parse(struct store_msg *m, struct str msg);
/* Format one (the record is encoded here); length or -ENOSPC/-EINVAL. */
int store_msg_format(char *buf, size_t sz, bool ban, const char *origin,
		     const struct store_ban *b);

#endif
