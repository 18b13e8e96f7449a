/*
 * pidf.c - the PIDF privacy scrubber: a small, strict, non-validating
 * XML reader that copies a presence document (RFC 3863, with RPID RFC
 * 4480, the data model RFC 4479 and geopriv RFC 4119) and leaves out the
 * elements an untrusted watcher should not see: notes (free text: "at
 * the doctor's"), geolocation, device identifiers, contact URIs (they
 * name devices and internal addresses).
 *
 * Elements are recognised by their local name, whatever their prefix or
 * namespace: a watcher-side parser that honours some other binding must
 * not be able to see a <note> we did not recognise, so we over-scrub
 * rather than under-scrub.  Comments and processing instructions (other
 * than the XML declaration) are dropped too: they can carry text.
 *
 * Refused (-EINVAL) rather than passed half-scrubbed: anything not
 * well-formed (unbalanced or crossed tags, text or a second element
 * outside the root, bad names or attributes), a DOCTYPE or any other
 * "<!" declaration (entity expansion, external entities), a reference
 * other than the five predefined entities and valid character
 * references, control characters, invalid UTF-8, a root that is not
 * <presence>, nesting over PIDF_MAX_DEPTH, more than PIDF_MAX_ELEMS
 * elements.  The caller then removes the body instead.
 */
#include <errno.h>
#include <string.h>

#include "core/buf.h"
#include "guard/presence.h"

struct px {
	const char *base, *p, *end;
	struct str name[PIDF_MAX_DEPTH]; /* open elements */
	unsigned depth;
	unsigned skip;      /* > 0: inside a removed element opened at
			     * depth skip - 1 */
	const char *cut;    /* where the removed element began */
	const char *copied; /* input before this is in out */
	bool root_open, root_done;
	unsigned elems, removed, flags;
	struct buf *out;
};

struct scrub_name {
	const char *name;
	unsigned flag;
};

static const struct scrub_name scrub_names[] = {
	{"note", PIDF_SCRUB_NOTE},         {"geopriv", PIDF_SCRUB_GEO},
	{"location-info", PIDF_SCRUB_GEO}, {"usage-rules", PIDF_SCRUB_GEO},
	{"civicAddress", PIDF_SCRUB_GEO},  {"place-type", PIDF_SCRUB_GEO},
	{"place-is", PIDF_SCRUB_GEO},      {"time-offset", PIDF_SCRUB_GEO},
	{"Point", PIDF_SCRUB_GEO},         {"Circle", PIDF_SCRUB_GEO},
	{"Ellipse", PIDF_SCRUB_GEO},       {"Polygon", PIDF_SCRUB_GEO},
	{"ArcBand", PIDF_SCRUB_GEO},       {"Sphere", PIDF_SCRUB_GEO},
	{"Ellipsoid", PIDF_SCRUB_GEO},     {"Prism", PIDF_SCRUB_GEO},
	{"device", PIDF_SCRUB_DEVICE},     {"deviceID", PIDF_SCRUB_DEVICE},
	{"contact", PIDF_SCRUB_CONTACT},
};

/* ------------------------------------------------------------- bytes */

/* Strict UTF-8 (no overlongs, surrogates, or > U+10FFFF), and no C0
 * control but TAB, LF, CR (XML 1.0 2.2). */
