/*
 * test_srtp_xf.c - our SRTP transform (media/srtp_xf.c with srtp_cm.c
 * and srtp_gcm.c) against libsrtp2, the reference: for all five suites,
 * we protect and libsrtp2 unprotects and the reverse, RTP across a
 * sequence number wrap (ROC) with CSRCs and header extensions, and
 * SRTCP; the replay window; which transform runs what (MKI keys stay on
 * libsrtp2); and for the AEAD GCM suites RFC 7714's test vectors (16.1,
 * 16.2, 17.1, 17.2: session keys, checked byte for byte), the wire
 * layout, and flipped bits in header, CSRC, extension, payload, tag and
 * SRTCP index all refused.
 */
#include <errno.h>
#include <stdio.h>

#include "test.h"

#include "media/srtp.h"
#include "media/srtp_xf.h"
#include "sip/sip.h"

#include <srtp2/srtp.h>

static const int all[] = {
	SDP_SRTP_AES_CM_128_HMAC_SHA1_80, SDP_SRTP_AES_CM_128_HMAC_SHA1_32,
	SDP_SRTP_AES_256_CM_HMAC_SHA1_80, SDP_SRTP_AEAD_AES_128_GCM,
	SDP_SRTP_AEAD_AES_256_GCM,
};
static const int gcm[] = {SDP_SRTP_AEAD_AES_128_GCM, SDP_SRTP_AEAD_AES_256_GCM};
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* An RTP packet, 160 bytes of payload; with ext, two CSRCs and a
 * one-word RFC 8285 extension before it. */
static size_t rtp(uint8_t *p, uint16_t seq, uint32_t ssrc, bool ext)
{
	size_t i, h = ext ? 12 + 8 + 8 : 12;

	memset(p, 0, 12);
	p[0] = 0x80;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[6] = (uint8_t)((seq * 160) >> 8);
	p[7] = (uint8_t)(seq * 160);
	media__srtp_put32(p + 8, ssrc);
	if (ext) {
		p[0] = 0x92;
		memset(p + 12, 0x11, 8);
		p[20] = 0xbe;
		p[21] = 0xde;
		p[22] = 0;
		p[23] = 1;
		memset(p + 24, 0x22, 4);
	}
	for (i = h; i < h + 160; i++)
		p[i] = (uint8_t)(i * 7 + seq);
	return h + 160;
}

/* A receiver report without blocks plus an SDES CNAME. */
static size_t rtcp(uint8_t *p, uint32_t ssrc)
{
	static const uint8_t pkt[] = {
		0x80, 201, 0, 1, 0, 0, 0, 0, /* RR */
		0x81, 202, 0, 3, 0, 0, 0, 0, 1, 4, 'a', '@', 'b', 'c', 0, 0,
	};

	memcpy(p, pkt, sizeof(pkt));
	media__srtp_put32(p + 4, ssrc);
	media__srtp_put32(p + 12, ssrc);
	return sizeof(pkt);
}

static void key(uint8_t *k, int suite, uint8_t seed)
{
	size_t i;

	for (i = 0; i < sdp_srtp_key_len(suite); i++)
		k[i] = (uint8_t)(seed + i * 13);
}

static void make(struct media_srtp *s, int suite, const uint8_t *k, bool rx)
{
	struct media_srtp_dir d = {
		.suite = suite, .key = k, .key_len = sdp_srtp_key_len(suite)};

	assert_int_equal(media_srtp_make(s, rx ? &d : NULL, rx ? NULL : &d), 0);
	assert_true(rx ? s->rx_xf : s->tx_xf);
}

/* ---------------------------------------------- against libsrtp2 */

static void lib_policy(int suite, srtp_crypto_policy_t *rtp,
		       srtp_crypto_policy_t *rtcp)
{
	switch (suite) {
	case SDP_SRTP_AES_CM_128_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp);
		break;
	case SDP_SRTP_AES_256_CM_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtcp);
		break;
	case SDP_SRTP_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(rtcp);
		break;
	case SDP_SRTP_AEAD_AES_256_GCM:
		srtp_crypto_policy_set_aes_gcm_256_16_auth(rtp);
		srtp_crypto_policy_set_aes_gcm_256_16_auth(rtcp);
		break;
	default:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp);
	}
}

