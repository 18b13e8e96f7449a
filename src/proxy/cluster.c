/*
 * cluster.c - the proxy's side of scale-out (issue 9): registration
 * bindings handed between instances, and dialog snapshots that let a
 * surviving instance end a dead one's calls.  The store (store.h) does
 * the Redis work; with the memory backend every call here is a no-op.
 *
 * Handoff.  A remote user registered through instance A is reachable
 * only through A: A holds its NAT flow or connection, and the registrar
 * holds A's rewritten Contact <sip:sg<token>@A;transport=...>
 * (registrar.c).  When the PBX sends that call to another instance B
 * (its outbound proxy, DNS SRV or anycast picked B), B finds the token in
 * its replica of the shared bindings and forwards the INVITE, Request-URI
 * unchanged, to A's handoff address (the host of that Contact, in the
 * trusted zone); A finds its own binding and delivers the call on the
 * flow.  B record-routes, so the whole dialog goes PBX - B - A - user.
 * Why forward rather than redirect (302) or take the flow over: a PBX
 * need not follow redirects, and a NAT flow or TCP connection cannot
 * move between hosts; only A can reach the user.
 *
 * Snapshots.  Each confirmed INVITE dialog is written when it is
 * confirmed and again when a request moves a CSeq forward or a 2xx
 * refreshes the target (so a BYE built from it carries a CSeq the UA
 * accepts), and deleted when it ends.  A survivor that takes the
 * snapshots over rebuilds each dialog (sip_dlg_restore), sends BYE to
 * both sides as on a timeout, and ends it with reason "takeover": the
 * call record is written by the usual path (proxy.c on_dlg_end).
 *
 * Taken over elsewhere.  An instance cut off from Redis past its
 * heartbeat's TTL is taken over though alive; when it is back, the store
 * tells it which of its dialogs were claimed (proxy__cl_taken).  It ends
 * them without BYE (the claimer sent them; a second BYE would meet 481
 * or, worse, a new call reusing the tags nowhere) and with reason
 * "taken-over-elsewhere", so both instances write a record of the call
 * and neither keeps it counted.  The least surprising of the choices:
 * keeping them would leave calls the PBX already ended counted against
 * the user's limit until the idle or max-duration timer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/siphash.h"
#include "proxy/proxy_int.h"
#include "store/store.h"

enum { CL_TOKEN_LEN = 16 };

/* ------------------------------------------------------------ helpers */

/* "udp:192.0.2.1:5060" for peer (its transport and address). */
static void peer_text(const struct sip_peer *pe, char *out, size_t sz)
{
	char as[SG_ADDR_STRLEN];

	snprintf(out, sz, "%s:%s", proxy__tp_param(pe->tp),
		 sg_addr_fmt(&pe->addr, as, sizeof(as)));
}

static int peer_parse(struct sip_peer *pe, struct str text)
{
	char t[STORE_ADDR_MAX];
	struct conf_addr ca;

	if (text.len == 0 || text.len >= sizeof(t))
		return -EINVAL;
	memcpy(t, text.p, text.len);
	t[text.len] = '\0';
	if (conf_addr_parse(&ca, t) != 0)
		return -EINVAL;
	memset(pe, 0, sizeof(*pe));
	pe->tp = ca.transport == CONF_TP_TCP   ? SIP_TP_TCP
		 : ca.transport == CONF_TP_TLS ? SIP_TP_TLS
					       : SIP_TP_UDP;
	pe->addr = ca.addr;
	return 0;
}

static int zone_by_name(const struct proxy *p, struct str name)
{
	unsigned z;

	for (z = 0; z < p->nzones; z++)
		if (str_eq_cstr(name, p->zones[z].c->name))
			return (int)z;
	return -1;
}

