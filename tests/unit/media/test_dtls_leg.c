/*
 * test_dtls_leg.c - DTLS-SRTP on a relay leg: the offer/answer and SDP
 * rewriting of media/dtls_sdp.c (through media_call_sdp, a real media
 * layer) and the relay side of media/dtls_leg.c (no relay thread: a
 * stream with a real UDP socket for the leg, a peer engine on another
 * socket, a fake clock).  Handshake to SRTP keys both ways, the
 * retransmission timer, the handshake timeout, a wrong fingerprint, and
 * that nothing plain passes a DTLS leg before (or after) its keys.
 *
 * The fake clock: OpenSSL's DTLS timer reads gettimeofday(); this
 * binary defines it as a base plus fake_ms (as test_dtls.c does).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "call_helper.h"

#include "core/buf.h"
#include "core/conf.h"
#include "core/mem.h"
#include "media/dtls.h"
#include "media/media_int.h"

static uint64_t fake_ms = 5000;

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	(void)tz;
	tv->tv_sec = 1800000000 + (time_t)(fake_ms / 1000);
	tv->tv_usec = (suseconds_t)(fake_ms % 1000) * 1000;
	return 0;
}

/* ------------------------------------------------------ negotiation */

static struct sg_conf_media conf = {
	MH_CONF_MEDIA(45800, 45899, 8),
	.dtls_handshake_timeout = 20000,
};

#define FP1                                                              \
	"sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:" \
	"22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"
#define FP2                                                              \
	"sha-256 FF:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:" \
	"22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"
#define DTLS_OFFER(o, fp, setup)                                   \
	MH_SDP_HEAD(o)                                             \
	"a=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:" \
	"CC:DD:EE:FF:00:11:22:33\r\n"                              \
	"m=audio 4000 UDP/TLS/RTP/SAVPF 0\r\n"                     \
	"a=fingerprint:" fp "\r\na=setup:" setup "\r\n"            \
	"a=tls-id:abcdefghijklmnopqrstuvwxyz\r\n"                  \
	"a=ice-ufrag:abcd\r\na=rtcp-mux\r\n"

/* Our a=fingerprint line, as the media layer formats it. */
static void ours(const struct media *m, char *line, size_t n)
{
	snprintf(line, n, "a=%s\r\n", m->dtls_fp);
}

