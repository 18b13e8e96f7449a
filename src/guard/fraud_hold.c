/*
 * fraud_hold.c - the anomaly rules' blocks and throttles across
 * instances.  Without this, a user blocked on instance A for a burst of
 * short international calls (fraud_learn.c) went on calling through B.
 *
 * A hold travels as a shared ban record (store_ban_put(): Redis' ban
 * table and channel, the path address bans take, so it reaches every
 * instance within a second, a starting instance loads it, and a resync
 * pushes it again) whose key is "fb:" (block) or "fd:" (throttle) and
 * the user's cluster hash in 16 hex digits, the hash of the fraud keys
 * ("fc:"...: no name in clear in Redis).  Keys of hex digits and ':'
 * are valid ban keys, and an instance that does not know these refuses
 * them as addresses (bansync.c), so a rolling upgrade is safe.  The
 * record carries the rule, a fixed reason and wall-clock start and end.
 *
 * Holds from other instances wait in a fixed table (FR_HOLDS; when it
 * is full, the one that ends soonest makes room) until the user's next
 * call is checked here: one SipHash of the user per call while the
 * table holds any, none otherwise.  The hold then applies here for the
 * time it has left (the later end wins), so the user is refused here
 * as on the instance that blocked it.  A throttle limits the user's
 * calls a minute on each instance (its window is not counted across
 * instances).  Monitor mode publishes nothing: the action is not
 * applied.
 *
 * Unblocking (sipguardctl unblock USER, fraud_unblock()) clears the
 * user here and unbans both keys; an instance told of the unban marks
 * the hold lifted and clears the user at its next call (its own tables
 * are keyed by a hash of its own), and the store's unban marker keeps a
 * resynchronising instance from pushing the hold back.  Everywhere, the
 * user's short calls then count from none (a false positive's burst
 * no longer counts; a new burst fires again).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/siphash.h"
#include "guard/fraud_int.h"
#include "store/store.h"

/* Ban keys are hex digits, '.', ':' and '/' (store_key_valid()):
 * "fb:" blocks, "fd:" throttles ("damps"). */
static const char *const hold_pre[2] = {"fd:", "fb:"};

static uint64_t user_hash(const struct fraud_share *sh, struct str user)
{
	return siphash24(user.p, user.len, sh->key);
}

/* The hold's key and block flag from key text; false: not a hold's. */
static bool hold_parse(const char *key, uint64_t *hp, bool *blockp)
{
	uint64_t h = 0;
	size_t i;

	if (strncmp(key, "fb:", 3) && strncmp(key, "fd:", 3))
		return false;
	for (i = 3; i < 3 + 16; i++) {
		char c = key[i];

		if (c >= '0' && c <= '9')
			h = h << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			h = h << 4 | (uint64_t)(c - 'a' + 10);
		else
			return false;
	}
	if (key[i] != '\0' || h == 0)
		return false;
	*hp = h;
	*blockp = key[1] == 'b';
	return true;
}

bool fraud_share_hold_key(const char *key)
{
	uint64_t h;
	bool b;

	return key && hold_parse(key, &h, &b);
}

/* Holds in use are holds[0..nholds): a scan costs what they are. */
static struct fr_hold *hold_find(struct fraud_share *sh, uint64_t h, bool block)
{
	size_t i;

	for (i = 0; i < sh->nholds; i++)
		if (sh->holds[i].h == h && sh->holds[i].block == block)
			return &sh->holds[i];
	return NULL;
}

static void hold_drop(struct fraud_share *sh, struct fr_hold *x)
{
	*x = sh->holds[--sh->nholds];
	memset(&sh->holds[sh->nholds], 0, sizeof(*x));
}

/* A slot for (h, block): its own, a new one, else (full) the one that
 * ends soonest. */
static struct fr_hold *hold_slot(struct fraud_share *sh, uint64_t h, bool block)
{
	struct fr_hold *x = hold_find(sh, h, block), *soon;
	size_t i;

	if (x)
		return x;
	if (sh->nholds < FR_HOLDS) {
		x = &sh->holds[sh->nholds++];
	} else {
		soon = &sh->holds[0];
		for (i = 1; i < FR_HOLDS; i++)
			if (sh->holds[i].until_wall < soon->until_wall)
				soon = &sh->holds[i];
		x = soon;
	}
	memset(x, 0, sizeof(*x));
	return x;
}

