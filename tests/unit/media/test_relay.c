/*
 * test_relay.c - the relay's per-packet decisions (media/relay.c,
 * media__relay_packet) without sockets: source binding from the first
 * packet (SDP address, NAT latching to the SIP source IP only), RTP and
 * RTCP sanity, payload types, continuity anomalies, policing with a fake
 * clock, rtcp-mux demultiplexing, CNAME scrubbing, and the notes
 * (events) the signalling thread gets, rate-limited.
 */
#include <arpa/inet.h>

#include "test.h"

#include "media/media_int.h"
#include "media/rtp.h"

static struct media_ep ep(const char *ip, uint16_t port)
{
	struct media_ep e = {.af = AF_INET, .port = port};

	inet_pton(AF_INET, ip, e.ip);
	return e;
}

struct fix {
	struct media_relay r;
	struct media_stream s;
};

static void setup(struct fix *f)
{
	struct media_leg_prm *a = &f->s.prm.leg[0], *b = &f->s.prm.leg[1];
	unsigned l, k;

	memset(f, 0, sizeof(*f));
	assert_int_equal(
		media__ring_init(&f->r.out, 64, sizeof(struct media_note)), 0);
	a->sdp[0] = ep("203.0.113.5", 4000);
	a->sdp[1] = ep("203.0.113.5", 4001);
	a->untrusted = true;
	b->sdp[0] = ep("192.0.2.9", 6000);
	b->sdp[1] = ep("192.0.2.9", 6001);
	f->s.prm.pt[0] = 1ULL << 0 | 1ULL << 8;
	f->s.prm.pt[1] = 1ULL << (101 - 64);
	f->s.prm.max_seq_jump = 3000;
	f->s.prm.max_ts_jump = 1440000;
	f->s.prm.scrub_cname = true;
	for (l = 0; l < 2; l++)
		for (k = 0; k < 2; k++) {
			f->s.fd[l][k] = (int)(10 * l + k + 100);
			f->s.sock[l][k].s = &f->s;
			f->s.sock[l][k].leg = (uint8_t)l;
			f->s.sock[l][k].comp = (uint8_t)k;
			f->s.rt[l].dst[k] = f->s.prm.leg[l].sdp[k];
		}
	f->r.now = 1000;
}

static void teardown(struct fix *f)
{
	media__ring_fini(&f->r.out);
}

static size_t rtp(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ts,
		  uint32_t ssrc)
{
	memset(p, 0, 172);
	p[0] = 0x80;
	p[1] = pt;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	p[8] = (uint8_t)(ssrc >> 24);
	p[11] = (uint8_t)ssrc;
	return 172;
}

/* Run one packet; returns whether it is forwarded. */
static bool run(struct fix *f, unsigned leg, unsigned comp, struct media_ep src,
		uint8_t *p, size_t n, int *fdp, struct media_ep *dstp)
{
	int fd = -1;
	struct media_ep dst;
	bool fwd;

	media__relay_packet(&f->r, &f->s.sock[leg][comp], &src, p, &n, &fd,
			    &dst, &fwd);
	if (fdp)
		*fdp = fd;
	if (dstp)
		*dstp = dst;
	return fwd;
}

static unsigned notes(struct fix *f, enum media_note_type t)
{
	struct media_note n;
	unsigned k = 0;

	while (media__ring_pop(&f->r.out, &n))
		if (n.type == t)
			k++;
	return k;
}