static srtp_t lib_session(int suite, uint8_t *k, bool rx)
{
	srtp_policy_t p;
	srtp_t s;

	memset(&p, 0, sizeof(p));
	lib_policy(suite, &p.rtp, &p.rtcp);
	p.ssrc.type = rx ? ssrc_any_inbound : ssrc_any_outbound;
	p.key = k;
	p.window_size = 128;
	assert_int_equal(srtp_create(&s, &p), 0);
	return s;
}

/* Ours -> libsrtp2 and libsrtp2 -> ours for one plain packet. */
static void both_ways(struct media_srtp *tx, struct media_srtp *rx,
		      srtp_t lib_rx, srtp_t lib_tx, bool is_rtcp,
		      const uint8_t *plain, size_t n)
{
	uint8_t p[400];
	size_t m = n;
	int len;

	memcpy(p, plain, n);
	assert_int_equal(media_srtp_protect(tx, is_rtcp, p, &m, sizeof(p)), 0);
	len = (int)m;
	assert_int_equal(is_rtcp ? srtp_unprotect_rtcp(lib_rx, p, &len)
				 : srtp_unprotect(lib_rx, p, &len),
			 0);
	assert_int_equal(len, n);
	assert_memory_equal(p, plain, n);
	memcpy(p, plain, n);
	len = (int)n;
	assert_int_equal(is_rtcp ? srtp_protect_rtcp(lib_tx, p, &len)
				 : srtp_protect(lib_tx, p, &len),
			 0);
	m = (size_t)len;
	assert_int_equal(media_srtp_unprotect(rx, is_rtcp, p, &m), 0);
	assert_int_equal(m, n);
	assert_memory_equal(p, plain, n);
}

/* Every suite, across a sequence number wrap (ROC 0 -> 1), CSRCs and
 * an extension on every 7th packet, SRTCP with each. */
static void test_interop(void **state)
{
	uint8_t k[SDP_SRTP_KEY_MAX], plain[400];
	unsigned i, j;

	(void)state;
	for (i = 0; i < N(all); i++) {
		struct media_srtp ours_tx, ours_rx;
		srtp_t lib_rx, lib_tx;

		key(k, all[i], (uint8_t)(40 + i));
		make(&ours_tx, all[i], k, false);
		make(&ours_rx, all[i], k, true);
		lib_rx = lib_session(all[i], k, true);
		lib_tx = lib_session(all[i], k, false);
		for (j = 0; j < 40; j++) {
			size_t n = rtp(plain, (uint16_t)(65520 + j), 0xcafe,
				       j % 7 == 3);

			both_ways(&ours_tx, &ours_rx, lib_rx, lib_tx, false,
				  plain, n);
			n = rtcp(plain, 0xcafe);
			both_ways(&ours_tx, &ours_rx, lib_rx, lib_tx, true,
				  plain, n);
		}
		srtp_dealloc(lib_rx);
		srtp_dealloc(lib_tx);
		media_srtp_free(&ours_tx);
		media_srtp_free(&ours_rx);
	}
}

/* Replay window: late but new packets pass, repeats and packets older
 * than the window do not; the sender never encrypts one index twice. */
static void test_window(void **state)
{
	static uint8_t pk[300][256];
	uint8_t k[SDP_SRTP_KEY_MAX], q[256];
	size_t ln[300], m;
	struct media_srtp tx, rx;
	unsigned i, s;

	(void)state;
	for (s = 0; s < N(all); s++) {
		key(k, all[s], 9);
		make(&tx, all[s], k, false);
		make(&rx, all[s], k, true);
		for (i = 0; i < 300; i++) {
			ln[i] = rtp(pk[i], (uint16_t)(1000 + i), 7, false);
			assert_int_equal(media_srtp_protect(&tx, false, pk[i],
							    &ln[i], 256),
					 0);
		}
#define RX(i, want)                                                       \
	do {                                                              \
		memcpy(q, pk[i], ln[i]);                                  \
		m = ln[i];                                                \
		assert_int_equal(media_srtp_unprotect(&rx, false, q, &m), \
				 want);                                   \
	} while (0)
		/* 0..199 in order except 150, then 150 late: passes. */
		for (i = 0; i < 200; i++)
			if (i != 150)
				RX(i, 0);
		RX(150, 0);
		RX(150, MEDIA_SRTP_E_REPLAY);
		/* 299 jumps ahead; 100 is now older than the window. */
		RX(299, 0);
		RX(100, MEDIA_SRTP_E_REPLAY);
		RX(250, 0);
#undef RX
		ln[0] = rtp(q, 1000, 7, false);
		assert_int_equal(media_srtp_protect(&tx, false, q, &ln[0], 256),
				 MEDIA_SRTP_E_REPLAY);
		media_srtp_free(&tx);
		media_srtp_free(&rx);
	}
}

