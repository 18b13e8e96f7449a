/*
 * srtp_load.c - load generator of the SRTP benchmark (bench/bench_srtp.py,
 * `make bench-srtp`): SRTP on the caller's side, plain RTP on the
 * callee's, so that the relay under test bridges SRTP <-> RTP both ways.
 *
 *   srtp_load gen CALLER_IP:PORT CALLEE_IP:PORT TARGETS PPS SECONDS
 *       TARGETS: lines "ipA portA ipB portB KEY", one per call: where the
 *       caller sends (the relay port facing it), where the callee sends,
 *       and the caller's master key||salt (hex) as its SDP offered it, of
 *       the suite named by $SRTP_LOAD_SUITE (RFC 4568 name; default
 *       AES_CM_128_HMAC_SHA1_80).  Caller packets are protected with
 *       that key (sipguard's transform, one context per call), callee
 *       packets are plain
 *       RTP; PT 0, 160-byte payloads, own SSRC/sequence/timestamp per
 *       stream; PPS packets per second in total, round robin over calls,
 *       one direction per round, batched with sendmmsg; both sockets read
 *       with recvmmsg.  Prints "sent N received M at_caller A at_callee B"
 *       where at_caller counts packets the caller got that are longer than
 *       a plain one (the relay encrypted them) and at_callee those the
 *       callee got of exactly a plain packet's length (decrypted).
 *
 *   srtp_load micro SUITE CONTEXTS PACKETS
 *       The per-packet cost of the SRTP transform alone, no sockets:
 *       CONTEXTS sender/receiver pairs with keys of their own (as many
 *       calls), PACKETS RTP packets (160-byte payload) protected then
 *       unprotected, round robin over the contexts in batches of 256,
 *       once through sipguard's transform (media_srtp_*, what the relay
 *       runs) and once through libsrtp2 directly (what it ran before).
 *       Prints "IMPL SUITE protect_ns P unprotect_ns U" per IMPL
 *       (sipguard, libsrtp2): nanoseconds per packet.
 * Bounded: stops after SECONDS (plus half a second of draining), or
 * after PACKETS.
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

#include <srtp2/srtp.h>

#include "load_common.h"

#include "media/srtp.h"
#include "sip/sip.h"

enum {
	BATCH = 64,
	PAYLOAD = 160,
	HDR = 12,
	PLAIN = HDR + PAYLOAD,
	MAXCALLS = 50000,
	MICRO_BATCH = 256,
};

struct call {
	struct sockaddr_in a, b;
	uint16_t seq[2];
	uint32_t ts[2], ssrc[2];
	struct media_srtp tx; /* the caller's sending context */
};

static int suite_env(void)
{
	const char *e = getenv("SRTP_LOAD_SUITE");

	return sdp_srtp_suite_id(str_cstr(e ? e : "AES_CM_128_HMAC_SHA1_80"));
}

static int hex_key(uint8_t *k, size_t len, const char *s)
{
	unsigned i, v;

	if (strlen(s) != 2 * len)
		return -1;
	for (i = 0; i < len; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		k[i] = (uint8_t)v;
	}
	return 0;
}

/* sipguard's own SRTP code (libsipguard.a) protects the caller's
 * packets: Debian's libsrtp2 (on NSS) could not keep this generator's
 * pace.  rtpengine's own SRTP checks them in the same run. */
static int session(struct media_srtp *sp, int suite, const uint8_t *key)
{
	struct media_srtp_dir d = {
		.suite = suite,
		.key = key,
		.key_len = sdp_srtp_key_len(suite),
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
	uint8_t key[SDP_SRTP_KEY_MAX];
	int pa, pb, suite = suite_env();
	size_t klen = sdp_srtp_key_len(suite);
	unsigned n = 0;
	FILE *f = klen ? fopen(path, "r") : NULL;

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
		if (hex_key(key, klen, kh) || session(&c->tx, suite, key)) {
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

/* ------------------------------------------------------------ micro */

/* One implementation under test: make a tx/rx pair, transform one. */
struct impl {
	const char *name;
	int (*make)(void **tx, void **rx, int suite, const uint8_t *key);
	int (*run)(void *c, bool unprotect, uint8_t *p, size_t *np);
	void (*free)(void *tx, void *rx);
};

static int sg_make(void **tx, void **rx, int suite, const uint8_t *key)
{
	struct media_srtp_dir d = {
		.suite = suite, .key = key, .key_len = sdp_srtp_key_len(suite)};
	struct media_srtp *t = calloc(1, sizeof(*t)),
			  *r = calloc(1, sizeof(*r));

	*tx = t;
	*rx = r;
	if (!t || !r)
		return -1;
	return media_srtp_make(t, NULL, &d) || media_srtp_make(r, &d, NULL);
}

static int sg_run(void *c, bool unprotect, uint8_t *p, size_t *np)
{
	return unprotect ? media_srtp_unprotect(c, false, p, np)
			 : media_srtp_protect(c, false, p, np,
					      PLAIN + MEDIA_SRTP_TRAILER);
}

static void sg_free(void *tx, void *rx)
{
	media_srtp_free(tx);
	media_srtp_free(rx);
	free(tx);
	free(rx);
}

/* libsrtp2 as srtp.c drove it for these suites before our transform
 * took them: one session per direction, wildcard SSRC, window 128. */
static int lib_one(void **sp, int suite, const uint8_t *key, bool rx)
{
	uint8_t k[SDP_SRTP_KEY_MAX];
	srtp_policy_t pol;
	int err;

	memset(&pol, 0, sizeof(pol));
	if (suite == SDP_SRTP_AEAD_AES_128_GCM) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
	} else if (suite == SDP_SRTP_AEAD_AES_256_GCM) {
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&pol.rtp);
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&pol.rtcp);
	} else if (suite == SDP_SRTP_AES_CM_128_HMAC_SHA1_80) {
		srtp_crypto_policy_set_rtp_default(&pol.rtp);
		srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
	} else {
		return -1;
	}
	memcpy(k, key, sdp_srtp_key_len(suite));
	pol.key = k;
	pol.ssrc.type = rx ? ssrc_any_inbound : ssrc_any_outbound;
	pol.window_size = 128;
	err = srtp_create((srtp_t *)sp, &pol) == srtp_err_status_ok ? 0 : -1;
	return err;
}

