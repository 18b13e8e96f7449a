/*
 * test_slab.c - size-class allocator: class fit and slack, alignment,
 * object reuse, chunks filling and emptying (an empty chunk goes back to
 * the system, one spare stays), freeing with objects still live, and
 * allocation failure without a leak.
 */
#include <errno.h>
#include <stdint.h>

#include "test.h"
#include "core/slab.h"

static void test_sizes(void **state)
{
	static const size_t sizes[] = {1,   15,  16,  17,   255,  256,
				       257, 300, 805, 1024, 4095, SLAB_MAX};
	struct slab *s;
	size_t i, got;
	char *p;

	(void)state;
	assert_int_equal(slab_new(&s), 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = slab_alloc(s, sizes[i]);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		got = slab_size(s, p);
		/* Fits, with at most ~12 % (or 16 bytes) of slack. */
		assert_true(got >= sizes[i]);
		assert_true(got - sizes[i] < 16 ||
			    got <= sizes[i] * 9 / 8 + 16);
		memset(p, 0x5a, sizes[i]);
		slab_free(s, p);
	}
	assert_null(slab_alloc(s, 0));
	assert_null(slab_alloc(s, SLAB_MAX + 1));
	slab_free(s, NULL);
	slab_free_all(s);
	slab_free_all(NULL);
	assert_no_leaks();
}

static void test_reuse_and_chunks(void **state)
{
	enum { N = 1000, SZ = 800 };
	static char *objs[N];
	struct slab_stats st;
	struct slab *s;
	size_t i, per_chunk;
	char *p;

	(void)state;
	assert_int_equal(slab_new(&s), 0);
	for (i = 0; i < N; i++) {
		objs[i] = slab_alloc(s, SZ);
		assert_non_null(objs[i]);
		memset(objs[i], (int)i, SZ);
	}
	slab_stats(s, &st);
	assert_int_equal(st.objects, N);
	per_chunk = (SLAB_CHUNK - 64) / slab_size(s, objs[0]);
	assert_int_equal(st.chunks, (N + per_chunk - 1) / per_chunk);
	/* Contents are intact (objects do not overlap). */
	for (i = 0; i < N; i++)
		assert_int_equal((unsigned char)objs[i][SZ - 1],
				 (unsigned char)i);
	/* A freed object is reused first. */
	p = objs[500];
	slab_free(s, p);
	objs[500] = slab_alloc(s, SZ);
	assert_ptr_equal(objs[500], p);
	/* Freeing everything returns all chunks but one spare. */
	for (i = 0; i < N; i++)
		slab_free(s, objs[i]);
	slab_stats(s, &st);
	assert_int_equal(st.objects, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.chunks, 1);
	assert_true(st.chunk_high >= N / per_chunk);
	slab_free_all(s);
	assert_no_leaks();
}

/* The owner may drop the slab with objects live: full chunks too. */
static void test_free_all_live(void **state)
{
	struct slab *s;
	size_t i;

	(void)state;
	assert_int_equal(slab_new(&s), 0);
	for (i = 0; i < 500; i++)
		assert_non_null(slab_alloc(s, 16 + (i % 40) * 100));
	slab_free_all(s);
	assert_no_leaks();
}

static void test_alloc_failure(void **state)
{
	struct slab *s;
	void *p;

	(void)state;
	mem_fail_nth(1);
	assert_int_equal(slab_new(&s), -ENOMEM);
	assert_int_equal(slab_new(&s), 0);
	mem_fail_nth(1); /* the first chunk */
	assert_null(slab_alloc(s, 100));
	mem_fail_nth(0);
	p = slab_alloc(s, 100);
	assert_non_null(p);
	slab_free(s, p);
	slab_free_all(s);
	assert_no_leaks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_reuse_and_chunks),
		cmocka_unit_test(test_free_all_live),
		cmocka_unit_test(test_alloc_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
