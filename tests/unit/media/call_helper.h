/*
 * call_helper.h - scaffolding shared by the media unit tests that drive
 * the offer/answer of a call through media_call_sdp() on a real media
 * layer (test_srtp.c, test_dtls_leg.c): a call with its legs' SRTP
 * policies, one SDP through it, the relay drained, open/close of the
 * media layer.  Linked by the tests that list
 * $(BUILD)/tests/unit/media/call_helper.o as a prerequisite.
 */
#ifndef SIPGUARD_TESTS_MEDIA_CALL_HELPER_H
#define SIPGUARD_TESTS_MEDIA_CALL_HELPER_H

#include "core/buf.h"
#include "core/conf.h"
#include "media/media_int.h"

/* Session part of the test SDPs; o is the origin's version. */
#define MH_SDP_HEAD(o)                                                         \
	"v=0\r\no=u 1 " o " IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n" \
	"t=0 0\r\n"
#define MH_AVP_OFFER  MH_SDP_HEAD("1") "m=audio 4000 RTP/AVP 0\r\n"
#define MH_AVP_ANSWER MH_SDP_HEAD("5") "m=audio 6000 RTP/AVP 0\r\n"

/* A media layer on conf and an 8 KiB output buffer. */
void mh_open(struct media **mp, struct buf *b,
	     const struct sg_conf_media *conf);
/* End c, let the relay drop its streams, free b and m. */
void mh_close(struct media *m, struct media_call *c, struct buf *b);

/* A call from 127.0.0.1 (leg 0, zone 0 "internet", untrusted) to
 * 127.0.0.2 (leg 1, zone 1 "pbx"), SRTP policies p0/p1 and key exchange
 * k0/k1 (enum conf_srtp_kx; < 0: left as media_call_new() sets it). */
struct media_call *mh_new_call(struct media *m, const char *id, int p0, int k0,
			       int p1, int k1);

/* body from leg `from` through c as kind k, with want as the result:
 * the rewritten SDP, NUL-terminated, in b. */
const char *mh_sdp(struct media_call *c, unsigned from, enum media_sdp_kind k,
		   const char *body, struct buf *b, int want);

/* How many times what occurs in s. */
unsigned mh_count(const char *s, const char *what);

/* Poll m until its relay holds no stream (400 ms at most). */
void mh_wait_relay(struct media *m);

/* A non-blocking UDP socket bound to 127.0.0.1:port (0: any), its
 * address in *ep (if not NULL): the descriptor, or -errno. */
int mh_udp(uint16_t port, struct media_ep *ep);
/* A free even/odd port pair on 127.0.0.1: two bound sockets. */
void mh_port_pair(int fd[2], uint16_t *portp);

#endif
