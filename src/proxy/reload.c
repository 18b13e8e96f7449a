/*
 * reload.c - swap a new configuration into the running proxy (SIGHUP,
 * sipguardctl reload).  The daemon has already loaded next and checked
 * with conf_reload_check() that only options marked CONF_RELOAD differ;
 * here every one of those is applied:
 *
 *  - guard: rates, scanner thresholds, gate rates and ban policy, monitor
 *    flags (when the file changed them), credentials (re-read in local
 *    mode) - guard_reconf() keeps bans, windows, nonces and counters;
 *    IM and presence policies (guard.im, guard.presence) are rebuilt when
 *    they changed (their own rate windows restart); the toll-fraud policy
 *    (fraud.*) is rebuilt and takes over the running counters and calls;
 *  - call-state and registration policy (guard.dialog, .registration);
 *  - routes: backends and trunk of each zone (probes restarted);
 *  - sip.user_agent and everything else read through p->conf.
 *
 * Nothing here touches a transaction or a dialog: calls in progress keep
 * their state; new requests see the new rules.  Everything that can fail
 * (credentials file, route addresses) is checked before the first
 * change, so a refused reload leaves the proxy as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "proxy/proxy_int.h"

static int peer_parse(struct sip_peer *peer, const char *s)
{
	struct conf_addr ca;

	if (conf_addr_parse(&ca, s) != 0)
		return -EINVAL;
	memset(peer, 0, sizeof(*peer));
	peer->tp = ca.transport == CONF_TP_TCP   ? SIP_TP_TCP
		   : ca.transport == CONF_TP_TLS ? SIP_TP_TLS
						 : SIP_TP_UDP;
	peer->addr = ca.addr;
	return 0;
}

static bool route_equal(const struct sg_conf_route *a,
			const struct sg_conf_route *b)
{
	size_t i;

	if (a->n_backends != b->n_backends || strcmp(a->trunk, b->trunk))
		return false;
	for (i = 0; i < a->n_backends; i++)
		if (strcmp(a->backends[i], b->backends[i]))
			return false;
	return true;
}

/* Addresses were validated by the loader; check again before changing
 * anything, the parse is cheap. */
static int routes_check(const struct sg_conf *next, char *err, size_t errsz)
{
	struct sip_peer tmp;
	size_t z, i;

	for (z = 0; z < next->n_zones; z++) {
		const struct sg_conf_route *r = &next->zones[z].route;

		for (i = 0; i < r->n_backends; i++)
			if (peer_parse(&tmp, r->backends[i]))
				goto bad;
		if (r->trunk[0] && peer_parse(&tmp, r->trunk))
			goto bad;
		continue;
	bad:
		snprintf(err, errsz, "zones[%zu].route: bad address", z);
		return -EINVAL;
	}
	return 0;
}

/* Rebuild zone z's backends in place.  A probe in flight keeps its
 * pointer (probe_ctx): its answer just marks the new entry, and the next
 * probe corrects that. */
static void route_apply(struct proxy *p, unsigned z,
			const struct sg_conf_zone *zc)
{
	struct proxy_zone *pz = &p->zones[z];
	size_t i;

	pz->nbe = 0;
	for (i = 0; i < zc->route.n_backends && i < CONF_MAX_BACKENDS; i++) {
		struct proxy_backend *be = &pz->be[pz->nbe];

		(void)peer_parse(&be->peer, zc->route.backends[i]);
		be->kind = PROXY_U_PROBE;
		be->p = p;
		be->zone = z;
		be->idx = pz->nbe++;
		be->up = true;
		be->fails = 0;
		sg_addr_fmt(&be->peer.addr, be->hostport, sizeof(be->hostport));
	}
	pz->has_trunk = zc->route.trunk[0] != '\0';
	if (pz->has_trunk)
		(void)peer_parse(&pz->trunk, zc->route.trunk);
}

static bool monitor_changed(const struct sg_conf *a, const struct sg_conf *b)
{
	size_t i;

	if (a->guard.monitor != b->guard.monitor ||
	    a->guard.n_monitor_rules != b->guard.n_monitor_rules)
		return true;
	for (i = 0; i < a->guard.n_monitor_rules; i++)
		if (strcmp(a->guard.monitor_rules[i],
			   b->guard.monitor_rules[i]))
			return true;
	return false;
}

int proxy_reload(struct proxy *p, const struct sg_conf *next, char *err,
		 size_t errsz)
{
	struct guard_conf gc;
	unsigned z, flags = GUARD_RECONF_CREDS;
	bool routes = false;
	int rc;

	if (!p || !next || next->n_zones != p->nzones)
		return -EINVAL;
	if ((rc = routes_check(next, err, errsz)) != 0)
		return rc;
	if (monitor_changed(p->conf, next))
		flags |= GUARD_RECONF_MONITOR;
	/* IM and presence policies are rebuilt only when they changed:
	 * their rate and harvest windows start afresh then. */
	if (memcmp(&p->conf->guard.im, &next->guard.im,
		   sizeof(next->guard.im)) ||
	    memcmp(&p->conf->guard.presence, &next->guard.presence,
		   sizeof(next->guard.presence)))
		flags |= GUARD_RECONF_CONTENT;
	/* guard.allow cannot change on reload: the strings the gate parsed
	 * at start stay; point at the new copies all the same. */
	for (z = 0; z < next->guard.n_allow && z < CONF_MAX_ALLOW; z++)
		p->allow[z] = next->guard.allow[z];
	proxy__guard_conf(&gc, next, p->allow);
	if (p->guard &&
	    (rc = guard_reconf(p->guard, &gc, flags, err, errsz)) != 0)
		return rc;
	/* Nothing fails from here on. */
	for (z = 0; z < p->nzones; z++)
		if (!route_equal(&p->conf->zones[z].route,
				 &next->zones[z].route))
			routes = true;
	if (routes)
		proxy__backends_stop(p);
	for (z = 0; z < p->nzones; z++) {
		if (!route_equal(&p->conf->zones[z].route,
				 &next->zones[z].route))
			route_apply(p, z, &next->zones[z]);
		p->zones[z].c = &next->zones[z];
		p->zone_names[z] = next->zones[z].name;
	}
	p->conf = next;
	proxy__dlg_conf(p);
	if (routes)
		proxy__backends_start(p);
	p->st.reloads++;
	return 0;
}
