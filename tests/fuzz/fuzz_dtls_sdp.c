/*
 * fuzz_dtls_sdp.c - libFuzzer target for DTLS-SRTP negotiation (media/
 * dtls_sdp.c, around srtp_sdp.c): hostile offers and answers through
 * media__crypto_sdp(), the rewrite of each stream for the other leg, and
 * the conns made from what was agreed (handed to a relay-side install
 * without a thread, then freed).
 *
 * Input: two control bytes (first: bits 0-1 the offerer's srtp policy,
 * 2-3 the answerer's, 3 read as optional; second: bits 0-1 the
 * offerer's key exchange, 2-3 the answerer's, 3 read as any), then the
 * offer SDP, a NUL byte, the answer SDP.  The output must parse again,
 * must not carry an a=fingerprint, a=setup or a=tls-id line of the input
 * (the other leg's never cross), and every fingerprint in it is ours.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media_fuzz.h"

#include "core/buf.h"
#include "core/conf.h"
#include "media/dtls.h"
#include "media/media_int.h"
#include "sip/sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sdp_sess sess, again;
static struct media_stream streams[SDP_MAX_MEDIA];
static struct media_srtp_text text[SDP_MAX_MEDIA];
static struct media m;
static struct sg_conf_media conf;

static int kx(unsigned v)
{
	return v == 3 ? CONF_SRTP_KX_ANY : (int)v;
}

/* Every DTLS attribute line of the output is one we wrote. */
static void nothing_crosses(struct str o)
{
	struct str rest = o, line;

	while (str_split(&rest, '\n', &line)) {
		line = str_rtrim(line);
		if (str_casestarts(line, STR("a=fingerprint:"))) {
			line.p += 2;
			line.len -= 2;
			MF_CHECK(str_eq(line, str_cstr(m.dtls_fp)));
		} else if (str_casestarts(line, STR("a=tls-id:"))) {
			MF_CHECK(0);
		}
	}
}

static void commit(struct media_stream *st)
{
	struct media_params prm;

	memset(&prm, 0, sizeof(prm));
	if (media__srtp_commit(st, &prm) != 0)
		return;
	if (media__dtls_commit(&m, st, &prm) != 0) {
		media_srtp_free(&prm.srtp[0]);
		media_srtp_free(&prm.srtp[1]);
		return;
	}
	media__srtp_committed(st);
	media__dtls_committed(st);
	media__dtls_install(st, 0, &prm);
	media__dtls_install(st, 1, &prm);
	media__srtp_install(&st->rt[0], &prm.srtp[0]);
	media__srtp_install(&st->rt[1], &prm.srtp[1]);
}

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
	media__dtls_rewrite_session(&b, &sess);
	for (i = 0; i < sess.nmedia; i++) {
		struct media_stream *st = &streams[i];
		int err = media__crypto_sdp(c, st, from, r, &sess, i);

		media__srtp_rewrite(&b, &sess, i, err ? NULL : st, 1 - from,
				    &text[i]);
		media__dtls_rewrite(&b, &sess, i, err ? NULL : st, 1 - from);
	}
	mf_write_check(&b, out, &again);
	if (out->len)
		nothing_crosses(buf_str(out));
	explicit_bzero(text, sizeof(text));
	for (i = 0; i < sess.nmedia; i++)
		commit(&streams[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct media_call c;
	unsigned i, l, k;

	if (!m.dtls) {
		conf.dtls_handshake_timeout = 20000;
		m.c = &conf;
		MF_CHECK(media__dtls_init(&m) == 0);
	}
	if (size < 2)
		return 0;
	memset(&c, 0, sizeof(c));
	c.m = &m;
	c.leg[0].srtp = mf_policy(data[0] & 3);
	c.leg[1].srtp = mf_policy(data[0] >> 2 & 3);
	c.leg[0].srtp_kx = kx(data[1] & 3);
	c.leg[1].srtp_kx = kx(data[1] >> 2 & 3);
	data += 2;
	size -= 2;
	for (i = 0; i < SDP_MAX_MEDIA; i++) {
		streams[i].call = &c;
		for (l = 0; l < 2; l++)
			for (k = 0; k < 2; k++)
				streams[i].fd[l][k] = -1;
	}
	mf_offer_answer(&c, data, size, one);
	for (i = 0; i < SDP_MAX_MEDIA; i++) {
		media__srtp_wipe(&streams[i]);
		media__dtls_wipe(&streams[i]);
		media__sec_free(&streams[i]);
		memset(&streams[i], 0, sizeof(streams[i]));
	}
	return 0;
}
