/*
 * test_topo.c - topology hiding: sealed tokens (round trip, tamper,
 * forgery, kinds, limits) and the rewrite decisions of topo.c on a small
 * proxy with one untrusted zone (203.0.113.1:5060) and one trusted zone
 * (10.0.0.1:5060), the PBX at 10.0.0.9.
 */
#include <errno.h>
#include <stdio.h>

#include "test.h"
#include "core/buf.h"
#include "proxy/proxy_int.h"

static const uint8_t key1[16] = {1, 2,  3,  4,  5,  6,  7,  8,
				 9, 10, 11, 12, 13, 14, 15, 16};

/* ------------------------------------------------------------- tokens */

static void test_seal_roundtrip(void **state)
{
	static const size_t lens[] = {
		0, 1, 2, 3, 4, 7, 8, 9, 63, 200, PROXY_TOPO_MAX_PLAIN};
	static char plain[PROXY_TOPO_MAX_PLAIN], tok[4096], out[4096],
		tok2[4096];
	struct proxy_topo_keys k;
	size_t i, j;

	(void)state;
	proxy__topo_keys(&k, key1);
	for (i = 0; i < PROXY_TOPO_MAX_PLAIN; i++)
		plain[i] = (char)('a' + i % 26);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		int n = proxy__topo_seal(&k, 'C', str_make(plain, lens[i]), tok,
					 sizeof(tok));
		int m;

		assert_true(n >= PROXY_TOPO_MAC_LEN);
		assert_int_equal(strlen(tok), (size_t)n);
		/* base64url only: safe in a URI user part and parameter. */
		for (j = 0; j < (size_t)n; j++)
			assert_true(
				strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl"
				       "mnopqrstuvwxyz0123456789-_",
				       tok[j]) != NULL);
		m = proxy__topo_open(&k, 'C', str_make(tok, (size_t)n), out,
				     sizeof(out));
		assert_int_equal(m, (int)lens[i]);
		assert_memory_equal(out, plain, lens[i]);
		/* Deterministic: the same plain text, the same token. */
		assert_int_equal(proxy__topo_seal(&k, 'C',
						  str_make(plain, lens[i]),
						  tok2, sizeof(tok2)),
				 n);
		assert_string_equal(tok, tok2);
		/* Another kind does not open it. */
		assert_int_equal(proxy__topo_open(&k, 'R',
						  str_make(tok, (size_t)n), out,
						  sizeof(out)),
				 -EBADMSG);
	}
}

static void test_seal_hides_and_resists(void **state)
{
	static const char *secret = "sip:100@10.0.0.9:5060;transport=udp";
	struct proxy_topo_keys k, k2;
	uint8_t other[16];
	char tok[256], bad[256], out[256];
	int n, i;

	(void)state;
	proxy__topo_keys(&k, key1);
	memcpy(other, key1, 16);
	other[0] ^= 1;
	proxy__topo_keys(&k2, other);
	n = proxy__topo_seal(&k, 'C', str_cstr(secret), tok, sizeof(tok));
	assert_true(n > 0);
	assert_null(strstr(tok, "10.0.0"));
	assert_null(strstr(tok, "5060"));
	/* Another process (key) cannot open it. */
	assert_int_equal(proxy__topo_open(&k2, 'C', str_make(tok, (size_t)n),
					  out, sizeof(out)),
			 -EBADMSG);
	/* Any altered character fails. */
	for (i = 0; i < n; i++) {
		memcpy(bad, tok, (size_t)n + 1);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		assert_int_equal(proxy__topo_open(&k, 'C',
						  str_make(bad, (size_t)n), out,
						  sizeof(out)),
				 -EBADMSG);
	}
	/* Truncated, extended, foreign characters, empty, too short. */
	assert_int_equal(proxy__topo_open(&k, 'C', str_make(tok, (size_t)n - 1),
					  out, sizeof(out)),
			 -EBADMSG);
	memcpy(bad, tok, (size_t)n);
	memcpy(bad + n, "AAAA", 4);
	assert_int_equal(proxy__topo_open(&k, 'C', str_make(bad, (size_t)n + 4),
					  out, sizeof(out)),
			 -EBADMSG);
	assert_int_equal(proxy__topo_open(&k, 'C', STR("abc@def.ghi+jk"), out,
					  sizeof(out)),
			 -EBADMSG);
	assert_int_equal(proxy__topo_open(&k, 'C', STR(""), out, sizeof(out)),
			 -EBADMSG);
	assert_int_equal(
		proxy__topo_open(&k, 'C', STR("AAAAAAAAAAA"), out, sizeof(out)),
		-EBADMSG);
	/* Limits. */
	assert_int_equal(proxy__topo_seal(&k, 'C', str_cstr(secret), tok, 10),
			 -ENOSPC);
	assert_int_equal(proxy__topo_open(&k, 'C', str_make(tok, 0), out, 4),
			 -EBADMSG);
	n = proxy__topo_seal(&k, 'C', str_cstr(secret), tok, sizeof(tok));
	assert_int_equal(
		proxy__topo_open(&k, 'C', str_make(tok, (size_t)n), out, 8),
		-ENOSPC);
	{
		static char big[PROXY_TOPO_MAX_PLAIN + 1];
		static char btok[8192];

		assert_int_equal(proxy__topo_seal(&k, 'C',
						  str_make(big, sizeof(big)),
						  btok, sizeof(btok)),
				 -E2BIG);
	}
}

