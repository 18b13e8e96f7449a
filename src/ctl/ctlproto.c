/*
 * ctlproto.c - the control protocol's requests (ctl.h): the strict
 * parser of the daemon and the encoder of sipguardctl, both on jansson
 * (RFC 8259), the address and duration syntax they share.  No I/O, no
 * globals; jansson's allocations do not outlive a call.
 *
 * Strict on purpose: a request is one flat JSON object; duplicate keys,
 * unknown members, members of another command, wrong types, numbers that
 * are not whole or out of range, over-long or control-byte texts are all
 * refused with a message that names the member, so a script that sends
 * a typo learns it instead of getting a default.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

/* ------------------------------------------------------------- tables */

enum {
	M_ADDR = 1 << 0,
	M_FOR = 1 << 1,
	M_REASON = 1 << 2,
	M_RULE = 1 << 3,
	M_ALL = 1 << 4,
	M_ON = 1 << 5,
	M_FOLLOW = 1 << 6,
	M_TYPE = 1 << 7,
	M_SRC = 1 << 8,
	M_USER = 1 << 9,
};

static const struct {
	const char *name;
	enum ctl_cmd cmd;
	unsigned allowed, required;
} cmds[] = {
	{"bans", CTL_CMD_BANS, 0, 0},
	{"ban", CTL_CMD_BAN, M_ADDR | M_FOR | M_REASON, M_ADDR},
	{"unban", CTL_CMD_UNBAN, M_ADDR, M_ADDR},
	{"rules", CTL_CMD_RULES, 0, 0},
	{"monitor", CTL_CMD_MONITOR, M_RULE | M_ALL | M_ON, M_ON},
	{"stats", CTL_CMD_STATS, 0, 0},
	{"reload", CTL_CMD_RELOAD, 0, 0},
	{"calls", CTL_CMD_CALLS, 0, 0},
	{"drain", CTL_CMD_DRAIN, M_ON, M_ON},
	{"events", CTL_CMD_EVENTS, M_FOLLOW | M_TYPE | M_SRC, M_FOLLOW},
	{"held", CTL_CMD_HELD, 0, 0},
	{"unblock", CTL_CMD_UNBLOCK, M_USER, M_USER},
};

enum { NCMDS = sizeof(cmds) / sizeof(cmds[0]) };

struct pctx {
	struct ctl_req *rq;
	struct ctl_perr *err;
	const char *cmd; /* its name, for messages */
};

typedef int member_fn(struct pctx *p, const char *key, json_t *v);

