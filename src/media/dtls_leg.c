/*
 * dtls_leg.c - DTLS-SRTP on a relay leg (RFC 5764 4, RFC 7983 7): the
 * relay thread's side of a leg whose keys come from a DTLS handshake.
 *
 * The signalling thread makes the leg's struct dtls_conn at commit (it
 * has the peer's fingerprints and our role) and hands it over in
 * MEDIA_CMD_ADD/UPDATE like the SDES contexts; from then on the relay
 * thread alone uses and frees it (media_int.h's ownership rule).  Here:
 *   - install: a client conn's first flight leaves at once;
 *   - rx: DTLS records from the leg's allowed source (the caller checked
 *     it) go to dtls_conn_input(), what it answers goes back;
 *   - the relay loop calls run() each turn: retransmissions and the
 *     handshake timeout of the conns on the relay's DTLS list, and
 *     wait() bounds the epoll timeout by the nearest of them;
 *   - on DTLS_CONNECTED the exported keys become the leg's SRTP contexts
 *     (media_srtp_make; our copies wiped), a note reports the time;
 *   - on DTLS_FAILED a note carries dtls_conn_reason() (copied once into
 *     the stream) and the signalling thread closes the stream, as for a
 *     failed SDES negotiation;
 *   - the first authenticated SRTP packet from the leg shows its
 *     handshake is over: the conn is freed (OpenSSL's ~70 KB with it).
 * While a leg is DTLS (dtls_on) nothing plain passes either way: its
 * packets must authenticate, and what we send it must be encrypted
 * (relay.c treats dtls_on like an SRTP leg without contexts yet).
 * Only the RTP component carries DTLS: with rtcp-mux (WebRTC) that is
 * all; without it SRTCP uses the RTP association's keys.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "core/mem.h"
#include "media/dtls.h"
#include "media/media_int.h"

static void list_add(struct media_relay *r, struct media_stream *s)
{
	if (!r || s->dlisted)
		return;
	s->dprev = NULL;
	s->dnext = r->dtls;
	if (s->dnext)
		s->dnext->dprev = s;
	r->dtls = s;
	s->dlisted = true;
}

static void list_del(struct media_relay *r, struct media_stream *s)
{
	if (!r || !s->dlisted)
		return;
	if (s->dprev)
		s->dprev->dnext = s->dnext;
	else
		r->dtls = s->dnext;
	if (s->dnext)
		s->dnext->dprev = s->dprev;
	s->dnext = s->dprev = NULL;
	s->dlisted = false;
}

/* Notes of this module are one per handshake: never rate-limited. */
static void dnote(struct media_stream *s, unsigned leg, unsigned what,
		  uint32_t count)
{
	struct media_note n;

	memset(&n, 0, sizeof(n));
	n.type = MEDIA_N_DTLS;
	n.leg = (uint8_t)leg;
	n.what = (uint8_t)what;
	n.s = s;
	n.count = count;
	if (s->relay && !media__ring_push(&s->relay->out, &n))
		MEDIA_ADD(s->relay->notes_lost, 1);
}

/* Send what the engine queued to the leg's RTP destination. */
static void flush(struct media_stream *s, unsigned leg)
{
	struct media_leg_rt *rt = &s->rt[leg];
	const struct media_ep *d = &rt->dst[MEDIA_RTP];
	uint8_t buf[DTLS_MTU];
	int n;

	while (rt->dtls &&
	       (n = dtls_conn_output(rt->dtls, buf, sizeof(buf))) > 0) {
		struct sg_addr a;

		if (!d->port || s->fd[leg][MEDIA_RTP] < 0)
			continue; /* nowhere to send: lost, retransmitted */
		/* io_uring backend: the socket may be a direct descriptor
		 * (relay_uring.c), which only the ring can use. */
		if (s->relay && s->relay->u) {
			(void)media__uring_send(s->relay, s->fd[leg][MEDIA_RTP],
						buf, (size_t)n, d);
			continue;
		}
		media__ep_to_addr(&a, d);
		(void)sendto(s->fd[leg][MEDIA_RTP], buf, (size_t)n,
			     MSG_DONTWAIT, &a.u.sa, a.len);
	}
}

