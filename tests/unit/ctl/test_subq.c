/*
 * test_subq.c - what sipguardctl events --follow rests on, as pure
 * functions: the "events" request (a table of valid and invalid JSON
 * filter forms), the filter against event lines as the event log writes them
 * (attacker-chosen fields that imitate a filtered field included), and
 * the follower's queue: order, the oldest lost first when full and
 * counted in one {"missed":N} line, wrap-around, lines too large, the
 * batch limit, and allocation failure.
 */
#include <errno.h>
#include <stdio.h>

#include "test.h"
#include "core/buf.h"
#include "ctl/ctl.h"

/* ------------------------------------------------------------- request */

struct ev_case {
	const char *line;
	int rc;
	const char *type; /* expected filter, or NULL */
	const char *src;
};

#define EV(m) "{\"cmd\":\"events\",\"follow\":true" m "}"

static const struct ev_case ev_cases[] = {
	{EV(""), 0, NULL, NULL},
	{EV(",\"type\":\"drop\""), 0, "drop", NULL},
	{EV(",\"type\":\"would-ban\""), 0, "would-ban", NULL},
	{EV(",\"src\":\"203.0.113.9\""), 0, NULL, "203.0.113.9"},
	{EV(",\"src\":\"2001:db8::1\",\"type\":\"ban\""), 0, "ban",
	 "2001:db8::1"},
	{EV(",\"type\":\"ban\",\"src\":\"10.0.0.1\""), 0, "ban", "10.0.0.1"},
	{EV(",\"type\":\"\""), -EINVAL, NULL, NULL},
	{EV(",\"type\":\"DROP\""), -EINVAL, NULL, NULL},
	{EV(",\"type\":\"drop\",\"type\":\"ban\""), -EINVAL, NULL, NULL},
	{EV(",\"src\":\"10.0.0.1\",\"src\":\"10.0.0.2\""), -EINVAL, NULL, NULL},
	{EV(",\"src\":\"10.0.0.0/8\""), -EINVAL, NULL, NULL},
	{EV(",\"src\":\"host.example\""), -EINVAL, NULL, NULL},
	{EV(",\"src\":null"), -EINVAL, NULL, NULL},
	{EV(",\"type\":[\"drop\"]"), -EINVAL, NULL, NULL},
	{EV(",\"filter\":\"drop\""), -EINVAL, NULL, NULL},
	{"{\"cmd\":\"events\"}", -EINVAL, NULL, NULL},
	{"{\"cmd\":\"events\",\"follow\":1}", -EINVAL, NULL, NULL},
	{EV(",\"type\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""), -EINVAL, NULL,
	 NULL},
	{"events type=drop", -EINVAL, NULL, NULL},
};

static void test_events_request(void **state)
{
	char ip[SG_ADDR_STRLEN];
	struct ctl_req rq;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ev_cases) / sizeof(ev_cases[0]); i++) {
		const struct ev_case *c = &ev_cases[i];
		int rc = ctl_req_parse(&rq, str_cstr(c->line), NULL);

		if (rc != c->rc)
			fail_msg("%s: rc %d, want %d", c->line, rc, c->rc);
		if (rc)
			continue;
		assert_int_equal(rq.cmd, CTL_CMD_EVENTS);
		assert_string_equal(rq.evtype, c->type ? c->type : "");
		assert_int_equal(rq.has_src, c->src != NULL);
		if (c->src)
			assert_string_equal(
				sg_addr_ip(&rq.addr, ip, sizeof(ip)), c->src);
	}
}

/* -------------------------------------------------------------- filter */

#define LINE(type, src, user)                                              \
	"{\"ts\":\"2026-01-01T00:00:00.000Z\",\"type\":\"" type "\","      \
	"\"event\":\"scanner\",\"zone\":\"internet\",\"src\":" src         \
	",\"src_port\":5060,\"transport\":\"UDP\",\"method\":\"OPTIONS\"," \
	"\"user\":" user ",\"rule\":\"scanner-ua\",\"action\":\"drop\","   \
	"\"reason\":null,\"status\":null,\"count\":1,\"repeat\":false}\n"

struct filt_case {
	const char *type, *src; /* filter (NULL: none) */
	const char *line;
	bool match;
};

static const struct filt_case filt_cases[] = {
	{NULL, NULL, LINE("drop", "\"192.0.2.1\"", "null"), true},
	{"drop", NULL, LINE("drop", "\"192.0.2.1\"", "null"), true},
	{"ban", NULL, LINE("drop", "\"192.0.2.1\"", "null"), false},
	{"dro", NULL, LINE("drop", "\"192.0.2.1\"", "null"), false},
	{NULL, "192.0.2.1", LINE("drop", "\"192.0.2.1\"", "null"), true},
	{NULL, "192.0.2.1", LINE("drop", "\"192.0.2.10\"", "null"), false},
	{NULL, "192.0.2.1", LINE("drop", "null", "null"), false},
	{NULL, "2001:db8::", LINE("ban", "\"2001:db8::/64\"", "null"), true},
	{"ban", "192.0.2.1", LINE("ban", "\"192.0.2.1\"", "null"), true},
	{"ban", "192.0.2.1", LINE("drop", "\"192.0.2.1\"", "null"), false},
	/* An attacker's user part imitating the fields: escaped, so the
	 * filter sees only the real ones, which come first. */
	{"ban", NULL,
	 LINE("drop", "\"192.0.2.1\"", "\"x\\\",\\\"type\\\":\\\"ban\""),
	 false},
	{NULL, "10.0.0.1",
	 LINE("drop", "\"192.0.2.1\"", "\"\\\",\\\"src\\\":\\\"10.0.0.1\""),
	 false},
};

