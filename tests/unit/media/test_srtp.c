/*
 * test_srtp.c - SRTP termination (media/srtp.c, media/srtp_sdp.c):
 * protect/unprotect round trips for every suite (RTP and RTCP), a wrong
 * authentication tag, replays, MKI, the relay's per-packet hooks
 * (SRTP leg <-> plain leg, counted failures, notes), SDES negotiation
 * through media_call_sdp() (SAVP -> AVP toward a plain zone, AVP ->
 * SAVP toward a required zone, SRTP <-> SRTP with different keys,
 * renumbered and reordered answers, 488 cases), and key wiping.  Our
 * transform against libsrtp2 and RFC 7714: test_srtp_xf.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "test.h"
#include "call_helper.h"

#include "core/buf.h"
#include "core/conf.h"
#include "media/media_int.h"
#include "media/rtp.h"

#include <srtp2/srtp.h>

static size_t rtp(uint8_t *p, uint16_t seq, uint32_t ssrc)
{
	size_t i;

	memset(p, 0, 12);
	p[0] = 0x80;
	p[1] = 0;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[7] = (uint8_t)(seq * 160);
	p[6] = (uint8_t)((seq * 160) >> 8);
	p[8] = (uint8_t)(ssrc >> 24);
	p[11] = (uint8_t)ssrc;
	for (i = 12; i < 172; i++)
		p[i] = (uint8_t)(i * 7 + seq);
	return 172;
}

/* A receiver report without blocks plus an SDES CNAME. */
static size_t rtcp(uint8_t *p, uint32_t ssrc)
{
	static const uint8_t pkt[] = {
		0x80, 201, 0, 1, 0, 0, 0, 0, /* RR */
		0x81, 202, 0, 3, 0, 0, 0, 0, 1, 4, 'a', '@', 'b', 'c', 0, 0,
	};

	memcpy(p, pkt, sizeof(pkt));
	p[7] = p[15] = (uint8_t)ssrc;
	return sizeof(pkt);
}

static void key(uint8_t *k, int suite, uint8_t seed)
{
	size_t i;

	for (i = 0; i < sdp_srtp_key_len(suite); i++)
		k[i] = (uint8_t)(seed + i * 13);
}

/* A sender with key k (tx) and a receiver with the same key (rx). */
static void pair(struct media_srtp *snd, struct media_srtp *rcv, int suite,
		 const uint8_t *k)
{
	struct media_srtp_dir d = {
		.suite = suite, .key = k, .key_len = sdp_srtp_key_len(suite)};

	assert_int_equal(media_srtp_make(snd, NULL, &d), 0);
	assert_int_equal(media_srtp_make(rcv, &d, NULL), 0);
}

static void test_round_trip(void **state)
{
	uint8_t k[SDP_SRTP_KEY_MAX], p[400], plain[400];
	struct media_srtp a, b;
	int suite;

	(void)state;
	for (suite = 1; suite < SDP_SRTP_NSUITES; suite++) {
		size_t n, m;
		uint16_t seq;

		assert_true(media_srtp_suite_ok(suite));
		key(k, suite, (uint8_t)suite);
		pair(&a, &b, suite, k);
		for (seq = 100; seq < 110; seq++) {
			n = rtp(plain, seq, 0x1234);
			memcpy(p, plain, n);
			m = n;
			assert_int_equal(
				media_srtp_protect(&a, false, p, &m, sizeof(p)),
				0);
			assert_true(m > n);
			/* The payload is not in clear any more. */
			assert_memory_not_equal(p + 12, plain + 12, n - 12);
			assert_int_equal(media_srtp_unprotect(&b, false, p, &m),
					 0);
			assert_int_equal(m, n);
			assert_memory_equal(p, plain, n);
		}
		/* SRTCP. */
		n = rtcp(plain, 0x1234);
		memcpy(p, plain, n);
		m = n;
		assert_int_equal(media_srtp_protect(&a, true, p, &m, sizeof(p)),
				 0);
		assert_true(m >= n + 4 + 10);
		assert_int_equal(media_srtp_unprotect(&b, true, p, &m), 0);
		assert_int_equal(m, n);
		assert_memory_equal(p, plain, n);
		/* No room for the trailer: refused, not overrun. */
		m = n;
		assert_int_equal(media_srtp_protect(&a, true, p, &m, n + 8),
				 MEDIA_SRTP_E_OTHER);
		media_srtp_free(&a);
		media_srtp_free(&b);
		assert_null(a.rx);
		assert_null(a.tx);
	}
}