/* Untrusted DTLS caller -> plain PBX. */
static void test_sdp_dtls_to_plain(void **state)
{
	struct media *m;
	struct media_call *c;
	struct media_stream *st;
	char fp[256];
	struct buf b;
	const char *o;

	(void)state;
	mh_open(&m, &b, &conf);
	ours(m, fp, sizeof(fp));
	assert_non_null(strstr(fp, "a=fingerprint:sha-256 "));
	c = mh_new_call(m, "d1", CONF_SRTP_REQUIRED, CONF_SRTP_KX_DTLS,
			CONF_SRTP_OFF, CONF_SRTP_KX_ANY);
	o = mh_sdp(c, 0, MEDIA_SDP_REQUEST, DTLS_OFFER("1", FP1, "actpass"), &b,
		   0);
	/* The PBX: plain RTP/AVP (feedback dropped), no DTLS or ICE. */
	assert_non_null(strstr(o, "RTP/AVP 0\r\n"));
	assert_null(strstr(o, "fingerprint"));
	assert_null(strstr(o, "setup"));
	assert_null(strstr(o, "tls-id"));
	assert_null(strstr(o, "ice-"));
	assert_null(strstr(o, "UDP/TLS"));
	st = c->st[0];
	assert_true(st->sec->dtls_sig[0].on);
	assert_true(st->sec->dtls_sig[0].client); /* active to actpass */
	assert_int_equal(st->sec->dtls_sig[0].peer.nfp, 1);
	assert_int_equal(mh_count(o, "a=rtcp-mux"), 1); /* passed through */
	o = mh_sdp(c, 1, MEDIA_SDP_FINAL, MH_AVP_ANSWER, &b, 0);
	/* The caller: its profile back, our fingerprint, active; it muxes
	 * RTCP with us (one DTLS association), the PBX does not. */
	assert_int_equal(mh_count(o, "a=rtcp-mux"), 1);
	assert_true(media__dtls_mux(c->st[0], 0));
	assert_false(media__dtls_mux(c->st[0], 1));
	assert_non_null(strstr(o, "UDP/TLS/RTP/SAVPF 0\r\n"));
	assert_non_null(strstr(o, fp));
	assert_int_equal(mh_count(o, "a=fingerprint:"), 1);
	assert_int_equal(mh_count(o, "a=setup:active"), 1);
	assert_null(strstr(o, "crypto"));
	assert_true(st->handed);
	assert_false(st->sec->dtls_sig[0].conn_new);
	/* A re-offer with the same fingerprint keeps the association. */
	o = mh_sdp(c, 0, MEDIA_SDP_REQUEST, DTLS_OFFER("2", FP1, "actpass"), &b,
		   0);
	o = mh_sdp(c, 1, MEDIA_SDP_FINAL,
		   MH_SDP_HEAD("6") "m=audio 6000 RTP/AVP 0\r\n", &b, 0);
	assert_false(st->sec->dtls_sig[0].conn_new);
	/* A new fingerprint is a new association. */
	o = mh_sdp(c, 0, MEDIA_SDP_REQUEST, DTLS_OFFER("3", FP2, "actpass"), &b,
		   0);
	assert_true(st->sec->dtls_sig[0].conn_new);
	/* Offered active: we are passive, the server. */
	o = mh_sdp(c, 0, MEDIA_SDP_REQUEST, DTLS_OFFER("4", FP2, "active"), &b,
		   0);
	assert_false(st->sec->dtls_sig[0].client);
	o = mh_sdp(c, 1, MEDIA_SDP_FINAL,
		   MH_SDP_HEAD("7") "m=audio 6000 RTP/AVP 0\r\n", &b, 0);
	assert_non_null(strstr(o, "a=setup:passive"));
	mh_close(m, c, &b);
}

