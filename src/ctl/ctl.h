/*
 * ctl.h - public interface of the control layer: the control socket
 * server of the daemon, and the JSON request format it speaks (parser
 * and encoder, shared with the sipguardctl client).
 *
 * Protocol: one JSON object per line each way (RFC 8259, parsed and
 * built with jansson).  A request names its command in "cmd"; every
 * other member must belong to that command and have its type:
 *
 *   {"cmd":"bans"}                       list bans
 *   {"cmd":"ban","addr":"ADDR[/PLEN]"[,"for_s":N][,"reason":"TEXT"]}
 *                                        ban an address; for_s: seconds,
 *                                        1..CTL_BAN_MAX_S, absent: the
 *                                        daemon's default; reason: at
 *                                        most CTL_REASON_MAX bytes, no
 *                                        control characters
 *   {"cmd":"unban","addr":"ADDR[/PLEN]"} lift a ban
 *   {"cmd":"rules"}                      rules, hits and monitor flags
 *   {"cmd":"monitor","rule":"NAME","on":B}
 *   {"cmd":"monitor","all":true,"on":B}  monitor mode of one rule or of
 *                                        all (the global flag)
 *   {"cmd":"stats"}                      counters
 *   {"cmd":"reload"}                     load the configuration anew
 *   {"cmd":"calls"}                      live dialogs
 *   {"cmd":"drain","on":B}               refuse new calls (503), let the
 *                                        current ones finish; false:
 *                                        take calls again
 *   {"cmd":"held"}                       users the toll-fraud anomaly
 *                                        rules block or throttle now
 *   {"cmd":"unblock","user":"NAME"}      lift a user's block and
 *                                        throttle, on every instance;
 *                                        NAME: 1..CTL_USER_MAX bytes,
 *                                        no control characters
 *   {"cmd":"events","follow":true[,"type":"T"][,"src":"ADDR"]}
 *                                        follow the security events:
 *                                        answers {"ok":true,"follow":
 *                                        true}, then every event line as
 *                                        the event log writes it (JSON,
 *                                        docs/events.md), and
 *                                        {"missed":N} when N lines were
 *                                        lost because the client read too
 *                                        slowly; until the client hangs up
 *
 * Answers: {"ok":true,...} or {"ok":false,"error":"..."}; a request
 * that is not valid JSON also gets "offset" (byte in the line).  Lists
 * come as {"ok":true,"bans":[{...},...]}, {"ok":true,"held":[...]},
 * {"ok":true,"rules":[...],
 * "global_monitor":false} and {"ok":true,"stats":{"name":N,...}}.  A bad
 * request is answered and the connection stays usable (lines frame the
 * requests, and JSON strings cannot hold a raw LF); only a line longer
 * than CTL_REQ_MAX is answered and then closed, as there is no way to
 * find the next request.  The line form of earlier versions ("ban ADDR
 * ...") is gone: it gets an error that shows the JSON form.
 *
 * The server does not know bans or rules: it parses the request and
 * calls the struct ctl_ops callbacks the daemon gives it, which fill the
 * answer with the ctl_out_*() helpers.  So ctl does not depend on the
 * guard implementation.
 */
#ifndef SIPGUARD_CTL_H
#define SIPGUARD_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/addr.h"
#include "core/str.h"

struct buf;
struct evlog;
struct loop;
struct rules;

#define CTL_DEFAULT_PATH "/run/sipguard/sipguard.sock"

enum {
	CTL_REQ_MAX = 1024,          /* request line, LF included */
	CTL_RESP_MAX = 4 << 20,      /* answer line */
	CTL_REASON_MAX = 200,        /* ban reason, bytes */
	CTL_RULE_MAX = 64,           /* rule name, bytes */
	CTL_USER_MAX = 64,           /* user name, bytes (fraud's) */
	CTL_BAN_MAX_S = 366 * 86400, /* longest ban: a year */
	CTL_MAX_CONNS = 16,          /* default connection cap */
	CTL_MAX_PER_UID = 4,         /* default cap per peer uid */
	CTL_IDLE_MS = 30000,         /* idle connection timeout */
};

/* --------------------------------------------------------------- requests */

enum ctl_cmd {
	CTL_CMD_BANS = 1,
	CTL_CMD_BAN,
	CTL_CMD_UNBAN,
	CTL_CMD_RULES,
	CTL_CMD_MONITOR,
	CTL_CMD_STATS,
	CTL_CMD_RELOAD, /* operations issue */
	CTL_CMD_CALLS,
	CTL_CMD_DRAIN,
	CTL_CMD_EVENTS,
	CTL_CMD_HELD,
	CTL_CMD_UNBLOCK,
};

enum {
	CTL_TYPE_MAX = 32, /* event type filter, bytes */
	CTL_REQ_DEPTH = 4, /* nesting refused before jansson sees it */
	CTL_ERR_MAX = 160, /* error text of a refused request */
};

