/*
 * daemon.h - the running sipguard: wires configuration, event loop,
 * transports and the SIP layer together.
 */
#ifndef SIPGUARD_DAEMON_H
#define SIPGUARD_DAEMON_H

#include <stddef.h>

struct sg_conf;
struct daemon;
struct loop;
struct proxy;
struct ctl_ops;

/* What the control socket's callbacks act on (daemon_ctl.c). */
struct daemon_ctl_ctx {
	struct loop *loop;
	struct proxy *proxy;
	int (*reload)(void *arg, char *err, size_t errsz);
	void *reload_arg;
};
extern const struct ctl_ops daemon_ctl_ops;

struct buf;
/* The metrics endpoint's pages (daemon_metrics.c): arg is a struct
 * daemon_ctl_ctx; an http_page_fn (ctl/http.h). */
int daemon_metrics_page(void *arg, const char *path, struct buf *b,
			const char **typep);

/*
 * Bind every listen address of conf and prepare the loop.  The daemon
 * takes ownership of conf.  config_path is re-read on SIGHUP.
 * Returns 0 or -errno (the reason is logged).
 */
int daemon_new(struct daemon **dp, struct sg_conf *conf,
	       const char *config_path);
/* Serve until SIGINT or SIGTERM.  Returns 0 or -errno. */
int daemon_run(struct daemon *d);
void daemon_free(struct daemon *d);
/* SIGHUP and sipguardctl reload: 0, or -errno with the reason in err
 * (the running configuration stays). */
int daemon_reload(struct daemon *d, char *err, size_t errsz);

/* daemon_priv.c: after daemon_new(), before daemon_run(): switch to
 * ops.user keeping ops.capabilities, then the ops.seccomp filter.  Each
 * 0 or -errno with err. */
struct sg_conf_ops;
int priv_drop(const struct sg_conf_ops *o, char *err, size_t errsz);
int priv_seccomp(const struct sg_conf_ops *o, char *err, size_t errsz);

#endif
