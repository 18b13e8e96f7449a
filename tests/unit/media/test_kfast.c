/*
 * test_kfast.c - the media relay's kernel fast path (media/kfast.c,
 * kfast_relay.c, kfast.bpf.c) on the real kernel: the program loaded and
 * attached at TCX ingress of loopback, a real relay thread (both
 * backends) with a stream between two loopback parties.  Once the relay
 * relayed a sane RTP packet it installs the direction; the kernel then
 * relays the next ones itself (counted in the map), re-addressed from
 * the relay port facing the other party, with checksums the receiving
 * stack accepts (a raw-socket sender makes the stack verify them).  A
 * stranger, a foreign payload type, an SSRC change and RTCP reach the
 * relay socket and are handled as without the kernel path; counters
 * come back into the stream's statistics; a closed stream is removed
 * from the map; a closed kfast leaves no program behind.
 *
 * Skipped (with the reason) where BPF or TCX cannot load (no root, no
 * CAP_BPF, kernel < 6.6).  Waits are bounded polls, never sleeps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "test.h"

#include "core/log.h"
#include "media/kfast.h"
#include "media/media_int.h"
#include "call_helper.h"

enum { WAIT_MS = 2000, PT_OK = 0 };

static struct kfast *kf;
static char kf_why[160];

/* f's relay (io_uring if uring) through kf, with a stream policed to
 * bw bytes/s (0: not). */
static void start(struct mh_relay *f, bool uring, uint32_t bw)
{
	mh_relay_start(f, uring, kf);
	mh_relay_add_stream(f, bw);
}

/* Stop the relay, close every socket left, free the stream. */
static void stop(struct mh_relay *f)
{
	unsigned l, k;

	mh_relay_stop(f);
	mh_relay_close_peers(f);
	for (l = 0; l < 2; l++)
		for (k = 0; k < 2; k++)
			if (f->s->fd[l][k] >= 0 &&
			    !(f->s->fd[l][k] & 0x40000000))
				close(f->s->fd[l][k]);
	mem_free(f->s);
}

/* The map entry in k of what leg 0 sends (from its RTP socket). */
static int entry_in(struct kfast *k, struct mh_relay *f, struct kf_val *v);

static int entry(struct mh_relay *f, struct kf_val *v)
{
	return entry_in(kf, f, v);
}

static int entry_in(struct kfast *kk, struct mh_relay *f, struct kf_val *v)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	struct kf_key k;

	assert_int_equal(
		getsockname(f->peer[0][0], (struct sockaddr *)&a, &len), 0);
	memset(&k, 0, sizeof(k));
	k.family = AF_INET;
	k.lport = htons(f->rport[0]);
	k.sport = a.sin_port;
	inet_pton(AF_INET, "127.0.0.1", k.laddr);
	inet_pton(AF_INET, "127.0.0.1", k.saddr);
	return kfast_get(kk, &k, v);
}

static void wait_pkts(struct mh_relay *f, uint64_t n)
{
	int t;

	/* The relay merges the kernel's counters every 500 ms. */
	for (t = 0; t < 40 && MEDIA_LD(f->s->st[0].pkts) != n; t++)
		(void)poll(NULL, 0, 100);
	assert_int_equal(MEDIA_LD(f->s->st[0].pkts), n);
}

#define SKIP_WITHOUT_BPF()                                      \
	do {                                                    \
		if (!kf) {                                      \
			print_message("skipped: %s\n", kf_why); \
			skip();                                 \
		}                                               \
	} while (0)

static void kernel_relays(bool uring)
{
	struct mh_relay f;
	struct kf_val v;

	start(&f, uring, 0);
	/* The first packet goes through the relay, which installs. */
	mh_relay_some(&f, 0, 1, 1);
	assert_int_equal(entry(&f, &v), 0);
	assert_int_equal(v.pkts, 0);
	/* The next ones: the kernel. */
	mh_relay_some(&f, 0, 50, 2);
	assert_int_equal(entry(&f, &v), 0);
	assert_int_equal(v.pkts, 50);
	assert_int_equal(v.bytes, 50 * 172);
	wait_pkts(&f, 51);
	assert_int_equal(MEDIA_LD(f.s->st[0].bytes), 51 * 172);
	assert_true(MEDIA_LD(f.s->st[0].last_rx) > 0);
	stop(&f);
}

static void test_kernel_relays_epoll(void **state)
{
	(void)state;
	SKIP_WITHOUT_BPF();
	kernel_relays(false);
}

static void test_kernel_relays_uring(void **state)
{
	(void)state;
	SKIP_WITHOUT_BPF();
	kernel_relays(true);
}

/* A stranger (another port of the right host) misses the map: the
 * relay socket gets it, counts it, the far party never sees it. */
static void test_stranger(void **state)
{
	struct mh_relay f;
	struct kf_val v;
	uint8_t p[256], q[256];
	int evil;

	(void)state;
	SKIP_WITHOUT_BPF();
	start(&f, true, 0);
	mh_relay_some(&f, 0, 2, 1);
	evil = mh_udp(0, NULL);
	mh_send_to(evil, f.rport[0], p, mh_rtp(p, 3, PT_OK, 7));
	assert_int_equal(mh_recv_wait(f.peer[1][0], q, sizeof(q), 300, NULL),
			 -1);
	assert_int_equal(MEDIA_LD(f.s->st[0].injected), 1);
	assert_int_equal(entry(&f, &v), 0);
	assert_int_equal(v.pkts, 1);
	close(evil);
	stop(&f);
}

/* What the kernel refuses reaches the relay, which decides as always:
 * a foreign payload type dropped, an SSRC change reported (and relayed:
 * anomaly_drop off), RTCP relayed by the relay. */
static void test_handed_up(void **state)
{
	struct mh_relay f;
	struct kf_val v;
	uint8_t p[256], q[256];
	static const uint8_t rr[8] = {0x80, 201, 0, 1, 0, 0, 0, 9};

	(void)state;
	SKIP_WITHOUT_BPF();
	start(&f, false, 0);
	mh_relay_some(&f, 0, 3, 1);
	mh_send_to(f.peer[0][0], f.rport[0], p, mh_rtp(p, 4, 8, 7));
	assert_int_equal(mh_recv_wait(f.peer[1][0], q, sizeof(q), 300, NULL),
			 -1);
	assert_int_equal(MEDIA_LD(f.s->st[0].dropped), 1);
	assert_int_equal(entry(&f, &v), 0);
	assert_int_equal(v.up, 1);
	/* SSRC change: up, reported, relayed by the relay. */
	mh_send_to(f.peer[0][0], f.rport[0], p, mh_rtp(p, 5, PT_OK, 9));
	assert_int_equal(
		mh_recv_wait(f.peer[1][0], q, sizeof(q), WAIT_MS, NULL), 172);
	assert_int_equal(MEDIA_LD(f.s->st[0].anomalies), 1);
	/* RTCP (its own port): the relay, which reads the reports. */
	mh_send_to(f.peer[0][1], (uint16_t)(f.rport[0] + 1), rr, sizeof(rr));
	assert_int_equal(
		mh_recv_wait(f.peer[1][1], q, sizeof(q), WAIT_MS, NULL),
		(ssize_t)sizeof(rr));
	assert_int_equal(MEDIA_LD(f.s->st[0].rtcp), 1);
	/* Muxed-looking RTCP on the RTP port: never the kernel's. */
	assert_int_equal(entry(&f, &v), 0);
	mh_send_to(f.peer[0][0], f.rport[0], rr, sizeof(rr));
	(void)mh_recv_wait(f.peer[1][0], q, sizeof(q), 300, NULL);
	{
		struct kf_val w;

		assert_int_equal(entry(&f, &w), 0);
		assert_int_equal(w.pkts, v.pkts);
		assert_int_equal(w.up, v.up + 1);
	}
	stop(&f);
}

