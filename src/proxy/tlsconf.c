/*
 * tlsconf.c - the proxy's TLS wiring: each zone's `tls` section becomes
 * the transport's TLS settings for that zone (its `tls:` listeners and
 * the TLS connections it opens), configured backend and trunk names
 * become the names their certificates must carry (RFC 5922 7.2), and
 * the reload entry point the daemon calls on SIGHUP.
 */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "proxy/proxy.h"
#include "proxy/proxy_int.h"
#include "transport/transport.h"

static bool zone_uses_tls(const struct sg_conf_zone *z)
{
	struct conf_addr a;
	size_t i;

	if (z->tls.n_certificates || z->tls.ca_file[0])
		return true;
	for (i = 0; i < z->n_listen; i++)
		if (!conf_addr_parse(&a, z->listen[i]) &&
		    a.transport == CONF_TP_TLS)
			return true;
	for (i = 0; i < z->route.n_backends; i++)
		if (!conf_addr_parse(&a, z->route.backends[i]) &&
		    a.transport == CONF_TP_TLS)
			return true;
	return z->route.trunk[0] && !conf_addr_parse(&a, z->route.trunk) &&
	       a.transport == CONF_TP_TLS;
}

static void tls_conf_of(struct tls_conf *tc, const struct sg_conf_tls *t)
{
	unsigned i;

	memset(tc, 0, sizeof(*tc));
	for (i = 0; i < t->n_certificates && i < TLS_MAX_CERTS; i++) {
		tc->cert_files[i] = t->certificates[i];
		tc->key_files[i] = t->keys[i];
	}
	tc->ncerts = i;
	tc->key_password = t->key_password;
	tc->ciphers = t->ciphers;
	tc->ciphersuites = t->ciphersuites;
	tc->tls13_only = t->min_version == CONF_TLS_13;
	tc->client_ca_file = t->client_ca_file;
	tc->verify_clients = t->verify_clients == CONF_TLS_VERIFY_REQUIRE
				     ? TLS_VERIFY_REQUIRE
			     : t->verify_clients == CONF_TLS_VERIFY_OPTIONAL
				     ? TLS_VERIFY_OPTIONAL
				     : TLS_VERIFY_NONE;
	for (i = 0; i < t->n_allowed_clients && i < TLS_MAX_ALLOWED; i++)
		tc->allowed_clients[i] = t->allowed_clients[i];
	tc->nallowed = i;
	tc->ca_file = t->ca_file;
	tc->handshake_ms = (uint32_t)t->handshake_timeout;
	tc->no_resumption = !t->session_resumption;
}

/* The name a TLS backend or trunk address must show, if configured. */
static int peer_name(struct proxy *p, const char *addr, const char *name)
{
	struct conf_addr a;

	if (!name[0] || conf_addr_parse(&a, addr) || a.transport != CONF_TP_TLS)
		return 0;
	return tp_tls_peer_name(p->tp, &a.addr, name);
}

int proxy__tls_setup(struct proxy *p)
{
	char err[CONF_ERR_LEN];
	struct tls_conf tc;
	unsigned z, i;
	bool any = false;
	int rc;

	for (z = 0; z < p->nzones; z++)
		any = any || zone_uses_tls(p->zones[z].c);
	if (!any)
		return 0;
	/* Every zone gets TLS once any does: a request may leave through
	 * any zone toward a sips: target. */
	for (z = 0; z < p->nzones; z++) {
		const struct sg_conf_zone *zc = p->zones[z].c;

		tls_conf_of(&tc, &zc->tls);
		rc = tp_tls_zone(p->tp, (uint16_t)z, &tc, err, sizeof(err));
		if (rc) {
			log_err("zone %s: tls: %s", zc->name, err);
			return rc;
		}
		for (i = 0; i < zc->route.n_backends; i++)
			if ((rc = peer_name(p, zc->route.backends[i],
					    zc->tls.backend_name)) != 0)
				return rc;
		if ((rc = peer_name(p, zc->route.trunk, zc->tls.trunk_name)))
			return rc;
	}
	return 0;
}

int proxy_tls_reload(struct proxy *p)
{
	char err[CONF_ERR_LEN];
	int rc;

	if (!p)
		return -EINVAL;
	rc = tp_tls_reload(p->tp, err, sizeof(err));
	if (rc)
		log_err("tls reload refused, keeping the running certificates: "
			"%s",
			err);
	else
		log_info("tls certificates and keys reloaded");
	return rc;
}
