/*
 * conf_guard.c - the `guard` section of sipguard's configuration: the
 * security policy for untrusted zones (pre-parse gate, rate limits,
 * scanners, authentication, call state, registrations) and the table
 * that links its subsections.  The IM and presence subsections are in
 * conf_im.c.  The semantics live in src/guard/; conf_opts.c links the
 * section into the root.
 */
#include <stdlib.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "core/conf_int.h"

#define RL CONF_RELOAD

static const struct conf_enum auth_modes[] = {
	{"off", CONF_AUTH_OFF},
	{"local", CONF_AUTH_LOCAL},
	{"passthrough", CONF_AUTH_PASSTHROUGH},
	{NULL, 0},
};

/* A CIDR or address for guard.allow: syntax checked here, semantics
 * (host bits) by the gate when it starts. */
static int check_cidr(const char *s, char *why, size_t whysz)
{
	struct sg_addr a;
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long bits = 0;
	char *end = NULL;

	if (sg_addr_from_host(&a, str_make(s, n), 0) != 0) {
		snprintf(why, whysz, "'%s' is not an IPv4 or IPv6 address", s);
		return -EINVAL;
	}
	if (slash) {
		bits = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end ||
		    bits > (sg_addr_family(&a) == AF_INET6 ? 128u : 32u)) {
			snprintf(why, whysz, "'%s': bad prefix length", s);
			return -EINVAL;
		}
	}
	return 0;
}

#define GATE struct sg_conf_gate
static const struct conf_opt gate_opts[] = {
	CONF_OPT_INT(GATE, packets_per_second, "200", 0, 10000000, RL,
		     "Datagrams (and TCP reads) per second from one source "
		     "(IPv4 address or IPv6 /64) before parsing; 0: no limit. "
		     "Per instance, also with `store: redis`: it protects "
		     "this instance's own CPU (a ban it leads to is shared)."),
	CONF_OPT_INT(GATE, packet_burst, "400", 0, 100000000, RL,
		     "Datagrams one source may send at once; 0: the rate."),
	CONF_OPT_SIZE(GATE, bytes_per_second, "1m", 0, 1000000000, RL,
		      "Bytes per second from one source; 0: no limit. Per "
		      "instance, as packets_per_second."),
	CONF_OPT_DURATION(GATE, ban_time, "10m", 1000, 604800000, RL,
			  "First ban of a source."),
	CONF_OPT_DURATION(GATE, ban_max_time, "24h", 1000, 2592000000LL, RL,
			  "Longest ban; repeat offenders' bans grow to it."),
	CONF_OPT_INT(GATE, ban_factor, "4", 1, 1000, RL,
		     "Each repeat ban lasts this many times the previous."),
	CONF_OPT_INT(GATE, flood_drops, "2000", 0, 100000000, RL,
		     "A source whose packets the rate limit drops this many "
		     "times in one second is flooding: ban it (rule "
		     "gate-flood). 0: never."),
	CONF_OPT_END,
};
#undef GATE

static const struct conf_section gate_sec = {
	.name = "guard.gate",
	.size = sizeof(struct sg_conf_gate),
	.opts = gate_opts,
	.help = "Drop before parsing: bans and per-source token buckets.",
};

#define RATES struct sg_conf_rates
static const struct conf_opt rates_opts[] = {
	CONF_OPT_INT(RATES, invite, "20", 0, 1000000, RL,
		     "INVITEs per second from one untrusted source; 0: off. "
		     "With `store: redis` also counted across instances "
		     "(docs/store.md): over it there, the source is banned."),
	{.name = "register",
	 .type = CONF_T_INT,
	 .off = CONF__OFF(RATES, register_, int64_t),
	 .def = "30",
	 .min = 0,
	 .max = 1000000,
	 .flags = RL,
	 .help = "REGISTERs per second from one untrusted source; 0: off. "
		 "Across instances as `invite`."},
	CONF_OPT_INT(RATES, options, "20", 0, 1000000, RL,
		     "OPTIONS per second from one untrusted source; 0: off."),
	CONF_OPT_INT(
		RATES, subscribe, "100", 0, 1000000, RL,
		"SUBSCRIBEs per second from one untrusted source; 0: off."),
	CONF_OPT_INT(RATES, message, "20", 0, 1000000, RL,
		     "MESSAGEs per second from one untrusted source; 0: off."),
	CONF_OPT_INT(RATES, other, "100", 0, 1000000, RL,
		     "Other requests per second from one untrusted source."),
	CONF_OPT_INT(RATES, per_user, "100", 0, 1000000, RL,
		     "Requests to one target user per 10 s, all untrusted "
		     "sources together; 0: off."),
	CONF_OPT_END,
};
#undef RATES

static const struct conf_section rates_sec = {
	.name = "guard.rates",
	.size = sizeof(struct sg_conf_rates),
	.opts = rates_opts,
	.help = "Per-source request rate limits by method class.",
};

