/*
 * src.c - source keys: IPv4 addresses and IPv6 /64 prefixes.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "guard/guard_types.h"

void guard_src_from_addr(struct guard_src *s, const struct sg_addr *a)
{
	memset(s, 0, sizeof(*s));
	if (a->u.sa.sa_family == AF_INET6) {
		const uint8_t *v6 = a->u.in6.sin6_addr.s6_addr;
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
						   0, 0, 0, 0, 0xff, 0xff};

		/* An IPv4-mapped address is that IPv4 source. */
		if (memcmp(v6, mapped, sizeof(mapped)) == 0) {
			s->family = AF_INET;
			s->len = 4;
			memcpy(s->b, v6 + 12, 4);
			return;
		}
		s->family = AF_INET6;
		s->len = 8;
		memcpy(s->b, v6, 8);
		return;
	}
	s->family = AF_INET;
	s->len = 4;
	memcpy(s->b, &a->u.in.sin_addr, 4);
}

bool guard_src_eq(const struct guard_src *a, const struct guard_src *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(a->b, b->b, a->len) == 0;
}

const char *guard_src_fmt(const struct guard_src *s, char *buf, size_t sz)
{
	char ip[INET6_ADDRSTRLEN];

	if (s->family == AF_INET6) {
		uint8_t full[16] = {0};

		memcpy(full, s->b, 8);
		inet_ntop(AF_INET6, full, ip, sizeof(ip));
		snprintf(buf, sz, "%s/64", ip);
	} else if (sz) {
		/* Per call (toll-fraud keys): no inet_ntop, no snprintf. */
		size_t n = sg_ip4_fmt(ip, s->b);

		n = n < sz ? n : sz - 1;
		memcpy(buf, ip, n);
		buf[n] = '\0';
	}
	return buf;
}
