/*
 * gate_ban.c - the ban table of the pre-parse gate (gate.h): bans with
 * escalating durations, remembered offences, the sync hook, listing and
 * the expiry sweep.
 *
 * The table: an array of entries (free ones on a free list) indexed by
 * a chained hash whose chains are 32-bit indexes, so nothing allocates
 * after creation.  An entry is FREE, ACTIVE (the ban is in force until
 * expires_ms) or DORMANT (expired; its offence count is kept for
 * ban_memory_ms so a repeat offender gets a longer ban).  ACTIVE
 * entries past their expiry turn DORMANT lazily, in gate_check() or in
 * gate_expire().
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "guard/gate_int.h"

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

/* xorshift64*: picks where eviction sampling starts; not a secret. */
static uint64_t rng_next(struct gate *g)
{
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545f4914f6cdd1dULL;
}

/* --- ban table --- */

static uint32_t *ban_head(const struct gate *g, uint64_t hv)
{
	return &g->bhead[(uint32_t)(hv >> 32) & g->bmask];
}

struct banent *gate__ban_find(const struct gate *g, const struct key *k,
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
void gate__ban_lapse(struct gate *g, struct banent *b, uint64_t now_ms)
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
	b = gate__ban_find(g, &k, hv);
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
			gate__ban_lapse(g, b, now_ms);
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
	b = gate__ban_find(g, &k, key_hash(g, &k));
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
	return gate__ban_find(g, &k, key_hash(g, &k));
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
			gate__ban_lapse(g, b, now_ms);
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
