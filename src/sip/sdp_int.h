/*
 * sdp_int.h - private to sdp.c (the line-by-line driver of sdp_parse(),
 * and the attributes it interprets) and sdp_line.c (the values of the
 * other lines): the parse context and the scanning helpers both use.
 */
#ifndef SIPGUARD_SIP_SDP_INT_H
#define SIPGUARD_SIP_SDP_INT_H

#include <sys/socket.h>

#include "sip/sip_int.h"

/* Lines and attributes allowed once per section (session or media). */
enum {
	ONCE_I = 1 << 0,
	ONCE_C = 1 << 1,
	ONCE_K = 1 << 2,
	ONCE_U = 1 << 3,
	ONCE_Z = 1 << 4,
	ONCE_DIR = 1 << 5,
	ONCE_RTCP = 1 << 6,
	ONCE_MID = 1 << 7,
	ONCE_SETUP = 1 << 8,
	ONCE_PTIME = 1 << 9,
};

struct sdp_ctx {
	struct sdp_sess *s;
	struct sip_perr *errp;
	struct sdp_media *m; /* current media section; NULL: session */
	unsigned nlines;     /* non-blank lines so far */
	unsigned once;       /* ONCE_* seen in the current section */
	char prev;           /* type letter of the previous line */
	bool seen_t;
	const char *last_end; /* just after the last non-blank line */
};

static inline int fail(struct sdp_ctx *c, enum sip_perr_code code,
		       const char *at, const char *reason)
{
	return sip__fail(c->errp, code, c->s->raw.p, at, reason);
}

static inline int once(struct sdp_ctx *c, unsigned bit, const char *at,
		       const char *reason)
{
	if (c->once & bit)
		return fail(c, SIP_PE_DUPLICATE, at, reason);
	c->once |= bit;
	return 0;
}

static inline bool is_sp(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* The current section ends at `at`; the next one starts there. */
static inline void section_close(struct sdp_ctx *c, const char *at)
{
	if (c->m)
		c->m->end = str_make(at, 0);
	else
		c->s->end = str_make(at, 0);
}

static inline void conn_init(struct sdp_conn *cn)
{
	cn->line = STR_NULL;
	cn->nettype = STR_NULL;
	cn->addrtype = STR_NULL;
	cn->addr = STR_NULL;
	cn->af = 0;
	cn->present = false;
}

/* RFC 8866 token-char: visible ASCII except "(),/:;<=>?@[\]. */
static const uint8_t tokch[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1,
	0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
};

/* First byte from p that is not a token-char, or end. */
static inline const char *tok_end(const char *p, const char *end)
{
	while (p < end && tokch[(unsigned char)*p])
		p++;
	return p;
}

static inline bool is_token(struct str s)
{
	return s.len > 0 && tok_end(s.p, s.p + s.len) == s.p + s.len;
}

/* 1*DIGIT, any length: only the syntax matters here. */
static inline bool is_digits(struct str s)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if ((unsigned)((unsigned char)s.p[i] - '0') > 9)
			return false;
	return s.len > 0;
}

/* Next SP-separated field of *rest into *fp; false when none is left. */
static inline bool field(struct str *rest, struct str *fp)
{
	const char *p = rest->p, *end = rest->p + rest->len, *q;

	while (p < end && is_sp(*p))
		p++;
	for (q = p; q < end && !is_sp(*q); q++)
		;
	*fp = str_span(p, q);
	*rest = str_span(q, end);
	return q > p;
}

/* The family the address type names (IN IP4 / IN IP6), 0 otherwise. */
static inline int addrtype_af(struct str nettype, struct str addrtype)
{
	if (nettype.len != 2 || nettype.p[0] != 'I' || nettype.p[1] != 'N' ||
	    addrtype.len != 3 || addrtype.p[0] != 'I' || addrtype.p[1] != 'P')
		return 0;
	if (addrtype.p[2] == '4')
		return AF_INET;
	if (addrtype.p[2] == '6')
		return AF_INET6;
	return 0;
}

/* sdp_line.c: the value v of one line (t: its type letter, line: all of
 * it) checked and recorded in c; 0 or sip__fail()'s error. */
int sip__sdp_origin(struct sdp_ctx *c, struct str v);
int sip__sdp_conn(struct sdp_ctx *c, struct str v, struct sdp_conn *cn);
int sip__sdp_times(struct sdp_ctx *c, char t, struct str v);
int sip__sdp_bw_key(struct sdp_ctx *c, char t, struct str v);
int sip__sdp_media(struct sdp_ctx *c, struct str line, struct str v);

#endif
