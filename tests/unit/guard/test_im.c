/*
 * test_im.c - IM content security: URL extraction and host matching,
 * keyword search, the content decisions (types at every depth, files,
 * size, CPIM, multipart, encodings, text rules) as a table, rates on a
 * fake clock, the regular expression work limit, configuration errors,
 * allocation failures, and the guard's event for a refusal (rule and
 * list index, never the text).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "test.h"
#include "core/buf.h"
#include "events/events.h"
#include "guard/guard.h"
#include "guard/im.h"

static struct sip_msg msg;
static char msgbuf[16384];

/* A MESSAGE from user@example.com with Content-Type ct ("" none), extra
 * header lines and body. */
static const struct sip_msg *message(const char *from, const char *ct,
				     const char *extra, const char *body)
{
	struct sip_perr e;
	int n;

	n = snprintf(msgbuf, sizeof(msgbuf),
		     "MESSAGE sip:bob@example.com SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK.1\r\n"
		     "From: <sip:%s@example.com>;tag=f1\r\n"
		     "To: <sip:bob@example.com>\r\n"
		     "Call-ID: c1@192.0.2.10\r\n"
		     "CSeq: 1 MESSAGE\r\n"
		     "Max-Forwards: 70\r\n"
		     "%s%s%s%s"
		     "Content-Length: %zu\r\n\r\n%s",
		     from, *ct ? "Content-Type: " : "", ct, *ct ? "\r\n" : "",
		     extra, strlen(body), body);
	assert_true(n > 0 && (size_t)n < sizeof(msgbuf));
	if (sip_msg_parse(&msg, msgbuf, (size_t)n, NULL, SIP_PARSE_DGRAM, &e))
		fail_msg("parse: %s at %u\n%s", e.reason, e.off, msgbuf);
	return &msg;
}

static struct guard_src src_of(const char *ip)
{
	struct sg_addr a;
	struct guard_src s;

	assert_int_equal(sg_addr_from_host(&a, str_cstr(ip), 5060), 0);
	guard_src_from_addr(&s, &a);
	return s;
}

static struct im *make(void (*tweak)(struct im_conf *))
{
	struct im_conf c;
	struct im *im = NULL;
	char err[256];

	im_conf_default(&c);
	c.domains[0] = "evil.example";
	c.domains[1] = "203.0.113.5";
	c.domains[2] = "Phish.Example.";
	c.ndomains = 3;
	c.keywords[0] = "Buy Now";
	c.keywords[1] = "free money";
	c.nkeywords = 2;
	c.regex[0] = "(?i)bitcoin\\s+wallet";
	c.regex[1] = "\\b\\d{4}[ -]?\\d{4}[ -]?\\d{4}[ -]?\\d{4}\\b";
	c.nregex = 2;
	c.max_size = 600;
	if (tweak)
		tweak(&c);
	assert_int_equal(im_new(&im, &c, err, sizeof(err)), 0);
	return im;
}

/* ------------------------------------------------------------- URLs */

static void test_url_extract(void **state)
{
	static const struct {
		const char *text;
		const char *hosts; /* space separated */
	} t[] = {
		{"no links here", ""},
		{"see http://a.example/x and https://b.example:8443/y",
		 "a.example b.example"},
		{"HTTPS://User:pw@C.Example:1/", "C.Example"},
		{"go to www.d.example/path, now", "www.d.example"},
		{"xwww.e.example is not a link start", ""},
		{"ftp://[2001:db8::1]/f", "2001:db8::1"},
		{"http:\\\\back.example\\x", "back.example"},
		{"sip:alice@sip.example;transport=tcp", "sip.example"},
		{"mailto:bob@mail.example?subject=x", "mail.example"},
		{"sip:nohost", ""},
		{"(http://paren.example)", "paren.example"},
		{"<https://angle.example>", "angle.example"},
		{"http://", ""},
		{"://x.example", ""},
		{"a:b:c://z.example", "z.example"},
		{"http://h1.example http://h2.example",
		 "h1.example h2.example"},
		{"http://%65vil.example/", "%65vil.example"},
		{"WWW.UPPER.EXAMPLE", "WWW.UPPER.EXAMPLE"},
	};
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char got[512] = "";
		struct str text = str_cstr(t[i].text), host;
		size_t pos = 0, n = 0;

		while (im_url_next(text, &pos, &host)) {
			n += (size_t)snprintf(got + n, sizeof(got) - n,
					      "%s%.*s", n ? " " : "",
					      STR_FMT(host));
			assert_true(pos <= text.len);
		}
		assert_int_equal(pos, text.len);
		if (strcmp(got, t[i].hosts))
			fail_msg("case %u \"%s\": got \"%s\" want \"%s\"", i,
				 t[i].text, got, t[i].hosts);
	}
}

