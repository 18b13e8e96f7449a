/*
 * fuzz_store_reply.c - whatever Redis (or anyone between us and it)
 * sends on a store connection, read by hiredis into store_reply.c's
 * objects, fed in two pieces at a point the input chooses.
 * Invariants: every reply read is well formed (arrays' elements all
 * set, strings NUL-terminated at their length) and is freed, as is any
 * partial reply at a protocol error or when the reader goes (ASan: no
 * leak, no double free, no use after free).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include "fuzz_check.h"
#include "store/store_int.h"

static void walk(const redisReply *r, unsigned depth)
{
	size_t i;

	CHECK(depth < 16);
	if (r->type == REDIS_REPLY_ARRAY) {
		for (i = 0; i < r->elements; i++) {
			CHECK(r->element[i] != NULL);
			walk(r->element[i], depth + 1);
		}
	} else if (r->type == REDIS_REPLY_STRING ||
		   r->type == REDIS_REPLY_STATUS ||
		   r->type == REDIS_REPLY_ERROR) {
		CHECK(r->str != NULL && r->str[r->len] == '\0');
	}
}

/* Every complete reply; false at a protocol error. */
static int drain(redisReader *rd)
{
	void *rep;

	for (;;) {
		rep = NULL;
		if (redisReaderGetReply(rd, &rep) != REDIS_OK)
			return 0;
		if (!rep)
			return 1;
		walk(rep, 0);
		rd->fn->freeObject(rep);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redisReader *rd;
	size_t cut;

	if (size < 1)
		return 0;
	cut = data[0] % size;
	data++;
	size--;
	rd = redisReaderCreate();
	if (!rd)
		return 0;
	store__reply_reader(rd);
	if (redisReaderFeed(rd, (const char *)data, cut) == REDIS_OK &&
	    drain(rd) &&
	    redisReaderFeed(rd, (const char *)data + cut, size - cut) ==
		    REDIS_OK)
		(void)drain(rd);
	redisReaderFree(rd);
	return 0;
}
