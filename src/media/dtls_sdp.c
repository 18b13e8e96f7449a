/*
 * dtls_sdp.c - DTLS-SRTP offer/answer per leg (RFC 5763 5, RFC 5764 4,
 * RFC 8122 5), on the signalling thread, around the SDES negotiation of
 * srtp_sdp.c: sipguard terminates DTLS-SRTP on a leg as it terminates
 * SDES, with its own certificate, so the other leg never sees the
 * leg's fingerprint, setup role or keys (a=fingerprint, a=setup and
 * a=tls-id are removed from every SDP we forward, ours added where the
 * leg speaks DTLS).
 *
 * Offer from leg F, toward leg T (zones' `srtp` and `srtp_key_exchange`):
 *   UDP/TLS/RTP/SAVP(F): F srtp `off` or key exchange `sdes` -> 488; its
 *     a=fingerprint lines (at least one we verify with) and a=setup are
 *     read; we will answer F active to actpass (RFC 5763 5), passive to
 *     active.  Toward T, SRTP wanted (T `required`, or `optional`: the
 *     offerer's media was encrypted): DTLS-SRTP (a=setup:actpass, our
 *     fingerprint) unless T's key exchange is `sdes` (then SDES keys);
 *     T `off`: RTP/AVP(F) without DTLS attributes.
 *   RTP/AVP(F) or RTP/SAVP(F): srtp_sdp.c decides; where it would offer
 *     T SDES and T's key exchange is `dtls`, T gets DTLS-SRTP instead
 *     (`any` keeps SDES: the offerer's kind).  An SDES offer from a
 *     `dtls` zone gets 488.
 *   The feedback profile follows each leg's own offer (dtls_sig[].fb):
 *     UDP/TLS/RTP/SAVPF reaches a plain PBX as RTP/AVP, and the answer
 *     returns as UDP/TLS/RTP/SAVPF.
 * Answer from leg A to our offer:
 *   we offered DTLS: a DTLS answer gives A's fingerprints and role
 *   (active/passive against our actpass); a plain answer is taken unless
 *   A is `required`; an SDES answer is refused (srtp_sdp.c).
 *   we did not: a DTLS answer is refused.
 *   The offerer F, if it offered DTLS, gets UDP/TLS/RTP/SAVP(F) with our
 *   fingerprint and the a=setup chosen at its offer.
 * A conn is (re)made at the next commit when a leg's fingerprints, role
 * or a=tls-id changed (RFC 8842 3); otherwise a re-offer keeps it and
 * the keys.  Failures emit "srtp-negotiation" like SDES ones.
 * ICE: offer.c strips ICE; the DTLS peer must send to c=/m= (baresip's
 * dtls_srtp does; browsers need ICE-lite, not provided).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "core/mem.h"
#include "core/siphash.h"
#include "events/events.h"
#include "media/dtls.h"
#include "media/media_int.h"

static bool is_dtls(const struct sdp_media *md)
{
	return md->proto_id == SDP_PROTO_UDP_TLS_RTP_SAVP ||
	       md->proto_id == SDP_PROTO_UDP_TLS_RTP_SAVPF;
}

static bool is_rtp(const struct sdp_media *md)
{
	return md->proto_id >= SDP_PROTO_RTP_AVP &&
	       md->proto_id <= SDP_PROTO_RTP_SAVPF;
}

static bool is_savp(const struct sdp_media *md)
{
	return md->proto_id == SDP_PROTO_RTP_SAVP ||
	       md->proto_id == SDP_PROTO_RTP_SAVPF;
}

static void fail(struct media_call *c, unsigned leg, const char *why,
		 const char *detail, unsigned i)
{
	char r[192];

	snprintf(r, sizeof(r), "%s%s%s (m-line %u, %s)", why,
		 detail ? ": " : "", detail ? detail : "", i,
		 leg ? "callee" : "caller");
	media__emit(c->m, EV_DROP, "srtp-negotiation", "srtp", EV_ACT_REPLY,
		    c->leg[leg].zone, NULL, r);
}

static void leg_off(struct media_dtls_sig *g)
{
	if (g->on)
		g->conn_new = true; /* the relay drops its conn */
	g->on = false;
	g->client = false;
	g->tls_id = 0;
	memset(&g->peer, 0, sizeof(g->peer));
}

