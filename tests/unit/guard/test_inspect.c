/*
 * test_inspect.c - the inspect module on a fake clock: sliding windows,
 * per-class and per-user rate limits, scanner rules (fingerprint,
 * structure, distinct users, OPTIONS sweep, failures), holding, overload,
 * monitor mode, table eviction, no allocation per request, no leaks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "guard/inspect.h"
#include "guard/window.h"

/* ------------------------------------------------------------ helpers */

static struct sip_msg msg;
static char msgbuf[4096];
static unsigned seq;

/*
 * A request shaped like a softphone's (nothing a structural signature
 * knows).  user NULL: no user in the Request-URI (To gets "nobody").
 * host: Request-URI host.  extra: more header lines or "".
 */
static const struct sip_msg *req_full(const char *method, const char *user,
				      const char *host, const char *ua,
				      const char *extra)
{
	struct sip_perr e;
	bool reg = strcmp(method, "REGISTER") == 0;
	int n;

	seq++;
	n = snprintf(msgbuf, sizeof(msgbuf),
		     "%s sip:%s%s%s SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK.%08x;"
		     "rport\r\n"
		     "From: <sip:alice@example.com>;tag=f%08x\r\n"
		     "To: <sip:%s@example.com>\r\n"
		     "Call-ID: c%08x@192.0.2.10\r\n"
		     "CSeq: 1 %s\r\n"
		     "Max-Forwards: 70\r\n"
		     "User-Agent: %s\r\n"
		     "%s"
		     "Content-Length: 0\r\n\r\n",
		     method, reg || !user ? "" : user, reg || !user ? "" : "@",
		     host, seq, seq, user ? user : "nobody", seq, method, ua,
		     extra);
	assert_true(n > 0 && (size_t)n < sizeof(msgbuf));
	if (sip_msg_parse(&msg, msgbuf, (size_t)n, NULL, SIP_PARSE_DGRAM, &e))
		fail_msg("parse: %s at %u\n%s", e.reason, e.off, msgbuf);
	return &msg;
}

static const struct sip_msg *req(const char *method, const char *user)
{
	return req_full(method, user, "example.com", "Linphone/5.2.0", "");
}

static const char auth_hdr[] =
	"Authorization: Digest username=\"u\", realm=\"example.com\", "
	"nonce=\"n1\", uri=\"sip:example.com\", "
	"response=\"00112233445566778899aabbccddeeff\", algorithm=MD5\r\n";

static struct sip_peer peer(const char *ip)
{
	struct sip_peer p;

	memset(&p, 0, sizeof(p));
	assert_int_equal(sg_addr_from_host(&p.addr, str_cstr(ip), 5060), 0);
	return p;
}

static struct inspect *make(const struct inspect_conf *c)
{
	struct inspect *in = NULL;
	char err[128];

	if (inspect_new(&in, c, err, sizeof(err)) != 0)
		fail_msg("inspect_new: %s", err);
	return in;
}

/* A configuration with every rule off; tests switch on what they test. */
static void conf_quiet(struct inspect_conf *c)
{
	unsigned i;

	inspect_conf_default(c);
	for (i = 0; i < INSPECT_C__COUNT; i++)
		c->rate[i].max = 0;
	c->user.max = 0;
	c->fingerprints = false;
	c->structure = false;
	c->users_max = 0;
	c->users_burst = 0;
	c->options_targets.max = 0;
	c->fail.max = 0;
}

static struct guard_verdict v;

static const char *run(struct inspect *in, const struct sip_msg *m,
		       const char *ip, bool trusted, bool in_dialog,
		       uint64_t now)
{
	struct sip_peer p = peer(ip);

	assert_int_equal(
		inspect_request(in, m, &p, trusted, in_dialog, now, &v), 0);
	if (v.action == GUARD_PASS) {
		assert_null(v.rule);
		return "pass";
	}
	assert_non_null(v.rule);
	return v.rule;
}

static const char *answer(struct inspect *in, const char *ip, enum sip_method m,
			  const char *user, int status, uint64_t now)
{
	struct sip_peer p = peer(ip);

	inspect_response(in, &p.addr, m, str_cstr(user), status, now, &v);
	return v.action == GUARD_PASS ? "pass" : v.rule;
}

/* ------------------------------------------------------------ windows */

