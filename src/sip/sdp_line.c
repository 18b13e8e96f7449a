/*
 * sdp_line.c - the values of SDP lines for sdp_parse() (sdp.c, whose
 * file comment gives the rules): o= c= t= r= z= b= k= and m= (RFC 8866
 * 5.2 to 5.14).  Every value is checked completely and recorded as
 * slices into the body.
 */
#include "sip/sdp_int.h"

#include <errno.h>
#include <string.h>

/* non-ws-string: VCHAR or any byte >= 0x80. */
static bool is_nonws(struct str s)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if ((unsigned char)s.p[i] <= 0x20 || s.p[i] == 0x7f)
			return false;
	return s.len > 0;
}

/* Name in an o= line: letters, digits, '-', '.', '_'. */
static bool is_domain(struct str s)
{
	size_t i;

	for (i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.p[i];

		if (!sip__is(ch, SIP__C_ALPHA | SIP__C_DIGIT) && ch != '-' &&
		    ch != '.' && ch != '_')
			return false;
	}
	return s.len > 0;
}

/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address> */
int sip__sdp_origin(struct sdp_ctx *c, struct str v)
{
	struct sdp_sess *s = c->s;
	struct str rest = v, f[6], extra;
	unsigned i;
	int af, want;

	for (i = 0; i < 6; i++)
		if (!field(&rest, &f[i]))
			return fail(c, SIP_PE_SYNTAX, rest.p,
				    "o= needs six fields");
	if (field(&rest, &extra))
		return fail(c, SIP_PE_SYNTAX, extra.p, "extra field in o=");
	if (!is_nonws(f[0]) || !is_digits(f[1]) || !is_digits(f[2]))
		return fail(c, SIP_PE_SYNTAX, v.p,
			    "bad o= user, id or version");
	if (!is_token(f[3]) || !is_token(f[4]) || !is_nonws(f[5]))
		return fail(c, SIP_PE_SYNTAX, f[3].p, "bad o= address");
	want = addrtype_af(f[3], f[4]);
	af = sdp_ip_af(f[5]);
	/* Tolerated: a bracketed IPv6 origin ("[::1]", sipp sends it); the
	 * origin is informational and a media relay rewrites it anyway. */
	if (!af && f[5].len > 2 && f[5].p[0] == '[' &&
	    f[5].p[f[5].len - 1] == ']')
		af = sdp_ip_af(str_make(f[5].p + 1, f[5].len - 2));
	if (want && af != want && (af || !is_domain(f[5])))
		return fail(c, SIP_PE_SYNTAX, f[5].p, "bad o= address");
	s->origin = v;
	s->o_user = f[0];
	s->o_sess_id = f[1];
	s->o_sess_ver = f[2];
	s->o_nettype = f[3];
	s->o_addrtype = f[4];
	s->o_addr = f[5];
	return 0;
}

/* After the address: IP4 "/ttl[/count]", IP6 "/count" (RFC 8866 5.7). */
static bool conn_suffix_ok(struct str suf, int af)
{
	long sl = str_chr(suf, '/');
	uint16_t v;

	if (af == AF_INET) {
		if (str_to_u16(&v, sl < 0 ? suf : str_make(suf.p, (size_t)sl),
			       255))
			return false;
		if (sl < 0)
			return true;
		suf = str_skip(suf, (size_t)sl + 1);
	}
	return str_to_u16(&v, suf, 65535) == 0 && v > 0;
}

