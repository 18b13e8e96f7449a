/*
 * rate_share.c - per-source counts across sipguard instances (issue 9):
 * authentication failures (authfail.c) and INVITE / REGISTER request
 * rates (inspect.c), so that an attacker who spreads password guesses or
 * a flood over N instances does not get N times the budget.
 *
 * Semantics:
 *  - every local decision stays local and immediate: authfail.c and
 *    inspect.c count, ban and drop on their own windows as without a
 *    store.  This file only ADDS a cluster-wide check, asynchronously;
 *    nothing waits for Redis.
 *  - a source counted locally at or above its floor (RATE_SHARE_FLOOR
 *    failures; for request rates also limit / RATE_SHARE_RATE_DIV) is
 *    "hot": it takes a slot of a fixed table (RATE_SHARE_SLOTS, no
 *    allocation per hit) and its hits accumulate there.  They are added
 *    to the global window "ra:SOURCE" with store_rate_hit() at most once
 *    per RATE_SHARE_BATCH_MS per source and never with a push of that
 *    source still in flight (the first batch includes the hits counted
 *    before the floor).
 *  - names: no key carries a source address in clear.  SOURCE is 16 hex
 *    digits of a SipHash-2-4 of the source's family and address bytes
 *    (IPv6: its /64, as guard_src aggregates it; the window is the
 *    prefix's) under the cluster's key (store_user_key(): from
 *    store.secret, else store.password, and key_prefix; never sent to
 *    Redis), the same on every instance, written by store_hkey(): keys
 *    are 19 bytes (+ key_prefix and the store's "rate:" and ":N").  The
 *    same hash names the source in toll fraud's "fs:"/"fm:"/"fq:".
 *    Neither secret set: under store_public_key() (derived from
 *    key_prefix alone), so the windows stay shared across the cluster
 *    (issue 9) without addresses in clear, but a reader of Redis can
 *    test all 2^32 IPv4 addresses against them: warned at attach.
 *    The ban that follows (gate, bansync) names the address in clear:
 *    every instance must enforce it on that address.
 *  - the global window is store.h's sliding window on Redis' clock,
 *    window_ms long (the local check's window): the sum of every
 *    instance's pushed hits, cur + prev weighted by overlap.  When the
 *    answer reaches the limit (failures: >= limit, as authfail bans;
 *    rates: > limit, as inspect drops) the instance bans the source
 *    through the gate (rule auth-bruteforce-ip / rate-invite /
 *    rate-register; in monitor mode a would-ban event only,
 *    guard_share.c), and bansync shares the ban as any other.  A rate
 *    over its limit across the cluster is banned, not only dropped:
 *    every instance under the limit drops nothing, so a drop cannot be
 *    the answer here.
 *  - exact: the pushed hits (Redis adds them atomically).  Approximate:
 *    the sliding estimate (same weighting as authfail's local windows,
 *    but on Redis' period boundaries, not each instance's), sources that
 *    stay below the floor on every instance (at most FLOOR - 1 failures
 *    per instance are never shared), and the lag: a hit reaches Redis
 *    within RATE_SHARE_BATCH_MS + the store's 20 ms write batch + one
 *    round trip (longer only while a push of that source is in flight,
 *    i.e. while Redis is slow), so the cluster may see up to one batch
 *    per instance more than the limit before the ban lands.
 *  - per user (RATE_SHARE_AUTH_USER, "au:HASH"): the failures counted
 *    against a user (authfail's user counter) the same way, the user
 *    named by a 64-bit keyed hash under the cluster's key
 *    (store_user_key(): from store.secret, never sent to Redis), so
 *    Redis never holds the name; no key configured, not shared.  At the
 *    limit (>= user_max, as authfail locks) the instance that pushed
 *    locks the user here (lock callback, authfail_lock_user).  There is
 *    no lock message: an instance whose answer for a user shows half
 *    its limit or more "watches" it, reading the window every batch
 *    (a push of no hit) until it locks the user too, the count falls
 *    under half, or no failure of the user came here for a window.  So
 *    every instance that has pushed a user near its limit locks it
 *    within a batch + a round trip of the cluster reaching it; an
 *    instance that has seen fewer than FLOOR failures of that user
 *    (nothing pushed, nothing watched) locks it at its own next push
 *    (the attacker gets those guesses there, plus the lag).
 *  - not shared here: the other request classes and the gate's
 *    packet/byte rates (GCRA, before parsing: they protect this
 *    instance's own CPU, so they stay local by design, DESIGN.md).
 *  - limit: the local one of the instance that pushes (ip_max, or
 *    ip_known_good_max for a source known good here; the class's max;
 *    user_max).
 *  - a slot without a hit for a whole window starts afresh at its next
 *    hit over the floor (its local count pushed again, as the first
 *    time).
 *  - Redis down, or the memory backend: nothing is pushed (hits are
 *    dropped, not queued): local limits only, as without a store.  The
 *    window is not replayed after an outage.
 *  - table full (every slot of the bucket pending or in flight): the hit
 *    is not shared (stats.full); local limits still hold.  An idle slot
 *    is reused for a new source; if its old source comes back, its
 *    whole local count is pushed again (over-counting: the safe side).
 */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/rand.h"
