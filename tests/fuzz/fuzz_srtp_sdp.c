/*
 * fuzz_srtp_sdp.c - libFuzzer target for SDES negotiation (media/
 * srtp_sdp.c): hostile offers and answers through media__srtp_sdp(), the
 * SDP rewrite of each stream for the other leg, and the contexts made
 * from what was agreed.
 *
 * Input: one control byte (bits 0-1: the offerer's zone policy, 2-3: the
 * answerer's; conf_srtp values, 3 read as optional), then the offer SDP,
 * a NUL byte, the answer SDP.  Each SDP that parses is negotiated stream
 * by stream (no sockets: a bare call and streams), rewritten (the output
 * must parse again and must not contain a key the other leg sent), and
 * the contexts made, handed over and freed; all state is wiped at the end.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media_fuzz.h"

#include "core/buf.h"
#include "core/conf.h"
#include "media/media_int.h"
#include "sip/sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sdp_sess sess, again;
static struct media_stream streams[SDP_MAX_MEDIA];
static struct media_srtp_text text[SDP_MAX_MEDIA];

/* No a=crypto line of the input is in the output (ours are new). */
static void no_key_crosses(struct str o)
{
	struct str rest = o, line;
	unsigned a;

	while (str_split(&rest, '\n', &line)) {
		line = str_rtrim(line);
		if (!str_casestarts(line, STR("a=crypto:")))
			continue;
		for (a = 0; a < sess.nattr; a++)
			MF_CHECK(!str_eq(sess.attr[a].line, line) ||
				 !str_eq(sess.attr[a].name, STR("crypto")));
	}
}

/* Negotiate and rewrite one SDP from leg `from`. */
static void one(struct media_call *c, unsigned from, enum media_srtp_role r,
		struct str body, struct buf *out)
{
	struct sip_perr pe;
	struct sdp_bld b;
	unsigned i;

	if (sdp_parse(&sess, body, &pe) != 0)
		return;
	sdp_bld_init(&b, &sess);
	media__srtp_rewrite_session(&b, &sess);
	for (i = 0; i < sess.nmedia; i++) {
		struct media_stream *st = &streams[i];
		int err = media__srtp_sdp(c, st, from, r, &sess, i);

		media__srtp_rewrite(&b, &sess, i, err ? NULL : st, 1 - from,
				    &text[i]);
	}
	mf_write_check(&b, out, &again);
	if (out->len)
		no_key_crosses(buf_str(out));
	explicit_bzero(text, sizeof(text));
	for (i = 0; i < sess.nmedia; i++) {
		struct media_params prm;

		memset(&prm, 0, sizeof(prm));
		if (media__srtp_commit(&streams[i], &prm) == 0) {
			media__srtp_committed(&streams[i]);
			media__srtp_install(&streams[i].rt[0], &prm.srtp[0]);
			media__srtp_install(&streams[i].rt[1], &prm.srtp[1]);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct media m;
	struct media_call c;
	unsigned i;

	if (size < 1)
		return 0;
	memset(&c, 0, sizeof(c));
	c.m = &m;
	c.leg[0].srtp = mf_policy(data[0] & 3);
	c.leg[1].srtp = mf_policy(data[0] >> 2 & 3);
	data++;
	size--;
	mf_offer_answer(&c, data, size, one);
	for (i = 0; i < SDP_MAX_MEDIA; i++) {
		media__srtp_wipe(&streams[i]);
		media__sec_free(&streams[i]);
		memset(&streams[i], 0, sizeof(streams[i]));
	}
	return 0;
}
