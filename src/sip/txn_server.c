/*
 * txn_server.c - server transactions (RFC 3261 17.2), the proxy's
 * inbound side: matching (17.2.3, with the RFC 2543 fallback), the
 * INVITE machine (17.2.1, RFC 6026 Accepted state) with Timers G, H, I,
 * L, and the non-INVITE machine (17.2.2) with Timer J.
 *
 * At creation a transaction copies its matching keys and a response
 * skeleton: the Via, From, To, Call-ID and CSeq lines of the request in
 * order, with folds collapsed and the top Via completed per RFC 3581
 * (received, rport value), so it can answer later (100, 408, 487, 503)
 * without the request.  Everything sits in the one allocation.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "core/mem.h"
#include "sip/txn_int.h"

enum {
	RECEIVED_EXTRA = sizeof(";received=") - 1 + INET6_ADDRSTRLEN,
	RPORT_EXTRA = sizeof("=65535") - 1,
	CRLF_LEN = 2,
};

/* What a request is matched on; see sip__stx_eq(). */
struct stx_key {
	const struct sip_msg *msg;
	bool rfc3261;
	enum sip_method mid; /* INVITE for an ACK or a CANCEL's target */
	struct str mname;
	bool ack; /* 2543: To tag against our response's */
	uint64_t ack_tag_hv;
};

static bool has_cookie(const struct sip_via *v)
{
	size_t n = sizeof(SIP_TXN_COOKIE) - 1;

	/* A bare cookie is no unique id: treat it as RFC 2543. */
	return v->has_branch && v->branch.len > n &&
	       memcmp(v->branch.p, SIP_TXN_COOKIE, n) == 0;
}

static bool method_eq(const struct sip_stx *s, const struct stx_key *k)
{
	return s->t.mid == k->mid &&
	       (k->mid != SIP_METHOD_UNKNOWN || str_eq(s->mname, k->mname));
}

static bool ruri_eq(const struct sip_stx *s, const struct sip_msg *m)
{
	struct sip_uri u;

	if (sip_uri_parse(&u, s->ruri, SIP_MAX_URI, NULL) != 0)
		return str_eq(s->ruri, m->ruri_raw);
	return sip_uri_equal(&u, &m->ruri);
}

bool sip__stx_eq(const struct hnode *n, const void *key)
{
	const struct sip_stx *s = HTAB_ENTRY(n, const struct sip_stx, t.hn);
	const struct stx_key *k = key;
	const struct sip_msg *m = k->msg;
	const struct sip_via *v = &m->via[0];

	if (s->rfc3261 != k->rfc3261 || !method_eq(s, k))
		return false;
	if (s->rfc3261)
		return str_caseeq(s->branch, v->branch) &&
		       str_caseeq(s->host, v->host) && s->port == v->port &&
		       s->has_port == v->has_port;
	/* RFC 3261 17.2.3, the paragraphs on RFC 2543 requests. */
	if (s->cseq != m->cseq.num || !str_eq(s->call_id, m->call_id) ||
	    !str_eq(s->from_tag, m->from.tag) || !str_eq(s->via, v->raw))
		return false;
	if (k->ack ? !s->has_resp_tag || s->resp_tag_hv != k->ack_tag_hv
		   : !str_eq(s->to_tag, m->to.tag))
		return false;
	return ruri_eq(s, m);
}

static uint64_t key_hash(const struct sip_txl *txl, const struct stx_key *k)
{
	const struct sip_msg *m = k->msg;

	if (k->rfc3261)
		return htab_hash_case(&txl->stx_tab, m->via[0].branch.p,
				      m->via[0].branch.len);
	return htab_hash(&txl->stx_tab, m->call_id.p, m->call_id.len) ^
	       ((uint64_t)m->cseq.num * 0x9e3779b97f4a7c15ULL);
}

