/*
 * store.c - the store's one interface (store.h) over its two backends:
 * the memory table, which always runs and is this instance's view, and
 * Redis, which (when configured and reachable) is the cluster's.
 *
 * Counters and rates are applied to the memory table first, then sent to
 * Redis; Redis' answer is authoritative when it comes.  When Redis cannot
 * answer (down, queue full, connection lost with the command in flight)
 * the local answer is given instead and counted as a fallback, so the
 * caller always gets an answer and never waits on an outage.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"

/* Owner: whoever called store_new() (the daemon). */
struct store {
	struct loop *l;
	enum store_backend backend;
	char instance[STORE_INSTANCE_MAX];
	struct store_mem *mem;
	struct store_redis *redis; /* NULL: memory backend */
	struct store_cluster *cl;  /* bindings, snapshots; NULL: memory */
	struct store_events ev;
	void (*count_resync)(void *arg);
	void *count_arg;
	struct store_stats st;
	bool freeing;
	bool has_ukey; /* store_user_key() */
	uint8_t ukey[STORE_USER_KEY_LEN];
	bool has_pkey; /* store_public_key() */
	uint8_t pkey[STORE_USER_KEY_LEN];
};

/* A counter call in flight to Redis, with its local answer. */
struct sop {
	struct store *s;
	store_count_fn *cb;
	void *arg;
	int local_rc;
	int64_t local_val;
	int64_t limit; /* rate: applied to Redis' estimate */
	bool rate;
	/* count: undo the local change if Redis refuses */
	int64_t delta;
	uint64_t ttl_ms;
	uint8_t klen;
	char key[STORE_CKEY_MAX];
};

void store_conf_default(struct store_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->backend = STORE_MEMORY;
	c->address = "127.0.0.1:6379";
	c->password = "";
	c->key_prefix = "sipguard:";
	c->instance = "";
	c->queue_max = 10000;
	c->timeout_ms = 1000;
	c->reconnect_max_ms = 10000;
	c->read_coalesce_ms = 2;
	c->counters = 65536;
	c->max_snapshots = 100000;
	c->max_bindings = 100000;
	c->tls_ca = c->tls_cert = c->tls_key = c->tls_server_name = "";
	c->run_uid = c->run_gid = -1;
}

void store_conf_from(struct store_conf *c, const struct sg_conf_store *sc)
{
	store_conf_default(c);
	c->backend = sc->backend;
	c->address = sc->address;
	c->password = sc->password;
	c->key_prefix = sc->key_prefix;
	c->instance = sc->instance;
	c->queue_max = (uint32_t)sc->queue_max;
	c->timeout_ms = (uint64_t)sc->timeout;
	c->reconnect_max_ms = (uint64_t)sc->reconnect_max;
	c->read_coalesce_ms = (uint64_t)sc->read_coalesce;
	c->counters = (uint32_t)sc->counters;
	c->max_snapshots = (uint32_t)sc->max_snapshots;
	c->max_bindings = (uint32_t)sc->max_bindings;
	c->secret = sc->secret;
	c->tls = sc->tls;
	c->tls_ca = sc->tls_ca;
	c->tls_cert = sc->tls_cert;
	c->tls_key = sc->tls_key;
	c->tls_server_name = sc->tls_server_name;
}

