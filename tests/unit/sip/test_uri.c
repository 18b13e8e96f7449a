/*
 * test_uri.c - sip_uri_parse, sip_uri_equal, sip_unescape: RFC 3261
 * 19.1 and 19.1.4, RFC 4475 URI cases, RFC 5118 IPv6 cases, RFC 3966.
 */
#include <errno.h>
#include <stdio.h>

#include "test.h"
#include "sip/sip.h"

#define NOPORT -1

struct ucase {
	const char *in;
	int err; /* 0, or the expected sip_perr_code */
	enum sip_uri_scheme sch;
	const char *user, *password, *host;
	enum sip_host_type ht;
	int port;
	const char *params, *headers;
};

#define OK(in, sch, user, pw, host, ht, port, params, hdrs)        \
	{                                                          \
		in, 0, sch, user, pw, host, ht, port, params, hdrs \
	}
#define BAD(in)                                                          \
	{                                                                \
		in, SIP_PE_SYNTAX, 0, NULL, NULL, NULL, 0, 0, NULL, NULL \
	}

static const struct ucase ucases[] = {
	OK("sip:alice@atlanta.com", SIP_URI_SIP, "alice", "", "atlanta.com",
	   SIP_HOST_NAME, NOPORT, "", ""),
	OK("sips:alice@atlanta.com:5061", SIP_URI_SIPS, "alice", "",
	   "atlanta.com", SIP_HOST_NAME, 5061, "", ""),
	OK("SIP:ALICE@AtLanTa.CoM;Transport=udp", SIP_URI_SIP, "ALICE", "",
	   "AtLanTa.CoM", SIP_HOST_NAME, NOPORT, "Transport=udp", ""),
	OK("sip:alice:secretword@atlanta.com;transport=tcp", SIP_URI_SIP,
	   "alice", "secretword", "atlanta.com", SIP_HOST_NAME, NOPORT,
	   "transport=tcp", ""),
	OK("sip:+1-212-555-1212:1234@gateway.com;user=phone", SIP_URI_SIP,
	   "+1-212-555-1212", "1234", "gateway.com", SIP_HOST_NAME, NOPORT,
	   "user=phone", ""),
	OK("sip:alice@192.0.2.4", SIP_URI_SIP, "alice", "", "192.0.2.4",
	   SIP_HOST_IPV4, NOPORT, "", ""),
	OK("sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com",
	   SIP_URI_SIP, "", "", "atlanta.com", SIP_HOST_NAME, NOPORT,
	   "method=REGISTER", "to=alice%40atlanta.com"),
	OK("sip:alice;day=tuesday@atlanta.com", SIP_URI_SIP,
	   "alice;day=tuesday", "", "atlanta.com", SIP_HOST_NAME, NOPORT, "",
	   ""),
	OK("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
	   SIP_URI_SIP, "alice", "", "atlanta.com", SIP_HOST_NAME, NOPORT, "",
	   "subject=project%20x&priority=urgent"),
	/* RFC 4475 3.1.1.1 / esc01 / escnull / semiuri */
	OK("sip:vivekg@chair-dnrc.example.com;unknownparam", SIP_URI_SIP,
	   "vivekg", "", "chair-dnrc.example.com", SIP_HOST_NAME, NOPORT,
	   "unknownparam", ""),
	OK("sip:sips%3Auser%40example.com@example.net", SIP_URI_SIP,
	   "sips%3Auser%40example.com", "", "example.net", SIP_HOST_NAME,
	   NOPORT, "", ""),
	OK("sip:null-%00-null@example.com", SIP_URI_SIP, "null-%00-null", "",
	   "example.com", SIP_HOST_NAME, NOPORT, "", ""),
	OK("sip:user;par=u%40example.net@example.com", SIP_URI_SIP,
	   "user;par=u%40example.net", "", "example.com", SIP_HOST_NAME, NOPORT,
	   "", ""),
	OK("sip:%61lice@atlanta.com;transport=TCP", SIP_URI_SIP, "%61lice", "",
	   "atlanta.com", SIP_HOST_NAME, NOPORT, "transport=TCP", ""),
	OK("sip:user@example.com?Route=%3Csip:example.com%3E", SIP_URI_SIP,
	   "user", "", "example.com", SIP_HOST_NAME, NOPORT, "",
	   "Route=%3Csip:example.com%3E"),
	OK("sip:example.com;lr", SIP_URI_SIP, "", "", "example.com",
	   SIP_HOST_NAME, NOPORT, "lr", ""),
	OK("sip:example.com.", SIP_URI_SIP, "", "", "example.com.",
	   SIP_HOST_NAME, NOPORT, "", ""),
	OK("sip:a@h:0", SIP_URI_SIP, "a", "", "h", SIP_HOST_NAME, 0, "", ""),
	OK("sip:a@h:65535", SIP_URI_SIP, "a", "", "h", SIP_HOST_NAME, 65535, "",
	   ""),
	OK("sip:a@h:005060", SIP_URI_SIP, "a", "", "h", SIP_HOST_NAME, 5060, "",
	   ""),
	OK("sip:a:@h", SIP_URI_SIP, "a", "", "h", SIP_HOST_NAME, NOPORT, "",
	   ""),
	OK("sip:h?x=", SIP_URI_SIP, "", "", "h", SIP_HOST_NAME, NOPORT, "",
	   "x="),
	/* RFC 5118 */
	OK("sip:[2001:db8::10]", SIP_URI_SIP, "", "", "[2001:db8::10]",
	   SIP_HOST_IPV6, NOPORT, "", ""),
	OK("sip:[2001:db8::10:5070]", SIP_URI_SIP, "", "",
	   "[2001:db8::10:5070]", SIP_HOST_IPV6, NOPORT, "", ""),
	OK("sip:[2001:db8::10]:5070", SIP_URI_SIP, "", "", "[2001:db8::10]",
	   SIP_HOST_IPV6, 5070, "", ""),
	OK("sip:caller@[2001:db8::1]", SIP_URI_SIP, "caller", "",
	   "[2001:db8::1]", SIP_HOST_IPV6, NOPORT, "", ""),
	OK("sip:caller@[2001:db8::192.0.2.1]", SIP_URI_SIP, "caller", "",
	   "[2001:db8::192.0.2.1]", SIP_HOST_IPV6, NOPORT, "", ""),
	OK("sip:[::ffff:192.0.2.10]", SIP_URI_SIP, "", "",
	   "[::ffff:192.0.2.10]", SIP_HOST_IPV6, NOPORT, "", ""),
	OK("sip:[::1]:5060;maddr=[::2]", SIP_URI_SIP, "", "", "[::1]",
	   SIP_HOST_IPV6, 5060, "maddr=[::2]", ""),
	OK("sip:[::]", SIP_URI_SIP, "", "", "[::]", SIP_HOST_IPV6, NOPORT, "",
	   ""),
	OK("sip:[1:2:3:4:5:6:7:8]", SIP_URI_SIP, "", "", "[1:2:3:4:5:6:7:8]",
	   SIP_HOST_IPV6, NOPORT, "", ""),
	OK("sip:[1:2:3:4:5:6:1.2.3.4]", SIP_URI_SIP, "", "",
	   "[1:2:3:4:5:6:1.2.3.4]", SIP_HOST_IPV6, NOPORT, "", ""),
	OK("sip:[1::]", SIP_URI_SIP, "", "", "[1::]", SIP_HOST_IPV6, NOPORT, "",
	   ""),
	OK("sip:[FE80::aB:1]", SIP_URI_SIP, "", "", "[FE80::aB:1]",
	   SIP_HOST_IPV6, NOPORT, "", ""),
	/* tel and opaque schemes */
	OK("tel:+1-201-555-0123", SIP_URI_TEL, "+1-201-555-0123", "", "",
	   SIP_HOST_NONE, NOPORT, "", ""),
	OK("tel:7042;phone-context=example.com", SIP_URI_TEL, "7042", "", "",
	   SIP_HOST_NONE, NOPORT, "phone-context=example.com", ""),
	OK("tel:863-1234;isub=1;phone-context=+1-914-555", SIP_URI_TEL,
	   "863-1234", "", "", SIP_HOST_NONE, NOPORT,
	   "isub=1;phone-context=+1-914-555", ""),
	OK("nobodyknowsthisscheme:totallyopaquecontent", SIP_URI_OTHER,
	   "totallyopaquecontent", "", "", SIP_HOST_NONE, NOPORT, "", ""),
	OK("soap.beep://192.0.2.103:3002", SIP_URI_OTHER, "//192.0.2.103:3002",
	   "", "", SIP_HOST_NONE, NOPORT, "", ""),
	OK("isbn:2983792873", SIP_URI_OTHER, "2983792873", "", "",
	   SIP_HOST_NONE, NOPORT, "", ""),
	OK("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", SIP_URI_OTHER,
	   "uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "", "", SIP_HOST_NONE,
	   NOPORT, "", ""),
	OK("mailto:a%20b@example.com", SIP_URI_OTHER, "a%20b@example.com", "",
	   "", SIP_HOST_NONE, NOPORT, "", ""),

	BAD(""),
	BAD("sip:"),
	BAD("sip"),
	BAD(":alice@a.com"),
	BAD("1sip:a@b"),
	BAD("s ip:a@b"),
	BAD("sip:alice@"),
	BAD("sip:@atlanta.com"),
	BAD("sip::pw@atlanta.com"),
	BAD("sip:al ice@atlanta.com"),
	BAD("sip:alice@atlanta.com "),
	BAD("sip:alice@atl anta.com"),
	BAD("sip:alice@atlanta.com:"),
	BAD("sip:alice@atlanta.com:65536"),
	BAD("sip:alice@atlanta.com:99999999999999999999"),
	BAD("sip:alice@atlanta.com:5060x"),
	BAD("sip:alice@atlanta.com:-1"),
	BAD("sip:al%4@a.com"),
	BAD("sip:al%zz@a.com"),
	BAD("sip:al%@a.com"),
	BAD("sip:a:p%4@a.com"),
	BAD("sip:a:b:c@a.com"),
	BAD("sip:a@b@c.com"),
	BAD("sip:alice@-atlanta.com"),
	BAD("sip:alice@atlanta-.com"),
	BAD("sip:alice@atlanta..com"),
	BAD("sip:alice@.atlanta.com"),
	BAD("sip:alice@123"),
	BAD("sip:alice@1.2.3"),
	BAD("sip:alice@1.2.3.256"),
	BAD("sip:alice@1.2.3.4.5"),
	BAD("sip:alice@01.2.3.4"),
	BAD("sip:alice@1.2.3.4."),
	BAD("sip:alice@atl_anta.com"),
	BAD("sip:alice@atlanta.com\r\n"),
	BAD("sip:alice@atlanta.com\x01"),
	BAD("sip:alice@atlanta.com;"),
	BAD("sip:alice@atlanta.com;;lr"),
	BAD("sip:alice@atlanta.com;a="),
	BAD("sip:alice@atlanta.com;a=%g0"),
	BAD("sip:alice@atlanta.com;transport"),
	BAD("sip:alice@atlanta.com;transport=udp;transport=tcp"),
	BAD("sip:alice@atlanta.com;ttl=256"),
	BAD("sip:alice@atlanta.com;ttl=abc"),
	BAD("sip:alice@atlanta.com;maddr=1.2.3.999"),
	BAD("sip:alice@atlanta.com;lr;lr"),
	BAD("sip:alice@atlanta.com;maddr=a.com;m%61ddr=b.com"),
	BAD("sip:alice@atlanta.com;x=1;X=2"),
	BAD("sip:alice@atlanta.com;x;%58"),
	BAD("sip:alice@atlanta.com;tr%61nsport"),
	BAD("tel:+1;isub=1;isub=2"),
	BAD("sip:alice@atlanta.com?"),
	BAD("sip:alice@atlanta.com?a"),
	BAD("sip:alice@atlanta.com?=b"),
	BAD("sip:alice@atlanta.com?a=b&"),
	BAD("sip:alice@atlanta.com?a=b c"),
	BAD("sip:alice@atlanta.com>"),
	BAD("<sip:user@example.com>"),
	/* RFC 5118 4.2, 4.9 and friends */
	BAD("sip:2001:db8::10"),
	BAD("sip:caller@[2001:db8:::192.0.2.1]"),
	BAD("sip:[2001:db8::10"),
	BAD("sip:2001:db8::10]"),
	BAD("sip:[]"),
	BAD("sip:[:1]"),
	BAD("sip:[1:]"),
	BAD("sip:[1::2::3]"),
	BAD("sip:[1:2:3:4:5:6:7:8:9]"),
	BAD("sip:[1:2:3:4:5:6:7::8]"),
	BAD("sip:[1:2:3:4:5:6:7]"),
	BAD("sip:[12345::]"),
	BAD("sip:[::g]"),
	BAD("sip:[1:2:3:4:5:6:7:1.2.3.4]"),
	BAD("sip:[::1.2.3]"),
	BAD("sip:[::1.2.3.4:5]"),
	BAD("sip:[::1]]"),
	BAD("sip:[::1]:"),
	BAD("sip:[[::1]]"),
	BAD("tel:"),
	BAD("tel:+"),
	BAD("tel:+1 234"),
	BAD("tel:7042"),
	BAD("tel:+1234?a=b"),
	BAD("tel:+12;"),
	BAD("foo:"),
	BAD("foo:a b"),
	BAD("foo:a\"b"),
	BAD("foo:a%4"),
};

