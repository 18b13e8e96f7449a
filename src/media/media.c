/*
 * media.c - the media layer on the signalling thread: calls and their
 * streams, relay ports and sockets, hand-over to the relay threads,
 * notes coming back (events, finished closes) and media timeouts; the
 * statistics they feed are read in media_stats.c.
 *
 * A stream's sockets are bound when an offer names the stream (so the
 * ports we advertise are really ours), but the relay only reads them
 * once an answer negotiated it (MEDIA_CMD_ADD): that is the pinhole.
 * Closing sends MEDIA_CMD_DEL; the relay closes the sockets and answers
 * MEDIA_N_DONE, then the ports go to quarantine and the stream is freed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/mem.h"
#include "events/events.h"
#include "media/kfast.h"
#include "media/media_int.h"
#include "sip/sip.h"

enum {
	MEDIA_SETUP_MS = 200000, /* unanswered call forgotten */
	MEDIA_BIND_TRIES = 16,
	MEDIA_FD_RESERVE = 1024, /* descriptors left to SIP, logs... */
};

/* ---------------------------------------------------------- sockets */

static int bind_one(const struct media_ep *local, uint16_t port)
{
	struct sg_addr a;
	struct media_ep e = *local;
	int fd;

	e.port = port;
	media__ep_to_addr(&a, &e);
	fd = socket(e.af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, &a.u.sa, a.len) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* A pair of sockets for leg l of s, on a fresh random port pair. */
static int open_leg(struct media *m, struct media_stream *s, unsigned l)
{
	int t;

	for (t = 0; t < MEDIA_BIND_TRIES; t++) {
		uint16_t port;
		int a, b;

		if (media__ports_get(&m->ports, m->now, &port) != 0) {
			m->st.no_ports++;
			return -EAGAIN;
		}
		a = bind_one(&s->local[l], port);
		b = a >= 0 ? bind_one(&s->local[l], (uint16_t)(port + 1)) : -1;
		if (a >= 0 && b >= 0) {
			s->fd[l][0] = a;
			s->fd[l][1] = b;
			s->port[l] = port;
			return 0;
		}
		if (a >= 0)
			close(a);
		/* Someone else holds it: leave it alone for a while. */
		media__ports_skip(&m->ports, port, m->now);
	}
	return -EAGAIN;
}

static void stream_free(struct media *m, struct media_stream *s)
{
	unsigned l, k;

	media__srtp_wipe(s);
	media__dtls_wipe(s);
	media__sec_free(s);
	for (l = 0; l < 2; l++) {
		for (k = 0; k < 2; k++)
			if (s->fd[l][k] >= 0)
				close(s->fd[l][k]);
		if (s->port[l])
			media__ports_put(&m->ports, s->port[l], m->now);
	}
	m->st.streams--;
	if (!s->handed)
		m->fd_streams--;
	mem_free(s);
}

int media__stream_open(struct media_call *c, unsigned idx,
		       struct media_stream **sp)
{
	struct media *m = c->m;
	struct media_stream *s;
	unsigned l;
	int err;

	if (!c->leg[0].known || !c->leg[1].known)
		return -EINVAL;
	/* Four sockets per stream: refuse (503) before the process runs
	 * out of descriptors, which would hurt the signalling too. */
	if (m->st.streams >= m->max_streams || m->fd_streams >= m->fd_max) {
		m->st.no_ports++;
		return -EAGAIN;
	}
	s = mem_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(s->fd, -1, sizeof(s->fd));
	s->call = c;
	s->idx = idx;
	m->st.streams++;
	m->fd_streams++;
	for (l = 0; l < 2; l++) {
		s->local[l] = c->leg[l].relay;
		err = open_leg(m, s, l);
		if (err) {
			stream_free(m, s);
			return err;
		}
	}
	c->st[idx] = s;
	*sp = s;
	return 0;
}

static void leg_params(const struct media_call *c, const struct media_stream *s,
		       unsigned l, bool mux, struct media_leg_prm *lp)
{
	const struct media_sdp_info *in = &s->sdp[l];
	const struct media_leg *lg = &c->leg[l];

	memset(lp, 0, sizeof(*lp));
	lp->sdp[0] = in->rtp;
	lp->sdp[1] = mux ? in->rtp : in->rtcp;
	lp->mux = mux;
	lp->untrusted = lg->untrusted;
	lp->expect = in->sends;
	lp->bw = c->m->c->policing ? in->bw : 0;
	/* Behind NAT: its SDP names another host than its SIP came from,
	 * or a private one.  Then its SIP source IP may latch (symmetric
	 * RTP), and no other IP. */
	if (lg->sip_known && (!media__ep_ip_eq(&in->rtp, &lg->sip) ||
			      media__ep_private(&in->rtp))) {
		lp->is_nat = true;
		lp->nat = lg->sip;
	}
}

int media__stream_commit(struct media_call *c, struct media_stream *s)
{
	struct media *m = c->m;
	struct media_cmd cmd;
	bool mux = s->sdp[0].mux && s->sdp[1].mux;
	unsigned l;

	if (s->closing)
		return 0;
	memset(&cmd, 0, sizeof(cmd));
	for (l = 0; l < 2; l++)
		leg_params(c, s, l, mux || media__dtls_mux(s, l),
			   &cmd.prm.leg[l]);
	/* The payload types either side listed in this exchange. */
	cmd.prm.pt[0] = s->sdp[0].pt[0] | s->sdp[1].pt[0];
	cmd.prm.pt[1] = s->sdp[0].pt[1] | s->sdp[1].pt[1];
	cmd.prm.raw = s->sdp[0].raw || s->sdp[1].raw;
	cmd.prm.anomaly_drop = m->c->anomaly_drop;
	cmd.prm.scrub_cname = m->c->scrub_cname;
	cmd.prm.max_seq_jump = (uint16_t)m->c->max_seq_jump;
	cmd.prm.max_ts_jump = (uint32_t)m->c->max_ts_jump;
	cmd.s = s;
	cmd.type = s->handed ? MEDIA_CMD_UPDATE : MEDIA_CMD_ADD;
	if (media__srtp_commit(s, &cmd.prm) != 0)
		return -EIO;
	if (media__dtls_commit(m, s, &cmd.prm) != 0) {
		media_srtp_free(&cmd.prm.srtp[0]);
		media_srtp_free(&cmd.prm.srtp[1]);
		return -EIO;
	}
	if (!s->handed) {
		s->relay = &m->relay[m->next_relay++ % m->nrelay];
	}
	if (!media__relay_cmd(s->relay, &cmd)) {
		media_srtp_free(&cmd.prm.srtp[0]);
		media_srtp_free(&cmd.prm.srtp[1]);
		media__dtls_abort(&cmd.prm);
		return -ENOSPC;
	}
	media__srtp_committed(s);
	media__dtls_committed(s);
	if (!s->handed)
		m->fd_streams--;
	s->handed = true;
	return 0;
}

static void fold_stats(struct media_call *c, const struct media_stream *s)
{
	unsigned l;

	for (l = 0; l < 2; l++) {
		media__stats_add(&c->gone[l], &s->st[l]);
		media__stats_add(&c->m->closed, &s->st[l]);
	}
	c->ngone++;
}

void media__stream_close(struct media_call *c, unsigned idx)
{
	struct media *m = c->m;
	struct media_stream *s = c->st[idx];
	struct media_cmd cmd;

	if (!s)
		return;
	c->st[idx] = NULL;
	fold_stats(c, s);
	s->call = NULL;
	if (m->stopped && s->relay)
		media__relay_unlink(s->relay, s);
	if (!s->handed || m->stopped) {
		stream_free(m, s);
		return;
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.type = MEDIA_CMD_DEL;
	cmd.s = s;
	s->closing = true;
	if (!media__relay_cmd(s->relay, &cmd)) {
		/* Ring full: retried from the tick. */
		s->next_dead = m->dying;
		m->dying = s;
	}
}

/* ------------------------------------------------------------ calls */

struct call_key {
	struct str id, tag;
};

static uint64_t call_hash(const struct media *m, struct str id, struct str tag)
{
	uint64_t a = htab_hash(&m->calls, id.p, id.len);

	return a ^
	       (htab_hash(&m->calls, tag.p, tag.len) * 0x9E3779B97F4A7C15ULL);
}

static bool call_eq(const struct hnode *n, const void *key)
{
	const struct media_call *c = HTAB_ENTRY(n, const struct media_call, hn);
	const struct call_key *k = key;

	return c->id_len == k->id.len &&
	       (!k->id.len || !memcmp(c->id, k->id.p, k->id.len)) &&
	       c->tag_len[0] == k->tag.len &&
	       (!k->tag.len || !memcmp(c->tag[0], k->tag.p, k->tag.len));
}

struct media_call *media_call_find(struct media *m, struct str call_id,
				   struct str caller_tag)
{
	struct call_key k = {call_id, caller_tag};
	struct hnode *n;

	if (!m)
		return NULL;
	n = htab_find(&m->calls, call_hash(m, call_id, caller_tag), call_eq,
		      &k);
	return n ? HTAB_ENTRY(n, struct media_call, hn) : NULL;
}

struct media_call *media_call_next(struct media_call *c)
{
	struct call_key k = {media_call_id(c), media_call_tag(c, 0)};
	struct hnode *n = htab_find_next(&c->hn, call_eq, &k);

	return n ? HTAB_ENTRY(n, struct media_call, hn) : NULL;
}

struct media_call *media_call_find_zone(struct media *m, struct str call_id,
					struct str caller_tag, unsigned leg,
					int zone)
{
	struct media_call *c = media_call_find(m, call_id, caller_tag);

	while (c && c->leg[leg & 1].zone_idx != zone)
		c = media_call_next(c);
	return c;
}

int media_call_new(struct media *m, struct str call_id, struct str caller_tag,
		   int caller_zone, uint64_t now_ms, struct media_call **cp)
{
	struct media_call *c;

	if (call_id.len >= MEDIA_ID_MAX || caller_tag.len >= MEDIA_ID_MAX / 2)
		return -E2BIG;
	if (media_call_find_zone(m, call_id, caller_tag, MEDIA_CALLER,
				 caller_zone))
		return -EEXIST;
	if (m->st.calls >= (uint64_t)m->c->max_calls)
		return -ENOSPC;
	c = mem_zalloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->m = m;
	/* An RFC 2543 request may have no From tag: empty slices may
	 * carry a NULL pointer, which memcpy must not see. */
	if (call_id.len)
		memcpy(c->id, call_id.p, call_id.len);
	c->id_len = (uint8_t)call_id.len;
	if (caller_tag.len)
		memcpy(c->tag[0], caller_tag.p, caller_tag.len);
	c->tag_len[0] = (uint8_t)caller_tag.len;
	c->offer_from = -1;
	c->prov_answer = -1;
	c->leg[0].srtp = c->leg[1].srtp = CONF_SRTP_OPTIONAL;
	c->leg[0].srtp_kx = c->leg[1].srtp_kx = CONF_SRTP_KX_ANY;
	c->leg[0].zone_idx = caller_zone;
	c->leg[1].zone_idx = -1;
	c->created_ms = now_ms;
	htab_insert(&m->calls, &c->hn, call_hash(m, call_id, caller_tag));
	c->next = m->list;
	if (c->next)
		c->next->prev = c;
	m->list = c;
	m->st.calls++;
	*cp = c;
	return 0;
}

void media_call_leg(struct media_call *c, unsigned leg,
		    const struct sg_addr *relay, const struct sg_addr *sip_src,
		    bool untrusted, int zone_idx, const char *zone)
{
	struct media_leg *l = &c->leg[leg & 1];

	if (relay) {
		media__ep_from_addr(&l->relay, relay);
		l->relay.port = 0;
		l->known = l->relay.af != 0;
	}
	if (sip_src) {
		media__ep_from_addr(&l->sip, sip_src);
		l->sip.port = 0;
		l->sip_known = l->sip.af != 0;
	}
	l->untrusted = untrusted;
	l->zone_idx = zone_idx;
	l->zone = zone;
}

void media_call_leg_srtp_kx(struct media_call *c, unsigned leg, int kx)
{
	if (c)
		c->leg[leg & 1].srtp_kx = kx;
}

void media_call_leg_srtp(struct media_call *c, unsigned leg, int policy)
{
	c->leg[leg & 1].srtp = policy;
}

bool media_call_leg_known(const struct media_call *c, unsigned leg)
{
	return c->leg[leg & 1].known;
}

void media_call_set_callee_tag(struct media_call *c, struct str tag)
{
	if (tag.len < MEDIA_ID_MAX / 2) {
		if (tag.len)
			memcpy(c->tag[1], tag.p, tag.len);
		c->tag_len[1] = (uint8_t)tag.len;
	}
}

struct str media_call_id(const struct media_call *c)
{
	return str_make(c->id, c->id_len);
}

struct str media_call_tag(const struct media_call *c, unsigned leg)
{
	return str_make(c->tag[leg & 1], c->tag_len[leg & 1]);
}

void media_call_confirmed(struct media_call *c, uint64_t now_ms)
{
	if (!c->confirmed) {
		c->confirmed = true;
		c->confirmed_ms = now_ms;
	}
}

uint16_t media_call_port(const struct media_call *c, unsigned i, unsigned leg)
{
	return i < MEDIA_MAX_STREAMS && c->st[i] ? c->st[i]->port[leg & 1] : 0;
}

void media_call_end(struct media_call *c)
{
	struct media *m;
	unsigned i;

	if (!c)
		return;
	m = c->m;
	for (i = 0; i < MEDIA_MAX_STREAMS; i++)
		media__stream_close(c, i);
	htab_remove(&m->calls, &c->hn);
	if (c->prev)
		c->prev->next = c->next;
	else
		m->list = c->next;
	if (c->next)
		c->next->prev = c->prev;
	m->st.calls--;
	mem_free(c);
}

/* ---------------------------------------------------------- events */

static void emit(struct media *m, const char *type, const char *event,
		 const char *rule, const char *action, const char *zone,
		 const struct media_ep *src, const char *reason)
{
	struct ev e;

	if (!m->ev)
		return;
	memset(&e, 0, sizeof(e));
	e.type = type;
	e.event = event;
	e.rule = rule;
	e.action = action;
	e.zone = zone;
	e.transport = "UDP";
	if (src && src->af)
		media__ep_to_addr(&e.src, src);
	e.reason = str_cstr(reason);
	(void)evlog_emit(m->ev, &e, m->now, m->wall);
}

void media__emit(struct media *m, const char *type, const char *event,
		 const char *rule, const char *action, const char *zone,
		 const struct media_ep *src, const char *reason)
{
	emit(m, type, event, rule, action, zone, src, reason);
}

static const char *anomaly_name(unsigned a)
{
	switch (a) {
	case MEDIA_A_SSRC:
		return "ssrc change";
	case MEDIA_A_SEQ:
		return "sequence jump";
	case MEDIA_A_TS:
		return "timestamp jump";
	case MEDIA_A_PT:
		return "payload type not negotiated";
	default:
		return "malformed packet";
	}
}

static void on_note(struct media *m, const struct media_note *n)
{
	struct media_stream *s = n->s;
	const struct media_call *c = s->call;
	const char *zone = c ? c->leg[n->leg].zone : NULL;
	char why[96];

	switch (n->type) {
	case MEDIA_N_DONE:
		stream_free(m, s);
		return;
	case MEDIA_N_INJECT:
		m->st.injected++;
		snprintf(why, sizeof(why), "not the %s of relay port %u",
			 n->leg ? "callee" : "caller", s->port[n->leg]);
		emit(m, EV_DROP, "rtp-injection", "media-source", EV_ACT_DROP,
		     zone, &n->src, why);
		return;
	case MEDIA_N_SRTP:
		m->st.srtp_fail++;
		snprintf(why, sizeof(why), "%s, port %u",
			 n->what == 2 ? "replayed SRTP packet"
				      : "SRTP authentication failed",
			 s->port[n->leg]);
		emit(m, EV_DROP, "srtp-auth-failure", "srtp", EV_ACT_DROP, zone,
		     &n->src, why);
		return;
	case MEDIA_N_DTLS:
		media__dtls_note(m, s, n->leg, n->what, n->count);
		return;
	case MEDIA_N_POLICED:
		m->st.policed++;
		snprintf(why, sizeof(why), "over the negotiated rate, port %u",
			 s->port[n->leg]);
		emit(m, EV_DROP, "media-bandwidth", "media-policing",
		     EV_ACT_DROP, zone, &n->src, why);
		return;
	default:
		m->st.anomalies++;
		snprintf(why, sizeof(why), "%s, port %u", anomaly_name(n->what),
			 s->port[n->leg]);
		/* Malformed packets and foreign payload types are always
		 * dropped; continuity anomalies only with anomaly_drop. */
		if (n->what >= MEDIA_A_PT || m->c->anomaly_drop)
			emit(m, EV_DROP, "media-anomaly", "rtp-sanity",
			     EV_ACT_DROP, zone, NULL, why);
		else
			emit(m, EV_WOULD_DROP, "media-anomaly", "rtp-sanity",
			     EV_ACT_PASS, zone, NULL, why);
	}
}

void media_poll(struct media *m, uint64_t now_ms, uint64_t wall_ms)
{
	struct media_note n;
	uint64_t v;
	unsigned i;

	if (!m)
		return;
	m->now = now_ms;
	m->wall = wall_ms;
	if (read(m->evfd, &v, sizeof(v)) < 0) {
		/* EAGAIN: woken for notes already read. */
	}
	for (i = 0; i < m->nrelay; i++)
		while (media__ring_pop(&m->relay[i].out, &n))
			on_note(m, &n);
}

/* ------------------------------------------------------------ tick */

/* Latest packet of the call from a leg expected to send; 0: none. */
static bool call_expects(const struct media_call *c, uint64_t *lastp)
{
	bool expect = false;
	unsigned i, l;

	*lastp = 0;
	for (i = 0; i < MEDIA_MAX_STREAMS; i++) {
		const struct media_stream *s = c->st[i];

		if (!s || !s->handed)
			continue;
		for (l = 0; l < 2; l++) {
			uint64_t t = MEDIA_LD(s->st[l].last_rx);

			/* Held (sendonly/inactive) sides are not expected
			 * to send; their silence is no timeout. */
			if (s->sdp[l].sends && s->sdp[1 - l].sends)
				expect = true;
			if (t > *lastp)
				*lastp = t;
		}
	}
	return expect;
}

/* mono: the loop's CLOCK_MONOTONIC ms, the relay's clock too. */
static void check_timeout(struct media *m, struct media_call *c, uint64_t mono)
{
	uint64_t last;
	char why[64];

	if (!c->confirmed || c->timed_out || !call_expects(c, &last))
		return;
	if (last < c->confirmed_ms)
		last = c->confirmed_ms;
	/* A relay thread stamps packets with its own, fresher reading of
	 * the clock: last may be ahead of the loop's cached mono (the
	 * unsigned difference would wrap and end a live call). */
	if (last >= mono || mono - last < (uint64_t)m->c->timeout)
		return;
	c->timed_out = true;
	m->st.timeouts++;
	snprintf(why, sizeof(why), "no media for %llu s",
		 (unsigned long long)((mono - last) / 1000));
	emit(m, m->c->end_call_on_timeout ? EV_DROP : EV_WOULD_DROP,
	     "media-timeout", "media-timeout",
	     m->c->end_call_on_timeout ? "bye" : EV_ACT_PASS, c->leg[0].zone,
	     NULL, why);
	if (m->c->end_call_on_timeout && m->on_timeout)
		m->on_timeout(m->arg, c); /* may end c */
}

void media_tick(struct media *m, uint64_t now_ms, uint64_t wall_ms)
{
	struct media_call *c, *next;

	if (!m)
		return;
	m->now = now_ms;
	m->wall = wall_ms;
	while (m->dying) {
		struct media_stream *s = m->dying;
		struct media_cmd cmd = {.type = MEDIA_CMD_DEL, .s = s};

		if (!media__relay_cmd(s->relay, &cmd))
			break;
		m->dying = s->next_dead;
	}
	for (c = m->list; c; c = next) {
		next = c->next;
		if (!c->confirmed && now_ms - c->created_ms > MEDIA_SETUP_MS) {
			media_call_end(c);
			continue;
		}
		check_timeout(m, c, now_ms);
	}
	/* An interface listing held back by a burst of link events. */
	media_kernel_poll(m, now_ms);
}

/* ------------------------------------------------------- lifecycle */

/* Raise the soft descriptor limit to the hard one (no privilege
 * needed); what is left after a reserve is the relay's. */
static uint64_t fd_budget(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return UINT32_MAX;
	return rl.rlim_cur > MEDIA_FD_RESERVE
		       ? (uint64_t)rl.rlim_cur - MEDIA_FD_RESERVE
		       : 0;
}

int media_fd(const struct media *m)
{
	return m ? m->evfd : -1;
}

int media_new(struct media **mp, const struct sg_conf_media *conf,
	      struct evlog *ev, media_timeout_fn *on_timeout, void *arg)
{
	struct media *m;
	uint64_t seed = 0;
	unsigned i;
	int err;

	if (!mp || !conf || conf->threads < 1 ||
	    conf->threads > MEDIA_MAX_THREADS)
		return -EINVAL;
	m = mem_zalloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->c = conf;
	m->ev = ev;
	m->on_timeout = on_timeout;
	m->arg = arg;
	for (i = 0; i < MEDIA_MAX_THREADS; i++)
		m->relay[i].epfd = m->relay[i].evin = -1;
	m->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->evfd < 0) {
		err = -errno;
		goto fail;
	}
	m->max_streams = fd_budget() / 4;
	m->fd_max = m->max_streams;
	err = media_srtp_init();
	if (!err)
		err = media__dtls_init(m);
	if (err)
		goto fail;
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
		err = -EIO;
		goto fail;
	}
	err = media__ports_init(&m->ports, (uint16_t)conf->port_min,
				(uint16_t)conf->port_max,
				(uint32_t)conf->quarantine, seed);
	if (!err)
		err = htab_init(&m->calls, 1024);
	if (!err && !(m->sdp = mem_alloc(sizeof(*m->sdp))))
		err = -ENOMEM;
	if (!err)
		err = media__kernel_open(m);
	if (err)
		goto fail;
	for (i = 0; i < (unsigned)conf->threads; i++) {
		m->relay[i].kf = m->kf;
		m->relay[i].evout = m->evfd;
		m->relay[i].want_uring = conf->io == CONF_MEDIA_IO_URING;
		m->nrelay++;
		err = media__relay_start(&m->relay[i], i);
		if (err)
			goto fail;
		/* io_uring: the relay's sockets live in its own table. */
		m->max_streams += media__uring_slots(&m->relay[i]) / 4;
	}
	*mp = m;
	return 0;
fail:
	media_free(m);
	return err;
}

