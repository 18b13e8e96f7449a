/*
 * daemon_dash.c - the live dashboard (ops.dashboard) on the HTTP
 * endpoint of ops.metrics_listen:
 *
 *   GET  /dashboard, /dashboard.js, /dashboard.css
 *        the page: static, compiled into the binary (share/dashboard/,
 *        daemon_dash_assets.c); it holds no data, so it needs no token;
 *   GET  /api/v1/state?after=SEQ
 *        everything the page shows, as one JSON object: totals, one
 *        sample a second for the charts, live calls, bans, users held by
 *        a toll-fraud rule, top offending sources, and the event lines
 *        numbered after SEQ;
 *   POST /api/v1/unban?addr=ADDR
 *        lift a ban (the same check as sipguardctl unban);
 *   POST /api/v1/unblock?user=NAME
 *        lift a user's toll-fraud block, on every instance (as
 *        sipguardctl unblock).
 *
 * Both API paths need "Authorization: Bearer <ops.dashboard_token>"
 * (compared in constant time); anything else is 401.  The token travels
 * in a header, never in a cookie, so another site cannot make a browser
 * send it (no CSRF), and the page keeps it in sessionStorage.  Plain
 * HTTP: the listener belongs on a management address, or behind a TLS
 * reverse proxy.  Strings from the network (URIs, reasons) are JSON-
 * escaped here and inserted as text by the page, never as HTML.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include "ctl/ctl.h"
#include "ctl/http.h"
#include "daemon.h"
#include "events/events.h"
#include "guard/gate.h"
#include "guard/guard.h"
#include "media/media.h"
#include "proxy/proxy.h"

enum {
	DASH_MAX_CALLS = 200, /* calls listed; the total is given too */
	DASH_MAX_BANS = 200,
	DASH_MAX_HELD = 200,
	DASH_TOP = 10,
};

/* daemon_dash_assets.c: the files of share/dashboard/. */
extern const char daemon_dash_html[], daemon_dash_js[], daemon_dash_css[];
extern const unsigned daemon_dash_html_len, daemon_dash_js_len,
	daemon_dash_css_len;

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Constant time in the token's length: no early exit on a mismatch. */
static bool token_ok(const struct daemon_ctl_ctx *c, const struct http_req *rq)
{
	const char *h = http_req_header(rq, "Authorization");
	size_t n = strlen(c->dash_token), i;
	unsigned char d = 0;

	if (!h || strncmp(h, "Bearer ", 7) || strlen(h + 7) != n)
		return false;
	for (i = 0; i < n; i++)
		d |= (unsigned char)(h[7 + i] ^ c->dash_token[i]);
	return d == 0;
}

/* ,"key":"value" (JSON-escaped) or ,"key":null. */
static int jstr(struct buf *b, const char *key, struct str v)
{
	int err = buf_printf(b, "\"%s\":", key);

	if (!err)
		err = v.len ? json_str(b, v) : buf_append_cstr(b, "null");
	return err;
}

static int jaddr(struct buf *b, const char *key, const struct sg_addr *a,
		 uint8_t plen, bool port)
{
	char s[SG_ADDR_STRLEN + 8];
	size_t n;

	if (!a || !a->len)
		return buf_printf(b, "\"%s\":null", key);
	if (port)
		sg_addr_fmt(a, s, sizeof(s));
	else
		sg_addr_ip(a, s, sizeof(s));
	n = strlen(s);
	if (plen)
		snprintf(s + n, sizeof(s) - n, "/%u", (unsigned)plen);
	return buf_printf(b, "\"%s\":\"%s\"", key, s);
}

struct calls_ctx {
	struct buf *b;
	unsigned n;
};

