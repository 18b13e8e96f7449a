/*
 * store_snap.c - the text forms of shared registration bindings and
 * dialog snapshots (issue 9), as kept in Redis hashes and sent on the
 * bindings channel.
 *
 * Both are a version tag followed by fields, each ending in ',':
 *   number:  1-20 decimal digits                      "1700000000000,"
 *   string:  its length, ':', the bytes (a netstring) "5:alice,"
 * so no byte of a string needs escaping and the decoder never guesses
 * where a field ends.  The decoder is a bounds-checked cursor that fails
 * on short input, bad lengths, bytes outside the field's alphabet and
 * trailing bytes (STYLE 8): the store is shared, so what comes back from
 * it is untrusted input (fuzz_store_snap).  Strings that end up in a
 * SIP message we build (a BYE at takeover) admit visible ASCII only, so
 * a record can never inject a header.
 *
 *   binding:  b1,TOKEN,OWNER,HANDOFF,FLOW,EXPIRES,AOR,CONTACT,
 *   snapshot: s1,CALL-ID,ROUTE,N_ROUTE,N_UP,FINAL,START,ANSWER,
 *             then per leg (caller, callee):
 *             URI,TAG,CONTACT,ADDR,ZONE,HAS_CSEQ,CSEQ,
 *   messages: "B " binding record | "U OWNER TOKEN" | "G OWNER NAME"
 *
 * Pure: no I/O, no globals.
 */
#include "store/store_int.h"

#include <errno.h>
#include <string.h>

#define BIND_TAG "b1,"
#define SNAP_TAG "s1,"

enum alpha {
	A_VIS,  /* visible ASCII 0x21-0x7e */
	A_TEXT, /* visible ASCII and space (a joined route set) */
	A_HEX,  /* a binding token */
	A_NAME, /* instance or zone name */
	A_ADDR, /* "udp:192.0.2.1:5060", "tls:[2001:db8::1]:5061" */
};

static bool in_alpha(unsigned char c, enum alpha a)
{
	switch (a) {
	case A_VIS:
		return c > 0x20 && c < 0x7f;
	case A_TEXT:
		return c >= 0x20 && c < 0x7f;
	case A_HEX:
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
	case A_NAME:
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		       (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
		       c == '-';
	case A_ADDR:
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		       (c >= 'A' && c <= 'Z') || c == '.' || c == ':' ||
		       c == '[' || c == ']' || c == '-';
	}
	return false;
}

static bool all_in(struct str s, enum alpha a)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if (!in_alpha((unsigned char)s.p[i], a))
			return false;
	return true;
}

bool store_token_valid(struct str t)
{
	return t.len > 0 && t.len < STORE_TOKEN_MAX && all_in(t, A_HEX);
}

bool store_sipaddr_valid(struct str a)
{
	if (a.len < 7 || a.len >= STORE_ADDR_MAX || !all_in(a, A_ADDR))
		return false;
	return !memcmp(a.p, "udp:", 4) || !memcmp(a.p, "tcp:", 4) ||
	       !memcmp(a.p, "tls:", 4);
}

/* ------------------------------------------------------------- writer */

struct wr {
	char *p;
	size_t sz, len;
	bool full;
};

static void w_raw(struct wr *w, const char *s, size_t n)
{
	if (w->full || n >= w->sz - w->len) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
	w->p[w->len] = '\0';
}

/* Decimal digits, no snprintf: a snapshot is written for every call
 * answered with the Redis store (bench/README-store.md). */
static void w_num(struct wr *w, uint64_t v)
{
	char b[STORE__NUM_MAX + 1];
	size_t n = store__fmt_u64(b, v);

	b[n++] = ',';
	w_raw(w, b, n);
}

static void w_str(struct wr *w, struct str s)
{
	char b[STORE__NUM_MAX + 1];
	size_t n = store__fmt_u64(b, s.len);

	b[n++] = ':';
	w_raw(w, b, n);
	if (s.len)
		w_raw(w, s.p, s.len);
	w_raw(w, ",", 1);
}

static int w_end(const struct wr *w)
{
	return w->full ? -ENOSPC : (int)w->len;
}

/* ------------------------------------------------------------- cursor */

struct cur {
	struct str s;
	bool bad;
};