static struct sip_stx *lookup(struct sip_txl *txl, const struct sip_msg *m,
			      bool as_invite)
{
	struct stx_key k = {.msg = m};
	struct hnode *n;

	k.rfc3261 = has_cookie(&m->via[0]);
	k.ack = m->mid == SIP_METHOD_ACK;
	if (as_invite || k.ack) {
		k.mid = SIP_METHOD_INVITE;
		k.mname = STR("INVITE");
	} else {
		k.mid = m->mid;
		k.mname = m->method;
	}
	if (k.ack && !k.rfc3261)
		k.ack_tag_hv =
			htab_hash(&txl->stx_tab, m->to.tag.p, m->to.tag.len);
	n = htab_find(&txl->stx_tab, key_hash(txl, &k), sip__stx_eq, &k);
	return n ? HTAB_ENTRY(n, struct sip_stx, t.hn) : NULL;
}

/* ------------------------------------------------------ the skeleton */

static bool skel_hdr(enum sip_hdr_id id)
{
	return id == SIP_HDR_VIA || id == SIP_HDR_FROM || id == SIP_HDR_TO ||
	       id == SIP_HDR_CALL_ID || id == SIP_HDR_CSEQ;
}

static size_t skel_bound(const struct sip_msg *m)
{
	size_t n = RECEIVED_EXTRA + RPORT_EXTRA;
	unsigned i;

	for (i = 0; i < m->nhdr; i++)
		if (skel_hdr(m->hdr[i].id))
			n += strlen(sip_hdr_name(m->hdr[i].id)) + 2 +
			     m->hdr[i].value.len + CRLF_LEN;
	return n;
}

/* Where "=port" goes for a bare ";rport" (RFC 3581 4), or NULL. */
static const char *bare_rport(const struct sip_via *v)
{
	struct sip_params pp;
	unsigned i;

	if (!v->has_rport || v->rport.len || !v->params.p ||
	    sip_params_parse(&pp, v->params, NULL) != 0)
		return NULL;
	for (i = 0; i < pp.n; i++)
		if (str_caseeq_cstr(pp.p[i].name, "rport") &&
		    !pp.p[i].has_value)
			return pp.p[i].name.p + pp.p[i].name.len;
	return NULL;
}

/* The source IP as text when received= must be added (18.2.1, RFC 3581
 * 4: always with a bare rport), else NULL. */
static const char *received_ip(const struct sip_via *v,
			       const struct sip_peer *from, bool rport,
			       char *ip, size_t sz)
{
	int af = sg_addr_family(&from->addr);
	struct str host = v->host;

	if ((af != AF_INET && af != AF_INET6) || v->has_received)
		return NULL;
	if (!inet_ntop(af,
		       af == AF_INET6
			       ? (const void *)&from->addr.u.in6.sin6_addr
			       : (const void *)&from->addr.u.in.sin_addr,
		       ip, (socklen_t)sz))
		return NULL;
	if (v->host_type == SIP_HOST_IPV6 && host.len >= 2)
		host = str_sub(host, 1, host.len - 2);
	if (!rport && v->host_type != SIP_HOST_NAME &&
	    str_caseeq_cstr(host, ip))
		return NULL;
	return ip;
}

/* The first Via line, its first element completed per RFC 3581. */
static int put_top_via(struct buf *b, const struct sip_hdr *h,
		       const struct sip_via *v, const struct sip_peer *from)
{
	const char *vend = v->raw.p + v->raw.len,
		   *hend = h->value.p + h->value.len;
	const char *ins = bare_rport(v), *p = h->value.p, *rip;
	char ip[INET6_ADDRSTRLEN];
	int err;

	if (v->raw.p < h->value.p || vend > hend)
		return sip__put_hdr(b, STR("Via"), h->value);
	rip = received_ip(v, from, ins != NULL, ip, sizeof(ip));
	err = buf_append_cstr(b, "Via: ");
	if (!err && ins) {
		err = sip__put_folded(b, str_span(p, ins));
		err = err ? err
			  : buf_printf(b, "=%u", sg_addr_port(&from->addr));
		p = ins;
	}
	err = err ? err : sip__put_folded(b, str_span(p, vend));
	if (!err && rip)
		err = buf_printf(b, ";received=%s", rip);
	err = err ? err : sip__put_folded(b, str_span(vend, hend));
	return err ? err : buf_append(b, "\r\n", 2);
}