/* ------------------------------------------------------------ a proxy */

struct fx {
	struct proxy *p;
	struct sg_conf_zone zc[2];
	struct tmr_wheel w;
	struct proxy_fwd f;
};

static struct sip_msg msgs[4];
static char texts[4][8192];
static struct buf outb;

static void add_lis(struct proxy *p, unsigned zone, const char *ip)
{
	struct proxy_lis *l = &p->lis[p->nlis];

	l->local = (uint16_t)p->nlis;
	l->zone = (uint16_t)zone;
	l->tp = SIP_TP_UDP;
	assert_int_equal(sg_addr_from_host(&l->addr, str_cstr(ip), 5060), 0);
	snprintf(l->host, sizeof(l->host), "%s", ip);
	snprintf(l->hostport, sizeof(l->hostport), "%s:5060", ip);
	p->nlis++;
}

static int setup(void **state)
{
	struct fx *x = mem_zalloc(sizeof(*x));
	struct proxy *p = mem_zalloc(sizeof(*p));

	assert_non_null(x);
	assert_non_null(p);
	x->p = p;
	snprintf(x->zc[0].name, CONF_NAME_LEN, "internet");
	x->zc[0].topology_hiding = true;
	snprintf(x->zc[0].server_header, CONF_HDR_TEXT_LEN, "remove");
	x->zc[0].hide_call_id = true;
	snprintf(x->zc[1].name, CONF_NAME_LEN, "pbx");
	p->nzones = 2;
	p->zones[0].c = &x->zc[0];
	p->zones[1].c = &x->zc[1];
	p->zones[1].trusted = true;
	add_lis(p, 0, "203.0.113.1");
	add_lis(p, 1, "10.0.0.1");
	memcpy(p->key, key1, 16);
	assert_int_equal(proxy__topo_new(p), 0);
	assert_int_equal(proxy__reg_new(&p->reg, p), 0);
	assert_int_equal(tmr_wheel_init(&x->w, 1000), 0);
	assert_int_equal(sip_dlgs_new(&p->dlgs, &sip_dlg_conf_default, &x->w,
				      NULL, NULL),
			 0);
	buf_init(&outb, PROXY_OUT_MAX);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	mem_free(x->f.th_via);
	sip_dlgs_free(x->p->dlgs);
	proxy__reg_free(x->p->reg);
	proxy__topo_free(x->p);
	tmr_wheel_fini(&x->w);
	buf_free(&outb);
	mem_free(x->p);
	mem_free(x);
	return 0;
}

