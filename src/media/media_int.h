/*
 * media_int.h - private to the media layer: the port allocator, the
 * single-producer single-consumer rings between the signalling thread
 * and the relay threads, the stream object both sides share (each field
 * has one writer, noted below) and the SDP anchoring helpers.
 *
 * Object tree (each parent frees its children):
 *   struct media (signalling thread)
 *     -> relays[] (one thread each, with its rings and epoll)
 *     -> calls (hash table) -> streams[] (sockets, relay state)
 * A stream is allocated and freed by the signalling thread only.  From
 * MEDIA_CMD_ADD until the relay answers MEDIA_N_DONE to MEDIA_CMD_DEL,
 * the relay thread owns its `rt` part and its sockets; the signalling
 * thread then only reads the statistics (relaxed atomic loads of values
 * the relay stores with relaxed atomic stores: no lock, no RMW).
 */
#ifndef SIPGUARD_MEDIA_INT_H
#define SIPGUARD_MEDIA_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/htab.h"
#include "core/str.h"
#include "media/media.h"
#include "media/srtp.h"
#include "sip/sdp_dtls.h"
#include "sip/sip.h"

struct sdp_sess;
struct dtls_conn;
struct dtls_ctx;
struct kfast;
struct sdp_bld;
struct buf;

/* Relaxed single-writer counters (see above). */
#define MEDIA_LD(x)     __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define MEDIA_ST(x, v)  __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define MEDIA_ADD(x, v) MEDIA_ST(x, MEDIA_LD(x) + (v))

/* ------------------------------------------------------------- ports */

/* RTP/RTCP port pairs (even, even+1) of [min, max], chosen at random;
 * a pair given back is quarantined before reuse. */
struct media_ports {
	uint16_t base;
	uint32_t npairs;
	uint64_t *until; /* 0: free; UINT64_MAX: in use; else ms */
	uint64_t rng;
	uint32_t quarantine_ms;
	uint32_t used;
};

int media__ports_init(struct media_ports *pp, uint16_t min, uint16_t max,
		      uint32_t quarantine_ms, uint64_t seed);
void media__ports_fini(struct media_ports *pp);
/* A free pair's even port into *portp: 0, or -EAGAIN (none free). */
int media__ports_get(struct media_ports *pp, uint64_t now_ms, uint16_t *portp);
/* Give a pair back (quarantined from now_ms). */
void media__ports_put(struct media_ports *pp, uint16_t port, uint64_t now_ms);
/* A pair we could not bind (another process has it): skip it for a
 * while, as if quarantined. */
void media__ports_skip(struct media_ports *pp, uint16_t port, uint64_t now_ms);

/* ------------------------------------------------------------- rings */

/* Single producer, single consumer, fixed-size elements; head and tail
 * on their own cache lines.  Capacity a power of two. */
struct media_ring {
	_Alignas(64) _Atomic uint32_t head; /* consumer */
	_Alignas(64) _Atomic uint32_t tail; /* producer */
	_Alignas(64) uint32_t mask;
	uint32_t esz;
	uint8_t *buf;
};

int media__ring_init(struct media_ring *r, uint32_t cap_pow2, uint32_t esz);
void media__ring_fini(struct media_ring *r);
bool media__ring_push(struct media_ring *r, const void *e);
bool media__ring_pop(struct media_ring *r, void *e);

/* --------------------------------------------------------- endpoints */

struct media_ep {
	uint8_t af;    /* 0: unknown, AF_INET, AF_INET6 */
	uint16_t port; /* host order; 0: unknown */
	uint8_t ip[16];
};

bool media__ep_eq(const struct media_ep *a, const struct media_ep *b);
bool media__ep_ip_eq(const struct media_ep *a, const struct media_ep *b);
void media__ep_from_addr(struct media_ep *e, const struct sg_addr *a);
void media__ep_to_addr(struct sg_addr *a, const struct media_ep *e);
/* RFC 1918, RFC 6598 (CGN), RFC 4193 (ULA), link-local. */
bool media__ep_private(const struct media_ep *e);

