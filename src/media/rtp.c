/*
 * rtp.c - RTP/RTCP packet checks (RFC 3550 5.1, 5.3.1, 6.1, 6.4, 6.5;
 * RFC 5761 4).  Every length the packet states is checked against the
 * datagram before it is used; a packet that lies is refused whole.
 */
#include "media/rtp.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

int media_rtp_parse(struct media_rtp_hdr *hp, const uint8_t *p, size_t n)
{
	size_t hl, pad = 0;
	unsigned cc;

	if (n < MEDIA_RTP_MIN)
		return MEDIA_RTP_E_SHORT;
	if (n > MEDIA_RTP_MAX)
		return MEDIA_RTP_E_LONG;
	if ((p[0] >> 6) != 2)
		return MEDIA_RTP_E_VERSION;
	cc = p[0] & 0x0f;
	hl = MEDIA_RTP_MIN + 4u * cc;
	if (hl > n)
		return MEDIA_RTP_E_CSRC;
	if (p[0] & 0x10) {
		/* 5.3.1: profile word, length in 32-bit words. */
		if (hl + 4 > n)
			return MEDIA_RTP_E_EXT;
		hl += 4 + 4u * rd16(p + hl + 2);
		if (hl > n)
			return MEDIA_RTP_E_EXT;
	}
	if (p[0] & 0x20) {
		pad = p[n - 1];
		if (pad == 0 || pad > n - hl)
			return MEDIA_RTP_E_PAD;
	}
	hp->marker = (p[1] & 0x80) != 0;
	hp->pt = p[1] & 0x7f;
	hp->seq = rd16(p + 2);
	hp->ts = rd32(p + 4);
	hp->ssrc = rd32(p + 8);
	hp->hdr_len = hl;
	hp->payload_len = n - hl - pad;
	return 0;
}

bool media_is_rtcp(const uint8_t *p, size_t n)
{
	return n >= 2 && p[1] >= 192 && p[1] <= 223;
}

int media_rtcp_parse(const uint8_t *p, size_t n, struct media_rtcp_rr *rrp)
{
	size_t off = 0;

	if (rrp)
		rrp->present = false;
	if (n < MEDIA_RTCP_MIN)
		return MEDIA_RTP_E_SHORT;
	if (n > MEDIA_RTP_MAX)
		return MEDIA_RTP_E_LONG;
	while (off < n) {
		size_t len, rb;
		unsigned pt, rc;

		if (n - off < 4)
			return MEDIA_RTP_E_RTCP_LEN;
		if ((p[off] >> 6) != 2)
			return MEDIA_RTP_E_VERSION;
		pt = p[off + 1];
		rc = p[off] & 0x1f;
		len = 4u * ((size_t)rd16(p + off + 2) + 1);
		if (len > n - off)
			return MEDIA_RTP_E_RTCP_LEN;
		/* Padding only in the last packet of a compound (6.4.1). */
		if ((p[off] & 0x20) && off + len != n)
			return MEDIA_RTP_E_PAD;
		/* Any RTCP type may come first: RFC 5506 reduced-size RTCP,
		 * and stacks that send a lone APP or BYE (baresip does). */
		if (pt < 192 || pt > 223)
			return MEDIA_RTP_E_RTCP_TYPE;
		/* SR: 8 header + 20 sender info; RR: 8; then 24 per block. */
		rb = pt == 200 ? 28 : pt == 201 ? 8 : 0;
		if (rb && rb + 24u * rc > len)
			return MEDIA_RTP_E_RTCP_LEN;
		if (rb && rc && rrp && !rrp->present) {
			const uint8_t *b = p + off + rb;

			rrp->present = true;
			rrp->fraction_lost = b[4];
			rrp->cum_lost = rd32(b + 4) & 0xffffff;
			rrp->jitter = rd32(b + 12);
		}
		off += len;
	}
	return 0;
}

/* Scrub CNAME items of one SDES packet (6.5): chunks of SSRC + items,
 * each chunk ending in a null item and padded to 32 bits. */
static unsigned scrub_sdes(uint8_t *p, size_t len, unsigned sc)
{
	size_t off = 4;
	unsigned k = 0;

	while (sc-- && off + 4 <= len) {
		off += 4;
		while (off < len && p[off] != 0) {
			size_t il;

			if (off + 2 > len)
				return k;
			il = p[off + 1];
			if (off + 2 + il > len)
				return k;
			if (p[off] == 1) { /* CNAME */
				size_t i;

				for (i = 0; i < il; i++)
					p[off + 2 + i] = 'x';
				k++;
			}
			off += 2 + il;
		}
		off = (off + 4) & ~(size_t)3;
	}
	return k;
}

unsigned media_rtcp_scrub_cname(uint8_t *p, size_t n)
{
	size_t off = 0;
	unsigned k = 0;

	while (off + 4 <= n) {
		size_t len = 4u * ((size_t)rd16(p + off + 2) + 1);

		if (len > n - off)
			break;
		if (p[off + 1] == 202)
			k += scrub_sdes(p + off, len, p[off] & 0x1f);
		off += len;
	}
	return k;
}