/* Parse text (LF line ends) into slot i. */
static const struct sip_msg *parse(unsigned i, const char *text)
{
	struct sip_perr pe;
	size_t n = 0;

	for (; *text; text++) {
		if (*text == '\n')
			texts[i][n++] = '\r';
		texts[i][n++] = *text;
	}
	assert_int_equal(sip_msg_parse(&msgs[i], texts[i], n,
				       &sip_limits_default, SIP_PARSE_DGRAM,
				       &pe),
			 0);
	return &msgs[i];
}

static void reparse(unsigned i, const struct buf *b)
{
	struct sip_perr pe;

	assert_true(b->len < sizeof(texts[i]));
	memcpy(texts[i], b->p, b->len);
	assert_int_equal(sip_msg_parse(&msgs[i], texts[i], b->len,
				       &sip_limits_default, SIP_PARSE_DGRAM,
				       &pe),
			 0);
}

static struct sip_peer peer(unsigned zone, const char *ip)
{
	struct sip_peer s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(sg_addr_from_host(&s.addr, str_cstr(ip), 5060), 0);
	s.zone = (uint16_t)zone;
	s.local = (uint16_t)zone;
	return s;
}

static bool has(const struct buf *b, const char *needle)
{
	return memmem(b->p, b->len, needle, strlen(needle)) != NULL;
}

static struct str hval(const struct sip_msg *m, enum sip_hdr_id id)
{
	const struct sip_hdr *h = sip_msg_hdr(m, id);

	return h ? h->value : STR_NULL;
}

static const char pbx_invite[] =
	"INVITE sip:carol@198.51.100.7:5060 SIP/2.0\n"
	"Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKpbx;rport\n"
	"Via: SIP/2.0/UDP 10.0.0.77;branch=z9hG4bKphone\n"
	"Record-Route: <sip:10.0.0.9;lr>\n"
	"Max-Forwards: 69\n"
	"From: \"Bob\" <sip:200@pbx.corp>;tag=p1\n"
	"To: sip:carol@pbx.corp\n"
	"Call-ID: abc@10.0.0.9\n"
	"CSeq: 10 INVITE\n"
	"Contact: <sip:200@10.0.0.9:5060>;expires=60\n"
	"Warning: 399 10.0.0.9 \"x\"\n"
	"User-Agent: PBX at 10.0.0.9\n"
	"Server: PBX\n"
	"P-Asserted-Identity: <sip:200@10.0.0.9>\n"
	"Path: <sip:10.0.0.9;lr>\n"
	"Service-Route: <sip:10.0.0.9;lr>\n"
	"Diversion: <sip:201@10.0.0.9>;reason=unconditional\n"
	"History-Info: <sip:201@10.0.0.9?Reason=SIP%3Bcause%3D302>;index=1, "
	"<sip:carol@pbx.corp>;index=1.1\n"
	"Content-Length: 0\n\n";

#define OUR_RR                                      \
	"<sip:203.0.113.1:5060;transport=udp;lr>, " \
	"<sip:10.0.0.1:5060;transport=udp;lr>"

