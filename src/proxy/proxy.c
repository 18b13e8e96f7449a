/*
 * proxy.c - the proxy object: zones and listeners from the configuration,
 * the receive path (parse, refuse, dispatch to request/response
 * handling), the transaction and dialog callbacks, call records.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/siphash.h"
#include "events/events.h"
#include "proxy/proxy_int.h"
#include "transport/transport.h"

enum {
	PROXY_LOG_FIELD = 96,
};

uint64_t proxy__wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int proxy__send(struct proxy *p, const struct sip_peer *to, const char *b,
		size_t n)
{
	int err = tp_send(p->tp, to, b, n);

	if (err >= 0 && p->hep)
		proxy__hep_msg(p, to, b, n, false);
	if (err < 0) {
		char as[SG_ADDR_STRLEN];

		LOG_RL(LOG_LVL_WARN, "send to %s %s failed: %s",
		       sip_tp_name(to->tp),
		       sg_addr_fmt(&to->addr, as, sizeof(as)), strerror(-err));
	}
	return err < 0 ? err : 0;
}

void proxy__reply_stateless(struct proxy *p, const struct sip_msg *m,
			    const struct sip_peer *from, int status,
			    const char *reason, struct str extra)
{
	char tag[PROXY_TAG_LEN + 1];

	m = proxy__topo_received(p, m); /* never the internal view */
	proxy__tag(p, m, tag);
	buf_reset(&p->out);
	if (sip_reply(&p->out, m, status, str_cstr(reason ? reason : ""),
		      str_cstr(tag), extra) == 0)
		(void)proxy__send(p, from, p->out.p, p->out.len);
}

/* A message that failed to parse: answer a request when safe, else drop
 * (garbage and responses are never answered: that only helps scanners). */
static void refuse(struct proxy *p, const struct sip_peer *from, const char *b,
		   size_t n, const struct sip_perr *pe)
{
	char reason[160], tag[17], src[SG_ADDR_STRLEN];
	int status = sip_perr_status(pe->code);
	bool answered = false;

	p->st.rx_malformed++;
	proxy__met_malformed(p, from);
	snprintf(reason, sizeof(reason), "%s - %s", sip_status_reason(status),
		 pe->reason ? pe->reason : "malformed");
	snprintf(tag, sizeof(tag), "%016llx",
		 (unsigned long long)siphash24(b, n, p->key));
	buf_reset(&p->out);
	if (sip_reply_raw(&p->out, str_make(b, n), status, str_cstr(reason),
			  str_cstr(tag), STR_NULL) == 0)
		answered = proxy__send(p, from, p->out.p, p->out.len) == 0;
	LOG_RL(LOG_LVL_INFO, "rx %s %s zone=%s: refused: %d %s at byte %u, %s",
	       sip_tp_name(from->tp),
	       sg_addr_fmt(&from->addr, src, sizeof(src)),
	       p->zones[from->zone].c->name, status,
	       pe->reason ? pe->reason : "malformed", pe->off,
	       answered ? "answered" : "dropped");
}

static void log_rx(const struct proxy *p, const struct sip_peer *from,
		   const struct sip_msg *m)
{
	char a[LOG_SAFE_SIZE(PROXY_LOG_FIELD)],
		c[LOG_SAFE_SIZE(PROXY_LOG_FIELD)];
	char b[LOG_SAFE_SIZE(32)];
	char src[SG_ADDR_STRLEN];
	struct str s1 = m->is_request ? m->ruri_raw : m->reason;
	struct str s2 = m->call_id;

	if (!log_enabled(LOG_LVL_DEBUG))
		return;
	if (s1.len > PROXY_LOG_FIELD)
		s1.len = PROXY_LOG_FIELD;
	if (s2.len > PROXY_LOG_FIELD)
		s2.len = PROXY_LOG_FIELD;
	sg_addr_fmt(&from->addr, src, sizeof(src));
	if (m->is_request)
		log_debug("rx %s %s zone=%s: %s %s call-id=%s cseq=%u",
			  sip_tp_name(from->tp), src,
			  p->zones[from->zone].c->name,
			  log_safe(b, sizeof(b), str_sub(m->method, 0, 32)),
			  log_safe(a, sizeof(a), s1),
			  log_safe(c, sizeof(c), s2), m->cseq.num);
	else
		log_debug("rx %s %s zone=%s: %u %s call-id=%s cseq=%u",
			  sip_tp_name(from->tp), src,
			  p->zones[from->zone].c->name, m->status,
			  log_safe(a, sizeof(a), s1),
			  log_safe(c, sizeof(c), s2), m->cseq.num);
}