void proxy_set_store(struct proxy *p, struct store *s)
{
	struct store_cluster_events ev = {
		.resync = proxy__cl_resync,
		.takeover = proxy__cl_takeover,
		.taken = proxy__cl_taken,
		.arg = p,
	};

	if (!p)
		return;
	p->store = s;
	if (s)
		store_set_cluster_events(s, &ev);
}

/* ------------------------------------------------------------ handoff */

void proxy__cl_binding_put(struct proxy *p, struct str token,
			   const struct sip_peer *flow, unsigned lis,
			   struct str aor, struct str contact,
			   uint64_t expires_ms)
{
	char handoff[STORE_ADDR_MAX], fl[STORE_ADDR_MAX];
	struct store_binding b;

	if (!p->store || store_backend_of(p->store) != STORE_REDIS ||
	    lis >= p->nlis)
		return;
	snprintf(handoff, sizeof(handoff), "%s:%s",
		 proxy__tp_param(p->lis[lis].tp), p->lis[lis].hostport);
	peer_text(flow, fl, sizeof(fl));
	memset(&b, 0, sizeof(b));
	b.token = token;
	b.handoff = str_cstr(handoff);
	b.flow = str_cstr(fl);
	b.aor = aor.len <= STORE_URI_MAX ? aor : STR_NULL;
	b.contact = contact.len <= STORE_URI_MAX ? contact : STR_NULL;
	b.expires_wall_ms = proxy__wall_ms() + expires_ms;
	if (store_binding_put(p->store, &b) == -EINVAL) {
		/* An AOR or Contact we cannot share: share the route only. */
		b.aor = b.contact = STR_NULL;
		(void)store_binding_put(p->store, &b);
	}
}

void proxy__cl_binding_del(struct proxy *p, struct str token)
{
	if (p->store)
		(void)store_binding_del(p->store, token);
}

bool proxy__cl_lookup(struct proxy *p, const struct sip_uri *ruri,
		      unsigned zone, struct sip_peer *to)
{
	char handoff[STORE_ADDR_MAX];
	struct str tok;

	if (!p->store || ruri->user.len != 2 + CL_TOKEN_LEN ||
	    ruri->user.p[0] != 's' || ruri->user.p[1] != 'g')
		return false;
	tok = str_skip(ruri->user, 2);
	if (!store_binding_find(p->store, tok, proxy__wall_ms(), handoff,
				sizeof(handoff)) ||
	    peer_parse(to, str_cstr(handoff)) != 0)
		return false;
	/* Into the zone the call came from: the instances' trusted side. */
	to->zone = (uint16_t)zone;
	p->st.handoffs++;
	return true;
}

void proxy__cl_route_zone(struct proxy *p, const struct sip_msg *m,
			  const struct sip_peer *to, unsigned *zonep)
{
	enum sip_dlg_side s;
	struct sip_dlg *d;

	if (!m->to.tag.len)
		return;
	d = sip_dlg_find(p->dlgs, m->call_id, m->from.tag, m->to.tag, &s);
	if (!d)
		return;
	s = s == SIP_DLG_CALLER ? SIP_DLG_CALLEE : SIP_DLG_CALLER;
	if (d->side[s].has_peer && d->side[s].peer.zone < p->nzones &&
	    sg_addr_eq(&d->side[s].peer.addr, &to->addr))
		*zonep = d->side[s].peer.zone;
}

/* ---------------------------------------------------------- snapshots */

/* This instance's name for d in the store: a keyed hash of its id. */
static void snap_key(const struct proxy *p, const struct sip_dlg *d,
		     char out[CL_TOKEN_LEN + 1])
{
	struct str cid = sip_dlg_str(d, SIP_DLG_S_CALL_ID);
	uint64_t h = siphash24(cid.p, cid.len, p->key);
	struct str t0 = sip_dlg_str(d, SIP_DLG_S_CALLER_TAG);
	struct str t1 = sip_dlg_str(d, SIP_DLG_S_CALLEE_TAG);
	static const char hex[] = "0123456789abcdef";
	int i;

	h ^= siphash24(t0.p, t0.len, p->key) * 31;
	h ^= siphash24(t1.p, t1.len, p->key) * 131;
	/* "%016llx" without snprintf: twice per call (bench-store). */
	for (i = CL_TOKEN_LEN - 1; i >= 0; i--, h >>= 4)
		out[i] = hex[h & 15];
	out[CL_TOKEN_LEN] = '\0';
}

