/*
 * test_evlog.c - the security event log: exact lines for full and empty
 * events (the schema of docs/events.md), hostile strings escaped, field
 * caps, a flood of 100000 identical events written as two lines with the
 * exact count, steady floods over many windows, distinct sources, the
 * line-rate cap and its "suppressed" line, eviction from a full table,
 * IPv6 prefixes, the file writer, and allocation failures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "core/buf.h"
#include "events/events.h"

static const uint64_t wall0 = 1714566896789ULL;

/* ---------------------------------------------------------- line sink */

enum { SINK_MAX = 1 << 20, SINK_LINES = 4096 };

struct sink {
	char text[SINK_MAX];
	size_t len;
	size_t off[SINK_LINES];
	size_t n;
};

static struct sink *sk;

static void sink_write(void *arg, const char *line, size_t len)
{
	struct sink *s = arg;

	assert_true(len > 0 && line[len - 1] == '\n');
	assert_null(memchr(line, '\n', len - 1));
	assert_true(s->len + len + 1 < SINK_MAX && s->n < SINK_LINES);
	s->off[s->n++] = s->len;
	memcpy(s->text + s->len, line, len);
	s->len += len;
	s->text[s->len] = '\0';
}

/* Line i, NUL-terminated in place of its '\n'. */
static const char *line(size_t i)
{
	static char tmp[8192];
	const char *p = sk->text + sk->off[i];
	size_t n = strcspn(p, "\n");

	assert_true(i < sk->n && n < sizeof(tmp));
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	return tmp;
}

static uint64_t field_u64(const char *l, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(l, pat);
	assert_non_null(p);
	return strtoull(p + strlen(pat), NULL, 10);
}

static uint64_t sum_counts(void)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < sk->n; i++)
		sum += field_u64(line(i), "count");
	return sum;
}

static struct evlog *open_sink(uint32_t window, uint32_t slots, uint32_t rate)
{
	struct evlog_conf c = {
		.window_ms = window,
		.slots = slots,
		.lines_per_s = rate,
		.write = sink_write,
		.write_arg = sk,
	};
	struct evlog *e = NULL;

	assert_int_equal(evlog_open(&e, NULL, &c), 0);
	return e;
}

static int setup(void **state)
{
	(void)state;
	sk = calloc(1, sizeof(*sk));
	return sk ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(sk);
	sk = NULL;
	return 0;
}

static struct ev scan_ev(const char *ip, uint16_t port)
{
	struct ev ev = {
		.type = EV_DROP,
		.event = "scanner",
		.zone = "public",
		.transport = "UDP",
		.method = STR("OPTIONS"),
		.user = STR("100"),
		.rule = "scanner-ua",
		.action = EV_ACT_DROP,
		.reason = STR("friendly-scanner"),
	};

	assert_int_equal(sg_addr_from_host(&ev.src, str_cstr(ip), port), 0);
	return ev;
}

/* ------------------------------------------------------------- format */

static void test_format(void **state)
{
	struct ev ev = scan_ev("203.0.113.9", 5060);
	struct ev empty = {.type = EV_UNBAN, .event = "manual"};
	char store[EVLOG_LINE_MAX * 2];
	struct buf b;

	(void)state;
	ev.status = 403;
	ev.type = EV_REFUSE;
	ev.action = EV_ACT_REPLY;
	buf_init_fixed(&b, store, sizeof(store));
	assert_int_equal(evlog_format(&b, &ev, wall0), 0);
	assert_str_equal_cstr(
		buf_str(&b),
		"{\"ts\":\"2024-05-01T12:34:56.789Z\",\"type\":\"refuse\","
		"\"event\":\"scanner\",\"zone\":\"public\","
		"\"src\":\"203.0.113.9\",\"src_port\":5060,"
		"\"transport\":\"UDP\",\"method\":\"OPTIONS\",\"user\":\"100\","
		"\"rule\":\"scanner-ua\",\"action\":\"reply\","
		"\"reason\":\"friendly-scanner\",\"status\":403,\"count\":1,"
		"\"repeat\":false}\n");
	buf_reset(&b);
	assert_int_equal(evlog_format(&b, &empty, 0), 0);
	assert_str_equal_cstr(
		buf_str(&b),
		"{\"ts\":\"1970-01-01T00:00:00.000Z\",\"type\":\"unban\","
		"\"event\":\"manual\",\"zone\":null,\"src\":null,"
		"\"src_port\":null,\"transport\":null,\"method\":null,"
		"\"user\":null,\"rule\":null,\"action\":null,\"reason\":null,"
		"\"status\":null,\"count\":1,\"repeat\":false}\n");
	assert_int_equal(evlog_format(&b, NULL, 0), -EINVAL);
	empty.event = NULL;
	assert_int_equal(evlog_format(&b, &empty, 0), -EINVAL);
}