/* Record a hold; false when a later end was known already. */
static bool hold_keep(struct fraud_share *sh, uint64_t h, bool block,
		      const char *rule, uint64_t start, uint64_t until,
		      bool own)
{
	struct fr_hold *x = hold_slot(sh, h, block);

	if (x->h && x->until_wall >= until)
		return false;
	x->lifted = false;
	x->own = own;
	x->h = h;
	x->block = block;
	x->start_wall = start;
	x->until_wall = until;
	snprintf(x->rule, sizeof(x->rule), "%s", rule ? rule : "");
	return true;
}

static int hold_push(struct fraud_share *sh, const struct fr_hold *x)
{
	struct store_ban b;
	char kb[STORE_HKEY_MAX];
	struct str k = store_hkey(kb, hold_pre[x->block], x->h);

	memset(&b, 0, sizeof(b));
	memcpy(b.key, k.p, k.len);
	snprintf(b.rule, sizeof(b.rule), "%s", x->rule);
	snprintf(b.reason, sizeof(b.reason), "%s",
		 x->block ? "toll fraud suspected: user blocked"
			  : "toll fraud suspected: user throttled");
	b.start_wall_ms = x->start_wall;
	b.expires_wall_ms = x->until_wall;
	b.offences = 1;
	return store_ban_put(sh->s, &b);
}

void fraud__hold_publish(struct fraud *f, struct str user, bool block,
			 const char *rule, uint64_t dur_ms, uint64_t wall)
{
	struct fraud_share *sh = f->share;
	struct fr_hold *x;
	uint64_t h;
	int rc;

	if (!sh || !sh->s || !dur_ms)
		return;
	h = user_hash(sh, user);
	if (!h || !hold_keep(sh, h, block, rule, wall, wall + dur_ms, true))
		return;
	x = hold_find(sh, h, block);
	/* Disconnected: pushed again at resync (store.h). */
	if (x && (rc = hold_push(sh, x)) != 0)
		log_warn("fraud: a %s could not be shared: %s",
			 block ? "block" : "throttle", strerror(-rc));
}

void fraud_share_hold_put(struct fraud_share *sh, const struct store_ban *b,
			  uint64_t wall)
{
	uint64_t h;
	bool block;

	if (!sh || !b || !hold_parse(b->key, &h, &block))
		return;
	/* Over, or forever (0), or longer than block_time and
	 * throttle_time may be: not one of ours. */
	if (!b->expires_wall_ms || b->expires_wall_ms <= wall ||
	    b->expires_wall_ms - wall > FR_HOLD_MAX_MS)
		return;
	(void)hold_keep(sh, h, block, b->rule, b->start_wall_ms,
			b->expires_wall_ms, false);
}

void fraud_share_hold_del(struct fraud_share *sh, const char *key)
{
	struct fr_hold *x;
	uint64_t h;
	bool block;

	if (!sh || !key || !hold_parse(key, &h, &block))
		return;
	/* The user may be held here already: clear it at its next call. */
	x = hold_find(sh, h, block);
	if (x)
		x->lifted = true;
}

size_t fraud_share_hold_resync(struct fraud_share *sh, uint64_t wall)
{
	size_t i, n = 0;

	if (!sh || !sh->s)
		return 0;
	for (i = 0; i < sh->nholds; i++) {
		const struct fr_hold *x = &sh->holds[i];

		if (!x->lifted && x->until_wall > wall && hold_push(sh, x) == 0)
			n++;
	}
	return n;
}

void fraud__short_reset(struct fr_user *u)
{
	/* A false positive: the burst that fired no longer counts, and a
	 * new one fires again at once. */
	memset(&u->shortc, 0, sizeof(u->shortc));
	u->short_quiet_until = 0;
}

void fraud__held(struct fr_user *u, struct str user, const char *rule)
{
	size_t n = user.len < sizeof(u->name) ? user.len : sizeof(u->name);

	if (n)
		memcpy(u->name, user.p, n);
	u->name_len = (uint8_t)n;
	u->held_rule = rule;
}

/* Our name for a rule another instance sent. */
static const char *rule_of(const char *text)
{
	static const char *const known[] = {FRAUD_R_SHORT, FRAUD_R_HOURS,
					    FRAUD_R_BASELINE};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(text, known[i]))
			return known[i];
	return FRAUD_R_CLUSTER;
}

