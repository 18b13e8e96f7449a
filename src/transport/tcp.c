/*
 * tcp.c - SIP over TCP sockets: listen and accept under the caps,
 * connect out, read and frame, write with a bounded output queue.
 * RFC 3261 18.3 (framing by Content-Length, done by sip_frame_r()),
 * RFC 5626 3.5.1 (CRLFCRLF ping answered with a CRLF pong).
 *
 * Receive buffers: a connection with no unframed bytes holds no buffer.
 * A read goes into the transport's scratch buffer; complete messages are
 * delivered from there and only an incomplete tail is copied into a
 * buffer of the connection's own, which then takes the following reads
 * directly (so a peer sending a byte at a time costs O(bytes), not
 * O(bytes^2)).  That buffer grows in TP_RX_CHUNK steps up to conf.max_rx
 * and is freed as soon as it is empty again.  The framer refuses any
 * frame over the message size limit before it is buffered, and max_rx
 * is at least that limit, so a full buffer means a broken invariant or
 * a lower max_rx; either way the connection closes as oversize.
 *
 * Output: bytes are written at once when nothing is queued; what the
 * socket does not take is queued (at most conf.max_tx bytes, else the
 * connection closes) and flushed when LOOP_WRITE fires.
 *
 * Accept: at most TP_ACCEPT_BATCH per listener per turn.  Connections
 * over a cap are reset at once (SO_LINGER 0: no TIME_WAIT kept for a
 * flood).  When the process runs out of fds, the listener rests for
 * TP_ACCEPT_PAUSE_MS instead of spinning on a readable listen socket.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/keyline.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "transport/tp_int.h"

static void set_opt(int fd, int level, int name, int v)
{
	/* Best effort: the connection works without each of these. */
	(void)setsockopt(fd, level, name, &v, sizeof(v));
}

