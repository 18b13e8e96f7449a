/*
 * test_conf.c - configuration loading: sipguard's table (defaults, the
 * example file, valid and invalid documents with their exact messages),
 * the generic schema machinery on a table of every type, dump round
 * trips, reload checks, addresses, failure injection, and that
 * docs/config.md is what conf_print_reference() prints.
 *
 * `test_conf --reference` prints the reference (to regenerate the doc).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"

#include "core/conf.h"
#include "core/log.h"

#define X16  "xxxxxxxxxxxxxxxx"
#define X128 X16 X16 X16 X16 X16 X16 X16 X16

/* The smallest valid configuration. */
#define ZONE_MIN                 \
	"zones:\n"               \
	"  - name: a\n"          \
	"    trust: untrusted\n" \
	"    listen: [udp:127.0.0.1:5060]\n"

static int load(struct sg_conf **cp, const char *text, char *err, size_t errsz)
{
	return conf_load_str(cp, "t.yaml", text, strlen(text), err, errsz);
}

static struct sg_conf *load_ok(const char *text)
{
	struct sg_conf *c = NULL;
	char err[CONF_ERR_LEN];

	if (load(&c, text, err, sizeof(err)) != 0)
		fail_msg("unexpected error: %s\n--- for:\n%s", err, text);
	return c;
}

/* ------------------------------------------------------------ sipguard */

static void test_tables_verify(void **state)
{
	char err[CONF_ERR_LEN] = "";

	(void)state;
	if (conf_schema_verify(&conf_sipguard, err, sizeof(err)))
		fail_msg("%s", err);
}

static void test_defaults(void **state)
{
	struct sg_conf *c = load_ok(ZONE_MIN);
	const struct sg_conf_zone *z = &c->zones[0];

	(void)state;
	assert_int_equal(c->log.level, LOG_LVL_INFO);
	assert_string_equal(c->log.events_file, "");
	assert_string_equal(c->log.call_records_file, "");
	assert_int_equal(c->sip.limits.max_message_size, 65535);
	assert_int_equal(c->sip.limits.max_headers, 96);
	assert_int_equal(c->sip.limits.max_header_line, 8192);
	assert_int_equal(c->sip.limits.max_via, 64);
	assert_int_equal(c->sip.limits.max_uri, 2048);
	assert_int_equal(c->sip.limits.max_body_parts, 8);
	assert_int_equal(c->sip.t1, 500);
	assert_int_equal(c->sip.t2, 4000);
	assert_int_equal(c->sip.t4, 5000);
	assert_int_equal(c->sip.max_transactions, 100000);
	assert_int_equal(c->sip.max_dialogs, 100000);
	assert_string_equal(c->sip.user_agent, "sipguard");
	assert_int_equal(c->n_zones, 1);
	assert_string_equal(z->name, "a");
	assert_int_equal(z->trust, CONF_UNTRUSTED);
	assert_int_equal(z->n_listen, 1);
	assert_string_equal(z->listen[0], "udp:127.0.0.1:5060");
	assert_int_equal(z->route.n_backends, 0);
	assert_string_equal(z->route.trunk, "");
	assert_int_equal(z->tcp.idle_timeout, 120000);
	assert_int_equal(z->tcp.max_connections_per_source, 32);
	assert_int_equal(z->tcp.max_buffer, 65536);
	conf_free(c);
}

