/*
 * txn_client.c - client transactions (RFC 3261 17.1), the proxy's
 * outbound side: matching of responses (17.1.3), the INVITE machine
 * (17.1.1, RFC 6026 Accepted state) with Timers A, B, D, M, the ACK for
 * a non-2xx final (17.1.1.3), hop-by-hop CANCEL (9.1) with its 64*T1
 * guard, and the non-INVITE machine (17.1.2) with Timers E, F, K.
 *
 * A transaction keeps the request exactly as sent, in its one
 * allocation.  Our ACK and CANCEL are rebuilt from those bytes on the
 * rare paths that need them (a re-parse, cheaper than keeping the
 * parsed form of every request).  The CANCEL runs in a transaction of
 * its own that is internal ("quiet"): the proxy sees neither its
 * responses nor its end; hop by hop, nobody upstream waits for them.
 */
#include <errno.h>
#include <string.h>

#include "core/keyline.h"
#include "core/mem.h"
#include "sip/txn_int.h"

struct ctx_key {
	struct str branch;
	struct str mname;
};

bool sip__ctx_eq(const struct hnode *n, const void *key)
{
	const struct sip_ctx *c = HTAB_ENTRY(n, const struct sip_ctx, t.hn);
	const struct ctx_key *k = key;

	/* 17.1.3: our branch and the CSeq method (an INVITE and its
	 * CANCEL share the branch). */
	return str_caseeq(c->branch, k->branch) && str_eq(c->mname, k->mname);
}

static void fail(struct sip_ctx *c, int err)
{
	struct sip_txl *txl = c->t.txl;

	sip__txn_end(&c->t);
	if (!c->t.quiet && txl->cb.ctx_timeout)
		txl->cb.ctx_timeout(c->t.user, c, err);
}

static int ctx_send(struct sip_ctx *c, const char *p, size_t n)
{
	int rc = sip__txn_send(&c->t, p, n);

	/* 17.1.4: a transport failure on a stream ends the transaction. */
	if (rc < 0 && c->t.reliable)
		fail(c, rc);
	return rc;
}

/* Timer A: re-send the INVITE, doubling each time (17.1.1.2). */
static void timer_a(void *arg)
{
	struct sip_ctx *c = arg;

	if (c->t.state != SIP_TXN_CALLING)
		return;
	c->t.rt_ms *= 2;
	tmr_start(c->t.txl->w, &c->t.tr, c->t.rt_ms, timer_a, c);
	ctx_send(c, c->req.p, c->req.len);
}

/* Timer E: re-send a non-INVITE, doubling up to T2; at T2 once a
 * provisional came (17.1.2.2). */
static void timer_e(void *arg)
{
	struct sip_ctx *c = arg;
	uint32_t t2 = c->t.txl->conf.t2_ms;

	if (c->t.state != SIP_TXN_TRYING && c->t.state != SIP_TXN_PROCEEDING)
		return;
	if (c->t.state == SIP_TXN_PROCEEDING || c->t.rt_ms * 2 > t2)
		c->t.rt_ms = t2;
	else
		c->t.rt_ms *= 2;
	tmr_start(c->t.txl->w, &c->t.tr, c->t.rt_ms, timer_e, c);
	ctx_send(c, c->req.p, c->req.len);
}

/* Timer B (Calling), Timer F (Trying/Proceeding), and the guard that
 * gives up on a cancelled INVITE without a final response (9.1). */
static void timer_timeout(void *arg)
{
	fail(arg, -ETIMEDOUT);
}

/* Timers D, K, M: retransmissions absorbed long enough. */
static void timer_end(void *arg)
{
	struct sip_ctx *c = arg;

	sip__txn_end(&c->t);
}

