/*
 * store_cluster.c - registration bindings and dialog snapshots shared
 * through Redis (issue 9), beside the bans of store_redis.c and over its
 * command connection.
 *
 * Redis keys, all under key_prefix P (NAME: an instance name):
 *   P insts       set: instances that keep bindings or snapshots
 *   P reg:NAME    hash: token -> binding record (store_snap.c)
 *   P dlg:NAME    hash: dialog key -> snapshot record
 *   P inst:NAME   heartbeat (store_redis.c), TTL 3 * timeout (>= 3 s)
 *   P taken:NAME  hash: dialog key -> claimer, what was taken from NAME
 *   P regs        channel: "B record" / "U NAME TOKEN" / "G NAME DEAD"
 * One hash per instance, so that an instance can clear and rewrite its
 * own state in one step when Redis returns (DEL, then every live one),
 * and a survivor can take a dead instance's state in one step.
 *
 * Bindings: each instance keeps a replica of the others' (token ->
 * owner, handoff address, expiry) in a fixed-size table, loaded before
 * traffic (store__cluster_load) and at every reconnection, kept current
 * by the channel.  A lookup never waits on Redis.  Our messages on the
 * channel are held and sent together every 20 ms (store_cpub.c); the
 * hot-path commands are written in Redis' protocol (store_resp.c).
 *
 * Takeover: once a second, when this instance has been connected for
 * at least two heartbeat TTLs (so that after an outage of Redis itself
 * every live instance has had time to beat again), it reads P insts and
 * runs the claim script for each other instance.  The script, atomic on
 * the Redis side, does nothing while NAME's heartbeat exists; once it
 * lapsed, it returns NAME's snapshots and deletes its hashes, so exactly
 * one survivor gets them (a second one finds them gone).  Each snapshot
 * goes to the proxy (events.takeover), which ends the call.  The
 * takeover and the taken hash are in store_takeover.c.
 *
 * Taken over while alive: an instance cut off from Redis longer than its
 * heartbeat's TTL (or stalled that long) is taken over like a dead one,
 * but its calls live on here.  The claim leaves their keys in P
 * taken:NAME; when NAME is READY again (or hears the "G" naming it on
 * the channel, if its connection survived a stall) it reads and deletes
 * that hash and the proxy ends those dialogs locally, without BYE (the
 * claimer sent them), with reason "taken-over-elsewhere", writing their
 * records (events.taken).  Calls set up during the outage were never
 * claimed and go on.
 *
 * Bounded: at most max_snapshots of ours in Redis (counted from HSET /
 * HDEL replies), at most max_bindings replicated entries, nothing queued
 * while Redis is away (resync rewrites everything instead).
 */
#include "store/store_cluster_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "core/htab.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"

static struct store_cluster *CL(struct store *s)
{
	return store__cluster(s);
}

/* Appends n bytes of p at *o, within sz - 1 (room for the NUL). */
static void cat(char *out, size_t sz, size_t *o, const char *p, size_t n)
{
	if (*o + 1 >= sz)
		return;
	if (n > sz - 1 - *o)
		n = sz - 1 - *o;
	memcpy(out + *o, p, n);
	*o += n;
}

/* As snprintf "%s%s%.*s" would write it (cut to sz), without its
 * format parsing: a key per binding and per snapshot written. */
void store__cl_key(struct store_cluster *c, char *out, size_t sz,
		   const char *what, struct str name)
{
	size_t o = 0;

	if (!sz)
		return;
	cat(out, sz, &o, c->prefix, strlen(c->prefix));
	cat(out, sz, &o, what, strlen(what));
	if (name.p)
		cat(out, sz, &o, name.p, name.len);
	out[o] = '\0';
}

/* ------------------------------------------------------------ replica */

static bool tok_eq(const struct hnode *n, const void *key)
{
	const struct rbind *b = HTAB_ENTRY(n, struct rbind, hn);

	return !strcmp(b->token, key);
}

static struct rbind *rb_find(struct store_cluster *c, const char *tok)
{
	struct hnode *n = htab_find(&c->h, htab_hash(&c->h, tok, strlen(tok)),
				    tok_eq, tok);

	return n ? HTAB_ENTRY(n, struct rbind, hn) : NULL;
}

static void rb_free(struct store_cluster *c, struct rbind *b)
{
	htab_remove(&c->h, &b->hn);
	c->nbind--;
	mem_free(b);
}