/* Take the peer's parameters; a changed association needs a new conn. */
static void leg_on(struct media_dtls_sig *g, const struct sdp_dtls *d,
		   bool client, enum sdp_setup ours)
{
	uint8_t key[SIPHASH_KEY_LEN] = {0};
	uint64_t id = d->tls_id.len
			      ? siphash24(d->tls_id.p, d->tls_id.len, key) | 1
			      : 0;
	bool same = g->on && g->client == client && g->tls_id == id &&
		    g->peer.nfp == d->nfp;
	unsigned k;

	for (k = 0; same && k < d->nfp; k++)
		same = sdp_dtls_fp_eq(&g->peer.fp[k], &d->fp[k]);
	g->conn_new = g->conn_new || !same;
	g->on = true;
	g->client = client;
	g->setup = (uint8_t)ours;
	g->tls_id = id;
	g->peer = *d;
	g->peer.tls_id = STR_NULL; /* a slice of a message we do not keep */
}

/* Our offer to leg t: actpass, or the role it already has with us (a
 * re-offer keeps the association, RFC 5763 5). */
static void offer_dtls(struct media_stream *st, unsigned t)
{
	struct media_dtls_sig *g = &st->sec->dtls_sig[t];
	struct media_srtp_leg *sg = &st->sec->srtp_sig[t];

	g->send = MEDIA_DS_OFFER;
	g->setup = (uint8_t)(g->on ? (g->client ? SDP_SETUP_ACTIVE
						: SDP_SETUP_PASSIVE)
				   : SDP_SETUP_ACTPASS);
	/* No SDES toward it: the proto is ours to set. */
	explicit_bzero(sg->offer, sizeof(sg->offer));
	sg->noffer = 0;
	sg->send = MEDIA_SS_KEEP;
}

static int dtls_offer(struct media_call *c, struct media_stream *st,
		      unsigned from, const struct sdp_sess *s, unsigned i)
{
	unsigned to = 1 - from;
	struct media_dtls_sig *f = &st->sec->dtls_sig[from];
	int pf = c->leg[from].srtp, pt = c->leg[to].srtp, err;
	enum sdp_setup ans;
	struct sdp_dtls d;
	bool client;

	if (pf == CONF_SRTP_OFF) {
		fail(c, from, "DTLS-SRTP offered in a zone with srtp off", NULL,
		     i);
		return -EPROTO;
	}
	if (c->leg[from].srtp_kx == CONF_SRTP_KX_SDES) {
		fail(c, from, "DTLS-SRTP offered in a zone with SDES keys only",
		     NULL, i);
		return -EPROTO;
	}
	err = sdp_dtls_get(&d, s, i);
	if (!err)
		err = sdp_dtls_setup_answer(&ans, d.setup);
	if (!err && ans == SDP_SETUP_HOLDCONN)
		err = -SDP_DTLS_E_ROLE;
	if (!err)
		err = sdp_dtls_role(&client, ans, d.setup, true);
	if (err) {
		fail(c, from, "DTLS-SRTP offer refused", sdp_dtls_strerror(err),
		     i);
		return -EPROTO;
	}
	/* RFC 5764 4.1: without rtcp-mux RTCP needs its own DTLS
	 * association; we run one per leg, so a DTLS leg must mux. */
	if (!s->media[i].rtcp_mux) {
		fail(c, from, "DTLS-SRTP offer refused",
		     "no a=rtcp-mux (RTCP on its own port needs a second DTLS "
		     "association, not supported)",
		     i);
		return -EPROTO;
	}
	media__srtp_leg_plain(&st->sec->srtp_sig[from]);
	st->sec->srtp_sig[from].send = MEDIA_SS_KEEP;
	leg_on(f, &d, client, ans);
	f->send = MEDIA_DS_NONE; /* until the answer */
	/* Toward the other leg: SRTP if its zone wants it. */
	if (pt == CONF_SRTP_OFF) {
		media__srtp_leg_plain(&st->sec->srtp_sig[to]);
		st->sec->srtp_sig[to].send = MEDIA_SS_PLAIN;
		st->sec->dtls_sig[to].send = MEDIA_DS_NONE;
		return 0;
	}
	if (c->leg[to].srtp_kx == CONF_SRTP_KX_SDES) {
		st->sec->dtls_sig[to].send = MEDIA_DS_NONE;
		return media__srtp_offer(st, to);
	}
	offer_dtls(st, to);
	return 0;
}

