/*
 * test_hparse.c - CSeq (RFC 3261 20.16, RFC 4475 wsinv/scalar02/intmeth),
 * token+params values, Content-Type and Replaces (RFC 3891).
 */
#include <errno.h>

#include "test.h"
#include "sip/sip.h"

struct ccase {
	const char *in;
	bool ok;
	uint32_t num;
	const char *method;
	enum sip_method mid;
};

static const struct ccase ccases[] = {
	{"314159 INVITE", true, 314159, "INVITE", SIP_METHOD_INVITE},
	{"1 ACK", true, 1, "ACK", SIP_METHOD_ACK},
	{"0 BYE", true, 0, "BYE", SIP_METHOD_BYE},
	{"0009\r\n  INVITE", true, 9, "INVITE", SIP_METHOD_INVITE},
	{"2147483647 REGISTER", true, 2147483647u, "REGISTER",
	 SIP_METHOD_REGISTER},
	{"00000000000000000000001 OPTIONS", true, 1, "OPTIONS",
	 SIP_METHOD_OPTIONS},
	{"139122385 !interesting-Method0123456789_*+`.%'~", true, 139122385,
	 "!interesting-Method0123456789_*+`.%'~", SIP_METHOD_UNKNOWN},
	{"8 invite", true, 8, "invite", SIP_METHOD_UNKNOWN},
	{"5 INVITE ", true, 5, "INVITE", SIP_METHOD_INVITE},
	{"2147483648 INVITE", false, 0, NULL, 0},
	{"36893488147419103232 REGISTER", false, 0, NULL, 0},
	{"4294967296 INVITE", false, 0, NULL, 0},
	{"INVITE", false, 0, NULL, 0},
	{"1", false, 0, NULL, 0},
	{"1 ", false, 0, NULL, 0},
	{"1INVITE", false, 0, NULL, 0},
	{"-1 INVITE", false, 0, NULL, 0},
	{"1 INVITE BYE", false, 0, NULL, 0},
	{"1 INV;TE", false, 0, NULL, 0},
	{"1 INVITE\x01", false, 0, NULL, 0},
	{"", false, 0, NULL, 0},
};

static void test_cseq(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ccases) / sizeof(ccases[0]); i++) {
		const struct ccase *c = &ccases[i];
		struct sip_cseq cs;
		struct sip_perr e = {0};
		int rc = sip_cseq_parse(&cs, str_cstr(c->in), &e);

		if (!c->ok) {
			if (rc == 0)
				fail_msg("accepted CSeq \"%s\"", c->in);
			assert_int_equal(e.code, SIP_PE_SYNTAX);
			continue;
		}
		if (rc)
			fail_msg("rejected CSeq \"%s\": %s", c->in, e.reason);
		assert_int_equal(cs.num, c->num);
		assert_str_equal_cstr(cs.method, c->method);
		assert_int_equal(cs.mid, c->mid);
	}
	assert_int_equal(sip_cseq_parse(NULL, STR("1 A"), NULL), -EINVAL);
}

static void test_tokparams(void **state)
{
	struct sip_tokparams t;
	struct sip_perr e;

	(void)state;
	assert_int_equal(sip_tokparams_parse(&t, STR("presence;id=12"), &e), 0);
	assert_str_equal_cstr(t.value, "presence");
	assert_int_equal(t.params.n, 1);
	assert_str_equal_cstr(sip_params_find(&t.params, "ID")->value, "12");
	assert_int_equal(sip_tokparams_parse(&t,
					     STR("active ; expires = 600 ;"
						 " x"),
					     &e),
			 0);
	assert_str_equal_cstr(t.value, "active");
	assert_int_equal(t.params.n, 2);
	assert_false(t.params.p[1].has_value);
	assert_int_equal(sip_tokparams_parse(&t, STR("1800;refresher=uac"), &e),
			 0);
	assert_int_equal(
		sip_tokparams_parse(&t, STR("session;handling=required"), &e),
		0);
	assert_int_equal(
		sip_tokparams_parse(
			&t, STR("120 (I'm in a (long) meeting);duration=60"),
			&e),
		0);
	assert_str_equal_cstr(t.value, "120");
	assert_str_equal_cstr(t.params.p[0].value, "60");
	assert_int_equal(sip_tokparams_parse(&t, STR("presence.winfo"), &e), 0);
	assert_int_equal(t.params.n, 0);
	assert_int_equal(sip_tokparams_parse(&t, STR(""), &e), -EINVAL);
	assert_int_equal(sip_tokparams_parse(&t, STR(";id=1"), &e), -EINVAL);
	assert_int_equal(sip_tokparams_parse(&t, STR("a b"), &e), -EINVAL);
	assert_int_equal(sip_tokparams_parse(&t, STR("a;"), &e), -EINVAL);
	assert_int_equal(sip_tokparams_parse(&t, STR("120 (open"), &e),
			 -EINVAL);
	assert_int_equal(
		sip_tokparams_parse(&t, STR("1 ((((((((((x))))))))))"), &e),
		-EINVAL);
	assert_int_equal(sip_tokparams_parse(&t, STR("a;b=\"x"), &e), -EINVAL);
}

