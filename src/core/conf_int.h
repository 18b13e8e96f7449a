/*
 * conf_int.h - declarations private to src/core/conf*.c: the section
 * tables that conf_opts.c links into the root, split by file.  (The
 * older private declarations are at the end of conf.h.)
 */
#ifndef SIPGUARD_CORE_CONF_INT_H
#define SIPGUARD_CORE_CONF_INT_H

#include "core/conf.h"

/* conf_zone.c: zones[] (listen, route, tcp, tls, srtp). */
extern const struct conf_section conf__zone_sec;
/* conf_guard.c: guard (gate, rates, scanner, auth, dialog,
 * registration). */
extern const struct conf_section conf__guard_sec;
/* conf_im.c: guard.im and guard.presence. */
extern const struct conf_section conf__im_sec, conf__presence_sec;

#endif