static void check_case(const struct ucase *c)
{
	struct sip_uri u;
	struct sip_perr e = {0};
	struct str in = str_cstr(c->in);
	int rc;

	rc = sip_uri_parse(&u, in, SIP_MAX_URI, &e);
	if (c->err) {
		if (rc == 0)
			fail_msg("accepted bad URI \"%s\"", c->in);
		assert_int_equal(rc, -EINVAL);
		assert_int_equal(e.code, c->err);
		assert_true(e.off <= in.len);
		assert_non_null(e.reason);
		return;
	}
	if (rc != 0)
		fail_msg("rejected \"%s\": %s at %u", c->in, e.reason, e.off);
	assert_int_equal(u.sch, c->sch);
	assert_true(str_eq(u.raw, in));
	assert_str_equal_cstr(u.user, c->user);
	assert_str_equal_cstr(u.password, c->password);
	assert_str_equal_cstr(u.host, c->host);
	assert_int_equal(u.host_type, c->ht);
	assert_int_equal(u.has_port, c->port != NOPORT);
	if (c->port != NOPORT)
		assert_int_equal(u.port, c->port);
	assert_str_equal_cstr(u.params, c->params);
	assert_str_equal_cstr(u.headers, c->headers);
	assert_true(sip_uri_equal(&u, &u));
}

