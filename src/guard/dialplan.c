/*
 * dialplan.c - dialled-number normalisation (RFC 3966 visual separators
 * and phone-context, RFC 3261 19.1.1 user parts) and ordered dial rules
 * matched by prefix or PCRE2 regex.  See dialplan.h for the rules of
 * normalisation; this file is pure but for the compiled regexes.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/conf.h"
#include "core/mem.h"
#include "guard/dialplan.h"

enum {
	DP_MATCH_LIMIT = 10000, /* PCRE2 backtracking budget */
	DP_DEPTH_LIMIT = 1000,
	DP_RULE_NAME = CONF_NAME_LEN,
};

static const char *const kind_names[] = {
	[DP_NAME] = "name",
	[DP_INVALID] = "invalid",
	[DP_SHORT] = "short",
	[DP_NATIONAL] = "national",
	[DP_INTERNATIONAL] = "international",
};

const char *dp_kind_name(enum dp_kind k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0])
		       ? kind_names[k]
		       : "?";
}

/*
 * Two-digit country codes by first digit, as bit masks of the second
 * digit (ITU-T E.164 list of assigned codes); 1 and 7 are one digit,
 * every other code three.
 */
static const uint16_t cc2[10] = {
	[2] = 1u << 0 | 1u << 7,
	[3] = 1u << 0 | 1u << 1 | 1u << 2 | 1u << 3 | 1u << 4 | 1u << 6 |
	      1u << 9,
	[4] = 0x3ff & ~(1u << 2),
	[5] = 0x1fe,
	[6] = 0x7f,
	[8] = 1u << 1 | 1u << 2 | 1u << 4 | 1u << 6,
	[9] = 0x3f | 1u << 8,
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

size_t dp_country_code(const char *digits, size_t n, char *cc)
{
	size_t len;

	if (n == 0 || !is_digit(digits[0])) {
		cc[0] = '\0';
		return 0;
	}
	if (digits[0] == '1' || digits[0] == '7')
		len = 1;
	else if (n >= 2 && is_digit(digits[1]) &&
		 (cc2[digits[0] - '0'] >> (digits[1] - '0') & 1u))
		len = 2;
	else
		len = 3;
	if (len > n)
		len = n;
	memcpy(cc, digits, len);
	cc[len] = '\0';
	return len;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_sep(char c)
{
	return c == '-' || c == '.' || c == '(' || c == ')' || c == ' ';
}

/*
 * Steps 1-3 of dialplan.h: decode, drop separators, classify.  Writes
 * the dialled digits (with '+' if any) to out.  Returns DP_SHORT for a
 * number (the caller refines the kind), DP_NAME or DP_INVALID.
 */
static enum dp_kind clean(struct str in, char *out, size_t *lenp)
{
	size_t i, n = 0, digits = 0;
	bool name = false, bad = false;

	*lenp = 0;
	if (in.len == 0 || in.len > DP_IN_MAX)
		return in.len ? DP_INVALID : DP_NAME;
	for (i = 0; i < in.len; i++) {
		char c = in.p[i];

		if (c == '%' && i + 2 < in.len && hexval(in.p[i + 1]) >= 0 &&
		    hexval(in.p[i + 2]) >= 0) {
			c = (char)(hexval(in.p[i + 1]) * 16 +
				   hexval(in.p[i + 2]));
			i += 2;
		}
		if (is_sep(c))
			continue;
		if (c == '+' && n == 0) {
			out[n++] = c;
			continue;
		}
		if (is_digit(c) || c == '*' || c == '#') {
			if (digits >= DP_NUM_MAX) {
				bad = true;
			} else {
				out[n++] = c;
				digits++;
			}
			continue;
		}
		if (c == '+')
			bad = true; /* '+' inside a number */
		else
			name = true;
	}
	out[n] = '\0';
	*lenp = n;
	if (name)
		return DP_NAME;
	if (bad || n == 0 || (out[0] == '+' && n == 1))
		return DP_INVALID;
	return DP_SHORT;
}

/* The value of phone-context among ";a=b;c" parameters, or empty. */
static struct str phone_context(struct str params)
{
	static const char key[] = "phone-context=";
	size_t kl = sizeof(key) - 1, i = 0;

	while (i < params.len) {
		size_t j = i;

		while (j < params.len && params.p[j] != ';')
			j++;
		if (j - i > kl && strncasecmp(params.p + i, key, kl) == 0)
			return str_make(params.p + i + kl, j - i - kl);
		i = j + 1;
	}
	return STR_NULL;
}

static bool starts(const char *s, size_t n, const char *pfx)
{
	size_t l = strlen(pfx);

	return l && n > l && memcmp(s, pfx, l) == 0;
}

/* s[0..n) becomes pre + s[skip..n), if it fits. */
static bool rewrite(struct dp_number *np, const char *pre, const char *src,
		    size_t n, size_t skip)
{
	size_t pl = strlen(pre), rest = n - skip;

	if (pl + rest > DP_NUM_MAX + 1)
		return false;
	memmove(np->s + pl, src + skip, rest);
	memcpy(np->s, pre, pl);
	np->len = (uint8_t)(pl + rest);
	np->s[np->len] = '\0';
	return true;
}

/* Step 4: the international form of a clean number. */
static void to_global(struct dp_number *np, const char *d, size_t n,
		      struct str ctx, const struct dp_numbering *nb)
{
	char pre[DP_NUM_MAX + 3];
	size_t cl = 0;
	bool ok = true;

	if (d[0] == '+') {
		ok = rewrite(np, "", d, n, 0);
	} else if (nb->intl_prefix[0] &&
		   strncmp(d, nb->intl_prefix, strlen(nb->intl_prefix)) == 0) {
		/* "00" alone is an unfinished international number. */
		ok = rewrite(np, "+", d, n, strlen(nb->intl_prefix));
	} else if (nb->country_code[0] && starts(d, n, nb->natl_prefix)) {
		snprintf(pre, sizeof(pre), "+%s", nb->country_code);
		ok = rewrite(np, pre, d, n, strlen(nb->natl_prefix));
	} else if (ctx.len > 1 && ctx.p[0] == '+' &&
		   clean(ctx, pre, &cl) == DP_SHORT && pre[0] == '+') {
		ok = rewrite(np, pre, d, n, 0);
	} else {
		ok = rewrite(np, "", d, n, 0);
	}
	/* No country code starts with 0 (ITU-T E.164). */
	if (!ok || (np->s[0] == '+' && (np->len < 2 || np->s[1] == '0'))) {
		np->kind = DP_INVALID;
		return;
	}
	if (np->s[0] != '+') {
		np->kind = DP_SHORT;
		return;
	}
	/* '*' and '#' are service codes, not part of a global number. */
	if (strpbrk(np->s, "*#")) {
		np->kind = DP_INVALID;
		return;
	}
	dp_country_code(np->s + 1, np->len - 1u, np->cc);
	np->kind = nb->country_code[0] && strncmp(np->s + 1, nb->country_code,
						  strlen(nb->country_code)) == 0
			   ? DP_NATIONAL
			   : DP_INTERNATIONAL;
}

void dp_normalise(struct dp_number *np, struct str user, struct str params,
		  const struct dp_numbering *nb)
{
	const char *semi = user.p ? memchr(user.p, ';', user.len) : NULL;
	struct str num = user, ctx;
	size_t n;

	memset(np, 0, sizeof(*np));
	if (semi) {
		num.len = (size_t)(semi - user.p);
		ctx = phone_context(str_make(semi + 1, user.len - num.len - 1));
	} else {
		ctx = phone_context(params);
	}
	np->kind = clean(num, np->dialled, &n);
	if (np->kind != DP_SHORT)
		return;
	to_global(np, np->dialled, n, ctx, nb);
}

bool dp_in_list(const struct dp_number *n, const char (*list)[16], size_t count)
{
	size_t i;

	/* An invalid number may still be one as dialled ("000"). */
	if (n->kind == DP_NAME)
		return false;
	for (i = 0; i < count; i++)
		if (list[i][0] && (strcmp(list[i], n->dialled) == 0 ||
				   strcmp(list[i], n->s) == 0))
			return true;
	return false;
}

/* ---------------------------------------------------------------- rules */

struct dp_rule {
	char name[DP_RULE_NAME + 16];
	bool allow;
	uint32_t zones;   /* bit per zone index; 0: every zone */
	uint32_t classes; /* bit per class index; 0: every class */
	const struct sg_conf_dial_rule *c; /* prefixes (borrowed) */
	pcre2_code *re;                    /* NULL: no regex */
};

/* Owner: the caller of dp_rules_new(). */
struct dp_rules {
	struct dp_rule r[DP_MAX_RULES];
	size_t n;
	pcre2_general_context *gc;
	pcre2_match_context *mc;
	pcre2_match_data *md; /* one, reused: single-threaded */
};

static void *re_alloc(PCRE2_SIZE n, void *arg)
{
	(void)arg;
	return mem_alloc(n);
}

static void re_free(void *p, void *arg)
{
	(void)arg;
	mem_free(p);
}

static int compile(struct dp_rules *rs, struct dp_rule *r, const char *re,
		   char *err, size_t errsz)
{
	pcre2_compile_context *cc = pcre2_compile_context_create(rs->gc);
	PCRE2_UCHAR msg[120];
	PCRE2_SIZE off = 0;
	int code = 0;

	if (!cc)
		return -ENOMEM;
	r->re = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &code,
			      &off, cc);
	pcre2_compile_context_free(cc);
	if (r->re)
		return 0;
	if (code == PCRE2_ERROR_HEAP_FAILED || code == PCRE2_ERROR_NOMEMORY)
		return -ENOMEM;
	pcre2_get_error_message(code, msg, sizeof(msg));
	snprintf(err, errsz, "%s: bad regex at %zu: %s", r->name, (size_t)off,
		 (const char *)msg);
	return -EINVAL;
}

/* Names to a bit set; an unknown name fails. */
static int bits_of(uint32_t *bitsp, const char (*list)[CONF_NAME_LEN], size_t n,
		   const char *const *names, unsigned count, const char *rule,
		   const char *what, char *err, size_t errsz)
{
	size_t i;
	unsigned z;

	for (i = 0; i < n; i++) {
		for (z = 0; z < count && z < 32; z++)
			if (names[z] && strcmp(names[z], list[i]) == 0)
				break;
		if (z == count || z >= 32) {
			snprintf(err, errsz, "%s: no %s '%s'", rule, what,
				 list[i]);
			return -EINVAL;
		}
		*bitsp |= 1u << z;
	}
	return 0;
}

int dp_rules_new(struct dp_rules **rp, const struct sg_conf_dial_rule *c,
		 size_t n, const struct dp_names *nm, char *err, size_t errsz)
{
	struct dp_rules *rs;
	size_t i;
	int rc = -ENOMEM;

	*rp = NULL;
	if (n > DP_MAX_RULES)
		return -EINVAL;
	rs = mem_zalloc(sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	rs->gc = pcre2_general_context_create(re_alloc, re_free, NULL);
	if (!rs->gc)
		goto fail;
	rs->mc = pcre2_match_context_create(rs->gc);
	rs->md = pcre2_match_data_create(4, rs->gc);
	if (!rs->mc || !rs->md)
		goto fail;
	pcre2_set_match_limit(rs->mc, DP_MATCH_LIMIT);
	pcre2_set_depth_limit(rs->mc, DP_DEPTH_LIMIT);
	for (i = 0; i < n; i++) {
		struct dp_rule *r = &rs->r[i];

		r->c = &c[i];
		r->allow = c[i].action == CONF_DIAL_ALLOW;
		if (c[i].name[0])
			snprintf(r->name, sizeof(r->name), "%s", c[i].name);
		else
			snprintf(r->name, sizeof(r->name), "rule %zu", i);
		rs->n = i + 1;
		rc = bits_of(&r->zones, c[i].zones, c[i].n_zones, nm->zones,
			     nm->nzones, r->name, "zone", err, errsz);
		if (!rc)
			rc = bits_of(&r->classes, c[i].classes, c[i].n_classes,
				     nm->classes, nm->nclasses, r->name,
				     "class", err, errsz);
		if (rc)
			goto fail;
		if (c[i].regex[0]) {
			rc = compile(rs, r, c[i].regex, err, errsz);
			if (rc)
				goto fail;
		}
	}
	*rp = rs;
	return 0;
fail:
	dp_rules_free(rs);
	return rc;
}

void dp_rules_free(struct dp_rules *rs)
{
	size_t i;

	if (!rs)
		return;
	for (i = 0; i < rs->n; i++)
		pcre2_code_free(rs->r[i].re);
	pcre2_match_data_free(rs->md);
	pcre2_match_context_free(rs->mc);
	pcre2_general_context_free(rs->gc);
	mem_free(rs);
}

static bool rule_matches(const struct dp_rules *rs, const struct dp_rule *r,
			 const struct dp_number *num)
{
	size_t i;
	int rc;

	for (i = 0; i < r->c->n_prefixes; i++) {
		size_t l = strlen(r->c->prefixes[i]);

		if (l <= num->len && memcmp(num->s, r->c->prefixes[i], l) == 0)
			return true;
	}
	if (!r->re)
		return false;
	rc = pcre2_match(r->re, (PCRE2_SPTR)num->s, num->len, 0, 0, rs->md,
			 rs->mc);
	/* A match-limit error counts as a match: fail closed on deny rules
	 * and never hand out an allow because an input was hard. */
	return rc >= 0 || (rc < PCRE2_ERROR_NOMATCH && !r->allow);
}

int dp_rules_match(const struct dp_rules *rs, const struct dp_number *num,
		   unsigned cls, unsigned zone, bool *allowp,
		   const char **namep)
{
	size_t i;

	for (i = 0; rs && i < rs->n; i++) {
		const struct dp_rule *r = &rs->r[i];

		if (r->zones && (zone >= 32 || !(r->zones >> zone & 1u)))
			continue;
		if (r->classes && (cls >= 32 || !(r->classes >> cls & 1u)))
			continue;
		if (!rule_matches(rs, r, num))
			continue;
		*allowp = r->allow;
		*namep = r->name;
		return (int)i;
	}
	return -1;
}