static void test_auth_replay(void **state)
{
	uint8_t k[SDP_SRTP_KEY_MAX], k2[SDP_SRTP_KEY_MAX], p[400], q[400];
	struct media_srtp a, b, c;
	size_t n, m;
	int suite;

	(void)state;
	for (suite = 1; suite < SDP_SRTP_NSUITES; suite++) {
		key(k, suite, 1);
		key(k2, suite, 2);
		pair(&a, &b, suite, k);
		{
			struct media_srtp_dir d = {
				.suite = suite,
				.key = k2,
				.key_len = sdp_srtp_key_len(suite)};

			assert_int_equal(media_srtp_make(&c, &d, NULL), 0);
		}
		n = rtp(p, 7, 0x99);
		assert_int_equal(
			media_srtp_protect(&a, false, p, &n, sizeof(p)), 0);
		memcpy(q, p, n);
		/* One bit of the tag, of the payload, of the header. */
		q[n - 1] ^= 1;
		m = n;
		assert_int_equal(media_srtp_unprotect(&b, false, q, &m),
				 MEDIA_SRTP_E_AUTH);
		memcpy(q, p, n);
		q[20] ^= 0x80;
		m = n;
		assert_int_equal(media_srtp_unprotect(&b, false, q, &m),
				 MEDIA_SRTP_E_AUTH);
		memcpy(q, p, n);
		q[3] ^= 1;
		m = n;
		assert_int_equal(media_srtp_unprotect(&b, false, q, &m),
				 MEDIA_SRTP_E_AUTH);
		/* Another key: refused. */
		memcpy(q, p, n);
		m = n;
		assert_int_equal(media_srtp_unprotect(&c, false, q, &m),
				 MEDIA_SRTP_E_AUTH);
		/* The genuine one passes once, then is a replay. */
		memcpy(q, p, n);
		m = n;
		assert_int_equal(media_srtp_unprotect(&b, false, q, &m), 0);
		memcpy(q, p, n);
		m = n;
		assert_int_equal(media_srtp_unprotect(&b, false, q, &m),
				 MEDIA_SRTP_E_REPLAY);
		/* Too short. */
		m = 11;
		assert_int_equal(media_srtp_unprotect(&b, false, q, &m),
				 MEDIA_SRTP_E_OTHER);
		media_srtp_free(&a);
		media_srtp_free(&b);
		media_srtp_free(&c);
	}
}

static void test_mki_and_errors(void **state)
{
	uint8_t k[SDP_SRTP_KEY_MAX], p[400];
	struct media_srtp a, b;
	struct media_srtp_dir d = {
		.suite = SDP_SRTP_AES_CM_128_HMAC_SHA1_80,
		.key = k,
		.key_len = 30,
		.mki = 0x0102,
		.mki_len = 2,
	};
	size_t n;

	(void)state;
	key(k, d.suite, 3);
	/* A sender that puts the MKI in each packet, a receiver that
	 * expects it. */
	assert_int_equal(media_srtp_make(&b, &d, NULL), 0);
	assert_true(b.rx_mki);
	assert_int_equal(media_srtp_make(&a, NULL, &d), 0);
	n = rtp(p, 1, 5);
	{
		int len = (int)n;

		assert_int_equal(srtp_protect_mki((srtp_t)a.tx, p, &len, 1, 0),
				 0);
		n = (size_t)len;
	}
	assert_int_equal(media_srtp_unprotect(&b, false, p, &n), 0);
	assert_int_equal(n, 172);
	media_srtp_free(&a);
	media_srtp_free(&b);
	/* Wrong key length, unknown suite, MKI too long. */
	d.key_len = 29;
	assert_int_equal(media_srtp_make(&a, &d, NULL), -EINVAL);
	d.key_len = 30;
	d.mki_len = 9;
	assert_int_equal(media_srtp_make(&a, &d, NULL), -EINVAL);
	d.mki_len = 0;
	d.suite = 77;
	assert_int_equal(media_srtp_make(&a, NULL, &d), -EINVAL);
	assert_null(a.rx);
	assert_false(media_srtp_suite_ok(77));
	media_srtp_free(NULL);
}

