/*
 * dlgpolicy.h - call-state policy (issue 5, "Guard II"): may this
 * in-dialog request, CANCEL, address change, media move or registration
 * go through?  Pure decisions: the proxy gathers the facts (the dialog
 * record, where the request came from, the binding it would change) and
 * applies the answer; the guard facade (guard_policy, guard_notice)
 * counts the rule, applies monitor mode and writes the event.
 *
 * In-dialog requests (RFC 3261 12.2.2): a request belongs to a dialog
 * when its Call-ID and both tags match a live record, it comes from the
 * transport address that side of the dialog used (UDP: IP and port;
 * TCP/TLS: the same connection) and its CSeq moves forward for that side
 * (ACK: equal to the INVITE's, 13.2.2.4).  An address change is a NAT
 * rebinding or an attack; the rebind policy says which changes are
 * accepted, and each accepted one is reported (never silent).
 *
 * Rule names (docs/events.md) carry the event name they report under:
 * dlgpolicy_event() maps one to the other.
 */
#ifndef SIPGUARD_GUARD_DLGPOLICY_H
#define SIPGUARD_GUARD_DLGPOLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"
#include "guard/gate.h"
#include "sip/sip.h"
#include "sip/sip_peer.h"

enum {
	DG_MAX_CIDRS = 32, /* media_addresses, forbidden_contacts */
};

/* Rules (static strings, see docs/events.md). */
#define DG_RULE_BYE_SOURCE     "spoofed-bye-source"
#define DG_RULE_BYE_CSEQ       "spoofed-bye-cseq"
#define DG_RULE_BYE_UNKNOWN    "spoofed-bye-unknown"
#define DG_RULE_CANCEL_SOURCE  "spoofed-cancel-source"
#define DG_RULE_CANCEL_UNKNOWN "spoofed-cancel-unknown"
#define DG_RULE_HIJACK_SOURCE  "dialog-hijack-source"
#define DG_RULE_HIJACK_CSEQ    "dialog-hijack-cseq"
#define DG_RULE_HIJACK_UNKNOWN "dialog-hijack-unknown"
#define DG_RULE_MEDIA          "media-redirect"
#define DG_RULE_REBIND         "dialog-rebind"
#define DG_RULE_REG_MOVED      "registration-moved"
#define DG_RULE_REG_HOLD       "registration-move-hold"
#define DG_RULE_REG_HIJACK     "registration-hijack"
#define DG_RULE_REG_LIMIT      "registration-limit"
#define DG_RULE_REG_CONTACT    "registration-forbidden-contact"

/* Every rule above, for the registry; NULL-terminated. */
extern const char *const dlgpolicy_rules[];
/* The event name a rule of this module reports under, or NULL. */
const char *dlgpolicy_event(const char *rule);

/* When a party's transport address may change mid-call. */
enum dg_rebind {
	DG_REBIND_NEVER = 0, /* never: refused */
	DG_REBIND_SAME_IP, /* same IP (and zone), port/connection may change */
	DG_REBIND_AUTH,    /* same-ip, or any address with credentials
			    * sipguard verified (local auth mode) */
	DG_REBIND_ANY,     /* any address of the same zone (reported) */
};

struct dg_conf {
	bool enforce;          /* false: no dialog checks at all */
	bool drop_untrusted;   /* untrusted zone: drop (else 481) */
	enum dg_rebind rebind; /* untrusted side */
	enum dg_rebind rebind_trusted;
	bool media_check; /* re-INVITE/UPDATE SDP addresses */
	struct gate_cidr media[DG_MAX_CIDRS]; /* also allowed for media */
	unsigned nmedia;
};

/* secure defaults: enforce, drop, same-ip / any, media checked. */
void dg_conf_default(struct dg_conf *c);
/* "never", "same-ip", "authenticated", "any" -> enum; -EINVAL. */
int dg_rebind_parse(enum dg_rebind *rp, const char *s);

