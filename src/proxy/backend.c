/*
 * backend.c - the PBX backends of a zone: tried in order, health-checked
 * with OPTIONS probes, failed over on 503/500/408 or timeout.
 *
 * Probes run only for zones with more than one backend: with a single
 * one there is nothing to fail over to, and its state would not change
 * where requests go.
 *
 * A backend is up until a probe or a request to it fails; it is up again
 * as soon as any probe gets a response below 500 (a PBX that answers
 * OPTIONS with 404 or 405 is alive).  When every backend is down, the
 * first one is still tried: better a late answer than none.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "proxy/proxy_int.h"

enum {
	BACKEND_DOWN_AFTER = 1, /* consecutive failures that mark it down */
};

static void mark(struct proxy_backend *be, bool ok)
{
	if (ok) {
		be->fails = 0;
		if (!be->up)
			log_info("backend %s is up", be->hostport);
		be->up = true;
		return;
	}
	if (++be->fails >= BACKEND_DOWN_AFTER && be->up) {
		log_warn("backend %s is down", be->hostport);
		be->up = false;
	}
}

void proxy__backend_result(struct proxy *p, unsigned zone, int idx, bool ok)
{
	if (zone >= p->nzones || idx < 0 || (unsigned)idx >= p->zones[zone].nbe)
		return;
	mark(&p->zones[zone].be[idx], ok);
}

/* The first backend after `after` that is up; if none is up and none was
 * tried yet (after < 0), the first one. */
int proxy__backend_pick(struct proxy *p, unsigned zone, int after)
{
	const struct proxy_zone *z = &p->zones[zone];
	unsigned i;

	for (i = (unsigned)(after + 1); i < z->nbe; i++)
		if (z->be[i].up)
			return (int)i;
	if (after < 0 && z->nbe)
		return 0;
	return -1;
}

static int send_probe(struct proxy_backend *be)
{
	struct proxy *p = be->p;
	const struct proxy_lis *out;
	char branch[SIP_TXN_BRANCH_LEN + 1];
	struct sip_peer to = be->peer;
	size_t blen;
	int n;

	out = proxy__egress(p, (unsigned)p->zones[be->zone].egress, &to);
	if (!out)
		return -ENETUNREACH;
	to.local = out->local;
	to.zone = out->zone;
	blen = sip_txl_branch(p->txl, branch);
	buf_reset(&p->out);
	n = buf_printf(&p->out,
		       "OPTIONS sip:%s SIP/2.0\r\n"
		       "Via: SIP/2.0/%s %s;branch=%s\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: <sip:sipguard@%s>;tag=%016llx\r\n"
		       "To: <sip:%s>\r\n"
		       "Call-ID: probe-%016llx@%s\r\n"
		       "CSeq: 1 OPTIONS\r\n"
		       "User-Agent: %s\r\n"
		       "Content-Length: 0\r\n\r\n",
		       be->hostport, sip_tp_name(out->tp), out->hostport,
		       branch, out->hostport, (unsigned long long)p->seq,
		       be->hostport, (unsigned long long)(p->seq + 1),
		       out->host, p->conf->sip.user_agent);
	p->seq += 2;
	if (n != 0)
		return n;
	return sip_ctx_new(&be->probe_ctx, p->txl, &to, str_make(branch, blen),
			   STR("OPTIONS"), p->out.p, p->out.len, be);
}

static void probe_timer(void *arg)
{
	struct proxy_backend *be = arg;

	if (!be->probe_ctx && send_probe(be) != 0)
		mark(be, false);
	tmr_start(loop_timers(be->p->loop), &be->probe, PROXY_PROBE_MS,
		  probe_timer, be);
}

void proxy__probe_response(struct proxy_backend *be, int status)
{
	if (status >= 200)
		mark(be, status < 500);
}

void proxy__probe_failed(struct proxy_backend *be)
{
	mark(be, false);
}

int proxy__backends_start(struct proxy *p)
{
	unsigned z, i;

	for (z = 0; z < p->nzones; z++)
		for (i = 0; i < p->zones[z].nbe && p->zones[z].nbe > 1; i++) {
			struct proxy_backend *be = &p->zones[z].be[i];

			tmr_init(&be->probe);
			/* First probe soon, not at once: listeners settle. */
			tmr_start(loop_timers(p->loop), &be->probe,
				  200 + 50 * i, probe_timer, be);
		}
	return 0;
}

void proxy__backends_stop(struct proxy *p)
{
	unsigned z, i;

	for (z = 0; z < p->nzones; z++)
		for (i = 0; i < p->zones[z].nbe; i++)
			tmr_cancel(&p->zones[z].be[i].probe);
}
