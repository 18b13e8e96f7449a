/*
 * call_helper.c - calls and SDP through a real media layer for the media
 * unit tests (see call_helper.h).
 */
#include "call_helper.h"

#include <arpa/inet.h>
#include <errno.h>
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
