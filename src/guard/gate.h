/*
 * gate.h - the gate: drop banned and over-rate sources before parsing.
 *
 * The transport asks gate_check() about every datagram before it is
 * parsed, and about every TCP/TLS connection before it is accepted.  The
 * answer costs O(1), allocates nothing, makes no system call and sends
 * nothing: a drop is silent (DESIGN.md "Drop early, answer little").
 *
 * Three fixed-size structures, all allocated by gate_new():
 *  - the ban list, keyed by source (an IPv4 address or an IPv6 /64, see
 *    struct guard_src; IPv4-mapped IPv6 counts as IPv4).  A ban keeps its
 *    rule, reason, start, expiry, hit count and offence count.  Bans
 *    expire; a source banned again while its previous offence is still
 *    remembered gets a longer ban (first * factor^(n-1), capped).
 *  - the source table: per-source packet and byte rate limiters (GCRA,
 *    the "virtual scheduling" form of a token bucket: one time stamp per
 *    limiter, no refill loop), in 8-way sets; a full set evicts its least
 *    useful entry (an idle one first, a source being limited last).
 *  - the allow list: CIDR prefixes parsed at creation.  Allow-listed
 *    sources always pass and can never be banned.
 *
 * Keys are hashed once per check with SipHash-2-4 under a random key
 * (hash flooding), and the one hash serves both tables.
 *
 * Time is passed in: now_ms from the loop's monotonic clock, wall_ms (Unix
 * epoch ms) only where a ban records when it started.  Not thread-safe:
 * one gate per event loop (or the caller serialises).
 */
#ifndef SIPGUARD_GUARD_GATE_H
#define SIPGUARD_GUARD_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/str.h"
#include "guard/guard_types.h"

enum {
	GATE_ALLOW_MAX = 256, /* allow-list prefixes */
	GATE_SRC_MIN = 8,     /* source table entries */
	GATE_SRC_MAX = 1 << 24,
	GATE_BANS_MAX = 1 << 22,    /* ban table entries */
	GATE_EVICT_SAMPLES = 16,    /* ban entries looked at to evict one */
	GATE_RULE_MAX = 32,         /* rule name kept, NUL included */
	GATE_REASON_MAX = 96,       /* reason kept, NUL included */
	GATE_RATE_MAX = 1000000000, /* packets/s or bytes/s per source */
	GATE_CIDR_TEXT_MAX = 64,    /* longest CIDR text accepted */
	GATE_CIDR_STRLEN = 50,      /* "ffff:...:ffff/128" plus NUL */
};

/* A ban duration or expiry that never ends. */
#define GATE_FOREVER UINT64_MAX

/* Rule names of the gate's own drops, for events and counters. */
#define GATE_RULE_BANNED "gate-banned"
#define GATE_RULE_RATE   "gate-rate"
#define GATE_RULE_FLOOD  "gate-flood"

/*
 * Configuration, copied by gate_new() (the allow strings are parsed there
 * and not kept).  gate_conf_default() fills in the defaults shown.
 */
struct gate_ban_info;

struct gate_conf {
	uint32_t pkt_rate;        /* packets/s per source; 0 = off (100) */
	uint32_t pkt_burst;       /* packets at once; 0 = pkt_rate (200) */
	uint32_t byte_rate;       /* bytes/s per source; 0 = off (256 KiB) */
	uint32_t byte_burst;      /* 0 = byte_rate (512 KiB); a datagram */
				  /* larger than the burst never passes */
	uint32_t sources;         /* source table entries (65536) */
	uint32_t bans;            /* ban table entries (16384) */
	uint64_t ban_first_ms;    /* first ban of a source (60 s) */
	uint32_t ban_factor;      /* each repeat multiplies by this (2) */
	uint64_t ban_max_ms;      /* longest escalated ban (24 h) */
	uint64_t ban_memory_ms;   /* offences remembered after expiry (24 h) */
	uint32_t flood_drops;     /* rate drops in one second that make a */
				  /* flood: GATE_FLOOD (ban it); 0 = off */
				  /* (2000) */
	const char *const *allow; /* CIDR strings, "10.0.0.0/8", "::1" */
	size_t n_allow;
	/* 16 bytes for reproducible tests and benchmarks; NULL = random */
	const uint8_t *hash_key;
	/* Told when a ban runs out (found by gate_check(), gate_ban() or
	 * gate_expire()), with a copy of the entry; must not call back
	 * into the gate.  NULL: nobody. */
	void (*lapsed)(void *arg, const struct gate_ban_info *info,
		       uint64_t now_ms);
	void *lapsed_arg;
};

