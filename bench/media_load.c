/*
 * media_load.c - load generator and bare forwarder of the media
 * benchmark (bench/bench_media.py, `make bench-media`).
 *
 *   media_load gen CALLER_IP:PORT CALLEE_IP:PORT TARGETS PPS SECONDS
 *       TARGETS: a file of lines "ipA portA ipB portB", one per call:
 *       where the caller sends (the relay port facing it) and where the
 *       callee sends.  Each call gets RTP both ways (PT 0, 160-byte
 *       payload, its own SSRC, sequence and timestamp), PPS packets per
 *       second in total, round robin over calls and directions, batched
 *       with sendmmsg; both sockets read with recvmmsg; between sends
 *       it sleeps in ppoll (no busy wait: its CPU time is its work).  Prints
 *       "sent N received M unsent U late L late_ms T" at the end (U:
 *       refused by our own sendmmsg, counted in N as lost; L: arrived
 *       after the sending stopped, within T ms).
 *   media_load fwd TARGETS_OUT
 *       The practical limit: one epoll thread, for each line "port dst_ip
 *       dst_port" a UDP socket on 127.0.0.1:port that sends whatever it
 *       receives to dst, batched recvmmsg/sendmmsg, no checks at all.
 *       Runs until SIGTERM.
 * Everything bounded: gen stops after SECONDS, fwd at SIGTERM.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "load_common.h"

enum { BATCH = 64, PAYLOAD = 160, HDR = 12, MAXCALLS = 200000 };

struct call {
	struct sockaddr_in a, b; /* relay ports: caller's, callee's */
	uint16_t seq[2];
	uint32_t ts[2], ssrc[2];
};

static volatile sig_atomic_t stop;

static void on_term(int s)
{
	(void)s;
	stop = 1;
}

static uint64_t drain(int fd, uint8_t (*buf)[LOAD_RBUF])
{
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	uint64_t n = 0;
	int k;

	for (;;) {
		mmsg_recv_prep(m, iov, buf, BATCH);
		k = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
		if (k <= 0)
			return n;
		n += (uint64_t)k;
	}
}

/* Until fa or fb is readable or secs pass. */
static void wait_ready(int fa, int fb, double secs)
{
	struct pollfd pf[2] = {{.fd = fa, .events = POLLIN},
			       {.fd = fb, .events = POLLIN}};
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(secs * 1e9)};

	if (ts.tv_nsec < 20000)
		ts.tv_nsec = 20000;
	if (ts.tv_nsec > 999999999)
		ts.tv_nsec = 999999999;
	(void)ppoll(pf, 2, &ts, NULL);
}

