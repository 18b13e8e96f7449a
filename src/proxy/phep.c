/*
 * phep.c - HEPv3 export of what the proxy sees (ops.hep_server): every
 * message received (before parsing, so attacks and garbage show too) and
 * every message sent, with the listener's address as our end; and, with
 * ops.hep_events, each security event line.  The sender never blocks
 * (events/hep.c).
 */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "events/events.h"
#include "events/hep.h"
#include "proxy/proxy_int.h"

static void on_event_line(void *arg, const char *line, size_t len)
{
	struct proxy *p = arg;

	if (len && line[len - 1] == '\n')
		len--;
	hep_send(p->hep, hep_local(p->hep), hep_server(p->hep), false,
		 HEP_PROTO_LOG, str_make(line, len), STR_NULL);
}

static void discard_line(void *arg, const char *line, size_t len)
{
	(void)arg;
	(void)line;
	(void)len;
}

/*
 * The operations feed (sipguardctl events --follow, the dashboard, the
 * per-rule counters of /metrics) taps the event log, so the log must
 * exist whenever the control socket or the HTTP endpoint does, even
 * without an events file: then it writes nowhere but to its taps.
 */
static int ops_evlog(struct proxy *p)
{
	const struct sg_conf *c = p->conf;
	struct evlog_conf ec = {.write = discard_line};

	if (p->ev || (!c->guard.control_socket[0] && !c->ops.metrics_listen[0]))
		return 0;
	return evlog_open(&p->ev, NULL, &ec);
}

int proxy__hep_open(struct proxy *p)
{
	const struct sg_conf_ops *o = &p->conf->ops;
	struct conf_addr ca;
	int err;

	if (!o->hep_server[0])
		return ops_evlog(p);
	if (conf_addr_parse(&ca, o->hep_server) != 0)
		return -EINVAL;
	err = hep_new(&p->hep, &ca.addr, (uint32_t)o->hep_capture_id);
	if (err) {
		log_err("HEP export to %s: %s", o->hep_server, strerror(-err));
		return err;
	}
	hep_keep_keys(p->hep, o->hep_keys);
	if (o->hep_events) {
		/* Without an events file the log still has to exist (the
		 * guard writes to it): then HEP is its only output. */
		if (!p->ev) {
			struct evlog_conf ec = {.write = on_event_line,
						.write_arg = p};

			err = evlog_open(&p->ev, NULL, &ec);
			if (err)
				return err;
		} else {
			evlog_set_tap(p->ev, on_event_line, p);
		}
	}
	if ((err = ops_evlog(p)))
		return err;
	log_info("HEP export to %s (agent id %u%s)", o->hep_server,
		 (unsigned)o->hep_capture_id,
		 o->hep_events ? ", security events too" : "");
	return 0;
}

void proxy__hep_close(struct proxy *p)
{
	hep_free(p->hep);
	p->hep = NULL;
}

/* Our end of the exchange: the listener that received or sends. */
static const struct sg_addr *our_addr(const struct proxy *p,
				      const struct sip_peer *peer)
{
	unsigned i, zone_match = p->nlis;

	for (i = 0; i < p->nlis; i++) {
		if (p->lis[i].local == peer->local && p->lis[i].tp == peer->tp)
			return &p->lis[i].addr;
		if (zone_match == p->nlis && p->lis[i].zone == peer->zone &&
		    sg_addr_family(&p->lis[i].addr) ==
			    sg_addr_family(&peer->addr))
			zone_match = i;
	}
	return zone_match < p->nlis ? &p->lis[zone_match].addr : NULL;
}

void proxy__hep_msg(struct proxy *p, const struct sip_peer *peer, const char *b,
		    size_t n, bool rx)
{
	const struct sg_addr *me = our_addr(p, peer);

	if (!me || sg_addr_family(me) != sg_addr_family(&peer->addr))
		return;
	hep_send(p->hep, rx ? &peer->addr : me, rx ? me : &peer->addr,
		 peer->tp != SIP_TP_UDP, HEP_PROTO_SIP, str_make(b, n),
		 STR_NULL);
}