static bool text_ok(const unsigned char *s, size_t n)
{
	size_t i, len;
	int32_t cp;

	for (i = 0; i < n; i += len) {
		cp = utf8_next(s + i, n - i, &len);
		if (cp < 0 ||
		    (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
		    cp == 0xfffe || cp == 0xffff)
			return false;
	}
	return true;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool name_start(unsigned char c)
{
	return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_' ||
	       c == ':' || c >= 0x80;
}

static bool name_char(unsigned char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* A Name (with at most one ':', not first nor last: Namespaces in XML
 * 1.0 section 3).  Returns its length, 0 when there is none. */
static size_t read_name(const struct px *x, const char *p)
{
	const char *q = p, *colon = NULL;

	if (q >= x->end || !name_start((unsigned char)*q) || *q == ':')
		return 0;
	while (q < x->end && name_char((unsigned char)*q)) {
		if (*q == ':') {
			if (colon)
				return 0;
			colon = q;
		}
		q++;
	}
	if ((size_t)(q - p) > PIDF_MAX_NAME || (colon && colon + 1 == q))
		return 0;
	return (size_t)(q - p);
}

static bool hex(char c)
{
	return (c >= '0' && c <= '9') ||
	       ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* A reference at p ('&'): its length, 0 when it is not allowed. */
static size_t reference(const char *p, const char *end)
{
	static const char *const ent[] = {"lt;", "gt;", "amp;", "quot;",
					  "apos;"};
	const char *q = p + 1;
	uint32_t cp = 0;
	unsigned i, digits = 0;

	for (i = 0; i < sizeof(ent) / sizeof(ent[0]); i++) {
		size_t n = strlen(ent[i]);

		if ((size_t)(end - q) >= n && memcmp(q, ent[i], n) == 0)
			return n + 1;
	}
	if (q >= end || *q != '#')
		return 0;
	q++;
	if (q < end && *q == 'x') {
		for (q++; q < end && hex(*q) && digits < 7; q++, digits++)
			cp = cp * 16 +
			     (uint32_t)(*q <= '9' ? *q - '0'
						  : (*q | 0x20) - 'a' + 10);
	} else {
		for (; q < end && *q >= '0' && *q <= '9' && digits < 8;
		     q++, digits++)
			cp = cp * 10 + (uint32_t)(*q - '0');
	}
	if (!digits || q >= end || *q != ';' || cp > 0x10ffff ||
	    (cp < 0x20 && cp != 9 && cp != 10 && cp != 13) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;
	return (size_t)(q + 1 - p);
}

/* Character data from p to end: no '<', no ']]>' and valid references. */
static bool chardata_ok(const char *p, const char *end)
{
	size_t n;

	while (p < end) {
		if (*p == '<')
			return false;
		if (*p == '&') {
			if (!(n = reference(p, end)))
				return false;
			p += n;
			continue;
		}
		if (*p == ']' && end - p >= 3 && p[1] == ']' && p[2] == '>')
			return false;
		p++;
	}
	return true;
}

static const char *find(const char *p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	while ((size_t)(end - p) >= n) {
		if (memcmp(p, lit, n) == 0)
			return p;
		p++;
	}
	return NULL;
}

/* ------------------------------------------------------------ output */

/* Leave [from, to) out of the copy. */
static int cut(struct px *x, const char *from, const char *to)
{
	int rc = buf_append(x->out, x->copied, (size_t)(from - x->copied));

	x->copied = to;
	return rc;
}

static bool scrubbed(const struct px *x, struct str name)
{
	struct str local = name;
	long c = str_chr(name, ':');
	unsigned i;

	if (c >= 0)
		local = str_skip(name, (size_t)c + 1);
	for (i = 0; i < sizeof(scrub_names) / sizeof(scrub_names[0]); i++)
		if ((x->flags & scrub_names[i].flag) &&
		    str_caseeq_cstr(local, scrub_names[i].name))
			return true;
	return false;
}

/* -------------------------------------------------------------- tags */

/* Attributes up to '>' or "/>"; *emptyp set for "/>".  Returns the
 * position after the tag, NULL when malformed. */
static const char *attributes(struct px *x, const char *p, bool *emptyp)
{
	unsigned nattr = 0;
	size_t n;
	char q;
	const char *v;

	for (;;) {
		bool ws = false;

		while (p < x->end && is_ws(*p)) {
			p++;
			ws = true;
		}
		if (p >= x->end)
			return NULL;
		if (*p == '>' || (*p == '/' && p + 1 < x->end && p[1] == '>')) {
			*emptyp = *p == '/';
			return p + (*emptyp ? 2 : 1);
		}
		if (!ws || ++nattr > PIDF_MAX_ATTRS || !(n = read_name(x, p)))
			return NULL;
		p += n;
		while (p < x->end && is_ws(*p))
			p++;
		if (p >= x->end || *p++ != '=')
			return NULL;
		while (p < x->end && is_ws(*p))
			p++;
		if (p >= x->end || (*p != '"' && *p != '\''))
			return NULL;
		q = *p++;
		v = memchr(p, q, (size_t)(x->end - p));
		if (!v || !chardata_ok(p, v))
			return NULL;
		p = v + 1;
	}
}

static const char *start_tag(struct px *x, const char *lt)
{
	const char *p = lt + 1;
	struct str name;
	bool empty = false;
	size_t n = read_name(x, p);

	if (!n || x->root_done || ++x->elems > PIDF_MAX_ELEMS)
		return NULL;
	name = str_make(p, n);
	if (x->depth == 0) {
		long c = str_chr(name, ':');
		struct str local =
			c >= 0 ? str_skip(name, (size_t)c + 1) : name;

		if (!str_eq_cstr(local, "presence"))
			return NULL;
		x->root_open = true;
	}
	p = attributes(x, p + n, &empty);
	if (!p)
		return NULL;
	if (!x->skip && x->depth > 0 && scrubbed(x, name)) {
		x->removed++;
		if (empty) {
			if (cut(x, lt, p))
				return NULL;
		} else {
			x->skip = x->depth + 1;
			x->cut = lt;
		}
	}
	if (empty) {
		if (x->depth == 0)
			x->root_done = true;
		return p;
	}
	if (x->depth >= PIDF_MAX_DEPTH)
		return NULL;
	x->name[x->depth++] = name;
	return p;
}

static const char *end_tag(struct px *x, const char *lt)
{
	const char *p = lt + 2;
	size_t n = read_name(x, p);

	if (!n || !x->depth || !str_eq(str_make(p, n), x->name[x->depth - 1]))
		return NULL;
	p += n;
	while (p < x->end && is_ws(*p))
		p++;
	if (p >= x->end || *p != '>')
		return NULL;
	p++;
	x->depth--;
	if (x->skip && x->depth + 1 == x->skip) {
		x->skip = 0;
		if (cut(x, x->cut, p))
			return NULL;
	}
	if (x->depth == 0)
		x->root_done = true;
	return p;
}

/* "<?...?>": the XML declaration is kept at the very start only; any
 * other processing instruction is dropped. */
static const char *pi(struct px *x, const char *lt, bool first)
{
	const char *e = find(lt + 2, x->end, "?>");

	if (!e)
		return NULL;
	e += 2;
	if (first && x->end - lt >= 6 && memcmp(lt, "<?xml", 5) == 0 &&
	    is_ws(lt[5]))
		return e;
	if (x->end - lt >= 5 && (lt[2] | 0x20) == 'x' &&
	    (lt[3] | 0x20) == 'm' && (lt[4] | 0x20) == 'l' &&
	    (x->end - lt == 5 || !name_char((unsigned char)lt[5])))
		return NULL; /* "xml" target reserved, only first */
	if (!x->skip && cut(x, lt, e))
		return NULL;
	return e;
}

static const char *markup(struct px *x, const char *lt, bool first)
{
	const char *e;

	if (x->end - lt >= 2 && lt[1] == '?')
		return pi(x, lt, first);
	if (x->end - lt >= 4 && memcmp(lt, "<!--", 4) == 0) {
		e = find(lt + 4, x->end, "-->");
		if (!e)
			return NULL;
		e += 3;
		if (!x->skip && cut(x, lt, e))
			return NULL;
		return e;
	}
	if (x->end - lt >= 9 && memcmp(lt, "<![CDATA[", 9) == 0) {
		if (!x->depth)
			return NULL;
		e = find(lt + 9, x->end, "]]>");
		return e ? e + 3 : NULL;
	}
	if (x->end - lt >= 2 && lt[1] == '!')
		return NULL; /* DOCTYPE, ENTITY...: never */
	if (x->end - lt >= 2 && lt[1] == '/')
		return end_tag(x, lt);
	return start_tag(x, lt);
}

int pidf_scrub(struct buf *out, struct str xml, unsigned flags)
{
	struct px x;
	const char *p, *t;
	bool first = true;

	if (!out || (!xml.p && xml.len))
		return -EINVAL;
	if (xml.len > PIDF_MAX_SIZE)
		return -EMSGSIZE;
	memset(&x, 0, sizeof(x));
	x.base = x.p = x.copied = xml.p ? xml.p : "";
	x.end = x.base + xml.len;
	x.flags = flags;
	x.out = out;
	p = x.base;
	if (xml.len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* byte order mark */
	if (!text_ok((const unsigned char *)p, (size_t)(x.end - p)))
		return -EINVAL;
	while (p < x.end) {
		if (*p == '<') {
			p = markup(&x, p, first);
			if (!p)
				return -EINVAL;
			first = false;
			continue;
		}
		t = memchr(p, '<', (size_t)(x.end - p));
		if (!t)
			t = x.end;
		if (!x.depth) {
			/* Outside the root: white space only. */
			for (; p < t; p++)
				if (!is_ws(*p))
					return -EINVAL;
		} else if (!chardata_ok(p, t)) {
			return -EINVAL;
		}
		p = t;
		first = false;
	}
	if (x.depth || !x.root_done)
		return -EINVAL;
	if (buf_append(out, x.copied, (size_t)(x.end - x.copied)))
		return -ENOMEM;
	return (int)x.removed;
}
