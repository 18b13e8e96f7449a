/*
 * fuzz_srtp_xf.c - libFuzzer target for our SRTP transform
 * (media/srtp_xf.c with srtp_cm.c and srtp_gcm.c): a stream of packets,
 * hostile and genuine mixed, through one sender and one receiver
 * context, so that ROC estimation, replay lists and the SSRC slots see
 * attacker-chosen sequences.
 *
 * Input: byte 0 picks the suite (mod 5: the three AES-CM suites, the two
 * AEAD GCM ones), then chunks of [flags][len][len bytes] (len one byte).
 * flags bit 0: SRTCP; bit 1: genuine (the bytes are a plain packet that
 * the sender protects and the receiver must read back unchanged, if it
 * takes it at all) rather than a raw packet handed to the receiver as is
 * (it must never grow, nor pass as anything but what it is).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/media_int.h"
#include "media/srtp.h"
#include "sip/sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_srtp_xf: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

static const int suites[] = {
	SDP_SRTP_AES_CM_128_HMAC_SHA1_80, SDP_SRTP_AES_CM_128_HMAC_SHA1_32,
	SDP_SRTP_AES_256_CM_HMAC_SHA1_80, SDP_SRTP_AEAD_AES_128_GCM,
	SDP_SRTP_AEAD_AES_256_GCM,
};

static uint8_t pkt[MEDIA_PKT_MAX], plain[MEDIA_PKT_MAX];

/* A plain packet through tx then rx: what comes out is what went in. */
static void genuine(struct media_srtp *s, bool rtcp, const uint8_t *p, size_t n)
{
	size_t m = n;

	if (n < (rtcp ? 8u : 12u))
		return;
	memcpy(plain, p, n);
	plain[0] = (uint8_t)(0x80 | (plain[0] & 0x3f)); /* version 2 */
	memcpy(pkt, plain, n);
	if (media_srtp_protect(s, rtcp, pkt, &m, sizeof(pkt)) != 0)
		return;
	CHECK(m > n && m <= n + MEDIA_SRTP_TRAILER);
	if (media_srtp_unprotect(s, rtcp, pkt, &m) == 0) {
		CHECK(m == n);
		CHECK(memcmp(pkt, plain, n) == 0);
	}
}

static void raw(struct media_srtp *s, bool rtcp, const uint8_t *p, size_t n)
{
	size_t m = n;

	memcpy(pkt, p, n);
	if (media_srtp_unprotect(s, rtcp, pkt, &m) == 0)
		CHECK(m < n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[SDP_SRTP_KEY_MAX];
	struct media_srtp_dir d;
	struct media_srtp s;
	size_t i, n;

	if (size < 1)
		return 0;
	d.suite = suites[data[0] % (sizeof(suites) / sizeof(suites[0]))];
	d.key_len = sdp_srtp_key_len(d.suite);
	d.key = key;
	d.mki = 0;
	d.mki_len = 0;
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 29 + 3);
	/* One context both ways: what tx protects, rx reads. */
	CHECK(media_srtp_make(&s, &d, &d) == 0);
	CHECK(s.rx_xf && s.tx_xf);
	for (i = 1; i + 2 <= size; i += 2 + n) {
		uint8_t fl = data[i];

		n = data[i + 1];
		if (n > size - i - 2)
			n = size - i - 2;
		if (fl & 2)
			genuine(&s, fl & 1, data + i + 2, n);
		else
			raw(&s, fl & 1, data + i + 2, n);
	}
	media_srtp_free(&s);
	return 0;
}
