/*
 * gate.c - the pre-parse gate (see gate.h): ban table, per-source rate
 * limiters and the allow list.
 *
 * Layout, all allocated once by gate_new():
 *  - ban table: an array of entries (free ones on a free list) indexed by
 *    a chained hash whose chains are 32-bit indexes, so nothing allocates
 *    after creation.  An entry is FREE, ACTIVE (the ban is in force until
 *    expires_ms) or DORMANT (expired; its offence count is kept for
 *    ban_memory_ms so a repeat offender gets a longer ban).  ACTIVE
 *    entries past their expiry turn DORMANT lazily, in gate_check() or in
 *    gate_expire().
 *  - source table: 8-way sets, each entry holding two GCRA limiters.
 *    GCRA keeps a "theoretical arrival time" (TAT) per limiter: a packet
 *    costing c is admitted when max(TAT, now) + c - now <= burst window,
 *    and then TAT moves to max(TAT, now) + c.  This is a token bucket
 *    without a refill step and with a single number to store.  Times are
 *    in ns so a cost of 1e9 / rate is exact enough for any sane rate.
 *  - allow list: IPv4 and IPv6 prefixes in small arrays, scanned only
 *    when a source enters the source table; the result is cached in the
 *    entry.  IPv6 entries are /64 keys, so an allowed prefix longer than
 *    /64 marks the entry "partly allowed" and that source's full address
 *    is checked against those long prefixes on each packet.
 *
 * Hash: one SipHash-2-4 of the 9-byte key per check, shared by both
 * tables (low bits pick the source set, high bits the ban chain).  A
 * cheaper unkeyed hash would let an attacker aim thousands of sources at
 * one set or chain; SipHash costs ~15 ns here, far inside the 1 us a
 * check may take at 1M drops/s (bench/bench_gate_micro.c measures it).
 */
#include "guard/gate.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "core/siphash.h"
#include "core/rand.h"

enum {
	WAYS = 8,   /* entries per source set */
	KEY_V4 = 4, /* struct key fam; 0 marks a free entry */
	KEY_V6 = 6,
	DEF_PKT_RATE = 100,
	DEF_PKT_BURST = 200,
	DEF_BYTE_RATE = 256 * 1024,
	DEF_BYTE_BURST = 512 * 1024,
	DEF_SOURCES = 65536,
	DEF_BANS = 16384,
	DEF_BAN_FACTOR = 2,
};

#define NS_PER_MS         1000000ULL
#define NS_PER_S          1000000000ULL
#define DEF_BAN_FIRST_MS  (60ULL * 1000)
#define DEF_BAN_MAX_MS    (24ULL * 3600 * 1000)
#define DEF_BAN_MEMORY_MS (24ULL * 3600 * 1000)

static const uint32_t NIL = UINT32_MAX;

enum ban_state { BAN_FREE = 0, BAN_ACTIVE, BAN_DORMANT };

/* Source key in host byte order: IPv4 address or the IPv6 /64. */
struct key {
	uint64_t k;
	uint8_t fam; /* KEY_V4 or KEY_V6 */
};

struct srcent {
	uint64_t k;
	uint64_t tat_pkt;  /* ns */
	uint64_t tat_byte; /* ns */
	uint64_t until;    /* max(last seen, TATs): evict the lowest */
	uint64_t drop_win; /* ms: start of the rate-drop count's second */
	uint32_t drops;    /* rate drops in that second */
	uint8_t fam;       /* 0 = free */
	uint8_t allow;     /* enum gate__allow_state */
};

struct banent {
	uint64_t k;
	uint64_t expires_ms;
	uint64_t hits;
	uint32_t next; /* hash chain, or free list */
	uint32_t offences;
	uint8_t fam;
	uint8_t state; /* enum ban_state */
	uint64_t start_ms;
	uint64_t start_wall_ms;
	char rule[GATE_RULE_MAX];
	char reason[GATE_REASON_MAX];
};