/* ---------------------------------------------------- relay hooks */

static struct media_ep ep(const char *ip, uint16_t port)
{
	struct media_ep e = {.af = AF_INET, .port = port};

	inet_pton(AF_INET, ip, e.ip);
	return e;
}

struct fix {
	struct media_relay r;
	struct media_stream s;
};

static void setup(struct fix *f)
{
	unsigned l, k;

	memset(f, 0, sizeof(*f));
	assert_int_equal(
		media__ring_init(&f->r.out, 64, sizeof(struct media_note)), 0);
	f->s.prm.leg[0].sdp[0] = ep("203.0.113.5", 4000);
	f->s.prm.leg[0].sdp[1] = ep("203.0.113.5", 4001);
	f->s.prm.leg[1].sdp[0] = ep("192.0.2.9", 6000);
	f->s.prm.leg[1].sdp[1] = ep("192.0.2.9", 6001);
	f->s.prm.pt[0] = 1;
	f->s.prm.max_seq_jump = 3000;
	f->s.prm.max_ts_jump = 1440000;
	for (l = 0; l < 2; l++)
		for (k = 0; k < 2; k++) {
			f->s.fd[l][k] = (int)(10 * l + k + 100);
			f->s.sock[l][k].s = &f->s;
			f->s.sock[l][k].leg = (uint8_t)l;
			f->s.sock[l][k].comp = (uint8_t)k;
			f->s.rt[l].dst[k] = f->s.prm.leg[l].sdp[k];
		}
	f->r.now = 1000;
}

static bool run(struct fix *f, unsigned leg, unsigned comp, uint8_t *p,
		size_t *np)
{
	struct media_ep dst;
	int fd = -1;
	bool fwd;

	media__relay_packet(&f->r, &f->s.sock[leg][comp],
			    &f->s.prm.leg[leg].sdp[comp], p, np, &fd, &dst,
			    &fwd);
	return fwd;
}

/* Leg 0 speaks SRTP (its key kin, ours kout), leg 1 plain: the relay
 * decrypts what leg 0 sends and encrypts what leg 1 sends. */