static void test_host_match(void **state)
{
	static const struct {
		const char *host, *domain;
		bool match;
	} t[] = {
		{"evil.example", "evil.example", true},
		{"EVIL.Example.", "evil.example", true},
		{"a.b.evil.example", "evil.example", true},
		{"notevil.example", "evil.example", false},
		{"evil.example.org", "evil.example", false},
		{"%65vil.example", "evil.example", true},
		{"evil%2eexample", "evil.example", true},
		{"evil\xe3\x80\x82"
		 "example",
		 "evil.example", true},
		{"evil\xef\xbc\x8e"
		 "example",
		 "evil.example", true},
		{"example", "evil.example", false},
		{"", "evil.example", false},
		{"%zz.example", "evil.example", false},
	};
	char buf[IM_HOST_MAX + 1];
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t n = im_host_norm(buf, sizeof(buf), str_cstr(t[i].host));

		if (im_host_in_domain(str_make(buf, n),
				      str_cstr(t[i].domain)) != t[i].match)
			fail_msg("case %u: %s in %s", i, t[i].host,
				 t[i].domain);
	}
	/* A host longer than any host name matches nothing. */
	{
		char big[600];

		memset(big, 'a', sizeof(big));
		assert_int_equal(im_host_norm(buf, sizeof(buf),
					      str_make(big, sizeof(big))),
				 0);
	}
}

static void test_keyword(void **state)
{
	(void)state;
	assert_true(im_text_has(STR("Hello BUY now!"), STR("buy now")));
	assert_true(im_text_has(STR("buy now"), STR("buy now")));
	assert_false(im_text_has(STR("buy no"), STR("buy now")));
	assert_false(im_text_has(STR("anything"), STR("")));
	assert_false(im_text_has(STR_NULL, STR("x")));
	assert_true(im_text_has(STR("x\xc3\xa9y"), STR("\xc3\xa9")));
}

/* -------------------------------------------------------- decisions */

#define MP_HEAD "multipart/mixed;boundary=b1"
#define CPIM_HEAD                                                      \
	"From: <im:alice@example.com>\r\nTo: <im:bob@example.com>\r\n" \
	"DateTime: 2024-01-01T00:00:00Z\r\n\r\n"

