/*
 * test_relay_uring.c - the io_uring relay backend (media/relay_uring.c)
 * with a real relay thread and real loopback sockets: packets relayed
 * both ways (RTP and RTCP) out of the other leg's port, packets from a
 * source the signalling did not name dropped and reported, a stream
 * closed (DONE only after its receives ended, its ports free again),
 * a stream still held at STOP, and the fallback to epoll when io_uring
 * cannot be set up (forced with the media__uring_fail hook, and for
 * real with a seccomp filter refusing io_uring_setup in a child).  The same
 * relay checks run in both backends, so the fallback runs the same
 * traffic.  Waits are bounded polls on the sockets, never sleeps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

#include "media/media_int.h"
#include "call_helper.h"

enum { WAIT_MS = 2000 };

struct fix {
	struct media_relay r;
	struct media_stream *s;
	int peer[2][2];    /* [leg][comp]: the two parties' sockets */
	uint16_t rport[2]; /* relay's even port facing each leg */
	int orig[2][2];    /* the descriptors handed over */
	int evout;
};

static void start(struct fix *f, bool uring)
{
	memset(f, 0, sizeof(*f));
	f->r.epfd = f->r.evin = -1;
	f->evout = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	f->r.evout = f->evout;
	f->r.want_uring = uring;
	assert_int_equal(media__relay_start(&f->r, 0), 0);
}

static void stop(struct fix *f)
{
	media__relay_stop(&f->r);
	media__relay_drain(&f->r);
	media__relay_fini(&f->r);
	close(f->evout);
}

/* A stream between two parties on loopback, handed to the relay. */
static void add_stream(struct fix *f)
{
	struct media_cmd c;
	unsigned l, k;

	f->s = mem_zalloc(sizeof(*f->s));
	assert_non_null(f->s);
	memset(&c, 0, sizeof(c));
	for (l = 0; l < 2; l++) {
		mh_port_pair(f->s->fd[l], &f->rport[l]);
		for (k = 0; k < 2; k++) {
			f->orig[l][k] = f->s->fd[l][k];
			f->peer[l][k] = mh_udp(0, &c.prm.leg[l].sdp[k]);
			c.prm.leg[l].expect = true;
		}
	}
	c.prm.pt[0] = 1ULL << 0;
	c.prm.max_seq_jump = 3000;
	c.prm.max_ts_jump = 1440000;
	c.type = MEDIA_CMD_ADD;
	c.s = f->s;
	f->s->handed = true;
	f->s->relay = &f->r;
	assert_true(media__relay_cmd(&f->r, &c));
}

static void close_peers(struct fix *f)
{
	unsigned l, k;

	for (l = 0; l < 2; l++)
		for (k = 0; k < 2; k++)
			close(f->peer[l][k]);
}

static void send_to(int fd, uint16_t port, const uint8_t *p, size_t n)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(sendto(fd, p, n, 0, (struct sockaddr *)&a, sizeof(a)),
			 (ssize_t)n);
}

/* One datagram on fd within WAIT_MS (or ms): its length, -1 if none;
 * the sender's port in *fromp. */
static ssize_t recv_wait(int fd, uint8_t *p, size_t n, int ms, uint16_t *fromp)
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

static size_t rtp(uint8_t *p, uint16_t seq)
{
	memset(p, 0, 172);
	p[0] = 0x80;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[7] = (uint8_t)(seq * 160);
	p[6] = (uint8_t)((seq * 160) >> 8);
	p[11] = 7;
	return 172;
}

/* RTCP receiver report, no blocks. */
static const uint8_t rr[8] = {0x80, 201, 0, 1, 0, 0, 0, 9};

/* n RTP packets from leg `from`, all arrive at the other party from the
 * relay port facing it. */
