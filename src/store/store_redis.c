/*
 * store_redis.c - the Redis backend's connections: connect, AUTH,
 * SUBSCRIBE, the heartbeat and liveness probe, reconnection with backoff,
 * the blocking startup load, and the backend's lifetime.  Shared bans
 * (and the resync at READY) are in store_redis_ban.c, counters and rates
 * in store_redis_count.c, command batching on our event loop in
 * store_loop.c, TLS (store.tls) in store_tls.c: hiredis then connects to
 * that tunnel's unix socket, and a failed handshake is a closed
 * connection like any other.  This comment describes the backend as a whole.
 *
 * Two connections: "cmd" for commands and "sub" subscribed to the bans
 * channel (a subscribed connection can do nothing else).  Redis keys, all
 * under key_prefix P:
 *   P bans          hash: ban key -> record (store_codec.c)
 *   P bans          channel: "B|U ORIGIN KEY [RECORD]" messages
 *   P cnt:KEY       hash: INSTANCE@EPOCH -> its share of a concurrent count
 *   P rate:KEY:N    the N-th fixed window of a sliding-window rate
 *   P inst:NAME     this instance's heartbeat (SET ... PX)
 *   P inst:NAME@EPOCH  the same for this connection's counter shares
 *
 * States: DOWN (retry timer armed, backoff doubling from 100 ms to
 * reconnect_max), CONNECTING (both contexts created, AUTH and SUBSCRIBE
 * sent; a timer gives up after timeout), READY (both answered).  Any
 * failure drops both connections at a safe point (a zero timer, never
 * from inside a hiredis callback) and goes DOWN; the loss is logged once
 * per outage, the return once.  On READY: queued unbans are sent, every
 * local ban is pushed again (the owner's resync callback), then the
 * shared table is read: the merge of both sides, in that order on one
 * connection, so every instance converges.
 *
 * A heartbeat (which is also the liveness probe) runs every second; a
 * probe unanswered for timeout ms counts as a failure (Redis stopped or
 * the network dropped, with no RST to tell us).
 *
 * Counter shares are owned by a connection, not by the instance: each
 * READY starts a new epoch (INSTANCE@EPOCH, random start), whose own
 * heartbeat key makes its shares count.  The shares of a lost
 * connection (changes Redis missed while it was down, a Redis that lost
 * its data, a restarted instance of the same name) stop counting when
 * that epoch's key lapses, and the owner pushes its counts in progress
 * again under the new epoch (store__count_resync).
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"

static uint64_t wall_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *where(const struct store_redis *r, char *buf, size_t sz)
{
	if (r->tls)
		snprintf(buf, sz, "%s", store__tls_target(r->tls));
	else if (r->port)
		snprintf(buf, sz, "%s:%d", r->host, r->port);
	else
		snprintf(buf, sz, "unix:%s", r->host);
	return buf;
}

/* --------------------------------------------------- connection state */

static void on_reap(void *arg);
static void on_retry(void *arg);
static void on_ping(void *arg);

static void fail(struct store_redis *r, const char *why)
{
	char w[HOST_MAX + 16];

	if (r->state == R_DOWN || r->freeing)
		return;
	if (r->state == R_READY)
		store__stats(r->s)->disconnects++;
	if (!r->down_logged)
		log_warn("store: redis at %s unreachable (%s): protecting with "
			 "local state, reconnecting with backoff",
			 where(r, w, sizeof(w)), why ? why : "error");
	r->down_logged = true;
	r->state = R_DOWN;
	store__stats(r->s)->connected = false;
	store__cluster_down(r->s);
	tmr_cancel(&r->ping);
	tmr_cancel(&r->conn_to);
	/* Free the contexts outside hiredis' callbacks. */
	tmr_start(loop_timers(r->l), &r->reap, 0, on_reap, r);
}

static void drop_contexts(struct store_redis *r)
{
	redisAsyncContext *c = r->cmd, *s = r->sub;

	r->cmd = r->sub = NULL;
	store__redis_count_drop(r);
	if (c)
		redisAsyncFree(c);
	if (s)
		redisAsyncFree(s);
	r->inflight = 0;
	r->ping_out = false;
}

