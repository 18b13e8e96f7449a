/*
 * test_route.c - the proxy's pure routing helpers: targets from URIs and
 * Vias, the RFC 3581 Via rewrite, loop hashing, our-listener detection.
 */
#include <errno.h>

#include "test.h"
#include "proxy/proxy_int.h"

static void peer_v4(struct sip_peer *p, const char *ip, uint16_t port)
{
	memset(p, 0, sizeof(*p));
	assert_int_equal(sg_addr_from_host(&p->addr, str_cstr(ip), port), 0);
}

static void test_via_fix(void **state)
{
	static const struct {
		const char *via, *src;
		uint16_t port;
		const char *want; /* NULL: unchanged */
	} cases[] = {
		{"SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1", "10.0.0.1", 5060,
		 NULL},
		{"SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport", "10.0.0.1",
		 5062, "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport=5062"},
		{"SIP/2.0/UDP 192.168.1.2:5060;rport;branch=z9hG4bK1",
		 "203.0.113.9", 40000,
		 "SIP/2.0/UDP 192.168.1.2:5060;rport=40000;branch=z9hG4bK1"
		 ";received=203.0.113.9"},
		{"SIP/2.0/TCP phone.example.com;branch=z9hG4bK1", "203.0.113.9",
		 40000,
		 "SIP/2.0/TCP phone.example.com;branch=z9hG4bK1"
		 ";received=203.0.113.9"},
		{"SIP/2.0/UDP 192.168.1.2 ; branch = z9hG4bK1 ; rport",
		 "192.168.1.2", 5070,
		 "SIP/2.0/UDP 192.168.1.2;branch=z9hG4bK1;rport=5070"},
		/* A previous hop's received stays. */
		{"SIP/2.0/UDP 192.168.1.2;received=198.51.100.1;branch=z9hG4bK1",
		 "203.0.113.9", 5060, NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sip_via v;
		struct sip_peer from;
		char out[256];
		int n;

		assert_int_equal(
			sip_via_parse(&v, str_cstr(cases[i].via), NULL), 0);
		peer_v4(&from, cases[i].src, cases[i].port);
		n = proxy__via_fix(out, sizeof(out), &v, &from);
		if (!cases[i].want) {
			assert_int_equal(n, 0);
			continue;
		}
		assert_true(n > 0);
		assert_str_equal_cstr(str_make(out, (size_t)n), cases[i].want);
		/* The result is a valid Via element again. */
		assert_int_equal(
			sip_via_parse(&v, str_make(out, (size_t)n), NULL), 0);
	}
}

static void test_via_fix_no_room(void **state)
{
	struct sip_via v;
	struct sip_peer from;
	char out[16];

	(void)state;
	assert_int_equal(
		sip_via_parse(&v, STR("SIP/2.0/UDP 10.1.1.1;rport"), NULL), 0);
	peer_v4(&from, "10.2.2.2", 1234);
	assert_int_equal(proxy__via_fix(out, sizeof(out), &v, &from), -ENOSPC);
}

static void test_uri_target(void **state)
{
	static const struct {
		const char *uri;
		int rc;
		enum sip_tp tp;
		const char *addr;
	} cases[] = {
		{"sip:bob@10.0.0.1", 0, SIP_TP_UDP, "10.0.0.1:5060"},
		{"sip:bob@10.0.0.1:5080;transport=tcp", 0, SIP_TP_TCP,
		 "10.0.0.1:5080"},
		{"sips:bob@10.0.0.1", 0, SIP_TP_TLS, "10.0.0.1:5061"},
		{"sip:bob@10.0.0.1;transport=TLS", 0, SIP_TP_TLS,
		 "10.0.0.1:5061"},
		{"sips:bob@10.0.0.1:5071;transport=tcp", 0, SIP_TP_TLS,
		 "10.0.0.1:5071"},
		{"sip:bob@[2001:db8::1]:5070", 0, SIP_TP_UDP,
		 "[2001:db8::1]:5070"},
		{"sip:bob@host.example;maddr=10.9.9.9", 0, SIP_TP_UDP,
		 "10.9.9.9:5060"},
		{"sip:bob@pbx.example.com", -EHOSTUNREACH, 0, NULL},
		{"tel:+15551234567", -EPROTONOSUPPORT, 0, NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sip_uri u;
		struct sip_peer p;
		char as[SG_ADDR_STRLEN];

		assert_int_equal(sip_uri_parse(&u, str_cstr(cases[i].uri),
					       SIP_MAX_URI, NULL),
				 0);
		assert_int_equal(proxy__uri_target(&p, &u), cases[i].rc);
		if (cases[i].rc)
			continue;
		assert_int_equal(p.tp, cases[i].tp);
		assert_string_equal(sg_addr_fmt(&p.addr, as, sizeof(as)),
				    cases[i].addr);
	}
}

static void test_via_target(void **state)
{
	static const struct {
		const char *via;
		const char *addr;
	} cases[] = {
		{"SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1", "10.0.0.1:5062"},
		{"SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1", "10.0.0.1:5060"},
		{"SIP/2.0/UDP 192.168.0.2:5060;received=203.0.113.1;rport=4000",
		 "203.0.113.1:4000"},
		{"SIP/2.0/TLS [2001:db8::2];branch=z9hG4bK1",
		 "[2001:db8::2]:5061"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sip_via v;
		struct sip_peer p, hint;
		char as[SG_ADDR_STRLEN];

		assert_int_equal(
			sip_via_parse(&v, str_cstr(cases[i].via), NULL), 0);
		assert_int_equal(proxy__via_target(&p, &v, NULL), 0);
		assert_string_equal(sg_addr_fmt(&p.addr, as, sizeof(as)),
				    cases[i].addr);
		/* A stream connection to the same address is reused. */
		hint = p;
		hint.conn_id = 42;
		assert_int_equal(proxy__via_target(&p, &v, &hint), 0);
		assert_int_equal(p.conn_id, 42);
	}
}

/* A proxy with two listeners, enough for the helpers that look at them. */
static void fake_proxy(struct proxy *p)
{
	memset(p, 0, sizeof(*p));
	memset(p->key, 7, sizeof(p->key));
	assert_int_equal(
		sg_addr_parse(&p->lis[0].addr, STR("127.0.0.1:5060"), 0), 0);
	p->lis[0].tp = SIP_TP_UDP;
	assert_int_equal(sg_addr_parse(&p->lis[1].addr, STR("[::1]:5070"), 0),
			 0);
	p->lis[1].tp = SIP_TP_TCP;
	p->lis[1].zone = 1;
	p->nlis = 2;
}

/* The transport parameter request.c and registrar.c write. */
static void test_tp_param(void **state)
{
	(void)state;
	assert_string_equal(proxy__tp_param(SIP_TP_UDP), "udp");
	assert_string_equal(proxy__tp_param(SIP_TP_TCP), "tcp");
	assert_string_equal(proxy__tp_param(SIP_TP_TLS), "tls");
}

static void test_uri_is_us(void **state)
{
	static const struct {
		const char *uri;
		int lis; /* -1: not us */
	} cases[] = {
		{"sip:127.0.0.1;lr", 0},
		{"sip:127.0.0.1:5060;transport=tcp;lr", 0},
		{"sip:alice@127.0.0.1:5061", -1},
		{"sip:[::1]:5070;lr", 1},
		{"sips:127.0.0.1", -1},     /* default port 5061 */
		{"sip:localhost:5060", -1}, /* names are not us */
		{"tel:+1555", -1},
	};
	struct proxy *p = mem_alloc(sizeof(*p));
	size_t i;

	(void)state;
	fake_proxy(p);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sip_uri u;
		const struct proxy_lis *l;

		assert_int_equal(sip_uri_parse(&u, str_cstr(cases[i].uri),
					       SIP_MAX_URI, NULL),
				 0);
		l = proxy__uri_is_us(p, &u);
		if (cases[i].lis < 0)
			assert_null(l);
		else
			assert_ptr_equal(l, &p->lis[cases[i].lis]);
	}
	mem_free(p);
}

static void parse(struct sip_msg *m, const char *text)
{
	struct sip_perr pe;

	assert_int_equal(sip_msg_parse(m, text, strlen(text),
				       &sip_limits_default, SIP_PARSE_DGRAM,
				       &pe),
			 0);
}

static void test_loop_hash(void **state)
{
	static const char a[] =
		"INVITE sip:bob@10.0.0.9 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n"
		"From: <sip:a@x>;tag=1\r\nTo: <sip:bob@x>\r\n"
		"Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	static const char spiral[] =
		"INVITE sip:carol@10.0.0.9 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n"
		"From: <sip:a@x>;tag=1\r\nTo: <sip:bob@x>\r\n"
		"Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	struct proxy *p = mem_alloc(sizeof(*p));
	struct sip_msg *m = mem_alloc(sizeof(*m));
	uint64_t h1, h2;
	char text[600];

	(void)state;
	fake_proxy(p);
	parse(m, a);
	h1 = proxy__loop_hash(p, m);
	assert_false(proxy__is_loop(p, m));
	/* The same request coming back with our Via on it is a loop. */
	snprintf(
		text, sizeof(text),
		"INVITE sip:bob@10.0.0.9 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.7;branch=z9hG4bKx\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKy;sgl=%016llx\r\n"
		"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n"
		"From: <sip:a@x>;tag=1\r\nTo: <sip:bob@x>\r\n"
		"Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		(unsigned long long)h1);
	parse(m, text);
	assert_int_equal(proxy__loop_hash(p, m), h1);
	assert_true(proxy__is_loop(p, m));
	/* A spiral changes the Request-URI: not a loop. */
	parse(m, spiral);
	h2 = proxy__loop_hash(p, m);
	assert_true(h1 != h2);
	mem_free(m);
	mem_free(p);
	assert_no_leaks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_via_fix),
		cmocka_unit_test(test_via_fix_no_room),
		cmocka_unit_test(test_uri_target),
		cmocka_unit_test(test_tp_param),
		cmocka_unit_test(test_via_target),
		cmocka_unit_test(test_uri_is_us),
		cmocka_unit_test(test_loop_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
