/*
 * dialog_msg.c - how forwarded requests and responses move dialog
 * records (RFC 3261 12.1 creation, 12.2 in-dialog requests and CSeq,
 * 13.2.2.4 forked 2xx, 15 BYE; RFC 3311 UPDATE and RFC 4028
 * Session-Expires as target/session refresh; RFC 6665 4.1.2.4 NOTIFY
 * creating and Subscription-State ending a subscription dialog).
 *
 * A message's direction comes from its tags: a request whose From-tag
 * is the caller's went caller -> callee; a response carries the tags of
 * its request, so it came from the other side.
 */
#include "sip/dialog_int.h"

#include <errno.h>
#include <string.h>

#include "sip/sip.h"

enum {
	DLG_SE_MIN_S = 90,    /* RFC 4028 4: Min-SE floor */
	DLG_SE_MAX_S = 86400, /* a day: longer is a typo or an attack */
	DLG_ROUTE_BUF = SIP_DLG_MAX_STRINGS,
};

static enum sip_dlg_side other(enum sip_dlg_side s)
{
	return s == SIP_DLG_CALLER ? SIP_DLG_CALLEE : SIP_DLG_CALLER;
}

/* A Contact URI as a Request-URI: without "?headers" (RFC 3261 19.1.5). */
static struct str target(const struct sip_msg *msg)
{
	const struct sip_nameaddr *c = &msg->contact[0];
	struct str raw;

	if (!msg->ncontact || c->star)
		return str_make("", 0);
	raw = c->uri.raw;
	if (c->uri.headers.p && c->uri.headers.p > raw.p)
		raw = str_span(raw.p, c->uri.headers.p - 1);
	return raw;
}

/*
 * Record-Route entries as one string "a, b, c" (top first) in buf,
 * which must hold DLG_ROUTE_BUF bytes.  -E2BIG when too long.
 */
static int route_join(const struct sip_msg *msg, char *buf, struct str *outp)
{
	size_t len = 0, n;
	unsigned i;

	for (i = 0; i < msg->nrr; i++) {
		n = msg->rr[i].raw.len + (i ? 2 : 0);
		if (n > DLG_ROUTE_BUF - len)
			return -E2BIG;
		if (i) {
			memcpy(buf + len, ", ", 2);
			len += 2;
		}
		memcpy(buf + len, msg->rr[i].raw.p, msg->rr[i].raw.len);
		len += msg->rr[i].raw.len;
	}
	*outp = str_make(buf, len);
	return 0;
}

static bool peer_same(const struct sip_peer *a, const struct sip_peer *b)
{
	return a->tp == b->tp && sg_addr_eq(&a->addr, &b->addr);
}

/* Remember where side s's message came from; report a change. */
static void note_peer(struct sip_dlg *d, enum sip_dlg_side s,
		      const struct sip_peer *from, struct sip_dlg_match *m)
{
	struct sip_dlg_party *p = &d->side[s];

	if (!from)
		return;
	if (p->has_peer && !peer_same(&p->peer, from))
		m->peer_changed = true;
	p->peer = *from;
	p->has_peer = true;
}

static enum sip_dlg_kind kind_of(enum sip_method m)
{
	return m == SIP_METHOD_SUBSCRIBE ? SIP_DLG_SUBSCRIBE
	       : m == SIP_METHOD_REFER   ? SIP_DLG_REFER
					 : SIP_DLG_INVITE;
}

static bool forms_dialog(enum sip_method m)
{
	return m == SIP_METHOD_INVITE || m == SIP_METHOD_SUBSCRIBE ||
	       m == SIP_METHOD_REFER;
}

/* RFC 3261 12.2, RFC 3311, RFC 6665 4.1: requests that move the target. */
static bool target_refresh(enum sip_method m)
{
	return m == SIP_METHOD_INVITE || m == SIP_METHOD_UPDATE ||
	       m == SIP_METHOD_SUBSCRIBE || m == SIP_METHOD_NOTIFY ||
	       m == SIP_METHOD_REFER;
}

/* Replace one side's Contact if msg carries a different one. */
static int refresh_target(struct sip_dlg *d, enum sip_dlg_side s,
			  const struct sip_msg *msg)
{
	struct str v[SIP_DLG_S__COUNT], c = target(msg);
	unsigned id = s == SIP_DLG_CALLER ? SIP_DLG_S_CALLER_CONTACT
					  : SIP_DLG_S_CALLEE_CONTACT;

	sip__dlg_strs(d, v);
	if (!c.len || str_eq(c, v[id]))
		return 0;
	v[id] = c;
	return sip__dlg_set_strs(d, v);
}

