/*
 * addr.h - socket addresses (IPv4 and IPv6) as values: parse, print,
 * compare, hash.  Used by transports, the guard and the proxy.
 */
#ifndef SIPGUARD_CORE_ADDR_H
#define SIPGUARD_CORE_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/str.h"

struct sg_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_storage ss;
	} u;
	socklen_t len;
};

/* Longest text form: "[v6]:port" plus NUL. */
enum { SG_ADDR_STRLEN = INET6_ADDRSTRLEN + 9 };

/*
 * Parse "a.b.c.d:port", "[v6]:port", or without ":port" when
 * default_port is non-zero.  IPv6 must be bracketed when a port is given.
 * Returns 0 or -EINVAL.
 */
int sg_addr_parse(struct sg_addr *ap, struct str s, uint16_t default_port);
/* Address from a host string (no port) and a port. */
int sg_addr_from_host(struct sg_addr *ap, struct str host, uint16_t port);
/* "ip:port" / "[ip]:port" into buf (always NUL-terminated). */
const char *sg_addr_fmt(const struct sg_addr *a, char *buf, size_t sz);
/* An IPv4 address (4 bytes, network order) as dotted decimal, NUL
 * ended, into buf; its length. */
enum { SG_IP4_TEXT = 16 };
size_t sg_ip4_fmt(char buf[SG_IP4_TEXT], const uint8_t b[4]);
/* The IP alone, without brackets. */
const char *sg_addr_ip(const struct sg_addr *a, char *buf, size_t sz);
uint16_t sg_addr_port(const struct sg_addr *a);
void sg_addr_set_port(struct sg_addr *a, uint16_t port);
int sg_addr_family(const struct sg_addr *a);
/* Same IP and port. */
bool sg_addr_eq(const struct sg_addr *a, const struct sg_addr *b);
/* Same IP. */
bool sg_addr_ip_eq(const struct sg_addr *a, const struct sg_addr *b);

#endif
