/*
 * relay.c - the media relay threads.  Each thread runs its own epoll
 * loop over the sockets of the streams it was given, reads datagrams in
 * batches (recvmmsg), checks each against the stream's signalled
 * sources and RTP/RTCP sanity, and sends the accepted ones out of the
 * other leg's socket in batches (sendmmsg).  Nothing allocates and
 * nothing locks per packet: commands come in through an SPSC ring with
 * an eventfd, notes (events, finished closes) go back the same way, and
 * counters are plain single-writer stores (see media_int.h).
 *
 * Source binding (RFC 4961 symmetric RTP, without a learning window):
 * a leg accepts a packet only from the address and port its SDP named
 * for that component, or, when the signalling marked it as behind NAT,
 * from the IP its SIP came from, with the port learned from the first
 * such packet (then only that port).  Anything else is counted as
 * injected and dropped.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "media/dtls.h"
#include "core/log.h"
#include "media/media_int.h"
#include "media/rtp.h"

uint64_t media__mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void note(struct media_relay *r, struct media_stream *s, unsigned leg,
		 enum media_note_type t, unsigned what,
		 const struct media_ep *src)
{
	struct media_leg_rt *rt = &s->rt[leg];
	struct media_note n;

	/* One note per stream, leg and second: the event log aggregates
	 * further, this keeps a flood from filling the ring. */
	if (t != MEDIA_N_DONE) {
		if (rt->ev_ms && r->now - rt->ev_ms < MEDIA_EV_GAP_MS)
			return;
		rt->ev_ms = r->now;
	}
	memset(&n, 0, sizeof(n));
	n.type = (uint8_t)t;
	n.leg = (uint8_t)leg;
	n.what = (uint8_t)what;
	n.s = s;
	if (src)
		n.src = *src;
	if (!media__ring_push(&r->out, &n))
		MEDIA_ADD(r->notes_lost, 1);
}

/* latch false: a port not latched yet is accepted without latching it
 * (an SRTP leg latches only once the packet authenticated).  The SDP
 * address is always accepted; when it is on the NAT IP (a PBX on a
 * private LAN address, its SIP from the same one) it is that IP's first
 * port like any other: it latches, and no other port of the IP may
 * follow (it used to be accepted without latching, which left the IP
 * open to a second port, and the leg's destination unsettled). */
static bool source_ok(const struct media_leg_prm *lp, struct media_leg_rt *rt,
		      unsigned k, const struct media_ep *src, bool latch)
{
	if (media__ep_eq(src, &lp->sdp[k])) {
		if (latch && lp->is_nat && !rt->latched[k].af &&
		    media__ep_ip_eq(src, &lp->nat))
			rt->latched[k] = *src;
		return true;
	}
	if (!lp->is_nat || !media__ep_ip_eq(src, &lp->nat))
		return false;
	if (!rt->latched[k].af) {
		if (latch)
			rt->latched[k] = *src;
		return true;
	}
	return media__ep_eq(src, &rt->latched[k]);
}

/* SSRC, sequence and timestamp continuity (RFC 3550 A.1 in spirit):
 * returns the anomaly found, 0 if none; the state follows the packet. */
static unsigned rtp_anomaly(const struct media_params *prm,
			    struct media_leg_rt *rt,
			    const struct media_rtp_hdr *h)
{
	unsigned a = 0;

	if (rt->have_seq) {
		uint16_t ds = (uint16_t)(h->seq - rt->seq);
		uint32_t dt = h->ts - rt->ts;

		if (h->ssrc != rt->ssrc)
			a = MEDIA_A_SSRC;
		else if (ds > prm->max_seq_jump &&
			 (uint16_t)(rt->seq - h->seq) > prm->max_seq_jump)
			a = MEDIA_A_SEQ;
		else if (dt > prm->max_ts_jump &&
			 (rt->ts - h->ts) > prm->max_ts_jump)
			a = MEDIA_A_TS;
	}
	rt->have_seq = true;
	rt->ssrc = h->ssrc;
	rt->seq = h->seq;
	rt->ts = h->ts;
	return a;
}

