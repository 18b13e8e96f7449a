/*
 * rules.c - the rule registry: one entry per rule name a guard module
 * decides with ("scanner-ua", "rate-invite"...), holding its hit counters
 * and its monitor flag.  Monitor mode lets an administrator try a policy
 * on live traffic: the decision is logged as "would-drop" and the
 * traffic passes.  The global flag puts every rule in monitor mode.
 *
 * Fixed capacity, allocated once; ids are dense indexes so the hot path
 * (rules_hit) is one array access.  Names are looked up linearly with a
 * pointer comparison first: guard modules pass the same literal they
 * registered, and there are at most a few hundred rules.
 */
#include "events/events.h"

#include <errno.h>
#include <string.h>

#include "core/mem.h"

struct rule {
	const char *name; /* borrowed, a literal */
	size_t len;
	bool monitor;
	uint64_t hits, monitored;
};

struct rules {
	unsigned n, max;
	bool global_monitor;
	struct rule r[];
};

int rules_new(struct rules **rp, unsigned max)
{
	struct rules *r;

	if (!rp)
		return -EINVAL;
	if (!max)
		max = RULES_MAX;
	if (max > RULES_MAX)
		return -EINVAL;
	r = mem_zalloc(sizeof(*r) + sizeof(r->r[0]) * max);
	if (!r)
		return -ENOMEM;
	r->max = max;
	*rp = r;
	return 0;
}

void rules_free(struct rules *r)
{
	mem_free(r);
}

static bool name_ok(const char *name, size_t *lenp)
{
	size_t i, n;

	if (!name)
		return false;
	n = strnlen(name, RULES_NAME_MAX + 1);
	if (!n || n > RULES_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return false;
	}
	*lenp = n;
	return true;
}

int rules_find(const struct rules *r, struct str name)
{
	unsigned i;

	if (!r || !name.p)
		return -ENOENT;
	for (i = 0; i < r->n; i++)
		if (r->r[i].name == name.p && r->r[i].len == name.len)
			return (int)i;
	for (i = 0; i < r->n; i++)
		if (str_eq(str_make(r->r[i].name, r->r[i].len), name))
			return (int)i;
	return -ENOENT;
}

int rules_register(struct rules *r, const char *name, bool monitor)
{
	size_t len;
	int id;

	if (!r || !name_ok(name, &len))
		return -EINVAL;
	id = rules_find(r, str_make(name, len));
	if (id >= 0)
		return id;
	if (r->n >= r->max)
		return -ENOSPC;
	r->r[r->n].name = name;
	r->r[r->n].len = len;
	r->r[r->n].monitor = monitor;
	return (int)r->n++;
}

static bool id_ok(const struct rules *r, int id)
{
	return r && id >= 0 && (unsigned)id < r->n;
}

static struct rule *rule_at(struct rules *r, int id)
{
	return id_ok(r, id) ? &r->r[id] : NULL;
}

static const struct rule *rule_get(const struct rules *r, int id)
{
	return id_ok(r, id) ? &r->r[id] : NULL;
}

bool rules_hit(struct rules *r, int id)
{
	struct rule *x = rule_at(r, id);
	bool mon;

	if (!x)
		return false;
	mon = x->monitor || r->global_monitor;
	x->hits++;
	if (mon)
		x->monitored++;
	return mon;
}

bool rules_monitor(const struct rules *r, int id)
{
	const struct rule *x = rule_get(r, id);

	return x && (x->monitor || r->global_monitor);
}

int rules_set_monitor(struct rules *r, int id, bool on)
{
	struct rule *x = rule_at(r, id);

	if (!x)
		return -ENOENT;
	x->monitor = on;
	return 0;
}

void rules_set_global_monitor(struct rules *r, bool on)
{
	if (r)
		r->global_monitor = on;
}

bool rules_global_monitor(const struct rules *r)
{
	return r && r->global_monitor;
}

unsigned rules_count(const struct rules *r)
{
	return r ? r->n : 0;
}

int rules_get(const struct rules *r, int id, struct rule_info *ip)
{
	const struct rule *x = rule_get(r, id);

	if (!x || !ip)
		return -ENOENT;
	ip->name = x->name;
	ip->monitor = x->monitor;
	ip->effective = x->monitor || r->global_monitor;
	ip->hits = x->hits;
	ip->monitored = x->monitored;
	return 0;
}
