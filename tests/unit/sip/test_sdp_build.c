/*
 * test_sdp_build.c - the SDP builder (sdp_build.c): each edit with its
 * exact output, error handling, and what the media relay does to real
 * offers (tests/data/sdp): anchor every stream on a relay address and
 * port, replace a=rtcp, drop ICE, keep holds, disabled streams, crypto
 * and DTLS as they were; then parse the result again and check it.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "test.h"

#include "core/buf.h"
#include "sip/sip.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct sdp_sess S, O;
static struct sdp_bld B;

enum op {
	OP_END = 0,
	OP_CONN,   /* i, a = addrtype, b = addr */
	OP_ORIGIN, /* a = addrtype, b = addr */
	OP_PORT,   /* i, a */
	OP_PROTO,  /* i, a */
	OP_RM,     /* i: attribute index */
	OP_REPL,   /* i: attribute index, a */
	OP_ADD,    /* i (-1 session), a */
};

struct step {
	enum op op;
	int i;
	const char *a, *b;
};

static void run(const struct sdp_sess *s, const struct step *st)
{
	for (; st->op != OP_END; st++) {
		struct str a = str_cstr(st->a), b = str_cstr(st->b);

		switch (st->op) {
		case OP_CONN:
			sdp_bld_conn(&B, st->i, a, b);
			break;
		case OP_ORIGIN:
			sdp_bld_origin_addr(&B, a, b);
			break;
		case OP_PORT:
			sdp_bld_media_port(&B, (unsigned)st->i, a);
			break;
		case OP_PROTO:
			sdp_bld_media_proto(&B, (unsigned)st->i, a);
			break;
		case OP_RM:
			sdp_bld_attr_remove(&B, &s->attr[st->i]);
			break;
		case OP_REPL:
			sdp_bld_attr_replace(&B, &s->attr[st->i], a);
			break;
		case OP_ADD:
			sdp_bld_attr_add(&B, st->i, a);
			break;
		case OP_END:
			break;
		}
	}
}

#define HDR "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\n"