static void test_parse_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ucases) / sizeof(ucases[0]); i++) {
		check_case(&ucases[i]);
	}
}

static void test_known_params(void **state)
{
	struct sip_uri u;
	struct sip_perr e;
	struct str in = STR("sip:bob@b.com;transport=TLS;user=phone;"
			    "method=INVITE;ttl=16;maddr=239.255.255.1;lr;"
			    "x-foo=%41b");

	(void)state;
	assert_int_equal(sip_uri_parse(&u, in, 0, &e), 0);
	assert_str_equal_cstr(u.transport, "TLS");
	assert_str_equal_cstr(u.user_param, "phone");
	assert_str_equal_cstr(u.method, "INVITE");
	assert_str_equal_cstr(u.ttl, "16");
	assert_str_equal_cstr(u.maddr, "239.255.255.1");
	assert_true(u.lr);
	assert_true(u.has_userinfo);
	assert_int_equal(sip_uri_parse(&u, STR("sip:b.com;lr=on"), 0, &e), 0);
	assert_true(u.lr);
	assert_false(u.has_userinfo);
	assert_int_equal(
		sip_uri_parse(&u, STR("sip:b.com;maddr=host.x"), 0, &e), 0);
	assert_str_equal_cstr(u.maddr, "host.x");
	/* Escaped names of well-known parameters are still recognised. */
	assert_int_equal(
		sip_uri_parse(&u, STR("sip:b.com;TR%61nsport=tcp;%6cr"), 0, &e),
		0);
	assert_str_equal_cstr(u.transport, "tcp");
	assert_true(u.lr);
}

