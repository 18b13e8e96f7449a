/*
 * call_helper.c - calls and SDP through a real media layer, and a relay
 * thread alone with a stream, for the media unit tests (see
 * call_helper.h).
 */
#include "call_helper.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>

#include "../test.h"

void mh_open(struct media **mp, struct buf *b, const struct sg_conf_media *conf)
{
	buf_init(b, 8192);
	assert_int_equal(media_new(mp, conf, NULL, NULL, NULL), 0);
}

void mh_close(struct media *m, struct media_call *c, struct buf *b)
{
	media_call_end(c);
	mh_wait_relay(m);
	buf_free(b);
	media_free(m);
}

struct media_call *mh_new_call(struct media *m, const char *id, int p0, int k0,
			       int p1, int k1)
{
	struct media_call *c;
	struct sg_addr r0, r1;

	assert_int_equal(sg_addr_parse(&r0, STR("127.0.0.1"), 5060), 0);
	assert_int_equal(sg_addr_parse(&r1, STR("127.0.0.2"), 5060), 0);
	assert_int_equal(media_call_new(m, str_cstr(id), STR("t"), 0, 0, &c),
			 0);
	media_call_leg(c, MEDIA_CALLER, &r0, &r0, true, 0, "internet");
	media_call_leg(c, MEDIA_CALLEE, &r1, &r1, false, 1, "pbx");
	media_call_leg_srtp(c, MEDIA_CALLER, p0);
	media_call_leg_srtp(c, MEDIA_CALLEE, p1);
	if (k0 >= 0)
		media_call_leg_srtp_kx(c, MEDIA_CALLER, k0);
	if (k1 >= 0)
		media_call_leg_srtp_kx(c, MEDIA_CALLEE, k1);
	return c;
}

const char *mh_sdp(struct media_call *c, unsigned from, enum media_sdp_kind k,
		   const char *body, struct buf *b, int want)
{
	buf_reset(b);
	assert_int_equal(media_call_sdp(c, from, k, str_cstr(body), b), want);
	assert_int_equal(buf_append(b, "", 1), 0);
	return b->p;
}

unsigned mh_count(const char *s, const char *what)
{
	unsigned n = 0;

	while ((s = strstr(s, what))) {
		n++;
		s++;
	}
	return n;
}

void mh_wait_relay(struct media *m)
{
	int i;

	for (i = 0; i < 200 && m->st.streams; i++) {
		usleep(2000);
		media_poll(m, 1, 1);
	}
}

int mh_udp(uint16_t port, struct media_ep *ep)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -errno;
	}
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	if (ep) {
		memset(ep, 0, sizeof(*ep));
		ep->af = AF_INET;
		ep->port = ntohs(a.sin_port);
		memcpy(ep->ip, &a.sin_addr, 4);
	}
	return fd;
}

/* A free even/odd port pair on 127.0.0.1: two bound sockets. */
void mh_port_pair(int fd[2], uint16_t *portp)
{
	struct media_ep e;
	int t;

	for (t = 0; t < 100; t++) {
		int a = mh_udp(0, &e), b;

		if (e.port & 1 || e.port == 65535) {
			close(a);
			continue;
		}
		b = mh_udp((uint16_t)(e.port + 1), NULL);
		if (b >= 0) {
			fd[0] = a;
			fd[1] = b;
			*portp = e.port;
			return;
		}
		close(a);
	}
	fail_msg("no free port pair");
}

void mh_relay_start(struct mh_relay *f, bool uring, struct kfast *kf)
{
	memset(f, 0, sizeof(*f));
	f->r.epfd = f->r.evin = -1;
	f->evout = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(f->evout >= 0);
	f->r.evout = f->evout;
	f->r.want_uring = uring;
	f->r.kf = kf;
	assert_int_equal(media__relay_start(&f->r, 0), 0);
}

void mh_relay_stop(struct mh_relay *f)
{
	media__relay_stop(&f->r);
	media__relay_drain(&f->r);
	media__relay_fini(&f->r);
	close(f->evout);
}

