/*
 * test_via.c - sip_via_parse: RFC 3261 20.42, RFC 4475 (wsinv, ipv6),
 * RFC 5118 received, RFC 3581 rport.
 */
#include <errno.h>

#include "test.h"
#include "sip/sip.h"

#define NOPORT -1
#define ABSENT NULL

struct vcase {
	const char *in;
	int err;
	const char *transport, *host;
	enum sip_host_type ht;
	int port;
	const char *branch, *received, *rport, *params;
};

#define OK(in, tr, host, ht, port, br, rcv, rp, params)        \
	{                                                      \
		in, 0, tr, host, ht, port, br, rcv, rp, params \
	}
#define BAD(in)                                                             \
	{                                                                   \
		in, SIP_PE_SYNTAX, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL \
	}

static const struct vcase vcases[] = {
	OK("SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds", "UDP",
	   "pc33.atlanta.com", SIP_HOST_NAME, NOPORT, "z9hG4bK776asdhds",
	   ABSENT, ABSENT, "branch=z9hG4bK776asdhds"),
	OK("SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKx;received=192.0.2.207",
	   "TCP", "192.0.2.1", SIP_HOST_IPV4, 5060, "z9hG4bKx", "192.0.2.207",
	   ABSENT, "branch=z9hG4bKx;received=192.0.2.207"),
	OK("SIP/2.0/UDP 192.0.2.1", "UDP", "192.0.2.1", SIP_HOST_IPV4, NOPORT,
	   ABSENT, ABSENT, ABSENT, ""),
	OK("SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks", "WSS",
	   "df7jal23ls0d.invalid", SIP_HOST_NAME, NOPORT, "z9hG4bK56sdasks",
	   ABSENT, ABSENT, "branch=z9hG4bK56sdasks"),
	/* RFC 4475 3.1.1.2 wsinv: folded lines around '/' */
	OK("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;rport;branch=390skdjuw",
	   "UDP", "192.0.2.2", SIP_HOST_IPV4, NOPORT, "390skdjuw", ABSENT, "",
	   "rport;branch=390skdjuw"),
	OK("SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   "
	   "z9hG4bK9ikj8",
	   "TCP", "spindle.example.com", SIP_HOST_NAME, NOPORT, "z9hG4bK9ikj8",
	   ABSENT, ABSENT, "branch  =   z9hG4bK9ikj8"),
	OK("SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239",
	   "UDP", "192.168.255.111", SIP_HOST_IPV4, NOPORT, "z9hG4bK30239",
	   ABSENT, ABSENT, "branch=\r\n z9hG4bK30239"),
	OK("SIP/2.0/UDP host ; branch = z9hG4bK1 ; rport = 5061", "UDP", "host",
	   SIP_HOST_NAME, NOPORT, "z9hG4bK1", ABSENT, "5061",
	   "branch = z9hG4bK1 ; rport = 5061"),
	OK("SIP/2.0/UDP host : 5070", "UDP", "host", SIP_HOST_NAME, 5070,
	   ABSENT, ABSENT, ABSENT, ""),
	OK("SIP/2.0/UDP h;rport=0;received=1.2.3.4", "UDP", "h", SIP_HOST_NAME,
	   NOPORT, ABSENT, "1.2.3.4", "0", "rport=0;received=1.2.3.4"),
	OK("SIP/2.0/SCTP h;maddr=224.2.0.1;ttl=16;x-ext;x-q=\"a;b\"", "SCTP",
	   "h", SIP_HOST_NAME, NOPORT, ABSENT, ABSENT, ABSENT,
	   "maddr=224.2.0.1;ttl=16;x-ext;x-q=\"a;b\""),
	/* RFC 5118 4.1, 4.5, 4.6 */
	OK("SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111", "UDP",
	   "[2001:db8::9:1]", SIP_HOST_IPV6, NOPORT, "z9hG4bKas3-111", ABSENT,
	   ABSENT, "branch=z9hG4bKas3-111"),
	OK("SIP/2.0/UDP [2001:db8::9:1]:5070;received=[2001:db8::9:255];"
	   "branch=z9hG4bKas3-111",
	   "UDP", "[2001:db8::9:1]", SIP_HOST_IPV6, 5070, "z9hG4bKas3-111",
	   "[2001:db8::9:255]", ABSENT,
	   "received=[2001:db8::9:255];branch=z9hG4bKas3-111"),
	OK("SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;"
	   "branch=z9hG4bKas3",
	   "UDP", "[2001:db8::9:1]", SIP_HOST_IPV6, NOPORT, "z9hG4bKas3",
	   "2001:db8::9:255", ABSENT,
	   "received=2001:db8::9:255;branch=z9hG4bKas3"),

	BAD(""),
	BAD("SIP/2.0/UDP"),
	BAD("SIP/2.0/UDP "),
	BAD("SIP/2.0 UDP host"),
	BAD("SIP/2.0/ host"),
	BAD("SIP//UDP host"),
	BAD("SIP/2.0/UDPhost"),
	BAD("SIP/2.0/UDP host:"),
	BAD("SIP/2.0/UDP host:65536"),
	BAD("SIP/2.0/UDP host:12a"),
	BAD("SIP/2.0/UDP host junk"),
	BAD("SIP/2.0/UDP host;"),
	BAD("SIP/2.0/UDP host;;branch=x"),
	BAD("SIP/2.0/UDP host;branch"),
	BAD("SIP/2.0/UDP host;branch="),
	BAD("SIP/2.0/UDP host;branch=\"x\""),
	BAD("SIP/2.0/UDP host;branch=a;branch=b"),
	BAD("SIP/2.0/UDP host;received=host.example.com"),
	BAD("SIP/2.0/UDP host;received=1.2.3.256"),
	BAD("SIP/2.0/UDP host;received=[1.2.3.4]"),
	BAD("SIP/2.0/UDP host;received=2001:db8:::1"),
	BAD("SIP/2.0/UDP host;received=1.2.3.4;received=1.2.3.4"),
	BAD("SIP/2.0/UDP host;rport=abc"),
	BAD("SIP/2.0/UDP host;rport=65536"),
	BAD("SIP/2.0/UDP host;rport;rport"),
	BAD("SIP/2.0/UDP host;ttl=256"),
	BAD("SIP/2.0/UDP host;maddr=a..b"),
	BAD("SIP/2.0/UDP 2001:db8::1"),
	BAD("SIP/2.0/UDP [2001:db8::1"),
	BAD("SIP/2.0/UDP [2001:db8:::1]"),
	BAD("SIP/2.0/UDP host, SIP/2.0/UDP other"),
	BAD("SIP/2.0/UDP host;branch=z9\x01"),
};

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *c = &vcases[i];
		struct sip_via v;
		struct sip_perr e = {0};
		int rc = sip_via_parse(&v, str_cstr(c->in), &e);

		if (c->err) {
			if (rc == 0)
				fail_msg("accepted bad Via \"%s\"", c->in);
			assert_int_equal(e.code, c->err);
			assert_true(e.off <= strlen(c->in));
			continue;
		}
		if (rc)
			fail_msg("rejected \"%s\": %s at %u", c->in, e.reason,
				 e.off);
		assert_str_equal_cstr(v.proto_name, "SIP");
		assert_str_equal_cstr(v.proto_ver, "2.0");
		assert_str_equal_cstr(v.transport, c->transport);
		assert_str_equal_cstr(v.host, c->host);
		assert_int_equal(v.host_type, c->ht);
		assert_int_equal(v.has_port, c->port != NOPORT);
		if (c->port != NOPORT)
			assert_int_equal(v.port, c->port);
		assert_int_equal(v.has_branch, c->branch != ABSENT);
		assert_str_equal_cstr(v.branch, c->branch ? c->branch : "");
		assert_int_equal(v.has_received, c->received != ABSENT);
		assert_str_equal_cstr(v.received,
				      c->received ? c->received : "");
		assert_int_equal(v.has_rport, c->rport != ABSENT);
		assert_str_equal_cstr(v.rport, c->rport ? c->rport : "");
		assert_str_equal_cstr(v.params, c->params);
	}
}

static void test_fields(void **state)
{
	struct sip_via v;
	struct sip_perr e;

	(void)state;
	assert_int_equal(sip_via_parse(&v,
				       STR("SIP/2.0/UDP h;maddr=[::1];"
					   "ttl=1;TTL2=3"),
				       &e),
			 0);
	assert_str_equal_cstr(v.maddr, "[::1]");
	assert_str_equal_cstr(v.ttl, "1");
	assert_int_equal(sip_via_parse(&v, STR("SIP/2.0/UDP h;BRANCH=Z9"), &e),
			 0);
	assert_str_equal_cstr(v.branch, "Z9");
	assert_int_equal(sip_via_parse(NULL, STR("x"), &e), -EINVAL);
	assert_int_equal(sip_via_parse(&v, STR("SIP/2.0/UDP h x"), &e),
			 -EINVAL);
	assert_int_equal(e.off, 14);
	/* Never reads past the slice: "h:50" cut inside the port. */
	assert_int_equal(
		sip_via_parse(&v, str_make("SIP/2.0/UDP h:5060", 16), &e), 0);
	assert_int_equal(v.port, 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_fields),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
