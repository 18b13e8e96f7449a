/*
 * pcalls.c - what sipguardctl calls and drain see of the proxy: the live
 * INVITE dialogs (parties, zones, state, duration) and the drain switch
 * (new INVITEs refused with 503 in request.c, calls in progress go on).
 */
#include "core/loop.h"
#include "media/media.h"
#include "proxy/proxy_int.h"

static const char *zone_of(const struct proxy *p, const struct sip_dlg_party *s)
{
	return s->has_peer && s->peer.zone < p->nzones
		       ? p->zones[s->peer.zone].c->name
		       : NULL;
}

/* What the relay saw of the call's first pass (a call that spirals
 * through sipguard twice is shown once, as its parties see it). */
static void media_of(struct proxy *p, const struct sip_dlg *d,
		     struct proxy_call *c)
{
	struct media_call *mc;
	struct media_traffic t;
	unsigned l;

	if (!proxy_media(p))
		return;
	mc = media_call_find(proxy_media(p), sip_dlg_str(d, SIP_DLG_S_CALL_ID),
			     sip_dlg_str(d, SIP_DLG_S_CALLER_TAG));
	if (!mc)
		return;
	c->media = true;
	for (l = 0; l < 2; l++) {
		media_call_traffic(mc, l, &t);
		c->media_pkts[l] = t.pkts;
		c->media_bytes[l] = t.bytes;
		c->media_dropped[l] = t.injected + t.policed + t.invalid;
	}
}

int proxy_list_calls(struct proxy *p, proxy_call_fn *fn, void *arg)
{
	const struct sip_dlg_party *a, *b;
	struct sip_dlgs_iter it;
	struct sip_dlg *d;
	struct proxy_call c;
	uint64_t now = loop_now(p->loop);
	int err;

	sip_dlgs_iter_init(&it, p->dlgs);
	while ((d = sip_dlgs_iter_next(&it)) != NULL) {
		if (d->kind != SIP_DLG_INVITE || d->state == SIP_DLG_TERMINATED)
			continue;
		a = &d->side[SIP_DLG_CALLER];
		b = &d->side[SIP_DLG_CALLEE];
		c = (struct proxy_call){
			.call_id = sip_dlg_str(d, SIP_DLG_S_CALL_ID),
			.caller = sip_dlg_str(d, SIP_DLG_S_CALLER_URI),
			.callee = sip_dlg_str(d, SIP_DLG_S_CALLEE_URI),
			.caller_addr = a->has_peer ? &a->peer.addr : NULL,
			.callee_addr = b->has_peer ? &b->peer.addr : NULL,
			.caller_zone = zone_of(p, a),
			.callee_zone = zone_of(p, b),
			.state = sip_dlg_state_name(d->state),
			.duration_ms =
				now > d->start_mono ? now - d->start_mono : 0,
			.answered_ms = d->answer_mono && now > d->answer_mono
					       ? now - d->answer_mono
					       : 0,
		};
		media_of(p, d, &c);
		if ((err = fn(arg, &c)) != 0)
			return err;
	}
	return 0;
}

void proxy_set_drain(struct proxy *p, bool on)
{
	p->draining = on;
}

bool proxy_draining(const struct proxy *p)
{
	return p->draining;
}
