/*
 * store_takeover.c - the takeover half of store_cluster.c (issue 9):
 * once a second, the claim script for every other instance whose
 * heartbeat lapsed (exactly one survivor gets its dialog snapshots and
 * ends those calls), and at READY the dialogs another instance took
 * from us while we were cut off.  The protocol is described at the top
 * of store_cluster.c.
 */
#include "store/store_cluster_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"

/* KEYS: heartbeat, dlg hash, reg hash, insts, channel, taken hash.
 * ARGV: victim, claimer, the taken hash's TTL.  nil while the victim
 * beats.  The claimed dialogs' keys stay behind in the taken hash, for
 * the victim should it come back (store__cluster_ready). */
static const char claim_lua[] =
	"if redis.call('EXISTS', KEYS[1]) == 1 then return false end\n"
	"local d = redis.call('HGETALL', KEYS[2])\n"
	"for i = 1, #d, 2 do redis.call('HSET', KEYS[6], d[i], ARGV[2]) end\n"
	"if #d > 0 then redis.call('PEXPIRE', KEYS[6], ARGV[3]) end\n"
	"redis.call('DEL', KEYS[2], KEYS[3])\n"
	"redis.call('SREM', KEYS[4], ARGV[1])\n"
	"redis.call('PUBLISH', KEYS[5], 'G ' .. ARGV[2] .. ' ' .. ARGV[1])\n"
	"return d\n";

/* KEYS: our taken hash.  Its dialog key -> claimer pairs, read once. */
static const char taken_lua[] = "local d = redis.call('HGETALL', KEYS[1])\n"
				"redis.call('DEL', KEYS[1])\n"
				"return d\n";

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Our taken hash, read at READY: another instance claimed these dialogs
 * while we were cut off (or stalled) and ended them with BYE.  Our
 * copies would otherwise live on until their timers (idle, max
 * duration), counted, snapshotted again, their records late and wrong.
 */
static void on_taken(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_cluster *c = store__cl_replied(ac);
	redisReply *rep = reply;
	const char **keys;
	const char *claimer = "?";
	size_t i, n = 0;

	(void)priv;
	if (!c || !rep || rep->type != REDIS_REPLY_ARRAY || !rep->elements)
		return;
	keys = mem_zalloc((rep->elements / 2 + 1) * sizeof(*keys));
	if (!keys)
		return; /* the dialogs end by their timers, as before */
	for (i = 0; i + 1 < rep->elements; i += 2) {
		const redisReply *k = rep->element[i], *v = rep->element[i + 1];

		if (k->type != REDIS_REPLY_STRING ||
		    !store__cl_dkey_valid(str_make(k->str, k->len))) {
			c->st.bad_records++;
			continue;
		}
		if (v->type == REDIS_REPLY_STRING &&
		    store_instance_valid(str_make(v->str, v->len)))
			claimer = v->str;
		keys[n++] = k->str;
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	c->st.taken_from_us += n;
	/* Cut off or stalled past the heartbeat, or restarted since. */
	log_warn("store: %zu calls of this instance were taken over by %s "
		 "while it was away from redis",
		 n, claimer);
	if (n && c->ev.taken)
		c->ev.taken(c->ev.arg, claimer, keys, n);
	mem_free(keys);
}

void store__cl_taken_read(struct store_cluster *c, redisAsyncContext *ac)
{
	(void)store__cl_sent(c, redisAsyncCommand(ac, on_taken, NULL,
						  "EVAL %s 1 %s", taken_lua,
						  c->k_taken));
}

/* ----------------------------------------------------------- takeover */

static void on_claim(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_redis *r = ac->data;
	redisReply *rep = reply;
	struct store_cluster *c;
	struct store_snap sn;
	char *victim = priv;
	size_t i;

	if (r)
		store__redis_replied(r);
	c = r && rep ? store__cluster(store__redis_store(r)) : NULL;
	if (c && rep->type == REDIS_REPLY_ARRAY) {
		/* Its heartbeat lapsed: its calls are ours to end. */
		store__cl_rb_drop(c, victim);
		c->st.takeovers++;
		log_warn("store: instance %s is gone: taking over its %zu "
			 "calls",
			 victim, rep->elements / 2);
		for (i = 0; i + 1 < rep->elements; i += 2) {
			const redisReply *v = rep->element[i + 1];

			if (v->type != REDIS_REPLY_STRING ||
			    store_snap_decode(&sn, str_make(v->str, v->len))) {
				c->st.bad_records++;
				continue;
			}
			c->st.taken_dialogs++;
			if (c->ev.takeover)
				c->ev.takeover(c->ev.arg, victim, &sn);
		}
	}
	mem_free(victim);
}

static void claim(struct store_cluster *c, redisAsyncContext *ac,
		  struct str name)
{
	char hb[CL_KEY_MAX], dk[CL_KEY_MAX], rk[CL_KEY_MAX], tk[CL_KEY_MAX];
	char *victim = mem_zalloc(name.len + 1);

	if (!victim)
		return;
	memcpy(victim, name.p, name.len);
	store__cl_key(c, hb, sizeof(hb), "inst:", name);
	store__cl_key(c, dk, sizeof(dk), "dlg:", name);
	store__cl_key(c, rk, sizeof(rk), "reg:", name);
	store__cl_key(c, tk, sizeof(tk), "taken:", name);
	if (store__cl_sent(
		    c, redisAsyncCommand(ac, on_claim, victim,
					 "EVAL %s 6 %s %s %s %s %s %s %s %s %d",
					 claim_lua, hb, dk, rk, c->k_insts,
					 c->k_chan, tk, victim, c->me,
					 CL_TAKEN_TTL_MS)))
		mem_free(victim);
}

static void on_members_scan(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_cluster *c = store__cl_replied(ac);
	redisReply *rep = reply;
	size_t i;

	(void)priv;
	if (!c)
		return;
	c->scanning = false;
	if (!rep || rep->type != REDIS_REPLY_ARRAY || !store__cl_cmd(c))
		return;
	for (i = 0; i < rep->elements; i++)
		if (store__cl_member_ok(c, rep->element[i]))
			claim(c, store__cl_cmd(c),
			      str_make(rep->element[i]->str,
				       rep->element[i]->len));
}

/* Each heartbeat: keep our hashes alive, look for dead instances. */
void store__cluster_tick(struct store *s)
{
	struct store_cluster *c = store__cluster(s);
	struct store_redis *r = store__redis_of(s);
	redisAsyncContext *ac;

	if (!c || !c->ready_at || !(ac = store__cl_cmd(c)))
		return;
	(void)store__cl_sent(c, redisAsyncCommand(ac, store__cl_on_reply, NULL,
						  "PEXPIRE %s %d", c->k_dlg,
						  CL_HASH_TTL_MS));
	(void)store__cl_sent(c, redisAsyncCommand(ac, store__cl_on_reply, NULL,
						  "PEXPIRE %s %d", c->k_reg,
						  CL_HASH_TTL_MS));
	if (c->scanning ||
	    loop_now(c->l) - c->ready_at < 2 * store__redis_ttl(r))
		return;
	if (store__cl_sent(c, redisAsyncCommand(ac, on_members_scan, NULL,
						"SMEMBERS %s", c->k_insts)) ==
	    0)
		c->scanning = true;
}