/* Transport callback: one datagram or one framed stream message. */
static void on_recv(void *arg, const struct sip_peer *from, const char *b,
		    size_t n)
{
	struct proxy *p = arg;
	struct sip_perr pe = {0};
	uint64_t t0;

	if (n <= 4 && str_trim(str_make(b, n)).len == 0)
		return; /* CRLF keep-alive over UDP */
	if (p->hep)
		proxy__hep_msg(p, from, b, n, true);
	if (sip_msg_parse(p->msg, b, n, &p->lim,
			  from->tp == SIP_TP_UDP ? SIP_PARSE_DGRAM
						 : SIP_PARSE_STREAM,
			  &pe) != 0) {
		refuse(p, from, b, n, &pe);
		return;
	}
	log_rx(p, from, p->msg);
	t0 = proxy__met_rx(p, from, p->msg);
	if (p->msg->is_request)
		proxy__request(p, p->msg, from);
	else
		proxy__response(p, p->msg, from);
	proxy__anchor_scrub(p);
	proxy__met_done(p, p->msg, t0);
}

/* Transport callback: the pre-parse gate. */
static bool on_gate(void *arg, const struct sg_addr *src, enum sip_tp tp,
		    uint16_t zone, size_t bytes)
{
	struct proxy *p = arg;

	uint64_t now = loop_now(p->loop);

	/* No clock read per datagram: the loop's now plus an offset that
	 * the tick refreshes is close enough for event time stamps. */
	return guard_gate(p->guard, src, tp, zone, bytes, now,
			  (uint64_t)((int64_t)now + p->wall_off));
}

/* Once a second: guard housekeeping and the overload signal. */
static void on_tick(void *arg)
{
	struct proxy *p = arg;
	uint64_t max = p->conf->sip.max_transactions;

	guard_set_load(p->guard,
		       max ? (unsigned)(sip_txl_count(p->txl) * 100 / max) : 0);
	guard_tick(p->guard, loop_now(p->loop));
	/* After a burst of calls, thousands of transactions end together;
	 * give their memory back to the system, so that memory in use
	 * follows the calls actually up (glibc keeps freed heap). */
	{
		size_t n = sip_txl_count(p->txl);

		if (n > p->trim_mark)
			p->trim_mark = n;
		else if (p->trim_mark - n >= PROXY_TRIM_TXNS) {
			malloc_trim(0);
			p->trim_mark = n;
		}
	}
	p->wall_off = (int64_t)proxy__wall_ms() - (int64_t)loop_now(p->loop);
	proxy__anchor_tick(p);
	tmr_start(loop_timers(p->loop), &p->tick, PROXY_TICK_MS, on_tick, p);
}

/* ------------------------------------------------- txn callbacks */

static int txl_send(void *arg, const struct sip_peer *to, const char *b,
		    size_t n)
{
	return proxy__send(arg, to, b, n);
}

static void on_ctx_response(void *user, struct sip_ctx *ctx,
			    const struct sip_msg *resp,
			    const struct sip_peer *from)
{
	enum proxy_user_kind *k = user;

	if (!k)
		return;
	if (*k == PROXY_U_PROBE)
		proxy__probe_response(user, resp->status);
	else
		proxy__ctx_response(user, ctx, resp, from);
}

static void on_ctx_timeout(void *user, struct sip_ctx *ctx, int err)
{
	enum proxy_user_kind *k = user;

	if (!k)
		return;
	if (*k == PROXY_U_PROBE)
		proxy__probe_failed(user);
	else
		proxy__ctx_timeout(user, ctx, err);
}

static void on_ctx_gone(void *user, struct sip_ctx *ctx)
{
	enum proxy_user_kind *k = user;

	if (!k)
		return;
	if (*k == PROXY_U_PROBE) {
		struct proxy_backend *be = user;

		if (be->probe_ctx == ctx)
			be->probe_ctx = NULL;
		return;
	}
	{
		struct proxy_fwd *f = user;

		if (f->ctx == ctx)
			f->ctx = NULL;
		proxy__fwd_release(f);
	}
}

static void on_stx_gone(void *user, struct sip_stx *stx)
{
	struct proxy_fwd *f = user;

	if (!f)
		return;
	if (f->stx == stx)
		f->stx = NULL;
	proxy__fwd_release(f);
}

/* ---------------------------------------------- dialog callbacks */