static int on_offer(struct media_call *c, struct media_stream *st,
		    unsigned from, const struct sdp_sess *s, unsigned i)
{
	unsigned to = 1 - from;
	int err;

	if (is_dtls(&s->media[i]))
		return dtls_offer(c, st, from, s, i);
	if (is_savp(&s->media[i]) &&
	    c->leg[from].srtp_kx == CONF_SRTP_KX_DTLS) {
		fail(c, from, "SDES offered in a zone with DTLS-SRTP keys only",
		     NULL, i);
		return -EPROTO;
	}
	err = media__srtp_sdp(c, st, from, MEDIA_SR_OFFER, s, i);
	if (err)
		return err;
	leg_off(&st->sec->dtls_sig[from]);
	st->sec->dtls_sig[from].send = MEDIA_DS_NONE;
	st->sec->dtls_sig[to].send = MEDIA_DS_NONE;
	/* srtp_sdp.c chose SDES toward a zone that keys with DTLS. */
	if (is_rtp(&s->media[i]) &&
	    st->sec->srtp_sig[to].send == MEDIA_SS_OFFER &&
	    c->leg[to].srtp_kx == CONF_SRTP_KX_DTLS)
		offer_dtls(st, to);
	return 0;
}

static int on_answer(struct media_call *c, struct media_stream *st,
		     unsigned from, const struct sdp_sess *s, unsigned i)
{
	unsigned to = 1 - from;
	struct media_dtls_sig *a = &st->sec->dtls_sig[from],
			      *f = &st->sec->dtls_sig[to];
	bool offered = a->send == MEDIA_DS_OFFER;
	struct sdp_dtls d;
	bool client;
	int err;

	if (is_dtls(&s->media[i]) && !offered) {
		fail(c, from, "DTLS-SRTP answer to an offer without it", NULL,
		     i);
		return -EPROTO;
	}
	if (is_dtls(&s->media[i])) {
		err = sdp_dtls_get(&d, s, i);
		if (!err)
			err = sdp_dtls_role(&client, SDP_SETUP_ACTPASS, d.setup,
					    false);
		if (!err && a->on && client != a->client &&
		    a->setup != SDP_SETUP_ACTPASS)
			err = -SDP_DTLS_E_ROLE;
		if (err) {
			fail(c, from, "DTLS-SRTP answer refused",
			     sdp_dtls_strerror(err), i);
			return -EPROTO;
		}
		if (!s->media[i].rtcp_mux) { /* we offered it: RFC 5764 4.1 */
			fail(c, from, "DTLS-SRTP answer refused",
			     "no a=rtcp-mux", i);
			return -EPROTO;
		}
		leg_on(a, &d, client, (enum sdp_setup)a->setup);
		media__srtp_leg_plain(&st->sec->srtp_sig[from]);
		st->sec->srtp_sig[from].send = MEDIA_SS_KEEP;
		/* The offerer's side, as srtp_sdp.c's answer would. */
		st->sec->srtp_sig[to].send = st->sec->srtp_sig[to].sdes
						     ? MEDIA_SS_ANSWER
						     : MEDIA_SS_PLAIN;
	} else {
		err = media__srtp_sdp(c, st, from, MEDIA_SR_ANSWER, s, i);
		if (err)
			return err;
		leg_off(a);
	}
	a->send = MEDIA_DS_NONE;
	f->send = f->on ? MEDIA_DS_ANSWER : MEDIA_DS_NONE;
	if (f->on)
		st->sec->srtp_sig[to].send = MEDIA_SS_KEEP; /* proto is ours */
	return 0;
}

static bool is_fb(const struct sdp_media *md)
{
	return md->proto_id == SDP_PROTO_RTP_AVPF ||
	       md->proto_id == SDP_PROTO_RTP_SAVPF ||
	       md->proto_id == SDP_PROTO_UDP_TLS_RTP_SAVPF;
}

static int crypto_sdp(struct media_call *c, struct media_stream *st,
		      unsigned from, enum media_srtp_role role,
		      const struct sdp_sess *s, unsigned i)
{
	/* The answer to an offer has its profile (RFC 3264 6); what we
	 * offer a plain or SDES leg has none of the feedback ones. */
	if (role == MEDIA_SR_OFFER) {
		st->sec->dtls_sig[from].fb = is_fb(&s->media[i]);
		st->sec->dtls_sig[1 - from].fb = false;
	}
	if (!is_dtls(&s->media[i]) && !is_rtp(&s->media[i])) {
		/* udptl...: neither key exchange applies. */
		leg_off(&st->sec->dtls_sig[0]);
		leg_off(&st->sec->dtls_sig[1]);
		st->sec->dtls_sig[0].send = st->sec->dtls_sig[1].send =
			MEDIA_DS_NONE;
		return media__srtp_sdp(c, st, from, role, s, i);
	}
	if (role == MEDIA_SR_OFFER)
		return on_offer(c, st, from, s, i);
	return on_answer(c, st, from, s, i);
}

