/*
 * conf_yaml.c - the YAML side of configuration loading: reading the file,
 * turning its text into a libyaml document with line/column marks, the
 * error line format, and writing values back out (dump, reference).
 *
 * The schema walk itself is in conf.c; nothing here knows any option.
 */
#include "core/conf.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "core/mem.h"

/*
 * Build "name:line:col: path: reason" into err.  Line and column arrive
 * 0-based from libyaml and are printed 1-based; a NULL path gives the
 * form used for syntax errors.  Truncation is harmless: err is always
 * NUL-terminated.
 */
void conf__format(char *err, size_t errsz, const char *name, size_t line,
		  size_t col, const char *path, const char *reason)
{
	if (!err || errsz == 0)
		return;
	if (path)
		snprintf(err, errsz, "%s:%zu:%zu: %s: %s", name, line + 1,
			 col + 1, *path ? path : "(top)", reason);
	else
		snprintf(err, errsz, "%s:%zu:%zu: %s", name, line + 1, col + 1,
			 reason);
}

/*
 * The reader (encoding, control characters) reports a byte offset, not a
 * mark: count lines up to it so the message still has line and column.
 */
static void offset_mark(const char *text, size_t len, size_t off,
			yaml_mark_t *m)
{
	size_t i;

	m->line = 0;
	m->column = 0;
	for (i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			m->line++;
			m->column = 0;
		} else {
			m->column++;
		}
	}
}

static int syntax_error(yaml_parser_t *p, const char *name, const char *text,
			size_t len, char *err, size_t errsz)
{
	char why[256];
	const char *problem = p->problem ? p->problem : "invalid YAML";
	yaml_mark_t m = p->problem_mark;

	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (p->error == YAML_READER_ERROR) {
		offset_mark(text, len, p->problem_offset, &m);
		if (p->problem_value != -1)
			snprintf(why, sizeof(why), "%s (#x%X)", problem,
				 (unsigned)p->problem_value);
		else
			snprintf(why, sizeof(why), "%s", problem);
	} else if (p->context) {
		snprintf(why, sizeof(why), "%s %s", problem, p->context);
	} else {
		snprintf(why, sizeof(why), "%s", problem);
	}
	conf__format(err, errsz, name, m.line, m.column, NULL, why);
	return -EINVAL;
}

/*
 * libyaml's scanner costs O(depth) per token, so a 1 MiB "[[[[..." takes
 * minutes, and its loader looks each alias up in a list of all anchors.
 * An event pass that stops at CONF__MAX_DEPTH levels or CONF__MAX_ANCHORS
 * anchors keeps loading linear; our own schema nests five levels deep.
 */
enum { CONF__MAX_DEPTH = 32, CONF__MAX_ANCHORS = 256 };

static bool has_anchor(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return ev->data.scalar.anchor != NULL;
	case YAML_SEQUENCE_START_EVENT:
		return ev->data.sequence_start.anchor != NULL;
	case YAML_MAPPING_START_EVENT:
		return ev->data.mapping_start.anchor != NULL;
	default:
		return false;
	}
}

static int check_depth(const char *name, const char *text, size_t len,
		       char *err, size_t errsz)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	yaml_event_type_t type;
	int depth = 0, anchors = 0, rc = 0;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	do {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = syntax_error(&parser, name, text, len, err, errsz);
			break;
		}
		type = ev.type;
		if (type == YAML_SEQUENCE_START_EVENT ||
		    type == YAML_MAPPING_START_EVENT)
			depth++;
		else if (type == YAML_SEQUENCE_END_EVENT ||
			 type == YAML_MAPPING_END_EVENT)
			depth--;
		anchors += has_anchor(&ev);
		if (depth > CONF__MAX_DEPTH || anchors > CONF__MAX_ANCHORS) {
			conf__format(err, errsz, name, ev.start_mark.line,
				     ev.start_mark.column, NULL,
				     depth > CONF__MAX_DEPTH
					     ? "nested too deeply"
					     : "too many anchors");
			rc = -EINVAL;
		}
		yaml_event_delete(&ev);
	} while (rc == 0 && type != YAML_STREAM_END_EVENT);
	yaml_parser_delete(&parser);
	return rc;
}

