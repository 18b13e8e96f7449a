/*
 * dialog.h - dialog tracking for a stateful proxy (RFC 3261 section 12,
 * RFC 6665 4.1 for SUBSCRIBE/REFER, RFC 4028 for session timers).
 *
 * The proxy tells the table about every request and response it
 * forwards; the table keeps one record per dialog: both parties (URIs,
 * tags, Contact, route set), the transport address and zone each side
 * last used, the last CSeq per direction, times and the end reason.
 *
 * Records.  A dialog-forming request (INVITE, SUBSCRIBE, REFER without a
 * To-tag) creates one record in state TRYING, keyed by Call-ID and the
 * caller's From-tag.  The first 1xx/2xx with a To-tag gives it that tag
 * (EARLY / CONFIRMED).  A response with another To-tag (a forked request)
 * clones the record: every early dialog is its own record, so each fork
 * keeps its own callee address, Contact and CSeq.  All records of one
 * call share the hash key, so they sit on one bucket chain.  A 2xx
 * confirms one record and ends its TRYING/EARLY siblings with reason
 * SIP_DLG_END_FORK_LOST; a final non-2xx ends them all.
 *
 * Call records.  on_end() fires for every record that ends; exactly one
 * record per call attempt has `record` set (the confirmed one, or the
 * original one when the call failed): write the call record for those
 * only.  A second 2xx from another fork (RFC 3261 13.2.2.4) makes a
 * second confirmed record with `record` set: it is a real, if short,
 * call leg.  A 401/407 challenge ends the attempt like any other
 * rejection (final_status tells): the retried request starts a new one.
 *
 * Lifetime.  Records come from a pool capped at conf.max_dialogs (a full
 * pool is admission control: -ENOSPC, the proxy answers 503).  A record
 * that ends is unlinked at once (lookups never return it) and freed at
 * the next safe point: the next tmr_wheel_run() of the table's wheel, or
 * sip_dlgs_gc().  So a struct sip_dlg pointer obtained from this API is
 * valid until the wheel next runs; never keep one across loop turns
 * (look it up again).  Callbacks must not call back into the table
 * except sip_dlg_build_bye(), the accessors and sip_dlg_end().
 *
 * Timers (one struct tmr per record, monotonic ms from the wheel):
 * - TRYING/EARLY: setup_timeout from creation (no final response);
 * - CONFIRMED: the Session-Expires interval after the last refresh when
 *   the last 2xx to INVITE/UPDATE carried one (RFC 4028), otherwise
 *   idle_timeout after the last in-dialog request or response (so the
 *   idle timeout is the fallback for UAs without session timers);
 * - always: max_duration from creation;
 * - after a BYE (or a NOTIFY ending the subscription) without a final
 *   response: bye_timeout, then the dialog ends as if answered.
 * A timeout calls on_expire() (the proxy may send BYE to both sides with
 * sip_dlg_build_bye()), then ends the dialog.
 *
 * Not thread-safe: one table per event-loop thread.  The struct sip_dlg
 * fields are public for reading (guard, call records); only this module
 * writes them.  Strings are read through the accessors below.
 */
#ifndef SIPGUARD_SIP_DIALOG_H
#define SIPGUARD_SIP_DIALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/htab.h"
#include "core/str.h"
#include "core/tmr.h"
#include "sip/sip_peer.h"

struct buf;
struct sip_msg;

enum {
	SIP_DLG_MAX_STRINGS = 4096,    /* bytes of copied strings per record */
	SIP_DLG_MAX_FORKS = 16,        /* ceiling for conf.max_forks */
	SIP_DLG_CSEQ_MAX = 0x7fffffff, /* RFC 3261 8.1.1.5: < 2^31 */
};

enum sip_dlg_state {
	SIP_DLG_TRYING = 0, /* dialog-forming request sent, no To-tag yet */
	SIP_DLG_EARLY,      /* 1xx with a To-tag */
	SIP_DLG_CONFIRMED,  /* 2xx (or a NOTIFY for a subscription) */
	SIP_DLG_TERMINATED,
	SIP_DLG__NSTATES
};