/* RFC 4028: a 2xx with Session-Expires (re)starts the session timer;
 * one without turns it off. */
static void session_refresh(struct sip_dlg *d, const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_SESSION_EXPIRES);
	struct sip_tokparams tp;
	uint32_t sec;

	d->se_ms = 0;
	if (!h || sip_tokparams_parse(&tp, h->value, NULL) != 0 ||
	    str_to_u32(&sec, tp.value, UINT32_MAX) != 0)
		return;
	if (sec < DLG_SE_MIN_S)
		sec = DLG_SE_MIN_S;
	if (sec > DLG_SE_MAX_S)
		sec = DLG_SE_MAX_S;
	d->se_ms = sec * 1000;
	d->se_mono = sip__dlg_now(d->t);
}

static bool sub_terminated(const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_SUBSCRIPTION_STATE);
	struct sip_tokparams tp;

	return h && sip_tokparams_parse(&tp, h->value, NULL) == 0 &&
	       str_caseeq_cstr(tp.value, "terminated");
}

/* ----------------------------------------------------------- requests */

static enum sip_dlg_cseq cseq_step(struct sip_dlg_party *p,
				   const struct sip_msg *msg)
{
	uint32_t n = msg->cseq.num;
	bool moves =
		msg->mid != SIP_METHOD_ACK && msg->mid != SIP_METHOD_CANCEL;

	if (!p->has_cseq) {
		/* ACK and CANCEL reuse another request's number. */
		if (moves) {
			p->cseq = n;
			p->has_cseq = true;
		}
		return SIP_DLG_CSEQ_FIRST;
	}
	if (n == p->cseq)
		return SIP_DLG_CSEQ_SAME;
	if (n < p->cseq)
		return SIP_DLG_CSEQ_OLD;
	if (moves)
		p->cseq = n;
	return SIP_DLG_CSEQ_NEW;
}

static int create(struct sip_dlgs *t, const struct sip_msg *msg,
		  const struct sip_peer *from, struct sip_dlg_match *m)
{
	struct str v[SIP_DLG_S__COUNT] = {{0}};
	struct sip_dlg *d;
	int err;

	v[SIP_DLG_S_CALL_ID] = msg->call_id;
	v[SIP_DLG_S_CALLER_URI] = msg->from.uri.raw;
	v[SIP_DLG_S_CALLER_TAG] = msg->from.tag;
	v[SIP_DLG_S_CALLER_CONTACT] = target(msg);
	v[SIP_DLG_S_CALLEE_URI] = msg->to.uri.raw;
	err = sip__dlg_create(t, v, NULL, &d);
	if (err)
		return err;
	d->kind = kind_of(msg->mid);
	d->record = true;
	d->init_cseq = msg->cseq.num;
	d->side[SIP_DLG_CALLER].cseq = msg->cseq.num;
	d->side[SIP_DLG_CALLER].has_cseq = true;
	d->n_up = (uint8_t)msg->nrr;
	note_peer(d, SIP_DLG_CALLER, from, m);
	sip__dlg_arm(d);
	m->dlg = d;
	m->created = true;
	m->cseq = SIP_DLG_CSEQ_FIRST;
	return 0;
}

/* A request without To-tag: a dialog-forming one, or a CANCEL. */
static int request_initial(struct sip_dlgs *t, const struct sip_msg *msg,
			   const struct sip_peer *from, struct sip_dlg_match *m)
{
	struct sip__dlg_group g;
	struct sip_dlg *d = NULL;
	unsigned i;

	if (msg->mid != SIP_METHOD_CANCEL && !forms_dialog(msg->mid))
		return -ENOENT;
	sip__dlg_group(t, msg->call_id, msg->from.tag, &g);
	for (i = 0; i < g.n; i++) {
		if (g.d[i]->state == SIP_DLG_CONFIRMED)
			continue;
		if (!d || g.d[i]->record)
			d = g.d[i];
		if (msg->mid == SIP_METHOD_CANCEL)
			g.d[i]->cancel_seen = true;
	}
	if (msg->mid != SIP_METHOD_CANCEL) {
		if (!g.n)
			return create(t, msg, from, m);
		/* Same transaction again, else a merged request. */
		if (!d || msg->cseq.num != d->init_cseq ||
		    kind_of(msg->mid) != d->kind)
			return -EEXIST;
	}
	if (!d)
		return -ENOENT;
	m->dlg = d;
	m->cseq = cseq_step(&d->side[SIP_DLG_CALLER], msg);
	note_peer(d, SIP_DLG_CALLER, from, m);
	d->active_mono = sip__dlg_now(t);
	return 0;
}

