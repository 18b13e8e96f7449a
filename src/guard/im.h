/*
 * im.h - IM content security for SIP MESSAGE (RFC 3428): which content
 * may be carried, how big, how often, and what the text may not say.
 *
 * Checks, in order, each naming its rule (counted in the guard's rule
 * registry, monitor-mode aware, reported as an "im-blocked" event that
 * carries the rule and the list entry that matched, never the text):
 *
 *   im-rate-source  403  MESSAGEs per window from one source (IPv4
 *                        address or IPv6 /64) over the limit
 *   im-rate-user    403  MESSAGEs per window from one sender (From
 *                        user@host) over the limit, whatever the source
 *   im-size         413  body larger than max_size (RFC 3428 7: a
 *                        MESSAGE is for short texts; big content goes
 *                        through MSRP, with its own policy)
 *   im-malformed    400  multipart or message/cpim body we cannot split
 *                        (refused rather than passed uninspected)
 *   im-file         415  executable or file-transfer content: a blocked
 *                        type at any depth (application/octet-stream,
 *                        application/x-msdownload, message/external-body
 *                        ...), or Content-Disposition: attachment
 *   im-type         415  a type not on the allowed list at any depth, a
 *                        Content-Encoding (gzip: uninspectable) or a
 *                        part's Content-Transfer-Encoding other than
 *                        7bit/8bit/binary; the answer carries Accept
 *   im-url          403  a URL whose host is on, or under, a denied domain
 *   im-keyword      403  a denied keyword (ASCII case-insensitive)
 *   im-regex        403  a denied PCRE2 regular expression matched (or
 *                        ran over its match limit: fail closed)
 *
 * Message/CPIM (RFC 3862) is opened: its inner Content-Type is checked
 * like the outer one and its content is scanned.  Text rules scan every
 * leaf part and the Subject header.
 *
 * Memory is fixed at im_new(): two keytab tables of counters.  Not
 * thread-safe: one per event loop.
 */
#ifndef SIPGUARD_GUARD_IM_H
#define SIPGUARD_GUARD_IM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"
#include "guard/guard_types.h"
#include "sip/sip.h"

enum {
	IM_MAX_TYPES = 32,
	IM_MAX_REGEX = 32,
	IM_MAX_DOMAINS = 128,
	IM_MAX_KEYWORDS = 64,
	IM_MAX_DEPTH = 3,   /* multipart / cpim nesting */
	IM_MAX_LEAVES = 16, /* leaf parts scanned */
	IM_HOST_MAX = 255,  /* RFC 1035 */
};

enum im_dir {
	IM_DIR_OFF = 0,   /* no IM checks */
	IM_DIR_UNTRUSTED, /* MESSAGEs from untrusted zones */
	IM_DIR_BOTH,      /* and from trusted zones */
};

/* Strings are borrowed for im_new() only (copied or compiled there). */
struct im_conf {
	enum im_dir dir;
	const char *types[IM_MAX_TYPES]; /* "type/sub"; subtype "*": any */
	unsigned ntypes;
	size_t max_size;            /* body bytes; 0: no limit */
	uint32_t src_max, user_max; /* per window; 0: off */
	uint32_t window_ms;
	uint32_t table_size; /* counters per table */
	bool block_files;
	const char *regex[IM_MAX_REGEX];
	unsigned nregex;
	const char *domains[IM_MAX_DOMAINS];
	unsigned ndomains;
	const char *keywords[IM_MAX_KEYWORDS];
	unsigned nkeywords;
};

void im_conf_default(struct im_conf *c);

/* Owner: the guard (im_new / im_free). */
struct im;

/* Compiles the expressions.  0, -EINVAL (err says which), -ENOMEM. */
int im_new(struct im **ip, const struct im_conf *c, char *err, size_t errsz);
void im_free(struct im *im);

/* Does the IM policy apply to a MESSAGE from a zone of this trust? */
bool im_applies(const struct im *im, bool trusted);

/*
 * Check one MESSAGE from src at now_ms.  Fills *v: PASS, or REPLY with
 * the status, rule and why (v->why points into im, valid until the next
 * call).  Counts the message in both rate tables first, so that refused
 * messages count too.  src NULL: no per-source rate (a trusted peer such
 * as the PBX is one source for all its users).
 */
void im_check(struct im *im, const struct sip_msg *m,
	      const struct guard_src *src, uint64_t now_ms,
	      struct guard_verdict *v);
/* Only the content rules (size, types, text): no counting. */
void im_check_content(struct im *im, const struct sip_msg *m,
		      struct guard_verdict *v);

/* Every rule name im_check() can return, NULL-terminated. */
extern const char *const im_rule_names[];

/* ---------------------------------------------------- text (im_text.c) */

/*
 * Find the next URL in text at or after *posp (see im_text.c for what a
 * URL is).  Stores its host (raw: case, %-escapes and a trailing dot
 * kept; brackets of an IPv6 literal removed) and moves *posp past it.
 * Returns false, with *posp at the end, when there is none.
 */
bool im_url_next(struct str text, size_t *posp, struct str *hostp);
/*
 * Normalise a host for matching into out: %-escapes decoded, ASCII
 * lower-cased, IDNA dots (U+3002, U+FF0E, U+FF61) made '.', trailing
 * dots removed.  Returns its length, 0 when it does not fit.
 */
size_t im_host_norm(char *out, size_t outsz, struct str host);
/* host (normalised) is domain or one of its subdomains. */
bool im_host_in_domain(struct str host, struct str domain);
/* text contains lower_word, ASCII case-insensitively. */
bool im_text_has(struct str text, struct str lower_word);

#endif
