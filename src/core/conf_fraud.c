/*
 * conf_fraud.c - the `fraud` section of sipguard's configuration: toll
 * fraud policy (dial rules per user class and zone, call limits, anomaly
 * rules), and the checks that span it and the zones.
 *
 * Kept out of conf_opts.c so that the section is one self-contained
 * table; conf_opts.c only links it into the root and calls
 * conf__check_fraud() from its root check.  The semantics live in
 * src/guard/dialplan.c and src/guard/fraud.c; docs/fraud.md explains
 * them for an administrator.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "core/conf_int.h"

/* Every fraud option is applied on reload: guard_reconf() builds the new
 * policy and carries the counters over (fraud_adopt()). */
#define RL CONF_RELOAD

static const struct conf_enum dial_actions[] = {
	{"allow", CONF_DIAL_ALLOW},
	{"deny", CONF_DIAL_DENY},
	{NULL, 0},
};

static const struct conf_enum fraud_actions[] = {
	{"alert", CONF_FRAUD_ALERT},
	{"throttle", CONF_FRAUD_THROTTLE},
	{"block", CONF_FRAUD_BLOCK},
	{NULL, 0},
};

static int fail(char *why, size_t whysz, const char *msg)
{
	snprintf(why, whysz, "%s", msg);
	return -EINVAL;
}

/* A prefix in normalised form: optional '+', then digits, '*', '#'. */
static int check_prefix(const char *s, char *why, size_t whysz)
{
	const char *p = s[0] == '+' ? s + 1 : s;

	if (!*s)
		return fail(why, whysz, "empty prefix");
	for (; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '*' || *p == '#'))
			return fail(why, whysz,
				    "a prefix is written normalised: '+', "
				    "then digits, '*' or '#' (\"+44900\", "
				    "\"112\")");
	return 0;
}

/* Dialling codes: digits only (may be empty: not used). */
static int check_digits(const char *s, char *why, size_t whysz)
{
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return fail(why, whysz, "digits only");
	return 0;
}

static int check_emergency(const char *s, char *why, size_t whysz)
{
	if (strcmp(s, "+") == 0)
		return fail(why, whysz, "'+' is no number");
	return check_prefix(s, why, whysz);
}

/* The regex must compile (PCRE2, default options as dialplan.c
 * compiles it); the error names the offset. */
static int check_regex(const char *s, char *why, size_t whysz)
{
	return conf__check_regex(s, 0, why, whysz);
}

/* A user name: printable ASCII without white space, or "*". */
static int check_user(const char *s, char *why, size_t whysz)
{
	for (; *s; s++)
		if (*s <= ' ' || *s == 0x7f)
			return fail(why, whysz,
				    "no white space or control characters");
	return 0;
}

#define RULE struct sg_conf_dial_rule
static const struct conf_opt rule_opts[] = {
	CONF_OPT_STRING(RULE, name, "", 0, NULL, RL,
			"Name of the rule, given in events (`reason`)."),
	CONF_OPT_ENUM(RULE, action, NULL, dial_actions, CONF_REQUIRED | RL,
		      "`allow` or `deny` a number this rule matches."),
	CONF_OPT_STRLIST(RULE, prefixes, 0, check_prefix, RL,
			 "Normalised number prefixes (`+44900`, `+88`, "
			 "`+`: every number in international form)."),
	CONF_OPT_STRING(RULE, regex, "", 0, check_regex, RL,
			"PCRE2 regular expression on the normalised number "
			"(anchor it: `^\\\\+44(9|87)`)."),
	CONF_OPT_STRLIST(RULE, classes, 0, NULL, RL,
			 "Classes the rule applies to; empty: every class."),
	CONF_OPT_STRLIST(RULE, zones, 0, NULL, RL,
			 "Zones the rule applies in; empty: every zone."),
	CONF_OPT_END,
};
#undef RULE

static int check_rule(struct conf_ctx *c, const void *obj)
{
	const struct sg_conf_dial_rule *r = obj;

	if (!r->n_prefixes && !r->regex[0])
		return conf_fail(c, "", "a rule needs prefixes or a regex");
	return 0;
}

static const struct conf_section rule_sec = {
	.name = "fraud.dial_rules[]",
	.size = sizeof(struct sg_conf_dial_rule),
	.opts = rule_opts,
	.check = check_rule,
	.help = "One dial rule. For a call, the rules of the caller's class "
		"and zone are tried in order; the first whose prefixes or "
		"regex match the normalised number decides (both given: either "
		"matches).",
};