static void test_window_ctr(void **state)
{
	struct win_ctr c;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(win_ctr_add(&c, 100, 1000, 10), 10);
	assert_int_equal(win_ctr_read(&c, 999, 1000), 10);
	/* Next window: the previous one weighs by its overlap. */
	assert_int_equal(win_ctr_read(&c, 1000, 1000), 10);
	assert_int_equal(win_ctr_read(&c, 1500, 1000), 5);
	assert_int_equal(win_ctr_read(&c, 1900, 1000), 1);
	assert_int_equal(win_ctr_read(&c, 2000, 1000), 0);
	assert_int_equal(win_ctr_read(&c, 99999, 1000), 0);
	assert_int_equal(win_ctr_add(&c, 1250, 1000, 4), 4 + 7);
	/* Two windows later nothing is left. */
	assert_int_equal(win_ctr_add(&c, 3100, 1000, 1), 1);
	/* A clock going back stays in the current window. */
	assert_int_equal(win_ctr_add(&c, 10, 1000, 1), 2);
	/* Saturation. */
	assert_int_equal(win_ctr_add(&c, 3200, 1000, UINT32_MAX), UINT32_MAX);
	/* Period 0 is taken as 1. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(win_ctr_add(&c, 5, 0, 3), 3);
}

static void test_window_bits(void **state)
{
	struct win_bits b;
	uint64_t h;
	unsigned i;

	(void)state;
	memset(&b, 0, sizeof(b));
	for (i = 0; i < 8; i++)
		win_bits_set(&b, 10, 1000, (uint64_t)i << 56);
	win_bits_set(&b, 20, 1000, (uint64_t)3 << 56); /* duplicate */
	assert_int_equal(win_bits_popcount(b.cur), 8);
	assert_int_equal(win_bits_estimate(8), 8);
	win_bits_rotate(&b, 1500, 1000);
	assert_int_equal(win_bits_popcount(b.cur), 0);
	assert_int_equal(win_bits_popcount(b.prev), 8);
	win_bits_rotate(&b, 5000, 1000);
	assert_int_equal(win_bits_popcount(b.prev), 0);
	assert_int_equal(win_bits_estimate(0), 0);
	assert_int_equal(win_bits_estimate(WIN_BITS), 4 * WIN_BITS);
	/* Estimates grow with the bits and correct for collisions. */
	for (i = 1; i < WIN_BITS; i++)
		assert_true(win_bits_estimate(i) >= i &&
			    win_bits_estimate(i) >= win_bits_estimate(i - 1));
	h = ~(uint64_t)0;
	assert_int_equal(win_bits_index(h), WIN_BITS - 1);
}

/* ------------------------------------------------------ configuration */

static void test_conf(void **state)
{
	struct inspect_conf c;
	struct inspect *in = NULL;
	char err[128];
	unsigned i;

	(void)state;
	for (i = 0; i < 7; i++) {
		inspect_conf_default(&c);
		switch (i) {
		case 0:
			c.rate[INSPECT_C_OTHER].window_ms = 0;
			break;
		case 1:
			c.users_grace_ms = c.users_window_ms;
			break;
		case 2:
			c.src_slots = 0;
			break;
		case 3:
			c.user_slots = INSPECT_MAX_SLOTS + 1;
			break;
		case 4:
			c.overload_retry_after = INSPECT_RETRY_AFTER_MAX + 1;
			break;
		case 5:
			c.fail.window_ms = INSPECT_MAX_WINDOW_MS + 1;
			break;
		default:
			c.user.window_ms = 0;
			break;
		}
		err[0] = '\0';
		assert_int_equal(inspect_new(&in, &c, err, sizeof(err)),
				 -EINVAL);
		assert_null(in);
		assert_true(strncmp(err, "inspect: bad ", 13) == 0);
	}
	assert_int_equal(inspect_new(NULL, &c, err, sizeof(err)), -EINVAL);
	inspect_conf_default(&c);
	assert_int_equal(inspect_new(&in, NULL, NULL, 0), -EINVAL);
	in = make(&c);
	inspect_free(in);
	inspect_free(NULL);
}

static void test_oom(void **state)
{
	struct inspect_conf c;
	struct inspect *in = NULL;
	size_t n;
	int rc;

	(void)state;
	inspect_conf_default(&c);
	for (n = 1;; n++) {
		mem_fail_nth(n);
		rc = inspect_new(&in, &c, NULL, 0);
		mem_fail_nth(0);
		if (rc == 0)
			break;
		assert_int_equal(rc, -ENOMEM);
		assert_null(in);
		assert_no_leaks();
	}
	assert_true(n > 1);
	inspect_free(in);
}

static void test_rule_names(void **state)
{
	static const char *const cls[INSPECT_C__COUNT] = {
		"rate-invite",    "rate-register", "rate-options",
		"rate-subscribe", "rate-message",  "rate-other",
	};
	unsigned i;

	(void)state;
	for (i = 0; i < INSPECT_C__COUNT; i++)
		assert_string_equal(
			inspect_rule_name(INSPECT_R_RATE_INVITE + i), cls[i]);
	for (i = 0; i < INSPECT_R__COUNT; i++)
		assert_true(strlen(inspect_rule_name(i)) > 0);
	assert_string_equal(inspect_rule_name(INSPECT_R__COUNT), "");
	assert_int_equal(inspect_class_of(SIP_METHOD_PUBLISH), INSPECT_C_OTHER);
	assert_int_equal(inspect_class_of(SIP_METHOD_UNKNOWN), INSPECT_C_OTHER);
}