static void test_filter(void **state)
{
	struct ctl_filter f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(filt_cases) / sizeof(filt_cases[0]); i++) {
		const struct filt_case *c = &filt_cases[i];

		memset(&f, 0, sizeof(f));
		if (c->type)
			snprintf(f.type, sizeof(f.type), "%s", c->type);
		if (c->src)
			assert_int_equal(
				sg_addr_from_host(&f.src, str_cstr(c->src), 0),
				0);
		if (ctl_filter_match(&f, str_cstr(c->line)) != c->match)
			fail_msg("case %zu: want %d", i, c->match);
	}
	assert_true(ctl_filter_match(NULL, STR("anything")));
}

/* --------------------------------------------------------------- queue */

static void push_n(struct ctl_subq *q, unsigned from, unsigned n)
{
	char line[32];
	unsigned i;

	for (i = from; i < from + n; i++) {
		int len = snprintf(line, sizeof(line), "{\"n\":%04u}\n", i);

		assert_int_equal(ctl_subq_push(q, line, (size_t)len), 0);
	}
}

static void test_queue_order_and_loss(void **state)
{
	struct ctl_subq q;
	struct buf out;

	(void)state;
	/* 11-byte lines + 2-byte headers: 10 fit in 130 bytes. */
	assert_int_equal(ctl_subq_init(&q, 130), 0);
	buf_init(&out, 1 << 20);
	push_n(&q, 0, 3);
	assert_int_equal(ctl_subq_pop(&q, &out, 1 << 20), 3);
	assert_str_equal_cstr(buf_str(&out),
			      "{\"n\":0000}\n{\"n\":0001}\n{\"n\":0002}\n");
	/* 25 more: the first 15 are lost, 10 kept, in order, across the
	 * ring's end. */
	buf_reset(&out);
	push_n(&q, 3, 25);
	assert_int_equal(q.lines, 10);
	assert_int_equal(q.missed, 15);
	assert_int_equal(ctl_subq_pop(&q, &out, 1 << 20), 10);
	assert_memory_equal(out.p, "{\"missed\":15}\n{\"n\":0018}\n", 25);
	assert_memory_equal(out.p + out.len - 11, "{\"n\":0027}\n", 11);
	assert_int_equal(q.missed, 0);
	assert_int_equal(q.len, 0);
	/* Empty: nothing, not even a missed line. */
	buf_reset(&out);
	assert_int_equal(ctl_subq_pop(&q, &out, 1 << 20), 0);
	assert_int_equal(out.len, 0);
	buf_free(&out);
	ctl_subq_free(&q);
}

static void test_queue_limits(void **state)
{
	char big[200];
	struct ctl_subq q;
	struct buf out;

	(void)state;
	assert_int_equal(ctl_subq_init(&q, 10), -EINVAL);
	assert_int_equal(ctl_subq_init(&q, (size_t)CTL_SUBQ_MAX + 1), -EINVAL);
	assert_int_equal(ctl_subq_init(&q, 130), 0);
	memset(big, 'x', sizeof(big));
	/* Larger than the queue: refused and counted, the rest kept. */
	push_n(&q, 0, 2);
	assert_int_equal(ctl_subq_push(&q, big, sizeof(big)), -E2BIG);
	assert_int_equal(q.lines, 2);
	assert_int_equal(q.missed, 1);
	/* The batch limit: one line always moves, then whole lines only. */
	buf_init(&out, 1 << 20);
	assert_int_equal(ctl_subq_pop(&q, &out, 1), 1);
	assert_int_equal(ctl_subq_pop(&q, &out, 1), 1);
	assert_int_equal(ctl_subq_push(NULL, "x", 1), -EINVAL);
	assert_int_equal(ctl_subq_pop(&q, NULL, 1), -EINVAL);
	buf_free(&out);
	ctl_subq_free(&q);
	ctl_subq_free(NULL);
	/* Allocation failure leaves nothing behind. */
	mem_fail_nth(1);
	assert_int_equal(ctl_subq_init(&q, 130), -ENOMEM);
	mem_fail_nth(0);
}

/* Many rounds of random pushes and pops against a model: what comes out
 * is always in order, and kept + missed == pushed. */
static void test_queue_model(void **state)
{
	struct ctl_subq q;
	struct buf out;
	unsigned next = 0, seen = 0, missed = 0, r, k;
	uint32_t rnd = 12345;

	(void)state;
	assert_int_equal(ctl_subq_init(&q, 256), 0);
	buf_init(&out, 1 << 20);
	for (r = 0; r < 2000; r++) {
		rnd = rnd * 1103515245u + 12345u;
		push_n(&q, next, (rnd >> 16) % 7);
		next += (rnd >> 16) % 7;
		if ((rnd >> 8) % 3)
			continue;
		buf_reset(&out);
		(void)ctl_subq_pop(&q, &out, 64);
		for (k = 0; k < out.len;) {
			unsigned m, n;

			if (sscanf(out.p + k, "{\"missed\":%u}", &m) == 1) {
				missed += m;
				seen += m;
			} else {
				assert_int_equal(
					sscanf(out.p + k, "{\"n\":%u}", &n), 1);
				assert_int_equal(n, seen);
				seen++;
			}
			k = (unsigned)((char *)memchr(out.p + k, '\n',
						      out.len - k) -
				       out.p) +
			    1;
		}
	}
	assert_int_equal(seen + q.missed + q.lines, next);
	assert_true(missed > 0);
	buf_free(&out);
	ctl_subq_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_request),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_queue_order_and_loss),
		cmocka_unit_test(test_queue_limits),
		cmocka_unit_test(test_queue_model),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
