/*
 * fuzz_dialplan.c - dialled-number normalisation and dial-rule matching
 * (guard/dialplan.c) on hostile bytes.  The first byte picks a numbering
 * plan; the rest is a user part, or "user\nparams", or a whole sip:/tel:
 * URI whose user part and parameters are used as the proxy does.
 * Invariants: a number is at most DP_NUM_MAX digits of [0-9*#] with an
 * optional leading '+', "+" exactly for national and international
 * numbers, whose country code is 1-3 digits and prefixes them; the
 * normal form is a fixed point (normalising it again gives it back);
 * rule matching returns a valid index and never runs away (PCRE2 match
 * limits).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "guard/dialplan.h"
#include "sip/sip.h"

#include "fuzz_check.h"

static const struct dp_numbering plans[] = {
	{"00", "0", "44"}, {"011", "1", "1"}, {"00", "0", ""},
	{"", "", ""},      {"0", "0", "7"},
};

static struct dp_rules *rules;

static void rule(struct sg_conf_dial_rule *r, int action, const char *pfx,
		 const char *re)
{
	r->action = action;
	if (pfx) {
		strcpy(r->prefixes[0], pfx);
		r->n_prefixes = 1;
	}
	if (re)
		strcpy(r->regex, re);
}

static struct dp_rules *get_rules(void)
{
	static struct sg_conf_dial_rule r[5];
	static const char *const zones[] = {"a", "b"};
	static const char *const cls[] = {"x", "y"};
	struct dp_names nm = {zones, 2, cls, 2};
	char err[128];

	if (rules)
		return rules;
	rule(&r[0], CONF_DIAL_DENY, "+449", "^\\+44(87|70)");
	rule(&r[1], CONF_DIAL_ALLOW, "+44", NULL);
	rule(&r[2], CONF_DIAL_DENY, NULL, "^(\\d+)+\\D");
	rule(&r[3], CONF_DIAL_ALLOW, NULL, "^[0-9*#]{2,6}$");
	rule(&r[4], CONF_DIAL_DENY, "+", NULL);
	strcpy(r[4].zones[0], "b");
	r[4].n_zones = 1;
	if (dp_rules_new(&rules, r, 5, &nm, err, sizeof(err)) != 0)
		abort();
	return rules;
}

static void check_number(const struct dp_number *n,
			 const struct dp_numbering *nb)
{
	struct dp_number again;
	size_t i, digits = 0;

	CHECK(n->kind <= DP_INTERNATIONAL);
	if (n->kind == DP_NAME || n->kind == DP_INVALID)
		return;
	CHECK(n->len == strlen(n->s) && n->len > 0);
	CHECK((n->s[0] == '+') == (n->kind != DP_SHORT));
	for (i = n->s[0] == '+'; i < n->len; i++) {
		CHECK((n->s[i] >= '0' && n->s[i] <= '9') || n->s[i] == '*' ||
		      n->s[i] == '#');
		digits++;
	}
	CHECK(digits <= DP_NUM_MAX && digits > 0);
	if (n->s[0] == '+') {
		size_t cl = strlen(n->cc);

		CHECK(cl >= 1 && cl <= DP_CC_MAX);
		CHECK(strncmp(n->s + 1, n->cc, cl) == 0);
		CHECK(n->s[1] != '0' && !strpbrk(n->s, "*#"));
	}
	dp_normalise(&again, str_make(n->s, n->len), STR_NULL, nb);
	CHECK(again.kind == n->kind && strcmp(again.s, n->s) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct dp_numbering *nb;
	struct str in, user, params = STR_NULL;
	struct dp_number n;
	struct sip_uri u;
	const char *name = NULL;
	const char *nl;
	bool allow = false;
	unsigned cls, zone;
	int idx;

	if (size < 1)
		return 0;
	nb = &plans[data[0] % (sizeof(plans) / sizeof(plans[0]))];
	cls = data[0] >> 4 & 3;
	zone = data[0] >> 6 & 1;
	in = str_make((const char *)data + 1, size - 1);
	user = in;
	if (in.len > 4 &&
	    (memcmp(in.p, "sip:", 4) == 0 || memcmp(in.p, "tel:", 4) == 0)) {
		if (sip_uri_parse(&u, in, 0, NULL) != 0)
			return 0;
		user = u.user;
		params = u.sch == SIP_URI_TEL ? u.params : STR_NULL;
	} else if ((nl = memchr(in.p, '\n', in.len)) != NULL) {
		user = str_make(in.p, (size_t)(nl - in.p));
		params = str_make(nl + 1, in.len - user.len - 1);
	}
	dp_normalise(&n, user, params, nb);
	check_number(&n, nb);
	idx = dp_rules_match(get_rules(), &n, cls, zone, &allow, &name);
	CHECK(idx >= -1 && idx < 5);
	CHECK(idx < 0 || name != NULL);
	return 0;
}
