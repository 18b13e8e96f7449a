/*
 * fuzz_sdp.c - libFuzzer target for the SDP parser, its attribute parsers
 * and the SDP builder.
 *
 * Parse the input.  On success check that every slice of the result lies
 * inside the input and that the section bookkeeping is consistent, run
 * every attribute parser on every attribute, then anchor every stream the
 * way the media relay does (o= and c= to a relay address, m= ports, a=rtcp
 * replaced, ICE attributes dropped, one attribute added per section;
 * the last input byte picks IPv4/IPv6, session or media c=, and whether
 * m= protos are rewritten), and re-parse the output: it must parse (only
 * a size limit may stop it) and carry the relay's address and ports.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "sip/sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "fuzz_sdp: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                          \
			abort();                                           \
		}                                                          \
	} while (0)

static void in_range(struct str s, struct str in)
{
	uintptr_t lo = (uintptr_t)in.p, p = (uintptr_t)s.p;

	if (!s.p) {
		CHECK(s.len == 0);
		return;
	}
	CHECK(p >= lo && p <= lo + in.len && s.len <= lo + in.len - p);
}

static void check_conn(const struct sdp_conn *c, struct str in)
{
	in_range(c->line, in);
	in_range(c->nettype, in);
	in_range(c->addrtype, in);
	in_range(c->addr, in);
	CHECK(!c->af || sdp_ip_af(c->addr) == c->af);
}

static void check_attr_values(const struct sdp_attr *a)
{
	struct sdp_rtpmap r;
	struct sdp_crypto cr;
	struct sdp_fingerprint f;
	struct sdp_candidate cd;
	struct str v = a->value;

	if (sdp_rtpmap_parse(&r, v) == 0)
		in_range(r.encoding, v);
	if (sdp_crypto_parse(&cr, v) == 0) {
		in_range(cr.suite, v);
		in_range(cr.key, v);
		in_range(cr.lifetime, v);
		in_range(cr.mki, v);
		in_range(cr.params, v);
	}
	if (sdp_fingerprint_parse(&f, v) == 0) {
		in_range(f.hash, v);
		in_range(f.value, v);
	}
	if (sdp_candidate_parse(&cd, v) == 0) {
		in_range(cd.foundation, v);
		in_range(cd.transport, v);
		in_range(cd.addr, v);
		in_range(cd.type, v);
		in_range(cd.raddr, v);
		in_range(cd.ext, v);
	}
}

static void check_media(const struct sdp_sess *s, unsigned i, struct str in)
{
	const struct sdp_media *m = &s->media[i];
	unsigned k;

	in_range(m->line, in);
	in_range(m->media, in);
	in_range(m->port_str, in);
	in_range(m->proto, in);
	in_range(m->rtcp_addr, in);
	in_range(m->mid, in);
	in_range(m->end, in);
	check_conn(&m->conn, in);
	CHECK(m->nfmt >= 1 && m->nfmt <= SDP_MAX_FMTS);
	for (k = 0; k < m->nfmt; k++)
		in_range(m->fmt[k], in);
	CHECK(m->attr_first ==
	      (i ? s->media[i - 1].attr_first + s->media[i - 1].nattr
		 : s->nsess_attr));
	CHECK(m->attr_first + m->nattr <= s->nattr);
	CHECK(m->end.len == 0 && m->end.p >= m->line.p + m->line.len);
	CHECK(sdp_media_conn(s, i) != NULL || !s->conn.present);
}

static void check_sess(const struct sdp_sess *s, struct str in)
{
	const struct str *o[] = {&s->origin,     &s->o_user,    &s->o_sess_id,
				 &s->o_sess_ver, &s->o_nettype, &s->o_addrtype,
				 &s->o_addr,     &s->name,      &s->end};
	unsigned i;

	for (i = 0; i < sizeof(o) / sizeof(o[0]); i++)
		in_range(*o[i], in);
	CHECK(s->o_addr.len > 0);
	check_conn(&s->conn, in);
	CHECK(s->nattr <= SDP_MAX_ATTRS && s->nsess_attr <= s->nattr);
	CHECK(s->nmedia <= SDP_MAX_MEDIA);
	for (i = 0; i < s->nattr; i++) {
		in_range(s->attr[i].line, in);
		in_range(s->attr[i].name, in);
		in_range(s->attr[i].value, in);
		check_attr_values(&s->attr[i]);
	}
	for (i = 0; i < s->nmedia; i++)
		check_media(s, i, in);
}

static bool is_ice(struct str name)
{
	return str_eq_cstr(name, "candidate") ||
	       str_eq_cstr(name, "ice-ufrag") || str_eq_cstr(name, "ice-pwd") ||
	       str_eq_cstr(name, "ice-options") ||
	       str_eq_cstr(name, "remote-candidates") ||
	       str_eq_cstr(name, "end-of-candidates");
}

static const char *const ports[] = {
	"40000", "40002", "40004", "40006", "40008", "40010", "40012", "40014",
	"40016", "40018", "40020", "40022", "40024", "40026", "40028", "40030",
};

enum {
	MODE_V6 = 1 << 0,     /* relay address is IPv6 */
	MODE_SESS_C = 1 << 1, /* one session c= instead of one per media */
	MODE_PROTO = 1 << 2,  /* also rewrite m= proto to RTP/AVP */
};

