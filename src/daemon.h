/*
 * daemon.h - the running sipguard: wires configuration, event loop,
 * transports and the SIP layer together.
 */
#ifndef SIPGUARD_DAEMON_H
#define SIPGUARD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

struct sg_conf;
struct daemon;
struct loop;
struct proxy;
struct ctl_ops;
struct ctl;
struct daemon_ops;

/* What the control socket's callbacks and the HTTP pages act on. */
struct daemon_ctl_ctx {
	struct loop *loop;
	struct proxy *proxy;
	int (*reload)(void *arg, char *err, size_t errsz);
	void *reload_arg;
	struct ctl *ctl;        /* control socket, or NULL */
	struct daemon_ops *ops; /* daemon_ops.c */
	const char *dash_token; /* dashboard on: its bearer token */
};
extern const struct ctl_ops daemon_ctl_ops;
struct gate_ban_info;
/* The address of a ban (IPv6: its /64, *plenp 64; IPv4: 0). */
void daemon_ban_addr(const struct gate_ban_info *bi, struct sg_addr *a,
		     uint8_t *plenp);

struct buf;
struct http_req;
struct http_resp;
/* The HTTP endpoint's pages: /metrics (daemon_metrics.c) and, with the
 * dashboard on, /dashboard and its API (daemon_dash.c).  arg is a struct
 * daemon_ctl_ctx; an http_page_fn (ctl/http.h). */
int daemon_http_page(void *arg, const struct http_req *rq,
		     struct http_resp *rs);
int daemon_metrics_page(struct daemon_ctl_ctx *c, struct buf *b);
int daemon_dash_page(struct daemon_ctl_ctx *c, const struct http_req *rq,
		     struct http_resp *rs);

/* ---- daemon_ops.c: event counters, top sources, feed, samples ---- */

enum { DAEMON_SERIES = 300 }; /* samples kept, one a second */

struct daemon_sample {
	uint64_t wall_ms;
	uint64_t invites;          /* INVITEs received, total */
	uint64_t calls;            /* calls in progress */
	uint64_t refused, dropped; /* totals: guard refusals; guard and
				    * gate drops */
	uint64_t bans;             /* bans in force */
};

/* Tap the proxy's event log (counters, followers of ctx->ctl); with
 * feed, also keep the last lines and a sample a second (dashboard). */
int daemon_ops_new(struct daemon_ops **op, struct daemon_ctl_ctx *ctx,
		   bool feed);
void daemon_ops_free(struct daemon_ops *o);
/* Events per (type, event, rule) and the top sources (events.h), or
 * NULL when o is NULL. */
struct evstats;
const struct evstats *daemon_ops_stats(const struct daemon_ops *o);
/* Sample i, oldest first, or NULL past the last. */
const struct daemon_sample *daemon_ops_sample(const struct daemon_ops *o,
					      unsigned i);
/* Lines numbered after `after` still kept, oldest first (fn returns
 * non-zero to stop); returns the number of the last line seen. */
typedef int daemon_line_fn(void *arg, uint64_t seq, const char *line,
			   size_t len);
uint64_t daemon_ops_recent(const struct daemon_ops *o, uint64_t after,
			   daemon_line_fn *fn, void *arg);

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
/* Who priv_drop() will run as: ids, or -1 (store.tls' socket owner). */
void priv_target(const struct sg_conf_ops *o, int *uidp, int *gidp);

#endif