/* Our transform for every suite without MKI; an MKI key, GCM or not,
 * goes to libsrtp2 and still reads libsrtp2's packets. */
static void test_dispatch(void **state)
{
	uint8_t k[SDP_SRTP_KEY_MAX], p[400];
	struct media_srtp a, b;
	unsigned i;

	(void)state;
	for (i = 0; i < N(all); i++) {
		struct media_srtp_dir d = {.suite = all[i],
					   .key = k,
					   .key_len = sdp_srtp_key_len(all[i]),
					   .mki = 0x0102,
					   .mki_len = 2};
		size_t n;
		int len;

		assert_true(media__srtp_xf_suite(all[i]));
		key(k, all[i], 3);
		assert_int_equal(media_srtp_make(&b, &d, NULL), 0);
		assert_false(b.rx_xf);
		assert_true(b.rx_mki);
		assert_int_equal(media_srtp_make(&a, NULL, &d), 0);
		assert_false(a.tx_xf);
		n = rtp(p, 1, 5, false);
		len = (int)n;
		assert_int_equal(srtp_protect_mki((srtp_t)a.tx, p, &len, 1, 0),
				 0);
		n = (size_t)len;
		assert_int_equal(media_srtp_unprotect(&b, false, p, &n), 0);
		assert_int_equal(n, 172);
		media_srtp_free(&a);
		media_srtp_free(&b);
		/* A key of the wrong length for the suite. */
		d.mki_len = 0;
		d.key_len--;
		assert_int_equal(media_srtp_make(&a, &d, NULL), -EINVAL);
		assert_null(a.rx);
	}
	assert_false(media__srtp_xf_suite(SDP_SRTP_NONE));
	assert_false(media__srtp_xf_suite(SDP_SRTP_NSUITES));
}

/* ------------------------------------------- RFC 7714 test vectors */

static size_t hex(uint8_t *out, const char *s)
{
	size_t n = 0;
	unsigned v;

	for (; *s; s++) {
		if (*s == ' ')
			continue;
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		s++;
	}
	return n;
}

/* Section 16: the RTP packet ("Gallia est omnis divisa in partes
 * tres", SSRC 5501a0b2, SEQ f17b, ROC 0); section 17: the RTCP packet,
 * SRTCP index 5d4.  Session key 00..0f (or 00..1f), salt "Quid pro quo". */
#define V_SALT "517569642070726f2071756f"
#define V_RTP                                                             \
	"8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 " \
	"20646976 69736120 696e2070 61727465 73207472 6573"
#define V_RTCP                                                            \
	"81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 " \
	"4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef"

static const struct vec {
	const char *sect, *key, *srtp, *srtcp;
} vecs[] = {
	{"16.1/17.1", "000102030405060708090a0b0c0d0e0f",
	 "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca "
	 "be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 "
	 "6a9152cf 765ee439 0cce",
	 "81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 "
	 "6c06f32d c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 "
	 "96cf4d2f c5abf872 45d9eade 800005d4"},
	{"16.2/17.2",
	 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	 "8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa "
	 "b1801238 9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff "
	 "d6b0f9bb 7878d7a7 6c13",
	 "81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d "
	 "bffe0a50 a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c "
	 "4446839f 57ff6f6c b26ac3be 800005d4"},
};

