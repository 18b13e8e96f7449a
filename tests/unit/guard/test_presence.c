/*
 * test_presence.c - presence privacy: the event package policy table,
 * harvesting on a fake clock, the PIDF scrubber on real documents and
 * on hostile XML (entities, DOCTYPE, crossed tags, prefixes, depth,
 * bytes), the choice of scrub/strip/keep for a NOTIFY, and the guard's
 * scrub hook writing the new body and Content-Length.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "test.h"
#include "core/buf.h"
#include "events/events.h"
#include "guard/guard.h"
#include "guard/presence.h"

static struct sip_msg msg;
static char msgbuf[16384];

static const struct sip_msg *request(const char *method, const char *from,
				     const char *to, const char *to_tag,
				     const char *event, const char *ct,
				     const char *extra, const char *body)
{
	struct sip_perr e;
	int n;

	n = snprintf(msgbuf, sizeof(msgbuf),
		     "%s sip:%s@example.com SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK.1\r\n"
		     "From: <sip:%s@example.com>;tag=f1\r\n"
		     "To: <sip:%s@example.com>%s%s\r\n"
		     "Call-ID: c1@192.0.2.10\r\n"
		     "CSeq: 1 %s\r\n"
		     "Max-Forwards: 70\r\n"
		     "%s%s%s"
		     "%s%s%s%s"
		     "Content-Length: %zu\r\n\r\n%s",
		     method, to, from, to, *to_tag ? ";tag=" : "", to_tag,
		     method, *event ? "Event: " : "", event,
		     *event ? "\r\n" : "", *ct ? "Content-Type: " : "", ct,
		     *ct ? "\r\n" : "", extra, strlen(body), body);
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

/* ------------------------------------------------------------- policy */

static const struct {
	const char *method, *from, *to, *to_tag, *event, *rule;
} pol[] = {
	{"SUBSCRIBE", "alice", "bob", "", "presence", "presence-subscribe"},
	{"SUBSCRIBE", "alice", "bob", "", "dialog", "presence-subscribe"},
	{"SUBSCRIBE", "alice", "bob", "", "Presence;id=1",
	 "presence-subscribe"},
	{"SUBSCRIBE", "alice", "bob", "", "", "presence-subscribe"},
	{"SUBSCRIBE", "alice", "bob", "t1", "presence", "presence-subscribe"},
	{"SUBSCRIBE", "alice", "alice", "", "message-summary", NULL},
	{"SUBSCRIBE", "alice", "bob", "", "message-summary",
	 "presence-subscribe"},
	{"SUBSCRIBE", "alice", "alice", "", "reg", NULL},
	{"SUBSCRIBE", "alice", "alice", "", "presence.winfo", NULL},
	{"SUBSCRIBE", "alice", "bob", "", "presence.winfo",
	 "presence-subscribe"},
	{"SUBSCRIBE", "alice", "bob", "", "refer", NULL},
	{"SUBSCRIBE", "alice", "bob", "", "Conference", NULL},
	{"PUBLISH", "alice", "alice", "", "presence", NULL},
	{"PUBLISH", "alice", "bob", "", "presence", "presence-publish"},
	{"PUBLISH", "alice", "alice", "", "dialog", "presence-publish"},
	{"NOTIFY", "alice", "bob", "t1", "refer", NULL},
	{"NOTIFY", "alice", "bob", "t1", "dialog", NULL},
	{"NOTIFY", "alice", "bob", "", "refer", "presence-notify"},
	{"NOTIFY", "alice", "bob", "t1", "x-custom", "presence-notify"},
	{"NOTIFY", "alice", "bob", "t1", "", "presence-notify"},
	{"INVITE", "alice", "bob", "", "", NULL},
	{"MESSAGE", "alice", "bob", "", "presence", NULL},
};

