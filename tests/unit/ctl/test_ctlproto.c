/*
 * test_ctlproto.c - the control protocol's requests as pure functions: a
 * table of request lines (every command and member form; malformed JSON,
 * wrong types, duplicate keys, unknown and misplaced members, numbers out
 * of range or not whole, over-long and control-byte texts, nesting,
 * oversize lines, the old line form) with the expected request or error;
 * the encoder's round trip through the parser; addresses; sipguardctl
 * durations.  jansson allocates through mem_alloc here, so the leak
 * check and failure injection cover it.
 */
#include <errno.h>
#include <stdio.h>

#include <jansson.h>

#include "test.h"
#include "ctl/ctl.h"

/* ------------------------------------------------------------ requests */

struct req_case {
	const char *line;
	int rc;
	enum ctl_cmd cmd;
	const char *addr; /* expected IP text, or NULL */
	unsigned plen;
	uint32_t seconds;
	const char *reason, *rule, *evtype, *user; /* NULL: empty */
	bool all, on, has_src;
	const char *err; /* expected in the message */
	long off;        /* error offset, -1: none */
};

#define OK(l, ...)                                  \
	{                                           \
		.line = (l), .off = -1, __VA_ARGS__ \
	}
#define BAD(l, e)                                                 \
	{                                                         \
		.line = (l), .rc = -EINVAL, .err = (e), .off = -1 \
	}
#define BADAT(l, e, o)                                             \
	{                                                          \
		.line = (l), .rc = -EINVAL, .err = (e), .off = (o) \
	}

