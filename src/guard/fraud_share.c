/*
 * fraud_share.c - toll-fraud limits across sipguard instances (issue 9):
 * a user's concurrent calls and calls per minute counted in the store
 * (store.h: Redis when configured), so that a limit holds across the
 * cluster and not per instance.
 *
 * Semantics:
 *  - concurrent calls: store_count_add() on "fc:USER", +1 when a call
 *    starts, -1 when it ends.  Each instance's share is kept apart in
 *    Redis and counts only while that instance's heartbeat key lives
 *    (store_redis.c), so a dead instance's calls stop counting within
 *    3 x store.timeout (at least 3 s); the whole count expires
 *    FR_SHARE_TTL_MS after its last change.
 *  - calls per minute: store_rate_hit() on "fr:USER", one event per call
 *    started, Redis' sliding one-minute window (global across instances).
 *  - deciding: a new call is decided synchronously from the latest
 *    cluster view of its user.  The proxy asks first (fraud_prefetch):
 *    when the store is connected, it reads the user's two counters and
 *    the proxy holds the INVITE (src/proxy/fraudhold.c) until the answer
 *    is in, then processes it with a view at most one round trip old.
 *    Two calls of one user arriving within that round trip through two
 *    instances can both pass: the limit can be exceeded by at most one
 *    call per other instance in that window.
 *  - Redis down (store not connected): no hold, each instance enforces
 *    every limit on its own calls (closed per instance, never open).
 *    Shares belong to a connection (store.h, epochs): when Redis is
 *    back, the last connection's shares lapse with its heartbeat and
 *    every call still up is counted again (on_resync), so calls that
 *    started or ended during the outage, a Redis that lost its data and
 *    a restarted instance of the same name all converge.  The rate
 *    windows are not replayed: calls made during an outage are missing
 *    from the cluster's minute for at most a minute.
 *
 * The share object belongs to the guard and outlives fraud objects (a
 * reload swaps the policy, fraud_adopt): store callbacks find the fraud
 * object in force when they run.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "guard/fraud_int.h"
#include "store/store.h"

enum {
	FR_SHARE_TTL_MS = 24 * 3600 * 1000,	/* a count unchanged a day */
	FR_FRESH_MS = 2000,			/* a view older is not used */
	FR_KEY_MAX = 3 + 3 * FRAUD_USER_MAX + 1,
};

/* Owner: the guard (fraud_share_new/free). */
struct fraud_share {
	struct fraud *f;	/* the policy in force; NULL: none */
	struct store *s;	/* NULL: detached, local counts only */
	struct loop *l;
	fraud_wake_fn *wake;
	void *wake_arg;
};

/* One store request in flight. */
struct fr_op {
	struct fraud_share *sh;
	uint64_t uh;
	bool rate, read;
};

int fraud_share_new(struct fraud_share **shp, fraud_wake_fn *wake, void *arg)
{
	struct fraud_share *sh = mem_zalloc(sizeof(*sh));

	*shp = sh;
	if (!sh)
		return -ENOMEM;
	sh->wake = wake;
	sh->wake_arg = arg;
	return 0;
}

void fraud_share_free(struct fraud_share *sh)
{
	if (sh && sh->f)
		sh->f->share = NULL;
	mem_free(sh);
}

static void on_resync(void *arg);

void fraud_share_attach(struct fraud_share *sh, struct store *s,
			struct loop *l)
{
	if (!sh)
		return;
	if (sh->s && sh->s != s)
		store_set_count_resync(sh->s, NULL, NULL);
	sh->s = s;
	sh->l = l;
	if (s)
		store_set_count_resync(s, on_resync, sh);
}

void fraud_set_share(struct fraud *f, struct fraud_share *sh)
{
	if (sh && sh->f && sh->f != f)
		sh->f->share = NULL;
	if (f)
		f->share = sh;
	if (sh)
		sh->f = f;
}

void fraud__share_detach(struct fraud *f)
{
	if (f->share && f->share->f == f)
		f->share->f = NULL;
	f->share = NULL;
}

static bool live(const struct fraud *f)
{
	return f->share && f->share->s && store_connected(f->share->s);
}

/* "fc:" / "fr:" and the user, bytes outside 0x21..0x7e as %XX (so the
 * key is one printable Redis argument). */
