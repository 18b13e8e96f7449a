/*
 * sip_int.h - private helpers shared by the files of the SIP layer:
 * character classes of RFC 3261 section 25.1 and small scanning helpers.
 * Not for use outside src/sip/.
 */
#ifndef SIPGUARD_SIP_INT_H
#define SIPGUARD_SIP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/sip.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum {
	SIP__C_TOKEN = 1 << 0, /* token: alphanum / "-.!%*_+`'~" */
	SIP__C_ALPHA = 1 << 1,
	SIP__C_DIGIT = 1 << 2,
	SIP__C_HEX = 1 << 3,
	SIP__C_UNRESERVED = 1 << 4, /* alphanum / mark */
	SIP__C_USER = 1 << 5,       /* user-unreserved: & = + $ , ; ? / */
	SIP__C_PASSWORD = 1 << 6,   /* & = + $ , */
	SIP__C_PARAM = 1 << 7,      /* param-unreserved: [ ] / : & + $ */
};

/* For the small helpers of the hot parsing paths: a call costs more than
 * their body. */
#define SIP__HOT static inline __attribute__((always_inline))

/* Classes of each byte; 0 for controls and non-ASCII (sipchars.c). */
extern const uint8_t sip__cclass[256];

static inline bool sip__is(unsigned char c, unsigned cls)
{
	return (sip__cclass[c] & cls) != 0;
}

/* ASCII lower case: only 'A'..'Z' change (branch-free). */
static inline unsigned char sip__lc(unsigned char c)
{
	return (unsigned char)(c + ((unsigned)(c - 'A') < 26u ? 0x20 : 0));
}

/*
 * n bytes at p equal the lower-case literal lit, ignoring ASCII case.
 * Exact for any input byte (lit holds no upper-case letter).  Meant for
 * short literal names, where the compiler unrolls it.
 */
static inline bool sip__lceq(const char *p, const char *lit, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (sip__lc((unsigned char)p[i]) != (unsigned char)lit[i])
			return false;
	return true;
}

/* a and b are equal ignoring ASCII case. */
static inline bool sip__caseeq(struct str a, struct str b)
{
	size_t i;

	if (a.len != b.len)
		return false;
	for (i = 0; i < a.len; i++)
		if (sip__lc((unsigned char)a.p[i]) !=
		    sip__lc((unsigned char)b.p[i]))
			return false;
	return true;
}

/* s equals the lower-case literal, ignoring case (length first). */
#define SIP__LCEQ(s, lit) \
	((s).len == sizeof(lit) - 1 && sip__lceq((s).p, lit, sizeof(lit) - 1))

/*
 * First byte <= max in [p, end), or end (max below 0x80).  With max '\r'
 * it finds what ends or folds a line (CR, LF) and the rare low controls
 * (HTAB, NUL) the caller skips or refuses; with max ' ' it also stops at
 * spaces.  base is the start of the buffer p lies in: the SSE2 tail
 * reads the 16 bytes ending at end, which must not start before base.
 * Reads nothing at or past end.
 */
static inline const char *sip__find_le(const char *base, const char *p,
				       const char *end, unsigned char max)
{
#ifdef __SSE2__
	const __m128i lim = _mm_set1_epi8((char)max);
	__m128i v;
	unsigned mask;

	while (end - p >= 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)p);
		mask = (unsigned)_mm_movemask_epi8(
			_mm_cmpeq_epi8(_mm_min_epu8(v, lim), v));
		if (mask)
			return p + __builtin_ctz(mask);
		p += 16;
	}
	/* The tail: one load ending at `end`, bytes before p masked off
	 * (they were scanned already and lie inside the buffer). */
	if (p < end && end - base >= 16) {
		const char *q = end - 16;

		v = _mm_loadu_si128((const __m128i *)(const void *)q);
		mask = (unsigned)_mm_movemask_epi8(
			       _mm_cmpeq_epi8(_mm_min_epu8(v, lim), v)) &
		       (~0u << (p - q));
		return mask ? q + __builtin_ctz(mask) : end;
	}
#else
	(void)base;
#endif
	while (p < end && (unsigned char)*p > max)
		p++;
	return p;
}

/*
 * First ch in [p, end), or NULL: memchr() for the short runs of a SIP
 * header, inline.  base as for sip__find_le().
 */
static inline const char *sip__find_byte(const char *base, const char *p,
					 const char *end, char ch)
{
#ifdef __SSE2__
	const __m128i c = _mm_set1_epi8(ch);
	unsigned mask;

	while (end - p >= 16) {
		mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
			_mm_loadu_si128((const __m128i *)(const void *)p), c));
		if (mask)
			return p + __builtin_ctz(mask);
		p += 16;
	}
	if (p < end && end - base >= 16) {
		const char *q = end - 16;

		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);

		mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, c)) &
		       (~0u << (p - q));
		return mask ? q + __builtin_ctz(mask) : NULL;
	}
#else
	(void)base;
#endif
	for (; p < end; p++)
		if (*p == ch)
			return p;
	return NULL;
}

/* First CR, LF or other byte <= '\r' (see sip__find_le). */
static inline const char *sip__find_ctl(const char *base, const char *p,
					const char *end)
{
	return sip__find_le(base, p, end, '\r');
}

/* Set *errp (if errp) and return -EINVAL. */
int sip__fail(struct sip_perr *errp, enum sip_perr_code code, const char *base,
	      const char *at, const char *reason);

#endif
