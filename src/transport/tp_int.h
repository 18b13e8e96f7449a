/*
 * tp_int.h - private to the transport layer: the transport object, its
 * listeners and its TCP connections, shared by tp.c (object, UDP, send
 * dispatch), conn.c (connection table, caps, timers, reaping) and tcp.c
 * (stream sockets: accept, connect, read and frame, write).
 *
 * Lifetime of a connection: conn.c creates it and links it into the
 * tables; tp__conn_close() unlinks it, closes the fd and stops its timer
 * at once, so it is dead to every lookup, but its memory (buffers
 * included) is only freed by the reaper timer on the next loop turn.
 * So a closed connection may still be in use further up the stack: the
 * read handler that called the receive callback, which checked
 * c->closed after each delivery, is the one that needs this.
 */
#ifndef SIPGUARD_TRANSPORT_TP_INT_H
#define SIPGUARD_TRANSPORT_TP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/addr.h"
#include "core/htab.h"
#include "core/tmr.h"
#include "sip/sip.h"
#include "sip/sip_peer.h"
#include "transport/transport.h"

enum {
	TP_ACCEPT_BATCH = 64,     /* accepts per listener per turn */
	TP_UDP_ROUNDS = 4,        /* recvmmsg batches per listener per turn */
	TP_RX_CHUNK = 4096,       /* rx buffer growth step */
	TP_ACCEPT_PAUSE_MS = 100, /* listener rest after EMFILE & co */
	TP_SRC_V6_PREFIX = 8,     /* IPv6 sources are counted per /64 */
};

struct tp_listener {
	struct transport *tp;
	int fd; /* -1: slot unused */
	enum sip_tp kind;
	uint16_t idx;
	uint16_t zone;
	struct sg_addr addr; /* as bound (real port) */
	struct tmr pause;    /* accept paused after EMFILE */
};

/* Connections from one source (IPv4 address, IPv6 /64).  Owner: conn.c,
 * freed when its last connection closes. */
struct tp_src {
	struct hnode node;
	uint8_t key[17]; /* family + address bytes */
	uint8_t keylen;
	uint32_t n;
};

enum tp_conn_state {
	TP_CONN_CONNECTING = 0,
	TP_CONN_OPEN,
	TP_CONN_CLOSED,    /* waiting for the reaper */
	TP_CONN_HANDSHAKE, /* TLS: connected, handshake under way */
};

struct ssl_st;
struct tp_tls;

/* One TCP connection.  Owner: its transport (conn.c). */
struct tp_conn {
	struct transport *tp;
	uint64_t id;
	int fd;
	enum tp_conn_state state;
	enum tp_close_why why; /* once closed */
	bool inbound;
	bool has_alias;
	unsigned events; /* LOOP_READ / LOOP_WRITE asked for */
	uint16_t local, zone;
	struct sg_addr peer;
	struct sg_addr alias;
	struct hnode by_id, by_addr, by_alias;
	struct tp_src *src;          /* inbound only */
	struct tp_conn *prev, *next; /* live list, or dead list (next) */
	struct tmr tmr;              /* connect timeout, then idle check */
	uint64_t last;               /* loop time of the last traffic */
	struct sip_frame_state fst;
	char *rx; /* unframed bytes; NULL when none */
	size_t rx_len, rx_cap;
	char *tx;                      /* queued output; NULL when none */
	size_t tx_off, tx_len, tx_cap; /* pending: tx[tx_off..tx_len) */
	bool tx_secret;     /* tx held an SDES key line: wiped before reuse */
	struct ssl_st *ssl; /* TLS (tls.c); NULL for TCP */
	char *tls_ident;    /* verified peer identity, or NULL */
	bool tls_broken;    /* fatal TLS error: no close_notify */
};

