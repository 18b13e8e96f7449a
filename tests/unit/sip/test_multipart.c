/*
 * test_multipart.c - sip_multipart_split (RFC 2046 5.1): delimiters,
 * preamble and epilogue, headerless parts, the close delimiter, limits,
 * and the RFC 4475 mpart01 body.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "test.h"
#include "sip/sip.h"

static struct sip_part parts[SIP_MAX_PARTS];

static int split(const char *body, const char *boundary, unsigned max,
		 unsigned *np, struct sip_perr *e)
{
	return sip_multipart_split(parts, max, np, str_cstr(body),
				   str_cstr(boundary), e);
}

static void test_basic(void **state)
{
	static const char b[] =
		"preamble\r\n--xyz\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
		"--xyz  \t\r\nContent-Type: application/sdp\r\nX: 1\r\n\r\n"
		"v=0\r\n\r\n--xyz--\r\nepilogue";
	unsigned n;
	struct sip_perr e;

	(void)state;
	assert_int_equal(split(b, "xyz", SIP_MAX_PARTS, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_str_equal_cstr(parts[0].ctype, "text/plain");
	assert_str_equal_cstr(parts[0].body, "hello");
	assert_str_equal_cstr(parts[0].headers, "Content-Type: text/plain");
	assert_str_equal_cstr(parts[1].ctype, "application/sdp");
	assert_str_equal_cstr(parts[1].body, "v=0\r\n");
	/* limit */
	assert_int_equal(split(b, "xyz", 1, &n, &e), -EINVAL);
	assert_int_equal(e.code, SIP_PE_LIMIT);
	assert_int_equal(n, 0);
}