/* What one leg's latest SDP says about a stream. */
struct media_sdp_info {
	struct media_ep rtp, rtcp;
	bool present;
	bool mux;
	bool sends;  /* sendrecv/sendonly (or not stated) */
	bool raw;    /* not RTP (udptl...): relay without checks */
	uint32_t bw; /* bytes/s, margin included; 0: off */
	uint64_t pt[2];
};

/* ------------------------------------------------- SDES state (sig) */

enum {
	MEDIA_SRTP_OFFER_MAX = 4, /* a=crypto lines we offer a leg */
};

/* What the last SDP we sent a leg said about SRTP. */
enum media_srtp_send {
	MEDIA_SS_KEEP = 0, /* not an RTP/AVP(F) or SAVP(F) stream: as is */
	MEDIA_SS_PLAIN,    /* RTP/AVP(F), no a=crypto */
	MEDIA_SS_OFFER,    /* RTP/SAVP(F) with offer[] */
	MEDIA_SS_ANSWER,   /* RTP/SAVP(F) with tag, suite, mkey */
};

/* One line of an SDES offer we made a leg. */
struct media_srtp_off {
	uint32_t tag;
	int suite;
	uint8_t key[SDP_SRTP_KEY_MAX];
};

/* SDES state of one leg of a stream (signalling thread; secrets,
 * wiped when the stream is freed, never logged). */
struct media_srtp_leg {
	bool sdes;     /* negotiated: the leg speaks SRTP */
	bool rkey_new; /* keys changed: new contexts at the next commit */
	uint8_t send;  /* enum media_srtp_send */
	uint8_t noffer;
	int suite;
	uint32_t tag;
	uint8_t mkey[SDP_SRTP_KEY_MAX]; /* ours: we send the leg with it */
	struct sdp_srtp_key rkey;       /* its: it sends us with it */
	struct media_srtp_off offer[MEDIA_SRTP_OFFER_MAX];
};

/* ------------------------------------------- DTLS-SRTP state (sig) */

/* What the last SDP we sent a leg said about DTLS-SRTP (dtls_sdp.c). */
enum media_dtls_send {
	MEDIA_DS_NONE = 0, /* no DTLS attributes (any are removed) */
	MEDIA_DS_OFFER,    /* UDP/TLS/RTP/SAVP(F), our fingerprint, setup */
	MEDIA_DS_ANSWER,   /* same, in an answer */
};

/* DTLS-SRTP state of one leg of a stream (signalling thread). */
struct media_dtls_sig {
	bool on;              /* the leg speaks DTLS-SRTP */
	bool client;          /* we send the ClientHello on it */
	bool conn_new;        /* a new conn (or none, !on) at the next commit */
	uint8_t send;         /* enum media_dtls_send */
	uint8_t setup;        /* enum sdp_setup we state to it */
	bool fb;              /* its last offer had a feedback profile (AVPF) */
	uint64_t tls_id;      /* hash of its a=tls-id (RFC 8842), 0: none */
	struct sdp_dtls peer; /* its fingerprints (tls_id slice cleared) */
};

/* ------------------------------------------------ secure state (sig) */

/*
 * What a stream keeps only once a leg negotiated SDES or DTLS-SRTP
 * (sec.c): allocated by the signalling thread, freed with the stream
 * (after MEDIA_N_DONE), wiped first (SDES keys).  A plain stream has
 * none (st->sec NULL): its state is then srtp_sig[l].send ==
 * plain_send[l], dtls_sig[l].fb == bit l of plain_fb, every other byte
 * zero.
 */
struct media_stream_sec {
	struct media_srtp_leg srtp_sig[2]; /* SDES state per leg (secret) */
	struct media_dtls_sig dtls_sig[2]; /* signalling thread */
	/* Why a leg's DTLS handshake failed: written once by the relay
	 * before its MEDIA_N_DTLS note, read after it (a stream with a
	 * DTLS conn always has its sec). */
	char dtls_reason[2][96];
};

/* ------------------------------------------------------------ stream */

enum { MEDIA_RTP = 0, MEDIA_RTCP = 1 };

