/*
 * conf_opts.c - sipguard's configuration: the one table of options that
 * describes struct sg_conf (conf.h), the checks that span several
 * options, address syntax, and the public conf_* entry points.
 *
 * To add an option: add the field to its struct in conf.h and one
 * CONF_OPT_* line to the table here.  Parsing, validation, the dump and
 * docs/config.md (conf_print_reference) all follow from that line; the
 * unit test fails until docs/config.md is regenerated.
 */
#include "core/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/log.h"
#include "core/mem.h"

/* ------------------------------------------------------------ addresses */

__attribute__((format(printf, 3, 4))) static int
addr_fail(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;

	if (why && whysz) {
		va_start(ap, fmt);
		vsnprintf(why, whysz, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int parse_port(uint16_t *portp, const char *s)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 5; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	if (i == 0 || s[i] != '\0' || v == 0 || v > 65535)
		return -EINVAL;
	*portp = (uint16_t)v;
	return 0;
}

/*
 * "udp|tcp|tls:ADDR:PORT": ADDR a numeric IPv4 address or a bracketed
 * IPv6 address ([::1]); PORT 1..65535.  No host names: the daemon must
 * not depend on DNS to start.  Fills ap (may be NULL) or explains in why.
 */
int conf__addr_parse(struct conf_addr *ap, const char *s, char *why,
		      size_t whysz)
{
	static const char *const tps[] = {"udp", "tcp", "tls"};
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon = strchr(s, ':'), *h, *port;
	struct conf_addr a = {0};
	size_t hlen;
	uint16_t pnum;
	int i;

	for (i = 0; i < 3 && colon; i++)
		if ((size_t)(colon - s) == 3 && !memcmp(s, tps[i], 3))
			break;
	if (!colon || i == 3)
		return addr_fail(
			why, whysz,
			"expected udp:, tcp: or tls: then ADDRESS:PORT");
	a.transport = i;
	h = colon + 1;
	if (*h == '[') {
		const char *close = strchr(h, ']');

		if (!close || close[1] != ':')
			return addr_fail(why, whysz, "expected [IPv6]:PORT");
		h++;
		hlen = (size_t)(close - h);
		port = close + 2;
	} else {
		port = strrchr(h, ':');
		if (!port)
			return addr_fail(why, whysz, "missing :PORT");
		hlen = (size_t)(port - h);
		port++;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return addr_fail(why, whysz, "bad address");
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (parse_port(&pnum, port))
		return addr_fail(why, whysz, "bad port '%.8s' (1..65535)",
				 port);
	if (h[-1] == '[') {
		struct in6_addr in6;

		if (inet_pton(AF_INET6, host, &in6) != 1)
			return addr_fail(why, whysz, "bad IPv6 address '%s'",
					 host);
	} else {
		struct in_addr in4;

		if (inet_pton(AF_INET, host, &in4) != 1)
			return addr_fail(
				why, whysz, "bad IPv4 address '%s'%s", host,
				strchr(host, ':')
					? " (write IPv6 as [ADDR]:PORT)"
					: "");
	}
	/* Checked above piece by piece for the messages; core/addr.c makes
	 * the value, so every layer parses addresses the same way. */
	if (sg_addr_parse(&a.addr, str_cstr(colon + 1), 0))
		return addr_fail(why, whysz, "bad address");
	if (ap)
		*ap = a;
	return 0;
}

/* Parse an address string the loader has validated (or any other). */
int conf_addr_parse(struct conf_addr *ap, const char *s)
{
	if (!ap || !s)
		return -EINVAL;
	return conf__addr_parse(ap, s, NULL, 0);
}

static int check_addr(const char *s, char *why, size_t whysz)
{
	return conf__addr_parse(NULL, s, why, whysz);
}

/* Zone names appear in logs, events and metrics labels: keep them tame. */
int conf__check_name(const char *s, char *why, size_t whysz)
{
	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.')
			continue;
		snprintf(why, whysz,
			 "may hold only letters, digits, '-', '_' and '.'");
		return -EINVAL;
	}
	return 0;
}

/* A header value we write as is: printable ASCII, no CR/LF. */
static int check_hdr_text(const char *s, char *why, size_t whysz)
{
	for (; *s; s++) {
		if (*s >= 0x20 && *s < 0x7f)
			continue;
		snprintf(why, whysz, "may hold only printable ASCII");
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------ checks */

static int check_sip(struct conf_ctx *c, const void *obj)
{
	const struct sg_conf_sip *sip = obj;

	/* RFC 3261 17.1.2.2: retransmits back off from T1 up to T2. */
	if (sip->t2 < sip->t1)
		return conf_fail(c, "t2", "must not be less than t1");
	return 0;
}

static bool addr_equal(const struct conf_addr *a, const struct conf_addr *b)
{
	return a->transport == b->transport && sg_addr_eq(&a->addr, &b->addr);
}

/* Two listeners on one transport address would fail at bind time. */
static bool listen_dup(const struct sg_conf *cf, size_t z, size_t l)
{
	struct conf_addr a, b;
	size_t z2, l2;

	if (conf_addr_parse(&a, cf->zones[z].listen[l]))
		return false;
	for (z2 = 0; z2 <= z; z2++) {
		for (l2 = 0; l2 < cf->zones[z2].n_listen; l2++) {
			if (z2 == z && l2 >= l)
				break;
			if (conf_addr_parse(&b, cf->zones[z2].listen[l2]))
				continue;
			if (addr_equal(&a, &b))
				return true;
		}
	}
	return false;
}

static int check_root(struct conf_ctx *c, const void *obj)
{
	const struct sg_conf *cf = obj;
	char rel[64];
	size_t z, z2, l, nlisten = 0;

	for (z = 0; z < cf->n_zones; z++) {
		const struct sg_conf_zone *zone = &cf->zones[z];

		for (z2 = 0; z2 < z; z2++) {
			if (strcmp(cf->zones[z2].name, zone->name))
				continue;
			snprintf(rel, sizeof(rel), "zones[%zu].name", z);
			return conf_fail(
				c, rel,
				"zone name '%s' already used by zones[%zu]",
				zone->name, z2);
		}
		for (l = 0; l < zone->n_listen; l++) {
			if (!listen_dup(cf, z, l))
				continue;
			snprintf(rel, sizeof(rel), "zones[%zu].listen[%zu]", z,
				 l);
			return conf_fail(c, rel, "address listed twice");
		}
		/* A TCP connection buffer must hold one whole message. */
		if (zone->tcp.max_buffer < cf->sip.limits.max_message_size) {
			snprintf(rel, sizeof(rel), "zones[%zu].tcp.max_buffer",
				 z);
			return conf_fail(
				c, rel,
				"smaller than sip.limits.max_message_size");
		}
		nlisten += zone->n_listen;
	}
	if (nlisten == 0)
		return conf_fail(c, "zones", "no zone has a listen address");
	return conf__check_fraud(c, cf);
}

/* ------------------------------------------------------------ the table */

#define RL CONF_RELOAD

static const struct conf_enum log_levels[] = {
	{"error", LOG_LVL_ERR},
	{"warn", LOG_LVL_WARN},
	{"info", LOG_LVL_INFO},
	{"debug", LOG_LVL_DEBUG},
	{NULL, 0},
};

static const struct conf_enum trusts[] = {
	{"untrusted", CONF_UNTRUSTED},
	{"trusted", CONF_TRUSTED},
	{NULL, 0},
};

static const struct conf_opt log_opts[] = {
	CONF_OPT_ENUM(struct sg_conf_log, level, "info", log_levels, RL,
		      "Least severe message written to the log."),
	CONF_OPT_STRING(
		struct sg_conf_log, events_file, "", 0, NULL, 0,
		"Security event log, one JSON object per line; empty: none."),
	CONF_OPT_STRING(struct sg_conf_log, call_records_file, "", 0, NULL, 0,
			"Call records, one JSON object per call; empty: none."),
	CONF_OPT_END,
};

static const struct conf_section log_sec = {
	.name = "log",
	.size = sizeof(struct sg_conf_log),
	.opts = log_opts,
	.help = "Logging and event output.",
};

/* Ceilings are sip.h's SIP_MAX_* (core cannot include the SIP layer). */
#define LIM struct sg_conf_limits
static const struct conf_opt limit_opts[] = {
	CONF_OPT_INT(
		LIM, max_message_size, "65535", 1024, 65535, 0,
		"Largest SIP message accepted, start line to end of body (bytes)."),
	CONF_OPT_INT(LIM, max_headers, "96", 16, 96, 0,
		     "Most header field lines in one message."),
	CONF_OPT_INT(LIM, max_header_line, "8192", 256, 8192, 0,
		     "Longest header field, folded lines included (bytes)."),
	CONF_OPT_INT(LIM, max_via, "64", 1, 64, 0,
		     "Most Via entries in one message."),
	CONF_OPT_INT(LIM, max_uri, "2048", 128, 2048, 0,
		     "Longest URI (bytes)."),
	CONF_OPT_INT(LIM, max_body_parts, "8", 1, 8, 0,
		     "Most parts in a multipart body."),
	CONF_OPT_END,
};
#undef LIM

static const struct conf_section limits_sec = {
	.name = "sip.limits",
	.size = sizeof(struct sg_conf_limits),
	.opts = limit_opts,
	.help = "Parser limits. Each may only lower the compiled-in ceiling.",
};

#define SIP struct sg_conf_sip
static const struct conf_opt sip_opts[] = {
	CONF_OPT_SECTION(SIP, limits, limits_sec, 0, "Parser limits."),
	CONF_OPT_DURATION(SIP, t1, "500ms", 50, 10000, 0,
			  "RFC 3261 T1: round-trip time estimate."),
	CONF_OPT_DURATION(
		SIP, t2, "4s", 1000, 60000, 0,
		"RFC 3261 T2: longest retransmit interval for non-INVITE requests and INVITE responses."),
	CONF_OPT_DURATION(
		SIP, t4, "5s", 1000, 60000, 0,
		"RFC 3261 T4: longest time a message stays in the network."),
	CONF_OPT_INT(
		SIP, max_transactions, "100000", 16, 10000000, 0,
		"Size of the transaction pool; when full, new requests get 503."),
	CONF_OPT_SIZE(
		SIP, max_transaction_memory, "256m", 1 << 20, 1LL << 34, 0,
		"Memory the transaction pool may hold (kept requests and responses included); when full, new requests get 503. INVITE transactions live 64*T1 after a 2xx (RFC 6026), so size it for that many seconds of calls."),
	CONF_OPT_INT(
		SIP, max_dialogs, "100000", 16, 10000000, 0,
		"Size of the dialog pool; when full, new INVITEs get 503."),
	CONF_OPT_DURATION(
		SIP, max_call_duration, "12h", 0, 604800000, 0,
		"Longest call; when it runs out both sides get a BYE. 0: no limit."),
	CONF_OPT_DURATION(
		SIP, dialog_idle_timeout, "2h", 0, 604800000, 0,
		"A confirmed dialog without in-dialog traffic (and without RFC 4028 session timers) ends after this; both sides get a BYE. 0: never."),
	CONF_OPT_DURATION(
		SIP, setup_timeout, "3m", 1000, 3600000, 0,
		"A call attempt without a final response is forgotten after this."),
	CONF_OPT_STRING(
		SIP, user_agent, "sipguard", 0, NULL, RL,
		"User-Agent/Server value of messages sipguard makes; empty: none."),
	CONF_OPT_END,
};
#undef SIP

static const struct conf_section sip_sec = {
	.name = "sip",
	.size = sizeof(struct sg_conf_sip),
	.opts = sip_opts,
	.check = check_sip,
	.help = "SIP protocol settings.",
};

static const struct conf_opt route_opts[] = {
	CONF_OPT_STRLIST(
		struct sg_conf_route, backends, 0, check_addr, RL,
		"Where requests from this zone go (the PBX), tried in order. `udp:ADDR:PORT`."),
	CONF_OPT_STRING(
		struct sg_conf_route, trunk, "", 0, check_addr, RL,
		"Upstream SIP trunk for calls leaving through this zone; empty: none."),
	CONF_OPT_END,
};

static const struct conf_section route_sec = {
	.name = "zones[].route",
	.size = sizeof(struct sg_conf_route),
	.opts = route_opts,
	.help = "Where traffic received in a zone goes.",
};

#define TCP struct sg_conf_tcp
static const struct conf_opt tcp_opts[] = {
	CONF_OPT_DURATION(TCP, idle_timeout, "120s", 1000, 3600000, 0,
			  "Close a TCP/TLS connection idle this long."),
	CONF_OPT_INT(TCP, max_connections_per_source, "32", 1, 65535, 0,
		     "Most concurrent connections from one source address."),
	CONF_OPT_SIZE(
		TCP, max_buffer, "64k", 4096, 1 << 20, 0,
		"Receive buffer of one connection; must hold one whole message."),
	CONF_OPT_END,
};
#undef TCP

static const struct conf_section tcp_sec = {
	.name = "zones[].tcp",
	.size = sizeof(struct sg_conf_tcp),
	.opts = tcp_opts,
	.help = "Stream transports (TCP, TLS) of a zone.",
};

/* -------------------------------------------------------------------- tls */

/* OpenSSL cipher-list syntax only: the list itself is checked by OpenSSL
 * when the zone's TLS contexts are made (transport/tls_ctx.c). */
static int check_ciphers(const char *s, char *why, size_t whysz)
{
	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr(":+-!@=_.,", *s))
			continue;
		snprintf(why, whysz, "not an OpenSSL cipher list");
		return -EINVAL;
	}
	return 0;
}

/* A DNS name (certificate host name check, SNI). */
static int check_host(const char *s, char *why, size_t whysz)
{
	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '.')
			continue;
		snprintf(why, whysz, "not a host name");
		return -EINVAL;
	}
	return 0;
}