static int suite_of(enum dtls_srtp_profile p)
{
	switch (p) {
	case DTLS_SRTP_AES128_CM_SHA1_80:
		return SDP_SRTP_AES_CM_128_HMAC_SHA1_80;
	case DTLS_SRTP_AES128_CM_SHA1_32:
		return SDP_SRTP_AES_CM_128_HMAC_SHA1_32;
	case DTLS_SRTP_AEAD_AES_128_GCM:
		return SDP_SRTP_AEAD_AES_128_GCM;
	case DTLS_SRTP_AEAD_AES_256_GCM:
		return SDP_SRTP_AEAD_AES_256_GCM;
	default:
		return 0;
	}
}

/* The handshake's keys into the leg's SRTP contexts: 0 or -errno. */
static int install_keys(struct media_leg_rt *rt)
{
	struct dtls_srtp_keys k;
	uint8_t lk[DTLS_MAX_KEY + DTLS_MAX_SALT], rk[sizeof(lk)];
	struct media_srtp_dir rx, tx;
	struct media_srtp sp;
	int err = dtls_conn_keys(rt->dtls, &k);

	if (!err && !suite_of(k.profile))
		err = -EINVAL;
	if (!err) {
		memcpy(lk, k.local_key, k.key_len);
		memcpy(lk + k.key_len, k.local_salt, k.salt_len);
		memcpy(rk, k.remote_key, k.key_len);
		memcpy(rk + k.key_len, k.remote_salt, k.salt_len);
		memset(&rx, 0, sizeof(rx));
		memset(&tx, 0, sizeof(tx));
		rx.suite = tx.suite = suite_of(k.profile);
		rx.key = rk;
		tx.key = lk;
		rx.key_len = tx.key_len = (size_t)k.key_len + k.salt_len;
		err = media_srtp_make(&sp, &rx, &tx);
		if (!err)
			media__srtp_install(rt, &sp);
	}
	mem_secclean(&k, sizeof(k));
	mem_secclean(lk, sizeof(lk));
	mem_secclean(rk, sizeof(rk));
	return err;
}

static void fail(struct media_stream *s, unsigned leg, const char *why)
{
	struct media_leg_rt *rt = &s->rt[leg];
	/* A stream with a DTLS conn has its sec (sec.c) until it is freed. */
	char *r = s->sec ? s->sec->dtls_reason[leg] : NULL;

	if (r && !r[0]) {
		size_t n = strlen(why);

		if (n >= sizeof(s->sec->dtls_reason[leg]))
			n = sizeof(s->sec->dtls_reason[leg]) - 1;
		memcpy(r, why, n);
		r[n] = '\0';
	}
	/* dtls_on stays: the leg stays closed to plain packets. */
	dtls_conn_free(rt->dtls);
	rt->dtls = NULL;
	dnote(s, leg, 2, 0);
}

/* After any call into the engine: send, and act on a new state. */
static void step(struct media_stream *s, unsigned leg, uint64_t now)
{
	struct media_leg_rt *rt = &s->rt[leg];
	enum dtls_state st;

	flush(s, leg);
	if (!rt->dtls)
		return;
	st = dtls_conn_state(rt->dtls);
	if (st == DTLS_CONNECTED && !rt->dtls_keyed) {
		if (install_keys(rt) != 0) {
			fail(s, leg, "SRTP contexts from the DTLS keys failed");
			return;
		}
		rt->dtls_keyed = true;
		dnote(s, leg, 1,
		      (uint32_t)(now - rt->dtls_t0 > UINT32_MAX
					 ? UINT32_MAX
					 : now - rt->dtls_t0));
	} else if (st == DTLS_FAILED ||
		   (st == DTLS_CLOSED && !rt->dtls_keyed)) {
		fail(s, leg, dtls_conn_reason(rt->dtls));
	}
}