static int c_num(struct cur *c, uint64_t max, uint64_t *vp)
{
	size_t i = 0;
	uint64_t v = 0;

	while (!c->bad && i < c->s.len && i < 21 && c->s.p[i] >= '0' &&
	       c->s.p[i] <= '9') {
		unsigned d = (unsigned)(c->s.p[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			break;
		v = v * 10 + d;
		i++;
	}
	if (c->bad || i == 0 || i > 20 || i >= c->s.len || c->s.p[i] != ',' ||
	    v > max) {
		c->bad = true;
		*vp = 0;
		return -EINVAL;
	}
	c->s = str_skip(c->s, i + 1);
	*vp = v;
	return 0;
}

/* A netstring of at most max bytes, every one in alphabet a. */
static int c_str(struct cur *c, size_t max, enum alpha a, struct str *sp)
{
	uint64_t n = 0;
	size_t i = 0;

	*sp = str_make("", 0);
	while (!c->bad && i < c->s.len && i < 6 && c->s.p[i] >= '0' &&
	       c->s.p[i] <= '9')
		n = n * 10 + (uint64_t)(c->s.p[i++] - '0');
	if (c->bad || i == 0 || i >= c->s.len || c->s.p[i] != ':' || n > max ||
	    n + 1 > c->s.len - i - 1 || c->s.p[i + 1 + n] != ',') {
		c->bad = true;
		return -EINVAL;
	}
	*sp = str_make(c->s.p + i + 1, (size_t)n);
	if (!all_in(*sp, a)) {
		c->bad = true;
		return -EINVAL;
	}
	c->s = str_skip(c->s, i + 2 + (size_t)n);
	return 0;
}

static int c_tag(struct cur *c, const char *tag)
{
	size_t n = strlen(tag);

	if (c->s.len < n || memcmp(c->s.p, tag, n)) {
		c->bad = true;
		return -EINVAL;
	}
	c->s = str_skip(c->s, n);
	return 0;
}

/* All fields read and nothing after them. */
static int c_end(const struct cur *c)
{
	return c->bad || c->s.len ? -EINVAL : 0;
}

/* ----------------------------------------------------------- bindings */

int store_binding_encode(char *buf, size_t sz, const struct store_binding *b)
{
	struct wr w = {.p = buf, .sz = sz};

	if (!buf || !sz || !b || !store_token_valid(b->token) ||
	    !store_instance_valid(b->owner) ||
	    !store_sipaddr_valid(b->handoff) ||
	    (b->flow.len && !store_sipaddr_valid(b->flow)) ||
	    b->aor.len > STORE_URI_MAX || b->contact.len > STORE_URI_MAX ||
	    !all_in(b->aor, A_VIS) || !all_in(b->contact, A_VIS))
		return -EINVAL;
	buf[0] = '\0';
	w_raw(&w, BIND_TAG, strlen(BIND_TAG));
	w_str(&w, b->token);
	w_str(&w, b->owner);
	w_str(&w, b->handoff);
	w_str(&w, b->flow);
	w_num(&w, b->expires_wall_ms);
	w_str(&w, b->aor);
	w_str(&w, b->contact);
	return w_end(&w);
}

int store_binding_decode(struct store_binding *b, struct str rec)
{
	struct cur c = {.s = rec};

	if (!b || (rec.len && !rec.p))
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	c_tag(&c, BIND_TAG);
	c_str(&c, STORE_TOKEN_MAX - 1, A_HEX, &b->token);
	c_str(&c, STORE_INSTANCE_MAX - 1, A_NAME, &b->owner);
	c_str(&c, STORE_ADDR_MAX - 1, A_ADDR, &b->handoff);
	c_str(&c, STORE_ADDR_MAX - 1, A_ADDR, &b->flow);
	c_num(&c, UINT64_MAX, &b->expires_wall_ms);
	c_str(&c, STORE_URI_MAX, A_VIS, &b->aor);
	c_str(&c, STORE_URI_MAX, A_VIS, &b->contact);
	if (c_end(&c) || !store_token_valid(b->token) ||
	    !store_instance_valid(b->owner) ||
	    !store_sipaddr_valid(b->handoff) ||
	    (b->flow.len && !store_sipaddr_valid(b->flow))) {
		memset(b, 0, sizeof(*b));
		return -EINVAL;
	}
	return 0;
}

/* ---------------------------------------------------------- snapshots */

static bool leg_ok(const struct store_snap_leg *l)
{
	return l->tag.len && (!l->addr.len || store_sipaddr_valid(l->addr)) &&
	       (!l->zone.len || store_instance_valid(l->zone)) &&
	       l->cseq <= STORE_CSEQ_MAX;
}

int store_snap_encode(char *buf, size_t sz, const struct store_snap *s)
{
	struct wr w = {.p = buf, .sz = sz};
	unsigned i;

	if (!buf || !sz || !s || !s->call_id.len ||
	    !all_in(s->call_id, A_VIS) || !all_in(s->route, A_TEXT) ||
	    s->call_id.len > STORE_SNAP_STR_MAX ||
	    s->route.len > STORE_SNAP_STR_MAX)
		return -EINVAL;
	for (i = 0; i < 2; i++) {
		const struct store_snap_leg *l = &s->leg[i];

		if (!leg_ok(l) || !all_in(l->uri, A_VIS) ||
		    !all_in(l->tag, A_VIS) || !all_in(l->contact, A_VIS) ||
		    l->uri.len > STORE_SNAP_STR_MAX ||
		    l->tag.len > STORE_SNAP_STR_MAX ||
		    l->contact.len > STORE_SNAP_STR_MAX)
			return -EINVAL;
	}
	buf[0] = '\0';
	w_raw(&w, SNAP_TAG, strlen(SNAP_TAG));
	w_str(&w, s->call_id);
	w_str(&w, s->route);
	w_num(&w, s->n_route);
	w_num(&w, s->n_up);
	w_num(&w, s->final_status);
	w_num(&w, s->start_wall_ms);
	w_num(&w, s->answer_wall_ms);
	for (i = 0; i < 2; i++) {
		const struct store_snap_leg *l = &s->leg[i];

		w_str(&w, l->uri);
		w_str(&w, l->tag);
		w_str(&w, l->contact);
		w_str(&w, l->addr);
		w_str(&w, l->zone);
		w_num(&w, l->has_cseq);
		w_num(&w, l->cseq);
	}
	return w_end(&w);
}

static void c_leg(struct cur *c, struct store_snap_leg *l)
{
	uint64_t v;

	c_str(c, STORE_SNAP_STR_MAX, A_VIS, &l->uri);
	c_str(c, STORE_SNAP_STR_MAX, A_VIS, &l->tag);
	c_str(c, STORE_SNAP_STR_MAX, A_VIS, &l->contact);
	c_str(c, STORE_ADDR_MAX - 1, A_ADDR, &l->addr);
	c_str(c, STORE_INSTANCE_MAX - 1, A_NAME, &l->zone);
	c_num(c, 1, &v);
	l->has_cseq = v == 1;
	c_num(c, STORE_CSEQ_MAX, &v);
	l->cseq = (uint32_t)v;
}

int store_snap_decode(struct store_snap *s, struct str rec)
{
	struct cur c = {.s = rec};
	uint64_t v;

	if (!s || (rec.len && !rec.p))
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	if (rec.len > STORE_SNAP_MAX)
		return -EINVAL;
	c_tag(&c, SNAP_TAG);
	c_str(&c, STORE_SNAP_STR_MAX, A_VIS, &s->call_id);
	c_str(&c, STORE_SNAP_STR_MAX, A_TEXT, &s->route);
	c_num(&c, 255, &v);
	s->n_route = (uint8_t)v;
	c_num(&c, 255, &v);
	s->n_up = (uint8_t)v;
	c_num(&c, 699, &v);
	s->final_status = (uint16_t)v;
	c_num(&c, UINT64_MAX, &s->start_wall_ms);
	c_num(&c, UINT64_MAX, &s->answer_wall_ms);
	c_leg(&c, &s->leg[0]);
	c_leg(&c, &s->leg[1]);
	if (c_end(&c) || !s->call_id.len || !leg_ok(&s->leg[0]) ||
	    !leg_ok(&s->leg[1]) || s->n_up > s->n_route) {
		memset(s, 0, sizeof(*s));
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------ bindings channel */

int store_cmsg_parse(struct store_cmsg *m, struct str msg)
{
	long sp;

	if (!m || msg.len < 3 || !msg.p || msg.p[1] != ' ')
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->kind = msg.p[0];
	msg = str_skip(msg, 2);
	switch (m->kind) {
	case 'B':
		if (store_binding_decode(&m->b, msg) != 0)
			return -EINVAL;
		m->origin = m->b.owner;
		m->name = m->b.token;
		return 0;
	case 'U':
	case 'G':
		sp = str_chr(msg, ' ');
		if (sp <= 0)
			return -EINVAL;
		m->origin = str_make(msg.p, (size_t)sp);
		m->name = str_skip(msg, (size_t)sp + 1);
		if (!store_instance_valid(m->origin) ||
		    !(m->kind == 'U' ? store_token_valid(m->name)
				     : store_instance_valid(m->name)))
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

/* The netstring at the start of c (up to 6 length digits, as c_str),
 * without checking its bytes; the cursor moves past it. */
static struct str c_skip(struct cur *c)
{
	uint64_t n = 0;
	size_t i = 0;
	struct str r = STR_NULL;

	while (i < c->s.len && i < 6 && c->s.p[i] >= '0' && c->s.p[i] <= '9')
		n = n * 10 + (uint64_t)(c->s.p[i++] - '0');
	if (c->bad || i == 0 || i >= c->s.len || c->s.p[i] != ':' ||
	    n + 1 > c->s.len - i - 1 || c->s.p[i + 1 + n] != ',') {
		c->bad = true;
		return r;
	}
	r = str_make(c->s.p + i + 1, (size_t)n);
	c->s = str_skip(c->s, i + 2 + (size_t)n);
	return r;
}

bool store_cmsg_from(struct str msg, struct str origin)
{
	struct cur c = {.s = msg};
	struct str o;

	if (!msg.p || msg.len < 3 || msg.p[1] != ' ' || !origin.len)
		return false;
	c.s = str_skip(msg, 2);
	if (msg.p[0] == 'U' || msg.p[0] == 'G')
		return c.s.len > origin.len && c.s.p[origin.len] == ' ' &&
		       !memcmp(c.s.p, origin.p, origin.len);
	if (msg.p[0] != 'B' || c_tag(&c, BIND_TAG) != 0)
		return false;
	(void)c_skip(&c); /* the token */
	o = c_skip(&c);
	return !c.bad && str_eq(o, origin);
}
