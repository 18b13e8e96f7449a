/*
 * media_fuzz.c - helpers of the SRTP/DTLS-SRTP negotiation fuzz targets
 * (see media_fuzz.h).
 */
#include "media_fuzz.h"

#include <string.h>

#include "core/conf.h"

int mf_policy(unsigned v)
{
	return v == 3 ? CONF_SRTP_OPTIONAL : (int)v;
}

void mf_offer_answer(struct media_call *c, const uint8_t *data, size_t size,
		     mf_one_fn *one)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t alen = nul ? (size_t)(nul - data) : size;
	struct buf out;

	buf_init(&out, 2 * SDP_MAX_SIZE);
	one(c, 0, MEDIA_SR_OFFER, str_make((const char *)data, alen), &out);
	if (nul)
		one(c, 1, MEDIA_SR_ANSWER,
		    str_make((const char *)nul + 1, size - alen - 1), &out);
	buf_free(&out);
}

void mf_write_check(struct sdp_bld *b, struct buf *out, struct sdp_sess *again)
{
	struct sip_perr pe;

	buf_reset(out);
	if (sdp_bld_write(b, out) == 0)
		MF_CHECK(sdp_parse(again, buf_str(out), &pe) == 0 ||
			 pe.code == SIP_PE_LIMIT);
}
