/*
 * test_creds.c - the credentials file parser: entries, comments, errors
 * with line numbers, lookups, algorithm coverage, file loading, OOM.
 */
#include "test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "guard/auth.h"

#define MD5A "0123456789abcdef0123456789abcdef"
#define MD5U "0123456789ABCDEF0123456789ABCDEF"
#define SHAA MD5A MD5A

static void test_good(void **state)
{
	static const char text[] =
		"# users of example.com\n"
		"\n"
		"  alice : example.com : " MD5A " : " SHAA "  \r\n"
		"bob:example.com:" MD5U "\n"
		"\t# indented comment\n"
		"carol:example.com::" SHAA "\n"
		"alice:other realm:" MD5A;
	struct creds *c = NULL;
	struct creds_err e;
	const char *h;

	(void)state;
	assert_int_equal(creds_parse(&c, STR(text), &e), 0);
	assert_int_equal(creds_count(c), 4);
	h = creds_ha1(c, STR("alice"), STR("example.com"), AUTH_ALG_MD5);
	assert_non_null(h);
	assert_string_equal(h, MD5A);
	h = creds_ha1(c, STR("alice"), STR("example.com"), AUTH_ALG_SHA256);
	assert_string_equal(h, SHAA);
	/* Upper-case hex is stored lower-case: it is hashed as text. */
	h = creds_ha1(c, STR("bob"), STR("example.com"), AUTH_ALG_MD5);
	assert_string_equal(h, MD5A);
	assert_null(
		creds_ha1(c, STR("bob"), STR("example.com"), AUTH_ALG_SHA256));
	assert_null(
		creds_ha1(c, STR("carol"), STR("example.com"), AUTH_ALG_MD5));
	assert_non_null(
		creds_ha1(c, STR("alice"), STR("other realm"), AUTH_ALG_MD5));
	/* User names are case-sensitive. */
	assert_null(
		creds_ha1(c, STR("Alice"), STR("example.com"), AUTH_ALG_MD5));
	assert_null(
		creds_ha1(c, STR("dave"), STR("example.com"), AUTH_ALG_MD5));
	assert_null(creds_ha1(c, STR(""), STR(""), AUTH_ALG_MD5));
	creds_free(c);
}

static void test_check_algs(void **state)
{
	static const char text[] = "a:r:" MD5A ":" SHAA "\n"
				   "b:r:" MD5A "\n"
				   "c:s::" SHAA "\n";
	struct creds *c = NULL;
	struct str u = STR_NULL;

	(void)state;
	assert_int_equal(creds_parse(&c, STR(text), NULL), 0);
	assert_int_equal(creds_check_algs(c, STR("r"), AUTH_ALG_MD5, &u), 0);
	assert_int_equal(creds_check_algs(c, STR("r"),
					  AUTH_ALG_MD5 | AUTH_ALG_SHA256, &u),
			 -ENOENT);
	assert_str_equal_cstr(u, "b");
	assert_int_equal(creds_check_algs(c, STR("s"), AUTH_ALG_MD5, &u),
			 -ENOENT);
	assert_int_equal(creds_check_algs(c, STR("s"), AUTH_ALG_SHA256, &u), 0);
	creds_free(c);
}