enum gate_verdict {
	GATE_PASS = 0,
	GATE_BANNED, /* source banned: drop silently (hit counted) */
	GATE_RATE,   /* source over its packet or byte rate: drop */
	GATE_FLOOD,  /* the same, for the flood_drops-th time in a second:
		      * drop, and the caller should ban the source */
};

/* An allow-list prefix.  IPv4-mapped IPv6 prefixes are stored as IPv4. */
struct gate_cidr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t bits;   /* 0..32 or 0..128 */
	uint8_t a[16];  /* network address, host bits zero, network order */
};

/* One ban, as gate_ban_get() and gate_ban_next() report it (a copy). */
struct gate_ban_info {
	struct guard_src src;
	char rule[GATE_RULE_MAX];     /* NUL-terminated, truncated */
	char reason[GATE_REASON_MAX]; /* NUL-terminated, truncated */
	uint64_t start_wall_ms;       /* wall clock when this ban began */
	uint64_t start_ms;            /* monotonic, same instant */
	uint64_t expires_ms;          /* monotonic, or GATE_FOREVER */
	uint64_t expires_wall_ms;     /* wall clock, or GATE_FOREVER */
	uint64_t hits;                /* packets dropped by this ban */
	uint32_t offences;            /* bans of this source remembered */
	bool active;                  /* false: expired, offence remembered */
};

struct gate_stats {
	uint64_t checked; /* gate_check() calls */
	uint64_t passed;
	uint64_t drop_banned;
	uint64_t drop_rate;
	uint64_t bans_total;   /* ban episodes started */
	uint64_t bans_evicted; /* entries pushed out of a full ban table */
	uint64_t src_evicted;  /* source entries reused for another source */
	size_t bans_active;    /* bans in force (expiry applied lazily) */
	size_t bans_used;      /* ban entries, remembered offences included */
	size_t src_used;       /* source entries in use */
};

struct gate;

void gate_conf_default(struct gate_conf *c);

/*
 * Validate c, parse its allow list and allocate every table.  On error
 * returns -EINVAL (message in err, always NUL-terminated when errsz > 0),
 * -ENOMEM, or -errno from getrandom(2); *gp is then NULL.  The caller
 * owns *gp and frees it with gate_free().
 */
int gate_new(struct gate **gp, const struct gate_conf *c, char *err,
	     size_t errsz);
/* Free everything; NULL does nothing. */
void gate_free(struct gate *g);
/* Reload: new rates and ban policy; tables, bans and the allow list
 * stay (sources/bans sizes must not change).  0 or -EINVAL with err. */
int gate_reconf(struct gate *g, const struct gate_conf *c, char *err,
		size_t errsz);

/*
 * The per-packet (and per-accept) check.  bytes is the datagram size (0
 * for a connection attempt).  Order: a banned source is dropped first
 * (the ban's hit count goes up); an allow-listed source passes; otherwise
 * the packet must fit both rate limiters, and only a packet that passes
 * is charged.  O(1), no allocation, no system call.  An address of
 * another family passes (and is not counted under any source).
 */
enum gate_verdict gate_check(struct gate *g, const struct sg_addr *src,
			     size_t bytes, uint64_t now_ms);

/* True when the address is on the allow list (cold path: scans it). */
bool gate_allowed(const struct gate *g, const struct sg_addr *a);

/*
 * Ban src (rule, reason: copied, truncated, NULL = "").  duration_ms 0
 * uses the escalation policy: the n-th remembered offence gets
 * ban_first_ms * ban_factor^(n-1), at most ban_max_ms.  GATE_FOREVER
 * never expires.
 * Banning a source that is already banned does not count a new offence
 * (several rules may fire on one attack): its expiry becomes the later of
 * the two and its rule and reason the new ones.
 * A full ban table evicts, among up to GATE_EVICT_SAMPLES entries from a
 * random place, a remembered offence first, else the ban that ends
 * soonest: a fresh attacker matters more than an old ban (counted in
 * bans_evicted).
 * Returns 0, -EINVAL (bad src), or -EPERM when any address of src is on
 * the allow list (an allowed /128 forbids banning its /64).
 */
int gate_ban(struct gate *g, const struct guard_src *src, uint64_t duration_ms,
	     const char *rule, const char *reason, uint64_t now_ms,
	     uint64_t wall_ms);
