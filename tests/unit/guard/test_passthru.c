/*
 * test_passthru.c - pass-through mode: counting the PBX's refusals,
 * learning its challenge and refusal, rewriting answers that give an
 * unknown user away, made-up nonces, locks and bans, building.
 */
#include "test.h"

#include <errno.h>
#include <stdio.h>

#include "core/buf.h"
#include "guard/auth.h"

static char reqbuf[4096], rspbuf[4096], outbuf[4096];
static struct sip_msg rq, rs, out;

#define PBX_CHAL                                        \
	"WWW-Authenticate: Digest realm=\"asterisk\", " \
	"nonce=\"1692353212/8c6a9e9b2f01\", algorithm=MD5, qop=\"auth\"\r\n"
#define PBX_SERVER "Server: FPBX-16.0\r\nAllow: INVITE, ACK, BYE\r\n"

static struct auth *make_pt(bool realm)
{
	struct auth_conf c;
	struct auth *a = NULL;

	auth_conf_default(&c);
	c.mode = AUTH_PASSTHROUGH;
	if (realm)
		strcpy(c.realm, "asterisk");
	c.fail.ip_max = 10;
	c.fail.userip_max = 5;
	c.fail.user_max = 6;
	assert_int_equal(auth_new(&a, &c, NULL, NULL, 0), 0);
	return a;
}

static struct sg_addr addr(const char *s)
{
	struct sg_addr a;

	assert_int_equal(sg_addr_parse(&a, str_cstr(s), 5060), 0);
	return a;
}

static void parse(struct sip_msg *m, const char *buf, size_t n)
{
	struct sip_perr e;

	if (sip_msg_parse(m, buf, n, &sip_limits_default, SIP_PARSE_DGRAM, &e))
		fail_msg("parse: %s at %u", e.reason, e.off);
}

static const struct sip_msg *req(const char *method, const char *user,
				 const char *nonce)
{
	bool reg = !strcmp(method, "REGISTER");
	char cred[512] = "";
	int n;

	if (nonce)
		snprintf(cred, sizeof(cred),
			 "%s: Digest username=\"%s\", realm=\"asterisk\", "
			 "nonce=\"%s\", uri=\"sip:x\", response=\"00\"\r\n",
			 reg ? "Authorization" : "Proxy-Authorization", user,
			 nonce);
	n = snprintf(reqbuf, sizeof(reqbuf),
		     "%s sip:%spbx.example SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx\r\n"
		     "From: <sip:%s@pbx.example>;tag=ft\r\n"
		     "To: <sip:%s@pbx.example>\r\n"
		     "Call-ID: cid1\r\nCSeq: 1 %s\r\n%s"
		     "Content-Length: 0\r\n\r\n",
		     method, reg ? "" : "200@", user, reg ? user : "200",
		     method, cred);
	parse(&rq, reqbuf, (size_t)n);
	return &rq;
}

static const struct sip_msg *rsp(int status, const char *reason,
				 const char *method, const char *hdrs,
				 const char *body)
{
	int n = snprintf(rspbuf, sizeof(rspbuf),
			 "SIP/2.0 %d %s\r\n"
			 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx\r\n"
			 "From: <sip:u@pbx.example>;tag=ft\r\n"
			 "To: <sip:u@pbx.example>;tag=pbx\r\n"
			 "Call-ID: cid1\r\nCSeq: 1 %s\r\n%s"
			 "Content-Length: %zu\r\n\r\n%s",
			 status, reason, method, hdrs, strlen(body), body);

	parse(&rs, rspbuf, (size_t)n);
	return &rs;
}

/* Request then answer; the answer's verdict. */
static void round_trip(struct auth *a, const char *method, const char *user,
		       const char *nonce, const char *from, int status,
		       const char *reason, const char *hdrs, uint64_t now,
		       struct guard_verdict *v)
{
	struct sg_addr src = addr(from);
	struct auth_pt_note note;

	assert_int_equal(auth_pt_request(a, req(method, user, nonce), &src, now,
					 &note, v),
			 0);
	assert_int_equal(v->action, GUARD_PASS);
	assert_true(note.active);
	assert_int_equal(auth_pt_answer(a, &note,
					rsp(status, reason, method, hdrs, ""),
					now, v),
			 0);
}