static void test_errors(void **state)
{
	static const struct {
		const char *text;
		unsigned line;
		int rc;
	} t[] = {
		{"alice:example.com\n", 1, -EINVAL},
		{"#c\nalice:r:" MD5A "\nbob:r:123\n", 3, -EINVAL},
		{"alice:r:" MD5A ":" MD5A "\n", 1, -EINVAL},
		{"alice:r:" MD5A ":" SHAA ":x\n", 1, -EINVAL},
		{"\n\nal ice:r:" MD5A "\n", 3, -EINVAL},
		{":r:" MD5A "\n", 1, -EINVAL},
		{"a::" MD5A "\n", 1, -EINVAL},
		{"a:r\"q:" MD5A "\n", 1, -EINVAL},
		{"a:r::\n", 1, -EINVAL},
		{"a:r:" MD5A "g\n", 1, -EINVAL},
		{"a:r:0123456789abcdef0123456789abcdeg\n", 1, -EINVAL},
		{"a:r:" MD5A "\nb:r:" MD5A "\n\na:r:" MD5A "\n", 4, -EINVAL},
		{"a\x01:r:" MD5A "\n", 1, -EINVAL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct creds *c = (struct creds *)&i;
		struct creds_err e = {0, NULL};
		int rc = creds_parse(&c, str_cstr(t[i].text), &e);

		if (rc != t[i].rc || e.line != t[i].line)
			fail_msg("case %zu: rc %d line %u (%s)", i, rc, e.line,
				 e.reason ? e.reason : "");
		assert_null(c);
		assert_non_null(e.reason);
	}
}

static void test_long_line(void **state)
{
	char text[CREDS_MAX_LINE + 64];
	struct creds *c = NULL;
	struct creds_err e;

	(void)state;
	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(creds_parse(&c, str_cstr(text), &e), -EINVAL);
	assert_int_equal(e.line, 1);
	assert_string_equal(e.reason, "line too long");
}

static void test_line(void **state)
{
	struct creds_line l;
	const char *why;

	(void)state;
	assert_int_equal(creds_parse_line(&l, STR("   "), &why), 0);
	assert_int_equal(creds_parse_line(&l, STR("# x:y:z"), &why), 0);
	assert_int_equal(creds_parse_line(&l, STR("u:r:" MD5A), &why), 1);
	assert_str_equal_cstr(l.user, "u");
	assert_str_equal_cstr(l.realm, "r");
	assert_str_equal_cstr(l.ha1_md5, MD5A);
	assert_int_equal(l.ha1_sha256.len, 0);
	assert_int_equal(creds_parse_line(&l, STR("u:r"), &why), -EINVAL);
	assert_non_null(why);
}

static void test_empty(void **state)
{
	struct creds *c = NULL;

	(void)state;
	assert_int_equal(creds_parse(&c, STR(""), NULL), 0);
	assert_int_equal(creds_count(c), 0);
	assert_null(creds_ha1(c, STR("a"), STR("r"), AUTH_ALG_MD5));
	creds_free(c);
	creds_free(NULL);
	assert_int_equal(creds_parse(NULL, STR(""), NULL), -EINVAL);
}

static void test_load(void **state)
{
	char path[] = "/tmp/sipguard-creds-XXXXXX", err[AUTH_ERR_MAX];
	static const char good[] = "alice:r:" MD5A "\n";
	static const char bad[] = "alice:r:" MD5A "\n\nbob:r:zz\n";
	struct creds *c = NULL;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, good, sizeof(good) - 1),
			 (ssize_t)sizeof(good) - 1);
	assert_int_equal(creds_load(&c, path, err, sizeof(err)), 0);
	assert_int_equal(creds_count(c), 1);
	creds_free(c);
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, bad, sizeof(bad) - 1, 0),
			 (ssize_t)sizeof(bad) - 1);
	close(fd);
	assert_int_equal(creds_load(&c, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":3: "));
	assert_null(c);
	unlink(path);
	assert_int_equal(creds_load(&c, path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
}

static void test_oom(void **state)
{
	static const char text[] = "a:r:" MD5A "\nb:r:" MD5A "\n";
	size_t n;
	int rc;

	(void)state;
	for (n = 1;; n++) {
		struct creds *c = NULL;

		mem_fail_nth(n);
		rc = creds_parse(&c, STR(text), NULL);
		mem_fail_nth(0);
		if (rc == 0) {
			assert_int_equal(creds_count(c), 2);
			creds_free(c);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_null(c);
		assert_int_equal(mem_live(), 0);
	}
	assert_true(n > 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_check_algs),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_oom),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