#include "core/siphash.h"
#include "core/tmr.h"
#include "guard/rate_share.h"
#include "store/store.h"

enum { RS_WAYS = 4 };

struct rs_slot {
	struct rate_share *rs;
	struct guard_src src; /* users: family 0, b = the cluster hash */
	uint64_t local;       /* users: authfail's hash here */
	uint64_t h;           /* 0: free */
	uint64_t last_push, window_ms;
	uint64_t last_hit; /* users: a watch ends a window after it */
	uint32_t pending, limit;
	uint8_t kind;
	bool inflight;
	bool watch; /* users: read every batch (see on_answer) */
};

struct rate_share {
	struct rs_slot slot[RATE_SHARE_SLOTS];
	struct store *s; /* NULL: local only */
	struct loop *l;
	struct tmr t;
	rate_share_ban_fn *ban;
	void *ban_arg;
	rate_share_lock_fn *lock;
	void *lock_arg;
	struct rate_share_stats st;
	uint8_t key[SIPHASH_KEY_LEN];     /* slots: this process's own */
	uint8_t ckey[STORE_USER_KEY_LEN]; /* sources in keys (s set) */
};

static const struct {
	const char *prefix, *rule, *why;
	uint32_t floor_div; /* 0: RATE_SHARE_FLOOR; else limit / it too */
	bool strict;        /* over: count > limit (else >= limit) */
	bool user;          /* a user: lock it (else ban the source) */
} kinds[RATE_SHARE_KINDS] = {
	[RATE_SHARE_AUTH_SRC] =
		{"ra:", "auth-bruteforce-ip",
		 "too many authentication failures from this source "
		 "across the cluster",
		 0, false, false},
	[RATE_SHARE_INVITE_SRC] =
		{"ri:", "rate-invite",
		 "INVITE rate of this source over limit across the cluster",
		 RATE_SHARE_RATE_DIV, true, false},
	[RATE_SHARE_REGISTER_SRC] =
		{"rr:", "rate-register",
		 "REGISTER rate of this source over limit across the cluster",
		 RATE_SHARE_RATE_DIV, true, false},
	[RATE_SHARE_AUTH_USER] =
		{"au:", "auth-user-locked",
		 "too many authentication failures for this user across the "
		 "cluster",
		 0, false, true},
};

static uint32_t floor_of(unsigned kind, uint32_t limit)
{
	uint32_t f = RATE_SHARE_FLOOR;

	if (kinds[kind].floor_div && limit / kinds[kind].floor_div > f)
		f = limit / kinds[kind].floor_div;
	return f;
}

int rate_share_new(struct rate_share **rp, rate_share_ban_fn *ban, void *arg)
{
	struct rate_share *rs = mem_zalloc(sizeof(*rs));
	size_t i;

	*rp = rs;
	if (!rs)
		return -ENOMEM;
	if (rand_bytes(rs->key, sizeof(rs->key)) != 0) {
		mem_free(rs);
		*rp = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < RATE_SHARE_SLOTS; i++)
		rs->slot[i].rs = rs;
	tmr_init(&rs->t);
	rs->ban = ban;
	rs->ban_arg = arg;
	return 0;
}

void rate_share_free(struct rate_share *rs)
{
	if (!rs)
		return;
	tmr_cancel(&rs->t);
	mem_secclean(rs->ckey, sizeof(rs->ckey));
	mem_free(rs);
}

static bool live(const struct rate_share *rs)
{
	return rs->s && store_backend_of(rs->s) == STORE_REDIS &&
	       store_connected(rs->s);
}

