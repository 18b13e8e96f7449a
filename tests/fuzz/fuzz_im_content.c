/*
 * fuzz_im_content.c - the MESSAGE content walk (im_check_content and
 * im_check) on a SIP message built from hostile bytes: the input is the
 * Content-Type value, a newline, then the body.  Invariants: a verdict
 * is PASS or a REPLY with one of the rules im.h lists and its status
 * (400, 403, 413, 415); a 415 for im-type carries an Accept header; no
 * crash, no leak, no read outside the message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "guard/im.h"

#include "fuzz_check.h"

static struct im *im;
static struct sip_msg msg;
static char buf[SIP_MAX_MSG_SIZE + 1024];

static void setup(void)
{
	struct im_conf c;

	im_conf_default(&c);
	c.domains[0] = "evil.example";
	c.ndomains = 1;
	c.keywords[0] = "buy now";
	c.nkeywords = 1;
	c.regex[0] = "(?i)wallet\\s+\\d+";
	c.regex[1] = "^(a+)+$";
	c.nregex = 2;
	c.max_size = 8192;
	c.src_max = 5;
	c.window_ms = 1000;
	if (im_new(&im, &c, NULL, 0))
		abort();
}

static bool known(const struct guard_verdict *v)
{
	static const int st[] = {403, 403, 413, 400, 415, 415, 403, 403, 403};
	unsigned i;

	for (i = 0; im_rule_names[i]; i++)
		if (strcmp(v->rule, im_rule_names[i]) == 0)
			return v->status == st[i];
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t ctlen = nl ? (size_t)(nl - data) : 0;
	size_t blen = nl ? size - ctlen - 1 : size;
	struct guard_verdict v;
	struct guard_src s = {.family = 2, .len = 4, .b = {1, 2, 3, 4}};
	struct sip_perr e;
	int n;

	if (!im)
		setup();
	if (ctlen > 512 || blen > 16384)
		return 0;
	n = snprintf(
		buf, sizeof(buf),
		"MESSAGE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1"
		"\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\n"
		"CSeq: 1 MESSAGE\r\nContent-Type: %.*s\r\n"
		"Content-Length: %zu\r\n\r\n",
		(int)ctlen, (const char *)data, blen);
	if (n < 0 || (size_t)n + blen > sizeof(buf))
		return 0;
	memcpy(buf + n, nl ? nl + 1 : data, blen);
	if (sip_msg_parse(&msg, buf, (size_t)n + blen, NULL, SIP_PARSE_STREAM,
			  &e))
		return 0;
	im_check_content(im, &msg, &v);
	CHECK(v.action == GUARD_PASS || (v.action == GUARD_REPLY && known(&v)));
	if (v.action == GUARD_REPLY && strcmp(v.rule, "im-type") == 0)
		CHECK(v.extra_len > 8 && memcmp(v.extra, "Accept: ", 8) == 0);
	im_check(im, &msg, &s, size, &v);
	CHECK(v.action == GUARD_PASS || (v.action == GUARD_REPLY && known(&v)));
	return 0;
}
