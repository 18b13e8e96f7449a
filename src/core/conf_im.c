/*
 * conf_im.c - the `guard.im` and `guard.presence` sections of
 * sipguard's configuration: IM content security (MESSAGE bodies: types,
 * sizes, URL and text filters; RFC 3428) and presence privacy (event
 * packages, harvesting, PIDF scrubbing; RFC 3856, RFC 3863, RFC 6665).
 * conf_guard.c links them into the guard section.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "core/conf_int.h"

#define RL CONF_RELOAD

static const struct conf_enum im_dirs[] = {
	{"off", CONF_IM_OFF},
	{"untrusted", CONF_IM_UNTRUSTED},
	{"both", CONF_IM_BOTH},
	{NULL, 0},
};

/* "type/subtype" of tokens; the subtype may be "*". */
static int check_mime(const char *s, char *why, size_t whysz)
{
	const char *slash = strchr(s, '/');
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] <= ' ' || s[i] == ';' || s[i] == ',' || s[i] > '~')
			break;
	if (!slash || slash == s || !slash[1] || s[i] ||
	    strchr(slash + 1, '/')) {
		snprintf(why, whysz, "'%s' is not a type/subtype", s);
		return -EINVAL;
	}
	return 0;
}

/* A PCRE2 pattern that compiles (the guard compiles it again, with the
 * same options: UTF, invalid UTF in the text never matches). */
static int check_regex(const char *s, char *why, size_t whysz)
{
	return conf__check_regex(s, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, why,
				 whysz);
}

/* A domain or IP address for guard.im.deny_domains. */
static int check_domain(const char *s, char *why, size_t whysz)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '.' || s[i] == ':' || s[i] == '_' ||
		      (unsigned char)s[i] >= 0x80))
			break;
	if (!i || s[i] || s[0] == '.') {
		snprintf(why, whysz, "'%s' is not a domain name or address", s);
		return -EINVAL;
	}
	return 0;
}

/* An event package name (RFC 6665 8.4: token, '.' for templates). */
static int check_package(const char *s, char *why, size_t whysz)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') ||
		      strchr("-.!%*_+`'~", s[i])))
			break;
	if (!i || s[i]) {
		snprintf(why, whysz, "'%s' is not an event package name", s);
		return -EINVAL;
	}
	return 0;
}

#define IM struct sg_conf_im
static const struct conf_opt im_opts[] = {
	CONF_OPT_ENUM(IM, direction, "untrusted", im_dirs, RL,
		      "Which MESSAGEs are checked: `untrusted` (from untrusted "
		      "zones), `both` (from every zone) or `off`."),
	CONF_OPT_STRLIST(IM, zones, 0, NULL, RL,
			 "Zones (by name) whose MESSAGEs are checked, instead "
			 "of what direction says; empty: direction decides."),
	CONF_OPT_STRLIST(IM, content_types, 0, check_mime, RL,
			 "Allowed content types (`type/subtype`, `type/*`), "
			 "checked at every depth (multipart parts, the type "
			 "inside message/cpim); empty: text/plain, "
			 "message/cpim, application/im-iscomposing+xml, "
			 "message/imdn+xml, multipart/mixed, "
			 "multipart/alternative. Others: 415 (rule im-type)."),
	CONF_OPT_SIZE(IM, max_size, "4k", 0, 65535, RL,
		      "Largest MESSAGE body; larger: 413 (rule im-size). "
		      "0: no limit."),
	CONF_OPT_INT(IM, per_source, "60", 0, 1000000, RL,
		     "MESSAGEs per rate_window from one untrusted source (IPv4 "
		     "address or IPv6 /64); over: 403 (rule im-rate-source). "
		     "0: off."),
	CONF_OPT_INT(IM, per_user, "60", 0, 1000000, RL,
		     "MESSAGEs per rate_window from one sender (From "
		     "user@host), any source; over: 403 (rule im-rate-user). "
		     "0: off."),
	CONF_OPT_DURATION(IM, rate_window, "1m", 1000, 86400000, RL,
			  "Window of the MESSAGE rates."),
	CONF_OPT_BOOL(IM, block_files, "true", RL,
		      "Refuse executable and file-transfer content "
		      "(application/octet-stream, application/x-msdownload, "
		      "archives, message/external-body, attachments) at any "
		      "depth: 415 (rule im-file)."),
	CONF_OPT_STRLIST(IM, deny_regex, 0, check_regex, RL,
			 "PCRE2 regular expressions; a match in the text "
			 "(or a match over its work limit): 403 (rule "
			 "im-regex). Use (?i) for case-insensitive."),
	CONF_OPT_STRLIST(IM, deny_domains, 0, check_domain, RL,
			 "Domains (and addresses): a URL in the text whose "
			 "host is one of them or a subdomain: 403 (rule "
			 "im-url)."),
	CONF_OPT_STRLIST(IM, deny_keywords, 0, NULL, RL,
			 "Keywords, matched case-insensitively (ASCII) "
			 "anywhere in the text: 403 (rule im-keyword)."),
	CONF_OPT_INT(IM, table_size, "4096", 16, 4194304, 0,
		     "Sources and senders tracked for the rates (fixed "
		     "memory; the least recently seen is recycled)."),
	CONF_OPT_END,
};
#undef IM

