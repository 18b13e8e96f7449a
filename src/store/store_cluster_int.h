/*
 * store_cluster_int.h - private to store_cluster.c (bindings and
 * snapshots) and store_takeover.c (a dead instance's calls, and ours
 * taken while we were away): the cluster state and the helpers both
 * use.  See store_cluster.c for the Redis keys and the protocol.
 */
#ifndef SIPGUARD_STORE_CLUSTER_INT_H
#define SIPGUARD_STORE_CLUSTER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "core/htab.h"
#include "store/store_int.h"

enum {
	CL_KEY_MAX = STORE_PREFIX_MAX + STORE_INSTANCE_MAX + 8,
	CL_HASH_TTL_MS = 3600 * 1000, /* a dead instance's state lingers */
	CL_TAKEN_TTL_MS = 24 * 3600 * 1000, /* what was claimed, for it */
	CL_BUCKETS_MIN = 1 << 8,
	CL_BUCKETS_MAX = 1 << 18,
	/* a command of the hot path: HSET of a snapshot is the longest */
	CL_CMD_MAX = STORE_SNAP_MAX + 2 * CL_KEY_MAX + STORE_DKEY_MAX + 64,
};

/* Another instance's binding.  Owner: the cluster table. */
struct rbind {
	struct hnode hn;
	char token[STORE_TOKEN_MAX];
	char owner[STORE_INSTANCE_MAX];
	char handoff[STORE_ADDR_MAX];
	uint64_t expires_wall_ms;
};

/* Owner: the store (store.c). */
struct store_cluster {
	struct store *s;
	struct loop *l;
	struct store_cluster_events ev;
	struct store_cluster_stats st;
	char prefix[STORE_PREFIX_MAX];
	char me[STORE_INSTANCE_MAX];
	char k_insts[CL_KEY_MAX], k_reg[CL_KEY_MAX], k_dlg[CL_KEY_MAX];
	char k_chan[CL_KEY_MAX], k_taken[CL_KEY_MAX];
	uint32_t max_snaps, max_binds;
	struct htab h;
	size_t nbind;
	bool resyncing, scanning;
	uint64_t ready_at;      /* loop ms: READY reached; 0: not ready */
	struct store_cpub *pub; /* the channel's messages, held 20 ms */
};

/* The command connection when a command may be sent now, else NULL. */
redisAsyncContext *store__cl_cmd(struct store_cluster *c);
/* A reply on it came in: counted (in flight); the cluster it is for,
 * NULL when the store is gone. */
struct store_cluster *store__cl_replied(redisAsyncContext *ac);
/* rc of a redisAsync*Command: 0, or -EIO; counts it as sent. */
int store__cl_sent(struct store_cluster *c, int rc);
/* out = prefix what name ("reg:", "dlg:", ... and an instance name). */
void store__cl_key(struct store_cluster *c, char *out, size_t sz,
		   const char *what, struct str name);
/* Drop the replicated bindings of owner (NULL: all). */
void store__cl_rb_drop(struct store_cluster *c, const char *owner);
/* e names another valid instance (not us). */
bool store__cl_member_ok(struct store_cluster *c, const redisReply *e);
bool store__cl_dkey_valid(struct str k);
/* A reply nobody waits for: counted, errors logged. */
void store__cl_on_reply(redisAsyncContext *ac, void *reply, void *priv);
/* store_takeover.c: at READY, read (and delete) our taken hash. */
void store__cl_taken_read(struct store_cluster *c, redisAsyncContext *ac);

#endif
