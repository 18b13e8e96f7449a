/*
 * test_dialplan.c - dialled-number normalisation (table: separators,
 * escapes, '+', international and national prefixes, phone-context,
 * service codes, names, invalid and over-long input), E.164 country
 * codes, the emergency list, and ordered dial rules (prefixes, PCRE2
 * regexes, class and zone filters, bad regexes, allocation failures).
 */
#include <errno.h>
#include <stdio.h>

#include "test.h"
#include "core/conf.h"
#include "guard/dialplan.h"

static const struct dp_numbering uk = {"00", "0", "44"};
static const struct dp_numbering plain = {"00", "0", ""};
static const struct dp_numbering nanp = {"011", "1", "1"};

struct ncase {
	const char *user, *params;
	const struct dp_numbering *nb;
	enum dp_kind kind;
	const char *s;  /* normalised (number kinds) */
	const char *cc; /* country code ("" none) */
};

static const struct ncase ncases[] = {
	{"02079460000", "", &uk, DP_NATIONAL, "+442079460000", "44"},
	{"0044-20-7946-0000", "", &uk, DP_NATIONAL, "+442079460000", "44"},
	{"+44(0)20", "", &uk, DP_NATIONAL, "+44020", "44"},
	{"+1 (212) 555.1234", "", &uk, DP_INTERNATIONAL, "+12125551234", "1"},
	{"%2B4930123", "", &uk, DP_INTERNATIONAL, "+4930123", "49"},
	{"%2b49%2030", "", &uk, DP_INTERNATIONAL, "+4930", "49"},
	{"00353123456", "", &uk, DP_INTERNATIONAL, "+353123456", "353"},
	{"0090123", "", &uk, DP_INTERNATIONAL, "+90123", "90"},
	{"00420123", "", &uk, DP_INTERNATIONAL, "+420123", "420"},
	{"0800-123", "", &uk, DP_NATIONAL, "+44800123", "44"},
	{"112", "", &uk, DP_SHORT, "112", ""},
	{"*72#", "", &uk, DP_SHORT, "*72#", ""},
	{"1001", "", &uk, DP_SHORT, "1001", ""},
	{"0", "", &uk, DP_SHORT, "0", ""},
	{"00", "", &uk, DP_INVALID, "", ""},
	{"000", "", &uk, DP_INVALID, "", ""},
	{"+0123", "", &uk, DP_INVALID, "", ""},
	{"alice", "", &uk, DP_NAME, "", ""},
	{"%41lice", "", &uk, DP_NAME, "", ""},
	{"0900a", "", &uk, DP_NAME, "", ""},
	{"", "", &uk, DP_NAME, "", ""},
	{"+", "", &uk, DP_INVALID, "", ""},
	{"--", "", &uk, DP_INVALID, "", ""},
	{"12+34", "", &uk, DP_INVALID, "", ""},
	{"++44", "", &uk, DP_INVALID, "", ""},
	{"+44*12", "", &uk, DP_INVALID, "", ""},
	{"00*12", "", &uk, DP_INVALID, "", ""},
	{"123456789012345678901234567890123", "", &uk, DP_INVALID, "", ""},
	{"12345678901234567890123456789012", "", &uk, DP_SHORT,
	 "12345678901234567890123456789012", ""},
	{"0012345678901234567890123456789012", "", &uk, DP_INVALID, "", ""},
	{"7042;phone-context=+1212", "", &uk, DP_INTERNATIONAL, "+12127042",
	 "1"},
	{"7042;PHONE-CONTEXT=+44-20", "", &uk, DP_NATIONAL, "+44207042", "44"},
	{"7042;phone-context=example.com", "", &uk, DP_SHORT, "7042", ""},
	{"7042", ";phone-context=+1-212", &uk, DP_INTERNATIONAL, "+12127042",
	 "1"},
	{"+33123;phone-context=+1212", "", &uk, DP_INTERNATIONAL, "+33123",
	 "33"},
	{"02079460000", "", &plain, DP_SHORT, "02079460000", ""},
	{"0044207", "", &plain, DP_INTERNATIONAL, "+44207", "44"},
	{"01144207", "", &nanp, DP_INTERNATIONAL, "+44207", "44"},
	{"12125551234", "", &nanp, DP_NATIONAL, "+12125551234", "1"},
	{"+79161234567", "", &nanp, DP_INTERNATIONAL, "+79161234567", "7"},
};

static void test_normalise_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ncases) / sizeof(ncases[0]); i++) {
		const struct ncase *c = &ncases[i];
		struct dp_number n;

		dp_normalise(&n, str_cstr(c->user), str_cstr(c->params), c->nb);
		if (n.kind != c->kind)
			fail_msg("'%s': kind %s, want %s", c->user,
				 dp_kind_name(n.kind), dp_kind_name(c->kind));
		if (c->kind < DP_SHORT)
			continue;
		if (strcmp(n.s, c->s) != 0 || n.len != strlen(c->s))
			fail_msg("'%s': '%s', want '%s'", c->user, n.s, c->s);
		if (strcmp(n.cc, c->cc) != 0)
			fail_msg("'%s': cc '%s', want '%s'", c->user, n.cc,
				 c->cc);
	}
}

