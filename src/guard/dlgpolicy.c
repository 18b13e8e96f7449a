/*
 * dlgpolicy.c - call-state policy decisions (see dlgpolicy.h): in-dialog
 * requests against their dialog (RFC 3261 12.2.2: Call-ID, tags, CSeq;
 * 13.2.2.4 and 17.1.1.3: the ACK's CSeq is the INVITE's), CANCEL against
 * its INVITE (9.2: same source), address changes (NAT rebinding), media
 * addresses of a re-offer (RFC 3264 8: a re-INVITE or UPDATE may move
 * media), and registration moves and Contacts (RFC 3261 10.3).
 *
 * Pure functions of their arguments: no clock, no I/O, no allocation.
 */
#include <errno.h>
#include <string.h>

#include "guard/dlgpolicy.h"

const char *const dlgpolicy_rules[] = {
	DG_RULE_BYE_SOURCE,     DG_RULE_BYE_CSEQ,
	DG_RULE_BYE_UNKNOWN,    DG_RULE_CANCEL_SOURCE,
	DG_RULE_CANCEL_UNKNOWN, DG_RULE_HIJACK_SOURCE,
	DG_RULE_HIJACK_CSEQ,    DG_RULE_HIJACK_UNKNOWN,
	DG_RULE_MEDIA,          DG_RULE_REBIND,
	DG_RULE_REG_MOVED,      DG_RULE_REG_HOLD,
	DG_RULE_REG_HIJACK,     DG_RULE_REG_LIMIT,
	DG_RULE_REG_CONTACT,    NULL,
};

/* Rule name prefix -> event name. */
static const struct {
	const char *prefix, *event;
} events[] = {
	{"spoofed-bye-", "spoofed-bye"},
	{"spoofed-cancel-", "spoofed-cancel"},
	{"dialog-hijack-", "dialog-hijack"},
	{DG_RULE_MEDIA, "media-redirect"},
	{DG_RULE_REBIND, "dialog-rebind"},
	{DG_RULE_REG_MOVED, "registration-moved"},
	{DG_RULE_REG_HOLD, "registration-moved"},
	{DG_RULE_REG_HIJACK, "registration-hijack"},
	{DG_RULE_REG_LIMIT, "registration-limit"},
	{DG_RULE_REG_CONTACT, "forbidden-contact"},
};

const char *dlgpolicy_event(const char *rule)
{
	size_t i;

	if (!rule)
		return NULL;
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (strncmp(rule, events[i].prefix, strlen(events[i].prefix)) ==
		    0)
			return events[i].event;
	return NULL;
}

void dg_conf_default(struct dg_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->enforce = true;
	c->drop_untrusted = true;
	c->rebind = DG_REBIND_SAME_IP;
	c->rebind_trusted = DG_REBIND_ANY;
	c->media_check = true;
}

int dg_rebind_parse(enum dg_rebind *rp, const char *s)
{
	static const char *const names[] = {"never", "same-ip", "authenticated",
					    "any"};
	unsigned i;

	for (i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*rp = (enum dg_rebind)i;
			return 0;
		}
	return -EINVAL;
}

enum dg_peer dg_peer_cmp(const struct sip_peer *known,
			 const struct sip_peer *from)
{
	if (known->tp != from->tp || known->zone != from->zone ||
	    !sg_addr_ip_eq(&known->addr, &from->addr))
		return DG_PEER_OTHER;
	if (sip_tp_reliable(from->tp))
		/* A stream is bound to its connection: another connection
		 * from the same address is a new flow (RFC 5626 spirit). */
		return known->conn_id == from->conn_id ? DG_PEER_SAME
						       : DG_PEER_SAME_IP;
	return sg_addr_eq(&known->addr, &from->addr) ? DG_PEER_SAME
						     : DG_PEER_SAME_IP;
}

