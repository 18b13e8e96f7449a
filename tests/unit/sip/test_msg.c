/*
 * test_msg.c - sip_msg_parse: start line, header lines and folding, the
 * eagerly parsed headers, duplicates, mandatory headers, body rules in
 * datagram and stream mode, every limit, error offsets, and the hostile
 * and odd messages of tests/data/sip/ (file name prefix = the expected
 * outcome: ok-, syntax-, version-, duplicate-, missing-, cseq-, body-,
 * limit-, too_large-).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "test.h"
#include "sip/sip.h"

static struct sip_msg msg;

#define VIA "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa1\r\n"
#define HDRS                                           \
	VIA "From: <sip:alice@example.com>;tag=f1\r\n" \
	    "To: <sip:bob@example.com>\r\nCall-ID: c1@192.0.2.1\r\n"
#define INV "INVITE sip:bob@example.com SIP/2.0\r\n"
#define CL0 "Content-Length: 0\r\n\r\n"

static int parse(const char *s, unsigned flags, struct sip_perr *e)
{
	return sip_msg_parse(&msg, s, strlen(s), NULL, flags, e);
}

static void parse_ok(const char *s)
{
	struct sip_perr e;

	if (parse(s, SIP_PARSE_DGRAM, &e) != 0)
		fail_msg("parse failed: %s at %u", e.reason, e.off);
}

/* --------------------------------------------------------- data files */

static const struct {
	const char *prefix;
	enum sip_perr_code code;
} prefixes[] = {
	{"ok-", SIP_PE_NONE},
	{"syntax-", SIP_PE_SYNTAX},
	{"version-", SIP_PE_VERSION},
	{"duplicate-", SIP_PE_DUPLICATE},
	{"missing-", SIP_PE_MISSING},
	{"cseq-", SIP_PE_CSEQ_METHOD},
	{"body-", SIP_PE_BODY},
	{"limit-", SIP_PE_LIMIT},
	{"too_large-", SIP_PE_TOO_LARGE},
};

static const char *data_dir(char *buf, size_t sz)
{
	const char *env = getenv("SIPGUARD_TESTDATA");
	const char *slash;

	if (env && *env)
		return env;
	/* __FILE__ is tests/unit/sip/test_msg.c, relative to the root */
	slash = strrchr(__FILE__, '/');
	snprintf(buf, sz, "%.*s/../../data/sip",
		 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
	return buf;
}

static int expect_of(const char *name, enum sip_perr_code *codep)
{
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(name, prefixes[i].prefix,
			    strlen(prefixes[i].prefix)) == 0) {
			*codep = prefixes[i].code;
			return 0;
		}
	return -1;
}

static void check_file(const char *dir, const char *name, unsigned *badp)
{
	char path[1024];
	enum sip_perr_code want = SIP_PE_NONE;
	struct sip_perr e;
	FILE *f;
	char *buf;
	long n;
	int rc;

	if (expect_of(name, &want) != 0)
		fail_msg("%s: unknown outcome prefix", name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	rc = sip_msg_parse(&msg, buf, (size_t)n, NULL, SIP_PARSE_DGRAM, &e);
	if ((rc == 0) != (want == SIP_PE_NONE) || (rc && e.code != want)) {
		print_message("%s: rc %d code %d want %d (%s at %u)\n", name,
			      rc, e.code, want, e.reason ? e.reason : "",
			      e.off);
		(*badp)++;
	}
	if (rc)
		assert_true(e.off <= (uint32_t)n);
	free(buf);
}

static void test_data_files(void **state)
{
	char dbuf[512];
	const char *dir = data_dir(dbuf, sizeof(dbuf));
	unsigned n = 0, bad = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	(void)state;
	if (!d)
		fail_msg("cannot open %s", dir);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l < 5 || strcmp(de->d_name + l - 4, ".sip") != 0)
			continue;
		check_file(dir, de->d_name, &bad);
		n++;
	}
	closedir(d);
	assert_true(n >= 60);
	assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------- tables */

struct pcase {
	const char *in;
	unsigned flags;
	enum sip_perr_code code;
	int off; /* expected error offset, or -1 to skip */
};