static void rb_put(struct store_cluster *c, const struct store_binding *sb)
{
	char tok[STORE_TOKEN_MAX];
	struct rbind *b;

	if (str_eq_cstr(sb->owner, c->me))
		return; /* ours: the proxy's own table has it */
	snprintf(tok, sizeof(tok), "%.*s", (int)sb->token.len, sb->token.p);
	b = rb_find(c, tok);
	if (!b) {
		if (c->nbind >= c->max_binds)
			return; /* full: that user is reached through its
				 * own instance only */
		b = mem_zalloc(sizeof(*b));
		if (!b)
			return;
		memcpy(b->token, tok, sizeof(tok));
		htab_insert(&c->h, &b->hn, htab_hash(&c->h, tok, strlen(tok)));
		c->nbind++;
	}
	snprintf(b->owner, sizeof(b->owner), "%.*s", (int)sb->owner.len,
		 sb->owner.p);
	snprintf(b->handoff, sizeof(b->handoff), "%.*s", (int)sb->handoff.len,
		 sb->handoff.p);
	b->expires_wall_ms = sb->expires_wall_ms;
	c->st.bindings_in++;
}

static void rb_del(struct store_cluster *c, struct str tok)
{
	char t[STORE_TOKEN_MAX];
	struct rbind *b;

	snprintf(t, sizeof(t), "%.*s", (int)tok.len, tok.p);
	b = rb_find(c, t);
	if (b)
		rb_free(c, b);
}

/* Every binding of owner (NULL: all). */
void store__cl_rb_drop(struct store_cluster *c, const char *owner)
{
	struct htab_iter it;
	struct hnode *n;

	htab_iter_init(&it, &c->h);
	while ((n = htab_iter_next(&it))) {
		struct rbind *b = HTAB_ENTRY(n, struct rbind, hn);

		if (!owner || !strcmp(b->owner, owner))
			rb_free(c, b);
	}
}

static void rb_record(struct store_cluster *c, const redisReply *v,
		      uint64_t wall)
{
	struct store_binding sb;

	if (v->type != REDIS_REPLY_STRING ||
	    store_binding_decode(&sb, str_make(v->str, v->len)) != 0) {
		c->st.bad_records++;
		LOG_RL(LOG_LVL_WARN, "store: bad binding record, ignored");
		return;
	}
	if (sb.expires_wall_ms > wall)
		rb_put(c, &sb);
}

bool store_binding_find(struct store *s, struct str token, uint64_t wall_ms,
			char *handoff, size_t sz)
{
	struct store_cluster *c = s ? CL(s) : NULL;
	char t[STORE_TOKEN_MAX];
	struct rbind *b;

	if (!c || !store_token_valid(token))
		return false;
	memcpy(t, token.p, token.len);
	t[token.len] = '\0';
	b = rb_find(c, t);
	if (!b)
		return false;
	if (b->expires_wall_ms <= wall_ms) {
		rb_free(c, b);
		return false;
	}
	return (size_t)snprintf(handoff, sz, "%s", b->handoff) < sz;
}

size_t store_binding_remote_count(const struct store *s)
{
	const struct store_cluster *c = s ? store__cluster_c(s) : NULL;

	return c ? c->nbind : 0;
}

/* ---------------------------------------------------- async plumbing */

void store__cl_on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_redis *r = ac->data;
	redisReply *rep = reply;

	(void)priv;
	if (!r)
		return;
	store__redis_replied(r);
	if (rep && rep->type == REDIS_REPLY_ERROR)
		LOG_RL(LOG_LVL_WARN, "store: redis error: %.*s",
		       (int)(rep->len > 200 ? 200 : rep->len), rep->str);
}

struct store_cluster *store__cl_replied(redisAsyncContext *ac)
{
	struct store_redis *r = ac->data;

	if (!r)
		return NULL;
	store__redis_replied(r);
	return store__cluster(store__redis_store(r));
}

/* The command connection when a command may be sent now, else NULL. */
redisAsyncContext *store__cl_cmd(struct store_cluster *c)
{
	struct store_redis *r = store__redis_of(c->s);

	if (!r || !store__redis_ready(r) ||
	    (!c->resyncing && !store__redis_room(r)))
		return NULL;
	return store__redis_cmd(r);
}

int store__cl_sent(struct store_cluster *c, int rc)
{
	if (rc != REDIS_OK)
		return -EIO;
	store__redis_sent(store__redis_of(c->s));
	return 0;
}

/* A command of the hot path (bindings, snapshots), its argc arguments
 * written in Redis' protocol by us (store_resp.c), not formatted by
 * hiredis' printf-like redisAsyncCommand (bench/README-store.md). */
