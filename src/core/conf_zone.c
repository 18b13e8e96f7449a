/*
 * conf_zone.c - the `zones[]` section of sipguard's configuration: a
 * zone's listen addresses, routing, stream transports (tcp), TLS and
 * SRTP options, and the syntax of transport addresses
 * ("udp|tcp|tls:ADDR:PORT", conf_addr_parse) that the other sections
 * share.  Kept out of conf_opts.c like conf_fraud.c; conf_opts.c links
 * the section into the root and checks what spans zones (unique names,
 * duplicate listeners).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "core/conf_int.h"

#define RL CONF_RELOAD

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

static const struct conf_enum trusts[] = {
	{"untrusted", CONF_UNTRUSTED},
	{"trusted", CONF_TRUSTED},
	{NULL, 0},
};

/* ------------------------------------------------------------ route, tcp */

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
	if (t->n_allowed_clients &&
	    t->verify_clients != CONF_TLS_VERIFY_REQUIRE)
		return conf_fail(c, "allowed_clients",
				 "needs verify_clients: require");
	return 0;
}

/* AEAD only: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305. */
#define TLS_CIPHERS                                                  \
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
	CONF_OPT_STRLIST(
		TLS, allowed_clients, 0, check_host, 0,
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
	CONF_OPT_DURATION(
		TLS, handshake_timeout, "10s", 100, 120000, 0,
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

/* ------------------------------------------------------------------ zones */

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
static const struct conf_opt
	zone_opts[] =
		{
			CONF_OPT_STRING(
				ZONE, name, NULL, 1, conf__check_name,
				CONF_REQUIRED,
				"Unique name of the zone, used in logs and events."),
			CONF_OPT_ENUM(
				ZONE, trust, NULL, trusts, CONF_REQUIRED,
				"`untrusted`: the internet side, guarded. `trusted`: the PBX side."),
			CONF_OPT_STRLIST(
				ZONE, listen, 0, check_addr, 0,
				"Addresses to receive SIP on: `udp:ADDR:PORT`, `tcp:...`, `tls:...`; IPv6 as `udp:[::1]:5060`."),
			CONF_OPT_SECTION(ZONE, route, route_sec, 0, "Routing."),
			CONF_OPT_SECTION(ZONE, tcp, tcp_sec, 0,
					 "Stream transports."),
			CONF_OPT_SECTION(ZONE, tls, tls_sec, 0, "TLS."),
			CONF_OPT_BOOL(
				ZONE, topology_hiding, "true", 0,
				"Untrusted zones: no internal address, host name or port leaves the zone (Via, Record-Route, Route, Contact, Path, Warning; SDP through media anchoring). Ignored on trusted zones."),
			CONF_OPT_STRING(
				ZONE, server_header, "keep", 1, check_hdr_text,
				0,
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
				ZONE,
				srtp_key_exchange, "any", srtp_kxs, 0, "How SRTP keys are agreed on the media legs facing this zone, when `srtp` allows SRTP: `sdes`: a=crypto in the SDP (RFC 4568), DTLS-SRTP offers from the zone get 488; `dtls`: DTLS-SRTP (RFC 5763/5764: UDP/TLS/RTP/SAVP, a=fingerprint, a=setup; WebRTC-style endpoints), SDES offers from the zone get 488 and SRTP offers to it are DTLS-SRTP with our certificate's fingerprint and a=setup:actpass; `any`: either from the zone, offers to it use the offerer's kind (SDES when the offerer's media was plain). sipguard terminates DTLS-SRTP per leg like SDES: the other leg never sees its keys or fingerprint. ICE is not relayed (the DTLS peer must work without ICE)."),
			CONF_OPT_END,
};
#undef ZONE

const struct conf_section conf__zone_sec = {
	.name = "zones[]",
	.size = sizeof(struct sg_conf_zone),
	.opts = zone_opts,
	.check = check_zone,
	.help = "A zone is a set of listen addresses that share a trust level and a route.",
};