static uint16_t csum16(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A datagram from a raw socket carries a full checksum (no offload on
 * loopback): the receiving stack verifies it after our rewrite. */
static void test_checksums(void **state)
{
	struct mh_relay f;
	struct kf_val v;
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	uint8_t d[8 + 172], q[256], ph[12];
	int raw;
	uint16_t c, from = 0;

	(void)state;
	SKIP_WITHOUT_BPF();
	raw = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
	if (raw < 0)
		skip();
	start(&f, true, 0);
	mh_relay_some(&f, 0, 1, 1);
	assert_int_equal(getsockname(f.peer[0][0], (struct sockaddr *)&a, &len),
			 0);
	memset(d, 0, sizeof(d));
	memcpy(d, &a.sin_port, 2);
	d[2] = (uint8_t)(f.rport[0] >> 8);
	d[3] = (uint8_t)f.rport[0];
	d[5] = (uint8_t)sizeof(d);
	(void)mh_rtp(d + 8, 2, PT_OK, 7);
	inet_pton(AF_INET, "127.0.0.1", ph);
	inet_pton(AF_INET, "127.0.0.1", ph + 4);
	ph[8] = 0;
	ph[9] = IPPROTO_UDP;
	ph[10] = 0;
	ph[11] = (uint8_t)sizeof(d);
	{
		uint32_t s0 = (uint16_t)~csum16(ph, sizeof(ph), 0);

		c = csum16(d, sizeof(d), s0);
	}
	d[6] = (uint8_t)(c >> 8);
	d[7] = (uint8_t)c;
	a.sin_port = 0;
	assert_int_equal(
		sendto(raw, d, sizeof(d), 0, (struct sockaddr *)&a, sizeof(a)),
		(ssize_t)sizeof(d));
	assert_int_equal(
		mh_recv_wait(f.peer[1][0], q, sizeof(q), WAIT_MS, &from), 172);
	assert_int_equal(memcmp(q, d + 8, 172), 0);
	assert_int_equal(from, f.rport[1]);
	assert_int_equal(entry(&f, &v), 0);
	assert_int_equal(v.pkts, 1); /* the kernel relayed it */
	/* A wrong checksum stays wrong: the far stack drops it. */
	d[7] ^= 0x55;
	assert_int_equal(
		sendto(raw, d, sizeof(d), 0, (struct sockaddr *)&a, sizeof(a)),
		(ssize_t)sizeof(d));
	assert_int_equal(mh_recv_wait(f.peer[1][0], q, sizeof(q), 300, NULL),
			 -1);
	close(raw);
	stop(&f);
}

/* The policing bucket in the kernel: 10 packets' worth of burst, then
 * what is over goes up, where the relay (with the kernel's bucket)
 * drops it as policed. */
static void test_policing(void **state)
{
	struct mh_relay f;
	struct kf_val v;
	uint8_t p[256], q[256];
	unsigned i, got = 0;

	(void)state;
	SKIP_WITHOUT_BPF();
	start(&f, false, 10 * 172);
	mh_relay_some(&f, 0, 1, 1);
	for (i = 0; i < 30; i++)
		mh_send_to(f.peer[0][0], f.rport[0], p,
			   mh_rtp(p, (uint16_t)(2 + i), PT_OK, 7));
	while (mh_recv_wait(f.peer[1][0], q, sizeof(q), 300, NULL) > 0)
		got++;
	assert_int_equal(entry(&f, &v), 0);
	assert_true(v.pkts >= 5 && v.pkts <= 10);
	assert_true(got <= 10);
	assert_true(v.up >= 20);
	assert_true(MEDIA_LD(f.s->st[0].policed) >= 19);
	stop(&f);
}

/* DEL: the direction leaves the map before the sockets close, with its
 * counters merged; nothing is relayed any more. */
static void test_delete(void **state)
{
	struct media_cmd c = {.type = MEDIA_CMD_DEL};
	struct mh_relay f;
	struct kf_val v;
	uint8_t p[256], q[256];

	(void)state;
	SKIP_WITHOUT_BPF();
	start(&f, true, 0);
	mh_relay_some(&f, 0, 10, 1);
	c.s = f.s;
	assert_true(media__relay_cmd(&f.r, &c));
	assert_true(mh_relay_wait_done(&f, f.s));
	assert_int_equal(MEDIA_LD(f.s->st[0].pkts), 10);
	assert_int_equal(entry(&f, &v), -ENOENT);
	mh_send_to(f.peer[0][0], f.rport[0], p, mh_rtp(p, 11, PT_OK, 7));
	assert_int_equal(mh_recv_wait(f.peer[1][0], q, sizeof(q), 300, NULL),
			 -1);
	stop(&f);
}

/* Closing detaches and unloads: the program is gone from the kernel. */
static void test_close_detaches(void **state)
{
	struct kfast *k;
	char why[160];
	uint32_t id;
	int fd;

	(void)state;
	SKIP_WITHOUT_BPF();
	assert_int_equal(kfast_open(&k, 16, NULL, 0, why, sizeof(why)), 0);
	assert_true(kfast_nlinks(k) >= 1);
	id = kfast_prog_id(k);
	assert_true(id != 0);
	fd = bpf_prog_get_fd_by_id(id);
	assert_true(fd >= 0);
	close(fd);
	kfast_close(k);
	assert_true(bpf_prog_get_fd_by_id(id) < 0);
}

/* ------------------------------------------------ a routed relay */

/*
 * Each party in its own network namespace behind a veth pair: A at
 * 10.N.1.2 (relay side 10.N.1.1 on device dev_name[0]), B at 10.N.2.2
 * (10.N.2.1, dev_name[1]).  What A sends arrives on an Ethernet device
 * and leaves by another (bpf_redirect_neigh), as on a real host, with
 * forwarding off.  N differs per test and per process (routed_net()):
 * copies of this test run at once on one host (worktrees), and two
 * devices with one subnet would take each other's packets.
 */
static char ns_name[2][32], dev_name[2][48];

static int sh(const char *fmt, const char *a, const char *b)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), fmt, a, b, a, b);
	return system(cmd);
}

/* 100-199: the interfaces exist before kfast_open; 200-229: they
 * appear after it. */
static unsigned routed_net(bool late)
{
	return (late ? 200u : 100u) + (unsigned)getpid() % (late ? 30u : 100u);
}

static bool netns_up(unsigned net)
{
	static const char *const step[] = {
		"ip netns add %s",
		"ip link add %2$sv type veth peer name %2$sp netns %1$s",
		"ip addr add 10.%2$.7s/24 dev %2$sv",
		"ip link set %2$sv up",
		"ip -n %1$s addr add 10.%2$.6s2/24 dev %2$sp",
		"ip -n %1$s link set %2$sp up",
		"ip -n %1$s link set lo up",
	};
	unsigned l, i;

	for (l = 0; l < 2; l++) {
		char tag[32];

		snprintf(ns_name[l], sizeof(ns_name[l]), "sgkf%d%c",
			 (int)getpid(), 'a' + l);
		/* The device names start with the subnet ("231.1.1"): the
		 * steps cut the relay's address or its prefix out of it. */
		snprintf(tag, sizeof(tag), "%u.%u.1%d", net, l + 1,
			 (int)getpid() % 10000);
		snprintf(dev_name[l], sizeof(dev_name[l]), "%sv", tag);
		for (i = 0; i < sizeof(step) / sizeof(step[0]); i++)
			if (sh(step[i], ns_name[l], tag) != 0)
				return false;
	}
	return true;
}

static void netns_down(void)
{
	unsigned l;

	for (l = 0; l < 2; l++)
		if (ns_name[l][0])
			(void)sh("ip netns del %s 2>/dev/null", ns_name[l], "");
}

/* A UDP socket bound to ip:port inside namespace ns. */
static int udp_in(const char *ns, const char *ip, uint16_t port)
{
	char path[96];
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), nsfd, fd;

	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(self >= 0 && nsfd >= 0);
	assert_int_equal(setns(nsfd, CLONE_NEWNET), 0);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, ip, &a.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(setns(self, CLONE_NEWNET), 0);
	close(nsfd);
	close(self);
	return fd;
}

static int bound(const char *ip, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, ip, &a.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/*
 * Around the veths' MTU (1500): an RTP packet whose IP datagram is
 * exactly 1500 bytes is the kernel's; one of 1508 does not fit the
 * egress device, so the kernel hands it up and the relay sends it (the
 * stack fragments it): it arrives whole either way, never dropped.
 * Packets 31 and 32 of the stream that routed_relay started.
 */
static void routed_mtu(struct mh_relay *f, const int *pa, const char *rel)
{
	static const size_t rtp_len[] = {1500 - 28, 1508 - 28};
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(f->rport[0])};
	uint8_t p[1600], q[1600];
	unsigned i;

	inet_pton(AF_INET, rel, &a.sin_addr);
	for (i = 0; i < 2; i++) {
		uint16_t from = 0;

		memset(p, 0, sizeof(p));
		(void)mh_rtp(p, (uint16_t)(31 + i), PT_OK, 7);
		p[100] = (uint8_t)i;
		assert_int_equal(sendto(pa[0], p, rtp_len[i], 0,
					(struct sockaddr *)&a, sizeof(a)),
				 (ssize_t)rtp_len[i]);
		assert_int_equal(
			mh_recv_wait(pa[1], q, sizeof(q), WAIT_MS, &from),
			(ssize_t)rtp_len[i]);
		assert_int_equal(memcmp(p, q, rtp_len[i]), 0);
		assert_int_equal(from, f->rport[1]);
	}
	for (i = 0; i < 40 && MEDIA_LD(f->s->st[0].pkts) != 32; i++)
		(void)poll(NULL, 0, 100);
	assert_int_equal(MEDIA_LD(f->s->st[0].pkts), 32);
	assert_int_equal(MEDIA_LD(f->s->st[0].kernel), 30);
}

