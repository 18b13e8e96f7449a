/*
 * sdp.c - SDP session description parser (RFC 8866 sections 5 and 9).
 *
 * One pass over the lines of a complete body; every result is a slice
 * into it.  Besides the line syntax it records what the media relay and
 * the offer/answer logic (RFC 3264) need: connection addresses, media
 * ports and protocols, the direction (RFC 3264 5.1), a=rtcp (RFC 3605),
 * a=rtcp-mux (RFC 5761), a=mid (RFC 5888), a=setup (RFC 4145, RFC 5763),
 * a=ptime (RFC 4566 6), and where each section ends so that the builder
 * can append to it.  Other attributes are parsed on demand (sdp_attr.c).
 * This file cuts the body into lines, checks their order and the
 * attributes named above; the values of the other lines are checked in
 * sdp_line.c.
 *
 * Strict where an ambiguity could fool the relay or a policy, tolerant
 * where real user agents differ harmlessly:
 * - v=0, o= and s= must be the first three lines.  s= is mandatory
 *   (RFC 8866 5.3) but its value may be empty or blank: "s=", "s= " and
 *   "s=-" are all sent by real stacks.  t= is mandatory before any m=.
 * - CRLF or bare LF; the last line may lack its line end; blank lines
 *   are allowed only at the very end (multipart bodies leave one).  CR
 *   other than before LF, and NUL, are refused anywhere.
 * - No white space right after '=' (except in the free text of s= and
 *   i=); trailing SP/HTAB is ignored; fields may be separated by more
 *   than one SP.
 * - Session lines after s= may come in any order (stacks misorder
 *   i/u/e/p/c/b/t/z/k/a); inside a media section only i c b k a; r=
 *   must follow t= or r=.  Unknown line types are refused (RFC 8866 5
 *   allows "ignore or reject").
 * - c= must carry an IP literal for IP4/IP6 (inet_pton): the relay
 *   cannot anchor on a name and must not resolve names an attacker chose.
 *   One c= per section: RFC 8866 allows several for layered multicast;
 *   for a relay they are only ambiguity.  o= may carry a domain name.
 * - One direction attribute, a=rtcp, a=mid, a=setup, a=ptime per section:
 *   a second copy (conflicting or not) is refused as a duplicate.
 */
#include "sip/sdp_int.h"

#include <errno.h>
#include <string.h>

static struct str rtrim_sp(struct str s)
{
	while (s.len && is_sp(s.p[s.len - 1]))
		s.len--;
	return s;
}

/* a=rtcp:<port> [<nettype> <addrtype> <address>] (RFC 3605 2.1) */
static int parse_rtcp(struct sdp_ctx *c, const struct sdp_attr *a)
{
	struct sdp_media *m = c->m;
	struct str rest = a->value, port, nt, at, addr, extra;
	int af;

	if (!field(&rest, &port) || str_to_u16(&m->rtcp_port, port, 65535) ||
	    m->rtcp_port == 0)
		return fail(c, SIP_PE_SYNTAX, a->value.p, "bad a=rtcp port");
	if (!field(&rest, &nt))
		return 0;
	if (!field(&rest, &at) || !field(&rest, &addr) || field(&rest, &extra))
		return fail(c, SIP_PE_SYNTAX, nt.p, "bad a=rtcp address");
	af = addrtype_af(nt, at);
	if (!af || sdp_ip_af(addr) != af)
		return fail(c, SIP_PE_SYNTAX, nt.p,
			    "a=rtcp address is not an IP literal of its type");
	m->rtcp_addr = addr;
	m->rtcp_af = af;
	return 0;
}

/* A direction attribute (case-sensitive), or SDP_DIR_NONE. */
static enum sdp_dir dir_of(struct str name)
{
	if (name.len != 8)
		return SDP_DIR_NONE;
	if (memcmp(name.p, "sendrecv", 8) == 0)
		return SDP_DIR_SENDRECV;
	if (memcmp(name.p, "sendonly", 8) == 0)
		return SDP_DIR_SENDONLY;
	if (memcmp(name.p, "recvonly", 8) == 0)
		return SDP_DIR_RECVONLY;
	if (memcmp(name.p, "inactive", 8) == 0)
		return SDP_DIR_INACTIVE;
	return SDP_DIR_NONE;
}