static void test_args(void **state)
{
	struct inspect_conf c;
	struct inspect *in;
	struct sip_peer p = peer("192.0.2.1");
	const struct sip_msg *m;

	(void)state;
	inspect_conf_default(&c);
	in = make(&c);
	m = req("INVITE", "bob");
	assert_int_equal(inspect_request(NULL, m, &p, false, false, 0, &v),
			 -EINVAL);
	assert_int_equal(v.action, GUARD_PASS);
	assert_int_equal(inspect_request(in, NULL, &p, false, false, 0, &v),
			 -EINVAL);
	assert_int_equal(inspect_request(in, m, NULL, false, false, 0, &v),
			 -EINVAL);
	assert_int_equal(inspect_request(in, m, &p, false, false, 0, NULL),
			 -EINVAL);
	msg.is_request = false;
	assert_int_equal(inspect_request(in, m, &p, false, false, 0, &v),
			 -EINVAL);
	/* Provisional and nonsense statuses are ignored. */
	assert_string_equal(
		answer(in, "192.0.2.1", SIP_METHOD_INVITE, "bob", 180, 0),
		"pass");
	assert_string_equal(
		answer(in, "192.0.2.1", SIP_METHOD_INVITE, "bob", 7000, 0),
		"pass");
	inspect_response(NULL, &p.addr, SIP_METHOD_INVITE, STR("x"), 404, 0,
			 &v);
	assert_int_equal(v.action, GUARD_PASS);
	inspect_free(in);
}

/* ---------------------------------------------------------- rate limits */

static void test_rate_classes(void **state)
{
	static const struct {
		const char *method, *rule;
		enum inspect_class cls;
	} cases[] = {
		{"INVITE", "rate-invite", INSPECT_C_INVITE},
		{"REGISTER", "rate-register", INSPECT_C_REGISTER},
		{"OPTIONS", "rate-options", INSPECT_C_OPTIONS},
		{"SUBSCRIBE", "rate-subscribe", INSPECT_C_SUBSCRIBE},
		{"MESSAGE", "rate-message", INSPECT_C_MESSAGE},
		{"INFO", "rate-other", INSPECT_C_OTHER},
		{"BYE", "rate-other", INSPECT_C_OTHER},
		{"PUBLISH", "rate-other", INSPECT_C_OTHER},
		{"FOO", "rate-other", INSPECT_C_OTHER},
	};
	size_t i;
	unsigned k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct inspect_conf c;
		struct inspect *in;

		conf_quiet(&c);
		c.rate[cases[i].cls] = (struct inspect_rate){5, 1000};
		in = make(&c);
		for (k = 0; k < 5; k++)
			assert_string_equal(run(in, req(cases[i].method, "bob"),
						"198.51.100.1", false, false,
						k * 10),
					    "pass");
		assert_string_equal(run(in, req(cases[i].method, "bob"),
					"198.51.100.1", false, false, 60),
				    cases[i].rule);
		assert_int_equal(v.action, GUARD_DROP);
		assert_false(v.ban);
		assert_false(v.monitor);
		assert_non_null(v.why);
		/* Another source has its own budget. */
		assert_string_equal(run(in, req(cases[i].method, "bob"),
					"198.51.100.2", false, false, 60),
				    "pass");
		/* Two windows later the source is clean again. */
		assert_string_equal(run(in, req(cases[i].method, "bob"),
					"198.51.100.1", false, false, 2000),
				    "pass");
		assert_int_equal(
			inspect_hits(in, INSPECT_R_RATE_INVITE + cases[i].cls),
			1);
		inspect_free(in);
	}
}

static void test_rate_sliding(void **state)
{
	struct inspect_conf c;
	struct inspect *in;
	unsigned k;

	(void)state;
	conf_quiet(&c);
	c.rate[INSPECT_C_INVITE] = (struct inspect_rate){10, 1000};
	in = make(&c);
	for (k = 0; k < 10; k++)
		assert_string_equal(run(in, req("INVITE", "bob"), "192.0.2.7",
					false, false, 100 + k),
				    "pass");
	/* Half-way into the next window half of the 10 still count. */
	for (k = 0; k < 5; k++)
		assert_string_equal(run(in, req("INVITE", "bob"), "192.0.2.7",
					false, false, 1500),
				    "pass");
	assert_string_equal(
		run(in, req("INVITE", "bob"), "192.0.2.7", false, false, 1500),
		"rate-invite");
	/* Dropped requests count too: a steady flood stays over. */
	for (k = 0; k < 20; k++)
		run(in, req("INVITE", "bob"), "192.0.2.7", false, false,
		    2000 + k * 50);
	assert_string_equal(
		run(in, req("INVITE", "bob"), "192.0.2.7", false, false, 3100),
		"rate-invite");
	inspect_free(in);
}

static void test_rate_reply_503(void **state)
{
	struct inspect_conf c;
	struct inspect *in;

	(void)state;
	conf_quiet(&c);
	c.rate_reply_503 = true;
	c.rate[INSPECT_C_INVITE] = (struct inspect_rate){1, 2500};
	c.rate[INSPECT_C_OTHER] = (struct inspect_rate){1, 1000};
	in = make(&c);
	run(in, req("INVITE", "bob"), "192.0.2.8", false, false, 0);
	assert_string_equal(
		run(in, req("INVITE", "bob"), "192.0.2.8", false, false, 1),
		"rate-invite");
	assert_int_equal(v.action, GUARD_REPLY);
	assert_int_equal(v.status, 503);
	assert_string_equal(v.reason, "Service Unavailable");
	assert_str_equal_cstr(str_make(v.extra, v.extra_len),
			      "Retry-After: 3\r\n");
	/* ACK cannot be answered: dropped. */
	run(in, req("ACK", "bob"), "192.0.2.8", false, false, 0);
	assert_string_equal(
		run(in, req("ACK", "bob"), "192.0.2.8", false, false, 1),
		"rate-other");
	assert_int_equal(v.action, GUARD_DROP);
	inspect_free(in);
}