static void test_dialled_kept(void **state)
{
	struct dp_number n;

	(void)state;
	dp_normalise(&n, STR("00-44-999"), STR_NULL, &uk);
	assert_string_equal(n.dialled, "0044999");
	assert_string_equal(n.s, "+44999");
	assert_string_equal(dp_kind_name(DP_INTERNATIONAL), "international");
	assert_string_equal(dp_kind_name((enum dp_kind)99), "?");
}

static void test_country_codes(void **state)
{
	static const char *const t[][2] = {
		{"12125551234", "1"}, {"79161234567", "7"}, {"20123", "20"},
		{"212600", "212"},    {"27123", "27"},      {"31123", "31"},
		{"35312", "353"},     {"36123", "36"},      {"37012", "370"},
		{"4420", "44"},       {"42012", "420"},     {"49301", "49"},
		{"55119", "55"},      {"59012", "590"},     {"61212", "61"},
		{"67012", "670"},     {"81312", "81"},      {"85212", "852"},
		{"86101", "86"},      {"88212", "882"},     {"90212", "90"},
		{"96612", "966"},     {"98212", "98"},      {"4", "4"},
		{"42", "42"},
	};
	char cc[DP_CC_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		dp_country_code(t[i][0], strlen(t[i][0]), cc);
		if (strcmp(cc, t[i][1]) != 0)
			fail_msg("%s: cc %s, want %s", t[i][0], cc, t[i][1]);
	}
	assert_int_equal(dp_country_code("", 0, cc), 0);
	assert_string_equal(cc, "");
}

static void test_emergency_list(void **state)
{
	static const char list[][16] = {"112", "999", "+44999", "000"};
	struct dp_number n;

	(void)state;
	dp_normalise(&n, STR("112"), STR_NULL, &uk);
	assert_true(dp_in_list(&n, list, 3));
	dp_normalise(&n, STR("1-1-2"), STR_NULL, &uk);
	assert_true(dp_in_list(&n, list, 3));
	dp_normalise(&n, STR("1120"), STR_NULL, &uk);
	assert_false(dp_in_list(&n, list, 3));
	dp_normalise(&n, STR("0999"), STR_NULL, &uk); /* +44999 */
	assert_true(dp_in_list(&n, list, 3));
	dp_normalise(&n, STR("11"), STR_NULL, &uk);
	assert_false(dp_in_list(&n, list, 3));
	dp_normalise(&n, STR("x112"), STR_NULL, &uk);
	assert_false(dp_in_list(&n, list, 3));
	dp_normalise(&n, STR("000"), STR_NULL, &uk); /* invalid as +0 */
	assert_int_equal(n.kind, DP_INVALID);
	assert_true(dp_in_list(&n, list, 4));
}

/* ---------------------------------------------------------------- rules */

static const char *const zones[] = {"internet", "branch", "pbx"};
static const char *const classes[] = {"local", "world"};
static const struct dp_names names = {zones, 3, classes, 2};

static void rule(struct sg_conf_dial_rule *r, const char *name, int action,
		 const char *prefix, const char *regex, const char *cls,
		 const char *zone)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->action = action;
	if (prefix) {
		snprintf(r->prefixes[0], sizeof(r->prefixes[0]), "%s", prefix);
		r->n_prefixes = 1;
	}
	if (regex)
		snprintf(r->regex, sizeof(r->regex), "%s", regex);
	if (cls) {
		snprintf(r->classes[0], sizeof(r->classes[0]), "%s", cls);
		r->n_classes = 1;
	}
	if (zone) {
		snprintf(r->zones[0], sizeof(r->zones[0]), "%s", zone);
		r->n_zones = 1;
	}
}

static struct sg_conf_dial_rule rules[6];

static void make_rules(void)
{
	rule(&rules[0], "premium", CONF_DIAL_DENY, "+449", "^\\+4487", NULL,
	     NULL);
	rule(&rules[1], "branch-no-mobile", CONF_DIAL_DENY, "+447", NULL, NULL,
	     "branch");
	rule(&rules[2], "national", CONF_DIAL_ALLOW, "+44", NULL, NULL, NULL);
	rule(&rules[3], "", CONF_DIAL_ALLOW, "+", NULL, "world", NULL);
	rule(&rules[4], "extensions", CONF_DIAL_ALLOW, NULL, "^[0-9]{2,5}$",
	     NULL, NULL);
	rule(&rules[5], "stars", CONF_DIAL_DENY, "*", NULL, NULL, NULL);
}

static int match(const struct dp_rules *rs, const char *num, unsigned cls,
		 unsigned zone, bool *allow, const char **name)
{
	struct dp_number n;

	dp_normalise(&n, str_cstr(num), STR_NULL, &uk);
	return dp_rules_match(rs, &n, cls, zone, allow, name);
}

