/*
 * ctlproto.c - the control protocol on the wire, as pure functions: the
 * request line parser of the daemon (a bounds-checked cursor that fails
 * on short input and on trailing bytes), the duration syntax of
 * sipguardctl, and a small JSON tokenizer (RFC 8259) for reading the
 * answers.  No I/O, no globals, no allocation.
 *
 * The request grammar is strict on purpose: tokens are separated by
 * exactly one space, there is no quoting, and the only free text (a ban
 * reason) is the rest of the line, so nothing needs unescaping.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <string.h>

/* ------------------------------------------------------------- requests */

struct cur {
	struct str line;
	size_t pos;
	struct ctl_perr *err;
};

static int fail(struct cur *c, size_t off, const char *why)
{
	if (c->err) {
		c->err->off = off;
		c->err->why = why;
	}
	return -EINVAL;
}

static bool more(const struct cur *c)
{
	return c->pos < c->line.len;
}

/*
 * Take the next token.  A token ends at a space or at the end; the space
 * is consumed, and then another token must follow.
 */
static int tok(struct cur *c, struct str *tp, const char *missing)
{
	size_t start = c->pos;

	if (!more(c))
		return fail(c, c->pos, missing);
	if (c->line.p[c->pos] == ' ')
		return fail(c, c->pos, "extra space");
	while (more(c) && c->line.p[c->pos] != ' ')
		c->pos++;
	*tp = str_make(c->line.p + start, c->pos - start);
	if (more(c)) {
		c->pos++;
		if (!more(c))
			return fail(c, c->pos - 1, "trailing space");
	}
	return 0;
}

static int end(struct cur *c)
{
	return more(c) ? fail(c, c->pos, "trailing bytes") : 0;
}

static size_t off_of(const struct cur *c, struct str t)
{
	return (size_t)(t.p - c->line.p);
}

static bool is_addr_char(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	       (ch >= 'A' && ch <= 'F') || ch == '.' || ch == ':';
}

/* ADDR[/PLEN]: an IPv4 or IPv6 literal, no brackets, no port. */
static int parse_addr(struct cur *c, struct ctl_req *rq, struct str t)
{
	struct str host = t, plen = STR_NULL;
	long slash = str_chr(t, '/');
	uint32_t v = 0;
	size_t i;
	int v6;

	if (slash >= 0) {
		host = str_sub(t, 0, (size_t)slash);
		plen = str_skip(t, (size_t)slash + 1);
	}
	if (!host.len || host.len >= INET6_ADDRSTRLEN)
		return fail(c, off_of(c, t), "bad address");
	for (i = 0; i < host.len; i++)
		if (!is_addr_char(host.p[i]))
			return fail(c, off_of(c, t) + i, "bad address");
	if (sg_addr_from_host(&rq->addr, host, 0) != 0)
		return fail(c, off_of(c, t), "bad address");
	v6 = sg_addr_family(&rq->addr) == AF_INET6;
	if (slash < 0)
		return 0;
	if (!plen.len || plen.len > 3 || str_to_u32(&v, plen, v6 ? 128 : 32) ||
	    v == 0)
		return fail(c, off_of(c, plen), "bad prefix length");
	rq->plen = (uint8_t)v;
	return 0;
}

static int parse_ban(struct cur *c, struct ctl_req *rq, bool ban)
{
	struct str t;
	int err;

	if ((err = tok(c, &t, "missing address")) ||
	    (err = parse_addr(c, rq, t)))
		return err;
	if (!ban || !more(c))
		return end(c);
	if ((err = tok(c, &t, "missing duration")))
		return err;
	if (str_eq(t, STR("default")))
		rq->seconds = 0;
	else if (str_to_u32(&rq->seconds, t, CTL_BAN_MAX_S) || !rq->seconds)
		return fail(c, off_of(c, t), "bad duration");
	if (!more(c))
		return 0;
	/* The reason is the rest of the line: it may hold spaces. */
	rq->reason = str_skip(c->line, c->pos);
	if (rq->reason.p[0] == ' ')
		return fail(c, c->pos, "extra space");
	if (rq->reason.len > CTL_REASON_MAX)
		return fail(c, c->pos + CTL_REASON_MAX, "reason too long");
	c->pos = c->line.len;
	return 0;
}

static bool is_rule_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
}

