/*
 * fraudhold.c - new calls held while the guard reads their caller's
 * cluster-wide toll-fraud counts (guard_fraud_prefetch, issue 9).
 *
 * An initial INVITE whose caller has a limit shared through Redis is
 * held before anything else happens to it (no transaction, no guard
 * check, no event): its bytes are copied here, and when the guard's
 * answer is in (wake) it is processed exactly as if just received, with
 * a fresh view of the cluster.  So every check runs once per INVITE.
 * Bounded: PROXY_HOLD_MAX held at once, each at most HOLD_MS; a full
 * table or a late answer only means the INVITE goes on at once with the
 * view this instance has (its own calls at least: never open).
 * Retransmissions of a held INVITE are held too; the transaction layer
 * absorbs the copies when they are released.
 */
#include <errno.h>
#include <string.h>

#include "core/loop.h"
#include "core/mem.h"
#include "proxy/proxy_int.h"

enum {
	PROXY_HOLD_MAX = 256,
	HOLD_MS = 1000,
};

struct hold {
	struct proxy_holds *hs;
	struct tmr tmr;
	struct loop_defer soon; /* the release, at the end of this turn */
	uint64_t token;
	struct sip_peer from;
	char *b; /* NULL: slot free */
	size_t n;
};

/* Owner: the proxy (proxy__holds_new/free). */
struct proxy_holds {
	struct proxy *p;
	struct hold h[PROXY_HOLD_MAX];
	unsigned used; /* slots holding an INVITE */
	bool reinjecting;
};

static void release(void *arg)
{
	struct hold *h = arg;
	struct proxy_holds *hs = h->hs;
	struct proxy *p = hs->p;
	struct sip_perr pe = {0};
	char *b = h->b;

	h->b = NULL;
	hs->used--;
	tmr_cancel(&h->tmr);
	loop_defer_cancel(&h->soon);
	if (sip_msg_parse(p->msg, b, h->n, &p->lim,
			  h->from.tp == SIP_TP_UDP ? SIP_PARSE_DGRAM
						   : SIP_PARSE_STREAM,
			  &pe) == 0) {
		hs->reinjecting = true;
		proxy__request(p, p->msg, &h->from);
		hs->reinjecting = false;
	}
	mem_free(b);
}

/* The guard's answer for the user `token`: release its INVITEs at the
 * end of this loop turn (a deferred call: never inside the store's
 * callback, and without the extra wait a 0 ms timer costs). */
static void on_wake(void *arg, uint64_t token)
{
	struct proxy_holds *hs = arg;
	unsigned i, seen = 0;

	/* Only as far as the last slot in use (usually one or two). */
	for (i = 0; i < PROXY_HOLD_MAX && seen < hs->used; i++) {
		if (!hs->h[i].b)
			continue;
		seen++;
		if (hs->h[i].token == token) {
			tmr_cancel(&hs->h[i].tmr);
			loop_defer(hs->p->loop, &hs->h[i].soon, release,
				   &hs->h[i]);
		}
	}
}

int proxy__holds_new(struct proxy *p)
{
	struct proxy_holds *hs = mem_zalloc(sizeof(*hs));
	unsigned i;

	if (!hs)
		return -ENOMEM;
	hs->p = p;
	for (i = 0; i < PROXY_HOLD_MAX; i++) {
		hs->h[i].hs = hs;
		tmr_init(&hs->h[i].tmr);
	}
	p->holds = hs;
	guard_set_fraud_wake(p->guard, on_wake, hs);
	return 0;
}

void proxy__holds_free(struct proxy *p)
{
	struct proxy_holds *hs = p->holds;
	unsigned i;

	if (!hs)
		return;
	for (i = 0; i < PROXY_HOLD_MAX; i++) {
		tmr_cancel(&hs->h[i].tmr);
		loop_defer_cancel(&hs->h[i].soon);
		mem_free(hs->h[i].b);
	}
	if (p->guard)
		guard_set_fraud_wake(p->guard, NULL, NULL);
	mem_free(hs);
	p->holds = NULL;
}

bool proxy__hold(struct proxy *p, const struct sip_msg *m,
		 const struct sip_peer *from)
{
	struct proxy_holds *hs = p->holds;
	uint64_t token = 0;
	struct hold *h = NULL;
	unsigned i;

	if (!hs || hs->reinjecting ||
	    !guard_fraud_prefetch(p->guard, m, from, loop_now(p->loop), &token))
		return false;
	for (i = 0; i < PROXY_HOLD_MAX && !h; i++)
		if (!hs->h[i].b)
			h = &hs->h[i];
	if (!h || !(h->b = mem_alloc(m->raw.len)))
		return false; /* go on now, with the view we have */
	hs->used++;
	memcpy(h->b, m->raw.p, m->raw.len);
	h->n = m->raw.len;
	h->from = *from;
	h->token = token;
	/* Released by the answer, or after HOLD_MS without one. */
	tmr_start(loop_timers(p->loop), &h->tmr, HOLD_MS, release, h);
	return true;
}