static int one_call(void *arg, const struct proxy_call *pc)
{
	struct calls_ctx *cc = arg;
	struct buf *b = cc->b;
	int err;

	if (cc->n++ >= DASH_MAX_CALLS)
		return 0;
	err = buf_append_cstr(b, cc->n > 1 ? ",{" : "{");
	if (!err)
		err = jstr(b, "caller", pc->caller);
	if (!err && !(err = buf_append_cstr(b, ",")))
		err = jstr(b, "callee", pc->callee);
	if (!err && !(err = buf_append_cstr(b, ",")))
		err = jaddr(b, "caller_addr", pc->caller_addr, 0, true);
	if (!err && !(err = buf_append_cstr(b, ",")))
		err = jaddr(b, "callee_addr", pc->callee_addr, 0, true);
	if (!err)
		err = buf_printf(b,
				 ",\"caller_zone\":\"%s\",\"callee_zone\":"
				 "\"%s\",\"state\":\"%s\",\"duration\":%llu,"
				 "\"talk\":%llu",
				 pc->caller_zone ? pc->caller_zone : "",
				 pc->callee_zone ? pc->callee_zone : "",
				 pc->state ? pc->state : "",
				 (unsigned long long)(pc->duration_ms / 1000),
				 (unsigned long long)(pc->answered_ms / 1000));
	if (!err && pc->media)
		err = buf_printf(b,
				 ",\"media\":{\"caller\":%llu,\"callee\":"
				 "%llu,\"dropped\":%llu}",
				 (unsigned long long)pc->media_pkts[0],
				 (unsigned long long)pc->media_pkts[1],
				 (unsigned long long)(pc->media_dropped[0] +
						      pc->media_dropped[1]));
	if (!err)
		err = buf_append_cstr(b, "}");
	return err;
}

static int put_calls(struct buf *b, struct daemon_ctl_ctx *c)
{
	struct calls_ctx cc = {b, 0};
	int err = buf_append_cstr(b, ",\"calls\":[");

	if (!err)
		err = proxy_list_calls(c->proxy, one_call, &cc);
	if (!err)
		err = buf_printf(b, "],\"calls_listed\":%u",
				 cc.n < DASH_MAX_CALLS ? cc.n : DASH_MAX_CALLS);
	return err;
}

static int put_bans(struct buf *b, struct daemon_ctl_ctx *c)
{
	struct gate *g = guard_gate_obj(proxy_guard(c->proxy));
	uint64_t now = loop_now(c->loop);
	struct gate_ban_info bi;
	struct sg_addr a;
	size_t cursor = 0;
	unsigned n = 0;
	uint8_t plen;
	int err = buf_append_cstr(b, ",\"bans\":[");

	while (!err && n < DASH_MAX_BANS &&
	       gate_ban_next(g, &cursor, now, false, &bi)) {
		daemon_ban_addr(&bi, &a, &plen);
		err = buf_append_cstr(b, n++ ? ",{" : "{");
		if (!err)
			err = jaddr(b, "addr", &a, plen, false);
		if (!err && bi.expires_ms == GATE_FOREVER)
			err = buf_append_cstr(b, ",\"expires_in\":null");
		else if (!err)
			err = buf_printf(
				b, ",\"expires_in\":%llu",
				(unsigned long long)(bi.expires_ms > now
							     ? (bi.expires_ms -
								now + 999) /
								       1000
							     : 0));
		if (!err && !(err = buf_append_cstr(b, ",")))
			err = jstr(b, "rule", str_cstr(bi.rule));
		if (!err && !(err = buf_append_cstr(b, ",")))
			err = jstr(b, "reason", str_cstr(bi.reason));
		if (!err)
			err = buf_printf(b, ",\"hits\":%llu}",
					 (unsigned long long)bi.hits);
	}
	return err ? err : buf_append_cstr(b, "]");
}

static int put_held(struct buf *b, struct daemon_ctl_ctx *c)
{
	struct fraud_held h[DASH_MAX_HELD];
	size_t i, n = guard_fraud_held(proxy_guard(c->proxy), h, DASH_MAX_HELD,
				       loop_now(c->loop));
	int err = buf_append_cstr(b, ",\"held\":[");

	for (i = 0; !err && i < n; i++) {
		err = buf_append_cstr(b, i ? ",{" : "{");
		if (!err)
			err = jstr(b, "user", str_cstr(h[i].user));
		if (!err)
			err = buf_printf(
				b,
				",\"action\":\"%s\",\"rule\":\"%s\","
				"\"expires_in\":%llu}",
				h[i].blocked ? "block" : "throttle", h[i].rule,
				(unsigned long long)(h[i].left_ms + 999) /
					1000);
	}
	return err ? err : buf_append_cstr(b, "]");
}

