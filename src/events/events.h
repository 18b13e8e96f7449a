/*
 * events.h - public interface of the events layer: JSON encoding of
 * attacker-controlled strings, and call records (one JSON line per call,
 * written when a dialog ends).
 *
 * The call record reads a struct sip_dlg (sip/dialog.h), so this layer
 * sits above sip as well as core.
 */
#ifndef SIPGUARD_EVENTS_H
#define SIPGUARD_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/str.h"

struct buf;
struct sip_dlg;

/* ------------------------------------------------------------------ JSON */

/*
 * Append s as a JSON string, quotes included.  Escapes '"', '\\', every
 * C0 control character and DEL; valid UTF-8 is copied as is; each byte
 * of an invalid, overlong, surrogate or out-of-range sequence becomes
 * \ufffd.  So any byte string gives valid JSON and valid UTF-8.
 * Returns 0 or a buf error (-ENOMEM, -ENOSPC; out unchanged then).
 */
int json_str(struct buf *out, struct str s);

/* Wall clock ms since the epoch as "2024-05-01T12:34:56.789Z" into buf
 * (at least JSON_TIME_SIZE bytes).  Returns buf. */
enum { JSON_TIME_SIZE = 32 };
const char *json_time(char *buf, size_t sz, uint64_t wall_ms);

/* ---------------------------------------------------------- call records */

/*
 * One call record, one line:
 * {"call_id":..,"kind":"INVITE","caller":{"uri","tag","addr","zone",
 *  "transport"},"callee":{..},"start":..,"answer":..|null,"end":..|null,
 *  "duration_ms":N|null,"setup_ms":N|null,"state":"confirmed",
 *  "end_reason":"rejected:486","final_status":N|null,"last_status":N|null}
 * Times are ISO 8601 UTC with ms.  "state" is the furthest state the
 * dialog reached; duration_ms counts from answer to end (0 when never
 * answered), setup_ms from start to answer.  Unknown values are null.
 * Appends the line with its '\n'.  Returns 0 or a buf error (out
 * unchanged then), -EINVAL on NULL.
 */
int cdr_format(struct buf *out, const struct sip_dlg *d);

/* Owner: the caller of cdr_open(); release with cdr_close(). */
struct cdr_writer;

/*
 * Open path for appending, line-buffered ("-": standard error).  The file
 * is created with mode 0640.  Returns 0, -EINVAL, -ENOMEM or -errno.
 */
int cdr_open(struct cdr_writer **wp, const char *path);
/*
 * Name zones in records written from now on: "zone":"<names[i]>" instead
 * of the zone index.  names (n entries) is borrowed and must outlive the
 * writer; NULL goes back to indexes.
 */
void cdr_set_zone_names(struct cdr_writer *w, const char *const *names,
			unsigned n);
/* Write d's record as one line (a single write).  0 or -errno. */
int cdr_write(struct cdr_writer *w, const struct sip_dlg *d);
/* The same with more members appended to the object: extra is a JSON
 * fragment starting with ',' (the media relay's "media":[...]). */
int cdr_write_extra(struct cdr_writer *w, const struct sip_dlg *d,
		    struct str extra);
/* Lines written and lines lost (format or write errors). */
uint64_t cdr_written(const struct cdr_writer *w);
uint64_t cdr_failed(const struct cdr_writer *w);
void cdr_close(struct cdr_writer *w);

/* ------------------------------------------------------------ event log */

/*
 * Security events: every drop, refusal, ban and unban (and what a rule
 * in monitor mode would have done) becomes one JSON line in the event
 * log.  The schema is a stable interface, documented in docs/events.md.
 *
 * Repeats are aggregated so that a flood cannot flood the log: the first
 * event of a key (type, event, rule, source IP) is written at once; later
 * ones within the window are only counted, and one "repeat" line with
 * their count is written when the window closes (evlog_flush()).  While
 * repeats keep coming the window restarts, so a steady flood costs one
 * line per key and window.  On top of that, a hard cap on lines per
 * second: lines over it are dropped and summed up in one "suppressed"
 * line.  The sum of "count" over all lines is the number of events.
 *
 * Memory is fixed at evlog_open(): a table of conf.slots keys; when it is
 * full the oldest key is flushed early and reused.  Nothing allocates per
 * event.  Not thread-safe: one writer per event loop.
 */

/* Event types ("type"): what happened. */
#define EV_DROP         "drop"       /* dropped silently */
#define EV_REFUSE       "refuse"     /* answered with an error status */
#define EV_BAN          "ban"        /* source banned */
#define EV_UNBAN        "unban"      /* ban lifted by an administrator */
#define EV_EXPIRE       "expire"     /* ban ran out */
#define EV_WOULD_DROP   "would-drop" /* monitor mode: passed instead */
#define EV_WOULD_REFUSE "would-refuse"
#define EV_WOULD_BAN    "would-ban"
#define EV_NOTICE       "notice" /* accepted, but worth knowing */