static void test_limit(void **state)
{
	char big[SIP_MAX_URI + 64];
	struct sip_uri u;
	struct sip_perr e;
	size_t n;

	(void)state;
	memcpy(big, "sip:", 4);
	memset(big + 4, 'a', sizeof(big) - 4);
	memcpy(big + 4 + 100, "@x.com", 6);
	assert_int_equal(sip_uri_parse(&u, str_make(big, 110), 110, &e), 0);
	assert_int_equal(sip_uri_parse(&u, str_make(big, 110), 109, &e),
			 -EINVAL);
	assert_int_equal(e.code, SIP_PE_LIMIT);
	/* The ceiling holds whatever max_len says. */
	n = sizeof(big);
	big[n - 1] = 'm';
	assert_int_equal(sip_uri_parse(&u, str_make(big, n), (size_t)-1, &e),
			 -EINVAL);
	assert_int_equal(e.code, SIP_PE_LIMIT);
	assert_int_equal(sip_uri_parse(NULL, STR("sip:a"), 0, &e), -EINVAL);
	assert_int_equal(sip_uri_parse(&u, STR("sip:a"), 0, NULL), 0);
	assert_int_equal(sip_uri_parse(&u, STR("sip:-"), 0, NULL), -EINVAL);
	/* A NUL byte is a control character like any other. */
	assert_int_equal(sip_uri_parse(&u, str_make("sip:a@b\0", 8), 0, &e),
			 -EINVAL);
	assert_int_equal(e.off, 7);
}

