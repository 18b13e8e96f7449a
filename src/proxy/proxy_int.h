/*
 * proxy_int.h - private to the proxy layer: the proxy object, its zones,
 * listeners, backends, forwarding contexts and registration bindings.
 *
 * Object tree (each parent frees its children):
 *   struct proxy
 *     -> struct transport (sockets), struct sip_txl (transactions),
 *        struct sip_dlgs (dialogs), struct proxy_reg (bindings),
 *        struct cdr (call records)
 *     -> zones[] -> backends[] (embedded, each with its probe timer)
 *   struct proxy_fwd: one per proxied request that has a server
 *     transaction; owned by the proxy, referenced by its server and
 *     client transactions' user pointers, freed when both are gone.
 */
#ifndef SIPGUARD_PROXY_INT_H
#define SIPGUARD_PROXY_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/conf.h"
#include "core/htab.h"
#include "core/tmr.h"
#include "guard/guard.h"
#include "proxy/proxy.h"
#include "sip/dialog.h"
#include "sip/sip.h"
#include "sip/sip_peer.h"
#include "sip/txn.h"

struct transport;
struct cdr_writer;
struct evlog;

enum {
	PROXY_MAX_LISTENERS = CONF_MAX_ZONES * CONF_MAX_LISTEN,
	PROXY_OUT_MAX = SIP_MAX_MSG_SIZE + 8192, /* forwarded message */
	PROXY_SCRATCH = 8192,                    /* rebuilt header values */
	PROXY_DEFAULT_MF = 70,                   /* RFC 3261 8.1.1.6 */
	PROXY_PROBE_MS = 5000,                   /* OPTIONS health probes */
	PROXY_RETRY_AFTER = 5,                   /* seconds, on 503 */
	PROXY_TAG_LEN = 16,
	PROXY_TICK_MS = 1000,   /* guard housekeeping */
	PROXY_TRIM_TXNS = 2048, /* ended transactions: malloc_trim */
};

struct proxy_lis {
	uint16_t local; /* transport listener index */
	uint16_t zone;
	enum sip_tp tp;
	struct sg_addr addr;
	char host[SG_ADDR_STRLEN];     /* "127.0.0.1" / "[::1]" */
	char hostport[SG_ADDR_STRLEN]; /* "127.0.0.1:5060" */
};

/* Client transactions carry one of two user objects; the first member
 * says which. */
enum proxy_user_kind {
	PROXY_U_FWD = 1,
	PROXY_U_PROBE,
};

struct proxy_backend {
	enum proxy_user_kind kind; /* PROXY_U_PROBE */
	struct proxy *p;
	unsigned zone, idx;
	struct sip_peer peer;
	char hostport[SG_ADDR_STRLEN];
	bool up;
	unsigned fails; /* consecutive failed probes/requests */
	struct tmr probe;
	struct sip_ctx *probe_ctx;
};

struct proxy_zone {
	const struct sg_conf_zone *c;
	unsigned idx;
	bool trusted;
	int egress; /* zone that requests from here go into */
	struct proxy_backend be[CONF_MAX_BACKENDS];
	unsigned nbe;
	struct sip_peer trunk;
	bool has_trunk;
};

/* Forwarding context of one proxied request (RFC 3261 16.2 "response
 * context").  Owner: the proxy; freed when stx and ctx are both gone. */
struct proxy_fwd {
	enum proxy_user_kind kind; /* PROXY_U_FWD */
	struct proxy *p;
	struct sip_stx *stx; /* upstream server transaction */
	struct sip_ctx *ctx; /* current downstream client transaction */
	enum sip_method mid;
	uint16_t in_zone, out_zone;
	int backend;     /* backend tried, -1: not backend routing */
	bool final_sent; /* a final response went upstream */
	bool cancelled;
	char *req; /* copy of the received request, for failover */
	size_t req_len;
	struct sip_peer from; /* the sender of the request */
	struct guard_req gq;  /* what the guard observes of its answer */
	bool strip_auth;      /* our own Authorization: not forwarded */
	char *th_via;         /* topology hiding: the Via stack kept back */
	size_t th_via_len;
	struct proxy_fwd *next, *prev; /* p->fwds */
};

