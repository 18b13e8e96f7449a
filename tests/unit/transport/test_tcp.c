/*
 * test_tcp.c - SIP over TCP through struct transport, with real sockets
 * on loopback (IPv4 and IPv6): framing across and within writes,
 * keep-alives, closing on bad framing and oversize, caps, idle timeout on
 * a fake clock, connection reuse by id, address and alias, outgoing
 * connections, the output queue cap, and closing from the callback.
 */
#include "tp_harness.h"

#include <netinet/tcp.h>

static const char *const lo[] = {"127.0.0.1:0", "[::1]:0"};

/* A transport with one TCP listener; a client connected and accepted. */
static int setup_conn(struct h *h, const struct tp_conf *conf, bool fake,
		      const char *addr, struct sg_addr *lap)
{
	int fd;

	h_init(h, conf, fake);
	h_listen(h, SIP_TP_TCP, addr, 7, lap);
	fd = h_connect(lap);
	H_PUMP_UNTIL(h, h_stats(h).accepted == 1);
	return fd;
}

static void test_byte_by_byte(void **state)
{
	struct sg_addr la, ca;
	socklen_t sl = sizeof(ca.u.ss);
	char m[512];
	size_t n, i;
	unsigned f;
	struct h h;
	int fd;

	(void)state;
	for (f = 0; f < 2; f++) {
		fd = setup_conn(&h, NULL, false, lo[f], &la);
		sl = sizeof(ca.u.ss);
		assert_int_equal(getsockname(fd, &ca.u.sa, &sl), 0);
		ca.len = sl;
		n = h_msg(m, sizeof(m), "bytes", "hello");
		for (i = 0; i < n; i++) {
			h_write(fd, m + i, 1);
			h_pump(&h, 2);
		}
		H_PUMP_UNTIL(&h, h.nmsg == 1);
		assert_int_equal(h.msg[0].n, n);
		assert_memory_equal(h.msg[0].p, m, n);
		assert_int_equal(h.msg[0].from.tp, SIP_TP_TCP);
		assert_int_not_equal(h.msg[0].from.conn_id, 0);
		assert_int_equal(h.msg[0].from.local, 0);
		assert_int_equal(h.msg[0].from.zone, 7);
		assert_true(sg_addr_eq(&h.msg[0].from.addr, &ca));
		assert_true(tp_conn_alive(h.tp, h.msg[0].from.conn_id));
		close(fd);
		H_PUMP_UNTIL(&h, h_stats(&h).conns_open == 0);
		assert_int_equal(h_stats(&h).closed[TP_CLOSE_EOF], 1);
		H_PUMP_UNTIL(&h, h.nclosed == 1);
		assert_int_equal(h.why, TP_CLOSE_EOF);
		h_fini(&h);
	}
	assert_no_leaks();
}

static void test_several_in_one_write(void **state)
{
	char m[2048];
	size_t n = 0, cut;
	struct sg_addr la;
	struct h h;
	int fd;

	(void)state;
	fd = setup_conn(&h, NULL, false, lo[0], &la);
	n += h_msg(m + n, sizeof(m) - n, "one", "");
	n += h_msg(m + n, sizeof(m) - n, "two", "body two");
	memcpy(m + n, "\r\n", 2); /* a pong between messages: ignored */
	n += 2;
	n += h_msg(m + n, sizeof(m) - n, "three", "3");
	cut = n;
	n += h_msg(m + n, sizeof(m) - n, "four", "the fourth");
	h_write(fd, m, cut + 20);
	H_PUMP_UNTIL(&h, h.nmsg == 3);
	h_pump(&h, 3);
	assert_int_equal(h.nmsg, 3);
	h_write(fd, m + cut + 20, n - cut - 20);
	H_PUMP_UNTIL(&h, h.nmsg == 4);
	assert_memory_equal(h.msg[1].p + h.msg[1].n - 8, "body two", 8);
	assert_memory_equal(h.msg[3].p, m + cut, n - cut);
	assert_int_equal(h.msg[3].n, n - cut);
	assert_int_equal(h.msg[0].from.conn_id, h.msg[3].from.conn_id);
	assert_int_equal(h_stats(&h).tcp_rx_msgs, 4);
	close(fd);
	h_fini(&h);
	assert_no_leaks();
}

/* A stream of messages (one large) and pongs, cut at random points:
 * every message arrives whole and in order. */
