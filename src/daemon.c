/*
 * daemon.c - the running sipguard: owns the configuration and the event
 * loop, creates the proxy (which opens the zones' listeners), and handles
 * signals: SIGINT/SIGTERM stop, SIGHUP reloads the configuration.
 */
#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "ctl/ctl.h"
#include "ctl/http.h"
#include "guard/guard.h"
#include "proxy/proxy.h"
#include "store/store.h"

/* Owner: main(), through daemon_new()/daemon_free(). */
struct daemon {
	struct loop *loop;
	struct sg_conf *conf; /* owned; the proxy borrows it */
	char *config_path;
	struct proxy *proxy;
	struct ctl *ctl;         /* control socket, if configured */
	struct http *http;       /* metrics endpoint, if configured */
	struct store *store;     /* shared state (issue 9) */
	struct guard_sync *sync; /* bans through the store */
	struct daemon_ops *ops;  /* event feed and counters */
	struct daemon_ctl_ctx ctx;
	/* Configurations replaced by a reload.  Not freed until exit: a
	 * module may still hold a pointer into one (a string, a zone), and
	 * reloads are rare administrator actions, so the cost is bounded by
	 * them; a use after free would not be. */
	struct sg_conf **retired;
	size_t nretired;
};

static void on_stop(struct loop *lp, int signo, void *arg)
{
	(void)arg;
	log_info("signal %d: stopping", signo);
	loop_stop(lp);
}

/*
 * Load the file anew and swap it in only if it is valid, every option
 * that changed can change at run time, and the proxy takes it; otherwise
 * the running configuration stays and err says why (the loader's
 * file:line:column text, or "key: cannot change on reload, restart
 * needed").  Runs on the loop thread between two events, so the swap is
 * atomic for every message; transactions and dialogs in progress are
 * not touched (proxy_reload()).  0 or -errno.
 */
static void retire(struct daemon *d, struct sg_conf *c)
{
	struct sg_conf **r =
		mem_realloc(d->retired, (d->nretired + 1) * sizeof(*r));

	if (!r) {
		/* Cannot keep it: leak it rather than risk a dangling use. */
		log_warn("reload: out of memory keeping the old configuration");
		return;
	}
	d->retired = r;
	d->retired[d->nretired++] = c;
}

int daemon_reload(struct daemon *d, char *err, size_t errsz)
{
	struct sg_conf *next = NULL;
	int rc;

	rc = conf_load(&next, d->config_path, err, errsz);
	if (rc == 0)
		rc = conf_reload_check(d->conf, next, err, errsz);
	if (rc == 0)
		rc = proxy_reload(d->proxy, next, err, errsz);
	if (rc != 0) {
		log_err("reload refused, keeping the running configuration: %s",
			err);
		conf_free(next);
		return rc;
	}
	log_set_level((enum log_level)next->log.level);
	/* New calls use next; the old one is retired, not freed (above). */
	retire(d, d->conf);
	d->conf = next;
	log_info("configuration reloaded from %s", d->config_path);
	return 0;
}

/* SIGHUP and `sipguardctl reload` alike.  Certificates (SIP TLS and the
 * store's) are re-read every time, even when the file's other changes
 * are refused: renewing a certificate must work.  Their outcome is
 * logged; what is returned is the configuration's. */
static int reload_all(struct daemon *d, char *err, size_t errsz)
{
	(void)proxy_tls_reload(d->proxy);
	(void)store_tls_reload(d->store);
	return daemon_reload(d, err, errsz);
}

static void on_reload(struct loop *lp, int signo, void *arg)
{
	char err[CONF_ERR_LEN];

	(void)lp;
	(void)signo;
	(void)reload_all(arg, err, sizeof(err));
}

static int ctl_reload(void *arg, char *err, size_t errsz)
{
	return reload_all(arg, err, errsz);
}

/* The Prometheus endpoint (ops.metrics_listen), in this loop. */
static int metrics_start(struct daemon *d)
{
	struct conf_addr ca;
	char as[SG_ADDR_STRLEN];
	int err;

	if (!d->conf->ops.metrics_listen[0])
		return 0;
	if (conf_addr_parse(&ca, d->conf->ops.metrics_listen) != 0)
		return -EINVAL;
	d->ctx.loop = d->loop;
	d->ctx.proxy = d->proxy;
	err = http_new(&d->http, d->loop, &ca.addr, daemon_http_page, &d->ctx);
	sg_addr_fmt(&ca.addr, as, sizeof(as));
	if (err)
		log_err("metrics endpoint %s: %s", as, strerror(-err));
	else
		log_info("metrics on http://%s/metrics", as);
	if (!err && d->ctx.dash_token)
		log_info("dashboard on http://%s/dashboard", as);
	return err;
}

/*
 * The store, and bans shared through it.  The shared bans are read
 * before the loop runs, so before any packet is read: a starting
 * instance drops what the cluster has banned from its first datagram.
 * Redis down at start is not fatal: the instance protects with its own
 * state and resynchronises when Redis comes (store.h).
 */
