/*
 * conf.c - the generic schema walk: fill a C struct from a libyaml
 * document as a table of struct conf_opt describes it (STYLE.md 9).
 *
 * What it refuses, each with "file:line:col: key.path: reason":
 * unknown keys (with a "did you mean" hint), duplicate keys, wrong node
 * kinds, explicit tags, values that do not parse, values out of bounds,
 * strings too long or not printable UTF-8, lists too long or too short,
 * missing required keys, and whatever a table's check hooks refuse.
 * The walk is driven by the table, not by the document, so its depth and
 * breadth are bounded by the schema whatever the input (aliases cannot
 * make it loop).  It does not allocate; libyaml does, in conf_yaml.c.
 */
#include "core/conf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

enum {
	CONF__MAX_OPTS = 64,  /* options in one section table */
	CONF__PATH_MAX = 256, /* key path in messages, e.g. zones[1].name */
	CONF__KEY_SHOWN = 48, /* bytes of an unknown key echoed in a path */
	CONF__WHY_LEN = 200,  /* one reason */
	CONF__SCRATCH = 16384, /* largest field conf_schema_verify parses */
};

struct conf_ctx {
	yaml_document_t *doc;
	const char *name; /* file name for messages */
	char *err;
	size_t errsz;
	char path[CONF__PATH_MAX];
	size_t plen;
	yaml_node_t *node; /* section being checked, may be NULL */
	yaml_mark_t mark;  /* where it is (or its parent) */
};

/* ------------------------------------------------------------ messages */

static size_t path_push(struct conf_ctx *c, const char *key, size_t klen)
{
	size_t old = c->plen, i, room;

	if (c->plen && c->plen < sizeof(c->path) - 1)
		c->path[c->plen++] = '.';
	room = sizeof(c->path) - 1 - c->plen;
	if (klen == 0) {
		key = "\"\""; /* an empty key must still show in the path */
		klen = 2;
	}
	/* Keys can be hostile: show a printable prefix only. */
	for (i = 0; i < klen && i < CONF__KEY_SHOWN && room; i++, room--) {
		unsigned char ch = (unsigned char)key[i];

		c->path[c->plen++] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	if (i < klen && room >= 3) {
		memcpy(c->path + c->plen, "...", 3);
		c->plen += 3;
	}
	c->path[c->plen] = '\0';
	return old;
}

static size_t path_push_index(struct conf_ctx *c, size_t i)
{
	size_t old = c->plen;
	int n = snprintf(c->path + c->plen, sizeof(c->path) - c->plen, "[%zu]",
			 i);

	if (n > 0)
		c->plen += (size_t)n < sizeof(c->path) - c->plen
				   ? (size_t)n
				   : sizeof(c->path) - c->plen - 1;
	return old;
}

static void path_pop(struct conf_ctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

__attribute__((format(printf, 3, 4))) static int
fail_at(struct conf_ctx *c, yaml_mark_t m, const char *fmt, ...)
{
	char why[CONF__WHY_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	conf__format(c->err, c->errsz, c->name, m.line, m.column, c->path, why);
	return -EINVAL;
}

/* ------------------------------------------------------------ yaml nodes */

static yaml_node_t *node_at(struct conf_ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static bool node_is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	size_t i;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (n->data.scalar.length == strlen(nulls[i]) &&
		    !memcmp(n->data.scalar.value, nulls[i],
			    n->data.scalar.length))
			return true;
	return false;
}

static const char *node_kind(const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a sequence";
	return node_is_null(n) ? "an empty value" : "a scalar";
}

/* Only the implicit tags: an explicit !!binary or !foo would change what
 * a value means, and we do not interpret tags. */
static bool node_tag_ok(const yaml_node_t *n)
{
	const char *want =
		n->type == YAML_MAPPING_NODE    ? YAML_DEFAULT_MAPPING_TAG
		: n->type == YAML_SEQUENCE_NODE ? YAML_DEFAULT_SEQUENCE_TAG
						: YAML_DEFAULT_SCALAR_TAG;

	return n->tag && !strcmp((const char *)n->tag, want);
}

static int expect(struct conf_ctx *c, const yaml_node_t *n,
		  yaml_node_type_t type, const char *what)
{
	if (n->type != type)
		return fail_at(c, n->start_mark, "expected %s, got %s", what,
			       node_kind(n));
	if (!node_tag_ok(n))
		return fail_at(c, n->start_mark,
			       "explicit YAML tags are not supported");
	return 0;
}

static yaml_node_t *map_get(struct conf_ctx *c, yaml_node_t *map,
			    const char *key, size_t klen)
{
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(c, p->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    k->data.scalar.length == klen &&
		    !memcmp(k->data.scalar.value, key, klen))
			return node_at(c, p->value);
	}
	return NULL;
}

static yaml_node_t *seq_get(struct conf_ctx *c, yaml_node_t *seq, size_t i)
{
	if (!seq || seq->type != YAML_SEQUENCE_NODE ||
	    i >= (size_t)(seq->data.sequence.items.top -
			  seq->data.sequence.items.start))
		return NULL;
	return node_at(c, seq->data.sequence.items.start[i]);
}

/* ------------------------------------------------------------ scalars */

/* Printable UTF-8 as YAML allows it in a file: no C0/C1 controls, no
 * surrogates, no BOM or non-characters.  This also keeps CR/LF out of
 * values that end up in SIP headers (User-Agent). */
static const char *check_text(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp = s[i];
		size_t k, need;

		if (cp < 0x80)
			need = 0;
		else if (cp >= 0xc2 && cp < 0xe0)
			need = 1;
		else if (cp >= 0xe0 && cp < 0xf0)
			need = 2;
		else if (cp >= 0xf0 && cp < 0xf5)
			need = 3;
		else
			return "is not valid UTF-8";
		if (need > n - i - 1)
			return "is not valid UTF-8";
		if (need)
			cp &= 0x3fu >> need;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return "is not valid UTF-8";
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return "is not valid UTF-8";
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0xfeff ||
		    cp == 0xfffe || cp == 0xffff)
			return "contains a control character";
		i += need + 1;
	}
	return NULL;
}

