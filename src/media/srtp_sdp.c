/*
 * srtp_sdp.c - SDES negotiation for per-leg SRTP termination (RFC 4568
 * offer/answer, sections 5 and 7; RFC 3264), on the signalling thread.
 *
 * Each leg of a stream gets its own keys: the key a leg sends with is
 * the one in its own a=crypto; the key we send it with is one we drew
 * from the kernel's CSPRNG for that leg.  a=crypto lines never cross
 * from one leg's SDP to the other's (they are removed from every SDP
 * we forward, whatever the profile).
 *
 * Offer from leg F, toward leg T (policies are the zones' `srtp`):
 *   RTP/SAVP(F) + a=crypto: F `off` -> 488; else the first line whose
 *     suite we run (the offerer's preference order) is taken, lines we
 *     cannot use skipped; none -> 488.
 *   RTP/AVP(F): F `required` -> 488.
 *   Toward T: `required`, or `optional` with an SRTP offerer, gets
 *     RTP/SAVP(F) with our own offer (one fresh key per suite line);
 *     otherwise RTP/AVP(F) without a=crypto.
 * Answer from leg A (to our offer):
 *   We offered SRTP: the answer's line is matched by tag, as RFC 4568
 *   5.1.2 says; an answer that renumbered its tag is matched by suite
 *   instead.  A plain answer is accepted unless A is `required`.
 *   We offered plain and A answers SRTP: refused.
 *   The offerer F then gets RTP/SAVP(F) with one line: its tag, its
 *   suite, our key for F (or plain, if it offered plain).
 * A failure emits an event "srtp-negotiation" saying why; the proxy
 * answers an offer with 488, an answer's stream is closed (port 0).
 * DTLS-SRTP streams (UDP/TLS/RTP/SAVP(F)) are negotiated by dtls_sdp.c,
 * which calls in here for the SDES and plain sides; other profiles
 * (udptl...) are left as they are.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "core/rand.h"
#include "events/events.h"
#include "media/media_int.h"

/* What we offer a leg, strongest suites that interoperate first. */
static const int offer_suites[MEDIA_SRTP_OFFER_MAX] = {
	SDP_SRTP_AES_CM_128_HMAC_SHA1_80,
	SDP_SRTP_AEAD_AES_256_GCM,
	SDP_SRTP_AES_256_CM_HMAC_SHA1_80,
	SDP_SRTP_AES_CM_128_HMAC_SHA1_32,
};

static int rand_key(uint8_t *k, size_t n)
{
	return rand_bytes(k, n) == 0 ? 0 : -EIO;
}

static bool is_savp(const struct sdp_media *md)
{
	return md->proto_id == SDP_PROTO_RTP_SAVP ||
	       md->proto_id == SDP_PROTO_RTP_SAVPF;
}

/* RTP/AVP(F) or RTP/SAVP(F): the profiles SDES applies to. */
static bool is_ours(const struct sdp_media *md)
{
	return is_savp(md) || md->proto_id == SDP_PROTO_RTP_AVP ||
	       md->proto_id == SDP_PROTO_RTP_AVPF;
}

static void fail(struct media_call *c, unsigned leg, const char *why,
		 unsigned i)
{
	char r[160];

	snprintf(r, sizeof(r), "%s (m-line %u, %s)", why, i,
		 leg ? "callee" : "caller");
	media__emit(c->m, EV_DROP, "srtp-negotiation", "srtp", EV_ACT_REPLY,
		    c->leg[leg].zone, NULL, r);
}

static void leg_plain(struct media_srtp_leg *g)
{
	if (g->sdes)
		g->rkey_new = true; /* contexts go */
	g->sdes = false;
	g->suite = 0;
	explicit_bzero(g->mkey, sizeof(g->mkey));
	sdp_srtp_key_wipe(&g->rkey);
}

/*
 * Take key k as what the leg sends with, and ours (NULL: keep ours if
 * the suite stays, else draw one).  Unchanged keys keep the contexts:
 * a re-INVITE (session timer, hold) must not reset the rollover
 * counters and replay windows (RFC 4568 7.1.4).
 */