/* The PBX calls out: what leaves, what comes back (a callee's view). */
static void test_request_out_and_back(void **state)
{
	struct fx *x = *state;
	struct proxy *p = x->p;
	const struct sip_msg *m = parse(0, pbx_invite), *r, *mi;
	struct sip_peer ua = peer(0, "198.51.100.7");
	struct sip_bld b;
	char ans[4096];

	x->f.in_zone = 1;
	x->f.stx = (struct sip_stx *)(uintptr_t)1; /* answers expected */
	sip_bld_init(&b, m);
	sip_bld_insert(&b, sip_msg_hdr(m, SIP_HDR_VIA), STR("Via"),
		       STR("SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKours"));
	assert_int_equal(proxy__topo_request(p, &b, m, &x->f, &p->lis[0],
					     m->via[0].raw, STR(OUR_RR)),
			 0);
	buf_reset(&outb);
	assert_int_equal(sip_bld_write(&b, &outb), 0);
	assert_false(has(&outb, "10.0.0."));
	assert_false(has(&outb, "pbx.corp"));
	assert_false(has(&outb, "PBX"));
	assert_false(has(&outb, "Warning"));
	assert_false(has(&outb, "Path"));
	assert_false(has(&outb, "Service-Route"));
	assert_false(has(&outb, "P-Asserted"));
	assert_true(has(&outb, "Diversion: <sip:201@203.0.113.1:5060;th="));
	assert_true(has(&outb, ">;reason=unconditional"));
	assert_true(has(&outb, ">;index=1, <sip:carol@203.0.113.1:5060;th="));
	reparse(1, &outb);
	r = &msgs[1];
	assert_int_equal(r->nvia, 1);
	assert_int_equal(r->nrr, 1);
	assert_true(str_casestarts(
		r->rr[0].uri.raw,
		STR("sip:203.0.113.1:5060;transport=udp;lr;th=")));
	assert_int_equal(r->ncontact, 1);
	assert_true(str_eq(r->contact[0].params, STR("expires=60")));
	assert_true(str_eq(r->contact[0].uri.host, STR("203.0.113.1")));
	assert_true(str_eq(r->from.uri.user, STR("200")));
	assert_true(str_eq(r->from.display, STR("Bob")));
	assert_true(str_eq(r->to.uri.host, STR("203.0.113.1")));
	assert_false(str_eq(r->call_id, m->call_id));
	assert_string_equal(
		x->f.th_via,
		"SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKpbx;rport, "
		"SIP/2.0/UDP 10.0.0.77;branch=z9hG4bKphone");

	/* The callee's 200 comes back: the inside's view again. */
	snprintf(ans, sizeof(ans),
		 "SIP/2.0 200 OK\nVia: %.*s\nRecord-Route: %.*s\n"
		 "From: %.*s\nTo: %.*s;tag=u1\nCall-ID: %.*s\nCSeq: 10 INVITE\n"
		 "Contact: <sip:carol@198.51.100.7>\nContent-Length: 0\n\n",
		 STR_FMT(r->via[0].raw), STR_FMT(r->rr[0].raw),
		 STR_FMT(r->from.raw), STR_FMT(r->to.raw), STR_FMT(r->call_id));
	m = parse(2, ans);
	mi = proxy__topo_inbound(p, m, &ua);
	assert_ptr_not_equal(mi, m);
	assert_true(str_eq(mi->call_id, STR("abc@10.0.0.9")));
	assert_true(str_eq(mi->from.uri.raw, STR("sip:200@pbx.corp")));
	assert_true(str_eq(mi->to.uri.raw, STR("sip:carol@pbx.corp")));
	assert_true(str_eq(mi->to.tag, STR("u1")));
	assert_int_equal(mi->nrr, 3);
	assert_true(str_eq(hval(mi, SIP_HDR_RECORD_ROUTE),
			   STR(OUR_RR ", <sip:10.0.0.9;lr>")));
	sip_bld_init(&b, mi);
	assert_int_equal(proxy__topo_via_restore(&b, mi, &x->f), 0);
	buf_reset(&outb);
	assert_int_equal(sip_bld_write(&b, &outb), 0);
	reparse(3, &outb);
	assert_int_equal(msgs[3].nvia, 2);
	assert_true(str_eq(msgs[3].via[0].branch, STR("z9hG4bKpbx")));

	/* The callee's BYE: Route in Record-Route order (12.1.1). */
	snprintf(
		ans, sizeof(ans),
		"BYE %.*s SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKb\n"
		"Route: %.*s\nMax-Forwards: 70\nFrom: %.*s;tag=u1\nTo: %.*s\n"
		"Call-ID: %.*s\nCSeq: 1 BYE\nContent-Length: 0\n\n",
		STR_FMT(r->contact[0].uri.raw), STR_FMT(r->rr[0].raw),
		STR_FMT(r->to.raw), STR_FMT(r->from.raw), STR_FMT(r->call_id));
	m = parse(2, ans);
	mi = proxy__topo_inbound(p, m, &ua);
	assert_ptr_not_equal(mi, m);
	assert_true(str_eq(mi->ruri_raw, STR("sip:200@10.0.0.9:5060")));
	assert_int_equal(mi->nroute, 3);
	assert_true(str_eq(mi->route[2].uri.raw, STR("sip:10.0.0.9;lr")));
	assert_true(str_eq(mi->call_id, STR("abc@10.0.0.9")));
	assert_true(str_eq(mi->from.tag, STR("u1")));
	/* The same BYE from a trusted zone is not mapped. */
	ua.zone = 1;
	assert_ptr_equal(proxy__topo_inbound(p, m, &ua), m);
}