static void test_rfc7714_vectors(void **state)
{
	const struct media__srtp_cipher *ci = &media__srtp_gcm;
	uint8_t k[32], salt[12], plain[100], want[100], p[100];
	size_t i, kl, pn, wn;
	void *tx, *rx;

	(void)state;
	assert_int_equal(hex(salt, V_SALT), 12);
	for (i = 0; i < N(vecs); i++) {
		kl = hex(k, vecs[i].key);
		assert_int_equal(
			media__srtp_gcm_session(&tx, k, kl, salt, false), 0);
		assert_int_equal(
			media__srtp_gcm_session(&rx, k, kl, salt, true), 0);
		/* SRTP: seal gives the vector, open gives the packet. */
		pn = hex(plain, V_RTP);
		wn = hex(want, vecs[i].srtp);
		assert_int_equal(pn, 50);
		assert_int_equal(wn, pn + 16);
		memcpy(p, plain, pn);
		assert_int_equal(
			ci->rtp_seal(tx, 0x5501a0b2, 0xf17b, p, 12, pn, 16), 0);
		assert_memory_equal(p, want, wn);
		assert_int_equal(
			ci->rtp_open(rx, 0x5501a0b2, 0xf17b, p, 12, pn, 16), 0);
		assert_memory_equal(p, plain, pn);
		/* Another ROC is another IV: refused. */
		memcpy(p, want, wn);
		assert_int_equal(ci->rtp_open(rx, 0x5501a0b2,
					      1ULL << 16 | 0xf17b, p, 12, pn,
					      16),
				 MEDIA_SRTP_E_AUTH);
		/* SRTCP: trailer is tag then E||index. */
		pn = hex(plain, V_RTCP);
		wn = hex(want, vecs[i].srtcp);
		assert_int_equal(wn, pn + 20);
		memcpy(p, plain, pn);
		assert_int_equal(
			ci->rtcp_seal(tx, 0x4d617273, XF_E_FLAG | 0x5d4, p, pn),
			0);
		assert_memory_equal(p, want, wn);
		assert_int_equal(
			ci->rtcp_open(rx, 0x4d617273, XF_E_FLAG | 0x5d4, p, pn),
			0);
		assert_memory_equal(p, plain, pn);
		memcpy(p, want, wn);
		assert_int_equal(
			ci->rtcp_open(rx, 0x4d617273, XF_E_FLAG | 0x5d5, p, pn),
			MEDIA_SRTP_E_AUTH);
		media__srtp_keys_free(tx);
		media__srtp_keys_free(rx);
	}
	assert_int_equal(media__srtp_gcm_session(&tx, k, 24, salt, true),
			 -EINVAL);
}

/* ------------------------------------------ GCM through the API */

/* The wire: header in clear (it is AAD), 16-byte tag; SRTCP keeps its
 * first 8 bytes, then tag, then E||index counting up from 0. */
static void test_gcm_layout(void **state)
{
	uint8_t k[SDP_SRTP_KEY_MAX], plain[400], p[400];
	struct media_srtp tx;
	unsigned i, j;
	size_t n, m;

	(void)state;
	for (i = 0; i < N(gcm); i++) {
		key(k, gcm[i], 77);
		make(&tx, gcm[i], k, false);
		n = rtp(plain, 9, 0x42, true);
		memcpy(p, plain, n);
		m = n;
		assert_int_equal(media_srtp_protect(&tx, false, p, &m, 400), 0);
		assert_int_equal(m, n + 16);
		assert_memory_equal(p, plain, 28);
		assert_memory_not_equal(p + 28, plain + 28, n - 28);
		for (j = 0; j < 3; j++) {
			n = rtcp(plain, 0x42);
			memcpy(p, plain, n);
			m = n;
			assert_int_equal(
				media_srtp_protect(&tx, true, p, &m, 400), 0);
			assert_int_equal(m, n + 16 + 4);
			assert_memory_equal(p, plain, 8);
			assert_int_equal(media__srtp_be32(p + m - 4),
					 XF_E_FLAG | j);
		}
		media_srtp_free(&tx);
	}
}

/* Unprotect a copy of p[0..n) with x XOR'd into byte at (if inside):
 * the result, and in *mp (if set) the length left. */
static int rx_copy(struct media_srtp *rx, bool is_rtcp, const uint8_t *p,
		   size_t n, size_t at, uint8_t x, size_t *mp)
{
	uint8_t q[400];
	size_t m = n;
	int err;

	memcpy(q, p, n);
	if (at < n)
		q[at] ^= x;
	err = media_srtp_unprotect(rx, is_rtcp, q, &m);
	if (mp)
		*mp = m;
	return err;
}

