/*
 * test_ctlproto.c - the control protocol as pure functions: a table of
 * request lines (valid, invalid, oversize, trailing garbage, control
 * bytes, every command and argument form) with the expected request or
 * error offset; sipguardctl durations; the JSON answer reader (valid and
 * invalid texts, navigation, unescaping with surrogate pairs, token
 * exhaustion, nesting limit).
 */
#include <errno.h>
#include <stdio.h>

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
	const char *reason; /* or NULL: empty */
	const char *rule;   /* or NULL: empty */
	bool all, on;
	size_t off; /* error offset */
};

#define BAD(l, o)                                      \
	{                                              \
		.line = (l), .rc = -EINVAL, .off = (o) \
	}

static const struct req_case req_cases[] = {
	{.line = "bans", .cmd = CTL_CMD_BANS},
	{.line = "rules", .cmd = CTL_CMD_RULES},
	{.line = "stats", .cmd = CTL_CMD_STATS},
	{.line = "reload", .cmd = CTL_CMD_RELOAD},
	{.line = "calls", .cmd = CTL_CMD_CALLS},
	{.line = "drain on", .cmd = CTL_CMD_DRAIN, .on = true},
	{.line = "drain off", .cmd = CTL_CMD_DRAIN},
	{.line = "ban 203.0.113.9", .cmd = CTL_CMD_BAN, .addr = "203.0.113.9"},
	{.line = "ban 203.0.113.9 3600",
	 .cmd = CTL_CMD_BAN,
	 .addr = "203.0.113.9",
	 .seconds = 3600},
	{.line = "ban 203.0.113.9 default",
	 .cmd = CTL_CMD_BAN,
	 .addr = "203.0.113.9"},
	{.line = "ban 203.0.113.9 60 svwar scan from \"x\"",
	 .cmd = CTL_CMD_BAN,
	 .addr = "203.0.113.9",
	 .seconds = 60,
	 .reason = "svwar scan from \"x\""},
	{.line = "ban 2001:db8:1:2::/64 31622400 r\xc3\xa9sum\xc3\xa9",
	 .cmd = CTL_CMD_BAN,
	 .addr = "2001:db8:1:2::",
	 .plen = 64,
	 .seconds = 31622400,
	 .reason = "r\xc3\xa9sum\xc3\xa9"},
	{.line = "ban 1.2.3.4 60 trailing space ",
	 .cmd = CTL_CMD_BAN,
	 .addr = "1.2.3.4",
	 .seconds = 60,
	 .reason = "trailing space "},
	{.line = "ban 10.0.0.0/8",
	 .cmd = CTL_CMD_BAN,
	 .addr = "10.0.0.0",
	 .plen = 8},
	{.line = "ban ::ffff:1.2.3.4",
	 .cmd = CTL_CMD_BAN,
	 .addr = "::ffff:1.2.3.4"},
	{.line = "unban 203.0.113.9",
	 .cmd = CTL_CMD_UNBAN,
	 .addr = "203.0.113.9"},
	{.line = "unban 2001:db8::/64",
	 .cmd = CTL_CMD_UNBAN,
	 .addr = "2001:db8::",
	 .plen = 64},
	{.line = "monitor scanner-ua on",
	 .cmd = CTL_CMD_MONITOR,
	 .rule = "scanner-ua",
	 .on = true},
	{.line = "monitor rate_invite.x off",
	 .cmd = CTL_CMD_MONITOR,
	 .rule = "rate_invite.x"},
	{.line = "monitor * on",
	 .cmd = CTL_CMD_MONITOR,
	 .all = true,
	 .on = true},

	/* errors: offset of the first bad byte */
	BAD("", 0),
	BAD(" bans", 0),
	BAD("bans ", 4),
	BAD("bans x", 5),
	BAD("BANS", 0),
	BAD("bansx", 0),
	BAD("bans\r", 4),
	BAD("stats\x7f", 5),
	BAD("reload now", 7),
	BAD("drain", 5),
	BAD("drain maybe", 6),
	BAD("drain on now", 9),
	BAD("calls all", 6),
	BAD("ban", 3),
	BAD("ban ", 3),
	BAD("ban  1.2.3.4", 4),
	BAD("ban 1.2.3.4 ", 11),
	BAD("ban 1.2.3", 4),
	BAD("ban 1.2.3.4:5060", 4),
	BAD("ban [::1]", 4),
	BAD("ban host.example", 4),
	BAD("ban 1.2.3.4/33", 12),
	BAD("ban 1.2.3.4/0", 12),
	BAD("ban 1.2.3.4/", 12),
	BAD("ban ::1/129", 8),
	BAD("ban ::1/0064", 8),
	BAD("ban 1.2.3.4 0", 12),
	BAD("ban 1.2.3.4 -5", 12),
	BAD("ban 1.2.3.4 31622401", 12),
	BAD("ban 1.2.3.4 99999999999999999999", 12),
	BAD("ban 1.2.3.4 1h", 12),
	BAD("ban 1.2.3.4 60  two spaces", 15),
	BAD("ban 1.2.3.4 60 a\tb", 16),
	BAD("ban 1.2.3.4 60 a\nb", 16),
	BAD("unban 1.2.3.4 60", 14),
	BAD("unban", 5),
	BAD("monitor scanner-ua", 18),
	BAD("monitor scanner-ua yes", 19),
	BAD("monitor scanner-ua on off", 22),
	BAD("monitor scan/ner on", 12),
	BAD("monitor ** on", 8),
	BAD("monitor s\xc3\xa9 on", 9),
};