/* A caller outside: the PBX's answer, and the caller's BYE. */
static void test_response_out_and_back(void **state)
{
	struct fx *x = *state;
	struct proxy *p = x->p;
	struct sip_peer ua = peer(0, "198.51.100.7");
	const struct sip_msg *m, *r, *mi;
	struct sip_bld b;
	char req[2048];

	x->f.in_zone = 0;
	x->f.out_zone = 1;
	x->f.from = ua;
	m = parse(0, "SIP/2.0 200 OK\n"
		     "Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKua\n"
		     "Record-Route: <sip:10.0.0.9;lr>, "
		     "<sip:10.0.0.1:5060;transport=udp;lr>\n"
		     "Record-Route: <sip:203.0.113.1:5060;transport=udp;lr>, "
		     "<sip:192.0.2.50;lr>\n"
		     "From: <sip:alice@example.org>;tag=a1\n"
		     "To: <sip:100@203.0.113.1>;tag=p9\n"
		     "Call-ID: outside-1@example.org\nCSeq: 1 INVITE\n"
		     "Contact: <sip:100@10.0.0.9:5060>\n"
		     "Server: Asterisk\nContent-Length: 0\n\n");
	sip_bld_init(&b, m);
	assert_int_equal(proxy__topo_response(p, &b, m, &x->f, false), 0);
	buf_reset(&outb);
	assert_int_equal(sip_bld_write(&b, &outb), 0);
	assert_false(has(&outb, "10.0.0."));
	assert_false(has(&outb, "Asterisk"));
	reparse(1, &outb);
	r = &msgs[1];
	/* Made outside: From, To and Call-ID stay as the caller sent them. */
	assert_true(str_eq(r->call_id, STR("outside-1@example.org")));
	assert_true(str_eq(r->to.uri.raw, STR("sip:100@203.0.113.1")));
	assert_int_equal(r->nrr, 2);
	assert_true(str_eq(r->rr[1].raw, STR("<sip:192.0.2.50;lr>")));

	/* The caller's BYE through its own proxy (which popped itself). */
	snprintf(
		req, sizeof(req),
		"BYE %.*s SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKb\n"
		"Route: %.*s\nMax-Forwards: 70\n"
		"From: <sip:alice@example.org>;tag=a1\n"
		"To: <sip:100@203.0.113.1>;tag=p9\n"
		"Call-ID: outside-1@example.org\nCSeq: 2 BYE\n"
		"Content-Length: 0\n\n",
		STR_FMT(r->contact[0].uri.raw), STR_FMT(r->rr[0].raw));
	m = parse(2, req);
	mi = proxy__topo_inbound(p, m, &ua);
	assert_ptr_not_equal(mi, m);
	assert_true(str_eq(mi->ruri_raw, STR("sip:100@10.0.0.9:5060")));
	/* A caller's route set is the Record-Route reversed (12.1.2). */
	assert_true(str_eq(hval(mi, SIP_HDR_ROUTE),
			   STR("<sip:203.0.113.1:5060;transport=udp;lr>, "
			       "<sip:10.0.0.1:5060;transport=udp;lr>, "
			       "<sip:10.0.0.9;lr>")));
	assert_true(str_eq(mi->call_id, m->call_id));
}