/*
 * Change hook, for sharing bans between instances (guard/bansync.c): fn
 * is told after every successful gate_ban() (banned true, the entry as
 * gate_ban_get() reports it) and gate_unban() (banned false, only src
 * filled).  Expiry is not reported (each instance expires on its own
 * clock).  fn may not call back into the gate.  NULL removes it.
 */
typedef void gate_change_fn(void *arg, const struct gate_ban_info *info,
			    bool banned);
void gate_set_hook(struct gate *g, gate_change_fn *fn, void *arg);
/* Lift the ban and forget the offences.  Returns 0 or -ENOENT. */
int gate_unban(struct gate *g, const struct guard_src *src);
bool gate_is_banned(const struct gate *g, const struct guard_src *src,
		    uint64_t now_ms);
/* Copy the entry of src (active or remembered).  0 or -ENOENT. */
int gate_ban_get(const struct gate *g, const struct guard_src *src,
		 uint64_t now_ms, struct gate_ban_info *info);
/*
 * Walk the ban table: start with *cursor = 0; each call fills *info and
 * returns true, or returns false at the end.  Remembered (expired)
 * entries are reported only when dormant is true.  Adding or removing
 * bans during a walk is allowed; entries may then be missed or seen
 * twice.
 */
bool gate_ban_next(const struct gate *g, size_t *cursor, uint64_t now_ms,
		   bool dormant, struct gate_ban_info *info);
/*
 * Housekeeping in bounded slices (STYLE.md 7): visit up to budget ban
 * entries from where the last call stopped; expired bans become
 * remembered offences, offences older than ban_memory_ms are forgotten.
 * Returns the number of entries changed.
 */
size_t gate_expire(struct gate *g, uint64_t now_ms, size_t budget);
void gate_stats(const struct gate *g, struct gate_stats *st);

/* --- Addresses and prefixes (cidr.c) --- */

/*
 * Parse "10.0.0.0/8", "192.0.2.7" (= /32), "2001:db8::/32", "::1" (=
 * /128).  The prefix length is 1-3 decimal digits; host bits after it
 * must be zero; "::ffff:a.b.c.d/n" with n >= 96 becomes IPv4 /n-96.  No
 * white space.  Returns 0, or -EINVAL with a static reason in *whyp.
 * Pure: no allocation, no globals.
 */
int gate_cidr_parse(struct gate_cidr *cp, struct str s, const char **whyp);
/* True when address a lies inside c (IPv4-mapped a counts as IPv4). */
bool gate_cidr_contains(const struct gate_cidr *c, const struct sg_addr *a);
/* "10.0.0.0/8" into buf (NUL-terminated; GATE_CIDR_STRLEN is enough). */
const char *gate_cidr_fmt(const struct gate_cidr *c, char *buf, size_t sz);
/*
 * Parse a ban key as an operator types it: "203.0.113.9" (or "/32"), an
 * IPv6 address or "2001:db8:1:2::/64" (any IPv6 address means its /64;
 * other lengths are refused), "::ffff:203.0.113.9" is IPv4.  Returns 0
 * or -EINVAL with a static reason in *whyp.
 */
int gate_src_parse(struct guard_src *sp, struct str s, const char **whyp);

/*
 * --- Private to gate.c and cidr.c: the allow list as the check uses it.
 * Keys and prefixes in host byte order; an IPv6 key is its /64.
 */
enum gate__allow_state {
	GATE__ALLOW_NO = 0,
	GATE__ALLOW_YES,  /* every address under the key is allowed */
	GATE__ALLOW_PART, /* only some addresses of an IPv6 /64 are */
};

struct gate__allow4 {
	uint32_t net, mask;
};

struct gate__allow6 {
	uint64_t hi, lo, mhi, mlo;
	unsigned bits;
};

struct gate__allow {
	struct gate__allow4 v4[GATE_ALLOW_MAX];
	struct gate__allow6 v6[GATE_ALLOW_MAX];
	size_t n4, n6;
};

/* Append c (the caller keeps the count within GATE_ALLOW_MAX). */
void gate__allow_add(struct gate__allow *al, const struct gate_cidr *c);
enum gate__allow_state gate__allow_key(const struct gate__allow *al, bool v6,
				       uint64_t k);
/* Full IPv6 address hi:lo against the prefixes longer than /64. */
bool gate__allow_long6(const struct gate__allow *al, uint64_t hi, uint64_t lo);

#endif
