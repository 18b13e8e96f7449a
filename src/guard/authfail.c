/*
 * authfail.c - password brute-force accounting: failure counters per
 * source, per user and per user@source, user locks, pair blocks and the
 * known-good memory of sources that authenticated.
 *
 * Three fixed tables allocated once: no allocation per packet.  Keys are
 * keyed SipHash values (random key per instance), so an attacker can
 * neither predict collisions nor flood one bucket.  Each bucket holds
 * AUTH__WAYS entries; when a bucket is full the victim is the entry that
 * protects nothing (no live lock, block or known-good mark) and was seen
 * longest ago, so churning the table with made-up user names cannot
 * unlock a locked user while a free entry remains in the bucket.
 *
 * Counters are sliding windows in the manner of haproxy's freq_ctr: the
 * current and the previous window, the previous weighted by how much of
 * it still overlaps the last window_ms.
 *
 * Why three counters: one attacker behind an office NAT must be stopped
 * without banning the whole office (user@source blocks first), a user
 * attacked from many addresses must be protected (the user lock), and a
 * source guessing many users' passwords is banned (the source counter).
 * A known-good source (it authenticated recently) is not banned below
 * ip_known_good_max and is exempt from user locks.
 */
#include <errno.h>
#include <string.h>

#include "core/mem.h"
#include "core/siphash.h"
#include "guard/auth_int.h"
#include "core/rand.h"

struct af_ent {
	uint64_t key;   /* 0: empty */
	uint64_t start; /* start of the current window */
	uint32_t cur, prev;
	uint64_t until; /* lock, block or known-good expiry */
	uint64_t seen;
};

struct af_tab {
	struct af_ent *e;
	size_t mask; /* buckets - 1 */
};

struct authfail {
	struct auth_fail_conf c;
	struct af_tab src, user, pair;
	uint8_t key[SIPHASH_KEY_LEN];
	authfail_hook_fn *hook; /* rate_share.c; NULL: none */
	void *hook_arg;
	authfail_user_hook_fn *uhook; /* per user; NULL: none */
	void *uhook_arg;
	bool has_ckey;
	uint8_t ckey[SIPHASH_KEY_LEN]; /* the cluster's user-hash key */
};

static size_t pow2_buckets(uint32_t slots)
{
	size_t b = 1, want = slots / AUTH__WAYS;

	while (b < want && b < (1u << 24))
		b <<= 1;
	return b;
}

static int tab_init(struct af_tab *t, uint32_t slots)
{
	size_t nb = pow2_buckets(slots);

	t->e = mem_zalloc(nb * AUTH__WAYS * sizeof(*t->e));
	if (!t->e)
		return -ENOMEM;
	t->mask = nb - 1;
	return 0;
}

/* Roll the windows forward to now (window w > 0). */
static void ctr_roll(struct af_ent *e, uint64_t now, uint64_t w)
{
	if (now < e->start)
		return;
	if (now - e->start >= 2 * w) {
		e->prev = 0;
		e->cur = 0;
		e->start = now - (now - e->start) % w;
	} else if (now - e->start >= w) {
		e->prev = e->cur;
		e->cur = 0;
		e->start += w;
	}
}

static uint32_t ctr_get(struct af_ent *e, uint64_t now, uint64_t w)
{
	uint64_t elapsed, part;

	ctr_roll(e, now, w);
	elapsed = now > e->start ? now - e->start : 0;
	part = (uint64_t)e->prev * (w - elapsed) / w;
	return e->cur + (uint32_t)part;
}

/* Find key; with create, take a free or the least useful entry. */
static struct af_ent *tab_get(struct af_tab *t, uint64_t key, bool create,
			      uint64_t now)
{
	struct af_ent *b = &t->e[(key & t->mask) * AUTH__WAYS], *victim = NULL;
	unsigned i;

	for (i = 0; i < AUTH__WAYS; i++)
		if (b[i].key == key)
			return &b[i];
	if (!create)
		return NULL;
	for (i = 0; i < AUTH__WAYS; i++) {
		bool live = b[i].until > now, vlive;

		if (!b[i].key) {
			victim = &b[i];
			break;
		}
		if (!victim) {
			victim = &b[i];
			continue;
		}
		vlive = victim->until > now;
		/* Prefer entries protecting nothing, then the oldest. */
		if ((vlive && !live) ||
		    (vlive == live && b[i].seen < victim->seen))
			victim = &b[i];
	}
	memset(victim, 0, sizeof(*victim));
	victim->key = key;
	victim->start = now;
	victim->seen = now;
	return victim;
}