static int gen(int argc, char **argv)
{
	static struct call calls[MAXCALLS];
	static uint8_t pkts[BATCH][HDR + PAYLOAD], rbuf[BATCH][LOAD_RBUF];
	struct sockaddr_in la, lb;
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	unsigned ncalls = 0, next = 0, dir = 0, i;
	uint64_t sent = 0, recvd = 0, unsent = 0, late = 0;
	double pps, secs, t0, t;
	char ia[64], ib[64];
	int pa, pb, fa, fb;
	FILE *f;

	if (argc != 7 || parse_ep(&la, argv[2]) || parse_ep(&lb, argv[3]))
		return 2;
	f = fopen(argv[4], "r");
	pps = atof(argv[5]);
	secs = atof(argv[6]);
	if (!f)
		return 2;
	while (ncalls < MAXCALLS &&
	       fscanf(f, "%63s %d %63s %d", ia, &pa, ib, &pb) == 4) {
		struct call *c = &calls[ncalls];

		c->a.sin_family = c->b.sin_family = AF_INET;
		inet_pton(AF_INET, ia, &c->a.sin_addr);
		inet_pton(AF_INET, ib, &c->b.sin_addr);
		c->a.sin_port = htons((uint16_t)pa);
		c->b.sin_port = htons((uint16_t)pb);
		c->ssrc[0] = 0x10000000u + ncalls;
		c->ssrc[1] = 0x20000000u + ncalls;
		ncalls++;
	}
	fclose(f);
	fa = udp_bound(&la);
	fb = udp_bound(&lb);
	if (fa < 0 || fb < 0 || !ncalls)
		return 1;
	/* Past net.core.rmem_max where allowed (root in the bench's
	 * namespace): the generator shares its core with whatever else
	 * runs, and a few ms off the CPU at 200k packets/s overflowed the
	 * 8 MiB it could get (RcvbufErrors counted against the relay). */
	{
		int huge = 64 << 20;

		(void)setsockopt(fa, SOL_SOCKET, SO_RCVBUFFORCE, &huge,
				 sizeof(huge));
		(void)setsockopt(fb, SOL_SOCKET, SO_RCVBUFFORCE, &huge,
				 sizeof(huge));
	}
	memset(pkts, 0x55, sizeof(pkts));
	t0 = now_s();
	while ((t = now_s()) - t0 < secs) {
		uint64_t due = (uint64_t)((t - t0) * pps);
		int fd = dir ? fb : fa;
		unsigned n = 0;

		recvd += drain(fa, rbuf) + drain(fb, rbuf);
		if (sent >= due) {
			/* Sleep until a batch is due or a packet comes, never
			 * spin: the generator's CPU time is then its work, and
			 * a relay that forwards in the kernel (in the softirq
			 * of our sends) shows its cost in it.  8 packets' time:
			 * small bursts, as the old busy wait sent (1-2 per turn
			 * at 200k/s); 64 would favour every batching relay. */
			wait_ready(fa, fb, 8.0 / pps);
			continue;
		}
		for (i = 0; i < BATCH && sent + n < due; i++) {
			struct call *c = &calls[next];
			uint8_t *p = pkts[n];

			rtp_hdr(p, c->seq[dir], c->ts[dir], c->ssrc[dir]);
			c->seq[dir]++;
			c->ts[dir] += PAYLOAD;
			mmsg_send_set(&m[n], &iov[n], p, HDR + PAYLOAD,
				      dir ? &c->b : &c->a);
			n++;
			if (++next == ncalls) {
				next = 0;
				break; /* switch direction per round */
			}
		}
		if (n) {
			int k = sendmmsg(fd, m, n, 0);

			sent += k > 0 ? (uint64_t)k : 0;
			if (k < (int)n) { /* lost here: counted apart */
				sent += n - (unsigned)(k > 0 ? k : 0);
				unsent += n - (unsigned)(k > 0 ? k : 0);
			}
		}
		if (next == 0)
			dir ^= 1;
	}
	/* Late packets still in flight (a relay behind the offered rate
	 * still has them queued): until none came for 0.5 s, at most 5 s. */
	t0 = t = now_s();
	while (now_s() - t < 0.5 && now_s() - t0 < 5) {
		uint64_t k = drain(fa, rbuf) + drain(fb, rbuf);

		if (!k)
			wait_ready(fa, fb, 0.001);
		k += drain(fa, rbuf) + drain(fb, rbuf);

		recvd += k;
		late += k; /* received after the sending stopped */
		if (k)
			t = now_s();
	}
	printf("sent %llu received %llu unsent %llu late %llu late_ms %llu\n",
	       (unsigned long long)sent, (unsigned long long)recvd,
	       (unsigned long long)unsent, (unsigned long long)late,
	       (unsigned long long)((t - t0) * 1000));
	return 0;
}

struct fsock {
	int fd;
	struct sockaddr_in dst;
};

static int fwd(int argc, char **argv)
{
	static struct fsock socks[2 * MAXCALLS];
	static uint8_t buf[BATCH][LOAD_RBUF];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct epoll_event evs[256];
	unsigned n = 0;
	int ep = epoll_create1(0), port, dport;
	char dip[64];
	FILE *f;

	if (argc != 3 || !(f = fopen(argv[2], "r")) || ep < 0)
		return 2;
	while (n < 2 * MAXCALLS &&
	       fscanf(f, "%d %63s %d", &port, dip, &dport) == 3) {
		struct sockaddr_in la = {.sin_family = AF_INET};
		struct epoll_event ev = {.events = EPOLLIN};

		la.sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, "127.0.0.1", &la.sin_addr);
		socks[n].fd = udp_bound(&la);
		if (socks[n].fd < 0)
			return 1;
		socks[n].dst.sin_family = AF_INET;
		socks[n].dst.sin_port = htons((uint16_t)dport);
		inet_pton(AF_INET, dip, &socks[n].dst.sin_addr);
		ev.data.ptr = &socks[n];
		epoll_ctl(ep, EPOLL_CTL_ADD, socks[n].fd, &ev);
		n++;
	}
	fclose(f);
	printf("ready %u\n", n);
	fflush(stdout);
	signal(SIGTERM, on_term);
	while (!stop) {
		int k = epoll_wait(ep, evs, 256, 100), e;

		for (e = 0; e < k; e++) {
			struct fsock *s = evs[e].data.ptr;
			int i, r;

			mmsg_recv_prep(m, iov, buf, BATCH);
			r = recvmmsg(s->fd, m, BATCH, MSG_DONTWAIT, NULL);
			for (i = 0; i < r; i++) {
				iov[i].iov_len = m[i].msg_len;
				m[i].msg_hdr.msg_name = &s->dst;
				m[i].msg_hdr.msg_namelen = sizeof(s->dst);
			}
			if (r > 0)
				(void)sendmmsg(s->fd, m, (unsigned)r, 0);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "gen"))
		return gen(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "fwd"))
		return fwd(argc, argv);
	fprintf(stderr, "usage: media_load gen|fwd ...\n");
	return 2;
}
