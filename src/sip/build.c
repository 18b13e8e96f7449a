/*
 * build.c - the SIP message builder: a proxy's changes to a parsed
 * message (RFC 3261 16.6: Via added or removed, Route popped,
 * Record-Route added, Max-Forwards decremented, body rewritten by the
 * media relay...) recorded as edits against the original bytes and
 * written in one pass with edit_apply(), without re-parsing or copying
 * anything twice.
 *
 * Every function records at most two edits and never fails loudly: the
 * first failure (too many edits, a range outside the message, CR/LF in
 * a header name or value) is kept in b->err and returned by
 * sip_bld_write(), so callers check once.  Content-Length follows the
 * body when sip_bld_body() replaces it (RFC 3261 18.3, 20.14).
 */
#include "sip/sip_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"

void sip_bld_init(struct sip_bld *b, const struct sip_msg *msg)
{
	b->msg = msg;
	b->nedit = 0;
	b->body = STR_NULL;
	b->body_set = false;
	b->err = msg ? 0 : -EINVAL;
}

static void bld_err(struct sip_bld *b, int err)
{
	if (!b->err)
		b->err = err;
}

/* Record "replace [off, off+len) with s0 s1 s2". */
static void bld_edit(struct sip_bld *b, size_t off, size_t len, struct str s0,
		     struct str s1, struct str s2)
{
	struct edit *e;

	if (b->err)
		return;
	if (off > b->msg->raw.len || len > b->msg->raw.len - off) {
		bld_err(b, -EINVAL);
		return;
	}
	if (b->nedit >= SIP_BLD_MAX_EDITS) {
		bld_err(b, -ENOSPC);
		return;
	}
	e = &b->edit[b->nedit];
	e->off = off;
	e->len = len;
	e->s[0] = s0;
	e->s[1] = s1;
	e->s[2] = s2;
	e->seq = b->nedit++;
}

/* Offset of a slice that must lie inside the original message. */
static bool bld_off(const struct sip_bld *b, struct str s, size_t *offp)
{
	const struct str raw = b->msg->raw;

	if (!s.p || s.p < raw.p || s.p > raw.p + raw.len ||
	    s.len > (size_t)(raw.p + raw.len - s.p))
		return false;
	*offp = (size_t)(s.p - raw.p);
	return true;
}

/* New header text must not break the line structure (no injection). */
static bool clean_text(struct str s)
{
	return !memchr(s.p, '\r', s.len) && !memchr(s.p, '\n', s.len) &&
	       !memchr(s.p, '\0', s.len);
}

static bool check_hdr(struct sip_bld *b, const struct sip_hdr *h)
{
	size_t off = 0;

	if (b->err)
		return false;
	if (!h || !bld_off(b, h->line, &off)) {
		bld_err(b, -EINVAL);
		return false;
	}
	return true;
}

/* Length of the start line, without its CRLF. */
static size_t start_line_len(const struct sip_msg *m)
{
	const char *nl = memchr(m->raw.p, '\n', m->raw.len);

	return nl && nl > m->raw.p ? (size_t)(nl - 1 - m->raw.p) : 0;
}

void sip_bld_start_line(struct sip_bld *b, struct str line)
{
	if (b->err)
		return;
	if (line.len == 0 || !clean_text(line)) {
		bld_err(b, -EINVAL);
		return;
	}
	bld_edit(b, 0, start_line_len(b->msg), line, STR_NULL, STR_NULL);
}

void sip_bld_remove(struct sip_bld *b, const struct sip_hdr *h)
{
	size_t off = 0;

	if (!check_hdr(b, h))
		return;
	bld_off(b, h->line, &off);
	bld_edit(b, off, h->line.len, STR_NULL, STR_NULL, STR_NULL);
}

void sip_bld_replace_value(struct sip_bld *b, const struct sip_hdr *h,
			   struct str value)
{
	size_t off = 0;

	if (!check_hdr(b, h))
		return;
	if (!clean_text(value) || !bld_off(b, h->value, &off)) {
		bld_err(b, -EINVAL);
		return;
	}
	bld_edit(b, off, h->value.len, value, STR_NULL, STR_NULL);
}

/* The escape hatch: `with` is written as given, CR/LF included. */
void sip_bld_replace_range(struct sip_bld *b, struct str range, struct str with)
{
	size_t off = 0;

	if (b->err)
		return;
	if (!bld_off(b, range, &off)) {
		bld_err(b, -EINVAL);
		return;
	}
	bld_edit(b, off, range.len, with, STR_NULL, STR_NULL);
}

