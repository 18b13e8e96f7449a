/*
 * test_auth.c - local Digest authentication: RFC 2617/7616 response
 * vectors, challenges (RFC 8760 order), success, uniform failures for
 * known and unknown users, nonce expiry, binding and tampering, nc
 * replay, parameter checks, brute force through auth_check (pair
 * block, ban, user lock, known-good, NAT), configuration errors, OOM.
 */
#include "test.h"

#include <errno.h>
#include <stdio.h>

#include "guard/auth.h"
#include "guard/auth_int.h"

#define REALM "example.com"

static char msgbuf[4096];
static struct sip_msg msg;

/* HA1 hex of user:realm:pass. */
static void ha1(char *out, unsigned alg, const char *u, const char *r,
		const char *p)
{
	struct str parts[5] = {str_cstr(u), STR(":"), str_cstr(r), STR(":"),
			       str_cstr(p)};
	uint8_t d[32];
	int n = auth__hash(alg, parts, 5, d);

	assert_true(n > 0);
	auth__hex(out, d, (size_t)n);
}

static struct creds *make_creds(void)
{
	char text[1024], a5[65], a2[65], b5[65], b2[65];
	struct creds *c = NULL;

	ha1(a5, AUTH_ALG_MD5, "alice", REALM, "secret");
	ha1(a2, AUTH_ALG_SHA256, "alice", REALM, "secret");
	ha1(b5, AUTH_ALG_MD5, "bob", REALM, "bobpw");
	ha1(b2, AUTH_ALG_SHA256, "bob", REALM, "bobpw");
	snprintf(text, sizeof(text),
		 "alice:" REALM ":%s:%s\nbob:" REALM ":%s:%s\n", a5, a2, b5,
		 b2);
	assert_int_equal(creds_parse(&c, str_cstr(text), NULL), 0);
	return c;
}

static struct auth_conf local_conf(void)
{
	struct auth_conf c;

	auth_conf_default(&c);
	c.mode = AUTH_LOCAL;
	strcpy(c.realm, REALM);
	c.fail.ip_max = 10;
	c.fail.userip_max = 5;
	c.fail.user_max = 6;
	return c;
}

static struct auth *make_auth(struct auth_conf c)
{
	struct auth *a = NULL;
	char err[AUTH_ERR_MAX] = "";

	if (auth_new(&a, &c, make_creds(), err, sizeof(err)))
		fail_msg("auth_new: %s", err);
	return a;
}

static struct sg_addr addr(const char *s)
{
	struct sg_addr a;

	assert_int_equal(sg_addr_parse(&a, str_cstr(s), 5060), 0);
	return a;
}

/* A request from `user`; REGISTER targets the domain, others 200@. */
static const struct sip_msg *req(const char *method, const char *user,
				 const char *auth_line, bool in_dialog)
{
	bool reg = !strcmp(method, "REGISTER");
	struct sip_perr e;
	int n;

	n = snprintf(msgbuf, sizeof(msgbuf),
		     "%s sip:%s" REALM " SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx\r\n"
		     "From: <sip:%s@" REALM ">;tag=ft\r\n"
		     "To: <sip:%s@" REALM ">%s\r\n"
		     "Call-ID: cid1\r\n"
		     "CSeq: 1 %s\r\n"
		     "%s"
		     "Content-Length: 0\r\n\r\n",
		     method, reg ? "" : "200@", user, reg ? user : "200",
		     in_dialog ? ";tag=tt" : "", method,
		     auth_line ? auth_line : "");
	assert_true(n > 0 && (size_t)n < sizeof(msgbuf));
	if (sip_msg_parse(&msg, msgbuf, (size_t)n, &sip_limits_default,
			  SIP_PARSE_DGRAM, &e))
		fail_msg("parse: %s at %u", e.reason, e.off);
	return &msg;
}

