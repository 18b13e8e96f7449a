/*
 * fuzz_presence_notify.c - presence_scrub on a NOTIFY (Event: presence)
 * built from hostile bytes: the input is the Content-Type value, a
 * newline, then the body, so both single PIDF documents and resource
 * lists (multipart/related) are reached.  Invariants: the answer is
 * KEEP, BODY or STRIP; only BODY leaves output, never more than the
 * body plus the rebuilt part delimiters; a NOTIFY carrying the new body
 * scrubs again without STRIP (what we forward is readable by our own
 * rules).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "guard/presence.h"

#include "fuzz_check.h"

static struct presence *ps;
static char buf[2][SIP_MAX_MSG_SIZE + 4096];

static int notify(struct sip_msg *m, char *b, size_t bsz, struct str ct,
		  struct str body)
{
	struct sip_perr e;
	int n = snprintf(b, bsz,
			 "NOTIFY sip:a@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch="
			 "z9hG4bK1\r\nFrom: <sip:b@x>;tag=1\r\nTo: <sip:a@x>"
			 ";tag=2\r\nCall-ID: c\r\nCSeq: 1 NOTIFY\r\nEvent: "
			 "presence\r\nContent-Type: %.*s\r\nContent-Length: "
			 "%zu\r\n\r\n",
			 STR_FMT(ct), body.len);

	if (n < 0 || (size_t)n + body.len > bsz)
		return -1;
	memcpy(b + n, body.p, body.len);
	return sip_msg_parse(m, b, (size_t)n + body.len, NULL, SIP_PARSE_STREAM,
			     &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	struct str ct, body;
	struct sip_msg m, m2;
	struct buf a, b;
	int r, r2;

	if (!ps) {
		struct presence_conf c;

		presence_conf_default(&c);
		if (presence_new(&ps, &c))
			abort();
	}
	if (!nl || (size_t)(nl - data) > 512 || size > 32768)
		return 0;
	ct = str_make((const char *)data, (size_t)(nl - data));
	body = str_make((const char *)nl + 1, size - (size_t)(nl - data) - 1);
	if (notify(&m, buf[0], sizeof(buf[0]), ct, body))
		return 0;
	buf_init(&a, 1 << 17);
	buf_init(&b, 1 << 17);
	r = presence_scrub(ps, &m, &a);
	CHECK(r == PRES_SCRUB_KEEP || r == PRES_SCRUB_BODY ||
	      r == PRES_SCRUB_STRIP);
	CHECK(r == PRES_SCRUB_BODY ? a.len > 0 : a.len == 0);
	if (r == PRES_SCRUB_BODY) {
		CHECK(a.len <= body.len + 16 * (SIP_MAX_PARTS + 1) * 80);
		if (notify(&m2, buf[1], sizeof(buf[1]), ct, buf_str(&a)) == 0) {
			r2 = presence_scrub(ps, &m2, &b);
			CHECK(r2 != PRES_SCRUB_STRIP);
		}
	}
	buf_free(&a);
	buf_free(&b);
	return 0;
}