void rate_share_attach(struct rate_share *rs, struct store *s, struct loop *l)
{
	size_t i;

	if (!rs)
		return;
	tmr_cancel(&rs->t);
	/* Answers of the old store come back -ECANCELED when it is freed;
	 * until then a slot in flight stays taken (never reused early). */
	for (i = 0; i < RATE_SHARE_SLOTS; i++)
		rs->slot[i].pending = 0;
	rs->s = NULL;
	rs->l = l;
	mem_secclean(rs->ckey, sizeof(rs->ckey));
	if (!s)
		return;
	/* Under the cluster's key, else the public one (see the top);
	 * neither: the memory backend, nothing to share (live() false). */
	if (store_user_key(s, rs->ckey) != 0) {
		if (store_public_key(s, rs->ckey) == 0)
			log_warn("guard: neither store.secret nor "
				 "store.password is set: per-source rate and "
				 "failure keys in redis are hashed under a key "
				 "anyone can derive from key_prefix (addresses "
				 "can be guessed back); set store.secret");
	}
	rs->s = s;
}

static void on_timer(void *arg)
{
	struct rate_share *rs = arg;

	rate_share_flush(rs, rs->l ? loop_now(rs->l) : 0);
}

static void arm(struct rate_share *rs)
{
	if (rs->l && !tmr_pending(&rs->t))
		tmr_start(loop_timers(rs->l), &rs->t, RATE_SHARE_BATCH_MS,
			  on_timer, rs);
}

/* The global count after a push. */
static void on_answer(void *arg, int rc, int64_t value)
{
	struct rs_slot *sl = arg;
	struct rate_share *rs = sl->rs;
	uint64_t now = rs->l ? loop_now(rs->l) : 0;

	sl->inflight = false;
	/* A user at half its limit or more across the cluster is read every
	 * batch from now on, failures here or not, so that it is locked here
	 * within a batch of another instance locking it (there is no lock
	 * message; a source's ban has bansync). */
	sl->watch = kinds[sl->kind].user && (rc == 0 || rc == -EDQUOT) &&
		    sl->limit && value >= 0 && (uint64_t)value * 2 >= sl->limit;
	/* As the local checks: authfail bans at the limit, inspect drops
	 * over it. */
	if ((rc == 0 || rc == -EDQUOT) && sl->limit &&
	    (value > (int64_t)sl->limit ||
	     (!kinds[sl->kind].strict && value == (int64_t)sl->limit))) {
		rs->st.bans++;
		sl->pending = 0;
		sl->watch = false;
		if (kinds[sl->kind].user) {
			if (rs->lock)
				rs->lock(rs->lock_arg, sl->local, now);
		} else if (rs->ban) {
			rs->ban(rs->ban_arg, &sl->src, kinds[sl->kind].rule,
				kinds[sl->kind].why, now);
		}
	}
	/* The slot stays (idle) so that its next hit adds one, not the
	 * whole local count again; an idle slot is reused when needed. */
	if (sl->pending || sl->watch)
		arm(rs);
}

/* The slot's key: its family and the keyed hash of what it counts, a
 * user's (computed by authfail under the same key) or the source's
 * family and address bytes (/64 for IPv6). */
static struct str key_of(const struct rate_share *rs, const struct rs_slot *sl,
			 char kb[STORE_HKEY_MAX])
{
	uint8_t b[1 + sizeof(sl->src.b)];
	uint64_t h;

	if (kinds[sl->kind].user) {
		memcpy(&h, sl->src.b, sizeof(h));
	} else {
		b[0] = sl->src.family;
		memcpy(b + 1, sl->src.b, sl->src.len);
		h = siphash24(b, 1 + (size_t)sl->src.len, rs->ckey);
	}
	return store_hkey(kb, kinds[sl->kind].prefix, h);
}

static void push(struct rate_share *rs, struct rs_slot *sl, uint64_t now)
{
	char kb[STORE_HKEY_MAX];
	struct str key = key_of(rs, sl, kb);
	uint32_t hits = sl->pending;

	sl->pending = 0;
	sl->last_push = now;
	sl->inflight = true;
	rs->st.pushes++;
	rs->st.pushed += hits;
	rs->st.polls += hits == 0;
	/* The callback may run at once (store fallback): flags set first. */
	if (store_rate_hit(rs->s, key, sl->window_ms, hits, 0, on_answer, sl) !=
	    0)
		sl->inflight = false;
}

/* Hits to push, or a watched user to read, and the batch time past. */
static bool due(const struct rs_slot *sl, uint64_t now)
{
	return sl->h && (sl->pending || sl->watch) && !sl->inflight &&
	       (sl->last_push == 0 ||
		now >= sl->last_push + RATE_SHARE_BATCH_MS);
}