static void test_random_splits(void **state)
{
	static char stream[80000], body[30000];
	size_t len = 0, start[6], mlen[6], off, k;
	struct sg_addr la;
	uint32_t rnd = 12345;
	unsigned i, round;
	struct h h;
	int fd;

	(void)state;
	memset(body, 'q', sizeof(body) - 1);
	for (i = 0; i < 6; i++) {
		start[i] = len;
		mlen[i] = h_msg(stream + len, sizeof(stream) - len, "split",
				i == 2 ? body : "short body");
		len += mlen[i];
		memcpy(stream + len, "\r\n", 2);
		len += 2;
	}
	for (round = 0; round < 4; round++) {
		fd = setup_conn(&h, NULL, false, lo[round % 2], &la);
		for (off = 0; off < len; off += k) {
			rnd = rnd * 1103515245u + 12345u;
			k = 1 + (rnd >> 8) % (round < 2 ? 64 : 9000);
			if (k > len - off)
				k = len - off;
			h_write(fd, stream + off, k);
			h_pump(&h, 1);
		}
		H_PUMP_UNTIL(&h, h.nmsg == 6);
		for (i = 0; i < 6; i++) {
			assert_int_equal(h.msg[i].n, mlen[i]);
			assert_int_equal(h.msg[i].sum,
					 h_sum(stream + start[i], mlen[i]));
		}
		assert_int_equal(h_stats(&h).conns_open, 1);
		close(fd);
		h_fini(&h);
	}
	assert_no_leaks();
}

static void test_keepalive(void **state)
{
	struct sg_addr la;
	char buf[8], m[512];
	struct h h;
	int fd;

	(void)state;
	fd = setup_conn(&h, NULL, false, lo[0], &la);
	h_write(fd, "\r\n\r\n", 4);
	assert_int_equal(h_read(&h, fd, buf, 2), 2);
	assert_memory_equal(buf, "\r\n", 2);
	assert_int_equal(h_stats(&h).pings, 1);
	/* A pong gets no answer and keeps the connection. */
	h_write(fd, "\r\n", 2);
	h_pump(&h, 5);
	assert_true(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0);
	h_write(fd, m, h_msg(m, sizeof(m), "after-ping", "x"));
	H_PUMP_UNTIL(&h, h.nmsg == 1);
	assert_int_equal(h_stats(&h).conns_open, 1);
	close(fd);
	h_fini(&h);
	assert_no_leaks();
}

static void test_framing_errors(void **state)
{
	static const char *const bad[] = {
		"\x01\x02 not sip\r\n\r\n",
		"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n", /* no C-L */
		"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1\r\n"
		"Content-Length: 1\r\n\r\nxx",
		"\r\r",
	};
	struct sg_addr la;
	struct h h;
	unsigned i;
	int fd;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fd = setup_conn(&h, NULL, false, lo[0], &la);
		h_write(fd, bad[i], strlen(bad[i]));
		assert_true(h_wait_eof(&h, fd));
		assert_int_equal(h_stats(&h).closed[TP_CLOSE_FRAMING], 1);
		assert_int_equal(h_stats(&h).conns_open, 0);
		assert_int_equal(h.nmsg, 0);
		H_PUMP_UNTIL(&h, h.nclosed == 1);
		assert_int_equal(h.why, TP_CLOSE_FRAMING);
		close(fd);
		h_fini(&h);
	}
	assert_no_leaks();
}