struct proxy {
	struct loop *loop;
	const struct sg_conf *conf;
	struct transport *tp;
	struct sip_txl *txl;
	struct sip_dlgs *dlgs;
	struct proxy_reg *reg;
	struct cdr_writer *cdr;
	struct evlog *ev; /* security events */
	struct guard *guard;
	const char *allow[CONF_MAX_ALLOW]; /* guard.allow, borrowed */
	struct tmr tick;
	int64_t wall_off;       /* wall ms - loop ms, refreshed each tick */
	size_t trim_mark;       /* transactions at the last malloc_trim */
	struct proxy_fwd *fwds; /* every live forwarding context */
	struct sip_limits lim;
	struct dg_conf dg; /* guard.dialog (indialog.c) */
	struct rg_conf rg; /* guard.registration (regguard.c) */

	struct proxy_lis lis[PROXY_MAX_LISTENERS];
	unsigned nlis;
	struct proxy_zone zones[CONF_MAX_ZONES];
	unsigned nzones;
	const char *zone_names[CONF_MAX_ZONES]; /* for call records */

	struct sip_msg *msg;  /* receive scratch (one message at a time) */
	struct sip_msg *msg2; /* re-parse scratch (failover) */
	struct buf out;       /* message being built */
	char scratch[PROXY_SCRATCH];
	struct proxy_topo *topo; /* topology hiding (topo.c) */
	uint8_t key[16];         /* tags and loop hashes */
	uint64_t seq;
	struct proxy_stats st;
	struct proxy_anchor *anchor; /* media relay glue; NULL: off */
	struct proxy_metrics met;    /* pmetrics.c */
	struct hep *hep;             /* phep.c: HEP export, NULL = off */
	bool draining;               /* pcalls.c: sipguardctl drain */
	struct proxy_holds *holds;   /* fraudhold.c */
	struct store *store;         /* cluster.c: shared state, or NULL */
};

/* fraudhold.c: INVITEs held while the guard reads cluster-wide toll-fraud
 * counts.  hold: true when m was taken (process nothing now). */
int proxy__holds_new(struct proxy *p);
void proxy__holds_free(struct proxy *p);
bool proxy__hold(struct proxy *p, const struct sip_msg *m,
		 const struct sip_peer *from);

/* phep.c: HEP export (ops.hep_*).  open: after the event log is open,
 * before the guard takes it; msg: a copy of what was received from or
 * sent to peer. */
int proxy__hep_open(struct proxy *p);
void proxy__hep_close(struct proxy *p);
void proxy__hep_msg(struct proxy *p, const struct sip_peer *peer, const char *b,
		    size_t n, bool rx);

/* pmetrics.c: a parsed message arrives (returns the start time of its
 * handling), its handling ended, a message failed to parse. */
uint64_t proxy__met_rx(struct proxy *p, const struct sip_peer *from,
		       const struct sip_msg *m);
void proxy__met_done(struct proxy *p, const struct sip_msg *m, uint64_t t0);
void proxy__met_malformed(struct proxy *p, const struct sip_peer *from);

/* proxy.c */
int proxy__send(struct proxy *p, const struct sip_peer *to, const char *b,
		size_t n);
void proxy__reply_stateless(struct proxy *p, const struct sip_msg *m,
			    const struct sip_peer *from, int status,
			    const char *reason, struct str extra);
uint64_t proxy__wall_ms(void);
/* guardconf.c: the guard's configuration from ours. */
void proxy__guard_conf(struct guard_conf *gc, const struct sg_conf *c,
		       const char *const *allow);
void proxy__fwd_release(struct proxy_fwd *f);
void proxy__fwd_free_all(struct proxy *p);

/* route.c: addresses, targets, Via and loop helpers */
const struct proxy_lis *proxy__uri_is_us(const struct proxy *p,
					 const struct sip_uri *u);
int proxy__uri_target(struct sip_peer *peer, const struct sip_uri *u);
int proxy__via_target(struct sip_peer *peer, const struct sip_via *v,
		      const struct sip_peer *hint);