static bool policed(const struct media_leg_prm *lp, struct media_leg_rt *rt,
		    uint64_t now, size_t n)
{
	if (!lp->bw)
		return false;
	if (now > rt->tok_ms) {
		rt->tokens += (now - rt->tok_ms) * lp->bw / 1000;
		rt->tok_ms = now;
		if (rt->tokens > lp->bw)
			rt->tokens = lp->bw; /* one second of burst */
	}
	if (rt->tokens < n)
		return true;
	rt->tokens -= n;
	return false;
}

static bool check_rtp(struct media_relay *r, struct media_stream *s, unsigned L,
		      uint8_t *p, size_t n)
{
	struct media_leg_stats *st = &s->st[L];
	struct media_rtp_hdr h;
	unsigned a;

	if (media_rtp_parse(&h, p, n) != 0) {
		MEDIA_ADD(st->dropped, 1);
		note(r, s, L, MEDIA_N_ANOMALY, MEDIA_A_MALFORMED, NULL);
		return false;
	}
	if (!(s->prm.pt[h.pt >> 6] >> (h.pt & 63) & 1)) {
		MEDIA_ADD(st->dropped, 1);
		note(r, s, L, MEDIA_N_ANOMALY, MEDIA_A_PT, NULL);
		return false;
	}
	a = rtp_anomaly(&s->prm, &s->rt[L], &h);
	if (a) {
		MEDIA_ADD(st->anomalies, 1);
		note(r, s, L, MEDIA_N_ANOMALY, a, NULL);
		if (s->prm.anomaly_drop) {
			MEDIA_ADD(st->dropped, 1);
			return false;
		}
	}
	return true;
}

static bool check_rtcp(struct media_relay *r, struct media_stream *s,
		       unsigned L, uint8_t *p, size_t n)
{
	struct media_leg_stats *st = &s->st[L];
	struct media_rtcp_rr rr;

	if (media_rtcp_parse(p, n, &rr) != 0) {
		MEDIA_ADD(st->dropped, 1);
		note(r, s, L, MEDIA_N_ANOMALY, MEDIA_A_MALFORMED, NULL);
		return false;
	}
	if (rr.present) {
		MEDIA_ST(st->rr_lost, rr.cum_lost);
		MEDIA_ST(st->rr_jitter, rr.jitter);
		MEDIA_ST(st->rr_fraction, rr.fraction_lost);
	}
	/* The CNAME is often user@host: scrub what comes from outside. */
	if (s->prm.scrub_cname && s->prm.leg[L].untrusted)
		(void)media_rtcp_scrub_cname(p, n);
	return true;
}

/*
 * One datagram p[0..n) from src on socket sk.  On *fwdp true, send it
 * (possibly modified in place) from *outfdp to *dstp.  Exposed for the
 * unit tests, which drive it without sockets.
 */
