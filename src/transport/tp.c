/*
 * tp.c - the transport object of one loop thread: configuration, the
 * listener table (UDP and TCP, IPv4 and IPv6, several per zone), UDP
 * receive in recvmmsg(2) batches, and the send path that picks a socket
 * for a struct sip_peer: a UDP listener, an existing TCP connection (by
 * id, address or RFC 5923 alias) or a new one.  See transport.h for the
 * contract, tcp.c and conn.c for streams.
 *
 * received/rport (RFC 3581) is the proxy's business: it gets the exact
 * source address of every datagram and connection in sip_peer.addr and
 * answers to it through tp_send().
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/sock_diag.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "transport/tp_int.h"

enum {
	TP_MAX_RX = 16 << 20, /* sanity bound on conf.max_rx and max_tx */
};

const struct tp_conf tp_conf_default = {
	.idle_ms = 600000,
	.connect_ms = 10000,
	.max_conns = 4096,
	.max_conns_per_ip = 32,
	.max_rx = SIP_MAX_MSG_SIZE + TP_RX_HEADROOM,
	.max_tx = 256 * 1024,
	.shard = 0,
	.lim =
		{
			.max_msg_size = SIP_MAX_MSG_SIZE,
			.max_headers = SIP_MAX_HEADERS,
			.max_line = SIP_MAX_LINE,
			.max_via = SIP_MAX_VIA,
			.max_uri = SIP_MAX_URI,
			.max_parts = SIP_MAX_PARTS,
		},
};

static bool conf_ok(const struct tp_conf *c)
{
	size_t msg = c->lim.max_msg_size < SIP_MAX_MSG_SIZE
			     ? c->lim.max_msg_size
			     : SIP_MAX_MSG_SIZE;

	/* A buffer smaller than one message would close every connection
	 * that carries a big (but legal) one. */
	return c->connect_ms && c->max_conns && c->max_conns_per_ip &&
	       c->max_conns <= HTAB_MAX_BUCKETS && msg && c->max_rx >= msg &&
	       c->max_rx <= TP_MAX_RX && c->max_tx && c->max_tx <= TP_MAX_RX;
}

int tp_new(struct transport **tpp, struct loop *l, const struct tp_conf *conf,
	   tp_recv_fn *recv, void *arg)
{
	struct transport *tp;
	unsigned i;
	int err;

	if (!tpp || !l || !recv)
		return -EINVAL;
	*tpp = NULL;
	if (!conf)
		conf = &tp_conf_default;
	if (!conf_ok(conf))
		return -EINVAL;
	tp = mem_zalloc(sizeof(*tp));
	if (!tp)
		return -ENOMEM;
	tp->conf = *conf;
	tp->loop = l;
	tp->recv = recv;
	tp->recv_arg = arg;
	for (i = 0; i < TP_MAX_LISTENERS; i++)
		tp->lst[i].fd = -1;
	tp->scratch = mem_alloc(conf->max_rx);
	err = tp->scratch ? tp__conns_init(tp) : -ENOMEM;
	if (err) {
		tp_free(tp);
		return err;
	}
	*tpp = tp;
	return 0;
}

void tp_free(struct transport *tp)
{
	struct tp_listener *ls;
	unsigned i;

	if (!tp)
		return;
	tp__conns_fini(tp);
	for (i = 0; i < tp->nlst; i++) {
		ls = &tp->lst[i];
		if (ls->kind != SIP_TP_UDP) {
			tp__tcp_listener_close(ls);
		} else {
			loop_fd_del(tp->loop, ls->fd);
			close(ls->fd);
			ls->fd = -1;
		}
	}
	udp_batch_free(tp->batch);
	mem_free(tp->scratch);
	mem_free(tp);
}

void tp_set_close_fn(struct transport *tp, tp_close_fn *fn, void *arg)
{
	tp->close_fn = fn;
	tp->close_arg = arg;
}

void tp_set_gate(struct transport *tp, tp_gate_fn *fn, void *arg)
{
	tp->gate = fn;
	tp->gate_arg = arg;
}

/* Deliver up to TP_UDP_ROUNDS batches; the rest waits for the next
 * turn (level-triggered), so one busy socket cannot starve the others. */
static void on_udp(struct loop *l, int fd, unsigned revents, void *arg)
{
	struct tp_listener *ls = arg;
	struct transport *tp = ls->tp;
	struct udp_batch *b = tp->batch;
	struct sip_peer from;
	int round, n, i;

	(void)l;
	(void)revents;
	for (round = 0; round < TP_UDP_ROUNDS; round++) {
		n = udp_recv_batch(fd, b);
		if (n < 0)
			LOG_RL(LOG_LVL_WARN, "udp listener %u: recv: %s",
			       ls->idx, strerror(-n));
		if (n <= 0)
			return;
		for (i = 0; i < n; i++) {
			if (b->truncated[i]) {
				tp->st.udp_truncated++;
				continue;
			}
			if (tp->gate &&
			    !tp->gate(tp->gate_arg, &b->from[i], SIP_TP_UDP,
				      ls->zone, b->len[i])) {
				tp->st.gated_dgrams++;
				continue;
			}
			memset(&from, 0, sizeof(from));
			from.tp = SIP_TP_UDP;
			from.addr = b->from[i];
			from.local = ls->idx;
			from.zone = ls->zone;
			tp->st.udp_rx++;
			tp->recv(tp->recv_arg, &from, b->buf[i], b->len[i]);
		}
		if (n < UDP_BATCH)
			return;
	}
}