static int leg_sdes(struct media_srtp_leg *g, const struct sdp_srtp_key *k,
		    const uint8_t *ours)
{
	size_t n = sdp_srtp_key_len(k->suite);
	bool same = g->sdes && g->suite == k->suite &&
		    g->rkey.key_len == k->key_len &&
		    !memcmp(g->rkey.key, k->key, k->key_len) &&
		    g->rkey.mki == k->mki && g->rkey.mki_len == k->mki_len;
	uint8_t m[SDP_SRTP_KEY_MAX];
	int err = 0;

	if (ours)
		memcpy(m, ours, n);
	else if (g->sdes && g->suite == k->suite)
		memcpy(m, g->mkey, n);
	else
		err = rand_key(m, n);
	if (!err) {
		same = same && !memcmp(m, g->mkey, n);
		memcpy(g->mkey, m, n);
		g->sdes = true;
		g->suite = k->suite;
		g->tag = k->tag;
		g->rkey = *k;
		g->rkey_new = g->rkey_new || !same;
	}
	explicit_bzero(m, sizeof(m));
	return err;
}

/* Attribute index range of media i. */
#define FOR_CRYPTO(s, i, a)                                               \
	for ((a) = (s)->media[i].attr_first;                              \
	     (a) < (s)->media[i].attr_first + (s)->media[i].nattr; (a)++) \
		if (str_caseeq((s)->attr[a].name, STR("crypto")))

/* The offerer's first usable line; -EPROTO if none, -EINVAL if a line
 * is malformed (a broken offer: refused rather than half-read). */
static int pick_offered(const struct sdp_sess *s, unsigned i,
			struct sdp_srtp_key *kp)
{
	unsigned a;

	FOR_CRYPTO(s, i, a)
	{
		int err = sdp_srtp_key_get(kp, s->attr[a].value);

		if (!err && media_srtp_suite_ok(kp->suite))
			return 0;
		sdp_srtp_key_wipe(kp);
		if (err == -EINVAL)
			return -EINVAL;
	}
	return -EPROTO;
}

/* Our offer to a leg: a fresh key per suite line, except that the
 * suite it already speaks keeps our current key (and, if its answer
 * keeps its key too, the contexts stay). */
static int make_offer(struct media_srtp_leg *g)
{
	unsigned k;
	int err = 0;

	for (k = 0; k < MEDIA_SRTP_OFFER_MAX && !err; k++) {
		size_t n = sdp_srtp_key_len(offer_suites[k]);

		g->offer[k].tag = k + 1;
		g->offer[k].suite = offer_suites[k];
		if (g->sdes && g->suite == offer_suites[k])
			memcpy(g->offer[k].key, g->mkey, n);
		else
			err = rand_key(g->offer[k].key, n);
	}
	g->noffer = err ? 0 : MEDIA_SRTP_OFFER_MAX;
	g->send = err ? MEDIA_SS_PLAIN : MEDIA_SS_OFFER;
	return err;
}

static int on_offer(struct media_call *c, struct media_stream *st,
		    unsigned from, const struct sdp_sess *s, unsigned i)
{
	struct media_srtp_leg *f = &st->sec->srtp_sig[from],
			      *t = &st->sec->srtp_sig[1 - from];
	int pf = c->leg[from].srtp, pt = c->leg[1 - from].srtp, err;
	bool savp = is_savp(&s->media[i]);
	struct sdp_srtp_key k;

	if (savp && pf == CONF_SRTP_OFF) {
		fail(c, from, "SRTP offered in a zone with srtp off", i);
		return -EPROTO;
	}
	if (!savp && pf == CONF_SRTP_REQUIRED) {
		fail(c, from, "plain RTP offered in a zone requiring SRTP", i);
		return -EPROTO;
	}
	if (savp) {
		err = pick_offered(s, i, &k);
		if (err) {
			fail(c, from,
			     err == -EINVAL ? "malformed a=crypto in offer"
					    : "no a=crypto suite we support",
			     i);
			return -EPROTO;
		}
		err = leg_sdes(f, &k, NULL);
		sdp_srtp_key_wipe(&k);
		if (err)
			return err;
	} else {
		leg_plain(f);
	}
	f->send = MEDIA_SS_KEEP; /* set by the answer */
	explicit_bzero(t->offer, sizeof(t->offer));
	t->noffer = 0;
	if (pt == CONF_SRTP_REQUIRED || (pt == CONF_SRTP_OPTIONAL && savp))
		return make_offer(t);
	t->send = MEDIA_SS_PLAIN;
	return 0;
}

/* The answer's line that matches one of our offer lines: same tag and
 * suite, else (a renumbering answerer) same suite. */
static int match_answer(const struct media_srtp_leg *g,
			const struct sdp_sess *s, unsigned i,
			struct sdp_srtp_key *kp, unsigned *offp)
{
	unsigned a, k, pass;