static void test_relay_bridge(void **state)
{
	uint8_t kin[30], kout[30], p[MEDIA_PKT_MAX], plain[400];
	struct media_srtp_dir din = {.suite = 1, .key = kin, .key_len = 30},
			      dout = {.suite = 1, .key = kout, .key_len = 30};
	struct media_srtp leg0, phone_tx, phone_rx;
	struct media_note note;
	struct fix f;
	size_t n, m;

	(void)state;
	setup(&f);
	key(kin, 1, 10);
	key(kout, 1, 20);
	assert_int_equal(media_srtp_make(&leg0, &din, &dout), 0);
	media__srtp_install(&f.s.rt[0], &leg0);
	assert_null(leg0.rx);
	/* The phone: sends with kin, receives with kout. */
	assert_int_equal(media_srtp_make(&phone_tx, NULL, &din), 0);
	assert_int_equal(media_srtp_make(&phone_rx, &dout, NULL), 0);

	/* Phone -> relay -> plain leg: decrypted. */
	n = rtp(plain, 1, 0xabc);
	memcpy(p, plain, n);
	m = n;
	assert_int_equal(media_srtp_protect(&phone_tx, false, p, &m, 400), 0);
	assert_true(run(&f, 0, MEDIA_RTP, p, &m));
	assert_int_equal(m, n);
	assert_memory_equal(p, plain, n);
	/* Plain leg -> relay -> phone: encrypted with our key for it. */
	n = rtp(plain, 500, 0xdef);
	memcpy(p, plain, n);
	m = n;
	assert_true(run(&f, 1, MEDIA_RTP, p, &m));
	assert_true(m == n + 10);
	assert_memory_not_equal(p + 12, plain + 12, n - 12);
	assert_int_equal(media_srtp_unprotect(&phone_rx, false, p, &m), 0);
	assert_memory_equal(p, plain, n);
	/* SRTCP both ways. */
	n = rtcp(plain, 0xabc);
	memcpy(p, plain, n);
	m = n;
	assert_int_equal(media_srtp_protect(&phone_tx, true, p, &m, 400), 0);
	assert_true(run(&f, 0, MEDIA_RTCP, p, &m));
	assert_int_equal(m, n);
	n = rtcp(plain, 0xdef);
	memcpy(p, plain, n);
	m = n;
	assert_true(run(&f, 1, MEDIA_RTCP, p, &m));
	assert_int_equal(media_srtp_unprotect(&phone_rx, true, p, &m), 0);
	assert_int_equal(m, n);

	/* A forged packet (right source, wrong tag) is dropped, counted,
	 * and noted once per second. */
	while (media__ring_pop(&f.r.out, &note))
		;
	n = rtp(p, 2, 0xabc);
	m = n + 10;
	memset(p + n, 0x55, 10);
	assert_false(run(&f, 0, MEDIA_RTP, p, &m));
	assert_false(run(&f, 0, MEDIA_RTP, p, &m));
	assert_int_equal(f.s.st[0].srtp_auth, 2);
	assert_int_equal(f.s.st[0].dropped, 2);
	assert_true(media__ring_pop(&f.r.out, &note));
	assert_int_equal(note.type, MEDIA_N_SRTP);
	assert_int_equal(note.what, 1);
	assert_false(media__ring_pop(&f.r.out, &note));
	/* A replay of a genuine packet: dropped, counted as replay. */
	n = rtp(p, 3, 0xabc);
	m = n;
	assert_int_equal(media_srtp_protect(&phone_tx, false, p, &m, 400), 0);
	memcpy(plain, p, m);
	n = m;
	assert_true(run(&f, 0, MEDIA_RTP, p, &m));
	m = n;
	assert_false(run(&f, 0, MEDIA_RTP, plain, &m));
	assert_int_equal(f.s.st[0].srtp_replay, 1);
	/* A plain RTP packet on the SRTP leg is not relayed either. */
	n = rtp(p, 4, 0xabc);
	assert_false(run(&f, 0, MEDIA_RTP, p, &n));
	assert_int_equal(f.s.st[0].srtp_auth, 3);

	media_srtp_free(&phone_tx);
	media_srtp_free(&phone_rx);
	media_srtp_free(&f.s.rt[0].srtp);
	media__ring_fini(&f.r.out);
}

/* Both legs SRTP, each with its own keys; a NAT leg latches its port
 * only on an authenticated packet. */