static void on_dlg_end(void *arg, struct sip_dlg *d)
{
	struct proxy *p = arg;
	struct str media = proxy__anchor_dlg_end(p, d);

	if (d->record && p->cdr)
		cdr_write_extra(p->cdr, d, media);
	proxy__cl_dlg_end(p, d);
	guard_call_end(p->guard, d, loop_now(p->loop), proxy__wall_ms());
}

/* A dialog timed out (max duration, idle, session expiry): BYE both. */
static void on_dlg_expire(void *arg, struct sip_dlg *d, enum sip_dlg_reason r)
{
	struct proxy *p = arg;
	char reason[96];
	unsigned self_rr;
	int s;

	if (d->state != SIP_DLG_CONFIRMED)
		return;
	/* We record-route twice when the call crosses zones or transports
	 * (see request.c), once otherwise. */
	self_rr = (d->side[0].peer.zone != d->side[1].peer.zone ||
		   d->side[0].peer.tp != d->side[1].peer.tp)
			  ? 2
			  : 1;
	/* RFC 3326 Reason header value. */
	snprintf(reason, sizeof(reason), "SIP;cause=200;text=\"sipguard %s\"",
		 sip_dlg_reason_name(r));
	for (s = 0; s < 2; s++) {
		const struct sip_peer *to = &d->side[s].peer;
		const struct proxy_lis *out;
		char branch[SIP_TXN_BRANCH_LEN + 1];
		struct sip_dlg_bye bye;
		struct sip_ctx *ctx;
		size_t blen;

		if (!d->side[s].has_peer)
			continue;
		out = proxy__egress(p, to->zone, to);
		if (!out)
			continue;
		blen = sip_txl_branch(p->txl, branch);
		memset(&bye, 0, sizeof(bye));
		bye.via_host = str_cstr(out->hostport);
		bye.branch = str_make(branch, blen);
		bye.tp = out->tp;
		bye.self_rr = self_rr;
		bye.reason = str_cstr(reason);
		buf_reset(&p->out);
		if (sip_dlg_build_bye(d, (enum sip_dlg_side)s, &bye, &p->out,
				      NULL) != 0)
			continue;
		/* Into a hiding zone: hide it like a forwarded request. */
		if (proxy__topo_zone(p, out->zone) &&
		    proxy__topo_local(p, &p->out, out) != 0)
			continue;
		(void)sip_ctx_new(&ctx, p->txl, to, bye.branch, STR("BYE"),
				  p->out.p, p->out.len, NULL);
	}
}

void proxy__bye_both(struct proxy *p, struct sip_dlg *d, enum sip_dlg_reason r)
{
	on_dlg_expire(p, d, r);
}

/* ------------------------------------------------------- set-up */

static int add_listener(struct proxy *p, const struct conf_addr *ca,
			unsigned zone)
{
	struct proxy_lis *l = &p->lis[p->nlis];
	enum sip_tp tp = ca->transport == CONF_TP_TCP   ? SIP_TP_TCP
			 : ca->transport == CONF_TP_TLS ? SIP_TP_TLS
							: SIP_TP_UDP;
	char as[SG_ADDR_STRLEN];
	int err;

	err = tp_listen(p->tp, tp, &ca->addr, (uint16_t)zone, &l->local);
	if (err) {
		log_err("zone %s: cannot listen on %s %s: %s",
			p->zones[zone].c->name, sip_tp_name(tp),
			sg_addr_fmt(&ca->addr, as, sizeof(as)),
			tp == SIP_TP_TLS && err == -EPROTONOSUPPORT
				? "no certificate (zones[].tls.certificates)"
				: strerror(-err));
		return err;
	}
	l->zone = (uint16_t)zone;
	l->tp = tp;
	l->addr = ca->addr;
	sg_addr_fmt(&ca->addr, l->hostport, sizeof(l->hostport));
	if (sg_addr_family(&ca->addr) == AF_INET6) {
		char ip[SG_ADDR_STRLEN];

		snprintf(l->host, sizeof(l->host), "[%s]",
			 sg_addr_ip(&ca->addr, ip, sizeof(ip)));
	} else {
		sg_addr_ip(&ca->addr, l->host, sizeof(l->host));
	}
	p->nlis++;
	log_info("zone %s (%s): listening on %s %s", p->zones[zone].c->name,
		 p->zones[zone].trusted ? "trusted" : "untrusted",
		 sip_tp_name(tp), l->hostport);
	return 0;
}

static int peer_from_conf(struct sip_peer *peer, const char *s)
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

