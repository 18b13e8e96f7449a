/*
 * ctlout.c - the answers of the control socket: the ctl_out_*() helpers
 * the daemon's callbacks use to append list items and fields to the JSON
 * answer line being built (ctl.c sends it).  Every string that may come
 * from the network (a ban reason, a Call-ID, a URI) is JSON-escaped; keys
 * are ours and checked.  The first failure sticks: later helpers do
 * nothing and the whole answer becomes an error.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "ctl/ctl_int.h"
#include "events/events.h"

static int out_fail(struct ctl_out *o, int err)
{
	if (!o->err)
		o->err = err;
	return err;
}

/* Start the next item of the list, or fail when it is not this list. */
static int out_item(struct ctl_out *o, enum ctl_cmd cmd)
{
	if (o->err)
		return o->err;
	/* Misuse leaves the answer as it was: not a poisoning failure. */
	if (o->cmd != cmd || o->state != OUT_LIST)
		return -EINVAL;
	if (o->items++ && buf_append(o->b, ",", 1))
		return out_fail(o, -ENOSPC);
	return 0;
}

static int out_json(struct ctl_out *o, const char *key, struct str v)
{
	if (buf_append_cstr(o->b, key))
		return out_fail(o, -ENOSPC);
	if (!v.p || !v.len) {
		if (buf_append_cstr(o->b, "null"))
			return out_fail(o, -ENOSPC);
		return 0;
	}
	if (json_str(o->b, v))
		return out_fail(o, -ENOSPC);
	return 0;
}

int ctl_out_ban(struct ctl_out *o, const struct ctl_ban *b)
{
	char ip[SG_ADDR_STRLEN];
	int err;

	if (!o || !b)
		return -EINVAL;
	if ((err = out_item(o, CTL_CMD_BANS)))
		return err;
	sg_addr_ip(&b->addr, ip, sizeof(ip));
	err = b->plen ? buf_printf(o->b, "{\"addr\":\"%s/%u\"", ip,
				   (unsigned)b->plen)
		      : buf_printf(o->b, "{\"addr\":\"%s\"", ip);
	if (!err && b->remaining_ms == CTL_BAN_FOREVER)
		err = buf_append_cstr(o->b, ",\"expires_in\":null");
	else if (!err)
		err = buf_printf(
			o->b, ",\"expires_in\":%llu",
			(unsigned long long)(b->remaining_ms / 1000 +
					     !!(b->remaining_ms % 1000)));
	if (err)
		return out_fail(o, -ENOSPC);
	if (out_json(o, ",\"rule\":", b->rule ? str_cstr(b->rule) : STR_NULL) ||
	    out_json(o, ",\"reason\":", b->reason))
		return o->err;
	if (buf_printf(o->b, ",\"hits\":%llu}", (unsigned long long)b->hits))
		return out_fail(o, -ENOSPC);
	return 0;
}

static int out_addr(struct ctl_out *o, const char *key,
		    const struct sg_addr *a)
{
	char s[SG_ADDR_STRLEN];

	if (!a)
		return out_json(o, key, STR_NULL);
	return out_json(o, key, str_cstr(sg_addr_fmt(a, s, sizeof(s))));
}

int ctl_out_call(struct ctl_out *o, const struct ctl_call *c)
{
	int err;

	if (!o || !c)
		return -EINVAL;
	if ((err = out_item(o, CTL_CMD_CALLS)))
		return err;
	if (out_json(o, "{\"call_id\":", c->call_id) ||
	    out_json(o, ",\"caller\":", c->caller) ||
	    out_json(o, ",\"callee\":", c->callee) ||
	    out_addr(o, ",\"caller_addr\":", c->caller_addr) ||
	    out_addr(o, ",\"callee_addr\":", c->callee_addr) ||
	    out_json(o, ",\"caller_zone\":",
		     c->caller_zone ? str_cstr(c->caller_zone) : STR_NULL) ||
	    out_json(o, ",\"callee_zone\":",
		     c->callee_zone ? str_cstr(c->callee_zone) : STR_NULL) ||
	    out_json(o, ",\"state\":",
		     c->state ? str_cstr(c->state) : STR_NULL))
		return o->err;
	if (buf_printf(o->b, ",\"duration\":%llu,\"talk\":%llu",
		       (unsigned long long)(c->duration_ms / 1000),
		       (unsigned long long)(c->answered_ms / 1000)))
		return out_fail(o, -ENOSPC);
	if (!c->media)
		err = buf_append_cstr(o->b, ",\"media\":null}");
	else
		err = buf_printf(
			o->b, ",\"media\":{\"caller\":{\"packets\":%llu,"
			"\"bytes\":%llu,\"dropped\":%llu},\"callee\":{"
			"\"packets\":%llu,\"bytes\":%llu,\"dropped\":%llu}}}",
			(unsigned long long)c->media_pkts[0],
			(unsigned long long)c->media_bytes[0],
			(unsigned long long)c->media_dropped[0],
			(unsigned long long)c->media_pkts[1],
			(unsigned long long)c->media_bytes[1],
			(unsigned long long)c->media_dropped[1]);
	return err ? out_fail(o, -ENOSPC) : 0;
}