static void test_example_file(void **state)
{
	struct sg_conf *c = NULL;
	char err[CONF_ERR_LEN];
	struct conf_addr a;

	(void)state;
	if (access("etc/sipguard.yaml", R_OK) != 0)
		skip(); /* not run from the repository root */
	if (conf_load(&c, "etc/sipguard.yaml", err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->n_zones, 2);
	assert_int_equal(c->zones[0].trust, CONF_UNTRUSTED);
	assert_int_equal(c->zones[0].n_listen, 2);
	assert_int_equal(conf_addr_parse(&a, c->zones[0].listen[1]), 0);
	assert_int_equal(a.transport, CONF_TP_TCP);
	assert_int_equal(sg_addr_port(&a.addr), 5060);
	assert_string_equal(c->zones[0].route.backends[0],
			    "udp:127.0.0.1:5080");
	assert_int_equal(c->zones[1].trust, CONF_TRUSTED);
	assert_string_equal(c->zones[1].listen[0], "udp:127.0.0.1:5070");
	conf_free(c);
}

static void test_valid(void **state)
{
	struct sg_conf *c;

	(void)state;
	/* Units, IPv6, flow style, null sections and strings, aliases. */
	c = load_ok(
		"log: {level: debug, events_file: /var/log/ev.json, "
		"call_records_file: ~}\n"
		"sip:\n  t1: 250ms\n  t2: 30s\n  t4: 1m\n"
		"  limits:\n  user_agent: \"edge \\u00e9 1\"\n"
		"zones:\n"
		"  - name: ext-1.v6\n    trust: untrusted\n"
		"    listen: [\"udp:[::1]:5060\", \"tls:[2001:db8::1]:5061\",\n"
		"             tcp:0.0.0.0:65535]\n"
		"    route:\n      backends: &pbx [udp:192.0.2.1:5080]\n"
		"      trunk: \"udp:[::1]:5099\"\n"
		"    tcp: {idle_timeout: 1s, max_buffer: 1m}\n"
		"  - name: b\n    trust: trusted\n    listen:\n"
		"    route: {backends: *pbx}\n");
	assert_int_equal(c->log.level, LOG_LVL_DEBUG);
	assert_string_equal(c->log.events_file, "/var/log/ev.json");
	assert_string_equal(c->log.call_records_file, "");
	assert_int_equal(c->sip.t1, 250);
	assert_int_equal(c->sip.t2, 30000);
	assert_int_equal(c->sip.t4, 60000);
	assert_int_equal(c->sip.limits.max_via, 64);
	assert_string_equal(c->sip.user_agent, "edge \xc3\xa9 1");
	assert_int_equal(c->n_zones, 2);
	assert_string_equal(c->zones[0].name, "ext-1.v6");
	assert_int_equal(c->zones[0].n_listen, 3);
	assert_string_equal(c->zones[0].listen[1], "tls:[2001:db8::1]:5061");
	assert_string_equal(c->zones[0].route.trunk, "udp:[::1]:5099");
	assert_int_equal(c->zones[0].tcp.idle_timeout, 1000);
	assert_int_equal(c->zones[0].tcp.max_buffer, 1 << 20);
	assert_int_equal(c->zones[1].n_listen, 0);
	assert_int_equal(c->zones[1].route.n_backends, 1);
	assert_string_equal(c->zones[1].route.backends[0],
			    "udp:192.0.2.1:5080");
	conf_free(c);

	/* Bounds are inclusive; 16 zones and 8 listeners fit. */
	c = load_ok(
		"sip: {limits: {max_message_size: 1024, max_via: 1}}\n"
		"zones:\n"
		"  - {name: a, trust: untrusted, tcp: {max_buffer: 4k},\n"
		"     listen: [udp:10.0.0.1:1, udp:10.0.0.2:1, udp:10.0.0.3:1,"
		" udp:10.0.0.4:1, udp:10.0.0.5:1, udp:10.0.0.6:1,"
		" udp:10.0.0.7:1, udp:10.0.0.8:1]}\n"
		"  - {name: b, trust: trusted}\n  - {name: c, trust: trusted}\n"
		"  - {name: d, trust: trusted}\n  - {name: e, trust: trusted}\n"
		"  - {name: f, trust: trusted}\n  - {name: g, trust: trusted}\n"
		"  - {name: h, trust: trusted}\n  - {name: i, trust: trusted}\n"
		"  - {name: j, trust: trusted}\n  - {name: k, trust: trusted}\n"
		"  - {name: l, trust: trusted}\n  - {name: m, trust: trusted}\n"
		"  - {name: n, trust: trusted}\n  - {name: o, trust: trusted}\n"
		"  - {name: p, trust: trusted}\n");
	assert_int_equal(c->n_zones, 16);
	assert_int_equal(c->zones[0].n_listen, 8);
	assert_int_equal(c->zones[0].tcp.max_buffer, 4096);
	assert_int_equal(c->sip.limits.max_message_size, 1024);
	conf_free(c);
}

static const struct {
	const char *doc;
	const char *err;
} invalid[] = {
	/* structure */
	{"", "t.yaml:1:1: zones: missing required key"},
	{"- a\n", "t.yaml:1:1: (top): expected a mapping, got a sequence"},
	{"zones: 1\n", "t.yaml:1:8: zones: expected a sequence, got a scalar"},
	{"zones: []\n", "t.yaml:1:8: zones: at least 1 entry required"},
	{"zones:\n", "t.yaml:1:7: zones: at least 1 entry required"},
	{"zones: [a]\n",
	 "t.yaml:1:9: zones[0]: expected a mapping, got a scalar"},
	{"log: []\n" ZONE_MIN,
	 "t.yaml:1:6: log: expected a mapping, got a sequence"},
	{"? [a]\n: 1\n", "t.yaml:1:3: (top): expected a key, got a sequence"},
	{"log: {level: !!binary aW5mbw==}\n" ZONE_MIN,
	 "t.yaml:1:14: log.level: explicit YAML tags are not supported"},
	/* unknown and duplicate keys */
	{"zone:\n", "t.yaml:1:1: zone: unknown key (did you mean 'zones'?)"},
	{"log:\n  levle: info\n" ZONE_MIN,
	 "t.yaml:2:3: log.levle: unknown key (did you mean 'level'?)"},
	{"sip:\n  limits:\n    nonsense: 1\n" ZONE_MIN,
	 "t.yaml:3:5: sip.limits.nonsense: unknown key"},
	{"log: {level: info, level: warn}\n" ZONE_MIN,
	 "t.yaml:1:20: log.level: duplicate key"},
	{ZONE_MIN "log: {}\nlog: {}\n", "t.yaml:6:1: log: duplicate key"},
	{"zones:\n  - name: a\n    name: b\n",
	 "t.yaml:3:5: zones[0].name: duplicate key"},
	/* types and bounds */
	{"log: {level: loud}\n" ZONE_MIN,
	 "t.yaml:1:14: log.level: expected one of: error, warn, info, debug"},
	{"log: {level: [info]}\n" ZONE_MIN,
	 "t.yaml:1:14: log.level: expected one of: error, warn, info, debug, got a sequence"},
	{"sip: {limits: {max_headers: 97}}\n" ZONE_MIN,
	 "t.yaml:1:29: sip.limits.max_headers: 97 out of range (min 16, max 96)"},
	{"sip: {limits: {max_message_size: 65536}}\n" ZONE_MIN,
	 "t.yaml:1:34: sip.limits.max_message_size: 65536 out of range (min 1024, max 65535)"},
	{"sip: {limits: {max_via: -1}}\n" ZONE_MIN,
	 "t.yaml:1:25: sip.limits.max_via: -1 out of range (min 1, max 64)"},
	{"sip: {limits: {max_uri: 1e3}}\n" ZONE_MIN,
	 "t.yaml:1:25: sip.limits.max_uri: expected an integer"},
	{"sip: {limits: {max_uri: }}\n" ZONE_MIN,
	 "t.yaml:1:25: sip.limits.max_uri: expected an integer, got an empty value"},
	{"sip: {max_dialogs: 99999999999999999999}\n" ZONE_MIN,
	 "t.yaml:1:20: sip.max_dialogs: 99999999999999999999 out of range (min 16, max 10000000)"},
	{"sip: {t1: 5}\n" ZONE_MIN,
	 "t.yaml:1:11: sip.t1: expected a duration such as 250ms, 30s, 5m or 1h"},
	{"sip: {t1: 5 s}\n" ZONE_MIN,
	 "t.yaml:1:11: sip.t1: expected a duration such as 250ms, 30s, 5m or 1h"},
	{"sip: {t1: 11s}\n" ZONE_MIN,
	 "t.yaml:1:11: sip.t1: 11s out of range (min 50ms, max 10s)"},
	{"sip: {t1: 9999999999999999h}\n" ZONE_MIN,
	 "t.yaml:1:11: sip.t1: 9999999999999999h out of range (min 50ms, max 10s)"},
	{"sip: {t1: 2s, t2: 1s}\n" ZONE_MIN,
	 "t.yaml:1:19: sip.t2: must not be less than t1"},
	{"sip: {t1: 10s}\n" ZONE_MIN,
	 "t.yaml:1:6: sip.t2: must not be less than t1"},
	{"sip: {user_agent: \"a\\r\\nX-Evil: 1\"}\n" ZONE_MIN,
	 "t.yaml:1:19: sip.user_agent: contains a control character"},
	{"sip: {user_agent: \"\\0\"}\n" ZONE_MIN,
	 "t.yaml:1:19: sip.user_agent: contains a control character"},
	{"sip: {user_agent: {a: 1}}\n" ZONE_MIN,
	 "t.yaml:1:19: sip.user_agent: expected a string, got a mapping"},
	{"sip: {user_agent: '" X128 "'}\n" ZONE_MIN,
	 "t.yaml:1:19: sip.user_agent: longer than 127 bytes"},
	{"zones:\n  - {name: a, trust: untrusted, tcp: {max_buffer: 1x}}\n",
	 "t.yaml:2:51: zones[0].tcp.max_buffer: expected a size such as 4096, 64k or 1m"},
	{"zones:\n  - {name: a, trust: untrusted, tcp: {max_buffer: 2m}}\n",
	 "t.yaml:2:51: zones[0].tcp.max_buffer: 2m out of range (min 4k, max 1m)"},
	{"zones:\n  - {name: a, trust: untrusted, listen: [udp:127.0.0.1:1],"
	 " tcp: {max_buffer: 8k}}\n",
	 "t.yaml:2:78: zones[0].tcp.max_buffer: smaller than sip.limits.max_message_size"},
	/* zones */
	{"zones:\n  - name: a\n",
	 "t.yaml:2:5: zones[0].trust: missing required key"},
	{"zones:\n  - trust: trusted\n",
	 "t.yaml:2:5: zones[0].name: missing required key"},
	{"zones:\n  - {name: '', trust: trusted}\n",
	 "t.yaml:2:12: zones[0].name: must not be empty"},
	{"zones:\n  - {name: a b, trust: trusted}\n",
	 "t.yaml:2:12: zones[0].name: may hold only letters, digits, '-', '_' and '.'"},
	{"zones:\n  - {name: a, trust: maybe}\n",
	 "t.yaml:2:22: zones[0].trust: expected one of: untrusted, trusted"},
	{"zones:\n  - {name: a, trust: untrusted}\n",
	 "t.yaml:2:3: zones: no zone has a listen address"},
	{ZONE_MIN "  - {name: a, trust: trusted}\n",
	 "t.yaml:5:12: zones[1].name: zone name 'a' already used by zones[0]"},
	{ZONE_MIN
	 "  - {name: b, trust: trusted, listen: [udp:127.0.0.1:5060]}\n",
	 "t.yaml:5:40: zones[1].listen[0]: address listed twice"},
	{"zones:\n  - {name: a, trust: untrusted, listen: [a,b,c,d,e,f,g,h,i]}\n",
	 "t.yaml:2:42: zones[0].listen[0]: expected udp:, tcp: or tls: then ADDRESS:PORT"},
	{"zones:\n  - {name: a, trust: untrusted, listen: [udp:1.1.1.1:1,"
	 "udp:1.1.1.2:1,udp:1.1.1.3:1,udp:1.1.1.4:1,udp:1.1.1.5:1,"
	 "udp:1.1.1.6:1,udp:1.1.1.7:1,udp:1.1.1.8:1,udp:1.1.1.9:1]}\n",
	 "t.yaml:2:154: zones[0].listen[8]: too many entries (max 8)"},
	{"zones:\n"
	 "  - {name: a, trust: trusted}\n"
	 "  - {name: b, trust: trusted}\n  - {name: c, trust: trusted}\n"
	 "  - {name: d, trust: trusted}\n  - {name: e, trust: trusted}\n"
	 "  - {name: f, trust: trusted}\n  - {name: g, trust: trusted}\n"
	 "  - {name: h, trust: trusted}\n  - {name: i, trust: trusted}\n"
	 "  - {name: j, trust: trusted}\n  - {name: k, trust: trusted}\n"
	 "  - {name: l, trust: trusted}\n  - {name: m, trust: trusted}\n"
	 "  - {name: n, trust: trusted}\n  - {name: o, trust: trusted}\n"
	 "  - {name: p, trust: trusted}\n  - {name: q, trust: trusted}\n",
	 "t.yaml:18:5: zones[16]: too many entries (max 16)"},
	{"zones:\n  - {name: a, trust: trusted, listen: [[udp:1.1.1.1:1]]}\n",
	 "t.yaml:2:40: zones[0].listen[0]: expected a string, got a sequence"},
	{"zones:\n  - {name: a, trust: trusted, listen: ['']}\n",
	 "t.yaml:2:40: zones[0].listen[0]: must not be empty"},
	{"zones:\n  - {name: a, trust: trusted, route: {backends: [pbx]}}\n",
	 "t.yaml:2:50: zones[0].route.backends[0]: expected udp:, tcp: or tls: then ADDRESS:PORT"},
	{"zones:\n  - {name: a, trust: trusted, route: {trunk: 'udp:x:1'}}\n",
	 "t.yaml:2:46: zones[0].route.trunk: bad IPv4 address 'x'"},
	{"zones:\n  - {name: a, trust: trusted, route: {trnk: 1}}\n",
	 "t.yaml:2:39: zones[0].route.trnk: unknown key (did you mean 'trunk'?)"},
	/* YAML syntax */
	{"a: [\n",
	 "t.yaml:2:1: did not find expected node content while parsing a flow node"},
	{"a: b\n c: d\n",
	 "t.yaml:2:3: mapping values are not allowed in this context"},
	{"a: 1\n---\nb: 2\n", "t.yaml:2:1: only one YAML document is allowed"},
	{"a: *nope\n", "t.yaml:1:4: found undefined alias"},
	{"zones:\n  - name: \"a\x01\"\n",
	 "t.yaml:2:13: control characters are not allowed (#x1)"},
	{"a: \xff\n", "t.yaml:1:4: invalid leading UTF-8 octet (#xFF)"},
	{"\t- a\n",
	 "t.yaml:1:1: found character that cannot start any token while scanning for the next token"},
};

/* Inputs that would make libyaml slow are refused early. */
static void test_limits(void **state)
{
	char *doc = malloc(20000), err[CONF_ERR_LEN];
	struct sg_conf *c;
	size_t i, n = 0;

	(void)state;
	assert_non_null(doc);
	n += (size_t)sprintf(doc, "zones: ");
	for (i = 0; i < 5000; i++)
		doc[n++] = '[';
	doc[n] = '\0';
	assert_int_equal(load(&c, doc, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.yaml:1:39: nested too deeply");
	n = (size_t)sprintf(doc, "x: [");
	for (i = 0; i < 300; i++)
		n += (size_t)sprintf(doc + n, "&a%zu 1, ", i);
	strcpy(doc + n, "]\n");
	assert_int_equal(load(&c, doc, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.yaml:1:2199: too many anchors");
	free(doc);
}

static void test_invalid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		struct sg_conf *c = (struct sg_conf *)1;
		char err[CONF_ERR_LEN];
		int rc = load(&c, invalid[i].doc, err, sizeof(err));

		if (rc != -EINVAL || strcmp(err, invalid[i].err) != 0)
			fail_msg("case %zu: rc %d\n got  '%s'\n want '%s'", i,
				 rc, err, invalid[i].err);
		assert_null(c);
	}
}

static const struct {
	const char *in;
	int ok;          /* 1 valid, 0 invalid */
	const char *why; /* start of the reason when invalid */
} listens[] = {
	{"udp:127.0.0.1:5060", 1, NULL},
	{"tcp:0.0.0.0:1", 1, NULL},
	{"tls:[::]:5061", 1, NULL},
	{"udp:[fe80::1:2:3:4]:65535", 1, NULL},
	{"udp:[::ffff:192.0.2.1]:5060", 1, NULL},
	{"UDP:127.0.0.1:5060", 0, "expected udp:, tcp: or tls:"},
	{"sctp:127.0.0.1:5060", 0, "expected udp:, tcp: or tls:"},
	{"udp127.0.0.1:5060", 0, "expected udp:, tcp: or tls:"},
	{"udp:127.0.0.1", 0, "missing :PORT"},
	{"udp:127.0.0.1:", 0, "bad port '' (1..65535)"},
	{"udp:127.0.0.1:0", 0, "bad port '0' (1..65535)"},
	{"udp:127.0.0.1:65536", 0, "bad port '65536' (1..65535)"},
	{"udp:127.0.0.1:5060x", 0, "bad port '5060x' (1..65535)"},
	{"udp:127.0.0.1:-1", 0, "bad port '-1' (1..65535)"},
	{"udp:127.0.0.1:050600", 0, "bad port"},
	{"udp:256.0.0.1:5060", 0, "bad IPv4 address '256.0.0.1'"},
	{"udp:localhost:5060", 0, "bad IPv4 address 'localhost'"},
	{"udp:::1:5060", 0,
	 "bad IPv4 address '::1' (write IPv6 as [ADDR]:PORT)"},
	{"udp:[::1]5060", 0, "expected [IPv6]:PORT"},
	{"udp:[::1:5060", 0, "expected [IPv6]:PORT"},
	{"udp:[1.2.3.4]:5060", 0, "bad IPv6 address '1.2.3.4'"},
	{"udp:[::1%eth0]:5060", 0, "bad IPv6 address '::1%eth0'"},
	{"udp:[]:5060", 0, "bad address"},
	{"udp::5060", 0, "bad address"},
};

static void test_listen_syntax(void **state)
{
	char doc[512], err[CONF_ERR_LEN];
	struct conf_addr a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(listens) / sizeof(listens[0]); i++) {
		struct sg_conf *c = NULL;
		const char *msg;
		int rc;

		snprintf(doc, sizeof(doc),
			 "zones:\n  - name: a\n    trust: untrusted\n"
			 "    listen:\n      - '%s'\n",
			 listens[i].in);
		rc = load(&c, doc, err, sizeof(err));
		assert_int_equal(conf_addr_parse(&a, listens[i].in),
				 listens[i].ok ? 0 : -EINVAL);
		if (listens[i].ok) {
			if (rc)
				fail_msg("%s: %s", listens[i].in, err);
			conf_free(c);
			continue;
		}
		assert_int_equal(rc, -EINVAL);
		msg = "t.yaml:5:9: zones[0].listen[0]: ";
		if (strncmp(err, msg, strlen(msg)) ||
		    strncmp(err + strlen(msg), listens[i].why,
			    strlen(listens[i].why)))
			fail_msg("%s: got '%s'", listens[i].in, err);
	}
	assert_int_equal(conf_addr_parse(&a, "tls:[2001:db8::5]:5061"), 0);
	assert_int_equal(a.transport, CONF_TP_TLS);
	assert_int_equal(sg_addr_family(&a.addr), AF_INET6);
	assert_int_equal(sg_addr_port(&a.addr), 5061);
	assert_int_equal(conf_addr_parse(NULL, "udp:1.1.1.1:1"), -EINVAL);
}

/* ------------------------------------------------------------ generic */

struct t_item {
	char id[8];
	int64_t n;
};

struct t_sub {
	bool on;
	int64_t wait;
};

struct t_root {
	bool flag;
	int64_t num;
	int64_t dur;
	int64_t sz;
	char s[8];
	char pass[16];
	int color;
	char tags[3][6];
	size_t n_tags;
	struct t_sub sub;
	struct t_item items[2];
	size_t n_items;
};

static const struct conf_enum colors[] = {
	{"red", 1},
	{"green", 2},
	{NULL, 0},
};

static const struct conf_opt t_sub_opts[] = {
	CONF_OPT_BOOL(struct t_sub, on, "true", CONF_RELOAD, "On."),
	CONF_OPT_DURATION(struct t_sub, wait, "0s", 0, INT64_MAX, CONF_RELOAD,
			  "Wait."),
	CONF_OPT_END,
};
static const struct conf_section t_sub_sec = {
	.name = "sub",
	.size = sizeof(struct t_sub),
	.opts = t_sub_opts,
};

static const struct conf_opt t_item_opts[] = {
	CONF_OPT_STRING(struct t_item, id, NULL, 1, NULL, CONF_REQUIRED, "Id."),
	CONF_OPT_INT(struct t_item, n, "7", -5, 5000, 0, "N."),
	CONF_OPT_END,
};
static const struct conf_section t_item_sec = {
	.name = "items[]",
	.size = sizeof(struct t_item),
	.opts = t_item_opts,
};

static const struct conf_opt t_opts[] = {
	CONF_OPT_BOOL(struct t_root, flag, "false", 0, "Flag."),
	CONF_OPT_INT(struct t_root, num, "-3", INT64_MIN, INT64_MAX, 0, "Num."),
	CONF_OPT_DURATION(struct t_root, dur, "1m", 1, INT64_MAX, 0, "Dur."),
	CONF_OPT_SIZE(struct t_root, sz, "1g", 0, INT64_MAX, 0, "Size."),
	CONF_OPT_STRING(struct t_root, s, "dflt", 0, NULL, 0, "Str."),
	CONF_OPT_STRING(struct t_root, pass, "", 0, NULL,
			CONF_SECRET | CONF_RELOAD, "Secret."),
	CONF_OPT_ENUM(struct t_root, color, "green", colors, 0, "Color."),
	CONF_OPT_STRLIST(struct t_root, tags, 0, NULL, CONF_RELOAD, "Tags."),
	CONF_OPT_SECTION(struct t_root, sub, t_sub_sec, 0, "Sub."),
	CONF_OPT_SECLIST(struct t_root, items, t_item_sec, 0, 0, "Items."),
	CONF_OPT_END,
};
static const struct conf_section t_root_sec = {
	.name = "t",
	.size = sizeof(struct t_root),
	.opts = t_opts,
};

static int tload(struct t_root *r, const char *text, char *err, size_t errsz)
{
	return conf_schema_load(&t_root_sec, r, "g.yaml", text, strlen(text),
				err, errsz);
}

static void test_generic_types(void **state)
{
	struct t_root r;
	char err[CONF_ERR_LEN] = "";

	(void)state;
	if (conf_schema_verify(&t_root_sec, err, sizeof(err)))
		fail_msg("%s", err);
	/* All defaults. */
	assert_int_equal(tload(&r, "{}", err, sizeof(err)), 0);
	assert_false(r.flag);
	assert_int_equal(r.num, -3);
	assert_int_equal(r.dur, 60000);
	assert_int_equal(r.sz, 1 << 30);
	assert_string_equal(r.s, "dflt");
	assert_int_equal(r.color, 2);
	assert_int_equal(r.n_tags, 0);
	assert_true(r.sub.on);
	assert_int_equal(r.n_items, 0);
	/* Every type set. */
	assert_int_equal(
		tload(&r,
		      "flag: TRUE\nnum: -9223372036854775808\n"
		      "dur: 2562047788015h\nsz: 8589934591g\n"
		      "s: '1234567'\npass: hunter2\ncolor: red\n"
		      "tags: [a, bbbbb, c]\nsub: {on: False, wait: 0}\n"
		      "items: [{id: x}, {id: y, n: -5}]\n",
		      err, sizeof(err)),
		0);
	assert_true(r.flag);
	assert_true(r.num == INT64_MIN);
	assert_true(r.dur == 2562047788015LL * 3600000);
	assert_true(r.sz == 8589934591LL << 30);
	assert_string_equal(r.s, "1234567");
	assert_string_equal(r.pass, "hunter2");
	assert_int_equal(r.color, 1);
	assert_int_equal(r.n_tags, 3);
	assert_string_equal(r.tags[1], "bbbbb");
	assert_false(r.sub.on);
	assert_int_equal(r.sub.wait, 0);
	assert_int_equal(r.n_items, 2);
	assert_string_equal(r.items[0].id, "x");
	assert_int_equal(r.items[0].n, 7);
	assert_int_equal(r.items[1].n, -5);
}

static const struct {
	const char *doc;
	const char *err;
} generic_bad[] = {
	{"flag: yes", "g.yaml:1:7: flag: expected true or false"},
	{"flag: ",
	 "g.yaml:1:6: flag: expected true or false, got an empty value"},
	{"num: 9223372036854775808",
	 "g.yaml:1:6: num: 9223372036854775808 out of range (min -9223372036854775808, max 9223372036854775807)"},
	{"num: --1", "g.yaml:1:6: num: expected an integer"},
	{"num: +1", "g.yaml:1:6: num: expected an integer"},
	{"num: 0x10", "g.yaml:1:6: num: expected an integer"},
	{"num: '-'", "g.yaml:1:6: num: expected an integer"},
	{"dur: 2562047788016h",
	 "g.yaml:1:6: dur: 2562047788016h out of range (min 1ms, max 9223372036854775807ms)"},
	{"dur: 0",
	 "g.yaml:1:6: dur: 0 out of range (min 1ms, max 9223372036854775807ms)"},
	{"dur: 1d",
	 "g.yaml:1:6: dur: expected a duration such as 250ms, 30s, 5m or 1h"},
	{"dur: ms",
	 "g.yaml:1:6: dur: expected a duration such as 250ms, 30s, 5m or 1h"},
	{"dur: -1s",
	 "g.yaml:1:6: dur: expected a duration such as 250ms, 30s, 5m or 1h"},
	{"sz: 8589934592g",
	 "g.yaml:1:5: sz: 8589934592g out of range (min 0, max 9223372036854775807)"},
	{"sz: 1kb", "g.yaml:1:5: sz: expected a size such as 4096, 64k or 1m"},
	{"s: '12345678'", "g.yaml:1:4: s: longer than 7 bytes"},
	{"s: \"\\x85\"", "g.yaml:1:4: s: contains a control character"},
	{"s: \"\\uFEFF\"", "g.yaml:1:4: s: contains a control character"},
	{"s: \"\\x7f\"", "g.yaml:1:4: s: contains a control character"},
	{"color: Red", "g.yaml:1:8: color: expected one of: red, green"},
	{"tags: [a, b, c, d]",
	 "g.yaml:1:17: tags[3]: too many entries (max 3)"},
	{"tags: [abcdef]", "g.yaml:1:8: tags[0]: longer than 5 bytes"},
	{"tags: a", "g.yaml:1:7: tags: expected a sequence, got a scalar"},
	{"sub: {on: 1}", "g.yaml:1:11: sub.on: expected true or false"},
	{"sub: {wait: 1s, wait: 2s}", "g.yaml:1:17: sub.wait: duplicate key"},
	{"items: [{id: a}, {n: 1}]",
	 "g.yaml:1:18: items[1].id: missing required key"},
	{"items: [{id: a}, {id: b}, {id: c}]",
	 "g.yaml:1:27: items[2]: too many entries (max 2)"},
	{"items: [{id: a, n: 5001}]",
	 "g.yaml:1:20: items[0].n: 5001 out of range (min -5, max 5000)"},
	{"? xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n: 1",
	 "g.yaml:1:3: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...: unknown key"},
	{"\"a\\tb\": 1", "g.yaml:1:1: a?b: unknown key"},
	{"\"\": 1", "g.yaml:1:1: \"\": unknown key"},
	{"!foo {}", "g.yaml:1:1: (top): explicit YAML tags are not supported"},
};

static void test_generic_invalid(void **state)
{
	struct t_root r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(generic_bad) / sizeof(generic_bad[0]); i++) {
		char err[CONF_ERR_LEN] = "";
		int rc = tload(&r, generic_bad[i].doc, err, sizeof(err));

		if (rc != -EINVAL || strcmp(err, generic_bad[i].err) != 0)
			fail_msg("case %zu: rc %d\n got  '%s'\n want '%s'", i,
				 rc, err, generic_bad[i].err);
	}
	/* Small and absent error buffers are fine. */
	{
		char small[8];

		assert_int_equal(tload(&r, "flag: 3", small, sizeof(small)),
				 -EINVAL);
		assert_string_equal(small, "g.yaml:");
		assert_int_equal(tload(&r, "flag: 3", NULL, 0), -EINVAL);
	}
}

/* Dump to memory: mem_alloc is not used, so failure injection and leak
 * counts are unaffected. */
static char *dump_str(const struct conf_section *sec, const void *obj)
{
	char *p = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&p, &n);

	assert_non_null(f);
	if (sec)
		conf_schema_dump(sec, obj, f);
	else
		conf_dump(obj, f);
	fclose(f);
	return p;
}

