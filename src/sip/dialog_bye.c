/*
 * dialog_bye.c - a BYE the proxy sends on its own to one side of a
 * confirmed dialog (policy, timeout), built from the stored dialog state
 * as the other side would have sent it (RFC 3261 12.2.1.1 request
 * construction, 15.1.1 BYE, 16.12 loose routing; RFC 3326 Reason).
 *
 * CSeq: each UA checks the CSeq of requests from its peer against the
 * last one it saw from that peer (12.2.2), so a BYE to side X carries
 * the other side's last CSeq + 1, and that number becomes the other
 * side's last CSeq here.
 *
 * Route: the stored route set is the 2xx's Record-Route, top first:
 * [proxies between us and the callee] [us: self_rr entries] [the n_up
 * entries between the caller and us].  A BYE from here passes only the
 * part between us and its target: the caller's part in order, the
 * callee's part reversed (RFC 3261 12.1.2).  Loose routing is assumed.
 */
#include "sip/dialog_int.h"

#include <errno.h>

#include "core/buf.h"
#include "sip/sip.h"

enum { DLG_BYE_MAX_FORWARDS = 70 };

/* Visible ASCII only (spaces too when sp): no header injection. */
static bool clean(struct str s, bool sp)
{
	size_t i;

	for (i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c > 0x7e || c < 0x20 || (c == ' ' && !sp))
			return false;
	}
	return true;
}

/* Split the stored "a, b, c" back into entries; returns their count. */
static unsigned route_split(const struct sip_dlg *d, struct str *e)
{
	struct str rest = sip_dlg_str(d, SIP_DLG_S_ROUTE), one;
	unsigned n = 0;

	while (n < d->n_route && n < SIP_MAX_ROUTE && rest.len &&
	       sip_list_next(&rest, &one))
		if (one.len)
			e[n++] = one;
	return n;
}

static int put_route(struct buf *b, const struct sip_dlg *d,
		     enum sip_dlg_side to, unsigned self_rr)
{
	struct str e[SIP_MAX_ROUTE];
	unsigned n = route_split(d, e), up, down, i;
	int err = 0;

	up = d->n_up < n ? d->n_up : n;
	down = n >= up + self_rr ? n - up - self_rr : 0;
	if (to == SIP_DLG_CALLER) {
		for (i = n - up; i < n && !err; i++)
			err = buf_printf(b, "Route: %.*s\r\n", STR_FMT(e[i]));
	} else {
		for (i = down; i > 0 && !err; i--)
			err = buf_printf(b, "Route: %.*s\r\n",
					 STR_FMT(e[i - 1]));
	}
	return err;
}

static int put_bye(struct buf *b, const struct sip_dlg *d, enum sip_dlg_side to,
		   const struct sip_dlg_bye *p, uint32_t cseq)
{
	enum sip_dlg_side from =
		to == SIP_DLG_CALLER ? SIP_DLG_CALLEE : SIP_DLG_CALLER;
	struct str ruri = sip_dlg_side_str(d, to, 2);
	int err;

	err = buf_printf(b,
			 "BYE %.*s SIP/2.0\r\nVia: SIP/2.0/%s %.*s"
			 ";branch=%.*s\r\nMax-Forwards: %d\r\n",
			 STR_FMT(ruri), sip_tp_name(p->tp),
			 STR_FMT(p->via_host), STR_FMT(p->branch),
			 DLG_BYE_MAX_FORWARDS);
	if (!err)
		err = put_route(b, d, to, p->self_rr);
	if (!err)
		err = buf_printf(
			b, "From: <%.*s>;tag=%.*s\r\nTo: <%.*s>;tag=%.*s\r\n",
			STR_FMT(sip_dlg_side_str(d, from, 0)),
			STR_FMT(sip_dlg_side_str(d, from, 1)),
			STR_FMT(sip_dlg_side_str(d, to, 0)),
			STR_FMT(sip_dlg_side_str(d, to, 1)));
	if (!err)
		err = buf_printf(b, "Call-ID: %.*s\r\nCSeq: %u BYE\r\n",
				 STR_FMT(sip_dlg_str(d, SIP_DLG_S_CALL_ID)),
				 cseq);
	if (!err && p->reason.len)
		err = buf_printf(b, "Reason: %.*s\r\n", STR_FMT(p->reason));
	if (!err)
		err = buf_append_cstr(b, "Content-Length: 0\r\n\r\n");
	return err;
}

int sip_dlg_build_bye(struct sip_dlg *d, enum sip_dlg_side to,
		      const struct sip_dlg_bye *p, struct buf *out,
		      uint32_t *cseqp)
{
	enum sip_dlg_side from;
	size_t len0;
	uint32_t cseq;
	int err;

	if (!d || !p || !out || d->state != SIP_DLG_CONFIRMED ||
	    (to != SIP_DLG_CALLER && to != SIP_DLG_CALLEE) ||
	    !sip_dlg_side_str(d, to, 2).len || !p->via_host.len ||
	    !p->branch.len || !clean(p->via_host, false) ||
	    !clean(p->branch, false) || !clean(p->reason, true))
		return -EINVAL;
	from = to == SIP_DLG_CALLER ? SIP_DLG_CALLEE : SIP_DLG_CALLER;
	cseq = d->side[from].has_cseq ? d->side[from].cseq + 1 : 1;
	if (cseq > SIP_DLG_CSEQ_MAX)
		return -ERANGE;
	len0 = out->len;
	err = put_bye(out, d, to, p, cseq);
	if (err) {
		out->len = len0;
		return err;
	}
	d->side[from].cseq = cseq;
	d->side[from].has_cseq = true;
	if (cseqp)
		*cseqp = cseq;
	return 0;
}