/*
 * Parse text as exactly one YAML document into *doc, which the caller
 * deletes with yaml_document_delete() after a 0 return (and must not
 * after an error).  A second document in the stream is refused so that a
 * stray "---" cannot hide half of a file.  Returns 0, -EINVAL with err
 * set, or -ENOMEM.
 */
int conf__yaml_load(struct yaml_document_s *doc, const char *name,
		    const char *text, size_t len, char *err, size_t errsz)
{
	yaml_parser_t parser;
	yaml_document_t extra;
	int rc = check_depth(name, text, len, err, errsz);

	if (rc)
		return rc;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, doc)) {
		rc = syntax_error(&parser, name, text, len, err, errsz);
		goto out;
	}
	if (!yaml_document_get_root_node(doc))
		goto out; /* empty stream: nothing follows */
	if (!yaml_parser_load(&parser, &extra)) {
		rc = syntax_error(&parser, name, text, len, err, errsz);
		yaml_document_delete(doc);
		goto out;
	}
	if (yaml_document_get_root_node(&extra)) {
		conf__format(err, errsz, name, extra.start_mark.line,
			     extra.start_mark.column, NULL,
			     "only one YAML document is allowed");
		rc = -EINVAL;
		yaml_document_delete(doc);
	}
	yaml_document_delete(&extra);
out:
	yaml_parser_delete(&parser);
	return rc;
}

static int read_fd(int fd, char *buf, size_t cap, size_t *lenp)
{
	size_t len = 0;

	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*lenp = len;
	return 0;
}

/*
 * Read the whole file at path.  Files over CONF_MAX_FILE bytes are
 * refused (-EFBIG): a configuration is small, and a huge one is a mistake
 * such as pointing -c at a log.  On success *textp is a mem_alloc'd
 * buffer the caller frees with mem_free.  Errors read "path: reason".
 */
int conf__read_file(char **textp, size_t *lenp, const char *path, char *err,
		    size_t errsz)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, rc;

	*textp = NULL;
	*lenp = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errsz, "%s: %s", path, strerror(-rc));
		return rc;
	}
	/* One byte more than allowed tells "too big" from "exactly max". */
	buf = mem_alloc((size_t)CONF_MAX_FILE + 1);
	if (!buf) {
		rc = -ENOMEM;
		snprintf(err, errsz, "%s: out of memory", path);
		goto out;
	}
	rc = read_fd(fd, buf, (size_t)CONF_MAX_FILE + 1, &len);
	if (rc < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(-rc));
		goto out;
	}
	if (len > CONF_MAX_FILE) {
		rc = -EFBIG;
		snprintf(err, errsz, "%s: larger than %d bytes", path,
			 CONF_MAX_FILE);
		goto out;
	}
	*textp = buf;
	*lenp = len;
	buf = NULL;
out:
	mem_free(buf);
	close(fd);
	return rc;
}

/* The largest unit that divides ms exactly, so dumps read back equal. */
void conf__fmt_duration(char *buf, size_t bufsz, int64_t ms)
{
	static const struct {
		int64_t ms;
		const char *unit;
	} units[] = {
		{3600000, "h"},
		{60000, "m"},
		{1000, "s"},
		{1, "ms"},
	};
	size_t i;

	if (ms == 0) {
		snprintf(buf, bufsz, "0s");
		return;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms % units[i].ms == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0]))
		i--;
	snprintf(buf, bufsz, "%" PRId64 "%s", ms / units[i].ms, units[i].unit);
}

void conf__fmt_size(char *buf, size_t bufsz, int64_t bytes)
{
	static const char units[] = "gmk";
	int64_t mul = (int64_t)1 << 30;
	size_t i;

	for (i = 0; bytes != 0 && i < 3; i++, mul >>= 10) {
		if (bytes % mul == 0) {
			snprintf(buf, bufsz, "%" PRId64 "%c", bytes / mul,
				 units[i]);
			return;
		}
	}
	snprintf(buf, bufsz, "%" PRId64, bytes);
}

