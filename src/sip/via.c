/*
 * via.c - one Via header element (via-parm, RFC 3261 20.42 and 25.1):
 * sent-protocol with LWS allowed around each '/' (RFC 4475 3.1.1.2),
 * sent-by host and port (IPv6 references, RFC 5118), and the parameters
 * a proxy relies on: branch, received (RFC 5118 4.5/4.6: with or without
 * brackets), rport (RFC 3581), maddr and ttl.  Other parameters stay in
 * the raw params slice.
 */
#include "sip/elem_int.h"

#include <errno.h>
#include <string.h>

/* token, then SWS; *pp advanced.  Returns the token (empty on none). */
static struct str lws_token(const char **pp, const char *end)
{
	const char *p = *pp, *q = sip__skip_class(p, end, SIP__C_TOKEN);

	*pp = sip__skip_lws(q, end);
	return str_span(p, q);
}

/* protocol-name SLASH protocol-version SLASH transport */
static int sent_protocol(struct sip_via *v, const char **pp, const char *end,
			 const char *base, struct sip_perr *errp)
{
	struct str *part[3] = {&v->proto_name, &v->proto_ver, &v->transport};
	const char *p = *pp;
	unsigned i = 0;

	/* Nearly every Via says "SIP/2.0/<transport> " with no LWS inside
	 * the protocol: take it at once; anything else goes the long way
	 * (from the second '/' when only the transport part differs). */
	if (end - p > 8 && memcmp(p, "SIP/2.0/", 8) == 0) {
		const char *t = sip__skip_class(p + 8, end, SIP__C_TOKEN);

		v->proto_name = str_make(p, 3);
		v->proto_ver = str_make(p + 4, 3);
		if (t > p + 8 && t < end && (*t == ' ' || *t == '\t')) {
			v->transport = str_span(p + 8, t);
			*pp = sip__skip_lws(t, end);
			return 0;
		}
		p += 7;
		i = 2;
	}
	for (; i < 3; i++) {
		if (i > 0) {
			if (p == end || *p != '/')
				return sip__fail(errp, SIP_PE_SYNTAX, base, p,
						 "'/' expected in Via");
			p = sip__skip_lws(p + 1, end);
		}
		*part[i] = lws_token(&p, end);
		if (str_empty(*part[i]))
			return sip__fail(errp, SIP_PE_SYNTAX, base, p,
					 "Via protocol token expected");
	}
	/* lws_token() ate the LWS that must separate protocol and host. */
	if (p == v->transport.p + v->transport.len)
		return sip__fail(errp, SIP_PE_SYNTAX, base, p,
				 "LWS expected before Via sent-by");
	*pp = p;
	return 0;
}

/* received = IPv4address / IPv6address, brackets tolerated (RFC 5118). */
static bool received_ok(struct str val)
{
	uint8_t a[16];
	enum sip_host_type t;

	if (sip__ipv4_parse(a, val))
		return true;
	t = sip__host_type(val);
	return t == SIP_HOST_IPV4 || t == SIP_HOST_IPV6 ||
	       sip__ipv6_parse(a, val);
}

SIP__HOT bool digits_max(struct str val, uint32_t max)
{
	uint32_t x;

	return val.len <= 5 && str_to_u32(&x, val, max) == 0;
}

enum via_pid {
	VP_OTHER = 0,
	VP_BRANCH,
	VP_RECEIVED,
	VP_RPORT,
	VP_MADDR,
	VP_TTL,
};

/* The parameters the proxy acts on, by length first (any case). */
static enum via_pid via_pid(struct str n)
{
	switch (n.len) {
	case 3:
		return sip__alphaeq(n.p, "ttl", 3) ? VP_TTL : VP_OTHER;
	case 5:
		if (sip__alphaeq(n.p, "rport", 5))
			return VP_RPORT;
		return sip__alphaeq(n.p, "maddr", 5) ? VP_MADDR : VP_OTHER;
	case 6:
		return sip__alphaeq(n.p, "branch", 6) ? VP_BRANCH : VP_OTHER;
	case 8:
		return sip__alphaeq(n.p, "received", 8) ? VP_RECEIVED
							: VP_OTHER;
	default:
		return VP_OTHER;
	}
}

