/*
 * bansync.c - bans shared between sipguard instances: the bridge between
 * this instance's gate (gate.h, the ban table every packet is checked
 * against) and the store (store.h, Redis when configured).
 *
 * Local bans and unbans reach the gate's change hook and are published;
 * bans and unbans from other instances are applied to the gate with the
 * rule, reason and remaining time they carry (a ban already in force
 * keeps the later expiry, so every instance converges on the longest).
 * While a remote change is being applied the hook is muted: what came
 * from the cluster is not sent back to it.  Expiry is never published:
 * each instance lets a ban lapse on its own clock.
 *
 * Toll fraud's blocks and throttles of users travel the same way, as
 * records keyed "fb:"/"fd:" and a hash of the user (fraud_hold.c):
 * those go to the fraud share, never to the gate.
 *
 * The packet path is untouched: gate_check() still answers from local
 * memory in O(1); only ban decisions (rare) cost a Redis command.
 */
#include "guard/guard.h"
#include "guard/fraud.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "store/store.h"

/* Owner: whoever called guard_sync_new() (the daemon). */
struct guard_sync {
	struct guard *g;
	struct store *s;
	struct loop *l;
	bool applying; /* a remote change: do not publish it again */
	uint64_t applied, refused;
};

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void to_store(struct store_ban *sb, const struct gate_ban_info *bi)
{
	memset(sb, 0, sizeof(*sb));
	guard_src_fmt(&bi->src, sb->key, sizeof(sb->key));
	snprintf(sb->rule, sizeof(sb->rule), "%s", bi->rule);
	snprintf(sb->reason, sizeof(sb->reason), "%s", bi->reason);
	sb->start_wall_ms = bi->start_wall_ms;
	sb->expires_wall_ms =
		bi->expires_wall_ms == GATE_FOREVER ? 0 : bi->expires_wall_ms;
	sb->offences = bi->offences;
}

/* The gate's hook: a local ban or unban. */
static void on_change(void *arg, const struct gate_ban_info *bi, bool banned)
{
	struct guard_sync *gs = arg;
	struct store_ban sb;

	if (gs->applying)
		return;
	to_store(&sb, bi);
	if (banned)
		(void)store_ban_put(gs->s, &sb);
	else
		(void)store_ban_del(gs->s, sb.key);
}

static void on_remote_ban(void *arg, const struct store_ban *b)
{
	struct guard_sync *gs = arg;
	struct guard_src src;
	const char *why;
	uint64_t wall = wall_ms(), dur;

	if (fraud_share_hold_key(b->key)) {
		fraud_share_hold_put(guard_fraud_share_obj(gs->g), b, wall);
		gs->applied++;
		return;
	}
	if (gate_src_parse(&src, str_cstr(b->key), &why) != 0) {
		gs->refused++;
		return;
	}
	if (b->expires_wall_ms == 0)
		dur = GATE_FOREVER;
	else if (b->expires_wall_ms > wall)
		dur = b->expires_wall_ms - wall;
	else
		return; /* already over */
	gs->applying = true;
	/* -EPERM: allow-listed here; this instance's allow list wins. */
	if (gate_ban(guard_gate_obj(gs->g), &src, dur, b->rule, b->reason,
		     loop_now(gs->l), wall) == 0)
		gs->applied++;
	else
		gs->refused++;
	gs->applying = false;
}

static void on_remote_unban(void *arg, const char *key)
{
	struct guard_sync *gs = arg;
	struct guard_src src;
	const char *why;

	if (fraud_share_hold_key(key)) {
		fraud_share_hold_del(guard_fraud_share_obj(gs->g), key);
		gs->applied++;
		return;
	}
	if (gate_src_parse(&src, str_cstr(key), &why) != 0) {
		gs->refused++;
		return;
	}
	gs->applying = true;
	/* Through the guard: it also lifts a scanner hold on the source. */
	if (guard_unban(gs->g, &src, loop_now(gs->l), wall_ms()) == 0)
		gs->applied++;
	gs->applying = false;
}

/* Redis is (back): push every ban in force here. */
static void on_resync(void *arg)
{
	struct guard_sync *gs = arg;
	struct gate_ban_info bi;
	struct store_ban sb;
	size_t cursor = 0, n = 0;

	while (gate_ban_next(guard_gate_obj(gs->g), &cursor, loop_now(gs->l),
			     false, &bi)) {
		to_store(&sb, &bi);
		if (store_ban_put(gs->s, &sb) == 0)
			n++;
	}
	log_info("store: %zu local bans pushed", n);
	n = fraud_share_hold_resync(guard_fraud_share_obj(gs->g), wall_ms());
	if (n)
		log_info("store: %zu toll-fraud holds pushed", n);
}

int guard_sync_new(struct guard_sync **gsp, struct guard *g, struct store *s,
		   struct loop *l)
{
	struct guard_sync *gs;
	struct store_events ev = {
		.ban = on_remote_ban,
		.unban = on_remote_unban,
		.resync = on_resync,
	};

	if (!gsp || !g || !s || !l)
		return -EINVAL;
	gs = mem_zalloc(sizeof(*gs));
	if (!gs)
		return -ENOMEM;
	gs->g = g;
	gs->s = s;
	gs->l = l;
	ev.arg = gs;
	store_set_events(s, &ev);
	gate_set_hook(guard_gate_obj(g), on_change, gs);
	*gsp = gs;
	return 0;
}

void guard_sync_free(struct guard_sync *gs)
{
	struct store_events none;

	if (!gs)
		return;
	memset(&none, 0, sizeof(none));
	gate_set_hook(guard_gate_obj(gs->g), NULL, NULL);
	store_set_events(gs->s, &none);
	mem_free(gs);
}