static void test_in_dialog_and_trusted(void **state)
{
	struct inspect_conf c;
	struct inspect *in;
	unsigned k;

	(void)state;
	conf_quiet(&c);
	c.rate[INSPECT_C_OTHER] = (struct inspect_rate){3, 1000};
	c.rate_in_dialog = false;
	in = make(&c);
	for (k = 0; k < 10; k++)
		assert_string_equal(run(in, req("INFO", "bob"), "192.0.2.9",
					false, true, k),
				    "pass");
	/* The trusted zone is not limited by default. */
	for (k = 0; k < 10; k++)
		assert_string_equal(
			run(in, req("INFO", "bob"), "10.0.0.2", true, false, k),
			"pass");
	assert_int_equal(inspect_src_count(in), 1);
	inspect_free(in);

	c.rate_in_dialog = true;
	c.limit_trusted = true;
	in = make(&c);
	for (k = 0; k < 3; k++)
		assert_string_equal(
			run(in, req("INFO", "bob"), "10.0.0.2", true, true, k),
			"pass");
	assert_string_equal(
		run(in, req("INFO", "bob"), "10.0.0.2", true, true, 5),
		"rate-other");
	inspect_free(in);
}

static void test_user_limit(void **state)
{
	struct inspect_conf c;
	struct inspect *in;
	char ip[32];
	unsigned k;

	(void)state;
	conf_quiet(&c);
	c.user = (struct inspect_rate){10, 10000};
	in = make(&c);
	for (k = 0; k < 10; k++) {
		snprintf(ip, sizeof(ip), "203.0.113.%u", k + 1);
		assert_string_equal(run(in, req("REGISTER", "bob"), ip, false,
					false, k * 100),
				    "pass");
	}
	assert_string_equal(run(in, req("REGISTER", "Bob"), "203.0.113.99",
				false, false, 1000),
			    "rate-user");
	assert_int_equal(v.action, GUARD_DROP);
	assert_false(v.ban);
	/* Other users, in-dialog requests and the trusted zone pass. */
	assert_string_equal(run(in, req("INVITE", "carol"), "203.0.113.99",
				false, false, 1000),
			    "pass");
	assert_string_equal(
		run(in, req("BYE", "bob"), "203.0.113.99", false, true, 1000),
		"pass");
	assert_string_equal(
		run(in, req("INVITE", "bob"), "10.0.0.1", true, false, 1000),
		"pass");
	/* INVITE targets the Request-URI user: same counter. */
	assert_string_equal(run(in, req("INVITE", "bob"), "203.0.113.98", false,
				false, 1000),
			    "rate-user");
	assert_string_equal(run(in, req("INVITE", "bob"), "203.0.113.98", false,
				false, 30000),
			    "pass");
	inspect_free(in);
}

/* ----------------------------------------------------------- scanners */

static void test_scanner_ua_and_hold(void **state)
{
	struct inspect_conf c;
	struct inspect *in;

	(void)state;
	conf_quiet(&c);
	c.fingerprints = true;
	c.scanner_hold_ms = 60000;
	in = make(&c);
	assert_string_equal(run(in,
				req_full("OPTIONS", "100", "example.com",
					 "Friendly-Scanner", ""),
				"127.0.0.66", false, false, 0),
			    "scanner-ua");
	assert_int_equal(v.action, GUARD_DROP);
	assert_true(v.ban);
	/* Whatever it sends next is dropped, answers to it too. */
	assert_string_equal(run(in, req("REGISTER", "100"), "127.0.0.66", false,
				false, 1000),
			    "scanner-held");
	assert_true(v.ban);
	assert_string_equal(
		answer(in, "127.0.0.66", SIP_METHOD_REGISTER, "100", 401, 1000),
		"scanner-held");
	/* Others pass; so does it once the hold is over. */
	assert_string_equal(run(in, req("REGISTER", "100"), "127.0.0.1", false,
				false, 1000),
			    "pass");
	assert_string_equal(run(in, req("REGISTER", "100"), "127.0.0.66", false,
				false, 61001),
			    "pass");
	/* The UA check also runs inside dialogs and on every UA line. */
	assert_string_equal(
		run(in,
		    req_full("BYE", "100", "example.com", "Linphone",
			     "User-Agent: sipcli/v1.8\r\n"),
		    "127.0.0.67", false, true, 0),
		"scanner-ua");
	assert_int_equal(inspect_hits(in, INSPECT_R_SCANNER_UA), 2);
	assert_int_equal(inspect_hits(in, INSPECT_R_SCANNER_HELD), 2);
	inspect_free(in);
}

