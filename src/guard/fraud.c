/*
 * fraud.c - toll-fraud checks of new calls: user classes, dial policy,
 * call limits per user and per source, the tables and the call table.
 * The anomaly rules and their learned state are in fraud_learn.c.  See
 * fraud.h for the flow and docs/fraud.md for the administrator's view.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "core/conf.h"
#include "core/htab.h"
#include "core/mem.h"
#include "core/siphash.h"
#include "guard/fraud_int.h"
#include "sip/sip.h"

static const char *const rule_names[] = {
	FRAUD_R_DIAL,    FRAUD_R_CONCURRENT, FRAUD_R_RATE,
	FRAUD_R_COUNTRY, FRAUD_R_SOURCE,     FRAUD_R_TABLE,
	FRAUD_R_SHORT,   FRAUD_R_HOURS,      FRAUD_R_BASELINE,
	FRAUD_R_BLOCKED, FRAUD_R_THROTTLED,
};

static const char *const default_emergency[] = {
	"112", "911", "999", "000", "110", "118", "119", "15", "17", "18",
};

const char *const *fraud_rule_names(size_t *np)
{
	*np = sizeof(rule_names) / sizeof(rule_names[0]);
	return rule_names;
}

/* ------------------------------------------------------------- tables */

static uint64_t hash_of(const struct fraud *f, const void *p, size_t n,
			uint8_t tag);

uint64_t fraud__user_hash(const struct fraud *f, struct str user)
{
	return hash_of(f, user.p, user.len, 'u');
}

