/*
 * evstats.c - counters the operations views derive from security events
 * (see events.h): events per (type, event, rule) for /metrics, and the
 * top offending sources for the dashboard.  Fixed memory, no allocation,
 * O(1) per event for the counters (open addressing) and O(EVSTATS_TOP)
 * for the sources.
 */
#include <stdio.h>
#include <string.h>

#include "events/events.h"

void evstats_init(struct evstats *s)
{
	memset(s, 0, sizeof(*s));
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* FNV-1a over the three names: equal texts land in one slot even when
 * two files hold separate copies of a literal (one series, not two). */
static uint32_t triple_hash(const char *t, const char *e, const char *r)
{
	const char *s[3] = {t, e, r};
	uint32_t h = 2166136261u;
	const char *p;
	unsigned i;

	for (i = 0; i < 3; i++) {
		for (p = s[i]; p && *p; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
		h = (h ^ 0xff) * 16777619u;
	}
	return h;
}

static void count_verdict(struct evstats *s, const struct ev *ev)
{
	uint32_t h = triple_hash(ev->type, ev->event, ev->rule), i, k;
	struct evstats_verdict *v;

	for (k = 0; k < EVSTATS_VERDICTS; k++) {
		i = (h + k) & (EVSTATS_VERDICTS - 1);
		v = &s->verdict[i];
		if (!v->type)
			*v = (struct evstats_verdict){ev->type, ev->event,
						      ev->rule, 0};
		else if (!same(v->type, ev->type) ||
			 !same(v->event, ev->event) || !same(v->rule, ev->rule))
			continue;
		v->n++;
		return;
	}
	s->lost++;
}

/* Offences only: not an administrator's unban, an expiry, a notice. */
static bool offence(const char *type)
{
	return strcmp(type, EV_UNBAN) && strcmp(type, EV_EXPIRE) &&
	       strcmp(type, EV_NOTICE);
}

static struct evstats_top *top_slot(struct evstats *s, const struct ev *ev)
{
	struct evstats_top *t;
	unsigned i, min = 0;

	for (i = 0; i < s->ntop; i++) {
		t = &s->top[i];
		if (t->plen == ev->src_plen && sg_addr_ip_eq(&t->src, &ev->src))
			return t;
	}
	if (s->ntop < EVSTATS_TOP) {
		t = &s->top[s->ntop++];
		memset(t, 0, sizeof(*t));
	} else {
		for (i = 1; i < EVSTATS_TOP; i++)
			if (s->top[i].count < s->top[min].count)
				min = i;
		t = &s->top[min]; /* keeps its count: space-saving */
	}
	t->src = ev->src;
	t->plen = ev->src_plen;
	return t;
}

void evstats_count(struct evstats *s, const struct ev *ev, uint64_t wall_ms)
{
	struct evstats_top *t;

	if (!s || !ev || !ev->type || !ev->event)
		return;
	count_verdict(s, ev);
	if (!ev->src.len || !offence(ev->type))
		return;
	t = top_slot(s, ev);
	t->count++;
	t->type = ev->type;
	t->event = ev->event;
	t->rule = ev->rule;
	snprintf(t->reason, sizeof(t->reason), "%.*s", STR_FMT(ev->reason));
	t->last_wall_ms = wall_ms;
}

int evstats_verdicts(const struct evstats *s, evstats_verdict_fn *fn, void *arg)
{
	unsigned i;
	int err = 0;

	for (i = 0; s && !err && i < EVSTATS_VERDICTS; i++)
		if (s->verdict[i].type)
			err = fn(arg, &s->verdict[i]);
	return err;
}

size_t evstats_top(const struct evstats *s, struct evstats_top *out, size_t max)
{
	struct evstats_top all[EVSTATS_TOP], t;
	size_t i, j, n;

	if (!s || !out)
		return 0;
	n = s->ntop;
	memcpy(all, s->top, n * sizeof(all[0]));
	/* Insertion sort, largest first: at most EVSTATS_TOP entries. */
	for (i = 1; i < n; i++) {
		t = all[i];
		for (j = i; j > 0 && all[j - 1].count < t.count; j--)
			all[j] = all[j - 1];
		all[j] = t;
	}
	if (n > max)
		n = max;
	memcpy(out, all, n * sizeof(all[0]));
	return n;
}