/* Plain PBX offer toward a DTLS zone, and SDES toward `any`. */
static void test_sdp_plain_to_dtls(void **state)
{
	struct media *m;
	struct media_call *c;
	struct media_stream *st;
	char fp[256], body[1024];
	struct buf b;
	const char *o;

	(void)state;
	mh_open(&m, &b, &conf);
	ours(m, fp, sizeof(fp));
	/* Leg 0 is the PBX here, leg 1 the DTLS zone. */
	c = mh_new_call(m, "d2", CONF_SRTP_OFF, CONF_SRTP_KX_ANY,
			CONF_SRTP_REQUIRED, CONF_SRTP_KX_DTLS);
	o = mh_sdp(c, 0, MEDIA_SDP_REQUEST, MH_AVP_OFFER, &b, 0);
	assert_non_null(strstr(o, "UDP/TLS/RTP/SAVP 0\r\n"));
	assert_non_null(strstr(o, fp));
	assert_non_null(strstr(o, "a=setup:actpass\r\n"));
	assert_null(strstr(o, "crypto"));
	/* Our DTLS offer asks for rtcp-mux (RFC 5764 4.1). */
	assert_int_equal(mh_count(o, "a=rtcp-mux"), 1);
	st = c->st[0];
	snprintf(body, sizeof(body),
		 MH_SDP_HEAD("5") "m=audio 6000 UDP/TLS/RTP/SAVP 0\r\n"
				  "a=fingerprint:%s\r\na=setup:active\r\n"
				  "a=rtcp-mux\r\n",
		 FP1);
	o = mh_sdp(c, 1, MEDIA_SDP_FINAL, body, &b, 0);
	assert_non_null(strstr(o, "RTP/AVP 0\r\n"));
	/* The PBX offered no rtcp-mux: its answer does not say it. */
	assert_null(strstr(o, "rtcp-mux"));
	assert_false(media__dtls_mux(st, 0));
	assert_true(media__dtls_mux(st, 1));
	assert_null(strstr(o, "fingerprint"));
	assert_null(strstr(o, "setup"));
	assert_true(st->sec->dtls_sig[1].on);
	assert_false(st->sec->dtls_sig[1].client); /* it is active */
	assert_true(st->handed);
	media_call_end(c);
	/* The same zone with `any`: SDES, the offerer's kind. */
	c = mh_new_call(m, "d3", CONF_SRTP_OFF, CONF_SRTP_KX_ANY,
			CONF_SRTP_REQUIRED, CONF_SRTP_KX_ANY);
	o = mh_sdp(c, 0, MEDIA_SDP_REQUEST, MH_AVP_OFFER, &b, 0);
	assert_non_null(strstr(o, "RTP/SAVP 0\r\n"));
	assert_non_null(strstr(o, "a=crypto:1 "));
	assert_null(strstr(o, "fingerprint"));
	media_call_end(c);
	/* A DTLS caller toward an SDES-keyed SRTP zone gets a=crypto. */
	c = mh_new_call(m, "d4", CONF_SRTP_REQUIRED, CONF_SRTP_KX_ANY,
			CONF_SRTP_REQUIRED, CONF_SRTP_KX_SDES);
	o = mh_sdp(c, 0, MEDIA_SDP_REQUEST, DTLS_OFFER("1", FP1, "actpass"), &b,
		   0);
	assert_non_null(strstr(o, "RTP/SAVP 0\r\n"));
	assert_non_null(strstr(o, "a=crypto:1 "));
	assert_null(strstr(o, "fingerprint"));
	o = mh_sdp(
		c, 1, MEDIA_SDP_FINAL,
		MH_SDP_HEAD(
			"5") "m=audio 6000 RTP/SAVP 0\r\na=crypto:1 "
			     "AES_CM_128_HMAC_SHA1_80 "
			     "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\r\n",
		&b, 0);
	assert_non_null(strstr(o, "UDP/TLS/RTP/SAVPF 0\r\n"));
	assert_non_null(strstr(o, fp));
	assert_null(strstr(o, "crypto"));
	mh_close(m, c, &b);
}

