/*
 * dtls_peer.c - runs sipguard's DTLS-SRTP engine (media/dtls.c) over a
 * real UDP socket, for interop tests against other DTLS stacks
 * (tests/e2e/test_dtls_interop.py drives it against `openssl s_client`
 * and `openssl s_server`).
 *
 *   dtls_peer client|server <local-port> <peer-port> <peer-fingerprint>
 *             [profiles-mask [timeout-ms]]
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
	/* Say goodbye so the openssl peer exits cleanly. */
	dtls_conn_close(c);
	flush_out(c, fd, &peer, true);
	dtls_conn_free(c);
	dtls_ctx_free(x);
	close(fd);
	return rc;
}
