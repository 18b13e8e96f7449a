/*
 * conf_scalar.c - one scalar value of the configuration: parsing a YAML
 * scalar into the C field its struct conf_opt describes (booleans,
 * integers, durations, sizes, enums, strings of printable UTF-8) within
 * the option's bounds, and the "expected ..." wording of the errors.
 * The schema walk (conf.c) and the table self-check (conf_check.c) use
 * it; it neither allocates nor sees the YAML document.  Also the
 * regular-expression value check the sections share.
 */
#include "core/conf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/conf_int.h"

/* Printable UTF-8 as YAML allows it in a file: no C0/C1 controls, no
 * surrogates, no BOM or non-characters.  This also keeps CR/LF out of
 * values that end up in SIP headers (User-Agent). */
static const char *check_text(const unsigned char *s, size_t n)
{
	size_t i, len;
	int32_t cp;

	for (i = 0; i < n; i += len) {
		cp = utf8_next(s + i, n - i, &len);
		if (cp < 0)
			return "is not valid UTF-8";
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0xfeff ||
		    cp == 0xfffe || cp == 0xffff)
			return "contains a control character";
	}
	return NULL;
}

int conf__parse_string(char *dst, size_t dstsz, size_t minlen,
		       conf_vcheck_fn *vcheck, const char *s, size_t n,
		       char *why, size_t whysz)
{
	const char *bad;

	if (n >= dstsz) {
		snprintf(why, whysz, "longer than %zu bytes", dstsz - 1);
		return -EINVAL;
	}
	if (n < minlen) {
		snprintf(why, whysz,
			 minlen == 1 ? "must not be empty"
				     : "shorter than %zu bytes",
			 minlen);
		return -EINVAL;
	}
	bad = check_text((const unsigned char *)s, n);
	if (bad) {
		snprintf(why, whysz, "%s", bad);
		return -EINVAL;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	/* An empty optional string means "not set": nothing to check. */
	return vcheck && n ? vcheck(dst, why, whysz) : 0;
}

/* Decimal digits to uint64, -EINVAL on syntax, -ERANGE on overflow;
 * *endp is where the digits stop. */
static int parse_digits(uint64_t *vp, const char *s, size_t n, size_t *endp)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*vp = v;
	*endp = i;
	return i ? 0 : -EINVAL;
}

