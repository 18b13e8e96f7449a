/*
 * test_log.c - line format (UTC timestamp, level), level filter, control
 * characters, truncation, output to a FILE*, per-site rate limiting on a
 * fake clock, and log_safe() escaping.
 */
#include <errno.h>
#include <stdio.h>

#include "test.h"
#include "core/core.h"

static char lines[64][LOG_LINE_MAX + 1];
static int nlines;

static void sink(enum log_level lvl, const char *line, size_t len, void *arg)
{
	(void)lvl;
	(void)arg;
	assert_int_equal(strlen(line), len);
	assert_true(len < LOG_LINE_MAX);
	if (nlines < 64)
		memcpy(lines[nlines++], line, len + 1);
}

static uint64_t fake_real = 1700000000123ULL; /* 2023-11-14T22:13:20.123Z */
static uint64_t fake_mono = 5000;

static uint64_t fake_clock(clockid_t clk)
{
	return clk == CLOCK_MONOTONIC ? fake_mono : fake_real;
}

static int setup(void **state)
{
	(void)state;
	nlines = 0;
	log_set_sink(sink, NULL);
	log_set_clock(fake_clock);
	log_set_level(LOG_LVL_INFO);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_set_file(NULL);
	log_set_clock(NULL);
	return 0;
}

static void test_format_and_levels(void **state)
{
	(void)state;
	log_err("boom %d", 42);
	log_warn("careful");
	log_info("hello %s", "world");
	log_debug("not shown");
	assert_int_equal(nlines, 3);
	assert_string_equal(lines[0], "2023-11-14T22:13:20.123Z ERR boom 42");
	assert_string_equal(lines[1], "2023-11-14T22:13:20.123Z WARN careful");
	assert_string_equal(lines[2],
			    "2023-11-14T22:13:20.123Z INFO hello world");
	log_set_level(LOG_LVL_DEBUG);
	assert_true(log_enabled(LOG_LVL_DEBUG));
	log_debug("now shown");
	assert_int_equal(nlines, 4);
	assert_string_equal(lines[3] + 25, "DEBUG now shown");
	log_set_level(LOG_LVL_ERR);
	log_warn("dropped");
	assert_int_equal(nlines, 4);
	assert_int_equal(log_get_level(), LOG_LVL_ERR);
}

static void test_control_chars_and_truncation(void **state)
{
	char big[3000];

	(void)state;
	log_info("a\r\nb\x1b[31mc\x7f\td");
	assert_string_equal(lines[0] + 30, "a??b?[31mc??d");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("%s", big);
	assert_int_equal(strlen(lines[1]), LOG_LINE_MAX - 1);
	assert_string_equal(lines[1] + LOG_LINE_MAX - 4, "...");
}

static void test_file_output(void **state)
{
	char buf[256] = {0};
	FILE *f = tmpfile();

	(void)state;
	assert_non_null(f);
	log_set_file(f);
	log_info("to file");
	log_warn("second");
	rewind(f);
	assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), 2 * 25 + 13 + 12);
	assert_string_equal(buf, "2023-11-14T22:13:20.123Z INFO to file\n"
				 "2023-11-14T22:13:20.123Z WARN second\n");
	fclose(f);
	assert_int_equal(nlines, 0);
}

static void flood(int n, int *idx)
{
	for (int i = 0; i < n; i++)
		LOG_RL(LOG_LVL_WARN, "bad packet %d", (*idx)++);
}

static void test_rate_limit(void **state)
{
	int idx = 0;

	(void)state;
	flood(25, &idx);
	assert_int_equal(nlines, LOG_RL_BURST);
	assert_string_equal(lines[9] + 30, "bad packet 9");
	fake_mono += LOG_RL_WINDOW_MS - 1;
	flood(5, &idx);
	assert_int_equal(nlines, LOG_RL_BURST);
	fake_mono += 1;
	flood(1, &idx);
	assert_int_equal(nlines, LOG_RL_BURST + 2);
	assert_non_null(strstr(lines[10], "test_log.c:"));
	assert_non_null(strstr(lines[10], ": 20 similar messages suppressed"));
	assert_string_equal(lines[11] + 30, "bad packet 30");
	/* Another site has its own budget. */
	LOG_RL(LOG_LVL_ERR, "other site");
	assert_int_equal(nlines, LOG_RL_BURST + 3);
	/* Filtered levels do not use the budget. */
	fake_mono += LOG_RL_WINDOW_MS;
	log_set_level(LOG_LVL_ERR);
	flood(100, &idx);
	log_set_level(LOG_LVL_INFO);
	flood(1, &idx);
	assert_int_equal(nlines, LOG_RL_BURST + 4);
}

static void test_safe(void **state)
{
	static const struct {
		const char *in;
		size_t inlen;
		size_t dstsz;
		const char *out;
	} cases[] = {
		{"abc", 3, 16, "abc"},
		{"\x1b[31mred", 8, 32, "\\x1b[31mred"},
		{"a\\b", 3, 16, "a\\\\b"},
		{"\xff\x80", 2, 16, "\\xff\\x80"},
		{"nul\0in", 6, 16, "nul\\x00in"},
		{"line\r\n", 6, 16, "line\\x0d\\x0a"},
		{"abcdefghij", 10, 8, "abcd..."},
		{"abcdefg", 7, 8, "abcdefg"}, /* fits exactly */
		{"ab\x01"
		 "cdef",
		 7, 8, "ab..."}, /* escape not split */
		{"abcdef", 6, 3, ".."},
		{"abcdef", 6, 1, ""},
		{"", 0, 4, ""},
	};
	char dst[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(dst, '#', sizeof(dst));
		const char *r = log_safe(dst, cases[i].dstsz,
					 str_make(cases[i].in, cases[i].inlen));

		assert_ptr_equal(r, dst);
		if (strcmp(r, cases[i].out) != 0)
			fail_msg("case %zu: \"%s\" != \"%s\"", i, r,
				 cases[i].out);
		assert_int_equal(dst[cases[i].dstsz], '#');
	}
	assert_string_equal(log_safe(dst, 0, STR("x")), "");
	assert_string_equal(log_safe(NULL, 5, STR("x")), "");
	/* LOG_SAFE_SIZE always suffices. */
	{
		char full[LOG_SAFE_SIZE(4)];

		assert_string_equal(
			log_safe(full, sizeof(full), STR("\x01\x02\x03\x04")),
			"\\x01\\x02\\x03\\x04");
	}
}

static void test_level_parse(void **state)
{
	enum log_level lvl = LOG_LVL_INFO;

	(void)state;
	assert_int_equal(log_level_parse(&lvl, STR("Debug")), 0);
	assert_int_equal(lvl, LOG_LVL_DEBUG);
	assert_int_equal(log_level_parse(&lvl, STR("warning")), 0);
	assert_int_equal(lvl, LOG_LVL_WARN);
	assert_int_equal(log_level_parse(&lvl, STR("error")), 0);
	assert_int_equal(lvl, LOG_LVL_ERR);
	assert_int_equal(log_level_parse(&lvl, STR("verbose")), -EINVAL);
	assert_int_equal(log_level_parse(&lvl, STR("")), -EINVAL);
	assert_string_equal(log_level_name(LOG_LVL_INFO), "INFO");
	assert_no_leaks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_format_and_levels, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_control_chars_and_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_output, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_safe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_parse, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