static int udp_listen(struct transport *tp, struct tp_listener *ls)
{
	int fd, err;

	if (!tp->batch) {
		err = udp_batch_new(&tp->batch);
		if (err)
			return err;
	}
	fd = udp_open(&ls->addr);
	if (fd < 0)
		return fd;
	ls->addr.len = sizeof(ls->addr.u.ss);
	if (getsockname(fd, &ls->addr.u.sa, &ls->addr.len) != 0) {
		err = -errno;
		goto fail;
	}
	err = loop_fd_add(tp->loop, fd, LOOP_READ, on_udp, ls);
	if (err)
		goto fail;
	ls->fd = fd;
	return 0;
fail:
	close(fd);
	return err;
}

static bool family_ok(const struct sg_addr *a)
{
	int f = a->u.sa.sa_family;

	return (f == AF_INET && a->len >= sizeof(struct sockaddr_in)) ||
	       (f == AF_INET6 && a->len >= sizeof(struct sockaddr_in6));
}

int tp_listen(struct transport *tp, enum sip_tp kind, const struct sg_addr *a,
	      uint16_t zone, uint16_t *local_idp)
{
	struct tp_listener *ls;
	int err;

	if (!tp || !a)
		return -EINVAL;
	if (kind != SIP_TP_UDP && kind != SIP_TP_TCP && kind != SIP_TP_TLS)
		return -EPROTONOSUPPORT;
	if (kind == SIP_TP_TLS && !tp__tls_can_serve(tp, zone))
		return -EPROTONOSUPPORT;
	if (!family_ok(a))
		return -EAFNOSUPPORT;
	if (tp->nlst >= TP_MAX_LISTENERS)
		return -ENOSPC;
	ls = &tp->lst[tp->nlst];
	memset(ls, 0, sizeof(*ls));
	ls->tp = tp;
	ls->fd = -1;
	ls->kind = kind;
	ls->idx = tp->nlst;
	ls->zone = zone;
	ls->addr = *a;
	err = kind == SIP_TP_UDP ? udp_listen(tp, ls) : tp__tcp_listen(ls);
	if (err) {
		ls->fd = -1;
		return err;
	}
	tp->nlst++;
	if (local_idp)
		*local_idp = ls->idx;
	return 0;
}

int tp_local_addr(const struct transport *tp, uint16_t idx, struct sg_addr *ap)
{
	if (!tp || !ap || idx >= tp->nlst)
		return -ENOENT;
	*ap = tp->lst[idx].addr;
	return 0;
}

/* The listener to send from: to->local if it fits, else the first of
 * to->zone, else the first of any zone; NULL if none has the family. */
static struct tp_listener *pick(struct transport *tp, enum sip_tp kind,
				const struct sip_peer *to)
{
	int fam = to->addr.u.sa.sa_family;
	struct tp_listener *ls, *any = NULL;
	unsigned i;

	if (to->local < tp->nlst) {
		ls = &tp->lst[to->local];
		if (ls->kind == kind && ls->addr.u.sa.sa_family == fam)
			return ls;
	}
	for (i = 0; i < tp->nlst; i++) {
		ls = &tp->lst[i];
		if (ls->kind != kind || ls->addr.u.sa.sa_family != fam)
			continue;
		if (ls->zone == to->zone)
			return ls;
		any = any ? any : ls;
	}
	return any;
}

static int tcp_send(struct transport *tp, const struct sip_peer *to,
		    const char *p, size_t n)
{
	struct tp_conn *c = tp__conn_by_id(tp, to->conn_id);
	bool tls = to->tp == SIP_TP_TLS;

	/* A connection named by id is used as it is (the peer it came
	 * from); by address only one of the asked kind will do. */
	if (!c && family_ok(&to->addr))
		c = tp__conn_by_addr(tp, &to->addr, tls);
	if (c)
		return tp__tcp_write(c, p, n);
	if (!family_ok(&to->addr))
		return to->conn_id ? -ENOTCONN : -EAFNOSUPPORT;
	return tp__tcp_connect(tp, to, pick(tp, to->tp, to), p, n);
}

