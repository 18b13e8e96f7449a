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
 * One scalar's parsing is in conf_scalar.c; the checks of a table
 * itself (conf_schema_verify, conf_schema_reload_check) in conf_check.c.
 */
#include "core/conf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "core/conf_int.h"

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

/* ------------------------------------------------------------ the walk */

static int walk_section(struct conf_ctx *c, const struct conf_section *sec,
			char *obj, yaml_node_t *map, yaml_mark_t where);

static int set_scalar(struct conf_ctx *c, const struct conf_opt *o, char *obj,
		      yaml_node_t *v)
{
	char why[CONF__WHY_LEN] = "", want[CONF__WHY_LEN];
	int rc;

	conf__describe(o, want, sizeof(want));
	rc = expect(c, v, YAML_SCALAR_NODE, want);
	if (rc)
		return rc;
	if (conf__parse_scalar(
		    o, obj + o->off, (const char *)v->data.scalar.value,
		    v->data.scalar.length, node_is_null(v), why, sizeof(why)))
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
		else if (conf__parse_string(
				 dst, o->len, 1, o->vcheck,
				 (const char *)item->data.scalar.value,
				 item->data.scalar.length, why, sizeof(why)))
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
	else if (o->def &&
		 conf__parse_scalar(o, obj + o->off, o->def, strlen(o->def),
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