static void test_rules_order_and_filters(void **state)
{
	static const struct {
		const char *num;
		unsigned cls, zone;
		int idx;
		bool allow;
	} t[] = {
		{"09001234", 0, 0, 0, false}, /* premium prefix */
		{"08712345", 1, 0, 0, false}, /* premium regex */
		{"07700900", 0, 0, 2, true},  /* mobile: national */
		{"07700900", 0, 1, 1, false}, /* ... not from branch */
		{"02079460", 0, 1, 2, true},
		{"0049301", 0, 0, -1, false}, /* local: nothing matches */
		{"0049301", 1, 0, 3, true},   /* world */
		{"1001", 0, 2, 4, true},
		{"123456", 0, 0, -1, false},
		{"*72", 1, 0, 5, false},
	};
	struct dp_rules *rs = NULL;
	const char *name;
	char err[160];
	bool allow;
	size_t i;
	int idx;

	(void)state;
	make_rules();
	assert_int_equal(dp_rules_new(&rs, rules, 6, &names, err, sizeof(err)),
			 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		allow = !t[i].allow;
		idx = match(rs, t[i].num, t[i].cls, t[i].zone, &allow, &name);
		if (idx != t[i].idx)
			fail_msg("%s cls %u zone %u: rule %d, want %d",
				 t[i].num, t[i].cls, t[i].zone, idx, t[i].idx);
		if (idx >= 0 && allow != t[i].allow)
			fail_msg("%s: wrong action", t[i].num);
	}
	(void)match(rs, "0049301", 1, 0, &allow, &name);
	assert_string_equal(name, "rule 3");
	(void)match(rs, "0900", 0, 0, &allow, &name);
	assert_string_equal(name, "premium");
	dp_rules_free(rs);
	dp_rules_free(NULL);
	assert_int_equal(dp_rules_match(NULL, NULL, 0, 0, &allow, &name), -1);
	assert_no_leaks();
}

static void test_rules_errors(void **state)
{
	struct sg_conf_dial_rule r[1];
	struct dp_rules *rs = NULL;
	char err[160] = "";

	(void)state;
	rule(&r[0], "bad", CONF_DIAL_DENY, NULL, "^(+44", NULL, NULL);
	assert_int_equal(dp_rules_new(&rs, r, 1, &names, err, sizeof(err)),
			 -EINVAL);
	assert_null(rs);
	assert_non_null(strstr(err, "bad"));
	rule(&r[0], "z", CONF_DIAL_DENY, "+1", NULL, NULL, "nowhere");
	assert_int_equal(dp_rules_new(&rs, r, 1, &names, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "nowhere"));
	rule(&r[0], "c", CONF_DIAL_DENY, "+1", NULL, "nobody", NULL);
	assert_int_equal(dp_rules_new(&rs, r, 1, &names, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(dp_rules_new(&rs, r, DP_MAX_RULES + 1, &names, err,
				      sizeof(err)),
			 -EINVAL);
	assert_no_leaks();
}

/* A regex that backtracks hard hits the match limit: a deny rule then
 * counts as matched (fail closed), an allow rule as not matched. */
static void test_regex_limit_fails_closed(void **state)
{
	struct sg_conf_dial_rule r[2];
	struct dp_rules *rs = NULL;
	const char *name;
	char err[160];
	bool allow;

	(void)state;
	rule(&r[0], "slow-allow", CONF_DIAL_ALLOW, NULL, "^(\\d+)+\\D", NULL,
	     NULL);
	rule(&r[1], "slow-deny", CONF_DIAL_DENY, NULL, "^(\\d+)+\\D", NULL,
	     NULL);
	assert_int_equal(dp_rules_new(&rs, r, 2, &names, err, sizeof(err)), 0);
	assert_int_equal(match(rs, "1234567890123456789012345678901", 0, 0,
			       &allow, &name),
			 1);
	assert_false(allow);
	dp_rules_free(rs);
	assert_no_leaks();
}

static void test_rules_alloc_failures(void **state)
{
	struct dp_rules *rs = NULL;
	char err[160];
	size_t n;
	int rc;

	(void)state;
	make_rules();
	for (n = 1; n < 200; n++) {
		mem_fail_nth(n);
		rc = dp_rules_new(&rs, rules, 6, &names, err, sizeof(err));
		mem_fail_nth(0);
		if (rc == 0) {
			dp_rules_free(rs);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_null(rs);
		assert_no_leaks();
	}
	assert_true(n > 1 && n < 200);
	assert_no_leaks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise_table),
		cmocka_unit_test(test_dialled_kept),
		cmocka_unit_test(test_country_codes),
		cmocka_unit_test(test_emergency_list),
		cmocka_unit_test(test_rules_order_and_filters),
		cmocka_unit_test(test_rules_errors),
		cmocka_unit_test(test_regex_limit_fails_closed),
		cmocka_unit_test(test_rules_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