/* A stream between the parties of netns_up(net) relayed by k: the
 * first packet by the relay thread, the 29 others by the kernel; then
 * two around the MTU (routed_mtu). */
static void routed_relay(struct kfast *k, unsigned net, uint16_t rport,
			 uint16_t pport)
{
	char rel[2][16], par[2][16];
	struct media_cmd c;
	struct mh_relay f;
	uint8_t p[256], q[256];
	unsigned l, i;
	int pa[2];

	mh_relay_start(&f, false, k);
	f.s = mem_zalloc(sizeof(*f.s));
	memset(&c, 0, sizeof(c));
	for (l = 0; l < 2; l++) {
		snprintf(rel[l], sizeof(rel[l]), "10.%u.%u.1", net, l + 1);
		snprintf(par[l], sizeof(par[l]), "10.%u.%u.2", net, l + 1);
		f.rport[l] = (uint16_t)(rport + 2 * l);
		f.s->port[l] = f.rport[l];
		f.s->fd[l][0] = bound(rel[l], f.rport[l]);
		f.s->fd[l][1] = bound(rel[l], (uint16_t)(f.rport[l] + 1));
		f.s->local[l].af = AF_INET;
		inet_pton(AF_INET, rel[l], f.s->local[l].ip);
		pa[l] = udp_in(ns_name[l], par[l], pport);
		c.prm.leg[l].sdp[0].af = c.prm.leg[l].sdp[1].af = AF_INET;
		inet_pton(AF_INET, par[l], c.prm.leg[l].sdp[0].ip);
		inet_pton(AF_INET, par[l], c.prm.leg[l].sdp[1].ip);
		c.prm.leg[l].sdp[0].port = pport;
		c.prm.leg[l].sdp[1].port = (uint16_t)(pport + 1);
		c.prm.leg[l].expect = true;
	}
	mh_relay_hand(&f.r, f.s, &c);
	for (i = 0; i < 30; i++) {
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_port = htons(f.rport[0])};
		size_t len = mh_rtp(p, (uint16_t)(1 + i), PT_OK, 7);
		uint16_t from = 0;

		inet_pton(AF_INET, rel[0], &a.sin_addr);
		assert_int_equal(sendto(pa[0], p, len, 0, (struct sockaddr *)&a,
					sizeof(a)),
				 (ssize_t)len);
		assert_int_equal(
			mh_recv_wait(pa[1], q, sizeof(q), WAIT_MS, &from),
			(ssize_t)len);
		assert_int_equal(memcmp(p, q, len), 0);
		assert_int_equal(from, f.rport[1]);
	}
	for (i = 0; i < 40 && MEDIA_LD(f.s->st[0].kernel) != 29; i++)
		(void)poll(NULL, 0, 100);
	assert_int_equal(MEDIA_LD(f.s->st[0].pkts), 30);
	assert_int_equal(MEDIA_LD(f.s->st[0].kernel), 29);
	routed_mtu(&f, pa, rel[0]);
	mh_relay_stop(&f);
	for (l = 0; l < 2; l++) {
		close(pa[l]);
		close(f.s->fd[l][0]);
		close(f.s->fd[l][1]);
	}
	mem_free(f.s);
}

static void test_routed(void **state)
{
	struct kfast *k;
	char why[160];

	(void)state;
	SKIP_WITHOUT_BPF();
	if (!netns_up(routed_net(false))) {
		netns_down();
		print_message("skipped: cannot make network namespaces\n");
		skip();
	}
	assert_int_equal(kfast_open(&k, 64, NULL, 0, why, sizeof(why)), 0);
	routed_relay(k, routed_net(false), 48700, 48800);
	kfast_close(k);
	netns_down();
}

/* ---------------------------------------- interfaces added later */

/*
 * The watch's clock: each call to watch() is KF_SCAN_MS later, so a
 * pending listing runs.  Returns once done(k, arg) holds, or after a
 * bounded number of rounds (each waits for an event at most 100 ms).
 */
static uint64_t watch_now = 1000;

static bool watch_until(struct kfast *k, bool (*done)(struct kfast *, void *),
			void *arg)
{
	struct pollfd pfd = {.fd = kfast_watch_fd(k), .events = POLLIN};
	int t;

	for (t = 0; t < 50 && !done(k, arg); t++) {
		(void)poll(&pfd, 1, 100);
		watch_now += KF_SCAN_MS;
		assert_true(kfast_watch(k, watch_now) >= 0);
	}
	return done(k, arg);
}

/* Both relay-side devices linked (want true) or both not. */
static bool devs_linked(struct kfast *k, void *arg)
{
	bool want = *(bool *)arg;
	unsigned l;

	for (l = 0; l < 2; l++)
		if (kfast_linked(k, if_nametoindex(dev_name[l])) != want)
			return false;
	return true;
}

static bool dev0_gone(struct kfast *k, void *arg)
{
	unsigned *idx = arg;

	return !kfast_linked(k, idx[0]);
}

static bool devs_gone(struct kfast *k, void *arg)
{
	unsigned *idx = arg;

	return !kfast_linked(k, idx[0]) && !kfast_linked(k, idx[1]);
}

/*
 * A veth pair per party, made after the program was attached: the
 * watch attaches it to the new relay-side devices (up, Ethernet, an
 * address), and media across them is relayed by the kernel.  Deleting
 * a device closes its link; so does a namespace going away (which takes
 * the veth's peer, and so the pair, with it).
 */
static void test_late_interface(void **state)
{
	struct kfast *k;
	char why[160];
	unsigned idx[2];
	bool yes = true;

	(void)state;
	SKIP_WITHOUT_BPF();
	assert_int_equal(kfast_open(&k, 64, NULL, 0, why, sizeof(why)), 0);
	assert_true(kfast_watch_fd(k) >= 0);
	if (!netns_up(routed_net(true))) {
		kfast_close(k);
		netns_down();
		print_message("skipped: cannot make network namespaces\n");
		skip();
	}
	idx[0] = if_nametoindex(dev_name[0]);
	idx[1] = if_nametoindex(dev_name[1]);
	assert_true(idx[0] && idx[1]);
	assert_true(watch_until(k, devs_linked, &yes));
	routed_relay(k, routed_net(true), 48500, 48600);
	/* Deleted: the link goes (RTM_DELLINK), the other one stays. */
	assert_int_equal(sh("ip link del %2$s", "", dev_name[0]), 0);
	assert_true(watch_until(k, dev0_gone, idx));
	assert_true(kfast_linked(k, idx[1]));
	netns_down();
	assert_true(watch_until(k, devs_gone, idx));
	kfast_close(k);
}

/* Run the lines of fmt (arguments: an index 0..n-1, the pid, the
 * index, the index) as one `ip -batch` (-force: on to the end). */
static int ip_batch(const char *fmt, unsigned n)
{
	char path[64], cmd[96];
	unsigned i;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "/tmp/sgkf%d.batch", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i < n; i++)
		fprintf(f, fmt, i, (int)getpid() % 10000, i, i);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "ip -force -batch %s 2>/dev/null", path);
	rc = system(cmd);
	unlink(path);
	return rc;
}

enum { FLOOD_DEVS = 100, FLOOD_ADDRS = 150 };

/* Flood device i's ifindex while it existed. */
static unsigned flood_idx[FLOOD_DEVS];

/* Flood devices 0..n-1 deleted and their links closed, the others
 * linked; n: *(unsigned *)arg. */
