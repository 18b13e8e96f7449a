/*
 * daemon_metrics.c - the Prometheus text page (exposition format 0.0.4)
 * of the /metrics endpoint: the proxy's message counters and latency
 * histogram, the guard's rule counters and gate, dialogs and calls.
 * Only wiring: it reads counters the layers keep and prints them; it
 * runs on the loop thread (ctl/http.c), so it reads them directly.
 * Labels are zone names (check_name keeps them to [A-Za-z0-9_.-]), rule
 * names (ours) and method names (ours): nothing from the network.
 */
#include <errno.h>
#include <string.h>

#include "core/buf.h"
#include "daemon.h"
#include "events/events.h"
#include "guard/guard.h"
#include "proxy/proxy.h"
#include "sip/sip.h"

#define PUT(...)                                        \
	do {                                            \
		if (!err)                               \
			err = buf_printf(b, __VA_ARGS__); \
	} while (0)

static void head(struct buf *b, int *errp, const char *name,
		 const char *type, const char *help)
{
	if (!*errp)
		*errp = buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
				   name, type);
}

static int messages(struct buf *b, const struct proxy *p)
{
	const struct proxy_metrics *m = proxy_metrics(p);
	unsigned z, i, nz = proxy_zone_count(p);
	int err = 0;

	head(b, &err, "sipguard_sip_requests_total", "counter",
	     "SIP requests received, by zone and method (other: extension "
	     "methods).");
	for (z = 0; z < nz && z < PROXY_MET_ZONES; z++)
		for (i = 0; i < SIP_METHOD__COUNT; i++)
			PUT("sipguard_sip_requests_total{zone=\"%s\","
			    "method=\"%s\"} %llu\n", proxy_zone_name(p, z),
			    i ? sip_method_name((enum sip_method)i) : "other",
			    (unsigned long long)m->zone[z].requests[i]);
	head(b, &err, "sipguard_sip_responses_total", "counter",
	     "SIP responses received, by zone and status class.");
	for (z = 0; z < nz && z < PROXY_MET_ZONES; z++)
		for (i = 1; i <= 6; i++)
			PUT("sipguard_sip_responses_total{zone=\"%s\","
			    "class=\"%uxx\"} %llu\n", proxy_zone_name(p, z), i,
			    (unsigned long long)m->zone[z].responses[i]);
	head(b, &err, "sipguard_sip_parse_errors_total", "counter",
	     "Messages that failed to parse, by zone.");
	for (z = 0; z < nz && z < PROXY_MET_ZONES; z++)
		PUT("sipguard_sip_parse_errors_total{zone=\"%s\"} %llu\n",
		    proxy_zone_name(p, z),
		    (unsigned long long)m->zone[z].malformed);
	head(b, &err, "sipguard_request_duration_seconds", "histogram",
	     "Time to handle one received request (parsed to handled).");
	for (i = 0; i < PROXY_LAT_BUCKETS; i++)
		PUT("sipguard_request_duration_seconds_bucket{le=\"%g\"} "
		    "%llu\n", proxy_lat_bounds_us[i] / 1e6,
		    (unsigned long long)m->lat_le[i]);
	PUT("sipguard_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
	    (unsigned long long)m->lat_count);
	PUT("sipguard_request_duration_seconds_sum %.9f\n",
	    (double)m->lat_sum_ns / 1e9);
	PUT("sipguard_request_duration_seconds_count %llu\n",
	    (unsigned long long)m->lat_count);
	return err;
}

static int rules(struct buf *b, const struct rules *r)
{
	struct rule_info ri;
	unsigned i;
	int err = 0;

	head(b, &err, "sipguard_rule_hits_total", "counter",
	     "Decisions of each guard rule (drops, refusals, bans, notices; "
	     "monitored ones included).");
	for (i = 0; i < rules_count(r); i++)
		if (rules_get(r, (int)i, &ri) == 0)
			PUT("sipguard_rule_hits_total{rule=\"%s\"} %llu\n",
			    ri.name, (unsigned long long)ri.hits);
	head(b, &err, "sipguard_rule_monitored_total", "counter",
	     "Decisions that only logged because the rule is in monitor "
	     "mode.");
	for (i = 0; i < rules_count(r); i++)
		if (rules_get(r, (int)i, &ri) == 0)
			PUT("sipguard_rule_monitored_total{rule=\"%s\"} %llu\n",
			    ri.name, (unsigned long long)ri.monitored);
	head(b, &err, "sipguard_rule_monitor", "gauge",
	     "1 when the rule only logs (monitor mode).");
	for (i = 0; i < rules_count(r); i++)
		if (rules_get(r, (int)i, &ri) == 0)
			PUT("sipguard_rule_monitor{rule=\"%s\"} %d\n", ri.name,
			    ri.effective ? 1 : 0);
	return err;
}

