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
#include "guard/guard.h"
#include "proxy/proxy.h"
#include "store/store.h"

/* Owner: main(), through daemon_new()/daemon_free(). */
struct daemon {
	struct loop *loop;
	struct sg_conf *conf;		/* owned; the proxy borrows it */
	struct sg_conf *old;		/* previous one after a reload */
	char *config_path;
	struct proxy *proxy;
	struct ctl *ctl;		/* control socket, if configured */
	struct store *store;		/* shared state (issue 9) */
	struct guard_sync *sync;	/* bans through the store */
	struct daemon_ctl_ctx ctx;
};

static void on_stop(struct loop *lp, int signo, void *arg)
{
	(void)arg;
	log_info("signal %d: stopping", signo);
	loop_stop(lp);
}

/*
 * SIGHUP: load the file anew and keep it only if it is valid and every
 * option that changed can change at run time; otherwise the running
 * configuration stays and the exact error is logged.  What the proxy
 * reads at run time is only the log level so far, so the new
 * configuration is kept beside the old one (which the proxy still
 * points into) until the proxy learns to swap (operations issue).
 */
static void on_reload(struct loop *lp, int signo, void *arg)
{
	struct daemon *d = arg;
	struct sg_conf *next = NULL;
	char err[CONF_ERR_LEN];

	(void)lp;
	(void)signo;
	if (conf_load(&next, d->config_path, err, sizeof(err)) != 0 ||
	    conf_reload_check(d->conf, next, err, sizeof(err)) != 0) {
		log_err("reload refused, keeping the running configuration: %s",
			err);
		conf_free(next);
		return;
	}
	log_set_level((enum log_level)next->log.level);
	conf_free(d->old);
	d->old = next;
	log_info("configuration reloaded from %s", d->config_path);
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
	rc = store_new(&d->store, d->loop, &sc, err, sizeof(err));
	if (rc) {
		log_err("store: %s", err[0] ? err : strerror(-rc));
		return rc;
	}
	rc = guard_sync_new(&d->sync, proxy_guard(d->proxy), d->store,
			    d->loop);
	if (rc)
		return rc;
	if (sc.backend == STORE_REDIS)
		log_info("store: redis at %s, instance %s", sc.address,
			 store_instance(d->store));
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
	err = daemon_store_start(d);
	if (err)
		goto fail;
	if (d->conf->guard.control_socket[0]) {
		struct ctl_conf cc;

		ctl_conf_defaults(&cc);
		cc.path = d->conf->guard.control_socket;
		d->ctx.loop = d->loop;
		d->ctx.proxy = d->proxy;
		err = ctl_new(&d->ctl, d->loop, &cc, &daemon_ctl_ops, &d->ctx);
		if (err) {
			log_err("control socket %s: %s", cc.path,
				strerror(-err));
			goto fail;
		}
		log_info("control socket on %s", cc.path);
	}
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
	ctl_free(d->ctl);
	guard_sync_free(d->sync);
	store_free(d->store);
	proxy_free(d->proxy);
	loop_free(d->loop);
	free(d->config_path);
	conf_free(d->conf);
	conf_free(d->old);
	mem_free(d);
}