static int put_top(struct buf *b, struct daemon_ctl_ctx *c)
{
	struct evstats_top t[DASH_TOP];
	size_t i, n = evstats_top(daemon_ops_stats(c->ops), t, DASH_TOP);
	int err = buf_append_cstr(b, ",\"top\":[");

	for (i = 0; !err && i < n; i++) {
		err = buf_append_cstr(b, i ? ",{" : "{");
		if (!err)
			err = jaddr(b, "src", &t[i].src, t[i].plen, false);
		if (!err)
			err = buf_printf(b, ",\"count\":%llu,\"last\":%llu,",
					 (unsigned long long)t[i].count,
					 (unsigned long long)t[i].last_wall_ms);
		if (!err)
			err = jstr(b, "type", str_cstr(t[i].type));
		if (!err && !(err = buf_append_cstr(b, ",")))
			err = jstr(b, "event", str_cstr(t[i].event));
		if (!err && !(err = buf_append_cstr(b, ",")))
			err = jstr(b, "rule", str_cstr(t[i].rule));
		if (!err && !(err = buf_append_cstr(b, ",")))
			err = jstr(b, "reason", str_cstr(t[i].reason));
		if (!err)
			err = buf_append_cstr(b, "}");
	}
	return err ? err : buf_append_cstr(b, "]");
}

/* The charts: one array per series, oldest first. */
static int put_series(struct buf *b, const struct daemon_ops *o)
{
	static const char *const names[] = {"t",       "invites", "calls",
					    "refused", "dropped", "bans"};
	const struct daemon_sample *s;
	unsigned k, i;
	int err = buf_append_cstr(b, ",\"series\":{");

	for (k = 0; !err && k < 6; k++) {
		err = buf_printf(b, "%s\"%s\":[", k ? "," : "", names[k]);
		for (i = 0; !err && (s = daemon_ops_sample(o, i)); i++) {
			uint64_t v[] = {s->wall_ms, s->invites, s->calls,
					s->refused, s->dropped, s->bans};

			err = buf_printf(b, "%s%llu", i ? "," : "",
					 (unsigned long long)v[k]);
		}
		if (!err)
			err = buf_append_cstr(b, "]");
	}
	return err ? err : buf_append_cstr(b, "}");
}

struct ev_ctx {
	struct buf *b;
	unsigned n;
	int err;
};

static int one_line(void *arg, uint64_t seq, const char *line, size_t len)
{
	struct ev_ctx *e = arg;

	/* The line is a JSON object our event log wrote: embed it. */
	e->err = buf_printf(e->b, "%s{\"seq\":%llu,\"ev\":%.*s}",
			    e->n++ ? "," : "", (unsigned long long)seq,
			    (int)len, line);
	return e->err;
}

static int put_totals(struct buf *b, struct daemon_ctl_ctx *c)
{
	struct proxy *p = c->proxy;
	struct media_traffic mt;
	struct media_stats ms;
	struct proxy_stats st;
	struct gate_stats gs;

	proxy_get_stats(p, &st);
	gate_stats(guard_gate_obj(proxy_guard(p)), &gs);
	media_get_stats(proxy_media(p), &ms);
	/* As sipguard_media_packets_total and _kernel_packets_total. */
	media_get_traffic(proxy_media(p), &mt);
	return buf_printf(b,
			  ",\"totals\":{\"calls\":%llu,\"dialogs\":%llu,"
			  "\"registrations\":%llu,\"bans\":%zu,"
			  "\"bans_total\":%llu,\"refused\":%llu,"
			  "\"dropped\":%llu,\"media_streams\":%llu,"
			  "\"media_packets\":%llu,"
			  "\"media_kernel_packets\":%llu,"
			  "\"udp_overflow\":%llu,\"draining\":%s}",
			  (unsigned long long)st.calls_active,
			  (unsigned long long)st.dialogs_active,
			  (unsigned long long)st.bindings, gs.bans_active,
			  (unsigned long long)gs.bans_total,
			  (unsigned long long)st.guard_refused,
			  (unsigned long long)(st.guard_dropped +
					       gs.drop_banned + gs.drop_rate),
			  (unsigned long long)ms.streams,
			  (unsigned long long)mt.pkts,
			  (unsigned long long)mt.kernel,
			  (unsigned long long)st.udp_rx_overflow,
			  proxy_draining(p) ? "true" : "false");
}

static int state(struct daemon_ctl_ctx *c, const struct http_req *rq,
		 struct buf *b)
{
	const char *a = http_req_arg(rq, "after");
	struct ev_ctx e = {b, 0, 0};
	uint64_t after = 0, seq;
	int err;

	if (a && str_to_u64(&after, str_cstr(a), UINT64_MAX))
		after = 0;
	err = buf_printf(b, "{\"now\":%llu", (unsigned long long)wall_ms());
	if (!err)
		err = put_totals(b, c);
	if (!err)
		err = put_series(b, c->ops);
	if (!err)
		err = put_calls(b, c);
	if (!err)
		err = put_bans(b, c);
	if (!err)
		err = put_held(b, c);
	if (!err)
		err = put_top(b, c);
	if (!err)
		err = buf_append_cstr(b, ",\"events\":[");
	if (err)
		return err;
	seq = daemon_ops_recent(c->ops, after, one_line, &e);
	if (e.err)
		return e.err;
	return buf_printf(b, "],\"seq\":%llu}", (unsigned long long)seq);
}