void media__relay_packet(struct media_relay *r, struct media_sock *sk,
			 const struct media_ep *src, uint8_t *p, size_t *np,
			 int *outfdp, struct media_ep *dstp, bool *fwdp)
{
	struct media_stream *s = sk->s;
	unsigned L = sk->leg, O = 1u - sk->leg, k, ok;
	const struct media_leg_prm *lp = &s->prm.leg[L];
	struct media_leg_stats *st = &s->st[L];
	size_t n = *np;
	bool rtcp, srtp = (s->rt[L].srtp.rx || s->rt[L].dtls_on) && !s->prm.raw;

	*fwdp = false;
	rtcp = sk->comp == MEDIA_RTCP ||
	       (lp->mux && !s->prm.raw && media_is_rtcp(p, n));
	k = rtcp ? MEDIA_RTCP : MEDIA_RTP;
	if (!source_ok(lp, &s->rt[L], k, src, !srtp)) {
		MEDIA_ADD(st->injected, 1);
		note(r, s, L, MEDIA_N_INJECT, 0, src);
		return;
	}
	/* DTLS-SRTP leg: its handshake records (dtls_leg.c). */
	if (s->rt[L].dtls_on && !s->prm.raw && dtls_is_record(p, n)) {
		media__dtls_rx(r, s, L, src, p, n);
		return;
	}
	/* SRTP leg: nothing is looked at or relayed before it
	 * authenticates (srtp.c). */
	if (srtp) {
		int e = media__srtp_rx(s, L, rtcp, p, &n);

		if (e) {
			note(r, s, L, MEDIA_N_SRTP,
			     e == MEDIA_SRTP_E_REPLAY ? 2 : 1, src);
			return;
		}
		(void)source_ok(lp, &s->rt[L], k, src, true);
		if (s->rt[L].dtls)
			media__dtls_authed(s, L);
	}
	/* Symmetric: answer where it came from.  A NAT leg may send from
	 * its SDP address and from its latched one: when its RTP address
	 * moves, the kernel's directions to and from the old one go. */
	if (!media__ep_eq(&s->rt[L].dst[k], src)) {
		if (k == MEDIA_RTP)
			media__kf_moved(r, s);
		s->rt[L].dst[k] = *src;
	}
	s->rt[L].heard[k] = true;
	MEDIA_ST(st->last_rx, r->now);
	if (!rtcp && s->rt[L].kf_on)
		media__kf_sync(r, s, L); /* the kernel handed it up */
	if (!s->prm.raw &&
	    (rtcp ? !check_rtcp(r, s, L, p, n) : !check_rtp(r, s, L, p, n)))
		return;
	if (policed(lp, &s->rt[L], r->now, n)) {
		MEDIA_ADD(st->dropped, 1);
		MEDIA_ADD(st->policed, 1);
		note(r, s, L, MEDIA_N_POLICED, 0, src);
		return;
	}
	ok = rtcp && s->prm.leg[O].mux ? MEDIA_RTP : k;
	if (!s->rt[O].dst[ok].port)
		return; /* the other side's address is not known */
	if ((s->rt[O].srtp.tx || s->rt[O].dtls_on) && !s->prm.raw &&
	    media__srtp_tx(s, O, L, rtcp, p, &n, MEDIA_PKT_MAX) != 0)
		return;
	*np = n;
	*outfdp = s->fd[O][ok];
	*dstp = s->rt[O].dst[ok];
	*fwdp = true;
	if (rtcp)
		MEDIA_ADD(st->rtcp, 1);
	else
		media__kf_relayed(r, s, L, src);
	MEDIA_ADD(st->pkts, 1);
	MEDIA_ADD(st->bytes, n);
}

/* ------------------------------------------------------ the thread */

union media_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

static socklen_t ep_to_sa(union media_sa *sa, const struct media_ep *e)
{
	memset(sa, 0, sizeof(*sa));
	if (e->af == AF_INET) {
		sa->in.sin_family = AF_INET;
		sa->in.sin_port = htons(e->port);
		memcpy(&sa->in.sin_addr, e->ip, 4);
		return sizeof(sa->in);
	}
	sa->in6.sin6_family = AF_INET6;
	sa->in6.sin6_port = htons(e->port);
	memcpy(&sa->in6.sin6_addr, e->ip, 16);
	return sizeof(sa->in6);
}

