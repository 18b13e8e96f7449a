/*
 * offer.c - SDP anchoring (RFC 3264 offer/answer, RFC 8866 syntax):
 * every SDP body a leg sends is rewritten for the other leg so that its
 * media goes to our relay ports, and the offer/answer exchange decides
 * when a stream's pinhole opens (answer), changes (new answer) or closes
 * (port 0 in offer or answer).
 *
 * What the rewrite does, per leg that receives it:
 * - o= address and every c= (session and media level) become the relay
 *   address of the zone that leg faces;
 * - each m= port becomes the relay port facing that leg, a=rtcp its RTCP
 *   port (rtcp-mux attributes pass through: each leg muxes only when
 *   both sides offered it);
 * - ICE attributes (candidates, ufrag/pwd, options, lite...) are
 *   removed.  Choice: we anchor all media, so candidates would only
 *   disclose internal addresses and invite checks that bypass the relay;
 *   without them an ICE agent falls back to c=/m= (RFC 8445 section 5.1.1.4).
 *   ICE-only endpoints (WebRTC) are not supported through the relay.
 * - m-lines with a stream-oriented transport (TCP/...) are refused
 *   (port 0): the relay is UDP only.
 * Which message is an offer: an SDP with the same o= line as that leg's
 * previous one is a repeat (retransmission, 2xx after a reliable 18x
 * with the same answer): rewritten, nothing else.  Otherwise it answers
 * the other leg's pending offer (or revises an answer given in a 1xx of
 * the same exchange), else it is an offer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/conf.h"
#include "core/siphash.h"
#include "media/media_int.h"
#include "sip/sip.h"

enum {
	MEDIA_BW_AUDIO = 256000 / 8, /* bytes/s when no b=AS */
	MEDIA_BW_VIDEO = 4000000 / 8,
	MEDIA_BW_OTHER = 1000000 / 8,
};

static int ep_parse(struct media_ep *e, struct str addr, int af, uint16_t port)
{
	char tmp[INET6_ADDRSTRLEN + 1];

	memset(e, 0, sizeof(*e));
	if (!af || addr.len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, addr.p, addr.len);
	tmp[addr.len] = '\0';
	if (inet_pton(af, tmp, e->ip) != 1)
		return -EINVAL;
	e->af = (uint8_t)af;
	e->port = port;
	return 0;
}

/* b=AS:<kbit/s> inside media section i (RFC 8866 5.8), 0 if none. */
static uint32_t bw_as(const struct sdp_media *md)
{
	const char *p = md->line.p, *end = md->end.p;
	uint64_t v = 0;

	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			break;
		p = nl + 1;
		if (end - p > 5 && !memcmp(p, "b=AS:", 5)) {
			for (p += 5;
			     p < end && *p >= '0' && *p <= '9' && v < 100000000;
			     p++)
				v = v * 10 + (uint64_t)(*p - '0');
			return (uint32_t)v;
		}
	}
	return 0;
}

int media__sdp_info(struct media_sdp_info *ip, const struct sdp_sess *s,
		    unsigned i, const struct sg_conf_media *conf)
{
	const struct sdp_media *md = &s->media[i];
	const struct sdp_conn *cn = sdp_media_conn(s, i);
	enum sdp_dir dir = md->dir != SDP_DIR_NONE ? md->dir : s->dir;
	uint64_t bw;
	unsigned f;

	memset(ip, 0, sizeof(*ip));
	if (!cn || ep_parse(&ip->rtp, cn->addr, cn->af, md->port) != 0)
		return -EINVAL;
	if (md->rtcp_port && md->rtcp_af) {
		if (ep_parse(&ip->rtcp, md->rtcp_addr, md->rtcp_af,
			     md->rtcp_port) != 0)
			return -EINVAL;
	} else {
		ip->rtcp = ip->rtp;
		ip->rtcp.port = md->rtcp_port ? md->rtcp_port
					      : (uint16_t)(md->port + 1);
	}
	ip->present = true;
	ip->mux = md->rtcp_mux;
	ip->sends = dir != SDP_DIR_RECVONLY && dir != SDP_DIR_INACTIVE;
	ip->raw = md->proto_id == SDP_PROTO_UDP ||
		  md->proto_id == SDP_PROTO_OTHER;
	for (f = 0; f < md->nfmt; f++) {
		unsigned v = 0;
		size_t k;

		for (k = 0; k < md->fmt[f].len && k < 4; k++) {
			char ch = md->fmt[f].p[k];

			if (ch < '0' || ch > '9')
				break;
			v = v * 10 + (unsigned)(ch - '0');
		}
		if (k && k == md->fmt[f].len && v < 128)
			ip->pt[v >> 6] |= 1ULL << (v & 63);
	}
	bw = (uint64_t)bw_as(md) * 1000 / 8;
	if (!bw)
		bw = str_eq(md->media, STR("audio"))   ? MEDIA_BW_AUDIO
		     : str_eq(md->media, STR("video")) ? MEDIA_BW_VIDEO
						       : MEDIA_BW_OTHER;
	bw = bw * (100 + (uint64_t)conf->policing_margin) / 100;
	ip->bw = bw > UINT32_MAX ? UINT32_MAX : (uint32_t)bw;
	return 0;
}

