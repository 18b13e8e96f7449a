/*
 * kfast_relay.c - the relay thread's side of the kernel fast path
 * (media.kernel, issue 6), the same for both backends: which direction
 * of a stream the kernel may carry, installing it, taking its counters
 * and RTP state back, removing it.
 *
 * A direction (what leg L sends us, relayed to leg O) is installed only
 * after the relay itself accepted and relayed an RTP packet of it, so
 * the source is the exact one it checked (and latched, behind NAT), and
 * the SSRC, sequence and timestamp the kernel continues from are the
 * ones it saw.  Never installed: raw (non-RTP) streams, SRTP or
 * DTLS-SRTP on either leg, a leg not expected to send (hold), a NAT leg
 * O not heard yet (its address is not known: no packet of it accepted,
 * from its SDP address or its latched one), RTCP.  The kernel forwards
 * to O's address as it was at install: when that moves (a NAT leg
 * sending from its SDP address, then from its latched one, or back),
 * both directions are removed at once (media__kf_moved) and installed
 * again from the next packets, so the kernel never forwards to an
 * address the relay has left.  The kernel hands
 * every packet it does not like to the socket, and the relay first
 * takes the kernel's state back (sync) so that its checks continue from
 * the last packet forwarded, not from the one before the install.
 *
 * Counters: the kernel's are cumulative per installed direction; the
 * relay adds what is new to the leg's statistics (single writer, as
 * for its own packets) every KF_MERGE_MS, before a change, and before
 * the direction is removed.  So call records, metrics and the media
 * timeout see kernel-relayed packets at most KF_MERGE_MS late.
 *
 * A direction whose packets the program never sees (they arrive on an
 * interface it is not attached to: one media.kernel_interfaces leaves
 * out, a tun) would cost every packet a map lookup here for nothing:
 * once KF_UNSEEN_PKTS came here while the kernel counted none of them,
 * forwarded or handed up, it is removed and not installed again for
 * KF_UNSEEN_MS (the interface may be attached later).  Only packets
 * from the installed source count (a stranger's never reach this).
 *
 * Also media__kernel_open(), the signalling thread's load at start, and
 * media_kernel_fd()/media_kernel_poll(), its watch for interfaces added
 * later (kfast_link.c).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "core/conf.h"
#include "core/log.h"
#include "media/kfast.h"
#include "media/media_int.h"

enum {
	KF_MERGE_MS = 500,    /* counters and last_rx at most this late */
	KF_RETRY_MS = 1000,   /* a direction re-installed at most this often */
	KF_UNSEEN_PKTS = 50,  /* here, not one seen by the program: */
	KF_UNSEEN_MS = 30000, /* removed, not installed again for this long */
};

static bool ep_any(const struct media_ep *e)
{
	static const uint8_t zero[16];

	return !memcmp(e->ip, zero, e->af == AF_INET ? 4 : 16);
}

static void key_of(struct kf_key *k, const struct media_stream *s, unsigned L,
		   const struct media_ep *src)
{
	unsigned alen = src->af == AF_INET ? 4 : 16;

	memset(k, 0, sizeof(*k));
	k->family = src->af;
	k->lport = htons(s->port[L]);
	k->sport = htons(src->port);
	memcpy(k->laddr, s->local[L].ip, alen);
	memcpy(k->saddr, src->ip, alen);
}

/* May the kernel carry L -> O, the packet from src just relayed? */
static bool eligible(const struct media_stream *s, unsigned L,
		     const struct media_ep *src)
{
	unsigned O = 1u - L;
	const struct media_leg_rt *rl = &s->rt[L], *ro = &s->rt[O];
	const struct media_ep *dst = &ro->dst[MEDIA_RTP];

	if (s->prm.raw || !s->prm.leg[L].expect || !rl->have_seq)
		return false;
	if (rl->srtp.rx || rl->srtp.tx || rl->dtls_on || ro->srtp.rx ||
	    ro->srtp.tx || ro->dtls_on)
		return false;
	/* Behind NAT, its SDP address is only a guess until it sent: the
	 * kernel forwards where its packets come from, as the relay. */
	if (s->prm.leg[O].is_nat && !ro->heard[MEDIA_RTP])
		return false;
	if (!dst->port || dst->af != src->af || s->local[L].af != src->af ||
	    s->local[O].af != src->af || !s->port[L] || !s->port[O])
		return false;
	return !ep_any(&s->local[L]) && !ep_any(&s->local[O]);
}

/* The kernel's counters and (if it forwarded since) RTP state into the
 * leg's.  false: the direction is gone. */
