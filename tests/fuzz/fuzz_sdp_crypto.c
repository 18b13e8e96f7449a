/*
 * fuzz_sdp_crypto.c - libFuzzer target for SDES keys (sip/sdp_crypto.c)
 * and the SRTP receive path (media/srtp.c).
 *
 * The input up to the first newline is an a=crypto value.  When it
 * yields a key: our own line written from that key must read back to the
 * same tag, suite and key; then contexts are made from it, and the rest
 * of the input is handed to unprotect as an SRTP (or, by its first
 * byte's low bit, SRTCP) packet in a buffer of the relay's size; a
 * packet that passes must have shrunk and stay inside the buffer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/media_int.h"
#include "media/srtp.h"
#include "sip/sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                     \
	do {                                                            \
		if (!(cond)) {                                          \
			fprintf(stderr, "fuzz_sdp_crypto: %s:%d: %s\n", \
				__FILE__, __LINE__, #cond);             \
			abort();                                        \
		}                                                       \
	} while (0)

static uint8_t pkt[MEDIA_PKT_MAX];

static void packet(const struct sdp_srtp_key *k, const uint8_t *p, size_t n)
{
	struct media_srtp s;
	struct media_srtp_dir d = {
		.suite = k->suite,
		.key = k->key,
		.key_len = k->key_len,
		.mki = k->mki,
		.mki_len = k->mki_len,
	};
	bool rtcp;
	size_t len;

	if (!n || n > sizeof(pkt))
		return;
	rtcp = p[0] & 1;
	if (media_srtp_make(&s, &d, &d) != 0)
		return;
	memcpy(pkt, p, n);
	len = n;
	if (media_srtp_unprotect(&s, rtcp, pkt, &len) == 0)
		CHECK(len < n);
	/* Our own protect of what came in must always round-trip. */
	len = n > 1400 ? 1400 : n;
	memcpy(pkt, p, len);
	if (len >= 12) {
		pkt[0] = (uint8_t)(0x80 | (pkt[0] & 0x3f));
		pkt[0] &= (uint8_t)~0x30; /* no padding, no extension */
		if (media_srtp_protect(&s, false, pkt, &len, sizeof(pkt)) == 0)
			CHECK(len <= 1400 + MEDIA_SRTP_TRAILER);
	}
	media_srtp_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t vlen = nl ? (size_t)(nl - data) : size;
	struct sdp_srtp_key k, back;
	char line[SDP_SRTP_LINE_MAX];
	int rc, n;

	rc = sdp_srtp_key_get(&k, str_make((const char *)data, vlen));
	if (rc != 0)
		return 0;
	CHECK(k.suite > 0 && k.suite < SDP_SRTP_NSUITES);
	CHECK(k.key_len == sdp_srtp_key_len(k.suite));
	n = sdp_srtp_format(line, sizeof(line), k.tag, k.suite, k.key,
			    k.key_len);
	CHECK(n > 7);
	CHECK(sdp_srtp_key_get(&back, str_cstr(line + 7)) == 0);
	CHECK(back.tag == k.tag && back.suite == k.suite &&
	      back.key_len == k.key_len && !memcmp(back.key, k.key, k.key_len));
	sdp_srtp_key_wipe(&back);
	if (nl)
		packet(&k, nl + 1, size - vlen - 1);
	sdp_srtp_key_wipe(&k);
	return 0;
}