static const struct conf_enum tls_versions[] = {
	{"1.2", CONF_TLS_12},
	{"1.3", CONF_TLS_13},
	{NULL, 0},
};

static const struct conf_enum tls_verifies[] = {
	{"none", CONF_TLS_VERIFY_NONE},
	{"optional", CONF_TLS_VERIFY_OPTIONAL},
	{"require", CONF_TLS_VERIFY_REQUIRE},
	{NULL, 0},
};

static int check_tls(struct conf_ctx *c, const void *obj)
{
	const struct sg_conf_tls *t = obj;

	if (t->n_keys != t->n_certificates)
		return conf_fail(c, "keys",
				 "one key per certificate, in the same order");
	if (t->verify_clients != CONF_TLS_VERIFY_NONE && !t->client_ca_file[0])
		return conf_fail(c, "client_ca_file",
				 "needed when verify_clients is not none");
	if (t->n_allowed_clients && t->verify_clients != CONF_TLS_VERIFY_REQUIRE)
		return conf_fail(c, "allowed_clients",
				 "needs verify_clients: require");
	return 0;
}

/* AEAD only: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305. */
#define TLS_CIPHERS                                               \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_SUITES \
	"TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"

#define TLS struct sg_conf_tls
static const struct conf_opt tls_opts[] = {
	CONF_OPT_STRLIST(TLS, certificates, 0, NULL, 0,
			 "PEM files, each a certificate followed by its chain. "
			 "The first is the default; the others are chosen by "
			 "the name a client asks for (SNI) when their "
			 "certificate carries it. Re-read on SIGHUP."),
	CONF_OPT_STRLIST(TLS, keys, 0, NULL, 0,
			 "PEM private keys, one per certificate, same order."),
	CONF_OPT_STRING(TLS, key_password, "", 0, NULL, CONF_SECRET,
			"Password of encrypted keys; never logged nor dumped."),
	CONF_OPT_STRING(TLS, ciphers, TLS_CIPHERS, 1, check_ciphers, 0,
			"TLS 1.2 cipher list (OpenSSL syntax); the default "
			"allows AEAD ciphers with ECDHE only."),
	CONF_OPT_STRING(TLS, ciphersuites, TLS_SUITES, 1, check_ciphers, 0,
			"TLS 1.3 cipher suites (OpenSSL syntax)."),
	CONF_OPT_ENUM(TLS, min_version, "1.2", tls_versions, 0,
		      "Oldest TLS version accepted and offered: 1.2 or 1.3."),
	CONF_OPT_STRING(TLS, client_ca_file, "", 0, NULL, 0,
			"PEM CAs that client certificates must chain to "
			"(mutual TLS)."),
	CONF_OPT_ENUM(TLS, verify_clients, "none", tls_verifies, 0,
		      "Client certificates on this zone's TLS listeners: none "
		      "(not asked for), optional (verified when sent), or "
		      "require (a client without a valid one is refused). The "
		      "verified name (subject alternative name, else common "
		      "name) is logged and known to the proxy."),
	CONF_OPT_STRLIST(TLS, allowed_clients, 0, check_host, 0,
			 "With verify_clients require: only client certificates "
			 "that carry one of these names (subjectAltName DNS, "
			 "else common name) are let in, e.g. the trunks this "
			 "zone serves; empty: any the CA signed."),
	CONF_OPT_STRING(TLS, ca_file, "", 0, NULL, 0,
			"PEM CAs trusted for the servers this zone connects "
			"to; empty: the system's CAs."),
	CONF_OPT_STRING(TLS, backend_name, "", 0, check_host, 0,
			"Host name the certificates of this zone's `tls:` "
			"route.backends must carry (also sent as SNI); empty: "
			"they must carry the backend's IP address."),
	CONF_OPT_STRING(TLS, trunk_name, "", 0, check_host, 0,
			"The same for this zone's `tls:` route.trunk."),
	CONF_OPT_DURATION(TLS, handshake_timeout, "10s", 100, 120000, 0,
			  "A TLS handshake not finished after this is dropped."),
	CONF_OPT_BOOL(TLS, session_resumption, "true", 0,
		      "Session tickets and a session cache, so clients that "
		      "reconnect skip the full handshake."),
	CONF_OPT_END,
};
#undef TLS