/* Actions ("action"): what was done with the traffic. */
#define EV_ACT_DROP  "drop"
#define EV_ACT_REPLY "reply"
#define EV_ACT_BAN   "ban"
#define EV_ACT_UNBAN "unban"
#define EV_ACT_PASS  "pass"

enum {
	EVLOG_WINDOW_MS = 10000, /* default aggregation window */
	EVLOG_SLOTS = 4096,      /* default aggregation keys */
	EVLOG_MAX_SLOTS = 1 << 20,
	EVLOG_LINES_PER_S = 200, /* default cap on lines per second */
	/* Longer strings are cut (bytes, before JSON escaping). */
	EVLOG_ZONE_MAX = 32,
	EVLOG_METHOD_MAX = 32,
	EVLOG_USER_MAX = 64,
	EVLOG_REASON_MAX = 160,
	EVLOG_NAME_MAX = 48,   /* type, event, rule, action, transport */
	EVLOG_LINE_MAX = 4096, /* holds every field at its cap, escaped */
};

/*
 * One event, as the proxy or guard reports it.  Static strings must live
 * for the whole run (string literals); everything else is copied before
 * evlog_emit() returns.  Never put secrets in reason (an Authorization
 * value, a password): the log keeps what it is given.
 */
struct ev {
	const char *type;   /* EV_DROP...; static, required */
	const char *event;  /* "scanner", "rate-limit"...; static, required */
	const char *zone;   /* zone name or NULL (copied) */
	struct sg_addr src; /* source; src.len == 0: none */
	uint8_t src_plen;   /* 0: host; else a prefix ("2001:db8::/64") */
	const char *transport; /* "UDP", "TCP", "TLS", or NULL; static */
	struct str method;     /* attacker-controlled; empty: null */
	struct str user;       /* attacker-controlled; empty: null */
	const char *rule;      /* rule name or NULL; static */
	const char *action;    /* EV_ACT_...; static, or NULL */
	struct str reason;     /* free text; empty: null */
	int status;            /* SIP status of a reply, 0: null */
};

/* Receives each finished line (with its '\n') instead of the file. */
typedef void evlog_write_fn(void *arg, const char *line, size_t len);

struct evlog_conf {
	uint32_t window_ms;    /* 0: EVLOG_WINDOW_MS */
	uint32_t slots;        /* 0: EVLOG_SLOTS; at most EVLOG_MAX_SLOTS */
	uint32_t lines_per_s;  /* 0: EVLOG_LINES_PER_S */
	evlog_write_fn *write; /* NULL: write to the path */
	void *write_arg;
};

struct evlog_stats {
	uint64_t events;     /* evlog_emit() calls */
	uint64_t lines;      /* lines written */
	uint64_t aggregated; /* events counted into repeat lines */
	uint64_t suppressed; /* lines dropped by the rate cap */
	uint64_t evicted;    /* keys flushed early: table full */
	uint64_t errors;     /* write errors (lines lost) */
};

/* Owner: the caller of evlog_open(); release with evlog_close(). */
struct evlog;

/*
 * Open the event log.  path: a file opened for appending (created 0640),
 * "-" for standard error, or ignored when conf->write is set.  conf may
 * be NULL (defaults).  Returns 0, -EINVAL (bad arguments, slots too
 * large), -ENOMEM or -errno from open(2).
 */
int evlog_open(struct evlog **ep, const char *path,
	       const struct evlog_conf *conf);
/*
 * Report one event at monotonic now_ms (windows, rate cap) and wall-clock
 * wall_ms ("ts").  Writes a line, counts a repeat, or counts a suppressed
 * line.  Returns 0, -EINVAL (NULL, missing type or event) or -errno of a
 * failed write (the event is still counted).
 */
int evlog_emit(struct evlog *e, const struct ev *ev, uint64_t now_ms,
	       uint64_t wall_ms);
/*
 * Close the windows that ended by now_ms (writing their repeat lines) and
 * the rate window (writing the suppressed line).  Call it from a timer,
 * e.g. every second.  Returns the number of lines written.
 */
unsigned evlog_flush(struct evlog *e, uint64_t now_ms);
/* Also hand every finished line to fn (besides the file or conf->write):
 * the HEP export of security events.  fn NULL stops it. */
void evlog_set_tap(struct evlog *e, evlog_write_fn *fn, void *arg);
/* A second tap, independent of the first: the operations feed
 * (sipguardctl events --follow, the dashboard).  fn NULL stops it. */
void evlog_set_tap2(struct evlog *e, evlog_write_fn *fn, void *arg);
/* Called with every event evlog_emit() accepts, before aggregation and
 * the rate cap (per-rule counters, top sources).  fn must not emit. */
typedef void evlog_watch_fn(void *arg, const struct ev *ev);
void evlog_set_watch(struct evlog *e, evlog_watch_fn *fn, void *arg);
/* Reopen the path, for log rotation.  0 or -errno (old fd kept then). */
int evlog_reopen(struct evlog *e);
void evlog_stats(const struct evlog *e, struct evlog_stats *sp);
/*
 * Write every pending repeat and suppressed line (no rate cap), close
 * the file and free.  evlog_close(NULL) does nothing.
 */