static void nonce_of(const char *extra, char *dst, size_t sz)
{
	const char *p = strstr(extra, "nonce=\""), *q;

	assert_non_null(p);
	p += 7;
	q = strchr(p, '"');
	assert_true(q && (size_t)(q - p) < sz);
	memcpy(dst, p, (size_t)(q - p));
	dst[q - p] = '\0';
}

/* Apply v to the answer in rs and parse the result into out. */
static void apply(struct auth *a, const struct guard_verdict *v)
{
	struct sip_bld b;
	struct buf o;

	buf_init_fixed(&o, outbuf, sizeof(outbuf));
	sip_bld_init(&b, &rs);
	assert_int_equal(auth_pt_apply(a, &b, &rs, v), 0);
	assert_int_equal(sip_bld_write(&b, &o), 0);
	parse(&out, o.p, o.len);
}

static void test_unknown_user_register(void **state)
{
	struct auth *a = make_pt(false);
	struct guard_verdict v;
	char fake[128];
	struct sg_addr src = addr("127.0.0.66");
	struct auth_pt_note note;
	unsigned i;

	(void)state;
	/* A known user is challenged: learnt, forwarded unchanged. */
	round_trip(a, "REGISTER", "100", NULL, "192.0.2.1", 401, "Unauthorized",
		   PBX_CHAL PBX_SERVER, 1000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	/* An unknown one gets 404 from the PBX: rewritten. */
	round_trip(a, "REGISTER", "999", NULL, "127.0.0.66", 404, "Not Found",
		   "Server: FPBX-16.0\r\n", 1000, &v);
	assert_int_equal(v.action, GUARD_REPLY);
	assert_int_equal(v.status, 401);
	assert_string_equal(v.reason, "Unauthorized");
	assert_string_equal(v.rule, "auth-normalised");
	apply(a, &v);
	assert_int_equal(out.status, 401);
	assert_str_equal_cstr(out.reason, "Unauthorized");
	/* Same header fields in the same order as the PBX's own 401. */
	assert_int_equal(out.nhdr, 9);
	for (i = 0; i < out.nhdr; i++) {
		static const char *names[] = {
			"Via",     "From",  "To",
			"Call-ID", "CSeq",  "WWW-Authenticate",
			"Server",  "Allow", "Content-Length"};

		assert_str_equal_cstr(out.hdr[i].name, names[i]);
	}
	nonce_of(v.extra, fake, sizeof(fake));
	/* Shape of the PBX's nonce: same length, '/' kept, digits and hex. */
	assert_int_equal(strlen(fake), strlen("1692353212/8c6a9e9b2f01"));
	assert_int_equal(fake[10], '/');
	assert_memory_equal(fake, "16923", 5);
	assert_string_not_equal(fake, "1692353212/8c6a9e9b2f01");
	for (i = 11; fake[i]; i++)
		assert_non_null(strchr("0123456789abcdef", fake[i]));
	/* The tool answers the made-up challenge: refused by sipguard with
	 * the PBX's answer, without troubling the PBX. */
	assert_int_equal(auth_pt_request(a, req("REGISTER", "999", fake), &src,
					 1001, &note, &v),
			 0);
	assert_int_equal(v.action, GUARD_REPLY);
	assert_int_equal(v.status, 401);
	assert_string_equal(v.rule, "auth-failed");
	assert_false(note.active);
	assert_int_equal(authfail_count_src(auth_failures(a), &note.key, 1001),
			 1);
	auth_free(a);
}

static void test_counting(void **state)
{
	struct auth *a = make_pt(false);
	struct guard_verdict v;
	struct sg_addr src = addr("192.0.2.7");
	struct authfail_key k;
	int i;

	(void)state;
	authfail_key(auth_failures(a), &k, &src, STR("100"));
	/* Stale re-challenge: not a failure. */
	round_trip(a, "REGISTER", "100", "old", "192.0.2.7", 401,
		   "Unauthorized",
		   "WWW-Authenticate: Digest realm=\"asterisk\", "
		   "nonce=\"n2\", stale=true\r\n",
		   1000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	assert_int_equal(authfail_count_src(auth_failures(a), &k, 1000), 0);
	/* Wrong password: re-challenged, counted, forwarded. */
	round_trip(a, "REGISTER", "100", "n2", "192.0.2.7", 401, "Unauthorized",
		   PBX_CHAL, 1000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	assert_int_equal(authfail_count_pair(auth_failures(a), &k, 1000), 1);
	/* 403 after credentials counts too. */
	round_trip(a, "REGISTER", "100", "n3", "192.0.2.7", 403, "Forbidden",
		   "", 1000, &v);
	assert_int_equal(authfail_count_pair(auth_failures(a), &k, 1000), 2);
	/* A credentialed INVITE's 404 is about the callee: not counted,
	 * not rewritten. */
	round_trip(a, "INVITE", "100", "n4", "192.0.2.7", 404, "Not Found", "",
		   1000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	assert_int_equal(authfail_count_pair(auth_failures(a), &k, 1000), 2);
	/* Success: known-good, pair clean. */
	round_trip(a, "REGISTER", "100", "n5", "192.0.2.7", 200, "OK", "", 1000,
		   &v);
	assert_true(authfail_known_good(auth_failures(a), &k.src, 1000));
	assert_int_equal(authfail_count_pair(auth_failures(a), &k, 1000), 0);
	/* Requests without credentials never count. */
	for (i = 0; i < 20; i++)
		round_trip(a, "REGISTER", "100", NULL, "192.0.2.8", 401,
			   "Unauthorized", PBX_CHAL, 1000, &v);
	auth_free(a);
}

static void test_bruteforce(void **state)
{
	struct auth *a = make_pt(false);
	struct guard_verdict v;
	struct sg_addr src = addr("127.0.0.66");
	struct auth_pt_note note;
	int i;

	(void)state;
	for (i = 1; i <= 5; i++)
		round_trip(a, "REGISTER", "100", "n", "127.0.0.66", 401,
			   "Unauthorized", PBX_CHAL, 1000, &v);
	/* Fifth failure: the pair is blocked (dropped), not banned. */
	assert_int_equal(v.action, GUARD_DROP);
	assert_string_equal(v.rule, "auth-bruteforce-userip");
	assert_false(v.ban);
	/* Blocked attempts are dropped before the PBX, and count. */
	for (i = 6; i <= 10; i++) {
		auth_pt_request(a, req("REGISTER", "100", "n"), &src, 1000,
				&note, &v);
		assert_int_equal(v.action, GUARD_DROP);
		assert_false(note.active);
	}
	assert_true(v.ban);
	assert_string_equal(v.rule, "auth-bruteforce-ip");
	/* Others on other addresses are fine. */
	round_trip(a, "REGISTER", "100", "n", "192.0.2.1", 200, "OK", "", 1000,
		   &v);
	assert_int_equal(v.action, GUARD_PASS);
	auth_free(a);
}

static void test_lock(void **state)
{
	struct auth *a = make_pt(false);
	struct guard_verdict v;
	struct sg_addr src = addr("203.0.113.1");
	struct auth_pt_note note;
	char from[32];
	int i;

	(void)state;
	round_trip(a, "REGISTER", "100", NULL, "192.0.2.1", 401, "Unauthorized",
		   PBX_CHAL, 1000, &v);
	for (i = 0; i < 6; i++) {
		snprintf(from, sizeof(from), "198.51.100.%d", i + 1);
		round_trip(a, "REGISTER", "100", "n", from, 403, "Forbidden",
			   "", 1000, &v);
	}
	auth_pt_request(a, req("REGISTER", "100", "n"), &src, 1000, &note, &v);
	assert_int_equal(v.action, GUARD_REPLY);
	assert_string_equal(v.rule, "auth-user-locked");
	/* The PBX refuses wrong passwords with 403: so do we. */
	assert_int_equal(v.status, 403);
	auth_free(a);
}

/* A PBX that answers wrong passwords 403 and unknown users 404. */
static void test_403_pbx(void **state)
{
	struct auth *a = make_pt(false);
	struct guard_verdict v;

	(void)state;
	round_trip(a, "REGISTER", "100", "n", "192.0.2.1", 403, "Forbidden",
		   "Server: X\r\n", 1000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	round_trip(a, "REGISTER", "999", "n", "192.0.2.2", 404, "Not Found",
		   "Server: X\r\nWarning: 399 pbx \"no such user\"\r\n", 1000,
		   &v);
	assert_int_equal(v.action, GUARD_REPLY);
	assert_int_equal(v.status, 403);
	apply(a, &v);
	assert_int_equal(out.status, 403);
	assert_str_equal_cstr(out.reason, "Forbidden");
	assert_null(sip_msg_hdr(&out, SIP_HDR_WARNING));
	assert_int_equal(out.content_length, 0);
	auth_free(a);
}

/* Nothing learnt yet: our own challenge in the configured realm. */
static void test_own_challenge(void **state)
{
	struct auth *a = make_pt(true);
	struct guard_verdict v;
	struct sg_addr src = addr("127.0.0.66");
	struct auth_pt_note note;
	char fake[128], obuf[2048];
	struct buf o;

	(void)state;
	round_trip(a, "REGISTER", "999", NULL, "127.0.0.66", 404, "Not Found",
		   "", 1000, &v);
	assert_int_equal(v.action, GUARD_REPLY);
	assert_int_equal(v.status, 401);
	assert_non_null(strstr(v.extra, "realm=\"asterisk\""));
	nonce_of(v.extra, fake, sizeof(fake));
	/* Or as a stateless reply to the request. */
	buf_init_fixed(&o, obuf, sizeof(obuf));
	assert_int_equal(auth_pt_reply(&o, &rq, STR("abc"), &v), 0);
	parse(&out, o.p, o.len);
	assert_int_equal(out.status, 401);
	assert_int_equal(out.count[SIP_HDR_CONTENT_LENGTH], 1);
	assert_int_equal(out.count[SIP_HDR_WWW_AUTHENTICATE], 2);
	auth_pt_request(a, req("REGISTER", "999", fake), &src, 1001, &note, &v);
	assert_int_equal(v.action, GUARD_REPLY);
	assert_string_equal(v.rule, "auth-failed");
	/* Without a realm, nothing is made up. */
	auth_free(a);
	a = make_pt(false);
	round_trip(a, "REGISTER", "999", NULL, "127.0.0.66", 404, "Not Found",
		   "", 1000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	auth_free(a);
}

static void test_body_removed(void **state)
{
	struct auth *a = make_pt(false);
	struct guard_verdict v;
	struct sg_addr src = addr("127.0.0.66");
	struct auth_pt_note note;

	(void)state;
	round_trip(a, "REGISTER", "100", NULL, "192.0.2.1", 401, "Unauthorized",
		   PBX_CHAL, 1000, &v);
	auth_pt_request(a, req("REGISTER", "999", NULL), &src, 1000, &note, &v);
	auth_pt_answer(a, &note,
		       rsp(404, "Not Found", "REGISTER",
			   "Content-Type: text/plain\r\n", "no such user 999"),
		       1000, &v);
	assert_int_equal(v.action, GUARD_REPLY);
	apply(a, &v);
	assert_int_equal(out.body.len, 0);
	assert_int_equal(out.content_length, 0);
	assert_null(sip_msg_hdr(&out, SIP_HDR_CONTENT_TYPE));
	auth_free(a);
}

static void test_exempt_and_args(void **state)
{
	struct auth *a = make_pt(false);
	struct guard_verdict v;
	struct sg_addr src = addr("192.0.2.1");
	struct auth_pt_note note;

	(void)state;
	auth_pt_request(a, req("ACK", "100", NULL), &src, 1, &note, &v);
	assert_false(note.active);
	assert_int_equal(auth_pt_request(a, NULL, &src, 1, &note, &v), -EINVAL);
	assert_int_equal(auth_pt_answer(a, &note, &rq, 1, &v), -EINVAL);
	/* Provisional answers are ignored. */
	auth_pt_request(a, req("INVITE", "100", NULL), &src, 1, &note, &v);
	assert_int_equal(auth_pt_answer(a, &note,
					rsp(100, "Trying", "INVITE", "", ""), 1,
					&v),
			 0);
	assert_int_equal(v.action, GUARD_PASS);
	/* Local mode functions do nothing in pass-through. */
	assert_int_equal(auth_check(a, &rq, &src, 1, &v), 0);
	assert_int_equal(v.action, GUARD_PASS);
	assert_null(auth_cred_hdr(a, &rq));
	auth_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_user_register),
		cmocka_unit_test(test_counting),
		cmocka_unit_test(test_bruteforce),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_403_pbx),
		cmocka_unit_test(test_own_challenge),
		cmocka_unit_test(test_body_removed),
		cmocka_unit_test(test_exempt_and_args),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