static int parse_monitor(struct cur *c, struct ctl_req *rq)
{
	struct str t;
	size_t i;
	int err;

	if ((err = tok(c, &t, "missing rule")))
		return err;
	if (str_eq(t, STR("*"))) {
		rq->all = true;
	} else {
		if (t.len > CTL_RULE_MAX)
			return fail(c, off_of(c, t), "rule name too long");
		for (i = 0; i < t.len; i++)
			if (!is_rule_char(t.p[i]))
				return fail(c, off_of(c, t) + i,
					    "bad rule name");
		rq->rule = t;
	}
	if ((err = tok(c, &t, "missing on|off")))
		return err;
	if (str_eq(t, STR("on")))
		rq->on = true;
	else if (!str_eq(t, STR("off")))
		return fail(c, off_of(c, t), "expected on or off");
	return end(c);
}

/* "on" | "off" and the end of the line (drain). */
static int parse_onoff(struct cur *c, struct ctl_req *rq)
{
	struct str t;
	int err;

	if ((err = tok(c, &t, "missing on|off")))
		return err;
	if (str_eq(t, STR("on")))
		rq->on = true;
	else if (!str_eq(t, STR("off")))
		return fail(c, off_of(c, t), "expected on or off");
	return end(c);
}

static bool starts(struct str t, const char *prefix)
{
	size_t n = strlen(prefix);

	return t.len >= n && !memcmp(t.p, prefix, n);
}

static bool is_type_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || ch == '-';
}

/* events [type=TYPE] [src=ADDR]: each at most once, in any order. */
static int parse_events(struct cur *c, struct ctl_req *rq)
{
	struct str t, v;
	size_t i;
	int err;

	while (more(c)) {
		if ((err = tok(c, &t, "missing filter")))
			return err;
		if (starts(t, "type=") && !rq->evtype.len) {
			v = str_skip(t, 5);
			if (!v.len || v.len > CTL_TYPE_MAX)
				return fail(c, off_of(c, t), "bad type");
			for (i = 0; i < v.len; i++)
				if (!is_type_char(v.p[i]))
					return fail(c, off_of(c, v) + i,
						    "bad type");
			rq->evtype = v;
		} else if (starts(t, "src=") && !rq->has_src) {
			v = str_skip(t, 4);
			if ((err = parse_addr(c, rq, v)))
				return err;
			if (rq->plen)
				return fail(c, off_of(c, v), "no prefix here");
			rq->has_src = true;
		} else {
			return fail(c, off_of(c, t), "expected type= or src=");
		}
	}
	return 0;
}

static const struct {
	const char *name;
	enum ctl_cmd cmd;
} cmds[] = {
	{"events", CTL_CMD_EVENTS},
	{"bans", CTL_CMD_BANS},       {"ban", CTL_CMD_BAN},
	{"unban", CTL_CMD_UNBAN},     {"rules", CTL_CMD_RULES},
	{"monitor", CTL_CMD_MONITOR}, {"stats", CTL_CMD_STATS},
	{"reload", CTL_CMD_RELOAD},
	{"calls", CTL_CMD_CALLS},     {"drain", CTL_CMD_DRAIN},
};

int ctl_req_parse(struct ctl_req *rq, struct str line, struct ctl_perr *err)
{
	struct cur c = {line, 0, err};
	struct str t;
	size_t i;
	int rc;

	if (!rq || (!line.p && line.len))
		return -EINVAL;
	memset(rq, 0, sizeof(*rq));
	if (line.len >= CTL_REQ_MAX)
		return fail(&c, CTL_REQ_MAX - 1, "request too long");
	for (i = 0; i < line.len; i++) {
		unsigned char ch = (unsigned char)line.p[i];

		if (ch < 0x20 || ch == 0x7f)
			return fail(&c, i, "control byte");
	}
	if ((rc = tok(&c, &t, "empty request")))
		return rc;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (str_eq_cstr(t, cmds[i].name))
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0]))
		return fail(&c, 0, "unknown command");
	rq->cmd = cmds[i].cmd;
	switch (rq->cmd) {
	case CTL_CMD_BAN:
		return parse_ban(&c, rq, true);
	case CTL_CMD_UNBAN:
		return parse_ban(&c, rq, false);
	case CTL_CMD_MONITOR:
		return parse_monitor(&c, rq);
	case CTL_CMD_DRAIN:
		return parse_onoff(&c, rq);
	case CTL_CMD_EVENTS:
		return parse_events(&c, rq);
	default:
		return end(&c);
	}
}

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

