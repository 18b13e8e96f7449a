/*
 * guardconf.c - the guard's configuration (struct guard_conf, made of the
 * modules' own structs) from sipguard's (struct sg_conf, the option
 * table): one place that knows both.
 */
#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "core/log.h"
#include "proxy/proxy_int.h"

static void rate(struct inspect_rate *r, int64_t per_s)
{
	r->max = (uint32_t)per_s;
	r->window_ms = 1000;
}

/*
 * A configured list into a module's list of borrowed strings.  Empty:
 * keep the module's built-in list; "[none]": no entries at all.
 */
static void list(const char **dst, unsigned *np, unsigned max,
		 const char (*src)[CONF_PRES_EVENT_LEN], size_t n)
{
	unsigned i;

	if (!n)
		return;
	if (n == 1 && strcmp(src[0], "none") == 0) {
		*np = 0;
		return;
	}
	for (i = 0; i < n && i < max; i++)
		dst[i] = src[i];
	*np = i;
}

static void im_presence_conf(struct guard_conf *gc,
			     const struct sg_conf_guard *g)
{
	struct im_conf *im = &gc->im;
	struct presence_conf *pc = &gc->presence;
	unsigned i;

	im->dir = g->im.direction == CONF_IM_BOTH  ? IM_DIR_BOTH
		  : g->im.direction == CONF_IM_OFF ? IM_DIR_OFF
						   : IM_DIR_UNTRUSTED;
	for (i = 0; i < g->im.n_content_types && i < IM_MAX_TYPES; i++)
		im->types[i] = g->im.content_types[i];
	if (i)
		im->ntypes = i;
	im->max_size = (size_t)g->im.max_size;
	im->src_max = (uint32_t)g->im.per_source;
	im->user_max = (uint32_t)g->im.per_user;
	im->window_ms = (uint32_t)g->im.rate_window;
	im->table_size = (uint32_t)g->im.table_size;
	im->block_files = g->im.block_files;
	for (i = 0; i < g->im.n_deny_regex && i < IM_MAX_REGEX; i++)
		im->regex[i] = g->im.deny_regex[i];
	im->nregex = i;
	for (i = 0; i < g->im.n_deny_domains && i < IM_MAX_DOMAINS; i++)
		im->domains[i] = g->im.deny_domains[i];
	im->ndomains = i;
	for (i = 0; i < g->im.n_deny_keywords && i < IM_MAX_KEYWORDS; i++)
		im->keywords[i] = g->im.deny_keywords[i];
	im->nkeywords = i;

	for (i = 0; i < g->im.n_zones && i < GUARD_MAX_ZONES; i++)
		gc->im_zones[i] = g->im.zones[i];
	gc->n_im_zones = i;
	for (i = 0; i < g->presence.n_zones && i < GUARD_MAX_ZONES; i++)
		gc->presence_zones[i] = g->presence.zones[i];
	gc->n_presence_zones = i;

	pc->enabled = g->presence.enabled;
	list(pc->subscribe, &pc->nsubscribe, PRES_MAX_EVENTS,
	     g->presence.subscribe, g->presence.n_subscribe);
	list(pc->subscribe_self, &pc->nsubscribe_self, PRES_MAX_EVENTS,
	     g->presence.subscribe_self, g->presence.n_subscribe_self);
	list(pc->publish, &pc->npublish, PRES_MAX_EVENTS, g->presence.publish,
	     g->presence.n_publish);
	list(pc->notify, &pc->nnotify, PRES_MAX_EVENTS, g->presence.notify,
	     g->presence.n_notify);
	pc->harvest_users = (uint32_t)g->presence.harvest_users;
	pc->harvest_window_ms = (uint32_t)g->presence.harvest_window;
	pc->table_size = (uint32_t)g->presence.table_size;
	pc->scrub = (g->presence.scrub_notes ? PIDF_SCRUB_NOTE : 0u) |
		    (g->presence.scrub_geo ? PIDF_SCRUB_GEO : 0u) |
		    (g->presence.scrub_devices ? PIDF_SCRUB_DEVICE : 0u) |
		    (g->presence.scrub_contacts ? PIDF_SCRUB_CONTACT : 0u);
}