static bool flood_linked(struct kfast *k, void *arg)
{
	unsigned gone = *(unsigned *)arg, i;
	char name[32];

	for (i = 0; i < FLOOD_DEVS; i++) {
		snprintf(name, sizeof(name), "sgkf%d_%u", (int)getpid() % 10000,
			 i);
		if (i >= gone)
			flood_idx[i] = if_nametoindex(name);
		if (i < gone ? kfast_linked(k, flood_idx[i])
			     : !kfast_linked(k, flood_idx[i]))
			return false;
	}
	return true;
}

/*
 * A flood of events is read a batch at a time, and listed at most once
 * per KF_SCAN_MS however many arrive: 150 addresses put on a device
 * that is down (each one "may have become eligible", none does), then
 * 100 new devices at once, all attached, then half of them deleted,
 * and closed with the other half attached.
 */
static void test_late_flood(void **state)
{
	struct kfast *k;
	char why[160], dev[32];
	unsigned s0, i, gone = 0;
	uint32_t id;
	int n;

	(void)state;
	SKIP_WITHOUT_BPF();
	/* veth pairs (the kernel may have no dummy devices), the peers in
	 * a namespace of their own. */
	snprintf(dev, sizeof(dev), "sgkfz%d", (int)getpid() % 10000);
	assert_int_equal(ip_batch("netns add sgkf%2$df\n", 1), 0);
	assert_int_equal(kfast_open(&k, 64, NULL, 0, why, sizeof(why)), 0);
	assert_int_equal(ip_batch("link add sgkfz%2$d type veth peer name "
				  "p netns sgkf%2$df\n",
				  1),
			 0);
	snprintf(why, sizeof(why), "address add 10.233.1.%%u/32 dev %s\n", dev);
	assert_int_equal(ip_batch(why, FLOOD_ADDRS), 0);
	watch_now += 10 * KF_SCAN_MS;
	s0 = kfast_scans(k);
	assert_int_equal(kfast_watch(k, watch_now), KF_WATCH_BATCH);
	for (i = 0; i < 100 && (n = kfast_watch(k, watch_now)) > 0; i++)
		assert_true(n <= KF_WATCH_BATCH);
	assert_true(i < 100);
	assert_int_equal(kfast_scans(k), s0 + 1);
	/* The listing held back runs on the next call after KF_SCAN_MS
	 * (the daemon's tick calls once a second). */
	watch_now += KF_SCAN_MS;
	(void)kfast_watch(k, watch_now);
	assert_int_equal(kfast_scans(k), s0 + 2);
	assert_false(kfast_linked(k, if_nametoindex(dev)));
	assert_int_equal(sh("ip link del %2$s", "", dev), 0);

	assert_int_equal(ip_batch("link add sgkf%2$d_%1$u type veth peer "
				  "name p%1$u netns sgkf%2$df\n"
				  "link set sgkf%2$d_%1$u up\n"
				  "address add 10.233.2.%3$u/32 dev "
				  "sgkf%2$d_%4$u\n",
				  FLOOD_DEVS),
			 0);
	assert_true(watch_until(k, flood_linked, &gone));
	/* Half of them deleted: their links closed at once (RTM_DELLINK). */
	gone = FLOOD_DEVS / 2;
	assert_int_equal(ip_batch("link del sgkf%2$d_%1$u\n", gone), 0);
	assert_true(watch_until(k, flood_linked, &gone));
	/* Closed with 50 late links up: the program is gone, so is every
	 * link (each holds the program), as when the daemon is killed. */
	id = kfast_prog_id(k);
	kfast_close(k);
	assert_true(bpf_prog_get_fd_by_id(id) < 0);
}

/* A kernel that wants a capability for BPF_LINK_CREATE, in a daemon
 * that dropped it: said once, no device tried again, nothing else
 * changes (the start's links stay). */
static unsigned denied_lines;

static void denied_sink(enum log_level lvl, const char *line, size_t len,
			void *arg)
{
	(void)lvl;
	(void)len;
	(void)arg;
	if (strstr(line, "no longer has the privilege"))
		denied_lines++;
}

static bool denied_said(struct kfast *k, void *arg)
{
	(void)k;
	(void)arg;
	return denied_lines > 0;
}

static void test_late_denied(void **state)
{
	struct kfast *k;
	char why[160], dev[2][32];
	unsigned n0, s1, l, t;

	(void)state;
	SKIP_WITHOUT_BPF();
	assert_int_equal(ip_batch("netns add sgkf%2$df\n", 1), 0);
	assert_int_equal(kfast_open(&k, 64, NULL, 0, why, sizeof(why)), 0);
	n0 = kfast_nlinks(k);
	kfast_attach_fail = -EPERM;
	denied_lines = 0;
	log_set_sink(denied_sink, NULL);
	for (l = 0; l < 2; l++) {
		snprintf(dev[l], sizeof(dev[l]), "sgkfy%d%u",
			 (int)getpid() % 10000, l);
		snprintf(why, sizeof(why),
			 "ip link add %s type veth peer name p%u netns sgkf%df "
			 "&& ip link set %s up && "
			 "ip addr add 10.233.3.%u/32 dev %s",
			 dev[l], l, (int)getpid() % 10000, dev[l], l + 1,
			 dev[l]);
		assert_int_equal(system(why), 0);
		if (l == 0)
			assert_true(watch_until(k, denied_said, NULL));
	}
	s1 = kfast_scans(k);
	for (t = 0; t < 5; t++) {
		struct pollfd pfd = {.fd = kfast_watch_fd(k), .events = POLLIN};

		(void)poll(&pfd, 1, 100);
		watch_now += KF_SCAN_MS;
		assert_true(kfast_watch(k, watch_now) >= 0);
	}
	log_set_sink(NULL, NULL);
	kfast_attach_fail = 0;
	assert_int_equal(denied_lines, 1);
	assert_int_equal(kfast_scans(k), s1);
	/* No link added; the start's stay (loopback's at least: other
	 * processes on the host may delete theirs, closing those links). */
	assert_true(kfast_nlinks(k) <= n0);
	assert_true(kfast_linked(k, if_nametoindex("lo")));
	for (l = 0; l < 2; l++) {
		assert_false(kfast_linked(k, if_nametoindex(dev[l])));
		assert_int_equal(sh("ip link del %2$s", "", dev[l]), 0);
	}
	kfast_close(k);
}

/* ------------------------------- media.kernel_interfaces (the list) */

/*
 * Devices sgkw<pid>X: a veth whose peer sits in namespace sgkw<pid>n
 * (so that only our side is on the host), up, with a /32 address from
 * 10.233.4.0/24 (addr 0: none).  Named by X, which the tests choose so
 * that the lists' patterns match exactly the ones they mean.
 */
static struct kfast *kw;     /* static: teardown_kw closes it after a failure */
static struct mh_relay kw_f; /* a relay on kw, while kw_f.s is set */

static void kw_name(char *name, size_t sz, const char *x)
{
	snprintf(name, sz, "sgkw%d%s", (int)getpid() % 10000, x);
}

static unsigned kw_dev(const char *x, unsigned addr)
{
	char name[IFNAMSIZ], cmd[256];

	kw_name(name, sizeof(name), x);
	snprintf(cmd, sizeof(cmd),
		 "ip link add %s type veth peer name p%s netns sgkw%dn && "
		 "ip link set %s up",
		 name, x, (int)getpid() % 10000, name);
	assert_int_equal(system(cmd), 0);
	if (addr) {
		snprintf(cmd, sizeof(cmd), "ip addr add 10.233.4.%u/32 dev %s",
			 addr, name);
		assert_int_equal(system(cmd), 0);
	}
	return if_nametoindex(name);
}

/* Rename device x to y (down, as the kernel wants, and up again). */
static void kw_rename(const char *x, const char *y)
{
	char a[IFNAMSIZ], b[IFNAMSIZ], cmd[256];

	kw_name(a, sizeof(a), x);
	kw_name(b, sizeof(b), y);
	snprintf(cmd, sizeof(cmd),
		 "ip link set %s down && ip link set %s name %s && "
		 "ip link set %s up",
		 a, a, b, b);
	assert_int_equal(system(cmd), 0);
}

static void kw_ns(void)
{
	assert_int_equal(ip_batch("netns add sgkw%2$dn\n", 1), 0);
}

