/*
 * proxy.h - public interface of the proxy layer: the dialog-stateful edge
 * proxy between zones (RFC 3261 section 16), with registrations kept for
 * remote users behind NAT.
 */
#ifndef SIPGUARD_PROXY_H
#define SIPGUARD_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/str.h"

struct loop;
struct sg_conf;
struct proxy;
struct guard;
struct evlog;
struct media;

struct proxy_stats {
	uint64_t rx_requests, rx_responses, rx_malformed;
	uint64_t fwd_requests, fwd_responses;
	uint64_t local_replies; /* answered by us (100, 4xx, 5xx...) */
	uint64_t absorbed;      /* retransmissions absorbed */
	uint64_t dropped;       /* silently dropped */
	uint64_t txn_full;      /* 503: transaction pool full */
	uint64_t loops, too_many_hops;
	uint64_t failovers;
	uint64_t dialogs_active, calls_active, bindings;
	uint64_t guard_dropped, guard_refused;            /* guard verdicts */
	uint64_t tls_handshakes, tls_resumed, tls_failed; /* transport's */
	uint64_t udp_rx_overflow; /* transport's: kernel drops, queue full */
	uint64_t reloads;         /* configurations swapped in */
	uint64_t drain_refused;   /* new calls refused while draining */
	uint64_t handoffs;        /* calls handed to another instance */
	uint64_t taken_elsewhere; /* ours, ended by another (cluster.c) */
	uint64_t taken_over;      /* dead instances' calls ended here */
};

/*
 * Create the proxy: opens every listener of conf's zones (UDP and TCP),
 * the transaction layer, dialog table and registration bindings, the call
 * record writer, and starts backend health probes.  conf must outlive the
 * proxy (the daemon owns it).  Returns 0 or -errno (logged).
 */
int proxy_new(struct proxy **pp, struct loop *loop, const struct sg_conf *conf);
void proxy_free(struct proxy *p);
void proxy_get_stats(const struct proxy *p, struct proxy_stats *st);
/* The guard (bans, rules) and event log, for the control socket. */
struct guard *proxy_guard(struct proxy *p);
struct evlog *proxy_evlog(struct proxy *p);
/* The media relay (media/media.h), or NULL when media.enabled is off. */
struct media *proxy_media(struct proxy *p);
/*
 * Read every zone's TLS certificates, keys and CA files again; swap them
 * in only if all are good (else the running ones stay: -EINVAL, logged).
 * Live connections are kept.  0 also when there is no TLS.
 */
int proxy_tls_reload(struct proxy *p);

/*
 * Counters for the metrics endpoint (pmetrics.c), live: read them on the
 * loop thread.  Messages received, by zone: requests by method (index
 * enum sip_method, 0 = extension methods), responses by class (index
 * status / 100, 1..6), messages that failed to parse.  Request handling
 * time (parse done to handler return) as a histogram: lat_le[i] counts
 * requests that took at most proxy_lat_bounds_us[i] microseconds
 * (cumulative, Prometheus style); lat_count and lat_sum_ns all of them.
 */
enum {
	PROXY_MET_ZONES = 16,
	PROXY_MET_METHODS = 16,
	PROXY_LAT_BUCKETS = 12,
};
extern const unsigned proxy_lat_bounds_us[PROXY_LAT_BUCKETS];

struct proxy_zone_metrics {
	uint64_t requests[PROXY_MET_METHODS];
	uint64_t responses[7];
	uint64_t malformed;
};

struct proxy_metrics {
	struct proxy_zone_metrics zone[PROXY_MET_ZONES];
	uint64_t lat_le[PROXY_LAT_BUCKETS];
	uint64_t lat_count, lat_sum_ns;
};

const struct proxy_metrics *proxy_metrics(const struct proxy *p);
/* Zone i's name (i < proxy_zone_count()), for labels. */
unsigned proxy_zone_count(const struct proxy *p);
const char *proxy_zone_name(const struct proxy *p, unsigned i);

/* A live call, for sipguardctl calls (pcalls.c); valid in the callback. */
struct proxy_call {
	struct str call_id, caller, callee;              /* From / To URIs */
	const struct sg_addr *caller_addr, *callee_addr; /* or NULL */
	const char *caller_zone, *callee_zone;           /* or NULL */
	const char *state;
	uint64_t duration_ms, answered_ms; /* answered 0: not yet */
	/* Media the relay saw from each party (caller, callee): packets
	 * and bytes relayed, packets dropped.  media false: not relayed. */
	bool media;
	uint64_t media_pkts[2], media_bytes[2], media_dropped[2];
};
typedef int proxy_call_fn(void *arg, const struct proxy_call *c);
/* Each INVITE dialog not yet ended; stops at fn's first non-zero. */
int proxy_list_calls(struct proxy *p, proxy_call_fn *fn, void *arg);
/* Drain: new INVITEs (out of dialog) get 503 with Retry-After, calls
 * in progress go on.  Off: calls are taken again. */
void proxy_set_drain(struct proxy *p, bool on);
bool proxy_draining(const struct proxy *p);

/*
 * Share registration bindings and dialog snapshots through s (issue 9,
 * cluster.c); s must outlive the proxy's traffic (the daemon frees the
 * store after stopping the loop).  NULL: none.
 */
struct store;
void proxy_set_store(struct proxy *p, struct store *s);

/*
 * Swap next in (reload.c): next must have passed conf_reload_check()
 * against the running configuration and must outlive the proxy or the
 * next reload.  New requests use it; transactions and dialogs in
 * progress are not touched.  0, or -errno with err (nothing changed).
 */
int proxy_reload(struct proxy *p, const struct sg_conf *next, char *err,
		 size_t errsz);

#endif
