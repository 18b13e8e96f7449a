/*
 * guard_reload.c - reconfiguring a running guard (guard_reconf): the
 * new gate, inspection, credentials, monitor rules, IM and presence
 * policies and toll-fraud policy are all built or checked before any is
 * applied, so a reload that fails leaves the guard as it was; counters
 * and bans carry over.  Also the zone-name masks guard_new shares.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "guard/guard.h"
#include "guard/guard_int.h"

/* Zone names to a bit mask of zone indexes.  0 or -EINVAL (unknown). */
int guard__zone_mask(const struct guard *g, const char *const *names,
		     unsigned n, const char *what, uint32_t *maskp, char *err,
		     size_t errsz)
{
	unsigned i, z;

	*maskp = 0;
	for (i = 0; i < n; i++) {
		for (z = 0; z < g->nzones; z++)
			if (g->zone_name[z] &&
			    strcmp(g->zone_name[z], names[i]) == 0)
				break;
		if (z == g->nzones) {
			snprintf(err, errsz, "%s: unknown zone '%s'", what,
				 names[i]);
			return -EINVAL;
		}
		*maskp |= 1u << z;
	}
	return 0;
}

/* Are all names known?  0 or -EINVAL naming the first unknown one. */
static int monitor_names_ok(const struct guard *g, const struct guard_conf *c,
			    char *err, size_t errsz)
{
	unsigned i;

	for (i = 0; i < c->n_monitor_rules; i++)
		if (rules_find(g->rules, str_cstr(c->monitor_rules[i])) < 0) {
			snprintf(err, errsz,
				 "guard.monitor_rules: unknown "
				 "rule '%s'",
				 c->monitor_rules[i]);
			return -EINVAL;
		}
	return 0;
}

static void monitor_apply(struct guard *g, const struct guard_conf *c)
{
	struct rule_info ri;
	unsigned i;
	int id;

	for (id = 0; rules_get(g->rules, id, &ri) == 0; id++)
		rules_set_monitor(g->rules, id, false);
	for (i = 0; i < c->n_monitor_rules; i++)
		rules_set_monitor(
			g->rules,
			rules_find(g->rules, str_cstr(c->monitor_rules[i])),
			true);
	rules_set_global_monitor(g->rules, c->monitor);
}

/* New IM and presence policies (their windows start afresh). */
static int content_build(struct guard *g, const struct guard_conf *c,
			 struct im **imp, struct presence **presp,
			 uint32_t *imz, uint32_t *prz, char *err, size_t errsz)
{
	int rc;

	rc = guard__zone_mask(g, c->im_zones, c->n_im_zones, "guard.im.zones",
			      imz, err, errsz);
	if (!rc)
		rc = guard__zone_mask(g, c->presence_zones, c->n_presence_zones,
				      "guard.presence.zones", prz, err, errsz);
	if (!rc)
		rc = im_new(imp, &c->im, err, errsz);
	if (!rc && (rc = presence_new(presp, &c->presence)) != 0)
		snprintf(err, errsz, "guard.presence: %s", strerror(-rc));
	return rc;
}

int guard_reconf(struct guard *g, const struct guard_conf *c, unsigned flags,
		 char *err, size_t errsz)
{
	struct gate_conf gcf;
	struct creds *creds = NULL;
	struct im *nim = NULL;
	struct presence *npres = NULL;
	struct fraud *nfr = NULL;
	uint32_t imz = 0, prz = 0;
	unsigned i;
	int rc;

	if (!g || !c)
		return -EINVAL;
	/* Toll fraud: the new policy, with the running counters. */
	if (c->fraud &&
	    ((rc = fraud_new(&nfr, c->fraud, c->zone_name, c->zone_trusted,
			     g->nzones, guard__fraud_alerted, g, err, errsz)) !=
		     0 ||
	     (rc = fraud_adopt(nfr, g->fraud)) != 0))
		goto out;
	if ((flags & GUARD_RECONF_MONITOR) &&
	    (rc = monitor_names_ok(g, c, err, errsz)) != 0)
		return rc;
	if ((flags & GUARD_RECONF_CONTENT) &&
	    (rc = content_build(g, c, &nim, &npres, &imz, &prz, err, errsz)) !=
		    0)
		goto out;
	gcf = c->gate;
	gcf.lapsed = guard__ban_lapsed;
	gcf.lapsed_arg = g;
	if ((rc = gate_reconf(g->gate, &gcf, err, errsz)) != 0)
		goto out;
	if ((rc = inspect_reconf(g->in, &c->inspect, err, errsz)) != 0)
		goto undo_gate;
	if ((flags & GUARD_RECONF_CREDS) && g->auth_mode == AUTH_LOCAL) {
		rc = creds_load(&creds, c->auth.creds_path, err, errsz);
		if (rc == 0) /* takes creds, frees them on error */
			rc = auth_swap_creds(g->auth, creds, err, errsz);
		if (rc)
			goto undo_inspect;
	}
	/* Nothing fails from here on. */
	g->gate_conf = gcf;
	g->inspect_conf = c->inspect;
	if (flags & GUARD_RECONF_MONITOR)
		monitor_apply(g, c);
	for (i = 0; i < g->nzones && i < c->nzones; i++)
		g->zone_name[i] = c->zone_name[i];
	if (flags & GUARD_RECONF_CONTENT) {
		im_free(g->im);
		presence_free(g->pres);
		g->im = nim;
		g->pres = npres;
		g->im_zones = imz;
		g->pres_zones = prz;
	}
	fraud_free(g->fraud);
	g->fraud = nfr;
	fraud_set_share(nfr, g->share);
	return 0;
undo_inspect:
	(void)inspect_reconf(g->in, &g->inspect_conf, NULL, 0);
undo_gate:
	(void)gate_reconf(g->gate, &g->gate_conf, NULL, 0);
out:
	im_free(nim);
	presence_free(npres);
	fraud_free(nfr);
	return rc;
}