static int fail(struct ctl_perr *err, long off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ctl_perr *err, long off, const char *fmt, ...)
{
	va_list ap;
	char *c;

	if (!err)
		return -EINVAL;
	err->off = off;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	/* Texts may quote the request (jansson's "near '...'"): keep the
	 * message printable ASCII so that it can go anywhere. */
	for (c = err->msg; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	return -EINVAL;
}

/* ------------------------------------------------------------ members */

static bool is_addr_char(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	       (ch >= 'A' && ch <= 'F') || ch == '.' || ch == ':';
}

int ctl_addr_parse(struct sg_addr *ap, uint8_t *plenp, struct str t)
{
	struct str host = t, plen = STR_NULL;
	long slash = str_chr(t, '/');
	uint32_t v = 0;
	size_t i;
	int v6;

	if (!ap || !plenp || (!t.p && t.len))
		return -EINVAL;
	*plenp = 0;
	if (slash >= 0) {
		host = str_sub(t, 0, (size_t)slash);
		plen = str_skip(t, (size_t)slash + 1);
	}
	if (!host.len || host.len >= INET6_ADDRSTRLEN)
		return -EINVAL;
	for (i = 0; i < host.len; i++)
		if (!is_addr_char(host.p[i]))
			return -EINVAL;
	if (sg_addr_from_host(ap, host, 0) != 0)
		return -EINVAL;
	v6 = sg_addr_family(ap) == AF_INET6;
	if (slash < 0)
		return 0;
	if (!plen.len || plen.len > 3 || str_to_u32(&v, plen, v6 ? 128 : 32) ||
	    v == 0)
		return -EINVAL;
	*plenp = (uint8_t)v;
	return 0;
}

/* A string member's text; NULL (and the error set) when mistyped. */
static const char *text_of(struct pctx *p, const char *key, json_t *v,
			   size_t max, size_t *lenp)
{
	size_t i, n;
	const char *s;

	if (!json_is_string(v)) {
		fail(p->err, -1, "%s: expected a string", key);
		return NULL;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	if (!n || n > max) {
		fail(p->err, -1, "%s: expected 1 to %zu bytes", key, max);
		return NULL;
	}
	/* \u0000 is refused by jansson; the other escapes decode to
	 * control bytes that would reach logs and terminals. */
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			fail(p->err, -1, "%s: control character", key);
			return NULL;
		}
	*lenp = n;
	return s;
}

static int m_addr(struct pctx *p, const char *key, json_t *v)
{
	const char *s;
	size_t n;

	if (!(s = text_of(p, key, v, INET6_ADDRSTRLEN + 4, &n)))
		return -EINVAL;
	if (ctl_addr_parse(&p->rq->addr, &p->rq->plen, str_make(s, n)))
		return fail(p->err, -1, "%s: expected an IP address%s", key,
			    strcmp(key, "src") ? " or ADDR/PLEN" : "");
	if (!strcmp(key, "src")) {
		if (p->rq->plen)
			return fail(p->err, -1, "src: no prefix here");
		p->rq->has_src = true;
	}
	return 0;
}

static int m_for(struct pctx *p, const char *key, json_t *v)
{
	json_int_t s;

	/* jansson refuses integers beyond json_int_t; a real (1e3, 60.0)
	 * is a type error, not a rounding. */
	if (!json_is_integer(v) || (s = json_integer_value(v)) < 1 ||
	    s > CTL_BAN_MAX_S)
		return fail(p->err, -1, "%s: expected an integer from 1 to %d",
			    key, CTL_BAN_MAX_S);
	p->rq->seconds = (uint32_t)s;
	return 0;
}

static int m_reason(struct pctx *p, const char *key, json_t *v)
{
	const char *s;
	size_t n;

	/* An empty reason is allowed: the daemon's default then. */
	if (json_is_string(v) && !json_string_length(v))
		return 0;
	if (!(s = text_of(p, key, v, CTL_REASON_MAX, &n)))
		return -EINVAL;
	memcpy(p->rq->reason, s, n);
	p->rq->reason[n] = '\0';
	return 0;
}

/* A name of [allowed] characters into dst (max bytes). */
static int m_name(struct pctx *p, const char *key, json_t *v, char *dst,
		  size_t max, const char *allowed)
{
	const char *s;
	size_t n, i;

	if (!(s = text_of(p, key, v, max, &n)))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!strchr(allowed, s[i]))
			return fail(p->err, -1, "%s: bad character at %zu", key,
				    i);
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static const char rule_chars[] = "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";

static int m_rule(struct pctx *p, const char *key, json_t *v)
{
	return m_name(p, key, v, p->rq->rule, CTL_RULE_MAX, rule_chars);
}

static int m_type(struct pctx *p, const char *key, json_t *v)
{
	return m_name(p, key, v, p->rq->evtype, CTL_TYPE_MAX,
		      "abcdefghijklmnopqrstuvwxyz-");
}

/* A user name as the fraud policy keeps it: any text but controls. */
static int m_user(struct pctx *p, const char *key, json_t *v)
{
	const char *s;
	size_t n;

	if (!(s = text_of(p, key, v, CTL_USER_MAX, &n)))
		return -EINVAL;
	memcpy(p->rq->user, s, n);
	p->rq->user[n] = '\0';
	return 0;
}

static int m_on(struct pctx *p, const char *key, json_t *v)
{
	if (!json_is_boolean(v))
		return fail(p->err, -1, "%s: expected true or false", key);
	p->rq->on = json_is_true(v);
	return 0;
}

/* "all" and "follow": flags that only mean something when true. */
static int m_true(struct pctx *p, const char *key, json_t *v)
{
	if (!json_is_true(v))
		return fail(p->err, -1, "%s: expected true", key);
	if (!strcmp(key, "all"))
		p->rq->all = true;
	return 0;
}

static const struct {
	const char *name;
	unsigned bit;
	member_fn *fn;
} members[] = {
	{"addr", M_ADDR, m_addr},       {"for_s", M_FOR, m_for},
	{"reason", M_REASON, m_reason}, {"rule", M_RULE, m_rule},
	{"all", M_ALL, m_true},         {"on", M_ON, m_on},
	{"follow", M_FOLLOW, m_true},   {"type", M_TYPE, m_type},
	{"src", M_SRC, m_addr},         {"user", M_USER, m_user},
};

enum { NMEMBERS = sizeof(members) / sizeof(members[0]) };

/* ------------------------------------------------------------- parser */

/*
 * Refuse nesting deeper than CTL_REQ_DEPTH before jansson recurses into
 * it: a valid request is flat, and this keeps the parser's stack small
 * whatever the line holds.  Only brackets outside strings count; the
 * rest of the syntax is jansson's to check.
 */
static int depth_ok(struct str line, struct ctl_perr *err)
{
	bool in_str = false, esc = false;
	unsigned depth = 0;
	size_t i;

	for (i = 0; i < line.len; i++) {
		char ch = line.p[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (ch == '\\')
				esc = true;
			else if (ch == '"')
				in_str = false;
		} else if (ch == '"') {
			in_str = true;
		} else if (ch == '{' || ch == '[') {
			if (++depth > CTL_REQ_DEPTH)
				return fail(err, (long)i, "nested too deep");
		} else if ((ch == '}' || ch == ']') && depth) {
			depth--;
		}
	}
	return 0;
}

static int find_cmd(json_t *root, struct ctl_perr *err)
{
	json_t *c = json_object_get(root, "cmd");
	size_t i;

	if (!c)
		return fail(err, -1, "missing member \"cmd\"");
	if (!json_is_string(c))
		return fail(err, -1, "cmd: expected a string");
	for (i = 0; i < NCMDS; i++)
		if (!strcmp(json_string_value(c), cmds[i].name) &&
		    strlen(cmds[i].name) == json_string_length(c))
			return (int)i;
	return fail(err, -1, "unknown command \"%.32s\"", json_string_value(c));
}

static int one_member(struct pctx *p, unsigned allowed, unsigned *seen,
		      const char *key, json_t *v)
{
	size_t i;

	for (i = 0; i < NMEMBERS; i++)
		if (!strcmp(key, members[i].name))
			break;
	if (i == NMEMBERS)
		return fail(p->err, -1, "unknown member \"%.32s\"", key);
	if (!(allowed & members[i].bit))
		return fail(p->err, -1, "member \"%s\" does not go with %s",
			    key, p->cmd);
	*seen |= members[i].bit;
	return members[i].fn(p, key, v);
}

static int check_members(struct pctx *p, json_t *root, int ci)
{
	unsigned seen = 0, missing;
	const char *key;
	json_t *v;
	size_t i;
	int rc;

	json_object_foreach(root, key, v)
	{
		if (!strcmp(key, "cmd"))
			continue;
		/* Keys are C strings here: jansson refuses a NUL in a
		 * key, so "on\u0000x" cannot pass as "on". */
		if ((rc = one_member(p, cmds[ci].allowed, &seen, key, v)))
			return rc;
	}
	missing = cmds[ci].required & ~seen;
	for (i = 0; i < NMEMBERS; i++)
		if (missing & members[i].bit)
			return fail(p->err, -1, "%s: missing member \"%s\"",
				    p->cmd, members[i].name);
	if (p->rq->cmd == CTL_CMD_MONITOR &&
	    !!(seen & M_RULE) == !!(seen & M_ALL))
		return fail(p->err, -1,
			    "monitor: give \"rule\" or "
			    "\"all\":true, not both");
	return 0;
}

int ctl_req_parse(struct ctl_req *rq, struct str line, struct ctl_perr *err)
{
	struct pctx p = {rq, err, NULL};
	json_error_t je;
	json_t *root;
	size_t i = 0;
	int ci, rc;

	if (!rq || (!line.p && line.len))
		return -EINVAL;
	memset(rq, 0, sizeof(*rq));
	if (err)
		fail(err, -1, "%s", "");
	if (line.len >= CTL_REQ_MAX)
		return fail(err, CTL_REQ_MAX - 1, "request too long");
	while (i < line.len && strchr(" \t\r", line.p[i]))
		i++;
	if (i == line.len)
		return fail(err, (long)i, "empty request");
	/* Most likely the line form of old versions: say what is wanted. */
	if (line.p[i] != '{')
		return fail(err, (long)i,
			    "expected one JSON object per line, "
			    "e.g. {\"cmd\":\"bans\"}");
	if ((rc = depth_ok(line, err)))
		return rc;
	root = json_loadb(line.p, line.len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		if (json_error_code(&je) == json_error_out_of_memory)
			return -ENOMEM;
		return fail(err, je.position, "json: %s", je.text);
	}
	ci = find_cmd(root, err);
	if (ci >= 0) {
		rq->cmd = cmds[ci].cmd;
		p.cmd = cmds[ci].name;
		ci = check_members(&p, root, ci);
	}
	json_decref(root);
	return ci < 0 ? ci : 0;
}

/* ------------------------------------------------------------ encoder */

static const char *cmd_name(enum ctl_cmd cmd)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (cmds[i].cmd == cmd)
			return cmds[i].name;
	return NULL;
}