/* Record a Via parameter the proxy acts on; NULL or why it is bad. */
static const char *via_param(struct sip_via *v, const struct sip_param *pp,
			     bool vtok)
{
	struct str val = pp->value;
	enum via_pid id = via_pid(pp->name);

	if (id == VP_OTHER)
		return NULL;
	if (id == VP_RPORT) {
		if (v->has_rport)
			return "duplicate rport";
		if (pp->has_value && !digits_max(val, 65535))
			return "bad rport";
		v->has_rport = true;
		v->rport = val;
		return NULL;
	}
	if (!pp->has_value)
		return "Via parameter needs a value";
	switch (id) {
	case VP_BRANCH:
		if (v->has_branch)
			return "duplicate branch";
		if (!vtok)
			return "bad branch";
		v->has_branch = true;
		v->branch = val;
		break;
	case VP_RECEIVED:
		if (v->has_received)
			return "duplicate received";
		if (!received_ok(val))
			return "bad received";
		v->has_received = true;
		v->received = val;
		break;
	case VP_MADDR:
		if (v->maddr.p)
			return "duplicate maddr";
		if (sip__host_type(val) == SIP_HOST_NONE)
			return "bad maddr";
		v->maddr = val;
		break;
	default:
		if (v->ttl.p)
			return "duplicate ttl";
		if (val.len > 3 || !digits_max(val, 255))
			return "bad ttl";
		v->ttl = val;
		break;
	}
	return NULL;
}

/*
 * Parse one via-parm (the msg parser splits the Via list).  LWS, including
 * folded line breaks, is allowed where RFC 3261 puts SWS/LWS: around '/',
 * ':', ';' and '='.  A repeated branch/received/rport/maddr/ttl is refused
 * so that no two readers disagree on which one counts.  Returns 0 or
 * -EINVAL with *errp; results point into s.
 */
int sip_via_parse(struct sip_via *viap, struct str s, struct sip_perr *errp)
{
	const char *p, *q, *end = s.p + s.len, *why;
	struct sip_param prm;
	bool vtok;
	int rc;

	if (!viap || (!s.p && s.len))
		return sip__fail(errp, SIP_PE_SYNTAX, NULL, NULL,
				 "invalid argument");
	/* Field by field: memset() compiles to the slower "rep stos". */
	viap->raw = s;
	viap->proto_name = STR_NULL;
	viap->proto_ver = STR_NULL;
	viap->transport = STR_NULL;
	viap->host = STR_NULL;
	viap->host_type = SIP_HOST_NONE;
	viap->port = 0;
	viap->has_port = false;
	viap->params = STR_NULL;
	viap->branch = STR_NULL;
	viap->received = STR_NULL;
	viap->maddr = STR_NULL;
	viap->ttl = STR_NULL;
	viap->rport = STR_NULL;
	viap->has_rport = false;
	viap->has_branch = false;
	viap->has_received = false;
	p = sip__skip_lws(s.p, end);
	if ((rc = sent_protocol(viap, &p, end, s.p, errp)) ||
	    (rc = sip__host_scan_fast(&viap->host, &viap->host_type, &p, end,
				      s.p, errp)))
		return rc;
	q = sip__skip_lws(p, end);
	if (q < end && *q == ':') {
		p = sip__skip_lws(q + 1, end);
		if (!sip__port_scan(&viap->port, &p, end))
			return sip__fail(errp, SIP_PE_SYNTAX, s.p, p,
					 "bad Via port");
		viap->has_port = true;
	}
	while ((rc = sip__hparam_next_tok(&prm, &vtok, &p, end, s.p, errp)) >
	       0) {
		if ((why = via_param(viap, &prm, vtok)))
			return sip__fail(errp, SIP_PE_SYNTAX, s.p, prm.name.p,
					 why);
		if (!viap->params.p)
			viap->params.p = prm.name.p;
		viap->params.len = (size_t)(p - viap->params.p);
	}
	return rc;
}