static int teardown_kw(void **state)
{
	(void)state;
	if (kw_f.s) {
		stop(&kw_f);
		kw_f.s = NULL;
	}
	kfast_close(kw);
	kw = NULL;
	log_set_sink(NULL, NULL);
	(void)ip_batch("link del sgkw%2$da\nlink del sgkw%2$db\n"
		       "link del sgkw%2$dl1\nlink del sgkw%2$dx1\n"
		       "link del sgkw%2$din\nlink del sgkw%2$dout\n"
		       "link del sgkw%2$dt\nnetns del sgkw%2$dn\n",
		       1);
	return 0;
}

static bool linked_idx(struct kfast *k, void *arg)
{
	return kfast_linked(k, *(unsigned *)arg);
}

static bool unlinked_idx(struct kfast *k, void *arg)
{
	return !kfast_linked(k, *(unsigned *)arg);
}

/* Empty list: every eligible interface, loopback included (today's
 * behaviour, which the default keeps). */
static void test_list_empty(void **state)
{
	char why[160];
	unsigned a, b;

	(void)state;
	SKIP_WITHOUT_BPF();
	kw_ns();
	a = kw_dev("a", 1);
	b = kw_dev("b", 2);
	assert_int_equal(kfast_open(&kw, 16, NULL, 0, why, sizeof(why)), 0);
	assert_true(kfast_linked(kw, a));
	assert_true(kfast_linked(kw, b));
	assert_true(kfast_linked(kw, if_nametoindex("lo")));
}

/* One of two veths named: only it; nor loopback, which is not listed. */
static void test_list_one(void **state)
{
	char why[160], name[IFNAMSIZ];
	const char *ifs[1] = {name};
	unsigned a, b;

	(void)state;
	SKIP_WITHOUT_BPF();
	kw_ns();
	a = kw_dev("a", 1);
	b = kw_dev("b", 2);
	kw_name(name, sizeof(name), "a");
	assert_int_equal(kfast_open(&kw, 16, ifs, 1, why, sizeof(why)), 0);
	assert_true(kfast_linked(kw, a));
	assert_false(kfast_linked(kw, b));
	assert_false(kfast_linked(kw, if_nametoindex("lo")));
	assert_int_equal(kfast_nlinks(kw), 1);
}

/* Said at start: an entry that matches nothing (info), a listed device
 * without an Ethernet header (warning). */
static unsigned kw_nomatch, kw_unframed;

static void kw_sink(enum log_level lvl, const char *line, size_t len, void *arg)
{
	(void)lvl;
	(void)len;
	(void)arg;
	if (strstr(line, "no interface matches"))
		kw_nomatch++;
	if (strstr(line, "carries no Ethernet header"))
		kw_unframed++;
}

/*
 * A pattern that matches nothing at start: loaded, no link, said once.
 * Later, a device the pattern matches is attached when it comes up with
 * an address; one it does not match is not.
 */
static void test_list_late_pattern(void **state)
{
	char why[160], pat[IFNAMSIZ];
	const char *ifs[1] = {pat};
	unsigned l1, x1;

	(void)state;
	SKIP_WITHOUT_BPF();
	kw_ns();
	kw_name(pat, sizeof(pat), "l*");
	kw_nomatch = 0;
	log_set_sink(kw_sink, NULL);
	assert_int_equal(kfast_open(&kw, 16, ifs, 1, why, sizeof(why)), 0);
	log_set_sink(NULL, NULL);
	assert_int_equal(kw_nomatch, 1);
	assert_int_equal(kfast_nlinks(kw), 0);
	x1 = kw_dev("x1", 3);
	l1 = kw_dev("l1", 4);
	assert_true(watch_until(kw, linked_idx, &l1));
	assert_false(kfast_linked(kw, x1));
	assert_int_equal(kfast_nlinks(kw), 1);
}

/*
 * Renamed into the list: attached (RTM_NEWLINK with the new name);
 * renamed out of it: detached at once, the device still there.
 */
static void test_list_rename(void **state)
{
	char why[160], name[IFNAMSIZ];
	const char *ifs[1] = {name};
	unsigned idx;

	(void)state;
	SKIP_WITHOUT_BPF();
	kw_ns();
	kw_name(name, sizeof(name), "in");
	idx = kw_dev("x1", 5);
	assert_int_equal(kfast_open(&kw, 16, ifs, 1, why, sizeof(why)), 0);
	assert_false(kfast_linked(kw, idx));
	kw_rename("x1", "in");
	assert_true(watch_until(kw, linked_idx, &idx));
	kw_rename("in", "out");
	assert_true(watch_until(kw, unlinked_idx, &idx));
	assert_int_equal(kfast_nlinks(kw), 0);
	/* And back in. */
	kw_rename("out", "in");
	assert_true(watch_until(kw, linked_idx, &idx));
	assert_int_equal(if_nametoindex(name), idx);
}

/* A listed tun device (no Ethernet header) is never attached; the
 * operator is told at start. */
static void test_list_unframed(void **state)
{
	char why[160], name[IFNAMSIZ], cmd[160];
	const char *ifs[1] = {name};

	(void)state;
	SKIP_WITHOUT_BPF();
	kw_ns();
	kw_name(name, sizeof(name), "t");
	snprintf(cmd, sizeof(cmd),
		 "ip tuntap add dev %s mode tun && ip link set %s up && "
		 "ip addr add 10.233.4.6/32 dev %s",
		 name, name, name);
	if (system(cmd) != 0) {
		print_message("skipped: no tun device\n");
		skip();
	}
	kw_unframed = kw_nomatch = 0;
	log_set_sink(kw_sink, NULL);
	assert_int_equal(kfast_open(&kw, 16, ifs, 1, why, sizeof(why)), 0);
	log_set_sink(NULL, NULL);
	assert_int_equal(kw_unframed, 1);
	assert_int_equal(kw_nomatch, 0);
	assert_int_equal(kfast_nlinks(kw), 0);
}

/* More entries than fit, or one too long: refused before loading. */
static void test_list_bad(void **state)
{
	const char *many[KF_PATS_MAX + 1], *longer[1] = {"abcdefghijklmnop"};
	struct kfast *k;
	char why[160];
	unsigned i;

	(void)state;
	for (i = 0; i <= KF_PATS_MAX; i++)
		many[i] = "eth0";
	assert_int_equal(
		kfast_open(&k, 16, many, KF_PATS_MAX + 1, why, sizeof(why)),
		-EINVAL);
	assert_null(k);
	assert_int_equal(kfast_open(&k, 16, longer, 1, why, sizeof(why)),
			 -EINVAL);
	assert_null(k);
}

/*
 * media.kernel with a list that matches nothing up at start: `on`
 * refuses to start (a typo must not pass for "later"), `auto` starts
 * loaded, without a link, and waits.
 */
static void test_list_on_refuses(void **state)
{
	static struct media m;
	struct sg_conf_media c;

	(void)state;
	SKIP_WITHOUT_BPF();
	memset(&c, 0, sizeof(c));
	c.max_calls = 4;
	kw_name(c.kernel_interfaces[0], sizeof(c.kernel_interfaces[0]),
		"none*");
	c.n_kernel_interfaces = 1;
	memset(&m, 0, sizeof(m));
	m.c = &c;
	c.kernel = CONF_MEDIA_KERNEL_ON;
	assert_int_equal(media__kernel_open(&m), -ENODEV);
	assert_null(m.kf);
	c.kernel = CONF_MEDIA_KERNEL_AUTO;
	assert_int_equal(media__kernel_open(&m), 0);
	assert_non_null(m.kf);
	assert_int_equal(kfast_nlinks(m.kf), 0);
	assert_true(kfast_watch_fd(m.kf) >= 0);
	kw = m.kf; /* teardown_kw closes it */
}

/*
 * Loopback left out of the list: the program is attached nowhere, yet
 * the relay installs the direction after its first packet.  The kernel
 * never sees one of its packets; after KF_UNSEEN_PKTS came to the
 * relay instead, the direction is taken out (no map lookup per packet
 * for nothing) and not installed again for a while.  Every packet is
 * relayed, by the relay.
 */