const struct proxy_lis *proxy__egress(const struct proxy *p, unsigned zone,
				      const struct sip_peer *to);
/* "udp", "tcp", "tls": the URI transport parameter of a transport. */
const char *proxy__tp_param(enum sip_tp tp);
/* tlsconf.c: the zones' TLS settings into the transport. */
int proxy__tls_setup(struct proxy *p);
uint64_t proxy__loop_hash(const struct proxy *p, const struct sip_msg *m);
bool proxy__is_loop(const struct proxy *p, const struct sip_msg *m);
int proxy__via_fix(char *dst, size_t dstsz, const struct sip_via *v,
		   const struct sip_peer *from);
void proxy__tag(const struct proxy *p, const struct sip_msg *m,
		char out[PROXY_TAG_LEN + 1]);

/* request.c / response.c */
void proxy__request(struct proxy *p, const struct sip_msg *m,
		    const struct sip_peer *from);
void proxy__response(struct proxy *p, const struct sip_msg *m,
		     const struct sip_peer *from);
int proxy__forward_next(struct proxy_fwd *f);
void proxy__ctx_response(void *user, struct sip_ctx *ctx,
			 const struct sip_msg *resp,
			 const struct sip_peer *from);
void proxy__ctx_timeout(void *user, struct sip_ctx *ctx, int err);

/* backend.c */
void proxy__probe_response(struct proxy_backend *be, int status);
void proxy__probe_failed(struct proxy_backend *be);
int proxy__backends_start(struct proxy *p);
void proxy__backends_stop(struct proxy *p);
int proxy__backend_pick(struct proxy *p, unsigned zone, int after);
void proxy__backend_result(struct proxy *p, unsigned zone, int be, bool ok);

/* registrar.c: bindings of remote users (Contact rewriting) */
struct proxy_reg;
int proxy__reg_new(struct proxy_reg **rp, struct proxy *p);
void proxy__reg_free(struct proxy_reg *r);
size_t proxy__reg_count(const struct proxy_reg *r);
/* Rewrite the Contacts of a REGISTER going to the registrar. */
int proxy__reg_request(struct proxy *p, struct sip_bld *b,
		       const struct sip_msg *m, const struct sip_peer *from,
		       const struct proxy_lis *egress);
/* Rewrite the Contacts of the registrar's 2xx back; refresh bindings. */
int proxy__reg_response(struct proxy *p, struct sip_bld *b,
			const struct sip_msg *m);
/* The binding a Request-URI from the trusted side names, if any:
 * where to send and the user's own Contact as the new Request-URI. */
bool proxy__reg_lookup(struct proxy *p, const struct sip_uri *ruri,
		       struct sip_peer *peerp, struct str *contactp);
/* What the registration guard needs of a binding. */
struct proxy_reg_view {
	bool confirmed;
	struct sip_peer peer;
	uint64_t ua;
	uint64_t refreshed_ms;
};
/* The binding of contact c of REGISTER m, if there is one. */
bool proxy__reg_view(struct proxy *p, const struct sip_msg *m,
		     const struct sip_nameaddr *c, struct proxy_reg_view *v);
/* The registrar accepted c of m (sent from `from`): confirm the binding
 * and point it there. */
void proxy__reg_confirm(struct proxy *p, const struct sip_msg *m,
			const struct sip_nameaddr *c,
			const struct sip_peer *from, uint64_t ua, uint64_t now);
/* Confirmed bindings of m's AOR (To URI). */
unsigned proxy__reg_aor_count(struct proxy *p, const struct sip_msg *m);

/* indialog.c: in-dialog requests and CANCEL prove they belong
 * (guard.dialog; decisions in guard/dlgpolicy.c). */
enum proxy_dlg {
	PROXY_DLG_PASS = 0, /* forward */
	PROXY_DLG_AUTH,     /* authenticate it as a new request, then
			     * call again with auth_tried */
	PROXY_DLG_STOP,     /* refused and answered (or dropped) */
};
void proxy__dlg_conf(struct proxy *p);
enum proxy_dlg proxy__dlg_check(struct proxy *p, struct sip_stx *stx,
				const struct sip_msg *m,
				const struct sip_peer *from, bool auth_tried);