/* An administrator lifts the ban: the hold goes with it. */
static void test_release(void **state)
{
	struct inspect_conf c;
	struct inspect *in;
	struct sip_peer p = peer("127.0.0.66"), q = peer("127.0.0.67");
	struct guard_src s, t;

	(void)state;
	conf_quiet(&c);
	c.fingerprints = true;
	c.scanner_hold_ms = 60000;
	in = make(&c);
	guard_src_from_addr(&s, &p.addr);
	guard_src_from_addr(&t, &q.addr);
	assert_false(inspect_release(in, &s, 0)); /* never seen */
	assert_string_equal(run(in,
				req_full("OPTIONS", "100", "example.com",
					 "friendly-scanner", ""),
				"127.0.0.66", false, false, 0),
			    "scanner-ua");
	assert_false(inspect_release(in, &t, 10)); /* not this one */
	assert_string_equal(
		run(in, req("OPTIONS", "100"), "127.0.0.66", false, false, 20),
		"scanner-held");
	assert_true(inspect_release(in, &s, 30));
	assert_false(inspect_release(in, &s, 30)); /* once */
	assert_string_equal(
		run(in, req("OPTIONS", "100"), "127.0.0.66", false, false, 40),
		"pass");
	/* Scanning again is caught again. */
	assert_string_equal(run(in,
				req_full("OPTIONS", "100", "example.com",
					 "friendly-scanner", ""),
				"127.0.0.66", false, false, 50),
			    "scanner-ua");
	assert_false(inspect_release(NULL, &s, 0));
	inspect_free(in);
}

/* svwar's REGISTER with a phone's User-Agent: structure gives it away. */
static const struct sip_msg *svwar_phone(const char *ext)
{
	static char buf[1024];
	struct sip_perr e;
	char tag[64];
	size_t i, n;
	char raw[32];
	int len;

	n = (size_t)snprintf(raw, sizeof(raw), "%s\x01%u", ext, 3528475139u);
	for (i = 0; i < n; i++)
		sprintf(tag + 2 * i, "%02x", (unsigned char)raw[i]);
	len = snprintf(buf, sizeof(buf),
		       "REGISTER sip:127.0.0.1 SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.66:5060;branch=z9hG4bK-"
		       "2101903442;rport\r\n"
		       "Max-Forwards: 70\r\n"
		       "To: \"%s\"<sip:%s@127.0.0.1>\r\n"
		       "From: \"%s\"<sip:%s@127.0.0.1>;tag=%s\r\n"
		       "User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"
		       "Call-ID: 3029185724\r\n"
		       "Contact: sip:%s@127.0.0.1\r\n"
		       "CSeq: 1 REGISTER\r\n"
		       "Accept: application/sdp\r\n"
		       "Content-Length: 0\r\n\r\n",
		       ext, ext, ext, ext, tag, ext);
	assert_int_equal(sip_msg_parse(&msg, buf, (size_t)len, NULL,
				       SIP_PARSE_DGRAM, &e),
			 0);
	return &msg;
}

static void test_scanner_structure(void **state)
{
	struct inspect_conf c;
	struct inspect *in;

	(void)state;
	conf_quiet(&c);
	c.fingerprints = true;
	c.structure = true;
	in = make(&c);
	assert_string_equal(
		run(in, svwar_phone("1000"), "127.0.0.66", false, false, 0),
		"scanner-structure");
	assert_true(v.ban);
	assert_string_equal(
		run(in, req("REGISTER", "alice"), "127.0.0.1", false, false, 0),
		"pass");
	inspect_free(in);

	c.structure = false;
	in = make(&c);
	assert_string_equal(
		run(in, svwar_phone("1000"), "127.0.0.66", false, false, 0),
		"pass");
	inspect_free(in);
}

/* A scanner with a normal phone's User-Agent and message structure is
 * still caught: it tries many users and resolves none. */
static void test_scanner_users(void **state)
{
	struct inspect_conf c;
	struct inspect *in;
	char user[16];
	unsigned k;

	(void)state;
	conf_quiet(&c);
	c.users_max = 8;
	c.users_burst = 32;
	in = make(&c);
	for (k = 0; k < 20; k++) {
		snprintf(user, sizeof(user), "%u", 1000 + k);
		assert_string_equal(run(in, req("REGISTER", user),
					"198.51.100.66", false, false, k * 400),
				    "pass");
		assert_string_equal(answer(in, "198.51.100.66",
					   SIP_METHOD_REGISTER, user, 401,
					   k * 400 + 5),
				    "pass");
	}
	/* Not yet: the previous window's users have until grace. */
	assert_string_equal(run(in, req("REGISTER", "2000"), "198.51.100.66",
				false, false, 10000 + 3999),
			    "pass");
	assert_string_equal(run(in, req("REGISTER", "2001"), "198.51.100.66",
				false, false, 10000 + 4000),
			    "scanner-users");
	assert_true(v.ban);
	inspect_free(in);

	/* Fast enumeration: the burst rule fires within the window. */
	in = make(&c);
	for (k = 0; k < 64; k++) {
		const char *r;

		snprintf(user, sizeof(user), "%u", 100 + k);
		r = run(in, req("INVITE", user), "198.51.100.67", false, false,
			k * 50);
		if (strcmp(r, "pass") != 0) {
			assert_string_equal(r, "scanner-users");
			break;
		}
	}
	/* ~32 distinct users; the estimate is approximate both ways. */
	assert_true(k >= 25 && k < 64);
	inspect_free(in);
}