/* How a source compares with the address a party used. */
enum dg_peer {
	DG_PEER_SAME = 0, /* UDP: IP and port; TCP/TLS: the connection */
	DG_PEER_SAME_IP,  /* same transport kind, zone and IP */
	DG_PEER_OTHER,    /* anything else */
};
enum dg_peer dg_peer_cmp(const struct sip_peer *known,
			 const struct sip_peer *from);

/* What the proxy knows about an in-dialog request. */
struct dg_in {
	enum sip_method mid;
	bool found;         /* a live dialog matched Call-ID and tags */
	bool trusted;       /* the sender's zone is trusted */
	bool has_peer;      /* the sender's side has a known address */
	enum dg_peer peer;  /* source vs that address */
	bool has_cseq;      /* the side sent a request before */
	uint32_t last_cseq; /* its last CSeq number */
	uint32_t cseq;      /* this request's CSeq number */
	bool authenticated; /* carried credentials sipguard verified */
	bool auth_tried;    /* second look after authentication */
};

enum dg_result {
	DG_OK = 0,    /* belongs: forward */
	DG_REBIND,    /* belongs from a new address the policy accepts:
		       * forward and report (rule DG_RULE_REBIND) */
	DG_NEED_AUTH, /* a new address that only credentials can justify:
		       * authenticate it like a new request, then ask
		       * again with authenticated set */
	DG_REFUSE,    /* refuse: 481, or drop silently */
};

struct dg_out {
	enum dg_result res;
	const char *rule; /* DG_REFUSE, DG_REBIND */
	const char *why;  /* static */
	bool drop;        /* DG_REFUSE: no answer */
};

/*
 * Judge an in-dialog request (one with a To-tag, not CANCEL).  Requests
 * from the trusted zone with no dialog are not judged here (DG_OK: they
 * are routed by their Route set as before).
 */
void dg_check(const struct dg_conf *c, const struct dg_in *in,
	      struct dg_out *o);

/*
 * A CANCEL: found = it matches a pending INVITE server transaction;
 * peer = its source against the INVITE's.  DG_OK or DG_REFUSE.  From an
 * untrusted zone the source must be the INVITE's; from a trusted one
 * rebind_trusted applies.
 */
void dg_check_cancel(const struct dg_conf *c, bool found, bool trusted,
		     enum dg_peer peer, struct dg_out *o);

/*
 * Media addresses of an SDP offer in a re-INVITE/UPDATE from the party
 * whose signalling address is sig: every c= of an active stream (port
 * not 0) must be that IP, a null address (0.0.0.0 / ::, hold), or inside
 * c->media.  Returns 0 (allowed), -EPERM with *whyp, or -EINVAL (SDP
 * unreadable: the caller answers 400 as for any bad body).
 */
int dg_media_check(const struct dg_conf *c, struct str sdp,
		   const struct sg_addr *sig, const char **whyp);

/* ------------------------------------------------- registrations */

struct rg_conf {
	unsigned max_bindings; /* per AOR; 0: no cap */
	uint64_t move_hold_ms; /* 0: moves allowed (reported) */
	bool forbid_private;   /* RFC 1918, loopback, link-local... */
	struct gate_cidr forbidden[DG_MAX_CIDRS];
	unsigned nforbidden;
};

void rg_conf_default(struct rg_conf *c);

/*
 * A Contact host: true when it lies in a forbidden range (the list, and
 * with forbid_private the private and special-use ranges).  Host names
 * are not resolved: false.
 */
bool rg_contact_forbidden(const struct rg_conf *c, const struct sg_addr *a);

enum rg_move {
	RG_SAME = 0, /* same source and User-Agent */
	RG_MOVED,    /* moved; allowed (report it) */
	RG_HELD,     /* moved within move_hold of the last refresh: 403 */
};

/*
 * A REGISTER for an existing, confirmed binding last refreshed at
 * refreshed_ms from `known` with User-Agent hash ua_known, now from
 * `from` with ua.  Moving = another IP:port (connection for streams),
 * or another User-Agent.
 */
enum rg_move rg_move_check(const struct rg_conf *c,
			   const struct sip_peer *known, uint64_t ua_known,
			   uint64_t refreshed_ms, const struct sip_peer *from,
			   uint64_t ua, uint64_t now_ms);

#endif
