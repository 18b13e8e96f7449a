/*
 * media_fuzz.h - scaffolding shared by the fuzz targets of SRTP key
 * negotiation in SDP (fuzz_srtp_sdp.c: SDES, fuzz_dtls_sdp.c: DTLS-SRTP
 * around it): a checked invariant, the policy byte, the offer/answer
 * split of the input and the re-parse check of a rewritten SDP.  Linked
 * by the targets whose fragment lists $(BUILD)/tests/fuzz/media_fuzz.o
 * as a prerequisite (replay and libFuzzer binaries alike).
 */
#ifndef SIPGUARD_TESTS_MEDIA_FUZZ_H
#define SIPGUARD_TESTS_MEDIA_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "media/media_int.h"
#include "sip/sip.h"

/* An invariant of the code under test: abort (the fuzzer's crash). */
#define MF_CHECK(cond)                                                     \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                    \
			abort();                                           \
		}                                                          \
	} while (0)

/* A zone's srtp policy from two bits (enum conf_srtp; 3: optional). */
int mf_policy(unsigned v);

/* Negotiate and rewrite one SDP body from leg `from` into out. */
typedef void mf_one_fn(struct media_call *c, unsigned from,
		       enum media_srtp_role r, struct str body,
		       struct buf *out);

/* The input after the control bytes: the offer, a NUL byte, the answer
 * (absent without the NUL).  one() runs on the offer from leg 0, then
 * on the answer from leg 1, with a scratch buffer of 2 * SDP_MAX_SIZE. */
void mf_offer_answer(struct media_call *c, const uint8_t *data, size_t size,
		     mf_one_fn *one);

/* Write b into out; the result must parse again (into *again), unless
 * only a size limit stops it. */
void mf_write_check(struct sdp_bld *b, struct buf *out, struct sdp_sess *again);

#endif