static const struct pcase pcases[] = {
	{INV HDRS "CSeq: 1 INVITE\r\n" CL0, 0, SIP_PE_NONE, -1},
	{INV HDRS "CSeq: 1 INVITE\r\n" CL0, SIP_PARSE_STREAM, SIP_PE_NONE, -1},
	/* stream: Content-Length mandatory, exact framing */
	{INV HDRS "CSeq: 1 INVITE\r\n\r\n", SIP_PARSE_STREAM, SIP_PE_MISSING,
	 -1},
	{INV HDRS "CSeq: 1 INVITE\r\n" CL0 "x", SIP_PARSE_STREAM, SIP_PE_BODY,
	 -1},
	{INV HDRS "CSeq: 1 INVITE\r\nContent-Length: 3\r\n\r\nab",
	 SIP_PARSE_STREAM, SIP_PE_BODY, -1},
	/* error offsets point at the culprit */
	{INV HDRS "CSeq: 1 INVITE\r\nContent-Length: 0\r\nl: 0\r\n\r\n", 0,
	 SIP_PE_DUPLICATE,
	 (int)sizeof(INV HDRS "CSeq: 1 INVITE\r\n"
			      "Content-Length: 0\r\n") -
		 1},
	{INV HDRS "CSeq: 1 INVITE\r\nMax-Forwards: 7x\r\n" CL0, 0,
	 SIP_PE_SYNTAX,
	 (int)sizeof(INV HDRS "CSeq: 1 INVITE\r\n"
			      "Max-Forwards: ") -
		 1},
	{"INVITE  sip:a@b SIP/2.0\r\n", 0, SIP_PE_SYNTAX, 7},
	{"", 0, SIP_PE_SYNTAX, 0},
	{"\r\n", 0, SIP_PE_SYNTAX, -1},
	{"INVITE", 0, SIP_PE_SYNTAX, -1},
	{"INVITE sip:a@b SIP/2.0", 0, SIP_PE_SYNTAX, -1},
	{"INVITE sip:a@b SIP/2.0\r\n", 0, SIP_PE_SYNTAX, -1},
	{"INVITE sip:a@b SIP/2.0\r\nVia", 0, SIP_PE_SYNTAX, -1},
	{"INVITE sip:a@b SIP/2.0\r\nVia: x\r", 0, SIP_PE_SYNTAX, -1},
	{INV HDRS "CSeq: 1 INVITE\r", 0, SIP_PE_SYNTAX, -1},
	{INV HDRS "CSeq: 1 INVITE\r\n\r", 0, SIP_PE_SYNTAX, -1},
	{"SIP/2.0 200 OK\r\n" HDRS "CSeq: 1 INVITE\r\n" CL0, 0, SIP_PE_NONE,
	 -1},
	{"SIP/2.0 200 OK", 0, SIP_PE_SYNTAX, -1},
	{"SIP/2.0\r\n", 0, SIP_PE_SYNTAX, -1},
	{"SIP/2.0 20 OK\r\n", 0, SIP_PE_SYNTAX, -1},
	{"SIP/2.x 200 OK\r\n", 0, SIP_PE_SYNTAX, -1},
	{" INVITE sip:a@b SIP/2.0\r\n", 0, SIP_PE_SYNTAX, 0},
	{"INVITE sip:a@b\r\n", 0, SIP_PE_SYNTAX, -1},
	{"INVITE  SIP/2.0\r\n", 0, SIP_PE_SYNTAX, -1},
	{"INVITE SIP/2.0\r\n", 0, SIP_PE_SYNTAX, -1},
};

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
		struct sip_perr e;
		int rc = parse(pcases[i].in, pcases[i].flags, &e);

		if ((rc == 0) != (pcases[i].code == SIP_PE_NONE) ||
		    (rc && e.code != pcases[i].code))
			fail_msg("case %zu: rc %d code %d want %d (%s)", i, rc,
				 e.code, pcases[i].code, e.reason);
		if (rc && pcases[i].off >= 0 &&
		    e.off != (uint32_t)pcases[i].off)
			fail_msg("case %zu: off %u want %d", i, e.off,
				 pcases[i].off);
		if (rc)
			assert_non_null(e.reason);
	}
}