static void relay_some(struct fix *f, unsigned from, unsigned n, uint16_t seq0)
{
	unsigned o = 1 - from, i;
	uint8_t p[256], q[256];
	uint16_t src;

	for (i = 0; i < n; i++) {
		size_t len = rtp(p, (uint16_t)(seq0 + i));

		send_to(f->peer[from][0], f->rport[from], p, len);
		assert_int_equal(
			recv_wait(f->peer[o][0], q, sizeof(q), WAIT_MS, &src),
			(ssize_t)len);
		assert_int_equal(memcmp(p, q, len), 0);
		assert_int_equal(src, f->rport[o]);
	}
}

static bool wait_done(struct fix *f, struct media_stream *s)
{
	struct pollfd pfd = {.fd = f->evout, .events = POLLIN};
	struct media_note n;
	int t;

	for (t = 0; t < 50; t++) {
		while (media__ring_pop(&f->r.out, &n))
			if (n.type == MEDIA_N_DONE && n.s == s)
				return true;
		(void)poll(&pfd, 1, 100);
		{
			uint64_t v;

			(void)!read(f->evout, &v, sizeof(v));
		}
	}
	return false;
}

static void test_relay_both_ways(void **state)
{
	struct fix f;
	uint8_t q[64];
	unsigned l, k;

	(void)state;
	start(&f, true);
	assert_non_null(f.r.u);
	add_stream(&f);
	relay_some(&f, 0, 20, 1);
	relay_some(&f, 1, 20, 100);
	/* RTCP goes from RTCP port to RTCP port. */
	send_to(f.peer[1][1], (uint16_t)(f.rport[1] + 1), rr, sizeof(rr));
	assert_int_equal(recv_wait(f.peer[0][1], q, sizeof(q), WAIT_MS, NULL),
			 (ssize_t)sizeof(rr));
	assert_int_equal(MEDIA_LD(f.s->st[0].pkts), 20);
	assert_int_equal(MEDIA_LD(f.s->st[1].pkts), 21);
	assert_int_equal(MEDIA_LD(f.s->st[1].rtcp), 1);
	/* The sockets left the process descriptor table. */
	for (l = 0; l < 2; l++)
		for (k = 0; k < 2; k++)
			assert_int_equal(fcntl(f.orig[l][k], F_GETFD), -1);
	/* STOP with the stream held: the ring takes its sockets along. */
	stop(&f);
	for (l = 0; l < 2; l++)
		for (k = 0; k < 2; k++)
			assert_int_equal(f.s->fd[l][k], -1);
	close_peers(&f);
	mem_free(f.s);
}

/* A send's buffer goes back to the ring at its submission (no
 * completion for a send that worked): more packets than the ring has
 * buffers, one by one and in bursts, all arrive intact and in order. */
static void test_buffers_come_back(void **state)
{
	struct fix f;
	uint8_t p[256], q[256];
	unsigned b, i;

	(void)state;
	start(&f, true);
	assert_non_null(f.r.u);
	add_stream(&f);
	relay_some(&f, 0, 100, 1);
	for (b = 0; b < 25; b++) {
		for (i = 0; i < 200; i++) {
			size_t len = rtp(p, (uint16_t)(6000 + b * 200 + i));

			send_to(f.peer[0][0], f.rport[0], p, len);
		}
		for (i = 0; i < 200; i++) {
			size_t len = rtp(p, (uint16_t)(6000 + b * 200 + i));

			assert_int_equal(recv_wait(f.peer[1][0], q, sizeof(q),
						   WAIT_MS, NULL),
					 (ssize_t)len);
			assert_int_equal(memcmp(p, q, len), 0);
		}
	}
	assert_int_equal(MEDIA_LD(f.s->st[0].pkts), 100 + 25 * 200);
	stop(&f);
	close_peers(&f);
	mem_free(f.s);
}