static void test_relay_srtp_both(void **state)
{
	uint8_t k0in[30], k0out[30], k1in[30], k1out[30], p[MEDIA_PKT_MAX],
		plain[400];
	struct media_srtp_dir d0in = {.suite = 1, .key = k0in, .key_len = 30},
			      d0out = {.suite = 1, .key = k0out, .key_len = 30},
			      d1in = {.suite = 1, .key = k1in, .key_len = 30},
			      d1out = {.suite = 1, .key = k1out, .key_len = 30};
	struct media_srtp l0, l1, ph0_tx, ph1_rx;
	struct media_ep dst, nat = ep("203.0.113.5", 7777),
			     other = ep("203.0.113.5", 8888);
	struct fix f;
	size_t n, m;
	int fd;
	bool fwd;

	(void)state;
	setup(&f);
	key(k0in, 1, 1);
	key(k0out, 1, 2);
	key(k1in, 1, 3);
	key(k1out, 1, 4);
	assert_int_equal(media_srtp_make(&l0, &d0in, &d0out), 0);
	assert_int_equal(media_srtp_make(&l1, &d1in, &d1out), 0);
	media__srtp_install(&f.s.rt[0], &l0);
	media__srtp_install(&f.s.rt[1], &l1);
	assert_int_equal(media_srtp_make(&ph0_tx, NULL, &d0in), 0);
	assert_int_equal(media_srtp_make(&ph1_rx, &d1out, NULL), 0);
	/* Leg 0 is behind NAT: its SIP source IP may latch a port. */
	f.s.prm.leg[0].is_nat = true;
	f.s.prm.leg[0].nat = nat;
	/* A forgery from that IP does not latch its port... */
	n = rtp(p, 1, 0x77);
	m = n + 10;
	media__relay_packet(&f.r, &f.s.sock[0][0], &other, p, &m, &fd, &dst,
			    &fwd);
	assert_false(fwd);
	assert_int_equal(f.s.rt[0].latched[0].af, 0);
	/* ...the genuine packet does, and comes out under leg 1's key. */
	n = rtp(plain, 2, 0x77);
	memcpy(p, plain, n);
	m = n;
	assert_int_equal(media_srtp_protect(&ph0_tx, false, p, &m, 400), 0);
	media__relay_packet(&f.r, &f.s.sock[0][0], &nat, p, &m, &fd, &dst,
			    &fwd);
	assert_true(fwd);
	assert_true(media__ep_eq(&f.s.rt[0].latched[0], &nat));
	assert_int_equal(m, n + 10);
	assert_int_equal(media_srtp_unprotect(&ph1_rx, false, p, &m), 0);
	assert_memory_equal(p, plain, n);
	/* Now the other port is refused as injected. */
	n = rtp(p, 3, 0x77);
	media__relay_packet(&f.r, &f.s.sock[0][0], &other, p, &n, &fd, &dst,
			    &fwd);
	assert_false(fwd);
	assert_int_equal(f.s.st[0].injected, 1);
	media_srtp_free(&ph0_tx);
	media_srtp_free(&ph1_rx);
	media_srtp_free(&f.s.rt[0].srtp);
	media_srtp_free(&f.s.rt[1].srtp);
	media__ring_fini(&f.r.out);
}

/* ------------------------------------------------------ negotiation */

static struct sg_conf_media conf = {
	MH_CONF_MEDIA(45900, 45999, 4),
};

#define KA "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"
#define SAVP_OFFER                                             \
	MH_SDP_HEAD("1")                                       \
	"m=audio 4000 RTP/SAVP 0\r\n"                          \
	"a=crypto:1 NEW_SUITE inline:QUJD\r\n"                 \
	"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KA "\r\n" \
	"a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" KA "|2^31|1:1\r\n"

