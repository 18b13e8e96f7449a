/*
 * route.c - where things go: is a URI one of our listeners, which address
 * and transport a URI or Via names, which of our listeners sends toward a
 * peer, loop detection (RFC 3261 16.3 item 4, 16.6 step 8) and the
 * received/rport rewrite of the sender's Via (RFC 3581 4).
 *
 * Host names are not resolved: sipguard routes on IP literals (its zones,
 * backends and trunks are configured as addresses, and in-dialog targets
 * are the addresses the parties used).  A URI naming a host that is not an
 * IP literal has no target here (-EHOSTUNREACH); RFC 3263 resolution is
 * left out on purpose, since a blocking resolver does not belong on the
 * event loop and an edge device should not follow attacker-chosen names.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/siphash.h"
#include "proxy/proxy_int.h"

static enum sip_tp tp_from_str(struct str t, bool sips)
{
	if (str_caseeq(t, STR("tcp")))
		return sips ? SIP_TP_TLS : SIP_TP_TCP;
	if (str_caseeq(t, STR("tls")))
		return SIP_TP_TLS;
	return sips ? SIP_TP_TLS : SIP_TP_UDP;
}

const char *proxy__tp_param(enum sip_tp tp)
{
	return tp == SIP_TP_TLS ? "tls" : tp == SIP_TP_TCP ? "tcp" : "udp";
}

static uint16_t default_port(enum sip_tp tp)
{
	return tp == SIP_TP_TLS ? 5061 : 5060;
}

/*
 * The listener a sip/sips URI names (its host is our listener's IP and
 * its port, explicit or default, the listener's port), or NULL.  The
 * transport is not compared: a Route to our UDP address also reaches our
 * TCP listener on the same address and port.
 */
const struct proxy_lis *proxy__uri_is_us(const struct proxy *p,
					 const struct sip_uri *u)
{
	struct sg_addr a;
	uint16_t port;
	unsigned i;

	if (u->sch != SIP_URI_SIP && u->sch != SIP_URI_SIPS)
		return NULL;
	if (u->host_type != SIP_HOST_IPV4 && u->host_type != SIP_HOST_IPV6)
		return NULL;
	port = u->has_port ? u->port
			   : default_port(tp_from_str(u->transport,
						      u->sch == SIP_URI_SIPS));
	if (sg_addr_from_host(&a, u->host, port) != 0)
		return NULL;
	for (i = 0; i < p->nlis; i++)
		if (sg_addr_eq(&a, &p->lis[i].addr))
			return &p->lis[i];
	return NULL;
}

/* Where a URI sends a request (maddr wins over host, RFC 3261 19.1.1). */
int proxy__uri_target(struct sip_peer *peer, const struct sip_uri *u)
{
	struct str host = u->maddr.len ? u->maddr : u->host;
	enum sip_tp tp;

	if (u->sch != SIP_URI_SIP && u->sch != SIP_URI_SIPS)
		return -EPROTONOSUPPORT;
	tp = tp_from_str(u->transport, u->sch == SIP_URI_SIPS);
	memset(peer, 0, sizeof(*peer));
	peer->tp = tp;
	if (sg_addr_from_host(&peer->addr, host,
			      u->has_port ? u->port : default_port(tp)) != 0)
		return -EHOSTUNREACH;
	if (u->has_port && u->port == 0)
		return -EHOSTUNREACH;
	return 0;
}

/*
 * Where a response goes by its Via (RFC 3261 18.2.2 with RFC 3581):
 * received (or the sent-by host) and rport (or the sent-by port).  hint,
 * if given, supplies a connection to reuse for stream transports.
 */
int proxy__via_target(struct sip_peer *peer, const struct sip_via *v,
		      const struct sip_peer *hint)
{
	struct str host = v->has_received ? v->received : v->host;
	uint16_t port = v->has_port ? v->port : 0;
	enum sip_tp tp = tp_from_str(v->transport, false);

	if (v->has_rport && v->rport.len &&
	    str_to_u16(&port, v->rport, 65535) != 0)
		return -EINVAL;
	if (port == 0)
		port = default_port(tp);
	memset(peer, 0, sizeof(*peer));
	peer->tp = tp;
	if (sg_addr_from_host(&peer->addr, host, port) != 0)
		return -EHOSTUNREACH;
	if (hint && hint->tp == tp && sg_addr_eq(&hint->addr, &peer->addr))
		peer->conn_id = hint->conn_id;
	return 0;
}

/*
 * Our listener in `zone` that sends toward `to`: same transport and
 * address family; for streams any listener of that kind will do (the
 * connection is made from its address).
 */
const struct proxy_lis *proxy__egress(const struct proxy *p, unsigned zone,
				      const struct sip_peer *to)
{
	const struct proxy_lis *fallback = NULL;
	int fam = sg_addr_family(&to->addr);
	unsigned i;

	for (i = 0; i < p->nlis; i++) {
		const struct proxy_lis *l = &p->lis[i];

		if (l->zone != zone || sg_addr_family(&l->addr) != fam)
			continue;
		if (l->tp == to->tp)
			return l;
		if (!fallback && l->tp == SIP_TP_UDP)
			fallback = l;
	}
	return fallback;
}

/*
 * The hash of what makes a request the same request for loop detection
 * (16.6 step 8): Request-URI, From tag, To tag, Call-ID, CSeq number,
 * Proxy-Require and Route.  A spiral (the Request-URI changed) hashes
 * differently; a loop does not.
 */