/* Hold u (named user) until the monotonic time that leaves the same
 * time as x's end; a lifted x clears what it held instead. */
static void hold_on(struct fraud_share *sh, struct fr_user *u, struct str user,
		    const struct fr_hold *x, uint64_t now, uint64_t wall)
{
	uint64_t end = now + (x->until_wall - wall);
	uint64_t *at = x->block ? &u->blocked_until : &u->throttled_until;

	if (x->lifted) {
		*at = 0;
		fraud__short_reset(u);
		return;
	}
	if (*at < end) {
		*at = end;
		fraud__held(u, user, rule_of(x->rule));
		sh->held_in++;
	}
}

void fraud__hold_apply(struct fraud *f, struct fr_user *u, struct str user,
		       uint64_t now, uint64_t wall)
{
	struct fraud_share *sh = f->share;
	struct fr_hold *x;
	uint64_t h;
	size_t i = 0;

	if (!sh || !sh->nholds || !sh->s || !u)
		return;
	h = user_hash(sh, user);
	while (i < sh->nholds) {
		x = &sh->holds[i];
		if (x->until_wall <= wall) {
			hold_drop(sh, x); /* over: its slot is reused */
			continue;
		}
		if (x->h == h && (!x->own || x->lifted)) {
			hold_on(sh, u, user, x, now, wall);
			if (x->lifted) {
				hold_drop(sh, x); /* done with */
				continue;
			}
		}
		i++;
	}
}

/* ------------------------------------------------- the administrator */

size_t fraud_held_list(struct fraud *f, struct fraud_held *out, size_t max,
		       uint64_t now)
{
	size_t i, n = 0;

	if (!f || !f->ncls)
		return 0;
	for (i = 0; i < f->users.n && n < max; i++) {
		const struct fr_user *u =
			(const void *)(f->users.mem + i * f->users.stride);
		bool b = u->blocked_until > now;

		if (!u->k.h || (!b && u->throttled_until <= now))
			continue;
		memcpy(out[n].user, u->name, u->name_len);
		out[n].user[u->name_len] = '\0';
		out[n].rule = u->held_rule ? u->held_rule : FRAUD_R_CLUSTER;
		out[n].blocked = b;
		out[n].left_ms =
			(b ? u->blocked_until : u->throttled_until) - now;
		n++;
	}
	return n;
}

void fraud_held_count(const struct fraud *f, uint64_t now, size_t *blocked,
		      size_t *throttled)
{
	size_t i;

	*blocked = *throttled = 0;
	if (!f || !f->ncls)
		return;
	for (i = 0; i < f->users.n; i++) {
		const struct fr_user *u =
			(const void *)(f->users.mem + i * f->users.stride);

		if (!u->k.h)
			continue;
		if (u->blocked_until > now)
			(*blocked)++;
		else if (u->throttled_until > now)
			(*throttled)++;
	}
}

/* Forget user's holds here and unban both keys in the cluster. */
static bool hold_lift(struct fraud_share *sh, struct str user)
{
	char kb[STORE_HKEY_MAX], key[STORE_HKEY_MAX];
	uint64_t h = user_hash(sh, user);
	struct fr_hold *x;
	struct str s;
	bool had = false;
	int k;

	for (k = 0; k < 2; k++) {
		x = hold_find(sh, h, k == 1);
		if (x) {
			had = had || !x->lifted;
			hold_drop(sh, x);
		}
		s = store_hkey(kb, hold_pre[k], h);
		memcpy(key, s.p, s.len);
		key[s.len] = '\0';
		(void)store_ban_del(sh->s, key);
	}
	return had;
}

int fraud_unblock(struct fraud *f, struct str user, uint64_t now)
{
	struct fr_user *u;
	bool held = false;

	if (!f || !f->ncls)
		return -ENOENT;
	if (user.len > FRAUD_USER_MAX)
		user.len = FRAUD_USER_MAX;
	u = fraud__user(f, fraud__user_hash(f, user), 0, false);
	if (u) {
		held = u->blocked_until > now || u->throttled_until > now;
		u->blocked_until = 0;
		u->throttled_until = 0;
		fraud__short_reset(u);
	}
	if (f->share && f->share->s && hold_lift(f->share, user))
		held = true;
	return held ? 0 : -ENOENT;
}