/* The rule for a refusal of kind k (0 source, 1 CSeq, 2 unknown). */
static const char *rule_for(enum sip_method mid, unsigned k)
{
	static const char *const bye[] = {DG_RULE_BYE_SOURCE, DG_RULE_BYE_CSEQ,
					  DG_RULE_BYE_UNKNOWN};
	static const char *const other[] = {DG_RULE_HIJACK_SOURCE,
					    DG_RULE_HIJACK_CSEQ,
					    DG_RULE_HIJACK_UNKNOWN};

	return mid == SIP_METHOD_BYE ? bye[k] : other[k];
}

static void refuse(struct dg_out *o, const struct dg_conf *c,
		   const struct dg_in *in, unsigned kind, const char *why)
{
	o->res = DG_REFUSE;
	o->rule = rule_for(in->mid, kind);
	o->why = why;
	/* Never answer an ACK; the untrusted zone learns nothing when so
	 * configured (a reply confirms the dialog's tags were wrong). */
	o->drop = in->mid == SIP_METHOD_ACK ||
		  (!in->trusted && c->drop_untrusted);
}

/* The source part: OK, REBIND, NEED_AUTH, or a refusal. */
static void check_source(const struct dg_conf *c, const struct dg_in *in,
			 struct dg_out *o)
{
	enum dg_rebind pol = in->trusted ? c->rebind_trusted : c->rebind;

	if (in->trusted && pol == DG_REBIND_AUTH)
		pol = DG_REBIND_SAME_IP; /* we never authenticate it */
	if (!in->has_peer || in->peer == DG_PEER_SAME)
		return;
	if (in->peer == DG_PEER_SAME_IP && pol != DG_REBIND_NEVER) {
		o->res = DG_REBIND;
		o->rule = DG_RULE_REBIND;
		o->why = "party's port or connection changed";
		return;
	}
	if (pol == DG_REBIND_ANY ||
	    (pol == DG_REBIND_AUTH && in->authenticated)) {
		o->res = DG_REBIND;
		o->rule = DG_RULE_REBIND;
		o->why = in->authenticated ? "party moved, authenticated"
					   : "party moved to a new address";
		return;
	}
	if (pol == DG_REBIND_AUTH && !in->auth_tried) {
		o->res = DG_NEED_AUTH;
		return;
	}
	refuse(o, c, in, 0, "not from the dialog party's address");
}

static bool cseq_ok(const struct dg_in *in)
{
	if (in->mid == SIP_METHOD_ACK)
		/* ACK for a 2xx: the number of the INVITE it answers,
		 * which is that side's last request. */
		return in->has_cseq && in->cseq == in->last_cseq;
	return !in->has_cseq || in->cseq > in->last_cseq;
}

void dg_check(const struct dg_conf *c, const struct dg_in *in, struct dg_out *o)
{
	memset(o, 0, sizeof(*o));
	o->res = DG_OK;
	if (!c->enforce)
		return;
	if (!in->found) {
		/* The trusted side routes by Route set as it always did; a
		 * NOTIFY may arrive before the 2xx to its SUBSCRIBE and
		 * create the dialog (RFC 6665 4.1.2.4). */
		if (in->trusted || in->mid == SIP_METHOD_NOTIFY)
			return;
		refuse(o, c, in, 2, "matches no dialog");
		return;
	}
	check_source(c, in, o);
	if (o->res == DG_REFUSE)
		return;
	if (!cseq_ok(in)) {
		refuse(o, c, in, 1,
		       in->mid == SIP_METHOD_ACK
			       ? "ACK CSeq is not the INVITE's"
			       : "CSeq does not move forward");
		return;
	}
}

