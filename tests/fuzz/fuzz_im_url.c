/*
 * fuzz_im_url.c - im_url_next, im_host_norm, im_host_in_domain and
 * im_text_has on hostile text.  Invariants: every host found lies inside
 * the text, the cursor only moves forward and ends at the end, the
 * number of URLs is bounded by the text length; a normalised host is no
 * longer than the raw one, has no upper-case ASCII and no trailing dot,
 * and lies in its own domain.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard/im.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str text = str_make((const char *)data, size), host;
	char norm[IM_HOST_MAX + 1];
	size_t pos = 0, last = 0, n, i, urls = 0;

	while (im_url_next(text, &pos, &host)) {
		CHECK(pos > last);
		CHECK(pos <= size);
		last = pos;
		CHECK(++urls <= size);
		CHECK(!host.len ||
		      (host.p >= text.p && host.p + host.len <= text.p + size));
		n = im_host_norm(norm, sizeof(norm), host);
		CHECK(n <= host.len && n <= sizeof(norm));
		for (i = 0; i < n; i++)
			CHECK(!(norm[i] >= 'A' && norm[i] <= 'Z'));
		CHECK(!n || norm[n - 1] != '.');
		if (n)
			CHECK(im_host_in_domain(str_make(norm, n),
						str_make(norm, n)));
	}
	CHECK(pos == size);
	if (size > 4)
		CHECK(im_text_has(text, str_make((const char *)data, 0)) ==
		      false);
	(void)im_text_has(text, STR("buy now"));
	return 0;
}