static void test_ops(void **state)
{
	static const struct {
		const char *in;
		struct step steps[8]; /* ends at OP_END */
		const char *out;
	} cases[] = {
		{HDR "c=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
		 {{OP_CONN, -1, "IP6", "2001:db8::1"},
		  {OP_ORIGIN, 0, "IP6", "2001:db8::1"},
		  {OP_PORT, 0, "30000", NULL}},
		 "v=0\r\no=- 1 2 IN IP6 2001:db8::1\r\ns=-\r\n"
		 "c=IN IP6 2001:db8::1\r\nt=0 0\r\n"
		 "m=audio 30000 RTP/AVP 0\r\n"},
		/* A multicast ttl, another network type: rewritten. */
		{HDR "c=IN IP4 224.2.1.1/127/3\r\nt=0 0\r\n"
		     "m=a 1 RTP/AVP 0\r\nc=TN RFC2543 555\r\n",
		 {{OP_CONN, -1, "IP4", "192.0.2.9"},
		  {OP_CONN, 0, "IP4", "192.0.2.9"}},
		 HDR "c=IN IP4 192.0.2.9\r\nt=0 0\r\n"
		     "m=a 1 RTP/AVP 0\r\nc=IN IP4 192.0.2.9\r\n"},
		/* A missing c= goes after m= and i=, before b= and a=. */
		{HDR "t=0 0\r\nm=audio 1 RTP/SAVP 0\r\ni=x\r\nb=AS:1\r\n"
		     "a=sendrecv\r\n",
		 {{OP_ADD, 0, "x-late", NULL},
		  {OP_CONN, 0, "IP4", "192.0.2.9"},
		  {OP_PROTO, 0, "RTP/AVP", NULL}},
		 HDR
		 "t=0 0\r\nm=audio 1 RTP/AVP 0\r\ni=x\r\n"
		 "c=IN IP4 192.0.2.9\r\nb=AS:1\r\na=sendrecv\r\na=x-late\r\n"},
		/* ... also when the section is only its m= line. */
		{HDR "t=0 0\r\nm=audio 1 RTP/AVP 0\r\nm=video 2 RTP/AVP 0\r\n",
		 {{OP_ADD, 0, "x", NULL},
		  {OP_CONN, 0, "IP4", "192.0.2.9"},
		  {OP_ADD, -1, "s", NULL}},
		 HDR "t=0 0\r\na=s\r\nm=audio 1 RTP/AVP 0\r\n"
		     "c=IN IP4 192.0.2.9\r\na=x\r\nm=video 2 RTP/AVP 0\r\n"},
		/* Session c= after v o s i u e p, before b= and t=. */
		{HDR "i=i\r\nu=u\r\ne=e\r\np=p\r\nb=AS:1\r\nt=0 0\r\n",
		 {{OP_CONN, -1, "IP4", "192.0.2.9"}},
		 HDR "i=i\r\nu=u\r\ne=e\r\np=p\r\nc=IN IP4 192.0.2.9\r\n"
		     "b=AS:1\r\nt=0 0\r\n"},
		/* Attributes: remove, replace, add; bare LF kept; a last line
		 * without line end removed, or given one. */
		{"v=0\no=- 1 2 TN X h\ns=-\nt=0 0\na=ice-lite\n"
		 "m=audio 1 RTP/AVP 0\na=rtcp:2\na=candidate:1 1 UDP 1 "
		 "1.2.3.4 1 typ host",
		 {{OP_RM, 0, NULL, NULL},
		  {OP_REPL, 1, "rtcp:30001", NULL},
		  {OP_RM, 2, NULL, NULL},
		  {OP_ADD, 0, "x-relay", NULL},
		  {OP_ORIGIN, 0, "IP4", "192.0.2.9"},
		  {OP_CONN, 0, "IP4", "192.0.2.9"}},
		 "v=0\no=- 1 2 IN IP4 192.0.2.9\ns=-\nt=0 0\n"
		 "m=audio 1 RTP/AVP 0\nc=IN IP4 192.0.2.9\na=rtcp:30001\n"
		 "a=x-relay\n"},
		{HDR "t=0 0\r\nm=audio 1 RTP/AVP 0\r\na=x",
		 {{OP_ADD, 0, "y", NULL}},
		 HDR "t=0 0\r\nm=audio 1 RTP/AVP 0\r\na=x\r\na=y\r\n"},
		{HDR "t=0 0\r\nm=audio 1 RTP/AVP 0\r\na=x",
		 {{OP_RM, 0, NULL, NULL}},
		 HDR "t=0 0\r\nm=audio 1 RTP/AVP 0\r\n"},
		{HDR "t=0 0\r\nm=audio 1 RTP/AVP 0",
		 {{OP_ADD, 0, "y", NULL}, {OP_CONN, 0, "IP4", "1.2.3.4"}},
		 HDR "t=0 0\r\nm=audio 1 RTP/AVP 0\r\nc=IN IP4 1.2.3.4\r\n"
		     "a=y\r\n"},
		/* No edit: the original, with a final line end. */
		{HDR "t=0 0", {{OP_END, 0, NULL, NULL}}, HDR "t=0 0\r\n"},
		{HDR "t=0 0\r\n\r\n",
		 {{OP_ADD, -1, "x", NULL}},
		 HDR "t=0 0\r\na=x\r\n\r\n"},
	};
	struct sip_perr err;
	struct buf out;
	size_t i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		if (sdp_parse(&S, str_cstr(cases[i].in), &err))
			fail_msg("case %zu: %s at %u", i, err.reason, err.off);
		buf_init(&out, 65536);
		sdp_bld_init(&B, &S);
		run(&S, cases[i].steps);
		assert_int_equal(sdp_bld_write(&B, &out), 0);
		if (!str_eq(buf_str(&out), str_cstr(cases[i].out)))
			fail_msg("case %zu:\n%.*s", i, STR_FMT(buf_str(&out)));
		assert_int_equal(sdp_parse(&O, buf_str(&out), &err), 0);
		buf_free(&out);
	}
}