static int ctx_create(struct sip_txl *txl, const struct sip_peer *to,
		      struct str branch, struct str method, struct str req,
		      void *user, bool quiet, struct sip_ctx **ctxp)
{
	struct ctx_key k = {branch, method};
	struct sip_ctx *c;
	char *cur;
	int err;

	c = sip__txn_alloc(txl, sizeof(*c) + branch.len + method.len + req.len,
			   false, quiet, &err);
	if (!c)
		return err;
	cur = c->data;
	memcpy(cur, branch.p, branch.len);
	c->branch = str_make(cur, branch.len);
	cur += branch.len;
	memcpy(cur, method.p, method.len);
	c->mname = str_make(cur, method.len);
	cur += method.len;
	memcpy(cur, req.p, req.len);
	c->req = str_make(cur, req.len);
	c->t.secret = keyline_in(req.p, req.len); /* wiped when freed */
	c->t.user = user;
	c->t.quiet = quiet;
	c->t.peer = *to;
	c->t.reliable = sip_tp_reliable(to->tp);
	c->t.mid = sip_method_from_str(method);
	c->t.invite = c->t.mid == SIP_METHOD_INVITE;
	c->t.state = c->t.invite ? SIP_TXN_CALLING : SIP_TXN_TRYING;
	err = sip__txn_send(&c->t, req.p, req.len);
	if (err) {
		sip__txn_discard(&c->t);
		return err;
	}
	htab_insert(&txl->ctx_tab, &c->t.hn,
		    htab_hash_case(&txl->ctx_tab, k.branch.p, k.branch.len));
	c->t.linked = true;
	if (!c->t.reliable) {
		c->t.rt_ms = txl->conf.t1_ms;
		tmr_start(txl->w, &c->t.tr, c->t.rt_ms,
			  c->t.invite ? timer_a : timer_e, c);
	}
	tmr_start(txl->w, &c->t.tt, sip__t64(txl), timer_timeout, c);
	*ctxp = c;
	return 0;
}

int sip_ctx_new(struct sip_ctx **ctxp, struct sip_txl *txl,
		const struct sip_peer *to, struct str branch, struct str method,
		const char *p, size_t n, void *user)
{
	size_t cookie = sizeof(SIP_TXN_COOKIE) - 1;

	if (!ctxp || !txl || !to || !p || n == 0 || n > SIP_MAX_MSG_SIZE ||
	    !branch.p || branch.len <= cookie ||
	    branch.len > SIP_TXN_MAX_BRANCH ||
	    memcmp(branch.p, SIP_TXN_COOKIE, cookie) != 0 ||
	    !sip_is_token(branch) || !sip_is_token(method) ||
	    str_eq_cstr(method, "ACK"))
		return -EINVAL;
	return ctx_create(txl, to, branch, method, str_make(p, n), user, false,
			  ctxp);
}

/* ------------------------------------------------ our ACK and CANCEL */

/*
 * Build an ACK (17.1.1.3) or a CANCEL (9.1) from the stored INVITE:
 * same Request-URI, top Via (ours, so the same branch), Route, From,
 * Call-ID and CSeq number; To from the response for an ACK.
 */
static int build_req(struct sip_ctx *c, const char *method,
		     const struct str *to, struct buf *out)
{
	struct sip_msg *m = c->t.txl->scratch;
	const struct sip_hdr *h;
	int err;

	if (sip_msg_parse(m, c->req.p, c->req.len, NULL, SIP_PARSE_DGRAM,
			  NULL) != 0 ||
	    !m->is_request || m->nvia == 0 || m->first[SIP_HDR_TO] < 0 ||
	    m->first[SIP_HDR_FROM] < 0)
		return -EINVAL;
	buf_init(out, SIP_MAX_MSG_SIZE);
	err = buf_printf(out, "%s %.*s SIP/2.0\r\n", method,
			 STR_FMT(m->ruri_raw));
	err = err ? err : sip__put_hdr(out, STR("Via"), m->via[0].raw);
	for (h = sip_msg_hdr(m, SIP_HDR_ROUTE); !err && h;
	     h = sip_hdr_next(m, h))
		err = sip__put_hdr(out, STR("Route"), h->value);
	err = err ? err
		  : sip__put_hdr(out, STR("From"),
				 m->hdr[m->first[SIP_HDR_FROM]].value);
	err = err ? err
		  : sip__put_hdr(out, STR("To"),
				 to ? *to : m->hdr[m->first[SIP_HDR_TO]].value);
	err = err ? err : sip__put_hdr(out, STR("Call-ID"), m->call_id);
	err = err ? err
		  : buf_printf(out, "CSeq: %u %s\r\n", m->cseq.num, method);
	err = err ? err
		  : buf_append_cstr(out, "Max-Forwards: 70\r\n"
					 "Content-Length: 0\r\n\r\n");
	if (err)
		buf_free(out);
	return err;
}

