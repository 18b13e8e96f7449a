/*
 * store_reply.c - hiredis' reply objects for our asynchronous
 * connections, kept on a free list instead of calloc'd and freed one by
 * one (hiredis' redisReplyObjectFunctions, read.h).
 *
 * Why: every reply is built by hiredis' reader as one object per value
 * (an array, then one per element) and freed right after its callback.
 * The Redis store gets several replies a call (a call's counters, its
 * snapshot, its binding: bench/README-store.md), and glibc's calloc
 * does not use its per-thread cache, so each object cost a full
 * allocation and free: several thousand instructions a call.  Here an
 * object, with room for a small array's elements, comes from a bounded
 * per-thread free list.
 *
 * The objects ARE redisReply (what our callbacks read); only the
 * allocation differs.  Strings are allocated as hiredis does.  hiredis
 * frees every reply of these connections through the functions here
 * (reader->fn->freeObject), never with freeReplyObject(), which our
 * blocking start-up connections keep using with hiredis' own objects.
 * Per thread: hiredis runs on the event loop's thread (store_loop.c);
 * the list is bounded (RP_KEEP objects, about 60 KiB).
 */
#include "store/store_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/read.h>

enum {
	RP_KEEP = 512, /* objects kept for reuse, per thread */
	RP_ELEMS = 8,  /* an array this small keeps its elements inline */
	/* A larger array is refused before anything is allocated for it:
	 * its count is only a claim (no element need follow), and hiredis
	 * 0.14 would calloc whatever it says.  Our largest replies, the
	 * bans table's HGETALL (two per ban), stay far below. */
	RP_ARRAY_MAX = 1 << 20,
};

struct rp_obj {
	struct rp_obj *next; /* in the free list */
	redisReply r;
	redisReply *elems[RP_ELEMS];
};

static _Thread_local struct rp_obj *rp_free;
static _Thread_local unsigned rp_n;

static struct rp_obj *obj_of(redisReply *r)
{
	return (struct rp_obj *)(void *)((char *)r -
					 offsetof(struct rp_obj, r));
}

/* A zeroed object of type. */
static redisReply *get(int type)
{
	struct rp_obj *o = rp_free;

	if (o) {
		rp_free = o->next;
		rp_n--;
	} else if (!(o = malloc(sizeof(*o)))) {
		return NULL;
	}
	memset(&o->r, 0, sizeof(o->r));
	o->r.type = type;
	return &o->r;
}

/* r, complete, into its parent array (hiredis' contract for the create
 * functions); only then, so that a failure never leaves the parent
 * holding an object already freed. */
static void *link(const redisReadTask *task, redisReply *r)
{
	redisReply *parent;

	if (task->parent) {
		parent = task->parent->obj;
		parent->element[task->idx] = r;
	}
	return r;
}

static void put(void *p)
{
	redisReply *r = p;
	struct rp_obj *o;
	size_t i;

	if (!r)
		return;
	o = obj_of(r);
	switch (r->type) {
	case REDIS_REPLY_ARRAY:
		for (i = 0; r->element && i < r->elements; i++)
			put(r->element[i]);
		if (r->element != o->elems)
			free(r->element);
		break;
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
	case REDIS_REPLY_ERROR:
		free(r->str);
		break;
	default:
		break;
	}
	if (rp_n < RP_KEEP) {
		o->next = rp_free;
		rp_free = o;
		rp_n++;
	} else {
		free(o);
	}
}

static void *mk_string(const redisReadTask *task, char *str, size_t len)
{
	char *buf = malloc(len + 1);
	redisReply *r;

	if (!buf)
		return NULL;
	r = get(task->type);
	if (!r) {
		free(buf);
		return NULL;
	}
	memcpy(buf, str, len);
	buf[len] = '\0';
	r->str = buf;
	r->len = len;
	return link(task, r);
}

static void *mk_array(const redisReadTask *task, int elements)
{
	redisReply *r;
	struct rp_obj *o;

	/* NULL: hiredis reports an error and the connection is dropped
	 * (and reconnected: store_redis.c), as for any protocol error. */
	if (elements > RP_ARRAY_MAX)
		return NULL;
	r = get(REDIS_REPLY_ARRAY);
	if (!r)
		return NULL;
	if (elements > 0) {
		o = obj_of(r);
		if (elements <= RP_ELEMS) {
			memset(o->elems, 0, sizeof(o->elems));
			r->element = o->elems;
		} else if (!(r->element = calloc((size_t)elements,
						 sizeof(*r->element)))) {
			put(r);
			return NULL;
		}
	}
	r->elements = (size_t)(elements > 0 ? elements : 0);
	return link(task, r);
}

static void *mk_integer(const redisReadTask *task, long long value)
{
	redisReply *r = get(REDIS_REPLY_INTEGER);

	if (!r)
		return NULL;
	r->integer = value;
	return link(task, r);
}

static void *mk_nil(const redisReadTask *task)
{
	redisReply *r = get(REDIS_REPLY_NIL);

	return r ? link(task, r) : NULL;
}

static redisReplyObjectFunctions fns = {
	mk_string, mk_array, mk_integer, mk_nil, put,
};

void store__reply_reader(redisReader *r)
{
	if (r)
		r->fn = &fns;
}

void store__reply_use(redisAsyncContext *ac)
{
	if (ac)
		store__reply_reader(ac->c.reader);
}