	for (pass = 0; pass < 2; pass++)
		FOR_CRYPTO(s, i, a)
		{
			if (sdp_srtp_key_get(kp, s->attr[a].value) != 0)
				continue;
			for (k = 0; k < g->noffer; k++)
				if (g->offer[k].suite == kp->suite &&
				    (pass || g->offer[k].tag == kp->tag)) {
					*offp = k;
					return 0;
				}
			sdp_srtp_key_wipe(kp);
		}
	return -EPROTO;
}

static int on_answer(struct media_call *c, struct media_stream *st,
		     unsigned from, const struct sdp_sess *s, unsigned i)
{
	struct media_srtp_leg *a = &st->sec->srtp_sig[from],
			      *f = &st->sec->srtp_sig[1 - from];
	bool savp = is_savp(&s->media[i]);
	struct sdp_srtp_key k;
	unsigned off;
	int err = 0;

	if (a->send == MEDIA_SS_OFFER && savp) {
		if (match_answer(a, s, i, &k, &off) != 0) {
			fail(c, from,
			     "answer's a=crypto matches no line we "
			     "offered",
			     i);
			return -EPROTO;
		}
		err = leg_sdes(a, &k, a->offer[off].key);
		sdp_srtp_key_wipe(&k);
	} else if (savp) {
		fail(c, from, "SRTP answer to a plain RTP offer", i);
		return -EPROTO;
	} else if (c->leg[from].srtp == CONF_SRTP_REQUIRED) {
		fail(c, from, "plain RTP answer in a zone requiring SRTP", i);
		return -EPROTO;
	} else {
		leg_plain(a);
	}
	explicit_bzero(a->offer, sizeof(a->offer));
	a->noffer = 0;
	if (a->send != MEDIA_SS_KEEP)
		a->send = a->sdes ? MEDIA_SS_ANSWER : MEDIA_SS_PLAIN;
	f->send = f->sdes ? MEDIA_SS_ANSWER : MEDIA_SS_PLAIN;
	return err;
}

static int srtp_sdp(struct media_call *c, struct media_stream *st,
		    unsigned from, enum media_srtp_role role,
		    const struct sdp_sess *s, unsigned i)
{
	struct media_srtp_leg *t = &st->sec->srtp_sig[1 - from];

	if (!is_ours(&s->media[i])) {
		/* DTLS-SRTP, udptl...: not negotiated here. */
		leg_plain(&st->sec->srtp_sig[from]);
		leg_plain(t);
		st->sec->srtp_sig[from].send = t->send = MEDIA_SS_KEEP;
		return 0;
	}
	if (role == MEDIA_SR_OFFER)
		return on_offer(c, st, from, s, i);
	return on_answer(c, st, from, s, i);
}

/* st->sec is valid during the negotiation (sec.c); from dtls_sdp.c it
 * is already. */
int media__srtp_sdp(struct media_call *c, struct media_stream *st,
		    unsigned from, enum media_srtp_role role,
		    const struct sdp_sess *s, unsigned i)
{
	struct media_stream_sec tmp;

	media__sec_begin(st, &tmp);
	return media__sec_end(st, &tmp, srtp_sdp(c, st, from, role, s, i));
}

/* For dtls_sdp.c: the same steps from the DTLS-SRTP negotiation. */
int media__srtp_offer(struct media_stream *st, unsigned to)
{
	return make_offer(&st->sec->srtp_sig[to]);
}

void media__srtp_leg_plain(struct media_srtp_leg *g)
{
	leg_plain(g);
}

/* ------------------------------------------------------------ rewrite */

/* A DTLS-SRTP m-line (dtls_sdp.c) has the feedback profile the leg
 * it goes to offered (dtls_sig[].fb): plain PBXes refuse AVPF. */
static struct str profile(const struct sdp_media *md, bool srtp,
			  const struct media_stream *st, unsigned to)
{
	bool f = is_ours(md) ? md->proto_id == SDP_PROTO_RTP_AVPF ||
				       md->proto_id == SDP_PROTO_RTP_SAVPF
			     : media__dtls_fb(st, to);

	if (srtp)
		return f ? STR("RTP/SAVPF") : STR("RTP/SAVP");
	return f ? STR("RTP/AVPF") : STR("RTP/AVP");
}

