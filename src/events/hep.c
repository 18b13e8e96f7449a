/*
 * hep.c - HEPv3 encoder and UDP sender (see hep.h).
 *
 * Packet: "HEP3", total length (u16), then chunks of vendor id (u16, 0 =
 * generic), type id (u16), chunk length including these 6 bytes (u16)
 * and the value, all in network byte order.  Generic chunks used:
 * 1 IP family, 2 IP protocol, 3/4 IPv4 source/destination, 5/6 IPv6
 * source/destination, 7/8 ports, 9/10 time (s, us), 11 protocol type,
 * 12 capture agent id, 15 payload, 17 correlation id.
 */
#include "events/hep.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/keyline.h"
#include "core/mem.h"

enum {
	CH_FAMILY = 1,
	CH_IPPROTO,
	CH_SRC4,
	CH_DST4,
	CH_SRC6,
	CH_DST6,
	CH_SPORT,
	CH_DPORT,
	CH_TSEC,
	CH_TUSEC,
	CH_PROTO,
	CH_CAPID,
	CH_PAYLOAD = 15,
	CH_CORR = 17,
	CH_HDR = 6,
	/* Largest packet without payload and correlation: header, family,
	 * two IPv6 addresses, protocol, ports, time, type, agent id and the
	 * two chunk headers. */
	HEP_OVERHEAD = 6 + 7 + 2 * 22 + 7 + 2 * 8 + 2 * 10 + 7 + 10 + 2 * 6,
};

static int chunk(struct buf *b, uint16_t type, const void *v, size_t n)
{
	uint8_t h[CH_HDR];
	uint16_t len = (uint16_t)(CH_HDR + n);

	h[0] = 0;
	h[1] = 0;
	h[2] = (uint8_t)(type >> 8);
	h[3] = (uint8_t)type;
	h[4] = (uint8_t)(len >> 8);
	h[5] = (uint8_t)len;
	if (buf_append(b, h, sizeof(h)) || buf_append(b, v, n))
		return -ENOMEM;
	return 0;
}

static int chunk_u8(struct buf *b, uint16_t type, uint8_t v)
{
	return chunk(b, type, &v, 1);
}

static int chunk_u16(struct buf *b, uint16_t type, uint16_t v)
{
	uint16_t n = htons(v);

	return chunk(b, type, &n, 2);
}

static int chunk_u32(struct buf *b, uint16_t type, uint32_t v)
{
	uint32_t n = htonl(v);

	return chunk(b, type, &n, 4);
}

static int addrs(struct buf *b, const struct sg_addr *s,
		 const struct sg_addr *d)
{
	int fam = sg_addr_family(s), err;

	if (fam != sg_addr_family(d) || (fam != AF_INET && fam != AF_INET6))
		return -EINVAL;
	if (fam == AF_INET)
		err = chunk_u8(b, CH_FAMILY, 2) ||
		      chunk(b, CH_SRC4, &s->u.in.sin_addr, 4) ||
		      chunk(b, CH_DST4, &d->u.in.sin_addr, 4);
	else
		err = chunk_u8(b, CH_FAMILY, 10) ||
		      chunk(b, CH_SRC6, &s->u.in6.sin6_addr, 16) ||
		      chunk(b, CH_DST6, &d->u.in6.sin6_addr, 16);
	if (err)
		return -ENOMEM;
	return 0;
}

