/*
 * test_tp.c - the transport object: configuration checks, listeners,
 * UDP receive and send (IPv4 and IPv6) with listener choice by index,
 * zone and family, tp_send_batch(), and allocation failures.
 */
#include "tp_harness.h"

static int udp_client(const char *s, struct sg_addr *ap)
{
	struct sg_addr a = h_addr(s);
	int fd = socket(a.u.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, &a.u.sa, a.len), 0);
	ap->len = sizeof(ap->u.ss);
	assert_int_equal(getsockname(fd, &ap->u.sa, &ap->len), 0);
	return fd;
}

/* Pump until a datagram arrives on fd; its length, or -1. */
static ssize_t udp_read(struct h *h, int fd, char *buf, size_t sz,
			struct sg_addr *fromp)
{
	struct sg_addr from;
	ssize_t r = -1;
	int i;

	for (i = 0; i < H_TURNS && r < 0; i++) {
		from.len = sizeof(from.u.ss);
		r = recvfrom(fd, buf, sz, MSG_DONTWAIT, &from.u.sa, &from.len);
		if (r < 0)
			loop_run_once(h->l, 5);
	}
	if (fromp)
		*fromp = from;
	return r;
}

static void test_conf(void **state)
{
	struct tp_conf c = tp_conf_default;
	struct transport *tp;
	struct loop *l;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(tp_new(&tp, l, NULL, NULL, NULL), -EINVAL);
	c.max_rx = SIP_MAX_MSG_SIZE - 1;
	assert_int_equal(tp_new(&tp, l, &c, h_on_recv, NULL), -EINVAL);
	/* A lower message limit allows a smaller buffer. */
	c.lim.max_msg_size = 4096;
	c.max_rx = 4096;
	assert_int_equal(tp_new(&tp, l, &c, h_on_recv, NULL), 0);
	tp_free(tp);
	c = tp_conf_default;
	c.max_conns_per_ip = 0;
	assert_int_equal(tp_new(&tp, l, &c, h_on_recv, NULL), -EINVAL);
	c = tp_conf_default;
	c.max_tx = 0;
	assert_int_equal(tp_new(&tp, l, &c, h_on_recv, NULL), -EINVAL);
	assert_int_equal(tp_new(&tp, l, NULL, h_on_recv, NULL), 0);
	tp_free(tp);
	tp_free(NULL);
	loop_free(l);
	assert_no_leaks();
}

static void test_listen_errors(void **state)
{
	struct sg_addr a = h_addr("127.0.0.1:0"), b;
	uint16_t idx;
	struct h h;
	int i;

	(void)state;
	h_init(&h, NULL, false);
	assert_int_equal(tp_listen(h.tp, SIP_TP_TLS, &a, 0, &idx),
			 -EPROTONOSUPPORT);
	memset(&b, 0, sizeof(b));
	assert_int_equal(tp_listen(h.tp, SIP_TP_UDP, &b, 0, &idx),
			 -EAFNOSUPPORT);
	assert_int_equal(tp_local_addr(h.tp, 0, &b), -ENOENT);
	for (i = 0; i < TP_MAX_LISTENERS; i++) {
		assert_int_equal(tp_listen(h.tp,
					   i % 2 ? SIP_TP_TCP : SIP_TP_UDP, &a,
					   0, &idx),
				 0);
		assert_int_equal(idx, i);
	}
	assert_int_equal(tp_listen(h.tp, SIP_TP_UDP, &a, 0, NULL), -ENOSPC);
	/* Port in use. */
	assert_int_equal(tp_local_addr(h.tp, 1, &b), 0);
	assert_true(tp_listen(h.tp, SIP_TP_TCP, &b, 0, NULL) < 0);
	h_fini(&h);
	assert_no_leaks();
}

static void test_udp_echo(void **state)
{
	static const char *const ips[] = {"127.0.0.1:0", "[::1]:0"};
	struct sg_addr la, ca, from;
	char buf[256];
	unsigned f;
	struct h h;
	int fd;

	(void)state;
	for (f = 0; f < 2; f++) {
		h_init(&h, NULL, false);
		h.echo = true;
		h_listen(&h, SIP_TP_UDP, ips[f], 4, &la);
		fd = udp_client(ips[f], &ca);
		assert_int_equal(sendto(fd, "ping me", 7, 0, &la.u.sa, la.len),
				 7);
		assert_int_equal(udp_read(&h, fd, buf, sizeof(buf), &from), 7);
		assert_memory_equal(buf, "ping me", 7);
		assert_true(sg_addr_eq(&from, &la));
		assert_int_equal(h.nmsg, 1);
		assert_int_equal(h.msg[0].from.tp, SIP_TP_UDP);
		assert_int_equal(h.msg[0].from.conn_id, 0);
		assert_int_equal(h.msg[0].from.zone, 4);
		assert_true(sg_addr_eq(&h.msg[0].from.addr, &ca));
		assert_int_equal(h_stats(&h).udp_rx, 1);
		assert_int_equal(h_stats(&h).udp_tx, 1);
		close(fd);
		h_fini(&h);
	}
	assert_no_leaks();
}