static int totals(struct buf *b, struct proxy *p)
{
	struct proxy_stats st;
	struct gate_stats gs;
	int err = 0;

	proxy_get_stats(p, &st);
	gate_stats(guard_gate_obj(proxy_guard(p)), &gs);
	head(b, &err, "sipguard_guard_verdicts_total", "counter",
	     "Requests the guard dropped silently or refused with an answer.");
	PUT("sipguard_guard_verdicts_total{action=\"drop\"} %llu\n",
	    (unsigned long long)st.guard_dropped);
	PUT("sipguard_guard_verdicts_total{action=\"refuse\"} %llu\n",
	    (unsigned long long)st.guard_refused);
	head(b, &err, "sipguard_gate_drops_total", "counter",
	     "Packets dropped before parsing, by reason.");
	PUT("sipguard_gate_drops_total{reason=\"banned\"} %llu\n",
	    (unsigned long long)gs.drop_banned);
	PUT("sipguard_gate_drops_total{reason=\"rate\"} %llu\n",
	    (unsigned long long)gs.drop_rate);
	head(b, &err, "sipguard_bans_active", "gauge", "Bans in force.");
	PUT("sipguard_bans_active %zu\n", gs.bans_active);
	head(b, &err, "sipguard_bans_total", "counter", "Bans started.");
	PUT("sipguard_bans_total %llu\n", (unsigned long long)gs.bans_total);
	head(b, &err, "sipguard_dialogs_active", "gauge",
	     "Confirmed dialogs (calls up).");
	PUT("sipguard_dialogs_active %llu\n",
	    (unsigned long long)st.dialogs_active);
	head(b, &err, "sipguard_calls_active", "gauge",
	     "Call records: calls being set up and up.");
	PUT("sipguard_calls_active %llu\n", (unsigned long long)st.calls_active);
	head(b, &err, "sipguard_registrations_active", "gauge",
	     "Registered contact bindings.");
	PUT("sipguard_registrations_active %llu\n",
	    (unsigned long long)st.bindings);
	head(b, &err, "sipguard_forwarded_total", "counter",
	     "Messages forwarded, by kind.");
	PUT("sipguard_forwarded_total{kind=\"request\"} %llu\n",
	    (unsigned long long)st.fwd_requests);
	PUT("sipguard_forwarded_total{kind=\"response\"} %llu\n",
	    (unsigned long long)st.fwd_responses);
	head(b, &err, "sipguard_local_replies_total", "counter",
	     "Responses sipguard made itself.");
	PUT("sipguard_local_replies_total %llu\n",
	    (unsigned long long)st.local_replies);
	head(b, &err, "sipguard_transactions_full_total", "counter",
	     "Requests refused with 503: transaction pool full.");
	PUT("sipguard_transactions_full_total %llu\n",
	    (unsigned long long)st.txn_full);
	head(b, &err, "sipguard_config_reloads_total", "counter",
	     "Configurations swapped in by reload.");
	PUT("sipguard_config_reloads_total %llu\n",
	    (unsigned long long)st.reloads);
	return err;
}

int daemon_metrics_page(void *arg, const char *path, struct buf *b,
			const char **typep)
{
	struct daemon_ctl_ctx *c = arg;
	int err;

	if (strcmp(path, "/metrics"))
		return -ENOENT;
	*typep = "text/plain; version=0.0.4; charset=utf-8";
	err = messages(b, c->proxy);
	if (!err)
		err = rules(b, guard_rules(proxy_guard(c->proxy)));
	if (!err)
		err = totals(b, c->proxy);
	return err;
}