static const struct {
	const char *name, *ct, *extra, *body;
	int status;
	const char *rule;
} dec[] = {
	{"clean text", "text/plain", "", "hello bob", 0, NULL},
	{"empty body", "", "", "", 0, NULL},
	{"charset param", "text/plain; charset=UTF-8", "", "hi", 0, NULL},
	{"case of type", "TEXT/Plain", "", "hi", 0, NULL},
	{"iscomposing", "application/im-iscomposing+xml", "",
	 "<?xml version=\"1.0\"?><isComposing><state>active</state>"
	 "</isComposing>",
	 0, NULL},
	{"url denied", "text/plain", "", "look http://www.evil.example/x", 403,
	 "im-url"},
	{"url userinfo and case", "text/plain", "",
	 "HTTPS://u@EVIL.example:443/", 403, "im-url"},
	{"url subdomain www", "text/plain", "", "www.sub.evil.example", 403,
	 "im-url"},
	{"url sip uri", "text/plain", "", "call sip:bob@evil.example", 403,
	 "im-url"},
	{"url escaped host", "text/plain", "", "http://%65vil.example", 403,
	 "im-url"},
	{"url address", "text/plain", "", "http://203.0.113.5/a", 403,
	 "im-url"},
	{"url list entry with case and dot", "text/plain", "",
	 "https://login.phish.example/", 403, "im-url"},
	{"url lookalike passes", "text/plain", "", "http://notevil.example/", 0,
	 NULL},
	{"bare domain passes", "text/plain", "", "evil.example is bad", 0,
	 NULL},
	{"keyword", "text/plain", "", "BUY NOW!!!", 403, "im-keyword"},
	{"keyword 2", "text/plain", "", "get Free Money", 403, "im-keyword"},
	{"regex", "text/plain", "", "my Bitcoin   Wallet", 403, "im-regex"},
	{"regex card", "text/plain", "", "card 4111 1111 1111 1111 ok", 403,
	 "im-regex"},
	{"subject keyword", "text/plain", "Subject: buy now\r\n", "hi", 403,
	 "im-keyword"},
	{"too big", "text/plain", "",
	 "0123456789012345678901234567890123456789012345678901234567890123"
	 "0123456789012345678901234567890123456789012345678901234567890123"
	 "0123456789012345678901234567890123456789012345678901234567890123"
	 "0123456789012345678901234567890123456789012345678901234567890123"
	 "0123456789012345678901234567890123456789012345678901234567890123"
	 "0123456789012345678901234567890123456789012345678901234567890123"
	 "0123456789012345678901234567890123456789012345678901234567890123"
	 "0123456789012345678901234567890123456789012345678901234567890123"
	 "0123456789012345678901234567890123456789012345678901234567890123"
	 "0123456789012345678901234567890123456789012345678901234567890123",
	 413, "im-size"},
	{"html not allowed", "text/html", "", "<b>hi</b>", 415, "im-type"},
	{"no content type", "", "", "hello", 415, "im-type"},
	{"octet-stream", "application/octet-stream", "", "MZ\x01", 415,
	 "im-file"},
	{"msdownload", "application/x-msdownload", "", "MZ", 415, "im-file"},
	{"x-pie-executable", "application/x-pie-executable", "", "x", 415,
	 "im-file"},
	{"external body",
	 "message/external-body; access-type=URL;"
	 "URL=\"http://x\"",
	 "", "x", 415, "im-file"},
	{"gzip", "text/plain", "Content-Encoding: gzip\r\n", "xx", 415,
	 "im-type"},
	{"second encoding", "text/plain",
	 "Content-Encoding: identity\r\nContent-Encoding: gzip\r\n", "xx", 415,
	 "im-type"},
	{"identity encoding", "text/plain", "Content-Encoding: identity\r\n",
	 "xx", 0, NULL},
	{"attachment", "text/plain",
	 "Content-Disposition: attachment; filename=a.txt\r\n", "xx", 415,
	 "im-file"},
	{"multipart clean", MP_HEAD, "",
	 "--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
	 "--b1\r\n\r\nno type is text/plain\r\n--b1--\r\n",
	 0, NULL},
	{"multipart with exe", MP_HEAD, "",
	 "--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
	 "--b1\r\nContent-Type: application/octet-stream\r\n\r\nMZ\r\n"
	 "--b1--\r\n",
	 415, "im-file"},
	{"multipart attachment part", MP_HEAD, "",
	 "--b1\r\nContent-Type: text/plain\r\n"
	 "Content-Disposition: attachment\r\n\r\nhello\r\n--b1--\r\n",
	 415, "im-file"},
	{"multipart base64 part", MP_HEAD, "",
	 "--b1\r\nContent-Type: text/plain\r\n"
	 "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b1--\r\n",
	 415, "im-type"},
	/* Folded part headers (RFC 5322 2.2.3) are read whole: a filter
	 * reading line by line saw an empty value and let these through. */
	{"multipart folded attachment", MP_HEAD, "",
	 "--b1\r\nContent-Type: text/plain\r\n"
	 "Content-Disposition:\r\n attachment\r\n\r\nhello\r\n--b1--\r\n",
	 415, "im-file"},
	{"multipart folded base64", MP_HEAD, "",
	 "--b1\r\nContent-Type: text/plain\r\n"
	 "Content-Transfer-Encoding:\r\n\tbase64\r\n\r\naGVsbG8=\r\n"
	 "--b1--\r\n",
	 415, "im-type"},
	{"multipart keyword in 2nd part", MP_HEAD, "",
	 "--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
	 "--b1\r\nContent-Type: text/plain\r\n\r\nbuy now\r\n--b1--\r\n",
	 403, "im-keyword"},
	{"multipart two content types", MP_HEAD, "",
	 "--b1\r\nContent-Type: text/plain\r\n"
	 "c: application/octet-stream\r\n\r\nMZ\r\n--b1--\r\n",
	 400, "im-malformed"},
	{"multipart second encoding", MP_HEAD, "",
	 "--b1\r\nContent-Type: text/plain\r\n"
	 "Content-Transfer-Encoding: 8bit\r\n"
	 "content-transfer-encoding: base64\r\n\r\naGk=\r\n--b1--\r\n",
	 415, "im-type"},
	{"multipart bare cr in headers", MP_HEAD, "",
	 "--b1\r\nContent-Type: text/plain\rX: y\r\n\r\nhi\r\n--b1--\r\n", 400,
	 "im-malformed"},
	{"cpim two content types", "message/cpim", "",
	 CPIM_HEAD "Content-Type: text/plain\r\n"
		   "Content-Type: application/x-msdownload\r\n\r\nMZ",
	 400, "im-malformed"},
	{"multipart html part", MP_HEAD, "",
	 "--b1\r\nContent-Type: text/html\r\n\r\nhello\r\n--b1--\r\n", 415,
	 "im-type"},
	{"multipart unterminated", MP_HEAD, "",
	 "--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n", 400,
	 "im-malformed"},
	{"multipart without boundary", "multipart/mixed", "", "x", 400,
	 "im-malformed"},
	{"multipart not allowed", "multipart/related;boundary=b1", "",
	 "--b1\r\n\r\nx\r\n--b1--\r\n", 415, "im-type"},
	{"cpim clean", "message/cpim", "",
	 CPIM_HEAD "Content-Type: text/plain\r\n\r\nhello", 0, NULL},
	{"cpim url", "message/cpim", "",
	 CPIM_HEAD "Content-Type: text/plain\r\n\r\nhttp://evil.example", 403,
	 "im-url"},
	{"cpim exe", "message/cpim", "",
	 CPIM_HEAD "Content-Type: application/x-msdownload\r\n\r\nMZ", 415,
	 "im-file"},
	{"cpim html", "message/cpim", "",
	 CPIM_HEAD "Content-Type: text/html\r\n\r\n<b>x</b>", 415, "im-type"},
	{"cpim base64", "message/cpim", "",
	 CPIM_HEAD "Content-Type: text/plain\r\n"
		   "Content-Transfer-Encoding: base64\r\n\r\naGk=",
	 415, "im-type"},
	{"cpim lf only", "message/cpim", "",
	 "From: <im:a@x>\n\nContent-Type: text/plain\n\nbuy now", 403,
	 "im-keyword"},
	{"cpim no split", "message/cpim", "", "From: x\r\nhello", 400,
	 "im-malformed"},
	{"cpim no inner type", "message/cpim", "",
	 CPIM_HEAD "Content-ID: x\r\n\r\nhello", 415, "im-type"},
	{"cpim nested too deep", "message/cpim", "",
	 "\r\nContent-Type: message/cpim\r\n\r\n"
	 "\r\nContent-Type: message/cpim\r\n\r\n"
	 "\r\nContent-Type: message/cpim\r\n\r\n"
	 "\r\nContent-Type: message/cpim\r\n\r\n"
	 "\r\nContent-Type: text/plain\r\n\r\nx",
	 400, "im-malformed"},
};

