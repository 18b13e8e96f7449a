/*
 * test_buf.c - output buffer and one-pass edit lists.
 */
#include <errno.h>

#include "test.h"
#include "core/buf.h"
#include "core/edit.h"

static void test_grow_and_cap(void **state)
{
	struct buf b;
	int i;

	(void)state;
	buf_init(&b, 1000);
	for (i = 0; i < 99; i++)
		assert_int_equal(buf_append_cstr(&b, "0123456789"), 0);
	assert_int_equal(b.len, 990);
	assert_int_equal(buf_append_cstr(&b, "0123456789x"), -ENOSPC);
	assert_int_equal(b.len, 990);
	assert_int_equal(buf_printf(&b, "%d", 123456), 0);
	assert_int_equal(b.len, 996);
	assert_int_equal(buf_printf(&b, "%s", "abcde"), -ENOSPC);
	buf_free(&b);
	buf_free(NULL);
	assert_no_leaks();
}

static void test_fixed_and_oom(void **state)
{
	char store[8];
	struct buf b;

	(void)state;
	buf_init_fixed(&b, store, sizeof(store));
	assert_int_equal(buf_append_u64(&b, 1234567), 0);
	assert_int_equal(buf_append_cstr(&b, "89"), -ENOSPC);
	assert_str_equal_cstr(buf_str(&b), "1234567");
	buf_free(&b);

	buf_init(&b, 1 << 20);
	mem_fail_nth(1);
	assert_int_equal(buf_append_cstr(&b, "x"), -ENOMEM);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_append_cstr(&b, "x"), 0);
	buf_free(&b);
	assert_no_leaks();
}

static void test_edit(void **state)
{
	struct str orig = STR("hello big world");
	struct edit e[3] = {
		{.off = 15, .len = 0, .s = {STR("!")}, .seq = 0},
		{.off = 6,
		 .len = 3,
		 .s = {STR("s"), STR("ma"), STR("ll")},
		 .seq = 1},
		{.off = 0, .len = 0, .s = {STR(">> ")}, .seq = 2},
	};
	struct edit bad[2] = {
		{.off = 2, .len = 4, .seq = 0},
		{.off = 4, .len = 1, .seq = 1},
	};
	struct edit past = {.off = 10, .len = 10};
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(edit_apply(&b, orig, e, 3), 0);
	assert_str_equal_cstr(buf_str(&b), ">> hello small world!");
	buf_reset(&b);
	assert_int_equal(edit_apply(&b, orig, bad, 2), -EINVAL);
	assert_int_equal(edit_apply(&b, orig, &past, 1), -EINVAL);
	assert_int_equal(edit_apply(&b, orig, NULL, 0), 0);
	assert_str_equal_cstr(buf_str(&b), "hello big world");
	buf_free(&b);
	assert_no_leaks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow_and_cap),
		cmocka_unit_test(test_fixed_and_oom),
		cmocka_unit_test(test_edit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