/* What created the dialog. */
enum sip_dlg_kind {
	SIP_DLG_INVITE = 0,
	SIP_DLG_SUBSCRIBE,
	SIP_DLG_REFER,
};

/* Side A sent the dialog-forming request; side B answered it. */
enum sip_dlg_side {
	SIP_DLG_CALLER = 0,
	SIP_DLG_CALLEE = 1,
};

enum sip_dlg_reason {
	SIP_DLG_END_NONE = 0,
	SIP_DLG_END_BYE_CALLER,      /* "bye-caller" */
	SIP_DLG_END_BYE_CALLEE,      /* "bye-callee" */
	SIP_DLG_END_CANCELLED,       /* "cancelled": CANCEL seen, or 487 */
	SIP_DLG_END_REJECTED,        /* "rejected:<final_status>" */
	SIP_DLG_END_NO_ANSWER,       /* "timeout:no-answer" */
	SIP_DLG_END_IDLE,            /* "timeout:idle" */
	SIP_DLG_END_SESSION,         /* "timeout:session-expires" (RFC 4028) */
	SIP_DLG_END_MAX_DURATION,    /* "timeout:max-duration" */
	SIP_DLG_END_POLICY,          /* "policy": sip_dlg_end() by the guard */
	SIP_DLG_END_ERROR,           /* "error" */
	SIP_DLG_END_FORK_LOST,       /* "fork-lost": another fork answered */
	SIP_DLG_END_SUBSCRIPTION,    /* "subscription-terminated" (NOTIFY) */
	SIP_DLG_END_TAKEOVER,        /* "takeover": its instance died, another
				      * ended it (issue 9, dialog_snap.c) */
	SIP_DLG_END_TAKEN_ELSEWHERE, /* "taken-over-elsewhere": this
				      * instance was cut off, another took the
				      * call over and ended it (proxy/cluster.c)
				      */
	SIP_DLG_END__COUNT
};

/* How a request's CSeq compares with the last one from the same side. */
enum sip_dlg_cseq {
	SIP_DLG_CSEQ_FIRST = 0, /* first request seen from that side */
	SIP_DLG_CSEQ_NEW,       /* greater: moved forward */
	SIP_DLG_CSEQ_SAME,      /* equal: ACK, CANCEL or a retransmission */
	SIP_DLG_CSEQ_OLD,       /* lower: replayed or out of order */
};

/* Copied strings live in one block per record, addressed by offset. */
struct sip_dlg_sref {
	uint16_t off, len;
};

/* The strings of a record (sip_dlg_str()). */
enum sip_dlg_str_id {
	SIP_DLG_S_CALL_ID = 0,
	SIP_DLG_S_CALLER_URI, /* From URI of the initial request */
	SIP_DLG_S_CALLER_TAG,
	SIP_DLG_S_CALLER_CONTACT, /* remote target of the caller */
	SIP_DLG_S_CALLEE_URI,     /* To URI of the initial request */
	SIP_DLG_S_CALLEE_TAG,
	SIP_DLG_S_CALLEE_CONTACT,
	SIP_DLG_S_ROUTE, /* Record-Route of the 1xx/2xx, joined */
	SIP_DLG_S__COUNT
};

struct sip_dlg_party {
	struct sip_peer peer; /* where its last message came from */
	uint32_t cseq;        /* last CSeq number of its requests */
	bool has_cseq;
	bool has_peer;
};

struct sip_dlgs;

/*
 * One dialog.  Owner: its struct sip_dlgs (pool); freed only by the
 * table at a safe point.  Read-only outside the SIP layer.
 */
struct sip_dlg {
	struct hnode hn; /* key: Call-ID + caller tag */
	struct tmr tmr;  /* the nearest deadline (see above) */
	struct sip_dlgs *t;
	struct sip_dlg *dead; /* next on the free-at-safe-point list */
	void *user;           /* the proxy's, never touched here */