static bool snap_wanted(const struct proxy *p, const struct sip_dlg *d)
{
	return p->store && store_backend_of(p->store) == STORE_REDIS && d &&
	       d->kind == SIP_DLG_INVITE && d->state == SIP_DLG_CONFIRMED &&
	       d->user != p; /* not one taken over from a dead instance */
}

static void snap_write(struct proxy *p, const struct sip_dlg *d)
{
	char key[CL_TOKEN_LEN + 1], addr[2][STORE_ADDR_MAX];
	struct store_snap s;
	unsigned i;

	memset(&s, 0, sizeof(s));
	s.call_id = sip_dlg_str(d, SIP_DLG_S_CALL_ID);
	s.route = sip_dlg_str(d, SIP_DLG_S_ROUTE);
	s.n_route = d->n_route;
	s.n_up = d->n_up <= d->n_route ? d->n_up : d->n_route;
	s.final_status = d->final_status;
	s.start_wall_ms = d->start_wall;
	s.answer_wall_ms =
		d->answer_mono >= d->start_mono
			? d->start_wall + (d->answer_mono - d->start_mono)
			: d->start_wall;
	for (i = 0; i < 2; i++) {
		const struct sip_dlg_party *pa = &d->side[i];
		struct store_snap_leg *l = &s.leg[i];

		l->uri = sip_dlg_side_str(d, (enum sip_dlg_side)i, 0);
		l->tag = sip_dlg_side_str(d, (enum sip_dlg_side)i, 1);
		l->contact = sip_dlg_side_str(d, (enum sip_dlg_side)i, 2);
		l->cseq = pa->cseq;
		l->has_cseq = pa->has_cseq;
		if (pa->has_peer && pa->peer.zone < p->nzones) {
			peer_text(&pa->peer, addr[i], sizeof(addr[i]));
			l->addr = str_cstr(addr[i]);
			l->zone = str_cstr(p->zones[pa->peer.zone].c->name);
		}
	}
	snap_key(p, d, key);
	if (store_snap_put(p->store, str_cstr(key), &s) == -EINVAL)
		LOG_RL(LOG_LVL_INFO,
		       "store: a dialog cannot be snapshotted "
		       "(a field out of bounds): it is not taken over if this "
		       "instance dies");
}

void proxy__cl_dlg_request(struct proxy *p, const struct sip_msg *m,
			   const struct sip_dlg_match *dm)
{
	if (dm->cseq == SIP_DLG_CSEQ_NEW && m->mid != SIP_METHOD_BYE &&
	    m->mid != SIP_METHOD_ACK && snap_wanted(p, dm->dlg))
		snap_write(p, dm->dlg);
}

void proxy__cl_dlg_response(struct proxy *p, const struct sip_msg *resp,
			    const struct sip_dlg_match *dm)
{
	if (resp->status >= 200 && resp->status < 300 &&
	    (resp->cseq.mid == SIP_METHOD_INVITE ||
	     resp->cseq.mid == SIP_METHOD_UPDATE) &&
	    snap_wanted(p, dm->dlg))
		snap_write(p, dm->dlg);
}

void proxy__cl_dlg_end(struct proxy *p, const struct sip_dlg *d)
{
	char key[CL_TOKEN_LEN + 1];

	if (!p->store || store_backend_of(p->store) != STORE_REDIS ||
	    d->kind != SIP_DLG_INVITE || d->reached < SIP_DLG_CONFIRMED ||
	    d->user == p)
		return;
	snap_key(p, d, key);
	(void)store_snap_del(p->store, str_cstr(key));
}