/* Owner: the caller of tp_new(). */
struct transport {
	struct loop *loop;
	struct tp_conf conf;
	tp_recv_fn *recv;
	void *recv_arg;
	tp_close_fn *close_fn;
	void *close_arg;
	tp_gate_fn *gate;
	void *gate_arg;
	struct tp_stats st;
	uint64_t next_id; /* counter part of the next conn id */
	struct tp_listener lst[TP_MAX_LISTENERS];
	uint16_t nlst;
	struct udp_batch *batch; /* owned; made with the first UDP listener */
	char *scratch;           /* owned; conf.max_rx bytes, TCP reads */
	struct htab by_id, by_addr, by_alias, by_src;
	struct tp_conn *live; /* all open/connecting connections */
	struct tp_conn *dead; /* closed, to free on the next turn */
	struct tmr reaper;
	struct tp_tls *tls; /* owned (tls_ctx.c); NULL without TLS */
};

/* conn.c */
int tp__conns_init(struct transport *tp);
void tp__conns_fini(struct transport *tp);
/* New connection on fd (not yet watched).  -EMFILE / -EUSERS (per-IP
 * cap), -ENOMEM.  On error fd is left open for the caller. */
int tp__conn_new(struct tp_conn **cp, struct transport *tp, int fd,
		 bool inbound, const struct sg_addr *peer, uint16_t local,
		 uint16_t zone);
void tp__conn_close(struct tp_conn *c, enum tp_close_why why);
struct tp_conn *tp__conn_by_id(const struct transport *tp, uint64_t id);
/* Only TLS connections when tls, only TCP ones otherwise. */
struct tp_conn *tp__conn_by_addr(const struct transport *tp,
				 const struct sg_addr *a, bool tls);
void tp__conn_set_alias(struct tp_conn *c, const struct sg_addr *a);
/* Note traffic (idle timer restarts lazily from c->last). */
void tp__conn_touch(struct tp_conn *c);
/* Arm the timer: connect timeout while connecting, else idle. */
void tp__conn_arm(struct tp_conn *c);
int tp__conn_watch(struct tp_conn *c, unsigned events);
void tp__conn_peer(const struct tp_conn *c, struct sip_peer *pp);
/* Wipe c->tx if it held an SDES key line (conn.c), before it is freed. */
void tp__tx_wipe(struct tp_conn *c);

/* tcp.c */
int tp__tcp_listen(struct tp_listener *ls);
void tp__tcp_listener_close(struct tp_listener *ls);
/* Queue/write n bytes on c.  0 or -errno (c may be closed then). */
int tp__tcp_write(struct tp_conn *c, const char *p, size_t n);
/* Open a connection to `to` and write p/n on it (queued). */
int tp__tcp_connect(struct transport *tp, const struct sip_peer *to,
		    const struct tp_listener *from, const char *p, size_t n);
void tp__tcp_on_event(struct loop *l, int fd, unsigned revents, void *arg);

/* tls_ctx.c */
void tp__tls_fini(struct transport *tp);
uint32_t tp__tls_handshake_ms(const struct tp_conn *c);
/* Zone has a certificate (may have TLS listeners). */
bool tp__tls_can_serve(const struct transport *tp, uint16_t zone);
/* tls.c: TLS on connection c (fd set, not yet watched). */
int tp__tls_accept(struct tp_conn *c);  /* -> TP_CONN_HANDSHAKE */
int tp__tls_connect(struct tp_conn *c); /* handshake once connected */
/* Drive the handshake; true when it just finished (c is OPEN then). */
bool tp__tls_handshake(struct tp_conn *c);
/* Like send(2)/recv(2) on a non-blocking socket: bytes, 0 (send: would
 * block; recv: end of stream), -EAGAIN (recv), -errno. */
ssize_t tp__tls_send(struct tp_conn *c, const char *p, size_t n);
ssize_t tp__tls_recv(struct tp_conn *c, char *p, size_t n);
bool tp__tls_pending(const struct tp_conn *c);
void tp__tls_close(struct tp_conn *c); /* close_notify, best effort */
void tp__tls_free(struct tp_conn *c);

#endif