/* Attribute names compare without case here: what we strip or rewrite
 * carries addresses, and a peer may read a name in any case. */
static bool is_ice_attr(struct str name)
{
	static const char *const ice[] = {
		"candidate",         "ice-ufrag",
		"ice-pwd",           "ice-options",
		"ice-lite",          "ice-mismatch",
		"remote-candidates", "end-of-candidates",
		"ice-pacing",        NULL,
	};
	unsigned i;

	for (i = 0; ice[i]; i++)
		if (str_caseeq(name, str_cstr(ice[i])))
			return true;
	return false;
}

static bool stream_transport(const struct sdp_media *md)
{
	/* TCP/..., TCP/TLS/..., TCP/MSRP: nothing a UDP relay can carry. */
	return md->proto.len >= 3 && !strncasecmp(md->proto.p, "TCP", 3);
}

/* Text of the relay address facing leg `to`. */
struct relay_text {
	char ip[INET6_ADDRSTRLEN];
	struct str addrtype;
	char port[MEDIA_MAX_STREAMS][8];
	char rtcp[MEDIA_MAX_STREAMS][16];
	struct media_srtp_text srtp[MEDIA_MAX_STREAMS]; /* secret */
};

static void relay_text(struct relay_text *t, const struct media_ep *e)
{
	inet_ntop(e->af, e->ip, t->ip, sizeof(t->ip));
	t->addrtype = e->af == AF_INET6 ? STR("IP6") : STR("IP4");
}

enum role { ROLE_REPEAT, ROLE_OFFER, ROLE_ANSWER };

static enum role decide(struct media_call *c, unsigned from,
			enum media_sdp_kind kind, const struct sdp_sess *s)
{
	uint8_t key[SIPHASH_KEY_LEN] = {0};
	uint64_t h = siphash24(s->origin.p, s->origin.len, key);
	struct media_leg *lg = &c->leg[from];
	bool repeat = lg->has_o && lg->o_hash == h;
	unsigned i;

	/* A repeat is only that when every stream it names exists. */
	for (i = 0; repeat && i < s->nmedia && i < MEDIA_MAX_STREAMS; i++)
		if (s->media[i].port && !c->st[i] &&
		    !stream_transport(&s->media[i]))
			repeat = false;
	lg->has_o = true;
	lg->o_hash = h;
	if (repeat)
		return ROLE_REPEAT;
	if (c->offer_from == (int)(1 - from))
		return ROLE_ANSWER;
	if (kind != MEDIA_SDP_REQUEST && c->prov_answer == (int)from)
		return ROLE_ANSWER;
	return ROLE_OFFER;
}

