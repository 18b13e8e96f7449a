/*
 * test_build.c - the message builder: start line, remove / replace /
 * insert / append headers, ranges inside a Via line, body replacement
 * with Content-Length kept right, sticky errors, byte-exact output.
 */
#include <errno.h>

#include "test.h"
#include "core/buf.h"
#include "sip/sip.h"

#define M_START "INVITE sip:bob@example.com SIP/2.0\r\n"
#define M_VIA                                               \
	"Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bK1, " \
	"SIP/2.0/UDP a.example.com;branch=z9hG4bK0\r\n"
#define M_REST                                                             \
	"From: <sip:alice@example.com>;tag=f1\r\n"                         \
	"To: <sip:bob@example.com>\r\nCall-ID: c1@x\r\nCSeq: 1 INVITE\r\n" \
	"Max-Forwards: 70\r\nRoute: <sip:p1.example.com;lr>\r\n"
#define M_CL "Content-Length: 5\r\n\r\nhello"
static const char orig[] = M_START M_VIA M_REST M_CL;

static struct sip_msg msg;

static void setup_msg(const char *s)
{
	struct sip_perr e;

	if (sip_msg_parse(&msg, s, strlen(s), NULL, 0, &e) != 0)
		fail_msg("%s at %u", e.reason, e.off);
}

static void expect(struct sip_bld *b, const char *want)
{
	struct buf out;

	buf_init(&out, 1 << 16);
	assert_int_equal(sip_bld_write(b, &out), 0);
	if (out.len != strlen(want) || memcmp(out.p, want, out.len) != 0)
		fail_msg("got:\n%.*s\nwant:\n%s", (int)out.len, out.p, want);
	buf_free(&out);
}

static void test_identity(void **state)
{
	struct sip_bld b;

	(void)state;
	setup_msg(orig);
	sip_bld_init(&b, &msg);
	expect(&b, orig);
}

/* What a proxy does (RFC 3261 16.6): pop the Route, decrement
 * Max-Forwards, add its Via and a Record-Route. */
static void test_proxy_edits(void **state)
{
	struct sip_bld b;

	(void)state;
	setup_msg(orig);
	sip_bld_init(&b, &msg);
	sip_bld_remove(&b, sip_msg_hdr(&msg, SIP_HDR_ROUTE));
	sip_bld_replace_value(&b, sip_msg_hdr(&msg, SIP_HDR_MAX_FORWARDS),
			      STR("69"));
	sip_bld_insert(&b, NULL, STR("Via"),
		       STR("SIP/2.0/UDP me.example.com;branch=z9hG4bKme"));
	sip_bld_append(&b, STR("Record-Route"), STR("<sip:me.example.com;lr>"));
	sip_bld_start_line(&b, STR("INVITE sip:bob@192.0.2.9 SIP/2.0"));
	expect(&b, "INVITE sip:bob@192.0.2.9 SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP me.example.com;branch=z9hG4bKme\r\n" M_VIA
		   "From: <sip:alice@example.com>;tag=f1\r\n"
		   "To: <sip:bob@example.com>\r\nCall-ID: c1@x\r\n"
		   "CSeq: 1 INVITE\r\nMax-Forwards: 69\r\n"
		   "Content-Length: 5\r\n"
		   "Record-Route: <sip:me.example.com;lr>\r\n\r\nhello");
}

/* Response path: drop our own hop out of a multi-value Via line. */
static void test_range_in_via(void **state)
{
	const struct sip_hdr *h;
	struct sip_bld b;
	struct str range;

	(void)state;
	setup_msg(orig);
	h = sip_msg_hdr(&msg, SIP_HDR_VIA);
	/* first hop and the ", " after it */
	range = str_span(msg.via[0].raw.p, msg.via[1].raw.p);
	sip_bld_init(&b, &msg);
	sip_bld_replace_range(&b, range, STR_NULL);
	expect(&b, M_START
	       "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK0\r\n" M_REST
		       M_CL);
	/* insert before a given header */
	sip_bld_init(&b, &msg);
	sip_bld_insert(&b, h, STR("X-A"), STR("1"));
	sip_bld_insert(&b, h, STR("X-B"), STR("2"));
	expect(&b, M_START "X-A: 1\r\nX-B: 2\r\n" M_VIA M_REST M_CL);
}