static void check_req(const struct req_case *tc, struct str line)
{
	struct ctl_perr pe = {999, NULL};
	struct ctl_req rq;
	char ip[SG_ADDR_STRLEN];
	int rc = ctl_req_parse(&rq, line, &pe);

	if (rc != tc->rc)
		fail_msg("\"%s\": rc %d, want %d (%s at %zu)", tc->line, rc,
			 tc->rc, pe.why ? pe.why : "-", pe.off);
	if (rc) {
		assert_non_null(pe.why);
		if (pe.off != tc->off)
			fail_msg("\"%s\": error \"%s\" at %zu, want %zu",
				 tc->line, pe.why, pe.off, tc->off);
		return;
	}
	assert_int_equal(rq.cmd, tc->cmd);
	if (tc->addr) {
		assert_int_equal(sg_addr_port(&rq.addr), 0);
		assert_string_equal(sg_addr_ip(&rq.addr, ip, sizeof(ip)),
				    tc->addr);
	}
	assert_int_equal(rq.plen, tc->plen);
	assert_int_equal(rq.seconds, tc->seconds);
	assert_str_equal_cstr(rq.reason, tc->reason ? tc->reason : "");
	assert_str_equal_cstr(rq.rule, tc->rule ? tc->rule : "");
	assert_int_equal(rq.all, tc->all);
	assert_int_equal(rq.on, tc->on);
	/* Slices point into the line. */
	if (rq.reason.len)
		assert_true(rq.reason.p >= line.p &&
			    rq.reason.p + rq.reason.len <= line.p + line.len);
}

static void test_requests(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++)
		check_req(&req_cases[i], str_cstr(req_cases[i].line));
}