static const struct conf_section tls_sec = {
	.name = "zones[].tls",
	.size = sizeof(struct sg_conf_tls),
	.opts = tls_opts,
	.check = check_tls,
	.help = "TLS of a zone: its `tls:` listeners and the TLS connections "
		"it opens (RFC 3261 26.2, RFC 5630, RFC 5922).",
};

/* ------------------------------------------------------------------ guard */

static const struct conf_enum auth_modes[] = {
	{ "off", CONF_AUTH_OFF },
	{ "local", CONF_AUTH_LOCAL },
	{ "passthrough", CONF_AUTH_PASSTHROUGH },
	{ NULL, 0 },
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
		     "(IPv4 address or IPv6 /64) before parsing; 0: no limit."),
	CONF_OPT_INT(GATE, packet_burst, "400", 0, 100000000, RL,
		     "Datagrams one source may send at once; 0: the rate."),
	CONF_OPT_SIZE(GATE, bytes_per_second, "1m", 0, 1000000000, RL,
		      "Bytes per second from one source; 0: no limit."),
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
		     "INVITEs per second from one untrusted source; 0: off."),
	{ .name = "register", .type = CONF_T_INT,
	  .off = CONF__OFF(RATES, register_, int64_t), .def = "30", .min = 0,
	  .max = 1000000, .flags = RL,
	  .help = "REGISTERs per second from one untrusted source; 0: off." },
	CONF_OPT_INT(RATES, options, "20", 0, 1000000, RL,
		     "OPTIONS per second from one untrusted source; 0: off."),
	CONF_OPT_INT(RATES, subscribe, "100", 0, 1000000, RL,
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
	CONF_OPT_STRING(AUTH, credentials, "", 0, NULL, RL,
			"Credentials file, lines user:realm:ha1-md5[:ha1-sha256] "
			"(local mode)."),
	CONF_OPT_BOOL(AUTH, md5, "true", 0, "Offer MD5 challenges."),
	CONF_OPT_BOOL(AUTH, sha256, "true", 0,
		      "Offer SHA-256 challenges (RFC 8760), first."),
	CONF_OPT_DURATION(AUTH, nonce_lifetime, "5m", 1000, 3600000, 0,
			  "How long a nonce is accepted."),
	CONF_OPT_INT(AUTH, max_failures_ip, "10", 1, 1000000, 0,
		     "Failures from one source in the window: ban it (unless "
		     "it authenticated recently)."),
	CONF_OPT_INT(AUTH, max_failures_user, "20", 1, 1000000, 0,
		     "Failures for one user from anywhere: lock the user."),
	CONF_OPT_INT(AUTH, max_failures_user_ip, "5", 1, 1000000, 0,
		     "Failures of one user from one source: drop that pair "
		     "(an office behind one NAT is not banned for it)."),
	CONF_OPT_DURATION(AUTH, failure_window, "10m", 1000, 86400000, 0,
			  "Window of the failure counters."),
	CONF_OPT_DURATION(AUTH, user_lock, "15m", 1000, 86400000, 0,
			  "How long a locked user stays locked."),
	CONF_OPT_DURATION(AUTH, known_good, "24h", 0, 2592000000LL, 0,
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

static const struct conf_enum im_dirs[] = {
	{ "off", CONF_IM_OFF },
	{ "untrusted", CONF_IM_UNTRUSTED },
	{ "both", CONF_IM_BOTH },
	{ NULL, 0 },
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

/* A PCRE2 pattern that compiles (the guard compiles it again). */
static int check_regex(const char *s, char *why, size_t whysz)
{
	PCRE2_UCHAR msg[120];
	PCRE2_SIZE off;
	pcre2_code *re;
	int ec;

	re = pcre2_compile((PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED,
			   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &off,
			   NULL);
	if (re) {
		pcre2_code_free(re);
		return 0;
	}
	pcre2_get_error_message(ec, msg, sizeof(msg));
	snprintf(why, whysz, "bad regular expression at offset %zu: %s",
		 (size_t)off, (const char *)msg);
	return -EINVAL;
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
		snprintf(why, whysz, "'%s' is not a domain name or address",
			 s);
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
		      (s[i] >= '0' && s[i] <= '9') || strchr("-.!%*_+`'~",
							      s[i])))
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

static const struct conf_section im_sec = {
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

static const struct conf_section presence_sec = {
	.name = "guard.presence",
	.size = sizeof(struct sg_conf_presence),
	.opts = presence_opts,
	.help = "Presence privacy: event package policy, harvesting, "
		"PIDF scrubbing.",
};

static const struct conf_enum dlg_actions[] = {
	{ "drop", 0 },
	{ "reply", 1 },
	{ NULL, 0 },
};

static const struct conf_enum dlg_rebinds[] = {
	{ "never", CONF_REBIND_NEVER },
	{ "same-ip", CONF_REBIND_SAME_IP },
	{ "authenticated", CONF_REBIND_AUTHENTICATED },
	{ "any", CONF_REBIND_ANY },
	{ NULL, 0 },
};

#define DLG struct sg_conf_dialog
static const struct conf_opt dialog_opts[] = {
	CONF_OPT_BOOL(DLG, enforce, "true", RL,
		      "Check every in-dialog request (BYE, re-INVITE, UPDATE, "
		      "INFO, REFER, NOTIFY, PRACK, MESSAGE, ACK) and CANCEL "
		      "against its dialog: Call-ID and tags, the party's "
		      "transport address, CSeq moving forward."),
	CONF_OPT_ENUM(DLG, action_untrusted, "drop", dlg_actions, RL,
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
	CONF_OPT_SECTION(GUARD, im, im_sec, 0, "IM content security."),
	CONF_OPT_SECTION(GUARD, presence, presence_sec, 0,
			 "Presence privacy."),
	CONF_OPT_SECTION(GUARD, dialog, dialog_sec, 0, "Call state."),
	CONF_OPT_SECTION(GUARD, registration, registration_sec, 0,
			 "Registrations."),
	CONF_OPT_END,
};
#undef GUARD

static const struct conf_section guard_sec = {
	.name = "guard",
	.size = sizeof(struct sg_conf_guard),
	.opts = guard_opts,
	.help = "Security policy for untrusted zones.",
};

static const struct conf_enum srtps[] = {
	{"off", CONF_SRTP_OFF},
	{"optional", CONF_SRTP_OPTIONAL},
	{"required", CONF_SRTP_REQUIRED},
	{NULL, 0},
};

static const struct conf_enum srtp_kxs[] = {
	{"any", CONF_SRTP_KX_ANY},
	{"sdes", CONF_SRTP_KX_SDES},
	{"dtls", CONF_SRTP_KX_DTLS},
	{NULL, 0},
};

/* require_tls: a plain listener would carry SDES keys in clear. */
static int check_zone(struct conf_ctx *c, const void *obj)
{
	const struct sg_conf_zone *z = obj;
	size_t l;

	for (l = 0; z->require_tls && l < z->n_listen; l++)
		if (strncmp(z->listen[l], "tls:", 4) != 0)
			return conf_fail(c, "require_tls",
					 "listen address '%s' is not tls:",
					 z->listen[l]);
	return 0;
}

#define ZONE struct sg_conf_zone
static const struct conf_opt zone_opts[] = {
	CONF_OPT_STRING(ZONE, name, NULL, 1, conf__check_name, CONF_REQUIRED,
			"Unique name of the zone, used in logs and events."),
	CONF_OPT_ENUM(
		ZONE, trust, NULL, trusts, CONF_REQUIRED,
		"`untrusted`: the internet side, guarded. `trusted`: the PBX side."),
	CONF_OPT_STRLIST(
		ZONE, listen, 0, check_addr, 0,
		"Addresses to receive SIP on: `udp:ADDR:PORT`, `tcp:...`, `tls:...`; IPv6 as `udp:[::1]:5060`."),
	CONF_OPT_SECTION(ZONE, route, route_sec, 0, "Routing."),
	CONF_OPT_SECTION(ZONE, tcp, tcp_sec, 0, "Stream transports."),
	CONF_OPT_SECTION(ZONE, tls, tls_sec, 0, "TLS."),
	CONF_OPT_BOOL(
		ZONE, topology_hiding, "true", 0,
		"Untrusted zones: no internal address, host name or port leaves the zone (Via, Record-Route, Route, Contact, Path, Warning; SDP through media anchoring). Ignored on trusted zones."),
	CONF_OPT_STRING(
		ZONE, server_header, "keep", 1, check_hdr_text, 0,
		"With topology_hiding: Server and User-Agent headers leaving the zone are kept (`keep`), removed (`remove`) or replaced by this text."),
	CONF_OPT_BOOL(
		ZONE, hide_call_id, "false", 0,
		"With topology_hiding: Call-IDs made inside are replaced by a sealed token outside (and mapped back)."),
	CONF_OPT_ENUM(
		ZONE, srtp, "optional", srtps, 0,
		"SRTP on the media legs facing this zone (SDES, RFC 4568; needs the media relay). sipguard terminates SRTP per leg with keys it makes itself: `off`: plain RTP only, SRTP offers from the zone get 488, offers to it are plain; `optional`: SRTP or plain from the zone, offers to it are SRTP when the offerer's were; `required`: SRTP only, a plain RTP offer from the zone gets 488 and offers to it are SRTP. SDES keys travel in the SDP: use it with require_tls."),
	CONF_OPT_BOOL(
		ZONE, require_tls, "false", 0,
		"Signalling of this zone only over TLS: every listen address must be `tls:`."),
	CONF_OPT_ENUM(
		ZONE, srtp_key_exchange, "any", srtp_kxs, 0,
		"How SRTP keys are agreed on the media legs facing this zone, when `srtp` allows SRTP: `sdes`: a=crypto in the SDP (RFC 4568), DTLS-SRTP offers from the zone get 488; `dtls`: DTLS-SRTP (RFC 5763/5764: UDP/TLS/RTP/SAVP, a=fingerprint, a=setup; WebRTC-style endpoints), SDES offers from the zone get 488 and SRTP offers to it are DTLS-SRTP with our certificate's fingerprint and a=setup:actpass; `any`: either from the zone, offers to it use the offerer's kind (SDES when the offerer's media was plain). sipguard terminates DTLS-SRTP per leg like SDES: the other leg never sees its keys or fingerprint. ICE is not relayed (the DTLS peer must work without ICE)."),
	CONF_OPT_END,
};
#undef ZONE

static const struct conf_section zone_sec = {
	.name = "zones[]",
	.size = sizeof(struct sg_conf_zone),
	.opts = zone_opts,
	.check = check_zone,
	.help = "A zone is a set of listen addresses that share a trust level and a route.",
};

static const struct conf_opt root_opts[] = {
	CONF_OPT_SECTION(struct sg_conf, log, log_sec, 0, "Logging."),
	CONF_OPT_SECTION(struct sg_conf, sip, sip_sec, 0, "SIP protocol."),
	CONF_OPT_SECTION(struct sg_conf, guard, guard_sec, 0,
			 "Security policy."),
	CONF_OPT_SECTION(struct sg_conf, media, conf__media_sec, 0, "Media relay."),
	CONF_OPT_SECTION(struct sg_conf, fraud, conf__fraud_sec, 0,
			 "Toll-fraud policy."),
	CONF_OPT_SECLIST(struct sg_conf, zones, zone_sec, 1, 0,
			 "The zones; at least one must listen."),
	CONF_OPT_SECTION(struct sg_conf, ops, conf__ops_sec, 0, "Operations."),
	CONF_OPT_SECTION(struct sg_conf, store, conf__store_sec, 0,
			 "Shared state (scale-out)."),
	CONF_OPT_END,
};

const struct conf_section conf_sipguard = {
	.name = "sipguard",
	.size = sizeof(struct sg_conf),
	.opts = root_opts,
	.check = check_root,
};

/* ------------------------------------------------------------ entry points */

/*
 * Load text as a configuration (see conf.h).  The result is allocated
 * here; the caller owns it and frees it with conf_free.
 */
int conf_load_str(struct sg_conf **confp, const char *name, const char *text,
		  size_t len, char *err, size_t errsz)
{
	struct sg_conf *conf;
	int rc;

	if (err && errsz)
		err[0] = '\0';
	if (!confp)
		return -EINVAL;
	*confp = NULL;
	if (!name || (!text && len))
		return -EINVAL;
	conf = mem_zalloc(sizeof(*conf));
	if (!conf) {
		snprintf(err, errsz, "%s: out of memory", name);
		return -ENOMEM;
	}
	rc = conf_schema_load(&conf_sipguard, conf, name, text, len, err,
			      errsz);
	if (rc) {
		if (rc == -ENOMEM && err && errsz && !err[0])
			snprintf(err, errsz, "%s: out of memory", name);
		conf_free(conf);
		return rc;
	}
	*confp = conf;
	return 0;
}

int conf_load(struct sg_conf **confp, const char *path, char *err, size_t errsz)
{
	char *text;
	size_t len;
	int rc;

	if (err && errsz)
		err[0] = '\0';
	if (!confp)
		return -EINVAL;
	*confp = NULL;
	if (!path)
		return -EINVAL;
	rc = conf__read_file(&text, &len, path, err, errsz);
	if (rc)
		return rc;
	rc = conf_load_str(confp, path, text, len, err, errsz);
	mem_free(text);
	return rc;
}

void conf_free(struct sg_conf *conf)
{
	if (!conf)
		return;
	/* Future secrets (TLS key passwords) must not linger in freed memory.
	 */
	mem_secclean(conf, sizeof(*conf));
	mem_free(conf);
}

void conf_dump(const struct sg_conf *conf, FILE *f)
{
	if (!conf || !f)
		return;
	fputs("# sipguard effective configuration (defaults included)\n", f);
	conf_schema_dump(&conf_sipguard, conf, f);
}

void conf_print_reference(FILE *f)
{
	if (!f)
		return;
	fputs("# sipguard configuration reference\n\n"
	      "<!-- Generated from the option table in src/core/conf_opts.c by\n"
	      "     conf_print_reference(); do not edit by hand. -->\n\n"
	      "sipguard reads one YAML file (`sipguard -c FILE`; "
	      "`sipguard --check-config FILE` only checks it).\n"
	      "Unknown keys, duplicate keys, wrong types and out-of-range values "
	      "are errors,\nreported as `file:line:column: key.path: reason`.\n\n"
	      "Value syntax: durations are a number and a unit, `ms`, `s`, `m` "
	      "or `h`\n(`250ms`, `30s`, `5m`, `1h`); sizes are bytes or a number "
	      "with `k`, `m` or `g`\n(powers of 1024: `64k`). Addresses are "
	      "`udp:ADDR:PORT`, `tcp:ADDR:PORT` or\n`tls:ADDR:PORT`, with numeric "
	      "addresses only and IPv6 in brackets (`udp:[::1]:5060`).\n"
	      "Strings are printable UTF-8.\n\n"
	      "*reload*: whether a changed value takes effect on reload; "
	      "changing a `no`\noption needs a restart.\n",
	      f);
	conf_schema_reference(&conf_sipguard, f);
}

int conf_reload_check(const struct sg_conf *cur, const struct sg_conf *next,
		      char *err, size_t errsz)
{
	return conf_schema_reload_check(&conf_sipguard, cur, next, err, errsz);
}
