/*
 * ctlout.c - the answers of the control socket: the ctl_out_*() helpers
 * the daemon's callbacks use to add list items and fields to the answer
 * being built (ctl.c sends it).  Every value is encoded by jansson
 * (JSON_COMPACT); strings that may come from the network (a ban reason,
 * a Call-ID, a URI) are first made valid UTF-8 (RFC 3629), since jansson
 * refuses anything else.  Keys are ours and checked.  The first failure
 * sticks: later helpers do nothing and the whole answer becomes an error.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "ctl/ctl_int.h"
#include "events/events.h"

/* ------------------------------------------------------------ encoding */

struct put_ctx {
	struct buf *b;
	int err;
};

static int put_cb(const char *p, size_t n, void *arg)
{
	struct put_ctx *c = arg;

	c->err = buf_append(c->b, p, n);
	return c->err ? -1 : 0;
}

int ctl__json_put(struct buf *b, const json_t *j)
{
	struct put_ctx c = {b, 0};
	size_t len0 = b->len;

	if (!j)
		return -ENOMEM;
	if (json_dump_callback(j, put_cb, &c, JSON_COMPACT | JSON_ENCODE_ANY)) {
		b->len = len0;
		return c.err == -ENOSPC ? -ENOSPC : -ENOMEM;
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at p, 0 when there is none. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len;

	return utf8_next(p, n, &len) < 0 ? 0 : len;
}

json_t *ctl__json_text(struct str s)
{
	const unsigned char *p = (const unsigned char *)s.p;
	size_t i = 0, o = 0, n;
	json_t *j;
	char *t;

	if (!s.p || !s.len)
		return json_null();
	for (i = 0; i < s.len && (n = utf8_seq(p + i, s.len - i)); i += n)
		;
	if (i == s.len)
		return json_stringn(s.p, s.len);
	/* Each bad byte becomes U+FFFD (3 bytes). */
	if (s.len > (SIZE_MAX - 1) / 3 || !(t = mem_alloc(s.len * 3 + 1)))
		return NULL;
	for (i = 0; i < s.len; i += n) {
		n = utf8_seq(p + i, s.len - i);
		if (n) {
			memcpy(t + o, p + i, n);
			o += n;
		} else {
			memcpy(t + o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		}
	}
	j = json_stringn(t, o);
	mem_free(t);
	return j;
}

static json_t *text(const char *s)
{
	return ctl__json_text(s ? str_cstr(s) : STR_NULL);
}

/* jansson's integers are signed 64-bit: no counter of ours gets past. */
static json_int_t num(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (json_int_t)v;
}

/* ------------------------------------------------------------- helpers */

static int out_fail(struct ctl_out *o, int err)
{
	if (!o->err)
		o->err = err;
	return err;
}

/* Append item (stolen) to the list, or fail when it is not this list. */
static int out_item(struct ctl_out *o, enum ctl_cmd cmd, json_t *item)
{
	int err;

	if (o->err) {
		json_decref(item);
		return o->err;
	}
	/* Misuse leaves the answer as it was: not a poisoning failure. */
	if (o->cmd != cmd || o->state != OUT_LIST) {
		json_decref(item);
		return -EINVAL;
	}
	if (!item)
		return out_fail(o, -ENOMEM);
	err = o->items && buf_append(o->b, ",", 1) ? -ENOSPC : 0;
	if (!err)
		err = ctl__json_put(o->b, item);
	json_decref(item);
	if (err)
		return out_fail(o, err);
	o->items++;
	return 0;
}

int ctl_out_ban(struct ctl_out *o, const struct ctl_ban *b)
{
	char ip[SG_ADDR_STRLEN], a[SG_ADDR_STRLEN + 8];
	uint64_t s;

	if (!o || !b)
		return -EINVAL;
	sg_addr_ip(&b->addr, ip, sizeof(ip));
	if (b->plen)
		snprintf(a, sizeof(a), "%s/%u", ip, (unsigned)b->plen);
	else
		snprintf(a, sizeof(a), "%s", ip);
	/* Whole seconds left, rounded up: 0 only when it has expired. */
	s = b->remaining_ms / 1000 + !!(b->remaining_ms % 1000);
	return out_item(
		o, CTL_CMD_BANS,
		json_pack("{s:s, s:o, s:o, s:o, s:I}", "addr", a, "expires_in",
			  b->remaining_ms == CTL_BAN_FOREVER
				  ? json_null()
				  : json_integer(num(s)),
			  "rule", text(b->rule), "reason",
			  ctl__json_text(b->reason), "hits", num(b->hits)));
}

int ctl_out_held(struct ctl_out *o, const struct ctl_held *h)
{
	uint64_t s;

	if (!o || !h)
		return -EINVAL;
	/* Whole seconds left, rounded up, as for bans. */
	s = h->remaining_ms / 1000 + !!(h->remaining_ms % 1000);
	return out_item(o, CTL_CMD_HELD,
			json_pack("{s:o, s:o, s:s, s:I}", "user",
				  ctl__json_text(h->user), "rule",
				  text(h->rule), "action",
				  h->blocked ? "block" : "throttle",
				  "expires_in", num(s)));
}

static json_t *addr_text(const struct sg_addr *a)
{
	char s[SG_ADDR_STRLEN];

	return a ? json_string(sg_addr_fmt(a, s, sizeof(s))) : json_null();
}

static json_t *media(const struct ctl_call *c, int i)
{
	return json_pack("{s:I, s:I, s:I}", "packets", num(c->media_pkts[i]),
			 "bytes", num(c->media_bytes[i]), "dropped",
			 num(c->media_dropped[i]));
}

int ctl_out_call(struct ctl_out *o, const struct ctl_call *c)
{
	json_t *m;

	if (!o || !c)
		return -EINVAL;
	m = c->media ? json_pack("{s:o, s:o}", "caller", media(c, 0), "callee",
				 media(c, 1))
		     : json_null();
	return out_item(
		o, CTL_CMD_CALLS,
		json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, "
			  "s:I, s:o}",
			  "call_id", ctl__json_text(c->call_id), "caller",
			  ctl__json_text(c->caller), "callee",
			  ctl__json_text(c->callee), "caller_addr",
			  addr_text(c->caller_addr), "callee_addr",
			  addr_text(c->callee_addr), "caller_zone",
			  text(c->caller_zone), "callee_zone",
			  text(c->callee_zone), "state", text(c->state),
			  "duration", num(c->duration_ms / 1000), "talk",
			  num(c->answered_ms / 1000), "media", m));
}

int ctl_out_rule(struct ctl_out *o, const struct ctl_rule *r)
{
	if (!o || !r || !r->name)
		return -EINVAL;
	return out_item(o, CTL_CMD_RULES,
			json_pack("{s:o, s:b, s:b, s:I, s:I}", "name",
				  text(r->name), "monitor", r->monitor,
				  "effective", r->effective, "hits",
				  num(r->hits), "monitored",
				  num(r->monitored)));
}

/* Keys we write ourselves: plain names. */
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
	if (!o || !key_ok(name))
		return -EINVAL;
	if (o->err)
		return o->err;
	if (o->cmd != CTL_CMD_STATS || o->state != OUT_LIST)
		return -EINVAL;
	if (!o->stats && !(o->stats = json_object()))
		return out_fail(o, -ENOMEM);
	if (json_object_set_new(o->stats, name, json_integer(num(v))))
		return out_fail(o, -ENOMEM);
	o->items++;
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
		if (!(o->top = json_object()))
			return out_fail(o, -ENOMEM);
		o->state = OUT_TOP;
	}
	return 0;
}