static void test_oversize(void **state)
{
	struct tp_conf conf = tp_conf_default;
	char big[3000], big2[2048], m[512];
	struct sg_addr la;
	struct h h;
	size_t n;
	int fd;

	(void)state;
	conf.lim.max_msg_size = 1024;
	conf.max_rx = 1024;
	/* Header section that never ends. */
	fd = setup_conn(&h, &conf, false, lo[0], &la);
	memcpy(big, "OPTIONS sip:a@b SIP/2.0\r\nX: ", 28);
	memset(big + 28, 'a', sizeof(big) - 28);
	h_write(fd, big, sizeof(big));
	assert_true(h_wait_eof(&h, fd));
	assert_int_equal(h_stats(&h).closed[TP_CLOSE_OVERSIZE], 1);
	close(fd);
	h_fini(&h);
	/* Content-Length past the limit: refused before the body. */
	fd = setup_conn(&h, &conf, false, lo[0], &la);
	h_write(fd, m,
		(size_t)snprintf(m, sizeof(m),
				 "OPTIONS sip:a@b SIP/2.0\r\n"
				 "Content-Length: 100000\r\n\r\n"));
	assert_true(h_wait_eof(&h, fd));
	assert_int_equal(h_stats(&h).closed[TP_CLOSE_OVERSIZE], 1);
	close(fd);
	h_fini(&h);
	/* A message of exactly the limit passes: the body length has
	 * three digits where the empty body's had one. */
	fd = setup_conn(&h, &conf, false, lo[0], &la);
	n = 1024 - 2 - h_msg(m, sizeof(m), "max", "");
	memset(big, 'b', n);
	big[n] = '\0';
	n = h_msg(big2, sizeof(big2), "max", big);
	assert_int_equal(n, 1024);
	h_write(fd, big2, n);
	H_PUMP_UNTIL(&h, h.nmsg == 1);
	close(fd);
	h_fini(&h);
	assert_no_leaks();
}

static void test_caps(void **state)
{
	struct tp_conf conf = tp_conf_default;
	struct sg_addr la;
	struct h h;
	int fd[3], i;

	(void)state;
	conf.max_conns_per_ip = 2;
	h_init(&h, &conf, false);
	h_listen(&h, SIP_TP_TCP, lo[0], 0, &la);
	for (i = 0; i < 3; i++)
		fd[i] = h_connect(&la);
	H_PUMP_UNTIL(&h, h_stats(&h).refused_per_ip == 1);
	assert_int_equal(h_stats(&h).accepted, 2);
	assert_int_equal(h_stats(&h).conns_open, 2);
	assert_true(h_wait_eof(&h, fd[2]));
	/* Once one goes, the source may connect again. */
	close(fd[0]);
	H_PUMP_UNTIL(&h, h_stats(&h).conns_open == 1);
	fd[0] = h_connect(&la);
	H_PUMP_UNTIL(&h, h_stats(&h).accepted == 3);
	for (i = 0; i < 3; i++)
		close(fd[i]);
	h_fini(&h);

	conf = tp_conf_default;
	conf.max_conns = 2;
	h_init(&h, &conf, false);
	h_listen(&h, SIP_TP_TCP, lo[0], 0, &la);
	for (i = 0; i < 3; i++)
		fd[i] = h_connect(&la);
	H_PUMP_UNTIL(&h, h_stats(&h).refused_total == 1);
	assert_int_equal(h_stats(&h).conns_open, 2);
	assert_true(h_wait_eof(&h, fd[2]));
	/* Outgoing connections count too. */
	{
		struct sip_peer to = {.tp = SIP_TP_TCP, .addr = la};

		assert_int_equal(tp_send(h.tp, &to, "x", 1), -EMFILE);
	}
	for (i = 0; i < 3; i++)
		close(fd[i]);
	h_fini(&h);
	assert_no_leaks();
}

static void test_idle_timeout(void **state)
{
	struct tp_conf conf = tp_conf_default;
	struct sg_addr la;
	char m[512];
	struct h h;
	int fd;

	(void)state;
	conf.idle_ms = 1000;
	fd = setup_conn(&h, &conf, true, lo[0], &la);
	h_fake_ms += 600;
	h_pump(&h, 2);
	h_write(fd, m, h_msg(m, sizeof(m), "keep", ""));
	H_PUMP_UNTIL(&h, h.nmsg == 1);
	h_fake_ms += 600; /* 1200 since accept, 600 since traffic */
	h_pump(&h, 3);
	assert_int_equal(h_stats(&h).conns_open, 1);
	h_fake_ms += 500;
	h_pump(&h, 3);
	assert_int_equal(h_stats(&h).conns_open, 0);
	assert_int_equal(h_stats(&h).closed[TP_CLOSE_IDLE], 1);
	assert_true(h_wait_eof(&h, fd));
	H_PUMP_UNTIL(&h, h.nclosed == 1);
	assert_int_equal(h.why, TP_CLOSE_IDLE);
	close(fd);
	h_fini(&h);
	assert_no_leaks();
}