/* "name: value\r\n" at off, as two insertions (an edit holds three
 * slices).  Their sequence numbers keep them together and in order. */
static void bld_field(struct sip_bld *b, size_t off, struct str name,
		      struct str value)
{
	if (b->err)
		return;
	if (!sip_is_token(name) || !clean_text(value)) {
		bld_err(b, -EINVAL);
		return;
	}
	if (b->nedit + 2 > SIP_BLD_MAX_EDITS) {
		bld_err(b, -ENOSPC);
		return;
	}
	bld_edit(b, off, 0, name, STR(": "), value);
	bld_edit(b, off, 0, STR("\r\n"), STR_NULL, STR_NULL);
}

/* Offset just past the last header line (where the empty line is). */
static size_t hdr_end_off(const struct sip_msg *m)
{
	return (size_t)(m->body.p - m->raw.p) - 2;
}

void sip_bld_insert(struct sip_bld *b, const struct sip_hdr *h, struct str name,
		    struct str value)
{
	const struct sip_msg *m = b->msg;
	size_t off = 0;

	if (b->err)
		return;
	if (h) {
		if (!check_hdr(b, h))
			return;
		bld_off(b, h->line, &off);
	} else if (m->nhdr) {
		off = (size_t)(m->hdr[0].line.p - m->raw.p);
	} else {
		off = hdr_end_off(m);
	}
	bld_field(b, off, name, value);
}

void sip_bld_append(struct sip_bld *b, struct str name, struct str value)
{
	if (b->err)
		return;
	bld_field(b, hdr_end_off(b->msg), name, value);
}

void sip_bld_body(struct sip_bld *b, struct str body)
{
	if (b->err)
		return;
	if (!body.p && body.len) {
		bld_err(b, -EINVAL);
		return;
	}
	b->body = body;
	b->body_set = true;
}

/*
 * Content-Length for the new body: rewrite the existing header's value,
 * or add one at the end of the headers when there is none or the caller
 * removed it.  Any other edit touching that header is a conflict.
 */
static int bld_clen(struct sip_bld *b, struct edit *e, unsigned *np,
		    struct str num)
{
	const struct sip_hdr *h = sip_msg_hdr(b->msg, SIP_HDR_CONTENT_LENGTH);
	size_t off = 0, end, i;
	bool removed = false;

	if (h) {
		bld_off(b, h->line, &off);
		end = off + h->line.len;
		for (i = 0; i < *np; i++) {
			if (e[i].off >= end || e[i].off + e[i].len <= off ||
			    (e[i].len == 0 && e[i].off == off))
				continue;
			if (e[i].off == off && e[i].len == h->line.len &&
			    !e[i].s[0].len && !e[i].s[1].len && !e[i].s[2].len)
				removed = true;
			else
				return -EINVAL;
		}
	}
	if (h && !removed) {
		bld_off(b, h->value, &off);
		e[*np] = (struct edit){
			off, h->value.len, {num, STR_NULL, STR_NULL}, *np};
		(*np)++;
		return 0;
	}
	off = hdr_end_off(b->msg);
	e[*np] = (struct edit){
		off, 0, {STR("Content-Length: "), num, STR("\r\n")}, *np};
	(*np)++;
	return 0;
}

/*
 * Write the edited message to out (appended).  Returns 0, the sticky
 * error, -EINVAL (overlapping edits), -ENOSPC or -ENOMEM from out.  The
 * recorded edits are left as they were: write may be called again.
 */
int sip_bld_write(struct sip_bld *b, struct buf *out)
{
	struct edit e[SIP_BLD_MAX_EDITS + 2];
	const struct sip_msg *m;
	char num[24];
	unsigned n;
	int err;

	if (!b || !out)
		return -EINVAL;
	if (b->err)
		return b->err;
	m = b->msg;
	n = b->nedit;
	memcpy(e, b->edit, n * sizeof(e[0]));
	if (b->body_set) {
		struct str s =
			str_make(num, (size_t)snprintf(num, sizeof(num), "%zu",
						       b->body.len));

		err = bld_clen(b, e, &n, s);
		if (err)
			return err;
		e[n] = (struct edit){(size_t)(m->body.p - m->raw.p),
				     m->body.len,
				     {b->body, STR_NULL, STR_NULL},
				     n};
		n++;
	}
	return edit_apply(out, m->raw, e, n);
}