static void test_decisions(void **state)
{
	struct im *im = make(NULL);
	struct guard_verdict v;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(dec) / sizeof(dec[0]); i++) {
		im_check_content(
			im,
			message("alice", dec[i].ct, dec[i].extra, dec[i].body),
			&v);
		if (v.status != dec[i].status ||
		    (dec[i].rule ? !v.rule || strcmp(v.rule, dec[i].rule)
				 : v.rule != NULL))
			fail_msg("case \"%s\": got %d %s, want %d %s",
				 dec[i].name, v.status, v.rule ? v.rule : "-",
				 dec[i].status,
				 dec[i].rule ? dec[i].rule : "-");
		assert_int_equal(v.action,
				 dec[i].status ? GUARD_REPLY : GUARD_PASS);
		/* 415 says what is accepted (RFC 3261 21.4.13). */
		if (v.status == 415 && strcmp(v.rule, "im-type") == 0)
			assert_true(
				str_casestarts(str_make(v.extra, v.extra_len),
					       STR("Accept: text/plain, ")));
		/* The reason of the event never quotes the text. */
		if (v.why)
			assert_null(strstr(v.why, "evil"));
	}
	im_free(im);
}

static void allow_html(struct im_conf *c)
{
	c->types[0] = "text/*";
	c->ntypes = 1;
	c->block_files = false;
	c->max_size = 0;
}