static int daemon_store_start(struct daemon *d)
{
	struct store_conf sc;
	char err[256] = "";
	int rc;

	store_conf_from(&sc, &d->conf->store);
	/* store.tls: hiredis reconnects to the tunnel as ops.user. */
	if (sc.tls)
		priv_target(&d->conf->ops, &sc.run_uid, &sc.run_gid);
	rc = store_new(&d->store, d->loop, &sc, err, sizeof(err));
	if (rc) {
		log_err("store: %s", err[0] ? err : strerror(-rc));
		return rc;
	}
	rc = guard_sync_new(&d->sync, proxy_guard(d->proxy), d->store, d->loop);
	if (rc)
		return rc;
	/* Toll-fraud limits counted across instances (fraud_share.c). */
	guard_fraud_share(proxy_guard(d->proxy), d->store, d->loop);
	/* Auth failures, INVITE/REGISTER rates per source: global windows
	 * (rate_share.c). */
	guard_rate_share(proxy_guard(d->proxy), d->store, d->loop);
	/* Bindings and dialog snapshots (issue 9), loaded with the bans. */
	proxy_set_store(d->proxy, d->store);
	if (sc.backend == STORE_REDIS)
		log_info("store: redis at %s%s, instance %s", sc.address,
			 sc.tls ? " over TLS" : "", store_instance(d->store));
	(void)store_load(d->store);
	return store_start(d->store);
}

int daemon_new(struct daemon **dp, struct sg_conf *conf,
	       const char *config_path)
{
	struct daemon *d = mem_zalloc(sizeof(*d));
	int err = -ENOMEM;

	if (!d) {
		conf_free(conf);
		return -ENOMEM;
	}
	d->conf = conf;
	d->config_path = strdup(config_path);
	if (!d->config_path)
		goto fail;
	err = loop_new(&d->loop);
	if (err)
		goto fail;
	if ((err = loop_signal_add(d->loop, SIGINT, on_stop, d)) != 0 ||
	    (err = loop_signal_add(d->loop, SIGTERM, on_stop, d)) != 0 ||
	    (err = loop_signal_add(d->loop, SIGHUP, on_reload, d)) != 0)
		goto fail;
	err = proxy_new(&d->proxy, d->loop, d->conf);
	if (err) {
		log_err("cannot start: %s", strerror(-err));
		goto fail;
	}
	/* proxy_new() can take seconds (the kernel path's program load):
	 * the store's connect and heartbeat timers count from now. */
	loop_tick_now(d->loop);
	err = daemon_store_start(d);
	if (err)
		goto fail;
	if (d->conf->guard.control_socket[0]) {
		struct ctl_conf cc;

		ctl_conf_defaults(&cc);
		cc.path = d->conf->guard.control_socket;
		d->ctx.loop = d->loop;
		d->ctx.proxy = d->proxy;
		d->ctx.reload = ctl_reload;
		d->ctx.reload_arg = d;
		err = ctl_new(&d->ctl, d->loop, &cc, &daemon_ctl_ops, &d->ctx);
		if (err) {
			log_err("control socket %s: %s", cc.path,
				strerror(-err));
			goto fail;
		}
		log_info("control socket on %s", cc.path);
	}
	d->ctx.loop = d->loop;
	d->ctx.proxy = d->proxy;
	d->ctx.ctl = d->ctl;
	if (d->conf->ops.dashboard)
		d->ctx.dash_token = d->conf->ops.dashboard_token;
	err = daemon_ops_new(&d->ops, &d->ctx, d->conf->ops.dashboard);
	if (err)
		goto fail;
	d->ctx.ops = d->ops;
	err = metrics_start(d);
	if (err)
		goto fail;
	*dp = d;
	return 0;
fail:
	daemon_free(d);
	return err;
}

int daemon_run(struct daemon *d)
{
	struct proxy_stats st;
	int err = loop_run(d->loop);

	proxy_get_stats(d->proxy, &st);
	log_info("stopped: %llu requests, %llu responses, %llu malformed, "
		 "%llu forwarded, %llu answered locally",
		 (unsigned long long)st.rx_requests,
		 (unsigned long long)st.rx_responses,
		 (unsigned long long)st.rx_malformed,
		 (unsigned long long)(st.fwd_requests + st.fwd_responses),
		 (unsigned long long)st.local_replies);
	return err;
}

void daemon_free(struct daemon *d)
{
	if (!d)
		return;
	daemon_ops_free(d->ops);
	http_free(d->http);
	ctl_free(d->ctl);
	guard_sync_free(d->sync);
	if (d->proxy)
		guard_fraud_share(proxy_guard(d->proxy), NULL, NULL);
	if (d->proxy)
		guard_rate_share(proxy_guard(d->proxy), NULL, NULL);
	proxy_set_store(d->proxy, NULL);
	store_free(d->store);
	proxy_free(d->proxy);
	loop_free(d->loop);
	free(d->config_path);
	conf_free(d->conf);
	while (d->nretired)
		conf_free(d->retired[--d->nretired]);
	mem_free(d->retired);
	mem_free(d);
}