static void test_source_binding(void **state)
{
	struct fix f;
	uint8_t p[200];
	struct media_ep dst;
	int fd;

	(void)state;
	setup(&f);
	/* The SDP source passes, out of the other leg's socket. */
	assert_true(run(&f, 0, 0, ep("203.0.113.5", 4000), p,
			rtp(p, 0, 1, 160, 7), &fd, &dst));
	assert_int_equal(fd, 110);
	assert_true(media__ep_eq(&dst, &f.s.prm.leg[1].sdp[0]));
	/* Same IP, other port; other IP same port: injected. */
	assert_false(run(&f, 0, 0, ep("203.0.113.5", 4002), p,
			 rtp(p, 0, 2, 320, 7), NULL, NULL));
	assert_false(run(&f, 0, 0, ep("198.51.100.66", 4000), p,
			 rtp(p, 0, 2, 320, 7), NULL, NULL));
	/* The callee's source sent to the caller's port: injected too. */
	assert_false(run(&f, 0, 0, ep("192.0.2.9", 6000), p,
			 rtp(p, 0, 2, 320, 7), NULL, NULL));
	assert_int_equal(f.s.st[0].injected, 3);
	assert_int_equal(f.s.st[0].pkts, 1);
	/* One note per second and leg. */
	assert_int_equal(notes(&f, MEDIA_N_INJECT), 1);
	f.r.now += 1000;
	assert_false(run(&f, 0, 0, ep("198.51.100.66", 4000), p,
			 rtp(p, 0, 2, 320, 7), NULL, NULL));
	assert_int_equal(notes(&f, MEDIA_N_INJECT), 1);
	/* RTCP from the a=rtcp port to the RTCP socket. */
	assert_true(
		run(&f, 1, 1, ep("192.0.2.9", 6001), p,
		    (size_t)(p[0] = 0x80, p[1] = 201, p[2] = 0, p[3] = 1, 8),
		    &fd, NULL));
	assert_int_equal(fd, 101);
	teardown(&f);
}

static void test_nat_latch(void **state)
{
	struct fix f;
	uint8_t p[200];
	struct media_ep dst;

	(void)state;
	setup(&f);
	/* Behind NAT: SDP says 10.0.0.5, SIP came from 198.51.100.7. */
	f.s.prm.leg[0].sdp[0] = ep("10.0.0.5", 4000);
	f.s.prm.leg[0].is_nat = true;
	f.s.prm.leg[0].nat = ep("198.51.100.7", 0);
	/* Another IP cannot latch, even first. */
	assert_false(run(&f, 0, 0, ep("198.51.100.66", 3333), p,
			 rtp(p, 0, 1, 160, 7), NULL, NULL));
	/* The SIP source IP latches with its port... */
	assert_true(run(&f, 0, 0, ep("198.51.100.7", 61000), p,
			rtp(p, 0, 2, 320, 7), NULL, NULL));
	/* ... and then only that port. */
	assert_false(run(&f, 0, 0, ep("198.51.100.7", 61002), p,
			 rtp(p, 0, 3, 480, 7), NULL, NULL));
	assert_true(run(&f, 0, 0, ep("198.51.100.7", 61000), p,
			rtp(p, 0, 3, 480, 7), NULL, NULL));
	/* Media to it goes where it came from (symmetric RTP). */
	assert_true(run(&f, 1, 0, ep("192.0.2.9", 6000), p,
			rtp(p, 0, 1, 160, 9), NULL, &dst));
	assert_true(media__ep_eq(&dst, &(struct media_ep){0}) == false);
	assert_true(media__ep_eq(&dst, &f.s.rt[0].latched[0]));
	teardown(&f);
}

