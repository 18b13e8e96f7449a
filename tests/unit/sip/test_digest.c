/*
 * test_digest.c - sip_digest_parse: RFC 3261 22.4/25.1 credentials and
 * challenges, RFC 8760 algorithms, RFC 7616 userhash, other schemes.
 */
#include <errno.h>

#include "test.h"
#include "sip/sip.h"

static void test_credentials(void **state)
{
	struct sip_digest d;
	struct sip_perr e;

	(void)state;
	assert_int_equal(
		sip_digest_parse(
			&d,
			STR("Digest username=\"bob\", realm=\"biloxi.com\",\r\n"
			    " nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
			    " uri=\"sip:bob@biloxi.com\", qop=auth, nc=00000001,\r\n"
			    " cnonce=\"0a4f113b\",\r\n"
			    " response=\"6629fae49393a05397450978507c4ef1\",\r\n"
			    " opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""),
			&e),
		0);
	assert_str_equal_cstr(d.scheme, "Digest");
	assert_str_equal_cstr(d.username, "bob");
	assert_true(d.username_quoted);
	assert_str_equal_cstr(d.realm, "biloxi.com");
	assert_str_equal_cstr(d.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
	assert_str_equal_cstr(d.uri, "sip:bob@biloxi.com");
	assert_str_equal_cstr(d.qop, "auth");
	assert_str_equal_cstr(d.nc, "00000001");
	assert_str_equal_cstr(d.cnonce, "0a4f113b");
	assert_str_equal_cstr(d.response, "6629fae49393a05397450978507c4ef1");
	assert_str_equal_cstr(d.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
	assert_true(d.algorithm.p == NULL);

	assert_int_equal(
		sip_digest_parse(
			&d,
			STR("digest USERNAME = bob ,REALM=\"a \\\"b\\\" c\","
			    "algorithm=SHA-256,userhash=true, x-unknown=\"?\""),
			&e),
		0);
	assert_str_equal_cstr(d.username, "bob");
	assert_false(d.username_quoted);
	assert_str_equal_cstr(d.realm, "a \\\"b\\\" c");
	assert_str_equal_cstr(d.algorithm, "SHA-256");
	assert_str_equal_cstr(d.userhash, "true");

	assert_int_equal(sip_digest_parse(&d, STR("Digest username=\"\""), &e),
			 0);
	assert_true(d.username.p != NULL);
	assert_int_equal(d.username.len, 0);
}

static void test_challenge(void **state)
{
	struct sip_digest d;
	struct sip_perr e;

	(void)state;
	assert_int_equal(
		sip_digest_parse(
			&d,
			STR("Digest realm=\"atlanta.com\",\r\n"
			    "  domain=\"sip:ss1.carrier.com\", qop=\"auth,auth-int\",\r\n"
			    "  nonce=\"f84f1cec41e6cbe5aea9c8e88d359\",\r\n"
			    "  opaque=\"\", stale=FALSE, algorithm=SHA-512-256"),
			&e),
		0);
	assert_str_equal_cstr(d.qop, "auth,auth-int");
	assert_str_equal_cstr(d.domain, "sip:ss1.carrier.com");
	assert_str_equal_cstr(d.stale, "FALSE");
	assert_str_equal_cstr(d.opaque, "");
	assert_str_equal_cstr(d.algorithm, "SHA-512-256");
}

static void test_other_schemes(void **state)
{
	struct sip_digest d;
	struct sip_perr e;

	(void)state;
	assert_int_equal(sip_digest_parse(&d, STR("Basic dXNlcjpwYXNz"), &e),
			 0);
	assert_str_equal_cstr(d.scheme, "Basic");
	assert_true(d.username.p == NULL);
	assert_int_equal(sip_digest_parse(&d, STR("NTLM"), &e), 0);
	assert_str_equal_cstr(d.scheme, "NTLM");
	assert_int_equal(sip_digest_parse(&d, STR("Bearer a=b, c"), &e), 0);
	assert_str_equal_cstr(d.scheme, "Bearer");
}

static const char *const bad[] = {
	"",
	"   ",
	"Digest",
	"Digest ",
	"Digest,username=\"a\"",
	"Digestusername=\"a\"",
	"\"Digest\" username=a",
	"Digest username",
	"Digest username=",
	"Digest username=\"a",
	"Digest username=\"a\"\"",
	"Digest username=\"a\",",
	"Digest ,username=\"a\"",
	"Digest username=\"a\",,realm=\"b\"",
	"Digest username=\"a\" realm=\"b\"",
	"Digest username=\"a\";realm=\"b\"",
	"Digest username=a b",
	"Digest username=\"a\\\r\"",
	"Digest username=\"a\x01\"",
	"Digest username=<a>",
	"Digest =a",
	"Digest x=\"a\", =b",
	"Basic\x01",
};

static void test_bad(void **state)
{
	struct sip_digest d;
	struct sip_perr e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.code = SIP_PE_NONE;
		if (sip_digest_parse(&d, str_cstr(bad[i]), &e) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(e.code, SIP_PE_SYNTAX);
		assert_true(e.off <= strlen(bad[i]));
	}
	assert_int_equal(sip_digest_parse(NULL, STR("Digest a=b"), &e),
			 -EINVAL);
}

static void test_duplicates(void **state)
{
	static const char *const dup[] = {
		"Digest username=\"a\", username=\"a\"",
		"Digest realm=a, REALM=b",
		"Digest nonce=\"1\", realm=x, nonce=\"2\"",
		"Digest response=\"1\",response=\"1\"",
	};
	struct sip_digest d;
	struct sip_perr e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(dup) / sizeof(dup[0]); i++) {
		assert_int_equal(sip_digest_parse(&d, str_cstr(dup[i]), &e),
				 -EINVAL);
		assert_int_equal(e.code, SIP_PE_DUPLICATE);
	}
	/* Unknown parameters may repeat: nobody acts on them. */
	assert_int_equal(sip_digest_parse(&d, STR("Digest x=1, x=2"), &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_other_schemes),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_duplicates),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