void media_free(struct media *m)
{
	unsigned i;

	if (!m)
		return;
	for (i = 0; i < m->nrelay; i++) {
		media__relay_stop(&m->relay[i]);
		media__relay_drain(&m->relay[i]);
	}
	/* The threads are gone: every stream is ours again. */
	m->stopped = true;
	while (m->list)
		media_call_end(m->list);
	while (m->dying) {
		struct media_stream *s = m->dying;

		m->dying = s->next_dead;
		media__relay_unlink(s->relay, s);
		stream_free(m, s);
	}
	for (i = 0; i < m->nrelay; i++) {
		struct media_relay *r = &m->relay[i];
		struct media_note n;

		while (r->out.buf && media__ring_pop(&r->out, &n))
			if (n.type == MEDIA_N_DONE)
				stream_free(m, n.s);
		while (r->dead) {
			struct media_stream *s = r->dead;

			r->dead = s->rnext;
			stream_free(m, s);
		}
		while (r->streams) {
			struct media_stream *s = r->streams;

			r->streams = s->rnext;
			stream_free(m, s);
		}
		media__relay_fini(r);
	}
	kfast_close(m->kf); /* the threads are gone */
	m->kf = NULL;
	htab_fini(&m->calls);
	media__dtls_fini(m);
	mem_free(m->sdp);
	media__ports_fini(&m->ports);
	if (m->evfd >= 0)
		close(m->evfd);
	mem_free(m);
}
