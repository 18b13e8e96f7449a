/*
 * media.h - public interface of the media layer: a relay that anchors
 * RTP/RTCP of calls set up through sipguard (RFC 3550, RFC 3264 offer/
 * answer, RFC 4961 symmetric RTP, RFC 5761 rtcp-mux).
 *
 * The proxy hands every SDP body it forwards to media_call_sdp(), which
 * rewrites it so that both parties send their media to sipguard, and
 * opens, updates or closes the call's pinholes as offer and answer
 * negotiate streams.  Each pinhole is a pair of relay ports per leg,
 * bound to the relay address of the zone that leg faces.  Packets are
 * relayed by separate threads (media.threads); each leg accepts only the
 * source its signalling named (see media.c and relay.c).
 *
 * Leg 0 is the caller (sent the dialog-forming INVITE), leg 1 the callee.
 * Everything here runs on the signalling thread.
 */
#ifndef SIPGUARD_MEDIA_H
#define SIPGUARD_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/str.h"

struct buf;
struct evlog;
struct sg_conf_media;
struct media;
struct media_call;

enum {
	MEDIA_CALLER = 0,
	MEDIA_CALLEE = 1,
	MEDIA_MAX_STREAMS = 16, /* = SDP_MAX_MEDIA */
	MEDIA_MAX_THREADS = 16,
	MEDIA_ID_MAX = 128, /* Call-ID and tags kept per call */
};

/* The call's media has been idle for media.timeout (confirmed call). */
typedef void media_timeout_fn(void *arg, struct media_call *c);

/*
 * Start the media layer: port allocator, relay threads.  conf and ev
 * (may be NULL) are borrowed and must outlive m.  Returns 0, -EINVAL,
 * -ENOMEM, or -errno (thread, eventfd, epoll).
 */
int media_new(struct media **mp, const struct sg_conf_media *conf,
	      struct evlog *ev, media_timeout_fn *on_timeout, void *arg);
/* Stop the threads, close every socket, free every call. */
void media_free(struct media *m);
/* An eventfd to watch for reading in the signalling loop; call
 * media_poll() when it is readable. */
int media_fd(const struct media *m);
/* Handle what the relays reported (events, finished closes). */
void media_poll(struct media *m, uint64_t now_ms, uint64_t wall_ms);
/* Once a second: media timeouts, forgotten calls, quarantine.  now_ms
 * is CLOCK_MONOTONIC in ms (the loop's clock; the relay stamps packets
 * with the same clock). */
void media_tick(struct media *m, uint64_t now_ms, uint64_t wall_ms);
/* media.kernel: a descriptor to watch for reading in the signalling
 * loop (interfaces added after start), -1 when there is none; call
 * media_kernel_poll() when it is readable (media_tick does too). */
int media_kernel_fd(const struct media *m);
void media_kernel_poll(struct media *m, uint64_t now_ms);

/* Call lookup by Call-ID and the caller's From-tag: the first one. */
struct media_call *media_call_find(struct media *m, struct str call_id,
				   struct str caller_tag);
/* The next call with the same Call-ID and caller tag (a request that
 * spirals through sipguard twice, e.g. through a PBX that proxies it
 * back, makes one media call per pass), or NULL. */
struct media_call *media_call_next(struct media_call *c);
/* The call of that Call-ID and caller tag whose leg `leg` faces zone
 * `zone` (the pass a message belongs to), or NULL. */
struct media_call *media_call_find_zone(struct media *m, struct str call_id,
					struct str caller_tag, unsigned leg,
					int zone);
/*
 * A new call (on a dialog-forming INVITE), the caller in caller_zone.
 * Returns 0, -EEXIST (that pass exists), -E2BIG (ids too long), -ENOSPC
 * (media.max_calls), -ENOMEM.
 */
int media_call_new(struct media *m, struct str call_id, struct str caller_tag,
		   int caller_zone, uint64_t now_ms, struct media_call **cp);
/*
 * What is known of a leg: the relay address it is offered (the zone's
 * listener address; the port is ignored), the address its SIP came
 * from (NULL: not known yet), whether it is untrusted, its zone name
 * (borrowed, for events).
 */