static void test_hostile(void **state)
{
	static const char meth[] = "INV\"ITE\n{\"x\":1}\\";
	static const char user[] = "a\x01\x7f\xff\xc0\xaf\r\n\"b";
	struct ev ev = scan_ev("2001:db8::1", 5062);
	char store[EVLOG_LINE_MAX * 2], big[1000];
	struct buf b;

	(void)state;
	ev.method = STR(meth);
	ev.user = STR(user);
	ev.src_plen = 64;
	ev.transport = "TLS";
	buf_init_fixed(&b, store, sizeof(store));
	assert_int_equal(evlog_format(&b, &ev, wall0), 0);
	assert_non_null(strstr(store, "\"method\":\"INV\\\"ITE\\n{\\\"x\\\":1}"
				      "\\\\\""));
	assert_non_null(strstr(store, "\"user\":\"a\\u0001\\u007f\\ufffd"
				      "\\ufffd\\ufffd\\r\\n\\\"b\""));
	assert_non_null(strstr(store, "\"src\":\"2001:db8::1/64\","
				      "\"src_port\":null"));
	assert_null(memchr(b.p, '\n', b.len - 1));

	/* Field caps bound the line: 1000 quotes escape to 2000 bytes,
	 * but only EVLOG_USER_MAX of them are kept. */
	memset(big, '"', sizeof(big));
	ev.user = str_make(big, sizeof(big));
	ev.reason = str_make(big, sizeof(big));
	buf_reset(&b);
	assert_int_equal(evlog_format(&b, &ev, wall0), 0);
	assert_true(b.len < EVLOG_LINE_MAX);
	assert_non_null(strstr(store, "\"user\":\""));
}

/* -------------------------------------------------------- aggregation */

static void test_flood(void **state)
{
	struct evlog *e = open_sink(1000, 64, 100);
	struct ev ev = scan_ev("203.0.113.9", 5060);
	struct evlog_stats st;
	uint64_t t = 50000;
	unsigned i;

	(void)state;
	for (i = 0; i < 100000; i++)
		assert_int_equal(evlog_emit(e, &ev, t, wall0), 0);
	assert_int_equal(sk->n, 1);
	assert_int_equal(evlog_flush(e, t + 999), 0);
	assert_int_equal(sk->n, 1);
	assert_int_equal(evlog_flush(e, t + 1000), 1);
	assert_int_equal(sk->n, 2);
	assert_int_equal(field_u64(line(1), "count"), 99999);
	assert_non_null(strstr(line(1), "\"repeat\":true"));
	assert_non_null(strstr(line(0), "\"count\":1,\"repeat\":false"));
	assert_int_equal(sum_counts(), 100000);
	/* An idle window frees the key; the next event is written again. */
	assert_int_equal(evlog_flush(e, t + 2000), 0);
	assert_int_equal(evlog_emit(e, &ev, t + 2001, wall0), 0);
	assert_int_equal(sk->n, 3);
	assert_non_null(strstr(line(2), "\"repeat\":false"));
	evlog_stats(e, &st);
	assert_int_equal(st.events, 100001);
	assert_int_equal(st.aggregated, 99999);
	assert_int_equal(st.lines, 3);
	assert_int_equal(st.suppressed, 0);
	evlog_close(e);
}

