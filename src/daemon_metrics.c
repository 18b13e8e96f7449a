/*
 * daemon_metrics.c - the Prometheus text page (exposition format 0.0.4)
 * of the /metrics endpoint: the proxy's message counters and latency
 * histogram, the guard's rule counters, security events by type, event
 * and rule, the gate, dialogs and calls, and the media relay.  Only
 * wiring: it reads counters the layers keep and prints them; it runs on
 * the loop thread (ctl/http.c), so it reads them directly.
 * Labels are zone names (check_name keeps them to [A-Za-z0-9_.-]), rule,
 * event and method names (ours): nothing from the network.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/loop.h"
#include "ctl/ctl.h"
#include "ctl/http.h"
#include "daemon.h"
#include "events/events.h"
#include "guard/guard.h"
#include "media/media.h"
#include "proxy/proxy.h"
#include "sip/sip.h"

/* The page being written; the first error sticks. */
struct mw {
	struct buf *b;
	int err;
};

/* One sample of a family: its label value (NULL: no label), its value. */
struct mval {
	const char *lv;
	uint64_t v;
};

#define NV(a) (sizeof(a) / sizeof((a)[0]))

__attribute__((format(printf, 2, 3))) static void put(struct mw *w,
						      const char *fmt, ...)
{
	va_list ap;
	char line[512];
	int n;

	if (w->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		w->err = -EOVERFLOW;
	else
		w->err = buf_append(w->b, line, (size_t)n);
}

static void head(struct mw *w, const char *name, const char *type,
		 const char *help)
{
	put(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * A family with one label (or none: label NULL and one value): HELP,
 * TYPE, then name{label="lv"} v per value.  Every single-label family of
 * the page goes through here.
 */
static void family(struct mw *w, const char *name, const char *type,
		   const char *help, const char *label, const struct mval *v,
		   size_t n)
{
	size_t i;

	head(w, name, type, help);
	for (i = 0; i < n; i++)
		if (label)
			put(w, "%s{%s=\"%s\"} %llu\n", name, label, v[i].lv,
			    (unsigned long long)v[i].v);
		else
			put(w, "%s %llu\n", name, (unsigned long long)v[i].v);
}

/* One unlabelled sample. */
static void single(struct mw *w, const char *name, const char *type,
		   const char *help, uint64_t v)
{
	struct mval m = {NULL, v};

	family(w, name, type, help, NULL, &m, 1);
}

static void messages(struct mw *w, const struct proxy *p)
{
	const struct proxy_metrics *m = proxy_metrics(p);
	unsigned z, i, nz = proxy_zone_count(p);

	if (nz > PROXY_MET_ZONES)
		nz = PROXY_MET_ZONES;
	head(w, "sipguard_sip_requests_total", "counter",
	     "SIP requests received, by zone and method (other: extension "
	     "methods).");
	for (z = 0; z < nz; z++)
		for (i = 0; i < SIP_METHOD__COUNT; i++)
			put(w,
			    "sipguard_sip_requests_total{zone=\"%s\","
			    "method=\"%s\"} %llu\n",
			    proxy_zone_name(p, z),
			    i ? sip_method_name((enum sip_method)i) : "other",
			    (unsigned long long)m->zone[z].requests[i]);
	head(w, "sipguard_sip_responses_total", "counter",
	     "SIP responses received, by zone and status class.");
	for (z = 0; z < nz; z++)
		for (i = 1; i <= 6; i++)
			put(w,
			    "sipguard_sip_responses_total{zone=\"%s\","
			    "class=\"%uxx\"} %llu\n",
			    proxy_zone_name(p, z), i,
			    (unsigned long long)m->zone[z].responses[i]);
	head(w, "sipguard_sip_parse_errors_total", "counter",
	     "Messages that failed to parse, by zone.");
	for (z = 0; z < nz; z++)
		put(w, "sipguard_sip_parse_errors_total{zone=\"%s\"} %llu\n",
		    proxy_zone_name(p, z),
		    (unsigned long long)m->zone[z].malformed);
	head(w, "sipguard_request_duration_seconds", "histogram",
	     "Time to handle one received request (parsed to handled).");
	for (i = 0; i < PROXY_LAT_BUCKETS; i++)
		put(w,
		    "sipguard_request_duration_seconds_bucket{le=\"%g\"} "
		    "%llu\n",
		    proxy_lat_bounds_us[i] / 1e6,
		    (unsigned long long)m->lat_le[i]);
	put(w, "sipguard_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
	    (unsigned long long)m->lat_count);
	put(w, "sipguard_request_duration_seconds_sum %.9f\n",
	    (double)m->lat_sum_ns / 1e9);
	put(w, "sipguard_request_duration_seconds_count %llu\n",
	    (unsigned long long)m->lat_count);
}

static void rules(struct mw *w, const struct rules *r)
{
	struct mval hits[RULES_MAX], mon[RULES_MAX], eff[RULES_MAX];
	struct rule_info ri;
	size_t n = 0;
	unsigned i;

	for (i = 0; i < rules_count(r) && n < RULES_MAX; i++)
		if (rules_get(r, (int)i, &ri) == 0) {
			hits[n] = (struct mval){ri.name, ri.hits};
			mon[n] = (struct mval){ri.name, ri.monitored};
			eff[n++] = (struct mval){ri.name, ri.effective};
		}
	family(w, "sipguard_rule_hits_total", "counter",
	       "Decisions of each guard rule (drops, refusals, bans, notices; "
	       "monitored ones included).",
	       "rule", hits, n);
	family(w, "sipguard_rule_monitored_total", "counter",
	       "Decisions that only logged because the rule is in monitor "
	       "mode.",
	       "rule", mon, n);
	family(w, "sipguard_rule_monitor", "gauge",
	       "1 when the rule only logs (monitor mode).", "rule", eff, n);
}

static int one_verdict(void *arg, const struct evstats_verdict *v)
{
	struct mw *w = arg;

	put(w,
	    "sipguard_security_events_total{type=\"%s\",event=\"%s\","
	    "rule=\"%s\"} %llu\n",
	    v->type, v->event, v->rule ? v->rule : "",
	    (unsigned long long)v->n);
	return w->err;
}

/* Drops and refusals by reason (event) and rule, from the event log. */
static void verdicts(struct mw *w, const struct daemon_ctl_ctx *c)
{
	head(w, "sipguard_security_events_total", "counter",
	     "Security events by type (drop, refuse, ban, unban, expire, "
	     "would-*, notice), event (the reason: scanner, rate-limit, "
	     "...) and rule; every event, repeats included.  Refusals per "
	     "rule: sum by (rule) (...{type=\"refuse\"}).");
	(void)evstats_verdicts(daemon_ops_stats(c->ops), one_verdict, w);
}

static void totals(struct mw *w, struct proxy *p)
{
	struct proxy_stats st;
	struct gate_stats gs;

	proxy_get_stats(p, &st);
	gate_stats(guard_gate_obj(proxy_guard(p)), &gs);
	family(w, "sipguard_guard_verdicts_total", "counter",
	       "Requests the guard dropped silently or refused with an answer.",
	       "action",
	       (struct mval[]){{"drop", st.guard_dropped},
			       {"refuse", st.guard_refused}},
	       2);
	family(w, "sipguard_gate_drops_total", "counter",
	       "Packets dropped before parsing, by reason.", "reason",
	       (struct mval[]){{"banned", gs.drop_banned},
			       {"rate", gs.drop_rate}},
	       2);
	single(w, "sipguard_bans_active", "gauge", "Bans in force.",
	       gs.bans_active);
	single(w, "sipguard_bans_total", "counter", "Bans started.",
	       gs.bans_total);
	single(w, "sipguard_dialogs_active", "gauge",
	       "Confirmed dialogs (calls up).", st.dialogs_active);
	single(w, "sipguard_calls_active", "gauge",
	       "Call records: calls being set up and up.", st.calls_active);
	single(w, "sipguard_registrations_active", "gauge",
	       "Registered contact bindings.", st.bindings);
	family(w, "sipguard_forwarded_total", "counter",
	       "Messages forwarded, by kind.", "kind",
	       (struct mval[]){{"request", st.fwd_requests},
			       {"response", st.fwd_responses}},
	       2);
	single(w, "sipguard_local_replies_total", "counter",
	       "Responses sipguard made itself.", st.local_replies);
	single(w, "sipguard_transactions_full_total", "counter",
	       "Requests refused with 503: transaction pool full.",
	       st.txn_full);
	single(w, "sipguard_drain_refused_total", "counter",
	       "New calls refused with 503 while draining.", st.drain_refused);
	single(w, "sipguard_draining", "gauge",
	       "1 while new calls are refused (sipguardctl drain).",
	       proxy_draining(p));
	single(w, "sipguard_config_reloads_total", "counter",
	       "Configurations swapped in by reload.", st.reloads);
	single(w, "sipguard_udp_receive_overflow_total", "counter",
	       "SIP datagrams the kernel dropped: a UDP listener's receive "
	       "queue was full (more than this machine reads).",
	       st.udp_rx_overflow);
	family(w, "sipguard_tls_handshakes_total", "counter",
	       "TLS handshakes, by result.", "result",
	       (struct mval[]){{"full", st.tls_handshakes},
			       {"resumed", st.tls_resumed},
			       {"failed", st.tls_failed}},
	       3);
}

static void media(struct mw *w, const struct media *m)
{
	struct media_traffic t;
	struct media_stats st;

	media_get_stats(m, &st);
	media_get_traffic(m, &t);
	single(w, "sipguard_media_calls_active", "gauge",
	       "Calls with media anchored by the relay.", st.calls);
	single(w, "sipguard_media_streams_active", "gauge",
	       "Media streams (m-lines) being relayed.", st.streams);
	single(w, "sipguard_media_pinholes_open", "gauge",
	       "Relay ports open for media (pinholes).", st.ports_used);
	single(w, "sipguard_media_packets_total", "counter",
	       "RTP and RTCP packets relayed.", t.pkts);
	single(w, "sipguard_media_bytes_total", "counter",
	       "Bytes of RTP and RTCP relayed.", t.bytes);
	single(w, "sipguard_media_kernel_packets_total", "counter",
	       "Of sipguard_media_packets_total, the RTP packets the kernel "
	       "fast path relayed (media.kernel; merged every 500 ms).",
	       t.kernel);
	family(w, "sipguard_media_dropped_packets_total", "counter",
	       "Media packets dropped, by reason (injected: from a source "
	       "the signalling did not name; policed: over the negotiated "
	       "bandwidth; invalid: malformed, payload type not negotiated, "
	       "or an anomaly with media.anomaly_drop).",
	       "reason",
	       (struct mval[]){{"injected", t.injected},
			       {"policed", t.policed},
			       {"invalid", t.invalid}},
	       3);
	single(w, "sipguard_media_anomalies_total", "counter",
	       "SSRC, sequence or timestamp jumps seen (dropped or not).",
	       t.anomalies);
	single(w, "sipguard_media_offers_refused_total", "counter",
	       "SDP offers refused: no relay port free.", st.no_ports);
	single(w, "sipguard_media_timeouts_total", "counter",
	       "Calls whose media stopped for media.timeout.", st.timeouts);
	family(w, "sipguard_media_srtp_dropped_packets_total", "counter",
	       "SRTP and SRTCP packets dropped before relaying, by reason "
	       "(auth: bad authentication tag; replay: replayed or too "
	       "old).",
	       "reason",
	       (struct mval[]){{"auth", t.srtp_auth},
			       {"replay", t.srtp_replay}},
	       2);
	single(w, "sipguard_media_srtp_failure_reports_total", "counter",
	       "srtp-auth-failure events reported (one may cover several "
	       "packets).",
	       st.srtp_fail);
	family(w, "sipguard_media_dtls_handshakes_total", "counter",
	       "DTLS-SRTP handshakes on media legs, by result.", "result",
	       (struct mval[]){{"ok", st.dtls_ok}, {"failed", st.dtls_fail}},
	       2);
}

/* Clustered instances (proxy cluster.c): calls handed over and taken
 * over; stay 0 without a shared store. */
static void cluster(struct mw *w, struct proxy *p)
{
	struct proxy_stats st;

	proxy_get_stats(p, &st);
	single(w, "sipguard_cluster_handoffs_total", "counter",
	       "Calls handed to another instance of the cluster.", st.handoffs);
	single(w, "sipguard_cluster_taken_over_total", "counter",
	       "Calls of dead instances taken over (ended) here.",
	       st.taken_over);
}

static void feeds(struct mw *w, const struct daemon_ctl_ctx *c)
{
	const struct evlog *e = proxy_evlog(c->proxy);
	struct evlog_stats es;

	if (e) {
		evlog_stats(e, &es);
		family(w, "sipguard_event_lines_total", "counter",
		       "Event log lines, by fate (written; suppressed by the "
		       "rate cap; lost to write errors).",
		       "fate",
		       (struct mval[]){{"written", es.lines},
				       {"suppressed", es.suppressed},
				       {"error", es.errors}},
		       3);
	}
	single(w, "sipguard_event_followers", "gauge",
	       "sipguardctl events --follow clients connected.",
	       ctl_followers(c->ctl));
	single(w, "sipguard_event_follow_missed_total", "counter",
	       "Event lines followers lost by reading too slowly.",
	       ctl_follow_missed(c->ctl));
}

/* Users a toll-fraud anomaly rule holds now (an alert above 0 is the
 * usual rule). */
static void held(struct mw *w, const struct daemon_ctl_ctx *c)
{
	size_t b, t;

	guard_fraud_held_count(proxy_guard(c->proxy), loop_now(c->loop), &b,
			       &t);
	family(w, "sipguard_fraud_users_held", "gauge",
	       "Users a toll-fraud anomaly rule blocks or throttles now.",
	       "action", (struct mval[]){{"block", b}, {"throttle", t}}, 2);
}

int daemon_metrics_page(struct daemon_ctl_ctx *c, struct buf *b)
{
	struct mw w = {b, 0};

	messages(&w, c->proxy);
	rules(&w, guard_rules(proxy_guard(c->proxy)));
	verdicts(&w, c);
	totals(&w, c->proxy);
	held(&w, c);
	cluster(&w, c->proxy);
	if (proxy_media(c->proxy))
		media(&w, proxy_media(c->proxy));
	feeds(&w, c);
	return w.err;
}

int daemon_http_page(void *arg, const struct http_req *rq, struct http_resp *rs)
{
	struct daemon_ctl_ctx *c = arg;

	if (!strcmp(rq->path, "/metrics")) {
		if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD"))
			return -EOPNOTSUPP;
		rs->type = "text/plain; version=0.0.4; charset=utf-8";
		return daemon_metrics_page(c, rs->body);
	}
	if (c->dash_token)
		return daemon_dash_page(c, rq, rs);
	return -ENOENT;
}