static void test_sanity(void **state)
{
	struct fix f;
	uint8_t p[200];
	struct media_ep a = ep("203.0.113.5", 4000);

	(void)state;
	setup(&f);
	assert_true(run(&f, 0, 0, a, p, rtp(p, 0, 1, 160, 7), NULL, NULL));
	assert_true(run(&f, 0, 0, a, p, rtp(p, 101, 2, 160, 7), NULL, NULL));
	/* Payload type 9 was not negotiated. */
	assert_false(run(&f, 0, 0, a, p, rtp(p, 9, 3, 320, 7), NULL, NULL));
	/* Version 0 and a short packet: malformed. */
	rtp(p, 0, 3, 320, 7);
	p[0] = 0;
	assert_false(run(&f, 0, 0, a, p, 172, NULL, NULL));
	assert_false(run(&f, 0, 0, a, p, 5, NULL, NULL));
	assert_int_equal(f.s.st[0].dropped, 3);
	/* Continuity anomalies: reported, forwarded (anomaly_drop off). */
	assert_true(run(&f, 0, 0, a, p, rtp(p, 0, 9000, 480, 7), NULL, NULL));
	assert_true(run(&f, 0, 0, a, p, rtp(p, 0, 9001, 480, 8), NULL, NULL));
	assert_true(
		run(&f, 0, 0, a, p, rtp(p, 0, 9002, 99000000, 8), NULL, NULL));
	assert_int_equal(f.s.st[0].anomalies, 3);
	/* With anomaly_drop: dropped, and the state follows. */
	f.s.prm.anomaly_drop = true;
	assert_false(run(&f, 0, 0, a, p, rtp(p, 0, 9003, 160, 9), NULL, NULL));
	assert_true(run(&f, 0, 0, a, p, rtp(p, 0, 9004, 320, 9), NULL, NULL));
	teardown(&f);
}

static void test_policing(void **state)
{
	struct fix f;
	uint8_t p[200];
	struct media_ep a = ep("203.0.113.5", 4000);
	unsigned i, passed = 0;

	(void)state;
	setup(&f);
	f.s.prm.leg[0].bw = 1720; /* ten packets per second */
	f.s.rt[0].tokens = 1720;
	f.s.rt[0].tok_ms = f.r.now;
	for (i = 0; i < 20; i++)
		passed += run(&f, 0, 0, a, p,
			      rtp(p, 0, (uint16_t)i, 160 * i, 7), NULL, NULL);
	assert_int_equal(passed, 10);
	assert_int_equal(f.s.st[0].policed, 10);
	f.r.now += 500; /* half a second: five more */
	for (i = 20, passed = 0; i < 40; i++)
		passed += run(&f, 0, 0, a, p,
			      rtp(p, 0, (uint16_t)i, 160 * i, 7), NULL, NULL);
	assert_int_equal(passed, 5);
	teardown(&f);
}

static void test_mux_and_scrub(void **state)
{
	struct fix f;
	uint8_t p[200];
	struct media_ep a = ep("203.0.113.5", 4000);
	static const uint8_t sdes[] = {
		0x80, 201, 0, 1, 1, 2, 3,   4,   0x81, 202, 0, 3,
		1,    2,   3, 4, 1, 3, 'b', 'o', 'b',  0,   0, 0,
	};
	int fd;

	(void)state;
	setup(&f);
	f.s.prm.leg[0].mux = f.s.prm.leg[1].mux = true;
	/* As media.c builds it: RTCP expected from the RTP address. */
	f.s.prm.leg[0].sdp[1] = f.s.prm.leg[0].sdp[0];
	f.s.prm.leg[1].sdp[1] = f.s.prm.leg[1].sdp[0];
	/* RTCP on the RTP port is told apart by its packet type... */
	memcpy(p, sdes, sizeof(sdes));
	assert_true(run(&f, 0, 0, a, p, sizeof(sdes), &fd, NULL));
	assert_int_equal(fd, 110); /* the other leg muxes too */
	assert_int_equal(f.s.st[0].rtcp, 1);
	/* ... and the untrusted side's CNAME is scrubbed. */
	assert_int_equal(memcmp(p + 18, "xxx", 3), 0);
	/* RTP still passes. */
	assert_true(run(&f, 0, 0, a, p, rtp(p, 0, 1, 160, 7), NULL, NULL));
	/* The trusted side keeps its CNAME. */
	memcpy(p, sdes, sizeof(sdes));
	assert_true(run(&f, 1, 0, ep("192.0.2.9", 6000), p, sizeof(sdes), NULL,
			NULL));
	assert_int_equal(memcmp(p + 18, "bob", 3), 0);
	teardown(&f);
}