#define SCAN struct sg_conf_scanner
static const struct conf_opt scanner_opts[] = {
	CONF_OPT_BOOL(SCAN, fingerprints, "true", RL,
		      "Ban sources whose User-Agent matches a scanner "
		      "fingerprint."),
	CONF_OPT_BOOL(SCAN, structure, "true", RL,
		      "Ban sources whose messages are built like a known "
		      "scanner's, whatever their User-Agent."),
	CONF_OPT_STRING(SCAN, fingerprints_file, "", 0, NULL, 0,
			"Fingerprint list (one per line, '#' comments); "
			"empty: the built-in list."),
	CONF_OPT_INT(SCAN, distinct_users, "8", 0, 100000, RL,
		     "Distinct unknown users one source may try per 10 s "
		     "(extension enumeration); 0: off."),
	CONF_OPT_INT(SCAN, failures, "20", 0, 100000, RL,
		     "401/403/404 answers one source may collect per 60 s; "
		     "0: off."),
	CONF_OPT_END,
};
#undef SCAN

static const struct conf_section scanner_sec = {
	.name = "guard.scanner",
	.size = sizeof(struct sg_conf_scanner),
	.opts = scanner_opts,
	.help = "Scanner detection: fingerprints and behaviour.",
};

#define AUTH struct sg_conf_auth
static const struct conf_opt auth_opts[] = {
	CONF_OPT_ENUM(AUTH, mode, "passthrough", auth_modes, 0,
		      "off, local (sipguard challenges untrusted requests "
		      "against the credentials file), or passthrough (the PBX "
		      "authenticates; sipguard counts its answers)."),
	CONF_OPT_STRING(AUTH, realm, "", 0, NULL, 0,
			"Digest realm (local mode)."),
	CONF_OPT_STRING(
		AUTH, credentials, "", 0, NULL, RL,
		"Credentials file, lines user:realm:ha1-md5[:ha1-sha256] "
		"(local mode)."),
	CONF_OPT_BOOL(AUTH, md5, "true", 0, "Offer MD5 challenges."),
	CONF_OPT_BOOL(AUTH, sha256, "true", 0,
		      "Offer SHA-256 challenges (RFC 8760), first."),
	CONF_OPT_DURATION(AUTH, nonce_lifetime, "5m", 1000, 3600000, 0,
			  "How long a nonce is accepted."),
	CONF_OPT_INT(AUTH, max_failures_ip, "10", 1, 1000000, 0,
		     "Failures from one source in the window: ban it (unless "
		     "it authenticated recently). With `store: redis` also "
		     "counted across instances (docs/store.md)."),
	CONF_OPT_INT(AUTH, max_failures_user, "20", 1, 1000000, 0,
		     "Failures for one user from anywhere: lock the user. With "
		     "`store: redis` and `store.secret` (or password) also "
		     "counted across instances, the user named in Redis by a "
		     "keyed hash; an instance whose last count of the user "
		     "was half this or more locks it within about 250 ms of "
		     "the cluster reaching this, another at its next "
		     "failure for it (docs/store.md)."),
	CONF_OPT_INT(AUTH, max_failures_user_ip, "5", 1, 1000000, 0,
		     "Failures of one user from one source: drop that pair "
		     "(an office behind one NAT is not banned for it)."),
	CONF_OPT_DURATION(AUTH, failure_window, "10m", 1000, 86400000, 0,
			  "Window of the failure counters."),
	CONF_OPT_DURATION(AUTH, user_lock, "15m", 1000, 86400000, 0,
			  "How long a locked user stays locked."),
	CONF_OPT_DURATION(
		AUTH, known_good, "24h", 0, 2592000000LL, 0,
		"A source that authenticated is known-good this long."),
	CONF_OPT_END,
};
#undef AUTH

static const struct conf_section auth_sec = {
	.name = "guard.auth",
	.size = sizeof(struct sg_conf_auth),
	.opts = auth_opts,
	.help = "Authentication and brute-force protection.",
};

static const struct conf_enum dlg_actions[] = {
	{"drop", 0},
	{"reply", 1},
	{NULL, 0},
};

static const struct conf_enum dlg_rebinds[] = {
	{"never", CONF_REBIND_NEVER},
	{"same-ip", CONF_REBIND_SAME_IP},
	{"authenticated", CONF_REBIND_AUTHENTICATED},
	{"any", CONF_REBIND_ANY},
	{NULL, 0},
};

