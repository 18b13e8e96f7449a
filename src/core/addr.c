/*
 * addr.c - socket address values: parsing, printing and comparison.
 */
#include "core/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int sg_addr_from_host(struct sg_addr *ap, struct str host, uint16_t port)
{
	char tmp[INET6_ADDRSTRLEN + 1];

	memset(ap, 0, sizeof(*ap));
	if (host.len >= 2 && host.p[0] == '[' && host.p[host.len - 1] == ']')
		host = str_sub(host, 1, host.len - 2);
	if (str_copy_cstr(tmp, sizeof(tmp), host) != 0)
		return -EINVAL;
	if (inet_pton(AF_INET, tmp, &ap->u.in.sin_addr) == 1) {
		ap->u.in.sin_family = AF_INET;
		ap->u.in.sin_port = htons(port);
		ap->len = sizeof(ap->u.in);
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, &ap->u.in6.sin6_addr) == 1) {
		ap->u.in6.sin6_family = AF_INET6;
		ap->u.in6.sin6_port = htons(port);
		ap->len = sizeof(ap->u.in6);
		return 0;
	}
	return -EINVAL;
}

int sg_addr_parse(struct sg_addr *ap, struct str s, uint16_t default_port)
{
	struct str host = s, port = STR_NULL;
	uint16_t p = default_port;
	long i;

	if (s.len && s.p[0] == '[') {
		i = str_chr(s, ']');
		if (i < 0)
			return -EINVAL;
		host = str_sub(s, 0, (size_t)i + 1);
		if ((size_t)i + 1 < s.len) {
			if (s.p[i + 1] != ':')
				return -EINVAL;
			port = str_skip(s, (size_t)i + 2);
		}
	} else {
		i = str_chr(s, ':');
		if (i >= 0) {
			/* A bare IPv6 address has several colons: no port. */
			if (str_chr(str_skip(s, (size_t)i + 1), ':') >= 0) {
				host = s;
			} else {
				host = str_sub(s, 0, (size_t)i);
				port = str_skip(s, (size_t)i + 1);
				if (port.len == 0)
					return -EINVAL;
			}
		}
	}
	if (port.len && (str_to_u16(&p, port, 65535) != 0 || p == 0))
		return -EINVAL;
	if (p == 0)
		return -EINVAL;
	return sg_addr_from_host(ap, host, p);
}

size_t sg_ip4_fmt(char buf[SG_IP4_TEXT], const uint8_t b[4])
{
	size_t o = 0;
	unsigned i, v;

	for (i = 0; i < 4; i++) {
		v = b[i];
		if (i)
			buf[o++] = '.';
		if (v >= 100)
			buf[o++] = (char)('0' + v / 100);
		if (v >= 10)
			buf[o++] = (char)('0' + v / 10 % 10);
		buf[o++] = (char)('0' + v % 10);
	}
	buf[o] = '\0';
	return o;
}

/* IPv4 by hand: these are on the per-call path (Via, records, keys),
 * where inet_ntop and snprintf cost several thousand instructions. */
const char *sg_addr_ip(const struct sg_addr *a, char *buf, size_t sz)
{
	const void *src = a->u.sa.sa_family == AF_INET6
				  ? (const void *)&a->u.in6.sin6_addr
				  : (const void *)&a->u.in.sin_addr;

	if (a->u.sa.sa_family == AF_INET && sz >= SG_IP4_TEXT) {
		sg_ip4_fmt(buf, src);
		return buf;
	}
	if (!inet_ntop(a->u.sa.sa_family, src, buf, (socklen_t)sz))
		snprintf(buf, sz, "?");
	return buf;
}

const char *sg_addr_fmt(const struct sg_addr *a, char *buf, size_t sz)
{
	char ip[INET6_ADDRSTRLEN];
	size_t n;
	uint16_t port = sg_addr_port(a);

	if (a->u.sa.sa_family == AF_INET && sz >= SG_IP4_TEXT + 6) {
		n = sg_ip4_fmt(buf, (const uint8_t *)&a->u.in.sin_addr);
		buf[n++] = ':';
		if (port >= 10000)
			buf[n++] = (char)('0' + port / 10000);
		if (port >= 1000)
			buf[n++] = (char)('0' + port / 1000 % 10);
		if (port >= 100)
			buf[n++] = (char)('0' + port / 100 % 10);
		if (port >= 10)
			buf[n++] = (char)('0' + port / 10 % 10);
		buf[n++] = (char)('0' + port % 10);
		buf[n] = '\0';
		return buf;
	}
	sg_addr_ip(a, ip, sizeof(ip));
	if (a->u.sa.sa_family == AF_INET6)
		snprintf(buf, sz, "[%s]:%u", ip, port);
	else
		snprintf(buf, sz, "%s:%u", ip, port);
	return buf;
}

uint16_t sg_addr_port(const struct sg_addr *a)
{
	return ntohs(a->u.sa.sa_family == AF_INET6 ? a->u.in6.sin6_port
						   : a->u.in.sin_port);
}

void sg_addr_set_port(struct sg_addr *a, uint16_t port)
{
	if (a->u.sa.sa_family == AF_INET6)
		a->u.in6.sin6_port = htons(port);
	else
		a->u.in.sin_port = htons(port);
}

int sg_addr_family(const struct sg_addr *a)
{
	return a->u.sa.sa_family;
}

bool sg_addr_ip_eq(const struct sg_addr *a, const struct sg_addr *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (a->u.sa.sa_family == AF_INET6)
		return memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr,
			      sizeof(a->u.in6.sin6_addr)) == 0;
	return a->u.in.sin_addr.s_addr == b->u.in.sin_addr.s_addr;
}

bool sg_addr_eq(const struct sg_addr *a, const struct sg_addr *b)
{
	return sg_addr_ip_eq(a, b) && sg_addr_port(a) == sg_addr_port(b);
}
