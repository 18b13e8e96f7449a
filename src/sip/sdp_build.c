/*
 * sdp_build.c - one-pass rewriting of a parsed SDP body, for the media
 * relay (anchoring streams) and topology hiding.
 *
 * Every call records an edit against the original bytes (core/edit.h);
 * sdp_bld_write() sorts them and writes the result once.  New lines go
 * where RFC 8866 5 wants them: a media c= after m= (and i=), a session
 * c= after v o s i u e p, attributes at the end of their section.  New
 * lines use the original's line end; a missing final line end is added
 * (unless that last line is removed).
 * Replacement text with CR, LF or NUL is refused (it would inject lines).
 * Errors are sticky and reported by sdp_bld_write().
 */
#include "sip/sip.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"

/* Insertions at one offset keep their call order; attributes added at a
 * section end go after any c= line inserted at the same place. */
enum { SEQ_LATE = SDP_BLD_MAX_EDITS };

static void set_err(struct sdp_bld *b, int err)
{
	if (!b->err)
		b->err = err;
}

static bool clean(struct sdp_bld *b, struct str s)
{
	size_t i;

	for (i = 0; i < s.len; i++) {
		if (s.p[i] == '\r' || s.p[i] == '\n' || s.p[i] == '\0') {
			set_err(b, -EINVAL);
			return false;
		}
	}
	return true;
}

/* Replace [at, at+len) of the original with s0 s1 s2. */
static void push(struct sdp_bld *b, const char *at, size_t len, unsigned seq,
		 struct str s0, struct str s1, struct str s2)
{
	struct str raw;
	struct edit *e;
	uintptr_t lo, hi, pos;

	if (b->err)
		return;
	raw = b->sess->raw;
	lo = (uintptr_t)raw.p;
	hi = lo + raw.len;
	pos = (uintptr_t)at;
	if (!at || pos < lo || pos > hi || len > hi - pos) {
		set_err(b, -EINVAL);
		return;
	}
	if (b->nedit >= SDP_BLD_MAX_EDITS) {
		set_err(b, -ENOSPC);
		return;
	}
	e = &b->edit[b->nedit];
	e->off = pos - lo;
	e->len = len;
	e->s[0] = s0;
	e->s[1] = s1;
	e->s[2] = s2;
	e->seq = seq + b->nedit + 1; /* 0 is the final line end's */
	b->nedit++;
}

static const char *raw_end(const struct sdp_bld *b)
{
	return b->sess->raw.p + b->sess->raw.len;
}

/* Just after the line end that follows p (or the end of the body). */
static const char *line_after(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl + 1 : end;
}

void sdp_bld_init(struct sdp_bld *b, const struct sdp_sess *s)
{
	const char *nl;

	if (!b)
		return;
	b->sess = s;
	b->nedit = 0;
	b->err = 0;
	b->eol = STR("\r\n");
	if (!s || !s->raw.p || !s->raw.len) {
		b->err = -EINVAL;
		return;
	}
	nl = memchr(s->raw.p, '\n', s->raw.len);
	if (nl && (nl == s->raw.p || nl[-1] != '\r'))
		b->eol = STR("\n");
}

static const struct sdp_conn *conn_of(struct sdp_bld *b, int i)
{
	if (i < 0)
		return &b->sess->conn;
	if ((unsigned)i < b->sess->nmedia)
		return &b->sess->media[i].conn;
	set_err(b, -EINVAL);
	return NULL;
}

/* Where a missing c= goes: after m= and i= of media i, or after the
 * v o s i u e p lines of the session. */
static const char *conn_insert_at(const struct sdp_bld *b, int i)
{
	const struct sdp_sess *s = b->sess;
	const char *p, *lim;

	if (i >= 0) {
		p = line_after(s->media[i].line.p, raw_end(b));
		lim = s->media[i].end.p;
		if (lim - p >= 2 && p[0] == 'i' && p[1] == '=')
			p = line_after(p, lim);
		return p;
	}
	p = s->raw.p;
	lim = s->end.p;
	while (lim - p >= 2 && strchr("vosiuep", p[0]) && p[1] == '=')
		p = line_after(p, lim);
	return p;
}

void sdp_bld_conn(struct sdp_bld *b, int i, struct str addrtype,
		  struct str addr)
{
	const struct sdp_conn *cn;
	const char *at, *end;

	if (!b || b->err || !clean(b, addrtype) || !clean(b, addr))
		return;
	cn = conn_of(b, i);
	if (!cn)
		return;
	if (cn->present) {
		if (!str_eq_cstr(cn->nettype, "IN"))
			push(b, cn->nettype.p, cn->nettype.len, 0, STR("IN"),
			     STR_NULL, STR_NULL);
		/* Up to the end of the value: a multicast /ttl goes too. */
		end = cn->line.p + cn->line.len;
		push(b, cn->addrtype.p, (size_t)(end - cn->addrtype.p), 0,
		     addrtype, STR(" "), addr);
		return;
	}
	at = conn_insert_at(b, i);
	push(b, at, 0, 0, STR("c=IN "), addrtype, STR(" "));
	push(b, at, 0, 0, addr, b->eol, STR_NULL);
}