/* ------------------------------------------------------ eager headers */

static void test_start_lines(void **state)
{
	(void)state;
	parse_ok("OPTIONS sip:alice@example.com;transport=tcp SIP/2.0\r\n" HDRS
		 "CSeq: 5 OPTIONS\r\n" CL0);
	assert_true(msg.is_request);
	assert_int_equal(msg.mid, SIP_METHOD_OPTIONS);
	assert_str_equal_cstr(msg.method, "OPTIONS");
	assert_str_equal_cstr(msg.ruri_raw,
			      "sip:alice@example.com;transport=tcp");
	assert_str_equal_cstr(msg.ruri.host, "example.com");
	assert_str_equal_cstr(msg.ruri.transport, "tcp");
	assert_int_equal(msg.status, 0);

	parse_ok("SIP/2.0 183 Session Progress\r\n" HDRS
		 "CSeq: 1 INVITE\r\n" CL0);
	assert_false(msg.is_request);
	assert_int_equal(msg.status, 183);
	assert_str_equal_cstr(msg.reason, "Session Progress");
	assert_int_equal(msg.ruri_raw.len, 0);
	assert_int_equal(msg.mid, SIP_METHOD_UNKNOWN);
}

static void test_via(void **state)
{
	(void)state;
	parse_ok(
		INV
		"Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, "
		"SIP/2.0/TCP b.example.com:5070;branch=z9hG4bK2;received=192.0.2.9\r\n"
		"v: SIP/2.0/TLS c.example.com;branch=z9hG4bK3;rport=5061\r\n"
		"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: x\r\n"
		"CSeq: 1 INVITE\r\n" CL0);
	assert_int_equal(msg.nvia, 3);
	assert_str_equal_cstr(msg.via[0].host, "a.example.com");
	assert_str_equal_cstr(msg.via[0].branch, "z9hG4bK1");
	assert_str_equal_cstr(msg.via[1].transport, "TCP");
	assert_int_equal(msg.via[1].port, 5070);
	assert_str_equal_cstr(msg.via[1].received, "192.0.2.9");
	assert_str_equal_cstr(msg.via[2].rport, "5061");
	assert_int_equal(msg.count[SIP_HDR_VIA], 2);
}

static void test_addresses(void **state)
{
	(void)state;
	parse_ok(
		INV VIA
		"From: \"Alice\" <sip:alice@example.com>;tag=88\r\n"
		"To: sip:bob@example.com\r\nCall-ID: x@y\r\nCSeq: 1 INVITE\r\n"
		"Contact: <sip:alice@192.0.2.1:5062>;expires=60, "
		"\"Second, Device\" <sip:a2@192.0.2.2>;q=0.5\r\n"
		"m: sip:a3@192.0.2.3\r\n"
		"Route: <sip:p1;lr>,<sip:p2;lr>\r\nRecord-Route: <sip:rr1;lr>\r\n"
		"Record-Route: <sip:rr2;lr>, <sip:rr3;lr>\r\n" CL0);
	assert_str_equal_cstr(msg.from.tag, "88");
	assert_str_equal_cstr(msg.from.display, "Alice");
	assert_str_equal_cstr(msg.to.uri.user, "bob");
	assert_false(msg.to.angle);
	assert_int_equal(msg.ncontact, 3);
	assert_true(msg.contact[0].has_expires);
	assert_int_equal(msg.contact[0].expires, 60);
	assert_int_equal(msg.contact[1].q1000, 500);
	assert_str_equal_cstr(msg.contact[2].uri.host, "192.0.2.3");
	assert_int_equal(msg.nroute, 2);
	assert_str_equal_cstr(msg.route[1].uri.host, "p2");
	assert_int_equal(msg.nrr, 3);
	assert_str_equal_cstr(msg.rr[2].uri.host, "rr3");

	parse_ok("REGISTER sip:example.com SIP/2.0\r\n" HDRS
		 "CSeq: 9 REGISTER\r\nContact:  *  \r\nExpires: 0\r\n" CL0);
	assert_int_equal(msg.ncontact, 1);
	assert_true(msg.contact[0].star);
	assert_int_equal(msg.expires, 0);
}