/* The state is worked on in full, on the heap or a plain stream's on the
 * stack (sec.c): kept if the stream does not stay plain. */
int media__crypto_sdp(struct media_call *c, struct media_stream *st,
		      unsigned from, enum media_srtp_role role,
		      const struct sdp_sess *s, unsigned i)
{
	struct media_stream_sec tmp;

	media__sec_begin(st, &tmp);
	return media__sec_end(st, &tmp, crypto_sdp(c, st, from, role, s, i));
}

/* ------------------------------------------------------------ rewrite */

/* Without case: a stack that reads "a=Fingerprint" must not get the
 * other leg's (found by fuzz_dtls_sdp). */
static bool is_dtls_attr(struct str name)
{
	return str_caseeq(name, STR("fingerprint")) ||
	       str_caseeq(name, STR("setup")) ||
	       str_caseeq(name, STR("tls-id"));
}

void media__dtls_rewrite_session(struct sdp_bld *b, const struct sdp_sess *s)
{
	unsigned a;

	for (a = 0; a < s->nsess_attr; a++)
		if (is_dtls_attr(s->attr[a].name))
			sdp_bld_attr_remove(b, &s->attr[a]);
}

static const char *const setup_attr[] = {
	[SDP_SETUP_ACTIVE] = "setup:active",
	[SDP_SETUP_PASSIVE] = "setup:passive",
	[SDP_SETUP_ACTPASS] = "setup:actpass",
	[SDP_SETUP_HOLDCONN] = "setup:holdconn",
};

/*
 * Toward a leg that is not DTLS, from a DTLS leg: the a=rtcp-mux a DTLS
 * leg always has (or we added to our offer to it) is removed when that
 * leg's own SDP did not have it (its answer must not say rtcp-mux when
 * its offer did not, RFC 5761 5.1.1); it then keeps RTCP on its port.
 */
static void mux_unwanted(struct sdp_bld *b, const struct sdp_sess *s,
			 unsigned i, const struct media_stream *st, unsigned to)
{
	const struct sdp_media *md = &s->media[i];
	unsigned a;

	if (!md->rtcp_mux || !st->sec || !st->sec->dtls_sig[1 - to].on ||
	    !st->sdp[to].present || st->sdp[to].mux)
		return;
	for (a = md->attr_first; a < md->attr_first + md->nattr; a++)
		if (str_caseeq(s->attr[a].name, STR("rtcp-mux")))
			sdp_bld_attr_remove(b, &s->attr[a]);
}

/* Whether leg l's RTCP shares its RTP port with us: a DTLS leg always
 * (its offers and answers without a=rtcp-mux are refused), any other
 * when both legs said a=rtcp-mux. */
bool media__dtls_mux(const struct media_stream *st, unsigned l)
{
	return (st->sec && st->sec->dtls_sig[l].on) ||
	       (st->sdp[0].mux && st->sdp[1].mux);
}

void media__dtls_rewrite(struct sdp_bld *b, const struct sdp_sess *s,
			 unsigned i, const struct media_stream *st, unsigned to)
{
	const struct sdp_media *md = &s->media[i];
	const struct media_dtls_sig *g;
	bool fb;
	unsigned a;

	for (a = md->attr_first; a < md->attr_first + md->nattr; a++)
		if (is_dtls_attr(s->attr[a].name))
			sdp_bld_attr_remove(b, &s->attr[a]);
	if (!st || !st->call || (!is_dtls(md) && !is_rtp(md)))
		return;
	if (!st->sec)
		return; /* plain stream: send NONE, no DTLS leg to mux for */
	g = &st->sec->dtls_sig[to];
	if (g->send != MEDIA_DS_OFFER && g->send != MEDIA_DS_ANSWER) {
		mux_unwanted(b, s, i, st, to);
		return;
	}
	/* A DTLS leg always muxes with us (media__dtls_mux). */
	if (!md->rtcp_mux)
		sdp_bld_attr_add(b, (int)i, STR("rtcp-mux"));
	fb = g->send == MEDIA_DS_ANSWER ? g->fb : is_fb(md);
	if (!is_dtls(md) || g->send == MEDIA_DS_ANSWER)
		sdp_bld_media_proto(b, i,
				    fb ? STR("UDP/TLS/RTP/SAVPF")
				       : STR("UDP/TLS/RTP/SAVP"));
	sdp_bld_attr_add(b, (int)i, str_cstr(st->call->m->dtls_fp));
	if (g->setup >= SDP_SETUP_ACTIVE && g->setup <= SDP_SETUP_HOLDCONN)
		sdp_bld_attr_add(b, (int)i, str_cstr(setup_attr[g->setup]));
}