/* What the signalling says about one leg of a stream. */
struct media_leg_prm {
	struct media_ep sdp[2]; /* RTP, RTCP as its SDP states them */
	struct media_ep nat;    /* NAT: its SIP source IP may latch */
	bool is_nat;
	bool mux;       /* it sends RTCP on the RTP port */
	bool untrusted; /* scrub CNAME of its RTCP */
	bool expect;    /* it should send (not inactive/recvonly) */
	uint32_t bw;    /* policing, bytes/s; 0: off */
};

struct media_params {
	struct media_leg_prm leg[2];
	uint64_t pt[2]; /* payload types allowed: bits 0-63, 64-127 */
	bool anomaly_drop;
	bool scrub_cname;
	bool raw; /* not RTP: source check only */
	uint16_t max_seq_jump;
	uint32_t max_ts_jump;
	/* srtp_set bit l: install srtp[l] (empty: plain) on leg l; the
	 * relay takes ownership of the contexts.  dtls_set bit l: leg l's
	 * DTLS conn becomes dtls[l] (NULL: the leg is not DTLS-SRTP any
	 * more); the relay takes ownership. */
	uint8_t srtp_set, dtls_set;
	struct media_srtp srtp[2];
	struct dtls_conn *dtls[2];
};

/* Counters of what one leg sent us (written by the relay only). */
struct media_leg_stats {
	uint64_t pkts, bytes; /* relayed */
	uint64_t kernel;      /* of pkts, relayed by the kernel fast path */
	uint64_t rtcp;        /* RTCP packets relayed */
	uint64_t dropped;     /* malformed, wrong PT, policed */
	uint64_t injected;    /* from a source not allowed */
	uint64_t anomalies;   /* SSRC / seq / ts jumps */
	uint64_t policed;
	uint64_t srtp_auth;   /* SRTP/SRTCP failing authentication */
	uint64_t srtp_replay; /* SRTP/SRTCP replayed or too old */
	uint32_t rr_lost;     /* its last RR: cumulative lost */
	uint32_t rr_jitter;   /* its last RR: jitter (ts units) */
	uint8_t rr_fraction;
	uint64_t last_rx; /* monotonic ms of its last packet */
};

struct media_stream;
struct media_relay;

/* Epoll user data: which socket of which stream. */
struct media_sock {
	struct media_stream *s;
	uint8_t leg, comp;
};

/* Relay-thread state of one leg (what it sends us). */
struct media_leg_rt {
	struct media_ep latched[2]; /* NAT: learned source per comp */
	struct media_ep dst[2];     /* where we send to this leg */
	bool heard[2]; /* dst[k] is where an accepted packet came from */
	uint32_t ssrc, ts;
	uint16_t seq;
	bool have_seq;
	uint64_t tokens, tok_ms; /* policing bucket (bytes) */
	uint64_t ev_ms;          /* last event reported (limit) */
	struct media_srtp srtp;  /* empty: plain RTP on this leg */
	/* DTLS-SRTP (dtls_leg.c): dtls_on: the leg is keyed by DTLS, no
	 * plain packet passes either way; dtls NULL once shrunk/failed. */
	struct dtls_conn *dtls;
	uint64_t dtls_t0; /* installed (ms), for the handshake time */
	bool dtls_on, dtls_keyed;
	/* Kernel fast path (kfast_relay.c): this direction is in the
	 * kernel's map, keyed by kf_src; its counters as last merged. */
	bool kf_on;
	struct media_ep kf_src;
	uint64_t kf_pkts, kf_bytes;
	uint64_t kf_try_ms, kf_sync_ms;
	/* The program saw this direction's packets since the install;
	 * else how many came here instead; no install before kf_back_ms. */
	bool kf_seen;
	uint32_t kf_unseen;
	uint64_t kf_back_ms;
};