static void test_types_config(void **state)
{
	struct im *im = make(allow_html);
	struct guard_verdict v;

	(void)state;
	im_check_content(im, message("a", "text/html", "", "<b>x</b>"), &v);
	assert_int_equal(v.action, GUARD_PASS);
	im_check_content(im, message("a", "message/cpim", "", "x"), &v);
	assert_string_equal(v.rule, "im-type");
	assert_str_equal_cstr(str_make(v.extra, v.extra_len),
			      "Accept: text/*\r\n");
	/* block_files off: the type list alone decides. */
	im_check_content(im, message("a", "application/octet-stream", "", "x"),
			 &v);
	assert_string_equal(v.rule, "im-type");
	im_free(im);
}

/* ---------------------------------------------------------------- rates */

static void small_rates(struct im_conf *c)
{
	c->src_max = 3;
	c->user_max = 5;
	c->window_ms = 1000;
}

static void test_rates(void **state)
{
	struct im *im = make(small_rates);
	struct guard_src a = src_of("192.0.2.1"), b = src_of("192.0.2.2");
	struct guard_verdict v;
	uint64_t now = 100000;
	unsigned i;

	(void)state;
	for (i = 0; i < 3; i++) {
		im_check(im, message("alice", "text/plain", "", "x"), &a, now,
			 &v);
		assert_int_equal(v.action, GUARD_PASS);
	}
	im_check(im, message("alice", "text/plain", "", "x"), &a, now, &v);
	assert_string_equal(v.rule, "im-rate-source");
	assert_int_equal(v.status, 403);
	/* Another source for the same sender: the per-user count (now 4)
	 * passes once more, then stops it. */
	im_check(im, message("alice", "text/plain", "", "x"), &b, now, &v);
	assert_int_equal(v.action, GUARD_PASS);
	im_check(im, message("alice", "text/plain", "", "x"), &b, now, &v);
	assert_string_equal(v.rule, "im-rate-user");
	/* Another sender from b is not limited by alice's count. */
	im_check(im, message("carol", "text/plain", "", "x"), &b, now, &v);
	assert_int_equal(v.action, GUARD_PASS);
	/* Two windows later all is forgotten. */
	im_check(im, message("alice", "text/plain", "", "x"), &a, now + 2000,
		 &v);
	assert_int_equal(v.action, GUARD_PASS);
	/* Rates come before content: a refused message still counts. */
	for (i = 0; i < 4; i++)
		im_check(im, message("dave", "text/html", "", "x"), &b,
			 now + 5000, &v);
	assert_string_equal(v.rule, "im-rate-source");
	im_free(im);
}

static void test_table_eviction(void **state)
{
	struct im_conf c;
	struct im *im = NULL;
	struct guard_verdict v;
	char ip[32];
	unsigned i;

	(void)state;
	im_conf_default(&c);
	c.table_size = 16;
	c.src_max = 1000;
	c.user_max = 0;
	assert_int_equal(im_new(&im, &c, NULL, 0), 0);
	/* Far more sources than slots: fixed memory, no failure. */
	for (i = 0; i < 5000; i++) {
		struct guard_src s;

		snprintf(ip, sizeof(ip), "10.%u.%u.%u", i >> 16 & 255,
			 i >> 8 & 255, i & 255);
		s = src_of(ip);
		im_check(im, message("a", "text/plain", "", "x"), &s, 1000 + i,
			 &v);
		assert_int_equal(v.action, GUARD_PASS);
	}
	im_free(im);
}

/* ------------------------------------------------------------- regex */

static void redos(struct im_conf *c)
{
	c->regex[0] = "^(a+)+$";
	c->nregex = 1;
}

static void test_regex_limit(void **state)
{
	struct im *im = make(redos);
	struct guard_verdict v;
	char body[200];

	(void)state;
	memset(body, 'a', sizeof(body) - 2);
	body[sizeof(body) - 2] = '!';
	body[sizeof(body) - 1] = '\0';
	im_check_content(im, message("a", "text/plain", "", body), &v);
	/* Catastrophic backtracking hits the limit: refused, and said so. */
	assert_string_equal(v.rule, "im-regex");
	assert_non_null(strstr(v.why, "limit"));
	/* Invalid UTF-8 in the text is matched, not an error. */
	im_check_content(im, message("a", "text/plain", "", "\xff\xfe"), &v);
	assert_int_equal(v.action, GUARD_PASS);
	im_free(im);
}