/* An in-dialog answer without our Record-Route entry: the header goes. */
static void test_response_rr_without_ours(void **state)
{
	struct fx *x = *state;
	struct proxy *p = x->p;
	const struct sip_msg *m;
	struct sip_bld b;

	x->f.in_zone = 0;
	x->f.out_zone = 1;
	x->f.from = peer(0, "198.51.100.7");
	snprintf(x->zc[0].server_header, CONF_HDR_TEXT_LEN, "sipguard");
	m = parse(0, "SIP/2.0 200 OK\n"
		     "Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKua\n"
		     "Record-Route: <sip:10.0.0.9;lr>\n"
		     "From: <sip:alice@example.org>;tag=a1\n"
		     "To: <sip:100@203.0.113.1>;tag=p9\n"
		     "Call-ID: x@example.org\nCSeq: 3 INVITE\n"
		     "Server: Asterisk 10.0.0.9\nUser-Agent: Asterisk\n"
		     "Content-Length: 0\n\n");
	sip_bld_init(&b, m);
	assert_int_equal(proxy__topo_response(p, &b, m, &x->f, false), 0);
	buf_reset(&outb);
	assert_int_equal(sip_bld_write(&b, &outb), 0);
	reparse(1, &outb);
	assert_int_equal(msgs[1].nrr, 0);
	assert_true(str_eq(hval(&msgs[1], SIP_HDR_SERVER), STR("sipguard")));
	assert_true(
		str_eq(hval(&msgs[1], SIP_HDR_USER_AGENT), STR("sipguard")));
	assert_false(has(&outb, "10.0.0."));

	snprintf(x->zc[0].server_header, CONF_HDR_TEXT_LEN, "keep");
	sip_bld_init(&b, m);
	assert_int_equal(proxy__topo_response(p, &b, m, &x->f, false), 0);
	buf_reset(&outb);
	assert_int_equal(sip_bld_write(&b, &outb), 0);
	assert_true(has(&outb, "Server: Asterisk 10.0.0.9"));
}

/* Tokens we did not make map nothing: the message passes as it came. */
static void test_inbound_foreign_tokens(void **state)
{
	struct fx *x = *state;
	struct proxy *p = x->p;
	struct sip_peer ua = peer(0, "198.51.100.7");
	const struct sip_msg *m;

	(void)x;
	m = parse(
		0,
		"BYE sip:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA@203.0.113.1:5060 SIP/2.0\n"
		"Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKb\n"
		"Route: <sip:203.0.113.1:5060;lr;th=AAAAAAAAAAAAAAAAAAAAAAAAAAAA>\n"
		"Max-Forwards: 70\n"
		"From: <sip:a@203.0.113.1;th=zzzzzzzzzzzzzzzzzz>;tag=1\n"
		"To: <sip:b@example.org>;tag=2\n"
		"Call-ID: AAAAAAAAAAAAAAAAAAAAAAAAAAA\nCSeq: 2 BYE\n"
		"Content-Length: 0\n\n");
	assert_ptr_equal(proxy__topo_inbound(p, m, &ua), m);
	/* A real token for another host is not ours to open either. */
	m = parse(0, "OPTIONS sip:bob@example.org SIP/2.0\n"
		     "Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKb\n"
		     "Max-Forwards: 70\nFrom: <sip:a@example.org>;tag=1\n"
		     "To: <sip:b@example.org>\nCall-ID: plain@example.org\n"
		     "CSeq: 2 OPTIONS\nContent-Length: 0\n\n");
	assert_ptr_equal(proxy__topo_inbound(p, m, &ua), m);
}

/*
 * From/To and Call-ID are sealed for calls made inside only: a BYE from
 * the PBX in a call the outside made keeps them; in a call the PBX made
 * they are sealed, and the answer to the outside's request in that call
 * too.
 */
