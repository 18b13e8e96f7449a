/*
 * test_params.c - sip_params_parse / sip_params_find (RFC 3261 25.1
 * generic-param with SEMI/EQUAL white space).
 */
#include <errno.h>
#include <stdio.h>

#include "test.h"
#include "sip/sip.h"

struct pcase {
	const char *in;
	int n;            /* -1: syntax error */
	const char *dump; /* "name=value|name|..." */
};

static const struct pcase pcases[] = {
	{"", 0, ""},
	{"   ", 0, ""},
	{";a=b;c", 2, "a=b|c"},
	{"a=b;c", 2, "a=b|c"},
	{" ; a = b ;\r\n c ", 2, "a=b|c"},
	{";lr;transport=tcp;maddr=[::1]", 3, "lr|transport=tcp|maddr=[::1]"},
	{";received=2001:db8::9:255", 1, "received=2001:db8::9:255"},
	{";x=\"quoted ; value\"", 1, "x=\"quoted ; value\""},
	{";x=\"esc \\\" q\";y", 2, "x=\"esc \\\" q\"|y"},
	{";%41=%42", 1, "%41=%42"},
	{";a=b;a=c", 2, "a=b|a=c"},
	{";", -1, NULL},
	{";;a", -1, NULL},
	{"a;", -1, NULL},
	{";a=", -1, NULL},
	{";=b", -1, NULL},
	{";a b", -1, NULL},
	{";a=b c", -1, NULL},
	{";a=\"b", -1, NULL},
	{";a=\"b\"c", -1, NULL},
	{";a,b", -1, NULL},
	{";a=<b>", -1, NULL},
	{";a=\x01", -1, NULL},
	{";a=\xc3\xa9", -1, NULL},
};

static void dump(char *out, size_t sz, const struct sip_params *pp)
{
	size_t off = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; i < pp->n && off < sz; i++) {
		const struct sip_param *p = &pp->p[i];

		off += (size_t)snprintf(out + off, sz - off, "%s%.*s%s%.*s",
					i ? "|" : "", STR_FMT(p->name),
					p->has_value ? "=" : "",
					STR_FMT(p->value));
	}
}

static void test_table(void **state)
{
	char buf[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
		const struct pcase *c = &pcases[i];
		struct sip_params ps;
		struct sip_perr e = {0};
		int rc = sip_params_parse(&ps, str_cstr(c->in), &e);

		if (c->n < 0) {
			if (rc == 0)
				fail_msg("accepted \"%s\"", c->in);
			assert_int_equal(e.code, SIP_PE_SYNTAX);
			continue;
		}
		if (rc)
			fail_msg("rejected \"%s\": %s", c->in, e.reason);
		assert_int_equal(ps.n, c->n);
		dump(buf, sizeof(buf), &ps);
		assert_string_equal(buf, c->dump);
	}
}

static void test_find_and_limit(void **state)
{
	struct sip_params ps;
	struct sip_perr e;
	char big[SIP_MAX_PARAMS * 4 + 8];
	size_t off = 0;
	unsigned i;

	(void)state;
	assert_int_equal(sip_params_parse(&ps, STR(";Tag=1;lr;q=0.5"), &e), 0);
	assert_non_null(sip_params_find(&ps, "tag"));
	assert_str_equal_cstr(sip_params_find(&ps, "TAG")->value, "1");
	assert_false(sip_params_find(&ps, "LR")->has_value);
	assert_null(sip_params_find(&ps, "ta"));
	assert_null(sip_params_find(&ps, "tags"));
	assert_null(sip_params_find(&ps, ""));
	assert_null(sip_params_find(NULL, "tag"));
	assert_null(sip_params_find(&ps, NULL));
	for (i = 0; i < SIP_MAX_PARAMS; i++)
		off += (size_t)snprintf(big + off, sizeof(big) - off, ";p%c",
					'a' + (char)(i % 26));
	assert_int_equal(sip_params_parse(&ps, str_make(big, off), &e), 0);
	assert_int_equal(ps.n, SIP_MAX_PARAMS);
	off += (size_t)snprintf(big + off, sizeof(big) - off, ";z");
	assert_int_equal(sip_params_parse(&ps, str_make(big, off), &e),
			 -EINVAL);
	assert_int_equal(e.code, SIP_PE_LIMIT);
	assert_int_equal(sip_params_parse(NULL, STR(""), &e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_find_and_limit),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