static void on_reap(void *arg)
{
	struct store_redis *r = arg;

	drop_contexts(r);
	if (r->state != R_DOWN)
		return;
	tmr_start(loop_timers(r->l), &r->retry, r->backoff_ms, on_retry, r);
	r->backoff_ms = r->backoff_ms * 2 > r->reconnect_max_ms
				? r->reconnect_max_ms
				: r->backoff_ms * 2;
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct store_redis *r = ac->data;

	(void)status;
	if (!r)
		return;
	if (ac == r->cmd)
		r->cmd = NULL;
	else if (ac == r->sub)
		r->sub = NULL;
	else
		return; /* one we dropped ourselves */
	fail(r, ac->errstr[0] ? ac->errstr : "connection closed");
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct store_redis *r = ac->data;

	if (status != REDIS_OK && r) {
		if (ac == r->cmd)
			r->cmd = NULL; /* hiredis frees it after this */
		else if (ac == r->sub)
			r->sub = NULL;
		fail(r, ac->errstr[0] ? ac->errstr : "connect failed");
	}
}

static int beat(struct store_redis *r);

static void maybe_ready(struct store_redis *r)
{
	char w[HOST_MAX + 16];

	if (r->state != R_CONNECTING || !r->cmd_ok || !r->sub_ok)
		return;
	r->state = R_READY;
	tmr_cancel(&r->conn_to);
	r->backoff_ms = BACKOFF_MIN_MS;
	store__stats(r->s)->connects++;
	store__stats(r->s)->connected = true;
	log_info("store: redis at %s %s", where(r, w, sizeof(w)),
		 r->down_logged ? "is back: resynchronising" : "connected");
	r->down_logged = false;
	/* A new epoch: the last connection's counter shares lapse. */
	snprintf(r->share_id, sizeof(r->share_id), "%s@%08x", r->instance,
		 ++r->epoch);
	/* The counters' script first (its EVALSHAs follow it), then the
	 * heartbeat: our share of the counters counts from now. */
	if (store__redis_count_ready(r) != 0 || beat(r) != 0) {
		fail(r, "cannot send");
		return;
	}
	store__redis_resync(r);
	store__count_resync(r->s);
	store__cluster_ready(r->s);
	tmr_start(loop_timers(r->l), &r->ping, PING_MS, on_ping, r);
}

/* Replies that only need to be counted (and checked for errors). */
void store__redis_on_plain(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_redis *r = ac->data;
	redisReply *rep = reply;

	(void)priv;
	if (!r)
		return;
	if (r->inflight)
		r->inflight--;
	if (rep && rep->type == REDIS_REPLY_ERROR)
		LOG_RL(LOG_LVL_WARN, "store: redis error: %.*s",
		       (int)(rep->len > 200 ? 200 : rep->len), rep->str);
}

static void on_hello(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_redis *r = ac->data;
	redisReply *rep = reply;

	(void)priv;
	if (!r || !rep)
		return;
	if (rep->type == REDIS_REPLY_ERROR) {
		fail(r, rep->str);
		return;
	}
	r->cmd_ok = true;
	maybe_ready(r);
}

static void on_auth(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_redis *r = ac->data;
	redisReply *rep = reply;

	(void)priv;
	if (r && rep && rep->type == REDIS_REPLY_ERROR)
		fail(r, "AUTH refused");
}

void store__redis_sub_ok(struct store_redis *r)
{
	r->sub_ok = true;
	maybe_ready(r);
}

/* ------------------------------------------------- connect, heartbeat */

static void on_beat(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_redis *r = ac->data;

	(void)priv;
	if (!r)
		return;
	if (r->inflight)
		r->inflight--;
	if (reply)
		r->ping_out = false;
}