/* Responses by conn_id, requests back by address, by alias. */
static void test_reuse(void **state)
{
	struct sip_peer to;
	struct sg_addr la;
	char m[512], r[512];
	size_t n;
	unsigned f;
	struct h h;
	int fd;

	(void)state;
	for (f = 0; f < 2; f++) {
		fd = setup_conn(&h, NULL, false, lo[f], &la);
		h_write(fd, m, h_msg(m, sizeof(m), "req", ""));
		H_PUMP_UNTIL(&h, h.nmsg == 1);
		/* By id: the address does not matter. */
		to = h.msg[0].from;
		to.addr = h_addr(f ? "[::1]:9" : "127.0.0.1:9");
		n = h_msg(m, sizeof(m), "resp", "by id");
		assert_int_equal(tp_send(h.tp, &to, m, n), 0);
		assert_int_equal(h_read(&h, fd, r, n), (ssize_t)n);
		assert_memory_equal(r, m, n);
		/* By address: a request back to the peer. */
		to = h.msg[0].from;
		to.conn_id = 0;
		n = h_msg(m, sizeof(m), "back", "by address");
		assert_int_equal(tp_send(h.tp, &to, m, n), 0);
		assert_int_equal(h_read(&h, fd, r, n), (ssize_t)n);
		assert_memory_equal(r, m, n);
		/* By alias (RFC 5923). */
		to.addr = h_addr(f ? "[2001:db8::5]:5060" : "192.0.2.5:5060");
		assert_int_equal(
			tp_alias(h.tp, h.msg[0].from.conn_id, &to.addr), 0);
		n = h_msg(m, sizeof(m), "alias", "by alias");
		assert_int_equal(tp_send(h.tp, &to, m, n), 0);
		assert_int_equal(h_read(&h, fd, r, n), (ssize_t)n);
		assert_memory_equal(r, m, n);
		assert_int_equal(h_stats(&h).connected, 0);
		assert_int_equal(h_stats(&h).conns_open, 1);
		assert_int_equal(h_stats(&h).tcp_tx_msgs, 3);
		/* Closed: the id is dead and never comes back. */
		assert_int_equal(tp_close(h.tp, h.msg[0].from.conn_id), 0);
		assert_false(tp_conn_alive(h.tp, h.msg[0].from.conn_id));
		assert_int_equal(tp_close(h.tp, h.msg[0].from.conn_id),
				 -ENOENT);
		to = h.msg[0].from;
		memset(&to.addr, 0, sizeof(to.addr));
		assert_int_equal(tp_send(h.tp, &to, "x", 1), -ENOTCONN);
		assert_true(h_wait_eof(&h, fd));
		close(fd);
		h_fini(&h);
	}
	assert_no_leaks();
}

/* Accept on a plain listening socket, pumping the transport. */
static int peer_accept(struct h *h, int lfd)
{
	int i, fd = -1;

	for (i = 0; i < H_TURNS && fd < 0; i++) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			loop_run_once(h->l, 5);
	}
	assert_true(fd >= 0);
	return fd;
}

static int peer_listen(const char *s, int backlog, struct sg_addr *ap)
{
	struct sg_addr a = h_addr(s);
	int fd = socket(a.u.sa.sa_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, &a.u.sa, a.len), 0);
	assert_int_equal(listen(fd, backlog), 0);
	ap->len = sizeof(ap->u.ss);
	assert_int_equal(getsockname(fd, &ap->u.sa, &ap->len), 0);
	return fd;
}