struct eqcase {
	const char *a, *b;
	bool eq;
};

/* RFC 3261 19.1.4 examples, and more. */
static const struct eqcase eqcases[] = {
	{"sip:%61lice@atlanta.com;transport=TCP",
	 "sip:alice@AtLanTa.CoM;Transport=tcp", true},
	{"sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5", true},
	{"sip:carol@chicago.com", "sip:carol@chicago.com;security=on", true},
	{"sip:carol@chicago.com;newparam=5",
	 "sip:carol@chicago.com;security=on", true},
	{"sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
	 "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
	 true},
	{"sip:alice@atlanta.com?subject=project%20x&priority=urgent",
	 "sip:alice@atlanta.com?priority=urgent&subject=project%20x", true},
	{"SIP:ALICE@AtLanTa.CoM;Transport=udp",
	 "sip:alice@AtLanTa.CoM;Transport=UDP", false},
	{"sip:bob@biloxi.com", "sip:bob@biloxi.com:5060", false},
	{"sips:bob@biloxi.com", "sips:bob@biloxi.com:5061", false},
	{"sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp", false},
	{"sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp", false},
	{"sip:carol@chicago.com",
	 "sip:carol@chicago.com?Subject=next%20meeting", false},
	{"sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4", false},
	{"sip:carol@chicago.com;security=on",
	 "sip:carol@chicago.com;security=off", false},
	{"sip:bob@biloxi.com", "sips:bob@biloxi.com", false},
	{"sip:bob@biloxi.com", "sip:biloxi.com", false},
	{"sip:bob:pw@biloxi.com", "sip:bob:PW@biloxi.com", false},
	{"sip:bob:p%77@biloxi.com", "sip:bob:pw@biloxi.com", true},
	{"sip:bob@biloxi.com;maddr=1.2.3.4", "sip:bob@biloxi.com", false},
	{"sip:bob@biloxi.com;ttl=1", "sip:bob@biloxi.com", false},
	{"sip:bob@biloxi.com;user=phone", "sip:bob@biloxi.com", false},
	{"sip:bob@biloxi.com;method=INVITE", "sip:bob@biloxi.com", false},
	{"sip:bob@biloxi.com;lr", "sip:bob@biloxi.com", true},
	{"sip:bob@biloxi.com;%6cr", "sip:bob@biloxi.com;LR", true},
	{"sip:bob@biloxi.com;tr%61nsport=udp",
	 "sip:bob@biloxi.com;transport=UDP", true},
	{"sip:bob@biloxi.com?a=b", "sip:bob@biloxi.com?a=b&a=b", false},
	{"sip:bob@biloxi.com?a=b", "sip:bob@biloxi.com?a=c", false},
	{"sip:bob@[::1]", "sip:bob@[0:0:0::1]", true},
	{"sip:bob@[::ffff:1.2.3.4]", "sip:bob@[::FFFF:102:304]", true},
	{"sip:bob@[::1]", "sip:bob@[::2]", false},
	{"sip:bob@[::1]:5060", "sip:bob@[::1]", false},
	{"tel:+1-201-555-0123", "tel:+1.201.555.0123", true},
	{"tel:+1-201-555-0123", "tel:+1-201-555-0124", false},
	{"tel:7042;phone-context=a.com", "tel:7042;phone-context=A.com", true},
	{"tel:+1234;isub=1", "tel:+1234", false},
	{"urn:a", "URN:a", true},
	{"urn:a", "urn:A", false},
	{"urn:a", "tel:+1", false},
};

