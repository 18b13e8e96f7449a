/*
 * transport.h - public interface of the transport layer: sockets.
 *
 * Issue 2 needs UDP only: non-blocking sockets bound to configured
 * addresses, datagrams received in batches with recvmmsg(2) into buffers
 * owned by a struct udp_batch, replies sent with sendto(2).  TCP and TLS
 * framing come with the proxy.
 */
#ifndef SIPGUARD_TRANSPORT_H
#define SIPGUARD_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "core/addr.h"

enum {
	UDP_BATCH = 32,		/* datagrams per recvmmsg call */
	UDP_MAX_DGRAM = 65535,	/* largest datagram we accept */
};

/*
 * Open a non-blocking UDP socket bound to a.  IPv6 sockets are
 * IPV6_V6ONLY so an IPv4 listener on the same port can coexist.
 * Returns the fd, or -errno.
 */
int udp_open(const struct sg_addr *a);

/* Receive buffers for one batch.  Owner: whoever calls udp_batch_new. */
struct udp_batch {
	unsigned n;			/* datagrams in the last batch */
	struct mmsghdr msg[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sg_addr from[UDP_BATCH];
	size_t len[UDP_BATCH];
	bool truncated[UDP_BATCH];	/* bigger than UDP_MAX_DGRAM */
	char *buf[UDP_BATCH];		/* UDP_MAX_DGRAM + 1 bytes each */
};

int udp_batch_new(struct udp_batch **bp);
void udp_batch_free(struct udp_batch *b);
/*
 * Read up to UDP_BATCH datagrams from fd.  Returns how many (>= 0; 0 when
 * nothing was waiting) or -errno.
 */
int udp_recv_batch(int fd, struct udp_batch *b);
/* Send one datagram.  Returns 0 or -errno (EAGAIN: dropped). */
int udp_send(int fd, const struct sg_addr *to, const void *p, size_t n);

#endif