#define DLG struct sg_conf_dialog
static const struct conf_opt dialog_opts[] = {
	CONF_OPT_BOOL(DLG, enforce, "true", RL,
		      "Check every in-dialog request (BYE, re-INVITE, UPDATE, "
		      "INFO, REFER, NOTIFY, PRACK, MESSAGE, ACK) and CANCEL "
		      "against its dialog: Call-ID and tags, the party's "
		      "transport address, CSeq moving forward."),
	CONF_OPT_ENUM(
		DLG, action_untrusted, "drop", dlg_actions, RL,
		"What a forged request from an untrusted zone gets: "
		"drop (no answer) or reply (481). The trusted zone always "
		"gets 481."),
	CONF_OPT_ENUM(DLG, rebind, "same-ip", dlg_rebinds, RL,
		      "When an untrusted party's address may change mid-call: "
		      "never; same-ip (the port or TCP connection may change, "
		      "NAT rebinding); authenticated (same-ip, or any address "
		      "for a request carrying credentials sipguard verifies: "
		      "local auth mode, in-dialog requests from a new address "
		      "are challenged; in other modes like same-ip); any. "
		      "Every accepted change is a dialog-rebind event."),
	CONF_OPT_ENUM(DLG, rebind_trusted, "any", dlg_rebinds, RL,
		      "The same for a trusted party (a PBX cluster may answer "
		      "from several nodes; authenticated means same-ip here)."),
	CONF_OPT_BOOL(DLG, media_check, "true", RL,
		      "A re-INVITE or UPDATE from an untrusted party may move "
		      "media only to its own signalling IP, a null address "
		      "(hold) or media_addresses; otherwise 488."),
	CONF_OPT_STRLIST(DLG, media_addresses, 0, check_cidr, RL,
			 "More media addresses an untrusted party may move "
			 "media to (CIDR), e.g. its media servers."),
	CONF_OPT_END,
};
#undef DLG

static const struct conf_section dialog_sec = {
	.name = "guard.dialog",
	.size = sizeof(struct sg_conf_dialog),
	.opts = dialog_opts,
	.help = "Call-state enforcement: in-dialog requests prove they "
		"belong (docs/events.md: spoofed-bye, spoofed-cancel, "
		"dialog-hijack, media-redirect, dialog-rebind).",
};

#define REG struct sg_conf_registration
static const struct conf_opt registration_opts[] = {
	CONF_OPT_INT(REG, max_bindings, "10", 0, 1000, RL,
		     "Contacts one AOR may have registered through sipguard; "
		     "more are refused with 403. 0: no cap."),
	CONF_OPT_DURATION(REG, move_hold, "0", 0, 86400000, RL,
			  "A binding refreshed less than this long ago may not "
			  "move to another source address or User-Agent (403, "
			  "registration-moved). 0: moves are allowed once the "
			  "registrar accepts them, and reported."),
	CONF_OPT_BOOL(REG, forbid_private_contacts, "false", RL,
		      "Refuse Contacts in private and special-use ranges (RFC "
		      "1918, 6598, loopback, link-local, ULA, multicast). Off "
		      "by default: sipguard rewrites Contacts and sends to the "
		      "address a REGISTER came from, so phones behind NAT "
		      "register private Contacts."),
	CONF_OPT_STRLIST(REG, forbidden_contacts, 0, check_cidr, RL,
			 "Contact addresses refused with 403 (CIDR). The PBX, "
			 "backends, trunks and sipguard's own listeners are "
			 "always refused."),
	CONF_OPT_END,
};
#undef REG

static const struct conf_section registration_sec = {
	.name = "guard.registration",
	.size = sizeof(struct sg_conf_registration),
	.opts = registration_opts,
	.help = "Registration hijack protection (REGISTER from untrusted "
		"zones).",
};

#define GUARD struct sg_conf_guard
static const struct conf_opt guard_opts[] = {
	CONF_OPT_BOOL(GUARD, monitor, "false", RL,
		      "Monitor mode for every rule: log \"would ...\" events, "
		      "let traffic pass."),
	CONF_OPT_STRLIST(GUARD, monitor_rules, 0, NULL, RL,
			 "Rules in monitor mode (see docs/events.md)."),
	CONF_OPT_STRLIST(GUARD, allow, 0, check_cidr, 0,
			 "Sources never banned nor rate limited (CIDR)."),
	CONF_OPT_STRING(GUARD, control_socket, "", 0, NULL, 0,
			"Control socket for sipguardctl; empty: none."),
	CONF_OPT_SECTION(GUARD, gate, gate_sec, 0, "Pre-parse gate."),
	CONF_OPT_SECTION(GUARD, rates, rates_sec, 0, "Rate limits."),
	CONF_OPT_SECTION(GUARD, scanner, scanner_sec, 0, "Scanners."),
	CONF_OPT_SECTION(GUARD, auth, auth_sec, 0, "Authentication."),
	CONF_OPT_SECTION(GUARD, im, conf__im_sec, 0, "IM content security."),
	CONF_OPT_SECTION(GUARD, presence, conf__presence_sec, 0,
			 "Presence privacy."),
	CONF_OPT_SECTION(GUARD, dialog, dialog_sec, 0, "Call state."),
	CONF_OPT_SECTION(GUARD, registration, registration_sec, 0,
			 "Registrations."),
	CONF_OPT_END,
};
#undef GUARD

const struct conf_section conf__guard_sec = {
	.name = "guard",
	.size = sizeof(struct sg_conf_guard),
	.opts = guard_opts,
	.help = "Security policy for untrusted zones.",
};