void mh_relay_hand(struct media_relay *r, struct media_stream *s,
		   struct media_cmd *c)
{
	c->prm.pt[0] = 1ULL << 0;
	c->prm.max_seq_jump = 3000;
	c->prm.max_ts_jump = 1440000;
	c->type = MEDIA_CMD_ADD;
	c->s = s;
	s->handed = true;
	s->relay = r;
	assert_true(media__relay_cmd(r, c));
}

void mh_relay_add_stream(struct mh_relay *f, uint32_t bw)
{
	struct media_cmd c;
	unsigned l, k;

	f->s = mem_zalloc(sizeof(*f->s));
	assert_non_null(f->s);
	memset(&c, 0, sizeof(c));
	for (l = 0; l < 2; l++) {
		mh_port_pair(f->s->fd[l], &f->rport[l]);
		f->s->port[l] = f->rport[l];
		f->s->local[l].af = AF_INET;
		inet_pton(AF_INET, "127.0.0.1", f->s->local[l].ip);
		for (k = 0; k < 2; k++) {
			f->orig[l][k] = f->s->fd[l][k];
			f->peer[l][k] = mh_udp(0, &c.prm.leg[l].sdp[k]);
		}
		c.prm.leg[l].expect = true;
		c.prm.leg[l].bw = bw;
	}
	mh_relay_hand(&f->r, f->s, &c);
}

void mh_relay_some(struct mh_relay *f, unsigned from, unsigned n, uint16_t seq0)
{
	unsigned o = 1 - from, i;
	uint8_t p[256], q[256];

	for (i = 0; i < n; i++) {
		size_t len = mh_rtp(p, (uint16_t)(seq0 + i), 0, 7);
		uint16_t src = 0;

		mh_send_to(f->peer[from][0], f->rport[from], p, len);
		assert_int_equal(
			mh_recv_wait(f->peer[o][0], q, sizeof(q), 2000, &src),
			(ssize_t)len);
		assert_int_equal(memcmp(p, q, len), 0);
		assert_int_equal(src, f->rport[o]);
	}
}

void mh_relay_close_peers(struct mh_relay *f)
{
	unsigned l, k;

	for (l = 0; l < 2; l++)
		for (k = 0; k < 2; k++)
			close(f->peer[l][k]);
}

bool mh_relay_wait_done(struct mh_relay *f, const struct media_stream *s)
{
	struct pollfd pfd = {.fd = f->evout, .events = POLLIN};
	struct media_note n;
	int t;

	for (t = 0; t < 50; t++) {
		uint64_t v;

		while (media__ring_pop(&f->r.out, &n))
			if (n.type == MEDIA_N_DONE && n.s == s)
				return true;
		(void)poll(&pfd, 1, 100);
		(void)!read(f->evout, &v, sizeof(v));
	}
	return false;
}

void mh_send_to(int fd, uint16_t port, const uint8_t *p, size_t n)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(sendto(fd, p, n, 0, (struct sockaddr *)&a, sizeof(a)),
			 (ssize_t)n);
}

ssize_t mh_recv_wait(int fd, uint8_t *p, size_t n, int ms, uint16_t *fromp)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	ssize_t k;

	if (poll(&pfd, 1, ms) != 1)
		return -1;
	k = recvfrom(fd, p, n, 0, (struct sockaddr *)&a, &len);
	if (fromp)
		*fromp = ntohs(a.sin_port);
	return k;
}

size_t mh_rtp(uint8_t *p, uint16_t seq, uint8_t pt, uint8_t ssrc)
{
	memset(p, 0, 172);
	p[0] = 0x80;
	p[1] = pt;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[6] = (uint8_t)((seq * 160) >> 8);
	p[7] = (uint8_t)(seq * 160);
	p[11] = ssrc;
	p[20] = (uint8_t)seq; /* payload differs per packet */
	return 172;
}