static int beat(struct store_redis *r)
{
	char k[sizeof(r->k_inst) + sizeof(r->share_id)];
	uint64_t ttl = 3 * r->timeout_ms < 3000 ? 3000 : 3 * r->timeout_ms;

	snprintf(k, sizeof(k), "%s%s", r->k_inst, r->instance);
	if (redisAsyncCommand(r->cmd, on_beat, NULL, "SET %s 1 PX %llu", k,
			      (unsigned long long)ttl) != REDIS_OK)
		return -EIO;
	r->inflight++;
	r->ping_out = true;
	r->ping_sent = loop_now(r->l);
	snprintf(k, sizeof(k), "%s%s", r->k_inst, r->share_id);
	if (redisAsyncCommand(r->cmd, store__redis_on_plain, NULL,
			      "SET %s 1 PX %llu", k,
			      (unsigned long long)ttl) != REDIS_OK)
		return -EIO;
	r->inflight++;
	return 0;
}

static void on_ping(void *arg)
{
	struct store_redis *r = arg;

	if (r->state != R_READY || !r->cmd)
		return;
	if (r->ping_out) {
		if (loop_now(r->l) - r->ping_sent >= r->timeout_ms)
			fail(r, "no reply");
		else
			tmr_start(loop_timers(r->l), &r->ping, 100, on_ping, r);
		return;
	}
	if (r->resync_due && r->inflight < r->queue_max / 2)
		store__redis_resync(r);
	if (beat(r) != 0) {
		fail(r, "cannot send");
		return;
	}
	store__cluster_tick(r->s);
	tmr_start(loop_timers(r->l), &r->ping, PING_MS, on_ping, r);
}

static void on_conn_timeout(void *arg)
{
	struct store_redis *r = arg;

	if (r->state == R_CONNECTING)
		fail(r, "connect timeout");
}

static redisAsyncContext *open_one(struct store_redis *r)
{
	/* store.tls: plain RESP to our tunnel (store_tls.c). */
	redisAsyncContext *ac =
		r->tls    ? redisAsyncConnectUnix(store__tls_path(r->tls))
		: r->port ? redisAsyncConnect(r->host, r->port)
			  : redisAsyncConnectUnix(r->host);

	if (!ac)
		return NULL;
	if (ac->err || store__loop_attach(ac, r->l) != 0) {
		redisAsyncFree(ac);
		return NULL;
	}
	ac->data = r;
	store__reply_use(ac);
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	if (r->password[0])
		(void)redisAsyncCommand(ac, on_auth, NULL, "AUTH %s",
					r->password);
	return ac;
}

static void on_retry(void *arg)
{
	struct store_redis *r = arg;

	r->state = R_CONNECTING;
	r->cmd_ok = r->sub_ok = false;
	r->cmd = open_one(r);
	r->sub = r->cmd ? open_one(r) : NULL;
	if (!r->cmd || !r->sub) {
		fail(r, "cannot create a connection");
		return;
	}
	tmr_start(loop_timers(r->l), &r->conn_to, r->timeout_ms,
		  on_conn_timeout, r);
	/* Pipelined behind AUTH: answered once the connection is up. */
	if (redisAsyncCommand(r->cmd, on_hello, NULL, "PING") != REDIS_OK ||
	    redisAsyncCommand(r->sub, store__redis_on_sub, NULL,
			      "SUBSCRIBE %s %s", r->k_bans,
			      store__cluster_chan_of(r->s)) != REDIS_OK)
		fail(r, "cannot send");
}

int store__redis_start(struct store_redis *r)
{
	on_retry(r);
	return 0;
}

bool store__redis_ready(const struct store_redis *r)
{
	return r && r->state == R_READY;
}

/* ------------------------------------------------------- startup load */

static redisContext *sync_connect(struct store_redis *r, struct timeval tv)
{
	if (r->tls)
		return redisConnectUnixWithTimeout(store__tls_path(r->tls), tv);
	return r->port ? redisConnectWithTimeout(r->host, r->port, tv)
		       : redisConnectUnixWithTimeout(r->host, tv);
}