static int build_skel(struct sip_stx *s, struct buf *b, const struct sip_msg *m,
		      const struct sip_peer *from)
{
	int top = m->first[SIP_HDR_VIA], err = 0;
	unsigned i;

	for (i = 0; !err && i < m->nhdr; i++) {
		const struct sip_hdr *h = &m->hdr[i];

		if (!skel_hdr(h->id))
			continue;
		if ((int)i == top) {
			err = put_top_via(b, h, &m->via[0], from);
		} else if (h->id == SIP_HDR_TO) {
			err = buf_append_cstr(b, "To: ");
			err = err ? err : sip__put_folded(b, h->value);
			s->to_end = b->len;
			err = err ? err : buf_append(b, "\r\n", 2);
		} else {
			err = sip__put_hdr(b, str_cstr(sip_hdr_name(h->id)),
					   h->value);
		}
	}
	s->skel = buf_str(b);
	return err;
}

/* ------------------------------------------------------ creation */

static struct str copy_in(char **cur, struct str v)
{
	struct str r = str_make(*cur, v.len);

	if (v.len)
		memcpy(*cur, v.p, v.len);
	*cur += v.len;
	return r;
}

static size_t keys_size(const struct sip_msg *m, bool rfc3261)
{
	const struct sip_via *v = &m->via[0];

	if (rfc3261)
		return m->method.len + v->branch.len + v->host.len;
	return m->method.len + m->ruri_raw.len + m->call_id.len +
	       m->from.tag.len + m->to.tag.len + v->raw.len;
}

static void copy_keys(struct sip_stx *s, char **cur, const struct sip_msg *m)
{
	const struct sip_via *v = &m->via[0];

	s->mname = copy_in(cur, m->method);
	s->cseq = m->cseq.num;
	if (s->rfc3261) {
		s->branch = copy_in(cur, v->branch);
		s->host = copy_in(cur, v->host);
		s->port = v->port;
		s->has_port = v->has_port;
		return;
	}
	s->ruri = copy_in(cur, m->ruri_raw);
	s->call_id = copy_in(cur, m->call_id);
	s->from_tag = copy_in(cur, m->from.tag);
	s->to_tag = copy_in(cur, m->to.tag);
	s->via = copy_in(cur, v->raw);
}

static int stx_create(struct sip_txl *txl, const struct sip_msg *m,
		      const struct sip_peer *from, struct sip_stx **stxp)
{
	bool rfc3261 = has_cookie(&m->via[0]);
	size_t keys = keys_size(m, rfc3261), skel = skel_bound(m);
	struct sip_stx *s;
	struct buf b;
	char *cur;
	int err;

	s = sip__txn_alloc(txl, sizeof(*s) + keys + skel, true, false, &err);
	if (!s)
		return err;
	s->rfc3261 = rfc3261;
	cur = s->data;
	copy_keys(s, &cur, m);
	s->req_has_tag = m->to.tag.len > 0;
	buf_init_fixed(&b, cur, skel);
	if (build_skel(s, &b, m, from) != 0) {
		sip__txn_discard(&s->t);
		return -EINVAL; /* skel_bound() is an upper bound: a bug */
	}
	s->t.peer = *from;
	s->t.reliable = sip_tp_reliable(from->tp);
	s->t.mid = m->mid;
	s->t.invite = m->mid == SIP_METHOD_INVITE;
	s->t.state = s->t.invite ? SIP_TXN_PROCEEDING : SIP_TXN_TRYING;
	htab_insert(
		&txl->stx_tab, &s->t.hn,
		key_hash(txl, &(struct stx_key){.msg = m, .rfc3261 = rfc3261}));
	s->t.linked = true;
	*stxp = s;
	return SIP_STX_NEW;
}

/* ------------------------------------------------------ machines */

static int stx_send(struct sip_stx *s, const char *p, size_t n)
{
	int rc = sip__txn_send(&s->t, p, n);

	/* 17.2.4: a transport failure on a stream ends the transaction. */
	if (rc < 0 && s->t.reliable)
		sip__txn_end(&s->t);
	return rc;
}

/* Timer G: re-send the final response, doubling up to T2 (17.2.1). */
static void timer_g(void *arg)
{
	struct sip_stx *s = arg;
	struct sip_txl *txl = s->t.txl;

	if (s->t.state != SIP_TXN_COMPLETED || !s->t.aux)
		return;
	s->t.rt_ms = s->t.rt_ms * 2 < txl->conf.t2_ms ? s->t.rt_ms * 2
						      : txl->conf.t2_ms;
	tmr_start(txl->w, &s->t.tr, s->t.rt_ms, timer_g, s);
	stx_send(s, s->t.aux, s->t.aux_len);
}

