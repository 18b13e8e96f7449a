/*
 * dialog_snap.c - a confirmed INVITE dialog rebuilt from the snapshot
 * another sipguard instance kept in the shared store, when that instance
 * died (issue 9).  The record is then like any confirmed one: the proxy
 * sends each side a BYE built from it (dialog_bye.c: RFC 3261 12.2.1.1,
 * CSeq one past the last one seen from the other side, the route set
 * between us and the target) and ends it, which writes its call record.
 *
 * Times: the snapshot carries wall clock times (the instances' monotonic
 * clocks do not agree); they are mapped onto this table's monotonic
 * clock, so that the call record's start, answer and duration come out
 * as the dead instance would have written them.
 */
#include "sip/dialog_int.h"

#include <errno.h>

static bool has_ctl(struct str s)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if ((unsigned char)s.p[i] < 0x20 || s.p[i] == 0x7f)
			return true;
	return false;
}

/* Fields of r that the record cannot hold safely. */
static bool restore_ok(const struct sip_dlg_restore *r)
{
	unsigned i;

	if (!r->call_id.len || !r->tag[0].len || !r->tag[1].len ||
	    has_ctl(r->call_id) || has_ctl(r->route) || r->n_up > r->n_route)
		return false;
	for (i = 0; i < 2; i++)
		if (has_ctl(r->uri[i]) || has_ctl(r->tag[i]) ||
		    has_ctl(r->contact[i]) || r->cseq[i] > SIP_DLG_CSEQ_MAX)
			return false;
	return true;
}

static void set_times(struct sip_dlg *d, const struct sip_dlg_restore *r)
{
	uint64_t now = sip__dlg_now(d->t);
	uint64_t age =
		r->now_wall > r->start_wall ? r->now_wall - r->start_wall : 0;
	uint64_t ans = r->answer_wall > r->start_wall
			       ? r->answer_wall - r->start_wall
			       : 0;

	if (age > now)
		age = now;
	if (ans > age)
		ans = age;
	d->start_wall = r->start_wall;
	d->start_mono = now - age;
	d->answer_mono = d->start_mono + ans;
	d->active_mono = d->se_mono = now;
}

int sip_dlg_restore(struct sip_dlgs *t, const struct sip_dlg_restore *r,
		    struct sip_dlg **dp)
{
	struct str v[SIP_DLG_S__COUNT];
	struct sip_dlg *d;
	unsigned i;
	int err;

	if (!t || !r || !dp || !restore_ok(r))
		return -EINVAL;
	*dp = sip__dlg_lookup(t, r->call_id, r->tag[0], r->tag[1]);
	if (*dp)
		return -EEXIST;
	v[SIP_DLG_S_CALL_ID] = r->call_id;
	v[SIP_DLG_S_CALLER_URI] = r->uri[0];
	v[SIP_DLG_S_CALLER_TAG] = r->tag[0];
	v[SIP_DLG_S_CALLER_CONTACT] = r->contact[0];
	v[SIP_DLG_S_CALLEE_URI] = r->uri[1];
	v[SIP_DLG_S_CALLEE_TAG] = r->tag[1];
	v[SIP_DLG_S_CALLEE_CONTACT] = r->contact[1];
	v[SIP_DLG_S_ROUTE] = r->route;
	err = sip__dlg_create(t, v, NULL, &d);
	if (err)
		return err;
	d->kind = SIP_DLG_INVITE;
	d->record = true;
	d->n_route = r->n_route;
	d->n_up = r->n_up;
	d->final_status = d->last_status = r->final_status;
	for (i = 0; i < 2; i++) {
		d->side[i].peer = r->peer[i];
		d->side[i].has_peer = r->has_peer[i];
		d->side[i].cseq = r->cseq[i];
		d->side[i].has_cseq = r->has_cseq[i];
	}
	d->init_cseq = r->has_cseq[0] ? r->cseq[0] : 1;
	set_times(d, r);
	sip__dlg_set_state(d, SIP_DLG_CONFIRMED);
	sip__dlg_arm(d);
	*dp = d;
	return 0;
}