int authfail_new(struct authfail **fp, const struct auth_fail_conf *c)
{
	struct authfail *f;
	int err = -ENOMEM;

	if (!fp || !c || !c->window_ms)
		return -EINVAL;
	*fp = NULL;
	if (!(f = mem_zalloc(sizeof(*f))))
		return -ENOMEM;
	f->c = *c;
	if ((err = rand_bytes(f->key, sizeof(f->key))) != 0)
		goto out;
	err = -ENOMEM;
	if (tab_init(&f->src, c->ip_slots) ||
	    tab_init(&f->user, c->user_slots) ||
	    tab_init(&f->pair, c->userip_slots))
		goto out;
	*fp = f;
	return 0;
out:
	authfail_free(f);
	return err;
}

void authfail_free(struct authfail *f)
{
	if (!f)
		return;
	mem_free(f->src.e);
	mem_free(f->user.e);
	mem_free(f->pair.e);
	mem_secclean(f->key, sizeof(f->key));
	mem_secclean(f->ckey, sizeof(f->ckey));
	mem_free(f);
}

static uint64_t nz(uint64_t h)
{
	return h ? h : 1;
}

void authfail_key(const struct authfail *f, struct authfail_key *k,
		  const struct sg_addr *from, struct str user)
{
	uint8_t buf[1 + 8 + AUTH_USER_MAX];
	size_t n;

	memset(k, 0, sizeof(*k));
	guard_src_from_addr(&k->src, from);
	buf[0] = k->src.family;
	memcpy(buf + 1, k->src.b, k->src.len);
	n = 1 + (size_t)k->src.len;
	k->src_h = nz(siphash24(buf, n, f->key));
	if (!user.len)
		return;
	if (user.len > AUTH_USER_MAX)
		user.len = AUTH_USER_MAX;
	/* User names are case-sensitive in Digest: hash them exactly.
	 * The 'u' prefix keeps user and pair keys apart. */
	k->user_h = nz(siphash24(user.p, user.len, f->key) ^ 0x75);
	if (f->has_ckey)
		k->cl_user_h = nz(siphash24(user.p, user.len, f->ckey));
	memcpy(buf + n, user.p, user.len);
	k->pair_h = nz(siphash24(buf, n + user.len, f->key));
}

bool authfail_known_good(struct authfail *f, const struct guard_src *s,
			 uint64_t now_ms)
{
	uint8_t buf[1 + 8];
	struct af_ent *e;

	buf[0] = s->family;
	memcpy(buf + 1, s->b, s->len);
	e = tab_get(&f->src, nz(siphash24(buf, 1 + (size_t)s->len, f->key)),
		    false, now_ms);
	return e && e->until > now_ms;
}

enum authfail_state authfail_check(struct authfail *f,
				   const struct authfail_key *k,
				   uint64_t now_ms)
{
	struct af_ent *e;

	if (!k->user_h)
		return AUTHFAIL_OK;
	e = tab_get(&f->pair, k->pair_h, false, now_ms);
	if (e && e->until > now_ms)
		return AUTHFAIL_PAIR_BLOCKED;
	e = tab_get(&f->user, k->user_h, false, now_ms);
	if (e && e->until > now_ms && !authfail_known_good(f, &k->src, now_ms))
		return AUTHFAIL_USER_LOCKED;
	return AUTHFAIL_OK;
}

/* Count one failure in e; true when the count reached max (max > 0). */
static bool bump(struct af_ent *e, uint32_t max, uint64_t now, uint64_t w)
{
	uint32_t n;

	ctr_roll(e, now, w);
	if (e->cur < UINT32_MAX)
		e->cur++;
	e->seen = now;
	n = ctr_get(e, now, w);
	return max && n >= max;
}