static void test_errors(void **state)
{
	static const char body[] = HDR "t=0 0\r\nm=audio 1 RTP/AVP 0\r\n"
				       "a=rtcp:2\r\n";
	static const struct {
		struct step steps[3];
		int err;
	} cases[] = {
		{{{OP_CONN, -1, "IP4", "1.2.3.4\r\na=evil"}}, -EINVAL},
		{{{OP_ADD, 0, "x\nm=audio 666 RTP/AVP 0", NULL}}, -EINVAL},
		{{{OP_REPL, 0, "x\r", NULL}}, -EINVAL},
		{{{OP_PORT, 0, "1\n", NULL}}, -EINVAL},
		{{{OP_PROTO, 0, "RTP/AVP\n", NULL}}, -EINVAL},
		{{{OP_ORIGIN, 0, "IP4", "\n"}}, -EINVAL},
		{{{OP_PORT, 1, "1", NULL}}, -EINVAL},
		{{{OP_PROTO, 1, "x", NULL}}, -EINVAL},
		{{{OP_CONN, 1, "IP4", "1.2.3.4"}}, -EINVAL},
		{{{OP_ADD, 1, "x", NULL}}, -EINVAL},
		{{{OP_RM, 0, NULL, NULL}, {OP_RM, 0, NULL, NULL}}, -EINVAL},
		{{{OP_RM, 0, NULL, NULL}, {OP_REPL, 0, "x", NULL}}, -EINVAL},
		{{{OP_PORT, 0, "2", NULL}, {OP_PORT, 0, "3", NULL}}, -EINVAL},
	};
	struct sdp_attr foreign = {STR("a=x"), STR("x"), STR_NULL};
	struct sip_perr err;
	struct buf out;
	size_t i;

	(void)state;
	assert_int_equal(sdp_parse(&S, STR(body), &err), 0);
	buf_init(&out, 65536);
	for (i = 0; i < N(cases); i++) {
		sdp_bld_init(&B, &S);
		run(&S, cases[i].steps);
		if (sdp_bld_write(&B, &out) != cases[i].err)
			fail_msg("case %zu", i);
		assert_int_equal(out.len, 0);
	}
	/* An attribute that is not in this session. */
	sdp_bld_init(&B, &S);
	sdp_bld_attr_remove(&B, &foreign);
	assert_int_equal(sdp_bld_write(&B, &out), -EINVAL);
	/* Too many edits; the error sticks. */
	sdp_bld_init(&B, &S);
	for (i = 0; i < SDP_BLD_MAX_EDITS + 1; i++)
		sdp_bld_attr_add(&B, 0, STR("x"));
	assert_int_equal(B.err, -ENOSPC);
	sdp_bld_attr_add(&B, 0, STR("\n"));
	assert_int_equal(sdp_bld_write(&B, &out), -ENOSPC);
	assert_int_equal(out.len, 0);
	/* A full output buffer. */
	buf_free(&out);
	buf_init(&out, 16);
	sdp_bld_init(&B, &S);
	assert_int_equal(sdp_bld_write(&B, &out), -ENOSPC);
	buf_free(&out);
	assert_int_equal(sdp_bld_write(NULL, &out), -EINVAL);
	assert_int_equal(sdp_bld_write(&B, NULL), -EINVAL);
	sdp_bld_init(&B, NULL);
	assert_int_equal(sdp_bld_write(&B, &out), -EINVAL);
}

/* ------------------------------------------------ the relay, anchoring */

struct relay {
	struct str addrtype, addr;
	unsigned base; /* first RTP port */
	char port[SDP_MAX_MEDIA][8];
	char rtcp[SDP_MAX_MEDIA][96];
};

static bool is_ice(struct str name)
{
	static const char *const ice[] = {
		"candidate",         "ice-ufrag",         "ice-pwd",
		"ice-options",       "ice-lite",          "ice-mismatch",
		"remote-candidates", "end-of-candidates",
	};
	size_t i;

	for (i = 0; i < N(ice); i++)
		if (str_eq_cstr(name, ice[i]))
			return true;
	return false;
}

/* RFC 2543 hold: the stream stays on hold, no address is put in. */
static bool is_hold_addr(const struct sdp_conn *c)
{
	return c &&
	       (str_eq_cstr(c->addr, "0.0.0.0") || str_eq_cstr(c->addr, "::"));
}

static void anchor_media(const struct sdp_sess *s, unsigned i, struct relay *r)
{
	const struct sdp_media *m = &s->media[i];
	unsigned port = r->base + 2 * i, k;

	snprintf(r->port[i], sizeof(r->port[i]), "%u", port);
	sdp_bld_media_port(&B, i, str_cstr(r->port[i]));
	if (!is_hold_addr(sdp_media_conn(s, i)) &&
	    (m->conn.present || !s->conn.present))
		sdp_bld_conn(&B, (int)i, r->addrtype, r->addr);
	/* RFC 5761: with rtcp-mux RTCP shares the RTP port. */
	if (m->rtcp_addr.len)
		snprintf(r->rtcp[i], sizeof(r->rtcp[i]), "rtcp:%u IN %.*s %.*s",
			 m->rtcp_mux ? port : port + 1, STR_FMT(r->addrtype),
			 STR_FMT(r->addr));
	else
		snprintf(r->rtcp[i], sizeof(r->rtcp[i]), "rtcp:%u",
			 m->rtcp_mux ? port : port + 1);
	for (k = m->attr_first; k < m->attr_first + m->nattr; k++) {
		if (is_ice(s->attr[k].name))
			sdp_bld_attr_remove(&B, &s->attr[k]);
		else if (str_eq_cstr(s->attr[k].name, "rtcp"))
			sdp_bld_attr_replace(&B, &s->attr[k],
					     str_cstr(r->rtcp[i]));
	}
}

