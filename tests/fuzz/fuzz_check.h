/*
 * fuzz_check.h - what the fuzz targets share: the libFuzzer entry
 * point's prototype, CHECK (a broken invariant aborts, which libFuzzer
 * and the replay driver both report) and, for the parsers of SIP
 * elements (fuzz_uri.c, fuzz_via.c, fuzz_digest.c, fuzz_nameaddr.c,
 * fuzz_creds.c), the invariant they keep: a parsed slice lies inside
 * its input.
 */
#ifndef SIPGUARD_TESTS_FUZZ_CHECK_H
#define SIPGUARD_TESTS_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

/* s is empty or lies within in. */
static inline void inside(struct str s, struct str in)
{
	CHECK(s.len == 0 || (s.p >= in.p && s.len <= in.len &&
			     s.p - in.p <= (ptrdiff_t)(in.len - s.len)));
}

#endif