/* Send (building it once) the ACK for a non-2xx final response.  Send
 * errors are ignored: the final response has been delivered already. */
static void send_ack(struct sip_ctx *c, const struct sip_msg *resp)
{
	struct buf b;
	struct str to;

	if (!c->t.aux) {
		if (resp->first[SIP_HDR_TO] < 0)
			return;
		to = resp->hdr[resp->first[SIP_HDR_TO]].value;
		if (build_req(c, "ACK", &to, &b) != 0)
			return; /* retried at the next retransmission */
		sip__txn_adopt(&c->t, b.p, b.len, b.cap);
	}
	sip__txn_send(&c->t, c->t.aux, c->t.aux_len);
}

static int send_cancel(struct sip_ctx *c)
{
	struct sip_txl *txl = c->t.txl;
	struct sip_ctx *cc;
	struct buf b;
	int err;

	c->cancel_pending = false;
	/* 9.1: no final response 64*T1 after the CANCEL: give up.  Armed
	 * even when the CANCEL cannot be sent (the caller may retry). */
	tmr_start(txl->w, &c->t.tt, sip__t64(txl), timer_timeout, c);
	err = build_req(c, "CANCEL", NULL, &b);
	if (err)
		return err;
	/* Uncapped: CANCELs are bounded by the INVITEs that exist, and
	 * cancelling frees resources downstream. */
	err = ctx_create(txl, &c->t.peer, c->branch, STR("CANCEL"), buf_str(&b),
			 NULL, true, &cc);
	buf_free(&b);
	if (err)
		return err;
	cc->invite = c;
	c->cancel = cc;
	c->cancelled = true;
	return 0;
}

int sip_ctx_cancel(struct sip_ctx *ctx)
{
	if (!ctx)
		return -EINVAL;
	if (ctx->t.state == SIP_TXN_TERMINATED)
		return -ESRCH;
	if (!ctx->t.invite)
		return -EINVAL;
	if (ctx->cancel_pending || ctx->cancelled)
		return 0;
	if (ctx->t.state == SIP_TXN_CALLING) {
		/* 9.1: no CANCEL before a provisional response. */
		ctx->cancel_pending = true;
		return 0;
	}
	if (ctx->t.state == SIP_TXN_PROCEEDING)
		return send_cancel(ctx);
	return 0;
}

/* ------------------------------------------------ responses */

static int deliver(struct sip_ctx *c, const struct sip_msg *resp,
		   const struct sip_peer *from)
{
	struct sip_txl *txl = c->t.txl;

	if (c->t.quiet)
		return SIP_CTX_ABSORBED;
	if (txl->cb.ctx_response)
		txl->cb.ctx_response(c->t.user, c, resp, from);
	return SIP_CTX_DELIVERED;
}

static int invite_final(struct sip_ctx *c, const struct sip_msg *resp,
			const struct sip_peer *from)
{
	struct sip_txl *txl = c->t.txl;

	tmr_cancel(&c->t.tr);
	if (resp->status < 300) {
		c->t.state = SIP_TXN_ACCEPTED;
		tmr_start(txl->w, &c->t.tt, sip__t64(txl), timer_end, c);
	} else {
		c->t.state = SIP_TXN_COMPLETED;
		send_ack(c, resp);
		tmr_start(txl->w, &c->t.tt, c->t.reliable ? 0 : txl->conf.td_ms,
			  timer_end, c);
	}
	return deliver(c, resp, from);
}

