/*
 * rtp.h - RTP and RTCP packet checks for the media relay (RFC 3550
 * sections 5 and 6, RFC 5761 section 4 for RTP/RTCP on one port).
 * Pure functions on packet bytes: no state, no I/O, no allocation.
 */
#ifndef SIPGUARD_MEDIA_RTP_H
#define SIPGUARD_MEDIA_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	MEDIA_RTP_MIN = 12,   /* fixed header */
	MEDIA_RTP_MAX = 1500, /* larger packets are not voice or video
			       * over the internet: refuse them */
	MEDIA_RTCP_MIN = 8,   /* one receiver report without blocks */
};

/* Why a packet was refused (negative returns). */
enum media_rtp_err {
	MEDIA_RTP_OK = 0,
	MEDIA_RTP_E_SHORT = -1,     /* under the minimum, or truncated */
	MEDIA_RTP_E_LONG = -2,      /* over MEDIA_RTP_MAX */
	MEDIA_RTP_E_VERSION = -3,   /* V != 2 */
	MEDIA_RTP_E_CSRC = -4,      /* CSRC list past the end */
	MEDIA_RTP_E_EXT = -5,       /* extension past the end */
	MEDIA_RTP_E_PAD = -6,       /* padding count bad */
	MEDIA_RTP_E_RTCP_LEN = -7,  /* RTCP length fields inconsistent */
	MEDIA_RTP_E_RTCP_TYPE = -8, /* not an RTCP packet type (192-223) */
};

struct media_rtp_hdr {
	uint8_t pt;
	bool marker;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	size_t hdr_len;     /* header, CSRCs and extension */
	size_t payload_len; /* without padding */
};

/* Statistics a receiver report block carries (RFC 3550 6.4.1). */
struct media_rtcp_rr {
	bool present;
	uint8_t fraction_lost; /* /256 */
	uint32_t cum_lost;     /* 24 bits */
	uint32_t jitter;       /* timestamp units */
};

/*
 * Check one RTP packet: length bounds, version 2, CSRC count, extension
 * and padding lengths consistent with the datagram.  Fills *hp.
 * Returns 0 or a MEDIA_RTP_E_* code (the packet must be dropped).
 */
int media_rtp_parse(struct media_rtp_hdr *hp, const uint8_t *p, size_t n);

/* RFC 5761 4: with rtcp-mux, packet types 192-223 in the second byte
 * are RTCP (RTP payload types 64-95 are then not used). */
bool media_is_rtcp(const uint8_t *p, size_t n);

/*
 * Check a compound RTCP packet (RFC 3550 6.1): every part has version 2
 * and a length that fits, the parts fill the datagram exactly (padding
 * only in the last one), every type is RTCP's (192-223; any may come
 * first: RFC 5506 reduced-size RTCP).  Fills *rrp with the
 * first report block when there is one (rrp may be NULL).  Returns 0 or
 * a MEDIA_RTP_E_* code.
 */
int media_rtcp_parse(const uint8_t *p, size_t n, struct media_rtcp_rr *rrp);

/*
 * Overwrite the text of every SDES CNAME item with 'x' (lengths kept,
 * so the packet stays valid): the CNAME is often user@host and leaks
 * internal names.  p must have passed media_rtcp_parse().  Returns the
 * number of items scrubbed.
 */
unsigned media_rtcp_scrub_cname(uint8_t *p, size_t n);

#endif