/*
 * A YAML double-quoted scalar.  The loader admits only printable UTF-8,
 * so quote and backslash are all that need escaping; control bytes are
 * escaped anyway in case a caller dumps a struct it filled itself.
 */
void conf__put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* ------------------------------------------------------------ dump */

static void dump_section(FILE *f, const struct conf_section *sec,
			 const char *obj, int indent, bool item);

static const char *enum_name(const struct conf_opt *o, int v)
{
	const struct conf_enum *e;

	for (e = o->enums; e && e->name; e++)
		if (e->value == v)
			return e->name;
	return NULL;
}

static void dump_scalar(FILE *f, const struct conf_opt *o, const char *p)
{
	char buf[32];
	int64_t v;
	int e;

	switch (o->type) {
	case CONF_T_BOOL:
		fputs(*(const bool *)p ? "true" : "false", f);
		break;
	case CONF_T_ENUM:
		memcpy(&e, p, sizeof(e));
		if (enum_name(o, e))
			fputs(enum_name(o, e), f);
		else
			fprintf(f, "%d", e);
		break;
	case CONF_T_STRING:
		/* "~" reads back as unset, never as a guessable value. */
		if ((o->flags & CONF_SECRET) && *p)
			fputs("~  # secret, not shown", f);
		else
			conf__put_string(f, p);
		break;
	default:
		memcpy(&v, p, sizeof(v));
		if (o->type == CONF_T_DURATION)
			conf__fmt_duration(buf, sizeof(buf), v);
		else if (o->type == CONF_T_SIZE)
			conf__fmt_size(buf, sizeof(buf), v);
		else
			snprintf(buf, sizeof(buf), "%" PRId64, v);
		fputs(buf, f);
		break;
	}
}

static void dump_opt(FILE *f, const struct conf_opt *o, const char *obj,
		     int indent)
{
	size_t n = 0, i;

	if (o->type == CONF_T_STRLIST || o->type == CONF_T_SECLIST)
		memcpy(&n, obj + o->count_off, sizeof(n));
	fprintf(f, "%s:", o->name);
	switch (o->type) {
	case CONF_T_SECTION:
		fputc('\n', f);
		dump_section(f, o->sub, obj + o->off, indent + 2, false);
		return;
	case CONF_T_STRLIST:
	case CONF_T_SECLIST:
		if (n == 0) {
			fputs(" []\n", f);
			return;
		}
		fputc('\n', f);
		for (i = 0; i < n && i < (size_t)o->max; i++) {
			const char *p = obj + o->off + i * o->len;

			if (o->type == CONF_T_SECLIST) {
				dump_section(f, o->sub, p, indent + 4, true);
				continue;
			}
			fprintf(f, "%*s- ", indent + 2, "");
			conf__put_string(f, p);
			fputc('\n', f);
		}
		return;
	default:
		fputc(' ', f);
		dump_scalar(f, o, obj + o->off);
		fputc('\n', f);
		return;
	}
}

/* item: the section is a list element, so its first key carries "- ". */
static void dump_section(FILE *f, const struct conf_section *sec,
			 const char *obj, int indent, bool item)
{
	const struct conf_opt *o;

	for (o = sec->opts; o->name; o++) {
		if (item && o == sec->opts)
			fprintf(f, "%*s- ", indent - 2, "");
		else
			fprintf(f, "%*s", indent, "");
		dump_opt(f, o, obj, indent);
	}
}

/*
 * Print obj as YAML that conf_schema_load reads back to the same struct
 * (secrets excepted: they print as ~).  Defaults are printed like any
 * other value, so the output is the effective configuration.
 */
void conf_schema_dump(const struct conf_section *root, const void *obj, FILE *f)
{
	if (!root || !obj || !f)
		return;
	dump_section(f, root, obj, 0, false);
}

/* ------------------------------------------------------------ reference */

