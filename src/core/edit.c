/*
 * edit.c - apply a list of range edits to an original buffer in one pass.
 */
#include "core/edit.h"

#include <errno.h>

#include "core/buf.h"

static int edit_before(const struct edit *a, const struct edit *b)
{
	if (a->off != b->off)
		return a->off < b->off;
	/* Pure insertions go before a replacement at the same offset. */
	if ((a->len == 0) != (b->len == 0))
		return a->len == 0;
	return a->seq < b->seq;
}

int edit_apply(struct buf *out, struct str orig, struct edit *e, unsigned n)
{
	size_t pos = 0, need = orig.len;
	unsigned i, j;
	int err;

	/* Insertion sort: edit lists are short and often already ordered. */
	for (i = 1; i < n; i++) {
		struct edit t = e[i];

		for (j = i; j > 0 && edit_before(&t, &e[j - 1]); j--)
			e[j] = e[j - 1];
		e[j] = t;
	}
	for (i = 0; i < n; i++) {
		if (e[i].off > orig.len || e[i].len > orig.len - e[i].off)
			return -EINVAL;
		if (i && e[i].off < e[i - 1].off + e[i - 1].len)
			return -EINVAL;
		need += e[i].s[0].len + e[i].s[1].len + e[i].s[2].len;
		need -= e[i].len;
	}
	err = buf_reserve(out, need);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		buf_append(out, orig.p + pos, e[i].off - pos);
		for (j = 0; j < 3; j++)
			buf_append_str(out, e[i].s[j]);
		pos = e[i].off + e[i].len;
	}
	buf_append(out, orig.p + pos, orig.len - pos);
	return 0;
}