static uint64_t hash_of(const struct fraud *f, const void *p, size_t n,
			uint8_t tag)
{
	uint8_t buf[FRAUD_USER_MAX + 8];
	uint64_t h;

	if (n > sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	buf[0] = tag;
	if (n)
		memcpy(buf + 1, p, n);
	h = siphash24(buf, n + 1, f->key);
	return h ? h : 1;
}

static uint64_t src_hash(const struct fraud *f, const struct sg_addr *a)
{
	struct guard_src s;

	guard_src_from_addr(&s, a);
	return hash_of(f, s.b, s.len, s.family == AF_INET6 ? 's' : 'S');
}

uint64_t fraud__cty_hash(const struct fraud *f, uint64_t user_h, const char *cc)
{
	uint8_t b[8 + DP_CC_MAX];
	size_t n = strlen(cc);

	memcpy(b, &user_h, 8);
	memcpy(b + 8, cc, n);
	return hash_of(f, b, 8 + n, 'c');
}

/* Call-ID and caller tag, hashed whole: a common prefix must not make
 * two calls one (that would let a caller dodge its concurrent limit). */
static uint64_t call_hash(const struct fraud *f, struct str cid, struct str tag)
{
	uint64_t hv[2];
	uint64_t h;

	hv[0] = siphash24(cid.len ? cid.p : "", cid.len, f->key);
	hv[1] = siphash24(tag.len ? tag.p : "", tag.len, f->key);
	h = siphash24(hv, sizeof(hv), f->key);
	return h ? h : 1;
}

static bool call_eq(const struct hnode *n, const void *key)
{
	(void)n;
	(void)key;
	return true; /* the 64-bit keyed hash is the key */
}

/* --------------------------------------------------------- set-up */

static int build_maps(struct fraud *f, const char *const *zone_names,
		      unsigned nzones)
{
	const struct sg_conf_fraud *c = f->c;
	size_t i;
	unsigned k, z;

	for (i = 0; i < c->n_users; i++) {
		struct fr_map *m = &f->map[f->nmap];

		m->user = c->users[i].user;
		m->zone = -1;
		for (z = 0; c->users[i].zone[0] && z < nzones; z++)
			if (strcmp(zone_names[z], c->users[i].zone) == 0)
				m->zone = (int)z;
		if (c->users[i].zone[0] && m->zone < 0)
			return -EINVAL;
		for (k = 0; k < f->ncls; k++)
			if (strcmp(c->classes[k].name, c->users[i].class) == 0)
				m->cls = (uint8_t)k;
		f->nmap++;
	}
	for (k = 0; k < f->ncls; k++)
		if (strcmp(c->classes[k].name, c->default_class) == 0)
			f->def_cls = k;
	return 0;
}

/* Users and sources: max_users entries each; (user, country) counters
 * twice that (a user calls a few countries). */
static int alloc_tables(struct fraud *f)
{
	size_t nu = (size_t)f->c->max_users;
	size_t i, nc = (size_t)f->c->max_calls;
	int rc;

	if ((rc = fraud__tab_init(&f->users, nu, sizeof(struct fr_user))) ||
	    (rc = fraud__tab_init(&f->srcs, nu, sizeof(struct fr_src))) ||
	    (rc = fraud__tab_init(&f->ctys, nu * 2, sizeof(struct fr_cty))))
		return rc;
	f->calls = mem_zalloc(nc * sizeof(*f->calls));
	if (!f->calls)
		return -ENOMEM;
	rc = htab_init(&f->ch, nc);
	if (rc)
		return rc;
	for (i = nc; i-- > 0;) {
		f->calls[i].next_free = f->free_calls;
		f->free_calls = &f->calls[i];
	}
	return 0;
}

static void numbering(struct dp_numbering *nb, const struct sg_conf_fraud *c)
{
	snprintf(nb->intl_prefix, sizeof(nb->intl_prefix), "%s",
		 c->international_prefix);
	snprintf(nb->natl_prefix, sizeof(nb->natl_prefix), "%s",
		 c->national_prefix);
	snprintf(nb->country_code, sizeof(nb->country_code), "%s",
		 c->country_code);
}

int fraud_new(struct fraud **fp, const struct sg_conf_fraud *c,
	      const char *const *zone_names, const bool *zone_trusted,
	      unsigned nzones, fraud_alert_fn *alert, void *arg, char *err,
	      size_t errsz)
{
	struct fraud *f = mem_zalloc(sizeof(*f));
	unsigned k, z;
	size_t i;
	int rc = -ENOMEM;

	*fp = NULL;
	if (!f)
		return -ENOMEM;
	f->alert = alert;
	f->alert_arg = arg;
	f->c = mem_alloc(sizeof(*f->c));
	if (!f->c)
		goto fail;
	*f->c = *c;
	c = f->c;
	if (!c->n_emergency) {
		for (i = 0; i < sizeof(default_emergency) /
					sizeof(default_emergency[0]);
		     i++)
			snprintf(f->c->emergency[i], sizeof(f->c->emergency[i]),
				 "%s", default_emergency[i]);
		f->c->n_emergency = i;
	}
	numbering(&f->nb, c);
	f->ncls = (unsigned)c->n_classes;
	if (!f->ncls) {
		*fp = f; /* checks nothing */
		return 0;
	}
	for (k = 0; k < f->ncls; k++)
		f->cls_names[k] = c->classes[k].name;
	{
		struct dp_names nm = {zone_names, nzones, f->cls_names,
				      f->ncls};

		rc = dp_rules_new(&f->rules, c->dial_rules, c->n_dial_rules,
				  &nm, err, errsz);
		if (rc)
			goto fail;
	}
	for (z = 0; z < nzones && z < 32; z++) {
		bool on = !c->n_zones && !zone_trusted[z];

		for (i = 0; i < c->n_zones; i++)
			if (strcmp(c->zones[i], zone_names[z]) == 0)
				on = true;
		if (on)
			f->zones |= 1u << z;
	}
	rc = build_maps(f, zone_names, nzones);
	if (rc) {
		snprintf(err, errsz, "fraud.users: unknown zone");
		goto fail;
	}
	if (getrandom(f->key, sizeof(f->key), 0) != (ssize_t)sizeof(f->key)) {
		rc = -EIO;
		goto fail;
	}
	rc = alloc_tables(f);
	if (rc)
		goto fail;
	*fp = f;
	return 0;
fail:
	fraud_free(f);
	return rc;
}

void fraud_free(struct fraud *f)
{
	if (!f)
		return;
	fraud__share_detach(f);
	dp_rules_free(f->rules);
	htab_fini(&f->ch);
	fraud__tab_fini(&f->users);
	fraud__tab_fini(&f->srcs);
	fraud__tab_fini(&f->ctys);
	mem_free(f->calls);
	mem_free(f->c);
	mem_free(f);
}

void fraud__set_key(struct fraud *f, const uint8_t key[SIPHASH_KEY_LEN])
{
	memcpy(f->key, key, SIPHASH_KEY_LEN);
}

bool fraud_zone_checked(const struct fraud *f, unsigned zone)
{
	return f && f->ncls && zone < 32 && (f->zones >> zone & 1u);
}

size_t fraud_calls(const struct fraud *f)
{
	return f ? f->ncalls : 0;
}

/* ---------------------------------------------------------- classes */

static unsigned class_of(const struct fraud *f, struct str user, uint16_t zone)
{
	int best = -1, score = 0;
	size_t i;

	for (i = 0; i < f->nmap; i++) {
		const struct fr_map *m = &f->map[i];
		bool any = strcmp(m->user, "*") == 0;
		int s;

		if (m->zone >= 0 && m->zone != zone)
			continue;
		if (!any && !str_eq(user, str_cstr(m->user)))
			continue;
		/* user in zone 4, user 3, "*" in zone 2, "*" 1 */
		s = any ? (m->zone >= 0 ? 2 : 1) : (m->zone >= 0 ? 4 : 3);
		if (s > score) {
			score = s;
			best = m->cls;
		}
	}
	return best >= 0 ? (unsigned)best : f->def_cls;
}

unsigned fraud_user_calls(const struct fraud *f, struct str user)
{
	const struct fr_user *u;

	if (!f || !f->ncls)
		return 0;
	u = fraud__tab_peek(&f->users, hash_of(f, user.p, user.len, 'u'));
	return u ? u->k.busy : 0;
}

bool fraud_prefetch_call(struct fraud *f, const struct sip_uri *ruri,
			 struct str user, const struct sg_addr *src,
			 uint16_t zone, uint64_t now, uint64_t *tokenp)
{
	const struct sg_conf_fraud_source *ps;
	struct dp_number num;
	struct fr_ask a;

	if (!f || !f->share || !fraud_zone_checked(f, zone))
		return false;
	if (user.len > FRAUD_USER_MAX)
		user.len = FRAUD_USER_MAX;
	memset(&a, 0, sizeof(a));
	a.cls = class_of(f, user, zone);
	if (!fraud__share_wanted(f, a.cls))
		return false;
	a.user = user;
	a.uh = hash_of(f, user.p, user.len, 'u');
	a.u = fraud__user(f, a.uh, now, true);
	if (!a.u)
		return false;
	if (ruri && f->c->classes[a.cls].calls_per_country_per_hour) {
		dp_normalise(&num, ruri->user,
			     ruri->sch == SIP_URI_TEL ? ruri->params : STR_NULL,
			     &f->nb);
		if (num.kind == DP_INTERNATIONAL) {
			a.cc = num.cc;
			a.ct = fraud__cty(f, fraud__cty_hash(f, a.uh, num.cc),
					  now, true);
		}
	}
	ps = &f->c->per_source;
	if (src && (ps->max_concurrent || ps->calls_per_second ||
		    ps->calls_per_minute)) {
		a.src = src;
		a.s = fraud__src(f, src_hash(f, src), now, true);
	}
	*tokenp = a.uh;
	return fraud__share_prefetch(f, &a);
}

bool fraud_prefetch(struct fraud *f, struct str user, uint16_t zone,
		    uint64_t now, uint64_t *tokenp)
{
	return fraud_prefetch_call(f, NULL, user, NULL, zone, now, tokenp);
}

/* ------------------------------------------------------------ checks */

static void refuse(struct fraud *f, struct guard_verdict *v, const char *rule,
		   int status)
{
	v->action = GUARD_REPLY;
	v->status = status;
	v->reason = status == 403 ? f->c->reason : "Service Unavailable";
	v->rule = rule;
	v->why = f->why;
	if (status == 503) {
		memcpy(v->extra, "Retry-After: 5\r\n", 16);
		v->extra_len = 16;
	}
}

/* The dial policy of class cls for num in zone: true to allow; f->why
 * says why not. */
static bool dial_allowed(struct fraud *f, unsigned cls,
			 const struct dp_number *num, uint16_t zone)
{
	const struct sg_conf_fraud_class *c = &f->c->classes[cls];
	const char *name = NULL;
	bool allow;

	if (num->kind == DP_INVALID) {
		snprintf(f->why, sizeof(f->why),
			 "not a valid number (class "
			 "%s)",
			 c->name);
		return false;
	}
	if (num->kind == DP_NAME) {
		snprintf(f->why, sizeof(f->why),
			 "names not allowed (class "
			 "%s)",
			 c->name);
		return c->names == CONF_DIAL_ALLOW;
	}
	if (dp_rules_match(f->rules, num, cls, zone, &allow, &name) < 0) {
		allow = c->otherwise == CONF_DIAL_ALLOW;
		name = "no rule matched";
	}
	snprintf(f->why, sizeof(f->why), "%s %s: %s (class %s)",
		 allow ? "allowed" : "denied", num->s, name, c->name);
	return allow;
}

static bool over(const struct win_ctr *w, uint64_t now, uint32_t period,
		 int64_t max)
{
	return max > 0 && win_ctr_read(w, now, period) + 1 > (uint64_t)max;
}

/* The source's limits, here and (fresh view) across the cluster. */
static bool src_over(struct fraud *f, const struct fr_src *s, uint64_t now)
{
	const struct sg_conf_fraud_source *ps = &f->c->per_source;
	struct fr_cl sv = fraud__share_view(f, &s->cl, now);

	return (ps->max_concurrent &&
		s->k.busy + sv.others >= ps->max_concurrent) ||
	       over(&s->cps, now, 1000, ps->calls_per_second) ||
	       over(&s->cpm, now, FR_MIN_MS, ps->calls_per_minute) ||
	       (ps->calls_per_second &&
		sv.cps + 1 > (uint64_t)ps->calls_per_second) ||
	       (ps->calls_per_minute &&
		sv.cpm + 1 > (uint64_t)ps->calls_per_minute);
}

/* The user's calls to country cc in the last hour over the class's
 * limit, here or (fresh view) across the cluster. */
static bool cty_over(struct fraud *f, uint64_t user_h, const char *cc,
		     int64_t max, uint64_t now)
{
	const struct fr_cty *ct =
		fraud__cty(f, fraud__cty_hash(f, user_h, cc), 0, false);

	return ct &&
	       (over(&ct->hour, now, FR_HOUR_MS, max) ||
		fraud__share_view(f, &ct->cl, now).hour + 1 > (uint64_t)max);
}

/* The limits of the user's class and of the source.  Each counts this
 * instance's calls and, when Redis is up and the view fresh, the
 * cluster's (fraud_share.c).  Returns the rule that refuses, or NULL. */
static const char *limits(struct fraud *f, const struct fr_user *u,
			  const struct fr_src *s, unsigned cls,
			  const struct dp_number *num, uint64_t user_h,
			  uint64_t now)
{
	const struct sg_conf_fraud_class *c = &f->c->classes[cls];
	struct fr_cl uv = fraud__share_view(f, &u->cl, now);
	uint32_t up = u->k.busy + uv.others;

	if (c->max_concurrent && up >= c->max_concurrent) {
		snprintf(f->why, sizeof(f->why),
			 "%u calls up (%u here), "
			 "class %s allows %lld",
			 up, u->k.busy, c->name, (long long)c->max_concurrent);
		return FRAUD_R_CONCURRENT;
	}
	if (over(&u->cps, now, 1000, c->calls_per_second) ||
	    over(&u->cpm, now, FR_MIN_MS, c->calls_per_minute) ||
	    (c->calls_per_second &&
	     uv.cps + 1 > (uint64_t)c->calls_per_second) ||
	    (c->calls_per_minute &&
	     uv.cpm + 1 > (uint64_t)c->calls_per_minute)) {
		snprintf(f->why, sizeof(f->why),
			 "call rate over class %s's "
			 "%lld/s, %lld/min",
			 c->name, (long long)c->calls_per_second,
			 (long long)c->calls_per_minute);
		return FRAUD_R_RATE;
	}
	if (c->calls_per_country_per_hour && num->kind == DP_INTERNATIONAL &&
	    cty_over(f, user_h, num->cc, c->calls_per_country_per_hour, now)) {
		snprintf(f->why, sizeof(f->why),
			 "over %lld calls an hour to "
			 "+%s (class %s)",
			 (long long)c->calls_per_country_per_hour, num->cc,
			 c->name);
		return FRAUD_R_COUNTRY;
	}
	if (s && src_over(f, s, now)) {
		snprintf(f->why, sizeof(f->why),
			 "source over its call "
			 "limits (%u up)",
			 s->k.busy);
		return FRAUD_R_SOURCE;
	}
	return NULL;
}

/* Blocked or throttled by an anomaly rule.  Returns the rule or NULL. */
static const char *held(struct fraud *f, const struct fr_user *u, uint64_t now)
{
	const struct sg_conf_fraud_anomaly *a = &f->c->anomaly;

	if (u->blocked_until > now) {
		snprintf(f->why, sizeof(f->why),
			 "user blocked for %llu s "
			 "more (fraud suspected)",
			 (unsigned long long)(u->blocked_until - now + 999) /
				 1000);
		return FRAUD_R_BLOCKED;
	}
	if (u->throttled_until > now &&
	    win_ctr_read(&u->thr, now, FR_MIN_MS) + 1 >
		    (uint64_t)a->throttle_calls_per_minute) {
		snprintf(f->why, sizeof(f->why),
			 "user throttled to %lld "
			 "calls a minute (fraud suspected)",
			 (long long)a->throttle_calls_per_minute);
		return FRAUD_R_THROTTLED;
	}
	return NULL;
}

static void keep_note(struct fraud_note *n, struct str user, unsigned cls,
		      const struct dp_number *num, const struct sg_addr *src,
		      uint16_t zone)
{
	n->active = true;
	n->cls = (uint8_t)cls;
	n->zone = zone;
	n->kind = num->kind;
	memcpy(n->cc, num->cc, sizeof(n->cc));
	n->src = *src;
	if (user.len > sizeof(n->user))
		user.len = sizeof(n->user);
	if (user.len)
		memcpy(n->user, user.p, user.len);
	n->user_len = (uint8_t)user.len;
}

void fraud_check(struct fraud *f, const struct sip_uri *ruri, struct str user,
		 const struct sg_addr *src, uint16_t zone, uint64_t now,
		 uint64_t wall, struct fraud_note *note,
		 struct guard_verdict *v)
{
	struct dp_number num;
	struct fr_user *u;
	struct fr_src *s;
	const char *rule;
	uint64_t uh;
	unsigned cls;

	memset(note, 0, sizeof(*note));
	guard_verdict_pass(v);
	if (!fraud_zone_checked(f, zone))
		return;
	if (user.len > FRAUD_USER_MAX)
		user.len = FRAUD_USER_MAX;
	dp_normalise(&num, ruri->user,
		     ruri->sch == SIP_URI_TEL ? ruri->params : STR_NULL,
		     &f->nb);
	/* tel: is always a number: letters there are no SIP name. */
	if (ruri->sch == SIP_URI_TEL && num.kind == DP_NAME)
		num.kind = DP_INVALID;
	if (dp_in_list(&num, (const char(*)[16])f->c->emergency,
		       f->c->n_emergency))
		return; /* emergency: always, never counted */
	cls = class_of(f, user, zone);
	/* Noted even when refused: a rule in monitor mode lets it pass. */
	keep_note(note, user, cls, &num, src, zone);
	if (!dial_allowed(f, cls, &num, zone)) {
		refuse(f, v, FRAUD_R_DIAL, 403);
		return;
	}
	uh = hash_of(f, user.p, user.len, 'u');
	u = fraud__user(f, uh, now, true);
	if (!u) {
		/* Every entry holds a user with calls up: an attacker
		 * rotating names cannot evict them; refuse instead. */
		snprintf(f->why, sizeof(f->why), "user table full");
		refuse(f, v, FRAUD_R_TABLE, 503);
		return;
	}
	fraud__hold_apply(f, u, user, now, wall);
	fraud__check_baseline(f, u, user, src, zone, now, wall);
	fraud__check_hours(f, u, user, src, zone, now, wall);
	rule = held(f, u, now);
	if (!rule && !f->free_calls) {
		snprintf(f->why, sizeof(f->why),
			 "%zu calls tracked: table "
			 "full",
			 f->ncalls);
		rule = FRAUD_R_TABLE;
	}
	s = fraud__src(f, src_hash(f, src), now, true);
	if (!rule)
		rule = limits(f, u, s, cls, &num, uh, now);
	if (rule) {
		refuse(f, v, rule, strcmp(rule, FRAUD_R_TABLE) ? 403 : 503);
		return;
	}
}

/* ------------------------------------------------------------- calls */

uint64_t fraud_call_start(struct fraud *f, const struct fraud_note *note,
			  struct str call_id, struct str caller_tag,
			  uint64_t now, uint64_t wall)
{
	struct str user = str_make(note->user, note->user_len);
	uint64_t ch, uh = hash_of(f, note->user, note->user_len, 'u');
	struct fr_call *call;
	struct fr_user *u;
	struct fr_src *s;
	struct fr_cty *ct;

	if (!f || !f->ncls || !note->active || !f->free_calls ||
	    note->cls >= f->ncls)
		return 0;
	ch = call_hash(f, call_id, caller_tag);
	if (htab_find(&f->ch, ch, call_eq, NULL))
		return 0;
	u = fraud__user(f, uh, now, true);
	s = fraud__src(f, src_hash(f, &note->src), now, true);
	call = f->free_calls;
	f->free_calls = call->next_free;
	memset(call, 0, sizeof(*call));
	call->user_h = uh;
	call->start = now;
	call->hour = (uint8_t)(fraud__local_ms(f, wall) / FR_HOUR_MS % 24);
	call->day = (uint32_t)(fraud__local_ms(f, wall) / FR_DAY_MS);
	memcpy(call->cc, note->cc, sizeof(call->cc));
	call->kind = note->kind;
	call->src = note->src;
	call->zone = note->zone;
	memcpy(call->user, note->user, note->user_len);
	call->user_len = note->user_len;
	call->cls = note->cls;
	htab_insert(&f->ch, &call->hn, ch);
	f->ncalls++;
	if (u) {
		fraud__tab_hold(&f->users, &u->k);
		win_ctr_add(&u->cps, now, 1000, 1);
		win_ctr_add(&u->cpm, now, FR_MIN_MS, 1);
		if (u->throttled_until > now)
			win_ctr_add(&u->thr, now, FR_MIN_MS, 1);
		fraud__learn(f, u, wall);
	}
	if (s) {
		call->src_h = s->k.h;
		fraud__tab_hold(&f->srcs, &s->k);
		win_ctr_add(&s->cps, now, 1000, 1);
		win_ctr_add(&s->cpm, now, FR_MIN_MS, 1);
	}
	if (note->kind == DP_INTERNATIONAL &&
	    (ct = fraud__cty(f, fraud__cty_hash(f, uh, note->cc), now, true)))
		win_ctr_add(&ct->hour, now, FR_HOUR_MS, 1);
	if (fraud__share_wanted(f, note->cls))
		fraud__share_start(f, u, call);
	(void)user;
	return (uint64_t)f->c->classes[note->cls].max_call_duration;
}

void fraud_call_end(struct fraud *f, struct str call_id, struct str caller_tag,
		    uint64_t talk_ms, int status, uint64_t now, uint64_t wall)
{
	const struct sg_conf_fraud_short *sc;
	struct fr_call *call;
	struct fr_user *u;
	struct fr_src *s;
	struct hnode *n;

	if (!f || !f->ncls || !f->ncalls)
		return;
	n = htab_find(&f->ch, call_hash(f, call_id, caller_tag), call_eq, NULL);
	if (!n)
		return;
	call = HTAB_ENTRY(n, struct fr_call, hn);
	htab_remove(&f->ch, n);
	f->ncalls--;
	u = fraud__user(f, call->user_h, now, false);
	if (u)
		fraud__tab_release(&f->users, &u->k);
	fraud__share_end(f, u, call);
	s = call->src_h ? fraud__src(f, call->src_h, now, false) : NULL;
	if (s)
		fraud__tab_release(&f->srcs, &s->k);
	sc = &f->c->anomaly.short_calls;
	if (status == 401 || status == 407) {
		fraud__refund(f, u, s, call);
		fraud__share_refund(f, call, now);
	} else if (u && sc->count && call->kind == DP_INTERNATIONAL &&
		   talk_ms < (uint64_t)sc->shorter_than)
		fraud__short_call(f, u, call, now, wall);
	call->next_free = f->free_calls;
	f->free_calls = call;
}