	char *sb; /* string block: one allocation */
	uint16_t sb_len;
	struct sip_dlg_sref s[SIP_DLG_S__COUNT];
	uint8_t n_route; /* entries in SIP_DLG_S_ROUTE */
	uint8_t n_up;    /* Record-Route entries of the initial
			  * request as the proxy received it */

	enum sip_dlg_state state;
	enum sip_dlg_state reached; /* furthest state before TERMINATED */
	enum sip_dlg_kind kind;
	enum sip_dlg_reason reason;  /* why it ended (TERMINATED) */
	enum sip_dlg_reason pending; /* BYE / final NOTIFY under way */
	bool record;                 /* this record stands for the call (CDR) */
	bool cancel_seen;            /* a CANCEL went through */

	struct sip_dlg_party side[2];
	uint32_t init_cseq;    /* CSeq of the dialog-forming request */
	uint16_t final_status; /* first final response to it, 0: none */
	uint16_t last_status;  /* last response seen (100 not counted) */

	uint32_t se_ms;        /* negotiated Session-Expires, 0: none */
	uint64_t start_wall;   /* wall clock ms at creation */
	uint64_t start_mono;   /* monotonic ms (wheel) at creation */
	uint64_t answer_mono;  /* 0: never answered */
	uint64_t end_mono;     /* 0: not ended */
	uint64_t active_mono;  /* last in-dialog request or response */
	uint64_t se_mono;      /* last session refresh */
	uint64_t pending_mono; /* when `pending` was set */
	uint64_t max_ms;       /* this call's own max duration, 0: conf */
};

struct sip_dlg_conf {
	size_t max_dialogs;        /* pool cap, records of all states */
	unsigned max_forks;        /* early dialogs per call (<= MAX_FORKS) */
	uint64_t setup_timeout_ms; /* TRYING/EARLY without final response */
	uint64_t idle_timeout_ms;  /* CONFIRMED, no traffic; 0: off */
	uint64_t max_duration_ms;  /* from creation; 0: off */
	uint64_t bye_timeout_ms;   /* BYE without a final response */
};

/* 100000 dialogs, 8 forks, 3 min setup, 2 h idle, 12 h max, 32 s BYE. */
extern const struct sip_dlg_conf sip_dlg_conf_default;

/* A record ended; d->reason says why.  Write the CDR if d->record. */
typedef void sip_dlg_end_fn(void *arg, struct sip_dlg *d);
/* A timer is about to end d (reason r): send BYEs / CANCEL now. */
typedef void sip_dlg_expire_fn(void *arg, struct sip_dlg *d,
			       enum sip_dlg_reason r);
/* Wall clock in ms since the epoch (tests use a fake one). */
typedef uint64_t sip_dlg_clock_fn(void *arg);

struct sip_dlg_cbs {
	sip_dlg_end_fn *on_end;       /* may be NULL */
	sip_dlg_expire_fn *on_expire; /* may be NULL */
	sip_dlg_clock_fn *wall_ms;    /* NULL: CLOCK_REALTIME */
};

/*
 * New table using wheel w (which must outlive it) for its timers.  conf
 * is copied; a zero max_dialogs, a max_forks of 0 or above
 * SIP_DLG_MAX_FORKS, or a zero setup/bye timeout is -EINVAL.  cbs may be
 * NULL.  Returns 0, -EINVAL, -ENOMEM.  The caller owns *tp.
 */
int sip_dlgs_new(struct sip_dlgs **tp, const struct sip_dlg_conf *conf,
		 struct tmr_wheel *w, const struct sip_dlg_cbs *cbs, void *arg);
/* Free the table and every record, without callbacks.  NULL is fine. */
void sip_dlgs_free(struct sip_dlgs *t);
/* Free the records that ended (no-op inside a callback). */
void sip_dlgs_gc(struct sip_dlgs *t);
/* Records in state st (TERMINATED: ended, not yet freed), or all records
 * when st is SIP_DLG__NSTATES. */