/* Untrusted SRTP caller -> plain PBX, and the reverse. */
static void test_sdes_bridge(void **state)
{
	struct media *m;
	struct media_call *c;
	struct buf b;
	const char *o;
	struct media_stream *st;

	(void)state;
	mh_open(&m, &b, &conf);
	c = mh_new_call(m, "c1", CONF_SRTP_REQUIRED, -1, CONF_SRTP_OFF, -1);
	o = mh_sdp(c, 0, MEDIA_SDP_REQUEST, SAVP_OFFER, &b, 0);
	/* The PBX gets plain RTP, no key of anyone's. */
	assert_non_null(strstr(o, "RTP/AVP 0\r\n"));
	assert_null(strstr(o, "SAVP"));
	assert_null(strstr(o, "crypto"));
	st = c->st[0];
	/* The first suite we run in the offerer's order: tag 2. */
	assert_true(st->sec->srtp_sig[0].sdes);
	assert_int_equal(st->sec->srtp_sig[0].tag, 2);
	assert_int_equal(st->sec->srtp_sig[0].suite,
			 SDP_SRTP_AES_CM_128_HMAC_SHA1_32);
	o = mh_sdp(c, 1, MEDIA_SDP_FINAL, MH_AVP_ANSWER, &b, 0);
	/* The caller gets SAVP, its tag and suite, our own key. */
	assert_non_null(strstr(o, "RTP/SAVP 0\r\n"));
	assert_int_equal(mh_count(o, "a=crypto:"), 1);
	assert_non_null(
		strstr(o, "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"));
	assert_null(strstr(o, KA));
	assert_true(st->handed);
	/* A repeat gives the same key. */
	{
		char first[1024];

		snprintf(first, sizeof(first), "%s", o);
		assert_string_equal(
			mh_sdp(c, 1, MEDIA_SDP_FINAL, MH_AVP_ANSWER, &b, 0),
			first);
	}
	media_call_end(c);
	mh_wait_relay(m);

	/* A session-level a=crypto (not valid, RFC 4568 9.1) is never
	 * forwarded either. */
	c = mh_new_call(m, "c1s", CONF_SRTP_OPTIONAL, -1, CONF_SRTP_OFF, -1);
	o = mh_sdp(c, 0, MEDIA_SDP_REQUEST,
		   "v=0\r\no=u 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
		   "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		   "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KA "\r\n"
		   "m=audio 4000 RTP/AVP 0\r\n",
		   &b, 0);
	assert_null(strstr(o, "crypto"));
	media_call_end(c);
	mh_wait_relay(m);

	/* Attribute names in another letter case carry a key just as
	 * well: never forwarded. */
	c = mh_new_call(m, "c1c", CONF_SRTP_OPTIONAL, -1, CONF_SRTP_OFF, -1);
	o = mh_sdp(c, 0, MEDIA_SDP_REQUEST,
		   "v=0\r\no=u 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
		   "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		   "a=Crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KA "\r\n"
		   "m=audio 4000 RTP/AVP 0\r\n"
		   "a=CRYPTO:1 AES_CM_128_HMAC_SHA1_80 inline:" KA "\r\n",
		   &b, 0);
	assert_null(strcasestr(o, "crypto"));
	media_call_end(c);
	mh_wait_relay(m);

	/* PBX offers plain; the untrusted side requires SRTP. */
	c = mh_new_call(m, "c2", CONF_SRTP_OFF, -1, CONF_SRTP_REQUIRED, -1);
	o = mh_sdp(c, 0, MEDIA_SDP_REQUEST, MH_AVP_OFFER, &b, 0);
	assert_non_null(strstr(o, "RTP/SAVP 0\r\n"));
	assert_int_equal(mh_count(o, "a=crypto:"), MEDIA_SRTP_OFFER_MAX);
	assert_non_null(
		strstr(o, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));
	assert_non_null(strstr(o, "a=crypto:2 AEAD_AES_256_GCM inline:"));
	/* The answer renumbers: tag 9 for the _80 suite. */
	o = mh_sdp(
		c, 1, MEDIA_SDP_FINAL,
		MH_SDP_HEAD("5") "m=audio 6000 RTP/SAVP 0\r\n"
				 "a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:" KA
				 "\r\n",
		&b, 0);
	assert_non_null(strstr(o, "RTP/AVP 0\r\n"));
	assert_null(strstr(o, "crypto"));
	st = c->st[0];
	assert_true(st->sec->srtp_sig[1].sdes);
	assert_int_equal(st->sec->srtp_sig[1].suite,
			 SDP_SRTP_AES_CM_128_HMAC_SHA1_80);
	assert_false(st->sec->srtp_sig[0].sdes);
	assert_true(st->handed);
	mh_close(m, c, &b);
}

