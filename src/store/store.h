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
	STORE_KEY_MAX = 64,  /* ban key text, NUL included */
	STORE_RULE_MAX = 32, /* as the gate keeps it */
	STORE_REASON_MAX = 96,
	STORE_INSTANCE_MAX = 32, /* instance name, NUL included */
	STORE_PREFIX_MAX = 64,   /* Redis key prefix, NUL included */
	STORE_RECORD_MAX = 256,  /* an encoded ban record, NUL included */
	STORE_CKEY_MAX = 128,    /* counter / rate key bytes */
	STORE_USER_KEY_LEN = 16, /* store_user_key() */
	STORE_HKEY_MAX = 32,     /* store_hkey(): family + 16 hex + NUL */
};

struct store_conf {
	int backend;               /* enum store_backend */
	const char *address;       /* "127.0.0.1:6379", "[::1]:6379", */
				   /* "unix:/run/redis.sock" */
	const char *password;      /* "" or NULL: no AUTH */
	const char *key_prefix;    /* every Redis key and channel starts so */
	const char *instance;      /* this instance's name; "": random */
	uint32_t queue_max;        /* commands awaiting a reply; unbans */
				   /* waiting for Redis */
	uint64_t timeout_ms;       /* connect, reply, startup load */
	uint64_t reconnect_max_ms; /* backoff cap */
	uint64_t read_coalesce_ms; /* counter reads written within */
	uint32_t counters;         /* memory backend: counter slots */
	uint32_t max_snapshots;    /* dialog snapshots of this instance */
	uint32_t max_bindings;     /* other instances' bindings kept here */
	const char *secret;        /* common to the cluster, never sent; "" */
	/* TLS to Redis (store_tls.c); "" or NULL: not set. */
	bool tls;
	const char *tls_ca;   /* CA file; "": the system's CAs */
	const char *tls_cert; /* client certificate, with tls_key */
	const char *tls_key;
	const char *tls_server_name; /* "": the host of address */
	int run_uid, run_gid; /* the daemon's user after start; -1: ours */
};

void store_conf_default(struct store_conf *c);
/* Fill c from the parsed configuration (strings are borrowed). */
void store_conf_from(struct store_conf *c, const struct sg_conf_store *sc);

/* A ban as instances exchange it.  Times are wall clock (Unix ms): the
 * instances' monotonic clocks do not agree, their wall clocks do (NTP). */