static void ref_type(FILE *f, const struct conf_opt *o, const char *path)
{
	char lo[32], hi[32];
	const struct conf_enum *e;

	switch (o->type) {
	case CONF_T_BOOL:
		fputs("bool", f);
		return;
	case CONF_T_INT:
	case CONF_T_DURATION:
	case CONF_T_SIZE:
		if (o->type == CONF_T_DURATION) {
			conf__fmt_duration(lo, sizeof(lo), o->min);
			conf__fmt_duration(hi, sizeof(hi), o->max);
		} else if (o->type == CONF_T_SIZE) {
			conf__fmt_size(lo, sizeof(lo), o->min);
			conf__fmt_size(hi, sizeof(hi), o->max);
		} else {
			snprintf(lo, sizeof(lo), "%" PRId64, o->min);
			snprintf(hi, sizeof(hi), "%" PRId64, o->max);
		}
		fprintf(f, "%s, %s..%s",
			o->type == CONF_T_INT    ? "integer"
			: o->type == CONF_T_SIZE ? "size"
						 : "duration",
			lo, hi);
		return;
	case CONF_T_STRING:
		fprintf(f, "string, at most %zu bytes", o->len - 1);
		return;
	case CONF_T_ENUM:
		fputs("one of", f);
		for (e = o->enums; e->name; e++)
			fprintf(f, "%s `%s`", e == o->enums ? "" : ",",
				e->name);
		return;
	case CONF_T_STRLIST:
		fprintf(f,
			"list of %" PRId64 "..%" PRId64
			" strings, each at most %zu bytes",
			o->min, o->max, o->len - 1);
		return;
	case CONF_T_SECTION:
		fprintf(f, "section `%s`", path);
		return;
	case CONF_T_SECLIST:
		fprintf(f, "list of %" PRId64 "..%" PRId64 " sections `%s[]`",
			o->min, o->max, path);
		return;
	}
}

static void ref_default(FILE *f, const struct conf_opt *o)
{
	if (o->flags & CONF_REQUIRED)
		fputs("required", f);
	else if (o->type == CONF_T_SECTION)
		fputs("see below", f);
	else if (o->type == CONF_T_STRLIST || o->type == CONF_T_SECLIST)
		fputs(o->min > 0 ? "required" : "`[]`", f);
	else if (o->def && *o->def)
		fprintf(f, "`%s`", o->def);
	else if (o->type == CONF_T_STRING)
		fputs("none", f);
	else
		fputs("`0`", f);
}

static void ref_section(FILE *f, const struct conf_section *sec,
			const char *prefix);

static void ref_path(char *buf, size_t bufsz, const char *prefix,
		     const struct conf_opt *o)
{
	snprintf(buf, bufsz, "%s%s%s", prefix, *prefix ? "." : "", o->name);
}

static void ref_section(FILE *f, const struct conf_section *sec,
			const char *prefix)
{
	const struct conf_opt *o;
	char path[256], sub[260];

	fprintf(f, "\n## %s%s%s\n\n", *prefix ? "`" : "",
		*prefix ? prefix : "Top level", *prefix ? "`" : "");
	if (sec->help)
		fprintf(f, "%s\n\n", sec->help);
	fputs("| key | type | default | reload | description |\n", f);
	fputs("|---|---|---|---|---|\n", f);
	for (o = sec->opts; o->name; o++) {
		ref_path(path, sizeof(path), prefix, o);
		fprintf(f, "| `%s` | ", path);
		ref_type(f, o, path);
		fputs(" | ", f);
		ref_default(f, o);
		fprintf(f, " | %s | %s%s |\n",
			o->type == CONF_T_SECTION  ? ""
			: (o->flags & CONF_RELOAD) ? "yes"
						   : "no",
			o->help,
			(o->flags & CONF_SECRET) ? " Secret: never printed."
						 : "");
	}
	for (o = sec->opts; o->name; o++) {
		if (o->type != CONF_T_SECTION && o->type != CONF_T_SECLIST)
			continue;
		ref_path(path, sizeof(path), prefix, o);
		snprintf(sub, sizeof(sub), "%s%s", path,
			 o->type == CONF_T_SECLIST ? "[]" : "");
		ref_section(f, o->sub, sub);
	}
}

/* The reference: one Markdown table per section, nested in order. */
void conf_schema_reference(const struct conf_section *root, FILE *f)
{
	if (!root || !f)
		return;
	ref_section(f, root, "");
}
