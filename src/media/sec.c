/*
 * sec.c - where a stream keeps its SDES and DTLS-SRTP signalling state
 * (struct media_stream_sec, media_int.h): on the heap, and only once a
 * leg of the stream negotiated one of them.  Most relayed calls are
 * plain RTP; the state (SDES keys and offers, fingerprints, the relay's
 * DTLS failure reason: 1.5 KiB) would double what each of them costs.
 *
 * A plain stream's state is a few bytes in the stream itself (what the
 * last SDP we sent each leg said about its profile).  The negotiation
 * (srtp_sdp.c, dtls_sdp.c) always works on a full struct: for a plain
 * stream a zeroed one on the stack, filled from those bytes, which is
 * kept on the heap afterwards only when it holds more than they can
 * say.  So what is negotiated does not depend on where the state is,
 * and no test decides in advance which SDP needs the struct.
 *
 * Once allocated the struct stays until the stream is freed (after the
 * relay's MEDIA_N_DONE): the relay may be writing dtls_reason until
 * then.  Freed blocks are wiped first (SDES keys), as the stack copy.
 */
#include <errno.h>
#include <string.h>

#include "core/mem.h"
#include "media/media_int.h"

/* The full state of a plain stream: zero but for what it sends. */
static void plain_state(struct media_stream_sec *x, const uint8_t send[2],
			uint8_t fb)
{
	unsigned l;

	memset(x, 0, sizeof(*x));
	for (l = 0; l < 2; l++) {
		x->srtp_sig[l].send = send[l];
		x->dtls_sig[l].fb = (fb >> l) & 1;
	}
}

void media__sec_begin(struct media_stream *st, struct media_stream_sec *tmp)
{
	if (st->sec)
		return;
	plain_state(tmp, st->plain_send, st->plain_fb);
	st->sec = tmp;
}

int media__sec_end(struct media_stream *st, struct media_stream_sec *tmp,
		   int err)
{
	struct media_stream_sec canon, *h;
	uint8_t send[2], fb;

	if (st->sec != tmp)
		return err; /* had a heap one already */
	st->sec = NULL;
	send[0] = tmp->srtp_sig[0].send;
	send[1] = tmp->srtp_sig[1].send;
	fb = (uint8_t)(tmp->dtls_sig[0].fb | tmp->dtls_sig[1].fb << 1);
	plain_state(&canon, send, fb);
	if (!memcmp(&canon, tmp, sizeof(canon))) {
		st->plain_send[0] = send[0];
		st->plain_send[1] = send[1];
		st->plain_fb = fb;
	} else if ((h = mem_alloc(sizeof(*h))) != NULL) {
		memcpy(h, tmp, sizeof(*h));
		st->sec = h;
	} else {
		/* The stream stays as it was; the SDP is refused like any
		 * other allocation failure (media_call_sdp: -ENOMEM). */
		err = -ENOMEM;
	}
	mem_secclean(tmp, sizeof(*tmp));
	return err;
}

uint8_t media__srtp_send(const struct media_stream *st, unsigned l)
{
	return st->sec ? st->sec->srtp_sig[l].send : st->plain_send[l];
}

bool media__dtls_fb(const struct media_stream *st, unsigned l)
{
	return st->sec ? st->sec->dtls_sig[l].fb : (st->plain_fb >> l) & 1;
}

void media__sec_free(struct media_stream *st)
{
	if (!st->sec)
		return;
	mem_secclean(st->sec, sizeof(*st->sec));
	mem_free(st->sec);
	st->sec = NULL;
}