void sdp_bld_origin_addr(struct sdp_bld *b, struct str addrtype,
			 struct str addr)
{
	const struct sdp_sess *s;

	if (!b || b->err || !clean(b, addrtype) || !clean(b, addr))
		return;
	s = b->sess;
	if (!str_eq_cstr(s->o_nettype, "IN"))
		push(b, s->o_nettype.p, s->o_nettype.len, 0, STR("IN"),
		     STR_NULL, STR_NULL);
	push(b, s->o_addrtype.p,
	     (size_t)(s->o_addr.p + s->o_addr.len - s->o_addrtype.p), 0,
	     addrtype, STR(" "), addr);
}

static const struct sdp_media *media_of(struct sdp_bld *b, unsigned i)
{
	if (i < b->sess->nmedia)
		return &b->sess->media[i];
	set_err(b, -EINVAL);
	return NULL;
}

void sdp_bld_media_port(struct sdp_bld *b, unsigned i, struct str port)
{
	const struct sdp_media *m;

	if (!b || b->err || !clean(b, port) || !(m = media_of(b, i)))
		return;
	push(b, m->port_str.p, m->port_str.len, 0, port, STR_NULL, STR_NULL);
}

void sdp_bld_media_proto(struct sdp_bld *b, unsigned i, struct str proto)
{
	const struct sdp_media *m;

	if (!b || b->err || !clean(b, proto) || !(m = media_of(b, i)))
		return;
	push(b, m->proto.p, m->proto.len, 0, proto, STR_NULL, STR_NULL);
}

static bool attr_ok(struct sdp_bld *b, const struct sdp_attr *a)
{
	const struct sdp_sess *s = b->sess;

	if (a >= s->attr && a < s->attr + s->nattr)
		return true;
	set_err(b, -EINVAL);
	return false;
}

void sdp_bld_attr_remove(struct sdp_bld *b, const struct sdp_attr *a)
{
	const char *end;

	if (!b || b->err || !attr_ok(b, a))
		return;
	/* The whole line with its line end. */
	end = line_after(a->line.p + a->line.len, raw_end(b));
	push(b, a->line.p, (size_t)(end - a->line.p), 0, STR_NULL, STR_NULL,
	     STR_NULL);
}

void sdp_bld_attr_replace(struct sdp_bld *b, const struct sdp_attr *a,
			  struct str line_without_a_eq)
{
	if (!b || b->err || !clean(b, line_without_a_eq) || !attr_ok(b, a))
		return;
	push(b, a->line.p + 2, a->line.len - 2, 0, line_without_a_eq, STR_NULL,
	     STR_NULL);
}

void sdp_bld_attr_add(struct sdp_bld *b, int i, struct str value)
{
	const char *at;

	if (!b || b->err || !clean(b, value))
		return;
	if (i < 0) {
		at = b->sess->end.p;
	} else if ((unsigned)i < b->sess->nmedia) {
		at = b->sess->media[i].end.p;
	} else {
		set_err(b, -EINVAL);
		return;
	}
	push(b, at, 0, SEQ_LATE, STR("a="), value, b->eol);
}

/*
 * Does the body end in a line without its line end that survives the
 * edits?  Then it needs one before anything can follow it.
 */
static bool needs_final_eol(const struct sdp_bld *b)
{
	struct str raw = b->sess->raw;
	unsigned i;

	if (raw.p[raw.len - 1] == '\n')
		return false;
	for (i = 0; i < b->nedit; i++) {
		const struct edit *e = &b->edit[i];

		if (e->len && e->off + e->len == raw.len && !e->s[0].len &&
		    !e->s[1].len && !e->s[2].len &&
		    (e->off == 0 || raw.p[e->off - 1] == '\n'))
			return false; /* the last line is removed */
	}
	return true;
}

int sdp_bld_write(struct sdp_bld *b, struct buf *out)
{
	unsigned i;
	int err;

	if (!b || !out || !b->sess)
		return -EINVAL;
	if (b->err)
		return b->err;
	if (!needs_final_eol(b))
		return edit_apply(out, b->sess->raw, b->edit, b->nedit);
	/* A temporary edit with seq 0: first of the insertions at the end. */
	if (b->nedit >= SDP_BLD_MAX_EDITS)
		return -ENOSPC;
	b->edit[b->nedit++] =
		(struct edit){.off = b->sess->raw.len, .s = {b->eol}, .seq = 0};
	err = edit_apply(out, b->sess->raw, b->edit, b->nedit);
	for (i = 0; i < b->nedit && b->edit[i].seq; i++)
		;
	b->edit[i] = b->edit[--b->nedit];
	return err;
}