/*
 * RFC 6665 4.1.2.4: a NOTIFY may arrive before the 2xx to SUBSCRIBE (or
 * REFER) and creates the dialog; a forked SUBSCRIBE makes one per
 * notifier.  From-tag is the notifier's, To-tag the subscriber's.
 */
static struct sip_dlg *notify_creates(struct sip_dlgs *t,
				      const struct sip_msg *msg, int *errp,
				      bool *createdp)
{
	struct str v[SIP_DLG_S__COUNT];
	struct sip__dlg_group g;
	struct sip_dlg *d = NULL, *src = NULL;
	unsigned i;

	*errp = -ENOENT;
	sip__dlg_group(t, msg->call_id, msg->to.tag, &g);
	for (i = 0; i < g.n; i++) {
		if (g.d[i]->kind == SIP_DLG_INVITE)
			return NULL;
		src = g.d[i];
		if (!sip_dlg_str(src, SIP_DLG_S_CALLEE_TAG).len)
			d = src;
	}
	if (!src)
		return NULL;
	if (!d && g.n >= t->conf.max_forks) {
		*errp = -ENOSPC;
		return NULL;
	}
	sip__dlg_strs(src, v);
	v[SIP_DLG_S_CALLEE_TAG] = msg->from.tag;
	*createdp = !d;
	*errp = d ? sip__dlg_set_strs(d, v) : sip__dlg_create(t, v, src, &d);
	if (*errp)
		return NULL;
	d->record = true;
	d->answer_mono = sip__dlg_now(t);
	sip__dlg_set_state(d, SIP_DLG_CONFIRMED);
	sip__dlg_arm(d);
	return d;
}

int sip_dlg_request(struct sip_dlgs *t, const struct sip_msg *msg,
		    const struct sip_peer *from, struct sip_dlg_match *mp)
{
	struct sip_dlg_match m = {0};
	enum sip_dlg_side s;
	struct sip_dlg *d;
	int err;

	if (!t || !msg || !mp || !msg->is_request)
		return -EINVAL;
	if (!msg->from.tag.len)
		return -EINVAL;
	if (!msg->to.tag.len) {
		err = request_initial(t, msg, from, &m);
		goto out;
	}
	d = sip_dlg_find(t, msg->call_id, msg->from.tag, msg->to.tag, &s);
	if (!d && msg->mid == SIP_METHOD_NOTIFY) {
		d = notify_creates(t, msg, &err, &m.created);
		if (!d)
			return err;
		s = SIP_DLG_CALLEE;
	}
	if (!d)
		return -ENOENT;
	if (target_refresh(msg->mid) && (err = refresh_target(d, s, msg)))
		return err;
	m.dlg = d;
	m.from = s;
	m.cseq = cseq_step(&d->side[s], msg);
	note_peer(d, s, from, &m);
	d->active_mono = sip__dlg_now(t);
	if (msg->mid == SIP_METHOD_BYE && !d->pending) {
		d->pending = s == SIP_DLG_CALLER ? SIP_DLG_END_BYE_CALLER
						 : SIP_DLG_END_BYE_CALLEE;
		d->pending_mono = d->active_mono;
		sip__dlg_arm(d);
	} else if (msg->mid == SIP_METHOD_NOTIFY && d->kind != SIP_DLG_INVITE &&
		   sub_terminated(msg)) {
		d->pending = SIP_DLG_END_SUBSCRIPTION;
		d->pending_mono = d->active_mono;
		sip__dlg_arm(d);
	}
	err = 0;
out:
	if (!err)
		*mp = m;
	return err;
}

/* ---------------------------------------------------------- responses */

/* End every record of d's call still waiting for an answer. */
static void end_call(struct sip_dlg *d, enum sip_dlg_reason r, int status)
{
	struct sip__dlg_group g;
	unsigned i;

	sip__dlg_group(d->t, sip_dlg_str(d, SIP_DLG_S_CALL_ID),
		       sip_dlg_str(d, SIP_DLG_S_CALLER_TAG), &g);
	for (i = 0; i < g.n; i++) {
		if (g.d[i]->state >= SIP_DLG_CONFIRMED)
			continue;
		g.d[i]->last_status = (uint16_t)status;
		if (!g.d[i]->final_status)
			g.d[i]->final_status = (uint16_t)status;
		if (g.d[i]->cancel_seen || status == 487)
			sip__dlg_finish(g.d[i], SIP_DLG_END_CANCELLED);
		else
			sip__dlg_finish(g.d[i], r);
	}
}