static void test_drop_injected(void **state)
{
	struct fix f;
	uint8_t p[256], q[256];
	int evil;

	(void)state;
	start(&f, true);
	add_stream(&f);
	evil = mh_udp(0, NULL);
	/* From a port the SDP did not name: dropped, counted, reported. */
	send_to(evil, f.rport[0], p, rtp(p, 1));
	assert_int_equal(recv_wait(f.peer[1][0], q, sizeof(q), 200, NULL), -1);
	/* Garbage from the right source: dropped too. */
	memset(p, 0xff, 40);
	send_to(f.peer[0][0], f.rport[0], p, 40);
	assert_int_equal(recv_wait(f.peer[1][0], q, sizeof(q), 200, NULL), -1);
	/* The real party still gets through. */
	relay_some(&f, 0, 3, 10);
	assert_int_equal(MEDIA_LD(f.s->st[0].injected), 1);
	assert_int_equal(MEDIA_LD(f.s->st[0].dropped), 1);
	assert_int_equal(MEDIA_LD(f.s->st[0].pkts), 3);
	close(evil);
	stop(&f);
	close_peers(&f);
	mem_free(f.s);
}

static void test_close_stream(void **state)
{
	struct media_cmd c = {.type = MEDIA_CMD_DEL};
	struct fix f;
	unsigned l, k, round;

	(void)state;
	start(&f, true);
	/* Twice: the fixed-table slots of the first are reused. */
	for (round = 0; round < 2; round++) {
		add_stream(&f);
		relay_some(&f, 0, 2, 1);
		c.s = f.s;
		assert_true(media__relay_cmd(&f.r, &c));
		assert_true(wait_done(&f, f.s));
		for (l = 0; l < 2; l++) {
			int fd[2];

			for (k = 0; k < 2; k++)
				assert_int_equal(f.s->fd[l][k], -1);
			/* The port pair is free: the sockets are closed. */
			fd[0] = mh_udp(f.rport[l], NULL);
			fd[1] = mh_udp((uint16_t)(f.rport[l] + 1), NULL);
			assert_true(fd[0] >= 0 && fd[1] >= 0);
			close(fd[0]);
			close(fd[1]);
		}
		close_peers(&f);
		mem_free(f.s);
	}
	stop(&f);
}

static void test_fallback_epoll(void **state)
{
	struct fix f;

	(void)state;
	media__uring_fail = -EPERM; /* as a seccomp policy would answer */
	start(&f, true);
	media__uring_fail = 0;
	assert_null(f.r.u);
	add_stream(&f);
	relay_some(&f, 0, 5, 1);
	relay_some(&f, 1, 5, 50);
	stop(&f);
	/* epoll: the descriptors are still the stream's to close. */
	{
		unsigned l, k;

		for (l = 0; l < 2; l++)
			for (k = 0; k < 2; k++) {
				assert_true(f.s->fd[l][k] >= 0);
				close(f.s->fd[l][k]);
			}
	}
	close_peers(&f);
	mem_free(f.s);
}

/* As in a container whose seccomp policy refuses io_uring: in a child
 * (the filter cannot be undone), io_uring_setup answers EPERM; the
 * relay must run on epoll and relay.  Exit status: 0 if so. */
static int child_seccomp(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	struct fix f;
	uint8_t p[256], q[256];
	bool ok;

	if (!ctx ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
			     SCMP_SYS(io_uring_setup), 0) != 0 ||
	    seccomp_load(ctx) != 0)
		return 2;
	seccomp_release(ctx);
	start(&f, true);
	if (f.r.u)
		return 3;
	add_stream(&f);
	send_to(f.peer[0][0], f.rport[0], p, rtp(p, 1));
	ok = recv_wait(f.peer[1][0], q, sizeof(q), WAIT_MS, NULL) == 172;
	stop(&f);
	return ok ? 0 : 4;
}

static void test_fallback_seccomp(void **state)
{
	int st = 0;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_seccomp());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relay_both_ways),
		cmocka_unit_test(test_buffers_come_back),
		cmocka_unit_test(test_drop_injected),
		cmocka_unit_test(test_close_stream),
		cmocka_unit_test(test_fallback_epoll),
		cmocka_unit_test(test_fallback_seccomp),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