static int setup_zones(struct proxy *p)
{
	const struct sg_conf *c = p->conf;
	unsigned z, i, j;
	int err;

	p->nzones = (unsigned)c->n_zones;
	for (z = 0; z < p->nzones; z++) {
		struct proxy_zone *pz = &p->zones[z];

		pz->c = &c->zones[z];
		pz->idx = z;
		pz->trusted = c->zones[z].trust == CONF_TRUSTED;
	}
	err = proxy__tls_setup(p);
	if (err)
		return err;
	for (z = 0; z < p->nzones; z++) {
		struct proxy_zone *pz = &p->zones[z];

		/* Requests cross to the first zone of the other trust. */
		pz->egress = -1;
		for (j = 0; j < p->nzones && pz->egress < 0; j++)
			if (p->zones[j].trusted != pz->trusted)
				pz->egress = (int)j;
		for (i = 0; i < pz->c->n_listen; i++) {
			struct conf_addr ca;

			if (conf_addr_parse(&ca, pz->c->listen[i]) != 0)
				return -EINVAL;
			err = add_listener(p, &ca, z);
			if (err)
				return err;
		}
		for (i = 0; i < pz->c->route.n_backends; i++) {
			struct proxy_backend *be = &pz->be[pz->nbe];

			if (peer_from_conf(&be->peer, pz->c->route.backends[i]))
				return -EINVAL;
			be->kind = PROXY_U_PROBE;
			be->p = p;
			be->zone = z;
			be->idx = pz->nbe++;
			be->up = true;
			sg_addr_fmt(&be->peer.addr, be->hostport,
				    sizeof(be->hostport));
		}
		if (pz->c->route.trunk[0]) {
			if (peer_from_conf(&pz->trunk, pz->c->route.trunk))
				return -EINVAL;
			pz->has_trunk = true;
		}
	}
	return p->nlis ? 0 : -ENOENT;
}

static void limits_from_conf(struct sip_limits *lim, const struct sg_conf *c)
{
	*lim = sip_limits_default;
	lim->max_msg_size = (size_t)c->sip.limits.max_message_size;
	lim->max_headers = (unsigned)c->sip.limits.max_headers;
	lim->max_line = (size_t)c->sip.limits.max_header_line;
	lim->max_via = (unsigned)c->sip.limits.max_via;
	lim->max_uri = (size_t)c->sip.limits.max_uri;
	lim->max_parts = (unsigned)c->sip.limits.max_body_parts;
}

static int setup_layers(struct proxy *p)
{
	const struct sg_conf *c = p->conf;
	struct tp_conf tc = tp_conf_default;
	struct sip_txn_conf txc = sip_txn_conf_default;
	struct sip_dlg_conf dc = sip_dlg_conf_default;
	struct sip_txl_cb cb = {
		.send = txl_send,
		.send_arg = p,
		.ctx_response = on_ctx_response,
		.ctx_timeout = on_ctx_timeout,
		.ctx_gone = on_ctx_gone,
		.stx_gone = on_stx_gone,
	};
	struct sip_dlg_cbs dcb = {
		.on_end = on_dlg_end,
		.on_expire = on_dlg_expire,
	};
	int err;

	tc.lim = p->lim;
	if (c->n_zones && c->zones[0].tcp.idle_timeout > 0)
		tc.idle_ms = (uint64_t)c->zones[0].tcp.idle_timeout;
	if (c->n_zones && c->zones[0].tcp.max_connections_per_source > 0)
		tc.max_conns_per_ip =
			(unsigned)c->zones[0].tcp.max_connections_per_source;
	err = tp_new(&p->tp, p->loop, &tc, on_recv, p);
	if (err)
		return err;
	txc.t1_ms = (uint32_t)c->sip.t1;
	txc.t2_ms = (uint32_t)c->sip.t2;
	txc.t4_ms = (uint32_t)c->sip.t4;
	txc.max_txn = (uint32_t)c->sip.max_transactions;
	txc.max_bytes = (size_t)c->sip.max_transaction_memory;
	err = sip_txl_new(&p->txl, &txc, &cb, loop_timers(p->loop));
	if (err)
		return err;
	dc.max_dialogs = (size_t)c->sip.max_dialogs;
	dc.max_duration_ms = (uint64_t)c->sip.max_call_duration;
	dc.idle_timeout_ms = (uint64_t)c->sip.dialog_idle_timeout;
	dc.setup_timeout_ms = (uint64_t)c->sip.setup_timeout;
	err = sip_dlgs_new(&p->dlgs, &dc, loop_timers(p->loop), &dcb, p);
	if (err)
		return err;
	err = proxy__reg_new(&p->reg, p);
	if (err)
		return err;
	if (c->log.events_file[0]) {
		err = evlog_open(&p->ev, c->log.events_file, NULL);
		if (err) {
			log_err("cannot open events file %s: %s",
				c->log.events_file, strerror(-err));
			return err;
		}
	}
	err = proxy__hep_open(p);
	if (err)
		return err;
	{
		struct guard_conf gc;
		char gerr[256] = "";
		unsigned i;

		for (i = 0; i < c->guard.n_allow && i < CONF_MAX_ALLOW; i++)
			p->allow[i] = c->guard.allow[i];
		proxy__guard_conf(&gc, c, p->allow);
		err = guard_new(&p->guard, &gc, p->ev, gerr, sizeof(gerr));
		if (err) {
			log_err("guard: %s", gerr[0] ? gerr : strerror(-err));
			return err;
		}
		tp_set_gate(p->tp, on_gate, p);
		err = proxy__holds_new(p);
		if (err)
			return err;
	}
	if (c->log.call_records_file[0]) {
		err = cdr_open(&p->cdr, c->log.call_records_file);
		if (err) {
			log_err("cannot open call records file %s: %s",
				c->log.call_records_file, strerror(-err));
			return err;
		}
	}
	return 0;
}

