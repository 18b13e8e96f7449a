/*
 * guard_types.h - types shared by every module of the guard layer: the
 * verdict a check returns to the proxy, and source keys.
 *
 * A verdict says what to do with one message: pass it on, drop it
 * silently, or answer it (status, static reason, extra header lines).
 * Whichever module decides also names its rule; the proxy turns every
 * non-PASS verdict into an event.
 */
#ifndef SIPGUARD_GUARD_TYPES_H
#define SIPGUARD_GUARD_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

enum guard_action {
	GUARD_PASS = 0,
	GUARD_DROP,  /* silently: answering would help an attacker */
	GUARD_REPLY, /* answer with status/reason/extra */
};

enum {
	GUARD_EXTRA_MAX = 1024, /* extra header lines of a reply */
};

struct guard_verdict {
	enum guard_action action;
	int status;                  /* GUARD_REPLY: 401, 403, 503... */
	const char *reason;          /* static reason phrase, or NULL */
	char extra[GUARD_EXTRA_MAX]; /* header lines, each ending CRLF */
	size_t extra_len;
	const char *rule; /* static rule name that decided */
	const char *why;  /* static human-readable reason */
	bool ban;         /* also ban the source (gate) */
	bool monitor;     /* rule in monitor mode: log only */
};

static inline void guard_verdict_pass(struct guard_verdict *v)
{
	v->action = GUARD_PASS;
	v->status = 0;
	v->reason = NULL;
	v->extra_len = 0;
	v->rule = NULL;
	v->why = NULL;
	v->ban = false;
	v->monitor = false;
}

/*
 * The key a source is counted and banned under: an IPv4 address, or the
 * /64 prefix of an IPv6 address (one subscriber's prefix: banning single
 * IPv6 addresses is useless, the attacker has 2^64 of them).
 */
struct guard_src {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t len;    /* 4 or 8 bytes used */
	uint8_t b[8];
};

void guard_src_from_addr(struct guard_src *s, const struct sg_addr *a);
bool guard_src_eq(const struct guard_src *a, const struct guard_src *b);
/* "203.0.113.9" or "2001:db8:1:2::/64" */
const char *guard_src_fmt(const struct guard_src *s, char *buf, size_t sz);

#endif