static void sa_to_ep(struct media_ep *e, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

	memset(e, 0, sizeof(*e));
	if (ss->ss_family == AF_INET) {
		e->af = AF_INET;
		e->port = ntohs(in->sin_port);
		memcpy(e->ip, &in->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		e->af = AF_INET6;
		e->port = ntohs(in6->sin6_port);
		memcpy(e->ip, &in6->sin6_addr, 16);
	}
}

/* Per-thread batch buffers: in the relay object would make it large;
 * they are used only inside one call of on_readable(). */
struct batch {
	struct mmsghdr rm[MEDIA_BATCH], sm[MEDIA_BATCH];
	struct iovec riov[MEDIA_BATCH], siov[MEDIA_BATCH];
	struct sockaddr_storage from[MEDIA_BATCH];
	union media_sa to[MEDIA_BATCH];
	uint8_t data[MEDIA_BATCH][MEDIA_PKT_MAX];
};

static void flush(int fd, struct batch *b, unsigned n)
{
	unsigned done = 0;

	while (done < n) {
		int k = sendmmsg(fd, b->sm + done, n - done, MSG_DONTWAIT);

		if (k <= 0) {
			/* A full socket buffer or an unreachable peer:
			 * media is loss tolerant, drop the rest. */
			if (k < 0 && errno == EINTR)
				continue;
			return;
		}
		done += (unsigned)k;
	}
}

/* The receive headers are set up once per thread; recvmmsg changes only
 * msg_len, msg_namelen and msg_flags of the entries it filled, which are
 * reset after use: no per-wake-up initialisation of the whole batch. */
static void batch_init(struct batch *b)
{
	int i;

	for (i = 0; i < MEDIA_BATCH; i++) {
		b->riov[i].iov_base = b->data[i];
		b->riov[i].iov_len = MEDIA_PKT_MAX;
		memset(&b->rm[i].msg_hdr, 0, sizeof(b->rm[i].msg_hdr));
		b->rm[i].msg_hdr.msg_iov = &b->riov[i];
		b->rm[i].msg_hdr.msg_iovlen = 1;
		b->rm[i].msg_hdr.msg_name = &b->from[i];
		b->rm[i].msg_hdr.msg_namelen = sizeof(b->from[i]);
		memset(&b->sm[i].msg_hdr, 0, sizeof(b->sm[i].msg_hdr));
		b->sm[i].msg_hdr.msg_iov = &b->siov[i];
		b->sm[i].msg_hdr.msg_iovlen = 1;
		b->sm[i].msg_hdr.msg_name = &b->to[i];
	}
}

static void on_readable(struct media_relay *r, struct media_sock *sk,
			struct batch *b)
{
	int fd = sk->s->fd[sk->leg][sk->comp], rounds;

	if (fd < 0)
		return; /* closed earlier in this turn */
	/* A few batches per wake-up, then let other sockets have a turn. */
	for (rounds = 0; rounds < 4; rounds++) {
		int k, i, outfd = -1;
		unsigned ns = 0;

		k = recvmmsg(fd, b->rm, MEDIA_BATCH, MSG_DONTWAIT, NULL);
		if (k <= 0)
			return;
		for (i = 0; i < k; i++) {
			struct media_ep src, dst;
			size_t len;
			int ofd;
			bool fwd;
			bool trunc = b->rm[i].msg_hdr.msg_flags & MSG_TRUNC;

			b->rm[i].msg_hdr.msg_namelen = sizeof(b->from[i]);
			b->rm[i].msg_hdr.msg_flags = 0;
			if (trunc)
				continue;
			sa_to_ep(&src, &b->from[i]);
			len = b->rm[i].msg_len;
			media__relay_packet(r, sk, &src, b->data[i], &len, &ofd,
					    &dst, &fwd);
			if (!fwd)
				continue;
			if (ns && ofd != outfd) {
				flush(outfd, b, ns);
				ns = 0;
			}
			outfd = ofd;
			b->siov[ns].iov_base = b->data[i];
			b->siov[ns].iov_len = len;
			b->sm[ns].msg_hdr.msg_namelen =
				ep_to_sa(&b->to[ns], &dst);
			ns++;
		}
		if (ns)
			flush(outfd, b, ns);
		if (k < MEDIA_BATCH)
			return;
	}
}

static void apply_params(struct media_stream *s, const struct media_params *prm)
{
	unsigned l, k;

	for (l = 0; l < 2; l++) {
		const struct media_leg_prm *o = &s->prm.leg[l],
					   *n = &prm->leg[l];

		for (k = 0; k < 2; k++) {
			/* A new address from the signalling: forget what
			 * was learned for the old one. */
			if (!media__ep_eq(&o->sdp[k], &n->sdp[k]) ||
			    !media__ep_ip_eq(&o->nat, &n->nat) ||
			    !s->rt[l].dst[k].port) {
				memset(&s->rt[l].latched[k], 0,
				       sizeof(s->rt[l].latched[k]));
				s->rt[l].dst[k] = n->sdp[k];
				s->rt[l].heard[k] = false;
			}
		}
		if (n->bw && !s->rt[l].tok_ms) {
			s->rt[l].tokens = n->bw;
			s->rt[l].tok_ms = media__mono_ms();
		}
		media__dtls_install(s, l, prm);
		if (prm->srtp_set >> l & 1) {
			struct media_srtp x = prm->srtp[l];

			media__srtp_install(&s->rt[l], &x);
		}
	}
	s->prm = *prm;
	/* The contexts are the legs' now, not the parameters'. */
	memset(s->prm.srtp, 0, sizeof(s->prm.srtp));
	s->prm.srtp_set = 0;
	memset(s->prm.dtls, 0, sizeof(s->prm.dtls));
	s->prm.dtls_set = 0;
}

static void stream_add(struct media_relay *r, struct media_stream *s,
		       const struct media_params *prm)
{
	unsigned l, k;

	memset(s->rt, 0, sizeof(s->rt));
	memset(&s->prm, 0, sizeof(s->prm));
	apply_params(s, prm);
	s->relay = r;
	for (l = 0; l < 2; l++)
		for (k = 0; k < 2; k++) {
			struct epoll_event ev = {.events = EPOLLIN};

			s->sock[l][k].s = s;
			s->sock[l][k].leg = (uint8_t)l;
			s->sock[l][k].comp = (uint8_t)k;
			ev.data.ptr = &s->sock[l][k];
			if (s->fd[l][k] >= 0)
				(void)epoll_ctl(r->epfd, EPOLL_CTL_ADD,
						s->fd[l][k], &ev);
		}
	media__relay_link(r, s);
}

void media__relay_link(struct media_relay *r, struct media_stream *s)
{
	s->rprev = NULL;
	s->rnext = r->streams;
	if (s->rnext)
		s->rnext->rprev = s;
	r->streams = s;
}

static void stream_del(struct media_relay *r, struct media_stream *s)
{
	unsigned l, k;

	media__kf_drop(r, s); /* before the sockets close */
	for (l = 0; l < 2; l++)
		for (k = 0; k < 2; k++)
			if (s->fd[l][k] >= 0) {
				(void)epoll_ctl(r->epfd, EPOLL_CTL_DEL,
						s->fd[l][k], NULL);
				close(s->fd[l][k]);
				s->fd[l][k] = -1;
			}
	media__relay_dead(r, s);
}

/* Unlink s from the relay's streams; DONE goes out at the turn's end. */
void media__relay_dead(struct media_relay *r, struct media_stream *s)
{
	/* The keys go with the call (libsrtp2 zeroes them), whichever
	 * backend closed the stream. */
	media_srtp_free(&s->rt[0].srtp);
	media_srtp_free(&s->rt[1].srtp);
	media__dtls_drop(r, s);
	if (s->rprev)
		s->rprev->rnext = s->rnext;
	else if (r->streams == s)
		r->streams = s->rnext;
	if (s->rnext)
		s->rnext->rprev = s->rprev;
	/* DONE only after this turn's events: one of them may still name
	 * s, and the signalling thread frees s once it reads DONE. */
	s->rprev = NULL;
	s->rnext = r->dead;
	r->dead = s;
}

/* Returns false on STOP. */
static bool drain_cmds(struct media_relay *r)
{
	struct media_cmd c;
	uint64_t v;

	if (read(r->evin, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return true;
	while (media__ring_pop(&r->in, &c)) {
		switch (c.type) {
		case MEDIA_CMD_ADD:
			stream_add(r, c.s, &c.prm);
			break;
		case MEDIA_CMD_UPDATE:
			media__kf_drop(r, c.s);
			apply_params(c.s, &c.prm);
			break;
		case MEDIA_CMD_DEL:
			stream_del(r, c.s);
			break;
		case MEDIA_CMD_STOP:
			return false;
		}
	}
	return true;
}

static void wake(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, the reader is awake anyway. */
	}
}

static void *relay_main(void *arg)
{
	struct media_relay *r = arg;
	static _Thread_local struct batch b;
	struct epoll_event evs[128];
	bool run = true;

	batch_init(&b);

	while (run) {
		uint32_t t0 = atomic_load_explicit(&r->out.tail,
						   memory_order_relaxed);
		int n = epoll_wait(r->epfd, evs, 128, media__dtls_wait(r, 200)),
		    i;

		r->now = media__mono_ms();
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == r)
				run = drain_cmds(r) && run;
			else
				on_readable(r, evs[i].data.ptr, &b);
		}
		media__dtls_run(r); /* DTLS retransmissions, timeouts */
		media__kf_tick(r);  /* kernel fast path counters */
		media__relay_turn_end(r, t0);
	}
	return NULL;
}

