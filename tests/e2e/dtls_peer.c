/*
 * dtls_peer.c - runs sipguard's DTLS-SRTP engine (media/dtls.c) over a
 * real UDP socket, for interop tests against other DTLS stacks
 * (tests/e2e/test_dtls_interop.py drives it against `openssl s_client`
 * and `openssl s_server`).
 *
 *   dtls_peer client|server <local-port> <peer-port> <peer-fingerprint>
 *             [profiles-mask [timeout-ms [srtp-ms]]]
 *
 * Binds 127.0.0.1:<local-port>.  A client sends to 127.0.0.1:<peer-port>;
 * a server answers whoever sends first (peer-port 0).  The peer
 * fingerprint is an a=fingerprint value ("sha-256 AB:CD:...").  Prints
 *   fingerprint <our a=fingerprint value>
 * at start, then on success
 *   profile <name>
 *   keymat <hex of client key|server key|client salt|server salt>
 * (the RFC 5764 4.2 layout, which `openssl -keymatexport` prints whole),
 * or "failed <reason>", and exits 0 / 1.
 *
 * With srtp-ms, it then keeps the port for that long: sends an SRTP
 * packet (PCMU silence) every 20 ms protected with our exported key,
 * unprotects every RTP-range datagram from the peer with the peer's key
 * (libsrtp2), keeps feeding DTLS datagrams to the engine, and prints
 *   srtp sent <n> ok <n> bad <n>
 * so a test can see the keys work with a real SRTP peer (baresip).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <srtp2/srtp.h>

#include "media/dtls.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void hex(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02X", p[i]);
}

static void print_keymat(struct dtls_conn *c, bool client)
{
	struct dtls_srtp_keys k;
	const uint8_t *ck, *sk, *cs, *ss;

	if (dtls_conn_keys(c, &k))
		return;
	ck = client ? k.local_key : k.remote_key;
	sk = client ? k.remote_key : k.local_key;
	cs = client ? k.local_salt : k.remote_salt;
	ss = client ? k.remote_salt : k.local_salt;
	printf("profile %s\nkeymat ", dtls_srtp_profile_name(k.profile));
	hex(ck, k.key_len);
	hex(sk, k.key_len);
	hex(cs, k.salt_len);
	hex(ss, k.salt_len);
	printf("\n");
	/* A test tool prints the keys to compare them; sipguard never does. */
	memset(&k, 0, sizeof(k));
}

static void flush_out(struct dtls_conn *c, int fd, const struct sockaddr_in *to,
		      bool have_peer)
{
	uint8_t buf[DTLS_MTU];
	int n;

	while ((n = dtls_conn_output(c, buf, sizeof(buf))) > 0)
		if (have_peer)
			(void)sendto(fd, buf, (size_t)n, 0,
				     (const struct sockaddr *)to, sizeof(*to));
}

static int bind_udp(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("bind");
		exit(2);
	}
	return fd;
}

static int loop(struct dtls_conn *c, int fd, struct sockaddr_in *peer,
		bool have_peer, uint64_t give_up)
{
	uint8_t buf[DTLS_MAX_DGRAM + 1];

	while (dtls_conn_state(c) == DTLS_HANDSHAKE && now_ms() < give_up) {
		uint64_t d = dtls_conn_deadline(c), t = now_ms();
		int wait = d <= t ? 0 : d - t > 200 ? 200 : (int)(d - t);
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(&pfd, 1, wait) > 0) {
			n = recvfrom(fd, buf, sizeof(buf), 0,
				     (struct sockaddr *)&from, &fl);
			if (n > 0) {
				if (!have_peer) {
					*peer = from; /* latch */
					have_peer = true;
				}
				(void)dtls_conn_input(c, buf, (size_t)n,
						      now_ms());
			}
		}
		if (now_ms() >= dtls_conn_deadline(c))
			(void)dtls_conn_timer(c, now_ms());
		flush_out(c, fd, peer, have_peer);
	}
	return have_peer;
}

static int srtp_policy(srtp_policy_t *pol, const struct dtls_srtp_keys *k,
		       bool local, unsigned char *keybuf)
{
	memset(pol, 0, sizeof(*pol));
	switch (k->profile) {
	case DTLS_SRTP_AES128_CM_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtp);
		break;
	case DTLS_SRTP_AES128_CM_SHA1_32:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&pol->rtp);
		break;
	case DTLS_SRTP_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol->rtp);
		break;
	case DTLS_SRTP_AEAD_AES_256_GCM:
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&pol->rtp);
		break;
	default:
		return -1;
	}
	pol->rtcp = pol->rtp;
	if (k->profile == DTLS_SRTP_AES128_CM_SHA1_32) /* RFC 5764 4.1.2 */
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtcp);
	memcpy(keybuf, local ? k->local_key : k->remote_key, k->key_len);
	memcpy(keybuf + k->key_len, local ? k->local_salt : k->remote_salt,
	       k->salt_len);
	pol->key = keybuf;
	pol->ssrc.type = local ? ssrc_any_outbound : ssrc_any_inbound;
	pol->window_size = 1024;
	return 0;
}

struct srtp_run {
	srtp_t tx, rx;
	unsigned sent, ok, bad;
	uint16_t seq;
	uint32_t ts;
};