/* What the relay does: anchor every stream that is not disabled. */
static void anchor(struct sdp_bld *b, const struct sdp_sess *s, unsigned mode,
		   struct str at, struct str addr)
{
	unsigned i, k;

	sdp_bld_origin_addr(b, at, addr);
	if (s->conn.present || (mode & MODE_SESS_C))
		sdp_bld_conn(b, -1, at, addr);
	for (i = 0; i < s->nattr; i++)
		if (is_ice(s->attr[i].name))
			sdp_bld_attr_remove(b, &s->attr[i]);
	for (i = 0; i < s->nmedia; i++) {
		const struct sdp_media *m = &s->media[i];

		if (m->port == 0)
			continue;
		sdp_bld_media_port(b, i, str_cstr(ports[i]));
		if (mode & MODE_PROTO)
			sdp_bld_media_proto(b, i, STR("RTP/AVP"));
		if (m->conn.present ||
		    !(s->conn.present || (mode & MODE_SESS_C)))
			sdp_bld_conn(b, (int)i, at, addr);
		for (k = m->attr_first; k < m->attr_first + m->nattr; k++)
			if (str_eq_cstr(s->attr[k].name, "rtcp"))
				sdp_bld_attr_replace(b, &s->attr[k],
						     STR("rtcp:40001"));
		sdp_bld_attr_add(b, (int)i, STR("x-relayed"));
	}
	sdp_bld_attr_add(b, -1, STR("x-relay:1"));
}

static void check_anchored(const struct sdp_sess *in, const struct sdp_sess *o,
			   unsigned mode, int af)
{
	unsigned i, k;

	CHECK(o->nmedia == in->nmedia);
	CHECK(sdp_ip_af(o->o_addr) == af);
	for (i = 0; i < o->nmedia; i++) {
		const struct sdp_media *m = &o->media[i];

		if (in->media[i].port == 0) {
			CHECK(m->port == 0);
			continue;
		}
		CHECK(str_eq_cstr(m->port_str, ports[i]));
		CHECK(!(mode & MODE_PROTO) || m->proto_id == SDP_PROTO_RTP_AVP);
		CHECK(sdp_media_conn(o, i) && sdp_media_conn(o, i)->af == af);
		for (k = m->attr_first; k < m->attr_first + m->nattr; k++)
			CHECK(!is_ice(o->attr[k].name));
		CHECK(sdp_attr_find(o, (int)i, "x-relayed"));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str in = str_make((const char *)data, size);
	struct sdp_sess *s = malloc(sizeof(*s)), *o = malloc(sizeof(*o));
	struct sdp_bld *b = malloc(sizeof(*b));
	struct sip_perr err;
	struct buf out;
	unsigned mode = size ? data[size - 1] : 0;
	bool v6 = mode & MODE_V6;
	int rc;

	buf_init(&out, 4 * SDP_MAX_SIZE);
	if (!s || !o || !b || sdp_parse(s, in, &err) != 0)
		goto done;
	check_sess(s, in);
	sdp_bld_init(b, s);
	anchor(b, s, mode, v6 ? STR("IP6") : STR("IP4"),
	       v6 ? STR("2001:db8::1") : STR("192.0.2.1"));
	rc = sdp_bld_write(b, &out);
	CHECK(rc == 0);
	rc = sdp_parse(o, buf_str(&out), &err);
	if (rc != 0) {
		if (err.code != SIP_PE_LIMIT)
			fprintf(stderr, "fuzz_sdp: re-parse: %s at %u\n%.*s\n",
				err.reason, err.off, STR_FMT(buf_str(&out)));
		CHECK(err.code == SIP_PE_LIMIT);
		goto done;
	}
	check_sess(o, buf_str(&out));
	check_anchored(s, o, mode, v6 ? AF_INET6 : AF_INET);
done:
	buf_free(&out);
	free(s);
	free(o);
	free(b);
	return 0;
}