struct media_stream {
	/* Signalling thread. */
	struct media_call *call;
	unsigned idx;                 /* m-line */
	uint16_t port[2];             /* relay port (even) facing each leg */
	struct media_ep local[2];     /* relay address facing each leg */
	int fd[2][2];                 /* [leg][comp], -1: none; the
				       * relay's from ADD (io_uring: a
				       * fixed-table slot, see
				       * relay_uring.c) */
	bool handed;                  /* the relay has it */
	bool closing;                 /* DEL sent, DONE pending */
	uint8_t plain_send[2];        /* sec NULL: enum media_srtp_send */
	uint8_t plain_fb;             /* sec NULL: bit l, dtls_sig[l].fb */
	struct media_sdp_info sdp[2]; /* per leg */
	struct media_stream *next_dead;
	/* SDES / DTLS-SRTP state, NULL while both legs are plain (sec.c;
	 * set before the ADD/UPDATE that gives the relay a DTLS conn,
	 * freed with the stream). */
	struct media_stream_sec *sec;
	/* Shared: the relay writes, the signalling thread reads. */
	struct media_leg_stats st[2];
	/* Relay thread (after ADD). */
	struct media_relay *relay;
	struct media_sock sock[2][2];
	struct media_params prm;
	struct media_leg_rt rt[2];
	struct media_stream *rnext, *rprev; /* relay's list */
	/* Relay thread, io_uring backend only (relay_uring.c). */
	uint8_t u_armed; /* bit leg*2+comp: a multishot receive is armed */
	bool u_closing;  /* DEL seen: receives being cancelled */
	bool dlisted;    /* on the relay's DTLS list */
	struct media_stream *dnext, *dprev; /* relay's DTLS list */
};

/* ------------------------------------------------- thread messages */

enum media_cmd_type {
	MEDIA_CMD_ADD = 1, /* s and prm: start relaying */
	MEDIA_CMD_UPDATE,  /* prm: new offer/answer */
	MEDIA_CMD_DEL,     /* close the sockets, answer DONE */
	MEDIA_CMD_STOP,    /* end the thread */
};

struct media_cmd {
	uint8_t type;
	struct media_stream *s;
	struct media_params prm;
};

enum media_note_type {
	MEDIA_N_DONE = 1, /* s is the signalling thread's again */
	MEDIA_N_INJECT,   /* packets from a source not allowed */
	MEDIA_N_ANOMALY,  /* SSRC/seq/ts jump, bad PT, malformed */
	MEDIA_N_POLICED,  /* over the bandwidth */
	MEDIA_N_SRTP,     /* SRTP authentication or replay failures */
	MEDIA_N_DTLS,     /* what 1: handshake done (count: ms), 2: failed */
};

struct media_note {
	uint8_t type;
	uint8_t leg;
	uint8_t what; /* enum media_anomaly */
	struct media_stream *s;
	struct media_ep src;
	uint32_t count; /* since the last note of this kind */
};

enum media_anomaly {
	MEDIA_A_SSRC = 1,
	MEDIA_A_SEQ,
	MEDIA_A_TS,
	MEDIA_A_PT,
	MEDIA_A_MALFORMED,
};

/* ------------------------------------------------------------ relay */

enum {
	MEDIA_BATCH = 64, /* datagrams per recvmmsg/sendmmsg */
	MEDIA_PKT_MAX = 2048,
	MEDIA_RING_CAP = 8192,
	MEDIA_EV_GAP_MS = 1000, /* events per stream and kind */
};

struct media_relay {
	pthread_t th;
	bool started;
	int epfd;
	int evin;              /* eventfd: commands waiting */
	int evout;             /* eventfd: notes waiting (signalling loop) */
	struct media_ring in;  /* commands */
	struct media_ring out; /* notes */
	struct media_stream *streams;
	struct media_stream *dead; /* deleted this turn */
	unsigned idx;
	uint64_t now;
	uint64_t notes_lost;       /* out ring full (relay writes) */
	bool want_uring;           /* media: io: uring (set before start) */
	struct media_uring *u;     /* the io_uring backend runs this relay */
	struct media_stream *dtls; /* streams with a DTLS conn (dtls_leg.c) */
	uint64_t dtls_deadline;    /* nearest DTLS timer, UINT64_MAX: none */
	struct kfast *kf;          /* media.kernel: the map (NULL: off) */
	uint64_t kf_merge_ms, kf_installs;
};

/* ------------------------------------------------------ calls (sig) */

struct media_leg {
	struct media_ep relay; /* relay address it is offered */
	struct media_ep sip;   /* where its SIP came from */
	bool known, sip_known, untrusted;
	bool has_o;   /* o_hash is set */
	int zone_idx; /* -1: not known */
	const char *zone;
	uint64_t o_hash; /* its last o= line (repeat check) */
	int srtp;        /* enum conf_srtp of its zone */
	int srtp_kx;     /* enum conf_srtp_kx of its zone */
};