static int parse_string(char *dst, size_t dstsz, size_t minlen,
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
static void describe(const struct conf_opt *o, char *buf, size_t bufsz)
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
static int parse_scalar(const struct conf_opt *o, void *dst, const char *s,
			size_t n, bool null, char *why, size_t whysz)
{
	char want[CONF__WHY_LEN - 40], lo[32], hi[32];
	const struct conf_enum *e;
	int64_t v;
	int rc;

	describe(o, want, sizeof(want));
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
		return parse_string(dst, o->len, (size_t)o->min, o->vcheck, s,
				    n, why, whysz);
	default:
		break;
	}
bad:
	snprintf(why, whysz, "expected %s%s", want,
		 null ? ", got an empty value" : "");
	return -EINVAL;
}

/* ------------------------------------------------------------ the walk */

static int walk_section(struct conf_ctx *c, const struct conf_section *sec,
			char *obj, yaml_node_t *map, yaml_mark_t where);

static int set_scalar(struct conf_ctx *c, const struct conf_opt *o, char *obj,
		      yaml_node_t *v)
{
	char why[CONF__WHY_LEN] = "", want[CONF__WHY_LEN];
	int rc;

	describe(o, want, sizeof(want));
	rc = expect(c, v, YAML_SCALAR_NODE, want);
	if (rc)
		return rc;
	if (parse_scalar(o, obj + o->off, (const char *)v->data.scalar.value,
			 v->data.scalar.length, node_is_null(v), why,
			 sizeof(why)))
		return fail_at(c, v->start_mark, "%s", why);
	return 0;
}

