/*
 * test_method.c - sip_method_from_str, sip_method_name, sip_is_token
 * (RFC 3261 7.1, 25.1) and sip_perr_status.
 */
#include "test.h"
#include "sip/sip.h"

struct mcase {
	const char *in;
	enum sip_method m;
};

static const struct mcase mcases[] = {
	{"INVITE", SIP_METHOD_INVITE},
	{"ACK", SIP_METHOD_ACK},
	{"BYE", SIP_METHOD_BYE},
	{"CANCEL", SIP_METHOD_CANCEL},
	{"REGISTER", SIP_METHOD_REGISTER},
	{"OPTIONS", SIP_METHOD_OPTIONS},
	{"PRACK", SIP_METHOD_PRACK},
	{"SUBSCRIBE", SIP_METHOD_SUBSCRIBE},
	{"NOTIFY", SIP_METHOD_NOTIFY},
	{"PUBLISH", SIP_METHOD_PUBLISH},
	{"INFO", SIP_METHOD_INFO},
	{"REFER", SIP_METHOD_REFER},
	{"MESSAGE", SIP_METHOD_MESSAGE},
	{"UPDATE", SIP_METHOD_UPDATE},
	/* case-sensitive: these are extension methods */
	{"invite", SIP_METHOD_UNKNOWN},
	{"Invite", SIP_METHOD_UNKNOWN},
	{"INVITE ", SIP_METHOD_UNKNOWN},
	{"INVITEX", SIP_METHOD_UNKNOWN},
	{"INVIT", SIP_METHOD_UNKNOWN},
	{"", SIP_METHOD_UNKNOWN},
	{"A", SIP_METHOD_UNKNOWN},
	{"NEWMETHOD", SIP_METHOD_UNKNOWN},
	{"RE%47IST%45R", SIP_METHOD_UNKNOWN}, /* RFC 4475 esc02 */
	{"SUBSCRIBES", SIP_METHOD_UNKNOWN},
	{"PUBLISx", SIP_METHOD_UNKNOWN},
	{"UPDATe", SIP_METHOD_UNKNOWN},
	{"MESSAGe", SIP_METHOD_UNKNOWN},
	{"BYe", SIP_METHOD_UNKNOWN},
};

static void test_from_str(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(mcases) / sizeof(mcases[0]); i++) {
		enum sip_method m = sip_method_from_str(str_cstr(mcases[i].in));

		if (m != mcases[i].m)
			fail_msg("'%s': got %d, want %d", mcases[i].in, m,
				 mcases[i].m);
	}
	assert_int_equal(sip_method_from_str(STR_NULL), SIP_METHOD_UNKNOWN);
}

static void test_names_roundtrip(void **state)
{
	int m;

	(void)state;
	for (m = 1; m < SIP_METHOD__COUNT; m++) {
		const char *n = sip_method_name((enum sip_method)m);

		assert_true(n[0] != '\0');
		assert_int_equal(sip_method_from_str(str_cstr(n)), m);
	}
	assert_string_equal(sip_method_name(SIP_METHOD_UNKNOWN), "");
	assert_string_equal(sip_method_name(SIP_METHOD__COUNT), "");
	assert_string_equal(sip_method_name((enum sip_method) - 1), "");
}

struct tcase {
	const char *in;
	bool ok;
};

static const struct tcase tcases[] = {
	{"INVITE", true}, {"!interesting-Method0123456789_*+`.%indeed'~", true},
	{"a", true},      {"", false},
	{"a b", false},   {"a:b", false},
	{"a\"", false},   {"a/b", false},
	{"a(b)", false},  {"<x>", false},
	{"a\x01", false}, {"caf\xc3\xa9", false},
	{"a,b", false},   {"a;b", false},
	{"a=b", false},   {"a@b", false},
	{"a?b", false},   {"a\\b", false},
	{"[a]", false},   {"{a}", false},
	{"a\tb", false},
};

static void test_is_token(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++)
		if (sip_is_token(str_cstr(tcases[i].in)) != tcases[i].ok)
			fail_msg("'%s': want %d", tcases[i].in, tcases[i].ok);
	assert_false(sip_is_token(STR_NULL));
}

static void test_perr_status(void **state)
{
	static const struct {
		enum sip_perr_code code;
		int status;
	} t[] = {
		{SIP_PE_NONE, 0},       {SIP_PE_SYNTAX, 400},
		{SIP_PE_VERSION, 505},  {SIP_PE_TOO_LARGE, 513},
		{SIP_PE_LIMIT, 400},    {SIP_PE_DUPLICATE, 400},
		{SIP_PE_MISSING, 400},  {SIP_PE_CSEQ_METHOD, 400},
		{SIP_PE_BODY, 400},     {SIP_PE_URI_SCHEME, 416},
		{SIP_PE_INCOMPLETE, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(sip_perr_status(t[i].code), t[i].status);
	assert_int_equal(sip_perr_status((enum sip_perr_code)99), 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_str),
		cmocka_unit_test(test_names_roundtrip),
		cmocka_unit_test(test_is_token),
		cmocka_unit_test(test_perr_status),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
