/*
 * presence.c - presence privacy policy (see presence.h): event package
 * rules for SUBSCRIBE, PUBLISH and NOTIFY from untrusted zones (RFC
 * 6665 3.1.2, 3.2; RFC 3903 for PUBLISH), presence harvesting detection
 * and the choice of what to do with a NOTIFY body that leaves the
 * trusted zone (pidf.c does the scrubbing itself).
 *
 * Harvesting: per source, the users its initial SUBSCRIBEs target set
 * bits in a pair of 256-bit window maps (window.h); the union of the
 * current and previous window estimates the distinct users of the last
 * one to two windows.  Fixed memory: one keytab of sources.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "guard/keytab.h"
#include "guard/presence.h"
#include "guard/window.h"

const char *const presence_rule_names[] = {
	"presence-subscribe",
	"presence-publish",
	"presence-notify",
	"presence-harvest",
	"presence-scrub",
	"presence-scrub-unsafe",
	NULL,
};

struct plist {
	char name[PRES_MAX_EVENTS][PRES_EVENT_LEN];
	unsigned n;
};

/* Owner: the guard. */
struct presence {
	bool enabled;
	struct plist sub, sub_self, pub, notify;
	uint32_t harvest_users, harvest_window_ms;
	unsigned scrub;
	struct keytab src;   /* struct win_bits per source */
	struct keytab users; /* only its hash key is used */
};

void presence_conf_default(struct presence_conf *c)
{
	static const char *const sub[] = {"refer", "conference", "ua-profile",
					  "as-feature-event", "kpml"};
	static const char *const self[] = {"message-summary", "reg",
					   "presence.winfo"};
	static const char *const notify[] = {
		"refer",      "dialog", "presence",        "message-summary",
		"conference", "kpml",   "as-feature-event"};
	unsigned i;

	memset(c, 0, sizeof(*c));
	c->enabled = true;
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		c->subscribe[i] = sub[i];
	c->nsubscribe = i;
	for (i = 0; i < sizeof(self) / sizeof(self[0]); i++)
		c->subscribe_self[i] = self[i];
	c->nsubscribe_self = i;
	c->publish[0] = "presence";
	c->npublish = 1;
	for (i = 0; i < sizeof(notify) / sizeof(notify[0]); i++)
		c->notify[i] = notify[i];
	c->nnotify = i;
	c->harvest_users = 20;
	c->harvest_window_ms = 60000;
	c->table_size = 4096;
	c->scrub = PIDF_SCRUB_ALL;
}

static void plist_set(struct plist *l, const char *const *names, unsigned n)
{
	unsigned i;

	for (i = 0; i < n && i < PRES_MAX_EVENTS; i++)
		snprintf(l->name[i], PRES_EVENT_LEN, "%s", names[i]);
	l->n = i;
}

static bool plist_has(const struct plist *l, struct str pkg)
{
	unsigned i;

	for (i = 0; i < l->n; i++)
		if (str_caseeq_cstr(pkg, l->name[i]))
			return true;
	return false;
}

int presence_new(struct presence **pp, const struct presence_conf *c)
{
	struct presence *ps = mem_zalloc(sizeof(*ps));
	int rc;

	if (!ps)
		return -ENOMEM;
	ps->enabled = c->enabled;
	plist_set(&ps->sub, c->subscribe, c->nsubscribe);
	plist_set(&ps->sub_self, c->subscribe_self, c->nsubscribe_self);
	plist_set(&ps->pub, c->publish, c->npublish);
	plist_set(&ps->notify, c->notify, c->nnotify);
	ps->harvest_users = c->harvest_users;
	ps->harvest_window_ms =
		c->harvest_window_ms ? c->harvest_window_ms : 60000;
	ps->scrub = c->scrub;
	rc = keytab_init(&ps->src, c->table_size ? c->table_size : 4096,
			 sizeof(struct win_bits));
	if (!rc)
		rc = keytab_init(&ps->users, 1, 0);
	if (rc) {
		presence_free(ps);
		return rc;
	}
	*pp = ps;
	return 0;
}

void presence_free(struct presence *ps)
{
	if (!ps)
		return;
	keytab_fini(&ps->src);
	keytab_fini(&ps->users);
	mem_free(ps);
}