static void test_request_limits(void **state)
{
	char line[CTL_REQ_MAX + 8];
	struct ctl_perr pe;
	struct ctl_req rq;
	size_t n;

	(void)state;
	/* A NUL inside the line is a control byte, not an end. */
	assert_int_equal(ctl_req_parse(&rq, str_make("bans\0x", 6), &pe),
			 -EINVAL);
	assert_int_equal(pe.off, 4);
	/* A reason at the cap passes, one byte more does not. */
	n = (size_t)snprintf(line, sizeof(line), "ban 1.2.3.4 60 ");
	memset(line + n, 'r', CTL_REASON_MAX);
	assert_int_equal(
		ctl_req_parse(&rq, str_make(line, n + CTL_REASON_MAX), &pe), 0);
	assert_int_equal(rq.reason.len, CTL_REASON_MAX);
	line[n + CTL_REASON_MAX] = 'r';
	assert_int_equal(
		ctl_req_parse(&rq, str_make(line, n + CTL_REASON_MAX + 1), &pe),
		-EINVAL);
	/* Oversize lines fail before anything is looked at. */
	memset(line, 'a', sizeof(line));
	assert_int_equal(ctl_req_parse(&rq, str_make(line, CTL_REQ_MAX), &pe),
			 -EINVAL);
	assert_string_equal(pe.why, "request too long");
	/* Every prefix of a valid request either parses or fails cleanly. */
	snprintf(line, sizeof(line), "ban 2001:db8::1/64 3600 reason text");
	for (n = 0; n <= strlen(line); n++) {
		int rc = ctl_req_parse(&rq, str_make(line, n), NULL);

		assert_true(rc == 0 || rc == -EINVAL);
	}
	assert_int_equal(ctl_req_parse(NULL, STR("bans"), NULL), -EINVAL);
	assert_int_equal(ctl_req_parse(&rq, str_make(NULL, 3), NULL), -EINVAL);
	assert_int_equal(ctl_req_parse(&rq, STR_NULL, NULL), -EINVAL);
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

/* ---------------------------------------------------------------- JSON */

static void test_json_valid(void **state)
{
	static const char text[] =
		" {\"ok\":true,\"bans\":[{\"addr\":\"1.2.3.4\",\"hits\":12,"
		"\"reason\":\"a\\\"b\\\\c\\u00e9\\ud83d\\ude00\\ud800x\\n\"},"
		"{\"addr\":\"::1\",\"expires_in\":null}],\"x\":[-0.5e+3,1E2,"
		"false,[],{}],\"global_monitor\":false} \n";
	struct ctl_jtok t[64];
	char buf[64];
	long n, bans, item, v;
	uint64_t u;

	(void)state;
	n = ctl_json_parse(t, 64, STR(text), NULL);
	assert_int_equal(n, 26);
	assert_int_equal(t[0].type, CTL_J_OBJ);
	assert_int_equal(t[0].n, 4);
	assert_int_equal(t[0].next, 26);
	v = ctl_json_get(t, (size_t)n, 0, "ok");
	assert_int_equal(t[v].type, CTL_J_TRUE);
	bans = ctl_json_get(t, (size_t)n, 0, "bans");
	assert_int_equal(t[bans].type, CTL_J_ARR);
	assert_int_equal(t[bans].n, 2);
	item = bans + 1;
	v = ctl_json_get(t, (size_t)n, (size_t)item, "hits");
	assert_int_equal(ctl_json_u64(&u, &t[v]), 0);
	assert_int_equal(u, 12);
	v = ctl_json_get(t, (size_t)n, (size_t)item, "reason");
	assert_int_equal(ctl_json_unescape(buf, sizeof(buf), &t[v]), 16);
	assert_string_equal(buf, "a\"b\\c\xc3\xa9\xf0\x9f\x98\x80"
				 "\xef\xbf\xbdx\n");
	assert_int_equal(ctl_json_unescape(buf, 6, &t[v]), -ENOSPC);
	assert_string_equal(buf, "a\"b\\c");
	/* \u0000 would cut the C string: it becomes U+FFFD. */
	assert_int_equal(ctl_json_parse(t, 64, STR("\"a\\u0000b\""), NULL), 1);
	assert_int_equal(ctl_json_unescape(buf, sizeof(buf), &t[0]), 5);
	assert_string_equal(buf, "a\xef\xbf\xbd"
				 "b");
	n = ctl_json_parse(t, 64, STR(text), NULL);
	v = ctl_json_get(t, (size_t)n, (size_t)item, "reason");
	item = t[item].next;
	v = ctl_json_get(t, (size_t)n, (size_t)item, "expires_in");
	assert_int_equal(t[v].type, CTL_J_NULL);
	assert_int_equal(ctl_json_get(t, (size_t)n, (size_t)item, "hits"), -1);
	assert_int_equal(ctl_json_get(t, (size_t)n, (size_t)bans, "x"), -1);
	v = ctl_json_get(t, (size_t)n, 0, "x");
	assert_int_equal(t[v].n, 5);
	assert_int_equal(t[v + 1].type, CTL_J_NUM);
	assert_str_equal_cstr(t[v + 1].s, "-0.5e+3");
	assert_int_equal(ctl_json_u64(&u, &t[v + 1]), -EINVAL);
	v = ctl_json_get(t, (size_t)n, 0, "global_monitor");
	assert_int_equal(t[v].type, CTL_J_FALSE);
	/* Too few tokens. */
	assert_int_equal(ctl_json_parse(t, 10, STR(text), NULL), -ENOSPC);
	assert_int_equal(ctl_json_parse(t, 1, STR("7"), NULL), 1);
}

static void test_json_invalid(void **state)
{
	static const struct {
		const char *s;
		size_t off;
	} bad[] = {
		{"", 0},
		{"  ", 2},
		{"{", 1},
		{"{\"a\"}", 4},
		{"{\"a\":}", 5},
		{"{a:1}", 1},
		{"[1,]", 3},
		{"[1 2]", 3},
		{"{\"a\":1,}", 7},
		{"01", 1},
		{"1.", 2},
		{"1e", 2},
		{"-", 1},
		{"+1", 0},
		{"tru", 0},
		{"nul", 0},
		{"\"abc", 4},
		{"\"a\nb\"", 2},
		{"\"\\x\"", 2},
		{"\"\\u12g4\"", 5},
		{"\"\\u12\"", 5},
		{"{} {}", 3},
		{"[1]]", 3},
		{"'a'", 0},
		{"[\"a\"\"b\"]", 4},
	};
	struct ctl_jtok t[64];
	struct ctl_perr pe;
	char deep[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pe.off = 999;
		pe.why = NULL;
		if (ctl_json_parse(t, 64, str_cstr(bad[i].s), &pe) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i].s);
		assert_non_null(pe.why);
		if (pe.off != bad[i].off)
			fail_msg("\"%s\": %s at %zu, want %zu", bad[i].s,
				 pe.why, pe.off, bad[i].off);
	}
	/* Nesting: CTL_JSON_DEPTH levels pass, one more does not. */
	memset(deep, '[', CTL_JSON_DEPTH);
	memset(deep + CTL_JSON_DEPTH, ']', CTL_JSON_DEPTH);
	assert_int_equal(
		ctl_json_parse(t, 64, str_make(deep, 2 * CTL_JSON_DEPTH), NULL),
		CTL_JSON_DEPTH);
	memset(deep, '[', CTL_JSON_DEPTH + 1);
	memset(deep + CTL_JSON_DEPTH + 1, ']', CTL_JSON_DEPTH + 1);
	assert_int_equal(ctl_json_parse(t, 64,
					str_make(deep, 2 * CTL_JSON_DEPTH + 2),
					&pe),
			 -EINVAL);
	assert_string_equal(pe.why, "nested too deep");
	assert_int_equal(ctl_json_parse(NULL, 4, STR("1"), NULL), -EINVAL);
	assert_int_equal(ctl_json_get(NULL, 0, 0, "a"), -1);
	assert_int_equal(ctl_json_unescape(NULL, 1, t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_request_limits),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_json_valid),
		cmocka_unit_test(test_json_invalid),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
