/*
 * fuzz_creds.c - the credentials file parser on hostile bytes.
 * Invariants: line parses give slices inside the line; a file parse
 * either fails with a line number and reason, or every parsed line can
 * be looked up again; nothing leaks.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "guard/auth.h"

#include "fuzz_check.h"

/* Every entry line must be found again with its HA1. */
static void check_lines(const struct creds *c, struct str text)
{
	struct str rest = text, line;
	struct creds_line l;
	const char *why;

	while (str_split(&rest, '\n', &line)) {
		int rc = creds_parse_line(&l, line, &why);

		CHECK(rc >= -EINVAL && rc <= 1);
		CHECK(rc >= 0 || why);
		if (rc != 1)
			continue;
		inside(l.user, line);
		inside(l.realm, line);
		inside(l.ha1_md5, line);
		inside(l.ha1_sha256, line);
		if (!c)
			continue;
		CHECK(!l.ha1_md5.len || strlen(creds_ha1(c, l.user, l.realm,
							 AUTH_ALG_MD5)) == 32);
		CHECK(!l.ha1_sha256.len ||
		      strlen(creds_ha1(c, l.user, l.realm, AUTH_ALG_SHA256)) ==
			      64);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str text = str_make((const char *)data, size);
	size_t live = mem_live();
	struct creds *c = NULL;
	struct creds_err e = {0, NULL};
	struct str u;
	int rc = creds_parse(&c, text, &e);

	if (rc) {
		CHECK(!c && e.reason && e.line > 0);
		CHECK(rc == -EINVAL || rc == -E2BIG || rc == -ENOMEM);
		check_lines(NULL, text);
	} else {
		check_lines(c, text);
		creds_check_algs(c, STR("r"), AUTH_ALG_MD5 | AUTH_ALG_SHA256,
				 &u);
		creds_free(c);
	}
	CHECK(mem_live() == live);
	return 0;
}