/* Owner: whoever called gate_new(). */
struct gate {
	struct gate_conf conf; /* allow pointers cleared */
	uint8_t key[SIPHASH_KEY_LEN];
	/* source table */
	struct srcent *src;
	size_t smask; /* sets - 1 */
	size_t src_used;
	uint64_t pkt_cost, pkt_win; /* ns; cost 0 = limiter off */
	uint64_t byte_rate, byte_win;
	/* ban table */
	struct banent *ban;
	uint32_t *bhead;
	uint32_t bmask;
	uint32_t cap;
	uint32_t free;
	size_t used, active, sweep;
	uint64_t rng;
	struct gate__allow allow;
	struct gate_stats st; /* counters; sizes filled by gate_stats() */
	gate_change_fn *hook; /* gate_set_hook(): shared-state sync */
	void *hook_arg;
};

void gate_conf_default(struct gate_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->pkt_rate = DEF_PKT_RATE;
	c->pkt_burst = DEF_PKT_BURST;
	c->byte_rate = DEF_BYTE_RATE;
	c->byte_burst = DEF_BYTE_BURST;
	c->sources = DEF_SOURCES;
	c->bans = DEF_BANS;
	c->ban_first_ms = DEF_BAN_FIRST_MS;
	c->ban_factor = DEF_BAN_FACTOR;
	c->ban_max_ms = DEF_BAN_MAX_MS;
	c->ban_memory_ms = DEF_BAN_MEMORY_MS;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

/* *lop gets the low 64 bits of an IPv6 source (for long allow prefixes). */
static bool key_from_addr(const struct sg_addr *a, struct key *kp,
			  uint64_t *lop)
{
	uint64_t hi, lo;
	uint32_t v;

	if (a->u.sa.sa_family == AF_INET) {
		memcpy(&v, &a->u.in.sin_addr, 4);
		kp->k = be32toh(v);
		kp->fam = KEY_V4;
		*lop = 0;
		return true;
	}
	if (a->u.sa.sa_family != AF_INET6)
		return false;
	hi = load_be64(a->u.in6.sin6_addr.s6_addr);
	lo = load_be64(a->u.in6.sin6_addr.s6_addr + 8);
	if (hi == 0 && (lo >> 32) == 0xffff) {
		/* IPv4-mapped: the IPv4 source it is. */
		kp->k = lo & UINT32_MAX;
		kp->fam = KEY_V4;
		*lop = 0;
		return true;
	}
	kp->k = hi;
	kp->fam = KEY_V6;
	*lop = lo;
	return true;
}

static bool key_from_src(const struct guard_src *s, struct key *kp)
{
	uint8_t b[8] = {0};

	if (s->family == AF_INET && s->len == 4) {
		memcpy(b + 4, s->b, 4);
		kp->fam = KEY_V4;
	} else if (s->family == AF_INET6 && s->len == 8) {
		memcpy(b, s->b, 8);
		kp->fam = KEY_V6;
	} else {
		return false;
	}
	kp->k = load_be64(b);
	return true;
}

static void key_to_src(const struct key *k, struct guard_src *s)
{
	uint64_t be = htobe64(k->k);
	uint8_t b[8];

	memcpy(b, &be, 8);
	memset(s, 0, sizeof(*s));
	if (k->fam == KEY_V4) {
		s->family = AF_INET;
		s->len = 4;
		memcpy(s->b, b + 4, 4);
	} else {
		s->family = AF_INET6;
		s->len = 8;
		memcpy(s->b, b, 8);
	}
}

static uint64_t key_hash(const struct gate *g, const struct key *k)
{
	uint8_t b[9];

	memcpy(b, &k->k, 8);
	b[8] = k->fam;
	return siphash24(b, sizeof(b), g->key);
}

/* xorshift64*: picks where eviction sampling starts; not a secret. */
static uint64_t rng_next(struct gate *g)
{
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545f4914f6cdd1dULL;
}

/* --- allow list (matching lives in cidr.c) --- */

static enum gate__allow_state allow_classify(const struct gate *g,
					     const struct key *k)
{
	return gate__allow_key(&g->allow, k->fam == KEY_V6, k->k);
}

bool gate_allowed(const struct gate *g, const struct sg_addr *a)
{
	struct key k;
	uint64_t lo;

	if (!g || !a || !key_from_addr(a, &k, &lo))
		return false;
	switch (allow_classify(g, &k)) {
	case GATE__ALLOW_YES:
		return true;
	case GATE__ALLOW_PART:
		return gate__allow_long6(&g->allow, k.k, lo);
	default:
		return false;
	}
}

/* --- source table --- */

/*
 * The entry of k, or a new one in its set.  A full set gives up the entry
 * with the lowest `until`: the longest idle, never a source whose
 * limiter is still running ahead of now.
 */
static struct srcent *src_get(struct gate *g, const struct key *k, uint64_t hv,
			      uint64_t now)
{
	struct srcent *set = g->src + (hv & g->smask) * WAYS;
	struct srcent *victim = NULL, *freee = NULL;
	size_t i;

	for (i = 0; i < WAYS; i++) {
		struct srcent *e = &set[i];

		if (e->k == k->k && e->fam == k->fam)
			return e;
		if (e->fam == 0) {
			if (!freee)
				freee = e;
		} else if (!victim || e->until < victim->until) {
			victim = e;
		}
	}
	if (freee) {
		victim = freee;
		g->src_used++;
	} else {
		g->st.src_evicted++;
	}
	victim->k = k->k;
	victim->fam = k->fam;
	victim->tat_pkt = 0;
	victim->tat_byte = 0;
	victim->until = now;
	victim->allow = (uint8_t)allow_classify(g, k);
	return victim;
}

/* GCRA on both limiters; a refused packet charges neither. */
static bool src_admit(struct gate *g, struct srcent *e, size_t bytes,
		      uint64_t now)
{
	uint64_t tp = 0, tb = 0, n;

	if (g->pkt_cost) {
		tp = max64(e->tat_pkt, now) + g->pkt_cost;
		if (tp - now > g->pkt_win)
			return false;
	}
	if (g->byte_rate) {
		n = bytes > UINT32_MAX ? UINT32_MAX : bytes;
		tb = max64(e->tat_byte, now) + n * NS_PER_S / g->byte_rate;
		if (tb - now > g->byte_win)
			return false;
	}
	if (g->pkt_cost)
		e->tat_pkt = tp;
	if (g->byte_rate)
		e->tat_byte = tb;
	return true;
}

/* --- ban table --- */

static uint32_t *ban_head(const struct gate *g, uint64_t hv)
{
	return &g->bhead[(uint32_t)(hv >> 32) & g->bmask];
}

static struct banent *ban_find(const struct gate *g, const struct key *k,
			       uint64_t hv)
{
	uint32_t i = *ban_head(g, hv);

	while (i != NIL) {
		struct banent *b = &g->ban[i];

		if (b->k == k->k && b->fam == k->fam)
			return b;
		i = b->next;
	}
	return NULL;
}

static void ban_info(const struct banent *b, uint64_t now_ms,
		     struct gate_ban_info *info);

/* An ACTIVE ban ran out: keep the entry as a remembered offence, and
 * tell the owner (it logs the expiry). */
static void ban_lapse(struct gate *g, struct banent *b, uint64_t now_ms)
{
	struct gate_ban_info bi;

	b->state = BAN_DORMANT;
	g->active--;
	if (g->conf.lapsed) {
		ban_info(b, now_ms, &bi);
		g->conf.lapsed(g->conf.lapsed_arg, &bi, now_ms);
	}
}

static bool ban_forgotten(const struct gate *g, const struct banent *b,
			  uint64_t now_ms)
{
	return now_ms >= sat_add(b->expires_ms, g->conf.ban_memory_ms);
}

static void ban_remove(struct gate *g, struct banent *b)
{
	struct key k = {.k = b->k, .fam = b->fam};
	uint32_t idx = (uint32_t)(b - g->ban);
	uint32_t *pp = ban_head(g, key_hash(g, &k));

	while (*pp != idx)
		pp = &g->ban[*pp].next;
	*pp = b->next;
	if (b->state == BAN_ACTIVE)
		g->active--;
	memset(b, 0, sizeof(*b));
	b->next = g->free;
	g->free = idx;
	g->used--;
}

/*
 * The table is full: sample entries from a random place (all of them in
 * a small table) and give up a remembered or lapsed one, else the ban
 * that ends soonest.
 */
static struct banent *ban_victim(struct gate *g, uint64_t now_ms)
{
	size_t n = g->cap, start = 0, i;
	struct banent *best = NULL;

	if (n > GATE_EVICT_SAMPLES) {
		n = GATE_EVICT_SAMPLES;
		start = (size_t)(rng_next(g) % g->cap);
	}
	for (i = 0; i < n; i++) {
		struct banent *b = &g->ban[(start + i) % g->cap];

		if (b->state != BAN_ACTIVE || now_ms >= b->expires_ms)
			return b;
		if (!best || b->expires_ms < best->expires_ms)
			best = b;
	}
	return best;
}

/* A free entry linked under k; evicts when the table is full. */
static struct banent *ban_alloc(struct gate *g, const struct key *k,
				uint64_t hv, uint64_t now_ms)
{
	struct banent *b;
	uint32_t *head;

	if (g->free == NIL) {
		ban_remove(g, ban_victim(g, now_ms));
		g->st.bans_evicted++;
	}
	b = &g->ban[g->free];
	g->free = b->next;
	g->used++;
	b->k = k->k;
	b->fam = k->fam;
	b->offences = 0;
	head = ban_head(g, hv);
	b->next = *head;
	*head = (uint32_t)(b - g->ban);
	return b;
}

/* ban_first_ms * ban_factor^(n-1), at most ban_max_ms. */
static uint64_t ban_escalate(const struct gate *g, uint32_t n)
{
	const struct gate_conf *c = &g->conf;
	uint64_t d = c->ban_first_ms;
	uint32_t i;

	for (i = 1; i < n && c->ban_factor > 1 && d < c->ban_max_ms; i++)
		d = d > c->ban_max_ms / c->ban_factor ? c->ban_max_ms
						      : d * c->ban_factor;
	return d < c->ban_max_ms ? d : c->ban_max_ms;
}

static void ban_text(struct banent *b, const char *rule, const char *reason)
{
	snprintf(b->rule, sizeof(b->rule), "%s", rule ? rule : "");
	snprintf(b->reason, sizeof(b->reason), "%s", reason ? reason : "");
}

/* Tell the hook (if any) about a ban just made or extended. */
static void gate_notify(struct gate *g, const struct guard_src *src,
			uint64_t now_ms, bool banned)
{
	struct gate_ban_info bi;

	if (g->hook && gate_ban_get(g, src, now_ms, &bi) == 0)
		g->hook(g->hook_arg, &bi, banned);
}

int gate_ban(struct gate *g, const struct guard_src *src, uint64_t duration_ms,
	     const char *rule, const char *reason, uint64_t now_ms,
	     uint64_t wall_ms)
{
	struct banent *b;
	struct key k;
	uint64_t hv;

	if (!g || !src || !key_from_src(src, &k))
		return -EINVAL;
	if (allow_classify(g, &k) != GATE__ALLOW_NO)
		return -EPERM;
	hv = key_hash(g, &k);
	b = ban_find(g, &k, hv);
	if (b && b->state == BAN_ACTIVE && now_ms < b->expires_ms) {
		/* Same attack seen by another rule: not a new offence. */
		uint64_t d = duration_ms ? duration_ms
					 : ban_escalate(g, b->offences);

		b->expires_ms = max64(b->expires_ms, sat_add(now_ms, d));
		ban_text(b, rule, reason);
		gate_notify(g, src, now_ms, true);
		return 0;
	}
	if (b) {
		if (b->state == BAN_ACTIVE)
			ban_lapse(g, b, now_ms);
		if (ban_forgotten(g, b, now_ms))
			b->offences = 0;
	} else {
		b = ban_alloc(g, &k, hv, now_ms);
	}
	if (b->offences < UINT32_MAX)
		b->offences++;
	b->state = BAN_ACTIVE;
	b->start_ms = now_ms;
	b->start_wall_ms = wall_ms;
	b->expires_ms =
		sat_add(now_ms, duration_ms ? duration_ms
					    : ban_escalate(g, b->offences));
	b->hits = 0;
	ban_text(b, rule, reason);
	g->active++;
	g->st.bans_total++;
	gate_notify(g, src, now_ms, true);
	return 0;
}

int gate_unban(struct gate *g, const struct guard_src *src)
{
	struct banent *b;
	struct key k;

	if (!g || !src || !key_from_src(src, &k))
		return -EINVAL;
	b = ban_find(g, &k, key_hash(g, &k));
	if (!b)
		return -ENOENT;
	ban_remove(g, b);
	if (g->hook) {
		struct gate_ban_info bi;

		memset(&bi, 0, sizeof(bi));
		bi.src = *src;
		g->hook(g->hook_arg, &bi, false);
	}
	return 0;
}

void gate_set_hook(struct gate *g, gate_change_fn *fn, void *arg)
{
	g->hook = fn;
	g->hook_arg = arg;
}

static const struct banent *ban_lookup(const struct gate *g,
				       const struct guard_src *src)
{
	struct key k;

	if (!g || !src || !key_from_src(src, &k))
		return NULL;
	return ban_find(g, &k, key_hash(g, &k));
}

bool gate_is_banned(const struct gate *g, const struct guard_src *src,
		    uint64_t now_ms)
{
	const struct banent *b = ban_lookup(g, src);

	return b && b->state == BAN_ACTIVE && now_ms < b->expires_ms;
}

static void ban_info(const struct banent *b, uint64_t now_ms,
		     struct gate_ban_info *info)
{
	struct key k = {.k = b->k, .fam = b->fam};

	memset(info, 0, sizeof(*info));
	key_to_src(&k, &info->src);
	memcpy(info->rule, b->rule, sizeof(info->rule));
	memcpy(info->reason, b->reason, sizeof(info->reason));
	info->start_wall_ms = b->start_wall_ms;
	info->start_ms = b->start_ms;
	info->expires_ms = b->expires_ms;
	info->expires_wall_ms = b->expires_ms == GATE_FOREVER
					? GATE_FOREVER
					: sat_add(b->start_wall_ms,
						  b->expires_ms - b->start_ms);
	info->hits = b->hits;
	info->offences = b->offences;
	info->active = b->state == BAN_ACTIVE && now_ms < b->expires_ms;
}

int gate_ban_get(const struct gate *g, const struct guard_src *src,
		 uint64_t now_ms, struct gate_ban_info *info)
{
	const struct banent *b = ban_lookup(g, src);

	if (!b || !info)
		return -ENOENT;
	ban_info(b, now_ms, info);
	return 0;
}

bool gate_ban_next(const struct gate *g, size_t *cursor, uint64_t now_ms,
		   bool dormant, struct gate_ban_info *info)
{
	for (; g && *cursor < g->cap; (*cursor)++) {
		const struct banent *b = &g->ban[*cursor];
		bool active;

		if (b->state == BAN_FREE)
			continue;
		active = b->state == BAN_ACTIVE && now_ms < b->expires_ms;
		if (!active && (!dormant || ban_forgotten(g, b, now_ms)))
			continue;
		ban_info(b, now_ms, info);
		(*cursor)++;
		return true;
	}
	return false;
}

size_t gate_expire(struct gate *g, uint64_t now_ms, size_t budget)
{
	size_t changed = 0;

	if (!g)
		return 0;
	if (budget > g->cap)
		budget = g->cap;
	while (budget--) {
		struct banent *b = &g->ban[g->sweep];
		bool hit = false;

		if (++g->sweep == g->cap)
			g->sweep = 0;
		if (b->state == BAN_ACTIVE && now_ms >= b->expires_ms) {
			ban_lapse(g, b, now_ms);
			hit = true;
		}
		if (b->state == BAN_DORMANT && ban_forgotten(g, b, now_ms)) {
			ban_remove(g, b);
			hit = true;
		}
		changed += hit;
	}
	return changed;
}

void gate_stats(const struct gate *g, struct gate_stats *st)
{
	*st = g->st;
	st->bans_active = g->active;
	st->bans_used = g->used;
	st->src_used = g->src_used;
}

/* --- the check --- */

enum gate_verdict gate_check(struct gate *g, const struct sg_addr *src,
			     size_t bytes, uint64_t now_ms)
{
	uint64_t now = now_ms * NS_PER_MS, lo, hv;
	struct srcent *e;
	struct key k;
	bool ok;

	g->st.checked++;
	if (!key_from_addr(src, &k, &lo)) {
		g->st.passed++;
		return GATE_PASS;
	}
	hv = key_hash(g, &k);
	if (g->active) {
		struct banent *b = ban_find(g, &k, hv);

		if (b && b->state == BAN_ACTIVE) {
			if (now_ms < b->expires_ms) {
				b->hits++;
				g->st.drop_banned++;
				return GATE_BANNED;
			}
			ban_lapse(g, b, now_ms);
		}
	}
	e = src_get(g, &k, hv, now);
	ok = e->allow == GATE__ALLOW_YES ||
	     (e->allow == GATE__ALLOW_PART &&
	      gate__allow_long6(&g->allow, k.k, lo)) ||
	     src_admit(g, e, bytes, now);
	e->until = max64(max64(e->until, now), max64(e->tat_pkt, e->tat_byte));
	if (!ok) {
		g->st.drop_rate++;
		/* Far over its rate for a whole second: a flood, not a
		 * burst.  The caller bans it, so its next packets cost a
		 * ban lookup only and it shows in the ban list. */
		if (now_ms - e->drop_win >= 1000) {
			e->drop_win = now_ms;
			e->drops = 0;
		}
		if (g->conf.flood_drops && ++e->drops == g->conf.flood_drops)
			return GATE_FLOOD;
		return GATE_RATE;
	}
	g->st.passed++;
	return GATE_PASS;
}

/* --- creation --- */

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errsz,
						      const char *fmt, ...)
{
	va_list ap;

	if (errsz) {
		va_start(ap, fmt);
		vsnprintf(err, errsz, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int conf_check(const struct gate_conf *c, char *err, size_t errsz)
{
	if (c->sources < GATE_SRC_MIN || c->sources > GATE_SRC_MAX)
		return fail(err, errsz, "gate: sources must be %d..%d",
			    GATE_SRC_MIN, GATE_SRC_MAX);
	if (c->bans < 1 || c->bans > GATE_BANS_MAX)
		return fail(err, errsz, "gate: bans must be 1..%d",
			    GATE_BANS_MAX);
	if (c->pkt_rate > GATE_RATE_MAX || c->byte_rate > GATE_RATE_MAX)
		return fail(err, errsz, "gate: rates must be at most %d/s",
			    GATE_RATE_MAX);
	if (c->ban_first_ms == 0 || c->ban_factor == 0)
		return fail(err, errsz,
			    "gate: ban_first_ms and ban_factor must be > 0");
	if (c->ban_max_ms < c->ban_first_ms)
		return fail(err, errsz,
			    "gate: ban_max_ms is shorter than ban_first_ms");
	if (c->n_allow > GATE_ALLOW_MAX)
		return fail(err, errsz, "gate: more than %d allow prefixes",
			    GATE_ALLOW_MAX);
	if (c->n_allow && !c->allow)
		return fail(err, errsz, "gate: allow list missing");
	return 0;
}

static int allow_load(struct gate *g, const struct gate_conf *c, char *err,
		      size_t errsz)
{
	struct gate_cidr cidr;
	const char *why;
	size_t i;

	for (i = 0; i < c->n_allow; i++) {
		if (!c->allow[i])
			return fail(err, errsz, "gate: allow[%zu] is NULL", i);
		if (gate_cidr_parse(&cidr, str_cstr(c->allow[i]), &why))
			return fail(err, errsz, "gate: allow[%zu] \"%.*s\": %s",
				    i, GATE_CIDR_TEXT_MAX, c->allow[i], why);
		gate__allow_add(&g->allow, &cidr);
	}
	return 0;
}

static int tables_alloc(struct gate *g, const struct gate_conf *c)
{
	size_t sets = 1, nb = 1, i;

	while (sets * WAYS < c->sources)
		sets <<= 1;
	while (nb < c->bans)
		nb <<= 1;
	g->src = mem_zalloc(sets * WAYS * sizeof(*g->src));
	g->ban = mem_zalloc(c->bans * sizeof(*g->ban));
	g->bhead = mem_alloc(nb * sizeof(*g->bhead));
	if (!g->src || !g->ban || !g->bhead)
		return -ENOMEM;
	g->smask = sets - 1;
	g->bmask = (uint32_t)(nb - 1);
	memset(g->bhead, 0xff, nb * sizeof(*g->bhead)); /* all NIL */
	g->cap = c->bans;
	for (i = 0; i < g->cap; i++)
		g->ban[i].next = i + 1 < g->cap ? (uint32_t)(i + 1) : NIL;
	g->free = 0;
	return 0;
}

static void rates_setup(struct gate *g, const struct gate_conf *c)
{
	if (c->pkt_rate) {
		g->pkt_cost = NS_PER_S / c->pkt_rate;
		g->pkt_win = (c->pkt_burst ? c->pkt_burst : c->pkt_rate) *
			     g->pkt_cost;
	}
	if (c->byte_rate) {
		g->byte_rate = c->byte_rate;
		g->byte_win = (c->byte_burst ? c->byte_burst : c->byte_rate) *
			      NS_PER_S / c->byte_rate;
	}
}

int gate_new(struct gate **gp, const struct gate_conf *c, char *err,
	     size_t errsz)
{
	struct gate *g = NULL;
	int rc;

	if (errsz)
		err[0] = '\0';
	*gp = NULL;
	if (!c)
		return fail(err, errsz, "gate: no configuration");
	rc = conf_check(c, err, errsz);
	if (rc)
		return rc;
	g = mem_zalloc(sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->conf = *c;
	g->conf.allow = NULL;
	g->conf.n_allow = 0;
	g->conf.hash_key = NULL;
	rc = allow_load(g, c, err, errsz);
	if (rc)
		goto out;
	if (c->hash_key)
		memcpy(g->key, c->hash_key, sizeof(g->key));
	else if ((rc = rand_bytes(g->key, sizeof(g->key))) != 0)
		goto out;
	g->rng = siphash24("gate-rng", 8, g->key) | 1;
	rc = tables_alloc(g, c);
	if (rc)
		goto out;
	rates_setup(g, c);
	*gp = g;
	g = NULL;
out:
	gate_free(g);
	return rc;
}

void gate_free(struct gate *g)
{
	if (!g)
		return;
	mem_free(g->src);
	mem_free(g->ban);
	mem_free(g->bhead);
	mem_secclean(g->key, sizeof(g->key));
	mem_free(g);
}

/*
 * Reload (operations issue): take the new rates and ban policy, keep
 * the tables (sources, bans, offences) and the allow list.  Table sizes
 * cannot change in place.
 */
int gate_reconf(struct gate *g, const struct gate_conf *c, char *err,
		size_t errsz)
{
	struct gate_conf keep;
	int rc;

	if (!g || !c)
		return -EINVAL;
	rc = conf_check(c, err, errsz);
	if (rc)
		return rc;
	if (c->sources != g->conf.sources || c->bans != g->conf.bans)
		return fail(err, errsz, "gate: table sizes need a restart");
	keep = g->conf;
	g->conf = *c;
	g->conf.allow = NULL;
	g->conf.n_allow = 0;
	g->conf.hash_key = NULL;
	g->conf.lapsed = keep.lapsed;
	g->conf.lapsed_arg = keep.lapsed_arg;
	g->pkt_cost = g->pkt_win = 0;
	g->byte_rate = g->byte_win = 0;
	rates_setup(g, c);
	return 0;
}
