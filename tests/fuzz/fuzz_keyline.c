/*
 * fuzz_keyline.c - keyline_in() and keyline_mask() on hostile bytes (a
 * peer's SIP message copied to the capture server).  Invariants: the
 * masker changes bytes only to '*' and only when the finder saw a key
 * line; masking twice masks the same keys and changes nothing more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/keyline.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *a = malloc(size ? size : 1), *b;
	size_t i, n1, n2;
	bool in = keyline_in((const char *)data, size);

	if (!a)
		return 0;
	memcpy(a, data, size);
	n1 = keyline_mask(a, size);
	CHECK(in || n1 == 0);
	for (i = 0; i < size; i++)
		CHECK(a[i] == (char)data[i] || a[i] == '*');
	b = malloc(size ? size : 1);
	if (b) {
		memcpy(b, a, size);
		n2 = keyline_mask(b, size);
		CHECK(n2 == n1 && memcmp(a, b, size) == 0);
		free(b);
	}
	free(a);
	return 0;
}
