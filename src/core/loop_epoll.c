/*
 * loop_epoll.c - Linux epoll(7) backend of the event loop (loop_int.h).
 * Level-triggered; EPOLLERR and EPOLLHUP are reported as LOOP_ERR.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/loop_int.h"
#include "core/mem.h"

/* Owner: the loop (loop.c), freed by loop__be_free(). */
struct loop__be {
	int epfd;
	struct epoll_event ev[LOOP_MAX_EVENTS];
};

int loop__be_new(struct loop__be **bep)
{
	struct loop__be *be;

	*bep = NULL;
	be = mem_alloc(sizeof(*be));
	if (!be)
		return -ENOMEM;
	be->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (be->epfd < 0) {
		int err = -errno;

		mem_free(be);
		return err;
	}
	*bep = be;
	return 0;
}

void loop__be_free(struct loop__be *be)
{
	if (!be)
		return;
	close(be->epfd);
	mem_free(be);
}

static int ctl(struct loop__be *be, int op, int fd, unsigned events,
	       uint64_t token)
{
	struct epoll_event e = {0};

	if (events & LOOP_READ)
		e.events |= EPOLLIN;
	if (events & LOOP_WRITE)
		e.events |= EPOLLOUT;
	e.data.u64 = token;
	return epoll_ctl(be->epfd, op, fd, &e) < 0 ? -errno : 0;
}

int loop__be_add(struct loop__be *be, int fd, unsigned events, uint64_t token)
{
	return ctl(be, EPOLL_CTL_ADD, fd, events, token);
}

int loop__be_mod(struct loop__be *be, int fd, unsigned events, uint64_t token)
{
	return ctl(be, EPOLL_CTL_MOD, fd, events, token);
}

int loop__be_del(struct loop__be *be, int fd)
{
	return ctl(be, EPOLL_CTL_DEL, fd, 0, 0);
}

int loop__be_wait(struct loop__be *be, struct loop__event *ev, int max,
		  int timeout_ms)
{
	int n, i;
	uint32_t e;

	if (max > LOOP_MAX_EVENTS)
		max = LOOP_MAX_EVENTS;
	n = epoll_wait(be->epfd, be->ev, max, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		e = be->ev[i].events;
		ev[i].token = be->ev[i].data.u64;
		ev[i].revents = ((e & EPOLLIN) ? LOOP_READ : 0) |
				((e & EPOLLOUT) ? LOOP_WRITE : 0) |
				((e & (EPOLLERR | EPOLLHUP)) ? LOOP_ERR : 0);
	}
	return n;
}