static void test_shapes(void **state)
{
	unsigned n;
	struct sip_perr e;

	(void)state;
	/* delimiter at the very start, part without headers */
	assert_int_equal(split("--b\r\n\r\nraw\r\n--b--", "b", 8, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(parts[0].headers.len, 0);
	assert_int_equal(parts[0].ctype.len, 0);
	assert_str_equal_cstr(parts[0].body, "raw");
	/* headers only */
	assert_int_equal(split("--b\r\nc: text/x\r\n\r\n--b--", "b", 8, &n, &e),
			 0);
	assert_str_equal_cstr(parts[0].ctype, "text/x");
	assert_int_equal(parts[0].body.len, 0);
	/* folded Content-Type */
	assert_int_equal(
		split("--b\r\nContent-Type:\r\n text/y\r\n\r\nq\r\n--b--", "b",
		      8, &n, &e),
		0);
	assert_str_equal_cstr(parts[0].ctype, "text/y");
	/* a boundary-like line that is not a delimiter stays in the body */
	assert_int_equal(
		split("--b\r\n\r\nx--b\r\ny\r\n--bb\r\n--b--", "b", 8, &n, &e),
		-EINVAL);
	assert_int_equal(split("--b\r\n\r\nx--b y\r\n--b--", "b", 8, &n, &e),
			 0);
	assert_str_equal_cstr(parts[0].body, "x--b y");
}

static void test_errors(void **state)
{
	static const struct {
		const char *body, *boundary;
	} bad[] = {
		{"no delimiter at all", "b"},
		{"--b\r\n\r\nno close", "b"},
		{"--b--", "b"}, /* no part */
		{"--bx\r\n\r\na\r\n--b--", "b"},
		{"--b\r\nheaders without end", "b"},
		{"--b\r\n\r\na\r\n--b", "b"},
		{"", "b"},
		{"--\r\n\r\na\r\n----", ""},
		{"--b\r\n\r\na\r\n--b--",
		 "0123456789012345678901234567890123456789"
		 "0123456789012345678901234567890"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned n = 99;
		struct sip_perr e;

		if (split(bad[i].body, bad[i].boundary, 8, &n, &e) != -EINVAL)
			fail_msg("case %zu accepted", i);
		assert_int_equal(e.code, SIP_PE_SYNTAX);
		assert_int_equal(n, 0);
	}
	assert_int_equal(
		sip_multipart_split(NULL, 1, NULL, STR("x"), STR("b"), NULL),
		-EINVAL);
}

static void test_many(void **state)
{
	char body[2048];
	size_t off = 0;
	unsigned i, n;
	struct sip_perr e;

	(void)state;
	for (i = 0; i < SIP_MAX_PARTS; i++)
		off += (size_t)snprintf(body + off, sizeof(body) - off,
					"--B\r\n\r\npart%u\r\n", i);
	snprintf(body + off, sizeof(body) - off, "--B--\r\n");
	assert_int_equal(split(body, "B", SIP_MAX_PARTS, &n, &e), 0);
	assert_int_equal(n, SIP_MAX_PARTS);
	assert_str_equal_cstr(parts[SIP_MAX_PARTS - 1].body, "part7");
	assert_int_equal(split(body, "B", SIP_MAX_PARTS - 1, &n, &e), -EINVAL);
	assert_int_equal(e.code, SIP_PE_LIMIT);
}

/* RFC 4475 3.1.1.11: the body of mpart01, with its boundary. */
static void test_mpart01(void **state)
{
	static struct sip_msg msg;
	char path[512];
	const char *dir = getenv("SIPGUARD_CORPUS");
	struct sip_ctype ct;
	struct sip_perr e;
	char buf[4096];
	unsigned n;
	size_t len;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/rfc4475/mpart01.dat",
		 dir && *dir ? dir : "../shared/corpus");
	f = fopen(path, "rb");
	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(sip_msg_parse(&msg, buf, len, NULL, 0, &e), 0);
	assert_int_equal(sip_ctype_parse(&ct, msg.content_type, &e), 0);
	assert_true(ct.boundary.len > 0);
	assert_int_equal(sip_multipart_split(parts, SIP_MAX_PARTS, &n, msg.body,
					     ct.boundary, &e),
			 0);
	assert_int_equal(n, 2);
	assert_str_equal_cstr(parts[0].ctype, "text/plain");
	assert_str_equal_cstr(parts[1].ctype, "application/octet-stream");
	assert_true(
		str_caseeq_cstr(parts[1].ctype, "APPLICATION/octet-stream"));
}

/* Part header walking: folded values whole, lines without a colon
 * skipped, bad control bytes found, identity transfer encodings. */
static void test_part_headers(void **state)
{
	struct str rest = str_cstr("Content-Type: text/plain\r\n"
				   "junk line\r\n"
				   "Content-Disposition:\r\n attachment;\r\n"
				   "\tfilename=a\r\nX:y"),
		   name, val;

	(void)state;
	assert_true(sip_part_hdr_next(&rest, &name, &val));
	assert_str_equal_cstr(name, "Content-Type");
	assert_str_equal_cstr(val, "text/plain");
	assert_true(sip_part_hdr_next(&rest, &name, &val));
	assert_str_equal_cstr(name, "Content-Disposition");
	assert_str_equal_cstr(val, "attachment;\r\n\tfilename=a");
	assert_true(sip_part_hdr_next(&rest, &name, &val));
	assert_str_equal_cstr(name, "X");
	assert_str_equal_cstr(val, "y");
	assert_false(sip_part_hdr_next(&rest, &name, &val));

	assert_false(sip_part_hdrs_bad(str_cstr("A: b\r\nC: d")));
	assert_true(sip_part_hdrs_bad(str_cstr("A: b\rC: d")));
	assert_true(sip_part_hdrs_bad(str_cstr("A: b\r")));
	assert_true(sip_part_hdrs_bad(str_make("A:\0b", 4)));
	assert_true(sip_cte_identity(str_cstr("8BIT")));
	assert_true(sip_cte_identity(str_cstr("binary")));
	assert_false(sip_cte_identity(str_cstr("base64")));
	assert_false(sip_cte_identity(str_cstr("")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_mpart01),
		cmocka_unit_test(test_part_headers),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