int proxy_new(struct proxy **pp, struct loop *loop, const struct sg_conf *conf)
{
	struct proxy *p = mem_zalloc(sizeof(*p));
	int err = -ENOMEM;

	if (!p)
		return -ENOMEM;
	p->loop = loop;
	p->conf = conf;
	limits_from_conf(&p->lim, conf);
	proxy__dlg_conf(p);
	buf_init(&p->out, PROXY_OUT_MAX);
	p->msg = mem_alloc(sizeof(*p->msg));
	p->msg2 = mem_alloc(sizeof(*p->msg2));
	if (!p->msg || !p->msg2)
		goto fail;
	if (getrandom(p->key, sizeof(p->key), 0) != (ssize_t)sizeof(p->key)) {
		err = -EIO;
		goto fail;
	}
	err = setup_layers(p);
	if (err)
		goto fail;
	err = proxy__topo_new(p);
	if (err)
		goto fail;
	err = setup_zones(p);
	if (err)
		goto fail;
	err = proxy__anchor_new(p);
	if (err)
		goto fail;
	for (unsigned z = 0; z < p->nzones; z++)
		p->zone_names[z] = p->zones[z].c->name;
	cdr_set_zone_names(p->cdr, p->zone_names, p->nzones);
	tmr_init(&p->tick);
	p->wall_off = (int64_t)proxy__wall_ms() - (int64_t)loop_now(loop);
	tmr_start(loop_timers(loop), &p->tick, PROXY_TICK_MS, on_tick, p);
	proxy__backends_start(p);
	*pp = p;
	return 0;
fail:
	proxy_free(p);
	return err;
}

void proxy_free(struct proxy *p)
{
	if (!p)
		return;
	proxy__backends_stop(p);
	proxy__anchor_free(p);
	tmr_cancel(&p->tick);
	/* Transactions first (freed without callbacks), then the fwd
	 * contexts their user pointers referred to. */
	proxy__holds_free(p);
	sip_txl_free(p->txl);
	proxy__fwd_free_all(p);
	sip_dlgs_free(p->dlgs);
	proxy__reg_free(p->reg);
	cdr_close(p->cdr);
	tp_free(p->tp);
	guard_free(p->guard);
	evlog_close(p->ev);
	proxy__topo_free(p);
	proxy__hep_close(p);
	buf_free(&p->out);
	mem_free(p->msg);
	mem_free(p->msg2);
	mem_free(p);
}

struct guard *proxy_guard(struct proxy *p)
{
	return p->guard;
}

struct evlog *proxy_evlog(struct proxy *p)
{
	return p->ev;
}

void proxy_get_stats(const struct proxy *p, struct proxy_stats *st)
{
	*st = p->st;
	st->dialogs_active = sip_dlgs_count(p->dlgs, SIP_DLG_CONFIRMED);
	st->calls_active = sip_dlgs_count(p->dlgs, SIP_DLG__NSTATES);
	st->bindings = proxy__reg_count(p->reg);
	{
		struct tp_stats ts;

		tp_get_stats(p->tp, &ts);
		st->tls_handshakes = ts.tls_handshakes;
		st->tls_resumed = ts.tls_resumed;
		st->tls_failed = ts.tls_failed;
		st->udp_rx_overflow = ts.udp_rx_overflow;
	}
}
