/*
 * str.c - string slice helpers: comparison, trimming, splitting and
 * overflow-checked integer conversion.  No allocation happens here.
 */
#include "core/str.h"

#include <errno.h>
#include <string.h>

static inline unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

struct str str_cstr(const char *s)
{
	return s ? str_make(s, strlen(s)) : STR_NULL;
}

bool str_eq(struct str a, struct str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool str_caseeq(struct str a, struct str b)
{
	size_t i;

	if (a.len != b.len)
		return false;
	for (i = 0; i < a.len; i++)
		if (lower((unsigned char)a.p[i]) !=
		    lower((unsigned char)b.p[i]))
			return false;
	return true;
}

bool str_caseeq_cstr(struct str a, const char *b)
{
	return str_caseeq(a, str_cstr(b));
}

bool str_eq_cstr(struct str a, const char *b)
{
	return str_eq(a, str_cstr(b));
}

bool str_casestarts(struct str s, struct str prefix)
{
	return s.len >= prefix.len &&
	       str_caseeq(str_make(s.p, prefix.len), prefix);
}

int str_casecmp(struct str a, struct str b)
{
	size_t i, n = a.len < b.len ? a.len : b.len;

	for (i = 0; i < n; i++) {
		int d = lower((unsigned char)a.p[i]) -
			lower((unsigned char)b.p[i]);
		if (d)
			return d;
	}
	return a.len < b.len ? -1 : a.len > b.len;
}

bool str_split(struct str *rest, char sep, struct str *tokp)
{
	long i;

	if (!rest->p || rest->len == 0) {
		*tokp = STR_NULL;
		return false;
	}
	i = str_chr(*rest, sep);
	if (i < 0) {
		*tokp = *rest;
		*rest = str_make(rest->p + rest->len, 0);
		return true;
	}
	*tokp = str_make(rest->p, (size_t)i);
	*rest = str_skip(*rest, (size_t)i + 1);
	return true;
}

int str_copy_cstr(char *dst, size_t dstsz, struct str s)
{
	if (dstsz == 0 || s.len >= dstsz)
		return -ENOSPC;
	if (s.len)
		memcpy(dst, s.p, s.len);
	dst[s.len] = '\0';
	return 0;
}

int32_t utf8_next(const unsigned char *p, size_t n, size_t *len)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t k, need;
	uint32_t cp;

	if (p[0] < 0x80) {
		*len = 1;
		return p[0];
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 1;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 2;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 3;
	else
		return -1;
	if (n <= need)
		return -1;
	/* The range of the second byte is what rules out overlong forms,
	 * surrogates and code points past U+10FFFF. */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return -1;
	cp = p[0] & (0x3fu >> need);
	for (k = 1; k <= need; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (p[k] & 0x3f);
	}
	*len = need + 1;
	return (int32_t)cp;
}
