/*
 * dialog.c - the dialog table: a capped pool of records indexed by a
 * seeded hash of Call-ID and the caller's tag (RFC 3261 12: a dialog is
 * identified by Call-ID, local and remote tag), the per-record string
 * block, the timers (setup, idle, RFC 4028 session expiry, maximum
 * duration, BYE without answer) and the end of a record, which is freed
 * only at a safe point (the next wheel run), never inside a callback.
 *
 * The message handling (which request or response moves a record where)
 * is in dialog_msg.c; see dialog.h for the model.
 */
#include "sip/dialog_int.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "core/slab.h"

const struct sip_dlg_conf sip_dlg_conf_default = {
	.max_dialogs = 100000,
	.max_forks = 8,
	.setup_timeout_ms = 180 * 1000,
	.idle_timeout_ms = 2 * 3600 * 1000,
	.max_duration_ms = 12 * 3600 * 1000,
	.bye_timeout_ms = 32 * 1000, /* 64*T1: a BYE transaction's life */
};

static const char *const state_names[] = {
	[SIP_DLG_TRYING] = "trying",
	[SIP_DLG_EARLY] = "early",
	[SIP_DLG_CONFIRMED] = "confirmed",
	[SIP_DLG_TERMINATED] = "terminated",
};

static const char *const reason_names[] = {
	[SIP_DLG_END_NONE] = "",
	[SIP_DLG_END_BYE_CALLER] = "bye-caller",
	[SIP_DLG_END_BYE_CALLEE] = "bye-callee",
	[SIP_DLG_END_CANCELLED] = "cancelled",
	[SIP_DLG_END_REJECTED] = "rejected",
	[SIP_DLG_END_NO_ANSWER] = "timeout:no-answer",
	[SIP_DLG_END_IDLE] = "timeout:idle",
	[SIP_DLG_END_SESSION] = "timeout:session-expires",
	[SIP_DLG_END_MAX_DURATION] = "timeout:max-duration",
	[SIP_DLG_END_POLICY] = "policy",
	[SIP_DLG_END_ERROR] = "error",
	[SIP_DLG_END_FORK_LOST] = "fork-lost",
	[SIP_DLG_END_SUBSCRIPTION] = "subscription-terminated",
	[SIP_DLG_END_TAKEOVER] = "takeover",
	[SIP_DLG_END_TAKEN_ELSEWHERE] = "taken-over-elsewhere",
};

const char *sip_dlg_state_name(enum sip_dlg_state s)
{
	return (unsigned)s < SIP_DLG__NSTATES ? state_names[s] : "?";
}

const char *sip_dlg_reason_name(enum sip_dlg_reason r)
{
	return (unsigned)r < SIP_DLG_END__COUNT ? reason_names[r] : "?";
}

const char *sip_dlg_kind_name(enum sip_dlg_kind k)
{
	switch (k) {
	case SIP_DLG_INVITE:
		return "INVITE";
	case SIP_DLG_SUBSCRIBE:
		return "SUBSCRIBE";
	case SIP_DLG_REFER:
		return "REFER";
	}
	return "?";
}

uint64_t sip__dlg_now(const struct sip_dlgs *t)
{
	return tmr_wheel_now(t->w);
}

