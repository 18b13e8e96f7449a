/*
 * conf_check.c - the checks of a table of options rather than of a
 * document: conf_schema_verify (the self-check tests run on every table:
 * defaults parse and keep their bounds, names unique, fields inside
 * their struct, help present) and conf_schema_reload_check (which
 * options that need a restart differ between two configurations).
 */
#include "core/conf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/conf_int.h"

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
	if (o->def && conf__parse_scalar(o, &scratch, o->def, strlen(o->def),
					 false, why, whysz))
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
	char list[CONF_ERR_LEN]; /* "a, b, c" of the options found */
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
