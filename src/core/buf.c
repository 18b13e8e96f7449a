/*
 * buf.c - growable output buffer with a hard size ceiling.
 */
#include "core/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"

void buf_init(struct buf *b, size_t max)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->max = max;
	b->fixed = false;
}

void buf_init_fixed(struct buf *b, char *storage, size_t size)
{
	b->p = storage;
	b->len = 0;
	b->cap = b->max = size;
	b->fixed = true;
}

void buf_free(struct buf *b)
{
	if (!b)
		return;
	if (!b->fixed)
		mem_free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int buf_reserve(struct buf *b, size_t extra)
{
	size_t need, ncap;
	char *np;

	if (extra > b->max || b->len > b->max - extra)
		return -ENOSPC;
	need = b->len + extra;
	if (need <= b->cap)
		return 0;
	if (b->fixed)
		return -ENOSPC;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > b->max / 2 ? b->max : ncap * 2;
	np = mem_realloc(b->p, ncap);
	if (!np)
		return -ENOMEM;
	b->p = np;
	b->cap = ncap;
	return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	int err;

	if (n == 0)
		return 0;
	err = buf_reserve(b, n);
	if (err)
		return err;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

int buf_append_str(struct buf *b, struct str s)
{
	return buf_append(b, s.p, s.len);
}

int buf_append_cstr(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_append_u64(struct buf *b, unsigned long long v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return buf_append(b, tmp + i, sizeof(tmp) - i);
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, err;
	size_t room;

	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < room) {
		b->len += (size_t)n;
		return 0;
	}
	err = buf_reserve(b, (size_t)n + 1);
	if (err)
		return err;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}
