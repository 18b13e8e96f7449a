/*
 * presence.h - presence privacy: who may SUBSCRIBE to, PUBLISH and
 * NOTIFY which event packages (RFC 6665) from an untrusted zone, how
 * many distinct users one source may subscribe to (harvesting), and the
 * scrubbing of presence documents (PIDF, RFC 3863) that leave the
 * trusted zone toward an untrusted one.
 *
 * Rules (countable, monitor-mode aware through the guard):
 *   presence-subscribe  403  SUBSCRIBE to a package not allowed, or to
 *                            a self-only package (message-summary, reg,
 *                            presence.winfo) of someone else
 *   presence-publish    403  PUBLISH of a package not allowed, or for
 *                            someone else's presentity
 *   presence-notify     403  NOTIFY of a package not allowed, or outside
 *                            any dialog (unsolicited)
 *   presence-harvest    403  a source subscribed to more distinct users
 *                            than harvest_users within the window
 *   presence-scrub           (counted) a NOTIFY body was scrubbed
 *   presence-scrub-unsafe    a NOTIFY presence body that could not be
 *                            scrubbed safely: the body is removed
 * The first three are reported as "presence-denied" events, harvesting
 * as "presence-harvest".
 *
 * "Own" (self-only packages, PUBLISH) means the From user is the To
 * user: it proves something only when the request is authenticated
 * (local authentication with identity matching, or a PBX that
 * challenges SUBSCRIBE and PUBLISH).
 *
 * Package names are compared whole and case-insensitively: "presence"
 * does not allow "presence.winfo" (RFC 6665 7.2 templates are packages
 * of their own for policy).
 */
#ifndef SIPGUARD_GUARD_PRESENCE_H
#define SIPGUARD_GUARD_PRESENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"
#include "guard/guard_types.h"
#include "sip/sip.h"

struct buf;

enum {
	PRES_MAX_EVENTS = 16,
	PRES_EVENT_LEN = 32,
};

/* What pidf_scrub() removes. */
enum pidf_scrub_flag {
	PIDF_SCRUB_NOTE = 1 << 0,    /* <note> */
	PIDF_SCRUB_GEO = 1 << 1,     /* geopriv, location-info, RPID place */
	PIDF_SCRUB_DEVICE = 1 << 2,  /* <device>, <deviceID> */
	PIDF_SCRUB_CONTACT = 1 << 3, /* <contact> URIs */
	PIDF_SCRUB_ALL = 0xf,
};

enum {
	PIDF_MAX_SIZE = 65535,
	PIDF_MAX_DEPTH = 32,
	PIDF_MAX_ELEMS = 4096,
	PIDF_MAX_ATTRS = 64,
	PIDF_MAX_NAME = 128,
};

/* Strings are borrowed for presence_new() only (copied there). */
struct presence_conf {
	bool enabled;                           /* policy for untrusted zones */
	const char *subscribe[PRES_MAX_EVENTS]; /* to anyone */
	unsigned nsubscribe;
	const char *subscribe_self[PRES_MAX_EVENTS]; /* own AOR only */
	unsigned nsubscribe_self;
	const char *publish[PRES_MAX_EVENTS]; /* own presentity only */
	unsigned npublish;
	const char *notify[PRES_MAX_EVENTS]; /* in a dialog */
	unsigned nnotify;
	uint32_t harvest_users; /* distinct users; 0: off */
	uint32_t harvest_window_ms;
	uint32_t table_size; /* sources tracked */
	unsigned scrub;      /* PIDF_SCRUB_* flags; 0: off */
};

void presence_conf_default(struct presence_conf *c);

/* Owner: the guard (presence_new / presence_free). */
struct presence;

int presence_new(struct presence **pp, const struct presence_conf *c);
void presence_free(struct presence *ps);

/* Every rule name presence can return, NULL-terminated. */
extern const char *const presence_rule_names[];

/*
 * A SUBSCRIBE, PUBLISH or NOTIFY from an untrusted zone (other methods
 * pass).  Fills *v: PASS, or REPLY 403 with rule and why.  src NULL:
 * not counted for harvesting (an allow-listed peer).
 */
void presence_check(struct presence *ps, const struct sip_msg *m,
		    const struct guard_src *src, uint64_t now_ms,
		    struct guard_verdict *v);

enum presence_scrub_result {
	PRES_SCRUB_KEEP = 0, /* forward the body as it is */
	PRES_SCRUB_BODY,     /* forward the scrubbed body now in out */
	PRES_SCRUB_STRIP,    /* forward without a body: unsafe */
};

/*
 * Scrub the body of a NOTIFY leaving the trusted zone for an untrusted
 * one.  PIDF bodies (application/pidf+xml, application/cpim-pidf+xml)
 * go through pidf_scrub(); a resource list (multipart/related of RLMI
 * and PIDF parts, RFC 4662) is rebuilt with each PIDF part scrubbed;
 * any other body of the presence package (xpidf, other parts, nested
 * multiparts, an encoded body) cannot be scrubbed: STRIP.
 * out is reset first.  Returns a presence_scrub_result.
 */
int presence_scrub(const struct presence *ps, const struct sip_msg *m,
		   struct buf *out);

/*
 * Copy the presence document xml to out (appending), leaving out the
 * elements flags select (see pidf.c).  Returns the number of elements
 * removed (>= 0), -EINVAL when the document is not well-formed or
 * unsafe (out may hold a partial copy then: discard it), -EMSGSIZE over
 * PIDF_MAX_SIZE, -ENOMEM / -ENOSPC from the buffer.
 */
int pidf_scrub(struct buf *out, struct str xml, unsigned flags);

#endif