void proxy__guard_conf(struct guard_conf *gc, const struct sg_conf *c,
		       const char *const *allow)
{
	const struct sg_conf_guard *g = &c->guard;
	struct auth_conf *a = &gc->auth;
	unsigned i;

	guard_conf_default(gc);
	gc->monitor = g->monitor;
	for (i = 0; i < g->n_monitor_rules && i < GUARD_MAX_MONITOR; i++)
		gc->monitor_rules[i] = g->monitor_rules[i];
	gc->n_monitor_rules = i;
	gc->nzones = (unsigned)c->n_zones;
	gc->fraud = &c->fraud;
	for (i = 0; i < c->n_zones && i < GUARD_MAX_ZONES; i++) {
		gc->zone_name[i] = c->zones[i].name;
		gc->zone_trusted[i] = c->zones[i].trust == CONF_TRUSTED;
	}

	gc->gate.pkt_rate = (uint32_t)g->gate.packets_per_second;
	gc->gate.pkt_burst = (uint32_t)g->gate.packet_burst;
	gc->gate.byte_rate = (uint32_t)g->gate.bytes_per_second;
	gc->gate.byte_burst = (uint32_t)(2 * g->gate.bytes_per_second);
	gc->gate.ban_first_ms = (uint64_t)g->gate.ban_time;
	gc->gate.ban_max_ms = (uint64_t)g->gate.ban_max_time;
	gc->gate.ban_factor = (uint32_t)g->gate.ban_factor;
	gc->gate.flood_drops = (uint32_t)g->gate.flood_drops;
	gc->gate.allow = allow;
	gc->gate.n_allow = g->n_allow;

	rate(&gc->inspect.rate[INSPECT_C_INVITE], g->rates.invite);
	rate(&gc->inspect.rate[INSPECT_C_REGISTER], g->rates.register_);
	rate(&gc->inspect.rate[INSPECT_C_OPTIONS], g->rates.options);
	rate(&gc->inspect.rate[INSPECT_C_SUBSCRIBE], g->rates.subscribe);
	rate(&gc->inspect.rate[INSPECT_C_MESSAGE], g->rates.message);
	rate(&gc->inspect.rate[INSPECT_C_OTHER], g->rates.other);
	gc->inspect.user.max = (uint32_t)g->rates.per_user;
	gc->inspect.user.window_ms = 10000;
	gc->inspect.fingerprints = g->scanner.fingerprints;
	gc->inspect.structure = g->scanner.structure;
	gc->inspect.users_max = (uint32_t)g->scanner.distinct_users;
	if (!g->scanner.distinct_users)
		gc->inspect.users_burst = 0;
	gc->inspect.fail.max = (uint32_t)g->scanner.failures;
	/* A scanner is held (dropped after its ban, should the ban table
	 * lose it) as long as its first ban lasts, so that the ban time
	 * configured is the time it is shut out. */
	gc->inspect.scanner_hold_ms = (uint32_t)g->gate.ban_time;
	gc->scanners_file = g->scanner.fingerprints_file;

	a->mode = g->auth.mode == CONF_AUTH_LOCAL         ? AUTH_LOCAL
		  : g->auth.mode == CONF_AUTH_PASSTHROUGH ? AUTH_PASSTHROUGH
							  : AUTH_OFF;
	snprintf(a->realm, sizeof(a->realm), "%s", g->auth.realm);
	snprintf(a->creds_path, sizeof(a->creds_path), "%s",
		 g->auth.credentials);
	a->algs = (g->auth.md5 ? AUTH_ALG_MD5 : 0u) |
		  (g->auth.sha256 ? AUTH_ALG_SHA256 : 0u);
	a->nonce_ttl_ms = (uint32_t)g->auth.nonce_lifetime;
	a->fail.window_ms = (uint32_t)g->auth.failure_window;
	a->fail.ip_max = (uint32_t)g->auth.max_failures_ip;
	a->fail.user_max = (uint32_t)g->auth.max_failures_user;
	a->fail.userip_max = (uint32_t)g->auth.max_failures_user_ip;
	a->fail.user_lock_ms = (uint32_t)g->auth.user_lock;
	a->fail.userip_block_ms = (uint32_t)g->auth.user_lock;
	a->fail.known_good_ms = (uint32_t)g->auth.known_good;
	im_presence_conf(gc, g);
}