/* A flipped bit anywhere is refused: RTP's fixed header, CSRC,
 * extension, payload, tag; SRTCP's header, payload, tag, index word, and
 * its E flag cleared (unencrypted SRTCP, never negotiated).  So are a
 * receiver with another key and packets cut short; the genuine packet
 * passes once, then is a replay. */
static void test_gcm_tamper(void **state)
{
	static const struct {
		bool rtcp;
		size_t plain, at[9];
		uint8_t x[9];
	} kinds[] = {
		{false,
		 188,
		 {1, 3, 9, 14, 26, 40, 187, 188, 203},
		 {4, 4, 4, 4, 4, 4, 4, 4, 4}},
		{true,
		 24,
		 {1, 5, 8, 20, 25, 38, 40, 43, 40},
		 {16, 16, 16, 16, 16, 16, 16, 16, 0x80}},
	};
	uint8_t k[SDP_SRTP_KEY_MAX], k2[SDP_SRTP_KEY_MAX], p[400];
	struct media_srtp tx, rx, other;
	size_t n, m, j, t;
	unsigned i;

	(void)state;
	for (i = 0; i < N(gcm); i++)
		for (t = 0; t < N(kinds); t++) {
			bool c = kinds[t].rtcp;

			key(k, gcm[i], 5);
			key(k2, gcm[i], 6);
			make(&tx, gcm[i], k, false);
			make(&rx, gcm[i], k, true);
			make(&other, gcm[i], k2, true);
			n = c ? rtcp(p, 0x99) : rtp(p, 77, 0x99, true);
			assert_int_equal(n, kinds[t].plain);
			assert_int_equal(media_srtp_protect(&tx, c, p, &n, 400),
					 0);
			assert_int_equal(n, kinds[t].plain + (c ? 20 : 16));
			for (j = 0; j < N(kinds[t].at); j++)
				assert_int_equal(rx_copy(&rx, c, p, n,
							 kinds[t].at[j],
							 kinds[t].x[j], NULL),
						 MEDIA_SRTP_E_AUTH);
			assert_int_equal(rx_copy(&other, c, p, n, n, 0, NULL),
					 MEDIA_SRTP_E_AUTH);
			assert_int_equal(rx_copy(&rx, c, p, n - 1, n, 0, NULL),
					 MEDIA_SRTP_E_AUTH);
			/* No room for the trailer: 12 + 15, 8 + 19. */
			assert_int_equal(rx_copy(&rx, c, p, 27, n, 0, NULL),
					 MEDIA_SRTP_E_OTHER);
			assert_int_equal(rx_copy(&rx, c, p, n, n, 0, &m), 0);
			assert_int_equal(m, kinds[t].plain);
			assert_int_equal(rx_copy(&rx, c, p, n, n, 0, NULL),
					 MEDIA_SRTP_E_REPLAY);
			media_srtp_free(&tx);
			media_srtp_free(&rx);
			media_srtp_free(&other);
		}
}

/* More SSRCs than a context tracks: each new one replaces the least
 * recently used, and every stream still reads (its state restarts). */
static void test_ssrcs(void **state)
{
	uint8_t k[SDP_SRTP_KEY_MAX], p[400];
	struct media_srtp tx, rx;
	unsigned i, r, s;
	size_t n;

	(void)state;
	for (i = 0; i < N(gcm); i++) {
		key(k, gcm[i], 11);
		make(&tx, gcm[i], k, false);
		make(&rx, gcm[i], k, true);
		for (r = 0; r < 3; r++)
			for (s = 0; s < 6; s++) {
				n = rtp(p, (uint16_t)(r * 10 + 1), 100 + s,
					false);
				assert_int_equal(media_srtp_protect(&tx, false,
								    p, &n, 400),
						 0);
				assert_int_equal(
					media_srtp_unprotect(&rx, false, p, &n),
					0);
			}
		media_srtp_free(&tx);
		media_srtp_free(&rx);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interop),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_rfc7714_vectors),
		cmocka_unit_test(test_gcm_layout),
		cmocka_unit_test(test_gcm_tamper),
		cmocka_unit_test(test_ssrcs),
	};
	int rc;

	assert_int_equal(media_srtp_init(), 0);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	assert_no_leaks();
	return rc;
}