static void test_connect_out(void **state)
{
	struct sg_addr la, pa, src;
	socklen_t sl = sizeof(src.u.ss);
	char m[512], m2[512], r[512];
	struct sip_peer to;
	size_t n, n2;
	unsigned f;
	struct h h;
	int lfd, fd;

	(void)state;
	for (f = 0; f < 2; f++) {
		h_init(&h, NULL, false);
		h_listen(&h, SIP_TP_TCP, f ? "[::1]:0" : "127.0.0.1:0", 3, &la);
		lfd = peer_listen(lo[f], 8, &pa);
		memset(&to, 0, sizeof(to));
		to.tp = SIP_TP_TCP;
		to.addr = pa;
		to.zone = 3;
		n = h_msg(m, sizeof(m), "out", "first");
		n2 = h_msg(m2, sizeof(m2), "out2", "second");
		assert_int_equal(tp_send(h.tp, &to, m, n), 0);
		/* Queued behind the connect, on the same connection. */
		assert_int_equal(tp_send(h.tp, &to, m2, n2), 0);
		assert_int_equal(h_stats(&h).conns_open, 1);
		fd = peer_accept(&h, lfd);
		sl = sizeof(src.u.ss);
		/* Sent from the zone's listener IP. */
		assert_int_equal(getpeername(fd, &src.u.sa, &sl), 0);
		src.len = sl;
		assert_true(sg_addr_ip_eq(&src, &la));
		assert_int_equal(h_read(&h, fd, r, n), (ssize_t)n);
		assert_memory_equal(r, m, n);
		assert_int_equal(h_read(&h, fd, r, n2), (ssize_t)n2);
		assert_memory_equal(r, m2, n2);
		assert_int_equal(h_stats(&h).connected, 1);
		/* The peer answers over the connection we opened. */
		h_write(fd, m, n);
		H_PUMP_UNTIL(&h, h.nmsg == 1);
		assert_true(sg_addr_eq(&h.msg[0].from.addr, &pa));
		assert_int_equal(h.msg[0].from.zone, 3);
		assert_int_equal(h.msg[0].from.local, 0);
		assert_int_equal(h_stats(&h).conns_open, 1);
		close(fd);
		H_PUMP_UNTIL(&h, h_stats(&h).conns_open == 0);
		close(lfd);
		h_fini(&h);
	}
	assert_no_leaks();
}

static void test_connect_refused(void **state)
{
	struct sg_addr pa;
	struct sip_peer to;
	struct h h;
	int lfd;

	(void)state;
	h_init(&h, NULL, false);
	/* A port that was just free: nobody listens there. */
	lfd = peer_listen(lo[0], 8, &pa);
	close(lfd);
	memset(&to, 0, sizeof(to));
	to.tp = SIP_TP_TCP;
	to.addr = pa;
	assert_int_equal(tp_send(h.tp, &to, "hello", 5), 0);
	H_PUMP_UNTIL(&h, h.nclosed == 1);
	assert_int_equal(h.why, TP_CLOSE_CONNECT);
	assert_int_equal(h_stats(&h).closed[TP_CLOSE_CONNECT], 1);
	assert_int_equal(h_stats(&h).conns_open, 0);
	h_fini(&h);
	assert_no_leaks();
}