static void bad_regex(struct im_conf *c)
{
	c->regex[0] = "ok";
	c->regex[1] = "(unclosed";
	c->nregex = 2;
}

static void test_bad_regex(void **state)
{
	struct im_conf c;
	struct im *im = NULL;
	char err[256] = "";

	(void)state;
	im_conf_default(&c);
	bad_regex(&c);
	assert_int_equal(im_new(&im, &c, err, sizeof(err)), -EINVAL);
	assert_null(im);
	assert_non_null(strstr(err, "deny_regex[1]"));
}

static void test_oom(void **state)
{
	struct im_conf c;
	struct im *im;
	size_t n;
	int rc;

	(void)state;
	im_conf_default(&c);
	c.keywords[0] = "x";
	c.nkeywords = 1;
	for (n = 1; n < 10; n++) {
		im = NULL;
		mem_fail_nth(n);
		rc = im_new(&im, &c, NULL, 0);
		mem_fail_nth(0);
		if (rc == 0) {
			im_free(im);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_null(im);
	}
	assert_true(n < 10);
}

/* ------------------------------------------------- through the guard */

static char evbuf[8192];
static size_t evlen;

static void capture(void *arg, const char *line, size_t len)
{
	(void)arg;
	if (evlen + len < sizeof(evbuf)) {
		memcpy(evbuf + evlen, line, len);
		evlen += len;
		evbuf[evlen] = '\0';
	}
}

static struct guard *guard_make2(struct evlog **evp, bool monitor, bool both)
{
	struct evlog_conf ec = {.write = capture};
	struct guard_conf gc;
	struct guard *g = NULL;
	char err[256];

	evlen = 0;
	evbuf[0] = '\0';
	assert_int_equal(evlog_open(evp, NULL, &ec), 0);
	guard_conf_default(&gc);
	gc.nzones = 2;
	gc.zone_name[0] = "internet";
	gc.zone_name[1] = "pbx";
	gc.zone_trusted[1] = true;
	gc.im.domains[0] = "evil.example";
	gc.im.ndomains = 1;
	if (monitor) {
		gc.monitor_rules[0] = "im-url";
		gc.n_monitor_rules = 1;
	}
	if (both) {
		gc.im.dir = IM_DIR_BOTH;
		gc.im.src_max = 2;
	}
	assert_int_equal(guard_new(&g, &gc, *evp, err, sizeof(err)), 0);
	return g;
}

static struct guard *guard_make(struct evlog **evp, bool monitor)
{
	return guard_make2(evp, monitor, false);
}

static struct sip_peer peer(const char *ip, uint16_t zone)
{
	struct sip_peer p;

	memset(&p, 0, sizeof(p));
	assert_int_equal(sg_addr_from_host(&p.addr, str_cstr(ip), 5060), 0);
	p.zone = zone;
	return p;
}

static void test_guard_event(void **state)
{
	struct evlog *ev;
	struct guard *g = guard_make(&ev, false);
	struct sip_peer from = peer("198.51.100.7", 0);
	struct sip_peer pbx = peer("10.0.0.1", 1);
	struct guard_verdict v;
	struct guard_req rq;
	struct rule_info ri;

	(void)state;
	guard_request(g,
		      message("alice", "text/plain", "",
			      "secret http://evil.example/x"),
		      &from, false, 1000, 1000, &rq, &v);
	assert_int_equal(v.action, GUARD_REPLY);
	assert_int_equal(v.status, 403);
	assert_non_null(strstr(evbuf, "\"event\":\"im-blocked\""));
	assert_non_null(strstr(evbuf, "\"rule\":\"im-url\""));
	assert_non_null(strstr(evbuf, "deny_domains[0]"));
	assert_null(strstr(evbuf, "secret"));
	assert_null(strstr(evbuf, "evil"));
	assert_int_equal(rules_get(guard_rules(g),
				   rules_find(guard_rules(g), STR("im-url")),
				   &ri),
			 0);
	assert_int_equal(ri.hits, 1);
	/* Default direction: the trusted zone's MESSAGEs are not checked. */
	guard_request(g,
		      message("bob", "text/plain", "", "http://evil.example/x"),
		      &pbx, false, 1000, 1000, &rq, &v);
	assert_int_equal(v.action, GUARD_PASS);
	guard_free(g);
	evlog_close(ev);
}

static void test_guard_monitor(void **state)
{
	struct evlog *ev;
	struct guard *g = guard_make(&ev, true);
	struct sip_peer from = peer("198.51.100.7", 0);
	struct guard_verdict v;
	struct guard_req rq;

	(void)state;
	guard_request(
		g, message("alice", "text/plain", "", "http://evil.example/x"),
		&from, false, 1000, 1000, &rq, &v);
	assert_int_equal(v.action, GUARD_PASS);
	assert_non_null(strstr(evbuf, "\"type\":\"would-refuse\""));
	/* Other rules are not monitored. */
	guard_request(g, message("alice", "application/octet-stream", "", "MZ"),
		      &from, false, 1000, 1000, &rq, &v);
	assert_int_equal(v.status, 415);
	guard_free(g);
	evlog_close(ev);
}

/* direction both: the trusted zone's MESSAGEs are inspected too, but
 * the PBX is one source for all its users: no per-source rate. */
static void test_guard_both(void **state)
{
	struct evlog *ev;
	struct guard *g = guard_make2(&ev, false, true);
	struct sip_peer pbx = peer("10.0.0.1", 1);
	struct sip_peer from = peer("198.51.100.7", 0);
	struct guard_verdict v;
	struct guard_req rq;
	unsigned i;

	(void)state;
	for (i = 0; i < 5; i++) {
		guard_request(g,
			      message(i & 1 ? "bob" : "carol", "text/plain", "",
				      "hi"),
			      &pbx, false, 1000, 1000, &rq, &v);
		assert_int_equal(v.action, GUARD_PASS);
	}
	guard_request(g,
		      message("bob", "text/plain", "", "http://evil.example/"),
		      &pbx, false, 1000, 1000, &rq, &v);
	assert_int_equal(v.status, 403);
	/* Untrusted sources keep their per-source rate. */
	for (i = 0; i < 3; i++)
		guard_request(g,
			      message(i ? "u2" : "u1", "text/plain", "", "hi"),
			      &from, false, 1000, 1000, &rq, &v);
	assert_string_equal(v.rule, "im-rate-source");
	guard_free(g);
	evlog_close(ev);
}

/* guard.im.zones names the zones explicitly; unknown names refused. */
static void test_guard_zones(void **state)
{
	struct guard_conf gc;
	struct guard *g = NULL;
	struct sip_peer pbx = peer("10.0.0.1", 1);
	struct sip_peer from = peer("198.51.100.7", 0);
	struct guard_verdict v;
	struct guard_req rq;
	char err[256] = "";

	(void)state;
	guard_conf_default(&gc);
	gc.nzones = 2;
	gc.zone_name[0] = "internet";
	gc.zone_name[1] = "pbx";
	gc.zone_trusted[1] = true;
	gc.im_zones[0] = "pbx";
	gc.n_im_zones = 1;
	gc.im.domains[0] = "evil.example";
	gc.im.ndomains = 1;
	assert_int_equal(guard_new(&g, &gc, NULL, err, sizeof(err)), 0);
	guard_request(g, message("a", "text/plain", "", "http://evil.example"),
		      &pbx, false, 1000, 1000, &rq, &v);
	assert_int_equal(v.status, 403);
	guard_request(g, message("a", "text/plain", "", "http://evil.example"),
		      &from, false, 1000, 1000, &rq, &v);
	assert_int_equal(v.action, GUARD_PASS);
	guard_free(g);
	g = NULL;
	gc.presence_zones[0] = "nowhere";
	gc.n_presence_zones = 1;
	assert_int_equal(guard_new(&g, &gc, NULL, err, sizeof(err)), -EINVAL);
	assert_null(g);
	assert_non_null(strstr(err, "guard.presence.zones: unknown zone "
				    "'nowhere'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_extract),
		cmocka_unit_test(test_host_match),
		cmocka_unit_test(test_keyword),
		cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_types_config),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_table_eviction),
		cmocka_unit_test(test_regex_limit),
		cmocka_unit_test(test_bad_regex),
		cmocka_unit_test(test_oom),
		cmocka_unit_test(test_guard_event),
		cmocka_unit_test(test_guard_monitor),
		cmocka_unit_test(test_guard_both),
		cmocka_unit_test(test_guard_zones),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
