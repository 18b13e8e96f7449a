/*
 * load_common.h - what the media load generators (media_load.c,
 * srtp_load.c) share: a monotonic clock, "ip:port" parsing, a big-buffer
 * UDP socket, RTP headers (RFC 3550 section 5.1, version 2, no CSRC) and
 * the mmsghdr set-up of recvmmsg/sendmmsg batches.  Header-only (static
 * inline) so each generator stays one translation unit.
 */
#ifndef SIPGUARD_BENCH_LOAD_COMMON_H
#define SIPGUARD_BENCH_LOAD_COMMON_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { LOAD_RBUF = 2048 };

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int parse_ep(struct sockaddr_in *sa, const char *s)
{
	char ip[64];
	const char *c = strrchr(s, ':');

	if (!c || (size_t)(c - s) >= sizeof(ip))
		return -1;
	memcpy(ip, s, (size_t)(c - s));
	ip[c - s] = 0;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(c + 1));
	return inet_pton(AF_INET, ip, &sa->sin_addr) == 1 ? 0 : -1;
}

/* Non-blocking, 8 MiB buffers both ways: the generator outruns the
 * default ones at 100k packets/s. */
static inline int udp_bound(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), big = 8 << 20;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		perror("bind");
		close(fd);
		return -1;
	}
	return fd;
}

/* RTP header, PT 0 (PCMU), no marker, no CSRC. */
static inline void rtp_hdr(uint8_t *p, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
	p[0] = 0x80;
	p[1] = 0;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
}

/* n receive slots: m[i] reads into buf[i]. */
static inline void mmsg_recv_prep(struct mmsghdr *m, struct iovec *iov,
				  uint8_t (*buf)[LOAD_RBUF], int n)
{
	int i;

	for (i = 0; i < n; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = LOAD_RBUF;
		memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
}

/* One send slot: len bytes of p to *to. */
static inline void mmsg_send_set(struct mmsghdr *m, struct iovec *iov, void *p,
				 size_t len, struct sockaddr_in *to)
{
	iov->iov_base = p;
	iov->iov_len = len;
	memset(&m->msg_hdr, 0, sizeof(m->msg_hdr));
	m->msg_hdr.msg_iov = iov;
	m->msg_hdr.msg_iovlen = 1;
	m->msg_hdr.msg_name = to;
	m->msg_hdr.msg_namelen = sizeof(*to);
}

#endif