/* What gets 488 (offers) or closes the stream (answers). */
static void test_sdp_refused(void **state)
{
	static const struct {
		int p0, k0;
		const char *offer;
	} bad[] = {
		/* srtp off; SDES-only zone; DTLS-only zone offering SDES */
		{CONF_SRTP_OFF, CONF_SRTP_KX_ANY,
		 DTLS_OFFER("1", FP1, "actpass")},
		{CONF_SRTP_REQUIRED, CONF_SRTP_KX_SDES,
		 DTLS_OFFER("1", FP1, "actpass")},
		{CONF_SRTP_REQUIRED, CONF_SRTP_KX_DTLS,
		 MH_SDP_HEAD(
			 "1") "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 "
			      "AES_CM_128_HMAC_SHA1_80 "
			      "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\r\n"},
		/* only md5; a malformed fingerprint; holdconn; none */
		{CONF_SRTP_REQUIRED, CONF_SRTP_KX_ANY,
		 MH_SDP_HEAD(
			 "1") "m=audio 4000 UDP/TLS/RTP/SAVP 0\r\n"
			      "a=fingerprint:md5 00:11:22:33:44:55:66:77:88:99:"
			      "AA:BB:CC:DD:EE:FF\r\na=setup:actpass\r\n"},
		{CONF_SRTP_REQUIRED, CONF_SRTP_KX_ANY,
		 MH_SDP_HEAD("1") "m=audio 4000 UDP/TLS/RTP/SAVP 0\r\n"
				  "a=fingerprint:sha-256 00:11\r\n"
				  "a=setup:actpass\r\n"},
		{CONF_SRTP_REQUIRED, CONF_SRTP_KX_ANY,
		 DTLS_OFFER("1", FP1, "holdconn")},
		{CONF_SRTP_REQUIRED, CONF_SRTP_KX_ANY,
		 MH_SDP_HEAD("1") "m=audio 4000 UDP/TLS/RTP/SAVP 0\r\n"},
		/* valid, but no a=rtcp-mux (RFC 5764 4.1) */
		{CONF_SRTP_REQUIRED, CONF_SRTP_KX_ANY,
		 MH_SDP_HEAD("1") "m=audio 4000 UDP/TLS/RTP/SAVP 0\r\n"
				  "a=fingerprint:" FP1
				  "\r\na=setup:actpass\r\n"},
	};
	struct media *m;
	struct media_call *c;
	struct buf b;
	const char *o;
	char id[8];
	size_t i;

	(void)state;
	mh_open(&m, &b, &conf);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(id, sizeof(id), "r%zu", i);
		c = mh_new_call(m, id, bad[i].p0, bad[i].k0, CONF_SRTP_OFF,
				CONF_SRTP_KX_ANY);
		mh_sdp(c, 0, MEDIA_SDP_REQUEST, bad[i].offer, &b, -EPROTO);
		media_call_end(c);
	}
	/* A DTLS answer to a plain offer: the stream is refused. */
	c = mh_new_call(m, "a1", CONF_SRTP_OFF, CONF_SRTP_KX_ANY,
			CONF_SRTP_OPTIONAL, CONF_SRTP_KX_ANY);
	mh_sdp(c, 0, MEDIA_SDP_REQUEST, MH_AVP_OFFER, &b, 0);
	o = mh_sdp(c, 1, MEDIA_SDP_FINAL,
		   MH_SDP_HEAD("5") "m=audio 6000 UDP/TLS/RTP/SAVP 0\r\n"
				    "a=fingerprint:" FP1
				    "\r\na=setup:active\r\n",
		   &b, 0);
	assert_non_null(strstr(o, "m=audio 0 "));
	assert_null(c->st[0]);
	media_call_end(c);
	/* A DTLS answer without a=rtcp-mux: the stream is refused. */
	c = mh_new_call(m, "a3", CONF_SRTP_OFF, CONF_SRTP_KX_ANY,
			CONF_SRTP_REQUIRED, CONF_SRTP_KX_DTLS);
	mh_sdp(c, 0, MEDIA_SDP_REQUEST, MH_AVP_OFFER, &b, 0);
	o = mh_sdp(c, 1, MEDIA_SDP_FINAL,
		   MH_SDP_HEAD("5") "m=audio 6000 UDP/TLS/RTP/SAVP 0\r\n"
				    "a=fingerprint:" FP1
				    "\r\na=setup:active\r\n",
		   &b, 0);
	assert_non_null(strstr(o, "m=audio 0 "));
	assert_null(c->st[0]);
	media_call_end(c);
	/* Answer actpass to our actpass: no DTLS client, refused. */
	c = mh_new_call(m, "a2", CONF_SRTP_OFF, CONF_SRTP_KX_ANY,
			CONF_SRTP_REQUIRED, CONF_SRTP_KX_DTLS);
	mh_sdp(c, 0, MEDIA_SDP_REQUEST, MH_AVP_OFFER, &b, 0);
	o = mh_sdp(c, 1, MEDIA_SDP_FINAL,
		   MH_SDP_HEAD("5") "m=audio 6000 UDP/TLS/RTP/SAVP 0\r\n"
				    "a=fingerprint:" FP1
				    "\r\na=setup:actpass\r\n",
		   &b, 0);
	assert_non_null(strstr(o, "m=audio 0 "));
	mh_close(m, c, &b);
}

/*
 * io_uring backend: a leg that becomes DTLS only in a re-INVITE has its
 * RTP socket in the ring's fixed table already (a direct descriptor
 * sendto() cannot use); its ClientHello must still leave (through the
 * ring, relay_uring.c media__uring_send).
 */