/* The blocking read of the shared table, before the loop runs. */
int store__redis_load(struct store_redis *r)
{
	struct timeval tv = {
		.tv_sec = (time_t)(r->timeout_ms / 1000),
		.tv_usec = (suseconds_t)(r->timeout_ms % 1000) * 1000,
	};
	redisContext *c = sync_connect(r, tv);
	const struct store_events *ev = store__events(r->s);
	redisReply *rep = NULL;
	uint64_t wall = wall_now_ms();
	struct store_ban b;
	char w[HOST_MAX + 16];
	int n = 0, rc = -EIO;
	size_t i;

	if (!c || c->err || redisSetTimeout(c, tv) != REDIS_OK)
		goto out;
	if (r->password[0]) {
		rep = redisCommand(c, "AUTH %s", r->password);
		if (!rep || rep->type == REDIS_REPLY_ERROR) {
			rc = -EACCES;
			goto out;
		}
		freeReplyObject(rep);
	}
	rep = redisCommand(c, "HGETALL %s", r->k_bans);
	if (!rep || rep->type != REDIS_REPLY_ARRAY)
		goto out;
	for (i = 0; i + 1 < rep->elements; i += 2) {
		redisReply *k = rep->element[i], *v = rep->element[i + 1];

		if (k->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING ||
		    store_ban_decode(&b, str_make(k->str, k->len),
				     str_make(v->str, v->len)) != 0 ||
		    (b.expires_wall_ms && b.expires_wall_ms <= wall))
			continue;
		if (ev->ban)
			ev->ban(ev->arg, &b);
		n++;
	}
	rc = n;
out:
	if (rc < 0)
		log_warn("store: cannot load the shared bans from redis at %s "
			 "(%s): starting on local state, will resynchronise",
			 where(r, w, sizeof(w)),
			 c && c->err ? c->errstr : "no answer");
	else
		log_info("store: %d shared bans loaded from redis at %s", n,
			 where(r, w, sizeof(w)));
	if (rep)
		freeReplyObject(rep);
	if (c)
		redisFree(c);
	return rc;
}

/* ------------------------------------------------------------ lifetime */

/* "HOST:PORT", "[V6]:PORT" or "unix:PATH". */
static int parse_address(struct store_redis *r, const char *a, char *err,
			 size_t errsz)
{
	const char *colon;
	char *end = NULL;
	long port;

	if (!a || !*a)
		goto bad;
	if (!strncmp(a, "unix:", 5)) {
		if (snprintf(r->host, sizeof(r->host), "%s", a + 5) >=
			    (int)sizeof(r->host) ||
		    !r->host[0])
			goto bad;
		r->port = 0;
		return 0;
	}
	colon = strrchr(a, ':');
	if (!colon || colon == a)
		goto bad;
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 1 || port > 65535)
		goto bad;
	if (a[0] == '[') {
		if (colon[-1] != ']' || colon - a < 3)
			goto bad;
		snprintf(r->host, sizeof(r->host), "%.*s", (int)(colon - a - 2),
			 a + 1);
	} else {
		if ((size_t)(colon - a) >= sizeof(r->host))
			goto bad;
		snprintf(r->host, sizeof(r->host), "%.*s", (int)(colon - a), a);
	}
	r->port = (int)port;
	return 0;
bad:
	snprintf(err, errsz,
		 "store.address '%s': expected HOST:PORT, "
		 "[IPV6]:PORT or unix:PATH",
		 a ? a : "");
	return -EINVAL;
}

static int tls_open(struct store_redis *r, const struct store_conf *c,
		    char *err, size_t errsz)
{
	struct store_tls_conf tc = {
		.host = r->host,
		.port = r->port,
		.ca_file = c->tls_ca,
		.cert_file = c->tls_cert,
		.key_file = c->tls_key,
		.server_name = c->tls_server_name,
		.timeout_ms = r->timeout_ms,
		.run_uid = c->run_uid,
		.run_gid = c->run_gid,
	};

	if (!r->port) {
		snprintf(err, errsz, "store.tls: not with a unix: address");
		return -EINVAL;
	}
	return store__tls_new(&r->tls, &tc, err, errsz);
}