/* Sixty phones behind one NAT register (challenge, then credentials,
 * then 200), ping with OPTIONS, and re-register a minute later: no rule
 * fires with the default configuration. */
static void test_nat_office(void **state)
{
	struct inspect_conf c;
	struct inspect *in;
	const char *nat = "203.0.113.5";
	char user[16];
	unsigned round, k;

	(void)state;
	inspect_conf_default(&c);
	in = make(&c);
	for (round = 0; round < 3; round++) {
		uint64_t base = round * 60000;

		for (k = 0; k < 60; k++) {
			uint64_t t = base + k * 500;

			snprintf(user, sizeof(user), "ext%u", k);
			assert_string_equal(run(in, req("REGISTER", user), nat,
						false, false, t),
					    "pass");
			assert_string_equal(answer(in, nat, SIP_METHOD_REGISTER,
						   user, 401, t + 20),
					    "pass");
			assert_string_equal(
				run(in,
				    req_full("REGISTER", user, "example.com",
					     "Yealink SIP-T46S", auth_hdr),
				    nat, false, false, t + 40),
				"pass");
			assert_string_equal(answer(in, nat, SIP_METHOD_REGISTER,
						   user, 200, t + 60),
					    "pass");
			assert_string_equal(run(in, req("OPTIONS", NULL), nat,
						false, false, t + 100),
					    "pass");
			assert_string_equal(answer(in, nat, SIP_METHOD_OPTIONS,
						   "nobody", 200, t + 110),
					    "pass");
		}
	}
	for (k = 0; k < INSPECT_R__COUNT; k++)
		assert_int_equal(inspect_hits(in, k), 0);
	inspect_free(in);
}

static void test_scanner_options(void **state)
{
	struct inspect_conf c;
	struct inspect *in;
	char host[32];
	unsigned k;
	const char *r = "pass";

	(void)state;
	conf_quiet(&c);
	c.options_targets = (struct inspect_rate){6, 60000};
	in = make(&c);
	/* Keep-alives of many phones to one target: fine. */
	for (k = 0; k < 200; k++)
		assert_string_equal(run(in, req("OPTIONS", NULL), "203.0.113.5",
					false, false, k * 100),
				    "pass");
	/* A sweep over hosts (or ports, or listeners) is not. */
	for (k = 0; k < 16; k++) {
		snprintf(host, sizeof(host), "192.0.2.%u", k + 1);
		r = run(in, req_full("OPTIONS", NULL, host, "Linphone", ""),
			"198.51.100.70", false, false, k * 100);
		if (strcmp(r, "pass") != 0)
			break;
	}
	assert_string_equal(r, "scanner-options");
	assert_true(k >= 6);
	assert_true(v.ban);
	inspect_free(in);
}

static void test_scanner_failures(void **state)
{
	struct inspect_conf c;
	struct inspect *in;
	unsigned k;

	(void)state;
	conf_quiet(&c);
	c.fail = (struct inspect_rate){20, 60000};
	in = make(&c);
	/* Challenges followed by success are normal. */
	for (k = 0; k < 50; k++) {
		assert_string_equal(answer(in, "192.0.2.50", SIP_METHOD_INVITE,
					   "bob", 407, k * 10),
				    "pass");
		assert_string_equal(answer(in, "192.0.2.50", SIP_METHOD_INVITE,
					   "bob", 200, k * 10 + 5),
				    "pass");
	}
	/* 200s to OPTIONS earn no credit. */
	for (k = 0; k < 30; k++)
		answer(in, "192.0.2.51", SIP_METHOD_OPTIONS, "", 200, k);
	for (k = 0; k < 20; k++)
		assert_string_equal(answer(in, "192.0.2.51",
					   SIP_METHOD_REGISTER, "1000",
					   k % 2 ? 404 : 403, 100 + k),
				    "pass");
	assert_string_equal(
		answer(in, "192.0.2.51", SIP_METHOD_REGISTER, "1000", 484, 200),
		"scanner-failures");
	assert_int_equal(v.action, GUARD_DROP);
	assert_true(v.ban);
	assert_string_equal(run(in, req("REGISTER", "1000"), "192.0.2.51",
				false, false, 300),
			    "scanner-held");
	/* Other final answers are neither failures nor credit. */
	for (k = 0; k < 40; k++)
		assert_string_equal(answer(in, "192.0.2.52", SIP_METHOD_INVITE,
					   "bob", 486, k),
				    "pass");
	inspect_free(in);
}

/* ----------------------------------------------------------- overload */