static int invite_resp(struct sip_ctx *c, const struct sip_msg *resp,
		       const struct sip_peer *from)
{
	int st = resp->status;

	switch (c->t.state) {
	case SIP_TXN_CALLING:
	case SIP_TXN_PROCEEDING:
		if (st >= 200)
			return invite_final(c, resp, from);
		if (c->t.state == SIP_TXN_CALLING) {
			c->t.state = SIP_TXN_PROCEEDING;
			tmr_cancel(&c->t.tr); /* Timer A */
			tmr_cancel(&c->t.tt); /* Timer B */
		}
		if (c->cancel_pending)
			send_cancel(c); /* on failure the guard still runs */
		return deliver(c, resp, from);
	case SIP_TXN_COMPLETED:
		if (st >= 300) {
			send_ack(c, resp);
			return SIP_CTX_ABSORBED;
		}
		/* A late 2xx still goes upstream (16.7 step 10). */
		/* fall through */
	case SIP_TXN_ACCEPTED:
		if (st >= 200 && st < 300)
			return deliver(c, resp, from);
		return SIP_CTX_ABSORBED;
	default:
		return SIP_CTX_ABSORBED;
	}
}

static int plain_resp(struct sip_ctx *c, const struct sip_msg *resp,
		      const struct sip_peer *from)
{
	struct sip_txl *txl = c->t.txl;

	if (c->t.state != SIP_TXN_TRYING && c->t.state != SIP_TXN_PROCEEDING)
		return SIP_CTX_ABSORBED;
	if (resp->status < 200) {
		c->t.state = SIP_TXN_PROCEEDING;
	} else {
		c->t.state = SIP_TXN_COMPLETED;
		tmr_cancel(&c->t.tr);
		/* Timer K: absorb response retransmissions for T4. */
		tmr_start(txl->w, &c->t.tt, c->t.reliable ? 0 : txl->conf.t4_ms,
			  timer_end, c);
	}
	return deliver(c, resp, from);
}

int sip_ctx_receive(struct sip_txl *txl, const struct sip_msg *resp,
		    const struct sip_peer *from)
{
	struct ctx_key k;
	struct hnode *n;
	struct sip_ctx *c;

	if (!txl || !resp || resp->is_request)
		return -EINVAL;
	if (resp->nvia == 0 || !resp->via[0].has_branch || resp->status < 100 ||
	    resp->status > 699)
		return SIP_CTX_NOMATCH;
	k.branch = resp->via[0].branch;
	k.mname = resp->cseq.method;
	n = htab_find(&txl->ctx_tab,
		      htab_hash_case(&txl->ctx_tab, k.branch.p, k.branch.len),
		      sip__ctx_eq, &k);
	if (!n)
		return SIP_CTX_NOMATCH;
	c = HTAB_ENTRY(n, struct sip_ctx, t.hn);
	return c->t.invite ? invite_resp(c, resp, from)
			   : plain_resp(c, resp, from);
}

void sip__ctx_ended(struct sip_ctx *c)
{
	if (c->cancel)
		c->cancel->invite = NULL;
	if (c->invite)
		c->invite->cancel = NULL;
	c->cancel = NULL;
	c->invite = NULL;
}

void sip_ctx_terminate(struct sip_ctx *ctx)
{
	if (ctx)
		sip__txn_end(&ctx->t);
}

void *sip_ctx_user(const struct sip_ctx *ctx)
{
	return ctx->t.user;
}

void sip_ctx_set_user(struct sip_ctx *ctx, void *user)
{
	ctx->t.user = user;
}

enum sip_txn_state sip_ctx_state(const struct sip_ctx *ctx)
{
	return ctx->t.state;
}

const struct sip_peer *sip_ctx_peer(const struct sip_ctx *ctx)
{
	return &ctx->t.peer;
}

struct str sip_ctx_branch(const struct sip_ctx *ctx)
{
	return ctx->branch;
}
