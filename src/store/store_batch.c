/*
 * store_batch.c - store_batch(): several counters and rates in one Redis
 * round trip (store.h).  Each operation is what store_count_add() or
 * store_rate_hit() does alone (store.c): applied to the memory table
 * first, a local refusal of an increment stands and is not sent, and
 * Redis' answer, when it comes, is authoritative; Redis down or the
 * batch not sendable: every operation gets its local answer, counted as
 * a fallback.  The difference is the cost: one script run, one command,
 * one reply and one allocation for the lot (store_redis_count.c), which
 * is what keeps the shared toll-fraud limits cheap per call
 * (bench/bench_store.py).
 */
#include "store/store_int.h"

#include <errno.h>
#include <string.h>

#include "core/mem.h"

/* A batch in flight to Redis, with its local answers.  Owner: the Redis
 * backend until it answers (bop_done). */
struct bop {
	struct store *s;
	store_batch_fn *cb;
	void *arg;
	uint8_t n;
	struct bent {
		int local_rc;
		int64_t local_val;
		int64_t delta, limit; /* the operation's */
		uint64_t ttl_ms;
		uint16_t koff;
		uint8_t klen;
		bool rate, sent;
	} e[STORE_BATCH_MAX];
	char keys[]; /* the counters' keys, for the undo */
};

static bool op_valid(const struct store_op *o)
{
	if (!o->key.p || o->key.len == 0 || o->key.len > STORE_CKEY_MAX ||
	    o->limit < 0)
		return false;
	if (o->kind == STORE_OP_COUNT)
		return true;
	return o->kind == STORE_OP_RATE && o->ms > 0 && o->n >= 0 &&
	       o->n <= UINT32_MAX;
}

/* One operation's answer from Redis' raw value v, reconciled with the
 * local view (as store.c's sop_done). */
static int reconcile(struct store *s, const struct bop *op,
		     const struct bent *e, int64_t *vp)
{
	int64_t ignored;

	if (e->rate)
		return e->limit > 0 && *vp > e->limit ? -EDQUOT : 0;
	if (*vp >= 0)
		return 0;
	*vp = -1 - *vp;
	/* The cluster refused what this instance allowed: undo. */
	if (e->local_rc == 0)
		(void)store__mem_count(
			store__mem_of(s), str_make(op->keys + e->koff, e->klen),
			-e->delta, 0, e->ttl_ms, store__now(s), &ignored);
	return -EDQUOT;
}

/* Every answer to op's owner: Redis' (rc 0, nv values for the operations
 * sent) or the local ones (rc -EAGAIN). */
static void finish(struct bop *op, int rc, const int64_t *vals, size_t nv)
{
	struct store *s = op->s;
	int rcs[STORE_BATCH_MAX];
	int64_t values[STORE_BATCH_MAX];
	size_t i, j = 0;

	for (i = 0; i < op->n; i++) {
		const struct bent *e = &op->e[i];

		rcs[i] = e->local_rc;
		values[i] = e->local_val;
		if (store__freeing(s)) {
			rcs[i] = -ECANCELED;
			values[i] = 0;
		} else if (!e->sent) {
			continue;
		} else if (rc || j >= nv) {
			store__stats(s)->fallbacks++;
		} else {
			values[i] = vals[j];
			rcs[i] = reconcile(s, op, e, &values[i]);
		}
		j += e->sent;
	}
	if (op->cb)
		op->cb(op->arg, rcs, values, op->n);
}

static void bop_done(void *arg, int rc, const int64_t *vals, size_t nv)
{
	struct bop *op = arg;

	finish(op, rc, vals, nv);
	mem_free(op);
}

/* The local change of each operation, into op; how many to send.
 * remote: no local view (STORE_BATCH_REMOTE): all of them. */
