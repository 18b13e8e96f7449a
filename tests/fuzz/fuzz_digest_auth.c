/*
 * fuzz_digest_auth.c - the auth module on hostile credentials and PBX
 * challenges.
 *
 * The first byte picks a path:
 *   even  local mode: the rest is an Authorization header value sent to
 *         auth_check(); "@N@" in it becomes a valid nonce of ours, so
 *         verification is reached, not just the nonce check;
 *   odd   pass-through: the rest is the WWW-Authenticate value of a PBX
 *         challenge that is learnt, then an unknown user's 404 is
 *         rewritten from it and the credentials come back on the
 *         made-up nonce.
 * Invariants: verdicts are well formed (status, rule, extra within
 * bounds, no NUL); a rewritten answer parses as SIP; a local PASS never
 * happens (the fuzzer cannot know the password); nothing leaks.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "guard/auth.h"

#include "fuzz_check.h"

enum { VAL_MAX = 2048 };

static struct auth *loc, *pt;
static struct sip_msg m, r, o;
static char mbuf[4096], rbuf[4096], obuf[8192];
static uint64_t now = 1000;

static void setup(void)
{
	struct auth_conf c;
	struct creds *cr = NULL;

	auth_conf_default(&c);
	c.mode = AUTH_LOCAL;
	strcpy(c.realm, "example.com");
	c.nonce_slots = 16;
	c.fail.ip_slots = c.fail.user_slots = c.fail.userip_slots = 16;
	CHECK(creds_parse(&cr,
			  STR("alice:example.com:"
			      "0123456789abcdef0123456789abcdef:"
			      "0123456789abcdef0123456789abcdef"
			      "0123456789abcdef0123456789abcdef\n"),
			  NULL) == 0);
	CHECK(auth_new(&loc, &c, cr, NULL, 0) == 0);
	c.mode = AUTH_PASSTHROUGH;
	c.fake_nonce_slots = 16;
	CHECK(auth_new(&pt, &c, NULL, NULL, 0) == 0);
}

static void check_verdict(const struct guard_verdict *v)
{
	CHECK(v->action <= GUARD_REPLY);
	CHECK(v->extra_len < sizeof(v->extra));
	CHECK(!memchr(v->extra, '\0', v->extra_len));
	if (v->action == GUARD_REPLY)
		CHECK(v->status >= 200 && v->status < 700 && v->rule);
	if (v->action == GUARD_DROP)
		CHECK(v->rule != NULL);
}

/* value with CR/LF flattened (one header line), "@N@" -> nonce. */
static size_t flatten(char *dst, const uint8_t *p, size_t n, const char *nonce)
{
	size_t i, k = 0, nl = nonce ? strlen(nonce) : 0;

	for (i = 0; i < n && k + nl + 1 < VAL_MAX; i++) {
		if (nonce && i + 3 <= n && !memcmp(p + i, "@N@", 3)) {
			memcpy(dst + k, nonce, nl);
			k += nl;
			i += 2;
			continue;
		}
		dst[k++] = (p[i] == '\r' || p[i] == '\n' || !p[i]) ? ' '
								   : (char)p[i];
	}
	dst[k] = '\0';
	return k;
}

static bool parse(struct sip_msg *msg, const char *b, size_t n)
{
	struct sip_perr e;

	return sip_msg_parse(msg, b, n, &sip_limits_default, SIP_PARSE_DGRAM,
			     &e) == 0;
}

static bool request(const char *user, const char *hdr, const char *val)
{
	int n = snprintf(mbuf, sizeof(mbuf),
			 "REGISTER sip:example.com SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKf\r\n"
			 "From: <sip:%s@example.com>;tag=1\r\n"
			 "To: <sip:%s@example.com>\r\n"
			 "Call-ID: f\r\nCSeq: 1 REGISTER\r\n%s%s%s"
			 "Content-Length: 0\r\n\r\n",
			 user, user, hdr, val, *hdr ? "\r\n" : "");

	return n > 0 && (size_t)n < sizeof(mbuf) && parse(&m, mbuf, (size_t)n);
}