/* The Event package: empty when absent, repeated or malformed. */
static struct str package(const struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_EVENT);
	struct sip_tokparams tp;
	struct sip_perr pe;

	if (!h || sip_hdr_next(m, h) ||
	    sip_tokparams_parse(&tp, h->value, &pe) != 0)
		return STR_NULL;
	return tp.value;
}

/* From and To name the same user: the subscriber's own resource. */
static bool self(const struct sip_msg *m)
{
	return m->from.uri.user.len && str_eq(m->from.uri.user, m->to.uri.user);
}

static void deny(struct guard_verdict *v, const char *rule, const char *why)
{
	v->action = GUARD_REPLY;
	v->status = 403;
	v->reason = "Forbidden";
	v->rule = rule;
	v->why = why;
}

/* Count the user an initial SUBSCRIBE targets; true: harvesting. */
static bool harvesting(struct presence *ps, const struct sip_msg *m,
		       const struct guard_src *src, uint64_t now_ms)
{
	uint64_t u[WIN_BITS_WORDS];
	struct win_bits *b;
	struct str user = m->to.uri.user.len ? m->to.uri.user : m->ruri.user;
	unsigned i;

	if (!ps->harvest_users || !src)
		return false;
	b = keytab_get(&ps->src,
		       keytab_hash(&ps->src, src, sizeof(*src), false), now_ms);
	win_bits_set(b, now_ms, ps->harvest_window_ms,
		     keytab_hash(&ps->users, user.p, user.len, true));
	for (i = 0; i < WIN_BITS_WORDS; i++)
		u[i] = b->cur[i] | b->prev[i];
	return win_bits_estimate(win_bits_popcount(u)) > ps->harvest_users;
}

void presence_check(struct presence *ps, const struct sip_msg *m,
		    const struct guard_src *src, uint64_t now_ms,
		    struct guard_verdict *v)
{
	struct str pkg;

	guard_verdict_pass(v);
	if (!ps->enabled)
		return;
	switch (m->mid) {
	case SIP_METHOD_SUBSCRIBE:
		pkg = package(m);
		if (!m->to.tag.len && harvesting(ps, m, src, now_ms)) {
			deny(v, "presence-harvest",
			     "one source subscribing to many users");
			return;
		}
		if (plist_has(&ps->sub, pkg) ||
		    (self(m) && plist_has(&ps->sub_self, pkg)))
			return;
		deny(v, "presence-subscribe",
		     plist_has(&ps->sub_self, pkg)
			     ? "subscription to another user's own-only package"
			     : "event package not allowed from this zone");
		return;
	case SIP_METHOD_PUBLISH:
		pkg = package(m);
		if (self(m) && plist_has(&ps->pub, pkg))
			return;
		deny(v, "presence-publish",
		     plist_has(&ps->pub, pkg)
			     ? "publication for another user's presentity"
			     : "event package not allowed from this zone");
		return;
	case SIP_METHOD_NOTIFY:
		pkg = package(m);
		if (!m->to.tag.len) {
			deny(v, "presence-notify", "NOTIFY outside a dialog");
			return;
		}
		if (!plist_has(&ps->notify, pkg))
			deny(v, "presence-notify",
			     "event package not allowed from this zone");
		return;
	default:
		return;
	}
}

static bool is_pidf(struct str t, struct str s)
{
	return str_caseeq_cstr(t, "application") &&
	       (str_caseeq_cstr(s, "pidf+xml") ||
		str_caseeq_cstr(s, "cpim-pidf+xml"));
}

/*
 * A part we can rewrite in place: clean header lines (no NUL, no bare
 * CR: what a client makes of those we cannot know), exactly one
 * Content-Type (a client might read another one than we did), no
 * Content-Length of its own, no transfer encoding we cannot read.
 */
static bool part_plain(struct str hdrs)
{
	unsigned ctypes = 0;
	struct str name, val;

	if (sip_part_hdrs_bad(hdrs))
		return false;
	while (sip_part_hdr_next(&hdrs, &name, &val)) {
		if (sip_hdr_classify(name) == SIP_HDR_CONTENT_TYPE)
			ctypes++;
		else if (sip_hdr_classify(name) == SIP_HDR_CONTENT_LENGTH)
			return false;
		else if (str_caseeq_cstr(name, "Content-Transfer-Encoding") &&
			 !sip_cte_identity(val))
			return false;
	}
	return ctypes == 1;
}

