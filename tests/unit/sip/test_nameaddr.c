/*
 * test_nameaddr.c - sip_nameaddr_parse: RFC 3261 20.10/20.20/25.1 and the
 * RFC 4475 header values (wsinv, esc01, esc02, lwsdisp, quotbal, longreq,
 * badaspec, baddn, regbadct, unkscm, scalar02), RFC 5118 4.9/4.10.
 */
#include <errno.h>
#include <stdio.h>

#include "test.h"
#include "sip/sip.h"

#define NOTAG NULL

struct ncase {
	const char *in;
	int err;
	const char *display, *uri;
	bool angle;
	const char *tag, *params;
	int q1000;
};

#define OK(in, disp, uri, angle, tag, params, q)        \
	{                                               \
		in, 0, disp, uri, angle, tag, params, q \
	}
#define BAD(in)                                                 \
	{                                                       \
		in, SIP_PE_SYNTAX, NULL, NULL, 0, NULL, NULL, 0 \
	}

static const struct ncase ncases[] = {
	OK("\"Bob\" <sip:bob@biloxi.com>;tag=a6c85cf", "Bob",
	   "sip:bob@biloxi.com", true, "a6c85cf", "tag=a6c85cf", 1000),
	OK("<sip:bob@biloxi.com>", "", "sip:bob@biloxi.com", true, NOTAG, "",
	   1000),
	OK("sip:bob@biloxi.com", "", "sip:bob@biloxi.com", false, NOTAG, "",
	   1000),
	OK("Bob Smith <sip:bob@biloxi.com>", "Bob Smith", "sip:bob@biloxi.com",
	   true, NOTAG, "", 1000),
	OK("Bob\t Smith\r\n <sip:bob@biloxi.com>", "Bob\t Smith",
	   "sip:bob@biloxi.com", true, NOTAG, "", 1000),
	OK("\"\" <sip:a@b.com>", "", "sip:a@b.com", true, NOTAG, "", 1000),
	OK("\"x\"<sip:a@b.com>", "x", "sip:a@b.com", true, NOTAG, "", 1000),
	OK("\"caf\xc3\xa9\" <sip:a@b.com>", "caf\xc3\xa9", "sip:a@b.com", true,
	   NOTAG, "", 1000),
	/* 20.10: a bare URI's ';' params belong to the header */
	OK("sip:a@b.com;tag=x;transport=tcp", "", "sip:a@b.com", false, "x",
	   "tag=x;transport=tcp", 1000),
	OK("<sip:a@b.com;transport=tcp>;tag=x", "", "sip:a@b.com;transport=tcp",
	   true, "x", "tag=x", 1000),
	OK("<sip:a@b.com?Route=%3Csip:c.com%3E>", "",
	   "sip:a@b.com?Route=%3Csip:c.com%3E", true, NOTAG, "", 1000),
	OK("<sip:a@b.com>;q=0.7;expires=3600", "", "sip:a@b.com", true, NOTAG,
	   "q=0.7;expires=3600", 700),
	OK("<sip:a@b.com>;q=1", "", "sip:a@b.com", true, NOTAG, "q=1", 1000),
	OK("<sip:a@b.com>;q=1.000", "", "sip:a@b.com", true, NOTAG, "q=1.000",
	   1000),
	OK("<sip:a@b.com>;q=0", "", "sip:a@b.com", true, NOTAG, "q=0", 0),
	OK("<sip:a@b.com>;q=0.", "", "sip:a@b.com", true, NOTAG, "q=0.", 0),
	OK("<sip:a@b.com>;q=0.001", "", "sip:a@b.com", true, NOTAG, "q=0.001",
	   1),
	OK("<sip:a@b.com>;+sip.instance=\"<urn:uuid:0C67446E-F1A1>\"", "",
	   "sip:a@b.com", true, NOTAG,
	   "+sip.instance=\"<urn:uuid:0C67446E-F1A1>\"", 1000),
	/* RFC 4475 wsinv */
	OK("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n", "",
	   "sip:vivekg@chair-dnrc.example.com", false, "1918181833n",
	   "tag    = 1918181833n", 1000),
	OK("\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n"
	   "  tag = 98asjd8",
	   "J Rosenberg \\\\\\\"", "sip:jdrosen@example.com", true, "98asjd8",
	   "tag = 98asjd8", 1000),
	OK("\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n"
	   "      newvalue ;\r\n  secondparam ; q = 0.33",
	   "Quoted string \\\"\\\"", "sip:jdrosen@example.com", true, NOTAG,
	   "newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33", 330),
	/* esc01, esc02 */
	OK("<sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>",
	   "", "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",
	   true, NOTAG, "", 1000),
	OK("\"%Z%45\" <sip:resource@example.com>;tag=f232jadfj23", "%Z%45",
	   "sip:resource@example.com", true, "f232jadfj23", "tag=f232jadfj23",
	   1000),
	/* lwsdisp, quotbal, unkscm */
	OK("caller<sip:caller@example.com>;tag=323", "caller",
	   "sip:caller@example.com", true, "323", "tag=323", 1000),
	OK("\"Mr. J. User <ja@example.com>\" <sip:j.user@example.com>",
	   "Mr. J. User <ja@example.com>", "sip:j.user@example.com", true,
	   NOTAG, "", 1000),
	OK("nobodyknowsthisscheme:totallyopaquecontent", "",
	   "nobodyknowsthisscheme:totallyopaquecontent", false, NOTAG, "",
	   1000),
	OK("<tel:+1-212-555-0101>;tag=9", "", "tel:+1-212-555-0101", true, "9",
	   "tag=9", 1000),
	/* RFC 5118 4.10 */
	OK("\"Caller\" <sip:caller@[2001:db8::192.0.2.1]>;tag=xyz", "Caller",
	   "sip:caller@[2001:db8::192.0.2.1]", true, "xyz", "tag=xyz", 1000),

	BAD(""),
	BAD("   "),
	BAD("\"Watson, Thomas\" < sip:t.watson@example.org >"),
	BAD("Bell, Alexander <sip:a.g.bell@example.com>;tag=43"),
	BAD("sip:user@example.com?Route=%3Csip:sip.example.com%3E"),
	BAD("sip:a,b@example.com"),
	BAD("\"Caller\" <sip:caller@[2001:db8:::192.0.2.1]>"),
	BAD("\"unterminated <sip:a@b.com>"),
	BAD("\"bad\\\r\" <sip:a@b.com>"),
	BAD("\"ctl\x01\" <sip:a@b.com>"),
	BAD("\"x\" sip:a@b.com"),
	BAD("Bob \"x\" <sip:a@b.com>"),
	BAD("Bob <sip:a@b.com"),
	BAD("<sip:a@b.com> junk"),
	BAD("<sip:a@b.com>>"),
	BAD("<>"),
	BAD("<sip:a@b.com>;tag"),
	BAD("<sip:a@b.com>;tag="),
	BAD("<sip:a@b.com>;tag=\"x\""),
	BAD("<sip:a@b.com>;tag=1;tag=2"),
	BAD("<sip:a@b.com>;tag=1;"),
	BAD("<sip:a@b.com>;q=2"),
	BAD("<sip:a@b.com>;q=1.001"),
	BAD("<sip:a@b.com>;q=0.1234"),
	BAD("<sip:a@b.com>;q=.5"),
	BAD("<sip:a@b.com>;q=0,5"),
	BAD("<sip:a@b.com>;q=0.5;q=0.5"),
	BAD("<sip:a@b.com>;expires=-1"),
	BAD("<sip:a@b.com>;expires=1;expires=2"),
	BAD("sip:a@b.com junk"),
	BAD("* junk"),
	BAD("**"),
	BAD("<sip:a@b.com>;p=a\"b"),
	BAD("<sip:a@b.com>;p=\"abc"),
};

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ncases) / sizeof(ncases[0]); i++) {
		const struct ncase *c = &ncases[i];
		struct sip_nameaddr na;
		struct sip_perr e = {0};
		int rc = sip_nameaddr_parse(&na, str_cstr(c->in), 0, &e);

		if (c->err) {
			if (rc == 0)
				fail_msg("accepted bad \"%s\"", c->in);
			assert_int_equal(e.code, c->err);
			assert_true(e.off <= strlen(c->in));
			continue;
		}
		if (rc)
			fail_msg("rejected \"%s\": %s at %u", c->in, e.reason,
				 e.off);
		assert_false(na.star);
		assert_str_equal_cstr(na.display, c->display);
		assert_str_equal_cstr(na.uri.raw, c->uri);
		assert_int_equal(na.angle, c->angle);
		assert_str_equal_cstr(na.tag, c->tag ? c->tag : "");
		assert_int_equal(na.tag.p != NULL, c->tag != NOTAG);
		assert_str_equal_cstr(na.params, c->params);
		assert_int_equal(na.q1000, c->q1000);
	}
}