static void test_equal(void **state)
{
	struct sip_uri a, b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(eqcases) / sizeof(eqcases[0]); i++) {
		const struct eqcase *c = &eqcases[i];

		assert_int_equal(sip_uri_parse(&a, str_cstr(c->a), 0, NULL), 0);
		assert_int_equal(sip_uri_parse(&b, str_cstr(c->b), 0, NULL), 0);
		if (sip_uri_equal(&a, &b) != c->eq ||
		    sip_uri_equal(&b, &a) != c->eq)
			fail_msg("%s vs %s: expected %s", c->a, c->b,
				 c->eq ? "equal" : "different");
	}
	assert_false(sip_uri_equal(NULL, &a));
}

static void test_unescape(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(sip_unescape(buf, sizeof(buf), STR("%61lice%20x")), 7);
	assert_memory_equal(buf, "alice x", 7);
	assert_int_equal(sip_unescape(buf, sizeof(buf), STR("a%00b")), 3);
	assert_int_equal(buf[1], 0);
	assert_int_equal(sip_unescape(buf, sizeof(buf), STR("")), 0);
	assert_int_equal(sip_unescape(buf, sizeof(buf), STR("%4")), -EINVAL);
	assert_int_equal(sip_unescape(buf, sizeof(buf), STR("%g1")), -EINVAL);
	assert_int_equal(sip_unescape(buf, 3, STR("abcd")), -ENOSPC);
	assert_int_equal(sip_unescape(buf, 3, STR("ab%63")), 3);
	assert_int_equal(sip_unescape(NULL, 0, STR("")), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_known_params),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_unescape),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