/* SRTP on both legs: each gets its own key, none crosses. */
static void test_sdes_both(void **state)
{
	struct media *m;
	struct media_call *c;
	struct media_stream *st;
	struct buf b;
	const char *o;
	char offer[2048];

	(void)state;
	mh_open(&m, &b, &conf);
	c = mh_new_call(m, "c3", CONF_SRTP_OPTIONAL, -1, CONF_SRTP_OPTIONAL,
			-1);
	o = mh_sdp(c, 0, MEDIA_SDP_REQUEST, SAVP_OFFER, &b, 0);
	snprintf(offer, sizeof(offer), "%s", o);
	assert_non_null(strstr(offer, "RTP/SAVP 0\r\n"));
	assert_null(strstr(offer, KA));
	assert_int_equal(mh_count(offer, "a=crypto:"), MEDIA_SRTP_OFFER_MAX);
	/* The callee answers with the AEAD line, tag kept. */
	o = mh_sdp(c, 1, MEDIA_SDP_FINAL,
		   MH_SDP_HEAD(
			   "5") "m=audio 6000 RTP/SAVP 0\r\n"
				"a=crypto:2 AEAD_AES_256_GCM inline:"
				"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIS"
				"IjJCUmJygpKis=\r\n",
		   &b, 0);
	assert_non_null(strstr(o, "a=crypto:2 AES_CM_128_HMAC_SHA1_32"));
	st = c->st[0];
	assert_int_equal(st->sec->srtp_sig[1].suite, SDP_SRTP_AEAD_AES_256_GCM);
	assert_memory_not_equal(st->sec->srtp_sig[0].mkey,
				st->sec->srtp_sig[1].mkey, 28);
	mh_close(m, c, &b);
}

/* What gets 488 (offers) or closes the stream (answers). */
static void test_sdes_refused(void **state)
{
	struct media *m;
	struct media_call *c;
	struct buf b;
	const char *o;

	(void)state;
	mh_open(&m, &b, &conf);
	/* Plain offer from a required zone. */
	c = mh_new_call(m, "r1", CONF_SRTP_REQUIRED, -1, CONF_SRTP_OFF, -1);
	mh_sdp(c, 0, MEDIA_SDP_REQUEST, MH_AVP_OFFER, &b, -EPROTO);
	media_call_end(c);
	/* SRTP offer from an off zone. */
	c = mh_new_call(m, "r2", CONF_SRTP_OFF, -1, CONF_SRTP_OFF, -1);
	mh_sdp(c, 0, MEDIA_SDP_REQUEST, SAVP_OFFER, &b, -EPROTO);
	media_call_end(c);
	/* SAVP with no suite we run; with a malformed line. */
	c = mh_new_call(m, "r3", CONF_SRTP_OPTIONAL, -1, CONF_SRTP_OFF, -1);
	mh_sdp(c, 0, MEDIA_SDP_REQUEST,
	       MH_SDP_HEAD("1") "m=audio 4000 RTP/SAVP 0\r\n"
				"a=crypto:1 F8_128_HMAC_SHA1_80 inline:" KA
				"\r\n",
	       &b, -EPROTO);
	mh_sdp(c, 0, MEDIA_SDP_REQUEST,
	       MH_SDP_HEAD(
		       "2") "m=audio 4000 RTP/SAVP 0\r\n"
			    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:QUJD\r\n",
	       &b, -EPROTO);
	mh_sdp(c, 0, MEDIA_SDP_REQUEST,
	       MH_SDP_HEAD("3") "m=audio 4000 RTP/SAVP 0\r\n", &b, -EPROTO);
	media_call_end(c);
	/* An answer matching none of our lines: the stream is refused
	 * toward the offerer (port 0), the pinhole closed. */
	c = mh_new_call(m, "r4", CONF_SRTP_OFF, -1, CONF_SRTP_REQUIRED, -1);
	mh_sdp(c, 0, MEDIA_SDP_REQUEST, MH_AVP_OFFER, &b, 0);
	o = mh_sdp(c, 1, MEDIA_SDP_FINAL,
		   MH_SDP_HEAD("5") "m=audio 6000 RTP/SAVP 0\r\n"
				    "a=crypto:1 F8_128_HMAC_SHA1_80 inline:" KA
				    "\r\n",
		   &b, 0);
	assert_non_null(strstr(o, "m=audio 0 "));
	assert_null(c->st[0]);
	media_call_end(c);
	/* A plain answer from a required zone: refused the same way. */
	c = mh_new_call(m, "r5", CONF_SRTP_OFF, -1, CONF_SRTP_REQUIRED, -1);
	mh_sdp(c, 0, MEDIA_SDP_REQUEST, MH_AVP_OFFER, &b, 0);
	o = mh_sdp(c, 1, MEDIA_SDP_FINAL, MH_AVP_ANSWER, &b, 0);
	assert_non_null(strstr(o, "m=audio 0 "));
	mh_close(m, c, &b);
}