static void test_reinvite_dtls_uring(void **state)
{
	struct sg_conf_media cu = conf;
	struct media_ep pe;
	struct media *m;
	struct media_call *c;
	char body[1024];
	uint8_t p[2048];
	struct buf b;
	ssize_t n = -1;
	int pfd, i;

	(void)state;
	cu.io = CONF_MEDIA_IO_URING;
	cu.port_min = 45700;
	cu.port_max = 45799;
	mh_open(&m, &b, &cu);
	if (!m->relay[0].u) {
		/* No io_uring here (seccomp, old kernel): nothing to test. */
		media_free(m);
		buf_free(&b);
		skip();
	}
	pfd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(pfd >= 0);
	{
		struct sockaddr_in a = {.sin_family = AF_INET};
		socklen_t al = sizeof(a);

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(bind(pfd, (struct sockaddr *)&a, sizeof(a)),
				 0);
		assert_int_equal(getsockname(pfd, (struct sockaddr *)&a, &al),
				 0);
		pe.port = ntohs(a.sin_port);
	}
	c = mh_new_call(m, "u1", CONF_SRTP_OPTIONAL, CONF_SRTP_KX_ANY,
			CONF_SRTP_OFF, CONF_SRTP_KX_ANY);
	/* A plain call first: the stream's sockets go into the ring. */
	snprintf(body, sizeof(body),
		 MH_SDP_HEAD("1") "m=audio %u RTP/AVP 0\r\n", pe.port);
	mh_sdp(c, 0, MEDIA_SDP_REQUEST, body, &b, 0);
	mh_sdp(c, 1, MEDIA_SDP_FINAL, MH_AVP_ANSWER, &b, 0);
	assert_true(c->st[0]->handed);
	/* The re-INVITE makes the caller's leg DTLS; we are its client. */
	snprintf(body, sizeof(body),
		 MH_SDP_HEAD("2") "m=audio %u UDP/TLS/RTP/SAVP 0\r\n"
				  "a=fingerprint:" FP1 "\r\na=setup:actpass\r\n"
				  "a=rtcp-mux\r\n",
		 pe.port);
	mh_sdp(c, 0, MEDIA_SDP_REQUEST, body, &b, 0);
	mh_sdp(c, 1, MEDIA_SDP_FINAL,
	       MH_SDP_HEAD("6") "m=audio 6000 RTP/AVP 0\r\n", &b, 0);
	assert_true(c->st[0]->sec->dtls_sig[0].on);
	assert_true(c->st[0]->sec->dtls_sig[0].client);
	for (i = 0; i < 500 && n <= 0; i++) {
		usleep(2000);
		media_poll(m, 1, 1);
		n = recv(pfd, p, sizeof(p), 0);
	}
	assert_true(n > 13);
	assert_int_equal(p[0], 22); /* a handshake record: ClientHello */
	assert_int_equal(p[13], 1);
	close(pfd);
	mh_close(m, c, &b);
}

/* ------------------------------------------------------- relay side */

struct fix {
	struct media_relay r;
	struct media_stream s;
	struct media_stream_sec sec; /* a DTLS stream's (sec.c) */
	struct dtls_ctx *ours, *theirs;
	struct dtls_conn *peer; /* the far end of leg 0 */
	int fd, pfd;            /* leg 0's relay socket, the peer's */
	struct media_ep peer_ep;
};

static int udp(struct media_ep *e)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t n = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
	memset(e, 0, sizeof(*e));
	e->af = AF_INET;
	e->port = ntohs(a.sin_port);
	memcpy(e->ip, &a.sin_addr, 4);
	return fd;
}

