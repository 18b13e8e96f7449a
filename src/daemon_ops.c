/*
 * daemon_ops.c - what the operations views need besides the layers'
 * own counters, gathered from the event log on the loop thread:
 *
 *  - security events counted by type, event and rule (the per-rule
 *    refusal and drop counters of /metrics) and the top offending
 *    sources (dashboard), from every event the log accepts, before
 *    aggregation, so the counts are exact (events/evstats.c);
 *  - the last event lines, numbered, for the dashboard's feed, and the
 *    fan-out of every line to `sipguardctl events --follow`;
 *  - one sample per second of the totals the dashboard charts.
 *
 * All memory is allocated in daemon_ops_new(); nothing grows after.
 */
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/loop.h"
#include "core/mem.h"
#include "core/tmr.h"
#include "ctl/ctl.h"
#include "events/events.h"
#include "guard/gate.h"
#include "guard/guard.h"
#include "proxy/proxy.h"
#include "sip/sip.h"

enum {
	OPS_RECENT = 128,
	OPS_LINE_MAX = 2048, /* longer lines are not kept for the feed */
	OPS_TICK_MS = 1000,
};

struct ops_recent {
	uint64_t seq;
	uint16_t len;
	char line[OPS_LINE_MAX];
};

/* Owner: the daemon (daemon_ops_new / daemon_ops_free). */
struct daemon_ops {
	struct daemon_ctl_ctx *ctx;
	struct evstats stats;      /* per-rule counters, top sources */
	struct ops_recent *recent; /* OPS_RECENT slots, or NULL */
	uint64_t seq;              /* lines seen */
	struct daemon_sample series[DAEMON_SERIES];
	unsigned nseries, series_next;
	struct tmr tick;
};

static uint64_t wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_event(void *arg, const struct ev *ev)
{
	struct daemon_ops *o = arg;

	evstats_count(&o->stats, ev, wall_now());
}

/* Every finished line: the followers, and the dashboard's feed. */
static void on_line(void *arg, const char *line, size_t len)
{
	struct daemon_ops *o = arg;
	struct ops_recent *r;

	ctl_publish(o->ctx->ctl, line, len);
	o->seq++;
	if (!o->recent)
		return;
	if (len && line[len - 1] == '\n')
		len--;
	if (len > OPS_LINE_MAX)
		return;
	r = &o->recent[o->seq % OPS_RECENT];
	r->seq = o->seq;
	r->len = (uint16_t)len;
	memcpy(r->line, line, len);
}

static void sample(struct daemon_ops *o)
{
	struct proxy *p = o->ctx->proxy;
	const struct proxy_metrics *m = proxy_metrics(p);
	struct daemon_sample *s = &o->series[o->series_next];
	struct proxy_stats st;
	struct gate_stats gs;
	unsigned z;

	proxy_get_stats(p, &st);
	gate_stats(guard_gate_obj(proxy_guard(p)), &gs);
	memset(s, 0, sizeof(*s));
	s->wall_ms = wall_now();
	for (z = 0; z < proxy_zone_count(p) && z < PROXY_MET_ZONES; z++)
		s->invites += m->zone[z].requests[SIP_METHOD_INVITE];
	s->calls = st.calls_active;
	s->refused = st.guard_refused;
	s->dropped = st.guard_dropped + gs.drop_banned + gs.drop_rate;
	s->bans = gs.bans_active;
	o->series_next = (o->series_next + 1) % DAEMON_SERIES;
	if (o->nseries < DAEMON_SERIES)
		o->nseries++;
}

static void on_tick(void *arg)
{
	struct daemon_ops *o = arg;

	sample(o);
	tmr_start(loop_timers(o->ctx->loop), &o->tick, OPS_TICK_MS, on_tick, o);
}

int daemon_ops_new(struct daemon_ops **op, struct daemon_ctl_ctx *ctx,
		   bool feed)
{
	struct evlog *ev = proxy_evlog(ctx->proxy);
	struct daemon_ops *o;

	*op = NULL;
	o = mem_zalloc(sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->ctx = ctx;
	evstats_init(&o->stats);
	tmr_init(&o->tick);
	if (feed) {
		o->recent = mem_zalloc(sizeof(*o->recent) * OPS_RECENT);
		if (!o->recent) {
			mem_free(o);
			return -ENOMEM;
		}
		on_tick(o);
	}
	evlog_set_tap2(ev, on_line, o);
	evlog_set_watch(ev, on_event, o);
	*op = o;
	return 0;
}

void daemon_ops_free(struct daemon_ops *o)
{
	if (!o)
		return;
	evlog_set_tap2(proxy_evlog(o->ctx->proxy), NULL, NULL);
	evlog_set_watch(proxy_evlog(o->ctx->proxy), NULL, NULL);
	tmr_cancel(&o->tick);
	mem_free(o->recent);
	mem_free(o);
}

const struct evstats *daemon_ops_stats(const struct daemon_ops *o)
{
	return o ? &o->stats : NULL;
}

const struct daemon_sample *daemon_ops_sample(const struct daemon_ops *o,
					      unsigned i)
{
	if (!o || i >= o->nseries)
		return NULL;
	return &o->series[(o->series_next + DAEMON_SERIES - o->nseries + i) %
			  DAEMON_SERIES];
}

uint64_t daemon_ops_recent(const struct daemon_ops *o, uint64_t after,
			   daemon_line_fn *fn, void *arg)
{
	uint64_t s, first;

	if (!o || !o->recent)
		return 0;
	first = o->seq > OPS_RECENT ? o->seq - OPS_RECENT + 1 : 1;
	for (s = after + 1 > first ? after + 1 : first; s <= o->seq; s++)
		if (o->recent[s % OPS_RECENT].seq == s &&
		    fn(arg, s, o->recent[s % OPS_RECENT].line,
		       o->recent[s % OPS_RECENT].len))
			break;
	return o->seq;
}