static void test_ctype(void **state)
{
	struct sip_ctype ct;
	struct sip_perr e;

	(void)state;
	assert_int_equal(sip_ctype_parse(&ct, STR("application/sdp"), &e), 0);
	assert_str_equal_cstr(ct.type, "application");
	assert_str_equal_cstr(ct.subtype, "sdp");
	assert_int_equal(ct.params.n, 0);
	assert_int_equal(
		sip_ctype_parse(
			&ct, STR("multipart/mixed;boundary=unique-boundary-1"),
			&e),
		0);
	assert_str_equal_cstr(ct.boundary, "unique-boundary-1");
	assert_int_equal(
		sip_ctype_parse(
			&ct,
			STR("multipart/mixed ; Boundary = \"simple boundary\""
			    " ; charset=utf-8"),
			&e),
		0);
	assert_str_equal_cstr(ct.boundary, "simple boundary");
	assert_int_equal(ct.params.n, 2);
	assert_int_equal(sip_ctype_parse(&ct, STR("text / plain"), &e), 0);
	assert_str_equal_cstr(ct.subtype, "plain");
	assert_int_equal(sip_ctype_parse(&ct, STR("application/sdp;x"), &e),
			 -EINVAL);
	assert_int_equal(sip_ctype_parse(&ct, STR("application"), &e), -EINVAL);
	assert_int_equal(sip_ctype_parse(&ct, STR("/sdp"), &e), -EINVAL);
	assert_int_equal(sip_ctype_parse(&ct, STR("application/"), &e),
			 -EINVAL);
	assert_int_equal(sip_ctype_parse(&ct, STR("a/b c"), &e), -EINVAL);
	assert_int_equal(sip_ctype_parse(&ct, STR("a/b;boundary=\"\""), &e),
			 -EINVAL);
	assert_int_equal(
		sip_ctype_parse(&ct, STR("a/b;boundary=x;boundary=y"), &e),
		-EINVAL);
	assert_int_equal(
		sip_ctype_parse(
			&ct,
			STR("a/b;boundary=12345678901234567890123456789012345"
			    "678901234567890123456789012345678901"),
			&e),
		-EINVAL);
}

static void test_replaces(void **state)
{
	struct sip_replaces r;
	struct sip_perr e;

	(void)state;
	assert_int_equal(
		sip_replaces_parse(&r,
				   STR("425928@bobster.example.org;to-tag=7743;"
				       "from-tag=6472"),
				   &e),
		0);
	assert_str_equal_cstr(r.call_id, "425928@bobster.example.org");
	assert_str_equal_cstr(r.to_tag, "7743");
	assert_str_equal_cstr(r.from_tag, "6472");
	assert_false(r.early_only);
	assert_int_equal(
		sip_replaces_parse(
			&r,
			STR("98732@sip.example.com\r\n ;from-tag=r33th4x0r\r\n"
			    " ;to-tag=ff87ff ; early-only ;x=y"),
			&e),
		0);
	assert_true(r.early_only);
	assert_str_equal_cstr(r.to_tag, "ff87ff");
	assert_int_equal(
		sip_replaces_parse(
			&r, STR("a<b>:\"c\"@[d]{e};to-tag=1;from-tag=2"), &e),
		0);
	assert_str_equal_cstr(r.call_id, "a<b>:\"c\"@[d]{e}");
	assert_int_equal(sip_replaces_parse(&r, STR("abc;to-tag=1"), &e),
			 -EINVAL);
	assert_int_equal(sip_replaces_parse(&r, STR("abc;from-tag=1"), &e),
			 -EINVAL);
	assert_int_equal(
		sip_replaces_parse(&r, STR("abc;to-tag=1;from-tag=2;to-tag=3"),
				   &e),
		-EINVAL);
	assert_int_equal(
		sip_replaces_parse(
			&r, STR("abc;to-tag=1;from-tag=2;early-only=1"), &e),
		-EINVAL);
	assert_int_equal(
		sip_replaces_parse(&r, STR(";to-tag=1;from-tag=2"), &e),
		-EINVAL);
	assert_int_equal(
		sip_replaces_parse(&r, STR("a@;to-tag=1;from-tag=2"), &e),
		-EINVAL);
	assert_int_equal(
		sip_replaces_parse(&r, STR("a@b@c;to-tag=1;from-tag=2"), &e),
		-EINVAL);
	assert_int_equal(
		sip_replaces_parse(&r, STR("a b;to-tag=1;from-tag=2"), &e),
		-EINVAL);
	assert_int_equal(
		sip_replaces_parse(&r, STR("a;to-tag=;from-tag=2"), &e),
		-EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cseq),
		cmocka_unit_test(test_tokparams),
		cmocka_unit_test(test_ctype),
		cmocka_unit_test(test_replaces),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