struct media_call {
	struct hnode hn;
	struct media *m;
	struct media_call *next, *prev; /* m->calls: the tick's walk */
	char id[MEDIA_ID_MAX];
	uint8_t id_len, tag_len[2];
	char tag[2][MEDIA_ID_MAX / 2];
	struct media_leg leg[2];
	struct media_stream *st[MEDIA_MAX_STREAMS];
	int offer_from;  /* leg with an offer pending, -1 */
	int prov_answer; /* leg that answered in a 1xx, -1 */
	bool confirmed, timed_out;
	unsigned ngone;                    /* streams already closed */
	uint64_t created_ms, confirmed_ms; /* monotonic ms */
	struct media_leg_stats gone[2];    /* what they relayed */
};

struct media {
	const struct sg_conf_media *c;
	struct evlog *ev;
	media_timeout_fn *on_timeout;
	void *arg;
	int evfd;
	struct media_relay relay[MEDIA_MAX_THREADS];
	unsigned nrelay, next_relay;
	struct media_ports ports;
	struct htab calls;
	struct media_call *list;
	struct media_stream *dying; /* DEL not queued yet (ring full) */
	struct sdp_sess *sdp;       /* parse scratch */
	uint64_t now, wall;
	bool stopped;         /* threads gone: close directly */
	uint64_t max_streams; /* file descriptor budget / 4 (+ io_uring) */
	/* Streams not handed to a relay yet: their sockets are process
	 * descriptors even with io_uring, so they keep the old cap. */
	uint64_t fd_streams, fd_max;
	struct media_stats st;
	struct media_leg_stats closed; /* both legs of closed streams */
	struct dtls_ctx *dtls;         /* our DTLS certificate (dtls_leg.c) */
	struct kfast *kf;              /* media.kernel (kfast.c), NULL: off */
	char dtls_fp[16 + SDP_DTLS_FP_STRLEN]; /* "fingerprint:sha-256 .." */
};

/* media.c: streams */
int media__stream_open(struct media_call *c, unsigned idx,
		       struct media_stream **sp);
void media__stream_close(struct media_call *c, unsigned idx);
/* Send ADD or UPDATE with the parameters of both legs' SDP. */
int media__stream_commit(struct media_call *c, struct media_stream *s);
/* offer.c */
int media__sdp_info(struct media_sdp_info *ip, const struct sdp_sess *s,
		    unsigned i, const struct sg_conf_media *conf);

int media__relay_start(struct media_relay *r, unsigned idx);
void media__relay_stop(struct media_relay *r);
/* After the thread stopped: apply the commands it did not read. */
void media__relay_drain(struct media_relay *r);
void media__relay_fini(struct media_relay *r);
void media__relay_unlink(struct media_relay *r, struct media_stream *s);
/* Queue a command and wake the relay.  false: ring full. */
bool media__relay_cmd(struct media_relay *r, const struct media_cmd *c);
/* Relay side, for tests: process one datagram received on sock. */
void media__relay_packet(struct media_relay *r, struct media_sock *sk,
			 const struct media_ep *src, uint8_t *p, size_t *np,
			 int *outfdp, struct media_ep *dstp, bool *fwdp);
uint64_t media__mono_ms(void);
/* relay.c, shared with relay_uring.c. */
void media__relay_apply(struct media_stream *s, const struct media_params *prm);
void media__relay_link(struct media_relay *r, struct media_stream *s);
void media__relay_dead(struct media_relay *r, struct media_stream *s);
void media__relay_turn_end(struct media_relay *r, uint32_t out_tail0);
void media__relay_src(struct media_ep *e, const void *sa, size_t len);
/* The destination as a sockaddr in *sa (room for a sockaddr_in6). */
socklen_t media__relay_dst(void *sa, const struct media_ep *e);

/* relay_uring.c: the io_uring backend (`media: io: uring`).  Init in
 * the signalling thread: 0, or -errno and the relay uses epoll. */