int tp_send(struct transport *tp, const struct sip_peer *to, const char *p,
	    size_t n)
{
	struct tp_listener *ls;
	int err;

	if (!tp || !to || (!p && n))
		return -EINVAL;
	switch (to->tp) {
	case SIP_TP_UDP:
		if (!family_ok(&to->addr))
			return -EAFNOSUPPORT;
		ls = pick(tp, SIP_TP_UDP, to);
		if (!ls)
			return -EADDRNOTAVAIL;
		err = udp_send(ls->fd, &to->addr, p, n);
		if (!err)
			tp->st.udp_tx++;
		return err;
	case SIP_TP_TCP:
	case SIP_TP_TLS:
		err = tcp_send(tp, to, p, n);
		if (!err)
			tp->st.tcp_tx_msgs++;
		return err;
	default:
		return -EPROTONOSUPPORT;
	}
}

/* out[0..k): UDP entries from one socket, up to UDP_BATCH.  How many. */
static unsigned udp_run(struct transport *tp, struct tp_out *out, unsigned n,
			struct tp_listener **lsp)
{
	struct tp_listener *ls;
	unsigned k;

	*lsp = NULL;
	if (out[0].to->tp != SIP_TP_UDP || !family_ok(&out[0].to->addr))
		return 0;
	*lsp = pick(tp, SIP_TP_UDP, out[0].to);
	if (!*lsp)
		return 0;
	for (k = 1; k < n && k < UDP_BATCH; k++) {
		if (out[k].to->tp != SIP_TP_UDP || !family_ok(&out[k].to->addr))
			break;
		ls = pick(tp, SIP_TP_UDP, out[k].to);
		if (ls != *lsp)
			break;
	}
	return k;
}

/* sendmmsg() the run; returns entries handled (>= 1). */
static unsigned udp_send_run(struct transport *tp, struct tp_listener *ls,
			     struct tp_out *out, unsigned k)
{
	struct mmsghdr mh[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	unsigned i;
	int r;

	memset(mh, 0, sizeof(mh[0]) * k);
	for (i = 0; i < k; i++) {
		iov[i].iov_base = (void *)(uintptr_t)out[i].p;
		iov[i].iov_len = out[i].n;
		mh[i].msg_hdr.msg_iov = &iov[i];
		mh[i].msg_hdr.msg_iovlen = 1;
		mh[i].msg_hdr.msg_name =
			(void *)(uintptr_t)&out[i].to->addr.u.sa;
		mh[i].msg_hdr.msg_namelen = out[i].to->addr.len;
	}
	do {
		r = sendmmsg(ls->fd, mh, k, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (r < 0 && errno == EINTR);
	if (r <= 0) {
		/* The first entry failed; the rest go in the next run. */
		out[0].err = r < 0 ? -errno : -EAGAIN;
		return 1;
	}
	for (i = 0; i < (unsigned)r; i++)
		out[i].err = 0;
	tp->st.udp_tx += (unsigned)r;
	return (unsigned)r;
}

unsigned tp_send_batch(struct transport *tp, struct tp_out *out, unsigned n)
{
	struct tp_listener *ls;
	unsigned i = 0, k, done, ok = 0;

	if (!tp || !out)
		return 0;
	while (i < n) {
		k = udp_run(tp, out + i, n - i, &ls);
		if (k) {
			done = udp_send_run(tp, ls, out + i, k);
		} else {
			out[i].err = tp_send(tp, out[i].to, out[i].p, out[i].n);
			done = 1;
		}
		for (k = i; k < i + done; k++)
			ok += out[k].err == 0;
		i += done;
	}
	return ok;
}

bool tp_conn_alive(const struct transport *tp, uint64_t conn_id)
{
	return tp && tp__conn_by_id(tp, conn_id) != NULL;
}

int tp_close(struct transport *tp, uint64_t conn_id)
{
	struct tp_conn *c = tp ? tp__conn_by_id(tp, conn_id) : NULL;

	if (!c)
		return -ENOENT;
	tp__conn_close(c, TP_CLOSE_LOCAL);
	return 0;
}

int tp_alias(struct transport *tp, uint64_t conn_id,
	     const struct sg_addr *alias)
{
	struct tp_conn *c = tp ? tp__conn_by_id(tp, conn_id) : NULL;

	if (!c)
		return -ENOENT;
	if (!alias || !family_ok(alias))
		return -EAFNOSUPPORT;
	tp__conn_set_alias(c, alias);
	return 0;
}

/* The kernel's drop count of a socket (sk_drops), 0 if unknown. */
static uint64_t sock_drops(int fd)
{
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mi);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &len) != 0 ||
	    len <= SK_MEMINFO_DROPS * sizeof(mi[0]))
		return 0;
	return mi[SK_MEMINFO_DROPS];
}

void tp_get_stats(const struct transport *tp, struct tp_stats *sp)
{
	size_t i;

	*sp = tp->st;
	sp->udp_rx_overflow = 0;
	for (i = 0; i < TP_MAX_LISTENERS; i++)
		if (tp->lst[i].fd >= 0 && tp->lst[i].kind == SIP_TP_UDP)
			sp->udp_rx_overflow += sock_drops(tp->lst[i].fd);
}