/* Redis is back and our state there was cleared: write it all again. */
void proxy__cl_resync(void *arg)
{
	struct proxy *p = arg;
	struct sip_dlgs_iter it;
	struct sip_dlg *d;
	size_t n = 0;

	proxy__reg_publish_all(p);
	sip_dlgs_iter_init(&it, p->dlgs);
	while ((d = sip_dlgs_iter_next(&it)) != NULL)
		if (snap_wanted(p, d)) {
			snap_write(p, d);
			n++;
		}
	log_info("store: %zu bindings and %zu call snapshots written",
		 proxy__reg_count(p->reg), n);
}

/* ----------------------------------------------------------- takeover */

static void restore_from(struct proxy *p, struct sip_dlg_restore *r,
			 const struct store_snap *s)
{
	unsigned i;
	int z;

	memset(r, 0, sizeof(*r));
	r->call_id = s->call_id;
	r->route = s->route;
	r->n_route = s->n_route;
	r->n_up = s->n_up;
	r->final_status = s->final_status;
	r->start_wall = s->start_wall_ms;
	r->answer_wall = s->answer_wall_ms;
	r->now_wall = proxy__wall_ms();
	for (i = 0; i < 2; i++) {
		const struct store_snap_leg *l = &s->leg[i];

		r->uri[i] = l->uri;
		r->tag[i] = l->tag;
		r->contact[i] = l->contact;
		r->cseq[i] = l->cseq;
		r->has_cseq[i] = l->has_cseq;
		z = zone_by_name(p, l->zone);
		/* A side in a zone we do not have gets no BYE from us. */
		if (z >= 0 && peer_parse(&r->peer[i], l->addr) == 0) {
			r->peer[i].zone = (uint16_t)z;
			r->has_peer[i] = true;
		}
	}
}

void proxy__cl_takeover(void *arg, const char *owner,
			const struct store_snap *s)
{
	struct proxy *p = arg;
	struct sip_dlg_restore r;
	struct sip_dlg *d = NULL;
	int rc;

	restore_from(p, &r, s);
	rc = sip_dlg_restore(p->dlgs, &r, &d);
	if (rc == 0) {
		d->user = p; /* taken over: no snapshot of ours */
	} else if (rc != -EEXIST || !d || d->state != SIP_DLG_CONFIRMED) {
		/* -EEXIST: the call crossed this instance too (a handoff);
		 * it is ended from our own record below. */
		LOG_RL(LOG_LVL_WARN,
		       "store: call of dead instance %s not "
		       "taken over: %s",
		       owner, strerror(-rc));
		return;
	}
	p->st.taken_over++;
	proxy__bye_both(p, d, SIP_DLG_END_TAKEOVER);
	(void)sip_dlg_end(d, SIP_DLG_END_TAKEOVER);
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void proxy__cl_taken(void *arg, const char *claimer, const char *const *keys,
		     size_t n)
{
	struct proxy *p = arg;
	struct sip_dlgs_iter it;
	struct sip_dlg *d;
	char key[CL_TOKEN_LEN + 1];
	const char *kp = key;
	size_t ended = 0;

	sip_dlgs_iter_init(&it, p->dlgs);
	while ((d = sip_dlgs_iter_next(&it)) != NULL) {
		if (!snap_wanted(p, d))
			continue;
		snap_key(p, d, key);
		if (!bsearch(&kp, keys, n, sizeof(*keys), key_cmp))
			continue;
		/* ended at the next safe point: the iteration goes on */
		if (sip_dlg_end(d, SIP_DLG_END_TAKEN_ELSEWHERE) == 0)
			ended++;
	}
	p->st.taken_elsewhere += ended;
	if (ended) /* none: a restart, those calls died with us */
		log_warn("store: %zu of our calls were ended by instance %s "
			 "while we were cut off from redis: ended here too",
			 ended, claimer);
}