static const struct req_case req_cases[] = {
	OK("{\"cmd\":\"bans\"}", .cmd = CTL_CMD_BANS),
	OK("{\"cmd\":\"rules\"}", .cmd = CTL_CMD_RULES),
	OK("{\"cmd\":\"stats\"}", .cmd = CTL_CMD_STATS),
	OK("{\"cmd\":\"reload\"}", .cmd = CTL_CMD_RELOAD),
	OK("{\"cmd\":\"calls\"}", .cmd = CTL_CMD_CALLS),
	OK("{\"cmd\":\"held\"}", .cmd = CTL_CMD_HELD),
	OK("{\"cmd\":\"unblock\",\"user\":\"alice\"}", .cmd = CTL_CMD_UNBLOCK,
	   .user = "alice"),
	/* Any text a SIP user part may be, UTF-8 included; 64 bytes. */
	OK("{\"cmd\":\"unblock\",\"user\":\"+44 20;x=\\u00e9\"}",
	   .cmd = CTL_CMD_UNBLOCK, .user = "+44 20;x=\xc3\xa9"),
	OK("{\"cmd\":\"unblock\",\"user\":"
	   "\"1234567890123456789012345678901234567890123456789012345678901234\"}",
	   .cmd = CTL_CMD_UNBLOCK,
	   .user = "1234567890123456789012345678901234567890123456789012345678901234"),
	OK(" \t{ \"cmd\" : \"bans\" }\r", .cmd = CTL_CMD_BANS),
	OK("{\"cmd\":\"drain\",\"on\":true}", .cmd = CTL_CMD_DRAIN, .on = true),
	OK("{\"cmd\":\"drain\",\"on\":false}", .cmd = CTL_CMD_DRAIN),
	OK("{\"cmd\":\"ban\",\"addr\":\"203.0.113.9\"}", .cmd = CTL_CMD_BAN,
	   .addr = "203.0.113.9"),
	OK("{\"addr\":\"203.0.113.9\",\"for_s\":3600,\"cmd\":\"ban\"}",
	   .cmd = CTL_CMD_BAN, .addr = "203.0.113.9", .seconds = 3600),
	OK("{\"cmd\":\"ban\",\"addr\":\"203.0.113.9\",\"for_s\":60,"
	   "\"reason\":\"svwar \\\"x\\\" r\\u00e9sum\\u00e9 \\ud83d\\ude00\"}",
	   .cmd = CTL_CMD_BAN, .addr = "203.0.113.9", .seconds = 60,
	   .reason = "svwar \"x\" r\xc3\xa9sum\xc3\xa9 \xf0\x9f\x98\x80"),
	OK("{\"cmd\":\"ban\",\"addr\":\"2001:db8:1:2::/64\",\"for_s\":31622400}",
	   .cmd = CTL_CMD_BAN, .addr = "2001:db8:1:2::", .plen = 64,
	   .seconds = CTL_BAN_MAX_S),
	OK("{\"cmd\":\"ban\",\"addr\":\"10.0.0.0/8\",\"reason\":\"\"}",
	   .cmd = CTL_CMD_BAN, .addr = "10.0.0.0", .plen = 8),
	OK("{\"cmd\":\"unban\",\"addr\":\"2001:db8::/64\"}",
	   .cmd = CTL_CMD_UNBAN, .addr = "2001:db8::", .plen = 64),
	OK("{\"cmd\":\"monitor\",\"rule\":\"scanner-ua\",\"on\":true}",
	   .cmd = CTL_CMD_MONITOR, .rule = "scanner-ua", .on = true),
	OK("{\"cmd\":\"monitor\",\"rule\":\"rate_invite.x\",\"on\":false}",
	   .cmd = CTL_CMD_MONITOR, .rule = "rate_invite.x"),
	OK("{\"cmd\":\"monitor\",\"all\":true,\"on\":true}",
	   .cmd = CTL_CMD_MONITOR, .all = true, .on = true),
	OK("{\"cmd\":\"events\",\"follow\":true}", .cmd = CTL_CMD_EVENTS),
	OK("{\"cmd\":\"events\",\"follow\":true,\"type\":\"would-ban\","
	   "\"src\":\"2001:db8::1\"}",
	   .cmd = CTL_CMD_EVENTS, .evtype = "would-ban", .addr = "2001:db8::1",
	   .has_src = true),

	/* Not JSON, or not one object. */
	BADAT("", "empty request", 0),
	BADAT("  ", "empty request", 2),
	BADAT("bans", "one JSON object per line", 0),
	BADAT("ban 1.2.3.4 60 old form", "one JSON object per line", 0),
	BADAT(" [1]", "one JSON object per line", 1),
	BADAT("{", "json: ", 1),
	BADAT("{\"cmd\":\"bans\",}", "json: ", 15),
	BADAT("{\"cmd\":\"bans\"} x", "json: end of file expected", 16),
	BADAT("{\"cmd\":\"bans\"}{}", "json: end of file expected", 15),
	BADAT("{'cmd':'bans'}", "json: ", 2),
	BADAT("{\"cmd\":\"bans\",\"cmd\":\"stats\"}", "duplicate object key",
	      19),
	BADAT("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\",\"addr\":\"5.6.7.8\"}",
	      "duplicate", 36),
	BADAT("{\"cmd\":\"b\xff\"}", "json: unable to decode byte", 9),
	BADAT("{\"cmd\":\"ba\nns\"}", "json: unexpected newline", 10),
	BADAT("{\"cmd\":\"bans\",\"x\":[[[[1]]]]}", "nested too deep", 21),
	BADAT("{\"cmd\":\"bans\",\"x\":\"[[[[[\"}", "unknown member \"x\"", -1),
	/* Members. */
	BAD("{}", "missing member \"cmd\""),
	BAD("{\"cmd\":1}", "cmd: expected a string"),
	BAD("{\"cmd\":{\"a\":1}}", "cmd: expected a string"),
	BAD("{\"cmd\":\"reboot\"}", "unknown command \"reboot\""),
	BAD("{\"cmd\":\"BANS\"}", "unknown command"),
	BAD("{\"cmd\":\"bans\",\"x\":1}", "unknown member \"x\""),
	BAD("{\"cmd\":\"bans\",\"\\u00e9t\\u00e9\":1}",
	    "unknown member \"??t??\""),
	BAD("{\"cmd\":\"bans\",\"on\":true}", "\"on\" does not go with bans"),
	BAD("{\"cmd\":\"unban\",\"addr\":\"1.2.3.4\",\"for_s\":60}",
	    "\"for_s\" does not go with unban"),
	BAD("{\"cmd\":\"ban\"}", "ban: missing member \"addr\""),
	BAD("{\"cmd\":\"ban\",\"addr\":1}", "addr: expected a string"),
	BAD("{\"cmd\":\"ban\",\"addr\":null}", "addr: expected a string"),
	BAD("{\"cmd\":\"ban\",\"addr\":\"\"}", "addr: expected 1 to"),
	BAD("{\"cmd\":\"ban\",\"addr\":\"1.2.3\"}", "addr: expected an IP"),
	BAD("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4:5060\"}",
	    "addr: expected an IP"),
	BAD("{\"cmd\":\"ban\",\"addr\":\"[::1]\"}", "addr: expected an IP"),
	BAD("{\"cmd\":\"ban\",\"addr\":\"host.example\"}", "addr: expected"),
	BAD("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4/33\"}", "addr: expected"),
	BAD("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4/0\"}", "addr: expected"),
	BAD("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4/\"}", "addr: expected"),
	BAD("{\"cmd\":\"ban\",\"addr\":\"::1/129\"}", "addr: expected"),
	BAD("{\"cmd\":\"ban\",\"addr\":\"::1/0064\"}", "addr: expected"),
	BAD("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\",\"for_s\":0}",
	    "for_s: expected an integer from 1 to 31622400"),
	BAD("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\",\"for_s\":-5}", "for_s: "),
	BAD("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\",\"for_s\":31622401}",
	    "for_s: "),
	BAD("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\",\"for_s\":60.0}", "for_s: "),
	BAD("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\",\"for_s\":1e3}", "for_s: "),
	BAD("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\",\"for_s\":\"60\"}",
	    "for_s: "),
	BAD("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\",\"for_s\":null}", "for_s: "),
	BAD("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\",\"for_s\":true}", "for_s: "),
	BADAT("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\","
	      "\"for_s\":99999999999999999999}",
	      "too big integer", 58),
	BAD("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\",\"reason\":7}",
	    "reason: expected a string"),
	BAD("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\",\"reason\":\"a\\nb\"}",
	    "reason: control character"),
	BAD("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\",\"reason\":\"\\u001b[2J\"}",
	    "reason: control character"),
	BAD("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\",\"reason\":\"\\u007f\"}",
	    "reason: control character"),
	BADAT("{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\",\"reason\":\"a\\u0000b\"}",
	      "json: \\u0000 is not allowed", 49),
	BAD("{\"cmd\":\"monitor\",\"on\":true}", "give \"rule\" or \"all\""),
	BAD("{\"cmd\":\"monitor\",\"rule\":\"x\",\"all\":true,\"on\":true}",
	    "not both"),
	BAD("{\"cmd\":\"monitor\",\"all\":false,\"on\":true}",
	    "all: expected true"),
	BAD("{\"cmd\":\"monitor\",\"rule\":\"scan/ner\",\"on\":true}",
	    "rule: bad character at 4"),
	BAD("{\"cmd\":\"monitor\",\"rule\":\"s\\u00e9\",\"on\":true}",
	    "rule: bad character at 1"),
	BAD("{\"cmd\":\"monitor\",\"rule\":\"*\",\"on\":true}",
	    "rule: bad character at 0"),
	BAD("{\"cmd\":\"monitor\",\"rule\":\"x\",\"on\":\"yes\"}",
	    "on: expected true or false"),
	BAD("{\"cmd\":\"monitor\",\"rule\":\"x\"}", "missing member \"on\""),
	BAD("{\"cmd\":\"drain\"}", "drain: missing member \"on\""),
	BAD("{\"cmd\":\"drain\",\"on\":1}", "on: expected true or false"),
	BAD("{\"cmd\":\"events\"}", "events: missing member \"follow\""),
	BAD("{\"cmd\":\"unblock\"}", "unblock: missing member \"user\""),
	BAD("{\"cmd\":\"unblock\",\"user\":\"\"}",
	    "user: expected 1 to 64 bytes"),
	BAD("{\"cmd\":\"unblock\",\"user\":"
	    "\"12345678901234567890123456789012345678901234567890123456789012345\"}",
	    "user: expected 1 to 64 bytes"),
	BAD("{\"cmd\":\"unblock\",\"user\":\"a\\nb\"}",
	    "user: control character"),
	BAD("{\"cmd\":\"unblock\",\"user\":7}", "user: expected a string"),
	BAD("{\"cmd\":\"held\",\"user\":\"alice\"}",
	    "\"user\" does not go with held"),
	BAD("{\"cmd\":\"events\",\"follow\":false}", "follow: expected true"),
	BAD("{\"cmd\":\"events\",\"follow\":true,\"type\":\"DROP\"}",
	    "type: bad character"),
	BAD("{\"cmd\":\"events\",\"follow\":true,\"type\":\"\"}",
	    "type: expected 1 to 32 bytes"),
	BAD("{\"cmd\":\"events\",\"follow\":true,"
	    "\"type\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	    "type: expected 1 to 32 bytes"),
	BAD("{\"cmd\":\"events\",\"follow\":true,\"src\":\"10.0.0.0/8\"}",
	    "src: no prefix here"),
	BAD("{\"cmd\":\"events\",\"follow\":true,\"src\":\"host.example\"}",
	    "src: expected an IP address"),
	BAD("{\"cmd\":\"events\",\"follow\":true,\"addr\":\"10.0.0.1\"}",
	    "\"addr\" does not go with events"),
};

static void check_fields(const struct req_case *tc, const struct ctl_req *rq)
{
	char ip[SG_ADDR_STRLEN];

	assert_int_equal(rq->cmd, tc->cmd);
	if (tc->addr) {
		assert_int_equal(sg_addr_port(&rq->addr), 0);
		assert_string_equal(sg_addr_ip(&rq->addr, ip, sizeof(ip)),
				    tc->addr);
	}
	assert_int_equal(rq->plen, tc->plen);
	assert_int_equal(rq->seconds, tc->seconds);
	assert_string_equal(rq->reason, tc->reason ? tc->reason : "");
	assert_string_equal(rq->rule, tc->rule ? tc->rule : "");
	assert_string_equal(rq->evtype, tc->evtype ? tc->evtype : "");
	assert_string_equal(rq->user, tc->user ? tc->user : "");
	assert_int_equal(rq->all, tc->all);
	assert_int_equal(rq->on, tc->on);
	assert_int_equal(rq->has_src, tc->has_src);
}

static void check_req(const struct req_case *tc)
{
	struct ctl_perr pe = {999, "x"};
	struct ctl_req rq, back;
	char line[CTL_REQ_MAX];
	int rc = ctl_req_parse(&rq, str_cstr(tc->line), &pe);
	long n;

	if (rc != tc->rc)
		fail_msg("%s: rc %d, want %d (%s)", tc->line, rc, tc->rc,
			 pe.msg);
	if (rc) {
		if (!strstr(pe.msg, tc->err) || pe.off != tc->off)
			fail_msg("%s: \"%s\" at %ld, want \"%s\" at %ld",
				 tc->line, pe.msg, pe.off, tc->err, tc->off);
		return;
	}
	assert_int_equal(pe.off, -1);
	check_fields(tc, &rq);
	/* The encoder gives a line the parser reads back the same. */
	n = ctl_req_format(line, sizeof(line), &rq);
	assert_true(n > 0 && (size_t)n == strlen(line));
	assert_int_equal(ctl_req_parse(&back, str_make(line, (size_t)n), &pe),
			 0);
	check_fields(tc, &back);
}

static void test_requests(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++)
		check_req(&req_cases[i]);
}