enum authfail_outcome authfail_failure(struct authfail *f,
				       const struct authfail_key *k,
				       bool count_user, uint64_t now_ms)
{
	uint64_t w = f->c.window_ms;
	struct af_ent *e = tab_get(&f->src, k->src_h, true, now_ms);
	bool good = e->until > now_ms;
	uint32_t max = good ? f->c.ip_known_good_max : f->c.ip_max;
	bool ban = bump(e, max, now_ms, w), block = false;

	if (f->hook)
		f->hook(f->hook_arg, &k->src, ctr_get(e, now_ms, w), max, w,
			now_ms);

	if (k->user_h) {
		if (count_user) {
			e = tab_get(&f->user, k->user_h, true, now_ms);
			if (bump(e, f->c.user_max, now_ms, w))
				e->until = now_ms + f->c.user_lock_ms;
			if (f->uhook && k->cl_user_h)
				f->uhook(f->uhook_arg, k->cl_user_h, k->user_h,
					 ctr_get(e, now_ms, w), f->c.user_max,
					 w, now_ms);
		}
		e = tab_get(&f->pair, k->pair_h, true, now_ms);
		if (bump(e, f->c.userip_max, now_ms, w)) {
			block = e->until <= now_ms;
			e->until = now_ms + f->c.userip_block_ms;
		}
	}
	if (ban)
		return AUTHFAIL_BAN_IP;
	return block ? AUTHFAIL_BLOCK_PAIR : AUTHFAIL_COUNTED;
}

void authfail_success(struct authfail *f, const struct authfail_key *k,
		      uint64_t now_ms)
{
	struct af_ent *e = tab_get(&f->src, k->src_h, true, now_ms);

	e->until = now_ms + f->c.known_good_ms;
	e->seen = now_ms;
	/* The pair proved its password: forget its failures (typos).  The
	 * user's own counter stays: others may still be attacking it. */
	if (k->pair_h && (e = tab_get(&f->pair, k->pair_h, false, now_ms)))
		memset(e, 0, sizeof(*e));
}

static uint32_t count_of(struct af_tab *t, uint64_t key, uint64_t now,
			 uint64_t w)
{
	struct af_ent *e = key ? tab_get(t, key, false, now) : NULL;

	return e ? ctr_get(e, now, w) : 0;
}

uint32_t authfail_count_src(struct authfail *f, const struct authfail_key *k,
			    uint64_t now_ms)
{
	return count_of(&f->src, k->src_h, now_ms, f->c.window_ms);
}

uint32_t authfail_count_user(struct authfail *f, const struct authfail_key *k,
			     uint64_t now_ms)
{
	return count_of(&f->user, k->user_h, now_ms, f->c.window_ms);
}

uint32_t authfail_count_pair(struct authfail *f, const struct authfail_key *k,
			     uint64_t now_ms)
{
	return count_of(&f->pair, k->pair_h, now_ms, f->c.window_ms);
}

void authfail_set_hook(struct authfail *f, authfail_hook_fn *fn, void *arg)
{
	f->hook = fn;
	f->hook_arg = arg;
}

void authfail_set_user_hook(struct authfail *f, const uint8_t *cluster_key,
			    authfail_user_hook_fn *fn, void *arg)
{
	f->has_ckey = cluster_key && fn;
	if (f->has_ckey)
		memcpy(f->ckey, cluster_key, sizeof(f->ckey));
	else
		mem_secclean(f->ckey, sizeof(f->ckey));
	f->uhook = f->has_ckey ? fn : NULL;
	f->uhook_arg = arg;
}

bool authfail_lock_user(struct authfail *f, uint64_t user_h, uint64_t now_ms)
{
	struct af_ent *e;
	bool was;

	if (!f || !user_h || !f->c.user_lock_ms)
		return false;
	e = tab_get(&f->user, user_h, true, now_ms);
	was = e->until > now_ms;
	e->seen = now_ms;
	if (!was || e->until < now_ms + f->c.user_lock_ms)
		e->until = now_ms + f->c.user_lock_ms;
	return !was;
}