/* Streams and their state for media line i of s (sent by `from`). */
static int update_stream(struct media_call *c, unsigned from, enum role role,
			 const struct sdp_sess *s, unsigned i)
{
	const struct sdp_media *md = &s->media[i];
	struct media_sdp_info info;
	struct media_stream *st = c->st[i];
	int err;

	if (md->port == 0 || stream_transport(md)) {
		/* Removed or refused: its pinhole closes now. */
		if (role != ROLE_REPEAT)
			media__stream_close(c, i);
		return 0;
	}
	err = media__sdp_info(&info, s, i, c->m->c);
	if (err)
		return err;
	if (!st) {
		err = media__stream_open(c, i, &st);
		if (err)
			return err;
	}
	st->sdp[from] = info;
	if (role != ROLE_REPEAT) {
		err = media__crypto_sdp(c, st, from,
					role == ROLE_OFFER ? MEDIA_SR_OFFER
							   : MEDIA_SR_ANSWER,
					s, i);
		/* An answer we cannot key: that stream is refused. */
		if (err == -EPROTO && role == ROLE_ANSWER) {
			media__stream_close(c, i);
			return 0;
		}
		if (err)
			return err;
	}
	if (role == ROLE_ANSWER && st->sdp[1 - from].present)
		return media__stream_commit(c, st);
	return 0;
}

static void rewrite_media(struct sdp_bld *b, const struct sdp_sess *s,
			  unsigned i, const struct media_stream *st,
			  unsigned to, struct relay_text *t)
{
	const struct sdp_media *md = &s->media[i];
	unsigned a;

	media__srtp_rewrite(b, s, i, st, to, &t->srtp[i]);
	media__dtls_rewrite(b, s, i, st, to);
	for (a = md->attr_first; a < md->attr_first + md->nattr; a++) {
		const struct sdp_attr *at = &s->attr[a];

		if (is_ice_attr(at->name))
			sdp_bld_attr_remove(b, at);
		else if (st && str_caseeq(at->name, STR("rtcp"))) {
			snprintf(t->rtcp[i], sizeof(t->rtcp[i]), "rtcp:%u",
				 st->port[to] + 1u);
			sdp_bld_attr_replace(b, at, str_cstr(t->rtcp[i]));
		}
	}
	if (!st) {
		if (md->port)
			sdp_bld_media_port(b, i, STR("0"));
		return;
	}
	snprintf(t->port[i], sizeof(t->port[i]), "%u", st->port[to]);
	sdp_bld_media_port(b, i, str_cstr(t->port[i]));
	if (md->conn.present || !s->conn.present)
		sdp_bld_conn(b, (int)i, t->addrtype, str_cstr(t->ip));
}

static int rewrite(struct media_call *c, const struct sdp_sess *s, unsigned to,
		   struct buf *out)
{
	struct relay_text t;
	struct sdp_bld b;
	unsigned i;
	int err;

	relay_text(&t, &c->leg[to].relay);
	sdp_bld_init(&b, s);
	sdp_bld_origin_addr(&b, t.addrtype, str_cstr(t.ip));
	if (s->conn.present)
		sdp_bld_conn(&b, -1, t.addrtype, str_cstr(t.ip));
	for (i = 0; i < s->nsess_attr; i++)
		if (is_ice_attr(s->attr[i].name))
			sdp_bld_attr_remove(&b, &s->attr[i]);
	media__srtp_rewrite_session(&b, s);
	media__dtls_rewrite_session(&b, s);
	for (i = 0; i < s->nmedia; i++)
		rewrite_media(&b, s, i, i < MEDIA_MAX_STREAMS ? c->st[i] : NULL,
			      to, &t);
	err = sdp_bld_write(&b, out);
	explicit_bzero(t.srtp, sizeof(t.srtp));
	return err;
}

int media_call_sdp(struct media_call *c, unsigned from,
		   enum media_sdp_kind kind, struct str body, struct buf *out)
{
	struct sdp_sess *s;
	struct sip_perr pe;
	enum role role;
	unsigned i, to = 1u - (from & 1u);
	int err;

	if (!c || from > 1 || !c->leg[to].known)
		return -EINVAL;
	s = c->m->sdp;
	if (sdp_parse(s, body, &pe) != 0)
		return -EINVAL;
	role = decide(c, from, kind, s);
	for (i = 0; i < s->nmedia && i < MEDIA_MAX_STREAMS; i++) {
		err = update_stream(c, from, role, s, i);
		if (err)
			return err;
	}
	if (role == ROLE_OFFER) {
		c->offer_from = (int)from;
		c->prov_answer = -1;
	} else if (role == ROLE_ANSWER) {
		c->offer_from = -1;
		c->prov_answer = kind == MEDIA_SDP_PROVISIONAL ? (int)from : -1;
	}
	return rewrite(c, s, to, out);
}