static void test_steady_flood(void **state)
{
	struct evlog *e = open_sink(1000, 64, 100);
	struct ev ev = scan_ev("203.0.113.9", 0);
	uint64_t t;
	unsigned n = 0;

	(void)state;
	/* One event per ms for 30 s; the timer flushes every 250 ms. */
	for (t = 0; t < 30000; t++) {
		/* The source port changes: still the same key. */
		sg_addr_set_port(&ev.src, (uint16_t)(1000 + t % 1000));
		assert_int_equal(evlog_emit(e, &ev, t, wall0 + t), 0);
		n++;
		if (t % 250 == 0)
			evlog_flush(e, t);
	}
	evlog_flush(e, 31000);
	assert_true(sk->n >= 30 && sk->n <= 32);
	assert_int_equal(sum_counts(), n);
	/* A repeat line shows the last event counted. */
	assert_non_null(strstr(line(sk->n - 1), "\"src_port\":1999"));
	evlog_close(e);
	assert_int_equal(sum_counts(), n);
}

static void test_late_timer(void **state)
{
	struct evlog *e = open_sink(1000, 64, 100);
	struct ev ev = scan_ev("203.0.113.9", 5060);

	(void)state;
	evlog_emit(e, &ev, 0, wall0);
	evlog_emit(e, &ev, 10, wall0);
	/* No flush ran: the next event after the window closes it. */
	evlog_emit(e, &ev, 5000, wall0 + 5000);
	assert_int_equal(sk->n, 2);
	assert_int_equal(field_u64(line(1), "count"), 1);
	evlog_close(e);
	assert_int_equal(sk->n, 3);
	assert_int_equal(sum_counts(), 3);
}

static void test_distinct(void **state)
{
	struct evlog *e = open_sink(1000, 512, 100);
	struct ev ev;
	char ip[32];
	unsigned i;

	(void)state;
	for (i = 0; i < 50; i++) {
		snprintf(ip, sizeof(ip), "198.51.100.%u", i);
		ev = scan_ev(ip, 5060);
		evlog_emit(e, &ev, 0, wall0);
		evlog_emit(e, &ev, 1, wall0);
	}
	/* Another rule or type for the same source is another key. */
	ev.rule = "rate-invite";
	evlog_emit(e, &ev, 2, wall0);
	ev.type = EV_WOULD_DROP;
	evlog_emit(e, &ev, 2, wall0);
	assert_int_equal(sk->n, 52);
	assert_int_equal(evlog_flush(e, 1000), 50);
	assert_int_equal(sk->n, 102);
	assert_int_equal(sum_counts(), 102);
	evlog_close(e);
}

static void test_rate_cap(void **state)
{
	struct evlog *e = open_sink(1000, 1024, 100);
	struct evlog_stats st;
	struct ev ev;
	char ip[32];
	unsigned i;
	const char *l;

	(void)state;
	for (i = 0; i < 300; i++) {
		snprintf(ip, sizeof(ip), "10.0.%u.%u", i / 256, i % 256);
		ev = scan_ev(ip, 5060);
		evlog_emit(e, &ev, 10, wall0 + i);
	}
	assert_int_equal(sk->n, 100);
	assert_int_equal(evlog_flush(e, 500), 0);
	/* The rate window rolls first; the aggregation windows close
	 * idle (no repeats), so only the suppressed line is written. */
	assert_int_equal(evlog_flush(e, 1010), 1);
	assert_int_equal(sk->n, 101);
	l = line(100);
	assert_non_null(strstr(l, "\"type\":\"suppressed\","
				  "\"event\":\"log-rate-limit\""));
	assert_int_equal(field_u64(l, "count"), 200);
	assert_int_equal(field_u64(l, "lines"), 200);
	assert_non_null(strstr(l, "\"ts\":\"2024-05-01T12:34:57.088Z\""));
	assert_int_equal(sum_counts(), 300);
	evlog_stats(e, &st);
	assert_int_equal(st.suppressed, 200);
	assert_int_equal(st.lines, 101);
	evlog_close(e);
}