int media__uring_init(struct media_relay *r);
void *media__uring_main(void *arg);
void media__uring_fini(struct media_relay *r);
/* Send one DTLS datagram (<= 1200 bytes) on fd, a direct descriptor
 * of r's ring: 0, -EAGAIN (no slot: lost), -EMSGSIZE. */
int media__uring_send(struct media_relay *r, int fd, const void *p, size_t n,
		      const struct media_ep *dst);
/* Sockets the relay can hold outside the process descriptor table. */
uint64_t media__uring_slots(const struct media_relay *r);
/* Tests: a non-zero value makes media__uring_init fail with it. */
extern int media__uring_fail;

/* srtp.c: relay-thread hooks.  rx: authenticate and decrypt what leg
 * sent (counted when refused); tx: encrypt what we send leg (a refusal
 * counted on `from`).  0 or a MEDIA_SRTP_E_* code: drop the packet. */
void media__srtp_install(struct media_leg_rt *rt, struct media_srtp *sp);
int media__srtp_rx(struct media_stream *s, unsigned leg, bool rtcp, uint8_t *p,
		   size_t *np);
int media__srtp_tx(struct media_stream *s, unsigned leg, unsigned from,
		   bool rtcp, uint8_t *p, size_t *np, size_t cap);

/* srtp_sdp.c: SDES negotiation (signalling thread). */
enum media_srtp_role { MEDIA_SR_OFFER, MEDIA_SR_ANSWER };
/* The SDP of media i from leg `from` (an offer or an answer): returns 0,
 * -EPROTO (negotiation failed: event emitted; an offer must be refused
 * with 488, an answered stream closed), -EIO (no randomness) or -ENOMEM
 * (no memory for st->sec, sec.c: st unchanged). */
int media__srtp_sdp(struct media_call *c, struct media_stream *st,
		    unsigned from, enum media_srtp_role role,
		    const struct sdp_sess *s, unsigned i);
/* Text of the a=crypto lines media__srtp_rewrite() adds (per stream). */
struct media_srtp_text {
	char line[MEDIA_SRTP_OFFER_MAX][SDP_SRTP_LINE_MAX];
};
/* Rewrite media i for leg `to`: a=crypto removed always (keys never
 * cross legs), profile and our a=crypto lines as st's state says (st
 * NULL: only the removal).  t must live until sdp_bld_write(); wipe it
 * then. */
/* Session-level a=crypto lines removed (never valid, never forwarded). */
void media__srtp_rewrite_session(struct sdp_bld *b, const struct sdp_sess *s);
void media__srtp_rewrite(struct sdp_bld *b, const struct sdp_sess *s,
			 unsigned i, const struct media_stream *st, unsigned to,
			 struct media_srtp_text *t);
/* Contexts for the relay for legs whose keys changed (prm->srtp_set);
 * 0 or -EIO/-EINVAL.  Once the command is queued call
 * media__srtp_committed(); if it is not, free prm->srtp[] with
 * media_srtp_free(). */
int media__srtp_commit(struct media_stream *st, struct media_params *prm);
void media__srtp_committed(struct media_stream *st);
/* Wipe st's SDES state and free relay contexts it still holds. */
void media__srtp_wipe(struct media_stream *st);
/* srtp_sdp.c, for DTLS-SRTP: make an SDES offer toward leg `to`; end
 * a leg's SDES state. */
int media__srtp_offer(struct media_stream *st, unsigned to);
void media__srtp_leg_plain(struct media_srtp_leg *g);

/* dtls_sdp.c: DTLS-SRTP negotiation (signalling thread), wrapping the
 * SDES one: media__srtp_sdp()'s contract (0, -EPROTO, -EIO, -ENOMEM). */
int media__crypto_sdp(struct media_call *c, struct media_stream *st,
		      unsigned from, enum media_srtp_role role,
		      const struct sdp_sess *s, unsigned i);
/* After media__srtp_rewrite(): DTLS attributes of media i for leg to. */
void media__dtls_rewrite(struct sdp_bld *b, const struct sdp_sess *s,
			 unsigned i, const struct media_stream *st,
			 unsigned to);