/* name is exactly the literal (case-sensitive, as attribute names are). */
#define NAME_IS(n, lit) \
	((n).len == sizeof(lit) - 1 && memcmp((n).p, lit, sizeof(lit) - 1) == 0)

static int parse_setup(struct sdp_ctx *c, const struct sdp_attr *a)
{
	static const char *const roles[] = {
		[SDP_SETUP_ACTIVE] = "active",
		[SDP_SETUP_PASSIVE] = "passive",
		[SDP_SETUP_ACTPASS] = "actpass",
		[SDP_SETUP_HOLDCONN] = "holdconn",
	};
	unsigned i;
	int err = once(c, ONCE_SETUP, a->line.p, "duplicate a=setup");

	for (i = 1; !err && i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (!str_eq_cstr(a->value, roles[i]))
			continue;
		if (c->m)
			c->m->setup = (enum sdp_setup)i;
		else
			c->s->setup = (enum sdp_setup)i;
		return 0;
	}
	return err ? err : fail(c, SIP_PE_SYNTAX, a->value.p, "bad a=setup");
}

/* a=ptime:<ms>[.<fraction>]; only the whole milliseconds are kept. */
static int parse_ptime(struct sdp_ctx *c, const struct sdp_attr *a)
{
	long dot = str_chr(a->value, '.');
	struct str ms = dot < 0 ? a->value : str_make(a->value.p, (size_t)dot);

	if (str_to_u16(&c->m->ptime, ms, 65535) ||
	    (dot >= 0 && !is_digits(str_skip(a->value, (size_t)dot + 1))))
		return fail(c, SIP_PE_SYNTAX, a->value.p, "bad a=ptime");
	return 0;
}

/* The attributes sdp_parse() itself interprets; others pass through.
 * Only names of 3, 4, 5 or 8 bytes can be one of them. */
static int known_attr(struct sdp_ctx *c, const struct sdp_attr *a)
{
	struct str n = a->name;
	const char *at = a->line.p;
	enum sdp_dir d;
	int err;

	if (n.len != 3 && n.len != 4 && n.len != 5 && n.len != 8)
		return 0;
	d = dir_of(n);
	if (d != SDP_DIR_NONE) {
		err = once(c, ONCE_DIR, at,
			   "more than one direction attribute");
		if (!err && a->value.len)
			err = fail(c, SIP_PE_SYNTAX, at,
				   "value on a direction");
		*(c->m ? &c->m->dir : &c->s->dir) = d;
		return err;
	}
	if (NAME_IS(n, "setup"))
		return parse_setup(c, a);
	if (!c->m)
		return 0;
	if (NAME_IS(n, "rtcp")) {
		err = once(c, ONCE_RTCP, at, "duplicate a=rtcp");
		return err ? err : parse_rtcp(c, a);
	}
	if (NAME_IS(n, "rtcp-mux"))
		c->m->rtcp_mux = true;
	else if (NAME_IS(n, "mid")) {
		err = once(c, ONCE_MID, at, "duplicate a=mid");
		if (!err && !is_token(a->value))
			err = fail(c, SIP_PE_SYNTAX, a->value.p, "bad a=mid");
		c->m->mid = a->value;
		return err;
	} else if (NAME_IS(n, "ptime")) {
		err = once(c, ONCE_PTIME, at, "duplicate a=ptime");
		return err ? err : parse_ptime(c, a);
	}
	return 0;
}

/* a=<name>[:<value>] */
static int parse_attr(struct sdp_ctx *c, struct str line, struct str v)
{
	struct sdp_sess *s = c->s;
	struct sdp_attr *a;
	const char *end = v.p + v.len;
	/* The name runs to the first ':' and is a token: the first byte
	 * that is not a token-char must be that ':' (or the end). */
	const char *col = tok_end(v.p, end);

	if (col == v.p || (col < end && *col != ':'))
		return fail(c, SIP_PE_SYNTAX, v.p, "bad attribute name");
	if (s->nattr >= SDP_MAX_ATTRS)
		return fail(c, SIP_PE_LIMIT, line.p, "too many attributes");
	a = &s->attr[s->nattr++];
	a->line = line;
	a->name = str_span(v.p, col);
	a->value = col < end ? str_span(col + 1, end) : str_make(end, 0);
	if (c->m)
		c->m->nattr++;
	else
		s->nsess_attr++;
	return known_attr(c, a);
}