static void test_policy(void **state)
{
	struct presence_conf c;
	struct presence *ps = NULL;
	struct guard_src s = src_of("192.0.2.1");
	struct guard_verdict v;
	unsigned i;

	(void)state;
	presence_conf_default(&c);
	assert_int_equal(presence_new(&ps, &c), 0);
	for (i = 0; i < sizeof(pol) / sizeof(pol[0]); i++) {
		const struct sip_msg *m =
			request(pol[i].method, pol[i].from, pol[i].to,
				pol[i].to_tag, pol[i].event, "", "", "");

		presence_check(ps, m, &s, 1000, &v);
		if (pol[i].rule ? !v.rule || strcmp(v.rule, pol[i].rule)
				: v.action != GUARD_PASS)
			fail_msg("case %u %s %s: got %s", i, pol[i].method,
				 pol[i].event, v.rule ? v.rule : "pass");
		if (pol[i].rule)
			assert_int_equal(v.status, 403);
	}
	/* Two Event headers: ambiguous, refused. */
	presence_check(ps,
		       request("SUBSCRIBE", "a", "b", "", "refer", "",
			       "Event: presence\r\n", ""),
		       &s, 1000, &v);
	assert_string_equal(v.rule, "presence-subscribe");
	presence_free(ps);

	/* Configured lists; disabled policy. */
	presence_conf_default(&c);
	c.subscribe[0] = "presence";
	c.nsubscribe = 1;
	assert_int_equal(presence_new(&ps, &c), 0);
	presence_check(
		ps, request("SUBSCRIBE", "a", "b", "", "presence", "", "", ""),
		&s, 1000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	presence_free(ps);
	c.enabled = false;
	assert_int_equal(presence_new(&ps, &c), 0);
	presence_check(ps,
		       request("SUBSCRIBE", "a", "b", "", "dialog", "", "", ""),
		       &s, 1000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	presence_free(ps);
}

static void test_harvest(void **state)
{
	struct presence_conf c;
	struct presence *ps = NULL;
	struct guard_src a = src_of("192.0.2.1"), b = src_of("192.0.2.2");
	struct guard_verdict v;
	char user[32];
	unsigned i, refused = 0, first = 0;

	(void)state;
	presence_conf_default(&c);
	c.harvest_users = 10;
	c.harvest_window_ms = 10000;
	assert_int_equal(presence_new(&ps, &c), 0);
	/* The same user again and again is not harvesting. */
	for (i = 0; i < 50; i++) {
		presence_check(ps,
			       request("SUBSCRIBE", "a", "a", "",
				       "message-summary", "", "", ""),
			       &a, 100000, &v);
		assert_int_equal(v.action, GUARD_PASS);
	}
	for (i = 0; i < 40; i++) {
		snprintf(user, sizeof(user), "u%u", i);
		presence_check(ps,
			       request("SUBSCRIBE", "a", user, "", "refer", "",
				       "", ""),
			       &a, 100000 + i, &v);
		if (v.action != GUARD_PASS) {
			assert_string_equal(v.rule, "presence-harvest");
			if (!refused++)
				first = i;
		}
	}
	/* Estimated distinct count: refused from about the 11th user. */
	assert_true(first >= 9 && first <= 13);
	assert_true(refused >= 25);
	/* Another source is not affected. */
	presence_check(ps,
		       request("SUBSCRIBE", "b", "x", "", "refer", "", "", ""),
		       &b, 100100, &v);
	assert_int_equal(v.action, GUARD_PASS);
	/* In-dialog refreshes are not counted nor refused for it. */
	presence_check(
		ps, request("SUBSCRIBE", "a", "zz", "t9", "refer", "", "", ""),
		&a, 100100, &v);
	assert_int_equal(v.action, GUARD_PASS);
	/* An uncounted source (allow list) is never a harvester. */
	for (i = 0; i < 40; i++) {
		snprintf(user, sizeof(user), "w%u", i);
		presence_check(ps,
			       request("SUBSCRIBE", "a", user, "", "refer", "",
				       "", ""),
			       NULL, 100200, &v);
		assert_int_equal(v.action, GUARD_PASS);
	}
	/* Two windows later the source is clean. */
	presence_check(
		ps, request("SUBSCRIBE", "a", "new", "", "refer", "", "", ""),
		&a, 130000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	presence_free(ps);
}

/* ------------------------------------------------------------- PIDF */

#define PIDF_NS "xmlns=\"urn:ietf:params:xml:ns:pidf\""

static const char full_doc[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<presence " PIDF_NS "\n"
	"  xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\n"
	"  xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\"\n"
	"  xmlns:gp=\"urn:ietf:params:xml:ns:pidf:geopriv10\"\n"
	"  entity=\"sip:alice@example.com\">\n"
	"  <tuple id=\"t1\">\n"
	"    <status><basic>open</basic>"
	"<gp:geopriv><gp:location-info><civicAddress><A1>DE</A1>"
	"</civicAddress></gp:location-info></gp:geopriv></status>\n"
	"    <dm:deviceID>mac:8c2dd3f4a1b2</dm:deviceID>\n"
	"    <contact priority=\"0.8\">sip:alice@10.0.0.7:5060</contact>\n"
	"    <note xml:lang=\"en\">at the doctor &amp; back at 5</note>\n"
	"  </tuple>\n"
	"  <dm:person id=\"p1\"><rpid:activities><rpid:busy/>"
	"</rpid:activities><rpid:place-type><rpid:hospital/>"
	"</rpid:place-type></dm:person>\n"
	"  <dm:device id=\"d1\"><dm:deviceID>urn:uuid:1</dm:deviceID>"
	"</dm:device>\n"
	"  <!-- internal: pbx-3 -->\n"
	"  <note/>\n"
	"</presence>\n";

static const char full_want[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<presence " PIDF_NS "\n"
	"  xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\n"
	"  xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\"\n"
	"  xmlns:gp=\"urn:ietf:params:xml:ns:pidf:geopriv10\"\n"
	"  entity=\"sip:alice@example.com\">\n"
	"  <tuple id=\"t1\">\n"
	"    <status><basic>open</basic></status>\n"
	"    \n"
	"    \n"
	"    \n"
	"  </tuple>\n"
	"  <dm:person id=\"p1\"><rpid:activities><rpid:busy/>"
	"</rpid:activities></dm:person>\n"
	"  \n"
	"  \n"
	"  \n"
	"</presence>\n";

static void test_pidf_full(void **state)
{
	struct buf out;
	int rc;

	(void)state;
	buf_init(&out, 65536);
	rc = pidf_scrub(&out, STR(full_doc), PIDF_SCRUB_ALL);
	assert_int_equal(rc, 7);
	if (out.len != sizeof(full_want) - 1 ||
	    memcmp(out.p, full_want, out.len))
		fail_msg("got:\n%.*s", (int)out.len, out.p);
	/* Only notes: the rest stays. */
	buf_reset(&out);
	rc = pidf_scrub(&out, STR(full_doc), PIDF_SCRUB_NOTE);
	assert_int_equal(rc, 2);
	assert_non_null(memmem(out.p, out.len, "10.0.0.7", 8));
	assert_null(memmem(out.p, out.len, "doctor", 6));
	buf_free(&out);
}

static const struct {
	const char *name, *in, *want; /* want NULL: refused */
} px[] = {
	{"minimal", "<presence/>", "<presence/>"},
	{"prefixed root",
	 "<p:presence xmlns:p=\"x\"><p:note>n</p:note>"
	 "</p:presence>",
	 "<p:presence xmlns:p=\"x\"></p:presence>"},
	{"any prefix for note",
	 "<presence><x:note xmlns:x=\"u\">n</x:note>"
	 "<y:Note>m</y:Note></presence>",
	 "<presence></presence>"},
	{"bom and decl", "\xef\xbb\xbf<?xml version=\"1.0\"?><presence/>",
	 "\xef\xbb\xbf<?xml version=\"1.0\"?><presence/>"},
	{"pi removed", "<presence><?php x ?><a/></presence>",
	 "<presence><a/></presence>"},
	{"comment removed", "<!-- a --><presence><!--b--></presence>",
	 "<presence></presence>"},
	{"comment inside note",
	 "<presence><note><!-- x -->t</note>"
	 "</presence>",
	 "<presence></presence>"},
	{"cdata kept",
	 "<presence><a><![CDATA[<note>x</note>]]></a>"
	 "</presence>",
	 "<presence><a><![CDATA[<note>x</note>]]></a>"
	 "</presence>"},
	{"cdata in note",
	 "<presence><note><![CDATA[</note>]]></note>"
	 "</presence>",
	 "<presence></presence>"},
	{"entities",
	 "<presence a=\"&lt;&#65;&#x42;\">&amp;&quot;&apos;"
	 "</presence>",
	 "<presence a=\"&lt;&#65;&#x42;\">&amp;&quot;&apos;"
	 "</presence>"},
	{"single quotes", "<presence a='x\"y'/>", "<presence a='x\"y'/>"},
	{"nested note in note",
	 "<presence><note><note>a</note></note>"
	 "<b/></presence>",
	 "<presence><b/></presence>"},
	{"ws around root", "\r\n <presence/> \n", "\r\n <presence/> \n"},
	{"doctype", "<!DOCTYPE presence [<!ENTITY x \"y\">]><presence/>", NULL},
	{"entity ref", "<presence>&x;</presence>", NULL},
	{"entity in attribute", "<presence a=\"&x;\"/>", NULL},
	{"bare amp", "<presence>a & b</presence>", NULL},
	{"char ref zero", "<presence>&#0;</presence>", NULL},
	{"char ref huge", "<presence>&#x110000;</presence>", NULL},
	{"char ref surrogate", "<presence>&#xD800;</presence>", NULL},
	{"unclosed", "<presence><note>x</presence>", NULL},
	{"crossed", "<presence><a><b></a></b></presence>", NULL},
	{"stray end", "<presence></a></presence>", NULL},
	{"two roots", "<presence/><presence/>", NULL},
	{"text outside", "x<presence/>", NULL},
	{"text after", "<presence/>x", NULL},
	{"wrong root", "<foo/>", NULL},
	{"root named note", "<note>x</note>", NULL},
	{"empty", "", NULL},
	{"only decl", "<?xml version=\"1.0\"?>", NULL},
	{"late decl", " <?xml version=\"1.0\"?><presence/>", NULL},
	{"decl inside", "<presence><?xml version=\"1.0\"?></presence>", NULL},
	{"unterminated comment", "<presence><!-- x </presence>", NULL},
	{"unterminated pi", "<presence><?x </presence>", NULL},
	{"unterminated cdata", "<presence><![CDATA[x</presence>", NULL},
	{"cdata outside", "<![CDATA[x]]><presence/>", NULL},
	{"lt in attribute", "<presence a=\"<\"/>", NULL},
	{"unquoted attribute", "<presence a=b/>", NULL},
	{"attribute no ws", "<presence a=\"1\"b=\"2\"/>", NULL},
	{"attribute no value", "<presence a/>", NULL},
	{"unterminated tag", "<presence", NULL},
	{"unterminated attr", "<presence a=\"x/>", NULL},
	{"bad name", "<presence><1a/></presence>", NULL},
	{"two colons", "<presence><a:b:c/></presence>", NULL},
	{"colon first", "<presence><:a/></presence>", NULL},
	{"colon last", "<presence><a:/></presence>", NULL},
	{"nul byte", "<presence>\0</presence>", NULL},
	{"control char", "<presence>\x01</presence>", NULL},
	{"bad utf8", "<presence>\xc3</presence>", NULL},
	{"overlong utf8", "<presence>\xc0\xaf</presence>", NULL},
	{"utf8 surrogate", "<presence>\xed\xa0\x80</presence>", NULL},
	{"cdata end in text", "<presence>]]></presence>", NULL},
	{"end tag space", "<presence></presence >", "<presence></presence >"},
	{"end tag junk", "<presence></presence x>", NULL},
	{"markup decl", "<presence><!ELEMENT x ANY></presence>", NULL},
};

static void test_pidf_table(void **state)
{
	struct buf out;
	unsigned i;
	int rc;

	(void)state;
	buf_init(&out, 65536);
	for (i = 0; i < sizeof(px) / sizeof(px[0]); i++) {
		size_t n = strlen(px[i].in);

		if (strcmp(px[i].name, "nul byte") == 0)
			n = 21;
		buf_reset(&out);
		rc = pidf_scrub(&out, str_make(px[i].in, n), PIDF_SCRUB_ALL);
		if (!px[i].want) {
			if (rc != -EINVAL)
				fail_msg("case \"%s\": accepted (%d): %.*s",
					 px[i].name, rc, (int)out.len, out.p);
			continue;
		}
		if (rc < 0 || out.len != strlen(px[i].want) ||
		    memcmp(out.p, px[i].want, out.len))
			fail_msg("case \"%s\": %d \"%.*s\"", px[i].name, rc,
				 (int)out.len, out.p);
	}
	buf_free(&out);
}

static void test_pidf_limits(void **state)
{
	char doc[4096];
	struct buf out;
	size_t n = 0;
	unsigned i;

	(void)state;
	buf_init(&out, 65536);
	/* Depth: PIDF_MAX_DEPTH open elements fit, one more does not. */
	n = (size_t)snprintf(doc, sizeof(doc), "<presence>");
	for (i = 1; i < PIDF_MAX_DEPTH; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<a>");
	for (i = 1; i < PIDF_MAX_DEPTH; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "</a>");
	n += (size_t)snprintf(doc + n, sizeof(doc) - n, "</presence>");
	assert_int_equal(pidf_scrub(&out, str_make(doc, n), PIDF_SCRUB_ALL), 0);
	n = (size_t)snprintf(doc, sizeof(doc), "<presence>");
	for (i = 0; i < PIDF_MAX_DEPTH; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<a>");
	buf_reset(&out);
	assert_int_equal(pidf_scrub(&out, str_make(doc, n), PIDF_SCRUB_ALL),
			 -EINVAL);
	/* Too many attributes. */
	n = (size_t)snprintf(doc, sizeof(doc), "<presence");
	for (i = 0; i <= PIDF_MAX_ATTRS; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, " a%u=\"\"", i);
	n += (size_t)snprintf(doc + n, sizeof(doc) - n, "/>");
	buf_reset(&out);
	assert_int_equal(pidf_scrub(&out, str_make(doc, n), PIDF_SCRUB_ALL),
			 -EINVAL);
	/* Too many elements. */
	{
		size_t big = 10 + 4 * (PIDF_MAX_ELEMS + 1) + 11;
		char *d = malloc(big + 1);

		assert_non_null(d);
		n = (size_t)sprintf(d, "<presence>");
		for (i = 0; i < PIDF_MAX_ELEMS; i++)
			n += (size_t)sprintf(d + n, "<a/>");
		n += (size_t)sprintf(d + n, "</presence>");
		buf_reset(&out);
		assert_int_equal(pidf_scrub(&out, str_make(d, n), 0), -EINVAL);
		free(d);
	}
	/* Oversized input. */
	assert_int_equal(pidf_scrub(&out, str_make(doc, PIDF_MAX_SIZE + 1), 0),
			 -EMSGSIZE);
	buf_free(&out);
}

/* ----------------------------------------------------- NOTIFY bodies */

static void test_scrub_choice(void **state)
{
	struct presence_conf c;
	struct presence *ps = NULL;
	struct buf out;

	(void)state;
	presence_conf_default(&c);
	assert_int_equal(presence_new(&ps, &c), 0);
	buf_init(&out, 65536);
	assert_int_equal(
		presence_scrub(ps,
			       request("NOTIFY", "a", "b", "t", "presence",
				       "application/pidf+xml", "", full_doc),
			       &out),
		PRES_SCRUB_BODY);
	assert_int_equal(out.len, sizeof(full_want) - 1);
	/* Nothing to remove: keep the original bytes. */
	assert_int_equal(
		presence_scrub(
			ps,
			request("NOTIFY", "a", "b", "t", "presence",
				"application/pidf+xml", "",
				"<presence><tuple id=\"x\"/></presence>"),
			&out),
		PRES_SCRUB_KEEP);
	assert_int_equal(
		presence_scrub(ps,
			       request("NOTIFY", "a", "b", "t", "presence",
				       "application/pidf+xml", "",
				       "<!DOCTYPE x><presence/>"),
			       &out),
		PRES_SCRUB_STRIP);
	assert_int_equal(out.len, 0);
	assert_int_equal(
		presence_scrub(ps,
			       request("NOTIFY", "a", "b", "t", "presence",
				       "application/xpidf+xml", "", "<x/>"),
			       &out),
		PRES_SCRUB_STRIP);
	assert_int_equal(
		presence_scrub(ps,
			       request("NOTIFY", "a", "b", "t", "presence",
				       "application/pidf+xml",
				       "Content-Encoding: gzip\r\n",
				       "\x1f\x8b"),
			       &out),
		PRES_SCRUB_STRIP);
	assert_int_equal(
		presence_scrub(ps,
			       request("NOTIFY", "a", "b", "t", "dialog",
				       "application/dialog-info+xml", "",
				       "<d/>"),
			       &out),
		PRES_SCRUB_KEEP);
	assert_int_equal(presence_scrub(ps,
					request("NOTIFY", "a", "b", "t",
						"presence", "", "", ""),
					&out),
			 PRES_SCRUB_KEEP);
	/* A resource list: each PIDF part scrubbed, framing rebuilt. */
	assert_int_equal(
		presence_scrub(
			ps,
			request("NOTIFY", "a", "b", "t", "presence",
				"multipart/related;type=\"application/rlmi+xml\";"
				"boundary=bb",
				"",
				"preamble\r\n--bb\r\nContent-Type: application/rlmi+xml\r\n"
				"Content-ID: <r1>\r\n\r\n<list/>\r\n"
				"--bb\r\nContent-Type: application/pidf+xml\r\n\r\n"
				"<presence><note>x</note><tuple id=\"1\"/></presence>\r\n"
				"--bb--\r\nepilogue"),
			&out),
		PRES_SCRUB_BODY);
	assert_str_equal_cstr(
		buf_str(&out),
		"--bb\r\nContent-Type: application/rlmi+xml\r\n"
		"Content-ID: <r1>\r\n\r\n<list/>\r\n"
		"--bb\r\nContent-Type: application/pidf+xml\r\n\r\n"
		"<presence><tuple id=\"1\"/></presence>\r\n--bb--\r\n");
	/* ... but not with an unknown part, an encoded part or a bad PIDF. */
	assert_int_equal(
		presence_scrub(
			ps,
			request("NOTIFY", "a", "b", "t", "presence",
				"multipart/related;boundary=bb", "",
				"--bb\r\nContent-Type: text/plain\r\n\r\nx\r\n--bb--\r\n"),
			&out),
		PRES_SCRUB_STRIP);
	assert_int_equal(out.len, 0);
	assert_int_equal(
		presence_scrub(
			ps,
			request("NOTIFY", "a", "b", "t", "presence",
				"multipart/related;boundary=bb", "",
				"--bb\r\nContent-Type: application/pidf+xml\r\n"
				"Content-Transfer-Encoding: base64\r\n\r\nPHA+\r\n--bb--\r\n"),
			&out),
		PRES_SCRUB_STRIP);
	assert_int_equal(
		presence_scrub(
			ps,
			request("NOTIFY", "a", "b", "t", "presence",
				"multipart/related;boundary=bb", "",
				"--bb\r\nContent-Type: application/pidf+xml\r\n\r\n"
				"<presence>&x;</presence>\r\n--bb--\r\n"),
			&out),
		PRES_SCRUB_STRIP);
	assert_int_equal(
		presence_scrub(
			ps,
			request("NOTIFY", "a", "b", "t", "presence",
				"multipart/related;boundary=bb", "",
				"--bb\r\nContent-Type: application/pidf+xml\r\n\r\n<presence/>"),
			&out),
		PRES_SCRUB_STRIP);
	/* Two encodings on the NOTIFY (two Content-Types never parse). */
	assert_int_equal(
		presence_scrub(
			ps,
			request("NOTIFY", "a", "b", "t", "presence",
				"application/pidf+xml",
				"Content-Encoding: identity\r\nContent-Encoding: gzip\r\n",
				"<presence/>"),
			&out),
		PRES_SCRUB_STRIP);
	/* Two Content-Types in a part: which one would a client read? */
	assert_int_equal(
		presence_scrub(
			ps,
			request("NOTIFY", "a", "b", "t", "presence",
				"multipart/related;boundary=bb", "",
				"--bb\r\nContent-Type: application/rlmi+xml\r\n"
				"c: application/pidf+xml\r\n\r\n<presence><note>x</note>"
				"</presence>\r\n--bb--\r\n"),
			&out),
		PRES_SCRUB_STRIP);
	/* A part with a Content-Length of its own. */
	assert_int_equal(
		presence_scrub(
			ps,
			request("NOTIFY", "a", "b", "t", "presence",
				"multipart/related;boundary=bb", "",
				"--bb\r\nContent-Type: application/pidf+xml\r\n"
				"Content-Length: 3\r\n\r\n<presence/>\r\n--bb--\r\n"),
			&out),
		PRES_SCRUB_STRIP);
	presence_free(ps);
	c.scrub = 0;
	assert_int_equal(presence_new(&ps, &c), 0);
	assert_int_equal(
		presence_scrub(ps,
			       request("NOTIFY", "a", "b", "t", "presence",
				       "application/pidf+xml", "", full_doc),
			       &out),
		PRES_SCRUB_KEEP);
	presence_free(ps);
	buf_free(&out);
}

/* The guard's hook: only trusted -> untrusted, and the builder output
 * carries the new body with a matching Content-Length. */
static void test_guard_scrub(void **state)
{
	struct guard_conf gc;
	struct guard *g = NULL;
	const struct sip_msg *m;
	struct sip_bld b;
	struct sip_msg out;
	struct sip_perr e;
	struct buf w;
	char err[128];

	(void)state;
	guard_conf_default(&gc);
	gc.nzones = 2;
	gc.zone_name[0] = "internet";
	gc.zone_name[1] = "pbx";
	gc.zone_trusted[1] = true;
	assert_int_equal(guard_new(&g, &gc, NULL, err, sizeof(err)), 0);
	buf_init(&w, 65536);
	m = request("NOTIFY", "bob", "alice", "t1", "presence",
		    "application/pidf+xml", "", full_doc);
	/* untrusted -> trusted: untouched */
	sip_bld_init(&b, m);
	assert_int_equal(guard_scrub(g, &b, m, 0, 1, 0, 0), 0);
	assert_int_equal(sip_bld_write(&b, &w), 0);
	assert_int_equal(w.len, m->raw.len);
	/* trusted -> untrusted: scrubbed */
	sip_bld_init(&b, m);
	buf_reset(&w);
	assert_int_equal(guard_scrub(g, &b, m, 1, 0, 0, 0), 0);
	assert_int_equal(sip_bld_write(&b, &w), 0);
	assert_int_equal(
		sip_msg_parse(&out, w.p, w.len, NULL, SIP_PARSE_STREAM, &e), 0);
	assert_int_equal(out.body.len, sizeof(full_want) - 1);
	assert_int_equal(out.content_length, (int64_t)out.body.len);
	/* unsafe body: removed with its Content-Type */
	m = request("NOTIFY", "bob", "alice", "t1", "presence",
		    "application/pidf+xml", "", "<presence>&x;</presence>");
	sip_bld_init(&b, m);
	buf_reset(&w);
	assert_int_equal(guard_scrub(g, &b, m, 1, 0, 0, 0), 0);
	assert_int_equal(sip_bld_write(&b, &w), 0);
	assert_int_equal(
		sip_msg_parse(&out, w.p, w.len, NULL, SIP_PARSE_STREAM, &e), 0);
	assert_int_equal(out.body.len, 0);
	assert_int_equal(out.content_length, 0);
	assert_null(sip_msg_hdr(&out, SIP_HDR_CONTENT_TYPE));
	buf_free(&w);
	guard_free(g);
}

/* Monitor mode: the rule counts, the body passes unchanged. */
static void test_guard_scrub_monitor(void **state)
{
	struct guard_conf gc;
	struct guard *g = NULL;
	const struct sip_msg *m;
	struct rule_info ri;
	struct sip_bld b;
	struct buf w;
	char err[128];

	(void)state;
	guard_conf_default(&gc);
	gc.nzones = 2;
	gc.zone_trusted[1] = true;
	gc.monitor_rules[0] = "presence-scrub";
	gc.n_monitor_rules = 1;
	assert_int_equal(guard_new(&g, &gc, NULL, err, sizeof(err)), 0);
	buf_init(&w, 65536);
	m = request("NOTIFY", "bob", "alice", "t1", "presence",
		    "application/pidf+xml", "", full_doc);
	sip_bld_init(&b, m);
	assert_int_equal(guard_scrub(g, &b, m, 1, 0, 0, 0), 0);
	assert_int_equal(sip_bld_write(&b, &w), 0);
	assert_int_equal(w.len, m->raw.len);
	assert_int_equal(
		rules_get(guard_rules(g),
			  rules_find(guard_rules(g), STR("presence-scrub")),
			  &ri),
		0);
	assert_int_equal(ri.hits, 1);
	assert_int_equal(ri.monitored, 1);
	buf_free(&w);
	guard_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_harvest),
		cmocka_unit_test(test_pidf_full),
		cmocka_unit_test(test_pidf_table),
		cmocka_unit_test(test_pidf_limits),
		cmocka_unit_test(test_scrub_choice),
		cmocka_unit_test(test_guard_scrub),
		cmocka_unit_test(test_guard_scrub_monitor),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