/* An action's answer: ok, or 404 with absent's text (-ENOENT), or 500. */
static int answer(struct http_resp *rs, int err, const char *absent)
{
	if (!err)
		return buf_append_cstr(rs->body, "{\"ok\":true}");
	rs->status = err == -ENOENT ? 404 : 500;
	return buf_printf(rs->body, "{\"ok\":false,\"error\":\"%s\"}",
			  err == -ENOENT ? absent : "failed");
}

/* POST /api/v1/unban?addr=ADDR: the control socket's own check. */
static int unban(struct daemon_ctl_ctx *c, const struct http_req *rq,
		 struct http_resp *rs)
{
	const char *a = http_req_arg(rq, "addr");
	struct sg_addr addr;
	struct guard_src s;
	uint8_t plen;
	int err;

	if (!a || ctl_addr_parse(&addr, &plen, str_cstr(a))) {
		rs->status = 400;
		return buf_append_cstr(rs->body, "{\"ok\":false,\"error\":"
						 "\"invalid address\"}");
	}
	guard_src_from_addr(&s, &addr);
	err = guard_unban(proxy_guard(c->proxy), &s, loop_now(c->loop),
			  wall_ms());
	log_info("dashboard: unban %s: %s", a, err ? strerror(-err) : "done");
	return answer(rs, err, "not banned");
}

/* POST /api/v1/unblock?user=NAME: 1..CTL_USER_MAX bytes of text, as
 * the control socket takes it. */
static int unblock(struct daemon_ctl_ctx *c, const struct http_req *rq,
		   struct http_resp *rs)
{
	const char *u = http_req_arg(rq, "user");
	size_t i, n = u ? strlen(u) : 0;
	int err;

	for (i = 0; i < n; i++)
		if ((unsigned char)u[i] < 0x20 || u[i] == 0x7f)
			break;
	if (!n || n > CTL_USER_MAX || i < n) {
		rs->status = 400;
		return buf_append_cstr(rs->body, "{\"ok\":false,\"error\":"
						 "\"invalid user\"}");
	}
	err = guard_fraud_unblock(proxy_guard(c->proxy), str_make(u, n),
				  loop_now(c->loop), wall_ms());
	log_info("dashboard: unblock %s: %s", u, err ? strerror(-err) : "done");
	return answer(rs, err, "not held");
}

static int asset(struct http_resp *rs, const char *type, const char *p,
		 unsigned len)
{
	rs->type = type;
	return buf_append(rs->body, p, len);
}

int daemon_dash_page(struct daemon_ctl_ctx *c, const struct http_req *rq,
		     struct http_resp *rs)
{
	bool get = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");
	bool post = !strcmp(rq->method, "POST");

	if (!strcmp(rq->path, "/dashboard"))
		return !get ? -EOPNOTSUPP
			    : asset(rs, "text/html; charset=utf-8",
				    daemon_dash_html, daemon_dash_html_len);
	if (!strcmp(rq->path, "/dashboard.js"))
		return !get ? -EOPNOTSUPP
			    : asset(rs, "text/javascript; charset=utf-8",
				    daemon_dash_js, daemon_dash_js_len);
	if (!strcmp(rq->path, "/dashboard.css"))
		return !get ? -EOPNOTSUPP
			    : asset(rs, "text/css; charset=utf-8",
				    daemon_dash_css, daemon_dash_css_len);
	if (!strcmp(rq->path, "/favicon.ico"))
		return !get ? -EOPNOTSUPP : asset(rs, "image/x-icon", "", 0);
	if (strcmp(rq->path, "/api/v1/state") &&
	    strcmp(rq->path, "/api/v1/unban") &&
	    strcmp(rq->path, "/api/v1/unblock"))
		return -ENOENT;
	if (!token_ok(c, rq))
		return -EPERM;
	rs->type = "application/json";
	if (!strcmp(rq->path, "/api/v1/state"))
		return get ? state(c, rq, rs->body) : -EOPNOTSUPP;
	if (!strcmp(rq->path, "/api/v1/unblock"))
		return post ? unblock(c, rq, rs) : -EOPNOTSUPP;
	return post ? unban(c, rq, rs) : -EOPNOTSUPP;
}