/* Line types as bit sets over 'a'..'z'. */
#define LT(ch) (1u << ((ch) - 'a'))
enum {
	/* every type RFC 8866 defines: v o s i u e p c b t r z k a m */
	LINES_ALL = LT('v') | LT('o') | LT('s') | LT('i') | LT('u') | LT('e') |
		    LT('p') | LT('c') | LT('b') | LT('t') | LT('r') | LT('z') |
		    LT('k') | LT('a') | LT('m'),
	LINES_VOS = LT('v') | LT('o') | LT('s'),
	/* allowed inside a media section */
	LINES_MEDIA = LT('i') | LT('c') | LT('b') | LT('k') | LT('a') | LT('m'),
};
#undef LT

/* Position rules: v o s first, single instances, media-level lines. */
static int check_order(struct sdp_ctx *c, char t, const char *at)
{
	static const char first[] = "vos";
	uint32_t bit = 1u << (t - 'a');

	if (!(bit & LINES_ALL))
		return fail(c, SIP_PE_SYNTAX, at, "unknown SDP line type");
	if (c->nlines < 3 && t != first[c->nlines])
		return fail(c, SIP_PE_SYNTAX, at,
			    "SDP must start with v=, o=, s=");
	if (c->nlines >= 3 && (bit & LINES_VOS))
		return fail(c, SIP_PE_DUPLICATE, at, "duplicate v=, o= or s=");
	if (c->m && !(bit & LINES_MEDIA))
		return fail(c, SIP_PE_SYNTAX, at,
			    "session-level line in a media section");
	if (t == 'r' && c->prev != 't' && c->prev != 'r')
		return fail(c, SIP_PE_SYNTAX, at, "r= not after t=");
	c->nlines++;
	return 0;
}

static int parse_line(struct sdp_ctx *c, struct str line)
{
	char t = line.p[0];
	struct str v;
	int err;

	if (line.len < 2 || line.p[1] != '=' || t < 'a' || t > 'z')
		return fail(c, SIP_PE_SYNTAX, line.p, "malformed SDP line");
	v = str_make(line.p + 2, line.len - 2);
	err = check_order(c, t, line.p);
	if (err)
		return err;
	if (t != 's' && t != 'i') {
		if (v.len && is_sp(v.p[0]))
			return fail(c, SIP_PE_SYNTAX, v.p,
				    "white space after =");
		v = rtrim_sp(v);
		if (!v.len && t != 'a')
			return fail(c, SIP_PE_SYNTAX, v.p,
				    "empty SDP line value");
	}
	c->prev = t;
	switch (t) {
	case 'v':
		return v.len == 1 && v.p[0] == '0'
			       ? 0
			       : fail(c, SIP_PE_SYNTAX, v.p,
				      "SDP version is not 0");
	case 'o':
		return sip__sdp_origin(c, v);
	case 's':
		c->s->name = v;
		return 0;
	case 'i':
		return once(c, ONCE_I, line.p, "duplicate i=");
	case 'u':
		return once(c, ONCE_U, line.p, "duplicate u=");
	case 'c':
		err = once(c, ONCE_C, line.p, "more than one c= in a section");
		return err ? err
			   : sip__sdp_conn(c, v,
					   c->m ? &c->m->conn : &c->s->conn);
	case 't':
		c->seen_t = true;
		return sip__sdp_times(c, t, v);
	case 'z':
		err = once(c, ONCE_Z, line.p, "duplicate z=");
		return err ? err : sip__sdp_times(c, t, v);
	case 'r':
		return sip__sdp_times(c, t, v);
	case 'k':
		err = once(c, ONCE_K, line.p, "duplicate k=");
		return err ? err : sip__sdp_bw_key(c, t, v);
	case 'b':
		return sip__sdp_bw_key(c, t, v);
	case 'a':
		return parse_attr(c, line, v);
	case 'm':
		return sip__sdp_media(c, line, v);
	default: /* e=, p=: free text */
		return 0;
	}
}

/* Cut the line at p; *nextp is just after its line end (or at end).
 * The careful version: finds the line end first, then refuses a line
 * that is too long before one holding CR or NUL. */
