/*
 * udp.c - UDP sockets: bind, batched receive with recvmmsg(2), send.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "core/mem.h"
#include "transport/transport.h"

int udp_open(const struct sg_addr *a)
{
	int fd, one = 1, err, rcvbuf = UDP_RCVBUF;

	fd = socket(a->u.sa.sa_family,
		    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		goto fail;
	if (a->u.sa.sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
		goto fail;
	if (bind(fd, &a->u.sa, a->len) != 0)
		goto fail;
	/* A flood must not crowd legitimate datagrams out of a small
	 * kernel queue before the gate sees them: ask for a large buffer
	 * (past rmem_max when privileged; best effort otherwise). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				 sizeof(rcvbuf));
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

int udp_batch_new(struct udp_batch **bp)
{
	struct udp_batch *b = mem_zalloc(sizeof(*b));
	unsigned i;

	if (!b)
		return -ENOMEM;
	for (i = 0; i < UDP_BATCH; i++) {
		/* One spare byte lets us detect datagrams over the limit. */
		b->buf[i] = mem_alloc(UDP_MAX_DGRAM + 1);
		if (!b->buf[i]) {
			udp_batch_free(b);
			return -ENOMEM;
		}
	}
	*bp = b;
	return 0;
}

void udp_batch_free(struct udp_batch *b)
{
	unsigned i;

	if (!b)
		return;
	for (i = 0; i < UDP_BATCH; i++)
		mem_free(b->buf[i]);
	mem_free(b);
}

int udp_recv_batch(int fd, struct udp_batch *b)
{
	unsigned i;
	int n;

	for (i = 0; i < UDP_BATCH; i++) {
		b->iov[i].iov_base = b->buf[i];
		b->iov[i].iov_len = UDP_MAX_DGRAM + 1;
		memset(&b->msg[i].msg_hdr, 0, sizeof(b->msg[i].msg_hdr));
		b->msg[i].msg_hdr.msg_iov = &b->iov[i];
		b->msg[i].msg_hdr.msg_iovlen = 1;
		b->msg[i].msg_hdr.msg_name = &b->from[i].u.ss;
		b->msg[i].msg_hdr.msg_namelen = sizeof(b->from[i].u.ss);
	}
	do {
		n = recvmmsg(fd, b->msg, UDP_BATCH, MSG_DONTWAIT, NULL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		b->n = 0;
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
	}
	for (i = 0; i < (unsigned)n; i++) {
		b->from[i].len = b->msg[i].msg_hdr.msg_namelen;
		b->len[i] = b->msg[i].msg_len;
		b->truncated[i] = b->len[i] > UDP_MAX_DGRAM ||
				  (b->msg[i].msg_hdr.msg_flags & MSG_TRUNC);
	}
	b->n = (unsigned)n;
	return n;
}

int udp_send(int fd, const struct sg_addr *to, const void *p, size_t n)
{
	ssize_t r;

	do {
		r = sendto(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL, &to->u.sa,
			   to->len);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}
