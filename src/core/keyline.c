/*
 * keyline.c - finding SDES key lines (RFC 4568 a=crypto) in message
 * bytes, so that the buffers holding one are wiped (see keyline.h).
 */
#include "core/keyline.h"

#include <string.h>
#include <strings.h>

/* Mask the key after each "inline:" in line [p, end): count. */
static size_t mask_line(char *p, const char *end)
{
	size_t n = 0;

	while (end - p >= 7) {
		if (strncasecmp(p, "inline:", 7) != 0) {
			p++;
			continue;
		}
		p += 7;
		n++;
		for (; p < end && *p != '|' && *p != ';' && *p != ' ' &&
		       *p != '\t';
		     p++)
			*p = '*';
	}
	return n;
}

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

size_t keyline_mask(char *p, size_t n)
{
	char *end = p + n, *line, *eol;
	size_t masked = 0;

	for (line = p; line && line < end; line = eol ? eol + 1 : NULL) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if ((size_t)((eol ? eol : end) - line) >= 9 &&
		    strncasecmp(line, "a=crypto:", 9) == 0)
			masked += mask_line(line + 9,
					    eol && eol[-1] == '\r'
						    ? eol - 1
						    : (eol ? eol : end));
	}
	return masked;
}
