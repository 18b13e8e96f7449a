/*
 * fuzz_digest.c - sip_digest_parse on hostile bytes.  Invariants: every
 * slice lies inside the input, the scheme is a non-empty token on
 * success, errors carry a reason and an offset inside the input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "sip/sip.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str in = str_make((const char *)data, size);
	struct sip_digest d;
	struct sip_perr e = {0};
	const struct str *f[] = {
		&d.scheme,   &d.username,  &d.realm,  &d.nonce,   &d.uri,
		&d.response, &d.algorithm, &d.cnonce, &d.opaque,  &d.qop,
		&d.nc,       &d.domain,    &d.stale,  &d.userhash};
	size_t i;
	int rc = sip_digest_parse(&d, in, &e);

	if (rc) {
		CHECK(rc == -EINVAL && e.code != SIP_PE_NONE);
		CHECK(e.off <= size && e.reason);
		return 0;
	}
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		inside(*f[i], in);
	CHECK(d.scheme.len > 0);
	if (!str_caseeq_cstr(d.scheme, "Digest"))
		CHECK(!d.username.p && !d.realm.p && !d.nonce.p);
	return 0;
}