static void test_evict(void **state)
{
	struct evlog *e = open_sink(1000, 4, 100);
	struct evlog_stats st;
	struct ev ev;
	char ip[32];
	unsigned i;

	(void)state;
	for (i = 0; i < 5; i++) {
		snprintf(ip, sizeof(ip), "192.0.2.%u", i + 1);
		ev = scan_ev(ip, 5060);
		evlog_emit(e, &ev, i, wall0);
		evlog_emit(e, &ev, i, wall0);
	}
	/* The fifth key pushed out the first, whose repeat was written. */
	assert_int_equal(sk->n, 6);
	assert_non_null(strstr(line(4), "\"src\":\"192.0.2.1\""));
	assert_int_equal(field_u64(line(4), "count"), 1);
	evlog_stats(e, &st);
	assert_int_equal(st.evicted, 1);
	evlog_close(e);
	assert_int_equal(sk->n, 10);
	assert_int_equal(sum_counts(), 10);
}

/* Random keys, times and flushes through a tiny table and a low cap:
 * whatever is aggregated, evicted or suppressed, the counts add up. */
static void test_random_invariant(void **state)
{
	struct evlog *e = open_sink(700, 8, 20);
	static const char *const rules[] = {"a", "b", "c"};
	struct evlog_stats st;
	struct ev ev;
	uint64_t t = 0;
	unsigned i, seed = 12345;
	char ip[32];

	(void)state;
	for (i = 0; i < 50000; i++) {
		seed = seed * 1103515245u + 12345u;
		snprintf(ip, sizeof(ip), "192.0.2.%u", (seed >> 8) % 20);
		ev = scan_ev(ip, (uint16_t)(seed >> 16));
		ev.rule = rules[(seed >> 4) % 3];
		t += (seed >> 20) % 4;
		assert_int_equal(evlog_emit(e, &ev, t, wall0 + t), 0);
		if ((seed >> 12) % 64 == 0)
			evlog_flush(e, t);
	}
	evlog_stats(e, &st);
	assert_int_equal(st.events, 50000);
	assert_true(st.evicted > 0 && st.suppressed > 0);
	evlog_close(e);
	assert_int_equal(sum_counts(), 50000);
}

static void test_file(void **state)
{
	char path[] = "/tmp/test_evlog_XXXXXX", text[4096];
	struct ev ev = scan_ev("203.0.113.9", 5060);
	struct evlog *e = NULL;
	FILE *f;
	size_t n;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(evlog_open(&e, path, NULL), 0);
	assert_int_equal(evlog_emit(e, &ev, 0, wall0), 0);
	assert_int_equal(evlog_emit(e, &ev, 0, wall0), 0);
	assert_int_equal(evlog_reopen(e), 0);
	evlog_close(e);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	unlink(path);
	assert_non_null(strstr(text, "\"count\":1,\"repeat\":false}\n{"));
	assert_non_null(strstr(text, "\"count\":1,\"repeat\":true}\n"));
}

static void test_errors(void **state)
{
	struct evlog_conf c = {.slots = EVLOG_MAX_SLOTS + 1};
	struct ev ev = {.type = EV_DROP};
	struct evlog *e = NULL;
	size_t nth;
	int rc;

	(void)state;
	assert_int_equal(evlog_open(NULL, "-", NULL), -EINVAL);
	assert_int_equal(evlog_open(&e, NULL, NULL), -EINVAL);
	assert_int_equal(evlog_open(&e, "", NULL), -EINVAL);
	assert_int_equal(evlog_open(&e, "-", &c), -EINVAL);
	assert_int_equal(evlog_open(&e, "/nonexistent/dir/x", NULL), -ENOENT);
	assert_int_equal(mem_live(), 0);
	for (nth = 1; nth < 10; nth++) {
		mem_fail_nth(nth);
		rc = evlog_open(&e, "-", NULL);
		mem_fail_nth(0);
		if (rc == 0)
			break;
		assert_int_equal(rc, -ENOMEM);
		assert_int_equal(mem_live(), 0);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(evlog_emit(e, &ev, 0, 0), -EINVAL);
	assert_int_equal(evlog_emit(e, NULL, 0, 0), -EINVAL);
	assert_int_equal(evlog_emit(NULL, &ev, 0, 0), -EINVAL);
	assert_int_equal(evlog_flush(NULL, 0), 0);
	evlog_close(e);
	evlog_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test_setup_teardown(test_flood, setup, teardown),
		cmocka_unit_test_setup_teardown(test_steady_flood, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_late_timer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_distinct, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_invariant, setup,
						teardown),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_errors),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