void media__dtls_install(struct media_stream *s, unsigned leg,
			 const struct media_params *prm)
{
	struct media_leg_rt *rt = &s->rt[leg];

	if (!(prm->dtls_set >> leg & 1))
		return;
	/* A new association (or none): the old keys go with the old one. */
	dtls_conn_free(rt->dtls);
	media_srtp_free(&rt->srtp);
	rt->dtls = prm->dtls[leg];
	rt->dtls_on = rt->dtls != NULL;
	rt->dtls_keyed = false;
	rt->dtls_t0 = s->relay ? s->relay->now : 0;
	if (!rt->dtls)
		return;
	list_add(s->relay, s);
	step(s, leg, rt->dtls_t0); /* a client's ClientHello */
	if (s->relay)
		s->relay->dtls_deadline = 1; /* recompute next turn */
}

void media__dtls_rx(struct media_relay *r, struct media_stream *s, unsigned leg,
		    const struct media_ep *src, const uint8_t *p, size_t n)
{
	struct media_leg_rt *rt = &s->rt[leg];

	if (!rt->dtls || dtls_conn_input(rt->dtls, p, n, r->now) < 0) {
		/* No association (failed, finished) or refused unread. */
		MEDIA_ADD(s->st[leg].dropped, 1);
		return;
	}
	/* Symmetric, like RTP: answer where the handshake comes from (the
	 * caller checked the source against the leg's binding). */
	rt->dst[MEDIA_RTP] = *src;
	step(s, leg, r->now);
	r->dtls_deadline = 1;
}

void media__dtls_authed(struct media_stream *s, unsigned leg)
{
	struct media_leg_rt *rt = &s->rt[leg];

	/* The peer sends SRTP: it has our last flight, OpenSSL's state
	 * is no longer needed (RFC 6347 4.2.4). */
	if (rt->dtls && rt->dtls_keyed) {
		dtls_conn_free(rt->dtls);
		rt->dtls = NULL;
	}
}

static uint64_t run_stream(struct media_relay *r, struct media_stream *s)
{
	uint64_t next = UINT64_MAX;
	unsigned l;

	for (l = 0; l < 2; l++) {
		struct media_leg_rt *rt = &s->rt[l];
		uint64_t d;

		if (!rt->dtls)
			continue;
		d = dtls_conn_deadline(rt->dtls);
		if (d <= r->now) {
			(void)dtls_conn_timer(rt->dtls, r->now);
			step(s, l, r->now);
			if (!rt->dtls)
				continue;
			/* Shrunk by its linger timer: nothing left to do. */
			if (rt->dtls_keyed &&
			    dtls_conn_deadline(rt->dtls) == UINT64_MAX) {
				dtls_conn_free(rt->dtls);
				rt->dtls = NULL;
				continue;
			}
			d = dtls_conn_deadline(rt->dtls);
		}
		if (d < next)
			next = d;
	}
	return next;
}

void media__dtls_run(struct media_relay *r)
{
	struct media_stream *s, *nx;
	uint64_t next = UINT64_MAX;

	if (!r->dtls || (r->dtls_deadline && r->dtls_deadline > r->now))
		return;
	for (s = r->dtls; s; s = nx) {
		uint64_t d;

		nx = s->dnext;
		d = run_stream(r, s);
		if (!s->rt[0].dtls && !s->rt[1].dtls)
			list_del(r, s);
		else if (d < next)
			next = d;
	}
	r->dtls_deadline = next == UINT64_MAX ? 0 : next;
}

int media__dtls_wait(const struct media_relay *r, int dflt_ms)
{
	uint64_t now = media__mono_ms();

	if (!r->dtls || !r->dtls_deadline)
		return dflt_ms;
	if (r->dtls_deadline <= now)
		return 0;
	if (r->dtls_deadline - now < (uint64_t)dflt_ms)
		return (int)(r->dtls_deadline - now);
	return dflt_ms;
}

void media__dtls_drop(struct media_relay *r, struct media_stream *s)
{
	unsigned l;

	for (l = 0; l < 2; l++) {
		dtls_conn_free(s->rt[l].dtls);
		s->rt[l].dtls = NULL;
	}
	list_del(r, s);
}

void media__dtls_wipe(struct media_stream *s)
{
	unsigned l;

	for (l = 0; l < 2; l++) {
		dtls_conn_free(s->rt[l].dtls);
		s->rt[l].dtls = NULL;
	}
	if (s->sec)
		mem_secclean(s->sec->dtls_sig, sizeof(s->sec->dtls_sig));
}