static void test_list_unseen(void **state)
{
	char why[160], none[IFNAMSIZ];
	const char *ifs[1] = {none};
	struct kf_val v;

	(void)state;
	SKIP_WITHOUT_BPF();
	kw_name(none, sizeof(none), "none*");
	assert_int_equal(kfast_open(&kw, 64, ifs, 1, why, sizeof(why)), 0);
	assert_int_equal(kfast_nlinks(kw), 0);
	mh_relay_start(&kw_f, false, kw);
	mh_relay_add_stream(&kw_f, 0);
	mh_relay_some(&kw_f, 0, 1, 1);
	assert_int_equal(entry_in(kw, &kw_f, &v), 0);
	mh_relay_some(&kw_f, 0, 60, 2);
	assert_int_equal(entry_in(kw, &kw_f, &v), -ENOENT);
	mh_relay_some(&kw_f, 0, 20, 62);
	assert_int_equal(entry_in(kw, &kw_f, &v), -ENOENT);
	assert_int_equal(MEDIA_LD(kw_f.s->st[0].pkts), 81);
	assert_int_equal(MEDIA_LD(kw_f.s->st[0].kernel), 0);
	stop(&kw_f);
	kw_f.s = NULL;
}

/* The option's checks, as the loader reports them. */
static void test_list_conf(void **state)
{
	static const struct {
		const char *val, *err; /* err NULL: accepted */
	} t[] = {
		{"[eth0, \"enp*s0\", \"eth[01]\", \"vlan?\", lo]", NULL},
		{"[]", NULL},
		{"[\"eth0:1\"]", "address label"},
		{"[\"eth[0\"]", "without its ']'"},
		{"[\"a b\"]", "letters, digits"},
		{"[\"a/b\"]", "letters, digits"},
		{"[\"..\"]", "not an interface name"},
		{"[\"\"]", "must not be empty"},
		{"[abcdefghijklmnop]", "longer than 15 bytes"},
		{"[a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,a1,a2,"
		 "a3,a4,a5,a6,a7]",
		 "too many entries (max 32)"},
	};
	char text[512], err[CONF_ERR_LEN];
	struct sg_conf *cf;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc;

		snprintf(text, sizeof(text),
			 "zones:\n  - name: a\n    trust: untrusted\n"
			 "    listen: [udp:127.0.0.1:49710]\n"
			 "media:\n  kernel_interfaces: %s\n",
			 t[i].val);
		err[0] = '\0';
		rc = conf_load_str(&cf, "t.yaml", text, strlen(text), err,
				   sizeof(err));
		if (!t[i].err) {
			assert_int_equal(rc, 0);
			conf_free(cf);
			continue;
		}
		assert_int_equal(rc, -EINVAL);
		if (!strstr(err, t[i].err) ||
		    !strstr(err, "media.kernel_interfaces"))
			fail_msg("%s: %s", t[i].val, err);
	}
}

/* ------------------------------------------------------------ IPv6 */

static int udp6(uint16_t *portp)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6,
				 .sin6_port = htons(*portp)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	a.sin6_addr = in6addr_loopback;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	(void)getsockname(fd, (struct sockaddr *)&a, &len);
	*portp = ntohs(a.sin6_port);
	return fd;
}

/* The same on ::1: IPv6 headers, its mandatory UDP checksum. */
static void test_ipv6(void **state)
{
	struct media_cmd c;
	struct mh_relay f;
	struct sockaddr_in6 to = {.sin6_family = AF_INET6};
	uint8_t p[256], q[256];
	uint16_t pport[2];
	unsigned l, i;
	int pa[2];

	(void)state;
	SKIP_WITHOUT_BPF();
	mh_relay_start(&f, false, kf);
	f.s = mem_zalloc(sizeof(*f.s));
	memset(&c, 0, sizeof(c));
	for (l = 0; l < 2; l++) {
		unsigned t;

		for (t = 0; t < 100; t++) {
			uint16_t a = 0, b;

			f.s->fd[l][0] = udp6(&a);
			b = (uint16_t)(a + 1);
			if (!(a & 1) && (f.s->fd[l][1] = udp6(&b)) >= 0) {
				f.rport[l] = a;
				break;
			}
			close(f.s->fd[l][0]);
		}
		assert_true(t < 100);
		f.s->port[l] = f.rport[l];
		f.s->local[l].af = AF_INET6;
		memcpy(f.s->local[l].ip, &in6addr_loopback, 16);
		pport[l] = 0;
		pa[l] = udp6(&pport[l]);
		c.prm.leg[l].sdp[0].af = c.prm.leg[l].sdp[1].af = AF_INET6;
		memcpy(c.prm.leg[l].sdp[0].ip, &in6addr_loopback, 16);
		memcpy(c.prm.leg[l].sdp[1].ip, &in6addr_loopback, 16);
		c.prm.leg[l].sdp[0].port = pport[l];
		c.prm.leg[l].sdp[1].port = (uint16_t)(pport[l] + 1);
		c.prm.leg[l].expect = true;
	}
	mh_relay_hand(&f.r, f.s, &c);
	to.sin6_addr = in6addr_loopback;
	to.sin6_port = htons(f.rport[0]);
	for (i = 0; i < 30; i++) {
		size_t len = mh_rtp(p, (uint16_t)(1 + i), PT_OK, 7);
		struct sockaddr_in6 from;
		socklen_t fl = sizeof(from);
		struct pollfd pfd = {.fd = pa[1], .events = POLLIN};

		assert_int_equal(sendto(pa[0], p, len, 0,
					(struct sockaddr *)&to, sizeof(to)),
				 (ssize_t)len);
		assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
		assert_int_equal(recvfrom(pa[1], q, sizeof(q), 0,
					  (struct sockaddr *)&from, &fl),
				 (ssize_t)len);
		assert_int_equal(memcmp(p, q, len), 0);
		assert_int_equal(ntohs(from.sin6_port), f.rport[1]);
	}
	for (i = 0; i < 40 && MEDIA_LD(f.s->st[0].kernel) != 29; i++)
		(void)poll(NULL, 0, 100);
	assert_int_equal(MEDIA_LD(f.s->st[0].kernel), 29);
	mh_relay_stop(&f);
	for (l = 0; l < 2; l++) {
		close(pa[l]);
		close(f.s->fd[l][0]);
		close(f.s->fd[l][1]);
	}
	mem_free(f.s);
}

static void test_forced_failure(void **state)
{
	struct kfast *k;
	char why[160];

	(void)state;
	kfast_fail = -EPERM;
	assert_int_equal(kfast_open(&k, 16, NULL, 0, why, sizeof(why)), -EPERM);
	assert_null(k);
	assert_non_null(strstr(why, "CAP_BPF"));
	kfast_fail = 0;
}

/* After a failed assertion too: nothing of ours left on the host. */
static int teardown_ns(void **state)
{
	(void)state;
	netns_down();
	return 0;
}

static int teardown_devs(void **state)
{
	(void)state;
	kfast_attach_fail = 0;
	log_set_sink(NULL, NULL);
	(void)ip_batch("link del sgkf%2$d_%1$u\n", FLOOD_DEVS);
	(void)ip_batch("link del sgkfz%2$d\nlink del sgkfy%2$d0\n"
		       "link del sgkfy%2$d1\nnetns del sgkf%2$df\n",
		       1);
	return 0;
}

/* ------------------------------------ parties on private addresses */

/*
 * A PBX on a LAN: each party's SDP address is private (10.N.l.2 behind
 * the veth pairs of netns_up), its SIP from that same address, so the
 * signalling marks it as possibly behind NAT (media.c, leg_params).  Its
 * media comes from exactly its SDP address: the first packet latches
 * it, and the kernel carries the rest.  Leg 1 may have a second
 * address 10.N.2.3 (its "SIP source" in the multi-homed tests), where
 * the latched port is another one.  N: 234-253 (other tests use
 * 100-233), one per test; relay ports from 49000, the parties' 49100-49199 (in
 * their own namespaces).
 */
enum { PV_RELAY = 49000, PV_PARTY = 49100, PV_ALT = 49110, PV_NEW = 49120 };

struct pv {
	struct mh_relay f;
	struct kfast *k;
	struct media_params prm;
	char rel[2][16], par[2][16], alt[16];
	int pa[2];  /* each party's SDP address (RTP) */
	int alt_fd; /* leg 1 on 10.N.2.3:PV_ALT, -1: none */
	uint16_t seq[2];
};

/* Static, not on a test's stack: after a failed assertion the relay
 * thread still runs on it until teardown_pv stops it. */
static struct pv pv_cur;

/* A namespace's devices go some time after it: each test its own N,
 * and none whose subnets some device (a run killed before its
 * teardown, another process) still holds: its route would win. */
static unsigned pv_net(unsigned test)
{
	unsigned i;

	for (i = 0; i < 5; i++) {
		unsigned net = 234u + ((unsigned)getpid() + i) % 5u * 4u + test;
		char cmd[96];

		snprintf(cmd, sizeof(cmd),
			 "ip -o addr show to 10.%u.0.0/16 | grep -q .", net);
		if (system(cmd) != 0)
			return net;
	}
	fail_msg("no free 10.N.0.0/16 for the namespaces");
	return 0;
}

