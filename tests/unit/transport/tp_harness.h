/*
 * tp_harness.h - shared by the transport unit tests: a loop and a
 * transport that record what they receive and which connections close,
 * plain-socket peers on loopback, and pumping the loop until something
 * happens (short epoll waits, never sleeps).
 */
#ifndef SIPGUARD_TP_HARNESS_H
#define SIPGUARD_TP_HARNESS_H

#include "test.h"

#include <stdio.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "transport/transport.h"

enum { H_MAX_MSGS = 16, H_MSG_SIZE = 2048, H_TURNS = 2000 };

struct h_msg {
	struct sip_peer from;
	size_t n;
	uint64_t sum; /* h_sum() of all n bytes (p keeps a prefix) */
	char p[H_MSG_SIZE];
};

struct h {
	struct loop *l;
	struct transport *tp;
	struct h_msg msg[H_MAX_MSGS];
	unsigned nmsg;
	bool close_on_msg; /* tp_close() the connection from recv */
	bool echo;         /* answer each message over the same peer */
	unsigned nclosed;
	enum tp_close_why why; /* of the last close callback */
	uint64_t closed_id;
};

static uint64_t h_fake_ms;

/* FNV-1a, to compare messages longer than h_msg.p. */
static inline uint64_t h_sum(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	while (n--)
		h = (h ^ (unsigned char)*p++) * 1099511628211ull;
	return h;
}

static inline uint64_t h_fake_clock(void *arg)
{
	(void)arg;
	return h_fake_ms;
}

static inline void h_on_recv(void *arg, const struct sip_peer *from,
			     const char *p, size_t n)
{
	struct h *h = arg;
	struct h_msg *m;

	assert_true(h->nmsg < H_MAX_MSGS);
	m = &h->msg[h->nmsg++];
	m->from = *from;
	m->n = n;
	m->sum = h_sum(p, n);
	memcpy(m->p, p, n < H_MSG_SIZE ? n : H_MSG_SIZE);
	if (h->echo)
		assert_int_equal(tp_send(h->tp, from, p, n), 0);
	if (h->close_on_msg && from->conn_id)
		assert_int_equal(tp_close(h->tp, from->conn_id), 0);
}

static inline void h_on_close(void *arg, const struct sip_peer *peer,
			      enum tp_close_why why)
{
	struct h *h = arg;

	h->nclosed++;
	h->why = why;
	h->closed_id = peer->conn_id;
}

static inline void h_init(struct h *h, const struct tp_conf *conf,
			  bool fake_clock)
{
	memset(h, 0, sizeof(*h));
	assert_int_equal(loop_new(&h->l), 0);
	if (fake_clock) {
		h_fake_ms = 1000000;
		loop_set_clock(h->l, h_fake_clock, NULL);
	}
	assert_int_equal(tp_new(&h->tp, h->l, conf, h_on_recv, h), 0);
	tp_set_close_fn(h->tp, h_on_close, h);
}

static inline void h_fini(struct h *h)
{
	tp_free(h->tp);
	loop_free(h->l);
}

static inline struct tp_stats h_stats(const struct h *h)
{
	struct tp_stats st;

	tp_get_stats(h->tp, &st);
	return st;
}

/* Run loop turns until `cond` holds (or fail after H_TURNS turns). */
#define H_PUMP_UNTIL(h, cond)                                     \
	do {                                                      \
		int h_i_;                                         \
		for (h_i_ = 0; h_i_ < H_TURNS && !(cond); h_i_++) \
			loop_run_once((h)->l, 5);                 \
		assert_true(cond);                                \
	} while (0)

static inline void h_pump(struct h *h, int turns)
{
	while (turns-- > 0)
		loop_run_once(h->l, 1);
}

static inline struct sg_addr h_addr(const char *s)
{
	struct str in = str_cstr(s);
	struct sg_addr a;

	/* sg_addr_parse() refuses port 0, which tests use for "any". */
	if (in.len > 2 && str_eq_cstr(str_skip(in, in.len - 2), ":0"))
		assert_int_equal(
			sg_addr_from_host(&a, str_sub(in, 0, in.len - 2), 0),
			0);
	else
		assert_int_equal(sg_addr_parse(&a, in, 0), 0);
	return a;
}

/* Listen with kind on "ip:0"; the bound address in *ap. */
static inline uint16_t h_listen(struct h *h, enum sip_tp kind, const char *s,
				uint16_t zone, struct sg_addr *ap)
{
	struct sg_addr a = h_addr(s);
	uint16_t idx;

	assert_int_equal(tp_listen(h->tp, kind, &a, zone, &idx), 0);
	assert_int_equal(tp_local_addr(h->tp, idx, ap), 0);
	assert_int_not_equal(sg_addr_port(ap), 0);
	return idx;
}

/* A plain blocking client socket connected to a. */
static inline int h_connect(const struct sg_addr *a)
{
	int fd = socket(a->u.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, &a->u.sa, a->len), 0);
	return fd;
}

static inline void h_write(int fd, const char *p, size_t n)
{
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Pump until `want` bytes arrived on fd.  Returns bytes read, or -1 if
 * the peer closed first. */
static inline ssize_t h_read(struct h *h, int fd, char *buf, size_t want)
{
	size_t got = 0;
	ssize_t r;
	int i;

	for (i = 0; i < H_TURNS && got < want; i++) {
		r = recv(fd, buf + got, want - got, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN))
			return -1;
		if (r > 0)
			got += (size_t)r;
		else
			loop_run_once(h->l, 5);
	}
	return (ssize_t)got;
}

/* Pump until fd sees end of stream (or a reset). */
static inline bool h_wait_eof(struct h *h, int fd)
{
	char c;
	ssize_t r;
	int i;

	for (i = 0; i < H_TURNS; i++) {
		r = recv(fd, &c, 1, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN))
			return true;
		loop_run_once(h->l, 5);
	}
	return false;
}

/* A well-framed request with body `body`. */
static inline size_t h_msg(char *buf, size_t sz, const char *callid,
			   const char *body)
{
	int n = snprintf(buf, sz,
			 "OPTIONS sip:a@example.com SIP/2.0\r\n"
			 "Call-ID: %s\r\nCSeq: 1 OPTIONS\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 callid, strlen(body), body);

	assert_true(n > 0 && (size_t)n < sz);
	return (size_t)n;
}

#endif
