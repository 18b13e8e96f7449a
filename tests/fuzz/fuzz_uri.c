/*
 * fuzz_uri.c - sip_uri_parse, sip_uri_equal and sip_unescape on hostile
 * bytes.  Invariants: every slice lies inside the input, port implies
 * has_port, sip/sips URIs have a typed host, equality is reflexive and
 * symmetric, a parsed user unescapes cleanly.  An input holding a '\n'
 * is also split there into two URIs that are compared both ways.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sip.h"

#include "fuzz_check.h"

static int parse(struct sip_uri *u, struct str in)
{
	struct sip_perr e = {0};
	char buf[SIP_MAX_URI];
	int rc = sip_uri_parse(u, in, in.len, &e);

	if (rc) {
		CHECK(rc == -EINVAL && e.code != SIP_PE_NONE);
		CHECK(e.off <= in.len && e.reason);
		return rc;
	}
	CHECK(str_eq(u->raw, in) && in.len <= SIP_MAX_URI);
	inside(u->scheme, in);
	inside(u->user, in);
	inside(u->password, in);
	inside(u->host, in);
	inside(u->params, in);
	inside(u->headers, in);
	inside(u->transport, in);
	inside(u->user_param, in);
	inside(u->maddr, in);
	inside(u->method, in);
	inside(u->ttl, in);
	CHECK(u->has_port || u->port == 0);
	CHECK(u->scheme.len > 0);
	if (u->sch == SIP_URI_SIP || u->sch == SIP_URI_SIPS) {
		CHECK(u->host.len > 0 && u->host_type != SIP_HOST_NONE);
		CHECK(u->has_userinfo || (!u->user.len && !u->password.len));
		CHECK(!u->has_userinfo || u->user.len > 0);
		CHECK(sip_unescape(buf, sizeof(buf), u->user) >= 0);
		CHECK(sip_unescape(buf, sizeof(buf), u->password) >= 0);
	} else {
		CHECK(u->host.len == 0 && !u->has_port && !u->has_userinfo);
	}
	CHECK(sip_uri_equal(u, u));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str in = str_make((const char *)data, size);
	struct sip_uri a, b;
	const char *nl;

	parse(&a, in);
	nl = size ? memchr(data, '\n', size) : NULL;
	if (nl) {
		struct str l = str_span(in.p, nl);
		struct str r = str_span(nl + 1, in.p + size);

		if (parse(&a, l) == 0 && parse(&b, r) == 0)
			CHECK(sip_uri_equal(&a, &b) == sip_uri_equal(&b, &a));
	}
	return 0;
}
