/*
 * gate.c - the pre-parse gate (see gate.h): the check, per-source rate
 * limiters, the allow list, creation and reload (the ban table is in
 * gate_ban.c).
 *
 * Layout, all allocated once by gate_new():
 *  - ban table: gate_ban.c (its file comment says how it works).
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

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "core/siphash.h"
#include "core/rand.h"
#include "guard/gate_int.h"

enum {
	WAYS = 8, /* entries per source set */
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

/* --- allow list (matching lives in cidr.c) --- */

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
		struct banent *b = gate__ban_find(g, &k, hv);

		if (b && b->state == BAN_ACTIVE) {
			if (now_ms < b->expires_ms) {
				b->hits++;
				g->st.drop_banned++;
				return GATE_BANNED;
			}
			gate__ban_lapse(g, b, now_ms);
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