static void test_dump_roundtrip(void **state)
{
	struct sg_conf *a, *b;
	struct t_root r, r2;
	char err[CONF_ERR_LEN], *text;

	(void)state;
	a = load_ok(
		"log: {level: warn}\nsip: {t1: 1500ms, user_agent: 'q\"\\'}\n"
		"zones:\n  - name: x\n    trust: trusted\n"
		"    listen: ['udp:[::1]:5060']\n"
		"    tcp: {max_buffer: 65537, idle_timeout: 59m}\n"
		"  - {name: y, trust: untrusted, route: {backends: "
		"[udp:1.2.3.4:5, tcp:1.2.3.4:6]}}\n");
	text = dump_str(NULL, a);
	assert_non_null(strstr(text, "  t1: 1500ms\n"));
	assert_non_null(strstr(text, "  user_agent: \"q\\\"\\\\\"\n"));
	assert_non_null(strstr(text, "      idle_timeout: 59m\n"));
	assert_non_null(strstr(text, "      max_buffer: 65537\n"));
	assert_non_null(
		strstr(text, "  - name: \"y\"\n    trust: untrusted\n"));
	assert_int_equal(load(&b, text, err, sizeof(err)), 0);
	assert_memory_equal(a, b, sizeof(*a));
	free(text);
	conf_free(a);
	conf_free(b);

	/* Secrets never appear; "~" reads back as unset. */
	assert_int_equal(tload(&r, "pass: hunter2\ntags: [a]\nitems: [{id: z}]",
			       err, sizeof(err)),
			 0);
	text = dump_str(&t_root_sec, &r);
	assert_null(strstr(text, "hunter2"));
	assert_non_null(strstr(text, "pass: ~  # secret, not shown\n"));
	assert_non_null(strstr(text, "sz: 1g\n"));
	assert_int_equal(tload(&r2, text, err, sizeof(err)), 0);
	assert_string_equal(r2.pass, "");
	memset(r2.pass, 0, sizeof(r2.pass));
	memset(r.pass, 0, sizeof(r.pass));
	assert_memory_equal(&r, &r2, sizeof(r));
	free(text);
}

