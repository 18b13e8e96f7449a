/*
 * fraud_share.c - toll-fraud limits across sipguard instances (issue 9):
 * every call limit of fraud.c (a user's and a source's concurrent calls
 * and calls per second and minute, a user's calls per hour to a
 * country) counted in the store (store.h: Redis when configured), so
 * that a limit holds across the cluster and not per instance.
 *
 * Cost: a call's counters travel together, one store_batch() each for
 * its read, its start and its end (one Redis script run and reply per
 * batch, instead of one per counter: bench/README-store.md).
 *
 * Semantics:
 *  - names: no key carries a user name, a dialled number or country or
 *    a source address in clear.  Each is "FAMILY:" and 16 hex digits of
 *    a SipHash-2-4 under the cluster's key (store_user_key(): from
 *    store.secret, else store.password, and key_prefix; never sent to
 *    Redis), the same on every instance of the cluster: of the user
 *    ("fc:", "fr:", "fp:"), of the country code and the user together
 *    ("fk:"), of the source's family and address (/64 for IPv6: "fs:",
 *    "fm:", "fq:").  Keys are 19 bytes (+ key_prefix and the store's
 *    "cnt:"/"rate:N").  No key (neither secret set, or the memory
 *    backend): nothing is shared, every limit holds per instance, as
 *    the authentication failures per user (logged at start).
 *  - concurrent calls: counts (store_count_add()'s) on "fc:USER" and
 *    "fs:SOURCE", +1 when a call starts, -1 when it ends (both, and the
 *    rates' events, with the store's write batch: at most 20 ms late).  Each
 *    instance's share is kept apart in
 *    Redis and counts only while that instance's heartbeat key lives
 *    (store_redis.c), so a dead instance's calls stop counting within
 *    3 x store.timeout (at least 3 s); the whole count expires
 *    FR_SHARE_TTL_MS after its last change.
 *  - rates: store_rate_hit()'s windows ("fp:", "fr:", "fk:CC:", "fq:",
 *    "fm:"), one event per call started, Redis' sliding windows (global
 *    across instances).
 *  - deciding: a new call is decided synchronously from the latest
 *    cluster view of its user.  The proxy asks first (fraud_prefetch):
 *    when the store is connected, it reads every counter that applies
 *    (one batch) and the proxy holds the INVITE (src/proxy/fraudhold.c) until
 * the answer is in, then processes it with a view at most one round trip old
 *    (the read itself written within store.read_coalesce, 2 ms by
 *    default, with the reads of the calls held meanwhile).
 *    Two calls of one user arriving within that round trip + 20 ms +
 *    read_coalesce (the first one's start waiting for the write batch) through
 * two instances can both pass: the limit can be exceeded by at most one call
 * per other instance in that window.
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
#include "core/siphash.h"
#include "guard/fraud_int.h"
#include "guard/guard_types.h"
#include "store/store.h"

enum {
	FR_SHARE_TTL_MS = 24 * 3600 * 1000, /* a count unchanged a day */
	FR_FRESH_MS = 2000,                 /* a view older is not used */
	FR_KEY_MAX = STORE_CKEY_MAX,
};

/* What a store request counts: one key family each. */
enum fr_what {
	W_UCONC, /* "fc:USER"   calls up */
	W_UCPM,  /* "fr:USER"   calls a minute */
	W_UCPS,  /* "fp:USER"   calls a second */
	W_CTY,   /* "fk:CC:USER" calls an hour to country CC */
	W_SCONC, /* "fs:SOURCE" calls up */
	W_SCPM,  /* "fm:SOURCE" calls a minute */
	W_SCPS,  /* "fq:SOURCE" calls a second */
};

/* One batch of store requests in flight (store_batch(): one Redis round
 * trip for all of a call's counters).  Owner: the store's callback. */
struct fr_op {
	struct fraud_share *sh;
	uint64_t uh; /* the user: its reads, its wake */
	bool read;
	uint8_t n;
	struct fr_ent {
		uint64_t h; /* the entry the answer is about */
		uint8_t what;
	} e[W_SCPS + 1];
};