/* End of a loop turn: DONE for the streams deleted in it (only now:
 * an event of this turn may still name them), then wake the
 * signalling thread if any note went out since tail t0. */
void media__relay_turn_end(struct media_relay *r, uint32_t t0)
{
	while (r->dead) {
		struct media_note dn = {.type = MEDIA_N_DONE, .s = r->dead};

		/* Never lost: a full ring is retried next turn. */
		if (!media__ring_push(&r->out, &dn))
			break;
		r->dead = dn.s->rnext;
		dn.s->rnext = NULL;
	}
	if (atomic_load_explicit(&r->out.tail, memory_order_relaxed) != t0)
		wake(r->evout);
}

/* Why io_uring may be refused, for the operator reading the warning. */
static const char *uring_hint(int err)
{
	if (err == -EPERM)
		return ": sysctl kernel.io_uring_disabled, or a seccomp policy";
	if (err == -ENOSYS)
		return ": kernel without io_uring, or a seccomp policy";
	return "";
}

int media__relay_start(struct media_relay *r, unsigned idx)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int err;

	r->idx = idx;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	r->evin = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->epfd < 0 || r->evin < 0)
		return -errno;
	err = media__ring_init(&r->in, MEDIA_RING_CAP,
			       sizeof(struct media_cmd));
	if (!err)
		err = media__ring_init(&r->out, MEDIA_RING_CAP,
				       sizeof(struct media_note));
	if (err)
		return err;
	ev.data.ptr = r;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->evin, &ev) < 0)
		return -errno;
	/* The io_uring backend if asked for and the kernel lets us (it
	 * may be disabled by sysctl or a container's seccomp policy). */
	if (r->want_uring && (err = media__uring_init(r)) != 0)
		log_warn("media relay %u: io_uring unavailable (%s%s), using "
			 "epoll",
			 idx, strerror(-err), uring_hint(err));
	err = pthread_create(&r->th, NULL,
			     r->u ? media__uring_main : relay_main, r);
	if (err)
		return -err;
	r->started = true;
	return 0;
}

