/*
 * conf_int.h - declarations private to src/core/conf*.c: the limits of
 * the schema walk, the scalar parser the walk and the table self-check
 * share (conf_scalar.c), and the section tables that conf_opts.c links
 * into the root, split by file.  (The older private declarations are at
 * the end of conf.h.)
 */
#ifndef SIPGUARD_CORE_CONF_INT_H
#define SIPGUARD_CORE_CONF_INT_H

#include "core/conf.h"

enum {
	CONF__MAX_OPTS = 64,   /* options in one section table */
	CONF__PATH_MAX = 256,  /* key path in messages, e.g. zones[1].name */
	CONF__KEY_SHOWN = 48,  /* bytes of an unknown key echoed in a path */
	CONF__WHY_LEN = 200,   /* one reason */
	CONF__SCRATCH = 16384, /* largest field conf_schema_verify parses */
};

/*
 * conf_scalar.c.  Parse one scalar s[0..n) for option o into dst (the
 * field); null says the YAML value was empty/~/null.  Returns 0 or
 * -EINVAL with why set.
 */
int conf__parse_scalar(const struct conf_opt *o, void *dst, const char *s,
		       size_t n, bool null, char *why, size_t whysz);
/* A string of printable UTF-8 of at least minlen bytes that fits dstsz
 * and passes vcheck (may be NULL). */
int conf__parse_string(char *dst, size_t dstsz, size_t minlen,
		       conf_vcheck_fn *vcheck, const char *s, size_t n,
		       char *why, size_t whysz);
/* What a value of option o looks like, for "expected ..." messages. */
void conf__describe(const struct conf_opt *o, char *buf, size_t bufsz);
/* A vcheck body: s compiles as a PCRE2 pattern with these options. */
int conf__check_regex(const char *s, uint32_t options, char *why, size_t whysz);

/* conf_zone.c: zones[] (listen, route, tcp, tls, srtp). */
extern const struct conf_section conf__zone_sec;
/* conf_guard.c: guard (gate, rates, scanner, auth, dialog,
 * registration). */
extern const struct conf_section conf__guard_sec;
/* conf_im.c: guard.im and guard.presence. */
extern const struct conf_section conf__im_sec, conf__presence_sec;

#endif