struct store_ban {
	char key[STORE_KEY_MAX]; /* "203.0.113.9", "2001:db8:1:2::/64" */
	char rule[STORE_RULE_MAX];
	char reason[STORE_REASON_MAX];
	uint64_t start_wall_ms;
	uint64_t expires_wall_ms; /* 0: never */
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
	uint64_t connects;             /* times Redis became ready */
	uint64_t disconnects;          /* times it was lost */
	uint64_t bans_out, unbans_out; /* published */
	uint64_t bans_in, unbans_in;   /* received from other instances */
	uint64_t dropped;              /* commands not sent: queue full */
	uint64_t fallbacks;            /* counter answers from local state */
	uint32_t inflight;             /* commands awaiting a reply now */
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
/*
 * store.tls: read tls_ca, tls_cert and tls_key again (a renewed
 * certificate) for the connections to Redis opened from now on; those
 * open are kept.  Files that do not load change nothing.  Logs the
 * outcome.  0 (also without TLS), or -EINVAL / -errno.
 */
int store_tls_reload(struct store *s);
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
void store_set_count_resync(struct store *s, void (*fn)(void *arg), void *arg);

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
 * Users: toll fraud's calls per minute (guard/fraud_share.c) and the
 * authentication failures per source (guard/rate_share.c, which batches
 * hits per source and documents its lag bound).
 */
int store_rate_hit(struct store *s, struct str key, uint64_t window_ms,
		   uint32_t n, int64_t limit, store_count_fn *cb, void *arg);

/*
 * Take back n events that store_rate_hit() added age_ms ago under key
 * and window_ms (a call the PBX challenged: it comes back with
 * credentials and is counted again).  They leave the period they were
 * counted in (Redis' clock minus age_ms), never below 0; nothing once
 * that period is older than the previous one.  Fire and forget: no
 * answer; Redis down or its queue full: the local view only.  Returns 0
 * or -EINVAL.
 */
int store_rate_take(struct store *s, struct str key, uint64_t window_ms,
		    uint32_t n, uint64_t age_ms);

/*
 * Several counters and rates at once: each operation as
 * store_count_add() (STORE_OP_COUNT: n the delta, ms the ttl) or
 * store_rate_hit() (STORE_OP_RATE: n the events to add, 0 only reads
 * the estimate; ms the window), all in ONE Redis round trip, applied
 * atomically (one script run).  The local view is changed first, a
 * local refusal stands (that operation is not sent), and Redis down
 * answers every operation locally, exactly as the single calls do.
 * cb (may be NULL) is called once, with an answer per operation in
 * their order (rcs[i], values[i] as store_count_fn's); it may run
 * before the call returns.  1..STORE_BATCH_MAX operations.  flags:
 * STORE_BATCH_LAZY lets the batch wait for the store's write batching
 * (at most 20 ms, store_loop.c) instead of going out at the next loop
 * turn: for changes nobody waits for, whose delay is bounded and
 * documented by the caller.  STORE_BATCH_REMOTE: the caller keeps its
 * own local counts and wants Redis' answers only: the local view is
 * neither read nor changed (no limit may be set then), and whatever is
 * not answered by Redis is answered -EAGAIN, value 0.  Returns 0 or
 * -EINVAL (nothing applied).
 * User: toll fraud (fraud_share.c, REMOTE), one batch per call for its
 * read, one (lazy) for its start, one (lazy) for its end.
 */
enum {
	STORE_BATCH_MAX = 8,
	STORE_BATCH_LAZY = 1,
	STORE_BATCH_REMOTE = 2,
};
enum store_op_kind { STORE_OP_COUNT, STORE_OP_RATE };
struct store_op {
	struct str key;
	enum store_op_kind kind;
	int64_t n;     /* COUNT: delta; RATE: events, 0..UINT32_MAX */
	int64_t limit; /* >= 0; 0: none */
	uint64_t ms;   /* COUNT: ttl_ms; RATE: window_ms (> 0) */
};
typedef void store_batch_fn(void *arg, const int *rcs, const int64_t *values,
			    size_t n);
int store_batch(struct store *s, const struct store_op *ops, size_t n,
		unsigned flags, store_batch_fn *cb, void *arg);

void store_get_stats(const struct store *s, struct store_stats *st);

/*
 * The key of the keyed hash that names users in shared counters, the
 * same on every instance of the cluster and unknown to Redis: derived
 * from store.secret (else store.password) and key_prefix (store_key.c).
 * Returns 0 with key filled; -ENOKEY for the memory backend or when
 * neither secret is set (per-user counts then stay per instance).
 */
int store_user_key(const struct store *s, uint8_t key[STORE_USER_KEY_LEN]);
/*
 * Without either secret, a key every instance can compute from
 * key_prefix alone (store_key.c): it keeps names out of Redis keys in
 * clear, but a reader of Redis can test guesses (extensions, addresses)
 * against it.  For counters that must stay shared even then (the
 * toll-fraud limits).  0, or -ENOKEY for the memory backend.
 */
int store_public_key(const struct store *s, uint8_t key[STORE_USER_KEY_LEN]);
/*
 * A counter key that names something (a user, a source) by a keyed
 * hash h (SipHash-2-4 under one of the keys above): family ("fc:",
 * "ra:"...; at most STORE_HKEY_MAX - 17 bytes, longer is cut) and the
 * 16 hex digits of h, most significant first, so every key of a family
 * has one length whatever it names.  Written in buf, NUL-terminated;
 * returns the key (without the NUL).  Pure.
 */
struct str store_hkey(char buf[STORE_HKEY_MAX], const char *family, uint64_t h);

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

/* --- Registration bindings and dialog snapshots (issue 9). --- */

enum {
	STORE_TOKEN_MAX = 24,      /* binding token, NUL included */
	STORE_ADDR_MAX = 64,       /* "udp:[2001:db8::1]:5060", NUL incl. */
	STORE_URI_MAX = 512,       /* AOR, Contact of a binding */
	STORE_BINDING_MAX = 1400,  /* an encoded binding record */
	STORE_SNAP_STR_MAX = 1024, /* one string of a snapshot */
	STORE_SNAP_MAX = 4096,     /* an encoded snapshot */
	STORE_CSEQ_MAX = 0x7fffffff,
	STORE_DKEY_MAX = 24, /* snapshot field name, NUL included */
};

/*
 * A registration binding as instances share it (store_snap.c).  Slices:
 * into the caller's memory for encode, into the record for decode.
 * handoff is the owner's SIP address that calls for this binding are
 * handed to ("udp:192.0.2.10:5070", the host of the Contact the
 * registrar holds); flow is where the owner reaches the user (its NAT
 * flow or connection), for operators only.
 */
struct store_binding {
	struct str token; /* [0-9a-f], 1..23: key of the binding */
	struct str owner; /* instance holding the flow */
	struct str handoff;
	struct str flow;         /* may be empty */
	struct str aor, contact; /* visible ASCII, <= STORE_URI_MAX */
	uint64_t expires_wall_ms;
};
/* Length written (NUL-terminated), -EINVAL (field out of its alphabet
 * or bounds), -ENOSPC. */
int store_binding_encode(char *buf, size_t sz, const struct store_binding *b);
/* 0, or -EINVAL (b zeroed) on anything but one exact record. */
int store_binding_decode(struct store_binding *b, struct str rec);
bool store_token_valid(struct str t);
/* "udp:" / "tcp:" / "tls:" and an address of [0-9A-Za-z.:[]-]. */
bool store_sipaddr_valid(struct str a);

/*
 * A confirmed dialog, compact, for another instance to end it cleanly
 * if this one dies: what a BYE to each side needs (tags, remote target,
 * route set, last CSeq, where the side is) and what its call record
 * needs.  No credentials, no bodies.  Strings are visible ASCII (the
 * route set may hold spaces), each <= STORE_SNAP_STR_MAX.
 */
struct store_snap_leg {
	struct str uri, tag, contact;
	struct str addr; /* "udp:203.0.113.5:5060"; empty: not known */
	struct str zone; /* zone name of the listener it used */
	uint32_t cseq;
	bool has_cseq;
};
struct store_snap {
	struct str call_id;
	struct str route;      /* the dialog's Record-Route, joined */
	uint8_t n_route, n_up; /* entries; entries caller..owner */
	uint16_t final_status;
	uint64_t start_wall_ms, answer_wall_ms;
	struct store_snap_leg leg[2]; /* 0 caller, 1 callee */
};
int store_snap_encode(char *buf, size_t sz, const struct store_snap *s);
int store_snap_decode(struct store_snap *s, struct str rec);

/* A message on the bindings channel: 'B' binding (b), 'U' binding name
 * removed by origin, 'G' instance name gone (taken over by origin). */
struct store_cmsg {
	char kind;
	struct str origin, name;
	struct store_binding b;
};
int store_cmsg_parse(struct store_cmsg *m, struct str msg);
/* msg's origin is origin (our own message back from the channel),
 * read from its head alone: no decoding of the record, whose fields
 * are not checked (it is not used). */
bool store_cmsg_from(struct str msg, struct str origin);

/* What the store tells the proxy about bindings and dialogs. */
struct store_cluster_events {
	/*
	 * Redis is (back) and this instance's bindings and snapshots in it
	 * were cleared: put every local one again (store_binding_put,
	 * store_snap_put).  Also the memory backend never calls it.
	 */
	void (*resync)(void *arg);
	/* Instance owner died: end the dialog of snapshot s (decoded,
	 * valid during the call), BYE both sides, write its record. */
	void (*takeover)(void *arg, const char *owner,
			 const struct store_snap *s);
	/*
	 * This instance was taken over while cut off from Redis (or
	 * stalled past its heartbeat): another instance, claimer, ended the
	 * dialogs whose snapshot keys are keys[0..n) (sorted, strcmp).  End
	 * them here too, without BYE (the claimer sent it).  Called once
	 * per takeover, after resync.  May be NULL.
	 */
	void (*taken)(void *arg, const char *claimer, const char *const *keys,
		      size_t n);
	void *arg;
};
void store_set_cluster_events(struct store *s,
			      const struct store_cluster_events *ev);

/*
 * Publish a confirmed binding of this instance (b->owner is set here to
 * this instance) / its removal.  Never blocks; Redis down or its queue
 * full: dropped, and every binding is put again at resync.  Memory
 * backend: 0, nothing to do (bindings are local, as without a store).
 * Returns 0, -EINVAL, -ENOBUFS (dropped).
 */
int store_binding_put(struct store *s, struct store_binding *b);
int store_binding_del(struct store *s, struct str token);
/*
 * Another live instance's binding for token: its handoff address into
 * handoff (NUL-terminated, STORE_ADDR_MAX).  Answers from this
 * instance's replica of the shared bindings (loaded at start, kept by
 * the bindings channel), never waits.  False: none, expired, its owner
 * dead, or the memory backend.
 */
bool store_binding_find(struct store *s, struct str token, uint64_t wall_ms,
			char *handoff, size_t sz);
/* Bindings of other instances known here. */
size_t store_binding_remote_count(const struct store *s);

/*
 * Write (or refresh) the snapshot of one confirmed dialog under key
 * (this instance's name for it, [0-9a-f], 1..23) / delete it when the
 * call ends.  Never blocks; dropped when Redis is down (resync writes
 * every live one again) or when this instance has max_snapshots
 * already (counted: stats.snaps_refused).  Memory backend: 0, no-op (a
 * lone instance has no one to take over its calls).
 */
int store_snap_put(struct store *s, struct str key,
		   const struct store_snap *sn);
int store_snap_del(struct store *s, struct str key);

struct store_cluster_stats {
	uint64_t bindings_out, bindings_in, snaps_out, snaps_refused;
	uint64_t takeovers;     /* instances taken over by us */
	uint64_t taken_dialogs; /* snapshots handed to ev.takeover */
	uint64_t taken_from_us; /* our dialogs claimed elsewhere (ev.taken) */
	uint64_t bad_records;   /* undecodable records ignored */
	uint32_t snaps;         /* snapshots of ours in Redis now */
};
void store_get_cluster_stats(const struct store *s,
			     struct store_cluster_stats *st);

#endif