uint64_t proxy__loop_hash(const struct proxy *p, const struct sip_msg *m)
{
	uint64_t h = siphash24(m->ruri_raw.p, m->ruri_raw.len, p->key);
	const struct sip_hdr *hd;
	unsigned i;

	h ^= siphash24(m->from.tag.p, m->from.tag.len, p->key) * 3;
	h ^= siphash24(m->to.tag.p, m->to.tag.len, p->key) * 5;
	h ^= siphash24(m->call_id.p, m->call_id.len, p->key) * 7;
	h ^= (uint64_t)m->cseq.num * 0x9e3779b97f4a7c15ull;
	for (hd = sip_msg_hdr(m, SIP_HDR_PROXY_REQUIRE); hd;
	     hd = sip_hdr_next(m, hd))
		h ^= siphash24(hd->value.p, hd->value.len, p->key) * 11;
	for (i = 0; i < m->nroute; i++)
		h ^= siphash24(m->route[i].raw.p, m->route[i].raw.len, p->key) *
		     (13 + 2 * i);
	return h;
}

/*
 * A loop: one of the Vias is ours (we tag our Vias with ;sgl=<hash>) and
 * carries the hash this request has now.
 */
bool proxy__is_loop(const struct proxy *p, const struct sip_msg *m)
{
	char want[17];
	unsigned i;

	snprintf(want, sizeof(want), "%016llx",
		 (unsigned long long)proxy__loop_hash(p, m));
	for (i = 0; i < m->nvia; i++) {
		struct sip_params prm;
		const struct sip_param *sgl;

		if (str_chr(m->via[i].params, 's') < 0)
			continue;
		if (sip_params_parse(&prm, m->via[i].params, NULL) != 0)
			continue;
		sgl = sip_params_find(&prm, "sgl");
		if (sgl && str_eq(sgl->value, str_cstr(want)))
			return true;
	}
	return false;
}

/* Append to dst at *np; false when it does not fit. */
static bool put(char *dst, size_t dstsz, size_t *np, struct str s)
{
	if (s.len >= dstsz - *np)
		return false;
	memcpy(dst + *np, s.p, s.len);
	*np += s.len;
	return true;
}

/*
 * Rewrite the sender's top Via element for forwarding (RFC 3581 4):
 * ";received=<source ip>" when the sent-by host differs from the source
 * (always for names), and ";rport=<source port>" in place of a bare
 * ";rport".  The parameters are re-emitted from their parsed form, so
 * the element is normalised (no white space around ';' and '=').
 * Writes the new element into dst; returns its length, 0 when nothing
 * changes, or -ENOSPC / -EINVAL.
 */
int proxy__via_fix(char *dst, size_t dstsz, const struct sip_via *v,
		   const struct sip_peer *from)
{
	char ip[SG_ADDR_STRLEN], port[8];
	struct sip_params prm;
	struct sg_addr sent;
	bool need_received, need_rport;
	size_t n = 0;
	unsigned i;

	sg_addr_ip(&from->addr, ip, sizeof(ip));
	need_received = !v->has_received &&
			(sg_addr_from_host(&sent, v->host, 5060) != 0 ||
			 !sg_addr_ip_eq(&sent, &from->addr));
	need_rport = v->has_rport && v->rport.len == 0;
	if (!need_received && !need_rport)
		return 0;
	if (sip_params_parse(&prm, v->params, NULL) != 0)
		return -EINVAL;
	snprintf(port, sizeof(port), "%u", sg_addr_port(&from->addr));
	if (!put(dst, dstsz, &n,
		 str_rtrim(v->params.p ? str_span(v->raw.p, v->params.p)
				       : v->raw)))
		return -ENOSPC;
	/* str_rtrim above leaves a trailing ';' when params follow. */
	if (n && dst[n - 1] == ';')
		n--;
	n = (size_t)(str_rtrim(str_make(dst, n)).len);
	for (i = 0; i < prm.n; i++) {
		const struct sip_param *q = &prm.p[i];
		bool rport = str_caseeq(q->name, STR("rport"));

		if (!put(dst, dstsz, &n, STR(";")) ||
		    !put(dst, dstsz, &n, q->name))
			return -ENOSPC;
		if (rport && need_rport) {
			if (!put(dst, dstsz, &n, STR("=")) ||
			    !put(dst, dstsz, &n, str_cstr(port)))
				return -ENOSPC;
		} else if (q->has_value && (!put(dst, dstsz, &n, STR("=")) ||
					    !put(dst, dstsz, &n, q->value))) {
			return -ENOSPC;
		}
	}
	if (need_received && (!put(dst, dstsz, &n, STR(";received=")) ||
			      !put(dst, dstsz, &n, str_cstr(ip))))
		return -ENOSPC;
	return (int)n;
}

/* A To-tag for our own responses: stable for retransmissions of the same
 * request (hash of Call-ID, From tag, CSeq and top branch). */
void proxy__tag(const struct proxy *p, const struct sip_msg *m,
		char out[PROXY_TAG_LEN + 1])
{
	uint64_t h = siphash24(m->call_id.p, m->call_id.len, p->key);

	h ^= siphash24(m->from.tag.p, m->from.tag.len, p->key) * 3;
	if (m->nvia)
		h ^= siphash24(m->via[0].branch.p, m->via[0].branch.len,
			       p->key) *
		     5;
	h ^= (uint64_t)m->cseq.num * 0x9e3779b97f4a7c15ull;
	snprintf(out, PROXY_TAG_LEN + 1, "%016llx", (unsigned long long)h);
}