void media__srtp_rewrite_session(struct sdp_bld *b, const struct sdp_sess *s)
{
	unsigned a;

	/* a=crypto is media-level (RFC 4568 9.1), but a session-level
	 * one would still carry a key to the other leg.  Names compare
	 * without case: a peer that reads "a=CRYPTO" as a=crypto would
	 * otherwise get the other leg's key. */
	for (a = 0; a < s->nsess_attr; a++)
		if (str_caseeq(s->attr[a].name, STR("crypto")))
			sdp_bld_attr_remove(b, &s->attr[a]);
}

void media__srtp_rewrite(struct sdp_bld *b, const struct sdp_sess *s,
			 unsigned i, const struct media_stream *st, unsigned to,
			 struct media_srtp_text *t)
{
	const struct sdp_media *md = &s->media[i];
	const struct media_srtp_leg *g;
	uint8_t send;
	unsigned a, k;

	FOR_CRYPTO(s, i, a)
	{
		sdp_bld_attr_remove(b, &s->attr[a]);
	}
	/* A DTLS-SRTP m-line (dtls_sdp.c) may become SDES or plain. */
	if (!st ||
	    !(is_ours(md) || md->proto_id == SDP_PROTO_UDP_TLS_RTP_SAVP ||
	      md->proto_id == SDP_PROTO_UDP_TLS_RTP_SAVPF))
		return;
	send = media__srtp_send(st, to);
	if (send == MEDIA_SS_PLAIN) {
		sdp_bld_media_proto(b, i, profile(md, false, st, to));
		return;
	}
	if (!st->sec)
		return; /* plain stream: KEEP or PLAIN only (sec.c) */
	g = &st->sec->srtp_sig[to];
	switch (send) {
	case MEDIA_SS_OFFER:
		sdp_bld_media_proto(b, i, profile(md, true, st, to));
		for (k = 0; k < g->noffer; k++)
			if (sdp_srtp_format(
				    t->line[k], sizeof(t->line[k]),
				    g->offer[k].tag, g->offer[k].suite,
				    g->offer[k].key,
				    sdp_srtp_key_len(g->offer[k].suite)) > 0)
				sdp_bld_attr_add(b, (int)i,
						 str_cstr(t->line[k]));
		return;
	case MEDIA_SS_ANSWER:
		sdp_bld_media_proto(b, i, profile(md, true, st, to));
		if (sdp_srtp_format(t->line[0], sizeof(t->line[0]), g->tag,
				    g->suite, g->mkey,
				    sdp_srtp_key_len(g->suite)) > 0)
			sdp_bld_attr_add(b, (int)i, str_cstr(t->line[0]));
		return;
	default:
		return;
	}
}

/* ------------------------------------------------------------ commit */

static int leg_contexts(struct media_srtp_leg *g, struct media_srtp *sp)
{
	struct media_srtp_dir rx, tx;
	int err;

	memset(sp, 0, sizeof(*sp));
	if (!g->sdes)
		return 0;
	rx.suite = tx.suite = g->suite;
	rx.key = g->rkey.key;
	rx.key_len = g->rkey.key_len;
	rx.mki = g->rkey.mki;
	rx.mki_len = g->rkey.mki_len;
	tx.key = g->mkey;
	tx.key_len = sdp_srtp_key_len(g->suite);
	tx.mki = 0;
	tx.mki_len = 0;
	err = media_srtp_make(sp, &rx, &tx);
	explicit_bzero(&rx, sizeof(rx));
	return err;
}

int media__srtp_commit(struct media_stream *st, struct media_params *prm)
{
	unsigned l;
	int err = 0;

	prm->srtp_set = 0;
	if (!st->sec)
		return 0; /* plain: no keys */
	for (l = 0; l < 2 && !err; l++)
		if (st->sec->srtp_sig[l].rkey_new) {
			err = leg_contexts(&st->sec->srtp_sig[l],
					   &prm->srtp[l]);
			prm->srtp_set |= (uint8_t)(1u << l);
		}
	if (err) {
		media_srtp_free(&prm->srtp[0]);
		media_srtp_free(&prm->srtp[1]);
		prm->srtp_set = 0;
		return err;
	}
	return 0;
}

void media__srtp_committed(struct media_stream *st)
{
	if (st->sec) {
		st->sec->srtp_sig[0].rkey_new = false;
		st->sec->srtp_sig[1].rkey_new = false;
	}
}

void media__srtp_wipe(struct media_stream *st)
{
	media_srtp_free(&st->rt[0].srtp);
	media_srtp_free(&st->rt[1].srtp);
	if (st->sec)
		explicit_bzero(st->sec->srtp_sig, sizeof(st->sec->srtp_sig));
}