static bool response(int status, const char *hdrs)
{
	int n = snprintf(rbuf, sizeof(rbuf),
			 "SIP/2.0 %d X\r\n"
			 "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKf\r\n"
			 "From: <sip:u@example.com>;tag=1\r\n"
			 "To: <sip:u@example.com>;tag=2\r\n"
			 "Call-ID: f\r\nCSeq: 1 REGISTER\r\n%s"
			 "Content-Length: 0\r\n\r\n",
			 status, hdrs);

	return n > 0 && (size_t)n < sizeof(rbuf) && parse(&r, rbuf, (size_t)n);
}

static void local(const uint8_t *p, size_t n, struct sg_addr *src)
{
	struct guard_verdict v;
	char nonce[128] = "", val[VAL_MAX];
	const char *q;

	CHECK(request("alice", "", ""));
	auth_check(loc, &m, src, now, &v);
	check_verdict(&v);
	if ((q = strstr(v.extra, "nonce=\"")))
		sscanf(q + 7, "%127[0-9a-f]", nonce);
	flatten(val, p, n, nonce);
	if (!request("alice", "Authorization: ", val))
		return;
	auth_check(loc, &m, src, now, &v);
	check_verdict(&v);
	CHECK(v.action != GUARD_PASS);
	auth_cred_hdr(loc, &m);
}

static void apply_and_parse(const struct guard_verdict *v)
{
	struct sip_bld b;
	struct buf out;

	buf_init_fixed(&out, obuf, sizeof(obuf));
	sip_bld_init(&b, &r);
	CHECK(auth_pt_apply(pt, &b, &r, v) == 0);
	if (sip_bld_write(&b, &out) == 0)
		CHECK(parse(&o, out.p, out.len) && o.status == v->status);
}

static void passthrough(const uint8_t *p, size_t n, struct sg_addr *src)
{
	struct auth_pt_note note;
	struct guard_verdict v;
	char val[VAL_MAX], hdrs[VAL_MAX + 64], fake[300] = "";
	const char *q;

	flatten(val, p, n, NULL);
	snprintf(hdrs, sizeof(hdrs), "WWW-Authenticate: %s\r\n", val);
	CHECK(request("100", "", ""));
	auth_pt_request(pt, &m, src, now, &note, &v);
	check_verdict(&v);
	if (!response(401, hdrs))
		return;
	auth_pt_answer(pt, &note, &r, now, &v);
	check_verdict(&v);
	CHECK(request("999", "", ""));
	auth_pt_request(pt, &m, src, now, &note, &v);
	CHECK(response(404, ""));
	auth_pt_answer(pt, &note, &r, now, &v);
	check_verdict(&v);
	if (v.action != GUARD_REPLY)
		return;
	apply_and_parse(&v);
	if ((q = strstr(v.extra, "nonce=\"")))
		sscanf(q + 7, "%255[^\"]", fake);
	snprintf(hdrs, sizeof(hdrs),
		 "Digest username=\"999\", realm=\"x\", nonce=\"%s\"", fake);
	if (!request("999", "Authorization: ", hdrs))
		return;
	auth_pt_request(pt, &m, src, now, &note, &v);
	check_verdict(&v);
	/* A retry on the made-up nonce is answered from the template. */
	if (v.action == GUARD_REPLY && response(404, ""))
		apply_and_parse(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_addr src;
	size_t live;

	if (!loc)
		setup();
	if (size < 1)
		return 0;
	live = mem_live();
	now += 7;
	CHECK(sg_addr_parse(&src, STR("192.0.2.1"), 5060) == 0);
	((struct sockaddr_in *)&src.u.in)->sin_addr.s_addr ^= data[0] & 0x70;
	if (data[0] & 1)
		passthrough(data + 1, size - 1, &src);
	else
		local(data + 1, size - 1, &src);
	CHECK(mem_live() == live);
	return 0;
}