static void test_body(void **state)
{
	struct sip_bld b;

	(void)state;
	setup_msg(orig);
	sip_bld_init(&b, &msg);
	sip_bld_body(&b, STR("v=0\r\nlonger body\r\n"));
	expect(&b, M_START M_VIA M_REST
	       "Content-Length: 18\r\n\r\nv=0\r\nlonger body\r\n");
	sip_bld_init(&b, &msg);
	sip_bld_body(&b, STR(""));
	expect(&b, M_START M_VIA M_REST "Content-Length: 0\r\n\r\n");
	/* Content-Length removed by the caller: a new one is appended */
	sip_bld_init(&b, &msg);
	sip_bld_remove(&b, sip_msg_hdr(&msg, SIP_HDR_CONTENT_LENGTH));
	sip_bld_body(&b, STR("xy"));
	expect(&b, M_START M_VIA M_REST "Content-Length: 2\r\n\r\nxy");
	/* the caller rewrote Content-Length as well: conflict */
	sip_bld_init(&b, &msg);
	sip_bld_replace_value(&b, sip_msg_hdr(&msg, SIP_HDR_CONTENT_LENGTH),
			      STR("1"));
	sip_bld_body(&b, STR("xy"));
	{
		struct buf out;

		buf_init(&out, 4096);
		assert_int_equal(sip_bld_write(&b, &out), -EINVAL);
		buf_free(&out);
	}
	/* no Content-Length at all (datagram): one is added */
	setup_msg(M_START M_VIA M_REST "\r\nold");
	sip_bld_init(&b, &msg);
	sip_bld_body(&b, STR("new!"));
	expect(&b, M_START M_VIA M_REST "Content-Length: 4\r\n\r\nnew!");
	/* compact form rewritten in place */
	setup_msg(M_START M_VIA M_REST "l: 3\r\n\r\nabc");
	sip_bld_init(&b, &msg);
	sip_bld_body(&b, STR("abcdefghijkl"));
	expect(&b, M_START M_VIA M_REST "l: 12\r\n\r\nabcdefghijkl");
	/* write twice: same output */
	expect(&b, M_START M_VIA M_REST "l: 12\r\n\r\nabcdefghijkl");
}

static void test_errors(void **state)
{
	struct sip_bld b;
	struct buf out;
	unsigned i;
	char other[] = "x";

	(void)state;
	setup_msg(orig);
	buf_init(&out, 4096);
	/* too many edits: sticky -ENOSPC */
	sip_bld_init(&b, &msg);
	for (i = 0; i < SIP_BLD_MAX_EDITS; i++)
		sip_bld_replace_range(&b, str_make(msg.raw.p + i, 0), STR("-"));
	assert_int_equal(b.err, 0);
	sip_bld_append(&b, STR("X"), STR("y"));
	assert_int_equal(sip_bld_write(&b, &out), -ENOSPC);
	sip_bld_remove(&b, sip_msg_hdr(&msg, SIP_HDR_TO));
	assert_int_equal(sip_bld_write(&b, &out), -ENOSPC);
	/* header injection refused */
	sip_bld_init(&b, &msg);
	sip_bld_append(&b, STR("X"), STR("a\r\nVia: evil"));
	assert_int_equal(sip_bld_write(&b, &out), -EINVAL);
	sip_bld_init(&b, &msg);
	sip_bld_append(&b, STR("X: y"), STR("a"));
	assert_int_equal(sip_bld_write(&b, &out), -EINVAL);
	sip_bld_init(&b, &msg);
	sip_bld_replace_value(&b, sip_msg_hdr(&msg, SIP_HDR_TO),
			      STR("<sip:a@b>\nX: 1"));
	assert_int_equal(sip_bld_write(&b, &out), -EINVAL);
	sip_bld_init(&b, &msg);
	sip_bld_start_line(&b, STR("INVITE x SIP/2.0\r\nVia: 1"));
	assert_int_equal(sip_bld_write(&b, &out), -EINVAL);
	/* ranges outside the message */
	sip_bld_init(&b, &msg);
	sip_bld_replace_range(&b, str_make(other, 1), STR("y"));
	assert_int_equal(sip_bld_write(&b, &out), -EINVAL);
	sip_bld_init(&b, &msg);
	sip_bld_replace_range(&b, str_make(msg.raw.p + 10, msg.raw.len),
			      STR("y"));
	assert_int_equal(sip_bld_write(&b, &out), -EINVAL);
	/* overlapping edits */
	sip_bld_init(&b, &msg);
	sip_bld_remove(&b, sip_msg_hdr(&msg, SIP_HDR_TO));
	sip_bld_remove(&b, sip_msg_hdr(&msg, SIP_HDR_TO));
	assert_int_equal(sip_bld_write(&b, &out), -EINVAL);
	sip_bld_init(&b, &msg);
	sip_bld_remove(&b, NULL);
	assert_int_equal(sip_bld_write(&b, &out), -EINVAL);
	sip_bld_init(&b, NULL);
	assert_int_equal(sip_bld_write(&b, &out), -EINVAL);
	assert_int_equal(sip_bld_write(NULL, &out), -EINVAL);
	/* the output buffer's limit */
	buf_free(&out);
	buf_init(&out, 10);
	sip_bld_init(&b, &msg);
	assert_true(sip_bld_write(&b, &out) < 0);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_proxy_edits),
		cmocka_unit_test(test_range_in_via),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_errors),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