/* The nonce of the challenge in v (the first one). */
static void nonce_of(const struct guard_verdict *v, char *out, size_t sz)
{
	const char *p = strstr(v->extra, "nonce=\""), *q;

	assert_non_null(p);
	p += 7;
	q = strchr(p, '"');
	assert_non_null(q);
	assert_true((size_t)(q - p) < sz);
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
}

struct cred {
	const char *user, *pass, *nonce, *uri, *nc, *qop, *alg, *realm;
	const char *resp; /* forced response, or NULL */
};

/* An Authorization/Proxy-Authorization line answering c. */
static void cred_line(char *out, size_t sz, const char *method,
		      const struct cred *c)
{
	bool reg = !strcmp(method, "REGISTER");
	unsigned alg = c->alg && !strcmp(c->alg, "SHA-256") ? AUTH_ALG_SHA256
							    : AUTH_ALG_MD5;
	const char *realm = c->realm ? c->realm : REALM;
	char h1[65], hex[65];
	uint8_t d[32];
	int n;

	ha1(h1, alg, c->user, realm, c->pass);
	n = auth__response(alg, str_cstr(h1), str_cstr(c->nonce),
			   str_cstr(c->nc ? c->nc : "00000001"),
			   STR("0a4f113b"), str_cstr(c->qop ? c->qop : "auth"),
			   str_cstr(method), str_cstr(c->uri), d);
	assert_true(n > 0);
	auth__hex(hex, d, (size_t)n);
	snprintf(
		out, sz,
		"%s: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
		"uri=\"%s\", response=\"%s\", algorithm=%s, cnonce=\"0a4f113b\""
		"%s%s, nc=%s\r\n",
		reg ? "Authorization" : "Proxy-Authorization", c->user, realm,
		c->nonce, c->uri, c->resp ? c->resp : hex,
		c->alg ? c->alg : "MD5", c->qop && !*c->qop ? "" : ", qop=",
		c->qop && !*c->qop ? "" : (c->qop ? c->qop : "auth"),
		c->nc ? c->nc : "00000001");
}

/* Run the challenge, then answer it; the verdict of the answer. */
static void login(struct auth *a, const char *method, const char *user,
		  const char *pass, const char *from, uint64_t now,
		  struct guard_verdict *v)
{
	struct sg_addr src = addr(from);
	char nonce[128], line[1024];
	struct cred c = {0};

	assert_int_equal(
		auth_check(a, req(method, user, NULL, false), &src, now, v), 0);
	assert_int_equal(v->action, GUARD_REPLY);
	nonce_of(v, nonce, sizeof(nonce));
	c.user = user;
	c.pass = pass;
	c.nonce = nonce;
	c.uri = strcmp(method, "REGISTER") ? "sip:200@" REALM : "sip:" REALM;
	cred_line(line, sizeof(line), method, &c);
	auth_check(a, req(method, user, line, false), &src, now, v);
}