static int out_field(struct ctl_out *o, const char *key, json_t *v)
{
	int err;

	if ((err = ctl__out_top(o, key))) {
		json_decref(v);
		return err;
	}
	if (json_object_set_new(o->top, key, v))
		return out_fail(o, -ENOMEM);
	return 0;
}

int ctl_out_bool(struct ctl_out *o, const char *key, bool v)
{
	return o ? out_field(o, key, json_boolean(v)) : -EINVAL;
}

int ctl_out_u64(struct ctl_out *o, const char *key, uint64_t v)
{
	return o ? out_field(o, key, json_integer(num(v))) : -EINVAL;
}

void ctl__out_drop(struct ctl_out *o)
{
	json_decref(o->stats);
	json_decref(o->top);
	o->stats = o->top = NULL;
}

/*
 * The list's end, then the top-level fields: the dump of the top object
 * ({"k":v,...}) goes in with its '{' turned into ',' and its '}' closes
 * the answer.
 */
int ctl__out_end(struct ctl_out *o)
{
	json_t *empty = NULL;
	size_t at;
	int err = o->err;

	if (!err && o->cmd == CTL_CMD_STATS)
		err = ctl__json_put(o->b, o->stats ? o->stats
						   : (empty = json_object()));
	else if (!err && buf_append(o->b, "]", 1))
		err = -ENOSPC;
	json_decref(empty);
	at = o->b->len;
	if (!err && o->top && json_object_size(o->top)) {
		err = ctl__json_put(o->b, o->top);
		if (!err)
			o->b->p[at] = ',';
	} else if (!err && buf_append(o->b, "}", 1)) {
		err = -ENOSPC;
	}
	if (!err && buf_append(o->b, "\n", 1))
		err = -ENOSPC;
	ctl__out_drop(o);
	return err;
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