/* ------------------------------------------------------------ commit */

int media__dtls_commit(struct media *m, struct media_stream *st,
		       struct media_params *prm)
{
	uint64_t now = media__mono_ms();
	unsigned l;
	int err = 0;

	prm->dtls_set = 0;
	if (!st->sec)
		return 0; /* plain: no conn */
	for (l = 0; l < 2 && !err; l++) {
		struct media_dtls_sig *g = &st->sec->dtls_sig[l];

		if (!g->conn_new)
			continue;
		prm->dtls[l] = NULL;
		prm->dtls_set |= (uint8_t)(1u << l);
		if (g->on)
			err = m->dtls ? dtls_conn_new(&prm->dtls[l], m->dtls,
						      g->client, &g->peer, now)
				      : -EINVAL;
	}
	if (err)
		media__dtls_abort(prm);
	return err;
}

void media__dtls_abort(struct media_params *prm)
{
	dtls_conn_free(prm->dtls[0]);
	dtls_conn_free(prm->dtls[1]);
	prm->dtls[0] = prm->dtls[1] = NULL;
	prm->dtls_set = 0;
}

void media__dtls_committed(struct media_stream *st)
{
	if (st->sec)
		st->sec->dtls_sig[0].conn_new = st->sec->dtls_sig[1].conn_new =
			false;
}

void media__dtls_note(struct media *m, struct media_stream *s, unsigned leg,
		      unsigned what, uint32_t ms)
{
	struct media_call *c = s->call;
	const char *zone = c ? c->leg[leg].zone : NULL;
	char why[192];

	if (what == 1) {
		m->st.dtls_ok++;
		snprintf(why, sizeof(why),
			 "DTLS-SRTP keys agreed with the %s in %u ms, port %u",
			 leg ? "callee" : "caller", ms, s->port[leg]);
		media__emit(m, EV_NOTICE, "dtls-srtp", "srtp", EV_ACT_PASS,
			    zone, NULL, why);
		return;
	}
	m->st.dtls_fail++;
	/* The relay wrote the reason before the note (ring: release). */
	snprintf(why, sizeof(why),
		 "DTLS handshake with the %s failed: %s, "
		 "port %u",
		 leg ? "callee" : "caller",
		 s->sec ? s->sec->dtls_reason[leg] : "", s->port[leg]);
	media__emit(m, EV_DROP, "dtls-handshake", "srtp", EV_ACT_DROP, zone,
		    NULL, why);
	/* Like a failed negotiation: the stream's pinhole closes. */
	if (c && s->idx < MEDIA_MAX_STREAMS && c->st[s->idx] == s)
		media__stream_close(c, s->idx);
}

int media__dtls_init(struct media *m)
{
	const struct sg_conf_media *c = m->c;
	struct dtls_ctx_conf dc;
	int err, n;

	memset(&dc, 0, sizeof(dc));
	dc.cert_file = c->dtls_certificate[0] ? c->dtls_certificate : NULL;
	dc.key_file = c->dtls_key[0] ? c->dtls_key : NULL;
	dc.handshake_timeout_ms = (uint32_t)c->dtls_handshake_timeout;
	err = dtls_ctx_new(&m->dtls, &dc);
	if (err)
		return err;
	memcpy(m->dtls_fp, "fingerprint:", 12);
	n = sdp_dtls_fp_format(m->dtls_fp + 12, sizeof(m->dtls_fp) - 12,
			       dtls_ctx_fingerprint(m->dtls));
	return n > 0 ? 0 : -EINVAL;
}

void media__dtls_fini(struct media *m)
{
	dtls_ctx_free(m->dtls);
	m->dtls = NULL;
}