static void setup(struct fix *f, uint32_t timeout_ms)
{
	struct dtls_ctx_conf cc = {.handshake_timeout_ms = timeout_ms};
	struct media_ep mine;
	unsigned l, k;

	memset(f, 0, sizeof(*f));
	assert_int_equal(
		media__ring_init(&f->r.out, 64, sizeof(struct media_note)), 0);
	assert_int_equal(dtls_ctx_new(&f->ours, &cc), 0);
	assert_int_equal(dtls_ctx_new(&f->theirs, &cc), 0);
	f->fd = udp(&mine);
	f->pfd = udp(&f->peer_ep);
	f->s.relay = &f->r;
	f->s.sec = &f->sec;
	f->s.prm.leg[0].sdp[0] = f->s.prm.leg[0].sdp[1] = f->peer_ep;
	f->s.prm.leg[0].mux = true;
	f->s.prm.leg[1].sdp[0].af = AF_INET;
	f->s.prm.leg[1].sdp[0].port = 6000;
	f->s.prm.leg[1].sdp[0].ip[0] = 192;
	f->s.prm.leg[1].sdp[1] = f->s.prm.leg[1].sdp[0];
	f->s.prm.pt[0] = 1;
	f->s.prm.max_seq_jump = 3000;
	f->s.prm.max_ts_jump = 1440000;
	for (l = 0; l < 2; l++)
		for (k = 0; k < 2; k++) {
			f->s.fd[l][k] = l == 0 && k == 0 ? f->fd : -1;
			f->s.sock[l][k].s = &f->s;
			f->s.sock[l][k].leg = (uint8_t)l;
			f->s.sock[l][k].comp = (uint8_t)k;
			f->s.rt[l].dst[k] = f->s.prm.leg[l].sdp[k];
		}
	f->r.now = fake_ms;
}

static void teardown(struct fix *f)
{
	media__dtls_drop(&f->r, &f->s);
	media_srtp_free(&f->s.rt[0].srtp);
	dtls_conn_free(f->peer);
	dtls_ctx_free(f->ours);
	dtls_ctx_free(f->theirs);
	close(f->fd);
	close(f->pfd);
	media__ring_fini(&f->r.out);
}

/* Leg 0 becomes DTLS: our conn (client) verifies fp_of_peer; the peer
 * (server) verifies ours. */
static void start(struct fix *f, const struct sdp_dtls_fp *fp_of_peer)
{
	struct sdp_dtls pd = {.nfp = 1}, od = {.nfp = 1};
	struct media_params prm;

	pd.fp[0] = *fp_of_peer;
	od.fp[0] = *dtls_ctx_fingerprint(f->ours);
	assert_int_equal(
		dtls_conn_new(&f->peer, f->theirs, false, &od, fake_ms), 0);
	memset(&prm, 0, sizeof(prm));
	prm.dtls_set = 1;
	assert_int_equal(
		dtls_conn_new(&prm.dtls[0], f->ours, true, &pd, fake_ms), 0);
	media__dtls_install(&f->s, 0, &prm);
	assert_true(f->s.rt[0].dtls_on);
}

/* Deliver what the relay sent the peer (deliver false: drop it), and
 * what the peer answers to the relay.  Returns datagrams moved. */
static unsigned pump(struct fix *f, bool deliver)
{
	uint8_t p[2048];
	unsigned moved = 0;
	ssize_t n;
	int k;

	while ((n = recv(f->pfd, p, sizeof(p), 0)) > 0) {
		moved++;
		if (deliver)
			(void)dtls_conn_input(f->peer, p, (size_t)n, fake_ms);
	}
	while ((k = dtls_conn_output(f->peer, p, sizeof(p))) > 0) {
		moved++;
		media__dtls_rx(&f->r, &f->s, 0, &f->peer_ep, p, (size_t)k);
	}
	return moved;
}

static void tick(struct fix *f, uint64_t ms)
{
	fake_ms += ms;
	f->r.now = fake_ms;
	media__dtls_run(&f->r);
}

static bool relay(struct fix *f, unsigned leg, uint8_t *p, size_t *np)
{
	struct media_ep dst;
	int fd = -1;
	bool fwd;

	media__relay_packet(&f->r, &f->s.sock[leg][0],
			    &f->s.prm.leg[leg].sdp[0], p, np, &fd, &dst, &fwd);
	return fwd;
}

static size_t rtp(uint8_t *p, uint16_t seq)
{
	memset(p, 0xff, 172);
	p[0] = 0x80;
	p[1] = 0;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	memset(p + 4, 0, 8);
	p[11] = 7;
	return 172;
}

