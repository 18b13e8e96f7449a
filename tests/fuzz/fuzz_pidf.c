/*
 * fuzz_pidf.c - pidf_scrub on hostile XML.  The first byte picks the
 * scrub flags.  Invariants: the result is a count >= 0 or -EINVAL; the
 * output is never longer than the input; a scrubbed document scrubs
 * again to itself with nothing removed (what we forward is well-formed
 * by our own rules and holds nothing the flags select).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "guard/presence.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a, b;
	unsigned flags;
	int rc, rc2;

	if (!size)
		return 0;
	flags = data[0] & PIDF_SCRUB_ALL;
	buf_init(&a, 1 << 17);
	buf_init(&b, 1 << 17);
	rc = pidf_scrub(&a, str_make((const char *)data + 1, size - 1), flags);
	CHECK(rc >= 0 || rc == -EINVAL || rc == -EMSGSIZE);
	if (rc >= 0) {
		CHECK(a.len <= size - 1);
		rc2 = pidf_scrub(&b, buf_str(&a), flags);
		CHECK(rc2 == 0);
		CHECK(b.len == a.len && memcmp(a.p, b.p, a.len) == 0);
	}
	buf_free(&a);
	buf_free(&b);
	CHECK(mem_live() == 0);
	return 0;
}
