/*
 * ports.c - relay port pairs (RFC 3550 11: RTP on an even port, RTCP on
 * the next odd one) drawn at random from the configured range, so that
 * an attacker cannot predict the next call's ports, and quarantined after
 * use so that late or forged packets meant for an old call never reach a
 * new one.  Also the small endpoint helpers of the layer.
 */
#include <errno.h>
#include <string.h>

#include "core/mem.h"
#include "media/media_int.h"

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: unpredictable enough with a secret seed; port
	 * choice is not a cryptographic secret, only not guessable from
	 * the previous one. */
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

int media__ports_init(struct media_ports *pp, uint16_t min, uint16_t max,
		      uint32_t quarantine_ms, uint64_t seed)
{
	uint32_t first = (min + 1u) & ~1u;

	memset(pp, 0, sizeof(*pp));
	if (max < first + 1)
		return -EINVAL;
	pp->base = (uint16_t)first;
	pp->npairs = ((uint32_t)max - first + 1) / 2;
	pp->until = mem_zalloc(pp->npairs * sizeof(*pp->until));
	if (!pp->until)
		return -ENOMEM;
	pp->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
	pp->quarantine_ms = quarantine_ms;
	return 0;
}

void media__ports_fini(struct media_ports *pp)
{
	mem_free(pp->until);
	pp->until = NULL;
	pp->npairs = 0;
}

int media__ports_get(struct media_ports *pp, uint64_t now_ms, uint16_t *portp)
{
	uint32_t i, k, start;

	if (!pp->npairs || pp->used >= pp->npairs)
		return -EAGAIN;
	start = (uint32_t)(rng_next(&pp->rng) % pp->npairs);
	for (k = 0; k < pp->npairs; k++) {
		i = start + k < pp->npairs ? start + k : start + k - pp->npairs;
		if (pp->until[i] != UINT64_MAX && pp->until[i] <= now_ms) {
			pp->until[i] = UINT64_MAX;
			pp->used++;
			*portp = (uint16_t)(pp->base + 2 * i);
			return 0;
		}
	}
	return -EAGAIN;
}

static uint32_t pair_of(const struct media_ports *pp, uint16_t port)
{
	if (port < pp->base)
		return UINT32_MAX;
	return (uint32_t)(port - pp->base) / 2 < pp->npairs
		       ? (uint32_t)(port - pp->base) / 2
		       : UINT32_MAX;
}

void media__ports_put(struct media_ports *pp, uint16_t port, uint64_t now_ms)
{
	uint32_t i = pair_of(pp, port);

	if (i == UINT32_MAX || pp->until[i] != UINT64_MAX)
		return;
	/* +1: a quarantine of 0 still means "not in this same ms". */
	pp->until[i] = now_ms + pp->quarantine_ms + 1;
	pp->used--;
}

void media__ports_skip(struct media_ports *pp, uint16_t port, uint64_t now_ms)
{
	uint32_t i = pair_of(pp, port);

	if (i == UINT32_MAX || pp->until[i] != UINT64_MAX)
		return;
	pp->until[i] = now_ms + 60000;
	pp->used--;
}

/* --------------------------------------------------------- endpoints */

bool media__ep_ip_eq(const struct media_ep *a, const struct media_ep *b)
{
	return a->af && a->af == b->af &&
	       !memcmp(a->ip, b->ip, a->af == AF_INET ? 4 : 16);
}

bool media__ep_eq(const struct media_ep *a, const struct media_ep *b)
{
	return a->port == b->port && media__ep_ip_eq(a, b);
}

void media__ep_from_addr(struct media_ep *e, const struct sg_addr *a)
{
	memset(e, 0, sizeof(*e));
	if (a->u.sa.sa_family == AF_INET) {
		e->af = AF_INET;
		memcpy(e->ip, &a->u.in.sin_addr, 4);
		e->port = ntohs(a->u.in.sin_port);
	} else if (a->u.sa.sa_family == AF_INET6) {
		e->af = AF_INET6;
		memcpy(e->ip, &a->u.in6.sin6_addr, 16);
		e->port = ntohs(a->u.in6.sin6_port);
	}
}

void media__ep_to_addr(struct sg_addr *a, const struct media_ep *e)
{
	memset(a, 0, sizeof(*a));
	if (e->af == AF_INET) {
		a->u.in.sin_family = AF_INET;
		memcpy(&a->u.in.sin_addr, e->ip, 4);
		a->u.in.sin_port = htons(e->port);
		a->len = sizeof(a->u.in);
	} else if (e->af == AF_INET6) {
		a->u.in6.sin6_family = AF_INET6;
		memcpy(&a->u.in6.sin6_addr, e->ip, 16);
		a->u.in6.sin6_port = htons(e->port);
		a->len = sizeof(a->u.in6);
	}
}

bool media__ep_private(const struct media_ep *e)
{
	const uint8_t *ip = e->ip;

	if (e->af == AF_INET)
		return ip[0] == 10 || (ip[0] == 172 && (ip[1] & 0xf0) == 16) ||
		       (ip[0] == 192 && ip[1] == 168) ||
		       (ip[0] == 100 && (ip[1] & 0xc0) == 64) ||
		       (ip[0] == 169 && ip[1] == 254);
	if (e->af == AF_INET6)
		return (ip[0] & 0xfe) == 0xfc ||
		       (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80);
	return false;
}