/* A sequence for a list option: count bounds, then each element. */
static int walk_list(struct conf_ctx *c, const struct conf_opt *o, char *obj,
		     yaml_node_t *seq)
{
	size_t n = 0, i, old;
	int rc = 0;

	/* "key:" with nothing after it is an empty list. */
	if (!node_is_null(seq))
		rc = expect(c, seq, YAML_SEQUENCE_NODE, "a sequence");
	if (rc)
		return rc;
	if (seq->type == YAML_SEQUENCE_NODE)
		n = (size_t)(seq->data.sequence.items.top -
			     seq->data.sequence.items.start);
	if (n < (size_t)o->min)
		return fail_at(c, seq->start_mark,
			       "at least %" PRId64 " %s required", o->min,
			       o->min == 1 ? "entry" : "entries");
	for (i = 0; i < n && rc == 0; i++) {
		yaml_node_t *item = seq_get(c, seq, i);
		char *dst = obj + o->off + i * o->len;
		char why[CONF__WHY_LEN] = "";

		old = path_push_index(c, i);
		if (!item)
			rc = fail_at(c, seq->start_mark, "invalid YAML node");
		else if (i >= (size_t)o->max)
			rc = fail_at(c, item->start_mark,
				     "too many entries (max %" PRId64 ")",
				     o->max);
		else if (o->type == CONF_T_SECLIST)
			rc = walk_section(c, o->sub, dst, item,
					  item->start_mark);
		else if ((rc = expect(c, item, YAML_SCALAR_NODE, "a string")))
			;
		else if (parse_string(dst, o->len, 1, o->vcheck,
				      (const char *)item->data.scalar.value,
				      item->data.scalar.length, why,
				      sizeof(why)))
			rc = fail_at(c, item->start_mark, "%s", why);
		path_pop(c, old);
	}
	if (rc == 0)
		memcpy(obj + o->count_off, &n, sizeof(n));
	return rc;
}

static int set_value(struct conf_ctx *c, const struct conf_opt *o, char *obj,
		     yaml_node_t *v)
{
	switch (o->type) {
	case CONF_T_SECTION:
		/* "key:" with nothing after it (all commented out): defaults.
		 */
		return walk_section(c, o->sub, obj + o->off,
				    node_is_null(v) ? NULL : v, v->start_mark);
	case CONF_T_STRLIST:
	case CONF_T_SECLIST:
		return walk_list(c, o, obj, v);
	default:
		return set_scalar(c, o, obj, v);
	}
}

/* A key the document leaves out: its default, or an error if required. */
static int set_default(struct conf_ctx *c, const struct conf_opt *o, char *obj,
		       yaml_mark_t where)
{
	char why[CONF__WHY_LEN] = "";
	size_t old = path_push(c, o->name, strlen(o->name));
	int rc = 0;

	if ((o->flags & CONF_REQUIRED) ||
	    ((o->type == CONF_T_STRLIST || o->type == CONF_T_SECLIST) &&
	     o->min > 0))
		rc = fail_at(c, where, "missing required key");
	else if (o->type == CONF_T_SECTION)
		rc = walk_section(c, o->sub, obj + o->off, NULL, where);
	else if (o->def && parse_scalar(o, obj + o->off, o->def, strlen(o->def),
					false, why, sizeof(why)))
		rc = fail_at(c, where, "bad default in table: %.150s", why);
	path_pop(c, old);
	return rc;
}