/* Set key to v (stolen); -1 when v is NULL (no memory, bad UTF-8). */
static int put(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v);
}

static int put_addr(json_t *o, const char *key, const struct ctl_req *rq)
{
	char ip[SG_ADDR_STRLEN], s[SG_ADDR_STRLEN + 8];

	sg_addr_ip(&rq->addr, ip, sizeof(ip));
	if (rq->plen)
		snprintf(s, sizeof(s), "%s/%u", ip, (unsigned)rq->plen);
	else
		snprintf(s, sizeof(s), "%s", ip);
	return put(o, key, json_string(s));
}

static int put_members(json_t *o, const struct ctl_req *rq)
{
	switch (rq->cmd) {
	case CTL_CMD_BAN:
		return put_addr(o, "addr", rq) ||
		       (rq->seconds &&
			put(o, "for_s", json_integer(rq->seconds))) ||
		       (rq->reason[0] &&
			put(o, "reason", json_string(rq->reason)));
	case CTL_CMD_UNBAN:
		return put_addr(o, "addr", rq);
	case CTL_CMD_MONITOR:
		return (rq->all ? put(o, "all", json_true())
				: put(o, "rule", json_string(rq->rule))) ||
		       put(o, "on", json_boolean(rq->on));
	case CTL_CMD_DRAIN:
		return put(o, "on", json_boolean(rq->on));
	case CTL_CMD_UNBLOCK:
		return put(o, "user", json_string(rq->user));
	case CTL_CMD_EVENTS:
		return put(o, "follow", json_true()) ||
		       (rq->evtype[0] &&
			put(o, "type", json_string(rq->evtype))) ||
		       (rq->has_src && put_addr(o, "src", rq));
	default:
		return 0;
	}
}