static bool merge(struct media_relay *r, struct media_stream *s, unsigned L)
{
	struct media_leg_rt *rt = &s->rt[L];
	struct media_leg_stats *st = &s->st[L];
	struct kf_key k;
	struct kf_val v;

	key_of(&k, s, L, &rt->kf_src);
	if (kfast_get(r->kf, &k, &v) != 0)
		return false;
	if (v.pkts != rt->kf_pkts || v.up)
		rt->kf_seen = true;
	if (v.pkts != rt->kf_pkts) {
		uint64_t last = v.last_ns / 1000000;

		MEDIA_ADD(st->pkts, v.pkts - rt->kf_pkts);
		MEDIA_ADD(st->kernel, v.pkts - rt->kf_pkts);
		MEDIA_ADD(st->bytes, v.bytes - rt->kf_bytes);
		if (last > MEDIA_LD(st->last_rx))
			MEDIA_ST(st->last_rx, last);
		rt->kf_pkts = v.pkts;
		rt->kf_bytes = v.bytes;
		/* Its state is newer than ours. */
		rt->ssrc = v.ssrc;
		rt->seq = v.seq;
		rt->ts = v.ts;
		if (v.tok_ns) {
			rt->tokens = v.tokens;
			rt->tok_ms = v.tok_ns / 1000000;
		}
	}
	return true;
}

/* Direction L -> O out of the kernel, its counters merged first. */
static void remove_dir(struct media_relay *r, struct media_stream *s,
		       unsigned L)
{
	struct media_leg_rt *rt = &s->rt[L];
	struct kf_key k;

	if (!rt->kf_on)
		return;
	(void)merge(r, s, L);
	key_of(&k, s, L, &rt->kf_src);
	(void)kfast_del(r->kf, &k);
	rt->kf_on = false;
}

/* One more packet of an installed direction came here, and the program
 * has not seen one since the install: after KF_UNSEEN_PKTS, ask the
 * kernel once; still none, the direction goes (header comment). */
static bool unseen(struct media_relay *r, struct media_stream *s, unsigned L)
{
	struct media_leg_rt *rt = &s->rt[L];

	if (rt->kf_seen || ++rt->kf_unseen < KF_UNSEEN_PKTS)
		return false;
	rt->kf_sync_ms = r->now;
	if (!merge(r, s, L))
		rt->kf_on = false;
	else if (!rt->kf_seen) {
		remove_dir(r, s, L);
		rt->kf_back_ms = r->now + KF_UNSEEN_MS;
	}
	return true;
}

void media__kf_sync(struct media_relay *r, struct media_stream *s, unsigned L)
{
	struct media_leg_rt *rt = &s->rt[L];

	if (!r->kf || !rt->kf_on || unseen(r, s, L))
		return;
	/* Once per loop turn's clock tick: within a millisecond the state
	 * cannot move by a jump the checks would notice. */
	if (rt->kf_sync_ms == r->now)
		return;
	rt->kf_sync_ms = r->now;
	if (!merge(r, s, L))
		rt->kf_on = false;
}

static void install(struct media_relay *r, struct media_stream *s, unsigned L,
		    const struct media_ep *src)
{
	struct media_leg_rt *rt = &s->rt[L];
	unsigned O = 1u - L, alen = src->af == AF_INET ? 4 : 16;
	const struct media_ep *dst = &s->rt[O].dst[MEDIA_RTP];
	struct kf_key k;
	struct kf_val v;
	uint32_t oif;

	/* The device the relay socket would send from: a party of this
	 * host is delivered by the stack, others leave by that device. */
	if (kfast_route(dst->af, s->local[O].ip, dst->ip, &oif) != 0)
		return;
	if (rt->kf_on && media__ep_eq(&rt->kf_src, src)) {
		(void)merge(r, s, L);
	} else {
		/* Another source: its entry would be left in the map,
		 * unowned, past the call's end. */
		remove_dir(r, s, L);
		rt->kf_pkts = rt->kf_bytes = 0;
	}
	key_of(&k, s, L, src);
	memset(&v, 0, sizeof(v));
	memcpy(v.nsrc, s->local[O].ip, alen);
	memcpy(v.ndst, dst->ip, alen);
	v.nsport = htons(s->port[O]);
	v.ndport = htons(dst->port);
	v.ssrc = rt->ssrc;
	v.seq = rt->seq;
	v.ts = rt->ts;
	v.max_seq_jump = s->prm.max_seq_jump;
	v.max_ts_jump = s->prm.max_ts_jump;
	v.pt[0] = s->prm.pt[0];
	v.pt[1] = s->prm.pt[1];
	v.bw = s->prm.leg[L].bw;
	v.oif = oif;
	v.tokens = rt->tokens;
	v.tok_ns = rt->tok_ms * 1000000;
	v.pkts = rt->kf_pkts;
	v.bytes = rt->kf_bytes;
	if (kfast_put(r->kf, &k, &v) != 0) {
		/* Map full: this direction stays with the relay. */
		rt->kf_on = false;
		return;
	}
	rt->kf_on = true;
	rt->kf_src = *src;
	rt->kf_seen = false;
	rt->kf_unseen = 0;
	r->kf_installs++;
}