static void test_contact(void **state)
{
	struct sip_nameaddr na;
	struct sip_perr e;

	(void)state;
	assert_int_equal(sip_nameaddr_parse(&na, STR("*"), 0, &e), 0);
	assert_true(na.star);
	assert_int_equal(sip_nameaddr_parse(&na, STR(" * "), 0, &e), 0);
	assert_true(na.star);
	assert_int_equal(
		sip_nameaddr_parse(&na, STR("<sip:a@b>;expires=60"), 0, &e), 0);
	assert_true(na.has_expires);
	assert_int_equal(na.expires, 60);
	assert_int_equal(sip_nameaddr_parse(&na, STR("<sip:a@b>"), 0, &e), 0);
	assert_false(na.has_expires);
	/* RFC 4475 scalar02: an absurd expiry saturates. */
	assert_int_equal(sip_nameaddr_parse(&na,
					    STR("<sip:user@host129.example.com>"
						";expires=280297596632815"),
					    0, &e),
			 0);
	assert_int_equal(na.expires, UINT32_MAX);
	assert_int_equal(
		sip_nameaddr_parse(&na, STR("sip:a@b;EXPIRES=0;Q=0.5"), 0, &e),
		0);
	assert_int_equal(na.expires, 0);
	assert_int_equal(na.q1000, 500);
}

