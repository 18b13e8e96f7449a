/*
 * fuzz_dtls.c - libFuzzer target for the DTLS-SRTP engine's input path
 * (media/dtls.c): the record check before OpenSSL, OpenSSL's DTLS 1.2
 * server and client state machines behind it, and the timers.
 *
 * Input: one control byte (bit 0: we are the client; bits 1-7: ms to
 * advance between datagrams, times 64), then datagrams, each preceded by
 * a 2-byte big-endian length.  After each datagram the output queue is
 * drained and the timer run when due.  The engine must never crash or
 * leak, never connect (no peer could have produced a valid Finished for
 * a certificate matching the all-zero fingerprint), and refuse every
 * input that is not a chain of DTLS records.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "media/dtls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                         \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_dtls: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                           \
			abort();                                            \
		}                                                           \
	} while (0)

static struct dtls_ctx *ctx;

static void drain(struct dtls_conn *c)
{
	uint8_t buf[DTLS_MTU];
	int n, k = 0;

	while ((n = dtls_conn_output(c, buf, sizeof(buf))) > 0)
		CHECK(++k <= DTLS_OUT_QUEUE && n <= DTLS_MTU);
	CHECK(n == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dtls_ctx_conf conf = {0};
	struct sdp_dtls peer;
	struct dtls_conn *c;
	uint64_t now = 1000, step;
	size_t live;

	if (!ctx && dtls_ctx_new(&ctx, &conf))
		abort();
	live = mem_live();
	if (size < 1)
		return 0;
	memset(&peer, 0, sizeof(peer));
	peer.fp[0].hash = SDP_DTLS_HASH_SHA256;
	peer.fp[0].len = 32;
	peer.nfp = 1;
	step = (uint64_t)(data[0] >> 1) * 64;
	if (dtls_conn_new(&c, ctx, data[0] & 1, &peer, now))
		return 0;
	drain(c);
	data++;
	size--;
	while (size >= 2) {
		size_t n = (size_t)data[0] << 8 | data[1];
		int rc;

		if (n > size - 2)
			n = size - 2;
		rc = dtls_conn_input(c, data + 2, n, now);
		CHECK(rc == -EINVAL || rc == DTLS_HANDSHAKE ||
		      rc == DTLS_FAILED);
		CHECK(n > 0 || rc == -EINVAL);
		drain(c);
		data += 2 + n;
		size -= 2 + n;
		now += step;
		if (now >= dtls_conn_deadline(c)) {
			(void)dtls_conn_timer(c, now);
			drain(c);
		}
	}
	CHECK(dtls_conn_state(c) != DTLS_CONNECTED);
	dtls_conn_free(c);
	CHECK(mem_live() == live);
	return 0;
}