static int suite(enum dtls_srtp_profile p)
{
	return p == DTLS_SRTP_AES128_CM_SHA1_80
		       ? SDP_SRTP_AES_CM_128_HMAC_SHA1_80
		       : -1;
}

/* Handshake, keys into the leg, SRTP both ways, conn freed. */
static void test_leg_handshake(void **state)
{
	uint8_t lk[64], rk[64], p[MEDIA_PKT_MAX], plain[200];
	struct media_srtp phone;
	struct media_srtp_dir tx, rx;
	struct dtls_srtp_keys k;
	struct media_note note;
	struct fix f;
	size_t n, m;
	int rounds;

	(void)state;
	setup(&f, 0);
	start(&f, dtls_ctx_fingerprint(f.theirs));
	/* Before the keys: nothing plain passes either way. */
	n = rtp(p, 1);
	assert_false(relay(&f, 0, p, &n));
	n = rtp(p, 1);
	f.s.rt[0].dst[0] = f.peer_ep;
	assert_false(relay(&f, 1, p, &n));
	assert_int_equal(f.s.st[1].dropped, 1);
	for (rounds = 0; rounds < 10 && !f.s.rt[0].dtls_keyed; rounds++)
		pump(&f, true);
	assert_true(f.s.rt[0].dtls_keyed);
	assert_non_null(f.s.rt[0].srtp.rx);
	assert_non_null(f.s.rt[0].srtp.tx);
	/* The plain packet's note first (srtp-auth-failure), then ours. */
	assert_true(media__ring_pop(&f.r.out, &note));
	assert_int_equal(note.type, MEDIA_N_SRTP);
	assert_true(media__ring_pop(&f.r.out, &note));
	assert_int_equal(note.type, MEDIA_N_DTLS);
	assert_int_equal(note.what, 1);
	assert_int_equal(note.count, 0); /* no fake time passed */
	pump(&f, true); /* the server's last flight already went */
	assert_int_equal(dtls_conn_state(f.peer), DTLS_CONNECTED);
	/* The peer's keys: ours mirrored. */
	assert_int_equal(dtls_conn_keys(f.peer, &k), 0);
	memcpy(lk, k.local_key, k.key_len);
	memcpy(lk + k.key_len, k.local_salt, k.salt_len);
	memcpy(rk, k.remote_key, k.key_len);
	memcpy(rk + k.key_len, k.remote_salt, k.salt_len);
	tx = (struct media_srtp_dir){.suite = suite(k.profile),
				     .key = lk,
				     .key_len = (size_t)k.key_len + k.salt_len};
	rx = tx;
	rx.key = rk;
	assert_int_equal(media_srtp_make(&phone, &rx, &tx), 0);
	/* Phone -> relay: decrypted; the conn is freed on it. */
	n = rtp(plain, 2);
	memcpy(p, plain, n);
	m = n;
	assert_int_equal(media_srtp_protect(&phone, false, p, &m, 400), 0);
	assert_non_null(f.s.rt[0].dtls);
	assert_true(relay(&f, 0, p, &m));
	assert_int_equal(m, n);
	assert_memory_equal(p, plain, n);
	assert_null(f.s.rt[0].dtls);
	/* Relay -> phone: encrypted with the leg's DTLS key. */
	n = rtp(plain, 9);
	memcpy(p, plain, n);
	m = n;
	assert_true(relay(&f, 1, p, &m));
	assert_int_equal(m, n + 10);
	assert_int_equal(media_srtp_unprotect(&phone, false, p, &m), 0);
	assert_memory_equal(p, plain, n);
	/* A late DTLS record: dropped, counted. */
	p[0] = 22;
	m = 30;
	assert_false(relay(&f, 0, p, &m));
	tick(&f, 100);
	assert_null(f.r.dtls); /* off the relay's DTLS list */
	media_srtp_free(&phone);
	mem_secclean(&k, sizeof(k));
	teardown(&f);
}