static int pv_bind(const char *ip, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, ip, &a.sin_addr);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Relay port pairs in 49000-49099: another program may hold one (an
 * ephemeral port, a wildcard bind), so the next is tried. */
static void pv_relay_ports(struct pv *v)
{
	uint16_t p;
	unsigned l;

	for (p = PV_RELAY; p < PV_RELAY + 100; p = (uint16_t)(p + 4)) {
		int fd[4];

		for (l = 0; l < 4; l++)
			fd[l] = pv_bind(v->rel[l / 2],
					(uint16_t)(p + 2 * (l / 2) + l % 2));
		if (fd[0] >= 0 && fd[1] >= 0 && fd[2] >= 0 && fd[3] >= 0) {
			for (l = 0; l < 2; l++) {
				v->f.rport[l] = (uint16_t)(p + 2 * l);
				v->f.s->port[l] = v->f.rport[l];
				v->f.s->fd[l][0] = fd[2 * l];
				v->f.s->fd[l][1] = fd[2 * l + 1];
			}
			return;
		}
		for (l = 0; l < 4; l++)
			if (fd[l] >= 0)
				close(fd[l]);
	}
	fail_msg("no relay port pair free in %d-%d", PV_RELAY, PV_RELAY + 99);
}

static void pv_ep(struct media_ep *e, const char *ip, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->af = AF_INET;
	e->port = port;
	inet_pton(AF_INET, ip, e->ip);
}

/* The namespaces, a kfast attached to their devices, the stream (ADD);
 * multi: leg 1's SIP came from 10.N.2.3 (its NAT address). */
static void pv_start(struct pv *v, unsigned test, bool uring, bool multi)
{
	unsigned l, net = pv_net(test);
	char why[160];

	memset(v, 0, sizeof(*v));
	v->alt_fd = v->pa[0] = v->pa[1] = -1;
	if (!netns_up(net)) {
		netns_down();
		print_message("skipped: cannot make network namespaces\n");
		skip();
	}
	snprintf(v->alt, sizeof(v->alt), "10.%u.2.3", net);
	if (multi) {
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "ip -n %s addr add %s/24 dev %.*sp",
			 ns_name[1], v->alt, (int)strlen(dev_name[1]) - 1,
			 dev_name[1]);
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(kfast_open(&v->k, 64, NULL, 0, why, sizeof(why)), 0);
	mh_relay_start(&v->f, uring, v->k);
	v->f.s = mem_zalloc(sizeof(*v->f.s));
	assert_non_null(v->f.s);
	memset(v->f.s->fd, -1, sizeof(v->f.s->fd));
	for (l = 0; l < 2; l++) {
		struct media_leg_prm *lp = &v->prm.leg[l];

		snprintf(v->rel[l], sizeof(v->rel[l]), "10.%u.%u.1", net,
			 l + 1);
		snprintf(v->par[l], sizeof(v->par[l]), "10.%u.%u.2", net,
			 l + 1);
		pv_ep(&v->f.s->local[l], v->rel[l], 0);
		v->pa[l] = udp_in(ns_name[l], v->par[l], PV_PARTY);
		pv_ep(&lp->sdp[0], v->par[l], PV_PARTY);
		pv_ep(&lp->sdp[1], v->par[l], PV_PARTY + 1);
		lp->expect = true;
		lp->is_nat = true; /* private: media.c's leg_params */
		pv_ep(&lp->nat, multi && l ? v->alt : v->par[l], 0);
		v->seq[l] = 1;
	}
	pv_relay_ports(v);
	if (multi)
		v->alt_fd = udp_in(ns_name[1], v->alt, PV_ALT);
	v->prm.pt[0] = 1ULL << PT_OK;
	v->prm.max_seq_jump = 3000;
	v->prm.max_ts_jump = 1440000;
	v->f.s->handed = true;
	v->f.s->relay = &v->f.r;
	{
		struct media_cmd c = {.type = MEDIA_CMD_ADD, .s = v->f.s};

		c.prm = v->prm;
		assert_true(media__relay_cmd(&v->f.r, &c));
	}
}

static void pv_cmd(struct pv *v)
{
	struct media_cmd c = {.type = MEDIA_CMD_UPDATE, .s = v->f.s};

	c.prm = v->prm;
	assert_true(media__relay_cmd(&v->f.r, &c));
}

static void pv_stop(struct pv *v)
{
	unsigned l;

	if (!v->f.s)
		return;
	mh_relay_stop(&v->f);
	for (l = 0; l < 2; l++) {
		unsigned k;

		if (v->pa[l] >= 0)
			close(v->pa[l]);
		for (k = 0; k < 2; k++)
			if (v->f.s->fd[l][k] >= 0 &&
			    !(v->f.s->fd[l][k] & 0x40000000))
				close(v->f.s->fd[l][k]);
	}
	if (v->alt_fd >= 0)
		close(v->alt_fd);
	mem_free(v->f.s);
	v->f.s = NULL;
	kfast_close(v->k);
	netns_down();
}

static int teardown_pv(void **state)
{
	(void)state;
	pv_stop(&pv_cur);
	netns_down();
	return 0;
}

/* One RTP packet of leg L from socket fd to the relay; it arrives
 * intact at `to` (from the relay port facing the other leg), or, to -1,
 * nowhere within 300 ms (nor at `not`, if >= 0). */
static void pv_send(struct pv *v, unsigned L, int fd, int to, int not )
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(v->f.rport[L])};
	uint8_t p[256], q[256];
	size_t len = mh_rtp(p, v->seq[L]++, PT_OK, (uint8_t)(7 + L));
	uint16_t from = 0;

	inet_pton(AF_INET, v->rel[L], &a.sin_addr);
	assert_int_equal(
		sendto(fd, p, len, 0, (struct sockaddr *)&a, sizeof(a)),
		(ssize_t)len);
	if (to < 0) {
		assert_int_equal(
			mh_recv_wait(v->pa[1 - L], q, sizeof(q), 300, NULL),
			-1);
		return;
	}
	assert_int_equal(mh_recv_wait(to, q, sizeof(q), WAIT_MS, &from),
			 (ssize_t)len);
	assert_int_equal(memcmp(p, q, len), 0);
	assert_int_equal(from, v->f.rport[1 - L]);
	if (not >= 0)
		assert_int_equal(mh_recv_wait(not, q, sizeof(q), 0, NULL), -1);
}

/* The map entry of what leg L sends from ip:port. */
static int pv_entry(struct pv *v, unsigned L, const char *ip, uint16_t port,
		    struct kf_val *val)
{
	struct kf_key k;

	memset(&k, 0, sizeof(k));
	k.family = AF_INET;
	k.lport = htons(v->f.rport[L]);
	k.sport = htons(port);
	inet_pton(AF_INET, v->rel[L], k.laddr);
	inet_pton(AF_INET, ip, k.saddr);
	return kfast_get(v->k, &k, val);
}

static void pv_wait_kernel(struct pv *v, unsigned L, uint64_t n)
{
	int t;

	for (t = 0; t < 40 && MEDIA_LD(v->f.s->st[L].kernel) != n; t++)
		(void)poll(NULL, 0, 100);
	assert_int_equal(MEDIA_LD(v->f.s->st[L].kernel), n);
}

/* Both parties private, media from exactly their SDP addresses: the
 * kernel carries both directions once each party was heard; another
 * port of a party's address is refused (the SDP port latched). */
static void private_sdp(bool uring)
{
	struct pv *v = &pv_cur;
	struct kf_val val;
	unsigned i;
	int evil;

	pv_start(v, uring, uring, false);
	/* A first: B not heard yet, A -> B stays with the relay. */
	pv_send(v, 0, v->pa[0], v->pa[1], -1);
	assert_int_equal(pv_entry(v, 0, v->par[0], PV_PARTY, &val), -ENOENT);
	/* B: A was heard, B -> A goes to the kernel at once. */
	pv_send(v, 1, v->pa[1], v->pa[0], -1);
	assert_int_equal(pv_entry(v, 1, v->par[1], PV_PARTY, &val), 0);
	for (i = 0; i < 30; i++) {
		pv_send(v, 0, v->pa[0], v->pa[1], -1);
		pv_send(v, 1, v->pa[1], v->pa[0], -1);
	}
	assert_int_equal(pv_entry(v, 0, v->par[0], PV_PARTY, &val), 0);
	assert_int_equal(val.pkts, 29);
	pv_wait_kernel(v, 0, 29);
	pv_wait_kernel(v, 1, 30);
	assert_int_equal(MEDIA_LD(v->f.s->st[0].pkts), 31);
	/* Another port of A's address: refused, in the kernel's miss and
	 * in the relay (the SDP port latched). */
	evil = udp_in(ns_name[0], v->par[0], PV_PARTY + 2);
	pv_send(v, 0, evil, -1, -1);
	assert_int_equal(MEDIA_LD(v->f.s->st[0].injected), 1);
	close(evil);
	pv_stop(v);
}

