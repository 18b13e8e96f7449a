/*
 * gate_int.h - private to gate.c and gate_ban.c: the tables of the
 * pre-parse gate and the helpers both files use.
 */
#ifndef SIPGUARD_GUARD_GATE_INT_H
#define SIPGUARD_GUARD_GATE_INT_H

#include <endian.h>
#include <string.h>

#include "core/siphash.h"
#include "guard/gate.h"

enum {
	KEY_V4 = 4, /* struct key fam; 0 marks a free entry */
	KEY_V6 = 6,
};

static const uint32_t NIL = UINT32_MAX;

enum ban_state { BAN_FREE = 0, BAN_ACTIVE, BAN_DORMANT };

/* Source key in host byte order: IPv4 address or the IPv6 /64. */
struct key {
	uint64_t k;
	uint8_t fam; /* KEY_V4 or KEY_V6 */
};

struct srcent {
	uint64_t k;
	uint64_t tat_pkt;  /* ns */
	uint64_t tat_byte; /* ns */
	uint64_t until;    /* max(last seen, TATs): evict the lowest */
	uint64_t drop_win; /* ms: start of the rate-drop count's second */
	uint32_t drops;    /* rate drops in that second */
	uint8_t fam;       /* 0 = free */
	uint8_t allow;     /* enum gate__allow_state */
};

struct banent {
	uint64_t k;
	uint64_t expires_ms;
	uint64_t hits;
	uint32_t next; /* hash chain, or free list */
	uint32_t offences;
	uint8_t fam;
	uint8_t state; /* enum ban_state */
	uint64_t start_ms;
	uint64_t start_wall_ms;
	char rule[GATE_RULE_MAX];
	char reason[GATE_REASON_MAX];
};

/* Owner: whoever called gate_new(). */
struct gate {
	struct gate_conf conf; /* allow pointers cleared */
	uint8_t key[SIPHASH_KEY_LEN];
	/* source table */
	struct srcent *src;
	size_t smask; /* sets - 1 */
	size_t src_used;
	uint64_t pkt_cost, pkt_win; /* ns; cost 0 = limiter off */
	uint64_t byte_rate, byte_win;
	/* ban table */
	struct banent *ban;
	uint32_t *bhead;
	uint32_t bmask;
	uint32_t cap;
	uint32_t free;
	size_t used, active, sweep;
	uint64_t rng;
	struct gate__allow allow;
	struct gate_stats st; /* counters; sizes filled by gate_stats() */
	gate_change_fn *hook; /* gate_set_hook(): shared-state sync */
	void *hook_arg;
};

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static inline uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static inline uint64_t load_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

static inline uint64_t key_hash(const struct gate *g, const struct key *k)
{
	uint8_t b[9];

	memcpy(b, &k->k, 8);
	b[8] = k->fam;
	return siphash24(b, sizeof(b), g->key);
}

static inline enum gate__allow_state allow_classify(const struct gate *g,
						    const struct key *k)
{
	return gate__allow_key(&g->allow, k->fam == KEY_V6, k->k);
}

/* gate_ban.c: the ban entry of k (hash hv), or NULL. */
struct banent *gate__ban_find(const struct gate *g, const struct key *k,
			      uint64_t hv);
/* gate_ban.c: an ACTIVE ban ran out (turns DORMANT, tells the owner). */
void gate__ban_lapse(struct gate *g, struct banent *b, uint64_t now_ms);

#endif