/* A parsed request: self-contained (strings copied, NUL-terminated). */
struct ctl_req {
	enum ctl_cmd cmd;
	struct sg_addr addr; /* ban, unban, events src (port 0) */
	uint8_t plen;        /* "/PLEN" given, else 0 */
	uint32_t seconds;    /* ban: for_s; 0 means the daemon's default */
	char reason[CTL_REASON_MAX + 1]; /* ban: may be empty */
	char rule[CTL_RULE_MAX + 1];     /* monitor: empty with all */
	bool all;                        /* monitor: the global flag */
	bool on;                         /* monitor, drain */
	char evtype[CTL_TYPE_MAX + 1];   /* events: empty: every type */
	bool has_src;                    /* events: src given (in addr) */
	char user[CTL_USER_MAX + 1];     /* unblock */
	/* Filled by the server from SO_PEERCRED, not by the parser. */
	uid_t uid;
	gid_t gid;
	pid_t pid;
};

struct ctl_perr {
	long off;              /* byte of a JSON syntax error, or -1 */
	char msg[CTL_ERR_MAX]; /* why: printable ASCII, names the member */
};

/*
 * Parse one request line (without its LF) with jansson: one JSON object,
 * duplicate keys refused, nesting at most CTL_REQ_DEPTH, at most
 * CTL_REQ_MAX - 1 bytes; "cmd" a known command; every other member known,
 * allowed with that command and of its type; required members present.
 * Allocates only inside jansson, freed before returning.  Returns 0, or
 * -EINVAL with *err set (err may be NULL), or -ENOMEM.
 */
int ctl_req_parse(struct ctl_req *rq, struct str line, struct ctl_perr *err);

/*
 * The request line for rq (cmd and the members of that command; no LF),
 * built with jansson, into dst (NUL-terminated).  ctl_req_parse() of it
 * gives rq back when rq is valid.  Returns the length, -ENOSPC (dst too
 * small), -EINVAL (bad cmd, a text that is not UTF-8) or -ENOMEM.
 */
long ctl_req_format(char *dst, size_t sz, const struct ctl_req *rq);

/*
 * ADDR[/PLEN]: an IPv4 or IPv6 literal, no brackets, no port; PLEN
 * 1..32 or 1..128 (*plenp 0 when absent).  0 or -EINVAL.
 */
int ctl_addr_parse(struct sg_addr *ap, uint8_t *plenp, struct str s);

/*
 * Duration for sipguardctl: "3600", "90s", "30m", "12h", "7d", "1w".
 * 1..CTL_BAN_MAX_S seconds.  0 or -EINVAL.
 */
int ctl_duration_parse(uint32_t *secp, struct str s);

/* ------------------------------------------------------------- answers */

/* The answer being built; opaque, valid only inside a callback. */
struct ctl_out;

#define CTL_BAN_FOREVER UINT64_MAX

struct ctl_ban {
	struct sg_addr addr;   /* port ignored */
	uint8_t plen;          /* 0: a host; else a prefix */
	uint64_t remaining_ms; /* CTL_BAN_FOREVER: no expiry */
	const char *rule;      /* rule that banned, NULL: manual */
	struct str reason;
	uint64_t hits; /* packets dropped under this ban */
};

/* One live dialog of a "calls" answer. */
struct ctl_call {
	struct str call_id;
	struct str caller, callee;                       /* From / To URIs */
	const struct sg_addr *caller_addr, *callee_addr; /* NULL: unknown */
	const char *caller_zone, *callee_zone;           /* NULL: unknown */
	const char *state;    /* "early", "confirmed", ... */
	uint64_t duration_ms; /* since the INVITE */
	uint64_t answered_ms; /* since the answer; 0: not answered */
	bool media;           /* relayed: the figures below */
	uint64_t media_pkts[2], media_bytes[2], media_dropped[2];
};

/* One user of a "held" answer. */
struct ctl_held {
	struct str user;
	const char *rule; /* the anomaly rule that fired */
	bool blocked;     /* else throttled */
	uint64_t remaining_ms;
};

struct ctl_rule {
	const char *name;
	bool monitor;   /* own flag */
	bool effective; /* own OR global */
	uint64_t hits, monitored;
};

/* Append one item to the list of a "bans" / "rules" / "calls" / "held"
 * answer,
 * encoded by jansson; strings may hold any bytes (made valid UTF-8).  0 or
 * -errno (-ENOSPC: the answer is too large; -ENOMEM; -EINVAL: wrong
 * list).  Integers past INT64_MAX are written as INT64_MAX. */
int ctl_out_ban(struct ctl_out *o, const struct ctl_ban *b);
int ctl_out_rule(struct ctl_out *o, const struct ctl_rule *r);
int ctl_out_call(struct ctl_out *o, const struct ctl_call *c);
int ctl_out_held(struct ctl_out *o, const struct ctl_held *h);
/* One counter of a "stats" answer; name: [a-z0-9_.]. */
int ctl_out_stat(struct ctl_out *o, const char *name, uint64_t v);
/* A top-level field after the list (ends the list). */
int ctl_out_bool(struct ctl_out *o, const char *key, bool v);
int ctl_out_u64(struct ctl_out *o, const char *key, uint64_t v);
/* Every rule of a registry, then "global_monitor": list_rules in one. */
int ctl_out_rules(struct ctl_out *o, const struct rules *r);
/* The event log's counters as "events.*" stats (see evlog_stats()). */
int ctl_out_evlog_stats(struct ctl_out *o, const struct evlog *e);