/* What the relay does with an offer or answer passing through. */
static void anchor(const struct sdp_sess *s, struct relay *r)
{
	unsigned i;

	sdp_bld_init(&B, s);
	sdp_bld_origin_addr(&B, r->addrtype, r->addr);
	if (s->conn.present && !is_hold_addr(&s->conn))
		sdp_bld_conn(&B, -1, r->addrtype, r->addr);
	for (i = 0; i < s->nsess_attr; i++)
		if (is_ice(s->attr[i].name))
			sdp_bld_attr_remove(&B, &s->attr[i]);
	for (i = 0; i < s->nmedia; i++)
		if (s->media[i].port) /* a disabled stream stays as it is */
			anchor_media(s, i, r);
}

/* The attributes of a section that are not ICE, in order, are the same. */
static void same_attrs(const struct sdp_sess *a, unsigned af, unsigned an,
		       const struct sdp_sess *b, unsigned bf, unsigned bn)
{
	unsigned i = 0, j = 0;

	for (;; i++, j++) {
		while (i < an && is_ice(a->attr[af + i].name))
			i++;
		if (i == an || j == bn)
			break;
		assert_false(is_ice(b->attr[bf + j].name));
		assert_true(str_eq(a->attr[af + i].name, b->attr[bf + j].name));
		if (!str_eq_cstr(a->attr[af + i].name, "rtcp"))
			assert_true(str_eq(a->attr[af + i].line,
					   b->attr[bf + j].line));
	}
	assert_int_equal(i, an);
	assert_int_equal(j, bn);
}

static void check_media(const struct sdp_media *a, const struct sdp_media *b,
			const struct relay *r, unsigned i, int af)
{
	assert_true(str_eq(a->media, b->media));
	assert_int_equal(a->proto_id, b->proto_id);
	assert_int_equal(a->nfmt, b->nfmt);
	assert_int_equal(a->dir, b->dir);
	assert_int_equal(a->setup, b->setup);
	assert_int_equal(a->rtcp_mux, b->rtcp_mux);
	assert_true(str_eq(a->mid, b->mid));
	if (!a->port) {
		assert_int_equal(b->port, 0);
		assert_true(str_eq(a->line, b->line));
		return;
	}
	assert_int_equal(b->port, r->base + 2 * i);
	if (a->rtcp_port) {
		assert_int_equal(b->rtcp_port, b->port + !a->rtcp_mux);
		assert_int_equal(b->rtcp_af, a->rtcp_addr.len ? af : 0);
		if (a->rtcp_addr.len)
			assert_true(str_eq(b->rtcp_addr, r->addr));
	}
}

static void check_anchored(const struct sdp_sess *a, const struct sdp_sess *b,
			   const struct relay *r, int af)
{
	unsigned i;

	assert_true(str_eq(b->o_addr, r->addr));
	assert_true(str_eq(b->o_addrtype, r->addrtype));
	assert_int_equal(a->nmedia, b->nmedia);
	assert_int_equal(a->dir, b->dir);
	same_attrs(a, 0, a->nsess_attr, b, 0, b->nsess_attr);
	for (i = 0; i < a->nmedia; i++) {
		const struct sdp_conn *ca = sdp_media_conn(a, i);
		const struct sdp_conn *cb = sdp_media_conn(b, i);

		check_media(&a->media[i], &b->media[i], r, i, af);
		same_attrs(a, a->media[i].attr_first, a->media[i].nattr, b,
			   b->media[i].attr_first, b->media[i].nattr);
		if (is_hold_addr(ca)) {
			assert_true(str_eq(ca->addr, cb->addr));
		} else if (a->media[i].port) {
			assert_non_null(cb);
			assert_int_equal(cb->af, af);
			assert_true(str_eq(cb->addr, r->addr));
		}
	}
}

