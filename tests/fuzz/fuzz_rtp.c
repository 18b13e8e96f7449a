/*
 * fuzz_rtp.c - the media relay's packet parsers on hostile bytes:
 * media_rtp_parse, media_rtcp_parse, media_rtcp_scrub_cname, and the
 * whole per-packet relay decision (media__relay_packet) on a fake
 * stream.  The first input byte picks leg, socket, rtcp-mux and NAT.
 * Invariants: an accepted RTP packet's header and payload fit in it; an
 * RTCP packet that parsed still parses after scrubbing and has the same
 * length; a forwarded packet went out of the other leg's socket.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "media/media_int.h"
#include "media/rtp.h"

#include "fuzz_check.h"

static uint8_t pkt[MEDIA_PKT_MAX];

static void relay_once(uint8_t ctl, const uint8_t *p, size_t n)
{
	static struct media_relay r;
	static struct media_stream s;
	static bool init;
	struct media_ep src = {.af = AF_INET, .port = 4000};
	struct media_ep dst;
	unsigned l, k, leg = ctl & 1, comp = (ctl >> 1) & 1;
	int fd = -1;
	size_t len;
	bool fwd;

	if (!init) {
		if (media__ring_init(&r.out, 16, sizeof(struct media_note)))
			abort();
		init = true;
	}
	memset(&s, 0, sizeof(s));
	for (l = 0; l < 2; l++)
		for (k = 0; k < 2; k++) {
			s.fd[l][k] = (int)(l * 2 + k);
			s.sock[l][k].s = &s;
			s.sock[l][k].leg = (uint8_t)l;
			s.sock[l][k].comp = (uint8_t)k;
			s.prm.leg[l].sdp[k] = src;
			s.prm.leg[l].sdp[k].port = (uint16_t)(4000 + k);
			s.rt[l].dst[k] = s.prm.leg[l].sdp[k];
			s.prm.leg[l].mux = (ctl >> 2) & 1;
			s.prm.leg[l].untrusted = true;
			s.prm.leg[l].bw = (ctl & 0x40) ? 1000 : 0;
		}
	s.prm.pt[0] = ~0ULL;
	s.prm.pt[1] = (ctl & 0x10) ? 0 : ~0ULL;
	s.prm.scrub_cname = true;
	s.prm.anomaly_drop = (ctl >> 5) & 1;
	s.prm.max_seq_jump = 100;
	s.prm.max_ts_jump = 8000;
	s.prm.raw = (ctl >> 7) & 1;
	if (ctl & 8) {
		s.prm.leg[leg].is_nat = true;
		s.prm.leg[leg].nat = src;
		src.port = 5555;
	}
	if (comp && !(ctl & 8))
		src.port = 4001;
	memcpy(pkt, p, n);
	r.now = 1000;
	len = n;
	media__relay_packet(&r, &s.sock[leg][comp], &src, pkt, &len, &fd, &dst,
			    &fwd);
	/* Twice: the second packet sees the state the first left. */
	len = n;
	media__relay_packet(&r, &s.sock[leg][comp], &src, pkt, &len, &fd, &dst,
			    &fwd);
	if (fwd)
		CHECK(fd == s.fd[1 - leg][0] || fd == s.fd[1 - leg][1]);
	{
		struct media_note note;

		while (media__ring_pop(&r.out, &note))
			CHECK(note.s == &s);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct media_rtp_hdr h;
	struct media_rtcp_rr rr;

	if (size < 1 || size > MEDIA_PKT_MAX)
		return 0;
	if (media_rtp_parse(&h, data + 1, size - 1) == 0)
		CHECK(h.hdr_len + h.payload_len <= size - 1 &&
		      h.hdr_len >= MEDIA_RTP_MIN && h.pt < 128);
	memcpy(pkt, data + 1, size - 1);
	if (media_rtcp_parse(pkt, size - 1, &rr) == 0) {
		(void)media_rtcp_scrub_cname(pkt, size - 1);
		CHECK(media_rtcp_parse(pkt, size - 1, NULL) == 0);
	} else {
		(void)media_rtcp_scrub_cname(pkt, size - 1);
	}
	relay_once(data[0], data + 1, size - 1);
	return 0;
}