/* 2xx to the dialog-forming request: d wins, its other forks lose. */
static void confirm(struct sip_dlg *d, const struct sip_msg *msg)
{
	struct sip__dlg_group g;
	unsigned i;

	sip__dlg_group(d->t, sip_dlg_str(d, SIP_DLG_S_CALL_ID),
		       sip_dlg_str(d, SIP_DLG_S_CALLER_TAG), &g);
	for (i = 0; i < g.n; i++) {
		if (g.d[i] == d || g.d[i]->state >= SIP_DLG_CONFIRMED)
			continue;
		g.d[i]->record = false;
		sip__dlg_finish(g.d[i], SIP_DLG_END_FORK_LOST);
	}
	d->record = true;
	d->answer_mono = sip__dlg_now(d->t);
	if (!d->final_status)
		d->final_status = msg->status;
	sip__dlg_set_state(d, SIP_DLG_CONFIRMED);
	if (d->kind == SIP_DLG_INVITE)
		session_refresh(d, msg);
}

/*
 * A 1xx/2xx with To-tag to the dialog-forming request: the record for
 * that tag gets the callee's Contact and the route set (RFC 3261
 * 12.1.2; the 2xx's replaces the 1xx's, 13.2.2.4).  A new tag takes a
 * TRYING record or clones one (a fork).
 */
static int establish(struct sip_dlgs *t, struct sip_dlg *d,
		     const struct sip_msg *msg, struct sip_dlg_match *m)
{
	char rbuf[DLG_ROUTE_BUF];
	struct str v[SIP_DLG_S__COUNT], c = target(msg);
	struct sip__dlg_group g;
	struct sip_dlg *src = d;
	bool fresh = !d || !sip_dlg_str(d, SIP_DLG_S_CALLEE_TAG).len;
	unsigned i;
	int err;

	if (!d) {
		sip__dlg_group(t, msg->call_id, msg->from.tag, &g);
		for (i = 0; i < g.n && !d; i++)
			if (!sip_dlg_str(g.d[i], SIP_DLG_S_CALLEE_TAG).len)
				d = g.d[i];
		src = d ? d : g.d[0];
		if (!d && g.n >= t->conf.max_forks)
			return -ENOSPC;
	}
	sip__dlg_strs(src, v);
	v[SIP_DLG_S_CALLEE_TAG] = msg->to.tag;
	if (c.len)
		v[SIP_DLG_S_CALLEE_CONTACT] = c;
	if (fresh || msg->status >= 200) {
		if ((err = route_join(msg, rbuf, &v[SIP_DLG_S_ROUTE])))
			return err;
	}
	if (d) {
		err = sip__dlg_set_strs(d, v);
	} else {
		err = sip__dlg_create(t, v, src, &d);
		m->created = !err;
	}
	if (err)
		return err;
	if (fresh || msg->status >= 200)
		d->n_route = (uint8_t)msg->nrr;
	if (msg->status < 200)
		sip__dlg_set_state(d, SIP_DLG_EARLY);
	else
		confirm(d, msg);
	sip__dlg_arm(d);
	m->dlg = d;
	return 0;
}

/* In-dialog response, or a repeat of the 2xx that confirmed d. */
static int response_in_dialog(struct sip_dlg *d, enum sip_dlg_side req_side,
			      const struct sip_msg *msg)
{
	enum sip_method mid = msg->cseq.mid;
	int err;

	if (msg->status > 100)
		d->last_status = msg->status;
	if (msg->status < 200)
		return 0;
	if (msg->status < 300 &&
	    (mid == SIP_METHOD_INVITE || mid == SIP_METHOD_UPDATE)) {
		if ((err = refresh_target(d, other(req_side), msg)))
			return err;
		if (d->kind == SIP_DLG_INVITE)
			session_refresh(d, msg);
		sip__dlg_arm(d);
	} else if (mid == SIP_METHOD_BYE && msg->status != 401 &&
		   msg->status != 407) {
		/* The BYE ends the dialog whatever the answer (RFC 3261
		 * 15.1.1), except a challenge: the BYE comes again. */
		sip__dlg_finish(d, req_side == SIP_DLG_CALLER
					   ? SIP_DLG_END_BYE_CALLER
					   : SIP_DLG_END_BYE_CALLEE);
	} else if (mid == SIP_METHOD_NOTIFY &&
		   d->pending == SIP_DLG_END_SUBSCRIPTION) {
		sip__dlg_finish(d, SIP_DLG_END_SUBSCRIPTION);
	}
	return 0;
}

