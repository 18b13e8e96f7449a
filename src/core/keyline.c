/*
 * keyline.c - finding SDES key lines (RFC 4568 a=crypto) in message
 * bytes, so that the buffers holding one are wiped (see keyline.h).
 */
#include "core/keyline.h"

#include <string.h>
#include <strings.h>

bool keyline_in(const char *p, size_t n)
{
	const char *end = p + n, *q;

	if (n < sizeof("a=crypto") - 1)
		return false;
	/* q: where the next '=' may be; an 'a' must stand before it and
	 * "crypto" after it. */
	for (q = p + 1; q < end; q++) {
		q = memchr(q, '=', (size_t)(end - q));
		if (!q || end - q < 7)
			return false;
		if ((q[-1] | 0x20) == 'a' &&
		    strncasecmp(q + 1, "crypto", 6) == 0)
			return true;
	}
	return false;
}
