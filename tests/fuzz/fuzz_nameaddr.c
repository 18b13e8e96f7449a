/*
 * fuzz_nameaddr.c - sip_nameaddr_parse, and on the same bytes the other
 * one-element header parsers: sip_params_parse, sip_tokparams_parse,
 * sip_ctype_parse, sip_replaces_parse, sip_cseq_parse.  Invariants:
 * every slice lies inside the input, counts stay within their arrays,
 * q1000 <= 1000, star excludes everything else.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "sip/sip.h"

#include "fuzz_check.h"

static void err_ok(int rc, const struct sip_perr *e, size_t size)
{
	CHECK(rc == -EINVAL && e->code != SIP_PE_NONE);
	CHECK(e->off <= size && e->reason);
}

static void params_ok(const struct sip_params *pp, struct str in)
{
	unsigned i;

	CHECK(pp->n <= SIP_MAX_PARAMS);
	for (i = 0; i < pp->n; i++) {
		CHECK(pp->p[i].name.len > 0);
		CHECK(pp->p[i].has_value || pp->p[i].value.len == 0);
		inside(pp->p[i].name, in);
		inside(pp->p[i].value, in);
	}
}

static void nameaddr(struct str in)
{
	struct sip_nameaddr na;
	struct sip_perr e = {0};
	int rc = sip_nameaddr_parse(&na, in, 0, &e);

	if (rc) {
		err_ok(rc, &e, in.len);
		return;
	}
	inside(na.display, in);
	inside(na.uri.raw, in);
	inside(na.uri.host, in);
	inside(na.params, in);
	inside(na.tag, in);
	CHECK(na.q1000 <= 1000);
	if (na.star)
		CHECK(!na.uri.raw.p && !na.params.p);
	else
		CHECK(na.uri.raw.len > 0 && sip_uri_equal(&na.uri, &na.uri));
}

static void others(struct str in)
{
	struct sip_params ps;
	struct sip_tokparams tp;
	struct sip_ctype ct;
	struct sip_replaces rp;
	struct sip_cseq cs;
	struct sip_perr e = {0};
	int rc;

	if ((rc = sip_params_parse(&ps, in, &e)))
		err_ok(rc, &e, in.len);
	else
		params_ok(&ps, in);
	if ((rc = sip_tokparams_parse(&tp, in, &e))) {
		err_ok(rc, &e, in.len);
	} else {
		inside(tp.value, in);
		params_ok(&tp.params, in);
	}
	if ((rc = sip_ctype_parse(&ct, in, &e))) {
		err_ok(rc, &e, in.len);
	} else {
		inside(ct.type, in);
		inside(ct.subtype, in);
		inside(ct.boundary, in);
		params_ok(&ct.params, in);
	}
	if ((rc = sip_replaces_parse(&rp, in, &e))) {
		err_ok(rc, &e, in.len);
	} else {
		inside(rp.call_id, in);
		inside(rp.to_tag, in);
		inside(rp.from_tag, in);
		CHECK(rp.to_tag.len && rp.from_tag.len && rp.call_id.len);
	}
	if ((rc = sip_cseq_parse(&cs, in, &e))) {
		err_ok(rc, &e, in.len);
	} else {
		inside(cs.method, in);
		CHECK(cs.num <= 0x7fffffffu && cs.method.len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str in = str_make((const char *)data, size);

	nameaddr(in);
	others(in);
	return 0;
}