static void test_connect_timeout(void **state)
{
	struct tp_conf conf = tp_conf_default;
	struct sip_peer to;
	struct sg_addr pa;
	int lfd, cfd[2], i;
	struct h h;

	(void)state;
	conf.connect_ms = 500;
	h_init(&h, &conf, true);
	/* A listener whose accept queue is full drops further SYNs, so
	 * our connect stays pending until the timeout. */
	lfd = peer_listen(lo[0], 0, &pa);
	for (i = 0; i < 2; i++) {
		cfd[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(cfd[i] >= 0);
		(void)connect(cfd[i], &pa.u.sa, pa.len);
	}
	h_pump(&h, 5);
	memset(&to, 0, sizeof(to));
	to.tp = SIP_TP_TCP;
	to.addr = pa;
	assert_int_equal(tp_send(h.tp, &to, "x", 1), 0);
	h_pump(&h, 5);
	assert_int_equal(h_stats(&h).conns_open, 1);
	assert_int_equal(h_stats(&h).connected, 0);
	h_fake_ms += 501;
	H_PUMP_UNTIL(&h, h.nclosed == 1);
	assert_int_equal(h.why, TP_CLOSE_CONNECT);
	assert_int_equal(h_stats(&h).conns_open, 0);
	for (i = 0; i < 2; i++)
		close(cfd[i]);
	close(lfd);
	h_fini(&h);
	assert_no_leaks();
}

static void test_peer_close_mid_message(void **state)
{
	struct sg_addr la;
	char m[512];
	struct h h;
	int fd;

	(void)state;
	fd = setup_conn(&h, NULL, false, lo[1], &la);
	h_write(fd, m, h_msg(m, sizeof(m), "half", "0123456789") - 5);
	h_pump(&h, 3);
	close(fd);
	H_PUMP_UNTIL(&h, h_stats(&h).conns_open == 0);
	assert_int_equal(h.nmsg, 0);
	assert_int_equal(h_stats(&h).closed[TP_CLOSE_EOF], 1);
	h_fini(&h);
	assert_no_leaks();
}

static void test_close_from_callback(void **state)
{
	struct sg_addr la;
	char m[1024];
	size_t n = 0;
	struct h h;
	int fd;

	(void)state;
	fd = setup_conn(&h, NULL, false, lo[0], &la);
	h.close_on_msg = true;
	n += h_msg(m + n, sizeof(m) - n, "a", "");
	n += h_msg(m + n, sizeof(m) - n, "b", "");
	n += h_msg(m + n, sizeof(m) - n, "c", "partial") - 3;
	h_write(fd, m, n);
	H_PUMP_UNTIL(&h, h.nclosed == 1);
	assert_int_equal(h.nmsg, 1);
	assert_int_equal(h.why, TP_CLOSE_LOCAL);
	assert_true(h_wait_eof(&h, fd));
	close(fd);
	h_fini(&h);
	assert_no_leaks();
}

static void test_echo_many(void **state)
{
	struct sg_addr la;
	char m[4096], r[4096];
	size_t n = 0;
	struct h h;
	int fd, i;

	(void)state;
	fd = setup_conn(&h, NULL, false, lo[1], &la);
	h.echo = true;
	for (i = 0; i < 8; i++)
		n += h_msg(m + n, sizeof(m) - n, "echo", "0123456789");
	h_write(fd, m, n);
	assert_int_equal(h_read(&h, fd, r, n), (ssize_t)n);
	assert_memory_equal(r, m, n);
	assert_int_equal(h.nmsg, 8);
	close(fd);
	h_fini(&h);
	assert_no_leaks();
}

static void test_tx_overflow(void **state)
{
	struct tp_conf conf = tp_conf_default;
	static char chunk[32768];
	struct sip_peer to;
	struct sg_addr la;
	char m[512];
	struct h h;
	int fd, i, err = 0, small = 4096;

	(void)state;
	conf.max_tx = 65536;
	h_init(&h, &conf, false);
	h_listen(&h, SIP_TP_TCP, lo[0], 0, &la);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	assert_int_equal(connect(fd, &la.u.sa, la.len), 0);
	h_write(fd, m, h_msg(m, sizeof(m), "slow", ""));
	H_PUMP_UNTIL(&h, h.nmsg == 1);
	to = h.msg[0].from;
	memset(chunk, 'z', sizeof(chunk));
	/* The client never reads: kernel buffers fill, then our queue. */
	for (i = 0; i < 4096 && !err; i++) {
		err = tp_send(h.tp, &to, chunk, sizeof(chunk));
		h_pump(&h, 1);
	}
	assert_int_equal(err, -ENOBUFS);
	assert_int_equal(h_stats(&h).closed[TP_CLOSE_TXFULL], 1);
	assert_false(tp_conn_alive(h.tp, to.conn_id));
	close(fd);
	h_fini(&h);
	assert_no_leaks();
}

static void test_oom(void **state)
{
	struct sg_addr la;
	char m[512];
	size_t i, n;
	struct h h;
	int fd, err;

	(void)state;
	/* Every allocation on the accept/read/write path failing in turn
	 * closes or refuses cleanly. */
	for (i = 1; i < 20; i++) {
		h_init(&h, NULL, false);
		h_listen(&h, SIP_TP_TCP, lo[0], 0, &la);
		fd = h_connect(&la);
		mem_fail_nth(i);
		/* The connection may be refused or closed: no asserts. */
		n = h_msg(m, sizeof(m), "oom", "abc");
		(void)send(fd, m, n - 2, MSG_NOSIGNAL);
		h_pump(&h, 4);
		(void)send(fd, m + n - 2, 2, MSG_NOSIGNAL);
		h_pump(&h, 4);
		mem_fail_nth(0);
		err = tp_send(h.tp,
			      &(struct sip_peer){.tp = SIP_TP_TCP, .addr = la},
			      "x", 1);
		(void)err;
		h_pump(&h, 4);
		close(fd);
		h_fini(&h);
		assert_no_leaks();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_several_in_one_write),
		cmocka_unit_test(test_random_splits),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_framing_errors),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_connect_out),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_connect_timeout),
		cmocka_unit_test(test_peer_close_mid_message),
		cmocka_unit_test(test_close_from_callback),
		cmocka_unit_test(test_echo_many),
		cmocka_unit_test(test_tx_overflow),
		cmocka_unit_test(test_oom),
	};

	/* Closing and refusing log at INFO; keep the output readable. */
	log_set_level(LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