#define CL struct sg_conf_fraud_class
static const struct conf_opt class_opts[] = {
	CONF_OPT_STRING(CL, name, NULL, 1, NULL, CONF_REQUIRED | RL,
			"Unique name of the class."),
	CONF_OPT_ENUM(CL, otherwise, "deny", dial_actions, RL,
		      "What happens to a number no rule matches."),
	CONF_OPT_ENUM(CL, names, "allow", dial_actions, RL,
		      "Targets that are names, not numbers (`sip:alice@`)."),
	CONF_OPT_INT(CL, max_concurrent, "0", 0, 100000, RL,
		     "Calls one user may have up at once; 0: no limit. With "
		     "`store: redis` every "
		     "call limit of a class and of `per_source` holds across "
		     "instances (docs/fraud.md): "
		     "one call per other instance may pass within one Redis "
		     "round trip."),
	CONF_OPT_INT(CL, calls_per_second, "0", 0, 100000, RL,
		     "New calls per second of one user; 0: no limit. Across "
		     "instances: Redis' one-second sliding window."),
	CONF_OPT_INT(CL, calls_per_minute, "0", 0, 1000000, RL,
		     "New calls per minute of one user; 0: no limit. Across "
		     "instances: Redis' one-minute sliding window."),
	CONF_OPT_INT(CL, calls_per_country_per_hour, "0", 0, 1000000, RL,
		     "Calls per hour of one user to one foreign country "
		     "code; 0: no limit. Across instances: Redis' one-hour "
		     "sliding window."),
	CONF_OPT_DURATION(CL, max_call_duration, "0", 0, 604800000LL, RL,
			  "Longest call (from the INVITE); ended with a BYE to "
			  "both sides. 0: sip.max_call_duration only."),
	CONF_OPT_END,
};
#undef CL

static const struct conf_section class_sec = {
	.name = "fraud.classes[]",
	.size = sizeof(struct sg_conf_fraud_class),
	.opts = class_opts,
	.help = "A user class: what its members may dial (`otherwise`, "
		"`names` and the dial rules naming it) and call limits.",
};

#define US struct sg_conf_fraud_user
static const struct conf_opt user_opts[] = {
	CONF_OPT_STRING(US, user, NULL, 1, check_user, CONF_REQUIRED | RL,
			"User name (authenticated user, else the From user); "
			"`*`: everyone in `zone`."),
	CONF_OPT_STRING(US, class, NULL, 1, NULL, CONF_REQUIRED | RL,
			"Class of the user."),
	CONF_OPT_STRING(US, zone, "", 0, NULL, RL,
			"Only in this zone; empty: every zone."),
	CONF_OPT_END,
};
#undef US

static const struct conf_section user_sec = {
	.name = "fraud.users[]",
	.size = sizeof(struct sg_conf_fraud_user),
	.opts = user_opts,
	.help = "Maps a user to a class. Most specific first: user in zone, "
		"user, `*` in zone, then `default_class`.",
};

#define SRC struct sg_conf_fraud_source
static const struct conf_opt source_opts[] = {
	CONF_OPT_INT(SRC, max_concurrent, "0", 0, 1000000, RL,
		     "Calls up at once from one source address; 0: off. With "
		     "`store: redis` the "
		     "three source limits hold across instances "
		     "(docs/fraud.md)."),
	CONF_OPT_INT(SRC, calls_per_second, "0", 0, 100000, RL,
		     "New calls per second from one source; 0: off."),
	CONF_OPT_INT(SRC, calls_per_minute, "0", 0, 1000000, RL,
		     "New calls per minute from one source; 0: off."),
	CONF_OPT_END,
};
#undef SRC

static const struct conf_section source_sec = {
	.name = "fraud.per_source",
	.size = sizeof(struct sg_conf_fraud_source),
	.opts = source_opts,
	.help = "Call limits per source (IPv4 address or IPv6 /64), all "
		"users together.",
};

#define SH struct sg_conf_fraud_short
static const struct conf_opt short_opts[] = {
	CONF_OPT_INT(SH, count, "0", 0, 100000, RL,
		     "More than this many short international calls of one "
		     "user within `window` raise fraud-suspected; 0: off."),
	CONF_OPT_DURATION(SH, shorter_than, "20s", 1000, 3600000, RL,
			  "A call is short under this talk time (unanswered "
			  "attempts count as 0)."),
	CONF_OPT_DURATION(SH, window, "10m", 1000, 86400000, RL,
			  "Window of the count."),
	CONF_OPT_ENUM(SH, action, "block", fraud_actions, RL,
		      "`alert`, `throttle` or `block` the user."),
	CONF_OPT_END,
};
#undef SH

static const struct conf_section short_sec = {
	.name = "fraud.anomaly.short_calls",
	.size = sizeof(struct sg_conf_fraud_short),
	.opts = short_opts,
	.help = "A burst of short international calls (rule "
		"fraud-short-calls).",
};