static int pick_instance(struct store *s, const char *name, char *err,
			 size_t errsz)
{
	uint8_t rnd[6];

	if (name && *name) {
		if (!store_instance_valid(str_cstr(name))) {
			snprintf(err, errsz,
				 "store.instance '%s': 1-31 of "
				 "A-Z a-z 0-9 . _ -",
				 name);
			return -EINVAL;
		}
		snprintf(s->instance, sizeof(s->instance), "%s", name);
		return 0;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	snprintf(s->instance, sizeof(s->instance),
		 "sg-%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
		 rnd[4], rnd[5]);
	return 0;
}

int store_new(struct store **sp, struct loop *l, const struct store_conf *c,
	      char *err, size_t errsz)
{
	struct store *s;
	struct store_conf cc;
	int rc;

	if (!sp || !l || !c)
		return -EINVAL;
	*sp = NULL;
	if (c->backend != STORE_MEMORY && c->backend != STORE_REDIS) {
		snprintf(err, errsz, "store.backend: unknown");
		return -EINVAL;
	}
	s = mem_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->l = l;
	s->backend = (enum store_backend)c->backend;
	rc = pick_instance(s, c->instance, err, errsz);
	if (rc)
		goto fail;
	rc = store__mem_new(&s->mem, c->counters);
	if (rc)
		goto fail;
	if (s->backend == STORE_REDIS) {
		cc = *c;
		cc.instance = s->instance;
		rc = store__cluster_new(&s->cl, s, l, &cc, s->instance);
		if (rc)
			goto fail;
		rc = store__redis_new(&s->redis, s, l, &cc, err, errsz);
		if (rc)
			goto fail;
		s->has_ukey =
			store__user_key(s->ukey,
					c->secret && *c->secret ? c->secret
								: c->password,
					c->key_prefix) == 0;
		s->has_pkey = store__user_key(s->pkey, STORE_PUBLIC_SECRET,
					      c->key_prefix) == 0;
	}
	*sp = s;
	return 0;
fail:
	store_free(s);
	return rc;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	s->freeing = true;
	store__redis_free(s->redis);
	store__cluster_free(s->cl);
	store__mem_free(s->mem);
	mem_secclean(s->ukey, sizeof(s->ukey));
	mem_free(s);
}

void store_set_events(struct store *s, const struct store_events *ev)
{
	if (s && ev)
		s->ev = *ev;
}

void store_set_count_resync(struct store *s, void (*fn)(void *arg), void *arg)
{
	if (!s)
		return;
	s->count_resync = fn;
	s->count_arg = arg;
}

void store__count_resync(struct store *s)
{
	if (s->count_resync)
		s->count_resync(s->count_arg);
}

const char *store_instance(const struct store *s)
{
	return s->instance;
}

enum store_backend store_backend_of(const struct store *s)
{
	return s->backend;
}

const struct store_events *store__events(const struct store *s)
{
	return &s->ev;
}

struct store_stats *store__stats(struct store *s)
{
	return &s->st;
}

int store_load(struct store *s)
{
	int rc;

	if (!s || !s->redis)
		return 0;
	rc = store__redis_load(s->redis);
	if (rc >= 0)
		(void)store__cluster_load(s);
	return rc;
}

struct store_cluster *store__cluster(struct store *s)
{
	return s->cl;
}

const struct store_cluster *store__cluster_c(const struct store *s)
{
	return s->cl;
}

struct store_redis *store__redis_of(struct store *s)
{
	return s->redis;
}

struct store_mem *store__mem_of(struct store *s)
{
	return s->mem;
}

uint64_t store__now(const struct store *s)
{
	return loop_now(s->l);
}

bool store__freeing(const struct store *s)
{
	return s->freeing;
}

const char *store__cluster_chan_of(struct store *s)
{
	return store__cluster_chan(s->cl);
}

int store_start(struct store *s)
{
	return s && s->redis ? store__redis_start(s->redis) : 0;
}

bool store_connected(const struct store *s)
{
	return s && store__redis_ready(s->redis);
}

int store_ban_put(struct store *s, const struct store_ban *b)
{
	if (!s || !b)
		return -EINVAL;
	return s->redis ? store__redis_ban_put(s->redis, b) : 0;
}

int store_ban_del(struct store *s, const char *key)
{
	if (!s || !key)
		return -EINVAL;
	return s->redis ? store__redis_ban_del(s->redis, key) : 0;
}

/* Redis answered (or could not): reconcile with the local view. */
static void sop_done(void *arg, int rc, int64_t value)
{
	struct sop *op = arg;
	struct store *s = op->s;
	int64_t ignored;

	if (s->freeing) {
		rc = -ECANCELED;
		value = 0;
	} else if (rc == -EAGAIN) {
		s->st.fallbacks++;
		rc = op->local_rc;
		value = op->local_val;
	} else if (op->rate) {
		rc = op->limit > 0 && value > op->limit ? -EDQUOT : 0;
	} else if (rc == -EDQUOT && op->local_rc == 0) {
		/* The cluster refused what this instance allowed: undo. */
		(void)store__mem_count(s->mem, str_make(op->key, op->klen),
				       -op->delta, 0, op->ttl_ms,
				       loop_now(s->l), &ignored);
	}
	if (op->cb)
		op->cb(op->arg, rc, value);
	mem_free(op);
}

static struct sop *sop_new(struct store *s, struct str key, store_count_fn *cb,
			   void *arg)
{
	struct sop *op = mem_zalloc(sizeof(*op));

	if (!op)
		return NULL;
	op->s = s;
	op->cb = cb;
	op->arg = arg;
	op->klen = (uint8_t)key.len;
	memcpy(op->key, key.p, key.len);
	return op;
}

int store_count_add(struct store *s, struct str key, int64_t delta,
		    int64_t limit, uint64_t ttl_ms, store_count_fn *cb,
		    void *arg)
{
	struct sop *op;
	int64_t v = 0;
	int rc;

	if (!s || !key.p || key.len == 0 || key.len > STORE_CKEY_MAX ||
	    limit < 0)
		return -EINVAL;
	rc = store__mem_count(s->mem, key, delta, limit, ttl_ms, loop_now(s->l),
			      &v);
	if (rc == -EINVAL)
		return rc;
	/* A local refusal stands: the cluster holds at least our share. */
	if (!s->redis || !store__redis_ready(s->redis) ||
	    (rc == -EDQUOT && delta > 0) || !(op = sop_new(s, key, cb, arg))) {
		if (s->redis)
			s->st.fallbacks += !store__redis_ready(s->redis);
		if (cb)
			cb(arg, rc, v);
		return 0;
	}
	op->local_rc = rc;
	op->local_val = v;
	op->delta = delta;
	op->ttl_ms = ttl_ms;
	if (store__redis_count(s->redis, key, delta, limit, ttl_ms, sop_done,
			       op) != 0)
		sop_done(op, -EAGAIN, 0);
	return 0;
}

int store_rate_hit(struct store *s, struct str key, uint64_t window_ms,
		   uint32_t n, int64_t limit, store_count_fn *cb, void *arg)
{
	struct sop *op;
	int64_t v = 0;
	int rc;

	if (!s || !key.p || key.len == 0 || key.len > STORE_CKEY_MAX ||
	    window_ms == 0 || limit < 0)
		return -EINVAL;
	rc = store__mem_rate(s->mem, key, window_ms, n, limit, loop_now(s->l),
			     &v);
	if (!s->redis || !store__redis_ready(s->redis) ||
	    !(op = sop_new(s, key, cb, arg))) {
		if (s->redis)
			s->st.fallbacks++;
		if (cb)
			cb(arg, rc, v);
		return 0;
	}
	op->local_rc = rc;
	op->local_val = v;
	op->rate = true;
	op->limit = limit;
	if (store__redis_rate(s->redis, key, window_ms, n, limit, sop_done,
			      op) != 0)
		sop_done(op, -EAGAIN, 0);
	return 0;
}

int store_rate_take(struct store *s, struct str key, uint64_t window_ms,
		    uint32_t n, uint64_t age_ms)
{
	if (!s || !key.p || key.len == 0 || key.len > STORE_CKEY_MAX ||
	    window_ms == 0)
		return -EINVAL;
	(void)store__mem_rate_take(s->mem, key, window_ms, n, age_ms,
				   loop_now(s->l));
	if (n && s->redis && store__redis_ready(s->redis))
		(void)store__redis_rate_take(s->redis, key, window_ms, n,
					     age_ms);
	return 0;
}

int store_tls_reload(struct store *s)
{
	char err[320] = "", info[128] = "";
	int rc;

	if (!s || !s->redis || !s->redis->tls)
		return 0;
	rc = store__tls_reload(s->redis->tls, info, sizeof(info), err,
			       sizeof(err));
	if (rc)
		log_err("store: tls reload refused, keeping the running "
			"certificates: %s",
			err);
	else
		log_info("store: tls files reloaded, %s: the next connection "
			 "to redis at %s uses them",
			 info, store__tls_target(s->redis->tls));
	return rc;
}

int store_user_key(const struct store *s, uint8_t key[STORE_USER_KEY_LEN])
{
	if (!s || !s->has_ukey)
		return -ENOKEY;
	memcpy(key, s->ukey, STORE_USER_KEY_LEN);
	return 0;
}

int store_public_key(const struct store *s, uint8_t key[STORE_USER_KEY_LEN])
{
	if (!s || !s->has_pkey)
		return -ENOKEY;
	memcpy(key, s->pkey, STORE_USER_KEY_LEN);
	return 0;
}

void store_get_stats(const struct store *s, struct store_stats *st)
{
	*st = s->st;
	st->connected = store_connected(s);
	st->inflight = 0;
}