bool media__relay_cmd(struct media_relay *r, const struct media_cmd *c)
{
	if (!media__ring_push(&r->in, c))
		return false;
	wake(r->evin);
	return true;
}

/* Stop and join the thread; streams it still held are the caller's. */
void media__relay_stop(struct media_relay *r)
{
	if (r->started) {
		struct media_cmd c = {.type = MEDIA_CMD_STOP};

		while (!media__relay_cmd(r, &c))
			usleep(1000);
		pthread_join(r->th, NULL);
		r->started = false;
	}
}

void media__relay_drain(struct media_relay *r)
{
	if (r->in.buf)
		(void)drain_cmds(r);
}

void media__relay_unlink(struct media_relay *r, struct media_stream *s)
{
	struct media_stream **pp;

	for (pp = &r->streams; *pp; pp = &(*pp)->rnext)
		if (*pp == s) {
			*pp = s->rnext;
			if (s->rnext)
				s->rnext->rprev = s->rprev;
			break;
		}
	s->rnext = s->rprev = NULL;
}

void media__relay_fini(struct media_relay *r)
{
	media__uring_fini(r);
	if (r->epfd >= 0)
		close(r->epfd);
	if (r->evin >= 0)
		close(r->evin);
	r->epfd = r->evin = -1;
	media__ring_fini(&r->in);
	media__ring_fini(&r->out);
}

/* ------------------------------------ shared with relay_uring.c */

void media__relay_apply(struct media_stream *s, const struct media_params *prm)
{
	apply_params(s, prm);
}

void media__relay_src(struct media_ep *e, const void *sa, size_t len)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, sa, len < sizeof(ss) ? len : sizeof(ss));
	sa_to_ep(e, &ss);
}

socklen_t media__relay_dst(void *sa, const struct media_ep *e)
{
	return ep_to_sa(sa, e);
}