static void test_errors(void **state)
{
	struct sip_nameaddr na;
	struct sip_perr e;
	char big[200];

	(void)state;
	/* URI errors are reported at their offset in the whole value. */
	assert_int_equal(
		sip_nameaddr_parse(&na, STR("Bob <sip:a@b :5>"), 0, &e),
		-EINVAL);
	assert_int_equal(e.off, 12);
	assert_int_equal(sip_nameaddr_parse(&na,
					    STR("x <sip:a@b.com>;tag=1;"
						"tag=2"),
					    0, &e),
			 -EINVAL);
	assert_int_equal(e.off, 22);
	snprintf(big, sizeof(big), "<sip:%0150d@b.com>", 0);
	assert_int_equal(sip_nameaddr_parse(&na, str_cstr(big), 100, &e),
			 -EINVAL);
	assert_int_equal(e.code, SIP_PE_LIMIT);
	assert_int_equal(sip_nameaddr_parse(&na, str_cstr(big), 200, &e), 0);
	assert_int_equal(sip_nameaddr_parse(NULL, STR("x"), 0, &e), -EINVAL);
	/* Slice cut before the '>' must not find the one after it. */
	assert_int_equal(
		sip_nameaddr_parse(&na, str_make("<sip:a@b>", 8), 0, &e),
		-EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_contact),
		cmocka_unit_test(test_errors),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