static void test_reload_check(void **state)
{
	struct sg_conf *a = load_ok(ZONE_MIN), *b = load_ok(ZONE_MIN);
	char err[CONF_ERR_LEN] = "";

	(void)state;
	assert_int_equal(conf_reload_check(a, b, err, sizeof(err)), 0);
	/* Reloadable: log level, user agent, backends. */
	b->log.level = LOG_LVL_DEBUG;
	strcpy(b->sip.user_agent, "other");
	b->zones[0].route.n_backends = 1;
	strcpy(b->zones[0].route.backends[0], "udp:1.1.1.1:1");
	assert_int_equal(conf_reload_check(a, b, err, sizeof(err)), 0);
	/* Not reloadable: pools, listen sockets, zone count. */
	b->sip.max_dialogs = 5;
	assert_int_equal(conf_reload_check(a, b, err, sizeof(err)), -EBUSY);
	assert_string_equal(err, "sip.max_dialogs: cannot change on reload, "
				 "restart needed");
	b->sip.max_dialogs = a->sip.max_dialogs;
	strcpy(b->zones[0].listen[0], "udp:127.0.0.1:5061");
	assert_int_equal(conf_reload_check(a, b, err, sizeof(err)), -EBUSY);
	assert_string_equal(err, "zones[0].listen: cannot change on reload, "
				 "restart needed");
	strcpy(b->zones[0].listen[0], a->zones[0].listen[0]);
	b->n_zones = 2;
	assert_int_equal(conf_reload_check(a, b, err, sizeof(err)), -EBUSY);
	assert_string_equal(err, "zones: cannot change on reload, restart "
				 "needed");
	/* Every option that needs a restart is named, in table order. */
	b->n_zones = a->n_zones;
	b->sip.max_dialogs = 5;
	strcpy(b->zones[0].listen[0], "udp:127.0.0.1:5061");
	assert_int_equal(conf_reload_check(a, b, err, sizeof(err)), -EBUSY);
	assert_string_equal(err, "sip.max_dialogs, zones[0].listen: cannot "
				 "change on reload, restart needed");
	conf_free(a);
	conf_free(b);
}

