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
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

#include "media/media_int.h"
#include "call_helper.h"

enum { WAIT_MS = 2000 };

/* RTCP receiver report, no blocks. */
static const uint8_t rr[8] = {0x80, 201, 0, 1, 0, 0, 0, 9};

static void test_relay_both_ways(void **state)
{
	struct mh_relay f;
	uint8_t q[64];
	unsigned l, k;

	(void)state;
	mh_relay_start(&f, true, NULL);
	assert_non_null(f.r.u);
	mh_relay_add_stream(&f, 0);
	mh_relay_some(&f, 0, 20, 1);
	mh_relay_some(&f, 1, 20, 100);
	/* RTCP goes from RTCP port to RTCP port. */
	mh_send_to(f.peer[1][1], (uint16_t)(f.rport[1] + 1), rr, sizeof(rr));
	assert_int_equal(
		mh_recv_wait(f.peer[0][1], q, sizeof(q), WAIT_MS, NULL),
		(ssize_t)sizeof(rr));
	assert_int_equal(MEDIA_LD(f.s->st[0].pkts), 20);
	assert_int_equal(MEDIA_LD(f.s->st[1].pkts), 21);
	assert_int_equal(MEDIA_LD(f.s->st[1].rtcp), 1);
	/* The sockets left the process descriptor table. */
	for (l = 0; l < 2; l++)
		for (k = 0; k < 2; k++)
			assert_int_equal(fcntl(f.orig[l][k], F_GETFD), -1);
	/* STOP with the stream held: the ring takes its sockets along. */
	mh_relay_stop(&f);
	for (l = 0; l < 2; l++)
		for (k = 0; k < 2; k++)
			assert_int_equal(f.s->fd[l][k], -1);
	mh_relay_close_peers(&f);
	mem_free(f.s);
}

/* A send's buffer goes back to the ring at its submission (no
 * completion for a send that worked): more packets than the ring has
 * buffers, one by one and in bursts, all arrive intact and in order. */
static void test_buffers_come_back(void **state)
{
	struct mh_relay f;
	uint8_t p[256], q[256];
	unsigned b, i;

	(void)state;
	mh_relay_start(&f, true, NULL);
	assert_non_null(f.r.u);
	mh_relay_add_stream(&f, 0);
	mh_relay_some(&f, 0, 100, 1);
	for (b = 0; b < 25; b++) {
		for (i = 0; i < 200; i++) {
			size_t len =
				mh_rtp(p, (uint16_t)(6000 + b * 200 + i), 0, 7);

			mh_send_to(f.peer[0][0], f.rport[0], p, len);
		}
		for (i = 0; i < 200; i++) {
			size_t len =
				mh_rtp(p, (uint16_t)(6000 + b * 200 + i), 0, 7);

			assert_int_equal(mh_recv_wait(f.peer[1][0], q,
						      sizeof(q), WAIT_MS, NULL),
					 (ssize_t)len);
			assert_int_equal(memcmp(p, q, len), 0);
		}
	}
	assert_int_equal(MEDIA_LD(f.s->st[0].pkts), 100 + 25 * 200);
	mh_relay_stop(&f);
	mh_relay_close_peers(&f);
	mem_free(f.s);
}

static void test_drop_injected(void **state)
{
	struct mh_relay f;
	uint8_t p[256], q[256];
	int evil;

	(void)state;
	mh_relay_start(&f, true, NULL);
	mh_relay_add_stream(&f, 0);
	evil = mh_udp(0, NULL);
	/* From a port the SDP did not name: dropped, counted, reported. */
	mh_send_to(evil, f.rport[0], p, mh_rtp(p, 1, 0, 7));
	assert_int_equal(mh_recv_wait(f.peer[1][0], q, sizeof(q), 200, NULL),
			 -1);
	/* Garbage from the right source: dropped too. */
	memset(p, 0xff, 40);
	mh_send_to(f.peer[0][0], f.rport[0], p, 40);
	assert_int_equal(mh_recv_wait(f.peer[1][0], q, sizeof(q), 200, NULL),
			 -1);
	/* The real party still gets through. */
	mh_relay_some(&f, 0, 3, 10);
	assert_int_equal(MEDIA_LD(f.s->st[0].injected), 1);
	assert_int_equal(MEDIA_LD(f.s->st[0].dropped), 1);
	assert_int_equal(MEDIA_LD(f.s->st[0].pkts), 3);
	close(evil);
	mh_relay_stop(&f);
	mh_relay_close_peers(&f);
	mem_free(f.s);
}

static void test_close_stream(void **state)
{
	struct media_cmd c = {.type = MEDIA_CMD_DEL};
	struct mh_relay f;
	unsigned l, k, round;

	(void)state;
	mh_relay_start(&f, true, NULL);
	/* Twice: the fixed-table slots of the first are reused. */
	for (round = 0; round < 2; round++) {
		mh_relay_add_stream(&f, 0);
		mh_relay_some(&f, 0, 2, 1);
		c.s = f.s;
		assert_true(media__relay_cmd(&f.r, &c));
		assert_true(mh_relay_wait_done(&f, f.s));
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
		mh_relay_close_peers(&f);
		mem_free(f.s);
	}
	mh_relay_stop(&f);
}

static void test_fallback_epoll(void **state)
{
	struct mh_relay f;

	(void)state;
	media__uring_fail = -EPERM; /* as a seccomp policy would answer */
	mh_relay_start(&f, true, NULL);
	media__uring_fail = 0;
	assert_null(f.r.u);
	mh_relay_add_stream(&f, 0);
	mh_relay_some(&f, 0, 5, 1);
	mh_relay_some(&f, 1, 5, 50);
	mh_relay_stop(&f);
	/* epoll: the descriptors are still the stream's to close. */
	{
		unsigned l, k;

		for (l = 0; l < 2; l++)
			for (k = 0; k < 2; k++) {
				assert_true(f.s->fd[l][k] >= 0);
				close(f.s->fd[l][k]);
			}
	}
	mh_relay_close_peers(&f);
	mem_free(f.s);
}

/* As in a container whose seccomp policy refuses io_uring: in a child
 * (the filter cannot be undone), io_uring_setup answers EPERM; the
 * relay must run on epoll and relay.  Exit status: 0 if so. */
static int child_seccomp(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	struct mh_relay f;
	uint8_t p[256], q[256];
	bool ok;

	if (!ctx ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
			     SCMP_SYS(io_uring_setup), 0) != 0 ||
	    seccomp_load(ctx) != 0)
		return 2;
	seccomp_release(ctx);
	mh_relay_start(&f, true, NULL);
	if (f.r.u)
		return 3;
	mh_relay_add_stream(&f, 0);
	mh_send_to(f.peer[0][0], f.rport[0], p, mh_rtp(p, 1, 0, 7));
	ok = mh_recv_wait(f.peer[1][0], q, sizeof(q), WAIT_MS, NULL) == 172;
	mh_relay_stop(&f);
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