static int lib_make(void **tx, void **rx, int suite, const uint8_t *key)
{
	*tx = *rx = NULL;
	return lib_one(tx, suite, key, false) || lib_one(rx, suite, key, true);
}

static int lib_run(void *c, bool unprotect, uint8_t *p, size_t *np)
{
	int len = (int)*np, st;

	st = unprotect ? srtp_unprotect(c, p, &len) : srtp_protect(c, p, &len);
	*np = (size_t)len;
	return st;
}

static void lib_free(void *tx, void *rx)
{
	if (tx)
		srtp_dealloc(tx);
	if (rx)
		srtp_dealloc(rx);
}

static const struct impl impls[] = {
	{"sipguard", sg_make, sg_run, sg_free},
	{"libsrtp2", lib_make, lib_run, lib_free},
};

/* ns per packet to protect and to unprotect, through im. */
static int micro_one(const struct impl *im, int suite, unsigned nctx,
		     unsigned long npkt, double *prot, double *unprot)
{
	static uint8_t pk[MICRO_BATCH][PLAIN + MEDIA_SRTP_TRAILER];
	void **tx = calloc(nctx, sizeof(*tx)), **rx = calloc(nctx, sizeof(*rx));
	uint16_t *seq = calloc(nctx, sizeof(*seq));
	size_t len[MICRO_BATCH];
	uint8_t key[SDP_SRTP_KEY_MAX];
	unsigned long done = 0;
	unsigned i, b, next = 0, from;
	double t0, tp = 0, tu = 0;
	int err = !tx || !rx || !seq;

	for (i = 0; !err && i < nctx; i++) {
		for (b = 0; b < sizeof(key); b++)
			key[b] = (uint8_t)(i * 31 + b * 7);
		err = im->make(&tx[i], &rx[i], suite, key);
	}
	while (!err && done < npkt) {
		from = next;
		for (b = 0; b < MICRO_BATCH; b++) {
			rtp_hdr(pk[b], seq[next], 160u * seq[next], next + 1);
			memset(pk[b] + HDR, 0x55, PAYLOAD);
			seq[next]++;
			len[b] = PLAIN;
			next = (next + 1) % nctx;
		}
		t0 = now_s();
		for (b = 0; b < MICRO_BATCH && !err; b++)
			err = im->run(tx[(from + b) % nctx], false, pk[b],
				      &len[b]);
		tp += now_s() - t0;
		t0 = now_s();
		for (b = 0; b < MICRO_BATCH && !err; b++)
			err = im->run(rx[(from + b) % nctx], true, pk[b],
				      &len[b]) ||
			      len[b] != PLAIN;
		tu += now_s() - t0;
		done += MICRO_BATCH;
	}
	for (i = 0; tx && rx && i < nctx; i++)
		im->free(tx[i], rx[i]);
	free(tx);
	free(rx);
	free(seq);
	*prot = tp * 1e9 / (double)done;
	*unprot = tu * 1e9 / (double)done;
	return err ? -1 : 0;
}

static int micro(int argc, char **argv)
{
	int suite = argc == 5 ? sdp_srtp_suite_id(str_cstr(argv[2])) : 0;
	unsigned nctx = argc == 5 ? (unsigned)atoi(argv[3]) : 0;
	unsigned long npkt = argc == 5 ? strtoul(argv[4], NULL, 10) : 0;
	double p, u;
	size_t i;

	if (!suite || !nctx || nctx > MAXCALLS || !npkt || npkt > 100000000 ||
	    media_srtp_init())
		return 2;
	for (i = 0; i < sizeof(impls) / sizeof(impls[0]); i++) {
		if (micro_one(&impls[i], suite, nctx, npkt, &p, &u)) {
			fprintf(stderr, "%s: failed\n", impls[i].name);
			return 1;
		}
		printf("%s %s protect_ns %.1f unprotect_ns %.1f\n",
		       impls[i].name, argv[2], p, u);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "gen"))
		return gen(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "micro"))
		return micro(argc, argv);
	fprintf(stderr, "usage: srtp_load gen CALLER CALLEE TARGETS PPS SECS\n"
			"       srtp_load micro SUITE CONTEXTS PACKETS\n");
	return 2;
}
