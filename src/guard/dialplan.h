/*
 * dialplan.h - dialled-number normalisation and ordered dial rules, for
 * toll-fraud policy (guard/fraud.h).
 *
 * Normalisation (RFC 3966 for tel: and visual separators, RFC 3261 19.1.1
 * for user=phone sip: URIs).  The dialled target is the Request-URI's
 * user part (sip:, sips:) or number (tel:).  Steps:
 *   1. %-escapes are decoded; the user part ends at its first ';' (user
 *      parameters such as phone-context, RFC 3966 / RFC 3261 19.1.6);
 *   2. visual separators are dropped: '-', '.', '(', ')', and spaces;
 *   3. what is left must be an optional leading '+' followed by digits,
 *      '*' and '#' (DP_NUM_MAX at most), else the target is a name
 *      ("alice": DP_NAME) or, when it looks like a number but is not one
 *      (a '+' inside, too long, '+' alone), DP_INVALID;
 *   4. prefixes become the international form:
 *        "+CC..."            stays (global number);
 *        intl prefix "00..." -> "+...";
 *        national prefix "0..." with a country code CC -> "+CC...";
 *        a local number with a global phone-context "+CC..." is
 *          prefixed with it (tel:7042;phone-context=+1212);
 *        anything else (short codes, extensions, "*72") stays as is.
 * The international prefix is tried before the national one ("00" and
 * "0").  A "+" number whose country code would start with 0 is
 * invalid.  Emergency numbers are compared with both the dialled digits
 * (after step 2) and the normalised form, exactly.
 *
 * Kinds: a "+" number in our country code is DP_NATIONAL, any other "+"
 * number DP_INTERNATIONAL (its country code, 1-3 digits per ITU-T E.164
 * assignments, is extracted for per-country limits); the rest DP_SHORT.
 *
 * Rules.  A rule list (struct dp_rules) is ordered; the first rule whose
 * prefixes or PCRE2 regex match the normalised number (and whose zone
 * set holds the call's zone) decides.  Regexes run with a match limit
 * and on at most DP_NUM_MAX + 1 bytes, so no input can make matching
 * slow.  PCRE2 memory goes through mem_alloc (leak checks, failure
 * injection).
 */
#ifndef SIPGUARD_GUARD_DIALPLAN_H
#define SIPGUARD_GUARD_DIALPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

struct sg_conf_dial_rule;

enum {
	DP_NUM_MAX = 32, /* digits of a number (E.164: 15) */
	DP_IN_MAX = 128, /* bytes of a user part we look at */
	DP_CODE_MAX = 7, /* prefix and country code digits */
	DP_CC_MAX = 3,   /* E.164 country codes: 1-3 digits */
	DP_MAX_RULES = 64,
};

enum dp_kind {
	DP_NAME = 0,      /* not a number: a SIP user name */
	DP_INVALID,       /* looks like a number, is not one */
	DP_SHORT,         /* no prefix: short code, extension */
	DP_NATIONAL,      /* "+CC..." with our country code */
	DP_INTERNATIONAL, /* any other "+..." */
};

/* How numbers are dialled where the users are. */
struct dp_numbering {
	char intl_prefix[DP_CODE_MAX + 1];  /* "00"; "" none */
	char natl_prefix[DP_CODE_MAX + 1];  /* "0"; "" none */
	char country_code[DP_CODE_MAX + 1]; /* "44"; "" unknown */
};

/* A normalised number.  s and dialled are NUL-terminated. */
struct dp_number {
	enum dp_kind kind;
	char s[DP_NUM_MAX + 2]; /* "+4420...", "112", "*72" */
	uint8_t len;
	char dialled[DP_NUM_MAX + 2]; /* digits as dialled, separators
				       * dropped ("0044...", "112") */
	char cc[DP_CC_MAX + 1];       /* country code of a "+" number */
};

/*
 * Normalise a dialled number: user is the user part of a sip: URI
 * (still %-escaped, may carry ";params") or the number of a tel: URI,
 * context the tel: URI's parameters (";phone-context=..."; may be
 * empty).  Never fails: bad input gives DP_NAME or DP_INVALID.  Pure.
 */
void dp_normalise(struct dp_number *np, struct str user, struct str params,
		  const struct dp_numbering *nb);

/* "name", "invalid", "short", "national", "international". */
const char *dp_kind_name(enum dp_kind k);

/*
 * Country code of a "+" number (digits after '+'): 1, 2 or 3 digits per
 * ITU-T E.164 assignments, copied into cc (DP_CC_MAX + 1 bytes).  Returns
 * its length, 0 when digits is empty.
 */
size_t dp_country_code(const char *digits, size_t n, char *cc);

/* True when n matches one of list[0..count) exactly, dialled or
 * normalised. */
bool dp_in_list(const struct dp_number *n, const char (*list)[16],
		size_t count);

/* ---------------------------------------------------------------- rules */

/* Owner: the caller of dp_rules_new(). */
struct dp_rules;

/* Names of zones and classes by index (at most 32 of each). */
struct dp_names {
	const char *const *zones;
	unsigned nzones;
	const char *const *classes;
	unsigned nclasses;
};

/*
 * Compile n rules (n <= DP_MAX_RULES), borrowing r (which must outlive
 * the result).  names resolve the rules' zone and class names to
 * indexes (an unknown name is -EINVAL).  Returns 0, -EINVAL (err says
 * which rule) or -ENOMEM.
 */
int dp_rules_new(struct dp_rules **rp, const struct sg_conf_dial_rule *r,
		 size_t n, const struct dp_names *names, char *err,
		 size_t errsz);
void dp_rules_free(struct dp_rules *r);

/*
 * The first rule applying to class cls in zone `zone` that matches the
 * normalised number num: its index (>= 0), or -1 when none does.
 * *allowp: the rule's action.  *namep: its name (the rule's own, or
 * "rule N"), valid as long as r.
 */
int dp_rules_match(const struct dp_rules *r, const struct dp_number *num,
		   unsigned cls, unsigned zone, bool *allowp,
		   const char **namep);

#endif
