/*
 * buf.h - growable output buffer.
 *
 * Used to build messages for sending.  A buffer either owns heap storage
 * that grows up to `max` bytes, or wraps caller storage of fixed size
 * (buf_init_fixed) and never allocates.  All appends return 0, or
 * -ENOMEM/-ENOSPC and leave the contents as they were before the call.
 */
#ifndef SIPGUARD_CORE_BUF_H
#define SIPGUARD_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/str.h"

struct buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max; /* hard ceiling on cap */
	bool fixed; /* p is caller storage: never grown or freed */
};

void buf_init(struct buf *b, size_t max);
void buf_init_fixed(struct buf *b, char *storage, size_t size);
void buf_free(struct buf *b);
static inline void buf_reset(struct buf *b)
{
	b->len = 0;
}
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, struct str s);
int buf_append_cstr(struct buf *b, const char *s);
int buf_append_u64(struct buf *b, unsigned long long v);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline struct str buf_str(const struct buf *b)
{
	return str_make(b->p, b->len);
}

#endif