/* The gate refuses one source: its datagrams and connections never reach
 * the receive callback, other sources' do. */
static struct sg_addr gate_refuse;

static bool test_gate_fn(void *arg, const struct sg_addr *src, enum sip_tp tp,
			 uint16_t zone, size_t bytes)
{
	unsigned *calls = arg;

	(void)tp;
	(void)zone;
	(void)bytes;
	(*calls)++;
	return !sg_addr_ip_eq(src, &gate_refuse);
}

static void test_gate(void **state)
{
	struct sg_addr la, tla, ca;
	unsigned calls = 0;
	struct h h;
	int fd, cfd;

	(void)state;
	h_init(&h, NULL, false);
	tp_set_gate(h.tp, test_gate_fn, &calls);
	h_listen(&h, SIP_TP_UDP, "127.0.0.1:0", 0, &la);
	h_listen(&h, SIP_TP_TCP, "127.0.0.1:0", 0, &tla);
	gate_refuse = h_addr("127.0.0.66:0");
	fd = udp_client("127.0.0.66:0", &ca);
	assert_int_equal(sendto(fd, "hostile", 7, 0, &la.u.sa, la.len), 7);
	close(fd);
	fd = udp_client("127.0.0.1:0", &ca);
	assert_int_equal(sendto(fd, "friendly", 8, 0, &la.u.sa, la.len), 8);
	cfd = h_connect(&tla); /* from 127.0.0.1: let in */
	h_pump(&h, 50);
	assert_int_equal(h.nmsg, 1);
	assert_memory_equal(h.msg[0].p, "friendly", 8);
	assert_int_equal(h_stats(&h).gated_dgrams, 1);
	assert_int_equal(h_stats(&h).accepted, 1);
	/* Now refuse 127.0.0.1 too: its open connection is closed on the
	 * next read, a new one is reset at accept. */
	gate_refuse = h_addr("127.0.0.1:0");
	h_write(cfd, "x", 1);
	assert_true(h_wait_eof(&h, cfd));
	assert_int_equal(h_stats(&h).gated_reads, 1);
	close(cfd);
	cfd = h_connect(&tla);
	h_pump(&h, 50);
	assert_int_equal(h_stats(&h).gated_accepts, 1);
	assert_true(calls >= 4);
	close(cfd);
	close(fd);
	h_fini(&h);
	assert_no_leaks();
}

/* Many datagrams at once: more than one recvmmsg batch. */
static void test_udp_burst(void **state)
{
	struct sg_addr la, ca;
	char buf[32];
	struct h h;
	int fd, i;

	(void)state;
	h_init(&h, NULL, false);
	h_listen(&h, SIP_TP_UDP, "127.0.0.1:0", 0, &la);
	fd = udp_client("127.0.0.1:0", &ca);
	for (i = 0; i < H_MAX_MSGS; i++) {
		snprintf(buf, sizeof(buf), "dgram %d", i);
		assert_true(sendto(fd, buf, strlen(buf), 0, &la.u.sa, la.len) >
			    0);
	}
	H_PUMP_UNTIL(&h, h.nmsg == H_MAX_MSGS);
	for (i = 0; i < H_MAX_MSGS; i++) {
		snprintf(buf, sizeof(buf), "dgram %d", i);
		assert_int_equal(h.msg[i].n, strlen(buf));
		assert_memory_equal(h.msg[i].p, buf, strlen(buf));
	}
	close(fd);
	h_fini(&h);
	assert_no_leaks();
}

/* Datagrams the kernel drops on a full receive queue are counted (the
 * loop is not pumped while a burst overflows the 8 MB queue). */
static void test_udp_overflow(void **state)
{
	struct sg_addr la, ca;
	char buf[1400];
	struct h h;
	int fd, i;

	(void)state;
	h_init(&h, NULL, false);
	h_listen(&h, SIP_TP_UDP, "127.0.0.1:0", 0, &la);
	assert_int_equal(h_stats(&h).udp_rx_overflow, 0);
	fd = udp_client("127.0.0.1:0", &ca);
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < 20000; i++)
		(void)sendto(fd, buf, sizeof(buf), 0, &la.u.sa, la.len);
	assert_true(h_stats(&h).udp_rx_overflow > 0);
	close(fd);
	h_fini(&h);
	assert_no_leaks();
}