/* Is msg a response to the request that formed dialogs of this call? */
static bool answers_initial(const struct sip_dlg *d, const struct sip_msg *msg)
{
	return d->state < SIP_DLG_CONFIRMED && msg->cseq.num == d->init_cseq &&
	       forms_dialog(msg->cseq.mid) && kind_of(msg->cseq.mid) == d->kind;
}

static int response_initial(struct sip_dlgs *t, struct sip_dlg *d,
			    const struct sip_msg *msg, struct sip_dlg_match *m)
{
	struct sip_dlg *own;

	if (msg->status >= 300) {
		end_call(d, SIP_DLG_END_REJECTED, msg->status);
		m->dlg = d;
		return 0;
	}
	if (!msg->to.tag.len || msg->status == 100) {
		m->dlg = d;
		return 0;
	}
	/* The record of this To-tag: a TRYING one takes it, else look. */
	if (d->state == SIP_DLG_TRYING &&
	    !sip_dlg_str(d, SIP_DLG_S_CALLEE_TAG).len)
		own = d;
	else
		own = sip__dlg_lookup(t, msg->call_id, msg->from.tag,
				      msg->to.tag);
	return establish(t, own, msg, m);
}

/* The call's records for a response without a matching To-tag. */
static struct sip_dlg *call_record(const struct sip_dlgs *t,
				   const struct sip_msg *msg, bool *confirmedp)
{
	struct sip__dlg_group g;
	struct sip_dlg *d = NULL;
	unsigned i;

	*confirmedp = false;
	sip__dlg_group(t, msg->call_id, msg->from.tag, &g);
	for (i = 0; i < g.n; i++) {
		if (g.d[i]->state == SIP_DLG_CONFIRMED) {
			*confirmedp = true;
			if (!d)
				d = g.d[i];
			continue;
		}
		if (!d || d->state == SIP_DLG_CONFIRMED || g.d[i]->record)
			d = g.d[i];
	}
	return d;
}

int sip_dlg_response(struct sip_dlgs *t, const struct sip_msg *msg,
		     const struct sip_peer *from, struct sip_dlg_match *mp)
{
	struct sip_dlg_match m = {0};
	enum sip_dlg_side s = SIP_DLG_CALLER;
	struct sip_dlg *d;
	bool confirmed, exact;
	int err;

	if (!t || !msg || !mp || msg->is_request || !msg->from.tag.len)
		return -EINVAL;
	d = sip_dlg_find(t, msg->call_id, msg->from.tag, msg->to.tag, &s);
	exact = d != NULL;
	if (!d)
		d = call_record(t, msg, &confirmed);
	if (!d)
		return -ENOENT;
	/* Before any state change (on_end may write the call record), but
	 * not onto another fork's record. */
	if (exact || msg->status >= 300 ||
	    !sip_dlg_str(d, SIP_DLG_S_CALLEE_TAG).len)
		note_peer(d, other(s), from, &m);
	if (exact && (s != SIP_DLG_CALLER || !answers_initial(d, msg))) {
		if ((err = response_in_dialog(d, s, msg)))
			return err;
		m.dlg = d;
	} else {
		/* A 2xx from a second fork after the first (13.2.2.4). */
		if (d->state == SIP_DLG_CONFIRMED) {
			if (msg->status < 200 || msg->status >= 300 ||
			    msg->cseq.num != d->init_cseq || !msg->to.tag.len)
				return -ENOENT;
			err = establish(t, NULL, msg, &m);
		} else {
			err = response_initial(t, d, msg, &m);
		}
		if (err)
			return err;
	}
	d = m.dlg;
	m.from = other(s);
	if (msg->status > 100)
		d->last_status = msg->status;
	if (d->state != SIP_DLG_TERMINATED) {
		note_peer(d, m.from, from, &m); /* a new fork */
		d->active_mono = sip__dlg_now(t);
	}
	*mp = m;
	return 0;
}