/* c=<nettype> <addrtype> <connection-address> */
int sip__sdp_conn(struct sdp_ctx *c, struct str v, struct sdp_conn *cn)
{
	struct str rest = v, nt, at, addr, extra;
	long sl;
	int af;

	if (!field(&rest, &nt) || !field(&rest, &at) || !field(&rest, &addr))
		return fail(c, SIP_PE_SYNTAX, rest.p, "c= needs three fields");
	if (field(&rest, &extra))
		return fail(c, SIP_PE_SYNTAX, extra.p, "extra field in c=");
	if (!is_token(nt) || !is_token(at))
		return fail(c, SIP_PE_SYNTAX, v.p, "bad c= network type");
	cn->line = v;
	cn->nettype = nt;
	cn->addrtype = at;
	cn->present = true;
	if (nt.len != 2 || nt.p[0] != 'I' || nt.p[1] != 'N') {
		/* Another network (RFC 8866 8.2.6): opaque, not an IP. */
		if (!is_nonws(addr))
			return fail(c, SIP_PE_SYNTAX, addr.p, "bad c= address");
		cn->addr = addr;
		return 0;
	}
	af = addrtype_af(nt, at);
	if (!af)
		return fail(c, SIP_PE_SYNTAX, at.p,
			    "c= address type not IP4/IP6");
	sl = str_chr(addr, '/');
	cn->addr = sl < 0 ? addr : str_make(addr.p, (size_t)sl);
	if (sdp_ip_af(cn->addr) != af)
		return fail(c, SIP_PE_SYNTAX, addr.p,
			    "c= address is not an IP literal of its type");
	if (sl >= 0 && !conn_suffix_ok(str_skip(addr, (size_t)sl + 1), af))
		return fail(c, SIP_PE_SYNTAX, addr.p + sl, "bad c= ttl/count");
	cn->af = af;
	return 0;
}

/* typed-time: digits with an optional d/h/m/s unit (RFC 8866 5.10). */
static bool is_typed_time(struct str s)
{
	if (s.len > 1 && strchr("dhms", s.p[s.len - 1]))
		s.len--;
	return is_digits(s);
}

/* t=<start> <stop>; r=<interval> <duration> <offsets>...;
 * z=<time> [-]<offset> ... */
int sip__sdp_times(struct sdp_ctx *c, char t, struct str v)
{
	struct str rest = v, f;
	unsigned n = 0;
	bool ok = true;

	while (ok && field(&rest, &f)) {
		if (t == 't')
			ok = is_digits(f);
		else if (t == 'r')
			ok = is_typed_time(f);
		else if (n % 2 == 0)
			ok = is_digits(f);
		else
			ok = is_typed_time(
				f.len && f.p[0] == '-' ? str_skip(f, 1) : f);
		n++;
	}
	if (ok)
		ok = t == 't' ? n == 2 : t == 'r' ? n >= 3 : n >= 2 && !(n % 2);
	if (!ok)
		return fail(c, SIP_PE_SYNTAX, v.p,
			    t == 't'   ? "bad t= line"
			    : t == 'r' ? "bad r= line"
				       : "bad z= line");
	return 0;
}

/* b=<bwtype>:<bandwidth> and k=<method>[:<key>] */
int sip__sdp_bw_key(struct sdp_ctx *c, char t, struct str v)
{
	long col = str_chr(v, ':');
	struct str name = col < 0 ? v : str_make(v.p, (size_t)col);

	if (!is_token(name))
		return fail(c, SIP_PE_SYNTAX, v.p,
			    t == 'b' ? "bad b= type" : "bad k= method");
	if (t == 'b' && (col < 0 || !is_digits(str_skip(v, (size_t)col + 1))))
		return fail(c, SIP_PE_SYNTAX, v.p, "bad b= bandwidth");
	return 0;
}

/* "<port>[/<count>]" of an m= line. */
static int media_port(struct sdp_ctx *c, struct sdp_media *m, struct str f)
{
	long sl = str_chr(f, '/');

	m->port_str = sl < 0 ? f : str_make(f.p, (size_t)sl);
	if (str_to_u16(&m->port, m->port_str, 65535))
		return fail(c, SIP_PE_SYNTAX, f.p, "bad m= port");
	if (sl >= 0 &&
	    (str_to_u16(&m->nports, str_skip(f, (size_t)sl + 1), 65535) ||
	     m->nports == 0))
		return fail(c, SIP_PE_SYNTAX, f.p, "bad m= port count");
	return 0;
}

static bool is_proto(struct str s)
{
	struct str tok;

	if (!s.len || s.p[s.len - 1] == '/')
		return false;
	while (str_split(&s, '/', &tok))
		if (!is_token(tok))
			return false;
	return true;
}