const struct conf_section conf__im_sec = {
	.name = "guard.im",
	.size = sizeof(struct sg_conf_im),
	.opts = im_opts,
	.help = "IM content security for SIP MESSAGE (RFC 3428).",
};

#define PRES struct sg_conf_presence
static const struct conf_opt presence_opts[] = {
	CONF_OPT_BOOL(PRES, enabled, "true", RL,
		      "Apply the event package policy to SUBSCRIBE, PUBLISH "
		      "and NOTIFY from untrusted zones (403, event "
		      "presence-denied)."),
	CONF_OPT_STRLIST(PRES, zones, 0, NULL, RL,
			 "Zones (by name) the package policy and harvesting "
			 "apply to; empty: every untrusted zone."),
	CONF_OPT_STRLIST(PRES, subscribe, 0, check_package, RL,
			 "Packages an untrusted zone may SUBSCRIBE to for "
			 "any user; empty: refer, conference, ua-profile, "
			 "as-feature-event, kpml. `[none]`: none. presence "
			 "and dialog are not in it: refused by default."),
	CONF_OPT_STRLIST(PRES, subscribe_self, 0, check_package, RL,
			 "Packages it may SUBSCRIBE to for its own AOR only "
			 "(From user = To user); empty: message-summary, reg, "
			 "presence.winfo. `[none]`: none."),
	CONF_OPT_STRLIST(PRES, publish, 0, check_package, RL,
			 "Packages it may PUBLISH, for its own presentity "
			 "only; empty: presence. `[none]`: none."),
	CONF_OPT_STRLIST(PRES, notify, 0, check_package, RL,
			 "Packages it may NOTIFY, inside a dialog only; empty: "
			 "refer, dialog, presence, message-summary, "
			 "conference, kpml, as-feature-event. `[none]`: none."),
	CONF_OPT_INT(PRES, harvest_users, "20", 0, 1000, RL,
		     "Distinct users one untrusted source may SUBSCRIBE to "
		     "per harvest_window (estimated, up to two windows); "
		     "over: 403 (rule presence-harvest). 0: off."),
	CONF_OPT_DURATION(PRES, harvest_window, "1m", 1000, 86400000, RL,
			  "Window of the harvesting count."),
	CONF_OPT_INT(PRES, table_size, "4096", 16, 4194304, 0,
		     "Sources tracked for harvesting (fixed memory)."),
	CONF_OPT_BOOL(PRES, scrub_notes, "true", RL,
		      "Remove <note> from PIDF bodies of NOTIFYs leaving the "
		      "trusted zone for an untrusted one."),
	CONF_OPT_BOOL(PRES, scrub_geo, "true", RL,
		      "Remove geolocation (geopriv, location-info, RPID "
		      "place and time-offset) from those bodies."),
	CONF_OPT_BOOL(PRES, scrub_devices, "true", RL,
		      "Remove device identifiers (<device>, <deviceID>)."),
	CONF_OPT_BOOL(PRES, scrub_contacts, "true", RL,
		      "Remove <contact> URIs (they name devices and "
		      "internal addresses). With any scrub_* on, a presence "
		      "body that cannot be read safely is removed (rule "
		      "presence-scrub-unsafe)."),
	CONF_OPT_END,
};
#undef PRES

const struct conf_section conf__presence_sec = {
	.name = "guard.presence",
	.size = sizeof(struct sg_conf_presence),
	.opts = presence_opts,
	.help = "Presence privacy: event package policy, harvesting, "
		"PIDF scrubbing.",
};