size_t sip_dlgs_count(const struct sip_dlgs *t, enum sip_dlg_state st);

/* Walk the live records.  The walker may end the record it was just
 * given (sip_dlg_end), no other. */
struct sip_dlgs_iter {
	struct htab_iter it;
};
void sip_dlgs_iter_init(struct sip_dlgs_iter *it, const struct sip_dlgs *t);
struct sip_dlg *sip_dlgs_iter_next(struct sip_dlgs_iter *it);

/* What sip_dlg_request() / sip_dlg_response() found. */
struct sip_dlg_match {
	struct sip_dlg *dlg;
	enum sip_dlg_side from; /* side that sent the message */
	enum sip_dlg_cseq cseq; /* requests only */
	bool created;           /* a new record (request or fork) */
	bool peer_changed;      /* source differs from that side's last */
};

/*
 * A request the proxy forwards, as received (before the proxy's own
 * edits: its Record-Route must not be in msg yet), from `from` (NULL
 * when generated locally).
 * - INVITE/SUBSCRIBE/REFER without To-tag: creates a TRYING record;
 *   a retransmission (same CSeq) matches the existing one.
 * - CANCEL without To-tag: matches the call's TRYING/EARLY record.
 * - any request with a To-tag: matches the dialog in either direction;
 *   checks CSeq against the sender's last one (reported in m->cseq,
 *   never refused: the guard decides), refreshes the idle timer,
 *   updates the sender's address and, for target refresh requests, its
 *   Contact.  BYE (or NOTIFY with Subscription-State: terminated) starts
 *   the end of the dialog.  A NOTIFY may create a subscription dialog.
 * Returns 0 with *mp filled; -ENOENT: no dialog (out-of-dialog request of
 * another method, or unknown dialog); -EEXIST: a new dialog-forming
 * request reuses a live dialog's Call-ID and From-tag (a merged or
 * looped request: RFC 3261 8.2.2.2 says 482); -EINVAL: no From-tag;
 * -ENOSPC: pool full; -E2BIG: strings over SIP_DLG_MAX_STRINGS;
 * -ENOMEM.  On error nothing changed but, for responses, the address
 * of the side that sent it.
 */
int sip_dlg_request(struct sip_dlgs *t, const struct sip_msg *msg,
		    const struct sip_peer *from, struct sip_dlg_match *mp);

/*
 * A response the proxy forwards (from: where it came from; NULL when the
 * proxy generated it).  To the dialog-forming request: 1xx with To-tag
 * -> EARLY (a new To-tag clones the record: a fork), 2xx -> CONFIRMED
 * (answer time, callee Contact and route set, Session-Expires; other
 * forks end), 3xx-6xx -> every TRYING/EARLY record of the call ends
 * (cancelled after a CANCEL or on 487, otherwise rejected).  In-dialog:
 * 2xx to INVITE/UPDATE refreshes the target and session timer; a final
 * response to BYE ends the dialog.  Same returns as sip_dlg_request().
 */
int sip_dlg_response(struct sip_dlgs *t, const struct sip_msg *msg,
		     const struct sip_peer *from, struct sip_dlg_match *mp);

/*
 * Live record for Call-ID and the two tags of a message, in either
 * order (From-tag, To-tag); *fromp (may be NULL) gets the side whose tag
 * is from_tag.  NULL when there is none.
 */
struct sip_dlg *sip_dlg_find(const struct sip_dlgs *t, struct str call_id,
			     struct str from_tag, struct str to_tag,
			     enum sip_dlg_side *fromp);

/*
 * End d now with reason r (policy, error...): on_end() runs before this
 * returns, d is freed at the next safe point.  Send the BYEs first.
 * Returns 0, -EINVAL, or -EALREADY when d already ended.
 */
int sip_dlg_end(struct sip_dlg *d, enum sip_dlg_reason r);