static int get_line_slow(struct sdp_ctx *c, const char *p, const char *end,
			 struct str *linep, const char **nextp)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *e = nl ? nl : end, *q;

	*nextp = nl ? nl + 1 : end;
	if (nl && e > p && e[-1] == '\r')
		e--;
	if ((size_t)(e - p) > SDP_MAX_LINE)
		return fail(c, SIP_PE_LIMIT, p + SDP_MAX_LINE,
			    "SDP line too long");
	for (q = p; q < e; q++)
		if (*q == '\r' || *q == '\0')
			return fail(c, SIP_PE_SYNTAX, q,
				    "control character in SDP line");
	*linep = str_span(p, e);
	return 0;
}

/*
 * The same in one scan for the common case: the first CR, LF or NUL
 * (skipping other controls such as HTAB) ends a well-formed line.
 * Anything unusual (bare CR, NUL, an overlong line) goes to the
 * careful version, so the errors are the same.
 */
static int get_line(struct sdp_ctx *c, const char *p, const char *end,
		    struct str *linep, const char **nextp)
{
	const char *q = p, *e;

	for (;;) {
		q = sip__find_ctl(c->s->raw.p, q, end);
		if (q == end) {
			e = end;
			*nextp = end;
			break;
		}
		if (*q == '\n') {
			e = q;
			*nextp = q + 1;
			break;
		}
		if (*q == '\r' && end - q > 1 && q[1] == '\n') {
			e = q;
			*nextp = q + 2;
			break;
		}
		if (*q == '\r' || *q == '\0')
			return get_line_slow(c, p, end, linep, nextp);
		q++;
	}
	if ((size_t)(e - p) > SDP_MAX_LINE)
		return get_line_slow(c, p, end, linep, nextp);
	*linep = str_span(p, e);
	return 0;
}

/* Only line ends from p to the end? */
static bool blank_tail(const char *p, const char *end)
{
	while (p < end) {
		if (*p == '\r' && end - p > 1 && p[1] == '\n')
			p++;
		else if (*p != '\n')
			return false;
		p++;
	}
	return true;
}

static int finish(struct sdp_ctx *c)
{
	if (c->nlines < 3)
		return fail(c, SIP_PE_MISSING, c->last_end,
			    "SDP needs v=, o= and s=");
	if (!c->seen_t)
		return fail(c, SIP_PE_MISSING, c->last_end, "SDP without t=");
	section_close(c, c->last_end);
	return 0;
}

/* Reset everything but the attribute and media arrays (~18 KB, filled
 * up to nattr and nmedia; media_init() resets each new section). */
static void sess_init(struct sdp_sess *sp)
{
	sp->raw = STR_NULL;
	sp->origin = STR_NULL;
	sp->o_user = STR_NULL;
	sp->o_sess_id = STR_NULL;
	sp->o_sess_ver = STR_NULL;
	sp->o_nettype = STR_NULL;
	sp->o_addrtype = STR_NULL;
	sp->o_addr = STR_NULL;
	sp->name = STR_NULL;
	conn_init(&sp->conn);
	sp->dir = SDP_DIR_NONE;
	sp->setup = SDP_SETUP_NONE;
	sp->nattr = 0;
	sp->nsess_attr = 0;
	sp->nmedia = 0;
	sp->end = STR_NULL;
}

int sdp_parse(struct sdp_sess *sp, struct str body, struct sip_perr *errp)
{
	struct sdp_ctx c = {.s = sp, .errp = errp};
	const char *p, *end, *next;
	struct str line = STR_NULL;
	int err;

	if (!sp)
		return sip__fail(errp, SIP_PE_SYNTAX, NULL, NULL, "no result");
	sess_init(sp);
	sp->raw = body;
	if (!body.p || !body.len)
		return fail(&c, SIP_PE_MISSING, body.p, "empty SDP body");
	if (body.len > SDP_MAX_SIZE)
		return fail(&c, SIP_PE_LIMIT, body.p + SDP_MAX_SIZE,
			    "SDP body too large");
	c.last_end = body.p;
	end = body.p + body.len;
	for (p = body.p; p < end; p = next) {
		err = get_line(&c, p, end, &line, &next);
		if (err)
			return err;
		if (!line.len) {
			if (!blank_tail(next, end))
				return fail(&c, SIP_PE_SYNTAX, p,
					    "empty line in SDP");
			break;
		}
		err = parse_line(&c, line);
		if (err)
			return err;
		c.last_end = next;
	}
	return finish(&c);
}