static struct str key_of(char *buf, char kind, const char *user, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 3;

	buf[0] = 'f';
	buf[1] = kind;
	buf[2] = ':';
	for (i = 0; i < n && o + 3 < FR_KEY_MAX && o + 3 < STORE_CKEY_MAX;
	     i++) {
		unsigned char c = (unsigned char)user[i];

		if (c > 0x20 && c < 0x7f && c != '%') {
			buf[o++] = (char)c;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	return str_make(buf, o);
}

/* An answer: the user's cluster view. */
static void on_answer(void *arg, int rc, int64_t value)
{
	struct fr_op *op = arg;
	struct fraud_share *sh = op->sh;
	struct fraud *f = sh->f;
	struct fr_user *u = NULL;
	uint64_t now = sh->l ? loop_now(sh->l) : 0;

	if (f && f->ncls)
		u = fraud__tab_get(&f->users, op->uh, 0, false);
	if (u && (rc == 0 || rc == -EDQUOT) && value >= 0) {
		if (op->rate) {
			u->cl_cpm = (uint32_t)value;
		} else {
			/* Ours are counted locally: keep the others'. */
			u->cl_others = value > u->k.busy ?
					       (uint32_t)(value - u->k.busy) : 0;
		}
		u->cl_at = now ? now : 1;
	}
	if (u && op->read && u->cl_pending && --u->cl_pending == 0 &&
	    sh->wake && rc != -ECANCELED)
		sh->wake(sh->wake_arg, op->uh);
	mem_free(op);
}

static int send_op(struct fraud *f, struct fr_user *u, uint64_t uh,
		struct str user, bool rate, int delta)
{
	struct fraud_share *sh = f->share;
	struct fr_op *op = mem_zalloc(sizeof(*op));
	char kb[FR_KEY_MAX];
	int rc;

	if (!op)
		return -ENOMEM;
	op->sh = sh;
	op->uh = uh;
	op->rate = rate;
	op->read = delta == 0;
	if (op->read && u)
		u->cl_pending++;
	rc = rate ? store_rate_hit(sh->s, key_of(kb, 'r', user.p, user.len),
				   FR_MIN_MS, (uint32_t)delta, 0, on_answer,
				   op) :
		    store_count_add(sh->s, key_of(kb, 'c', user.p, user.len),
				    delta, 0, FR_SHARE_TTL_MS, on_answer, op);
	if (rc) {
		if (op->read && u && u->cl_pending)
			u->cl_pending--;
		mem_free(op);
	}
	return rc;
}

bool fraud__share_prefetch(struct fraud *f, struct fr_user *u, uint64_t uh,
			   struct str user)
{
	if (!live(f))
		return false;
	if (u->cl_pending)
		return true;	/* a read in flight: its answer wakes */
	(void)send_op(f, u, uh, user, false, 0);
	(void)send_op(f, u, uh, user, true, 0);
	/* Answered at once (store fallback): nothing to wait for. */
	return u->cl_pending != 0;
}

void fraud__share_start(struct fraud *f, struct fr_user *u,
			struct fr_call *call)
{
	struct str user = str_make(call->user, call->user_len);

	(void)u;
	if (!f->share || !f->share->s)
		return;
	/* Counted in the store from now on: sent now if Redis is there,
	 * else with every other call at the reconnect (on_resync). */
	call->shared = true;
	if (!live(f))
		return;
	(void)send_op(f, NULL, call->user_h, user, false, 1);
	(void)send_op(f, NULL, call->user_h, user, true, 1);
}

void fraud__share_end(struct fraud *f, struct fr_user *u,
		      const struct fr_call *call)
{
	(void)u;
	/* Redis away: nothing to take back, the connection's shares lapse
	 * and the reconnect pushes only the calls still up. */
	if (!call->shared || !live(f))
		return;
	(void)send_op(f, NULL, call->user_h,
		      str_make(call->user, call->user_len), false, -1);
}

/* Redis is back under a new epoch: every call in progress counts again
 * (the last epoch's shares lapse with its heartbeat). */
static void on_resync(void *arg)
{
	struct fraud_share *sh = arg;
	struct fraud *f = sh->f;
	struct htab_iter it;
	struct hnode *n;
	size_t pushed = 0;

	if (!f || !f->ncls)
		return;
	htab_iter_init(&it, &f->ch);
	while ((n = htab_iter_next(&it)) != NULL) {
		struct fr_call *c = HTAB_ENTRY(n, struct fr_call, hn);

		if (c->shared &&
		    send_op(f, NULL, c->user_h, str_make(c->user, c->user_len),
			    false, 1) == 0)
			pushed++;
	}
	if (pushed)
		log_info("fraud: %zu calls in progress counted in the store "
			 "again", pushed);
}

uint32_t fraud__share_others(const struct fraud *f, const struct fr_user *u,
			     uint64_t now, uint32_t *cpmp)
{
	*cpmp = 0;
	if (!live(f) || !u->cl_at || now > u->cl_at + FR_FRESH_MS)
		return 0;
	*cpmp = u->cl_cpm;
	return u->cl_others;
}