/* Close fd with a reset rather than a FIN handshake. */
static void close_rst(int fd)
{
	struct linger lg = {1, 0};

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void on_accept(struct loop *l, int fd, unsigned revents, void *arg);

static void accept_resume(void *arg)
{
	struct tp_listener *ls = arg;

	if (loop_fd_add(ls->tp->loop, ls->fd, LOOP_READ, on_accept, ls) != 0)
		tmr_start(loop_timers(ls->tp->loop), &ls->pause,
			  TP_ACCEPT_PAUSE_MS, accept_resume, ls);
}

/* Out of fds or memory: stop watching the listener for a while. */
static void accept_pause(struct tp_listener *ls, int err)
{
	LOG_RL(LOG_LVL_WARN, "tcp listener %u: accept: %s; pausing", ls->idx,
	       strerror(err));
	loop_fd_del(ls->tp->loop, ls->fd);
	tmr_start(loop_timers(ls->tp->loop), &ls->pause, TP_ACCEPT_PAUSE_MS,
		  accept_resume, ls);
}

/* Take one accepted socket under the caps. */
static void accept_one(struct tp_listener *ls, int fd,
		       const struct sg_addr *peer)
{
	struct transport *tp = ls->tp;
	char buf[SG_ADDR_STRLEN];
	struct tp_conn *c;
	int err;

	if (tp->gate && !tp->gate(tp->gate_arg, peer, ls->kind, ls->zone, 0)) {
		tp->st.gated_accepts++;
		close_rst(fd);
		return;
	}
	err = tp__conn_new(&c, tp, fd, true, peer, ls->idx, ls->zone);
	if (err) {
		if (err == -EUSERS)
			tp->st.refused_per_ip++;
		else
			tp->st.refused_total++;
		LOG_RL(LOG_LVL_INFO, "tcp: refused connection from %s: %s",
		       sg_addr_fmt(peer, buf, sizeof(buf)),
		       err == -EUSERS   ? "per-source cap"
		       : err == -EMFILE ? "connection cap"
					: "no memory");
		close_rst(fd);
		return;
	}
	set_opt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	tp->st.accepted++;
	/* TLS: the handshake starts with the client's first bytes, under
	 * the handshake timer. */
	if (ls->kind == SIP_TP_TLS && tp__tls_accept(c) != 0) {
		tp__conn_close(c, TP_CLOSE_ERROR);
		return;
	}
	tp__conn_arm(c);
	if (tp__conn_watch(c, LOOP_READ) != 0)
		tp__conn_close(c, TP_CLOSE_ERROR);
}

static void on_accept(struct loop *l, int fd, unsigned revents, void *arg)
{
	struct tp_listener *ls = arg;
	struct sg_addr peer;
	int i, afd;

	(void)l;
	(void)revents;
	for (i = 0; i < TP_ACCEPT_BATCH; i++) {
		memset(&peer, 0, sizeof(peer));
		peer.len = sizeof(peer.u.ss);
		afd = accept4(fd, &peer.u.sa, &peer.len,
			      SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (afd >= 0) {
			accept_one(ls, afd, &peer);
			continue;
		}
		switch (errno) {
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
		case EPERM:
			continue; /* that one connection failed */
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			accept_pause(ls, errno);
			return;
		case EAGAIN:
#if EWOULDBLOCK != EAGAIN
		case EWOULDBLOCK:
#endif
			return; /* drained */
		default:
			LOG_RL(LOG_LVL_WARN, "tcp listener %u: accept: %s",
			       ls->idx, strerror(errno));
			return;
		}
	}
}

int tp__tcp_listen(struct tp_listener *ls)
{
	const struct sg_addr *a = &ls->addr;
	int fd, err;

	fd = socket(a->u.sa.sa_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	set_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (a->u.sa.sa_family == AF_INET6)
		set_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	if (bind(fd, &a->u.sa, a->len) != 0 || listen(fd, SOMAXCONN) != 0)
		goto fail;
	ls->addr.len = sizeof(ls->addr.u.ss);
	if (getsockname(fd, &ls->addr.u.sa, &ls->addr.len) != 0)
		goto fail;
	tmr_init(&ls->pause);
	err = loop_fd_add(ls->tp->loop, fd, LOOP_READ, on_accept, ls);
	if (err) {
		close(fd);
		return err;
	}
	ls->fd = fd;
	return 0;
fail:
	err = -errno;
	close(fd);
	return err;
}

void tp__tcp_listener_close(struct tp_listener *ls)
{
	tmr_cancel(&ls->pause);
	loop_fd_del(ls->tp->loop, ls->fd); /* -ENOENT while paused */
	close(ls->fd);
	ls->fd = -1;
}

/* ------------------------------------------------------------- output */

/* Room for n more queued bytes (caller checked max_tx). */
static int tx_reserve(struct tp_conn *c, size_t n)
{
	size_t pending = c->tx_len - c->tx_off, cap;
	char *p;

	if (c->tx_len + n <= c->tx_cap)
		return 0;
	if (c->tx_off) {
		memmove(c->tx, c->tx + c->tx_off, pending);
		if (c->tx_secret)
			mem_secclean(c->tx + pending, c->tx_len - pending);
		c->tx_off = 0;
		c->tx_len = pending;
		if (pending + n <= c->tx_cap)
			return 0;
	}
	cap = c->tx_cap * 2 > pending + n ? c->tx_cap * 2 : pending + n;
	if (cap < TP_RX_CHUNK)
		cap = TP_RX_CHUNK;
	if (cap > c->tp->conf.max_tx)
		cap = c->tp->conf.max_tx;
	if (!c->tx_secret) {
		p = mem_realloc(c->tx, cap);
	} else if ((p = mem_alloc(cap)) != NULL) {
		/* Our SRTP keys: never left in a block realloc() frees. */
		memcpy(p, c->tx, c->tx_len);
		tp__tx_wipe(c);
		mem_free(c->tx);
	}
	if (!p)
		return -ENOMEM;
	c->tx = p;
	c->tx_cap = cap;
	return 0;
}

/* send(2) without blocking: bytes taken, 0 when full, or -errno. */
static ssize_t sock_send(int fd, const char *p, size_t n)
{
	ssize_t w;

	do {
		w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	return w;
}

/* The same through TLS when the connection has it. */
static ssize_t conn_send(struct tp_conn *c, const char *p, size_t n)
{
	return c->ssl ? tp__tls_send(c, p, n) : sock_send(c->fd, p, n);
}

int tp__tcp_write(struct tp_conn *c, const char *p, size_t n)
{
	ssize_t w = 0;
	int err;

	if (c->state == TP_CONN_CLOSED)
		return -ENOTCONN;
	if (c->tx_len == c->tx_off && c->state == TP_CONN_OPEN && n) {
		w = conn_send(c, p, n);
		if (w < 0) {
			tp__conn_close(c, TP_CLOSE_ERROR);
			return (int)w;
		}
		if (w > 0)
			tp__conn_touch(c);
	}
	p += w;
	n -= (size_t)w;
	if (!n)
		return 0;
	if (c->tx_len - c->tx_off + n > c->tp->conf.max_tx) {
		tp__conn_close(c, TP_CLOSE_TXFULL);
		return -ENOBUFS;
	}
	err = tx_reserve(c, n);
	if (!err)
		err = tp__conn_watch(c, LOOP_READ | LOOP_WRITE);
	if (err) {
		/* Part of the message may be on the wire: the stream is
		 * unusable now. */
		tp__conn_close(c, TP_CLOSE_ERROR);
		return err;
	}
	memcpy(c->tx + c->tx_len, p, n);
	c->tx_len += n;
	c->tx_secret = c->tx_secret || keyline_in(p, n);
	return 0;
}

static void tx_flush(struct tp_conn *c)
{
	ssize_t w;

	while (c->tx_off < c->tx_len) {
		w = conn_send(c, c->tx + c->tx_off, c->tx_len - c->tx_off);
		if (w < 0) {
			tp__conn_close(c, TP_CLOSE_ERROR);
			return;
		}
		if (w == 0)
			return;
		tp__conn_touch(c);
		c->tx_off += (size_t)w;
	}
	tp__tx_wipe(c);
	mem_free(c->tx);
	c->tx = NULL;
	c->tx_off = c->tx_len = c->tx_cap = 0;
	if (tp__conn_watch(c, LOOP_READ) != 0)
		tp__conn_close(c, TP_CLOSE_ERROR);
}

/* -------------------------------------------------------------- input */

/*
 * Frame and deliver what base[0..len) holds.  Returns the bytes used;
 * stops early when the connection closes (framing error, or closed by
 * the receive callback).
 */
static size_t frame_all(struct tp_conn *c, const char *base, size_t len)
{
	struct transport *tp = c->tp;
	char abuf[SG_ADDR_STRLEN];
	enum sip_frame_kind kind;
	struct sip_perr perr;
	struct sip_peer from;
	size_t off = 0;
	ssize_t r;

	while (off < len && c->state != TP_CONN_CLOSED) {
		memset(&perr, 0, sizeof(perr));
		r = sip_frame_r(&c->fst, base + off, len - off, &tp->conf.lim,
				&kind, &perr);
		if (r == 0)
			break;
		if (r < 0) {
			LOG_RL(LOG_LVL_INFO, "tcp %s: closing: %s at byte %u",
			       sg_addr_fmt(&c->peer, abuf, sizeof(abuf)),
			       perr.reason ? perr.reason : "framing error",
			       (unsigned)perr.off);
			tp__conn_close(c, r == -EMSGSIZE ? TP_CLOSE_OVERSIZE
							 : TP_CLOSE_FRAMING);
			break;
		}
		if (kind == SIP_FRAME_MSG) {
			tp->st.tcp_rx_msgs++;
			tp__conn_peer(c, &from);
			tp->recv(tp->recv_arg, &from, base + off, (size_t)r);
		} else if (kind == SIP_FRAME_PING) {
			tp->st.pings++;
			(void)tp__tcp_write(c, "\r\n", 2);
		}
		off += (size_t)r;
	}
	return off;
}

/* Room to read more into c->rx; 0 or -ENOMEM / -EMSGSIZE (full). */
static int rx_reserve(struct tp_conn *c)
{
	size_t max = c->tp->conf.max_rx, cap;
	char *p;

	if (c->rx_len >= max)
		return -EMSGSIZE;
	if (c->rx_cap - c->rx_len >= TP_RX_CHUNK || c->rx_cap == max)
		return 0;
	cap = c->rx_cap * 2 > c->rx_len + TP_RX_CHUNK ? c->rx_cap * 2
						      : c->rx_len + TP_RX_CHUNK;
	if (cap > max)
		cap = max;
	p = mem_realloc(c->rx, cap);
	if (!p)
		return -ENOMEM;
	c->rx = p;
	c->rx_cap = cap;
	return 0;
}

/* Keep the unframed tail base[off..len) in the connection's buffer. */
static void rx_keep(struct tp_conn *c, const char *base, size_t off, size_t len)
{
	size_t rest = len - off;

	if (base != c->rx && rest) {
		c->rx_cap = rest > TP_RX_CHUNK ? rest : TP_RX_CHUNK;
		if (c->rx_cap > c->tp->conf.max_rx)
			c->rx_cap = c->tp->conf.max_rx;
		c->rx = mem_alloc(c->rx_cap);
		if (!c->rx) {
			c->rx_cap = 0;
			tp__conn_close(c, TP_CLOSE_ERROR);
			return;
		}
		memcpy(c->rx, base + off, rest);
	} else if (base == c->rx && rest && off) {
		memmove(c->rx, c->rx + off, rest);
	} else if (!rest) {
		mem_free(c->rx);
		c->rx = NULL;
		c->rx_cap = 0;
	}
	c->rx_len = rest;
}

/* recv(2), or a TLS read: bytes, 0 at end of stream, or -errno. */
static ssize_t conn_recv(struct tp_conn *c, char *p, size_t n)
{
	ssize_t r;

	if (c->ssl)
		return tp__tls_recv(c, p, n);
	do {
		r = recv(c->fd, p, n, MSG_DONTWAIT);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static void conn_read(struct tp_conn *c)
{
	struct transport *tp = c->tp;
	size_t len, room, off;
	char *base;
	ssize_t n;
	int err;

again:
	len = 0;
	room = tp->conf.max_rx;
	base = tp->scratch;
	if (c->rx_len) {
		err = rx_reserve(c);
		if (err) {
			tp__conn_close(c, err == -EMSGSIZE ? TP_CLOSE_OVERSIZE
							   : TP_CLOSE_ERROR);
			return;
		}
		base = c->rx;
		len = c->rx_len;
		room = c->rx_cap - len;
	}
	n = conn_recv(c, base + len, room);
	if (n < 0) {
		if (n != -EAGAIN && n != -EWOULDBLOCK)
			tp__conn_close(c, TP_CLOSE_ERROR);
		return;
	}
	if (n == 0) {
		/* Peer closed, perhaps mid-message: the tail is dropped. */
		tp__conn_close(c, TP_CLOSE_EOF);
		return;
	}
	/* Banned or over its byte rate since it connected: hang up. */
	if (c->inbound && tp->gate &&
	    !tp->gate(tp->gate_arg, &c->peer, c->ssl ? SIP_TP_TLS : SIP_TP_TCP,
		      c->zone, (size_t)n)) {
		tp->st.gated_reads++;
		tp__conn_close(c, TP_CLOSE_GATE);
		return;
	}
	tp__conn_touch(c);
	len += (size_t)n;
	off = frame_all(c, base, len);
	if (c->state != TP_CONN_CLOSED)
		rx_keep(c, base, off, len);
	/* Decrypted bytes OpenSSL holds make no socket event: take them
	 * now (at most the rest of one record). */
	if (c->state == TP_CONN_OPEN && tp__tls_pending(c))
		goto again;
}

/* The outgoing connect finished (or failed). */
static void connect_done(struct tp_conn *c)
{
	char buf[SG_ADDR_STRLEN];
	socklen_t sl = sizeof(int);
	int soerr = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		soerr = errno;
	if (soerr) {
		LOG_RL(LOG_LVL_INFO, "tcp: connect to %s: %s",
		       sg_addr_fmt(&c->peer, buf, sizeof(buf)),
		       strerror(soerr));
		tp__conn_close(c, TP_CLOSE_CONNECT);
		return;
	}
	c->state = c->ssl ? TP_CONN_HANDSHAKE : TP_CONN_OPEN;
	c->tp->st.connected++;
	tp__conn_touch(c);
	tp__conn_arm(c);
}

void tp__tcp_on_event(struct loop *l, int fd, unsigned revents, void *arg)
{
	struct tp_conn *c = arg;

	(void)l;
	(void)fd;
	if (c->state == TP_CONN_CONNECTING) {
		if (!(revents & (LOOP_WRITE | LOOP_ERR)))
			return;
		connect_done(c);
	}
	if (c->state == TP_CONN_HANDSHAKE) {
		if (!tp__tls_handshake(c))
			return;
		/* Queued output goes now; records that came with the
		 * handshake's last flight are read now. */
		revents |= LOOP_READ | (c->tx_len > c->tx_off ? LOOP_WRITE : 0);
	}
	if (c->state == TP_CONN_OPEN && (revents & LOOP_WRITE))
		tx_flush(c);
	/* TLS reads may wait for the socket to take a write. */
	if (c->state == TP_CONN_OPEN && (revents & (LOOP_READ | LOOP_ERR) ||
					 (c->ssl && (revents & LOOP_WRITE))))
		conn_read(c);
}

/* True for 0.0.0.0 and ::, which we do not bind outgoing sockets to. */
static bool addr_is_any(const struct sg_addr *a)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (a->u.sa.sa_family == AF_INET6)
		return memcmp(&a->u.in6.sin6_addr, &any6, sizeof(any6)) == 0;
	return a->u.in.sin_addr.s_addr == htonl(INADDR_ANY);
}

/* Non-blocking socket, bound to from's IP, connect started.  fd or
 * -errno; *donep: connected already. */
static int connect_start(const struct sg_addr *to,
			 const struct tp_listener *from, bool *donep)
{
	struct sg_addr src;
	int fd, err;

	fd = socket(to->u.sa.sa_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (from && !addr_is_any(&from->addr)) {
		src = from->addr;
		sg_addr_set_port(&src, 0);
		/* The port is picked at connect time, per destination, so
		 * many connections do not exhaust the ephemeral range. */
		set_opt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
		if (bind(fd, &src.u.sa, src.len) != 0)
			goto fail;
	}
	set_opt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	*donep = connect(fd, &to->u.sa, to->len) == 0;
	if (!*donep && errno != EINPROGRESS)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

int tp__tcp_connect(struct transport *tp, const struct sip_peer *to,
		    const struct tp_listener *from, const char *p, size_t n)
{
	struct tp_conn *c;
	bool done = false;
	int fd, err;

	if (tp->st.conns_open >= tp->conf.max_conns)
		return -EMFILE;
	fd = connect_start(&to->addr, from, &done);
	if (fd < 0)
		return fd;
	/* TLS: the zone asked for, whose TLS settings (CAs, client
	 * certificate) apply, even when the source address is borrowed
	 * from another zone's listener. */
	err = tp__conn_new(
		&c, tp, fd, false, &to->addr, from ? from->idx : to->local,
		from && to->tp != SIP_TP_TLS ? from->zone : to->zone);
	if (err) {
		close(fd);
		return err;
	}
	if (to->tp == SIP_TP_TLS && (err = tp__tls_connect(c)) != 0) {
		tp__conn_close(c, TP_CLOSE_ERROR);
		return err;
	}
	if (done) {
		c->state = c->ssl ? TP_CONN_HANDSHAKE : TP_CONN_OPEN;
		tp->st.connected++;
	}
	tp__conn_arm(c);
	err = tp__conn_watch(c, LOOP_READ | LOOP_WRITE);
	if (err) {
		tp__conn_close(c, TP_CLOSE_ERROR);
		return err;
	}
	return tp__tcp_write(c, p, n);
}