#define HR struct sg_conf_fraud_hours
static const struct conf_opt hours_opts[] = {
	CONF_OPT_INT(HR, after_calls, "0", 0, 1000000, RL,
		     "Judge hours once a user has made this many calls "
		     "(learning); 0: off."),
	CONF_OPT_INT(HR, rare_percent, "1", 0, 100, RL,
		     "A call is at an unusual hour when fewer than this "
		     "percent of the user's calls fell within an hour of it."),
	CONF_OPT_ENUM(HR, action, "alert", fraud_actions, RL,
		      "`alert`, `throttle` or `block`."),
	CONF_OPT_END,
};
#undef HR

static const struct conf_section hours_sec = {
	.name = "fraud.anomaly.odd_hours",
	.size = sizeof(struct sg_conf_fraud_hours),
	.opts = hours_opts,
	.help = "Calls at hours outside the user's learned pattern (rule "
		"fraud-odd-hours).",
};

#define BL struct sg_conf_fraud_baseline
static const struct conf_opt baseline_opts[] = {
	CONF_OPT_INT(BL, factor, "0", 0, 1000, RL,
		     "Today's calls above factor x the learned daily average "
		     "raise fraud-suspected; 0: off."),
	CONF_OPT_INT(BL, min_days, "7", 1, 365, RL,
		     "Days of history before judging."),
	CONF_OPT_INT(BL, min_calls, "20", 1, 1000000, RL,
		     "Never raise below this many calls in a day."),
	CONF_OPT_ENUM(BL, action, "throttle", fraud_actions, RL,
		      "`alert`, `throttle` or `block`."),
	CONF_OPT_END,
};
#undef BL

static const struct conf_section baseline_sec = {
	.name = "fraud.anomaly.baseline",
	.size = sizeof(struct sg_conf_fraud_baseline),
	.opts = baseline_opts,
	.help = "A sudden rise over the user's learned daily call count "
		"(rule fraud-baseline).",
};

#define AN struct sg_conf_fraud_anomaly
static const struct conf_opt anomaly_opts[] = {
	CONF_OPT_SECTION(AN, short_calls, short_sec, 0, "Short calls."),
	CONF_OPT_SECTION(AN, odd_hours, hours_sec, 0, "Unusual hours."),
	CONF_OPT_SECTION(AN, baseline, baseline_sec, 0, "Daily baseline."),
	CONF_OPT_INT(AN, throttle_calls_per_minute, "1", 0, 10000, RL,
		     "A throttled user may make this many calls a minute."),
	CONF_OPT_DURATION(AN, throttle_time, "1h", 1000, 2592000000LL, RL,
			  "How long a user stays throttled."),
	CONF_OPT_DURATION(AN, block_time, "4h", 1000, 2592000000LL, RL,
			  "How long a user stays blocked (emergency calls "
			  "still pass)."),
	CONF_OPT_INT(AN, utc_offset, "0", -720, 840, RL,
		     "Minutes east of UTC of the users' local time, for "
		     "hours of the day and day boundaries."),
	CONF_OPT_END,
};
#undef AN

static const struct conf_section anomaly_sec = {
	.name = "fraud.anomaly",
	.size = sizeof(struct sg_conf_fraud_anomaly),
	.opts = anomaly_opts,
	.help = "Anomaly rules on learned per-user behaviour; each raises "
		"fraud-suspected and applies its action.",
};

#define FR struct sg_conf_fraud
static const struct conf_opt fraud_opts[] = {
	CONF_OPT_STRLIST(FR, zones, 0, NULL, RL,
			 "Zones whose new calls are checked; empty: every "
			 "untrusted zone."),
	CONF_OPT_STRING(FR, reason, "Forbidden - call not allowed", 1, NULL, RL,
			"Reason phrase of the 403 refusing a call."),
	CONF_OPT_STRLIST(FR, emergency, 0, check_emergency, RL,
			 "Emergency numbers, always allowed (exact match, "
			 "dialled or normalised); empty: 112, 911, 999, 000, "
			 "110, 118, 119, 15, 17, 18."),
	CONF_OPT_STRING(FR, international_prefix, "00", 0, check_digits, RL,
			"Dialled prefix for international calls (`00`, "
			"`011`); replaced by `+`."),
	CONF_OPT_STRING(FR, national_prefix, "0", 0, check_digits, RL,
			"Trunk prefix of national numbers; with "
			"`country_code` replaced by `+CC`."),
	CONF_OPT_STRING(FR, country_code, "", 0, check_digits, RL,
			"Our country code (`44`); empty: national numbers "
			"stay as dialled, every `+` number is foreign."),
	CONF_OPT_STRING(FR, default_class, "", 0, NULL, RL,
			"Class of users no entry of `users` names; empty: "
			"the first class."),
	CONF_OPT_SECLIST(FR, classes, class_sec, 0, RL,
			 "User classes; none: toll-fraud checks are off."),
	CONF_OPT_SECLIST(FR, dial_rules, rule_sec, 0, RL,
			 "Ordered dial rules; the first that applies and "
			 "matches decides."),
	CONF_OPT_SECLIST(FR, users, user_sec, 0, RL, "User to class mapping."),
	CONF_OPT_SECTION(FR, per_source, source_sec, 0, "Per source."),
	CONF_OPT_SECTION(FR, anomaly, anomaly_sec, 0, "Anomaly rules."),
	CONF_OPT_INT(FR, max_users, "4096", 16, 1048576, 0,
		     "Users whose counters and learned behaviour are kept "
		     "(fixed table; the least recently seen is evicted)."),
	CONF_OPT_INT(FR, max_calls, "16384", 16, 1048576, 0,
		     "Calls tracked at once for the limits; over it new "
		     "calls are refused (503)."),
	CONF_OPT_END,
};
#undef FR