static void test_request_limits(void **state)
{
	char line[CTL_REQ_MAX + 8];
	struct ctl_perr pe;
	struct ctl_req rq;
	size_t n, k;

	(void)state;
	/* A NUL in the line is not an end: the JSON is bad. */
	assert_int_equal(
		ctl_req_parse(&rq, str_make("{\"cmd\":\"bans\"}\0x", 16), &pe),
		-EINVAL);
	assert_non_null(strstr(pe.msg, "json: "));
	/* A reason at the cap passes, one byte more does not. */
	n = (size_t)snprintf(line, sizeof(line),
			     "{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\","
			     "\"reason\":\"");
	memset(line + n, 'r', CTL_REASON_MAX);
	memcpy(line + n + CTL_REASON_MAX, "\"}", 3);
	assert_int_equal(ctl_req_parse(&rq, str_cstr(line), &pe), 0);
	assert_int_equal(strlen(rq.reason), CTL_REASON_MAX);
	memcpy(line + n + CTL_REASON_MAX, "r\"}", 4);
	assert_int_equal(ctl_req_parse(&rq, str_cstr(line), &pe), -EINVAL);
	assert_string_equal(pe.msg, "reason: expected 1 to 200 bytes");
	/* Escapes count as what they decode to: 200 x "\u00e9" is 400
	 * bytes of reason, refused; 100 of them pass. */
	for (k = 0; k < 100; k++)
		memcpy(line + n + 6 * k, "\\u00e9", 6);
	memcpy(line + n + 600, "\"}", 3);
	assert_int_equal(ctl_req_parse(&rq, str_cstr(line), &pe), 0);
	assert_int_equal(strlen(rq.reason), 200);
	/* The longest line passes the length check, one more does not. */
	memset(line, ' ', sizeof(line));
	memcpy(line, "{\"cmd\":\"bans\"}", 14);
	assert_int_equal(
		ctl_req_parse(&rq, str_make(line, CTL_REQ_MAX - 1), &pe), 0);
	assert_int_equal(ctl_req_parse(&rq, str_make(line, CTL_REQ_MAX), &pe),
			 -EINVAL);
	assert_string_equal(pe.msg, "request too long");
	assert_int_equal(pe.off, CTL_REQ_MAX - 1);
	/* Deep nesting inside strings is just text; outside it is refused
	 * before jansson recurses. */
	memset(line, '[', sizeof(line));
	assert_int_equal(ctl_req_parse(&rq, str_make(line, 1000), &pe),
			 -EINVAL);
	/* Every prefix of a valid request either parses or fails cleanly. */
	snprintf(line, sizeof(line),
		 "{\"cmd\":\"ban\",\"addr\":\"2001:db8::1/64\",\"for_s\":3600,"
		 "\"reason\":\"r\\u00e9ason\"}");
	for (n = 0; n <= strlen(line); n++) {
		int rc = ctl_req_parse(&rq, str_make(line, n), &pe);

		assert_true(rc == (n == strlen(line) ? 0 : -EINVAL));
	}
	assert_int_equal(ctl_req_parse(NULL, STR("{}"), NULL), -EINVAL);
	assert_int_equal(ctl_req_parse(&rq, str_make(NULL, 3), NULL), -EINVAL);
	assert_int_equal(ctl_req_parse(&rq, STR("{}"), NULL), -EINVAL);
}