static size_t apply_local(struct store *s, struct bop *op,
			  const struct store_op *ops, bool remote)
{
	size_t i, nsend = 0, off = 0;

	for (i = 0; i < op->n; i++) {
		const struct store_op *o = &ops[i];
		struct bent *e = &op->e[i];

		e->rate = o->kind == STORE_OP_RATE;
		e->delta = o->n;
		e->limit = o->limit;
		e->ttl_ms = o->ms;
		e->koff = (uint16_t)off;
		e->klen = (uint8_t)o->key.len;
		memcpy(op->keys + off, o->key.p, o->key.len);
		off += o->key.len;
		if (remote) {
			e->local_rc = -EAGAIN;
			e->local_val = 0;
			e->sent = true;
			nsend++;
			continue;
		}
		e->local_rc = e->rate ? store__mem_rate(
						store__mem_of(s), o->key, o->ms,
						(uint32_t)o->n, o->limit,
						store__now(s), &e->local_val)
				      : store__mem_count(store__mem_of(s),
							 o->key, o->n, o->limit,
							 o->ms, store__now(s),
							 &e->local_val);
		/* A local refusal stands: the cluster holds at least our
		 * share. */
		e->sent = e->rate || !(e->local_rc == -EDQUOT && o->n > 0);
		nsend += e->sent;
	}
	return nsend;
}

/* Send op's operations that are to be sent, in one script run, from a
 * copy on the heap (owned by the Redis backend until it answers). */
static int send_redis(struct store *s, const struct bop *op, size_t size,
		      const struct store_op *ops, bool lazy)
{
	struct store__rop r[STORE_BATCH_MAX];
	struct bop *cp;
	size_t i, n = 0;

	for (i = 0; i < op->n; i++) {
		const struct store_op *o = &ops[i];

		if (!op->e[i].sent)
			continue;
		r[n++] = o->kind == STORE_OP_RATE
				 ? (struct store__rop){o->key, STORE__OP_RATE,
						       (int64_t)o->ms, o->n, 0}
				 : (struct store__rop){
					   o->key, STORE__OP_COUNT, o->n,
					   o->limit,
					   (int64_t)(o->ms ? o->ms : 1)};
	}
	cp = mem_alloc(size);
	if (!cp)
		return -ENOMEM;
	memcpy(cp, op, size);
	if (store__redis_batch(store__redis_of(s), r, n, lazy, bop_done, cp) !=
	    0) {
		mem_free(cp);
		return -EAGAIN;
	}
	return 0;
}

int store_batch(struct store *s, const struct store_op *ops, size_t n,
		unsigned flags, store_batch_fn *cb, void *arg)
{
	/* Built here; copied to the heap only to wait for Redis. */
	union {
		struct bop b;
		char room[sizeof(struct bop) +
			  STORE_BATCH_MAX * STORE_CKEY_MAX];
	} u;
	struct bop *op = &u.b;
	struct store_redis *rd;
	size_t i, keys = 0, nsend;

	if (!s || !ops || n == 0 || n > STORE_BATCH_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!op_valid(&ops[i]) ||
		    ((flags & STORE_BATCH_REMOTE) && ops[i].limit))
			return -EINVAL;
		keys += ops[i].key.len;
	}
	memset(op, 0, sizeof(*op));
	op->s = s;
	op->cb = cb;
	op->arg = arg;
	op->n = (uint8_t)n;
	nsend = apply_local(s, op, ops, (flags & STORE_BATCH_REMOTE) != 0);
	rd = store__redis_of(s);
	if (!rd) { /* the memory backend: its answers are the store's */
		for (i = 0; i < n; i++)
			op->e[i].sent = false;
		nsend = 0;
	}
	/* Not sent: answered here (Redis away: counted as fallbacks). */
	if (!nsend || !store__redis_ready(rd) ||
	    send_redis(s, op, sizeof(*op) + keys, ops,
		       (flags & STORE_BATCH_LAZY) != 0) != 0)
		finish(op, -EAGAIN, NULL, 0);
	return 0;
}
