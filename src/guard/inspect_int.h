/*
 * inspect_int.h - private to inspect.c (tables, creation, reload) and
 * inspect_rules.c (the rules that judge each request and answer).
 */
#ifndef SIPGUARD_GUARD_INSPECT_INT_H
#define SIPGUARD_GUARD_INSPECT_INT_H

#include "core/htab.h"
#include "guard/inspect.h"
#include "guard/window.h"

/* Common head of a table entry. */
struct slot {
	struct hnode node;
	uint32_t prev, next; /* LRU list: head = least recently used */
};

struct table {
	struct htab h;
	unsigned char *mem;
	size_t esize;
	uint32_t nslots, nused;
	uint32_t head, tail;
};

struct insp_src {
	struct slot s;
	struct guard_src key;
	uint8_t held_rule;
	uint64_t held_until; /* > now: known scanner */
	struct win_ctr rate[INSPECT_C__COUNT];
	struct win_ctr fail, ok;
	struct win_bits tried, resolved; /* scanner-users */
	struct win_bits opt;             /* scanner-options */
};

/* Keyed by the full 64-bit keyed hash alone: a false match needs a
 * SipHash collision under a key nobody outside the process knows. */
struct insp_user {
	struct slot s;
	struct win_ctr ctr;
};

struct inspect {
	struct inspect_conf conf;
	struct table src, user;
	struct inspect_fps fps;
	unsigned load;
	uint64_t hits[INSPECT_R__COUNT];
	inspect_rate_hook_fn *hook; /* rate_share.c; NULL: none */
	void *hook_arg;
};

/* inspect.c: the entry of a's source (IPv4 address or IPv6 /64), new
 * when unknown (the least recently used one is recycled when full). */
struct insp_src *inspect__src_get(struct inspect *in, const struct sg_addr *a);
struct insp_user *inspect__user_get(struct inspect *in, uint64_t uh);

/* Keyed hash of the case-folded target user. */
static inline uint64_t inspect__user_hash(const struct inspect *in,
					  struct str user)
{
	return htab_hash_case(&in->user.h, user.p, user.len);
}

#endif