static int parse_int(int64_t *vp, const char *s, size_t n)
{
	bool neg = n && s[0] == '-';
	uint64_t v;
	size_t end;
	int rc = parse_digits(&v, s + neg, n - neg, &end);

	if (rc == 0 && end != n - neg)
		rc = -EINVAL;
	if (rc)
		return rc;
	if (v > (uint64_t)INT64_MAX + neg)
		return -ERANGE;
	*vp = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* "NUMBER[UNIT]" where the unit picks a multiplier from units[]. */
static int parse_unit(int64_t *vp, const char *s, size_t n,
		      const char *const *units, const int64_t *mul,
		      bool need_unit)
{
	uint64_t v;
	size_t end, i;
	int rc = parse_digits(&v, s, n, &end);

	if (rc)
		return rc;
	if (end == n) {
		if (need_unit && v != 0)
			return -EINVAL;
		i = 0;
	} else {
		for (i = 1; units[i]; i++)
			if (strlen(units[i]) == n - end &&
			    !memcmp(units[i], s + end, n - end))
				break;
		if (!units[i])
			return -EINVAL;
	}
	if (v > (uint64_t)(INT64_MAX / mul[i]))
		return -ERANGE;
	*vp = (int64_t)v * mul[i];
	return 0;
}

static void fmt_value(char *buf, size_t bufsz, enum conf_type t, int64_t v)
{
	if (t == CONF_T_DURATION)
		conf__fmt_duration(buf, bufsz, v);
	else if (t == CONF_T_SIZE)
		conf__fmt_size(buf, bufsz, v);
	else
		snprintf(buf, bufsz, "%" PRId64, v);
}

/* What a value of option o looks like, for "expected ..." messages. */
void conf__describe(const struct conf_opt *o, char *buf, size_t bufsz)
{
	const struct conf_enum *e;
	size_t used;

	switch (o->type) {
	case CONF_T_BOOL:
		snprintf(buf, bufsz, "true or false");
		return;
	case CONF_T_INT:
		snprintf(buf, bufsz, "an integer");
		return;
	case CONF_T_DURATION:
		snprintf(buf, bufsz, "a duration such as 250ms, 30s, 5m or 1h");
		return;
	case CONF_T_SIZE:
		snprintf(buf, bufsz, "a size such as 4096, 64k or 1m");
		return;
	case CONF_T_ENUM:
		used = (size_t)snprintf(buf, bufsz, "one of");
		for (e = o->enums; e && e->name && used < bufsz; e++)
			used += (size_t)snprintf(
				buf + used, bufsz - used, "%s %s",
				e == o->enums ? ":" : ",", e->name);
		return;
	case CONF_T_STRLIST:
	case CONF_T_SECLIST:
		snprintf(buf, bufsz, "a sequence");
		return;
	case CONF_T_SECTION:
		snprintf(buf, bufsz, "a mapping");
		return;
	default:
		snprintf(buf, bufsz, "a string");
		return;
	}
}

static int parse_number(const struct conf_opt *o, int64_t *vp, const char *s,
			size_t n)
{
	static const char *const dur_units[] = {"", "ms", "s", "m", "h", NULL};
	static const int64_t dur_mul[] = {1, 1, 1000, 60000, 3600000};
	static const char *const size_units[] = {"",  "k", "K", "m",
						 "M", "g", "G", NULL};
	static const int64_t size_mul[] = {1,       1 << 10, 1 << 10, 1 << 20,
					   1 << 20, 1 << 30, 1 << 30};

	if (o->type == CONF_T_DURATION)
		return parse_unit(vp, s, n, dur_units, dur_mul, true);
	if (o->type == CONF_T_SIZE)
		return parse_unit(vp, s, n, size_units, size_mul, false);
	return parse_int(vp, s, n);
}

/*
 * Parse one scalar s[0..n) for option o into dst (the field).  null says
 * the YAML value was empty/~/null.  Returns 0 or -EINVAL with why set.
 */
int conf__parse_scalar(const struct conf_opt *o, void *dst, const char *s,
		       size_t n, bool null, char *why, size_t whysz)
{
	char want[CONF__WHY_LEN - 40], lo[32], hi[32];
	const struct conf_enum *e;
	int64_t v;
	int rc;

	conf__describe(o, want, sizeof(want));
	if (o->type == CONF_T_STRING && null && o->min == 0)
		n = 0; /* "key:" or "key: ~" for an optional string is "" */
	else if (null)
		goto bad;
	switch (o->type) {
	case CONF_T_BOOL:
		if (n == 4 && (!memcmp(s, "true", 4) || !memcmp(s, "True", 4) ||
			       !memcmp(s, "TRUE", 4)))
			*(bool *)dst = true;
		else if (n == 5 &&
			 (!memcmp(s, "false", 5) || !memcmp(s, "False", 5) ||
			  !memcmp(s, "FALSE", 5)))
			*(bool *)dst = false;
		else
			goto bad;
		return 0;
	case CONF_T_INT:
	case CONF_T_DURATION:
	case CONF_T_SIZE:
		rc = parse_number(o, &v, s, n);
		if (rc == -EINVAL)
			goto bad;
		if (rc == 0 && v >= o->min && v <= o->max) {
			memcpy(dst, &v, sizeof(v));
			return 0;
		}
		fmt_value(lo, sizeof(lo), o->type, o->min);
		fmt_value(hi, sizeof(hi), o->type, o->max);
		snprintf(why, whysz, "%.*s out of range (min %s, max %s)",
			 n > 32 ? 32 : (int)n, s, lo, hi);
		return -EINVAL;
	case CONF_T_ENUM:
		for (e = o->enums; e && e->name; e++) {
			if (strlen(e->name) == n && !memcmp(e->name, s, n)) {
				*(int *)dst = e->value;
				return 0;
			}
		}
		goto bad;
	case CONF_T_STRING:
		return conf__parse_string(dst, o->len, (size_t)o->min,
					  o->vcheck, s, n, why, whysz);
	default:
		break;
	}
bad:
	snprintf(why, whysz, "expected %s%s", want,
		 null ? ", got an empty value" : "");
	return -EINVAL;
}

/* A value check for PCRE2 patterns: the pattern compiles with these
 * options, else why names the offset and PCRE2's reason. */
int conf__check_regex(const char *s, uint32_t options, char *why, size_t whysz)
{
	PCRE2_UCHAR msg[120];
	PCRE2_SIZE off = 0;
	int code = 0;
	pcre2_code *re;

	re = pcre2_compile((PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, options, &code,
			   &off, NULL);
	if (re) {
		pcre2_code_free(re);
		return 0;
	}
	pcre2_get_error_message(code, msg, sizeof(msg));
	snprintf(why, whysz, "bad regular expression at offset %zu: %s",
		 (size_t)off, (const char *)msg);
	return -EINVAL;
}