static void test_vectors(void **state)
{
	static const struct {
		unsigned alg;
		const char *user, *realm, *pass, *nonce, *cnonce, *uri, *want;
	} t[] = {
		/* RFC 2617 3.5 */
		{AUTH_ALG_MD5, "Mufasa", "testrealm@host.com", "Circle Of Life",
		 "dcd98b7102dd2f0e8b11d0f600bfb0c093", "0a4f113b",
		 "/dir/index.html", "6629fae49393a05397450978507c4ef1"},
		/* RFC 7616 3.9.1, MD5 and SHA-256 */
		{AUTH_ALG_MD5, "Mufasa", "http-auth@example.org",
		 "Circle of Life",
		 "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
		 "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
		 "/dir/index.html", "8ca523f5e9506fed4657c9700eebdbec"},
		{AUTH_ALG_SHA256, "Mufasa", "http-auth@example.org",
		 "Circle of Life",
		 "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
		 "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
		 "/dir/index.html",
		 "753927fa0e85d155564e2e272a28d180"
		 "2ca10daf4496794697cf8db5856cb6c1"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char h1[65], hex[65];
		uint8_t d[32];
		int n;

		ha1(h1, t[i].alg, t[i].user, t[i].realm, t[i].pass);
		n = auth__response(t[i].alg, str_cstr(h1), str_cstr(t[i].nonce),
				   STR("00000001"), str_cstr(t[i].cnonce),
				   STR("auth"), STR("GET"), str_cstr(t[i].uri),
				   d);
		assert_true(n > 0);
		auth__hex(hex, d, (size_t)n);
		assert_string_equal(hex, t[i].want);
	}
}

static void test_challenge(void **state)
{
	struct auth_conf c = local_conf();
	struct auth *a = make_auth(c);
	struct sg_addr src = addr("192.0.2.1");
	struct guard_verdict v;
	const char *sha, *md5;

	(void)state;
	assert_int_equal(auth_check(a, req("REGISTER", "alice", NULL, false),
				    &src, 1000, &v),
			 0);
	assert_int_equal(v.action, GUARD_REPLY);
	assert_int_equal(v.status, 401);
	assert_string_equal(v.reason, "Unauthorized");
	assert_string_equal(v.rule, "auth-challenge");
	assert_int_equal(strlen(v.extra), v.extra_len);
	sha = strstr(v.extra,
		     "WWW-Authenticate: Digest realm=\"" REALM "\", nonce=\"");
	assert_non_null(sha);
	assert_non_null(strstr(v.extra, "algorithm=SHA-256, qop=\"auth\"\r\n"));
	md5 = strstr(v.extra, "algorithm=MD5, qop=\"auth\"\r\n");
	/* RFC 8760: SHA-256 first. */
	assert_true(md5 && strstr(v.extra, "SHA-256") < md5);
	assert_null(strstr(v.extra, "stale"));
	assert_int_equal(auth_check(a, req("INVITE", "alice", NULL, false),
				    &src, 1000, &v),
			 0);
	assert_int_equal(v.status, 407);
	assert_non_null(strstr(v.extra, "Proxy-Authenticate: Digest "));
	auth_free(a);

	c.algs = AUTH_ALG_MD5;
	a = make_auth(c);
	auth_check(a, req("REGISTER", "nobody", NULL, false), &src, 1000, &v);
	assert_null(strstr(v.extra, "SHA-256"));
	assert_non_null(strstr(v.extra, "algorithm=MD5,"));
	auth_free(a);
}

static void test_success(void **state)
{
	struct auth *a = make_auth(local_conf());
	struct guard_verdict v;
	const struct sip_hdr *h;
	struct sg_addr src = addr("192.0.2.1");
	char nonce[128], line[1024];
	struct cred c = {.user = "bob",
			 .pass = "bobpw",
			 .uri = "sip:" REALM,
			 .alg = "SHA-256"};

	(void)state;
	login(a, "REGISTER", "alice", "secret", "192.0.2.1", 1000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	h = auth_cred_hdr(a, &msg);
	assert_non_null(h);
	assert_int_equal(h->id, SIP_HDR_AUTHORIZATION);
	login(a, "INVITE", "alice", "secret", "192.0.2.1", 1000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	assert_int_equal(auth_cred_hdr(a, &msg)->id,
			 SIP_HDR_PROXY_AUTHORIZATION);
	/* SHA-256, upper-case response hex. */
	auth_check(a, req("REGISTER", "bob", NULL, false), &src, 2000, &v);
	nonce_of(&v, nonce, sizeof(nonce));
	c.nonce = nonce;
	cred_line(line, sizeof(line), "REGISTER", &c);
	{
		char *r = strstr(line, "response=\"") + 10;

		for (; *r != '"'; r++)
			if (*r >= 'a' && *r <= 'f')
				*r = (char)(*r - 'a' + 'A');
	}
	auth_check(a, req("REGISTER", "bob", line, false), &src, 2000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	auth_free(a);
}

static void assert_same(const struct guard_verdict *x,
			const struct guard_verdict *y)
{
	assert_int_equal(x->action, y->action);
	assert_int_equal(x->status, y->status);
	assert_string_equal(x->reason, y->reason);
	assert_int_equal(x->extra_len, y->extra_len);
	assert_memory_equal(x->extra, y->extra, x->extra_len);
	assert_string_equal(x->rule, y->rule);
	assert_string_equal(x->why, y->why);
	assert_int_equal(x->ban, y->ban);
}

static void test_uniform(void **state)
{
	struct auth *a = make_auth(local_conf());
	struct guard_verdict known, unknown, v1, v2;
	char n1[128], n2[128];

	(void)state;
	login(a, "REGISTER", "alice", "wrong", "192.0.2.1", 1000, &known);
	login(a, "REGISTER", "mallory", "wrong", "192.0.2.2", 1000, &unknown);
	assert_int_equal(known.action, GUARD_REPLY);
	assert_int_equal(known.status, 403);
	assert_int_equal(known.extra_len, 0);
	assert_same(&known, &unknown);
	login(a, "INVITE", "bob", "wrong", "192.0.2.3", 1000, &known);
	login(a, "INVITE", "nobody", "wrong", "192.0.2.4", 1000, &unknown);
	assert_same(&known, &unknown);
	/* The challenges differ only in the nonce. */
	{
		struct sg_addr s = addr("192.0.2.5");

		auth_check(a, req("REGISTER", "alice", NULL, false), &s, 5,
			   &v1);
		auth_check(a, req("REGISTER", "zed", NULL, false), &s, 5, &v2);
		nonce_of(&v1, n1, sizeof(n1));
		nonce_of(&v2, n2, sizeof(n2));
		assert_int_equal(v1.extra_len, v2.extra_len);
		assert_string_not_equal(n1, n2);
		assert_int_equal(v1.status, v2.status);
		assert_int_equal(strlen(n1), strlen(n2));
	}
	auth_free(a);
}

static void test_stale(void **state)
{
	struct auth_conf conf = local_conf();
	struct auth *a = make_auth(conf);
	struct sg_addr src = addr("192.0.2.1");
	struct guard_verdict v;
	char nonce[128], line[1024];
	struct cred c = {
		.user = "alice", .pass = "secret", .uri = "sip:" REALM};
	uint64_t late = 1000 + conf.nonce_ttl_ms + 1;

	(void)state;
	auth_check(a, req("REGISTER", "alice", NULL, false), &src, 1000, &v);
	nonce_of(&v, nonce, sizeof(nonce));
	c.nonce = nonce;
	cred_line(line, sizeof(line), "REGISTER", &c);
	auth_check(a, req("REGISTER", "alice", line, false), &src, late, &v);
	assert_int_equal(v.status, 401);
	assert_string_equal(v.rule, "auth-stale");
	assert_non_null(strstr(v.extra, ", stale=true\r\n"));
	/* Wrong password on an expired nonce: a failure, not stale. */
	c.pass = "nope";
	cred_line(line, sizeof(line), "REGISTER", &c);
	auth_check(a, req("REGISTER", "alice", line, false), &src, late, &v);
	assert_int_equal(v.status, 403);
	/* A nonce from the future is not ours. */
	c.pass = "secret";
	auth_check(a, req("REGISTER", "alice", NULL, false), &src, 900000, &v);
	nonce_of(&v, nonce, sizeof(nonce));
	cred_line(line, sizeof(line), "REGISTER", &c);
	auth_check(a, req("REGISTER", "alice", line, false), &src, 1000, &v);
	assert_string_equal(v.rule, "auth-challenge");
	auth_free(a);
}

static void test_binding(void **state)
{
	struct auth *a = make_auth(local_conf());
	struct sg_addr src = addr("192.0.2.1"), other = addr("192.0.2.9");
	struct guard_verdict v;
	char nonce[128], line[1024];
	struct cred c = {
		.user = "alice", .pass = "secret", .uri = "sip:" REALM};
	size_t i;

	(void)state;
	auth_check(a, req("REGISTER", "alice", NULL, false), &src, 1000, &v);
	nonce_of(&v, nonce, sizeof(nonce));
	c.nonce = nonce;
	cred_line(line, sizeof(line), "REGISTER", &c);
	/* From another address: a fresh challenge, not counted. */
	auth_check(a, req("REGISTER", "alice", line, false), &other, 1000, &v);
	assert_int_equal(v.status, 401);
	assert_string_equal(v.rule, "auth-challenge");
	assert_null(strstr(v.extra, "stale"));
	{
		struct authfail_key k;

		authfail_key(auth_failures(a), &k, &other, STR("alice"));
		assert_int_equal(authfail_count_src(auth_failures(a), &k, 1000),
				 0);
	}
	/* Any changed byte of the nonce: not ours. */
	for (i = 0; i < strlen(nonce); i += 7) {
		char t[128];

		strcpy(t, nonce);
		t[i] = t[i] == '0' ? '1' : '0';
		c.nonce = t;
		cred_line(line, sizeof(line), "REGISTER", &c);
		auth_check(a, req("REGISTER", "alice", line, false), &src, 1000,
			   &v);
		assert_string_equal(v.rule, "auth-challenge");
	}
	c.nonce = "short";
	cred_line(line, sizeof(line), "REGISTER", &c);
	auth_check(a, req("REGISTER", "alice", line, false), &src, 1000, &v);
	assert_string_equal(v.rule, "auth-challenge");
	/* The untouched nonce from the right address works. */
	c.nonce = nonce;
	cred_line(line, sizeof(line), "REGISTER", &c);
	auth_check(a, req("REGISTER", "alice", line, false), &src, 1000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	auth_free(a);
}

static void test_replay(void **state)
{
	struct auth *a = make_auth(local_conf());
	struct sg_addr src = addr("192.0.2.1");
	struct guard_verdict v;
	char nonce[128], line[1024];
	struct cred c = {
		.user = "alice", .pass = "secret", .uri = "sip:" REALM};

	(void)state;
	auth_check(a, req("REGISTER", "alice", NULL, false), &src, 1000, &v);
	nonce_of(&v, nonce, sizeof(nonce));
	c.nonce = nonce;
	cred_line(line, sizeof(line), "REGISTER", &c);
	auth_check(a, req("REGISTER", "alice", line, false), &src, 1000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	auth_check(a, req("REGISTER", "alice", line, false), &src, 1001, &v);
	assert_int_equal(v.status, 401);
	assert_string_equal(v.rule, "auth-nonce-replay");
	assert_non_null(strstr(v.extra, "stale=true"));
	c.nc = "00000003";
	cred_line(line, sizeof(line), "REGISTER", &c);
	auth_check(a, req("REGISTER", "alice", line, false), &src, 1002, &v);
	assert_int_equal(v.action, GUARD_PASS);
	c.nc = "00000002";
	cred_line(line, sizeof(line), "REGISTER", &c);
	auth_check(a, req("REGISTER", "alice", line, false), &src, 1003, &v);
	assert_string_equal(v.rule, "auth-nonce-replay");
	auth_free(a);
}

static void test_nc_eviction(void **state)
{
	struct auth_conf conf = local_conf();
	struct auth *a;
	struct guard_verdict v;
	char nonce[64][128], line[1024];
	struct cred c = {
		.user = "alice", .pass = "secret", .uri = "sip:" REALM};
	struct sg_addr src = addr("192.0.2.1");
	int i, stale = 0;

	(void)state;
	conf.nonce_slots = 4;
	a = make_auth(conf);
	for (i = 0; i < 64; i++) {
		auth_check(a, req("REGISTER", "alice", NULL, false), &src,
			   1000 + (uint64_t)i, &v);
		nonce_of(&v, nonce[i], sizeof(nonce[i]));
		c.nonce = nonce[i];
		cred_line(line, sizeof(line), "REGISTER", &c);
		auth_check(a, req("REGISTER", "alice", line, false), &src, 2000,
			   &v);
		assert_int_equal(v.action, GUARD_PASS);
	}
	/* Replays of evicted nonces are never accepted. */
	for (i = 0; i < 64; i++) {
		c.nonce = nonce[i];
		cred_line(line, sizeof(line), "REGISTER", &c);
		auth_check(a, req("REGISTER", "alice", line, false), &src, 2001,
			   &v);
		assert_int_equal(v.action, GUARD_REPLY);
		assert_non_null(strstr(v.extra, "stale=true"));
		stale += !strcmp(v.rule, "auth-stale");
	}
	assert_true(stale > 0);
	auth_free(a);
}

static void test_params(void **state)
{
	struct auth_conf conf = local_conf();
	struct auth *a;
	struct sg_addr src = addr("192.0.2.1");
	struct guard_verdict v;
	char nonce[128], line[1024], two[2048];
	struct cred base = {.user = "alice",
			    .pass = "secret",
			    .uri = "sip:" REALM},
		    c;
	size_t i;
	static const struct cred bad[] = {
		{.qop = ""}, /* RFC 2069 style */
		{.qop = "auth-int"},
		{.uri = "sip:other.com"},
		{.alg = "MD5-sess"},
		{.nc = "00000000"},
		{.nc = "xyz"},
		{.resp = "00"},
		{.user = "bob", .pass = "bobpw"}, /* To says alice */
	};

	(void)state;
	conf.fail.user_max = 100;
	conf.fail.userip_max = 100;
	a = make_auth(conf);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		auth_check(a, req("REGISTER", "alice", NULL, false), &src, 1000,
			   &v);
		nonce_of(&v, nonce, sizeof(nonce));
		c = base;
		c.nonce = nonce;
		c.qop = bad[i].qop;
		c.uri = bad[i].uri ? bad[i].uri : base.uri;
		c.alg = bad[i].alg;
		c.nc = bad[i].nc;
		c.resp = bad[i].resp;
		if (bad[i].user) {
			c.user = bad[i].user;
			c.pass = bad[i].pass;
		}
		cred_line(line, sizeof(line), "REGISTER", &c);
		auth_check(a, req("REGISTER", "alice", line, false), &src, 1000,
			   &v);
		if (v.status != 403)
			fail_msg("case %zu: %d %s", i, v.status, v.rule);
	}
	/* Two credentials for our realm: refused. */
	src = addr("192.0.2.77");
	auth_check(a, req("REGISTER", "alice", NULL, false), &src, 1000, &v);
	nonce_of(&v, nonce, sizeof(nonce));
	c = base;
	c.nonce = nonce;
	cred_line(line, sizeof(line), "REGISTER", &c);
	snprintf(two, sizeof(two), "%s%s", line, line);
	auth_check(a, req("REGISTER", "alice", two, false), &src, 1000, &v);
	assert_int_equal(v.status, 403);
	/* Credentials for another realm only: challenged. */
	c.realm = "elsewhere";
	cred_line(line, sizeof(line), "REGISTER", &c);
	auth_check(a, req("REGISTER", "alice", line, false), &src, 1000, &v);
	assert_int_equal(v.status, 401);
	/* Garbage in Authorization: a failure. */
	auth_check(a,
		   req("REGISTER", "alice", "Authorization: Basic Zm9v\r\n",
		       false),
		   &src, 1000, &v);
	assert_int_equal(v.status, 403);
	auth_free(a);
}

static void test_exempt(void **state)
{
	struct auth *a = make_auth(local_conf());
	struct sg_addr src = addr("192.0.2.1");
	struct guard_verdict v;

	(void)state;
	auth_check(a, req("ACK", "alice", NULL, false), &src, 1, &v);
	assert_int_equal(v.action, GUARD_PASS);
	auth_check(a, req("CANCEL", "alice", NULL, false), &src, 1, &v);
	assert_int_equal(v.action, GUARD_PASS);
	auth_check(a, req("BYE", "alice", NULL, true), &src, 1, &v);
	assert_int_equal(v.action, GUARD_PASS);
	auth_check(a, req("OPTIONS", "alice", NULL, false), &src, 1, &v);
	assert_int_equal(v.status, 407);
	assert_int_equal(auth_check(a, NULL, &src, 1, &v), -EINVAL);
	assert_int_equal(v.action, GUARD_DROP);
	auth_free(a);
}

/* auth_check_dialog: an in-dialog request is challenged too (a call party
 * proving itself from a new address); ACK and CANCEL stay exempt. */
static void test_check_dialog(void **state)
{
	struct auth *a = make_auth(local_conf());
	struct sg_addr src = addr("192.0.2.1");
	struct guard_verdict v;

	(void)state;
	auth_check_dialog(a, req("BYE", "alice", NULL, true), &src, 1, &v);
	assert_int_equal(v.action, GUARD_REPLY);
	assert_int_equal(v.status, 407);
	assert_non_null(strstr(v.extra, "Proxy-Authenticate"));
	auth_check_dialog(a, req("ACK", "alice", NULL, true), &src, 1, &v);
	assert_int_equal(v.action, GUARD_PASS);
	auth_check_dialog(a, req("CANCEL", "alice", NULL, false), &src, 1, &v);
	assert_int_equal(v.action, GUARD_PASS);
	/* The ordinary check still exempts it. */
	auth_check(a, req("BYE", "alice", NULL, true), &src, 1, &v);
	assert_int_equal(v.action, GUARD_PASS);
	auth_free(a);
}

/* svcrack from one address at one user, the real user elsewhere. */
static void test_bruteforce(void **state)
{
	struct auth *a = make_auth(local_conf());
	struct guard_verdict v;
	char pw[32];
	int i;

	(void)state;
	for (i = 1; i <= 12; i++) {
		snprintf(pw, sizeof(pw), "guess%d", i);
		login(a, "REGISTER", "alice", pw, "127.0.0.66", 1000, &v);
		if (i < 5) {
			assert_int_equal(v.status, 403);
			assert_string_equal(v.rule, "auth-failed");
		} else if (i < 10) {
			assert_int_equal(v.action, GUARD_DROP);
			assert_string_equal(v.rule, "auth-bruteforce-userip");
			assert_false(v.ban);
		} else {
			assert_int_equal(v.action, GUARD_DROP);
			assert_string_equal(v.rule, "auth-bruteforce-ip");
			assert_true(v.ban);
		}
		/* The right password does not help once blocked. */
		if (i == 6) {
			login(a, "REGISTER", "alice", "secret", "127.0.0.66",
			      1000, &v);
			assert_int_equal(v.action, GUARD_DROP);
			i++;
		}
		/* The real user keeps working from her own address. */
		login(a, "REGISTER", "alice", "secret", "127.0.0.1", 1000, &v);
		assert_int_equal(v.action, GUARD_PASS);
	}
	auth_free(a);
}

/* Users behind one NAT: one user's bad password locks nobody else. */
static void test_nat(void **state)
{
	struct auth *a = make_auth(local_conf());
	struct guard_verdict v;
	struct authfail_key k;
	struct sg_addr nat = addr("10.0.0.1");
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		login(a, "REGISTER", "alice", "typo", "10.0.0.1", 1000, &v);
	assert_int_equal(v.action, GUARD_DROP);
	assert_false(v.ban);
	login(a, "REGISTER", "bob", "bobpw", "10.0.0.1", 1000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	login(a, "INVITE", "bob", "bobpw", "10.0.0.1", 1000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	authfail_key(auth_failures(a), &k, &nat, STR("bob"));
	assert_int_equal(authfail_count_src(auth_failures(a), &k, 1000), 5);
	assert_int_equal(authfail_check(auth_failures(a), &k, 1000),
			 AUTHFAIL_OK);
	auth_free(a);
}

static void test_user_lock(void **state)
{
	struct auth *a = make_auth(local_conf());
	struct guard_verdict v, w;
	char from[32];
	int i;

	(void)state;
	/* The office authenticated earlier: known-good. */
	login(a, "REGISTER", "alice", "secret", "192.0.2.200", 500, &v);
	assert_int_equal(v.action, GUARD_PASS);
	for (i = 0; i < 6; i++) {
		snprintf(from, sizeof(from), "198.51.100.%d", i + 1);
		login(a, "REGISTER", "alice", "guess", from, 1000, &v);
		assert_int_equal(v.status, 403);
	}
	/* Locked: the right password from a new address is refused with
	 * the very answer of a wrong one. */
	login(a, "REGISTER", "alice", "secret", "203.0.113.1", 1000, &v);
	assert_int_equal(v.status, 403);
	assert_string_equal(v.rule, "auth-user-locked");
	login(a, "REGISTER", "alice", "wrong", "203.0.113.2", 1000, &w);
	assert_int_equal(w.status, v.status);
	assert_int_equal(w.extra_len, v.extra_len);
	/* The known-good office is not locked out. */
	login(a, "REGISTER", "alice", "secret", "192.0.2.200", 1000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	/* Another user is not locked. */
	login(a, "REGISTER", "bob", "bobpw", "203.0.113.1", 1000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	auth_free(a);
}

static void test_conf_errors(void **state)
{
	struct auth_conf c = local_conf();
	struct auth *a = NULL;
	struct creds *cr = NULL;
	char err[AUTH_ERR_MAX];

	(void)state;
	assert_int_equal(auth_new(&a, &c, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "credentials"));
	c.realm[0] = '\0';
	assert_int_equal(auth_new(&a, &c, make_creds(), err, sizeof(err)),
			 -EINVAL);
	c = local_conf();
	c.algs = 0;
	assert_int_equal(auth_new(&a, &c, make_creds(), err, sizeof(err)),
			 -EINVAL);
	c = local_conf();
	assert_int_equal(creds_parse(&cr,
				     STR("u:" REALM ":"
					 "0123456789abcdef0123456789abcdef"),
				     NULL),
			 0);
	assert_int_equal(auth_new(&a, &c, cr, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "user u "));
	assert_null(a);
	/* Pass-through without a realm is fine. */
	c.mode = AUTH_PASSTHROUGH;
	c.realm[0] = '\0';
	assert_int_equal(auth_new(&a, &c, NULL, err, sizeof(err)), 0);
	assert_int_equal(auth_swap_creds(a, make_creds(), err, sizeof(err)),
			 -EINVAL);
	auth_free(a);
	auth_free(NULL);
}

static void test_swap(void **state)
{
	struct auth *a = make_auth(local_conf());
	struct creds *cr = NULL;
	struct guard_verdict v;
	char h[65], text[256], err[AUTH_ERR_MAX];

	(void)state;
	ha1(h, AUTH_ALG_MD5, "carol", REALM, "cpw");
	snprintf(text, sizeof(text), "carol:" REALM ":%s\n", h);
	assert_int_equal(creds_parse(&cr, str_cstr(text), NULL), 0);
	/* Lacks SHA-256 while both are offered: refused, old ones stay. */
	assert_int_equal(auth_swap_creds(a, cr, err, sizeof(err)), -EINVAL);
	login(a, "REGISTER", "alice", "secret", "192.0.2.1", 1000, &v);
	assert_int_equal(v.action, GUARD_PASS);
	auth_free(a);
}

static void test_oom(void **state)
{
	struct auth_conf c = local_conf();
	size_t n;

	(void)state;
	for (n = 1;; n++) {
		struct creds *cr = make_creds();
		struct auth *a = NULL;
		int rc;

		mem_fail_nth(n);
		rc = auth_new(&a, &c, cr, NULL, 0);
		mem_fail_nth(0);
		if (!rc) {
			auth_free(a);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_null(a);
		assert_int_equal(mem_live(), 0);
	}
	assert_true(n > 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_binding),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_nc_eviction),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_exempt),
		cmocka_unit_test(test_check_dialog),
		cmocka_unit_test(test_bruteforce),
		cmocka_unit_test(test_nat),
		cmocka_unit_test(test_user_lock),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_swap),
		cmocka_unit_test(test_oom),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