const struct conf_section conf__fraud_sec = {
	.name = "fraud",
	.size = sizeof(struct sg_conf_fraud),
	.opts = fraud_opts,
	.help = "Toll-fraud policy for new calls: dial rules per user class "
		"and zone, call limits, anomaly rules (docs/fraud.md).",
};

/* ------------------------------------------------------------- checks */

static bool zone_known(const struct sg_conf *cf, const char *name)
{
	size_t z;

	for (z = 0; z < cf->n_zones; z++)
		if (strcmp(cf->zones[z].name, name) == 0)
			return true;
	return false;
}

static bool class_known(const struct sg_conf_fraud *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n_classes; i++)
		if (strcmp(f->classes[i].name, name) == 0)
			return true;
	return false;
}

static int check_rules(struct conf_ctx *c, const struct sg_conf *cf)
{
	const struct sg_conf_fraud *f = &cf->fraud;
	char rel[96];
	size_t i, j;

	for (i = 0; i < f->n_classes; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(f->classes[j].name, f->classes[i].name)) {
				snprintf(rel, sizeof(rel),
					 "fraud.classes[%zu].name", i);
				return conf_fail(c, rel,
						 "class '%s' defined "
						 "twice",
						 f->classes[i].name);
			}
	for (i = 0; i < f->n_dial_rules; i++) {
		const struct sg_conf_dial_rule *r = &f->dial_rules[i];

		for (j = 0; j < r->n_zones; j++)
			if (!zone_known(cf, r->zones[j])) {
				snprintf(rel, sizeof(rel),
					 "fraud.dial_rules[%zu].zones[%zu]", i,
					 j);
				return conf_fail(c, rel, "no zone named '%s'",
						 r->zones[j]);
			}
		for (j = 0; j < r->n_classes; j++)
			if (!class_known(f, r->classes[j])) {
				snprintf(rel, sizeof(rel),
					 "fraud.dial_rules[%zu].classes[%zu]",
					 i, j);
				return conf_fail(c, rel, "no class named '%s'",
						 r->classes[j]);
			}
	}
	return 0;
}

int conf__check_fraud(struct conf_ctx *c, const struct sg_conf *cf)
{
	const struct sg_conf_fraud *f = &cf->fraud;
	char rel[64];
	size_t i;
	int rc;

	for (i = 0; i < f->n_zones; i++)
		if (!zone_known(cf, f->zones[i])) {
			snprintf(rel, sizeof(rel), "fraud.zones[%zu]", i);
			return conf_fail(c, rel, "no zone named '%s'",
					 f->zones[i]);
		}
	rc = check_rules(c, cf);
	if (rc)
		return rc;
	if (f->default_class[0] && !class_known(f, f->default_class))
		return conf_fail(c, "fraud.default_class",
				 "no class named "
				 "'%s'",
				 f->default_class);
	for (i = 0; i < f->n_users; i++) {
		if (!class_known(f, f->users[i].class)) {
			snprintf(rel, sizeof(rel), "fraud.users[%zu].class", i);
			return conf_fail(c, rel, "no class named '%s'",
					 f->users[i].class);
		}
		if (f->users[i].zone[0] && !zone_known(cf, f->users[i].zone)) {
			snprintf(rel, sizeof(rel), "fraud.users[%zu].zone", i);
			return conf_fail(c, rel, "no zone named '%s'",
					 f->users[i].zone);
		}
	}
	if (f->n_users && !f->n_classes)
		return conf_fail(c, "fraud.users",
				 "users map to classes, and "
				 "there are none");
	return 0;
}
