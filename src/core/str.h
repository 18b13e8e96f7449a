/*
 * str.h - string slices: a pointer and a length into someone else's bytes.
 *
 * A slice never owns memory and is never assumed to be NUL-terminated.
 * All parsing in sipguard works on slices that point into the receive
 * buffer of the message being parsed (zero-copy).  Slices are passed by
 * value.  Print them with "%.*s" and STR_FMT(s).
 */
#ifndef SIPGUARD_CORE_STR_H
#define SIPGUARD_CORE_STR_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct str {
	const char *p;
	size_t len;
};

/* A slice over a string literal. */
#define STR(lit) ((struct str){(lit), sizeof(lit) - 1})
#define STR_NULL ((struct str){NULL, 0})
/* For printf("%.*s", STR_FMT(s)); lengths past INT_MAX are clamped. */
#define STR_FMT(s) \
	(int)((s).len > 0x7fffffff ? 0x7fffffff : (s).len), ((s).p ? (s).p : "")

static inline struct str str_make(const char *p, size_t len)
{
	return (struct str){p, len};
}

static inline bool str_empty(struct str s)
{
	return s.len == 0;
}

/* Slice from p to end (end >= p). */
static inline struct str str_span(const char *p, const char *end)
{
	return (struct str){p, (size_t)(end - p)};
}

struct str str_cstr(const char *s);
bool str_eq(struct str a, struct str b);
bool str_caseeq(struct str a, struct str b);
bool str_caseeq_cstr(struct str a, const char *b);
bool str_eq_cstr(struct str a, const char *b);
bool str_casestarts(struct str s, struct str prefix);
int str_casecmp(struct str a, struct str b);

/* Linear white space: SP, HTAB, and CR/LF (folded lines inside a value). */
static inline bool str_is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * The small helpers below are inline: the parsers call them per field,
 * where a call costs more than the work.
 */

/* Without leading / trailing / both LWS. */
static inline struct str str_ltrim(struct str s)
{
	while (s.len && str_is_lws(*s.p)) {
		s.p++;
		s.len--;
	}
	return s;
}

static inline struct str str_rtrim(struct str s)
{
	while (s.len && str_is_lws(s.p[s.len - 1]))
		s.len--;
	return s;
}

static inline struct str str_trim(struct str s)
{
	return str_rtrim(str_ltrim(s));
}

/* Index of the first c in s, or -1. */
static inline long str_chr(struct str s, char c)
{
	const char *q = s.len ? memchr(s.p, c, s.len) : NULL;

	return q ? (long)(q - s.p) : -1;
}

/* Sub-slice [off, off+len) clamped to s. */
static inline struct str str_sub(struct str s, size_t off, size_t len)
{
	if (off > s.len)
		off = s.len;
	if (len > s.len - off)
		len = s.len - off;
	return str_make(s.p + off, len);
}

/* Advance s by n bytes (clamped). */
static inline struct str str_skip(struct str s, size_t n)
{
	if (n > s.len)
		n = s.len;
	return str_make(s.p + n, s.len - n);
}

/*
 * Split: take the part of *rest before the first sep, store it in *tokp and
 * leave *rest after the separator.  Returns false when *rest was empty.
 * The token is not trimmed.
 */
bool str_split(struct str *rest, char sep, struct str *tokp);

/*
 * Integer conversion.  The whole slice must be decimal digits (no sign,
 * no white space, at least one digit) and the value must be <= max.
 * Return 0, -EINVAL on syntax, -ERANGE on overflow or value > max.
 */
static inline int str_to_u64(uint64_t *vp, struct str s, uint64_t max)
{
	uint64_t v = 0;
	size_t i;

	if (s.len == 0)
		return -EINVAL;
	for (i = 0; i < s.len; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';

		if (d > 9)
			return -EINVAL;
		/* v * 10 + d > max, without overflow; max / 10 folds to a
		 * constant when max is one. */
		if (d > max || v > max / 10 || v * 10 > max - d)
			return -ERANGE;
		v = v * 10 + d;
	}
	*vp = v;
	return 0;
}

static inline int str_to_u32(uint32_t *vp, struct str s, uint32_t max)
{
	uint64_t v;
	int err = str_to_u64(&v, s, max);

	if (!err)
		*vp = (uint32_t)v;
	return err;
}

static inline int str_to_u16(uint16_t *vp, struct str s, uint16_t max)
{
	uint64_t v;
	int err = str_to_u64(&v, s, max);

	if (!err)
		*vp = (uint16_t)v;
	return err;
}

/* Copy into a fixed buffer with NUL.  -ENOSPC when it does not fit. */
int str_copy_cstr(char *dst, size_t dstsz, struct str s);

/*
 * The code point of the UTF-8 sequence at p (n bytes there, n >= 1), its
 * length (1..4) in *len; -1 when it is not valid UTF-8: a bad lead or
 * continuation byte, an overlong form, a UTF-16 surrogate (U+D800..DFFF)
 * or a code point above U+10FFFF.  What else a caller refuses (controls,
 * non-characters) is its own business.
 */
int32_t utf8_next(const unsigned char *p, size_t n, size_t *len);

#endif