void media_call_leg(struct media_call *c, unsigned leg,
		    const struct sg_addr *relay, const struct sg_addr *sip_src,
		    bool untrusted, int zone_idx, const char *zone);
bool media_call_leg_known(const struct media_call *c, unsigned leg);
/* The SRTP policy of a leg's zone (enum conf_srtp; optional until set):
 * see srtp_sdp.c. */
void media_call_leg_srtp(struct media_call *c, unsigned leg, int policy);
/* How its zone agrees SRTP keys (enum conf_srtp_kx; any until set): see
 * dtls_sdp.c. */
void media_call_leg_srtp_kx(struct media_call *c, unsigned leg, int kx);
/* The callee's tag, once a response carried one. */
void media_call_set_callee_tag(struct media_call *c, struct str tag);
struct str media_call_id(const struct media_call *c);
struct str media_call_tag(const struct media_call *c, unsigned leg);
/* The dialog is confirmed: arm the media timeout. */
void media_call_confirmed(struct media_call *c, uint64_t now_ms);

/*
 * An SDP body sent by leg `from`: rewrite it into out (appended) for the
 * other leg and update the call's streams (offer or answer, decided by
 * the call's offer/answer state; a body with an unchanged o= version is
 * a repeat and only rewritten).  Returns 0; -EINVAL (not valid SDP: the
 * caller must not forward it as is); -EAGAIN (no relay port free);
 * -ENOSPC/-ENOMEM.
 */
enum media_sdp_kind {
	MEDIA_SDP_REQUEST = 0, /* INVITE, ACK, PRACK, UPDATE */
	MEDIA_SDP_PROVISIONAL, /* 1xx */
	MEDIA_SDP_FINAL,       /* 2xx */
};
int media_call_sdp(struct media_call *c, unsigned from,
		   enum media_sdp_kind kind, struct str body, struct buf *out);

/* End the call's media: every stream closes (ports quarantined once the
 * relay let go).  c is freed; do not use it afterwards. */
void media_call_end(struct media_call *c);

/* ,"media":[{...},...] with the call's per-stream statistics, appended
 * to out (nothing when the call had no stream).  0 or a buf error. */
int media_call_stats_json(const struct media_call *c, struct buf *out);

struct media_stats {
	uint64_t calls, streams, ports_used;
	uint64_t no_ports; /* offers refused: pool empty */
	uint64_t injected, anomalies, policed, timeouts;
	uint64_t notes_lost;
	uint64_t srtp_fail; /* SRTP auth/replay failure reports */
	uint64_t dtls_ok;   /* DTLS-SRTP handshakes done */
	uint64_t dtls_fail; /* DTLS-SRTP handshakes failed */
};
void media_get_stats(const struct media *m, struct media_stats *st);

/* Packets of every stream since start, closed and live (the /metrics
 * page): relayed, and dropped by reason.  Live streams are read while
 * the relays write them, so a figure may lag by a few packets. */
struct media_traffic {
	uint64_t pkts, bytes; /* relayed, RTCP included */
	uint64_t rtcp;        /* RTCP packets relayed */
	uint64_t kernel;      /* of pkts, relayed by the kernel fast path */
	uint64_t injected;    /* dropped: source not allowed */
	uint64_t policed;     /* dropped: over the bandwidth */
	uint64_t invalid;     /* dropped: malformed, payload type not
			       * negotiated, anomaly (media.anomaly_drop) */
	uint64_t anomalies;   /* SSRC/seq/ts jumps, dropped or not */
	uint64_t srtp_auth;   /* dropped: SRTP/SRTCP failing authentication */
	uint64_t srtp_replay; /* dropped: SRTP/SRTCP replayed or too old */
};
void media_get_traffic(const struct media *m, struct media_traffic *t);
/* The same for what leg `leg` of one call sent, every stream, closed and
 * live (sipguardctl calls, the dashboard). */
void media_call_traffic(const struct media_call *c, unsigned leg,
			struct media_traffic *t);
/* Relay ports of a call's stream i facing leg (tests, ctl): 0 if none. */
uint16_t media_call_port(const struct media_call *c, unsigned i, unsigned leg);

#endif