/*
 * A resource list NOTIFY (RFC 4662: multipart/related, an RLMI part and
 * one PIDF part per resource) is rebuilt part by part, each PIDF part
 * scrubbed; the preamble and epilogue are left out.  Any other part, a
 * nested multipart or an encoded part: STRIP.
 */
static int scrub_multipart(const struct presence *ps,
			   const struct sip_ctype *ct, struct str body,
			   struct buf *out)
{
	struct sip_part parts[SIP_MAX_PARTS];
	struct sip_ctype pct;
	struct sip_perr pe;
	unsigned n, i;
	int rc;

	if (!ct->boundary.len ||
	    sip_multipart_split(parts, SIP_MAX_PARTS, &n, body, ct->boundary,
				&pe) != 0)
		return PRES_SCRUB_STRIP;
	for (i = 0; i < n; i++) {
		if (!part_plain(parts[i].headers) || !parts[i].ctype.len ||
		    sip_ctype_parse(&pct, parts[i].ctype, &pe) != 0)
			return PRES_SCRUB_STRIP;
		if (buf_append_cstr(out, "--") ||
		    buf_append_str(out, ct->boundary) ||
		    buf_append_cstr(out, "\r\n") ||
		    buf_append_str(out, parts[i].headers) ||
		    buf_append_cstr(out, "\r\n\r\n"))
			return PRES_SCRUB_STRIP;
		if (is_pidf(pct.type, pct.subtype)) {
			rc = pidf_scrub(out, parts[i].body, ps->scrub);
			if (rc < 0)
				return PRES_SCRUB_STRIP;
		} else if (str_caseeq_cstr(pct.type, "application") &&
			   str_caseeq_cstr(pct.subtype, "rlmi+xml")) {
			if (buf_append_str(out, parts[i].body))
				return PRES_SCRUB_STRIP;
		} else {
			return PRES_SCRUB_STRIP;
		}
		if (buf_append_cstr(out, "\r\n"))
			return PRES_SCRUB_STRIP;
	}
	if (buf_append_cstr(out, "--") || buf_append_str(out, ct->boundary) ||
	    buf_append_cstr(out, "--\r\n"))
		return PRES_SCRUB_STRIP;
	return PRES_SCRUB_BODY;
}

int presence_scrub(const struct presence *ps, const struct sip_msg *m,
		   struct buf *out)
{
	const struct sip_hdr *enc = sip_msg_hdr(m, SIP_HDR_CONTENT_ENCODING);
	struct sip_ctype ct;
	struct sip_perr pe;
	bool pres = str_caseeq_cstr(package(m), "presence");
	int rc;

	buf_reset(out);
	if (!ps->scrub || !m->body.len)
		return PRES_SCRUB_KEEP;
	/* Two Content-Types or encodings: which would the watcher read? */
	if (m->count[SIP_HDR_CONTENT_TYPE] > 1 ||
	    m->count[SIP_HDR_CONTENT_ENCODING] > 1)
		return pres || m->count[SIP_HDR_CONTENT_TYPE] > 1
			       ? PRES_SCRUB_STRIP
			       : PRES_SCRUB_KEEP;
	if (m->content_type.len &&
	    sip_ctype_parse(&ct, m->content_type, &pe) == 0 &&
	    is_pidf(ct.type, ct.subtype)) {
		if (enc && !str_caseeq_cstr(enc->value, "identity"))
			return PRES_SCRUB_STRIP;
		rc = pidf_scrub(out, m->body, ps->scrub);
		if (rc <= 0)
			buf_reset(out);
		return rc < 0   ? PRES_SCRUB_STRIP
		       : rc > 0 ? PRES_SCRUB_BODY
				: PRES_SCRUB_KEEP;
	}
	if (pres && !enc && m->content_type.len &&
	    sip_ctype_parse(&ct, m->content_type, &pe) == 0 &&
	    str_caseeq_cstr(ct.type, "multipart") &&
	    str_caseeq_cstr(ct.subtype, "related")) {
		rc = scrub_multipart(ps, &ct, m->body, out);
		if (rc != PRES_SCRUB_BODY)
			buf_reset(out);
		return rc;
	}
	/* A presence body in a format we do not read: it may hold the
	 * same notes and places, so it does not leave unread. */
	return pres ? PRES_SCRUB_STRIP : PRES_SCRUB_KEEP;
}