void dg_check_cancel(const struct dg_conf *c, bool found, bool trusted,
		     enum dg_peer peer, struct dg_out *o)
{
	memset(o, 0, sizeof(*o));
	o->res = DG_OK;
	if (found && peer == DG_PEER_SAME)
		return;
	/* A trusted peer (a PBX over TCP) may send the CANCEL on another
	 * connection or from another node, as its rebind policy allows.  An
	 * untrusted one sends it within seconds of its INVITE: the same
	 * source, always. */
	if (found && trusted &&
	    (c->rebind_trusted == DG_REBIND_ANY ||
	     (peer == DG_PEER_SAME_IP && c->rebind_trusted != DG_REBIND_NEVER)))
		return;
	if (!c->enforce && found)
		return;
	o->res = DG_REFUSE;
	o->rule = found ? DG_RULE_CANCEL_SOURCE : DG_RULE_CANCEL_UNKNOWN;
	o->why = found ? "not from the INVITE's source"
		       : "matches no pending INVITE";
	o->drop = !trusted && c->drop_untrusted;
}

static bool null_addr(const struct sg_addr *a)
{
	static const uint8_t zero[16];

	if (sg_addr_family(a) == AF_INET)
		return a->u.in.sin_addr.s_addr == 0;
	return memcmp(&a->u.in6.sin6_addr, zero, 16) == 0;
}

static int conn_ok(const struct dg_conf *c, const struct sdp_conn *cn,
		   const struct sg_addr *sig, const char **whyp)
{
	struct sg_addr a;
	unsigned i;

	if (!cn || !cn->present || !cn->af ||
	    sg_addr_from_host(&a, cn->addr, 9) != 0) {
		*whyp = "media address is not an IP address";
		return -EPERM;
	}
	if (null_addr(&a) || sg_addr_ip_eq(&a, sig))
		return 0;
	for (i = 0; i < c->nmedia; i++)
		if (gate_cidr_contains(&c->media[i], &a))
			return 0;
	*whyp = "media moved away from the party's address";
	return -EPERM;
}

int dg_media_check(const struct dg_conf *c, struct str sdp,
		   const struct sg_addr *sig, const char **whyp)
{
	struct sdp_sess s;
	struct sip_perr pe;
	unsigned i;
	int err;

	*whyp = NULL;
	if (!c->media_check || !sdp.len)
		return 0;
	if (sdp_parse(&s, sdp, &pe) != 0) {
		*whyp = "unreadable SDP";
		return -EINVAL;
	}
	for (i = 0; i < s.nmedia; i++) {
		if (s.media[i].port == 0)
			continue; /* a rejected or disabled stream */
		err = conn_ok(c, sdp_media_conn(&s, i), sig, whyp);
		if (err)
			return err;
	}
	return 0;
}

/* ------------------------------------------------- registrations */

void rg_conf_default(struct rg_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->max_bindings = 10;
}

/* Private and special-use ranges (RFC 1918, 6598, 5735, 4193, 4291). */
static const char *const private_ranges[] = {
	"0.0.0.0/8",      "10.0.0.0/8",    "100.64.0.0/10",  "127.0.0.0/8",
	"169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/3",
	"::/127",         "fc00::/7",      "fe80::/10",      "ff00::/8",
};

bool rg_contact_forbidden(const struct rg_conf *c, const struct sg_addr *a)
{
	struct gate_cidr r;
	const char *why;
	unsigned i;

	for (i = 0; i < c->nforbidden; i++)
		if (gate_cidr_contains(&c->forbidden[i], a))
			return true;
	if (!c->forbid_private)
		return false;
	for (i = 0; i < sizeof(private_ranges) / sizeof(private_ranges[0]); i++)
		if (gate_cidr_parse(&r, str_cstr(private_ranges[i]), &why) ==
			    0 &&
		    gate_cidr_contains(&r, a))
			return true;
	return false;
}

enum rg_move rg_move_check(const struct rg_conf *c,
			   const struct sip_peer *known, uint64_t ua_known,
			   uint64_t refreshed_ms, const struct sip_peer *from,
			   uint64_t ua, uint64_t now_ms)
{
	if (dg_peer_cmp(known, from) == DG_PEER_SAME && ua == ua_known)
		return RG_SAME;
	if (c->move_hold_ms && now_ms >= refreshed_ms &&
	    now_ms - refreshed_ms < c->move_hold_ms)
		return RG_HELD;
	return RG_MOVED;
}