int hep_encode(struct buf *out, const struct hep_pkt *p)
{
	size_t start, total;
	int err;

	if (!out || !p || !p->src || !p->dst)
		return -EINVAL;
	total = HEP_OVERHEAD + p->payload.len + p->correlation.len;
	if (total > HEP_MAX_PACKET)
		return -EMSGSIZE;
	start = out->len;
	if (buf_append(out, "HEP3\0\0", 6))
		return -ENOMEM;
	err = addrs(out, p->src, p->dst);
	if (!err &&
	    (chunk_u8(out, CH_IPPROTO, p->ipproto) ||
	     chunk_u16(out, CH_SPORT, sg_addr_port(p->src)) ||
	     chunk_u16(out, CH_DPORT, sg_addr_port(p->dst)) ||
	     chunk_u32(out, CH_TSEC, (uint32_t)(p->wall_us / 1000000)) ||
	     chunk_u32(out, CH_TUSEC, (uint32_t)(p->wall_us % 1000000)) ||
	     chunk_u8(out, CH_PROTO, p->proto_type) ||
	     chunk_u32(out, CH_CAPID, p->capture_id) ||
	     chunk(out, CH_PAYLOAD, p->payload.p, p->payload.len) ||
	     (p->correlation.len &&
	      chunk(out, CH_CORR, p->correlation.p, p->correlation.len))))
		err = -ENOMEM;
	if (err) {
		out->len = start;
		return err;
	}
	total = out->len - start;
	out->p[start + 4] = (char)(total >> 8);
	out->p[start + 5] = (char)total;
	return 0;
}

/* ---------------------------------------------------------------- sender */

struct hep {
	int fd;
	uint32_t id;
	struct sg_addr server, local;
	struct buf out;
	struct hep_stats st;
	bool keep_keys;
};

void hep_keep_keys(struct hep *h, bool keep)
{
	if (h)
		h->keep_keys = keep;
}

int hep_new(struct hep **hp, const struct sg_addr *server, uint32_t capture_id)
{
	struct hep *h;
	int err;

	if (!hp || !server)
		return -EINVAL;
	*hp = NULL;
	h = mem_zalloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	buf_init(&h->out, HEP_MAX_PACKET);
	h->id = capture_id;
	h->server = *server;
	h->fd = socket(sg_addr_family(server),
		       SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0)
		goto fail;
	/* Connected: send(2) without an address, and ICMP errors come
	 * back as errors we count instead of silent loss. */
	if (connect(h->fd, &server->u.sa, server->len) != 0)
		goto fail;
	h->local.len = sizeof(h->local.u.ss);
	if (getsockname(h->fd, &h->local.u.sa, &h->local.len) != 0)
		goto fail;
	*hp = h;
	return 0;
fail:
	err = -errno;
	hep_free(h);
	return err;
}

void hep_free(struct hep *h)
{
	if (!h)
		return;
	if (h->fd >= 0)
		close(h->fd);
	buf_free(&h->out);
	mem_free(h);
}

void hep_send(struct hep *h, const struct sg_addr *src,
	      const struct sg_addr *dst, bool tcp, uint8_t proto_type,
	      struct str payload, struct str correlation)
{
	struct timespec ts;
	struct hep_pkt p;
	ssize_t n;
	bool keys;

	if (!h)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	p = (struct hep_pkt){
		.src = src,
		.dst = dst,
		.ipproto = tcp ? 6 : 17,
		.proto_type = proto_type,
		.wall_us = (uint64_t)ts.tv_sec * 1000000u +
			   (uint64_t)ts.tv_nsec / 1000,
		.capture_id = h->id,
		.payload = payload,
		.correlation = correlation,
	};
	buf_reset(&h->out);
	if (hep_encode(&h->out, &p) != 0) {
		h->st.errors++;
		return;
	}
	keys = proto_type == HEP_PROTO_SIP &&
	       keyline_in(payload.p, payload.len);
	/* The payload chunk is followed only by the correlation chunk (its
	 * 6-byte header and data, when there is one): see hep_encode(). */
	if (keys && !h->keep_keys)
		keyline_mask(
			h->out.p + h->out.len - payload.len -
				(correlation.len ? 6 + correlation.len : 0),
			payload.len);
	n = send(h->fd, h->out.p, h->out.len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == (ssize_t)h->out.len)
		h->st.sent++;
	else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		h->st.dropped++;
	else
		h->st.errors++;
	/* A message we sent with our SDES keys: not kept in our buffer. */
	if (keys)
		mem_secclean(h->out.p, h->out.len);
}

const struct sg_addr *hep_local(const struct hep *h)
{
	return &h->local;
}

const struct sg_addr *hep_server(const struct hep *h)
{
	return &h->server;
}

void hep_stats(const struct hep *h, struct hep_stats *sp)
{
	if (h)
		*sp = h->st;
	else
		memset(sp, 0, sizeof(*sp));
}
