/*
 * im_text.c - the text side of IM content security: finding the URLs in
 * a message's text (so that their hosts can be matched against a domain
 * deny list), normalising a host for that match, and case-insensitive
 * keyword search.  Pure functions on slices: no allocation, no state.
 *
 * What counts as a URL (RFC 3986 generic syntax, plus what chat clients
 * turn into links):
 *   - scheme "://" authority: "http://a.b/", "HTTPS://x@a.b:8080";
 *     a backslash is taken for a slash ("http:\\a.b"), as browsers do;
 *   - "www." at the start of a word: "www.a.b/x";
 *   - sip:, sips:, mailto: URIs: the host after '@' ("sip:u@a.b").
 * Bare domains without any of these ("a.b/x") are not found: matching
 * every dotted word would block "file.txt" and "e.g.".  The keyword and
 * regular expression rules cover what a site needs beyond that.
 */
#include <string.h>

#include "guard/im.h"

static bool is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool is_alnum(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

static bool is_scheme_char(unsigned char c)
{
	return is_alnum(c) || c == '+' || c == '-' || c == '.';
}

/* Bytes that end an authority (or a URL) in running text. */
static bool ends_authority(unsigned char c)
{
	return c <= ' ' || c == '/' || c == '\\' || c == '?' || c == '#' ||
	       c == '<' || c == '>' || c == '"' || c == '\'' || c == '(' ||
	       c == ')' || c == ',' || c == ';' || c == 0x7f;
}

static bool lower_eq(const char *p, const char *lit, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 'A' && c <= 'Z')
			c |= 0x20;
		if (c != (unsigned char)lit[i])
			return false;
	}
	return true;
}

/*
 * The host of the authority starting at s[i]: skip userinfo (up to the
 * last '@' before the authority ends), take "[...]" or up to ':' or the
 * end.  Returns the index just past the authority.
 */
static size_t authority_host(struct str s, size_t i, struct str *hostp)
{
	size_t end = i, at = SIZE_MAX, h, he;

	while (end < s.len && !ends_authority((unsigned char)s.p[end]))
		end++;
	for (h = i; h < end; h++)
		if (s.p[h] == '@')
			at = h;
	h = at != SIZE_MAX ? at + 1 : i;
	if (h < end && s.p[h] == '[') {
		he = h + 1;
		while (he < end && s.p[he] != ']')
			he++;
		*hostp = str_make(s.p + h + 1, he - h - 1);
		return end;
	}
	he = h;
	while (he < end && s.p[he] != ':')
		he++;
	*hostp = str_make(s.p + h, he - h);
	return end;
}

/* "scheme:" ending at s[colon]: the scheme's first index, or SIZE_MAX. */
static size_t scheme_start(struct str s, size_t colon)
{
	size_t b = colon;

	while (b > 0 && is_scheme_char((unsigned char)s.p[b - 1]) &&
	       colon - b < 32)
		b--;
	while (b < colon && !is_alpha((unsigned char)s.p[b]))
		b++;
	return b < colon ? b : SIZE_MAX;
}

static bool slash(char c)
{
	return c == '/' || c == '\\';
}

/*
 * The first '@' or authority end at or after `from`.  *memo remembers
 * the last answer: every colon of a word before it gets the same one,
 * which keeps "sip:sip:sip:..." linear.
 */
static size_t at_or_end(struct str s, size_t from, size_t *memo)
{
	size_t q;

	if (*memo >= from && *memo != SIZE_MAX)
		return *memo;
	for (q = from; q < s.len && !ends_authority((unsigned char)s.p[q]); q++)
		if (s.p[q] == '@')
			break;
	*memo = q;
	return q;
}