int ctl_out_rule(struct ctl_out *o, const struct ctl_rule *r)
{
	int err;

	if (!o || !r || !r->name)
		return -EINVAL;
	if ((err = out_item(o, CTL_CMD_RULES)))
		return err;
	if (out_json(o, "{\"name\":", str_cstr(r->name)))
		return o->err;
	if (buf_printf(o->b,
		       ",\"monitor\":%s,\"effective\":%s,\"hits\":%llu,"
		       "\"monitored\":%llu}",
		       r->monitor ? "true" : "false",
		       r->effective ? "true" : "false",
		       (unsigned long long)r->hits,
		       (unsigned long long)r->monitored))
		return out_fail(o, -ENOSPC);
	return 0;
}

/* Keys we write ourselves: plain names that need no escaping. */
static bool key_ok(const char *k)
{
	size_t i, n = k ? strnlen(k, 65) : 0;

	if (!n || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') ||
		      (k[i] >= '0' && k[i] <= '9') || k[i] == '_' ||
		      k[i] == '.'))
			return false;
	return true;
}

int ctl_out_stat(struct ctl_out *o, const char *name, uint64_t v)
{
	int err;

	if (!o || !key_ok(name))
		return -EINVAL;
	if ((err = out_item(o, CTL_CMD_STATS)))
		return err;
	if (buf_printf(o->b, "\"%s\":%llu", name, (unsigned long long)v))
		return out_fail(o, -ENOSPC);
	return 0;
}

/* End the list, once; then top-level fields follow. */
int ctl__out_top(struct ctl_out *o, const char *key)
{
	if (o->err)
		return o->err;
	if (!key_ok(key))
		return -EINVAL;
	if (o->state == OUT_LIST) {
		if (buf_append_cstr(o->b, o->cmd == CTL_CMD_STATS ? "}" : "]"))
			return out_fail(o, -ENOSPC);
		o->state = OUT_TOP;
	}
	return 0;
}

int ctl_out_bool(struct ctl_out *o, const char *key, bool v)
{
	int err;

	if (!o)
		return -EINVAL;
	if ((err = ctl__out_top(o, key)))
		return err;
	if (buf_printf(o->b, ",\"%s\":%s", key, v ? "true" : "false"))
		return out_fail(o, -ENOSPC);
	return 0;
}

int ctl_out_u64(struct ctl_out *o, const char *key, uint64_t v)
{
	int err;

	if (!o)
		return -EINVAL;
	if ((err = ctl__out_top(o, key)))
		return err;
	if (buf_printf(o->b, ",\"%s\":%llu", key, (unsigned long long)v))
		return out_fail(o, -ENOSPC);
	return 0;
}

int ctl_out_rules(struct ctl_out *o, const struct rules *r)
{
	struct rule_info ri;
	struct ctl_rule cr;
	unsigned i;
	int err;

	if (!o || !r)
		return -EINVAL;
	for (i = 0; i < rules_count(r); i++) {
		if (rules_get(r, (int)i, &ri))
			continue;
		cr = (struct ctl_rule){ri.name, ri.monitor, ri.effective,
				       ri.hits, ri.monitored};
		if ((err = ctl_out_rule(o, &cr)))
			return err;
	}
	return ctl_out_bool(o, "global_monitor", rules_global_monitor(r));
}

int ctl_out_evlog_stats(struct ctl_out *o, const struct evlog *e)
{
	struct evlog_stats st;
	int err;

	if (!o || !e)
		return -EINVAL;
	evlog_stats(e, &st);
	if ((err = ctl_out_stat(o, "events.total", st.events)) ||
	    (err = ctl_out_stat(o, "events.lines", st.lines)) ||
	    (err = ctl_out_stat(o, "events.aggregated", st.aggregated)) ||
	    (err = ctl_out_stat(o, "events.suppressed", st.suppressed)) ||
	    (err = ctl_out_stat(o, "events.evicted", st.evicted)))
		return err;
	return ctl_out_stat(o, "events.errors", st.errors);
}