static void test_made_inside_decisions(void **state)
{
	struct fx *x = *state;
	struct proxy *p = x->p;
	struct sip_peer ua = peer(0, "198.51.100.7"), pbx = peer(1, "10.0.0.9");
	struct sip_dlg_match dm;
	const struct sip_msg *m;
	struct sip_bld b;

	x->f.stx = NULL;
	/* The outside calls in: the dialog's caller is outside. */
	m = parse(0, "INVITE sip:100@203.0.113.1 SIP/2.0\n"
		     "Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKi1\n"
		     "Max-Forwards: 70\nFrom: <sip:alice@example.org>;tag=a1\n"
		     "To: <sip:100@203.0.113.1>\nCall-ID: out@example.org\n"
		     "CSeq: 1 INVITE\nContent-Length: 0\n\n");
	assert_int_equal(sip_dlg_request(p->dlgs, m, &ua, &dm), 0);
	m = parse(0, "BYE sip:alice@198.51.100.7 SIP/2.0\n"
		     "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKb1\n"
		     "Max-Forwards: 70\nFrom: <sip:100@203.0.113.1>;tag=p1\n"
		     "To: <sip:alice@example.org>;tag=a1\n"
		     "Call-ID: out@example.org\nCSeq: 5 BYE\n"
		     "Content-Length: 0\n\n");
	/* No dialog confirmed yet (no To-tag known): the BYE is "inside". */
	x->f.in_zone = 1;
	sip_bld_init(&b, m);
	assert_int_equal(proxy__topo_request(p, &b, m, &x->f, &p->lis[0],
					     m->via[0].raw, STR_NULL),
			 0);
	buf_reset(&outb);
	assert_int_equal(sip_bld_write(&b, &outb), 0);
	assert_true(has(&outb, "th="));
	/* Once the PBX's answer gave the dialog its To-tag, it is not. */
	m = parse(1, "SIP/2.0 200 OK\n"
		     "Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKi1\n"
		     "From: <sip:alice@example.org>;tag=a1\n"
		     "To: <sip:100@203.0.113.1>;tag=p1\n"
		     "Call-ID: out@example.org\nCSeq: 1 INVITE\n"
		     "Contact: <sip:100@10.0.0.9>\nContent-Length: 0\n\n");
	assert_int_equal(sip_dlg_response(p->dlgs, m, &pbx, &dm), 0);
	m = &msgs[0];
	sip_bld_init(&b, m);
	assert_int_equal(proxy__topo_request(p, &b, m, &x->f, &p->lis[0],
					     m->via[0].raw, STR_NULL),
			 0);
	buf_reset(&outb);
	assert_int_equal(sip_bld_write(&b, &outb), 0);
	assert_false(has(&outb, "th="));
	assert_true(has(&outb, "Call-ID: out@example.org"));
	assert_true(has(&outb, "From: <sip:100@203.0.113.1>;tag=p1"));

	/* The PBX calls out: its answer to the outside's re-INVITE in that
	 * call is sealed again (the same tokens the outside sent). */
	m = parse(0, "INVITE sip:carol@198.51.100.7 SIP/2.0\n"
		     "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKi2\n"
		     "Max-Forwards: 70\nFrom: <sip:200@pbx.corp>;tag=p2\n"
		     "To: <sip:carol@pbx.corp>\nCall-ID: in@10.0.0.9\n"
		     "CSeq: 1 INVITE\nContent-Length: 0\n\n");
	assert_int_equal(sip_dlg_request(p->dlgs, m, &pbx, &dm), 0);
	m = parse(1,
		  "SIP/2.0 200 OK\n"
		  "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKi2\n"
		  "From: <sip:200@pbx.corp>;tag=p2\n"
		  "To: <sip:carol@pbx.corp>;tag=c2\n"
		  "Call-ID: in@10.0.0.9\nCSeq: 1 INVITE\n"
		  "Contact: <sip:carol@198.51.100.7>\nContent-Length: 0\n\n");
	assert_int_equal(sip_dlg_response(p->dlgs, m, &ua, &dm), 0);
	m = parse(2, "SIP/2.0 200 OK\n"
		     "Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKr2\n"
		     "From: <sip:carol@pbx.corp>;tag=c2\n"
		     "To: <sip:200@pbx.corp>;tag=p2\n"
		     "Call-ID: in@10.0.0.9\nCSeq: 2 INVITE\n"
		     "Contact: <sip:200@10.0.0.9>\nContent-Length: 0\n\n");
	x->f.in_zone = 0;
	x->f.out_zone = 1;
	x->f.from = ua;
	sip_bld_init(&b, m);
	assert_int_equal(proxy__topo_response(p, &b, m, &x->f, false), 0);
	buf_reset(&outb);
	assert_int_equal(sip_bld_write(&b, &outb), 0);
	assert_false(has(&outb, "10.0.0."));
	assert_false(has(&outb, "pbx.corp"));
	assert_true(has(&outb, ";tag=c2"));
	assert_true(has(&outb, ";tag=p2"));
}