void evlog_close(struct evlog *e);

/*
 * Format one event line into out (appends, with '\n'): what evlog writes
 * for a first occurrence (count 1, repeat false).  Returns 0, -EINVAL or
 * a buf error (out unchanged then).
 */
int evlog_format(struct buf *out, const struct ev *ev, uint64_t wall_ms);

/* ------------------------------------------------------- event counters */

/*
 * What the operations views count from the events (evstats.c), fed with
 * every event evlog_emit() accepts (evlog_set_watch()):
 *  - a count per (type, event, rule), keyed by the names' text, in a
 *    fixed table (full: counted in `lost`);
 *  - the top offending sources (not unban, expire or notice), a fixed
 *    table kept with the space-saving rule: a new source takes the place
 *    of the smallest count and inherits it, so counts are upper bounds
 *    and a flood of spoofed sources cannot grow the table or push out a
 *    real heavy hitter.
 * No allocation: embed struct evstats and evstats_init() it.
 */
enum {
	EVSTATS_VERDICTS = 256, /* power of two */
	EVSTATS_TOP = 32,
	EVSTATS_REASON_MAX = 96,
};

struct evstats_verdict {
	const char *type, *event, *rule; /* static; type NULL: free */
	uint64_t n;
};

struct evstats_top {
	struct sg_addr src;
	uint8_t plen;
	uint64_t count;                  /* offences, an upper bound */
	const char *type, *event, *rule; /* the last one's (static) */
	char reason[EVSTATS_REASON_MAX]; /* the last one's, cut */
	uint64_t last_wall_ms;
};

struct evstats {
	struct evstats_verdict verdict[EVSTATS_VERDICTS];
	uint64_t lost; /* events of triples the table had no room for */
	struct evstats_top top[EVSTATS_TOP];
	unsigned ntop;
};

void evstats_init(struct evstats *s);
/* Count one event (type and event required, as evlog_emit() checks). */
void evstats_count(struct evstats *s, const struct ev *ev, uint64_t wall_ms);
typedef int evstats_verdict_fn(void *arg, const struct evstats_verdict *v);
/* Each triple seen, in table order; stops at fn's non-zero return. */
int evstats_verdicts(const struct evstats *s, evstats_verdict_fn *fn,
		     void *arg);
/* Up to max top sources into out, largest count first; how many. */
size_t evstats_top(const struct evstats *s, struct evstats_top *out,
		   size_t max);

/* ---------------------------------------------------------------- rules */

/*
 * Rule registry: every guard decision names a rule (a static string such
 * as "scanner-ua"); the registry gives each an id, counts its hits and
 * holds its monitor flag.  A rule in monitor mode only reports what it
 * would have done ("would-drop") and lets the traffic pass; the global
 * monitor flag does that for every rule.  Fixed capacity, no allocation
 * after rules_new().  Not thread-safe: owned by one loop.
 */
enum {
	RULES_MAX = 256, /* default and upper bound of rules */
	RULES_NAME_MAX = 64,
};

/* Owner: the caller of rules_new(); release with rules_free(). */
struct rules;

struct rule_info {
	const char *name;
	bool monitor;       /* own flag */
	bool effective;     /* own flag OR global flag */
	uint64_t hits;      /* decisions, monitored ones included */
	uint64_t monitored; /* hits that passed because of monitor mode */
};

/* max rules (0: RULES_MAX).  0, -EINVAL (max > RULES_MAX) or -ENOMEM. */
int rules_new(struct rules **rp, unsigned max);
void rules_free(struct rules *r);
/*
 * Register a rule; name is borrowed (a string literal) and must be 1..
 * RULES_NAME_MAX bytes of [A-Za-z0-9._-].  Registering a name again
 * returns the existing id and keeps its flag.  Returns the id (>= 0),
 * -EINVAL or -ENOSPC (registry full).
 */
int rules_register(struct rules *r, const char *name, bool monitor);
/* Id of a rule by name, or -ENOENT. */
int rules_find(const struct rules *r, struct str name);
/*
 * Count one decision of rule id.  Returns true when the rule is in
 * monitor mode (own or global flag): the caller then lets the traffic
 * pass and reports a "would-" event.  An invalid id counts nothing and
 * returns false.
 */
bool rules_hit(struct rules *r, int id);
/* Own flag OR global flag; false for an invalid id. */
bool rules_monitor(const struct rules *r, int id);
/* Set a rule's own flag.  0 or -ENOENT. */
int rules_set_monitor(struct rules *r, int id, bool on);
void rules_set_global_monitor(struct rules *r, bool on);
bool rules_global_monitor(const struct rules *r);
/* Number of rules; ids are 0..rules_count()-1, in registration order. */
unsigned rules_count(const struct rules *r);
/* Fill *ip for id.  0 or -ENOENT. */
int rules_get(const struct rules *r, int id, struct rule_info *ip);

#endif
