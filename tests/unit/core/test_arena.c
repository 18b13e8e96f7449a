/*
 * test_arena.c - region allocator: alignment, chunk growth, big
 * allocations, cleanup order, reset, byte limit, and every allocation
 * failing in turn without a leak.
 */
#include <errno.h>
#include <stdalign.h>

#include "test.h"
#include "core/core.h"

static void test_alloc_align(void **state)
{
	static const size_t sizes[] = {0, 1, 3, 7, 8, 15, 16, 17, 100, 255};
	struct arena *a;
	char *prev = NULL, *p;
	size_t i, round;

	(void)state;
	assert_int_equal(arena_new(&a, 512), 0);
	for (round = 0; round < 50; round++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			p = arena_alloc(a, sizes[i]);
			assert_non_null(p);
			assert_int_equal((uintptr_t)p % alignof(max_align_t),
					 0);
			assert_true(p != prev);
			memset(p, 0xab, sizes[i]);
			prev = p;
		}
	}
	assert_true(arena_size(a) > 512);
	arena_free(a);
	arena_free(NULL);
	assert_no_leaks();
}

static void test_big_and_dup(void **state)
{
	struct arena *a;
	char *small, *big, *s;
	struct str d;
	unsigned char *z;
	size_t i;

	(void)state;
	assert_int_equal(arena_new(&a, 0), 0);
	small = arena_alloc(a, 10);
	big = arena_alloc(a, 100000);
	assert_non_null(big);
	memset(big, 1, 100000);
	/* The big block did not end the current chunk. */
	s = arena_alloc(a, 10);
	assert_int_equal(s - small, 16);

	s = arena_strdup(a, STR("hello"));
	assert_string_equal(s, "hello");
	s = arena_strdup(a, STR_NULL);
	assert_string_equal(s, "");
	assert_int_equal(arena_strdup_str(a, &d, STR("Call-ID")), 0);
	assert_str_equal_cstr(d, "Call-ID");
	z = arena_zalloc(a, 64);
	for (i = 0; i < 64; i++)
		assert_int_equal(z[i], 0);
	assert_memory_equal(arena_memdup(a, "abc", 3), "abc", 3);
	assert_null(arena_alloc(a, SIZE_MAX));
	assert_null(arena_alloc(a, SIZE_MAX - 8));
	assert_null(arena_alloc(NULL, 1));
	arena_free(a);
	assert_no_leaks();
}

struct order {
	int seen[8];
	int n;
};

static struct order *g_order;

static void record(void *arg)
{
	g_order->seen[g_order->n++] = *(int *)arg;
}

static void test_cleanups(void **state)
{
	static int ids[4] = {1, 2, 3, 4};
	struct order o = {{0}, 0};
	struct arena *a;
	char *first, *p;
	size_t i, base;

	(void)state;
	g_order = &o;
	assert_int_equal(arena_new(&a, 256), 0);
	base = arena_size(a);
	first = arena_alloc(a, 1);
	for (i = 0; i < 3; i++)
		assert_int_equal(arena_cleanup_add(a, record, &ids[i]), 0);
	assert_int_equal(arena_cleanup_add(a, NULL, NULL), -EINVAL);
	for (i = 0; i < 100; i++)
		assert_non_null(arena_alloc(a, 100));
	arena_reset(a);
	assert_int_equal(o.n, 3);
	assert_int_equal(o.seen[0], 3);
	assert_int_equal(o.seen[1], 2);
	assert_int_equal(o.seen[2], 1);
	/* After reset the first chunk is handed out again from its start. */
	p = arena_alloc(a, 1);
	assert_ptr_equal(p, first);
	assert_int_equal(arena_size(a), base);
	assert_int_equal(arena_cleanup_add(a, record, &ids[3]), 0);
	arena_free(a);
	assert_int_equal(o.n, 4);
	assert_int_equal(o.seen[3], 4);
	assert_no_leaks();
}

static void test_limit(void **state)
{
	struct arena *a;
	size_t base;
	int n = 0;

	(void)state;
	assert_int_equal(arena_new(&a, 1024), 0);
	base = arena_size(a);
	arena_set_limit(a, base + 4 * 1100);
	while (arena_alloc(a, 200))
		n++;
	/* First chunk (5 allocations) plus at most four more chunks. */
	assert_true(n >= 5 && n <= 25);
	assert_true(arena_size(a) <= base + 4 * 1100);
	assert_null(arena_alloc(a, 5000));
	arena_set_limit(a, 0);
	assert_non_null(arena_alloc(a, 5000));
	arena_free(a);
	assert_no_leaks();
}

static int hooks_run;

static void count_hook(void *arg)
{
	(void)arg;
	hooks_run++;
}

/* One workload; returns how many steps failed with ENOMEM. */
static int workload(void)
{
	struct arena *a;
	int fails = 0, i, added = 0;

	if (arena_new(&a, 256) != 0)
		return 1;
	for (i = 0; i < 20; i++) {
		if (!arena_alloc(a, (size_t)(i * 37)))
			fails++;
		if (arena_cleanup_add(a, count_hook, NULL) == 0)
			added++;
		else
			fails++;
	}
	hooks_run = 0;
	arena_free(a);
	assert_int_equal(hooks_run, added);
	return fails;
}

static void test_oom_every_allocation(void **state)
{
	size_t n;

	(void)state;
	assert_int_equal(workload(), 0);
	for (n = 1; n < 40; n++) {
		mem_fail_nth(n);
		workload();
		mem_fail_nth(0);
		assert_no_leaks();
	}
	assert_int_equal(arena_new(NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_align),
		cmocka_unit_test(test_big_and_dup),
		cmocka_unit_test(test_cleanups),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_oom_every_allocation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