/* Keys are wiped with the stream; contexts freed. */
static void test_wipe(void **state)
{
	struct media_stream s;
	struct media_stream_sec sec;
	uint8_t k[30];
	struct media_srtp_dir d = {.suite = 1, .key = k, .key_len = 30};
	size_t i;

	(void)state;
	memset(&s, 0, sizeof(s));
	memset(&sec, 0, sizeof(sec));
	s.sec = &sec;
	key(k, 1, 4);
	memset(s.sec->srtp_sig[0].mkey, 0x77, sizeof(s.sec->srtp_sig[0].mkey));
	memset(s.sec->srtp_sig[1].rkey.key, 0x66,
	       sizeof(s.sec->srtp_sig[1].rkey.key));
	memset(s.sec->srtp_sig[1].offer, 0x55,
	       sizeof(s.sec->srtp_sig[1].offer));
	assert_int_equal(media_srtp_make(&s.rt[0].srtp, &d, &d), 0);
	media__srtp_wipe(&s);
	assert_null(s.rt[0].srtp.rx);
	assert_null(s.rt[0].srtp.tx);
	for (i = 0; i < sizeof(s.sec->srtp_sig); i++)
		assert_int_equal(((const uint8_t *)s.sec->srtp_sig)[i], 0);
}

/* zones[].srtp and zones[].require_tls in the configuration. */
static void test_conf_zone(void **state)
{
	static const struct {
		const char *zone;
		bool ok;
		int srtp;
	} cases[] = {
		{"listen: [ \"udp:127.0.0.1:36400\" ]\n", true,
		 CONF_SRTP_OPTIONAL},
		{"listen: [ \"udp:127.0.0.1:36400\" ]\n    srtp: required\n",
		 true, CONF_SRTP_REQUIRED},
		{"listen: [ \"udp:127.0.0.1:36400\" ]\n    srtp: \"off\"\n",
		 true, CONF_SRTP_OFF},
		{"listen: [ \"udp:127.0.0.1:36400\" ]\n    srtp: maybe\n",
		 false, 0},
		{"listen: [ \"tls:127.0.0.1:36401\" ]\n    require_tls: true\n",
		 true, CONF_SRTP_OPTIONAL},
		{"listen: [ \"tls:127.0.0.1:36401\", \"udp:127.0.0.1:36400\" ]"
		 "\n    require_tls: true\n",
		 false, 0},
	};
	char text[512], err[256];
	struct sg_conf *c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(text, sizeof(text),
				 "zones:\n  - name: a\n    trust: untrusted\n"
				 "    %s",
				 cases[i].zone);
		int rc = conf_load_str(&c, "t", text, (size_t)n, err,
				       sizeof(err));

		if ((rc == 0) != cases[i].ok)
			fail_msg("case %zu: %d %s", i, rc, err);
		if (rc)
			continue;
		assert_int_equal(c->zones[0].srtp, cases[i].srtp);
		conf_free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_auth_replay),
		cmocka_unit_test(test_mki_and_errors),
		cmocka_unit_test(test_relay_bridge),
		cmocka_unit_test(test_relay_srtp_both),
		cmocka_unit_test(test_sdes_bridge),
		cmocka_unit_test(test_sdes_both),
		cmocka_unit_test(test_sdes_refused),
		cmocka_unit_test(test_wipe),
		cmocka_unit_test(test_conf_zone),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