static int send_args(struct store_cluster *c, redisAsyncContext *ac,
		     redisCallbackFn *fn, const struct str *argv, size_t argc)
{
	char buf[CL_CMD_MAX];
	struct store__resp w;
	size_t i;

	store__resp_init(&w, buf, sizeof(buf));
	store__resp_array(&w, argc);
	for (i = 0; i < argc; i++)
		store__resp_str(&w, argv[i]);
	if (store__resp_end(&w) != 0)
		return -EIO; /* not reached: every argument is bounded */
	return store__cl_sent(
		c, redisAsyncFormattedCommand(ac, fn, NULL, buf, w.len));
}

/* The channel message "K A" or "K A B" (b.p set) into out, which has
 * room for it (the callers' buffers: a record or a name and a token). */
static struct str msg3(char *out, char kind, struct str a, struct str b)
{
	size_t n = 0;

	out[n++] = kind;
	out[n++] = ' ';
	memcpy(out + n, a.p, a.len);
	n += a.len;
	if (b.p) {
		out[n++] = ' ';
		memcpy(out + n, b.p, b.len);
		n += b.len;
	}
	return str_make(out, n);
}

/* ----------------------------------------------------------- bindings */

int store_binding_put(struct store *s, struct store_binding *b)
{
	struct store_cluster *c = s ? CL(s) : NULL;
	char rec[STORE_BINDING_MAX], msg[STORE_BINDING_MAX + 4];
	struct str hset[4];
	redisAsyncContext *ac;
	int n, rc;

	if (!s || !b)
		return -EINVAL;
	if (!c)
		return 0;
	b->owner = str_cstr(c->me);
	n = store_binding_encode(rec, sizeof(rec), b);
	if (n < 0)
		return -EINVAL;
	if (!(ac = store__cl_cmd(c)))
		return store__redis_ready(store__redis_of(s)) ? -ENOBUFS : 0;
	hset[0] = str_cstr("HSET");
	hset[1] = str_cstr(c->k_reg);
	hset[2] = b->token;
	hset[3] = str_make(rec, (size_t)n);
	if (send_args(c, ac, store__cl_on_reply, hset, 4))
		return -EIO;
	/* Published with the next 20 ms tick (store_cpub.c). */
	rc = store__cpub_put(c->pub, msg3(msg, 'B', hset[3], STR_NULL));
	if (rc)
		return rc;
	c->st.bindings_out++;
	return 0;
}

int store_binding_del(struct store *s, struct str token)
{
	struct store_cluster *c = s ? CL(s) : NULL;
	char msg[STORE_INSTANCE_MAX + STORE_TOKEN_MAX + 8];
	struct str hdel[3];
	redisAsyncContext *ac;

	if (!s || !store_token_valid(token))
		return -EINVAL;
	if (!c)
		return 0;
	if (!(ac = store__cl_cmd(c)))
		return store__redis_ready(store__redis_of(s)) ? -ENOBUFS : 0;
	hdel[0] = str_cstr("HDEL");
	hdel[1] = str_cstr(c->k_reg);
	hdel[2] = token;
	if (send_args(c, ac, store__cl_on_reply, hdel, 3))
		return -EIO;
	return store__cpub_put(c->pub, msg3(msg, 'U', str_cstr(c->me), token));
}

/* ---------------------------------------------------------- snapshots */

static void on_snap_put(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_redis *r = ac->data;
	redisReply *rep = reply;

	store__cl_on_reply(ac, reply, priv);
	if (r && rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1)
		store__cluster(store__redis_store(r))->st.snaps++;
}

static void on_snap_del(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_redis *r = ac->data;
	redisReply *rep = reply;
	struct store_cluster *c;

	store__cl_on_reply(ac, reply, priv);
	if (!r || !rep || rep->type != REDIS_REPLY_INTEGER || rep->integer != 1)
		return;
	c = store__cluster(store__redis_store(r));
	if (c->st.snaps)
		c->st.snaps--;
}

bool store__cl_dkey_valid(struct str k)
{
	return k.len < STORE_DKEY_MAX && store_token_valid(k);
}

int store_snap_put(struct store *s, struct str key, const struct store_snap *sn)
{
	struct store_cluster *c = s ? CL(s) : NULL;
	char rec[STORE_SNAP_MAX];
	struct str argv[4];
	redisAsyncContext *ac;
	int n;

	if (!s || !sn || !store__cl_dkey_valid(key))
		return -EINVAL;
	if (!c)
		return 0;
	if (c->st.snaps >= c->max_snaps) {
		c->st.snaps_refused++;
		return -ENOBUFS;
	}
	n = store_snap_encode(rec, sizeof(rec), sn);
	if (n < 0)
		return n;
	if (!(ac = store__cl_cmd(c)))
		return store__redis_ready(store__redis_of(s)) ? -ENOBUFS : 0;
	argv[0] = str_cstr("HSET");
	argv[1] = str_cstr(c->k_dlg);
	argv[2] = key;
	argv[3] = str_make(rec, (size_t)n);
	if (send_args(c, ac, on_snap_put, argv, 4))
		return -EIO;
	c->st.snaps_out++;
	return 0;
}

