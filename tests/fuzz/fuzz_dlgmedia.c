/*
 * fuzz_dlgmedia.c - libFuzzer target for the media-address check of
 * re-offers (guard/dlgpolicy.c dg_media_check) and the Contact ranges
 * check (rg_contact_forbidden): hostile SDP in, a verdict out, never a
 * crash.  The last input byte picks the party's signalling address
 * (IPv4 or IPv6) and whether a media prefix is configured; the first 16
 * bytes double as an address for the Contact check.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "guard/dlgpolicy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dg_conf c;
	struct rg_conf r;
	struct sg_addr sig, a;
	const char *why = NULL;
	uint8_t sel = size ? data[size - 1] : 0;
	int rc;

	dg_conf_default(&c);
	if (sel & 1) {
		(void)gate_cidr_parse(&c.media[0], STR("192.0.2.0/24"), &why);
		c.nmedia = 1;
	}
	if (sg_addr_from_host(&sig,
			      sel & 2 ? STR("2001:db8::1") : STR("192.0.2.1"),
			      5060) != 0)
		abort();
	rc = dg_media_check(&c, str_make((const char *)data, size), &sig, &why);
	if (rc != 0 && rc != -EPERM && rc != -EINVAL)
		abort();
	if (rc != 0 && !why)
		abort();
	rg_conf_default(&r);
	r.forbid_private = sel & 4;
	memset(&a, 0, sizeof(a));
	if (size >= 16 && (sel & 8)) {
		a.u.in6.sin6_family = AF_INET6;
		memcpy(&a.u.in6.sin6_addr, data, 16);
		a.len = sizeof(a.u.in6);
	} else {
		a.u.in.sin_family = AF_INET;
		memcpy(&a.u.in.sin_addr, data, size < 4 ? size : 4);
		a.len = sizeof(a.u.in);
	}
	(void)rg_contact_forbidden(&r, &a);
	return 0;
}