/* ------------------------------------------------------------- JSON */

struct jp {
	struct str in;
	size_t pos;
	struct ctl_jtok *t;
	size_t max, n;
	struct ctl_perr *err;
};

static int jfail(struct jp *j, const char *why)
{
	if (j->err) {
		j->err->off = j->pos;
		j->err->why = why;
	}
	return -EINVAL;
}

static void jws(struct jp *j)
{
	while (j->pos < j->in.len) {
		char ch = j->in.p[j->pos];

		if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
			break;
		j->pos++;
	}
}

static int jpeek(const struct jp *j)
{
	return j->pos < j->in.len ? (unsigned char)j->in.p[j->pos] : -1;
}

static long jnew(struct jp *j, enum ctl_jtype type)
{
	if (j->n >= j->max)
		return -ENOSPC;
	j->t[j->n] = (struct ctl_jtok){.type = type};
	return (long)j->n++;
}

static bool is_hex(int ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	       (ch >= 'A' && ch <= 'F');
}

static int jstring(struct jp *j, long i)
{
	size_t start = ++j->pos, k;
	int ch;

	for (;;) {
		ch = jpeek(j);
		if (ch < 0)
			return jfail(j, "unterminated string");
		if (ch == '"')
			break;
		if (ch < 0x20)
			return jfail(j, "control byte in string");
		j->pos++;
		if (ch != '\\')
			continue;
		ch = jpeek(j);
		if (ch < 0 || !strchr("\"\\/bfnrtu", ch) || ch == 0)
			return jfail(j, "bad escape");
		j->pos++;
		if (ch != 'u')
			continue;
		for (k = 0; k < 4; k++, j->pos++)
			if (!is_hex(jpeek(j)))
				return jfail(j, "bad \\u escape");
	}
	j->t[i].s = str_make(j->in.p + start, j->pos - start);
	j->pos++;
	return 0;
}

static size_t jdigits(struct jp *j)
{
	size_t n = 0;

	while (jpeek(j) >= '0' && jpeek(j) <= '9') {
		j->pos++;
		n++;
	}
	return n;
}

static int jnumber(struct jp *j, long i)
{
	size_t start = j->pos;

	if (jpeek(j) == '-')
		j->pos++;
	if (jpeek(j) == '0')
		j->pos++;
	else if (!jdigits(j))
		return jfail(j, "bad number");
	if (jpeek(j) == '.') {
		j->pos++;
		if (!jdigits(j))
			return jfail(j, "bad fraction");
	}
	if (jpeek(j) == 'e' || jpeek(j) == 'E') {
		j->pos++;
		if (jpeek(j) == '+' || jpeek(j) == '-')
			j->pos++;
		if (!jdigits(j))
			return jfail(j, "bad exponent");
	}
	j->t[i].s = str_make(j->in.p + start, j->pos - start);
	return 0;
}

static int jword(struct jp *j, long i, const char *w, enum ctl_jtype type)
{
	size_t n = strlen(w);

	if (j->in.len - j->pos < n || memcmp(j->in.p + j->pos, w, n) != 0)
		return jfail(j, "bad literal");
	j->t[i].type = type;
	j->t[i].s = str_make(j->in.p + j->pos, n);
	j->pos += n;
	return 0;
}

static int jvalue(struct jp *j, int depth);

/* Members of an object or array; the opening byte is consumed. */
static int jmembers(struct jp *j, long i, bool obj, int depth)
{
	char close = obj ? '}' : ']';
	long k;
	int err;

	jws(j);
	if (jpeek(j) == close) {
		j->pos++;
		return 0;
	}
	for (;;) {
		if (obj) {
			if (jpeek(j) != '"')
				return jfail(j, "expected key");
			if ((k = jnew(j, CTL_J_STR)) < 0)
				return (int)k;
			if ((err = jstring(j, k)))
				return err;
			j->t[k].next = (uint32_t)j->n;
			jws(j);
			if (jpeek(j) != ':')
				return jfail(j, "expected ':'");
			j->pos++;
		}
		if ((err = jvalue(j, depth + 1)))
			return err;
		j->t[i].n++;
		jws(j);
		if (jpeek(j) == close) {
			j->pos++;
			return 0;
		}
		if (jpeek(j) != ',')
			return jfail(j, "expected ',' or end");
		j->pos++;
		jws(j);
	}
}

