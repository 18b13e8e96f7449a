/*
 * conf_opts.c - sipguard's configuration: the root of the one table of
 * options that describes struct sg_conf (conf.h), the log and sip
 * sections, the checks that span several sections, and the public
 * conf_* entry points.
 *
 * The table is split by section over several files, each linked into
 * the root here: conf_zone.c (zones[]: listen, route, tcp, tls; address
 * syntax), conf_guard.c (guard), conf_im.c (guard.im, guard.presence),
 * conf_fraud.c (fraud), conf_ops.c (media, ops, store).
 *
 * To add an option: add the field to its struct in conf.h and one
 * CONF_OPT_* line to its section's table.  Parsing, validation, the dump
 * and docs/config.md (conf_print_reference) all follow from that line;
 * the unit test fails until docs/config.md is regenerated.
 */
#include "core/conf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/conf_int.h"
#include "core/log.h"
#include "core/mem.h"

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

static const struct conf_opt root_opts[] = {
	CONF_OPT_SECTION(struct sg_conf, log, log_sec, 0, "Logging."),
	CONF_OPT_SECTION(struct sg_conf, sip, sip_sec, 0, "SIP protocol."),
	CONF_OPT_SECTION(struct sg_conf, guard, conf__guard_sec, 0,
			 "Security policy."),
	CONF_OPT_SECTION(struct sg_conf, media, conf__media_sec, 0,
			 "Media relay."),
	CONF_OPT_SECTION(struct sg_conf, fraud, conf__fraud_sec, 0,
			 "Toll-fraud policy."),
	CONF_OPT_SECLIST(struct sg_conf, zones, conf__zone_sec, 1, 0,
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