/*
 * What the daemon does for each command; arg is ctl_new()'s.  Each
 * returns 0 or -errno, which becomes {"ok":false,"error":...}: -ENOENT
 * "not found", -EEXIST "exists", -ENOSPC "table full", -EINVAL "invalid
 * argument", -EPERM "not permitted", others strerror().  A NULL callback
 * answers "not supported".
 */
struct ctl_ops {
	int (*list_bans)(void *arg, struct ctl_out *o);
	int (*ban)(void *arg, const struct ctl_req *rq);
	int (*unban)(void *arg, const struct ctl_req *rq);
	int (*list_rules)(void *arg, struct ctl_out *o);
	int (*set_monitor)(void *arg, const struct ctl_req *rq);
	int (*stats)(void *arg, struct ctl_out *o);
	/* Load the configuration anew; on failure err holds the exact
	 * reason (file:line:column: ...), sent back as the error. */
	int (*reload)(void *arg, char *err, size_t errsz);
	int (*list_calls)(void *arg, struct ctl_out *o);
	int (*drain)(void *arg, const struct ctl_req *rq); /* rq->on */
	int (*list_held)(void *arg, struct ctl_out *o);
	int (*unblock)(void *arg, const struct ctl_req *rq); /* rq->user */
};

/* ---------------------------------------------------- event followers */

/* What a follower asked for: empty fields match everything. */
struct ctl_filter {
	char type[CTL_TYPE_MAX + 1];
	struct sg_addr src; /* len 0: any source */
};

/*
 * Does the event line (as the event log formats it) pass filter f?  A
 * source filter matches the "src" address, prefix length ignored; a NULL
 * filter matches all.  Pure.
 */
bool ctl_filter_match(const struct ctl_filter *f, struct str line);

/*
 * A follower's queue: a fixed ring of whole lines.  Pushing into a full
 * queue drops the oldest lines and counts them; popping first yields
 * {"missed":N} when lines were dropped.  Owner: the connection.
 */
enum {
	CTL_SUBQ_SIZE = 64 << 10, /* default bytes per follower */
	CTL_SUBQ_MAX = 16 << 20,
	CTL_SUBQ_BATCH = 16 << 10, /* bytes moved to the socket at once */
};

struct ctl_subq {
	char *p;
	size_t cap, head, len; /* bytes */
	size_t lines;
	uint64_t missed; /* dropped since the last pop */
};

/* 0, -EINVAL (cap < 64 or > CTL_SUBQ_MAX) or -ENOMEM. */
int ctl_subq_init(struct ctl_subq *q, size_t cap);
void ctl_subq_free(struct ctl_subq *q);
/* Queue one line (its bytes, LF included).  0; -E2BIG: larger than the
 * queue (counted as missed); -EINVAL. */
int ctl_subq_push(struct ctl_subq *q, const char *line, size_t len);
/*
 * Move whole lines to out while out stays within max bytes (at least one
 * line moves), after a {"missed":N} line if lines were dropped.  Returns
 * the lines moved, or -ENOSPC / -EINVAL.
 */
int ctl_subq_pop(struct ctl_subq *q, struct buf *out, size_t max);

/* ------------------------------------------------------------- server */

struct ctl_conf {
	const char *path; /* socket path (copied) */
	uid_t uid;        /* allowed besides root: the daemon's uid */
	bool allow_root;
	bool group; /* also allow gid, socket mode 0660 */
	gid_t gid;
	unsigned max_conns; /* at most 256 */
	unsigned max_per_uid;
	uint32_t idle_ms;
};

/* Defaults: CTL_DEFAULT_PATH, uid geteuid(), root allowed, no group,
 * mode 0600, CTL_MAX_CONNS, CTL_MAX_PER_UID, CTL_IDLE_MS. */
void ctl_conf_defaults(struct ctl_conf *c);

/* Owner: the caller of ctl_new(); release with ctl_free(). */
struct ctl;

/*
 * Create the socket (a stale socket at path is replaced; any other file
 * there is an error: -EEXIST), with mode 0600 or 0660 and listen on l.
 * ops is copied; arg is passed to every callback.  Returns 0, -EINVAL,
 * -ENAMETOOLONG, -ENOMEM or -errno.
 */
int ctl_new(struct ctl **cp, struct loop *l, const struct ctl_conf *conf,
	    const struct ctl_ops *ops, void *arg);
/* Close every connection and the socket, unlink its path.  NULL: no-op. */
void ctl_free(struct ctl *c);
/* Open connections, for tests and stats. */
unsigned ctl_conns(const struct ctl *c);
/*
 * Hand one event line (LF included) to every follower whose filter it
 * passes.  Never blocks and never allocates: a slow follower loses its
 * oldest lines (struct ctl_subq).  NULL c does nothing.
 */
void ctl_publish(struct ctl *c, const char *line, size_t len);
/* Followers connected, and lines they lost (since start). */
unsigned ctl_followers(const struct ctl *c);
uint64_t ctl_follow_missed(const struct ctl *c);

#endif
