/*
 * store_cpub.c - the bindings channel's messages ("B record", "U owner
 * token": store_cluster.c) published together, at most every
 * STORE_CPUB_MS, instead of one PUBLISH as each binding changes.
 *
 * Why: Redis sends every message on a channel to every subscriber, the
 * sender included, and our subscription is a socket of its own.  A
 * PUBLISH in a write thus costs a second wake-up and read() (the echo,
 * on the subscriber connection) besides the command connection's reply.
 * The writes themselves are frequent (each held INVITE's counter read
 * goes out at the next loop turn, store_loop.c): sent as they came,
 * nearly every write carried a PUBLISH (bench/README-store.md: one read
 * of each connection per write).  Held here, the messages join the
 * command connection's queue once per STORE_CPUB_MS, so at most that
 * many writes a second carry an echo, whatever the call rate.
 *
 * What it costs: another instance hears of a binding up to STORE_CPUB_MS
 * (+ the store's 20 ms write batch) later; the binding's HSET is not
 * delayed (a replica loaded meanwhile has it), and the order of the
 * messages is kept.  Redis lost: the queue is dropped, as everything
 * else (the resync at READY writes and publishes every binding again).
 * The queue is bounded: full, it is sent at once.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "core/loop.h"
#include "core/mem.h"

enum {
	STORE_CPUB_MS = 20,
	CPUB_MAX = 64,                       /* messages held */
	CPUB_BYTES = 16 * STORE_BINDING_MAX, /* their commands */
};

/* Owner: the cluster state (store_cluster.c). */
struct store_cpub {
	struct store *s;
	struct loop *l;
	char chan[STORE_PREFIX_MAX + STORE_INSTANCE_MAX + 8];
	struct tmr tick;
	uint32_t n, used;
	uint32_t len[CPUB_MAX]; /* each command's length in buf */
	char buf[CPUB_BYTES];   /* PUBLISH commands in Redis' protocol */
};

static void on_tick(void *arg);

int store__cpub_new(struct store_cpub **pp, struct store *s, struct loop *l,
		    const char *chan)
{
	struct store_cpub *p = mem_zalloc(sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->s = s;
	p->l = l;
	snprintf(p->chan, sizeof(p->chan), "%s", chan);
	tmr_init(&p->tick);
	*pp = p;
	return 0;
}

void store__cpub_free(struct store_cpub *p)
{
	if (!p)
		return;
	tmr_cancel(&p->tick);
	mem_free(p);
}

void store__cpub_drop(struct store_cpub *p)
{
	if (!p)
		return;
	tmr_cancel(&p->tick);
	p->n = p->used = 0;
}

/*
 * Every held message to the command connection's queue (written with
 * the store's next write).  Redis not ready: dropped (see top).  Ready
 * but too many commands in flight: kept for the next tick.  0, or
 * -ENOBUFS (kept).
 */
int store__cpub_flush(struct store_cpub *p)
{
	struct store_redis *r = store__redis_of(p->s);
	redisAsyncContext *ac = store__redis_cmd(r);
	uint32_t i, off = 0;

	tmr_cancel(&p->tick);
	if (!ac) {
		p->n = p->used = 0;
		return 0;
	}
	if (!store__redis_room(r)) {
		tmr_start(loop_timers(p->l), &p->tick, STORE_CPUB_MS, on_tick,
			  p);
		return -ENOBUFS;
	}
	for (i = 0; i < p->n; i++) {
		if (redisAsyncFormattedCommand(ac, store__redis_on_plain, NULL,
					       p->buf + off,
					       p->len[i]) == REDIS_OK)
			store__redis_sent(r);
		off += p->len[i];
	}
	p->n = p->used = 0;
	return 0;
}

static void on_tick(void *arg)
{
	(void)store__cpub_flush(arg);
}

int store__cpub_put(struct store_cpub *p, struct str msg)
{
	/* the header, the channel's name, the longest message ("B " and a
	 * binding record, its lengths' digits and line ends */
	char cmd[64 + sizeof(p->chan) + STORE_BINDING_MAX + 4];
	struct store__resp w;

	store__resp_init(&w, cmd, sizeof(cmd));
	store__resp_array(&w, 3);
	store__resp_arg(&w, "PUBLISH", 7);
	store__resp_cstr(&w, p->chan);
	store__resp_str(&w, msg);
	if (store__resp_end(&w) != 0)
		return -EIO; /* not reached: messages are bounded */
	if ((p->n == CPUB_MAX || w.len > CPUB_BYTES - p->used) &&
	    store__cpub_flush(p) != 0)
		return -ENOBUFS;
	memcpy(p->buf + p->used, cmd, w.len);
	p->len[p->n++] = (uint32_t)w.len;
	p->used += (uint32_t)w.len;
	if (!tmr_pending(&p->tick))
		tmr_start(loop_timers(p->l), &p->tick, STORE_CPUB_MS, on_tick,
			  p);
	return 0;
}