static int jvalue(struct jp *j, int depth)
{
	int ch, err;
	long i;

	if (depth > CTL_JSON_DEPTH)
		return jfail(j, "nested too deep");
	jws(j);
	ch = jpeek(j);
	if (ch < 0)
		return jfail(j, "expected value");
	if ((i = jnew(j, CTL_J_NULL)) < 0)
		return (int)i;
	if (ch == '{' || ch == '[') {
		size_t start = j->pos++;

		j->t[i].type = ch == '{' ? CTL_J_OBJ : CTL_J_ARR;
		err = jmembers(j, i, ch == '{', depth);
		j->t[i].s = str_make(j->in.p + start, j->pos - start);
	} else if (ch == '"') {
		j->t[i].type = CTL_J_STR;
		err = jstring(j, i);
	} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
		j->t[i].type = CTL_J_NUM;
		err = jnumber(j, i);
	} else if (ch == 't') {
		err = jword(j, i, "true", CTL_J_TRUE);
	} else if (ch == 'f') {
		err = jword(j, i, "false", CTL_J_FALSE);
	} else if (ch == 'n') {
		err = jword(j, i, "null", CTL_J_NULL);
	} else {
		err = jfail(j, "unexpected byte");
	}
	j->t[i].next = (uint32_t)j->n;
	return err;
}

long ctl_json_parse(struct ctl_jtok *t, size_t max, struct str in,
		    struct ctl_perr *err)
{
	struct jp j = {in, 0, t, max, 0, err};
	int rc;

	if ((!t && max) || (!in.p && in.len) || max > UINT32_MAX)
		return -EINVAL;
	rc = jvalue(&j, 1);
	if (rc)
		return rc;
	jws(&j);
	if (j.pos != in.len)
		return jfail(&j, "trailing bytes");
	return (long)j.n;
}

long ctl_json_get(const struct ctl_jtok *t, size_t n, size_t obj,
		  const char *key)
{
	size_t i, k;

	if (!t || obj >= n || t[obj].type != CTL_J_OBJ || !key)
		return -1;
	i = obj + 1;
	for (k = 0; k < t[obj].n && i + 1 < n; k++) {
		if (str_eq_cstr(t[i].s, key))
			return (long)(i + 1);
		i = t[i + 1].next;
	}
	return -1;
}

static unsigned hex4(const char *p)
{
	unsigned v = 0, k;

	for (k = 0; k < 4; k++) {
		char ch = p[k];

		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			v |= (unsigned)(ch - 'a' + 10);
		else
			v |= (unsigned)(ch - 'A' + 10);
	}
	return v;
}

static size_t utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decode the escape at s.p[*ip] (the byte after '\\') into out. */
static size_t unesc(struct str s, size_t *ip, char out[4])
{
	size_t i = *ip;
	unsigned cp, lo;
	char ch = s.p[i];

	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *f = strchr(from, ch);

	if (ch != 'u') {
		*ip = i + 1;
		out[0] = f ? to[f - from] : '?';
		return 1;
	}
	cp = hex4(s.p + i + 1);
	i += 5;
	if (cp >= 0xd800 && cp <= 0xdbff && i + 6 <= s.len && s.p[i] == '\\' &&
	    s.p[i + 1] == 'u') {
		lo = hex4(s.p + i + 2);
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			i += 6;
		}
	}
	/* The result is a C string: an embedded NUL would hide the rest. */
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp == 0)
		cp = 0xfffd;
	*ip = i;
	return utf8_put(out, cp);
}

long ctl_json_unescape(char *dst, size_t dst_sz, const struct ctl_jtok *t)
{
	size_t i = 0, o = 0, n;
	char tmp[4];
	struct str s;

	if (!dst || !dst_sz || !t || t->type != CTL_J_STR)
		return -EINVAL;
	s = t->s;
	while (i < s.len) {
		if (s.p[i] == '\\') {
			i++;
			n = unesc(s, &i, tmp);
		} else {
			tmp[0] = s.p[i++];
			n = 1;
		}
		if (o + n >= dst_sz) {
			dst[o] = '\0';
			return -ENOSPC;
		}
		memcpy(dst + o, tmp, n);
		o += n;
	}
	dst[o] = '\0';
	return (long)o;
}

int ctl_json_u64(uint64_t *vp, const struct ctl_jtok *t)
{
	if (!vp || !t || t->type != CTL_J_NUM)
		return -EINVAL;
	return str_to_u64(vp, t->s, UINT64_MAX);
}
