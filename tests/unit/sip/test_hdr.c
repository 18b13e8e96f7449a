/*
 * test_hdr.c - header name classification (long and compact forms,
 * RFC 3261 7.3.3), canonical names, list headers and sip_list_next.
 */
#include <ctype.h>

#include "test.h"
#include "sip/sip.h"

/* Every id: its canonical name, upper- and lower-cased, maps back. */
static void test_classify_all(void **state)
{
	char up[32], low[32];
	int id;

	(void)state;
	for (id = 1; id < SIP_HDR__COUNT; id++) {
		const char *n = sip_hdr_name((enum sip_hdr_id)id);
		size_t i, len = strlen(n);

		assert_true(len > 1 && len < sizeof(up));
		for (i = 0; i <= len; i++) {
			up[i] = (char)toupper((unsigned char)n[i]);
			low[i] = (char)tolower((unsigned char)n[i]);
		}
		assert_int_equal(sip_hdr_classify(str_cstr(n)), id);
		assert_int_equal(sip_hdr_classify(str_cstr(up)), id);
		assert_int_equal(sip_hdr_classify(str_cstr(low)), id);
		/* one byte off is another header or none */
		low[len - 1] ^= 0x01;
		assert_int_not_equal(sip_hdr_classify(str_cstr(low)), id);
		if (len > 2)
			assert_int_not_equal(
				sip_hdr_classify(str_make(n, len - 1)), id);
	}
}

static void test_compact(void **state)
{
	static const struct {
		char c;
		enum sip_hdr_id id;
	} t[] = {
		{'v', SIP_HDR_VIA},
		{'f', SIP_HDR_FROM},
		{'t', SIP_HDR_TO},
		{'i', SIP_HDR_CALL_ID},
		{'m', SIP_HDR_CONTACT},
		{'l', SIP_HDR_CONTENT_LENGTH},
		{'c', SIP_HDR_CONTENT_TYPE},
		{'e', SIP_HDR_CONTENT_ENCODING},
		{'k', SIP_HDR_SUPPORTED},
		{'s', SIP_HDR_SUBJECT},
		{'o', SIP_HDR_EVENT},
		{'u', SIP_HDR_ALLOW_EVENTS},
		{'r', SIP_HDR_REFER_TO},
		{'b', SIP_HDR_REFERRED_BY},
		{'x', SIP_HDR_SESSION_EXPIRES},
		/* registered, but for headers we do not track */
		{'a', SIP_HDR_OTHER},
		{'d', SIP_HDR_OTHER},
		{'j', SIP_HDR_OTHER},
		{'n', SIP_HDR_OTHER},
		{'y', SIP_HDR_OTHER},
		{'g', SIP_HDR_OTHER},
		{'z', SIP_HDR_OTHER},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char lc = t[i].c, uc = (char)toupper((unsigned char)lc);

		assert_int_equal(sip_hdr_classify(str_make(&lc, 1)), t[i].id);
		assert_int_equal(sip_hdr_classify(str_make(&uc, 1)), t[i].id);
	}
	assert_int_equal(sip_hdr_classify(STR("-")), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_classify(STR("1")), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_classify(STR("\xff")), SIP_HDR_OTHER);
}