/* A batch being built: its store operations and their keys. */
struct fr_bat {
	struct fr_op op;
	struct store_op ops[W_SCPS + 1];
	char kb[W_SCPS + 1][FR_KEY_MAX];
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
	if (sh)
		mem_secclean(sh->key, sizeof(sh->key));
	mem_free(sh);
}

static void on_resync(void *arg);

/* Attached under the cluster's key (store_user_key).  Without store.secret
 * or store.password, under the public key (store_public_key): the limits
 * stay shared across the cluster, as issue 9 requires, and no name or
 * address is in clear in Redis; but whoever reads Redis can test guesses
 * (extensions are few, IPv4 addresses 2^32) against the hashes, which
 * the start-up warning says. */
void fraud_share_attach(struct fraud_share *sh, struct store *s, struct loop *l)
{
	if (!sh)
		return;
	if (sh->s && sh->s != s)
		store_set_count_resync(sh->s, NULL, NULL);
	sh->s = NULL;
	sh->l = l;
	mem_secclean(sh->key, sizeof(sh->key));
	if (!s)
		return;
	if (store_user_key(s, sh->key) != 0) {
		if (store_public_key(s, sh->key) != 0)
			return; /* memory backend: nothing to share */
		log_warn("fraud: neither store.secret nor store.password is "
			 "set: toll-fraud keys in redis are hashed under a key "
			 "anyone can derive from key_prefix (names and "
			 "addresses can be guessed back); set store.secret");
	}
	sh->s = s;
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

/* pre and the 16 hex digits of h: a key of fixed length. */
static struct str key_of(char *buf, const char *pre, uint64_t h)
{
	return store_hkey(buf, pre, h);
}

static const char *const what_pre[] = {
	[W_UCONC] = "fc:", [W_UCPM] = "fr:", [W_UCPS] = "fp:", [W_CTY] = "fk:",
	[W_SCONC] = "fs:", [W_SCPM] = "fm:", [W_SCPS] = "fq:",
};

/* A call's names in keys, hashed once for all of its keys. */
struct fr_stxt {
	const struct sg_addr *src;
	bool done, udone;
	uint64_t sh; /* the source's */
	uint64_t uh; /* the user's */
};

/* The key of what for a user (and country), or a source: its family
 * and the keyed hash of what it counts (see the top of the file). */
static struct str key_for(const struct fraud_share *sh, char *buf, uint8_t what,
			  struct str user, const char *cc, struct fr_stxt *st)
{
	uint8_t b[1 + DP_CC_MAX + 1 + FR_KEY_MAX];
	struct guard_src gs;
	size_t n, un;

	if (what >= W_SCONC) {
		if (!st->done) {
			guard_src_from_addr(&gs, st->src);
			b[0] = gs.family;
			memcpy(b + 1, gs.b, gs.len);
			st->sh = siphash24(b, 1 + (size_t)gs.len, sh->key);
			st->done = true;
		}
		return key_of(buf, what_pre[what], st->sh);
	}
	if (what != W_CTY) {
		if (!st->udone) {
			st->uh = siphash24(user.p, user.len, sh->key);
			st->udone = true;
		}
		return key_of(buf, what_pre[what], st->uh);
	}
	/* The country, a NUL, the user: the pair, in one hash. */
	n = cc ? strnlen(cc, DP_CC_MAX) : 0;
	un = user.len < sizeof(b) - n - 1 ? user.len : sizeof(b) - n - 1;
	if (n)
		memcpy(b, cc, n);
	b[n++] = 0;
	if (un)
		memcpy(b + n, user.p, un);
	return key_of(buf, what_pre[what], siphash24(b, n + un, sh->key));
}

static uint64_t window_of(uint8_t what)
{
	return what == W_UCPS || what == W_SCPS ? 1000
	       : what == W_CTY                  ? FR_HOUR_MS
						: FR_MIN_MS;
}

static bool is_count(uint8_t what)
{
	return what == W_UCONC || what == W_SCONC;
}

/* The entry an answer is about (a peek: never created here). */
static struct fr_cl *cl_of(struct fraud *f, const struct fr_ent *op,
			   uint32_t *busyp)
{
	struct fr_user *u;
	struct fr_cty *ct;
	struct fr_src *s;

	if (op->what <= W_UCPS) {
		u = fraud__tab_get(&f->users, op->h, 0, false);
		*busyp = u ? u->k.busy : 0;
		return u ? &u->cl : NULL;
	}
	if (op->what == W_CTY) {
		ct = fraud__tab_get(&f->ctys, op->h, 0, false);
		return ct ? &ct->cl : NULL;
	}
	s = fraud__tab_get(&f->srcs, op->h, 0, false);
	*busyp = s ? s->k.busy : 0;
	return s ? &s->cl : NULL;
}

/* One answer: the cluster's count of one key, after our change. */
static void take_answer(struct fraud *f, const struct fr_ent *e, int rc,
			int64_t value, uint64_t now)
{
	struct fr_cl *cl;
	uint32_t busy = 0, v;

	cl = cl_of(f, e, &busy);
	if (!cl || (rc != 0 && rc != -EDQUOT) || value < 0)
		return;
	v = value > UINT32_MAX ? UINT32_MAX : (uint32_t)value;
	if (is_count(e->what)) /* ours are counted locally */
		cl->others = v > busy ? v - busy : 0;
	else if (e->what == W_UCPS || e->what == W_SCPS)
		cl->cps = v;
	else if (e->what == W_CTY)
		cl->hour = v;
	else
		cl->cpm = v;
	cl->at = now ? now : 1;
}

/* A batch's answers, in the order of its entries; a read wakes the
 * user's held INVITEs. */
static void on_answers(void *arg, const int *rcs, const int64_t *values,
		       size_t n)
{
	struct fr_op *op = arg;
	struct fraud_share *sh = op->sh;
	struct fraud *f = sh->f;
	struct fr_user *u = NULL;
	uint64_t now = sh->l ? loop_now(sh->l) : 0;
	size_t i;

	if (f && f->ncls) {
		for (i = 0; i < n && i < op->n; i++)
			take_answer(f, &op->e[i], rcs[i], values[i], now);
		u = fraud__tab_get(&f->users, op->uh, 0, false);
	}
	if (u && op->read && u->cl_pending && --u->cl_pending == 0 &&
	    sh->wake && !(n && rcs[0] == -ECANCELED))
		sh->wake(sh->wake_arg, op->uh);
	mem_free(op);
}

static void bat_init(struct fr_bat *b, struct fraud_share *sh, uint64_t uh,
		     bool read)
{
	b->op.sh = sh;
	b->op.uh = uh;
	b->op.read = read;
	b->op.n = 0;
}

/* Add a change (delta) or read (0) of what, entry h, to b. */
static void bat_add(struct fr_bat *b, uint64_t h, uint8_t what, struct str key,
		    int delta)
{
	struct store_op *o = &b->ops[b->op.n];

	b->op.e[b->op.n] = (struct fr_ent){h, what};
	*o = (struct store_op){
		key, is_count(what) ? STORE_OP_COUNT : STORE_OP_RATE, delta, 0,
		is_count(what) ? FR_SHARE_TTL_MS : window_of(what)};
	b->op.n++;
}

/* The key buffer of b's next entry. */
static char *bat_kb(struct fr_bat *b)
{
	return b->kb[b->op.n];
}

/* Send b in one store round trip; u: count it as the user's read. */
static int bat_send(struct fraud_share *sh, struct fr_user *u, struct fr_bat *b,
		    unsigned flags)
{
	struct fr_op *op;
	int rc;

	if (!b->op.n)
		return -ENOENT;
	op = mem_alloc(sizeof(*op));
	if (!op)
		return -ENOMEM;
	*op = b->op;
	if (op->read && u)
		u->cl_pending++;
	/* Our counts are fraud.c's own (busy, win_ctr): the store keeps no
	 * shadow of them (REMOTE), only Redis' answers matter here. */
	rc = store_batch(sh->s, b->ops, b->op.n, flags | STORE_BATCH_REMOTE,
			 on_answers, op);
	if (rc) {
		if (op->read && u && u->cl_pending)
			u->cl_pending--;
		mem_free(op);
	}
	return rc;
}

bool fraud__share_wanted(const struct fraud *f, unsigned cls)
{
	const struct sg_conf_fraud_class *c = &f->c->classes[cls];
	const struct sg_conf_fraud_source *ps = &f->c->per_source;

	return c->max_concurrent || c->calls_per_minute ||
	       c->calls_per_second || c->calls_per_country_per_hour ||
	       ps->max_concurrent || ps->calls_per_second ||
	       ps->calls_per_minute;
}

/* Which of the seven counters class cls and the source limits use. */
static unsigned used(const struct fraud *f, unsigned cls, bool intl)
{
	const struct sg_conf_fraud_class *c = &f->c->classes[cls];
	const struct sg_conf_fraud_source *ps = &f->c->per_source;

	return (c->max_concurrent ? 1u << W_UCONC : 0) |
	       (c->calls_per_minute ? 1u << W_UCPM : 0) |
	       (c->calls_per_second ? 1u << W_UCPS : 0) |
	       (c->calls_per_country_per_hour && intl ? 1u << W_CTY : 0) |
	       (ps->max_concurrent ? 1u << W_SCONC : 0) |
	       (ps->calls_per_minute ? 1u << W_SCPM : 0) |
	       (ps->calls_per_second ? 1u << W_SCPS : 0);
}

bool fraud__share_prefetch(struct fraud *f, const struct fr_ask *a)
{
	struct fr_stxt st = {a->src, false, false, 0, 0};
	struct fr_bat b;
	unsigned m, w;
	uint64_t h;

	if (!live(f))
		return false;
	if (a->u->cl_pending)
		return true; /* a read in flight: its answer wakes */
	m = used(f, a->cls, a->cc != NULL);
	if (!a->ct)
		m &= ~(1u << W_CTY);
	if (!a->s || !a->src)
		m &= ~(1u << W_SCONC | 1u << W_SCPM | 1u << W_SCPS);
	/* Every counter that applies, in one read (one round trip). */
	bat_init(&b, f->share, a->uh, true);
	for (w = W_UCONC; w <= W_SCPS; w++) {
		if (!(m & 1u << w))
			continue;
		h = w <= W_UCPS ? a->uh : w == W_CTY ? a->ct->k.h : a->s->k.h;
		bat_add(&b, h, (uint8_t)w,
			key_for(f->share, bat_kb(&b), (uint8_t)w, a->user,
				a->cc, &st),
			0);
	}
	(void)bat_send(f->share, a->u, &b, 0);
	/* Answered at once (store fallback): nothing to wait for. */
	return a->u->cl_pending != 0;
}

void fraud__share_start(struct fraud *f, struct fr_user *u,
			struct fr_call *call)
{
	struct str user = str_make(call->user, call->user_len);
	bool intl = call->kind == DP_INTERNATIONAL;
	struct fr_stxt st = {&call->src, false, false, 0, 0};
	struct fr_bat b;
	unsigned m, w;
	uint64_t h;

	(void)u;
	if (!f->share || !f->share->s)
		return;
	m = used(f, call->cls, intl);
	/* Counted in the store from now on: sent now if Redis is there,
	 * else with every other call at the reconnect (on_resync).  The
	 * user's calls up are always counted (its end takes one back). */
	call->shared = true;
	call->src_shared = (m & 1u << W_SCONC) && call->src_h;
	if (!live(f))
		return;
	m |= 1u << W_UCONC;
	if (!call->src_h)
		m &= ~(1u << W_SCONC | 1u << W_SCPM | 1u << W_SCPS);
	/* Every change in one batch: one script run, applied at once, with
	 * the store's write batch (<= 20 ms, shared with other calls'
	 * writes): the window in which another instance does not see this
	 * call yet is one read round trip + 20 ms. */
	bat_init(&b, f->share, call->user_h, false);
	for (w = W_UCONC; w <= W_SCPS; w++) {
		if (!(m & 1u << w))
			continue;
		h = w <= W_UCPS  ? call->user_h
		    : w == W_CTY ? fraud__cty_hash(f, call->user_h, call->cc)
				 : call->src_h;
		bat_add(&b, h, (uint8_t)w,
			key_for(f->share, bat_kb(&b), (uint8_t)w, user,
				call->cc, &st),
			1);
	}
	if (bat_send(f->share, NULL, &b, STORE_BATCH_LAZY) == 0)
		call->pushed |= (uint8_t)m;
}

void fraud__share_refund(struct fraud *f, const struct fr_call *call,
			 uint64_t now)
{
	struct str user = str_make(call->user, call->user_len);
	struct fr_stxt st = {&call->src, false, false, 0, 0};
	char kb[FR_KEY_MAX];
	unsigned w;

	if (!f->share || !f->share->s)
		return;
	for (w = W_UCONC; w <= W_SCPS; w++)
		if (!is_count((uint8_t)w) && (call->pushed & 1u << w))
			(void)store_rate_take(
				f->share->s,
				key_for(f->share, kb, (uint8_t)w, user,
					call->cc, &st),
				window_of((uint8_t)w), 1,
				now > call->start ? now - call->start : 0);
}

/* The batch giving back (delta -1) or counting again (+1) call's
 * concurrent slots, the user's and its source's.  0 when sent. */
static int send_conc(struct fraud_share *sh, const struct fr_call *call,
		     int delta, unsigned flags, struct fr_bat *b)
{
	struct str user = str_make(call->user, call->user_len);
	struct fr_stxt st = {&call->src, false, false, 0, 0};

	bat_init(b, sh, call->user_h, false);
	if (call->shared)
		bat_add(b, call->user_h, W_UCONC,
			key_for(sh, bat_kb(b), W_UCONC, user, NULL, &st),
			delta);
	if (call->src_shared)
		bat_add(b, call->src_h, W_SCONC,
			key_for(sh, bat_kb(b), W_SCONC, user, NULL, &st),
			delta);
	return bat_send(sh, NULL, b, flags);
}

void fraud__share_end(struct fraud *f, struct fr_user *u,
		      const struct fr_call *call)
{
	struct fr_bat b;

	(void)u;
	/* Redis away: nothing to take back, the connection's shares lapse
	 * and the reconnect pushes only the calls still up. */
	if (!live(f))
		return;
	/* With the store's write batch (<= 20 ms): a slot given back late
	 * only makes the limit stricter meanwhile. */
	(void)send_conc(f->share, call, -1, STORE_BATCH_LAZY, &b);
}

/* Redis is back under a new epoch: every call in progress counts again
 * (the last epoch's shares lapse with its heartbeat). */
static void on_resync(void *arg)
{
	struct fraud_share *sh = arg;
	struct fraud *f = sh->f;
	struct htab_iter it;
	struct hnode *n;
	struct fr_bat b;
	size_t pushed = 0;

	if (!f || !f->ncls)
		return;
	htab_iter_init(&it, &f->ch);
	while ((n = htab_iter_next(&it)) != NULL) {
		struct fr_call *c = HTAB_ENTRY(n, struct fr_call, hn);

		if (send_conc(sh, c, 1, 0, &b) == 0 && c->shared)
			pushed++;
	}
	if (pushed)
		log_info("fraud: %zu calls in progress counted in the store "
			 "again",
			 pushed);
}

struct fr_cl fraud__share_view(const struct fraud *f, const struct fr_cl *cl,
			       uint64_t now)
{
	struct fr_cl none = {0, 0, 0, 0, 0};

	if (!cl || !live(f) || !cl->at || now > cl->at + FR_FRESH_MS)
		return none;
	return *cl;
}
