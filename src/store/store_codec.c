/*
 * store_codec.c - the text forms of shared bans: the record stored in the
 * Redis hash and the message published on the bans channel.
 *
 *   record:  v1|EXPIRES|START|OFFENCES|RULE|REASON
 *   message: B ORIGIN KEY RECORD   (a ban)
 *            U ORIGIN KEY          (an unban)
 *
 * EXPIRES and START are Unix milliseconds (EXPIRES 0: never).  REASON is
 * last so that it may hold '|'.  Everything here is pure (no I/O, no
 * globals) and parses what another instance, or whoever can write to
 * Redis, sent: every field is bounded and checked (fuzz_store_codec).
 */
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define REC_VERSION "v1"

static bool ctl_byte(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

bool store_key_valid(struct str key)
{
	size_t i;

	if (key.len == 0 || key.len >= STORE_KEY_MAX)
		return false;
	for (i = 0; i < key.len; i++) {
		char c = key.p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F') || c == '.' || c == ':' ||
		      c == '/'))
			return false;
	}
	return true;
}

bool store_instance_valid(struct str name)
{
	size_t i;

	if (name.len == 0 || name.len >= STORE_INSTANCE_MAX)
		return false;
	for (i = 0; i < name.len; i++) {
		char c = name.p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

/* Copy s into dst with the bytes that would break the format made '_'. */
static void clean_copy(char *dst, size_t sz, const char *s, bool bar)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < sz; i++)
		dst[i] = ctl_byte((unsigned char)s[i]) || (bar && s[i] == '|')
				 ? '_'
				 : s[i];
	dst[i] = '\0';
}

int store_ban_encode(char *buf, size_t sz, const struct store_ban *b)
{
	char rule[STORE_RULE_MAX], reason[STORE_REASON_MAX];
	int n;

	if (!buf || !b || !store_key_valid(str_cstr(b->key)))
		return -EINVAL;
	clean_copy(rule, sizeof(rule), b->rule, true);
	clean_copy(reason, sizeof(reason), b->reason, false);
	n = snprintf(buf, sz, REC_VERSION "|%llu|%llu|%u|%s|%s",
		     (unsigned long long)b->expires_wall_ms,
		     (unsigned long long)b->start_wall_ms, b->offences, rule,
		     reason);
	if (n < 0 || (size_t)n >= sz)
		return -ENOSPC;
	return n;
}

/* A text field: no control bytes, fits dst (NUL included). */
static int text_field(char *dst, size_t sz, struct str s)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if (ctl_byte((unsigned char)s.p[i]))
			return -EINVAL;
	return str_copy_cstr(dst, sz, s) ? -EINVAL : 0;
}

/* Decimal, 1..20 digits, no overflow. */
static int num_field(uint64_t *vp, struct str s)
{
	if (s.len > 20)
		return -EINVAL;
	return str_to_u64(vp, s, UINT64_MAX) ? -EINVAL : 0;
}

int store_ban_decode(struct store_ban *b, struct str key, struct str rec)
{
	struct str ver, exp, start, off, rule;
	uint64_t v;

	if (!b || !store_key_valid(key))
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	memcpy(b->key, key.p, key.len);
	if (!str_split(&rec, '|', &ver) || !str_eq_cstr(ver, REC_VERSION) ||
	    !str_split(&rec, '|', &exp) || !str_split(&rec, '|', &start) ||
	    !str_split(&rec, '|', &off) || !str_split(&rec, '|', &rule))
		return -EINVAL;
	/* str_split leaves rec empty both after "x|" and "x": the reason is
	 * whatever is left, possibly nothing. */
	if (num_field(&b->expires_wall_ms, exp) ||
	    num_field(&b->start_wall_ms, start) || num_field(&v, off) ||
	    v > UINT32_MAX)
		return -EINVAL;
	b->offences = (uint32_t)v;
	if (text_field(b->rule, sizeof(b->rule), rule) ||
	    text_field(b->reason, sizeof(b->reason), rec))
		return -EINVAL;
	return 0;
}

/* The next space-separated word of *rest (none may be empty). */
static bool word(struct str *rest, struct str *w)
{
	long sp = str_chr(*rest, ' ');

	if (sp <= 0)
		return false;
	*w = str_make(rest->p, (size_t)sp);
	*rest = str_skip(*rest, (size_t)sp + 1);
	return true;
}

int store_msg_parse(struct store_msg *m, struct str msg)
{
	struct str kind, key;

	if (!m)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	if (!word(&msg, &kind) || kind.len != 1 || !word(&msg, &m->origin) ||
	    !store_instance_valid(m->origin))
		return -EINVAL;
	if (kind.p[0] == 'U') {
		if (!store_key_valid(msg))
			return -EINVAL;
		memcpy(m->b.key, msg.p, msg.len);
		return 0;
	}
	if (kind.p[0] != 'B' || !word(&msg, &key))
		return -EINVAL;
	m->ban = true;
	return store_ban_decode(&m->b, key, msg);
}

int store_msg_format(char *buf, size_t sz, bool ban, const char *origin,
		     const struct store_ban *b)
{
	char rec[STORE_RECORD_MAX];
	int n;

	if (!buf || !b || !origin || !store_instance_valid(str_cstr(origin)) ||
	    !store_key_valid(str_cstr(b->key)))
		return -EINVAL;
	if (!ban) {
		n = snprintf(buf, sz, "U %s %s", origin, b->key);
	} else {
		n = store_ban_encode(rec, sizeof(rec), b);
		if (n < 0)
			return n;
		n = snprintf(buf, sz, "B %s %s %s", origin, b->key, rec);
	}
	if (n < 0 || (size_t)n >= sz)
		return -ENOSPC;
	return n;
}