/* The well-known profiles, case-insensitively, by length first. */
static enum sdp_proto proto_id(struct str s)
{
	switch (s.len) {
	case 3:
		return SIP__LCEQ(s, "udp") ? SDP_PROTO_UDP : SDP_PROTO_OTHER;
	case 7:
		return SIP__LCEQ(s, "rtp/avp") ? SDP_PROTO_RTP_AVP
					       : SDP_PROTO_OTHER;
	case 8:
		if (SIP__LCEQ(s, "rtp/avpf"))
			return SDP_PROTO_RTP_AVPF;
		return SIP__LCEQ(s, "rtp/savp") ? SDP_PROTO_RTP_SAVP
						: SDP_PROTO_OTHER;
	case 9:
		return SIP__LCEQ(s, "rtp/savpf") ? SDP_PROTO_RTP_SAVPF
						 : SDP_PROTO_OTHER;
	case 16:
		return SIP__LCEQ(s, "udp/tls/rtp/savp")
			       ? SDP_PROTO_UDP_TLS_RTP_SAVP
			       : SDP_PROTO_OTHER;
	case 17:
		return SIP__LCEQ(s, "udp/tls/rtp/savpf")
			       ? SDP_PROTO_UDP_TLS_RTP_SAVPF
			       : SDP_PROTO_OTHER;
	default:
		return SDP_PROTO_OTHER;
	}
}

/* Reset a new media section field by field: its format array is filled
 * up to nfmt, and memset() of the rest compiles to the slow "rep stos". */
static void media_init(struct sdp_media *m)
{
	m->line = STR_NULL;
	m->media = STR_NULL;
	m->port_str = STR_NULL;
	m->port = 0;
	m->nports = 0;
	m->proto = STR_NULL;
	m->proto_id = SDP_PROTO_OTHER;
	m->nfmt = 0;
	conn_init(&m->conn);
	m->dir = SDP_DIR_NONE;
	m->attr_first = 0;
	m->nattr = 0;
	m->rtcp_port = 0;
	m->rtcp_addr = STR_NULL;
	m->rtcp_af = 0;
	m->rtcp_mux = false;
	m->mid = STR_NULL;
	m->setup = SDP_SETUP_NONE;
	m->ptime = 0;
	m->end = STR_NULL;
}

/* m=<media> <port>[/<count>] <proto> <fmt> ... */
int sip__sdp_media(struct sdp_ctx *c, struct str line, struct str v)
{
	struct sdp_sess *s = c->s;
	struct sdp_media *m;
	struct str rest = v, port, f;
	int err;

	if (!c->seen_t)
		return fail(c, SIP_PE_MISSING, line.p, "no t= before m=");
	if (s->nmedia >= SDP_MAX_MEDIA)
		return fail(c, SIP_PE_LIMIT, line.p, "too many m= lines");
	section_close(c, line.p);
	m = &s->media[s->nmedia++];
	media_init(m);
	c->m = m;
	c->once = 0;
	m->line = line;
	m->attr_first = s->nattr;
	m->nports = 1;
	if (!field(&rest, &m->media) || !is_token(m->media))
		return fail(c, SIP_PE_SYNTAX, v.p, "bad m= media");
	if (!field(&rest, &port))
		return fail(c, SIP_PE_SYNTAX, rest.p, "m= without port");
	err = media_port(c, m, port);
	if (err)
		return err;
	if (!field(&rest, &m->proto) || !is_proto(m->proto))
		return fail(c, SIP_PE_SYNTAX, m->proto.p, "bad m= proto");
	m->proto_id = proto_id(m->proto);
	while (field(&rest, &f)) {
		if (tok_end(f.p, f.p + f.len) != f.p + f.len)
			return fail(c, SIP_PE_SYNTAX, f.p, "bad m= format");
		if (m->nfmt >= SDP_MAX_FMTS)
			return fail(c, SIP_PE_LIMIT, f.p,
				    "too many m= formats");
		m->fmt[m->nfmt++] = f;
	}
	if (!m->nfmt)
		return fail(c, SIP_PE_SYNTAX, rest.p, "m= without formats");
	return 0;
}
