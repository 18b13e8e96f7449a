/*
 * transport.h - public interface of the transport layer: sockets.
 *
 * Issue 2 needs UDP only: non-blocking sockets bound to configured
 * addresses, datagrams received in batches with recvmmsg(2) into buffers
 * owned by a struct udp_batch, replies sent with sendto(2).
 *
 * Issue 3 adds struct transport (below): listeners of both kinds, TCP
 * connections and the send path the proxy uses.  TLS comes later.
 */
#ifndef SIPGUARD_TRANSPORT_H
#define SIPGUARD_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/addr.h"
#include "sip/sip.h"
#include "sip/sip_peer.h"
#include "transport/tls.h"

enum {
	UDP_BATCH = 32,        /* datagrams per recvmmsg call */
	UDP_MAX_DGRAM = 65535, /* largest datagram we accept */
	UDP_RCVBUF = 8 << 20,  /* socket receive buffer asked for */
};

/*
 * Open a non-blocking UDP socket bound to a.  IPv6 sockets are
 * IPV6_V6ONLY so an IPv4 listener on the same port can coexist.
 * Returns the fd, or -errno.
 */
int udp_open(const struct sg_addr *a);

/* Receive buffers for one batch.  Owner: whoever calls udp_batch_new. */
struct udp_batch {
	unsigned n; /* datagrams in the last batch */
	struct mmsghdr msg[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sg_addr from[UDP_BATCH];
	size_t len[UDP_BATCH];
	bool truncated[UDP_BATCH]; /* bigger than UDP_MAX_DGRAM */
	char *buf[UDP_BATCH];      /* UDP_MAX_DGRAM + 1 bytes each */
};

int udp_batch_new(struct udp_batch **bp);
void udp_batch_free(struct udp_batch *b);
/*
 * Read up to UDP_BATCH datagrams from fd.  Returns how many (>= 0; 0 when
 * nothing was waiting) or -errno.
 */
int udp_recv_batch(int fd, struct udp_batch *b);
/* Send one datagram.  Returns 0 or -errno (EAGAIN: dropped). */
int udp_send(int fd, const struct sg_addr *to, const void *p, size_t n);

/* ------------------------------------------------------------ transport */

/*
 * struct transport: every SIP socket of one event-loop thread.  It ties
 * together the UDP listeners (recvmmsg batches), the TCP listeners, and
 * the TCP connections (accepted and opened by us), frames stream bytes
 * with sip_frame_r() and hands each datagram or message to one receive
 * callback.  Sending picks the socket from a struct sip_peer.
 *
 * Streams (RFC 3261 18.3, RFC 5626 3.5.1, RFC 5923):
 * - A connection's messages carry its id in sip_peer.conn_id.  Ids are
 *   64-bit and never reused, so a stale id cannot reach a new connection.
 * - Responses and requests back to a peer reuse its connection: by id,
 *   else by the remote address (or an alias address, tp_alias()).
 * - CRLFCRLF pings are answered with CRLF; lone CRLF pongs are ignored.
 * - Caps: connections in total and per source address (IPv4 address or
 *   IPv6 /64), unframed bytes per connection (a silent or slow peer
 *   holds at most max_rx bytes, and nothing once its buffer is empty),
 *   queued output per connection (overflow closes it), idle timeout.
 *
 * - A peer's end of stream closes the connection at once (a partial
 *   message and queued output are dropped).
 * UDP datagrams are delivered as they are (CRLF keep-alives included:
 * the receiver decides); ones over UDP_MAX_DGRAM are counted and dropped.
 *
 * Not thread-safe: a transport belongs to the thread running its loop;
 * give each loop's transport its own conf.shard so ids stay unique
 * across threads.  Callbacks must not call tp_free().
 */
struct loop;
struct transport;

enum {
	TP_MAX_LISTENERS = 64,
	TP_RX_HEADROOM = 4096, /* default max_rx above the message limit */
};

struct tp_conf {
	uint32_t idle_ms;    /* close streams silent this long; 0: never */
	uint32_t connect_ms; /* give up on an outgoing connect */
	uint32_t max_conns;  /* all TCP connections, in and out */
	uint32_t max_conns_per_ip; /* accepted, per IPv4 or IPv6 /64 */
	size_t max_rx;             /* unframed bytes per connection */
	size_t max_tx;             /* queued output bytes per connection */
	uint16_t shard;            /* top 16 bits of connection ids */
	struct sip_limits lim;     /* framer limits (message size) */
};

/*
 * Defaults: idle 10 min (RFC 5626 keep-alives come every 2 min or so),
 * connect 10 s, 4096 connections, 32 per source, max_rx
 * SIP_MAX_MSG_SIZE + TP_RX_HEADROOM, max_tx 256 KiB, default limits.
 */
extern const struct tp_conf tp_conf_default;

/* Why a connection closed (tp_stats counters, tp_close_fn). */
enum tp_close_why {
	TP_CLOSE_LOCAL = 0, /* tp_close() */
	TP_CLOSE_EOF,       /* peer closed (maybe mid-message) */
	TP_CLOSE_IDLE,      /* no traffic for idle_ms */
	TP_CLOSE_OVERSIZE,  /* message or buffer over the limits */
	TP_CLOSE_FRAMING,   /* not SIP framing (garbage, no C-L...) */
	TP_CLOSE_TXFULL,    /* output queue over max_tx */
	TP_CLOSE_ERROR,     /* socket error (reset...) */
	TP_CLOSE_CONNECT,   /* outgoing connect failed or timed out */
	TP_CLOSE_GATE,      /* the gate refused the source (ban, rate) */
	TP_CLOSE_HANDSHAKE, /* TLS handshake failed or timed out */
	TP_CLOSE_WHY_MAX,
};

struct tp_stats {
	uint64_t conns_open; /* now, in and out */
	uint64_t accepted;
	uint64_t connected;      /* outgoing connections established */
	uint64_t refused_total;  /* accepts over max_conns */
	uint64_t refused_per_ip; /* accepts over max_conns_per_ip */
	uint64_t closed[TP_CLOSE_WHY_MAX];
	uint64_t udp_rx, udp_tx, udp_truncated;
	/* Datagrams the kernel dropped on our UDP listeners because their
	 * receive queue was full (SO_MEMINFO's drops, read when asked):
	 * a flood beyond what this machine reads, never seen by the gate. */
	uint64_t udp_rx_overflow;
	uint64_t tcp_rx_msgs, tcp_tx_msgs, pings;
	uint64_t gated_dgrams;   /* datagrams the gate dropped */
	uint64_t gated_accepts;  /* connections the gate refused */
	uint64_t gated_reads;    /* connections closed by the gate */
	uint64_t tls_handshakes; /* completed, in and out */
	uint64_t tls_resumed;    /* of which resumed sessions */
	uint64_t tls_failed;     /* failed handshakes (timeouts: closed[]) */
};

/*
 * The pre-parse gate (the guard's ban list and token buckets): asked for
 * every datagram (bytes = its size), every accepted connection (bytes =
 * 0) and every read on a connection (bytes read), before anything is
 * parsed.  Returns true to let it in.  A refused datagram is dropped
 * without a word, a refused connection is reset, a connection whose read
 * is refused is closed.  zone is the receiving listener's.  Must be O(1)
 * and must not send or allocate.
 */
typedef bool tp_gate_fn(void *arg, const struct sg_addr *src, enum sip_tp tp,
			uint16_t zone, size_t bytes);
void tp_set_gate(struct transport *tp, tp_gate_fn *fn, void *arg);

/*
 * A datagram or a framed stream message.  p/n are valid only during the
 * call; from->conn_id is 0 for UDP.  The callback may send, close any
 * connection (also this one: no more of its messages are delivered) and
 * add listeners.
 */
typedef void tp_recv_fn(void *arg, const struct sip_peer *from, const char *p,
			size_t n);
/*
 * A connection is gone (called from the loop a turn after it closed,
 * never from inside another transport call).  peer->conn_id names it.
 */
typedef void tp_close_fn(void *arg, const struct sip_peer *peer,
			 enum tp_close_why why);

/*
 * New transport on loop l.  conf NULL: tp_conf_default.  Returns 0 and
 * *tpp (owner: the caller, freed by tp_free()), -EINVAL for a bad conf
 * (max_rx below the message limit, zero caps...), -ENOMEM.
 */
int tp_new(struct transport **tpp, struct loop *l, const struct tp_conf *conf,
	   tp_recv_fn *recv, void *arg);
/* Close every socket at once (no close callbacks), free.  NULL: no-op. */
void tp_free(struct transport *tp);
void tp_set_close_fn(struct transport *tp, tp_close_fn *fn, void *arg);

/*
 * Listen on a (port 0: any) with UDP or TCP in zone.  *local_idp (may be
 * NULL) receives the listener index that sip_peer.local carries.
 * TLS: tp_tls_zone() for zone first.
 * Returns 0, -ENOSPC after TP_MAX_LISTENERS, -EPROTONOSUPPORT (TLS
 * without tp_tls_zone()),
 * -EAFNOSUPPORT, or -errno from socket/bind/listen.
 */
int tp_listen(struct transport *tp, enum sip_tp kind, const struct sg_addr *a,
	      uint16_t zone, uint16_t *local_idp);
/* Bound address of listener idx (the real port).  0 or -ENOENT. */
int tp_local_addr(const struct transport *tp, uint16_t idx, struct sg_addr *ap);

/*
 * Send one datagram or message to `to`.
 * UDP: from listener to->local if it is UDP of the right family, else
 * the first such listener of to->zone, else of any zone.
 * TCP: over connection to->conn_id if live, else a live connection to or
 * aliased to to->addr, else a new connection (from the IP of a TCP
 * listener of to->local / to->zone, if any) with the bytes queued until
 * it is up.  The bytes are written or queued whole, or not at all.
 * Returns 0, or -EADDRNOTAVAIL (no listener), -EAFNOSUPPORT, -EMFILE
 * (max_conns), -ENOBUFS (output queue full: the connection is closed),
 * TLS: as TCP, over TLS connections only; a new one verifies the
 * server (tp_tls_peer_name()) and is used once its handshake is done.
 * -EPROTONOSUPPORT (TLS not set up for the zone), -ENOMEM, -errno.
 * UDP -EAGAIN: dropped.
 */
int tp_send(struct transport *tp, const struct sip_peer *to, const char *p,
	    size_t n);

/* One entry of tp_send_batch(); err is set to tp_send()'s answer. */
struct tp_out {
	const struct sip_peer *to;
	const char *p;
	size_t n;
	int err;
};
/*
 * Send n entries.  Runs of UDP entries leaving the same socket go out
 * with one sendmmsg(2).  Returns how many succeeded.
 */
unsigned tp_send_batch(struct transport *tp, struct tp_out *out, unsigned n);

/* True while conn_id is open or connecting. */
bool tp_conn_alive(const struct transport *tp, uint64_t conn_id);
/* Close a connection now (queued output is dropped).  0 or -ENOENT. */
int tp_close(struct transport *tp, uint64_t conn_id);
/*
 * Let sends to `alias` use connection conn_id (RFC 5923: the peer's
 * Via sent-by with ;alias, or a registered contact).  One alias per
 * connection; a new one replaces it.  0, -ENOENT, -EAFNOSUPPORT.
 */
int tp_alias(struct transport *tp, uint64_t conn_id,
	     const struct sg_addr *alias);

void tp_get_stats(const struct transport *tp, struct tp_stats *sp);

#endif