/* Timer H: no ACK for our non-2xx final; Timer I: ACK retransmissions
 * absorbed long enough; Timer J: request retransmissions likewise;
 * Timer L (RFC 6026): INVITE retransmissions after a 2xx likewise. */
static void timer_end(void *arg)
{
	struct sip_stx *s = arg;

	sip__txn_end(&s->t);
}

static void keep(struct sip_stx *s, const char *p, size_t n)
{
	/* Without memory we still answer once; re-sending a stale earlier
	 * response would be worse than staying silent. */
	if (sip__txn_keep(&s->t, p, n) != 0)
		sip__txn_adopt(&s->t, NULL, 0, 0);
}

/* 2543 ACK matching needs the To tag of our final response. */
static void note_resp_tag(struct sip_stx *s, const char *p, size_t n,
			  const struct str *tag)
{
	struct sip_txl *txl = s->t.txl;
	struct str t;

	if (s->rfc3261)
		return;
	if (tag) {
		t = *tag;
	} else if (sip_msg_parse(txl->scratch, p, n, NULL, SIP_PARSE_DGRAM,
				 NULL) == 0 &&
		   !txl->scratch->is_request) {
		t = txl->scratch->to.tag;
	} else {
		return;
	}
	s->resp_tag_hv = htab_hash(&txl->stx_tab, t.p, t.len);
	s->has_resp_tag = true;
}

static int invite_respond(struct sip_stx *s, const char *p, size_t n,
			  int status, const struct str *tag)
{
	struct sip_txl *txl = s->t.txl;

	if (s->t.state != SIP_TXN_PROCEEDING) {
		/* 16.7 step 10: every 2xx goes upstream, even late ones. */
		if (status < 200 || status >= 300)
			return -EALREADY;
		return stx_send(s, p, n);
	}
	s->status = status;
	if (status < 200) {
		keep(s, p, n);
	} else if (status < 300) {
		s->t.state = SIP_TXN_ACCEPTED;
		tmr_start(txl->w, &s->t.tt, sip__t64(txl), timer_end, s);
	} else {
		keep(s, p, n);
		note_resp_tag(s, p, n, tag);
		s->t.state = SIP_TXN_COMPLETED;
		if (!s->t.reliable) {
			s->t.rt_ms = txl->conf.t1_ms;
			tmr_start(txl->w, &s->t.tr, s->t.rt_ms, timer_g, s);
		}
		tmr_start(txl->w, &s->t.tt, sip__t64(txl), timer_end, s);
	}
	return stx_send(s, p, n);
}

static int plain_respond(struct sip_stx *s, const char *p, size_t n, int status)
{
	struct sip_txl *txl = s->t.txl;

	if (s->t.state == SIP_TXN_COMPLETED)
		return -EALREADY;
	s->status = status;
	keep(s, p, n);
	if (status < 200) {
		s->t.state = SIP_TXN_PROCEEDING;
	} else {
		s->t.state = SIP_TXN_COMPLETED;
		tmr_start(txl->w, &s->t.tt, s->t.reliable ? 0 : sip__t64(txl),
			  timer_end, s);
	}
	return stx_send(s, p, n);
}

static int respond(struct sip_stx *s, const char *p, size_t n, int status,
		   const struct str *tag)
{
	if (!s || !p || n == 0 || status < 100 || status > 699)
		return -EINVAL;
	if (s->t.state == SIP_TXN_TERMINATED)
		return -ESRCH;
	return s->t.invite ? invite_respond(s, p, n, status, tag)
			   : plain_respond(s, p, n, status);
}

int sip_stx_send_response(struct sip_stx *stx, const char *p, size_t n,
			  int status)
{
	return respond(stx, p, n, status, NULL);
}

int sip_stx_reply_local(struct sip_stx *stx, int status, struct str reason,
			struct str to_tag, struct str extra)
{
	bool add_tag;
	struct buf b;
	int err;