void media__kf_relayed(struct media_relay *r, struct media_stream *s,
		       unsigned L, const struct media_ep *src)
{
	struct media_leg_rt *rt = &s->rt[L];

	/* Installed and working, a packet comes here only when the kernel
	 * handed it up: re-install (new SSRC...) not more than once in a
	 * while, as a packet it can never deliver comes up every time. */
	if (!r->kf || (rt->kf_try_ms && r->now - rt->kf_try_ms < KF_RETRY_MS) ||
	    r->now < rt->kf_back_ms)
		return;
	if (!eligible(s, L, src))
		return;
	rt->kf_try_ms = r->now ? r->now : 1;
	install(r, s, L, src);
}

void media__kf_drop(struct media_relay *r, struct media_stream *s)
{
	unsigned L;

	if (!r->kf)
		return;
	for (L = 0; L < 2; L++) {
		/* New parameters: install at once. */
		s->rt[L].kf_try_ms = s->rt[L].kf_back_ms = 0;
		remove_dir(r, s, L);
	}
}

void media__kf_moved(struct media_relay *r, struct media_stream *s)
{
	/* Both: the direction to the leg forwards to its old address, the
	 * one from it is keyed by it.  The retry limit stays: a party (or
	 * a spoofer of its SDP address) flapping between two addresses
	 * costs one install a second, not one per packet. */
	if (!r->kf)
		return;
	remove_dir(r, s, 0);
	remove_dir(r, s, 1);
}

void media__kf_tick(struct media_relay *r)
{
	struct media_stream *s;
	unsigned L;

	if (!r->kf || r->now - r->kf_merge_ms < KF_MERGE_MS)
		return;
	r->kf_merge_ms = r->now;
	for (s = r->streams; s; s = s->rnext)
		for (L = 0; L < 2; L++)
			if (s->rt[L].kf_on && !merge(r, s, L))
				s->rt[L].kf_on = false;
}

/* media.kernel_interfaces matched nothing up with an address at start
 * (kfast_open waits for it): `on` promised the kernel path from the
 * first call, and a typo must not pass as "later", so it refuses;
 * `auto` starts and says so. */
static int kernel_none(struct media *m)
{
	if (m->c->kernel == CONF_MEDIA_KERNEL_ON) {
		log_err("media.kernel: on, but no interface of "
			"media.kernel_interfaces is up with an address "
			"(auto would start and attach when one appears)");
		kfast_close(m->kf);
		m->kf = NULL;
		return -ENODEV;
	}
	log_warn("media.kernel: auto: no interface of "
		 "media.kernel_interfaces is up with an address yet: media "
		 "is relayed in userspace until one appears");
	return 0;
}

/* media.kernel: load and attach the fast path (before the privileges
 * are dropped: it needs CAP_BPF and CAP_NET_ADMIN).  Its map holds both
 * directions of as many streams as max_calls calls of two streams. */
int media__kernel_open(struct media *m)
{
	uint64_t n = (uint64_t)m->c->max_calls * 4;
	const char *ifs[KF_PATS_MAX];
	size_t nifs = m->c->n_kernel_interfaces, i;
	char why[160];
	int err;

	if (m->c->kernel == CONF_MEDIA_KERNEL_OFF)
		return 0;
	if (n > (1u << 20))
		n = 1u << 20;
	_Static_assert((int)CONF_MAX_KIFS <= (int)KF_PATS_MAX,
		       "kernel_interfaces");
	for (i = 0; i < nifs; i++)
		ifs[i] = m->c->kernel_interfaces[i];
	err = kfast_open(&m->kf, (uint32_t)n, ifs, nifs, why, sizeof(why));
	if (!err)
		return kfast_nlinks(m->kf) ? 0 : kernel_none(m);
	if (m->c->kernel == CONF_MEDIA_KERNEL_ON) {
		log_err("media.kernel: on, but the kernel path cannot load: %s",
			why);
		return err;
	}
	log_warn("media.kernel: auto: relaying in userspace, the kernel path "
		 "cannot load: %s",
		 why);
	return 0;
}

int media_kernel_fd(const struct media *m)
{
	return m ? kfast_watch_fd(m->kf) : -1;
}

void media_kernel_poll(struct media *m, uint64_t now_ms)
{
	if (m && m->kf)
		(void)kfast_watch(m->kf, now_ms);
}