static void test_scalars(void **state)
{
	(void)state;
	parse_ok(INV HDRS
		 "CSeq: 2147483647 INVITE\r\nMax-Forwards: 0\r\n"
		 "Expires: 4294967296\r\nUser-Agent: test/1.0\r\n"
		 "Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\n"
		 "v=0\n");
	assert_int_equal(msg.cseq.num, 2147483647u);
	assert_int_equal(msg.max_forwards, 0);
	assert_int_equal(msg.expires, 4294967295LL);
	assert_str_equal_cstr(msg.user_agent, "test/1.0");
	assert_str_equal_cstr(msg.content_type, "application/sdp");
	assert_int_equal(msg.content_length, 4);
	assert_str_equal_cstr(msg.body, "v=0\n");

	parse_ok(INV HDRS "CSeq: 1 INVITE\r\n" CL0);
	assert_int_equal(msg.max_forwards, -1);
	assert_int_equal(msg.expires, -1);
	assert_int_equal(msg.content_type.len, 0);
	assert_null(msg.user_agent.p);

	parse_ok("SIP/2.0 200 OK\r\n" HDRS "CSeq: 1 INVITE\r\n"
		 "Server: srv/2\r\n" CL0);
	assert_str_equal_cstr(msg.user_agent, "srv/2");
}