	if (!stx || status < 100 || status > 699)
		return -EINVAL;
	if (stx->t.state == SIP_TXN_TERMINATED)
		return -ESRCH;
	add_tag = status > 100 && to_tag.len > 0 && !stx->req_has_tag;
	if (reason.len == 0)
		reason = str_cstr(sip_status_reason(status));
	buf_init(&b, SIP_MAX_MSG_SIZE);
	err = buf_printf(&b, "SIP/2.0 %d %.*s\r\n", status, STR_FMT(reason));
	err = err ? err : buf_append(&b, stx->skel.p, stx->to_end);
	if (!err && add_tag)
		err = buf_printf(&b, ";tag=%.*s", STR_FMT(to_tag));
	err = err ? err
		  : buf_append(&b, stx->skel.p + stx->to_end,
			       stx->skel.len - stx->to_end);
	err = err ? err : buf_append_str(&b, extra);
	err = err ? err : buf_append_cstr(&b, "Content-Length: 0\r\n\r\n");
	if (!err)
		err = respond(stx, b.p, b.len, status,
			      add_tag ? &to_tag : &stx->to_tag);
	buf_free(&b);
	return err;
}

/* An ACK matched an INVITE transaction (17.2.1). */
static int ack_matched(struct sip_stx *s, struct sip_stx **stxp)
{
	struct sip_txl *txl = s->t.txl;

	switch (s->t.state) {
	case SIP_TXN_COMPLETED:
		/* Timer I: absorb ACK retransmissions for T4 (0: stream). */
		s->t.state = SIP_TXN_CONFIRMED;
		tmr_cancel(&s->t.tr);
		tmr_start(txl->w, &s->t.tt, s->t.reliable ? 0 : txl->conf.t4_ms,
			  timer_end, s);
		/* fall through */
	case SIP_TXN_CONFIRMED:
		*stxp = s;
		return SIP_STX_ACK_ABSORBED;
	case SIP_TXN_ACCEPTED:
		/* An ACK for our 2xx (RFC 6026 7.1): the proxy routes it. */
		return SIP_STX_NOMATCH;
	default:
		/* Nothing final to acknowledge yet: drop it. */
		*stxp = s;
		return SIP_STX_ABSORBED;
	}
}

int sip_stx_receive(struct sip_txl *txl, const struct sip_msg *req,
		    const struct sip_peer *from, struct sip_stx **stxp)
{
	struct sip_stx *s;

	if (!txl || !req || !from || !stxp || !req->is_request ||
	    req->nvia == 0)
		return -EINVAL;
	*stxp = NULL;
	s = lookup(txl, req, false);
	if (req->mid == SIP_METHOD_ACK)
		return s ? ack_matched(s, stxp) : SIP_STX_NOMATCH;
	if (!s)
		return stx_create(txl, req, from, stxp);
	*stxp = s;
	/* A retransmission: 17.2.1/17.2.2 re-send the last response in
	 * Proceeding and Completed; absorb it everywhere else. */
	if ((s->t.state == SIP_TXN_PROCEEDING ||
	     s->t.state == SIP_TXN_COMPLETED) &&
	    s->t.aux)
		stx_send(s, s->t.aux, s->t.aux_len);
	return SIP_STX_ABSORBED;
}

struct sip_stx *sip_stx_find_invite(struct sip_txl *txl,
				    const struct sip_msg *cancel)
{
	if (!txl || !cancel || !cancel->is_request || cancel->nvia == 0)
		return NULL;
	return lookup(txl, cancel, true);
}

void sip_stx_terminate(struct sip_stx *stx)
{
	if (stx)
		sip__txn_end(&stx->t);
}

void *sip_stx_user(const struct sip_stx *stx)
{
	return stx->t.user;
}

void sip_stx_set_user(struct sip_stx *stx, void *user)
{
	stx->t.user = user;
}

enum sip_txn_state sip_stx_state(const struct sip_stx *stx)
{
	return stx->t.state;
}

enum sip_method sip_stx_method(const struct sip_stx *stx)
{
	return stx->t.mid;
}

const struct sip_peer *sip_stx_peer(const struct sip_stx *stx)
{
	return &stx->t.peer;
}

int sip_stx_status(const struct sip_stx *stx)
{
	return stx->status;
}
