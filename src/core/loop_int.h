/*
 * loop_int.h - the interface between loop.c and its OS backend
 * (loop_epoll.c).  Private to the core layer.
 *
 * The backend knows nothing about callbacks: it maps fds to opaque 64-bit
 * tokens and reports ready tokens with LOOP_READ / LOOP_WRITE / LOOP_ERR.
 */
#ifndef SIPGUARD_CORE_LOOP_INT_H
#define SIPGUARD_CORE_LOOP_INT_H

#include <stdint.h>

struct loop__be;

struct loop__event {
	uint64_t token;
	unsigned revents;
};

/* Owner: the loop.  0 or -errno. */
int loop__be_new(struct loop__be **bep);
void loop__be_free(struct loop__be *be);
int loop__be_add(struct loop__be *be, int fd, unsigned events, uint64_t token);
int loop__be_mod(struct loop__be *be, int fd, unsigned events, uint64_t token);
int loop__be_del(struct loop__be *be, int fd);
/*
 * Wait up to timeout_ms (-1: forever) and fill at most max events.
 * Returns the count, 0 on timeout or EINTR, or -errno.
 */
int loop__be_wait(struct loop__be *be, struct loop__event *ev, int max,
		  int timeout_ms);

#endif