/* A URL whose ':' is at s[i]?  Fills *hostp and *nextp. */
static bool url_at_colon(struct str s, size_t i, struct str *hostp,
			 size_t *nextp, size_t *memo)
{
	size_t b = scheme_start(s, i), n, at;

	if (b == SIZE_MAX)
		return false;
	n = i - b;
	if (i + 2 < s.len && slash(s.p[i + 1]) && slash(s.p[i + 2])) {
		*nextp = authority_host(s, i + 3, hostp);
		return true;
	}
	if (!((n == 3 && lower_eq(s.p + b, "sip", 3)) ||
	      (n == 4 && lower_eq(s.p + b, "sips", 4)) ||
	      (n == 6 && lower_eq(s.p + b, "mailto", 6))))
		return false;
	/* user@host: the host follows the '@' of this word. */
	at = at_or_end(s, i + 1, memo);
	if (at >= s.len || s.p[at] != '@')
		return false;
	*nextp = authority_host(s, at + 1, hostp);
	return true;
}

bool im_url_next(struct str text, size_t *posp, struct str *hostp)
{
	size_t i, next, memo = SIZE_MAX;

	for (i = *posp; i < text.len; i++) {
		char c = text.p[i];

		if (c == ':' && url_at_colon(text, i, hostp, &next, &memo)) {
			*posp = next > i ? next : i + 1;
			return true;
		}
		if ((c == 'w' || c == 'W') && i + 4 <= text.len &&
		    lower_eq(text.p + i, "www.", 4) &&
		    (i == 0 || !(is_alnum((unsigned char)text.p[i - 1]) ||
				 text.p[i - 1] == '.' || text.p[i - 1] == '@' ||
				 text.p[i - 1] == '/'))) {
			next = authority_host(text, i, hostp);
			*posp = next > i ? next : i + 1;
			return true;
		}
	}
	*posp = text.len;
	return false;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* U+3002, U+FF0E, U+FF61 in UTF-8: dots to IDNA (RFC 3490 3.1). */
static bool idna_dot(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x82) ||
	       (u[0] == 0xef && u[1] == 0xbc && u[2] == 0x8e) ||
	       (u[0] == 0xef && u[1] == 0xbd && u[2] == 0xa1);
}

size_t im_host_norm(char *out, size_t outsz, struct str host)
{
	size_t i, n = 0;

	for (i = 0; i < host.len && n < outsz; i++) {
		unsigned char c = (unsigned char)host.p[i];
		int hi, lo;

		/* Browsers decode %-escapes in host names: so do we, or
		 * "%65vil.example" would pass a rule for "evil.example". */
		if (c == '%' && i + 2 < host.len &&
		    (hi = hexval((unsigned char)host.p[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)host.p[i + 2])) >= 0) {
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c >= 'A' && c <= 'Z')
			c |= 0x20;
		/* Ideographic full stop (U+3002) and friends count as dots
		 * in IDNA: "evil\u3002example" is evil.example. */
		if (i + 2 < host.len && idna_dot(host.p + i)) {
			c = '.';
			i += 2;
		}
		out[n++] = (char)c;
	}
	if (i < host.len)
		return 0; /* too long to be a host name: no match */
	while (n && out[n - 1] == '.')
		n--;
	return n;
}

bool im_host_in_domain(struct str host, struct str domain)
{
	if (!domain.len || host.len < domain.len)
		return false;
	if (memcmp(host.p + host.len - domain.len, domain.p, domain.len))
		return false;
	return host.len == domain.len ||
	       host.p[host.len - domain.len - 1] == '.';
}

bool im_text_has(struct str text, struct str lower_word)
{
	size_t i, j;

	if (!lower_word.len || lower_word.len > text.len)
		return false;
	for (i = 0; i + lower_word.len <= text.len; i++) {
		for (j = 0; j < lower_word.len; j++) {
			unsigned char c = (unsigned char)text.p[i + j];

			if (c >= 'A' && c <= 'Z')
				c |= 0x20;
			if (c != (unsigned char)lower_word.p[j])
				break;
		}
		if (j == lower_word.len)
			return true;
	}
	return false;
}