void rate_share_flush(struct rate_share *rs, uint64_t now_ms)
{
	bool more = false;
	size_t i;

	if (!rs || !live(rs))
		return;
	for (i = 0; i < RATE_SHARE_SLOTS; i++) {
		struct rs_slot *sl = &rs->slot[i];

		/* A watched user idle here a whole window: its failures
		 * here have left the window; its next one starts anew. */
		if (sl->watch && now_ms >= sl->last_hit + sl->window_ms)
			sl->watch = false;
		if (due(sl, now_ms))
			push(rs, sl, now_ms);
		else if (sl->h && (sl->pending || sl->watch) && !sl->inflight)
			more = true;
	}
	if (more)
		arm(rs);
}

/* The slot of (kind, src): found, or a free one of its bucket, or the
 * idle one (nothing pending or in flight) pushed longest ago. */
static struct rs_slot *slot_get(struct rate_share *rs, uint8_t kind,
				const struct guard_src *src, bool *fresh)
{
	uint8_t buf[2 + 8];
	uint64_t h;
	struct rs_slot *b, *victim = NULL;
	unsigned i;

	buf[0] = kind;
	buf[1] = src->family;
	memcpy(buf + 2, src->b, src->len);
	h = siphash24(buf, 2 + (size_t)src->len, rs->key);
	h = h ? h : 1;
	b = &rs->slot[(h % (RATE_SHARE_SLOTS / RS_WAYS)) * RS_WAYS];
	for (i = 0; i < RS_WAYS; i++)
		if (b[i].h == h && b[i].kind == kind &&
		    guard_src_eq(&b[i].src, src))
			return &b[i];
	for (i = 0; i < RS_WAYS; i++) {
		if (!b[i].h) {
			victim = &b[i];
			break;
		}
		if (!b[i].pending && !b[i].inflight && !b[i].watch &&
		    (!victim || b[i].last_push < victim->last_push))
			victim = &b[i];
	}
	if (!victim)
		return NULL;
	*fresh = true;
	victim->h = h;
	victim->kind = kind;
	victim->src = *src;
	victim->pending = 0;
	victim->last_push = 0;
	victim->last_hit = 0;
	victim->inflight = false;
	victim->watch = false;
	return victim;
}

static void hit(struct rate_share *rs, enum rate_share_kind kind,
		const struct guard_src *src, uint64_t local_h, uint32_t local,
		uint32_t limit, uint64_t window_ms, uint64_t now_ms)
{
	struct rs_slot *sl;
	bool fresh = false;

	rs->st.hits++;
	if (!limit || !window_ms || local < floor_of(kind, limit))
		return;
	if (!(sl = slot_get(rs, (uint8_t)kind, src, &fresh))) {
		rs->st.full++;
		return;
	}
	/* A slot without a hit for a whole window starts afresh: what it
	 * pushed has left the global window (or nearly: its last batch may
	 * have gone up to a batch later, the safe side), the local count
	 * has not been pushed.  (Not last_push: a watched user's reads.) */
	if (!fresh && !sl->pending && !sl->inflight && sl->last_hit &&
	    now_ms >= sl->last_hit + sl->window_ms)
		fresh = true;
	/* The first batch carries the hits counted below the floor. */
	if (fresh)
		sl->pending = local;
	else if (sl->pending < UINT32_MAX)
		sl->pending++;
	sl->limit = limit;
	sl->window_ms = window_ms;
	sl->local = local_h;
	sl->last_hit = now_ms ? now_ms : 1;
	if (due(sl, now_ms))
		push(rs, sl, now_ms);
	else if (sl->pending && !sl->inflight)
		arm(rs);
}

void rate_share_hit(struct rate_share *rs, enum rate_share_kind kind,
		    const struct guard_src *src, uint32_t local, uint32_t limit,
		    uint64_t window_ms, uint64_t now_ms)
{
	if (!rs || !src || kind >= RATE_SHARE_KINDS || kinds[kind].user ||
	    !live(rs))
		return;
	hit(rs, kind, src, 0, local, limit, window_ms, now_ms);
}

void rate_share_hit_user(struct rate_share *rs, uint64_t cl_h, uint64_t local_h,
			 uint32_t local, uint32_t limit, uint64_t window_ms,
			 uint64_t now_ms)
{
	struct guard_src id;

	if (!rs || !cl_h || !live(rs))
		return;
	memset(&id, 0, sizeof(id));
	id.len = 8;
	memcpy(id.b, &cl_h, 8);
	hit(rs, RATE_SHARE_AUTH_USER, &id, local_h, local, limit, window_ms,
	    now_ms);
}

void rate_share_set_lock(struct rate_share *rs, rate_share_lock_fn *fn,
			 void *arg)
{
	if (!rs)
		return;
	rs->lock = fn;
	rs->lock_arg = arg;
}

void rate_share_get_stats(const struct rate_share *rs,
			  struct rate_share_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (rs)
		*st = rs->st;
}
