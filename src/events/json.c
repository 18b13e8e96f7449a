/*
 * json.c - the JSON pieces every event writer needs: strings escaped so
 * that hostile bytes (SIP headers are attacker-controlled) always give
 * valid JSON and valid UTF-8 (RFC 8259 7, RFC 3629 4), and timestamps in
 * ISO 8601 UTC with milliseconds.
 */
#include "events/events.h"

#include <stdio.h>
#include <time.h>

#include "core/buf.h"

static const char hexd[] = "0123456789abcdef";

/* Escape one ASCII byte, or NULL when it goes out as is. */
static const char *esc(unsigned char c, char tmp[8])
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	}
	if (c >= 0x20 && c != 0x7f)
		return NULL;
	tmp[0] = '\\';
	tmp[1] = 'u';
	tmp[2] = '0';
	tmp[3] = '0';
	tmp[4] = hexd[c >> 4];
	tmp[5] = hexd[c & 15];
	tmp[6] = '\0';
	return tmp;
}

static int json_body(struct buf *out, struct str s)
{
	const unsigned char *p = (const unsigned char *)s.p;
	size_t i = 0, run = 0, n;
	const char *e;
	char tmp[8];
	int err = 0;

	/* Runs of plain bytes are appended in one go. */
	while (i < s.len && !err) {
		if (p[i] < 0x80) {
			e = esc(p[i], tmp);
			n = 1;
		} else {
			/* Invalid UTF-8: U+FFFD for the one byte. */
			e = utf8_next(p + i, s.len - i, &n) < 0 ? "\\ufffd"
								: NULL;
			if (e)
				n = 1;
		}
		if (!e) {
			run += n;
			i += n;
			continue;
		}
		if (run)
			err = buf_append(out, s.p + i - run, run);
		if (!err)
			err = buf_append_cstr(out, e);
		run = 0;
		i += n;
	}
	if (!err && run)
		err = buf_append(out, s.p + i - run, run);
	return err;
}

int json_str(struct buf *out, struct str s)
{
	size_t len0 = out->len;
	int err;

	err = buf_append(out, "\"", 1);
	if (!err)
		err = json_body(out, s);
	if (!err)
		err = buf_append(out, "\"", 1);
	if (err)
		out->len = len0;
	return err;
}

const char *json_time(char *buf, size_t sz, uint64_t wall_ms)
{
	time_t sec = (time_t)(wall_ms / 1000);
	struct tm tm;

	if (!sz)
		return buf;
	if (!gmtime_r(&sec, &tm)) {
		buf[0] = '\0';
		return buf;
	}
	snprintf(buf, sz, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (unsigned)(wall_ms % 1000));
	return buf;
}
