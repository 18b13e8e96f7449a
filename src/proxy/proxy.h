/*
 * proxy.h - public interface of the proxy layer: the dialog-stateful edge
 * proxy between zones (RFC 3261 section 16), with registrations kept for
 * remote users behind NAT.
 */
#ifndef SIPGUARD_PROXY_H
#define SIPGUARD_PROXY_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct sg_conf;
struct proxy;
struct guard;
struct evlog;

struct proxy_stats {
	uint64_t rx_requests, rx_responses, rx_malformed;
	uint64_t fwd_requests, fwd_responses;
	uint64_t local_replies;		/* answered by us (100, 4xx, 5xx...) */
	uint64_t absorbed;		/* retransmissions absorbed */
	uint64_t dropped;		/* silently dropped */
	uint64_t txn_full;		/* 503: transaction pool full */
	uint64_t loops, too_many_hops;
	uint64_t failovers;
	uint64_t dialogs_active, calls_active, bindings;
	uint64_t guard_dropped, guard_refused;	/* guard verdicts */
	uint64_t tls_handshakes, tls_resumed, tls_failed; /* transport's */
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
/*
 * Read every zone's TLS certificates, keys and CA files again; swap them
 * in only if all are good (else the running ones stay: -EINVAL, logged).
 * Live connections are kept.  0 also when there is no TLS.
 */
int proxy_tls_reload(struct proxy *p);

#endif