static void test_oom(void **state)
{
	static const char path[] = "test_conf.tmp.yaml";
	FILE *f = fopen(path, "w");
	size_t n;

	(void)state;
	assert_non_null(f);
	fputs(ZONE_MIN, f);
	fclose(f);
	for (n = 1; n < 10; n++) {
		struct sg_conf *c = (struct sg_conf *)1;
		char err[CONF_ERR_LEN];
		int rc;

		mem_fail_nth(n);
		rc = conf_load(&c, path, err, sizeof(err));
		mem_fail_nth(0);
		if (rc == 0) {
			assert_non_null(c);
			conf_free(c);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_null(c);
		assert_non_null(strstr(err, "out of memory"));
		assert_int_equal(mem_live(), 0);
	}
	assert_true(n > 2); /* both the file buffer and the struct failed */
	unlink(path);
	assert_int_equal(mem_live(), 0);
}

static void test_files_and_args(void **state)
{
	static const char path[] = "test_conf.big.yaml";
	struct sg_conf *c = (struct sg_conf *)1;
	char err[CONF_ERR_LEN];
	FILE *f;
	size_t i;

	(void)state;
	assert_int_equal(conf_load(&c, "/nonexistent/x.yaml", err, sizeof(err)),
			 -ENOENT);
	assert_null(c);
	assert_string_equal(err,
			    "/nonexistent/x.yaml: No such file or directory");
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i <= CONF_MAX_FILE / 16; i++)
		fputs("# padding......\n", f);
	fclose(f);
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), -EFBIG);
	assert_string_equal(err,
			    "test_conf.big.yaml: larger than 1048576 bytes");
	unlink(path);
	assert_int_equal(conf_load(NULL, "x", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_load(&c, NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_load_str(&c, NULL, "", 0, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(conf_load_str(&c, "n", NULL, 1, NULL, 0), -EINVAL);
	assert_int_equal(conf_load_str(&c, "n", NULL, 0, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "n:1:1: zones: missing required key");
	conf_free(NULL);
	conf_dump(NULL, stdout);
	assert_int_equal(mem_live(), 0);
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	p = calloc(1, (size_t)n + 1);
	if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	fclose(f);
	return p;
}

/* docs/config.md must be what the table says. */
static void test_reference_doc(void **state)
{
	char *want = read_all("docs/config.md"), *got = NULL;
	size_t n = 0;
	FILE *f;

	(void)state;
	if (!want)
		skip(); /* not run from the repository root */
	f = open_memstream(&got, &n);
	conf_print_reference(f);
	fclose(f);
	if (strcmp(got, want))
		fail_msg("docs/config.md is stale: regenerate it with "
			 "`test_conf --reference > docs/config.md`");
	assert_non_null(strstr(got, "| `zones[].listen` |"));
	free(got);
	free(want);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_verify),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_listen_syntax),
		cmocka_unit_test(test_generic_types),
		cmocka_unit_test(test_generic_invalid),
		cmocka_unit_test(test_dump_roundtrip),
		cmocka_unit_test(test_reload_check),
		cmocka_unit_test(test_oom),
		cmocka_unit_test(test_files_and_args),
		cmocka_unit_test(test_reference_doc),
	};
	int rc;

	if (argc > 1 && !strcmp(argv[1], "--reference")) {
		conf_print_reference(stdout);
		return 0;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	assert_no_leaks();
	return rc;
}
