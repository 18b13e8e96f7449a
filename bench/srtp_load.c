/*
 * srtp_load.c - load generator of the SRTP benchmark (bench/bench_srtp.py,
 * `make bench-srtp`): SRTP on the caller's side, plain RTP on the
 * callee's, so that the relay under test bridges SRTP <-> RTP both ways.
 *
 *   srtp_load gen CALLER_IP:PORT CALLEE_IP:PORT TARGETS PPS SECONDS
 *       TARGETS: lines "ipA portA ipB portB KEY", one per call: where the
 *       caller sends (the relay port facing it), where the callee sends,
 *       and the caller's AES_CM_128_HMAC_SHA1_80 master key||salt (60 hex
 *       digits) as its SDP offered it.  Caller packets are protected with
 *       that key (one libsrtp2 session per call), callee packets are plain
 *       RTP; PT 0, 160-byte payloads, own SSRC/sequence/timestamp per
 *       stream; PPS packets per second in total, round robin over calls,
 *       one direction per round, batched with sendmmsg; both sockets read
 *       with recvmmsg.  Prints "sent N received M at_caller A at_callee B"
 *       where at_caller counts packets the caller got that are longer than
 *       a plain one (the relay encrypted them) and at_callee those the
 *       callee got of exactly a plain packet's length (decrypted).
 * Bounded: stops after SECONDS (plus half a second of draining).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "load_common.h"

#include "media/srtp.h"
#include "sip/sip.h"

enum {
	BATCH = 64,
	PAYLOAD = 160,
	HDR = 12,
	PLAIN = HDR + PAYLOAD,
	MAXCALLS = 50000,
	KEYLEN = 30,
};

struct call {
	struct sockaddr_in a, b;
	uint16_t seq[2];
	uint32_t ts[2], ssrc[2];
	struct media_srtp tx; /* the caller's sending context */
};

static int hex_key(uint8_t *k, const char *s)
{
	unsigned i, v;

	if (strlen(s) != 2 * KEYLEN)
		return -1;
	for (i = 0; i < KEYLEN; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		k[i] = (uint8_t)v;
	}
	return 0;
}

/* sipguard's own SRTP code (libsipguard.a) protects the caller's
 * packets: Debian's libsrtp2 (on NSS) could not keep this generator's
 * pace.  rtpengine's own SRTP checks them in the same run. */
static int session(struct media_srtp *sp, uint8_t *key)
{
	struct media_srtp_dir d = {
		.suite = SDP_SRTP_AES_CM_128_HMAC_SHA1_80,
		.key = key,
		.key_len = KEYLEN,
	};

	return media_srtp_make(sp, NULL, &d) == 0 ? 0 : -1;
}

/* Packets waiting on fd: counted by length class. */
static void drain(int fd, uint64_t *all, uint64_t *cls, int srtp_side)
{
	static uint8_t buf[BATCH][LOAD_RBUF];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	int i, k;

	for (;;) {
		mmsg_recv_prep(m, iov, buf, BATCH);
		k = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
		if (k <= 0)
			return;
		*all += (uint64_t)k;
		for (i = 0; i < k; i++)
			if (srtp_side ? m[i].msg_len > PLAIN
				      : m[i].msg_len == PLAIN)
				(*cls)++;
	}
}

static unsigned load(struct call *calls, const char *path)
{
	char ia[64], ib[64], kh[128];
	uint8_t key[KEYLEN];
	unsigned n = 0;
	int pa, pb;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (n < MAXCALLS &&
	       fscanf(f, "%63s %d %63s %d %127s", ia, &pa, ib, &pb, kh) == 5) {
		struct call *c = &calls[n];

		c->a.sin_family = c->b.sin_family = AF_INET;
		inet_pton(AF_INET, ia, &c->a.sin_addr);
		inet_pton(AF_INET, ib, &c->b.sin_addr);
		c->a.sin_port = htons((uint16_t)pa);
		c->b.sin_port = htons((uint16_t)pb);
		c->ssrc[0] = 0x10000000u + n;
		c->ssrc[1] = 0x20000000u + n;
		if (hex_key(key, kh) || session(&c->tx, key)) {
			fprintf(stderr, "bad key on line %u\n", n + 1);
			break;
		}
		n++;
	}
	fclose(f);
	return n;
}

static void header(uint8_t *p, struct call *c, unsigned dir)
{
	rtp_hdr(p, c->seq[dir], c->ts[dir], c->ssrc[dir]);
	memset(p + HDR, 0x55, PAYLOAD);
	c->seq[dir]++;
	c->ts[dir] += PAYLOAD;
}

static int gen(int argc, char **argv)
{
	static struct call calls[MAXCALLS];
	static uint8_t pkts[BATCH][PLAIN + MEDIA_SRTP_TRAILER];
	struct sockaddr_in la, lb;
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	unsigned ncalls, next = 0, dir = 0, i;
	uint64_t sent = 0, ra = 0, rb = 0, ca = 0, cb = 0;
	double pps, secs, t0, t;
	int fa, fb;

	if (argc != 7 || parse_ep(&la, argv[2]) || parse_ep(&lb, argv[3]))
		return 2;
	ncalls = load(calls, argv[4]);
	pps = atof(argv[5]);
	secs = atof(argv[6]);
	fa = udp_bound(&la);
	fb = udp_bound(&lb);
	if (fa < 0 || fb < 0 || !ncalls)
		return 1;
	t0 = now_s();
	while ((t = now_s()) - t0 < secs) {
		uint64_t due = (uint64_t)((t - t0) * pps);
		unsigned n = 0;

		drain(fa, &ra, &ca, 1);
		drain(fb, &rb, &cb, 0);
		if (sent >= due)
			continue; /* busy wait: the generator's core */
		for (i = 0; i < BATCH && sent + n < due; i++) {
			struct call *c = &calls[next];
			size_t len = PLAIN;

			header(pkts[n], c, dir);
			if (!dir &&
			    media_srtp_protect(&c->tx, false, pkts[n], &len,
					       sizeof(pkts[n])) != 0)
				len = PLAIN;
			mmsg_send_set(&m[n], &iov[n], pkts[n], len,
				      dir ? &c->b : &c->a);
			n++;
			if (++next == ncalls) {
				next = 0;
				break;
			}
		}
		if (n) {
			int k = sendmmsg(dir ? fb : fa, m, n, 0);

			(void)k;
			sent += n; /* what did not go out counts as lost */
		}
		if (next == 0)
			dir ^= 1;
	}
	t0 = now_s();
	while (now_s() - t0 < 0.5) {
		drain(fa, &ra, &ca, 1);
		drain(fb, &rb, &cb, 0);
	}
	printf("sent %llu received %llu at_caller %llu at_callee %llu\n",
	       (unsigned long long)sent, (unsigned long long)(ra + rb),
	       (unsigned long long)ca, (unsigned long long)cb);
	for (i = 0; i < ncalls; i++)
		media_srtp_free(&calls[i].tx);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "gen"))
		return gen(argc, argv);
	fprintf(stderr,
		"usage: srtp_load gen CALLER CALLEE TARGETS PPS SECS\n");
	return 2;
}