static void test_overload(void **state)
{
	struct inspect_conf c;
	struct inspect *in;

	(void)state;
	conf_quiet(&c);
	in = make(&c);
	inspect_set_load(in, 79);
	assert_string_equal(
		run(in, req("INVITE", "bob"), "192.0.2.1", false, false, 0),
		"pass");
	inspect_set_load(in, 85);
	assert_string_equal(
		run(in, req("INVITE", "bob"), "192.0.2.1", false, false, 0),
		"overload");
	assert_int_equal(v.action, GUARD_REPLY);
	assert_int_equal(v.status, 503);
	assert_false(v.ban);
	assert_str_equal_cstr(str_make(v.extra, v.extra_len),
			      "Retry-After: 30\r\n");
	assert_string_equal(
		run(in, req("INVITE", "bob"), "192.0.2.1", false, true, 0),
		"pass");
	assert_string_equal(
		run(in, req("INVITE", "bob"), "10.0.0.1", true, false, 0),
		"pass");
	assert_string_equal(
		run(in, req("REGISTER", "bob"), "192.0.2.1", false, false, 0),
		"pass");
	inspect_set_load(in, 96);
	assert_string_equal(
		run(in, req("REGISTER", "bob"), "192.0.2.1", false, false, 0),
		"overload");
	assert_string_equal(
		run(in, req("ACK", "bob"), "192.0.2.1", false, false, 0),
		"pass");
	assert_string_equal(
		run(in, req("CANCEL", "bob"), "192.0.2.1", false, false, 0),
		"pass");
	assert_string_equal(
		run(in, req("BYE", "bob"), "192.0.2.1", false, true, 0),
		"pass");
	inspect_set_load(in, 500); /* clamped to 100 */
	assert_string_equal(
		run(in, req("OPTIONS", "bob"), "192.0.2.1", false, false, 0),
		"overload");
	inspect_set_load(in, 10);
	assert_string_equal(
		run(in, req("INVITE", "bob"), "192.0.2.1", false, false, 0),
		"pass");
	assert_int_equal(inspect_hits(in, INSPECT_R_OVERLOAD), 3);
	inspect_free(in);

	/* 0 disables a level. */
	c.overload_invite_pct = 0;
	c.overload_all_pct = 0;
	in = make(&c);
	inspect_set_load(in, 100);
	assert_string_equal(
		run(in, req("INVITE", "bob"), "192.0.2.1", false, false, 0),
		"pass");
	inspect_free(in);
}

/* ------------------------------------------------------------- monitor */

static void test_monitor(void **state)
{
	struct inspect_conf c;
	struct inspect *in;

	(void)state;
	conf_quiet(&c);
	c.fingerprints = true;
	c.monitor_mask = 1u << INSPECT_R_SCANNER_UA;
	c.rate[INSPECT_C_REGISTER] = (struct inspect_rate){1, 1000};
	in = make(&c);
	assert_string_equal(
		run(in,
		    req_full("REGISTER", "1", "example.com", "sipvicious", ""),
		    "192.0.2.77", false, false, 0),
		"scanner-ua");
	assert_true(v.monitor);
	assert_int_equal(v.action, GUARD_DROP);
	/* Not held: the next clean request is judged on its own... */
	assert_string_equal(
		run(in, req("OPTIONS", "1"), "192.0.2.77", false, false, 10),
		"pass");
	/* ...and an enforcing rule wins over a monitored one. */
	assert_string_equal(
		run(in,
		    req_full("REGISTER", "1", "example.com", "sipvicious", ""),
		    "192.0.2.77", false, false, 20),
		"rate-register");
	assert_false(v.monitor);
	assert_int_equal(inspect_hits(in, INSPECT_R_SCANNER_UA), 2);
	inspect_free(in);
}

/* ------------------------------------------------- tables and memory */

static void test_eviction(void **state)
{
	struct inspect_conf c;
	struct inspect *in;
	char ip[32], user[16];
	unsigned k;

	(void)state;
	conf_quiet(&c);
	c.src_slots = 4;
	c.user_slots = 4;
	c.rate[INSPECT_C_INVITE] = (struct inspect_rate){1, 60000};
	c.user = (struct inspect_rate){1000, 60000};
	in = make(&c);
	/* A B C D fill the table; A is used again; E evicts B. */
	for (k = 0; k < 4; k++) {
		snprintf(ip, sizeof(ip), "192.0.2.%u", k + 1);
		assert_string_equal(
			run(in, req("INVITE", "bob"), ip, false, false, k),
			"pass");
	}
	assert_string_equal(
		run(in, req("INVITE", "bob"), "192.0.2.1", false, false, 10),
		"rate-invite");
	assert_string_equal(
		run(in, req("INVITE", "bob"), "192.0.2.5", false, false, 11),
		"pass");
	assert_int_equal(inspect_src_count(in), 4);
	assert_string_equal(
		run(in, req("INVITE", "bob"), "192.0.2.1", false, false, 12),
		"rate-invite"); /* still known */
	assert_string_equal(
		run(in, req("INVITE", "bob"), "192.0.2.2", false, false, 13),
		"pass"); /* forgotten */
	for (k = 0; k < 10; k++) {
		snprintf(ip, sizeof(ip), "198.51.100.%u", k + 1);
		snprintf(user, sizeof(user), "u%u", k);
		run(in, req("INVITE", user), ip, false, false, 100 + k);
	}
	assert_int_equal(inspect_src_count(in), 4);
	assert_int_equal(inspect_user_count(in), 4);
	inspect_free(in);
}