int store_snap_del(struct store *s, struct str key)
{
	struct store_cluster *c = s ? CL(s) : NULL;
	struct str argv[3];
	redisAsyncContext *ac;

	if (!s || !store__cl_dkey_valid(key))
		return -EINVAL;
	if (!c)
		return 0;
	if (!(ac = store__cl_cmd(c)))
		return store__redis_ready(store__redis_of(s)) ? -ENOBUFS : 0;
	argv[0] = str_cstr("HDEL");
	argv[1] = str_cstr(c->k_dlg);
	argv[2] = key;
	return send_args(c, ac, on_snap_del, argv, 3);
}

/* ------------------------------------------------ channel and resync */

void store__cluster_msg(struct store *s, struct str body)
{
	struct store_cluster *c = CL(s);
	struct store_cmsg m;
	char name[STORE_INSTANCE_MAX];

	if (!c)
		return;
	/* Every PUBLISH comes back to its sender too: ours (a binding a
	 * call in the bench) are dropped before decoding the record. */
	if (store_cmsg_from(body, str_cstr(c->me)))
		return;
	if (store_cmsg_parse(&m, body) != 0) {
		c->st.bad_records++;
		LOG_RL(LOG_LVL_WARN, "store: bad message on %s, ignored",
		       c->k_chan);
		return;
	}
	if (str_eq_cstr(m.origin, c->me))
		return;
	if (m.kind == 'B')
		rb_put(c, &m.b);
	else if (m.kind == 'U')
		rb_del(c, m.name);
	else if (str_eq_cstr(m.name, c->me))
		/* Taken over while stalled, our connection up: our state
		 * in Redis is gone, write it again and end what was taken. */
		store__cluster_ready(s);
	else {
		snprintf(name, sizeof(name), "%.*s", (int)m.name.len, m.name.p);
		store__cl_rb_drop(c, name);
	}
}

/* One other instance's bindings, for the replica. */
static void on_reg_table(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_cluster *c = store__cl_replied(ac);
	redisReply *rep = reply;
	uint64_t wall = store__wall_ms();
	size_t i;

	(void)priv;
	if (!c || !rep || rep->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i + 1 < rep->elements; i += 2)
		rb_record(c, rep->element[i + 1], wall);
}

bool store__cl_member_ok(struct store_cluster *c, const redisReply *e)
{
	return e->type == REDIS_REPLY_STRING &&
	       store_instance_valid(str_make(e->str, e->len)) &&
	       !str_eq_cstr(str_make(e->str, e->len), c->me);
}

static void on_members_load(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_cluster *c = store__cl_replied(ac);
	struct store_redis *r = ac->data;
	redisReply *rep = reply;
	char k[CL_KEY_MAX];
	size_t i;

	(void)priv;
	if (!c || !rep || rep->type != REDIS_REPLY_ARRAY ||
	    !store__redis_cmd(r))
		return;
	for (i = 0; i < rep->elements; i++) {
		const redisReply *e = rep->element[i];

		if (!store__cl_member_ok(c, e))
			continue;
		store__cl_key(c, k, sizeof(k),
			      "reg:", str_make(e->str, e->len));
		(void)store__cl_sent(c, redisAsyncCommand(store__redis_cmd(r),
							  on_reg_table, NULL,
							  "HGETALL %s", k));
	}
}

/* READY (first time or after an outage): our state again, theirs anew. */
void store__cluster_ready(struct store *s)
{
	struct store_cluster *c = CL(s);
	redisAsyncContext *ac;

	if (!c)
		return;
	c->ready_at = loop_now(c->l);
	c->resyncing = true;
	ac = store__cl_cmd(c);
	if (ac) {
		(void)store__cl_sent(
			c, redisAsyncCommand(ac, store__cl_on_reply, NULL,
					     "DEL %s %s", c->k_reg, c->k_dlg));
		(void)store__cl_sent(
			c, redisAsyncCommand(ac, store__cl_on_reply, NULL,
					     "SADD %s %s", c->k_insts, c->me));
		c->st.snaps = 0;
		if (c->ev.resync)
			c->ev.resync(c->ev.arg);
		store__cl_rb_drop(c, NULL);
		(void)store__cl_sent(c, redisAsyncCommand(ac, on_members_load,
							  NULL, "SMEMBERS %s",
							  c->k_insts));
		/* After the resync on the same connection: the taken
		 * dialogs' snapshots, just written again, are deleted when
		 * the proxy ends them. */
		store__cl_taken_read(c, ac);
	}
	c->resyncing = false;
}