static void test_udp_pick(void **state)
{
	struct sg_addr l0, l1, l2, ca, from;
	struct sip_peer to;
	char buf[16];
	struct h h;
	int fd;

	(void)state;
	h_init(&h, NULL, false);
	h_listen(&h, SIP_TP_UDP, "127.0.0.1:0", 0, &l0);
	h_listen(&h, SIP_TP_UDP, "127.0.0.1:0", 1, &l1);
	h_listen(&h, SIP_TP_TCP, "127.0.0.1:0", 1, &l2);
	fd = udp_client("127.0.0.1:0", &ca);
	memset(&to, 0, sizeof(to));
	to.tp = SIP_TP_UDP;
	to.addr = ca;
	/* By index. */
	to.local = 1;
	assert_int_equal(tp_send(h.tp, &to, "a", 1), 0);
	assert_int_equal(udp_read(&h, fd, buf, sizeof(buf), &from), 1);
	assert_true(sg_addr_eq(&from, &l1));
	/* Index of a TCP listener: the first UDP one of its zone. */
	to.local = 2;
	to.zone = 1;
	assert_int_equal(tp_send(h.tp, &to, "b", 1), 0);
	assert_int_equal(udp_read(&h, fd, buf, sizeof(buf), &from), 1);
	assert_true(sg_addr_eq(&from, &l1));
	/* Unknown index and zone: the first UDP listener. */
	to.local = 99;
	to.zone = 9;
	assert_int_equal(tp_send(h.tp, &to, "c", 1), 0);
	assert_int_equal(udp_read(&h, fd, buf, sizeof(buf), &from), 1);
	assert_true(sg_addr_eq(&from, &l0));
	/* No IPv6 listener. */
	to.addr = h_addr("[::1]:5060");
	assert_int_equal(tp_send(h.tp, &to, "d", 1), -EADDRNOTAVAIL);
	to.tp = SIP_TP_TLS;
	assert_int_equal(tp_send(h.tp, &to, "d", 1), -EPROTONOSUPPORT);
	memset(&to.addr, 0, sizeof(to.addr));
	to.tp = SIP_TP_UDP;
	assert_int_equal(tp_send(h.tp, &to, "d", 1), -EAFNOSUPPORT);
	close(fd);
	h_fini(&h);
	assert_no_leaks();
}

static void test_send_batch(void **state)
{
	struct sg_addr la, ca, cb;
	struct sip_peer ta, tb, tls;
	struct tp_out out[7];
	char buf[16];
	struct h h;
	int fa, fb, i;

	(void)state;
	h_init(&h, NULL, false);
	h_listen(&h, SIP_TP_UDP, "127.0.0.1:0", 0, &la);
	fa = udp_client("127.0.0.1:0", &ca);
	fb = udp_client("127.0.0.1:0", &cb);
	memset(&ta, 0, sizeof(ta));
	ta.tp = SIP_TP_UDP;
	tb = ta;
	tls = ta;
	ta.addr = ca;
	tb.addr = cb;
	tls.tp = SIP_TP_TLS;
	tls.addr = ca;
	for (i = 0; i < 7; i++) {
		out[i].to = i == 3 ? &tls : i % 2 ? &tb : &ta;
		out[i].p = "0123456" + i;
		out[i].n = 1;
		out[i].err = 1;
	}
	assert_int_equal(tp_send_batch(h.tp, out, 7), 6);
	assert_int_equal(out[3].err, -EPROTONOSUPPORT);
	for (i = 0; i < 7; i++) {
		if (i == 3)
			continue;
		assert_int_equal(out[i].err, 0);
		assert_int_equal(
			udp_read(&h, i % 2 ? fb : fa, buf, sizeof(buf), NULL),
			1);
		assert_int_equal(buf[0], '0' + i);
	}
	assert_int_equal(h_stats(&h).udp_tx, 6);
	close(fa);
	close(fb);
	h_fini(&h);
	assert_no_leaks();
}

/* Each allocation in turn fails: errors come back, nothing leaks. */
static void test_oom(void **state)
{
	struct sg_addr a = h_addr("127.0.0.1:0");
	struct transport *tp;
	struct loop *l;
	size_t i;
	int err;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	for (i = 1;; i++) {
		mem_fail_nth(i);
		err = tp_new(&tp, l, NULL, h_on_recv, NULL);
		if (!err)
			err = tp_listen(tp, SIP_TP_UDP, &a, 0, NULL);
		if (!err)
			err = tp_listen(tp, SIP_TP_TCP, &a, 0, NULL);
		mem_fail_nth(0);
		if (tp && err)
			tp_free(tp);
		if (!err)
			break;
		assert_int_equal(err, -ENOMEM);
		tp = NULL;
	}
	assert_true(i > 3);
	tp_free(tp);
	loop_free(l);
	assert_no_leaks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_listen_errors),
		cmocka_unit_test(test_udp_echo),
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_udp_burst),
		cmocka_unit_test(test_udp_overflow),
		cmocka_unit_test(test_udp_pick),
		cmocka_unit_test(test_send_batch),
		cmocka_unit_test(test_oom),
	};

	/* Closing and refusing log at INFO; keep the output readable. */
	log_set_level(LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