static void test_bad_values(void **state)
{
	static const char *const bad[] = {
		"Max-Forwards: 256",
		"Max-Forwards: 1 2",
		"Max-Forwards:",
		"Content-Length: -1",
		"Content-Length: 1e3",
		"Content-Length:",
		"Expires: -5",
		"Expires: 1.5",
		"Content-Type: text",
		"Content-Type: /plain",
		"Route: <sip:a;lr",
		"Record-Route: sip:a",
		"Contact: <>",
		"Contact: <sip:a@b>,",
		"Via: ",
		"CSeq: 1 INVITE",
		"Call-ID: @x",
		"Call-ID: x@",
		"Call-ID: \"a\"@b c",
	};
	char buf[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sip_perr e;

		snprintf(buf, sizeof(buf),
			 INV HDRS "CSeq: 1 INVITE\r\n%s\r\n" CL0, bad[i]);
		if (parse(buf, 0, &e) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(e.code == SIP_PE_SYNTAX ||
			    e.code == SIP_PE_DUPLICATE);
		assert_true(e.off > sizeof(INV HDRS));
	}
}

static void test_header_list(void **state)
{
	const struct sip_hdr *h;

	(void)state;
	parse_ok(INV HDRS "CSeq: 1 INVITE\r\nX-A: 1\r\nSupported: timer\r\n"
			  "x-a: 2\r\nX-B:3\r\nk: 100rel\r\n" CL0);
	assert_int_equal(msg.nhdr, 11);
	assert_int_equal(msg.count[SIP_HDR_SUPPORTED], 2);
	h = sip_msg_hdr(&msg, SIP_HDR_SUPPORTED);
	assert_str_equal_cstr(h->value, "timer");
	h = sip_hdr_next(&msg, h);
	assert_str_equal_cstr(h->value, "100rel");
	assert_str_equal_cstr(h->name, "k");
	assert_null(sip_hdr_next(&msg, h));
	h = sip_msg_hdr_by_name(&msg, STR("X-A"));
	assert_str_equal_cstr(h->value, "1");
	h = sip_msg_hdr_by_name(&msg, STR("x-b"));
	assert_str_equal_cstr(h->value, "3");
	assert_str_equal_cstr(h->line, "X-B:3\r\n");
	assert_null(sip_msg_hdr_by_name(&msg, STR("X-C")));
	assert_non_null(sip_msg_hdr_by_name(&msg, STR("supported")));
	assert_null(sip_msg_hdr(&msg, SIP_HDR_RACK));
	assert_null(sip_msg_hdr(&msg, SIP_HDR__COUNT));
	/* folded value spans the fold; line keeps it all */
	parse_ok(INV HDRS "CSeq: 1 INVITE\r\nSubject: a\r\n b\r\n" CL0);
	h = sip_msg_hdr(&msg, SIP_HDR_SUBJECT);
	assert_str_equal_cstr(h->value, "a\r\n b");
	assert_str_equal_cstr(h->line, "Subject: a\r\n b\r\n");
}

static void test_body_dgram(void **state)
{
	static const char m[] = INV HDRS "CSeq: 1 INVITE\r\n"
					 "Content-Length: 2\r\n\r\nhiEXTRA";
	struct sip_perr e;

	(void)state;
	assert_int_equal(parse(m, 0, &e), 0);
	assert_str_equal_cstr(msg.body, "hi");
	assert_int_equal(msg.raw.len, sizeof(m) - 1 - 5);
	assert_ptr_equal(msg.raw.p, m);
	/* stream mode refuses the extra bytes */
	assert_int_equal(parse(m, SIP_PARSE_STREAM, &e), -EINVAL);
	assert_int_equal(e.code, SIP_PE_BODY);
}

/* ------------------------------------------------------------- limits */

static void test_limits(void **state)
{
	static const char m[] =
		INV HDRS "CSeq: 1 INVITE\r\n"
			 "Route: <sip:p1.example.com;lr>\r\n" CL0;
	struct sip_limits lim = sip_limits_default;
	struct sip_perr e;
	size_t len = sizeof(m) - 1;

	(void)state;
	assert_int_equal(sip_msg_parse(&msg, m, len, &lim, 0, &e), 0);
	lim.max_msg_size = len - 1;
	assert_int_equal(sip_msg_parse(&msg, m, len, &lim, 0, &e), -EMSGSIZE);
	assert_int_equal(e.code, SIP_PE_TOO_LARGE);
	assert_int_equal(sip_perr_status(e.code), 513);
	lim = sip_limits_default;
	lim.max_headers = 6;
	assert_int_equal(sip_msg_parse(&msg, m, len, &lim, 0, &e), -EINVAL);
	assert_int_equal(e.code, SIP_PE_LIMIT);
	lim.max_headers = 7;
	assert_int_equal(sip_msg_parse(&msg, m, len, &lim, 0, &e), 0);
	lim = sip_limits_default;
	lim.max_line = 20;
	assert_int_equal(sip_msg_parse(&msg, m, len, &lim, 0, &e), -EINVAL);
	assert_int_equal(e.code, SIP_PE_LIMIT);
	lim = sip_limits_default;
	lim.max_via = 0;
	assert_int_equal(sip_msg_parse(&msg, m, len, &lim, 0, &e), -EINVAL);
	assert_int_equal(e.code, SIP_PE_LIMIT);
	lim = sip_limits_default;
	lim.max_uri = 10;
	assert_int_equal(sip_msg_parse(&msg, m, len, &lim, 0, &e), -EINVAL);
	lim = sip_limits_default;
	lim.max_headers = 100000; /* clamped to SIP_MAX_HEADERS */
	lim.max_via = 100000;
	lim.max_msg_size = (size_t)-1;
	assert_int_equal(sip_msg_parse(&msg, m, len, &lim, 0, &e), 0);
	/* a Content-Length beyond the size limit is 513 */
	lim = sip_limits_default;
	lim.max_msg_size = 1000;
	{
		static const char big[] =
			INV HDRS "CSeq: 1 INVITE\r\n"
				 "Content-Length: 1001\r\n\r\n";
		assert_int_equal(
			sip_msg_parse(&msg, big, sizeof(big) - 1, &lim, 0, &e),
			-EINVAL);
		assert_int_equal(e.code, SIP_PE_TOO_LARGE);
	}
}

static void test_args(void **state)
{
	struct sip_perr e;

	(void)state;
	assert_int_equal(sip_msg_parse(NULL, "x", 1, NULL, 0, &e), -EINVAL);
	assert_int_equal(sip_msg_parse(&msg, NULL, 1, NULL, 0, &e), -EINVAL);
	assert_int_equal(sip_msg_parse(&msg, NULL, 0, NULL, 0, NULL), -EINVAL);
	assert_int_equal(parse(INV HDRS "CSeq: 1 INVITE\r\n" CL0, 0, NULL), 0);
	assert_int_equal(parse(INV "\r\n", 0, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_files),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_start_lines),
		cmocka_unit_test(test_via),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_header_list),
		cmocka_unit_test(test_body_dgram),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_args),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
