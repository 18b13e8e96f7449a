/*
 * store_mem.c - the memory backend: counters and sliding-window rates of
 * this instance in one fixed table, allocated once (STYLE.md 5, 7).
 *
 * Keys (user names: attacker-chosen) are hashed with SipHash under a
 * random key; an entry keeps only the 64-bit hash, so a lookup costs one
 * hash and at most STORE_MEM_WAYS probes.  A full probe window evicts an
 * expired entry first, else the one closest to its expiry: the table
 * never grows, and what it forgets is what mattered least.
 *
 * The Redis backend keeps this table as its local view: every local
 * change lands here too, and when Redis is away the answers come from
 * here (each instance then enforces limits on its own share).
 */
#include "store/store_int.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "core/mem.h"
#include "core/siphash.h"

enum { KIND_COUNT = 'c', KIND_RATE = 'r' };

struct ment {
	uint64_t h;       /* 0: free */
	uint64_t expires; /* monotonic ms */
	int64_t value;    /* counter */
	uint64_t period;  /* rate: index of the current fixed window */
	uint64_t window;  /* rate: its length, ms */
	uint64_t prev, cur;
};

/* Owner: the store (store.c), through store__mem_new/free. */
struct store_mem {
	struct ment *e;
	uint32_t mask;
	uint8_t key[SIPHASH_KEY_LEN];
};

int store__mem_new(struct store_mem **mp, uint32_t slots)
{
	struct store_mem *m;
	uint32_t n = STORE_MEM_MIN;

	if (slots > STORE_MEM_MAX)
		return -EINVAL;
	while (n < slots)
		n <<= 1;
	m = mem_zalloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->e = mem_zalloc((size_t)n * sizeof(*m->e));
	if (!m->e) {
		mem_free(m);
		return -ENOMEM;
	}
	m->mask = n - 1;
	if (getrandom(m->key, sizeof(m->key), 0) != (ssize_t)sizeof(m->key)) {
		store__mem_free(m);
		return -EIO;
	}
	*mp = m;
	return 0;
}

void store__mem_free(struct store_mem *m)
{
	if (!m)
		return;
	mem_free(m->e);
	mem_free(m);
}

static uint64_t mhash(const struct store_mem *m, int kind, struct str key)
{
	uint8_t buf[1 + STORE_CKEY_MAX];
	size_t n = key.len < STORE_CKEY_MAX ? key.len : STORE_CKEY_MAX;
	uint64_t h;

	buf[0] = (uint8_t)kind;
	memcpy(buf + 1, key.p, n);
	h = siphash24(buf, n + 1, m->key);
	return h ? h : 1;
}

/* The entry of h (fresh, zeroed, when absent or expired). */
static struct ment *mfind(struct store_mem *m, uint64_t h, uint64_t now)
{
	struct ment *victim = NULL, *free_e = NULL, *oldest = NULL, *e;
	uint32_t i;

	for (i = 0; i < STORE_MEM_WAYS; i++) {
		e = &m->e[(h + i) & m->mask];
		if (e->h == h) {
			if (e->expires > now)
				return e;
			victim = e;
			break;
		}
		if (!e->h || e->expires <= now) {
			if (!free_e)
				free_e = e;
		} else if (!oldest || e->expires < oldest->expires) {
			oldest = e;
		}
	}
	if (!victim)
		victim = free_e ? free_e : oldest;
	memset(victim, 0, sizeof(*victim));
	victim->h = h;
	return victim;
}

int store__mem_count(struct store_mem *m, struct str key, int64_t delta,
		     int64_t limit, uint64_t ttl_ms, uint64_t now_ms,
		     int64_t *valuep)
{
	struct ment *e;
	int64_t v;

	if (!m || !valuep || key.len == 0 || key.len > STORE_CKEY_MAX)
		return -EINVAL;
	e = mfind(m, mhash(m, KIND_COUNT, key), now_ms);
	v = e->value + delta;
	if (delta > 0 && limit > 0 && v > limit) {
		*valuep = e->value;
		if (!e->value)
			e->h = 0; /* do not keep an empty entry */
		return -EDQUOT;
	}
	if (v <= 0) {
		e->h = 0;
		*valuep = 0;
		return 0;
	}
	e->value = v;
	e->expires = now_ms + (ttl_ms ? ttl_ms : 1);
	*valuep = v;
	return 0;
}

int64_t store__window_estimate(uint64_t prev, uint64_t cur, uint64_t window_ms,
			       uint64_t elapsed_ms)
{
	if (!window_ms)
		return (int64_t)cur;
	if (elapsed_ms > window_ms)
		elapsed_ms = window_ms;
	/* Weight in integers: prev is at most 2^32 per hit times hits, and
	 * the product fits while prev < 2^64 / 2^33 (8.5e9 events per
	 * window, far above any rate we could receive). */
	return (int64_t)(cur + prev * (window_ms - elapsed_ms) / window_ms);
}

int store__mem_rate(struct store_mem *m, struct str key, uint64_t window_ms,
		    uint32_t n, int64_t limit, uint64_t now_ms, int64_t *valuep)
{
	struct ment *e;
	uint64_t k;

	if (!m || !valuep || key.len == 0 || key.len > STORE_CKEY_MAX ||
	    window_ms == 0)
		return -EINVAL;
	k = now_ms / window_ms;
	e = mfind(m, mhash(m, KIND_RATE, key), now_ms);
	if (e->window != window_ms || e->period + 1 < k) {
		e->prev = e->cur = 0;
	} else if (e->period + 1 == k) {
		e->prev = e->cur;
		e->cur = 0;
	}
	e->window = window_ms;
	e->period = k;
	e->cur += n;
	e->expires = (k + 2) * window_ms;
	*valuep = store__window_estimate(e->prev, e->cur, window_ms,
					 now_ms - k * window_ms);
	return limit > 0 && *valuep > limit ? -EDQUOT : 0;
}

int store__mem_rate_take(struct store_mem *m, struct str key,
			 uint64_t window_ms, uint32_t n, uint64_t age_ms,
			 uint64_t now_ms)
{
	struct ment *e = NULL;
	uint64_t k, at, h;
	uint64_t *c;
	uint32_t i;

	if (!m || key.len == 0 || key.len > STORE_CKEY_MAX || window_ms == 0)
		return -EINVAL;
	at = now_ms > age_ms ? now_ms - age_ms : 0;
	k = at / window_ms;
	/* A peek: nothing to take from an entry that is gone. */
	h = mhash(m, KIND_RATE, key);
	for (i = 0; i < STORE_MEM_WAYS && !e; i++)
		if (m->e[(h + i) & m->mask].h == h &&
		    m->e[(h + i) & m->mask].expires > now_ms)
			e = &m->e[(h + i) & m->mask];
	if (!e || e->window != window_ms)
		return 0;
	c = e->period == k ? &e->cur : e->period == k + 1 ? &e->prev : NULL;
	if (c)
		*c = *c > n ? *c - n : 0;
	return 0;
}

size_t store__mem_used(const struct store_mem *m)
{
	size_t i, n = 0;

	for (i = 0; i <= m->mask; i++)
		n += m->e[i].h != 0;
	return n;
}