/* A transfer from inside: Refer-To becomes a token whose INVITE maps
 * back; Replaces stays; identities and charging headers go. */
static void test_refer_to(void **state)
{
	struct fx *x = *state;
	struct proxy *p = x->p;
	struct sip_peer ua = peer(0, "198.51.100.7");
	const struct sip_msg *m, *r, *mi;
	struct sip_bld b;
	char inv[2048];

	x->f.in_zone = 1;
	x->f.stx = NULL;
	m = parse(
		0,
		"REFER sip:carol@198.51.100.7 SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKr1\n"
		"Max-Forwards: 70\nFrom: <sip:200@pbx.corp>;tag=p1\n"
		"To: <sip:carol@pbx.corp>;tag=c1\nCall-ID: x@10.0.0.9\n"
		"CSeq: 3 REFER\n"
		"Refer-To: <sip:300@10.0.0.9:5060?Replaces=abc%3Bto-tag%3D1>\n"
		"Referred-By: <sip:200@10.0.0.9>\n"
		"P-Charging-Vector: icid-value=1;icid-generated-at=10.0.0.9\n"
		"Content-Length: 0\n\n");
	sip_bld_init(&b, m);
	sip_bld_insert(&b, sip_msg_hdr(m, SIP_HDR_VIA), STR("Via"),
		       STR("SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKo"));
	assert_int_equal(proxy__topo_request(p, &b, m, &x->f, &p->lis[0],
					     m->via[0].raw, STR_NULL),
			 0);
	buf_reset(&outb);
	assert_int_equal(sip_bld_write(&b, &outb), 0);
	assert_false(has(&outb, "10.0.0."));
	assert_false(has(&outb, "Referred-By"));
	assert_false(has(&outb, "P-Charging"));
	assert_true(has(&outb, "?Replaces=abc%3Bto-tag%3D1>"));
	reparse(1, &outb);
	r = &msgs[1];
	{
		const struct sip_hdr *h = sip_msg_hdr(r, SIP_HDR_REFER_TO);
		struct sip_nameaddr na;

		assert_non_null(h);
		assert_int_equal(
			sip_nameaddr_parse(&na, h->value, SIP_MAX_URI, NULL),
			0);
		snprintf(
			inv, sizeof(inv),
			"INVITE sip:%.*s@203.0.113.1:5060 SIP/2.0\n"
			"Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKi\n"
			"Max-Forwards: 70\nFrom: <sip:carol@example.org>;tag=z\n"
			"To: <sip:300@203.0.113.1>\nCall-ID: new@example.org\n"
			"CSeq: 1 INVITE\nContent-Length: 0\n\n",
			STR_FMT(na.uri.user));
	}
	m = parse(2, inv);
	mi = proxy__topo_inbound(p, m, &ua);
	assert_ptr_not_equal(mi, m);
	assert_true(str_eq(mi->ruri_raw, STR("sip:300@10.0.0.9:5060")));
}

/* Which zones hide: untrusted with the option on, never trusted. */
static void test_zone_choice(void **state)
{
	struct fx *x = *state;

	assert_true(proxy__topo_zone(x->p, 0));
	assert_false(proxy__topo_zone(x->p, 1));
	assert_false(proxy__topo_zone(x->p, 7));
	x->zc[0].topology_hiding = false;
	assert_false(proxy__topo_zone(x->p, 0));
	x->zc[1].topology_hiding = true;
	assert_false(proxy__topo_zone(x->p, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_roundtrip),
		cmocka_unit_test(test_seal_hides_and_resists),
		cmocka_unit_test_setup_teardown(test_request_out_and_back,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_response_out_and_back,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_response_rr_without_ours,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbound_foreign_tokens,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_made_inside_decisions,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_refer_to, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zone_choice, setup,
						teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