static void srtp_send(struct srtp_run *r, int fd, const struct sockaddr_in *to)
{
	uint8_t pkt[12 + 160 + SRTP_MAX_TRAILER_LEN];
	int len = 12 + 160;

	memset(pkt, 0xff, sizeof(pkt)); /* PCMU silence */
	pkt[0] = 0x80;
	pkt[1] = 0;
	pkt[2] = (uint8_t)(r->seq >> 8);
	pkt[3] = (uint8_t)r->seq;
	pkt[4] = (uint8_t)(r->ts >> 24);
	pkt[5] = (uint8_t)(r->ts >> 16);
	pkt[6] = (uint8_t)(r->ts >> 8);
	pkt[7] = (uint8_t)r->ts;
	memcpy(pkt + 8, "\x12\x34\x56\x78", 4);
	r->seq++;
	r->ts += 160;
	if (srtp_protect(r->tx, pkt, &len) == srtp_err_status_ok &&
	    sendto(fd, pkt, (size_t)len, 0, (const struct sockaddr *)to,
		   sizeof(*to)) == len)
		r->sent++;
}

/* After the handshake: SRTP both ways for ms milliseconds. */
static void srtp_check(struct dtls_conn *c, int fd,
		       const struct sockaddr_in *peer, unsigned ms)
{
	struct dtls_srtp_keys k;
	unsigned char kb_tx[64], kb_rx[64];
	srtp_policy_t ptx, prx;
	struct srtp_run r = {0};
	uint64_t end = now_ms() + ms, next = now_ms();

	if (dtls_conn_keys(c, &k) || srtp_init() ||
	    srtp_policy(&ptx, &k, true, kb_tx) ||
	    srtp_policy(&prx, &k, false, kb_rx) || srtp_create(&r.tx, &ptx) ||
	    srtp_create(&r.rx, &prx)) {
		printf("srtp setup failed\n");
		return;
	}
	while (now_ms() < end) {
		uint8_t buf[2048];
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int n;

		if (now_ms() >= next) {
			srtp_send(&r, fd, peer);
			next += 20;
		}
		if (poll(&pfd, 1, 5) <= 0)
			continue;
		n = (int)recv(fd, buf, sizeof(buf), 0);
		if (n > 0 && dtls_is_record(buf, (size_t)n)) {
			(void)dtls_conn_input(c, buf, (size_t)n, now_ms());
			flush_out(c, fd, peer, true);
		} else if (n >= 12 && buf[0] >= 128 && buf[0] <= 191 &&
			   !(buf[1] >= 192 && buf[1] <= 223)) {
			if (srtp_unprotect(r.rx, buf, &n) == srtp_err_status_ok)
				r.ok++;
			else
				r.bad++;
		}
	}
	printf("srtp sent %u ok %u bad %u\n", r.sent, r.ok, r.bad);
	srtp_dealloc(r.tx);
	srtp_dealloc(r.rx);
	memset(kb_tx, 0, sizeof(kb_tx));
	memset(kb_rx, 0, sizeof(kb_rx));
	memset(&k, 0, sizeof(k));
}

int main(int argc, char **argv)
{
	struct dtls_ctx_conf conf = {0};
	struct sockaddr_in peer = {.sin_family = AF_INET};
	char fps[SDP_DTLS_FP_STRLEN];
	struct dtls_ctx *x;
	struct dtls_conn *c;
	struct sdp_dtls pd;
	bool client;
	int fd, rc;

	if (argc < 5) {
		fprintf(stderr, "usage: dtls_peer client|server lport pport "
				"fingerprint [profiles [timeout-ms]]\n");
		return 2;
	}
	client = strcmp(argv[1], "client") == 0;
	conf.profiles = argc > 5 ? (unsigned)strtoul(argv[5], NULL, 0) : 0;
	conf.handshake_timeout_ms =
		argc > 6 ? (uint32_t)strtoul(argv[6], NULL, 0) : 10000;
	memset(&pd, 0, sizeof(pd));
	rc = sdp_dtls_fp_parse(&pd.fp[0], str_cstr(argv[4]));
	if (rc) {
		fprintf(stderr, "bad fingerprint: %s\n", sdp_dtls_strerror(rc));
		return 2;
	}
	pd.nfp = 1;
	if (dtls_ctx_new(&x, &conf)) {
		fprintf(stderr, "dtls_ctx_new failed\n");
		return 2;
	}
	sdp_dtls_fp_format(fps, sizeof(fps), dtls_ctx_fingerprint(x));
	printf("fingerprint %s\n", fps);
	fflush(stdout);
	fd = bind_udp((uint16_t)atoi(argv[2]));
	peer.sin_port = htons((uint16_t)atoi(argv[3]));
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (dtls_conn_new(&c, x, client, &pd, now_ms())) {
		fprintf(stderr, "dtls_conn_new failed\n");
		return 2;
	}
	flush_out(c, fd, &peer, client);
	loop(c, fd, &peer, client, now_ms() + conf.handshake_timeout_ms + 1000);
	rc = dtls_conn_state(c) == DTLS_CONNECTED ? 0 : 1;
	if (rc == 0)
		print_keymat(c, client);
	else
		printf("failed %s\n", dtls_conn_reason(c));
	fflush(stdout);
	if (rc == 0 && argc > 7)
		srtp_check(c, fd, &peer, (unsigned)strtoul(argv[7], NULL, 0));
	fflush(stdout);
	/* Say goodbye so the openssl peer exits cleanly. */
	dtls_conn_close(c);
	flush_out(c, fd, &peer, true);
	dtls_conn_free(c);
	dtls_ctx_free(x);
	close(fd);
	return rc;
}