static void test_private_sdp_epoll(void **state)
{
	(void)state;
	SKIP_WITHOUT_BPF();
	private_sdp(false);
}

static void test_private_sdp_uring(void **state)
{
	(void)state;
	SKIP_WITHOUT_BPF();
	private_sdp(true);
}

/*
 * B multi-homed: SDP 10.N.2.2, SIP (its NAT address) 10.N.2.3.  B sends
 * from 10.N.2.3 (latched), the kernel forwards A's media there; then B
 * sends from its SDP address (always accepted): the relay answers
 * there, and the kernel entry to the old address is gone at once, none
 * of A's packets reach it again; later the kernel carries A -> B to the
 * new address.
 */
static void test_private_moved(void **state)
{
	struct pv *v = &pv_cur;
	struct kf_val val;
	struct in_addr ia;
	unsigned i;
	int t;

	(void)state;
	SKIP_WITHOUT_BPF();
	pv_start(v, 2, false, true);
	pv_send(v, 0, v->pa[0], v->pa[1], -1);
	pv_send(v, 1, v->alt_fd, v->pa[0], -1);
	for (i = 0; i < 6; i++)
		pv_send(v, 0, v->pa[0], v->alt_fd, v->pa[1]);
	assert_int_equal(pv_entry(v, 0, v->par[0], PV_PARTY, &val), 0);
	assert_int_equal(val.pkts, 5);
	assert_int_equal(ntohs(val.ndport), PV_ALT);
	/* B from its SDP address: A -> B leaves the kernel before the
	 * relay forwards B's packet. */
	pv_send(v, 1, v->pa[1], v->pa[0], -1);
	assert_int_equal(pv_entry(v, 0, v->par[0], PV_PARTY, &val), -ENOENT);
	/* Every one of A's packets to the new address, none to the old;
	 * within KF_RETRY_MS the kernel has the direction again. */
	for (t = 0; t < 30; t++) {
		pv_send(v, 0, v->pa[0], v->pa[1], v->alt_fd);
		if (pv_entry(v, 0, v->par[0], PV_PARTY, &val) == 0 &&
		    val.pkts > 0)
			break;
		(void)poll(NULL, 0, 100);
	}
	assert_true(t < 30);
	assert_int_equal(ntohs(val.ndport), PV_PARTY);
	inet_pton(AF_INET, v->par[1], &ia);
	assert_int_equal(memcmp(val.ndst, &ia, 4), 0);
	for (i = 0; i < 5; i++)
		pv_send(v, 0, v->pa[0], v->pa[1], v->alt_fd);
	assert_int_equal(MEDIA_LD(v->f.s->st[1].injected), 0);
	pv_stop(v);
}

/*
 * Re-INVITE: B's SDP moves to another port, then B goes on hold
 * (recvonly: A still sends, B does not).  Each UPDATE removes the
 * directions; A's media follows the new SDP address at once (never
 * the kernel's old entry), the kernel takes A -> B again once B was
 * heard at its new address; B on hold: B -> A is not installed again.
 */
static void test_private_reinvite(void **state)
{
	struct pv *v = &pv_cur;
	struct kf_val val;
	unsigned i;
	int moved;

	(void)state;
	SKIP_WITHOUT_BPF();
	pv_start(v, 3, true, false);
	pv_send(v, 0, v->pa[0], v->pa[1], -1);
	pv_send(v, 1, v->pa[1], v->pa[0], -1);
	for (i = 0; i < 5; i++)
		pv_send(v, 0, v->pa[0], v->pa[1], -1);
	assert_int_equal(pv_entry(v, 0, v->par[0], PV_PARTY, &val), 0);
	assert_int_equal(val.pkts, 4);
	moved = udp_in(ns_name[1], v->par[1], PV_NEW);
	pv_ep(&v->prm.leg[1].sdp[0], v->par[1], PV_NEW);
	pv_ep(&v->prm.leg[1].sdp[1], v->par[1], PV_NEW + 1);
	pv_cmd(v);
	for (i = 0; i < 40; i++) {
		if (pv_entry(v, 0, v->par[0], PV_PARTY, &val) == -ENOENT)
			break;
		(void)poll(NULL, 0, 50);
	}
	assert_int_equal(pv_entry(v, 0, v->par[0], PV_PARTY, &val), -ENOENT);
	/* B not heard at its new address: A -> B stays with the relay,
	 * which sends to the new SDP address. */
	for (i = 0; i < 3; i++)
		pv_send(v, 0, v->pa[0], moved, v->pa[1]);
	assert_int_equal(pv_entry(v, 0, v->par[0], PV_PARTY, &val), -ENOENT);
	pv_send(v, 1, moved, v->pa[0], -1);
	for (i = 0; i < 5; i++)
		pv_send(v, 0, v->pa[0], moved, v->pa[1]);
	assert_int_equal(pv_entry(v, 0, v->par[0], PV_PARTY, &val), 0);
	assert_int_equal(val.pkts, 4);
	assert_int_equal(ntohs(val.ndport), PV_NEW);
	assert_int_equal(pv_entry(v, 1, v->par[1], PV_NEW, &val), 0);
	/* Hold: B recvonly. */
	v->prm.leg[1].expect = false;
	pv_cmd(v);
	for (i = 0; i < 40; i++) {
		if (pv_entry(v, 1, v->par[1], PV_NEW, &val) == -ENOENT)
			break;
		(void)poll(NULL, 0, 50);
	}
	assert_int_equal(pv_entry(v, 1, v->par[1], PV_NEW, &val), -ENOENT);
	for (i = 0; i < 3; i++) {
		pv_send(v, 0, v->pa[0], moved, v->pa[1]);
		pv_send(v, 1, moved, v->pa[0], -1);
	}
	assert_int_equal(pv_entry(v, 1, v->par[1], PV_NEW, &val), -ENOENT);
	assert_int_equal(pv_entry(v, 0, v->par[0], PV_PARTY, &val), 0);
	close(moved);
	pv_stop(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_relays_epoll),
		cmocka_unit_test(test_kernel_relays_uring),
		cmocka_unit_test(test_stranger),
		cmocka_unit_test(test_handed_up),
		cmocka_unit_test(test_checksums),
		cmocka_unit_test(test_policing),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_close_detaches),
		cmocka_unit_test_teardown(test_routed, teardown_ns),
		cmocka_unit_test_teardown(test_late_interface, teardown_ns),
		cmocka_unit_test_teardown(test_late_flood, teardown_devs),
		cmocka_unit_test_teardown(test_late_denied, teardown_devs),
		cmocka_unit_test_teardown(test_list_empty, teardown_kw),
		cmocka_unit_test_teardown(test_list_one, teardown_kw),
		cmocka_unit_test_teardown(test_list_late_pattern, teardown_kw),
		cmocka_unit_test_teardown(test_list_rename, teardown_kw),
		cmocka_unit_test_teardown(test_list_unframed, teardown_kw),
		cmocka_unit_test(test_list_bad),
		cmocka_unit_test_teardown(test_list_on_refuses, teardown_kw),
		cmocka_unit_test_teardown(test_list_unseen, teardown_kw),
		cmocka_unit_test(test_list_conf),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_forced_failure),
		cmocka_unit_test_teardown(test_private_sdp_epoll, teardown_pv),
		cmocka_unit_test_teardown(test_private_sdp_uring, teardown_pv),
		cmocka_unit_test_teardown(test_private_moved, teardown_pv),
		cmocka_unit_test_teardown(test_private_reinvite, teardown_pv),
	};
	int rc;

	if (kfast_open(&kf, 64, NULL, 0, kf_why, sizeof(kf_why)) != 0)
		kf = NULL;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	kfast_close(kf);
	assert_no_leaks();
	return rc;
}
