/*
 * hep.h - HEPv3 (Homer Encapsulation Protocol, version 3) export: copies
 * of the SIP messages sipguard receives and sends, and optionally its
 * security events, to a capture server (Homer, `sngrep -L`) over UDP.
 *
 * The encoder is pure (bytes out, no I/O) for tests; the sender owns one
 * non-blocking UDP socket and never waits: a packet the socket cannot take
 * is counted as dropped.  Nothing here may slow down or fail the SIP path.
 */
#ifndef SIPGUARD_EVENTS_HEP_H
#define SIPGUARD_EVENTS_HEP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/str.h"

struct buf;

enum {
	HEP_PROTO_SIP = 1,      /* chunk 11 values */
	HEP_PROTO_LOG = 100,    /* a JSON line (our security events) */
	HEP_MAX_PACKET = 65507, /* one UDP datagram over IPv4 */
};

/* One captured message.  src and dst must be of the same family. */
struct hep_pkt {
	const struct sg_addr *src, *dst;
	uint8_t ipproto;    /* 17 UDP, 6 TCP (TLS is sent as TCP) */
	uint8_t proto_type; /* HEP_PROTO_* */
	uint64_t wall_us;   /* capture time, microseconds since 1970 */
	uint32_t capture_id;
	struct str payload;
	struct str correlation; /* chunk 17, may be empty */
};

/*
 * Append the HEPv3 packet for p to out.  0, -EINVAL (families differ or
 * are not IP), -EMSGSIZE (over HEP_MAX_PACKET) or -ENOMEM (out is full).
 */
int hep_encode(struct buf *out, const struct hep_pkt *p);

struct hep_stats {
	uint64_t sent, dropped, errors;
};

/* Owner: whoever called hep_new(). */
struct hep;

/* A sender to server (UDP), capture agent id.  0 or -errno. */
int hep_new(struct hep **hp, const struct sg_addr *server, uint32_t capture_id);
void hep_free(struct hep *h);
/*
 * keep: send SDES keys (a=crypto inline: key material) in SIP payloads
 * as they are.  Off by default: each key is masked with '*' of the same
 * length in the copy sent (keyline_mask()), never in the message itself.
 */
void hep_keep_keys(struct hep *h, bool keep);
/*
 * Send a copy of payload as seen between src and dst (now: the wall
 * clock is read here).  Never blocks; failures are only counted.
 */
void hep_send(struct hep *h, const struct sg_addr *src,
	      const struct sg_addr *dst, bool tcp, uint8_t proto_type,
	      struct str payload, struct str correlation);
/* The socket's own address (for packets with no network endpoints,
 * such as security events). */
const struct sg_addr *hep_local(const struct hep *h);
const struct sg_addr *hep_server(const struct hep *h);
void hep_stats(const struct hep *h, struct hep_stats *sp);

#endif