static void test_unknown(void **state)
{
	static const char *const t[] = {
		"",
		"X-Foo",
		"Vias",
		"Vi",
		"Contact-",
		"Accept-Encoding",
		"Accept-Language",
		"Content-Lengt",
		"Content-Lengths",
		"C%6Fntact",
		"NewFangledHeader",
		"Route-Record",
		"P-Asserted",
		"Proxy-Authorisation",
		"WWW-Authenticat",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"\x80\x80\x80",
		"Max_Forwards",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(sip_hdr_classify(str_cstr(t[i])),
				 SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_classify(STR_NULL), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_classify(str_make("Via\0", 4)), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_classify(STR("MaX-fOrWaRdS")),
			 SIP_HDR_MAX_FORWARDS);
	assert_int_equal(sip_hdr_classify(STR("call-id")), SIP_HDR_CALL_ID);
	assert_int_equal(sip_hdr_classify(STR("CSEQ")), SIP_HDR_CSEQ);
}

static void test_names_lists(void **state)
{
	(void)state;
	assert_string_equal(sip_hdr_name(SIP_HDR_CALL_ID), "Call-ID");
	assert_string_equal(sip_hdr_name(SIP_HDR_CSEQ), "CSeq");
	assert_string_equal(sip_hdr_name(SIP_HDR_WWW_AUTHENTICATE),
			    "WWW-Authenticate");
	assert_string_equal(sip_hdr_name(SIP_HDR_OTHER), "");
	assert_string_equal(sip_hdr_name(SIP_HDR__COUNT), "");
	assert_true(sip_hdr_is_list(SIP_HDR_VIA));
	assert_true(sip_hdr_is_list(SIP_HDR_CONTACT));
	assert_true(sip_hdr_is_list(SIP_HDR_ROUTE));
	assert_true(sip_hdr_is_list(SIP_HDR_RECORD_ROUTE));
	assert_true(sip_hdr_is_list(SIP_HDR_SUPPORTED));
	assert_true(sip_hdr_is_list(SIP_HDR_PATH));
	assert_false(sip_hdr_is_list(SIP_HDR_FROM));
	assert_false(sip_hdr_is_list(SIP_HDR_CALL_ID));
	/* challenges and credentials hold commas of their own */
	assert_false(sip_hdr_is_list(SIP_HDR_AUTHORIZATION));
	assert_false(sip_hdr_is_list(SIP_HDR_WWW_AUTHENTICATE));
	assert_false(sip_hdr_is_list(SIP_HDR_OTHER));
	assert_false(sip_hdr_is_list(SIP_HDR__COUNT));
}

struct lcase {
	const char *in;
	const char *out[6]; /* expected elements, NULL-terminated */
};

static const struct lcase lcases[] = {
	{"a", {"a"}},
	{"a,b", {"a", "b"}},
	{" a , b ,c ", {"a", "b", "c"}},
	{"a,,b", {"a", "", "b"}},
	{"a,", {"a", ""}},
	{",a", {"", "a"}},
	{"", {""}},
	{"\"x, y\" <sip:a@b>, <sip:c@d>", {"\"x, y\" <sip:a@b>", "<sip:c@d>"}},
	{"\"x\\\", y\" <sip:a@b>, c", {"\"x\\\", y\" <sip:a@b>", "c"}},
	{"<sip:a@b;x=1,2>;p=1, <sip:c>", {"<sip:a@b;x=1,2>;p=1", "<sip:c>"}},
	{"\"unbalanced, a, b", {"\"unbalanced, a, b"}},
	{"<sip:a, b", {"<sip:a, b"}},
	{"a,\r\n b", {"a", "b"}},
	{"SIP/2.0/UDP a;;,;,,", {"SIP/2.0/UDP a;;", ";", "", ""}},
	{"\"a\\\"", {"\"a\\\""}},
	{"\"\\", {"\"\\"}},
};

static void test_list_next(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(lcases) / sizeof(lcases[0]); i++) {
		struct str rest = str_cstr(lcases[i].in), el;

		for (k = 0; sip_list_next(&rest, &el); k++) {
			if (k >= 6 || !lcases[i].out[k])
				fail_msg("'%s': extra element %zu",
					 lcases[i].in, k);
			if (!str_eq(el, str_cstr(lcases[i].out[k])))
				fail_msg("'%s' #%zu: got '%.*s' want '%s'",
					 lcases[i].in, k, STR_FMT(el),
					 lcases[i].out[k]);
		}
		if (k < 6 && lcases[i].out[k])
			fail_msg("'%s': missing element %zu", lcases[i].in, k);
		assert_false(sip_list_next(&rest, &el));
	}
	{
		struct str rest = STR_NULL, el;

		assert_false(sip_list_next(&rest, &el));
		assert_false(sip_list_next(NULL, &el));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_all),
		cmocka_unit_test(test_compact),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_names_lists),
		cmocka_unit_test(test_list_next),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