/* jansson's allocations fail: an error, never a crash or a leak. */
static void test_request_nomem(void **state)
{
	static const char line[] =
		"{\"cmd\":\"ban\",\"addr\":\"1.2.3.4\",\"for_s\":60,"
		"\"reason\":\"x\"}";
	struct ctl_req rq;
	char out[CTL_REQ_MAX];
	size_t nth;
	int rc;

	(void)state;
	for (nth = 1; nth < 64; nth++) {
		mem_fail_nth(nth);
		rc = ctl_req_parse(&rq, STR(line), NULL);
		mem_fail_nth(0);
		assert_true(rc == 0 || rc == -ENOMEM || rc == -EINVAL);
		if (rc == 0)
			break;
	}
	assert_int_equal(ctl_req_parse(&rq, STR(line), NULL), 0);
	for (nth = 1; nth < 64; nth++) {
		long n;

		mem_fail_nth(nth);
		n = ctl_req_format(out, sizeof(out), &rq);
		mem_fail_nth(0);
		assert_true(n > 0 || n == -ENOMEM || n == -EINVAL);
		if (n > 0)
			break;
	}
}

static void test_format(void **state)
{
	struct ctl_req rq;
	char out[80];

	(void)state;
	memset(&rq, 0, sizeof(rq));
	rq.cmd = CTL_CMD_BAN;
	assert_int_equal(sg_addr_from_host(&rq.addr, STR("192.0.2.7"), 0), 0);
	rq.seconds = 90;
	snprintf(rq.reason, sizeof(rq.reason), "a \"b\"");
	assert_int_equal(ctl_req_format(out, sizeof(out), &rq), 62);
	assert_string_equal(out, "{\"cmd\":\"ban\",\"addr\":\"192.0.2.7\","
				 "\"for_s\":90,\"reason\":\"a \\\"b\\\"\"}");
	assert_int_equal(ctl_req_format(out, 62, &rq), -ENOSPC);
	assert_int_equal(ctl_req_format(out, 63, &rq), 62);
	/* Not UTF-8: refused, not sent. */
	snprintf(rq.reason, sizeof(rq.reason), "\xff");
	assert_int_equal(ctl_req_format(out, sizeof(out), &rq), -EINVAL);
	rq.cmd = 0;
	assert_int_equal(ctl_req_format(out, sizeof(out), &rq), -EINVAL);
	assert_int_equal(ctl_req_format(NULL, 1, &rq), -EINVAL);
	assert_int_equal(ctl_req_format(out, sizeof(out), NULL), -EINVAL);
	rq.cmd = CTL_CMD_DRAIN;
	assert_true(ctl_req_format(out, sizeof(out), &rq) > 0);
	assert_string_equal(out, "{\"cmd\":\"drain\",\"on\":false}");
}