/* Levenshtein distance, for "did you mean"; long keys get no hint. */
static size_t distance(const char *a, size_t an, const char *b)
{
	size_t row[CONF__KEY_SHOWN + 1], bn = strlen(b), i, j;

	if (an > CONF__KEY_SHOWN || bn > CONF__KEY_SHOWN)
		return SIZE_MAX;
	for (j = 0; j <= bn; j++)
		row[j] = j;
	for (i = 1; i <= an; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= bn; j++) {
			size_t up = row[j],
			       best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[bn];
}

static int unknown_key(struct conf_ctx *c, const struct conf_section *sec,
		       const yaml_node_t *k)
{
	const struct conf_opt *o, *best = NULL;
	size_t d, bestd = 3; /* a typo is one or two edits away */

	for (o = sec->opts; o->name; o++) {
		d = distance((const char *)k->data.scalar.value,
			     k->data.scalar.length, o->name);
		/* Only when most of the name survives: "a" is not "ab". */
		if (d < bestd && 2 * d < strlen(o->name)) {
			bestd = d;
			best = o;
		}
	}
	if (best)
		return fail_at(c, k->start_mark,
			       "unknown key (did you mean '%s'?)", best->name);
	return fail_at(c, k->start_mark, "unknown key");
}

static int walk_pair(struct conf_ctx *c, const struct conf_section *sec,
		     char *obj, const yaml_node_pair_t *p, bool *seen)
{
	yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
	const struct conf_opt *o;
	size_t i, old;
	int rc;

	if (!k || !v)
		return fail_at(c, c->mark, "invalid YAML node");
	rc = expect(c, k, YAML_SCALAR_NODE, "a key");
	if (rc)
		return rc;
	for (i = 0, o = sec->opts; o->name; o++, i++)
		if (strlen(o->name) == k->data.scalar.length &&
		    !memcmp(o->name, k->data.scalar.value,
			    k->data.scalar.length))
			break;
	old = path_push(c, (const char *)k->data.scalar.value,
			k->data.scalar.length);
	if (i >= CONF__MAX_OPTS)
		rc = fail_at(c, k->start_mark, "option table too large");
	else if (!o->name)
		rc = unknown_key(c, sec, k);
	else if (seen[i])
		rc = fail_at(c, k->start_mark, "duplicate key");
	else {
		seen[i] = true;
		rc = set_value(c, o, obj, v);
	}
	path_pop(c, old);
	return rc;
}

/*
 * Fill one section instance from map (NULL when the key is absent: then
 * only defaults apply, and "missing" errors point at where).
 */
static int walk_section(struct conf_ctx *c, const struct conf_section *sec,
			char *obj, yaml_node_t *map, yaml_mark_t where)
{
	bool seen[CONF__MAX_OPTS] = {false};
	yaml_node_pair_t *p;
	size_t i;
	int rc;

	if (map) {
		rc = expect(c, map, YAML_MAPPING_NODE, "a mapping");
		if (rc)
			return rc;
		where = map->start_mark;
		c->mark = where;
		for (p = map->data.mapping.pairs.start;
		     p < map->data.mapping.pairs.top; p++) {
			rc = walk_pair(c, sec, obj, p, seen);
			if (rc)
				return rc;
		}
	}
	for (i = 0; sec->opts[i].name && i < CONF__MAX_OPTS; i++) {
		if (seen[i])
			continue;
		rc = set_default(c, &sec->opts[i], obj, where);
		if (rc)
			return rc;
	}
	if (!sec->check)
		return 0;
	c->node = map;
	c->mark = where;
	return sec->check(c, obj);
}

/*
 * conf_fail: find relpath below the section being checked to point at
 * the offending value; stop at the deepest node that exists.
 */
int conf_fail(struct conf_ctx *c, const char *relpath, const char *fmt, ...)
{
	char why[CONF__WHY_LEN];
	yaml_node_t *n = c->node;
	yaml_mark_t m = c->mark;
	const char *r = relpath;
	size_t old = c->plen;
	va_list ap;

	while (n && *r) {
		yaml_node_t *next;

		if (*r == '[') {
			char *end;
			unsigned long idx = strtoul(r + 1, &end, 10);

			next = seq_get(c, n, idx);
			r = *end == ']' ? end + 1 : end;
		} else {
			size_t klen = strcspn(r, ".[");

			next = map_get(c, n, r, klen);
			r += klen;
		}
		if (*r == '.')
			r++;
		if (!next)
			break;
		n = next;
		m = n->start_mark;
	}
	if (*relpath && *relpath != '[' && c->plen &&
	    c->plen < sizeof(c->path) - 1)
		c->path[c->plen++] = '.';
	snprintf(c->path + c->plen, sizeof(c->path) - c->plen, "%s", relpath);
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	conf__format(c->err, c->errsz, c->name, m.line, m.column, c->path, why);
	path_pop(c, old);
	return -EINVAL;
}

int conf_schema_load(const struct conf_section *root, void *obj,
		     const char *name, const char *text, size_t len, char *err,
		     size_t errsz)
{
	struct conf_ctx c = {0};
	yaml_document_t doc;
	yaml_mark_t top = {0, 0, 0};
	int rc;

	if (!root || !obj || !name || (!text && len))
		return -EINVAL;
	if (err && errsz)
		err[0] = '\0';
	memset(obj, 0, root->size);
	if (len > CONF_MAX_FILE) {
		snprintf(err, errsz, "%s: larger than %d bytes", name,
			 CONF_MAX_FILE);
		return -EINVAL;
	}
	rc = conf__yaml_load(&doc, name, text ? text : "", len, err, errsz);
	if (rc)
		return rc;
	c.doc = &doc;
	c.name = name;
	c.err = err;
	c.errsz = errsz;
	rc = walk_section(&c, root, obj, yaml_document_get_root_node(&doc),
			  top);
	yaml_document_delete(&doc);
	return rc;
}

/* ------------------------------------------------------------ table checks */

static int verify_fail(char *err, size_t errsz, const struct conf_section *sec,
		       const struct conf_opt *o, const char *why)
{
	snprintf(err, errsz, "table %s, option %s: %s",
		 sec->name ? sec->name : "?", o && o->name ? o->name : "?",
		 why);
	return -EINVAL;
}

static size_t field_size(const struct conf_opt *o)
{
	switch (o->type) {
	case CONF_T_BOOL:
		return sizeof(bool);
	case CONF_T_ENUM:
		return sizeof(int);
	case CONF_T_STRING:
	case CONF_T_SECTION:
		return o->len;
	case CONF_T_STRLIST:
	case CONF_T_SECLIST:
		return (size_t)o->max * o->len;
	default:
		return sizeof(int64_t);
	}
}

static const char *verify_opt(const struct conf_section *sec,
			      const struct conf_opt *o, char *why, size_t whysz)
{
	union {
		int64_t i;
		char s[CONF__SCRATCH];
	} scratch;
	bool list = o->type == CONF_T_STRLIST || o->type == CONF_T_SECLIST;

	if (!o->help || !*o->help)
		return "no help text";
	if (o->off + field_size(o) > sec->size ||
	    (list && o->count_off + sizeof(size_t) > sec->size))
		return "field outside its struct";
	if (o->min > o->max && o->type != CONF_T_STRING &&
	    o->type != CONF_T_BOOL && o->type != CONF_T_ENUM &&
	    o->type != CONF_T_SECTION)
		return "min above max";
	if ((o->flags & CONF_SECRET) && o->type != CONF_T_STRING)
		return "only strings can be secret";
	if (o->type == CONF_T_ENUM && (!o->enums || !o->enums[0].name))
		return "enum without values";
	if ((o->type == CONF_T_STRING || list) &&
	    (o->len == 0 || o->len > sizeof(scratch)))
		return "bad element size";
	if (o->type == CONF_T_SECTION || o->type == CONF_T_SECLIST) {
		if (!o->sub || o->sub->size != o->len)
			return "sub-table size differs from the field";
	}
	if ((list || o->type == CONF_T_SECTION) && o->def)
		return "lists and sections take no default";
	if (o->def && parse_scalar(o, &scratch, o->def, strlen(o->def), false,
				   why, whysz))
		return why;
	return NULL;
}

static int verify_section(const struct conf_section *sec, unsigned depth,
			  char *err, size_t errsz)
{
	char why[CONF__WHY_LEN];
	const struct conf_opt *o, *p;
	const char *bad;
	size_t n = 0;
	int rc;

	if (depth > 8 || !sec->opts || !sec->size)
		return verify_fail(err, errsz, sec, NULL, "bad section");
	for (o = sec->opts; o->name; o++, n++) {
		if (n >= CONF__MAX_OPTS)
			return verify_fail(err, errsz, sec, o,
					   "too many options");
		for (p = sec->opts; p < o; p++)
			if (!strcmp(p->name, o->name))
				return verify_fail(err, errsz, sec, o,
						   "duplicate name");
		bad = verify_opt(sec, o, why, sizeof(why));
		if (bad)
			return verify_fail(err, errsz, sec, o, bad);
		if (o->sub) {
			rc = verify_section(o->sub, depth + 1, err, errsz);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/*
 * Check a table for mistakes the compiler cannot see: defaults that do
 * not parse or break their own bounds, duplicate names, fields outside
 * their struct, missing help.  Tests run it on every table.
 */
int conf_schema_verify(const struct conf_section *root, char *err, size_t errsz)
{
	if (!root)
		return -EINVAL;
	return verify_section(root, 0, err, errsz);
}

/* ------------------------------------------------------------ reload */

struct conf__diff {
	char path[CONF__PATH_MAX];
	size_t plen;
	char list[CONF_ERR_LEN];	/* "a, b, c" of the options found */
	size_t llen, found;
};

/* Append ".name" (name != NULL) or "[i]" to the path; return the old end. */
static size_t diff_push(struct conf__diff *d, const char *name, size_t i)
{
	size_t old = d->plen, room = sizeof(d->path) - d->plen;
	int n;

	if (name)
		n = snprintf(d->path + d->plen, room, "%s%s",
			     d->plen ? "." : "", name);
	else
		n = snprintf(d->path + d->plen, room, "[%zu]", i);
	if (n > 0 && (size_t)n < room)
		d->plen += (size_t)n;
	return old;
}

/* d->path cannot change on reload: note it and go on, so that the
 * operator learns every option that needs a restart at once. */
static void diff_note(struct conf__diff *d)
{
	size_t room = sizeof(d->list) - d->llen;
	int n;

	d->path[d->plen] = '\0';
	n = snprintf(d->list + d->llen, room, "%s%.*s", d->found ? ", " : "",
		     (int)d->plen, d->path);
	if (n > 0 && (size_t)n < room)
		d->llen += (size_t)n;
	d->found++;
}

static bool field_equal(const struct conf_opt *o, const char *a, const char *b)
{
	size_t na, nb, i;

	switch (o->type) {
	case CONF_T_STRING:
		return strcmp(a + o->off, b + o->off) == 0;
	case CONF_T_STRLIST:
		memcpy(&na, a + o->count_off, sizeof(na));
		memcpy(&nb, b + o->count_off, sizeof(nb));
		if (na != nb)
			return false;
		for (i = 0; i < na; i++)
			if (strcmp(a + o->off + i * o->len,
				   b + o->off + i * o->len))
				return false;
		return true;
	default:
		return memcmp(a + o->off, b + o->off, field_size(o)) == 0;
	}
}

static void diff_section(struct conf__diff *d, const struct conf_section *sec,
			 const char *a, const char *b);

static void diff_opt(struct conf__diff *d, const struct conf_opt *o,
		     const char *a, const char *b)
{
	size_t na, nb, i, old;

	if (o->type == CONF_T_SECTION) {
		diff_section(d, o->sub, a + o->off, b + o->off);
		return;
	}
	if (o->type != CONF_T_SECLIST) {
		if (!(o->flags & CONF_RELOAD) && !field_equal(o, a, b))
			diff_note(d);
		return;
	}
	memcpy(&na, a + o->count_off, sizeof(na));
	memcpy(&nb, b + o->count_off, sizeof(nb));
	if (na != nb && !(o->flags & CONF_RELOAD)) {
		diff_note(d);
		return;
	}
	for (i = 0; i < na && i < nb; i++) {
		old = diff_push(d, NULL, i);
		diff_section(d, o->sub, a + o->off + i * o->len,
			     b + o->off + i * o->len);
		d->plen = old;
	}
}

static void diff_section(struct conf__diff *d, const struct conf_section *sec,
			 const char *a, const char *b)
{
	const struct conf_opt *o;
	size_t old;

	for (o = sec->opts; o->name; o++) {
		old = diff_push(d, o->name, 0);
		diff_opt(d, o, a, b);
		d->plen = old;
		d->path[old] = '\0';
	}
}

/*
 * 0 when next differs from cur only in options marked CONF_RELOAD (and
 * in the length of lists marked so); else -EBUSY naming every option
 * that differs and needs a restart ("a: cannot change on reload, restart
 * needed" for one, "a, b: cannot change ..." for several).
 */
int conf_schema_reload_check(const struct conf_section *root, const void *cur,
			     const void *next, char *err, size_t errsz)
{
	struct conf__diff d;

	if (!root || !cur || !next)
		return -EINVAL;
	memset(&d, 0, sizeof(d));
	diff_section(&d, root, cur, next);
	if (d.found == 0)
		return 0;
	snprintf(err, errsz, "%s: cannot change on reload, restart needed",
		 d.list);
	return -EBUSY;
}