/* A party behind "NAT" because its SDP address is private: a PBX on a
 * LAN whose SIP comes from that same address.  Its first packet, from
 * exactly the SDP address, latches the port: the IP's other ports are
 * refused from then on, and its address counts as heard (the kernel
 * path may carry media to it).  Multi-homed (SIP from another private
 * address): the SDP address is heard without latching, the SIP
 * address may still latch one port (DESIGN.md, source binding), and
 * media follows the last accepted source. */
static void test_nat_latch_sdp(void **state)
{
	struct fix f;
	uint8_t p[200];
	struct media_ep dst, nat;

	(void)state;
	setup(&f);
	f.s.prm.leg[0].sdp[0] = ep("10.0.0.5", 4000);
	f.s.prm.leg[0].is_nat = true;
	f.s.prm.leg[0].nat = ep("10.0.0.5", 0);
	f.s.rt[0].dst[0] = f.s.prm.leg[0].sdp[0];
	assert_false(f.s.rt[0].heard[0]);
	assert_true(run(&f, 0, 0, ep("10.0.0.5", 4000), p, rtp(p, 0, 1, 160, 7),
			NULL, NULL));
	assert_true(
		media__ep_eq(&f.s.rt[0].latched[0], &f.s.prm.leg[0].sdp[0]));
	assert_true(f.s.rt[0].heard[0]);
	assert_false(run(&f, 0, 0, ep("10.0.0.5", 4002), p,
			 rtp(p, 0, 2, 320, 7), NULL, NULL));
	assert_int_equal(f.s.st[0].injected, 1);
	assert_true(run(&f, 0, 0, ep("10.0.0.5", 4000), p, rtp(p, 0, 2, 320, 7),
			NULL, NULL));
	assert_true(run(&f, 1, 0, ep("192.0.2.9", 6000), p,
			rtp(p, 0, 1, 160, 9), NULL, &dst));
	assert_true(media__ep_eq(&dst, &f.s.prm.leg[0].sdp[0]));
	teardown(&f);

	setup(&f);
	f.s.prm.leg[0].sdp[0] = ep("10.0.0.5", 4000);
	f.s.prm.leg[0].is_nat = true;
	f.s.prm.leg[0].nat = ep("10.0.0.6", 0);
	f.s.rt[0].dst[0] = f.s.prm.leg[0].sdp[0];
	assert_true(run(&f, 0, 0, ep("10.0.0.5", 4000), p, rtp(p, 0, 1, 160, 7),
			NULL, NULL));
	assert_int_equal(f.s.rt[0].latched[0].af, 0);
	assert_true(f.s.rt[0].heard[0]);
	assert_true(run(&f, 0, 0, ep("10.0.0.6", 5000), p, rtp(p, 0, 2, 320, 7),
			NULL, NULL));
	assert_true(run(&f, 1, 0, ep("192.0.2.9", 6000), p,
			rtp(p, 0, 1, 160, 9), NULL, &dst));
	nat = ep("10.0.0.6", 5000);
	assert_true(media__ep_eq(&dst, &nat));
	assert_false(run(&f, 0, 0, ep("10.0.0.6", 5002), p,
			 rtp(p, 0, 3, 480, 7), NULL, NULL));
	assert_true(run(&f, 0, 0, ep("10.0.0.5", 4000), p, rtp(p, 0, 3, 480, 7),
			NULL, NULL));
	assert_true(run(&f, 1, 0, ep("192.0.2.9", 6000), p,
			rtp(p, 0, 2, 320, 9), NULL, &dst));
	assert_true(media__ep_eq(&dst, &f.s.prm.leg[0].sdp[0]));
	teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_binding),
		cmocka_unit_test(test_nat_latch),
		cmocka_unit_test(test_sanity),
		cmocka_unit_test(test_policing),
		cmocka_unit_test(test_mux_and_scrub),
		cmocka_unit_test(test_nat_latch_sdp),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