/*
 * Give d its own maximum duration (from creation, like
 * conf.max_duration_ms; the shorter of the two applies), e.g. a user
 * class's limit.  ms 0 removes it.  Re-arms the timer; forks made later
 * inherit it.  Returns 0, or -EINVAL when d ended.
 */
int sip_dlg_set_max_duration(struct sip_dlg *d, uint64_t ms);

/* A copied string of d (empty when not known). */
struct str sip_dlg_str(const struct sip_dlg *d, enum sip_dlg_str_id id);
/* SIP_DLG_S_CALLER_* or SIP_DLG_S_CALLEE_* for side s; f is 0 (URI),
 * 1 (tag) or 2 (Contact). */
struct str sip_dlg_side_str(const struct sip_dlg *d, enum sip_dlg_side s,
			    unsigned f);
/* Bytes held by d: the record and its string block (benchmarks). */
size_t sip_dlg_mem(const struct sip_dlg *d);

/* "trying", "early", "confirmed", "terminated". */
const char *sip_dlg_state_name(enum sip_dlg_state s);
/* "bye-caller", "timeout:idle"... ("rejected" without the code). */
const char *sip_dlg_reason_name(enum sip_dlg_reason r);
/* "INVITE", "SUBSCRIBE", "REFER". */
const char *sip_dlg_kind_name(enum sip_dlg_kind k);

/*
 * Parameters of a BYE the proxy sends on its own (policy, timeout).
 * via_host: our sent-by ("host" or "host:port"); branch: a fresh branch
 * starting with z9hG4bK; self_rr: Record-Route entries this proxy put
 * into the initial request (1, or 2 when it double-record-routes), so
 * the BYE's Route leads from here to the target and not through us;
 * reason: a Reason header value (RFC 3326), may be empty.
 */
struct sip_dlg_bye {
	struct str via_host;
	struct str branch;
	enum sip_tp tp;
	unsigned self_rr;
	struct str reason;
};

/*
 * Append to out a BYE for side `to` of a CONFIRMED dialog, as if sent by
 * the other side: Request-URI = that side's Contact, Route = the part of
 * the route set between us and it, From/To = the other side / that side
 * with their tags, Call-ID, CSeq = the other side's last CSeq + 1 (what
 * `to` expects from its peer; 1 if it never sent one), which becomes the
 * other side's last CSeq.  Send it to d->side[to].peer.  Returns 0 with
 * *cseqp (may be NULL) set; -EINVAL (not confirmed, no Contact, CR/LF in
 * a parameter), or a buf error (out unchanged on every error).
 */
int sip_dlg_build_bye(struct sip_dlg *d, enum sip_dlg_side to,
		      const struct sip_dlg_bye *p, struct buf *out,
		      uint32_t *cseqp);

/*
 * A confirmed INVITE dialog as another instance snapshotted it (issue 9:
 * that instance died; this one ends the call).  Strings are copied.
 * peer[s].zone must be one of this instance's zones.
 */
struct sip_dlg_restore {
	struct str call_id, route;
	struct str uri[2], tag[2], contact[2];
	struct sip_peer peer[2];
	bool has_peer[2];
	uint32_t cseq[2];
	bool has_cseq[2];
	uint8_t n_route, n_up;
	uint16_t final_status;
	uint64_t start_wall, answer_wall; /* wall ms; answer 0: start */
	uint64_t now_wall;
};

/*
 * Rebuild r as a CONFIRMED INVITE record standing for its call (record
 * set), so that sip_dlg_build_bye() and the call record work on it as
 * on any other; its times are mapped onto this table's clock.  Returns
 * 0 with *dp; -EINVAL (no Call-ID or tags), -EEXIST (this table has that
 * dialog already: *dp is set to it), -ENOSPC, -E2BIG, -ENOMEM.
 */
int sip_dlg_restore(struct sip_dlgs *t, const struct sip_dlg_restore *r,
		    struct sip_dlg **dp);

#endif