static void test_addr(void **state)
{
	struct sg_addr a;
	uint8_t plen = 9;

	(void)state;
	assert_int_equal(ctl_addr_parse(&a, &plen, STR("10.1.2.3")), 0);
	assert_int_equal(plen, 0);
	assert_int_equal(ctl_addr_parse(&a, &plen, STR("2001:db8::/32")), 0);
	assert_int_equal(plen, 32);
	assert_int_equal(ctl_addr_parse(&a, &plen, STR("10.1.2.3 ")), -EINVAL);
	assert_int_equal(ctl_addr_parse(&a, &plen, STR("")), -EINVAL);
	assert_int_equal(ctl_addr_parse(NULL, &plen, STR("1.2.3.4")), -EINVAL);
}

static void test_duration(void **state)
{
	static const struct {
		const char *s;
		int rc;
		uint32_t v;
	} cases[] = {
		{"3600", 0, 3600},
		{"90s", 0, 90},
		{"30m", 0, 1800},
		{"12h", 0, 43200},
		{"7d", 0, 604800},
		{"1w", 0, 604800},
		{"366d", 0, CTL_BAN_MAX_S},
		{"367d", -EINVAL, 0},
		{"53w", -EINVAL, 0},
		{"0", -EINVAL, 0},
		{"0h", -EINVAL, 0},
		{"", -EINVAL, 0},
		{"h", -EINVAL, 0},
		{"1x", -EINVAL, 0},
		{"-1", -EINVAL, 0},
		{"1h30m", -EINVAL, 0},
		{" 1h", -EINVAL, 0},
		{"99999999999999999999s", -EINVAL, 0},
	};
	uint32_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = 0;
		assert_int_equal(ctl_duration_parse(&v, str_cstr(cases[i].s)),
				 cases[i].rc);
		if (!cases[i].rc)
			assert_int_equal(v, cases[i].v);
	}
	assert_int_equal(ctl_duration_parse(NULL, STR("1")), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_request_limits),
		cmocka_unit_test(test_request_nomem),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_duration),
	};
	int rc;

	/* Count jansson's allocations with ours (leak check, injection). */
	json_set_alloc_funcs(mem_alloc, mem_free);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	assert_no_leaks();
	return rc;
}