long ctl_req_format(char *dst, size_t sz, const struct ctl_req *rq)
{
	const char *name = rq ? cmd_name(rq->cmd) : NULL;
	json_t *o;
	size_t n;

	if (!dst || !sz || !name)
		return -EINVAL;
	o = json_object();
	if (!o)
		return -ENOMEM;
	/* Strings that are not UTF-8 make json_string() fail: -EINVAL. */
	if (put(o, "cmd", json_string(name)) || put_members(o, rq)) {
		json_decref(o);
		return -EINVAL;
	}
	n = json_dumpb(o, dst, sz - 1, JSON_COMPACT);
	json_decref(o);
	if (!n || n >= sz)
		return n ? -ENOSPC : -ENOMEM;
	dst[n] = '\0';
	return (long)n;
}

/* ---------------------------------------------------------- durations */

int ctl_duration_parse(uint32_t *secp, struct str s)
{
	uint64_t v, mult = 1;
	char unit;

	if (!secp || !s.len)
		return -EINVAL;
	unit = s.p[s.len - 1];
	if (unit < '0' || unit > '9') {
		switch (unit) {
		case 's':
			mult = 1;
			break;
		case 'm':
			mult = 60;
			break;
		case 'h':
			mult = 3600;
			break;
		case 'd':
			mult = 86400;
			break;
		case 'w':
			mult = 7 * 86400;
			break;
		default:
			return -EINVAL;
		}
		s.len--;
	}
	if (str_to_u64(&v, s, CTL_BAN_MAX_S) || !v || v * mult > CTL_BAN_MAX_S)
		return -EINVAL;
	*secp = (uint32_t)(v * mult);
	return 0;
}