/* A lost flight is resent on the timer; the timeout fails the leg. */
static void test_leg_timer_timeout(void **state)
{
	struct media_note note;
	struct fix f;
	uint8_t p[200];
	size_t n;

	(void)state;
	setup(&f, 3000);
	start(&f, dtls_ctx_fingerprint(f.theirs));
	assert_int_equal(pump(&f, false), 1); /* ClientHello, lost */
	assert_true(f.r.dtls_deadline != 0);
	assert_true(media__dtls_wait(&f.r, 200) <= 200);
	tick(&f, 500);
	assert_int_equal(pump(&f, false), 0);
	tick(&f, 600); /* 1 s: retransmitted */
	assert_int_equal(pump(&f, false), 1);
	assert_true(f.r.dtls_deadline > fake_ms);
	tick(&f, 2100); /* past 3 s: failed */
	assert_null(f.s.rt[0].dtls);
	assert_true(f.s.rt[0].dtls_on); /* still closed to plain */
	assert_true(media__ring_pop(&f.r.out, &note));
	assert_int_equal(note.type, MEDIA_N_DTLS);
	assert_int_equal(note.what, 2);
	assert_true(f.s.sec->dtls_reason[0][0] != '\0');
	n = rtp(p, 1);
	assert_false(relay(&f, 0, p, &n));
	tick(&f, 10);
	assert_null(f.r.dtls);
	teardown(&f);
}

/* The peer's certificate is not the one its SDP named. */
static void test_leg_wrong_fingerprint(void **state)
{
	struct sdp_dtls_fp bogus;
	struct media_note note;
	struct fix f;
	int rounds;

	(void)state;
	setup(&f, 0);
	bogus = *dtls_ctx_fingerprint(f.theirs);
	bogus.md[0] ^= 1;
	start(&f, &bogus);
	for (rounds = 0; rounds < 10 && f.s.rt[0].dtls; rounds++)
		pump(&f, true);
	assert_null(f.s.rt[0].dtls);
	assert_false(f.s.rt[0].dtls_keyed);
	assert_null(f.s.rt[0].srtp.rx);
	assert_true(media__ring_pop(&f.r.out, &note));
	assert_int_equal(note.what, 2);
	assert_non_null(strstr(f.s.sec->dtls_reason[0], "a=fingerprint"));
	teardown(&f);
}

/* A conn replaced by an update (new association), then removed. */
static void test_leg_replace(void **state)
{
	struct media_params prm;
	struct sdp_dtls pd = {.nfp = 1};
	struct fix f;
	size_t live;

	(void)state;
	setup(&f, 0);
	live = mem_live();
	start(&f, dtls_ctx_fingerprint(f.theirs));
	pd.fp[0] = *dtls_ctx_fingerprint(f.theirs);
	memset(&prm, 0, sizeof(prm));
	prm.dtls_set = 1;
	assert_int_equal(
		dtls_conn_new(&prm.dtls[0], f.ours, false, &pd, fake_ms), 0);
	media__dtls_install(&f.s, 0, &prm);
	assert_true(f.s.rt[0].dtls == prm.dtls[0]);
	memset(&prm, 0, sizeof(prm));
	prm.dtls_set = 1;
	media__dtls_install(&f.s, 0, &prm);
	assert_null(f.s.rt[0].dtls);
	assert_false(f.s.rt[0].dtls_on);
	dtls_conn_free(f.peer);
	f.peer = NULL;
	assert_int_equal(mem_live(), live);
	teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sdp_dtls_to_plain),
		cmocka_unit_test(test_sdp_plain_to_dtls),
		cmocka_unit_test(test_sdp_refused),
		cmocka_unit_test(test_reinvite_dtls_uring),
		cmocka_unit_test(test_leg_handshake),
		cmocka_unit_test(test_leg_timer_timeout),
		cmocka_unit_test(test_leg_wrong_fingerprint),
		cmocka_unit_test(test_leg_replace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