static uint64_t wall_now(const struct sip_dlgs *t)
{
	struct timespec ts;

	if (t->cb.wall_ms)
		return t->cb.wall_ms(t->arg);
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ strings */

struct str sip_dlg_str(const struct sip_dlg *d, enum sip_dlg_str_id id)
{
	if (!d || (unsigned)id >= SIP_DLG_S__COUNT || !d->s[id].len)
		return str_make("", 0);
	return str_make(d->sb + d->s[id].off, d->s[id].len);
}

struct str sip_dlg_side_str(const struct sip_dlg *d, enum sip_dlg_side s,
			    unsigned f)
{
	unsigned base = s == SIP_DLG_CALLER ? SIP_DLG_S_CALLER_URI
					    : SIP_DLG_S_CALLEE_URI;

	if (f > 2)
		return str_make("", 0);
	return sip_dlg_str(d, (enum sip_dlg_str_id)(base + f));
}

size_t sip_dlg_mem(const struct sip_dlg *d)
{
	return d ? sizeof(*d) + d->sb_len : 0;
}

void sip__dlg_strs(const struct sip_dlg *d, struct str v[SIP_DLG_S__COUNT])
{
	unsigned i;

	for (i = 0; i < SIP_DLG_S__COUNT; i++)
		v[i] = sip_dlg_str(d, (enum sip_dlg_str_id)i);
}

/*
 * One exact-size block for all strings: records are long-lived and
 * numerous, so no slack; strings change rarely (1xx/2xx, target
 * refresh), and each change costs one allocation.
 */
int sip__dlg_set_strs(struct sip_dlg *d, const struct str v[SIP_DLG_S__COUNT])
{
	struct sip_dlg_sref s[SIP_DLG_S__COUNT];
	size_t total = 0;
	char *sb = NULL;
	unsigned i;

	for (i = 0; i < SIP_DLG_S__COUNT; i++) {
		if (v[i].len > SIP_DLG_MAX_STRINGS - total)
			return -E2BIG;
		total += v[i].len;
	}
	if (total) {
		sb = slab_alloc(d->t->slab, total);
		if (!sb)
			return -ENOMEM;
	}
	total = 0;
	for (i = 0; i < SIP_DLG_S__COUNT; i++) {
		s[i].off = (uint16_t)total;
		s[i].len = (uint16_t)v[i].len;
		if (v[i].len)
			memcpy(sb + total, v[i].p, v[i].len);
		total += v[i].len;
	}
	slab_free(d->t->slab, d->sb);
	d->sb = sb;
	d->sb_len = (uint16_t)total;
	memcpy(d->s, s, sizeof(s));
	return 0;
}

/* -------------------------------------------------------------- lookup */

struct dlg_key {
	struct str call_id, caller_tag;
};

/*
 * Both parts under the table's secret key, so an attacker can neither
 * chain records on one bucket by reusing a Call-ID with many tags nor
 * precompute collisions.
 */
static uint64_t key_hash(const struct sip_dlgs *t, struct str cid,
			 struct str tag)
{
	uint64_t a = htab_hash(&t->h, cid.p, cid.len);
	uint64_t b = htab_hash(&t->h, tag.p, tag.len);

	return a ^ (b * 0x9e3779b97f4a7c15ull + (a >> 29));
}

/* Call-IDs and tags compare byte by byte (RFC 3261 20.8, 19.3). */
static bool key_eq(const struct hnode *n, const void *key)
{
	const struct sip_dlg *d = HTAB_ENTRY(n, const struct sip_dlg, hn);
	const struct dlg_key *k = key;

	return str_eq(sip_dlg_str(d, SIP_DLG_S_CALL_ID), k->call_id) &&
	       str_eq(sip_dlg_str(d, SIP_DLG_S_CALLER_TAG), k->caller_tag);
}

void sip__dlg_group(const struct sip_dlgs *t, struct str call_id,
		    struct str caller_tag, struct sip__dlg_group *g)
{
	struct dlg_key k = {call_id, caller_tag};
	struct hnode *n;

	g->n = 0;
	if (!caller_tag.len)
		return;
	n = htab_find(&t->h, key_hash(t, call_id, caller_tag), key_eq, &k);
	for (; n && g->n < SIP_DLG_MAX_FORKS; n = htab_find_next(n, key_eq, &k))
		g->d[g->n++] = HTAB_ENTRY(n, struct sip_dlg, hn);
}

struct sip_dlg *sip__dlg_lookup(const struct sip_dlgs *t, struct str call_id,
				struct str caller_tag, struct str callee_tag)
{
	struct sip__dlg_group g;
	unsigned i;

	if (!callee_tag.len)
		return NULL;
	sip__dlg_group(t, call_id, caller_tag, &g);
	for (i = 0; i < g.n; i++)
		if (str_eq(sip_dlg_str(g.d[i], SIP_DLG_S_CALLEE_TAG),
			   callee_tag))
			return g.d[i];
	return NULL;
}

struct sip_dlg *sip_dlg_find(const struct sip_dlgs *t, struct str call_id,
			     struct str from_tag, struct str to_tag,
			     enum sip_dlg_side *fromp)
{
	struct sip_dlg *d;
	enum sip_dlg_side side = SIP_DLG_CALLER;

	if (!t)
		return NULL;
	d = sip__dlg_lookup(t, call_id, from_tag, to_tag);
	if (!d) {
		d = sip__dlg_lookup(t, call_id, to_tag, from_tag);
		side = SIP_DLG_CALLEE;
	}
	if (d && fromp)
		*fromp = side;
	return d;
}

/* ---------------------------------------------------------------- pool */

int sip__dlg_create(struct sip_dlgs *t, const struct str v[SIP_DLG_S__COUNT],
		    const struct sip_dlg *src, struct sip_dlg **dp)
{
	struct sip_dlg *d;
	int err;

	if (t->total >= t->conf.max_dialogs)
		return -ENOSPC;
	d = slab_alloc(t->slab, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (src) {
		/* A fork: same call and caller, another callee. */
		*d = *src;
		d->user = NULL;
		d->record = false;
		d->pending = SIP_DLG_END_NONE;
		memset(&d->side[SIP_DLG_CALLEE], 0,
		       sizeof(d->side[SIP_DLG_CALLEE]));
	} else {
		memset(d, 0, sizeof(*d));
		d->state = SIP_DLG_TRYING;
		d->reached = SIP_DLG_TRYING;
		d->start_wall = wall_now(t);
		d->start_mono = d->active_mono = sip__dlg_now(t);
	}
	d->t = t;
	d->dead = NULL;
	d->sb = NULL;
	d->sb_len = 0;
	tmr_init(&d->tmr);
	memset(&d->hn, 0, sizeof(d->hn));
	err = sip__dlg_set_strs(d, v);
	if (err) {
		slab_free(t->slab, d);
		return err;
	}
	htab_insert(&t->h, &d->hn,
		    key_hash(t, v[SIP_DLG_S_CALL_ID], v[SIP_DLG_S_CALLER_TAG]));
	t->total++;
	t->n[d->state]++;
	*dp = d;
	return 0;
}

static void dlg_free(struct sip_dlg *d)
{
	tmr_cancel(&d->tmr);
	d->t->total--;
	d->t->n[d->state]--;
	slab_free(d->t->slab, d->sb);
	slab_free(d->t->slab, d);
}

/* The safe point: no record is in use by a caller any more. */
static void gc_run(struct sip_dlgs *t)
{
	struct sip_dlg *d;

	while ((d = t->dead) != NULL) {
		t->dead = d->dead;
		dlg_free(d);
	}
}

static void gc_fire(void *arg)
{
	gc_run(arg);
}

void sip_dlgs_gc(struct sip_dlgs *t)
{
	if (!t || t->in_cb)
		return;
	tmr_cancel(&t->gc);
	gc_run(t);
}

void sip__dlg_set_state(struct sip_dlg *d, enum sip_dlg_state st)
{
	if (d->state == st || d->state == SIP_DLG_TERMINATED ||
	    st == SIP_DLG_TERMINATED)
		return;
	d->t->n[d->state]--;
	d->t->n[st]++;
	d->state = st;
	if (st > d->reached)
		d->reached = st;
}

void sip__dlg_finish(struct sip_dlg *d, enum sip_dlg_reason r)
{
	struct sip_dlgs *t = d->t;

	if (d->state == SIP_DLG_TERMINATED)
		return;
	t->n[d->state]--;
	t->n[SIP_DLG_TERMINATED]++;
	d->state = SIP_DLG_TERMINATED;
	d->reason = r;
	d->end_mono = sip__dlg_now(t);
	tmr_cancel(&d->tmr);
	htab_remove(&t->h, &d->hn);
	d->dead = t->dead;
	t->dead = d;
	if (!tmr_pending(&t->gc))
		tmr_start(t->w, &t->gc, 0, gc_fire, t);
	if (t->cb.on_end) {
		t->in_cb++;
		t->cb.on_end(t->arg, d);
		t->in_cb--;
	}
}

int sip_dlg_end(struct sip_dlg *d, enum sip_dlg_reason r)
{
	if (!d || (unsigned)r >= SIP_DLG_END__COUNT)
		return -EINVAL;
	if (d->state == SIP_DLG_TERMINATED)
		return -EALREADY;
	sip__dlg_finish(d, r);
	return 0;
}

int sip_dlg_set_max_duration(struct sip_dlg *d, uint64_t ms)
{
	if (!d || d->state == SIP_DLG_TERMINATED)
		return -EINVAL;
	d->max_ms = ms;
	sip__dlg_arm(d);
	return 0;
}

/* -------------------------------------------------------------- timers */

static void deadline(uint64_t *best, enum sip_dlg_reason *rp, uint64_t at,
		     enum sip_dlg_reason r)
{
	if (at < *best) {
		*best = at;
		*rp = r;
	}
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

/* The nearest deadline of d and what happens then (see dialog.h). */
static uint64_t next_deadline(const struct sip_dlg *d, enum sip_dlg_reason *rp)
{
	const struct sip_dlg_conf *c = &d->t->conf;
	uint64_t best = UINT64_MAX;

	*rp = SIP_DLG_END_NONE;
	if (d->pending)
		deadline(&best, rp, add_sat(d->pending_mono, c->bye_timeout_ms),
			 d->pending);
	if (d->state < SIP_DLG_CONFIRMED)
		deadline(&best, rp, add_sat(d->start_mono, c->setup_timeout_ms),
			 SIP_DLG_END_NO_ANSWER);
	else if (d->se_ms)
		deadline(&best, rp, add_sat(d->se_mono, d->se_ms),
			 SIP_DLG_END_SESSION);
	else if (c->idle_timeout_ms)
		deadline(&best, rp, add_sat(d->active_mono, c->idle_timeout_ms),
			 SIP_DLG_END_IDLE);
	if (c->max_duration_ms)
		deadline(&best, rp, add_sat(d->start_mono, c->max_duration_ms),
			 SIP_DLG_END_MAX_DURATION);
	if (d->max_ms)
		deadline(&best, rp, add_sat(d->start_mono, d->max_ms),
			 SIP_DLG_END_MAX_DURATION);
	return best;
}

static void expire(struct sip_dlg *d, enum sip_dlg_reason r)
{
	struct sip_dlgs *t = d->t;
	struct sip__dlg_group g;
	unsigned i;

	/* A BYE that got no answer ends the dialog as the BYE meant to. */
	if (r != d->pending && t->cb.on_expire) {
		t->in_cb++;
		t->cb.on_expire(t->arg, d, r);
		t->in_cb--;
		if (d->state == SIP_DLG_TERMINATED)
			return;
	}
	if (r != SIP_DLG_END_NO_ANSWER) {
		sip__dlg_finish(d, r);
		return;
	}
	/* Forks share the setup deadline: the call ends as a whole. */
	sip__dlg_group(t, sip_dlg_str(d, SIP_DLG_S_CALL_ID),
		       sip_dlg_str(d, SIP_DLG_S_CALLER_TAG), &g);
	for (i = 0; i < g.n; i++)
		if (g.d[i]->state < SIP_DLG_CONFIRMED)
			sip__dlg_finish(g.d[i], r);
	sip__dlg_finish(d, r);
}

static void dlg_timeout(void *arg)
{
	struct sip_dlg *d = arg;
	enum sip_dlg_reason r;
	uint64_t at = next_deadline(d, &r), now = sip__dlg_now(d->t);

	/* Activity only moves active_mono; the timer catches up here. */
	if (at > now) {
		tmr_start(d->t->w, &d->tmr, at - now, dlg_timeout, d);
		return;
	}
	expire(d, r);
}

void sip__dlg_arm(struct sip_dlg *d)
{
	enum sip_dlg_reason r;
	uint64_t at, now;

	if (d->state == SIP_DLG_TERMINATED)
		return;
	at = next_deadline(d, &r);
	if (at == UINT64_MAX) {
		tmr_cancel(&d->tmr);
		return;
	}
	now = sip__dlg_now(d->t);
	tmr_start(d->t->w, &d->tmr, at > now ? at - now : 0, dlg_timeout, d);
}

/* --------------------------------------------------------------- table */

int sip_dlgs_new(struct sip_dlgs **tp, const struct sip_dlg_conf *conf,
		 struct tmr_wheel *w, const struct sip_dlg_cbs *cbs, void *arg)
{
	struct sip_dlgs *t;
	size_t nb;
	int err;

	if (!tp || !conf || !w || !conf->max_dialogs || !conf->max_forks ||
	    conf->max_forks > SIP_DLG_MAX_FORKS || !conf->setup_timeout_ms ||
	    !conf->bye_timeout_ms)
		return -EINVAL;
	t = mem_zalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->conf = *conf;
	t->w = w;
	if (cbs)
		t->cb = *cbs;
	t->arg = arg;
	tmr_init(&t->gc);
	nb = conf->max_dialogs < HTAB_MAX_BUCKETS ? conf->max_dialogs
						  : HTAB_MAX_BUCKETS;
	err = htab_init(&t->h, nb);
	if (!err && (err = slab_new(&t->slab)) != 0)
		htab_fini(&t->h);
	if (err) {
		mem_free(t);
		return err;
	}
	*tp = t;
	return 0;
}

void sip_dlgs_free(struct sip_dlgs *t)
{
	struct htab_iter it;
	struct hnode *n;

	if (!t)
		return;
	tmr_cancel(&t->gc);
	gc_run(t);
	htab_iter_init(&it, &t->h);
	while ((n = htab_iter_next(&it)) != NULL) {
		htab_remove(&t->h, n);
		dlg_free(HTAB_ENTRY(n, struct sip_dlg, hn));
	}
	htab_fini(&t->h);
	slab_free_all(t->slab);
	mem_free(t);
}

size_t sip_dlgs_count(const struct sip_dlgs *t, enum sip_dlg_state st)
{
	if (!t)
		return 0;
	if ((unsigned)st >= SIP_DLG__NSTATES)
		return t->total;
	return t->n[st];
}

void sip_dlgs_iter_init(struct sip_dlgs_iter *it, const struct sip_dlgs *t)
{
	htab_iter_init(&it->it, &t->h);
}

struct sip_dlg *sip_dlgs_iter_next(struct sip_dlgs_iter *it)
{
	struct hnode *n = htab_iter_next(&it->it);

	return n ? HTAB_ENTRY(n, struct sip_dlg, hn) : NULL;
}
