/*
 * test_store_reply.c - hiredis' reader building its replies with
 * store_reply.c's objects: the same values hiredis' own objects would
 * hold (scalars, small arrays with their elements inline, large and
 * nested arrays, nil, errors), objects reused from the free list, and
 * a protocol error in the middle of an array freeing what was built
 * (ASan: no leak, no double free).  No Redis needed: bytes are fed to a
 * reader directly.
 */
#include "test.h"

#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include "store/store_int.h"

static redisReader *reader(void)
{
	redisReader *r = redisReaderCreate();

	assert_non_null(r);
	store__reply_reader(r);
	return r;
}

/* Feed s, read one reply (NULL when incomplete). */
static redisReply *one(redisReader *r, const char *s)
{
	void *rep = NULL;

	assert_int_equal(redisReaderFeed(r, s, strlen(s)), REDIS_OK);
	assert_int_equal(redisReaderGetReply(r, &rep), REDIS_OK);
	return rep;
}

static void test_values(void **state)
{
	redisReader *r = reader();
	redisReply *rep, *first;

	(void)state;
	rep = one(r, ":-42\r\n");
	assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
	assert_int_equal(rep->integer, -42);
	first = rep;
	r->fn->freeObject(rep);
	/* The same object again, from the free list, zeroed. */
	rep = one(r, "$5\r\nhello\r\n");
	assert_ptr_equal(rep, first);
	assert_int_equal(rep->type, REDIS_REPLY_STRING);
	assert_int_equal(rep->len, 5);
	assert_string_equal(rep->str, "hello");
	assert_int_equal(rep->integer, 0);
	r->fn->freeObject(rep);
	rep = one(r, "+OK\r\n");
	assert_int_equal(rep->type, REDIS_REPLY_STATUS);
	assert_string_equal(rep->str, "OK");
	r->fn->freeObject(rep);
	rep = one(r, "-NOSCRIPT No matching script\r\n");
	assert_int_equal(rep->type, REDIS_REPLY_ERROR);
	assert_string_equal(rep->str, "NOSCRIPT No matching script");
	r->fn->freeObject(rep);
	rep = one(r, "$-1\r\n");
	assert_int_equal(rep->type, REDIS_REPLY_NIL);
	r->fn->freeObject(rep);
	redisReaderFree(r);
}

static void test_arrays(void **state)
{
	redisReader *r = reader();
	redisReply *rep;
	char big[1024];
	size_t i, n = 0;

	(void)state;
	/* Small (inline elements), with every kind inside and a nested
	 * array, then empty and nil arrays. */
	rep = one(r,
		  "*5\r\n:1\r\n$3\r\nfoo\r\n$-1\r\n*2\r\n:7\r\n+x\r\n*0\r\n");
	assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
	assert_int_equal(rep->elements, 5);
	assert_int_equal(rep->element[0]->integer, 1);
	assert_string_equal(rep->element[1]->str, "foo");
	assert_int_equal(rep->element[2]->type, REDIS_REPLY_NIL);
	assert_int_equal(rep->element[3]->elements, 2);
	assert_int_equal(rep->element[3]->element[0]->integer, 7);
	assert_string_equal(rep->element[3]->element[1]->str, "x");
	assert_int_equal(rep->element[4]->type, REDIS_REPLY_ARRAY);
	assert_int_equal(rep->element[4]->elements, 0);
	r->fn->freeObject(rep);
	rep = one(r, "*-1\r\n");
	assert_int_equal(rep->type, REDIS_REPLY_NIL);
	r->fn->freeObject(rep);

	/* Large: elements allocated apart (a merged counters' reply). */
	n += (size_t)snprintf(big + n, sizeof(big) - n, "*40\r\n");
	for (i = 0; i < 40; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, ":%zu\r\n", i);
	rep = one(r, big);
	assert_int_equal(rep->elements, 40);
	for (i = 0; i < 40; i++)
		assert_int_equal(rep->element[i]->integer, (long long)i);
	r->fn->freeObject(rep);
	redisReaderFree(r);
}

/* Cut in the middle (the reader keeps the partial reply), then a
 * protocol error: the reader frees what it built through our
 * functions. */
static void test_partial_and_error(void **state)
{
	redisReader *r = reader();
	void *rep = NULL;

	(void)state;
	assert_null(one(r, "*3\r\n:1\r\n$3\r\nab"));
	rep = one(r, "c\r\n:2\r\n");
	assert_non_null(rep);
	assert_string_equal(((redisReply *)rep)->element[1]->str, "abc");
	r->fn->freeObject(rep);

	assert_null(one(r, "*3\r\n:1\r\n$3\r\nabc\r\n"));
	assert_int_equal(redisReaderFeed(r, "!x\r\n", 4), REDIS_OK);
	assert_int_equal(redisReaderGetReply(r, &rep), REDIS_ERR);
	redisReaderFree(r);

	/* Freed with a partial reply still held. */
	r = reader();
	assert_null(one(r, "*2\r\n*2\r\n:1\r\n"));
	redisReaderFree(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_partial_and_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