int store__redis_new(struct store_redis **rp, struct store *s, struct loop *l,
		     const struct store_conf *c, char *err, size_t errsz)
{
	struct store_redis *r = mem_zalloc(sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	r->s = s;
	r->l = l;
	rc = parse_address(r, c->address, err, errsz);
	if (rc)
		goto fail;
	rc = -EINVAL;
	if (snprintf(r->password, sizeof(r->password), "%s",
		     c->password ? c->password : "") >=
	    (int)sizeof(r->password)) {
		snprintf(err, errsz, "store.password: too long");
		goto fail;
	}
	snprintf(r->prefix, sizeof(r->prefix), "%s",
		 c->key_prefix ? c->key_prefix : "");
	snprintf(r->instance, sizeof(r->instance), "%s", c->instance);
	snprintf(r->k_bans, sizeof(r->k_bans), "%sbans", r->prefix);
	snprintf(r->k_inst, sizeof(r->k_inst), "%sinst:", r->prefix);
	if (getrandom(&r->epoch, sizeof(r->epoch), 0) !=
	    (ssize_t)sizeof(r->epoch))
		r->epoch = (uint32_t)wall_now_ms();
	r->queue_max = c->queue_max ? c->queue_max : 1;
	r->timeout_ms = c->timeout_ms ? c->timeout_ms : 1000;
	r->reconnect_max_ms = c->reconnect_max_ms > BACKOFF_MIN_MS
				      ? c->reconnect_max_ms
				      : BACKOFF_MIN_MS;
	r->backoff_ms = BACKOFF_MIN_MS;
	r->read_coalesce_ms = c->read_coalesce_ms;
	r->q = mem_zalloc((size_t)r->queue_max * sizeof(*r->q));
	if (!r->q) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = c->tls ? tls_open(r, c, err, errsz) : 0;
	if (rc)
		goto fail;
	*rp = r;
	return 0;
fail:
	store__redis_free(r);
	return rc;
}

void store__redis_free(struct store_redis *r)
{
	if (!r)
		return;
	r->freeing = true;
	tmr_cancel(&r->retry);
	tmr_cancel(&r->reap);
	tmr_cancel(&r->conn_to);
	tmr_cancel(&r->ping);
	drop_contexts(r);
	store__tls_free(r->tls);
	r->tls = NULL;
	mem_secclean(r->password, sizeof(r->password));
	mem_free(r->q);
	mem_free(r);
}

/* ------------------------------------ for store_cluster.c (issue 9) */

struct store *store__redis_store(const struct store_redis *r)
{
	return r->s;
}

redisAsyncContext *store__redis_cmd(struct store_redis *r)
{
	return r && r->state == R_READY ? r->cmd : NULL;
}

bool store__redis_room(const struct store_redis *r)
{
	return r->inflight < r->queue_max;
}

void store__redis_sent(struct store_redis *r)
{
	r->inflight++;
}

void store__redis_replied(struct store_redis *r)
{
	if (r->inflight)
		r->inflight--;
}

uint64_t store__redis_ttl(const struct store_redis *r)
{
	return 3 * r->timeout_ms < 3000 ? 3000 : 3 * r->timeout_ms;
}

uint64_t store__wall_ms(void)
{
	return wall_now_ms();
}

/* A blocking connection, authenticated, with timeout_ms for each step;
 * NULL when Redis cannot be reached.  Startup only. */
redisContext *store__redis_sync(struct store_redis *r)
{
	struct timeval tv = {
		.tv_sec = (time_t)(r->timeout_ms / 1000),
		.tv_usec = (suseconds_t)(r->timeout_ms % 1000) * 1000,
	};
	redisContext *c = sync_connect(r, tv);
	redisReply *rep;

	if (!c || c->err || redisSetTimeout(c, tv) != REDIS_OK)
		goto fail;
	if (r->password[0]) {
		rep = redisCommand(c, "AUTH %s", r->password);
		if (!rep || rep->type == REDIS_REPLY_ERROR) {
			if (rep)
				freeReplyObject(rep);
			goto fail;
		}
		freeReplyObject(rep);
	}
	return c;
fail:
	if (c)
		redisFree(c);
	return NULL;
}