void store__cluster_down(struct store *s)
{
	struct store_cluster *c = CL(s);

	if (c) {
		c->ready_at = 0;
		c->scanning = false;
		store__cpub_drop(c->pub);
	}
}

/* -------------------------------------------------------- startup load */

int store__cluster_load(struct store *s)
{
	struct store_cluster *c = CL(s);
	redisContext *rc;
	redisReply *mem = NULL, *rep;
	uint64_t wall = store__wall_ms();
	char k[CL_KEY_MAX];
	size_t i, j;

	if (!c)
		return 0;
	rc = store__redis_sync(store__redis_of(s));
	if (!rc)
		return -EIO;
	mem = redisCommand(rc, "SMEMBERS %s", c->k_insts);
	for (i = 0; mem && mem->type == REDIS_REPLY_ARRAY && i < mem->elements;
	     i++) {
		const redisReply *e = mem->element[i];

		if (!store__cl_member_ok(c, e))
			continue;
		store__cl_key(c, k, sizeof(k),
			      "reg:", str_make(e->str, e->len));
		rep = redisCommand(rc, "HGETALL %s", k);
		for (j = 0; rep && rep->type == REDIS_REPLY_ARRAY &&
			    j + 1 < rep->elements;
		     j += 2)
			rb_record(c, rep->element[j + 1], wall);
		if (rep)
			freeReplyObject(rep);
	}
	if (mem)
		freeReplyObject(mem);
	redisFree(rc);
	log_info("store: %zu bindings of other instances loaded", c->nbind);
	return (int)c->nbind;
}

/* ------------------------------------------------------------ lifetime */

int store__cluster_new(struct store_cluster **cp, struct store *s,
		       struct loop *l, const struct store_conf *conf,
		       const char *me)
{
	struct store_cluster *c = mem_zalloc(sizeof(*c));
	size_t nb = CL_BUCKETS_MIN;

	if (!c)
		return -ENOMEM;
	/* About four bindings per bucket when the replica is full. */
	while (nb < CL_BUCKETS_MAX && nb * 4 < conf->max_bindings)
		nb <<= 1;
	if (htab_init(&c->h, nb) != 0) {
		mem_free(c);
		return -ENOMEM;
	}
	c->s = s;
	c->l = l;
	snprintf(c->prefix, sizeof(c->prefix), "%s",
		 conf->key_prefix ? conf->key_prefix : "");
	snprintf(c->me, sizeof(c->me), "%s", me);
	store__cl_key(c, c->k_insts, sizeof(c->k_insts), "insts",
		      str_make("", 0));
	store__cl_key(c, c->k_reg, sizeof(c->k_reg), "reg:", str_cstr(me));
	store__cl_key(c, c->k_dlg, sizeof(c->k_dlg), "dlg:", str_cstr(me));
	store__cl_key(c, c->k_taken, sizeof(c->k_taken),
		      "taken:", str_cstr(me));
	store__cl_key(c, c->k_chan, sizeof(c->k_chan), "regs", str_make("", 0));
	if (store__cpub_new(&c->pub, s, l, c->k_chan) != 0) {
		htab_fini(&c->h);
		mem_free(c);
		return -ENOMEM;
	}
	c->max_snaps = conf->max_snapshots ? conf->max_snapshots : 1;
	c->max_binds = conf->max_bindings ? conf->max_bindings : 1;
	*cp = c;
	return 0;
}

void store__cluster_free(struct store_cluster *c)
{
	if (!c)
		return;
	store__cl_rb_drop(c, NULL);
	htab_fini(&c->h);
	store__cpub_free(c->pub);
	mem_free(c);
}

const char *store__cluster_chan(const struct store_cluster *c)
{
	return c->k_chan;
}

void store_set_cluster_events(struct store *s,
			      const struct store_cluster_events *ev)
{
	struct store_cluster *c = s ? CL(s) : NULL;

	if (c && ev)
		c->ev = *ev;
}

void store_get_cluster_stats(const struct store *s,
			     struct store_cluster_stats *st)
{
	const struct store_cluster *c = s ? store__cluster_c(s) : NULL;

	memset(st, 0, sizeof(*st));
	if (c)
		*st = c->st;
}