/* Report a refusal by rule (guard_policy: counted, monitor mode) and
 * answer status or drop.  False when monitored: go on. */
bool proxy__refuse(struct proxy *p, struct sip_stx *stx,
		   const struct sip_msg *m, const struct sip_peer *from,
		   const char *rule, const char *why, int status, bool drop);
/* The whole check of a request with a To-tag, after the guard passed
 * it: a party at a new address authenticates first (rebind:
 * authenticated).  False when it was answered or dropped. */
bool proxy__dlg_admit(struct proxy *p, struct sip_stx *stx,
		      const struct sip_msg *m, const struct sip_peer *from);
/* A response the dialog table took (dm): report a party that answers
 * from a new address (never silent). */
void proxy__dlg_response(struct proxy *p, const struct sip_msg *resp,
			 const struct sip_peer *from,
			 const struct sip_dlg_match *dm);
/* A CANCEL for the INVITE whose context is f (NULL: none): true when it
 * may cancel; false when answered (481) or dropped. */
bool proxy__dlg_cancel(struct proxy *p, struct sip_stx *stx,
		       const struct sip_msg *m, const struct sip_peer *from,
		       const struct proxy_fwd *f);

/* regguard.c: registration hijack protection (guard.registration). */
/* A REGISTER from an untrusted zone about to be forwarded: true when
 * refused (403 sent). */
bool proxy__regguard_request(struct proxy *p, struct sip_stx *stx,
			     const struct sip_msg *m,
			     const struct sip_peer *from);
/* The registrar's final answer to f's REGISTER: confirm or move the
 * bindings on 2xx, report refused moves otherwise. */
void proxy__regguard_answer(struct proxy *p, struct proxy_fwd *f,
			    const struct sip_msg *resp);

/* registrar.c: the registrar's 2xx accepted removal c of REGISTER m
 * (Expires 0 or "*"): drop the binding(s) now, cluster included. */
void proxy__reg_drop(struct proxy *p, const struct sip_msg *m,
		     const struct sip_nameaddr *c);
/* registrar.c: is u one of our rewritten binding Contacts? */
bool proxy__reg_is_binding(struct proxy *p, const struct sip_uri *u);
/* registrar.c: every confirmed binding to the store again (resync). */
void proxy__reg_publish_all(struct proxy *p);

/* cluster.c: bindings and dialog snapshots shared with other instances
 * through the store (issue 9); no-ops without a Redis store. */
struct store;
struct store_snap;
/* A confirmed binding (flow: where the user is; lis: the listener its
 * rewritten Contact names; expires_ms from now) / its end. */
void proxy__cl_binding_put(struct proxy *p, struct str token,
			   const struct sip_peer *flow, unsigned lis,
			   struct str aor, struct str contact,
			   uint64_t expires_ms);
void proxy__cl_binding_del(struct proxy *p, struct str token);
/* A Request-URI naming another live instance's binding: *to is its
 * handoff address, in zone. */
bool proxy__cl_lookup(struct proxy *p, const struct sip_uri *ruri,
		      unsigned zone, struct sip_peer *to);
/* The dialog table took request m / response resp (dm): snapshot. */
void proxy__cl_dlg_request(struct proxy *p, const struct sip_msg *m,
			   const struct sip_dlg_match *dm);
void proxy__cl_dlg_response(struct proxy *p, const struct sip_msg *resp,
			    const struct sip_dlg_match *dm);
/* An in-dialog request loose-routed to *to: when *to is the other
 * party's last address, *zonep becomes that party's zone. */
void proxy__cl_route_zone(struct proxy *p, const struct sip_msg *m,
			  const struct sip_peer *to, unsigned *zonep);
/* A dialog record ended: its snapshot goes. */
void proxy__cl_dlg_end(struct proxy *p, const struct sip_dlg *d);
/* Store callbacks (store_cluster_events). */
void proxy__cl_resync(void *arg);
void proxy__cl_takeover(void *arg, const char *owner,
			const struct store_snap *s);