/* IPv6 sources are counted per /64. */
static void test_ipv6_prefix(void **state)
{
	struct inspect_conf c;
	struct inspect *in;

	(void)state;
	conf_quiet(&c);
	c.rate[INSPECT_C_INVITE] = (struct inspect_rate){2, 1000};
	in = make(&c);
	assert_string_equal(run(in, req("INVITE", "bob"), "2001:db8:1:2::1",
				false, false, 0),
			    "pass");
	assert_string_equal(run(in, req("INVITE", "bob"), "2001:db8:1:2::99",
				false, false, 0),
			    "pass");
	assert_string_equal(run(in, req("INVITE", "bob"),
				"2001:db8:1:2:ffff::1", false, false, 0),
			    "rate-invite");
	assert_string_equal(run(in, req("INVITE", "bob"), "2001:db8:1:3::1",
				false, false, 0),
			    "pass");
	inspect_free(in);
}

static void test_no_alloc_per_request(void **state)
{
	struct inspect_conf c;
	struct inspect *in;
	char ip[32], user[16];
	size_t before;
	unsigned k;

	(void)state;
	inspect_conf_default(&c);
	c.src_slots = 64;
	c.user_slots = 64;
	in = make(&c);
	before = mem_total();
	for (k = 0; k < 5000; k++) {
		snprintf(ip, sizeof(ip), "198.51.%u.%u", k % 7, k % 251);
		snprintf(user, sizeof(user), "u%u", k % 97);
		run(in, req(k % 3 ? "INVITE" : "REGISTER", user), ip, false,
		    k % 5 == 0, (uint64_t)k * 3);
		answer(in, ip, SIP_METHOD_INVITE, user, k % 2 ? 404 : 200,
		       (uint64_t)k * 3 + 1);
	}
	assert_int_equal(mem_total(), before);
	inspect_free(in);
}

/* ------------------------------------------------------- fingerprints */

static void test_load_fingerprints(void **state)
{
	struct inspect_conf c;
	struct inspect *in;
	char path[] = "/tmp/test_inspect_fpXXXXXX";
	char err[256];
	FILE *f;
	int fd;

	(void)state;
	conf_quiet(&c);
	c.fingerprints = true;
	in = make(&c);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("# site list\nMyTool\n", f);
	fclose(f);
	assert_int_equal(inspect_load_fingerprints(in, path, err, sizeof(err)),
			 0);
	assert_string_equal(
		run(in,
		    req_full("OPTIONS", "1", "example.com", "mytool/2.0", ""),
		    "192.0.2.30", false, false, 0),
		"scanner-ua");
	assert_string_equal(run(in,
				req_full("OPTIONS", "1", "example.com",
					 "friendly-scanner", ""),
				"192.0.2.31", false, false, 0),
			    "pass");
	/* A bad file leaves the list as it was. */
	f = fopen(path, "w");
	fputs("ok\nbad\x02\n", f);
	fclose(f);
	assert_int_equal(inspect_load_fingerprints(in, path, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, ":2:"));
	assert_string_equal(
		run(in, req_full("OPTIONS", "1", "example.com", "MYTOOL", ""),
		    "192.0.2.32", false, false, 0),
		"scanner-ua");
	/* So does a missing one. */
	unlink(path);
	assert_int_equal(inspect_load_fingerprints(in, path, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(
		run(in, req_full("OPTIONS", "1", "example.com", "MyTool", ""),
		    "192.0.2.33", false, false, 0),
		"scanner-ua");
	assert_int_equal(inspect_load_fingerprints(NULL, path, NULL, 0),
			 -EINVAL);
	inspect_free(in);

	/* A fresh instance has the built-in list. */
	in = make(&c);
	assert_string_equal(run(in,
				req_full("OPTIONS", "1", "example.com",
					 "VaxSIPUserAgent/3.1", ""),
				"192.0.2.34", false, false, 0),
			    "scanner-ua");
	inspect_free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_ctr),
		cmocka_unit_test(test_window_bits),
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_oom),
		cmocka_unit_test(test_rule_names),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_rate_classes),
		cmocka_unit_test(test_rate_sliding),
		cmocka_unit_test(test_rate_reply_503),
		cmocka_unit_test(test_in_dialog_and_trusted),
		cmocka_unit_test(test_user_limit),
		cmocka_unit_test(test_scanner_ua_and_hold),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_scanner_structure),
		cmocka_unit_test(test_scanner_users),
		cmocka_unit_test(test_nat_office),
		cmocka_unit_test(test_scanner_options),
		cmocka_unit_test(test_scanner_failures),
		cmocka_unit_test(test_overload),
		cmocka_unit_test(test_monitor),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_ipv6_prefix),
		cmocka_unit_test(test_no_alloc_per_request),
		cmocka_unit_test(test_load_fingerprints),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