void media__dtls_rewrite_session(struct sdp_bld *b, const struct sdp_sess *s);
/* Leg l sends RTCP on its RTP port: DTLS legs always (RFC 5764 4.1:
 * one association per leg, so rtcp-mux is required), others when both
 * legs offered/answered a=rtcp-mux. */
bool media__dtls_mux(const struct media_stream *st, unsigned l);
/* New conns for legs whose DTLS changed (prm->dtls_set), after
 * media__srtp_commit(): 0 or -ENOMEM/-EINVAL.  Not queued: abort. */
int media__dtls_commit(struct media *m, struct media_stream *st,
		       struct media_params *prm);
void media__dtls_abort(struct media_params *prm);
void media__dtls_committed(struct media_stream *st);
/* A MEDIA_N_DTLS note: event; a failed handshake closes the stream. */
void media__dtls_note(struct media *m, struct media_stream *s, unsigned leg,
		      unsigned what, uint32_t ms);
/* The process's certificate (media_new/media_free). */
int media__dtls_init(struct media *m);
void media__dtls_fini(struct media *m);

/* dtls_leg.c: the relay side.  install: from apply_params(), before
 * the SDES contexts; rx: a DTLS record from leg's allowed source;
 * authed: an SRTP packet from leg authenticated; run: timers, returns
 * the nearest deadline; drop: stream_del(); wipe: stream_free(). */
void media__dtls_install(struct media_stream *s, unsigned leg,
			 const struct media_params *prm);
void media__dtls_rx(struct media_relay *r, struct media_stream *s, unsigned leg,
		    const struct media_ep *src, const uint8_t *p, size_t n);
void media__dtls_authed(struct media_stream *s, unsigned leg);
void media__dtls_run(struct media_relay *r);
/* epoll timeout (ms) no later than the nearest DTLS timer. */
int media__dtls_wait(const struct media_relay *r, int dflt_ms);
void media__dtls_drop(struct media_relay *r, struct media_stream *s);
void media__dtls_wipe(struct media_stream *s);

/* kfast_relay.c: media.kernel at start (signalling thread, before the
 * privileges are dropped): 0, or -errno when `on` and it cannot load. */
int media__kernel_open(struct media *m);
/* kfast_relay.c: the kernel fast path, relay side (no-ops when r->kf
 * is NULL).  sync: before checking an RTP packet of leg L, take the
 * kernel's state; relayed: leg L's RTP packet from src was relayed, the
 * kernel may take the direction over; drop: before UPDATE and DEL,
 * counters merged, directions removed; tick: once per loop turn. */
void media__kf_sync(struct media_relay *r, struct media_stream *s, unsigned L);
void media__kf_relayed(struct media_relay *r, struct media_stream *s,
		       unsigned L, const struct media_ep *src);
void media__kf_drop(struct media_relay *r, struct media_stream *s);
/* A leg's RTP address moved: both directions leave the kernel (the one
 * to it would forward to the old address), re-installed as usual. */
void media__kf_moved(struct media_relay *r, struct media_stream *s);
void media__kf_tick(struct media_relay *r);

/* sec.c: a stream's SDES / DTLS-SRTP state.  begin: st->sec is then
 * valid (the heap one, or tmp filled from the plain state); end: after
 * the negotiation, tmp kept on the heap when the stream is not plain any
 * more, and wiped; returns err, or -ENOMEM (the stream is unchanged).
 * send/fb: srtp_sig[l].send and dtls_sig[l].fb, sec or not; free: with
 * the stream (wiped). */
void media__sec_begin(struct media_stream *st, struct media_stream_sec *tmp);
int media__sec_end(struct media_stream *st, struct media_stream_sec *tmp,
		   int err);
uint8_t media__srtp_send(const struct media_stream *st, unsigned l);
bool media__dtls_fb(const struct media_stream *st, unsigned l);
void media__sec_free(struct media_stream *st);

/* media.c: an event of the media layer (reason must hold no secret). */
void media__emit(struct media *m, const char *type, const char *event,
		 const char *rule, const char *action, const char *zone,
		 const struct media_ep *src, const char *reason);

/* media_stats.c: add what x counted to the totals in t (t is ours,
 * x the relay's single-writer counters). */
void media__stats_add(struct media_leg_stats *t,
		      const struct media_leg_stats *x);

#endif