void proxy__cl_taken(void *arg, const char *claimer, const char *const *keys,
		     size_t n);
/* proxy.c: BYE to both sides of confirmed d, as on a timeout. */
void proxy__bye_both(struct proxy *p, struct sip_dlg *d, enum sip_dlg_reason r);

/* topo_seal.c: sealed tokens (deterministic authenticated encryption
 * with SipHash keys derived from p->key). */
enum {
	PROXY_TOPO_MAC_LEN = 8,
	PROXY_TOPO_MAX_PLAIN = 2048, /* bytes hidden in one token */
};
struct proxy_topo_keys {
	uint8_t mac[16], enc[16];
};
void proxy__topo_keys(struct proxy_topo_keys *k, const uint8_t key[16]);
int proxy__topo_seal(const struct proxy_topo_keys *k, char kind,
		     struct str plain, char *out, size_t outsz);
int proxy__topo_open(const struct proxy_topo_keys *k, char kind, struct str tok,
		     char *out, size_t outsz);

/* topo.c: topology hiding on untrusted zones (see the file comment). */
struct proxy_topo;
int proxy__topo_new(struct proxy *p);
void proxy__topo_free(struct proxy *p);
/* Messages leaving `zone` are hidden (untrusted, topology_hiding on). */
bool proxy__topo_zone(const struct proxy *p, unsigned zone);
/* The internal view of a message received from a hiding zone: tokens
 * opened (Request-URI, Route, Record-Route, From/To, Call-ID).  Returns
 * m itself when there is nothing to map, else a message valid until the
 * next call. */
const struct sip_msg *proxy__topo_inbound(struct proxy *p,
					  const struct sip_msg *m,
					  const struct sip_peer *from);
/* The message as received behind a mapped view (else m itself): what
 * answers built from a request must echo. */
const struct sip_msg *proxy__topo_received(const struct proxy *p,
					   const struct sip_msg *m);
/* Edits for request m leaving through `out` into a hiding zone: via0 is
 * the sender's Via element as it would be forwarded, rr the
 * Record-Route value request.c would insert (empty: none). */
int proxy__topo_request(struct proxy *p, struct sip_bld *b,
			const struct sip_msg *m, struct proxy_fwd *f,
			const struct proxy_lis *out, struct str via0,
			struct str rr);
/* Edits for response m going back to f's requester in a hiding zone. */
int proxy__topo_response(struct proxy *p, struct sip_bld *b,
			 const struct sip_msg *m, const struct proxy_fwd *f,
			 bool registrar);
/* A request we make (BYE on expiry) into lis's hiding zone, in out. */
int proxy__topo_local(struct proxy *p, struct buf *out,
		      const struct proxy_lis *lis);
/* Response m to a hidden request: our Via becomes the kept stack. */
int proxy__topo_via_restore(struct sip_bld *b, const struct sip_msg *m,
			    const struct proxy_fwd *f);

/* anchor.c: SDP anchoring through the media relay (issue 6) */
struct proxy_anchor;
int proxy__anchor_new(struct proxy *p);
void proxy__anchor_free(struct proxy *p);
void proxy__anchor_tick(struct proxy *p);
/* Wipe the buffers that held our SDES keys, if the last message built
 * had them (after it was sent or copied into its transaction). */
void proxy__anchor_scrub(struct proxy *p);
/* Rewrite the SDP of m (from `from`, going out of `out`) into b.
 * 0, -EPROTO (bad SDP: answer 488), -EAGAIN (no relay port: 503). */
int proxy__anchor_request(struct proxy *p, struct sip_bld *b,
			  const struct sip_msg *m, const struct sip_peer *from,
			  const struct proxy_lis *out);
/* The same for a response received from `from`; 0 or -errno (drop). */
int proxy__anchor_response(struct proxy *p, struct sip_bld *b,
			   const struct sip_msg *m,
			   const struct sip_peer *from);
/* A dialog record ended: end its media call; the statistics as a JSON
 * fragment for the call record (valid until the next call). */
struct str proxy__anchor_dlg_end(struct proxy *p, struct sip_dlg *d);

#endif