static size_t load(const char *name, char *p, size_t cap)
{
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "tests/data/sdp/%s", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run from the repository root)", path);
	n = fread(p, 1, cap, f);
	fclose(f);
	return n;
}

static void test_relay(void **state)
{
	static const char *const files[] = {
		"linphone_ice_ipv4.sdp",
		"baresip_ipv6_mux.sdp",
		"zoiper_sdes.sdp",
		"asterisk_hold.sdp",
		"hold_rfc2543.sdp",
		"webrtc_bundle.sdp",
		"every_line_lf.sdp",
		"rfc5118_ipv6_in_sdp.sdp",
		"rfc5118_mult_ip_in_sdp.sdp",
		"rfc5118_ipv4_mapped_ipv6.sdp",
	};
	static struct relay relays[] = {
		{STR("IP4"), STR("198.51.100.77"), 30000, {{0}}, {{0}}},
		{STR("IP6"), STR("2001:db8:ffff::77"), 50000, {{0}}, {{0}}},
	};
	static char body[SDP_MAX_SIZE];
	struct sip_perr err;
	struct buf out;
	size_t f, k, n;

	(void)state;
	for (f = 0; f < N(files); f++) {
		n = load(files[f], body, sizeof(body));
		assert_int_equal(sdp_parse(&S, str_make(body, n), &err), 0);
		for (k = 0; k < N(relays); k++) {
			buf_init(&out, 65536);
			anchor(&S, &relays[k]);
			assert_int_equal(sdp_bld_write(&B, &out), 0);
			if (sdp_parse(&O, buf_str(&out), &err))
				fail_msg("%s: %s at %u:\n%.*s", files[f],
					 err.reason, err.off,
					 STR_FMT(buf_str(&out)));
			check_anchored(&S, &O, &relays[k],
				       k ? AF_INET6 : AF_INET);
			buf_free(&out);
		}
	}
}

/* The whole output for one offer, to see the layout a peer gets. */
static void test_relay_webrtc_exact(void **state)
{
	static const char in[] =
		"v=0\r\n"
		"o=- 46117 2 IN IP4 127.0.0.1\r\n"
		"s=-\r\n"
		"t=0 0\r\n"
		"a=group:BUNDLE 0\r\n"
		"a=ice-lite\r\n"
		"m=audio 54400 UDP/TLS/RTP/SAVPF 111\r\n"
		"c=IN IP4 203.0.113.50\r\n"
		"a=rtcp:9 IN IP4 0.0.0.0\r\n"
		"a=candidate:1 1 udp 2122260223 192.168.0.10 54400 typ host\r\n"
		"a=ice-ufrag:EsAw\r\n"
		"a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
		"a=setup:actpass\r\n"
		"a=mid:0\r\n"
		"a=sendonly\r\n"
		"a=rtcp-mux\r\n"
		"a=rtpmap:111 opus/48000/2\r\n"
		"m=video 0 UDP/TLS/RTP/SAVPF 96\r\n"
		"a=ice-ufrag:EsAw\r\n";
	static const char want[] = "v=0\r\n"
				   "o=- 46117 2 IN IP6 2001:db8:ffff::77\r\n"
				   "s=-\r\n"
				   "t=0 0\r\n"
				   "a=group:BUNDLE 0\r\n"
				   "m=audio 50000 UDP/TLS/RTP/SAVPF 111\r\n"
				   "c=IN IP6 2001:db8:ffff::77\r\n"
				   "a=rtcp:50000 IN IP6 2001:db8:ffff::77\r\n"
				   "a=setup:actpass\r\n"
				   "a=mid:0\r\n"
				   "a=sendonly\r\n"
				   "a=rtcp-mux\r\n"
				   "a=rtpmap:111 opus/48000/2\r\n"
				   "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n"
				   "a=ice-ufrag:EsAw\r\n";
	static struct relay r = {
		STR("IP6"), STR("2001:db8:ffff::77"), 50000, {{0}}, {{0}}};
	struct sip_perr err;
	struct buf out;

	(void)state;
	assert_int_equal(sdp_parse(&S, STR(in), &err), 0);
	buf_init(&out, 65536);
	anchor(&S, &r);
	assert_int_equal(sdp_bld_write(&B, &out), 0);
	if (!str_eq(buf_str(&out), STR(want)))
		fail_msg("got:\n%.*s", STR_FMT(buf_str(&out)));
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_relay),
		cmocka_unit_test(test_relay_webrtc_exact),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
