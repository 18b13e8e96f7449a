/*
 * call_helper.h - scaffolding shared by the media unit tests that drive
 * the offer/answer of a call through media_call_sdp() on a real media
 * layer (test_srtp.c, test_dtls_leg.c): a call with its legs' SRTP
 * policies, one SDP through it, the relay drained, open/close of the
 * media layer; and by the tests of the relay thread alone
 * (test_relay_uring.c, test_kfast.c): a relay with a stream between two
 * loopback parties, RTP sent and awaited; MH_CONF_MEDIA (test_offer.c
 * too, which needs nothing else here).  Linked by the tests that list
 * $(BUILD)/tests/unit/media/call_helper.o as a prerequisite.
 */
#ifndef SIPGUARD_TESTS_MEDIA_CALL_HELPER_H
#define SIPGUARD_TESTS_MEDIA_CALL_HELPER_H

#include "core/buf.h"
#include "core/conf.h"
#include "media/media_int.h"

/* The media config the tests open a media layer on, as a designated
 * initializer's first fields (a test adds its own after it): relay
 * ports pmin to pmax, room for calls calls, one relay thread, 1 s of
 * port quarantine, 60 s of media timeout, the usual jump limits. */
#define MH_CONF_MEDIA(pmin, pmax, calls)                             \
	.enabled = true, .port_min = (pmin), .port_max = (pmax),     \
	.quarantine = 1000, .timeout = 60000, .max_seq_jump = 3000,  \
	.max_ts_jump = 1440000, .policing_margin = 50, .threads = 1, \
	.max_calls = (calls)

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

/*
 * A relay thread of its own (no media layer) and a stream on it between
 * two parties on loopback, for the relay's own tests (test_relay_uring.c,
 * test_kfast.c).
 */
struct mh_relay {
	struct media_relay r;
	struct media_stream *s;
	int peer[2][2];    /* [leg][comp]: the two parties' sockets */
	uint16_t rport[2]; /* relay's even port facing each leg */
	int orig[2][2];    /* the descriptors handed over */
	int evout;         /* the relay's notes eventfd */
};

/* Start f's relay thread: io_uring if uring (epoll where it cannot be
 * set up), with the kernel fast path kf (NULL: none). */
void mh_relay_start(struct mh_relay *f, bool uring, struct kfast *kf);
/* Stop and free f's relay thread.  The stream, its sockets and the
 * parties' stay, for the test to check and close. */
void mh_relay_stop(struct mh_relay *f);
/* A new stream in f->s between two new parties on 127.0.0.1 (f->peer),
 * relay ports f->rport, policed to bw bytes/s per leg (0: not), handed
 * to f's relay. */
void mh_relay_add_stream(struct mh_relay *f, uint32_t bw);
/* Hand s to r with c (its legs' SDP addresses filled): PT 0 only, the
 * checks' jump limits. */
void mh_relay_hand(struct media_relay *r, struct media_stream *s,
		   struct media_cmd *c);
/* n RTP packets (seq0 on) from leg from's party: each arrives intact at
 * the other party, from the relay port facing it, within 2 s. */
void mh_relay_some(struct mh_relay *f, unsigned from, unsigned n,
		   uint16_t seq0);
/* Close the parties' sockets. */
void mh_relay_close_peers(struct mh_relay *f);
/* Wait (5 s at most) for the relay's DONE note of s. */
bool mh_relay_wait_done(struct mh_relay *f, const struct media_stream *s);

/* Send p to 127.0.0.1:port from fd (all of it, or the test fails). */
void mh_send_to(int fd, uint16_t port, const uint8_t *p, size_t n);
/* One datagram on fd within ms: its length, -1 if none; the sender's
 * port in *fromp (if not NULL). */
ssize_t mh_recv_wait(int fd, uint8_t *p, size_t n, int ms, uint16_t *fromp);
/* A 172-byte RTP packet (160 bytes of payload, timestamp seq * 160) in
 * p, payload type pt, SSRC ssrc, a payload byte that differs per seq:
 * its length. */
size_t mh_rtp(uint8_t *p, uint16_t seq, uint8_t pt, uint8_t ssrc);

#endif
